"""Sheet 04 (AdaGrad): right answers pass every case, and each known mistake gets its message.

The reference answers below are written here, independently of the solution notebook; the
expected values inside the comparators come from course_lib and closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.cases import built, copy_inputs, mistake_message
from course_lib.cases.sheet04 import EXERCISES, tune_steps

# --- reference answers ------------------------------------------------------------------------


def adagrad_step(p, g, s, lr, eps=1e-10):
    s = s + g * g
    return p - lr * g / (np.sqrt(s) + eps), s


def run_adagrad(objective, x0, lr, steps, eps=1e-10):
    p, s = np.array(x0, dtype=float), np.zeros(len(x0))
    points = [p]
    for _ in range(steps):
        p, s = adagrad_step(p, objective.grad(p), s, lr, eps)
        points.append(p)
    return np.array(points)


def full_adagrad_step(p, g, G, lr, eps=1e-8):
    G = G + np.outer(g, g)
    lam, Q = np.linalg.eigh(G)
    root = Q @ np.diag(np.sqrt(np.maximum(lam, 0))) @ Q.T
    return p - lr * np.linalg.solve(eps * np.eye(len(g)) + root, g), G


def _two_steps_by_hand():
    # 1/2 (x^2 + 500 y^2) from (5, 2), lr = 1: the curvature cancels coordinate by coordinate
    x, y = 5.0, 2.0
    s_x, s_y = x**2, (500 * y) ** 2
    x, y = x - x / math.sqrt(s_x), y - 500 * y / math.sqrt(s_y)
    s_x, s_y = s_x + x**2, s_y + (500 * y) ** 2
    return x - x / math.sqrt(s_x), y - 500 * y / math.sqrt(s_y)


RIGHT = {
    "adagrad_two_steps": _two_steps_by_hand(),
    "adagrad_step": adagrad_step,
    "run_adagrad": run_adagrad,
    "adagrad_rotated_lr": {"lr": 5.0},
    "full_adagrad_step": full_adagrad_step,
}


def _passes(exercise_id, answer, cases):
    spec = EXERCISES[exercise_id]
    for case in cases:
        case = built(case)
        if spec.mode == "call":
            args, kwargs = copy_inputs(case.args), copy_inputs(case.kwargs)
            got = answer(*args, **kwargs)
            spec.compare(case, got, (*args, *kwargs.values()))
        else:
            spec.compare(case, answer, None)


def test_the_sheet_has_six_exercises_of_five_kinds():
    assert set(EXERCISES) == {*RIGHT, "adagrad_conclusion"}
    assert EXERCISES["adagrad_conclusion"].mode == "explain"
    for exercise_id in ("adagrad_step", "run_adagrad", "adagrad_rotated_lr", "full_adagrad_step"):
        assert EXERCISES[exercise_id].hidden is not None
    assert all(spec.lesson.startswith("lesson 04, section") for spec in EXERCISES.values())


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_the_right_answer_passes_the_public_cases(exercise_id):
    _passes(exercise_id, RIGHT[exercise_id], EXERCISES[exercise_id].public())


@pytest.mark.parametrize("exercise_id", ["adagrad_step", "run_adagrad", "adagrad_rotated_lr",
                                         "full_adagrad_step"])
@pytest.mark.parametrize("seed", range(6))
def test_the_right_answer_passes_hidden_cases(exercise_id, seed):
    spec = EXERCISES[exercise_id]
    cases = spec.hidden(np.random.default_rng(seed))
    assert cases and all(case.hidden for case in cases)
    _passes(exercise_id, RIGHT[exercise_id], cases)


def _message(exercise_id, answer):
    return mistake_message(EXERCISES[exercise_id], answer)


# --- adagrad_two_steps (predict) --------------------------------------------------------------

def test_predict_passes_within_the_tolerance_and_comments_on_the_gap():
    x, y = _two_steps_by_hand()
    _passes("adagrad_two_steps", (x + 0.008, y - 0.008), EXERCISES["adagrad_two_steps"].public())
    spec = EXERCISES["adagrad_two_steps"]
    note = spec.comment(built(spec.public()[0]), (round(x, 2), round(y, 2)))
    assert "you predicted (3.3800, 0.5500)" in note and "(3.3753, 0.5528)" in note
    assert "kappa = 500 never entered" in note


@pytest.mark.parametrize(("guess", "fragments"), [
    ((3.0, 0.0), ["only the first step has size lr"]),
    ((3.2, 0.5), ["after adding the new g**2"]),
    ((0.0, 2 * 499**2), ["gradient descent's path"]),
    ((0.5528, 3.3753), ["coordinates are swapped"]),
    ((3.3, 0.6), ["expected a point within 0.01 of the measured (3.3753, 0.5528)"]),
    ((3.3753,), ["shape (2,)"]),
])
def test_predict_names_the_usual_wrong_predictions(guess, fragments):
    text = _message("adagrad_two_steps", guess)
    assert all(f in text for f in fragments), text


# --- adagrad_step (diagnose) ------------------------------------------------------------------

def _eps_inside(p, g, s, lr, eps=1e-10):
    s = s + g * g
    return p - lr * g / np.sqrt(s + eps), s


def _stale_s(p, g, s, lr, eps=1e-10):
    return p - lr * g / (np.sqrt(s) + eps), s + g * g


def _no_root(p, g, s, lr, eps=1e-10):
    s = s + g * g
    return p - lr * g / (s + eps), s


def _reset(p, g, s, lr, eps=1e-10):
    s = g * g
    return p - lr * g / (np.sqrt(s) + eps), s


def _unsquared(p, g, s, lr, eps=1e-10):
    s = s + g
    return p - lr * g / (np.sqrt(np.abs(s)) + eps), s


def _in_place(p, g, s, lr, eps=1e-10):
    s += g * g
    p -= lr * g / (np.sqrt(s) + eps)
    return p, s


@pytest.mark.parametrize(("wrong", "fragments"), [
    (_eps_inside, ["case 'a large eps (0.5)'", "eps outside the square root"]),
    (_stale_s, ["case 'the first step from s = 0'", "still behaves like the code you were given",
                "1e10 times too far"]),
    (_no_root, ["divide by the square root of s"]),
    (_reset, ["s is a sum that keeps the past"]),
    (_unsquared, ["square the gradient"]),
    (_in_place, ["in-place update of an input"]),
    (lambda p, g, s, lr, eps=1e-10: p, ["expected a tuple (p, s)"]),
])
def test_step_names_each_known_mistake(wrong, fragments):
    text = _message("adagrad_step", wrong)
    assert all(f in text for f in fragments), text


def _shipped(exercise_id):
    """The answer cell of ``exercise_id`` as exercises/ ships it, run: the learner's start."""
    import json
    from pathlib import Path

    from course_tools.sheet_format import shipped_answer

    nb = json.loads((Path(__file__).parent.parent / "solutions" / "04_adagrad.ipynb").read_text())
    cell = next(cell for cell in nb["cells"] if cell["metadata"].get("course", {}) == {
        "role": "answer", "exercise": exercise_id})
    namespace: dict = {"np": np}
    exec(shipped_answer("".join(cell["source"]), exercise_id, "diagnose"), namespace)  # noqa: S102
    return namespace[exercise_id]


