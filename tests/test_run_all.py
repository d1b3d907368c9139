"""Run All, the way JupyterLab does it: every lesson and solution sheet, top to bottom.

JupyterLab's Run > Run All Cells stops at the first cell that raises, unless that cell carries
the cell tag ``raises-exception``; nbclient applies exactly the same rule when ``allow_errors``
is False. So a notebook that passes here goes through Run All in JupyterLab, with its figures
drawn, and a cell that fails on purpose must be tagged (the ``# NBVAL_RAISES_EXCEPTION`` comment
alone satisfies nbval but not JupyterLab).

Each notebook runs in a fresh kernel of the interpreter running pytest (not whatever kernel
the file names), from the notebook's own folder, with progress bars off and the non-interactive
Matplotlib backend. Notebooks are found by glob, so a new lesson is covered without editing this
file. The static tests below need no kernel and run in a fraction of a second.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import ipykernel.kernelspec
import nbformat
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
TAG = "raises-exception"
CELL_TIMEOUT = 300  # seconds per cell: a hung kernel fails the test instead of stalling the run
RUN_ALL_ENV = {"COURSE_LIB_PROGRESS": "0", "MPLBACKEND": "Agg"}

LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SHEETS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


class _CurrentInterpreter(KernelSpecManager):
    """Every kernel name resolves to ipykernel in the interpreter that runs the tests."""

    def get_kernel_spec(self, kernel_name: str):  # noqa: ANN201 (jupyter_client's type)
        return self.kernel_spec_class(
            resource_dir=ipykernel.kernelspec.RESOURCES, **ipykernel.kernelspec.get_kernel_dict()
        )


def run_all(path: Path, timeout: int = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Execute ``path`` top to bottom like JupyterLab's Run All and return the executed copy.

    Raises ``CellExecutionError`` at the first cell that raises without the ``raises-exception``
    tag. The file on disk is not changed.
    """
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_CurrentInterpreter())
    client = NotebookClient(
        nb, km=km, timeout=timeout, startup_timeout=120, allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    finally:  # nbclient leaves a kernel it was given running
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return nb


def untagged_error_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of code cells whose outputs contain an error but which lack the tag."""
    return [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and any(out.get("output_type") == "error" for out in cell.get("outputs", []))
        and TAG not in cell.metadata.get("tags", [])
    ]


def tagged_cells_without_error(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of code cells tagged ``raises-exception`` whose outputs hold no error."""
    return [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])
        and not any(out.get("output_type") == "error" for out in cell.get("outputs", []))
    ]


@pytest.fixture
def run_all_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel inherits the test process's environment
    for name, value in RUN_ALL_ENV.items():
        monkeypatch.setenv(name, value)


def test_notebooks_are_found() -> None:
    assert len(LESSONS) >= 9 and len(SHEETS) >= 6, (LESSONS, SHEETS)


@pytest.mark.parametrize("path", LESSONS + SHEETS, ids=_id)
def test_run_all_goes_through(path: Path, run_all_env: None) -> None:
    start = time.perf_counter()
    try:
        executed = run_all(path)
    except CellExecutionError as error:
        pytest.fail(
            f"Run All stops in {_id(path)}: a cell raised without the '{TAG}' tag.\n{error}",
            pytrace=False,
        )
    seconds = time.perf_counter() - start
    if path in LESSONS:  # a tag on a cell that does not fail hides nothing but misleads
        quiet = tagged_cells_without_error(executed)
        assert not quiet, f"{_id(path)}: cells {quiet} are tagged '{TAG}' but did not raise"
    print(f"{_id(path)}: Run All in {seconds:.1f} s")


@pytest.mark.parametrize("path", LESSONS + SHEETS, ids=_id)
def test_stored_errors_are_tagged(path: Path) -> None:
    cells = untagged_error_cells(nbformat.read(path, as_version=4))
    assert not cells, (
        f"{_id(path)}: cells {cells} have an error in their stored outputs but no '{TAG}' tag, "
        "so JupyterLab's Run All stops there"
    )


# The checks above must be able to fail. Tiny notebooks in tmp_path show that they do.

