"""Every sheet of the course through the grading protocol: each worked answer in solutions/
passes (none flagged), each exercise as shipped is "not attempted", and the written answers are
listed for reading: to read in the solutions, not attempted as shipped."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_grade import machine, need_sandbox  # noqa: F401 - the fixture

from course_tools.sheet_format import exercises_of

ROOT = Path(__file__).resolve().parent.parent.parent
SHEETS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("real_sheets")
    subs = work / "subs"
    subs.mkdir()
    for sheet in SHEETS:
        shutil.copy(ROOT / "solutions" / f"{sheet}.ipynb", subs / f"solution_{sheet}.ipynb")
        shutil.copy(ROOT / "exercises" / f"{sheet}.ipynb", subs / f"shipped_{sheet}.ipynb")
    cmd = [sys.executable, "-m", "course_tools.grade", "--out", str(work / "grades.csv"),
           "--written", str(work / "written.csv"), "--jobs", "2", "--no-progress", "--",
           *sorted(str(p) for p in subs.iterdir())]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=ROOT)
    rows = list(csv.DictReader((work / "grades.csv").open(encoding="utf-8")))
    written = list(csv.DictReader((work / "written.csv").open(encoding="utf-8")))
    return {"proc": proc, "rows": rows, "written": written}


def _rows(rows: list[dict], name: str) -> dict[str, dict]:
    return {r["exercise"]: r for r in rows if Path(r["submission"]).stem == name}


@pytest.mark.parametrize("sheet", SHEETS)
def test_worked_answers_pass_and_shipped_sheets_are_not_attempted(machine, graded,  # noqa: F811
                                                                 sheet) -> None:
    need_sandbox(machine)
    assert graded["proc"].returncode == 0, graded["proc"].stderr[-3000:]
    import nbformat

    exercises = exercises_of(nbformat.read(ROOT / "solutions" / f"{sheet}.ipynb", as_version=4))
    checked = {e.id for e in exercises if e.kind == "check"}
    written = {e.id for e in exercises if e.kind == "written"}
    solution, shipped = _rows(graded["rows"], f"solution_{sheet}"), \
        _rows(graded["rows"], f"shipped_{sheet}")
    assert set(solution) == checked and set(shipped) == checked
    for ex in checked:
        assert solution[ex]["status"] == "passed", solution[ex]
        assert not solution[ex]["message"].startswith("Flagged"), solution[ex]
        assert shipped[ex]["status"] == "not attempted", shipped[ex]
    answers = {(Path(r["submission"]).stem, r["exercise"]): r["status"]
               for r in graded["written"]}
    for ex in written:
        assert answers[(f"solution_{sheet}", ex)] == "to read"
        assert answers[(f"shipped_{sheet}", ex)] == "not attempted"