@pytest.mark.parametrize(("exercise_id", "fix_words"), [
    ("adagrad_step", ["before", "order", "swap", "update s"]),
    ("run_adagrad", ["before the loop", "reset", "zeros", "once"]),
])
def test_the_shipped_bug_is_named_by_its_symptom_not_its_fix(exercise_id, fix_words):
    for level in (1, 2, 3):
        text = mistake_message(EXERCISES[exercise_id], _shipped(exercise_id), level)
        assert "this still behaves like the code you were given" in text, text
        mistake = text.split("Known mistake: ")[1].split(" Hint: ")[0]
        assert not any(word in mistake for word in fix_words), mistake


def test_eps_inside_the_root_is_caught_by_the_hidden_cases_too():
    spec = EXERCISES["adagrad_step"]
    tiny = [case for case in spec.hidden(np.random.default_rng(0))
            if np.abs(case.args[1]).max() < 1e-4]
    assert tiny
    with pytest.raises(Exception, match="eps outside the square root"):
        _passes("adagrad_step", _eps_inside, tiny[:1])


def test_the_browser_tests_wrong_answer_gets_the_eps_message():
    # tests/browser/test_jupyterlab.py puts exactly this answer in the sheet
    namespace: dict = {}
    exec("import numpy as np\n\ndef adagrad_step(p, g, s, lr, eps=1e-10):\n"  # noqa: S102
         "    s = s + g * g\n    return p - lr * g / np.sqrt(s + eps), s\n", namespace)
    assert "eps outside the square root" in _message("adagrad_step", namespace["adagrad_step"])