def _tiny_notebook(tmp_path: Path, tagged: bool, raises: bool = True) -> Path:
    failing = nbformat.v4.new_code_cell("1 / 0" if raises else "x = 1")
    if tagged:
        failing.metadata["tags"] = [TAG]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from pathlib import Path\nprint(Path.cwd().name)"),
        failing,
        nbformat.v4.new_code_cell("print('after')"),
    ])
    path = tmp_path / "tiny" / "tiny.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.get("name") == "stdout")


def test_run_all_fails_on_an_untagged_failing_cell(tmp_path: Path, run_all_env: None) -> None:
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        run_all(_tiny_notebook(tmp_path, tagged=False), timeout=60)


def test_run_all_goes_past_a_tagged_failing_cell(tmp_path: Path, run_all_env: None) -> None:
    executed = run_all(_tiny_notebook(tmp_path, tagged=True), timeout=60)
    assert _stdout(executed.cells[0]).strip() == "tiny"  # ran in the notebook's folder
    assert executed.cells[1].outputs[0]["ename"] == "ZeroDivisionError"
    assert _stdout(executed.cells[2]).strip() == "after"  # and carried on
    assert untagged_error_cells(executed) == [] and tagged_cells_without_error(executed) == []


def test_a_tag_on_a_cell_that_does_not_raise_is_reported(
    tmp_path: Path, run_all_env: None
) -> None:
    executed = run_all(_tiny_notebook(tmp_path, tagged=True, raises=False), timeout=60)
    assert tagged_cells_without_error(executed) == [1]


def test_an_untagged_stored_error_is_reported(tmp_path: Path) -> None:
    nb = nbformat.read(_tiny_notebook(tmp_path, tagged=False), as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]
    assert untagged_error_cells(nb) == [1]
    nb.cells[1].metadata["tags"] = [TAG]
    assert untagged_error_cells(nb) == []


def test_the_kernel_uses_the_current_interpreter(tmp_path: Path, run_all_env: None) -> None:
    import sys

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys\nprint(sys.executable)\nprint(os.environ['COURSE_LIB_PROGRESS'])")])
    nb.metadata["kernelspec"] = {"name": "some-env-that-does-not-exist", "display_name": "x",
                                 "language": "python"}
    path = tmp_path / "kernel.ipynb"
    nbformat.write(nb, path)
    lines = _stdout(run_all(path, timeout=60).cells[0]).split()
    assert lines == [sys.executable, "0"]


# Links between notebooks (the appendix links every claim to the section with its evidence) must
# land on a heading that exists. JupyterLab 4 gives a Markdown heading the id "its text content
# with every space replaced by '-'" (rendermime's renderMarkdown.createHeaderId), and opens
# "nb.ipynb#<id>" at that heading, or "nb.ipynb#cell-id=<id>" at that cell.

HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"\]\(((?:[0-9]{2}_[\w.-]+|appendix_[\w.-]+)\.ipynb)?#([^)\s]+)\)")


def heading_id(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link shows its text
    return text.replace("`", "").replace("**", "").replace("\\", "").strip().replace(" ", "-")


def anchors(nb: nbformat.NotebookNode) -> set[str]:
    found = {f"cell-id={cell.get('id')}" for cell in nb.cells}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found |= {heading_id(m.group(1)) for line in cell.source.splitlines()
                      if (m := HEADING.match(line))}
    return found


def broken_links(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    broken = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for target, fragment in LINK.findall(cell.source):
            other = path.parent / target if target else path
            if not other.exists() or fragment not in anchors(nbformat.read(other, as_version=4)):
                broken.append(f"{target or path.name}#{fragment}")
    return broken


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_links_to_sections_resolve(path: Path) -> None:
    broken = broken_links(path)
    assert not broken, f"{_id(path)} links to sections that do not exist: {broken}"


def test_a_renamed_heading_breaks_the_link(tmp_path: Path) -> None:
    heading = nbformat.v4.new_markdown_cell("## 4. The `lr`: a sweep")
    target = nbformat.v4.new_notebook(cells=[heading])
    nbformat.write(target, tmp_path / "05_x.ipynb")
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "[ok](05_x.ipynb#4.-The-lr:-a-sweep) [stale](05_x.ipynb#4.-The-lr-sweep)")])
    nbformat.write(source, tmp_path / "appendix_y.ipynb")
    assert broken_links(tmp_path / "appendix_y.ipynb") == ["05_x.ipynb#4.-The-lr-sweep"]
