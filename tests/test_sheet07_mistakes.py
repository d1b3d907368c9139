"""Sheet 07 (momentum): right answers pass every case, each known mistake is named.

The reference answers here are written independently of solutions/07_momentum.ipynb; the
expected values they are checked against come from course_lib's SGD and RMSprop and from the
closed forms of lesson 07 (see course_lib/cases/sheet07.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hidden_cases import pass_hidden

from course_lib.cases import built, mistake_message, run_check
from course_lib.cases.sheet07 import EXERCISES, tune_losses, tune_start
from course_tools.sheet_format import course_meta, shipped_answer

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "07_momentum.ipynb"

# --- reference answers ------------------------------------------------------------------------


def momentum_step(p, g, buf, lr, momentum=0.9, nesterov=False):
    new_buf = buf * momentum + g
    if nesterov:
        return p - lr * g - lr * momentum * new_buf, new_buf
    return p - lr * new_buf, new_buf


def sweep_heavy_ball(objective, x0, settings, steps):
    out = []
    for lr, mu in settings:
        p, velocity = np.array(x0, dtype=float), np.zeros(len(x0))
        for _ in range(steps):  # velocity form, v = -lr * buf: the same method
            velocity = mu * velocity - lr * objective.grad(p)
            p = p + velocity
        out.append(float(objective.f(p)))
    return out


def rmsprop_momentum_torch(objective, x0, lrs, beta=0.9, momentum=0.9, eps=1e-8):
    x = np.array(x0, dtype=float)
    v, buf, points = np.zeros_like(x), np.zeros_like(x), []
    for lr in lrs:
        g = objective.grad(x)
        v = beta * v + (1 - beta) * g * g
        buf = momentum * buf + g / (np.sqrt(v) + eps)
        x = x - lr * buf
        points.append(x.copy())
    return np.array(points)


KAPPA = 16.0
ROOT = math.sqrt(KAPPA)
BEST = {"lr": 4 / (ROOT + 1) ** 2, "momentum": ((ROOT - 1) / (ROOT + 1)) ** 2,
        "rate": (ROOT - 1) / (ROOT + 1)}
RIGHT = {"momentum_step": momentum_step, "momentum_gd_rate": (KAPPA - 1) / (KAPPA + 1),
         "momentum_best_setting": BEST, "momentum_sweep_reset": sweep_heavy_ball,
         "momentum_lr_placement": rmsprop_momentum_torch,
         "momentum_tune": {"lr": 1 / 9, "momentum": 4 / 9}}


def _hidden_pass(exercise_id, answer, seeds=range(6)):
    pass_hidden(EXERCISES[exercise_id], answer, seeds)


def _message(exercise_id, answer, level=1):
    return mistake_message(EXERCISES[exercise_id], answer, level)


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_a_right_answer_passes_public_and_hidden_cases(exercise_id, capsys):
    run_check(EXERCISES[exercise_id], RIGHT[exercise_id])
    assert f"[{exercise_id}] passed:" in capsys.readouterr().out
    _hidden_pass(exercise_id, RIGHT[exercise_id])


def test_the_sheet_mixes_the_kinds_and_matches_the_notebook():
    nb = json.loads(SOLUTION.read_text())
    kinds = {course_meta(cell)["exercise"]: course_meta(cell)["kind"] for cell in nb["cells"]
             if course_meta(cell).get("role") == "check"}
    assert list(kinds) == list(EXERCISES)
    assert set(kinds.values()) == {"implement", "predict", "diagnose", "tune", "explain"}
    assert all(EXERCISES[ex].mode == "explain" for ex, kind in kinds.items() if kind == "explain")
    assert all(ex.lesson for ex in EXERCISES.values())
    assert all(EXERCISES[ex].hidden is not None for ex, kind in kinds.items()
               if kind in ("implement", "diagnose", "tune"))


# --- momentum_step ----------------------------------------------------------------------------

def _damped(p, g, buf, lr, momentum=0.9, nesterov=False):
    buf = momentum * buf + (1 - momentum) * g
    return p - lr * (g + momentum * buf if nesterov else buf), buf


def _old_buffer(p, g, buf, lr, momentum=0.9, nesterov=False):
    return p - lr * buf, momentum * buf + g


def _plus_sign(p, g, buf, lr, momentum=0.9, nesterov=False):
    new_p, new_buf = momentum_step(p, g, buf, lr, momentum, nesterov)
    return 2 * p - new_p, new_buf


def _ignores_nesterov(p, g, buf, lr, momentum=0.9, nesterov=False):
    return momentum_step(p, g, buf, lr, momentum, False)


def _lookahead_with_old_buffer(p, g, buf, lr, momentum=0.9, nesterov=False):
    new_buf = momentum * buf + g
    return p - lr * (g + momentum * buf if nesterov else new_buf), new_buf


def _fixed_momentum(p, g, buf, lr, momentum=0.9, nesterov=False):
    return momentum_step(p, g, buf, lr, 0.9, nesterov)


def _in_place(p, g, buf, lr, momentum=0.9, nesterov=False):
    buf *= momentum
    buf += g
    p -= lr * (g + momentum * buf if nesterov else buf)
    return p, buf


def _float64(p, g, buf, lr, momentum=0.9, nesterov=False):
    new_p, new_buf = momentum_step(p, g, buf, lr, momentum, nesterov)
    return new_p.astype(np.float64), new_buf.astype(np.float64)


@pytest.mark.parametrize("wrong, text", [
    (_damped, "the buffer is a sum, as in PyTorch (dampening = 0)"),
    (_old_buffer, "use the updated buffer, not the old one"),
    (_plus_sign, "the step goes against the gradient"),
    (_ignores_nesterov, "with nesterov=True PyTorch steps along g + momentum * buf"),
    (_lookahead_with_old_buffer, "the look-ahead uses the updated buffer"),
    (_fixed_momentum, "use the momentum passed to the function, not a fixed 0.9"),
    (_in_place, "left unchanged"),
    (_float64, "dtype float32"),
])
def test_momentum_step_names_the_known_mistakes(wrong, text):
    assert text in _message("momentum_step", wrong)


def test_momentum_step_wants_a_pair():
    assert "a tuple (p, buf)" in _message("momentum_step", lambda p, g, buf, lr, **kw: p)


def test_momentum_step_hint_and_lesson_come_at_levels_two_and_three():
    def wrong(p, g, buf, lr, momentum=0.9, nesterov=False):
        return p * 0, momentum * buf + g

    assert "Hint: PyTorch's step" not in _message("momentum_step", wrong, 1)
    assert "Hint: PyTorch's step" in _message("momentum_step", wrong, 2)
    assert "07_momentum.ipynb" in _message("momentum_step", wrong, 3)


# --- momentum_gd_rate -------------------------------------------------------------------------

def test_the_gd_rate_prediction_passes_and_the_gap_is_printed(capsys):
    run_check(EXERCISES["momentum_gd_rate"], 0.88)
    out = capsys.readouterr().out
    assert "passed: 1/1" in out and "you predicted 0.8800; measured 0.8824" in out


@pytest.mark.parametrize("prediction, text", [
    (1 - 2 / KAPPA, "large-kappa approximation"),
    (((KAPPA - 1) / (KAPPA + 1)) ** 2, "the factor for f"),
    (1 - 1 / KAPPA, "lr = 1/lambda_max"),
    (0.6, "heavy ball's best rate"),
    (2 / (KAPPA + 1), "the best learning rate"),
])
def test_the_typical_wrong_gd_rates_are_explained(prediction, text):
    message = _message("momentum_gd_rate", prediction)
    assert text in message and "expected 0.8824 (within 0.003)" in message


def test_a_gd_rate_that_is_not_a_number_is_refused():
    assert "to be a number" in _message("momentum_gd_rate", "15/17")


# --- momentum_best_setting --------------------------------------------------------------------

def test_a_rounded_best_setting_passes_and_the_measurement_is_printed(capsys):
    run_check(EXERCISES["momentum_best_setting"], {"lr": 0.16, "momentum": 0.35, "rate": 0.6})
    out = capsys.readouterr().out
    assert "passed: 3/3" in out and "measured 0.6017 at lr* = 0.16" in out


@pytest.mark.parametrize("key, value, text", [
    ("lr", 2 / (KAPPA + 1), "gradient descent's best lr"),
    ("lr", 4 / (KAPPA + 1), "square the sum of the square roots"),
    ("lr", 1 / KAPPA, "1/lambda_max"),
    ("momentum", 0.6, "that is the rate sqrt(mu*)"),
    ("momentum", 0.9, "kappa near 1442"),
    ("rate", 0.36, "the rate is sqrt(mu), not mu"),
    ("rate", (KAPPA - 1) / (KAPPA + 1), "that is gradient descent's rate"),
])
def test_the_typical_wrong_settings_are_explained(key, value, text):
    message = _message("momentum_best_setting", {**BEST, key: value})
    assert text in message and f"expected {key} = " in message


@pytest.mark.parametrize("answer", [{"lr": 0.16, "momentum": 0.36}, [0.16, 0.36, 0.6],
                                    {"lr": 0.16, "momentum": "0.36", "rate": 0.6}])
def test_a_malformed_best_setting_is_refused(answer):
    message = _message("momentum_best_setting", answer)
    assert "a dict with the keys 'lr', 'momentum' and 'rate'" in message or "number" in message


def test_the_measured_rate_agrees_with_the_closed_form_up_to_the_double_root():
    # at the double root the error decays like k * rho**k: slightly above rho over 300-400
    from course_lib.cases.sheet07 import _measured_factor

    measured = _measured_factor(BEST["lr"], BEST["momentum"], 300, 400)
    assert BEST["rate"] < measured < BEST["rate"] * (400 / 300) ** (1 / 100) + 1e-3


# --- momentum_sweep_reset ---------------------------------------------------------------------

def _shared_buffer(objective, x0, settings, steps):
    buf, out = np.zeros(len(x0)), []
    for lr, mu in settings:
        p = np.array(x0, dtype=float)
        for _ in range(steps):
            buf = mu * buf + objective.grad(p)
            p = p - lr * buf
        out.append(float(objective.f(p)))
    return out


def _shared_point(objective, x0, settings, steps):
    buf, p, out = np.zeros(len(x0)), np.array(x0, dtype=float), []
    for lr, mu in settings:
        for _ in range(steps):
            buf = mu * buf + objective.grad(p)
            p = p - lr * buf
        out.append(float(objective.f(p)))
    return out


def _shipped(exercise_id, name):
    """The function the exercise sheet ships (broken), built from the solution's answer cell."""
    nb = json.loads(SOLUTION.read_text())
    cell = next(cell for cell in nb["cells"] if course_meta(cell).get("role") == "answer"
                and course_meta(cell)["exercise"] == exercise_id)
    namespace = {"np": np}
    exec(shipped_answer("".join(cell["source"]), exercise_id, "diagnose"), namespace)
    return namespace[name]