# --- run_adagrad (diagnose) -------------------------------------------------------------------

def _run_reset(objective, x0, lr, steps, eps=1e-10):
    p = np.array(x0, dtype=float)
    path = [p.copy()]
    for _ in range(steps):
        s = np.zeros_like(p)
        g = objective.grad(p)
        s = s + g**2
        p = p - lr * g / (np.sqrt(s) + eps)
        path.append(p.copy())
    return np.array(path)


def _run_gd(objective, x0, lr, steps, eps=1e-10):
    p = np.array(x0, dtype=float)
    path = [p]
    for _ in range(steps):
        p = p - lr * objective.grad(p)
        path.append(p)
    return np.array(path)


def _run_aliased(objective, x0, lr, steps, eps=1e-10):
    p, s = np.array(x0, dtype=float), np.zeros(len(x0))
    path = [p]
    for _ in range(steps):
        g = objective.grad(p)
        s += g**2
        p -= lr * g / (np.sqrt(s) + eps)
        path.append(p)
    return np.array(path)


def _run_eps_inside(objective, x0, lr, steps, eps=1e-10):
    p, s = np.array(x0, dtype=float), np.zeros(len(x0))
    path = [p]
    for _ in range(steps):
        p, s = _eps_inside(p, objective.grad(p), s, lr, eps)
        path.append(p)
    return np.array(path)


def _run_in_place(objective, x0, lr, steps, eps=1e-10):
    s, path = np.zeros(len(x0)), [np.array(x0, dtype=float)]
    for _ in range(steps):
        g = objective.grad(x0)
        s = s + g**2
        x0 -= lr * g / (np.sqrt(s) + eps)
        path.append(x0.copy())
    return np.array(path)


@pytest.mark.parametrize(("wrong", "fragments"), [
    (_run_reset, ["case '20 steps on a valley (kappa = 10)'",
                  "still behaves like the code you were given", "hops around the minimum"]),
    (_run_gd, ["gradient descent's path"]),
    (_run_aliased, ["all rows are the same array"]),
    (_run_eps_inside, ["case 'a large eps (0.5)'", "eps outside the square root"]),
    (_run_in_place, ["input `x0` to be left unchanged"]),
    (lambda objective, x0, lr, steps, eps=1e-10: run_adagrad(objective, x0, lr, steps),
     ["case 'a large eps (0.5)'"]),
])
def test_run_names_each_known_mistake(wrong, fragments):
    text = _message("run_adagrad", wrong)
    assert all(f in text for f in fragments), text


# --- adagrad_rotated_lr (tune) ----------------------------------------------------------------

@pytest.mark.parametrize("lr", [3.5, 5.0, 10.0, 30.0])
def test_tune_a_region_of_rates_passes(lr):
    _passes("adagrad_rotated_lr", {"lr": lr}, EXERCISES["adagrad_rotated_lr"].public())
    _passes("adagrad_rotated_lr", {"lr": lr},
            EXERCISES["adagrad_rotated_lr"].hidden(np.random.default_rng(7)))


@pytest.mark.parametrize(("answer", "fragments"), [
    ({"lr": 0.01}, ["too small for AdaGrad", "torch's default 0.01"]),
    ({"lr": 1.0}, ["lr = 1 is too small"]),
    ({"lr": 1e4}, ["lr = 10000 is too large"]),
    ({"lr": 1e300}, ["is too large"]),
    ({"lr": -1.0}, ["a positive, finite learning rate"]),
    ({"lr": float("nan")}, ["a positive, finite learning rate"]),
    (5.0, ["a dict {'lr': <a number>}"]),
    ({"lr": 5.0, "eps": 1e-8}, ["a dict {'lr': <a number>}"]),
])
def test_tune_names_bad_settings(answer, fragments):
    text = _message("adagrad_rotated_lr", answer)
    assert all(f in text for f in fragments), text


