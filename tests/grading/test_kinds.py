"""The grader and the kinds of exercise: an untouched diagnose cell is not attempted (and is not
run), a prediction's comment reaches the feedback, written answers are listed for reading
(never run), and points are reported per kind.

The sheet is built here from cells (its case definitions are reference_kinds/kinds_tiny_cases.py),
and its exercise version is made by the real sheet builder.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from test_grade import machine, need_sandbox  # noqa: F401 - the fixture

from course_tools.sheets import exercise_notebook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MODEL = "Doubling is adding the number to itself, so the result is twice the input for any x."
LEARNER_TEXT = "It doubles because x plus x is two times x, for every number we try here at all."


def _check(ex: str, points: int, kind: str) -> nbformat.NotebookNode:
    return new_code_cell(f'check("{ex}")', metadata={"course": {
        "role": "check", "exercise": ex, "points": points, "kind": kind}})


def _answer(ex: str, source: str) -> nbformat.NotebookNode:
    return new_code_cell(source, metadata={"course": {"role": "answer", "exercise": ex}})


def _reference() -> nbformat.NotebookNode:
    nb = new_notebook(cells=[
        new_markdown_cell("# Exercises 0: kinds"),
        new_code_cell("from course_lib.checks import NotAttempted, check"),
        _answer("fix_double", "def fix_double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n"
                "    # END SOLUTION\n    # BEGIN BROKEN\n    # return x + 2\n    # END BROKEN"),
        _check("fix_double", 2, "diagnose"),
        _answer("guess_square", "# BEGIN SOLUTION\nguess_square = 50\n# END SOLUTION"),
        _check("guess_square", 1, "predict"),
        _answer("why_double", f'why_double = """\n# BEGIN SOLUTION\n{MODEL}\n# END SOLUTION\n"""'),
        _check("why_double", 1, "explain"),
    ])
    nb.metadata["course"] = {"sheet": "kinds_tiny", "title": "Exercises: kinds",
                             "cases": "kinds_tiny_cases"}
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("kinds")
    reference, subs = work / "reference", work / "subs"
    reference.mkdir()
    subs.mkdir()
    nbformat.write(_reference(), reference / "kinds_tiny.ipynb")
    shutil.copy(HERE / "reference_kinds" / "kinds_tiny_cases.py", reference)
    shipped = exercise_notebook(_reference(), Path("kinds_tiny.ipynb"))
    nbformat.write(shipped, subs / "untouched.ipynb")
    done = nbformat.from_dict(shipped)
    done.cells[2].source = "def fix_double(x):\n    return x + x"
    done.cells[4].source = "guess_square = 47"
    done.cells[6].source = f'why_double = """{LEARNER_TEXT}"""'
    nbformat.write(done, subs / "done.ipynb")
    wrong_fix = nbformat.from_dict(shipped)
    wrong_fix.cells[2].source = "def fix_double(x):\n    return x + 2  # looked fine to me"
    nbformat.write(wrong_fix, subs / "wrong_fix.ipynb")
    cmd = [sys.executable, "-m", "course_tools.grade", "--reference", str(reference),
           "--out", str(work / "grades.csv"), "--written", str(work / "written.csv"),
           "--feedback", str(work / "fb"), "--cell-timeout", "10", "--jobs", "2",
           "--no-progress", "--seed", "7", "--", *sorted(str(p) for p in subs.iterdir())]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    rows = list(csv.DictReader((work / "grades.csv").open(encoding="utf-8")))
    written = list(csv.DictReader((work / "written.csv").open(encoding="utf-8")))
    return {"proc": proc, "work": work,
            "rows": {(Path(r["submission"]).stem, r["exercise"]): r for r in rows},
            "written": {(Path(r["submission"]).stem, r["exercise"]): r for r in written}}


def test_an_untouched_diagnose_cell_is_not_attempted(machine, graded) -> None:  # noqa: F811
    need_sandbox(machine)
    row = graded["rows"][("untouched", "fix_double")]
    assert (row["status"], row["points"]) == ("not attempted", "0")
    assert "still as it shipped" in row["message"]


def test_a_fixed_diagnose_cell_passes_and_a_wrong_fix_is_named(machine, graded) -> None:  # noqa: F811
    need_sandbox(machine)
    assert graded["rows"][("done", "fix_double")]["status"] == "passed"
    wrong = graded["rows"][("wrong_fix", "fix_double")]
    assert wrong["status"] == "failed"
    assert "Known mistake: this still behaves like the code you were given." in wrong["message"]
    assert "Hint: double the input." in wrong["message"]


def test_a_passing_prediction_carries_its_comment(machine, graded) -> None:  # noqa: F811
    need_sandbox(machine)
    row = graded["rows"][("done", "guess_square")]
    assert (row["status"], row["points"]) == ("passed", "1")
    assert row["message"] == "you predicted 47; the measurement is 49 (gap 2)"


def test_written_answers_are_listed_for_reading_not_graded(machine, graded) -> None:  # noqa: F811
    need_sandbox(machine)
    assert ("done", "why_double") not in graded["rows"]
    done = graded["written"][("done", "why_double")]
    assert (done["status"], done["kind"], done["max_points"]) == ("to read", "explain", "1")
    assert done["answer"] == LEARNER_TEXT and done["words"] == str(len(LEARNER_TEXT.split()))
    untouched = graded["written"][("untouched", "why_double")]
    assert (untouched["status"], untouched["answer"]) == ("not attempted", "")
    assert MODEL not in (graded["work"] / "written.csv").read_text(encoding="utf-8")


def test_points_are_reported_per_kind(machine, graded) -> None:  # noqa: F811
    need_sandbox(machine)
    assert graded["proc"].returncode == 0, graded["proc"].stderr[-2000:]
    assert "points per kind: diagnose 2/6, predict 1/3" in graded["proc"].stderr
    feedback = (graded["work"] / "fb" / "done.md").read_text(encoding="utf-8")
    assert "| diagnose | 2 / 2 |" in feedback and "| predict | 1 / 1 |" in feedback
    assert LEARNER_TEXT in feedback
    assert "differ from the sheet" not in feedback  # the sealed check cell is not a change
