"""The tooling's layout rules: course_tools is its own package, course_lib does not need it,
every tooling function is short, and no Python source is kept in strings for the sandbox."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "course_tools"
MAX_LINES = 40


def _functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@pytest.mark.parametrize("path", sorted(TOOLS.rglob("*.py")), ids=lambda p: p.name)
def test_no_tooling_function_is_longer_than_40_lines(path):
    long = [(f.name, f.end_lineno - f.lineno + 1) for f in _functions(path)
            if f.end_lineno - f.lineno + 1 > MAX_LINES]
    assert long == []


@pytest.mark.parametrize("path", sorted(TOOLS.rglob("*.py")), ids=lambda p: p.name)
def test_no_python_source_in_strings(path):
    """Code that runs in the sandbox lives in course_tools/inside/ as real files."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            assert not ("\nimport " in text and "\ndef " in text), text[:80]


def test_course_lib_imports_without_the_tooling():
    """A learner's course_lib works without course_tools and its dependencies."""
    code = ("import sys; sys.modules['course_tools'] = None; sys.modules['nbformat'] = None; "
            "sys.modules['nbclient'] = None; sys.modules['nbval'] = None; "
            "import course_lib, course_lib.checks, course_lib.optim; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_inside_files_import_and_lint_as_modules():
    import course_tools.inside.killer  # noqa: F401
    import course_tools.inside.launcher  # noqa: F401
    import course_tools.inside.nbval_plugin as plugin

    assert plugin._CHANNEL is None  # importing it opens nothing


def test_pyproject_declares_the_tooling_as_an_extra():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(meta["dependencies"])
    for tool in ("nbformat", "nbclient", "nbval", "pytest"):
        assert tool not in runtime
        assert any(d.startswith(tool) for d in meta["optional-dependencies"]["tools"])
