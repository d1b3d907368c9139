"""course_lib.cases: the case definitions behind sheet 04's checks (shared with the grader)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.cases import Case, Mismatch, build, describe, describe_case, sheet_exercises
from course_lib.cases.sheet04 import EXERCISES
from course_lib.checks import CheckFailed, check_adagrad_step


def adagrad_step(p, g, s, lr, eps=1e-10):
    s = s + g * g
    return p - lr * g / (np.sqrt(s) + eps), s


def test_every_sheet04_exercise_has_cases_and_hidden_cases():
    assert set(EXERCISES) == {"adagrad_accumulate", "adagrad_step", "run_adagrad"}
    rng = np.random.default_rng(0)
    for exercise in EXERCISES.values():
        assert exercise.public() and exercise.hidden is not None
        hidden = exercise.hidden(rng)
        assert hidden and all(case.hidden for case in hidden)


def test_the_comparators_accept_the_closed_form_and_reject_eps_inside_the_root():
    spec = EXERCISES["adagrad_step"]
    for case in spec.public() + spec.hidden(np.random.default_rng(1)):
        case = Case(case.label, build(case.args), build(case.kwargs))
        spec.compare(case, adagrad_step(*case.args, **case.kwargs), None)
    case = next(c for c in spec.public() if c.label == "a large eps (0.5)")
    p, g, s, lr = case.args

    def inside(p, g, s, lr, eps=1e-10):
        s = s + g * g
        return p - lr * g / np.sqrt(s + eps), s

    with pytest.raises(Mismatch, match="eps outside the square root"):
        spec.compare(case, inside(p, g, s, lr, **case.kwargs), None)


def test_the_notebook_check_runs_the_same_cases(capsys):
    check_adagrad_step(adagrad_step)
    n = len(EXERCISES["adagrad_step"].public())
    assert capsys.readouterr().out == f"[adagrad_step] passed: {n}/{n} cases\n"


def test_a_failing_check_traceback_has_no_check_frame():
    def broken(p, g, s, lr, eps=1e-10):
        raise ZeroDivisionError("learner's own bug")

    with pytest.raises(CheckFailed) as info:
        check_adagrad_step(broken)
    text = "".join(info.value._render_traceback_())
    assert "_runner.py" not in text and "checks.py" not in text
    assert "learner's own bug" in text and 'raise ZeroDivisionError("learner' in text


def test_descriptions_never_show_values():
    case = Case("x", (np.array([0.123456], np.float32), 0.987654), hidden=True)
    assert "0.12" not in describe_case(case) and "0.98" not in describe_case(case)
    assert describe(np.zeros((2, 3))) == "a float64 array of shape (2, 3)"


def test_sheets_without_case_definitions():
    assert sheet_exercises("06_minibatch_rmsprop") is None
    assert set(sheet_exercises("04_adagrad")) == set(EXERCISES)


def rmsprop_step(p, g, v, lr, beta=0.9, eps=1e-8):
    v = beta * v + (1 - beta) * g * g
    return p - lr * g / (np.sqrt(v) + eps), v


def test_sheet05_accepts_the_closed_form_and_names_a_fixed_beta():
    from course_lib.cases.sheet05 import EXERCISES as SHEET05

    spec = SHEET05["rmsprop_step"]
    for case in spec.public() + spec.hidden(np.random.default_rng(2)):
        case = Case(case.label, build(case.args), build(case.kwargs))
        spec.compare(case, rmsprop_step(*case.args, **case.kwargs), None)
    case = next(c for c in spec.public() if c.label == "beta = 0.99 (torch's default)")

    def fixed(p, g, v, lr, beta=0.9, eps=1e-8):
        return rmsprop_step(p, g, v, lr, 0.9, eps)

    with pytest.raises(Mismatch, match="use the beta passed to the function"):
        spec.compare(case, fixed(*case.args, **case.kwargs), None)


def _solution_namespace(sheet: str) -> dict:
    """The worked answers of solutions/<sheet>.ipynb (set-up and answer cells, run here)."""
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).parent.parent / "solutions" / f"{sheet}.ipynb").read_text())
    ns: dict = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("course", {})
        source = "".join(cell["source"])
        setup = not meta and "course_lib.checks" in source
        if cell["cell_type"] == "code" and (setup or meta.get("role") == "answer"):
            exec("\n".join(line for line in source.splitlines()  # noqa: S102 - our own sheet
                           if not line.startswith("%")), ns)
    return ns


@pytest.mark.parametrize("sheet", ["02_optimization_basics", "03_ewma", "04_adagrad",
                                   "05_rmsprop"])
def test_the_worked_answers_pass_every_hidden_case(sheet):
    """Hidden cases are drawn per submission: over many seeds they never fail a right answer."""
    from course_lib.cases import built, copy_inputs

    ns = _solution_namespace(sheet)
    for seed in range(25):
        rng = np.random.default_rng(seed)
        for exercise_id, spec in sheet_exercises(sheet).items():
            for case in spec.hidden(rng):
                case = built(case)
                args, kwargs = copy_inputs(case.args), copy_inputs(case.kwargs)
                spec.compare(case, ns[exercise_id](*args, **kwargs), (*args, *kwargs.values()))