def test_tune_defaults_fail_and_the_goal_is_measured_by_course_lib():
    assert math.isinf(tune_steps(0.01, 0)) and math.isinf(tune_steps(1.0, 0))
    assert tune_steps(5.0, 0) <= 150
    note = EXERCISES["adagrad_rotated_lr"].comment(None, {"lr": 5.0})
    assert note.startswith("steps to a loss below 1e-06 from the four public starts:")


# --- full_adagrad_step (implement) ------------------------------------------------------------

def test_full_first_step_has_length_lr_along_minus_g():
    p, g = np.array([-4.0, 3.0]), np.array([-4.0, 30.0])
    new_p, _ = full_adagrad_step(p, g, np.zeros((2, 2)), 1.0)
    assert np.allclose(new_p, p - g / np.linalg.norm(g), atol=1e-7)


def _full_entrywise(p, g, G, lr, eps=1e-8):
    G = G + np.outer(g, g)
    return p - lr * np.linalg.solve(np.sqrt(G) + eps * np.eye(len(g)), g), G


def _full_inverse(p, g, G, lr, eps=1e-8):
    G = G + np.outer(g, g)
    return p - lr * np.linalg.solve(G + eps * np.eye(len(g)), g), G


def _full_diagonal(p, g, G, lr, eps=1e-8):
    G = G + np.outer(g, g)
    return p - lr * g / (np.sqrt(np.diag(G)) + eps), G


def _full_old_G(p, g, G, lr, eps=1e-8):
    lam, Q = np.linalg.eigh(G)
    step = Q @ ((Q.T @ g) / (np.sqrt(np.maximum(lam, 0)) + eps))
    return p - lr * step, G + np.outer(g, g)


def _full_eps_inside(p, g, G, lr, eps=1e-8):
    G = G + np.outer(g, g)
    lam, Q = np.linalg.eigh(G)
    return p - lr * Q @ ((Q.T @ g) / np.sqrt(np.maximum(lam, 0) + eps)), G


def _full_elementwise_G(p, g, G, lr, eps=1e-8):
    G = G + g * g
    lam, Q = np.linalg.eigh(G)
    return p - lr * Q @ ((Q.T @ g) / (np.sqrt(np.maximum(lam, 0)) + eps)), G


def _full_in_place(p, g, G, lr, eps=1e-8):
    G += np.outer(g, g)
    lam, Q = np.linalg.eigh(G)
    return p - lr * Q @ ((Q.T @ g) / (np.sqrt(np.maximum(lam, 0)) + eps)), G


@pytest.mark.parametrize(("wrong", "fragments"), [
    (_full_entrywise, ["np.sqrt(G) takes the root of each entry"]),
    (_full_inverse, ["the inverse square root of G"]),
    (_full_diagonal, ["that is diagonal AdaGrad"]),
    (_full_old_G, ["add the outer product g g^T to G before taking its root"]),
    (_full_eps_inside, ["case 'a large eps (0.5)'", "add eps outside the square root"]),
    (_full_elementwise_G, ["np.outer(g, g), a matrix, not by g * g"]),
    (_full_in_place, ["in-place update of an input"]),
    (lambda p, g, G, lr, eps=1e-8: p, ["expected a tuple (p, G)"]),
])
def test_full_names_each_known_mistake(wrong, fragments):
    text = _message("full_adagrad_step", wrong)
    assert all(f in text for f in fragments), text


@pytest.mark.parametrize(("exercise_id", "comment"), [
    ("adagrad_two_steps", "you predicted (3.3753, 0.5528); course_lib measured (3.3753, 0.5528)"),
    ("adagrad_rotated_lr", "from the four public starts: 112, 100, 93, 97 (budget 150)"),
])
def test_a_pass_prints_the_pass_line_then_the_comment(exercise_id, comment, capsys):
    from course_lib.cases import run_check

    run_check(EXERCISES[exercise_id], RIGHT[exercise_id])
    lines = capsys.readouterr().out.splitlines()
    n = len(EXERCISES[exercise_id].public())
    assert lines[0] == f"[{exercise_id}] passed: {n}/{n} cases"
    assert comment in lines[1]
