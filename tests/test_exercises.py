"""The exercise sheets: exercises/ is generated from solutions/, ships with every check failing
as "not attempted", and ``python -m course_tools.sheets report`` summarizes a sheet."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib.cases import all_exercises
from course_tools.sheet_format import (
    CODE_BEGIN,
    CODE_END,
    PLACEHOLDER,
    SheetError,
    course_meta,
    exercises_of,
    replace_code_regions,
    replace_text_regions,
    shipped_answer,
)
from course_tools.sheets import (
    Result,
    build,
    check_sync,
    execute,
    exercise_notebook,
    format_report,
    generate,
    main,
    summarize,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
SHEETS = [
    "02_optimization_basics",
    "03_ewma",
    "04_adagrad",
    "05_rmsprop",
    "06_minibatch_rmsprop",
    "07_momentum",
    "08_rmsprop_and_relatives",
    "09_rmsprop_in_pytorch",
    "10_a_network_on_real_data",
]
SOLUTION_REPORTED, EXERCISE_REPORTED = "04_adagrad", "06_minibatch_rmsprop"


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _report(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "course_tools.sheets", "report", str(path.relative_to(ROOT))],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    """Every exercise sheet executed (errors allowed), and the report command run on one
    solution and one exercise sheet; all at once, three at a time."""

    def run_sheet(name: str) -> nbformat.NotebookNode:
        nb = _read(EXERCISES / f"{name}.ipynb")
        assert execute(nb, EXERCISES, timeout=120) is None
        return nb

    with ThreadPoolExecutor(max_workers=3) as pool:
        solution = pool.submit(_report, SOLUTIONS / f"{SOLUTION_REPORTED}.ipynb")
        exercise = pool.submit(_report, EXERCISES / f"{EXERCISE_REPORTED}.ipynb")
        sheets = {name: pool.submit(run_sheet, name) for name in SHEETS}
        return {
            "sheets": {name: future.result() for name, future in sheets.items()},
            "solution report": solution.result(),
            "exercise report": exercise.result(),
        }


# --- the sheets and their metadata ----------------------------------------------------------

def test_one_solution_sheet_per_lesson_and_one_exercise_sheet_each() -> None:
    assert sorted(p.stem for p in SOLUTIONS.glob("*.ipynb")) == SHEETS
    assert sorted(p.stem for p in EXERCISES.glob("*.ipynb")) == SHEETS


def _check_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


@pytest.mark.parametrize("sheet", SHEETS)
def test_solution_sheet_follows_the_format(sheet: str) -> None:
    nb = _read(SOLUTIONS / f"{sheet}.ipynb")
    assert nb.metadata["course"]["sheet"] == sheet
    assert nb.metadata["course"]["title"].startswith("Exercises: ")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# Exercises")
    assert nb.cells[-1].cell_type == "markdown" and f"make check NB=exercises/{sheet}.ipynb" in \
        nb.cells[-1].source
    setup = nb.cells[1]
    assert setup.cell_type == "code" and "from course_lib.checks import" in setup.source
    assert "NotAttempted" in setup.source and "check" in setup.source
    for exercise in exercises_of(nb, sheet):
        check_cell = nb.cells[exercise.check_cell]
        assert "kind" in course_meta(check_cell), f"{exercise.id}: say its kind in its metadata"
        assert check_cell.source.strip() == f'check("{exercise.id}")'
        line = f"[{exercise.id}] written: " if exercise.task == "explain" else \
            f"[{exercise.id}] passed:"
        assert line in _check_text(check_cell), exercise.id


@pytest.mark.parametrize("sheet", SHEETS)
def test_every_sheet_mixes_five_to_eight_exercises_of_several_kinds(sheet: str) -> None:
    exercises = exercises_of(_read(SOLUTIONS / f"{sheet}.ipynb"), sheet)
    kinds = {e.task for e in exercises}
    assert 5 <= len(exercises) <= 8, [e.id for e in exercises]
    assert len(kinds) >= 3 and {"diagnose", "explain"} <= kinds, kinds


def test_exercise_ids_are_unique_and_every_case_definition_is_used_once() -> None:
    found = [e for sheet in SHEETS for e in exercises_of(_read(SOLUTIONS / f"{sheet}.ipynb"))]
    ids = [e.id for e in found]
    assert len(ids) == len(set(ids))
    definitions = all_exercises()
    assert sorted(ids) == sorted(definitions)
    for exercise in found:
        spec = definitions[exercise.id]
        assert (spec.mode == "explain") == (exercise.task == "explain"), exercise.id
        assert spec.lesson, f"{exercise.id}: say where the lesson explains it (lesson=...)"


# --- generation ---------------------------------------------------------------------------

def test_committed_exercises_equal_freshly_generated_ones(capsys) -> None:
    generated = generate(SOLUTIONS)
    assert sorted(generated) == [f"{s}.ipynb" for s in SHEETS]
    for name, text in generated.items():
        assert (EXERCISES / name).read_text(encoding="utf-8") == text, (
            f"exercises/{name} is out of date: run `make exercises`")
    assert check_sync(SOLUTIONS, EXERCISES) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_sync_names_what_differs(tmp_path: Path, capsys) -> None:
    committed = tmp_path / "exercises"
    shutil.copytree(EXERCISES, committed)
    data = json.loads((committed / "04_adagrad.ipynb").read_text(encoding="utf-8"))
    ex_id = next(e.id for e in exercises_of(_read(SOLUTIONS / "04_adagrad.ipynb"))
                 if e.task == "implement")
    answer = next(i for i, c in enumerate(data["cells"])
                  if c["metadata"].get("course", {}).get("exercise") == ex_id
                  and c["metadata"]["course"]["role"] == "answer")
    data["cells"][answer]["source"] = [f"def {ex_id}(p, g, s, lr, eps=1e-10):\n",
                                       "    return p, s"]
    (committed / "04_adagrad.ipynb").write_text(json.dumps(data, indent=1), encoding="utf-8")
    (committed / "03_ewma.ipynb").unlink()
    (committed / "99_extra.ipynb").write_text("{}", encoding="utf-8")

    assert check_sync(SOLUTIONS, committed) == 1
    out = capsys.readouterr().out
    assert f"cell {answer} (answer of {ex_id}): differs in source" in out
    assert f"+    raise NotAttempted(\"{ex_id}\")" in out
    assert "03_ewma.ipynb: missing" in out
    assert "99_extra.ipynb: has no" in out
    assert "make exercises" in out


def test_build_writes_every_sheet_and_removes_stale_ones(tmp_path: Path) -> None:
    target = tmp_path / "exercises"
    target.mkdir()
    (target / "01_old.ipynb").write_text("{}", encoding="utf-8")
    written = build(SOLUTIONS, target)
    assert sorted(p.name for p in written) == sorted(p.name for p in target.glob("*.ipynb"))
    assert not (target / "01_old.ipynb").exists()
    for path in written:
        assert path.read_text(encoding="utf-8") == (EXERCISES / path.name).read_text(
            encoding="utf-8")


def test_replacement_keeps_the_indentation_of_each_region() -> None:
    source = "\n".join([
        "import numpy as np",
        "# BEGIN SOLUTION",
        "x = 1",
        "# END SOLUTION",
        "def f(p):",
        '    """Doc."""',
        "    # BEGIN SOLUTION",
        "    for i in range(3):",
        "        p = p + i",
        "    # END SOLUTION",
        "    for j in range(2):",
        "        # BEGIN SOLUTION",
        "        p = p * 2",
        "        # END SOLUTION",
        "    return p",
        "\t# BEGIN SOLUTION",
        "\tsecret = 3",
        "\t# END SOLUTION",
    ])
    assert replace_code_regions(source, "ex").split("\n") == [
        "import numpy as np",
        'raise NotAttempted("ex")',
        "def f(p):",
        '    """Doc."""',
        '    raise NotAttempted("ex")',
        "    for j in range(2):",
        '        raise NotAttempted("ex")',
        "    return p",
        '\traise NotAttempted("ex")',
    ]


@pytest.mark.parametrize(("source", "message"), [
    ("x = 1", "needs at least one # BEGIN SOLUTION"),
    ("# BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n# END SOLUTION", "without # BEGIN SOLUTION"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside another region"),
])
def test_unbalanced_markers_are_refused(source: str, message: str) -> None:
    with pytest.raises(SheetError, match=re.escape(message)):
        replace_code_regions(source, "ex", "sheet.ipynb, cell 3")


def test_written_answer_text_is_replaced_and_markers_stay() -> None:
    source = "**Your answer:**\n\n<!-- BEGIN SOLUTION -->\nBecause.\nReally.\n<!-- END SOLUTION -->"
    assert replace_text_regions(source) == (
        "**Your answer:**\n\n<!-- BEGIN SOLUTION -->\n" + PLACEHOLDER + "\n<!-- END SOLUTION -->")
    with pytest.raises(SheetError, match="needs a"):
        replace_text_regions("no markers")


def _tiny_sheet(**changes: Any) -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# Exercises"),
        new_code_cell("from course_lib.checks import NotAttempted, check_gd_step"),
        new_code_cell("def gd_step(p, g, lr):\n    # BEGIN SOLUTION\n    return p - lr * g\n"
                      "    # END SOLUTION"),
        new_code_cell("check_gd_step(gd_step)"),
    ]
    cells[2].metadata["course"] = {"role": "answer", "exercise": "gd_step"}
    cells[3].metadata["course"] = {"role": "check", "exercise": "gd_step", "points": 1}
    nb = new_notebook(cells=cells)
    nb.metadata["course"] = {"sheet": "02_tiny", "title": "Exercises: tiny"}
    for key, value in changes.items():
        if key == "swap":
            nb.cells[2], nb.cells[3] = nb.cells[3], nb.cells[2]
        elif key == "setup":
            nb.cells[1].source = value
        elif key == "instructions":
            nb.cells[0].source = value
        elif key == "points":
            nb.cells[3].metadata["course"]["points"] = value
        elif key == "metadata":
            nb.metadata["course"] = value
    return nb


@pytest.mark.parametrize(("changes", "message"), [
    ({"swap": True}, "comes after its check cell"),
    ({"setup": "import numpy as np"}, "must import NotAttempted"),
    ({"instructions": "# Exercises\n# BEGIN SOLUTION"}, "would ship the solution"),
    ({"points": 0}, "points must be a number > 0"),
    ({"metadata": {"sheet": "other"}}, "notebook metadata needs"),
])
def test_sheet_format_errors_are_explained(changes: dict[str, Any], message: str,
                                           tmp_path: Path) -> None:
    assert exercise_notebook(_tiny_sheet(), Path("02_tiny.ipynb")).cells[2].source.endswith(
        'raise NotAttempted("gd_step")')
    with pytest.raises(SheetError, match=re.escape(message)):
        exercise_notebook(_tiny_sheet(**changes), Path("02_tiny.ipynb"))


@pytest.mark.parametrize("sheet", SHEETS)
def test_exercise_sheets_ship_without_answers_or_outputs(sheet: str) -> None:
    solution = _read(SOLUTIONS / f"{sheet}.ipynb")
    exercise = _read(EXERCISES / f"{sheet}.ipynb")
    assert len(exercise.cells) == len(solution.cells)
    solution_lines, given_lines = set(), set()  # given: a diagnose cell's broken lines
    for cell in solution.cells:
        if course_meta(cell).get("role") in ("answer", "written"):
            region = None
            for line in cell.source.splitlines():
                marker = line.strip()
                if marker in (CODE_BEGIN, CODE_END, "<!-- BEGIN SOLUTION -->",
                              "<!-- END SOLUTION -->", "# BEGIN BROKEN", "# END BROKEN"):
                    region = marker if "BEGIN" in marker else None
                elif region == "# BEGIN BROKEN":
                    given_lines.add(marker.removeprefix("#").strip())
                elif region is not None and len(marker) > 12:
                    solution_lines.add(marker)
    solution_lines -= given_lines  # a fix may keep a line of the broken code
    instructions = "\n".join(c.source for c in solution.cells if not course_meta(c))
    text = "\n".join(cell.source for cell in exercise.cells)
    leaked = [line for line in solution_lines if line in text and line not in instructions]
    assert leaked == []
    tasks = {e.id: e.task for e in exercises_of(solution)}
    for cell in exercise.cells:
        assert "execution" not in cell.metadata
        assert CODE_BEGIN not in cell.source
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        meta = course_meta(cell)
        if meta.get("role") == "answer":
            task = tasks[meta["exercise"]]
            assert "# BEGIN BROKEN" not in cell.source and "# END BROKEN" not in cell.source
            if task == "explain":
                assert PLACEHOLDER in cell.source
            elif task != "diagnose":
                assert f'raise NotAttempted("{meta["exercise"]}")' in cell.source
        if meta.get("role") == "written":
            assert PLACEHOLDER in cell.source


# --- executing the exercise sheets ----------------------------------------------------------

@pytest.mark.parametrize("sheet", SHEETS)
def test_every_check_fails_as_shipped_with_not_attempted(sheet: str, runs: dict[str, Any]) -> None:
    nb = runs["sheets"][sheet]
    setup_errors = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert setup_errors == [], "the set-up cell must run in the exercise sheet"
    for exercise in exercises_of(nb, sheet):
        errors = [o for o in nb.cells[exercise.check_cell].outputs if o.output_type == "error"]
        names = [e.ename for e in errors]
        if exercise.task == "diagnose":  # the shipped broken code runs, and fails its check
            assert names in (["CheckFailed"], ["NotAttempted"]), exercise.id
        else:
            assert names == ["NotAttempted"], exercise.id
            assert f"{exercise.id}" in errors[0].evalue and "not" in errors[0].evalue
    assert {r.status for r in summarize(nb, sheet)} == {"not attempted"}


def test_report_on_a_solution_sheet_is_all_passed(runs: dict[str, Any]) -> None:
    result = runs["solution report"]
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Checking solutions/{SOLUTION_REPORTED}.ipynb")
    assert re.match(r"exercise\s+kind\s+points\s+status\s+message", lines[1])
    exercises = exercises_of(_read(SOLUTIONS / f"{SOLUTION_REPORTED}.ipynb"))
    rows = {line.split()[0]: line for line in lines[2:] if line and
            line.split()[0] in {e.id for e in exercises}}
    assert len(rows) == len(exercises)
    for exercise in exercises:
        status = r"answered\s+graded by hand" if exercise.kind == "written" else \
            r"passed\s+\d+/\d+ cases"
        assert re.search(rf"^{exercise.id}\s+{exercise.task}\s+[\d.]+\s+{status}$",
                         rows[exercise.id]), rows[exercise.id]
    checked = sum(e.kind == "check" for e in exercises)
    assert "points per kind" in result.stdout
    assert lines[-1] == f"{checked} of {checked} exercises passed"
    assert result.stderr == ""


def test_report_on_an_exercise_sheet_is_all_not_attempted(runs: dict[str, Any]) -> None:
    result = runs["exercise report"]
    assert result.returncode == 1
    exercises = exercises_of(_read(EXERCISES / f"{EXERCISE_REPORTED}.ipynb"))
    rows = [line for line in result.stdout.splitlines()[2:] if line and
            line.split()[0] in {e.id for e in exercises}]
    assert len(rows) == len(exercises)
    assert all(" not attempted " in row for row in rows)
    checked = sum(e.kind == "check" for e in exercises)
    assert result.stdout.splitlines()[-1] == f"0 of {checked} exercises passed"


def test_report_refuses_what_is_not_a_sheet(tmp_path: Path, capsys) -> None:
    lesson = new_notebook(cells=[new_code_cell("print(1)")])
    nbformat.write(lesson, tmp_path / "lesson.ipynb")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    cases = {
        tmp_path / "missing.ipynb": "no such file",
        tmp_path / "notes.txt": "is not a Jupyter notebook",
        tmp_path / "broken.ipynb": "is not a readable Jupyter notebook",
        tmp_path / "lesson.ipynb": "is not a course exercise sheet",
        tmp_path: "is a folder",
    }
    for path, message in cases.items():
        assert main(["report", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err, err
        assert "make check NB=exercises/04_adagrad.ipynb" in err


def _executed_solution(sheet: str) -> nbformat.NotebookNode:
    return _read(SOLUTIONS / f"{sheet}.ipynb")


def test_summary_classifies_each_outcome() -> None:
    nb = copy.deepcopy(_executed_solution("04_adagrad"))
    exercises = exercises_of(nb)
    first, second, third = [e for e in exercises if e.kind == "check"][:3]
    written = next(e for e in exercises if e.kind == "written")

    def error(name: str, value: str) -> nbformat.NotebookNode:
        return new_output("error", ename=name, evalue=value, traceback=[])

    nb.cells[first.check_cell].outputs = [error(
        "CheckFailed", f"[{first.id}] case 'x': expected 1, got 2. Hint: h")]
    nb.cells[second.answer_cells[0]].outputs = [error(
        "SyntaxError", "invalid syntax (12.py, line 3)")]
    nb.cells[second.check_cell].outputs = [error("NameError", "x")]
    nb.cells[third.check_cell].outputs = []
    nb.cells[third.check_cell].execution_count = None
    cell = nb.cells[written.answer_cells[0]]
    cell.source = shipped_answer(cell.source, written.id, "explain")
    results = {r.exercise: r for r in summarize(nb)}
    assert (results[first.id].status, results[first.id].message) == (
        "failed", "case 'x': expected 1, got 2. Hint: h")
    assert results[second.id].status == "error"
    assert "answer cell raised SyntaxError" in results[second.id].message
    assert (results[third.id].status, results[third.id].message) == (
        "error", "the check cell did not run")
    assert results[written.id].status == "not attempted"


def test_report_table_ends_with_the_count() -> None:
    lines = format_report([
        Result("a", "check", 1, "passed", "4/4 cases"),
        Result("bb", "check", 2, "failed", "case 'c': expected 1, got 2. Hint: h", "diagnose"),
        Result("w", "written", 1, "answered", "graded by hand", "explain"),
    ])
    assert lines[0].split() == ["exercise", "kind", "points", "status", "message"]
    assert lines[-1] == "1 of 2 exercises passed"
    assert "written answers given: 1 of 1" in lines[-2]
    assert "  implement  1 / 1 points (1 exercises)" in lines
    assert "  diagnose   0 / 2 points (1 exercises)" in lines