SHIPPED = "this still behaves like the code you were given"


def test_the_unfixed_sweep_is_recognised_by_its_symptom_without_the_fix():
    message = _message("momentum_sweep_reset", _shared_buffer)
    assert SHIPPED in message and "later run ends somewhere else" in message
    assert "buf" not in message.split("Known mistake:")[1]  # the fix is not given away


def test_the_shipped_sweep_is_the_bug_the_check_recognises():
    shipped = _shipped("momentum_sweep_reset", "sweep_heavy_ball")
    assert SHIPPED in _message("momentum_sweep_reset", shipped)
    assert "Hint: each setting is its own run" in _message("momentum_sweep_reset", shipped, 2)


def test_a_sweep_that_keeps_p_too_is_named():
    assert "every run must start from x0 and at rest" in _message("momentum_sweep_reset",
                                                                  _shared_point)


def test_the_sweep_notices_x0_changed_in_place():
    def in_place(objective, x0, settings, steps):
        out = []
        for lr, mu in settings:
            p, buf = x0, np.zeros(len(x0))
            for _ in range(steps):
                buf = mu * buf + objective.grad(p)
                p -= lr * buf
            out.append(float(objective.f(p)))
        return out

    assert "left unchanged" in _message("momentum_sweep_reset", in_place)


