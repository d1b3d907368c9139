"""course_lib.cases: the case definitions behind every sheet's checks (shared with the grader).

Each sheet's right and wrong answers are tested in ``tests/test_sheetNN_mistakes.py``; here,
what holds for all of them: every sheet is found, hidden cases never show their values, and the
worked answers of ``solutions/`` pass every hidden case over many draws.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hidden_cases import pass_hidden

from course_lib.cases import (
    Case,
    all_exercises,
    describe,
    describe_case,
    sheet_exercises,
)

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
SHEETS = sorted(p.stem for p in SOLUTIONS.glob("*.ipynb"))


def test_descriptions_never_show_values():
    case = Case("x", (np.array([0.123456], np.float32), 0.987654), hidden=True)
    assert "0.12" not in describe_case(case) and "0.98" not in describe_case(case)
    assert describe(np.zeros((2, 3))) == "a float64 array of shape (2, 3)"


def test_every_sheet_is_found_by_its_prefix():
    assert sheet_exercises("99_no_such_sheet") is None
    assert sheet_exercises("lesson_without_prefix") is None
    found = {ex_id for sheet in SHEETS for ex_id in (sheet_exercises(sheet) or {})}
    assert found == set(all_exercises())


def test_every_checked_exercise_has_hidden_cases():
    missing = [ex_id for ex_id, ex in all_exercises().items()
               if ex.mode == "call" and ex.hidden is None]
    assert missing == []
    rng = np.random.default_rng(0)
    for ex in all_exercises().values():
        if ex.hidden is not None:
            hidden = ex.hidden(rng)
            assert hidden and all(case.hidden for case in hidden), ex.id


def _solution_namespace(sheet: str) -> dict:
    """The worked answers of solutions/<sheet>.ipynb (set-up and answer cells, run here)."""
    nb = json.loads((SOLUTIONS / f"{sheet}.ipynb").read_text(encoding="utf-8"))
    ns: dict = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("course", {})
        source = "".join(cell["source"])
        setup = not meta and "course_lib.checks" in source
        if cell["cell_type"] == "code" and (setup or meta.get("role") == "answer"):
            exec("\n".join(line for line in source.splitlines()  # noqa: S102 - our own sheet
                           if not line.startswith("%")), ns)
    return ns


@pytest.mark.parametrize("sheet", SHEETS)
def test_the_worked_answers_pass_every_hidden_case(sheet):
    """Hidden cases are drawn per submission: over many seeds they never fail a right answer."""
    ns = _solution_namespace(sheet)
    for spec in (sheet_exercises(sheet) or {}).values():
        if spec.mode != "explain":
            pass_hidden(spec, ns[spec.answer_name], seeds=range(8))