# --- momentum_lr_placement --------------------------------------------------------------------

def _keras(objective, x0, lrs, beta=0.9, momentum=0.9, eps=1e-8, lr_outside=False):
    x, v, buf, points = np.array(x0, dtype=float), 0.0, 0.0, []
    for lr in lrs:
        g = objective.grad(x)
        v = beta * v + (1 - beta) * g**2
        buf = momentum * buf + lr * g / (np.sqrt(v) + eps)
        x = x - (lr * buf if lr_outside else buf)
        points.append(x)
    return np.array(points)


def test_the_keras_placement_is_recognised_and_a_constant_lr_does_not_reveal_it():
    message = _message("momentum_lr_placement", _keras)
    assert "lr / 10 after step 5" in message and SHIPPED in message
    assert "keeps moving at the old speed" in message


def test_the_shipped_rmsprop_is_the_bug_the_check_recognises():
    shipped = _shipped("momentum_lr_placement", "rmsprop_momentum_torch")
    assert SHIPPED in _message("momentum_lr_placement", shipped)
    assert "the learning rate of the current step multiplies the whole buffer" in _message(
        "momentum_lr_placement", shipped, 2)  # the level-2 hint


def test_a_learning_rate_used_twice_is_named():
    def twice(objective, x0, lrs):
        return _keras(objective, x0, lrs, lr_outside=True)

    assert "the learning rate appears twice" in _message("momentum_lr_placement", twice)


def test_a_single_stored_point_is_named():
    def aliased(objective, x0, lrs, beta=0.9, momentum=0.9, eps=1e-8):
        x = np.array(x0, dtype=float)
        v, buf, points = np.zeros_like(x), np.zeros_like(x), []
        for lr in lrs:
            g = objective.grad(x)
            v = beta * v + (1 - beta) * g * g
            buf = momentum * buf + g / (np.sqrt(v) + eps)
            x -= lr * buf
            points.append(x)
        return np.array(points)

    assert "store a copy of each point" in _message("momentum_lr_placement", aliased)


# --- momentum_tune ----------------------------------------------------------------------------

@pytest.mark.parametrize("setting", [
    {"lr": 1 / 9, "momentum": 4 / 9},  # section 3's theory
    {"lr": 0.09, "momentum": 0.55},
    {"lr": 0.07, "momentum": 0.6},
    {"lr": 0.1, "momentum": 0.45},
    {"lr": 0.05, "momentum": 0.7, "nesterov": True},
])
def test_a_region_of_settings_reaches_the_goal(setting):
    run_check(EXERCISES["momentum_tune"], setting)
    _hidden_pass("momentum_tune", setting, seeds=range(3))


@pytest.mark.parametrize("lr", [1e-3, 1e-2, 2 / 26, 0.02])  # defaults, GD's best, the lesson's
def test_momentum_09_fails_whatever_lr_and_the_reason_is_named(lr):
    message = _message("momentum_tune", {"lr": lr, "momentum": 0.9})
    assert "sqrt(0.9) = 0.949 per step, slower than gradient descent's 12/13" in message


def test_plain_gradient_descent_at_its_best_lr_fails():
    assert "plain gradient descent needs about 100 steps" in _message(
        "momentum_tune", {"lr": 2 / 26, "momentum": 0.0})


@pytest.mark.parametrize("setting, limit", [({"lr": 0.13, "momentum": 0.4}, "2(1 + mu) = 2.8"),
                                            ({"lr": 0.1, "momentum": 0.4, "nesterov": True},
                                             "2(1 + mu)/(1 + 2 mu) = 1.56")])
def test_a_diverging_setting_is_named_with_its_limit(setting, limit):
    message = _message("momentum_tune", setting)
    assert "the run diverges" in message and limit in message


@pytest.mark.parametrize("answer", [0.1, {"lr": 0.1}, {"lr": 0.1, "momentum": 0.5, "beta": 1},
                                    {"lr": -0.1, "momentum": 0.5}, {"lr": 0.1, "momentum": 1.5}])
def test_momentum_tune_refuses_malformed_answers(answer):
    message = _message("momentum_tune", answer)
    assert "a dict with the keys 'lr' and 'momentum'" in message or "SGD accepts" in message


def test_the_tune_comment_reports_the_steps_and_theory(capsys):
    run_check(EXERCISES["momentum_tune"], {"lr": 0.1, "momentum": 0.5})
    out = capsys.readouterr().out
    assert "f < 1e-6 for good from step 30, 26, 30, 27, 27" in out
    # the theory setting's counts are lesson 07's (section 4: mean 32.2, min 28, max 34)
    assert "lr = 1/9, momentum = 4/9 gives 34, 28, 34, 33, 32" in out


def test_the_start_points_are_the_lessons():
    # lesson 07, section 4 prints these start points for seeds 0 to 4
    printed = [(-2.92, -3.39), (-4.46, -0.33), (-0.33, 4.46), (3.84, 2.29), (4.19, -1.57)]
    assert np.allclose([tune_start(s) for s in range(5)], printed, atol=0.005)
    assert len(tune_losses({"lr": 0.1, "momentum": 0.5}, 0)) == 61


# --- momentum_why_not_09 ----------------------------------------------------------------------

def test_the_explain_exercise_has_no_cases():
    exercise = EXERCISES["momentum_why_not_09"]
    assert exercise.mode == "explain" and exercise.public() == []


# --- the expected values against independent references ----------------------------------------

def test_the_measured_gd_factor_is_the_closed_form():
    from course_lib.cases.sheet07 import _measured_factor

    assert _measured_factor(2 / (KAPPA + 1), 0.0, 100, 101) == pytest.approx(15 / 17, rel=1e-9)


def test_the_placement_reference_reproduces_the_lessons_printed_runs():
    # lesson 07, section 8 prints x after each of 10 steps on x^2/2 from 1 (lr / 10 after step 5)
    lesson_torch = [0.96838, 0.91733, 0.85302, 0.77950, 0.69973, 0.69136, 0.68267, 0.67372,
                    0.66457, 0.65527]
    lesson_keras = [0.96838, 0.91733, 0.85302, 0.77950, 0.69973, 0.62674, 0.55999, 0.49897,
                    0.44319, 0.39220]
    case = built(EXERCISES["momentum_lr_placement"].public()[1])
    objective, x0, lrs = case.args
    assert np.allclose(rmsprop_momentum_torch(objective, x0, lrs)[:, 0], lesson_torch, atol=5e-6)
    assert np.allclose(_keras(objective, x0, lrs)[:, 0], lesson_keras, atol=5e-6)
    EXERCISES["momentum_lr_placement"].compare(case, rmsprop_momentum_torch(objective, x0, lrs),
                                               None)
