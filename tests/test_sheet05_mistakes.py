"""Sheet 05 (RMSprop): right answers pass, and every known mistake gets its targeted message.

The reference answers below are written here, independently of solutions/05_rmsprop.ipynb.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_lib.cases import built, copy_inputs, mistake_message, run_check
from course_lib.cases.sheet05 import EXERCISES

E = EXERCISES


# --- reference answers and their wrong twins --------------------------------------------------

def rates(objective, x0, lr, steps, beta=0.9, eps=1e-8, v0=0.0, *, mistake=None):
    x = np.array(x0, dtype=float)
    v = np.full_like(x, 0.0 if mistake == "v0" else v0)
    points, used = [x], []
    for t in range(1, steps + 1):
        g = objective.grad(x)
        old = v
        v = beta * v + (g * g if mistake == "weight" else (1 - beta) * g * g)
        s = {"old_v": old, "bias": v / (1 - beta**t)}.get(mistake, v)
        d = np.sqrt(s + eps) if mistake == "eps_inside" else np.sqrt(s) + eps
        used.append(lr / d)
        if mistake == "in_place":
            x -= lr * g / d
        else:
            x = x - lr * g / d
        points.append(x)
    if mistake == "v0_row":
        used.insert(0, lr / (np.sqrt(np.full_like(x, v0)) + eps))
    return np.array(points), np.array(used)


def path(objective, x0, lr, steps, beta=0.99, eps=1e-8, *, mistake=None):
    return rates(objective, x0, lr, steps, beta, eps, mistake=mistake)[0]


def path09(objective, x0, lr, steps, beta=0.9, eps=1e-8, *, mistake=None):
    return path(objective, x0, lr, steps, beta, eps, mistake=mistake)


def aliased(objective, x0, lr, steps, beta=0.99, eps=1e-8):
    x, v, points = np.array(x0, dtype=float), np.zeros(len(x0)), []
    points.append(x)
    for _ in range(steps):
        g = objective.grad(x)
        v = beta * v + (1 - beta) * g * g
        x -= lr * g / (np.sqrt(v) + eps)
        points.append(x)
    return np.array(points)


def hidden_pass(exercise, answer, seeds=range(6)):
    for seed in seeds:
        for case in exercise.hidden(np.random.default_rng(seed)):
            case = built(case)
            args, kwargs = copy_inputs(case.args), copy_inputs(case.kwargs)
            got = answer(*args, **kwargs) if exercise.mode == "call" else answer
            exercise.compare(case, got, (*args, *kwargs.values()))


def message(exercise_id, answer, level=1):
    return mistake_message(E[exercise_id], answer, level)


# --- the sheet as a whole -----------------------------------------------------------------------

def test_the_sheet_has_seven_exercises_of_five_kinds():
    assert list(E) == ["rmsprop_first_hop", "rmsprop_rates", "rmsprop_fix_torch",
                       "rmsprop_settled_hop", "rmsprop_fix_scale", "rmsprop_tune_364",
                       "rmsprop_no_slowdown"]
    assert E["rmsprop_no_slowdown"].mode == "explain"
    assert all(E[i].lesson.endswith("../notebooks/05_rmsprop.ipynb") for i in E)
    assert E["rmsprop_fix_torch"].answer_name == "torch_rmsprop_path"
    assert E["rmsprop_fix_scale"].answer_name == "rmsprop_path"


# --- 1. rmsprop_first_hop -----------------------------------------------------------------------

def test_first_hop_right_prediction_passes_and_prints_the_gap(capsys):
    run_check(E["rmsprop_first_hop"], (0.0632, 0.2))
    out = capsys.readouterr().out
    assert "[rmsprop_first_hop] passed: 2/2 cases" in out
    assert "beta = 0.9: 0.063246 (you predicted 0.0632, off by 0.1%)" in out
    assert "whatever the gradient" in out


@pytest.mark.parametrize(("prediction", "fragment"), [
    ((0.02, 0.02), "v has caught up with g**2"),
    ((0.02 * 0.1377, 0.02 * 0.1377), "gradient descent's step"),
    ((0.2, 2.0), "square ROOT"),
    ((0.02 * 0.1**0.5, 0.002), "upside down"),
    ((0.0632, 0.0632), "the first step depends on beta"),
])
def test_first_hop_typical_wrong_predictions_are_named(prediction, fragment):
    text = message("rmsprop_first_hop", prediction)
    assert "within 5% of the measured" in text and fragment in text


def test_first_hop_needs_two_numbers():
    assert "a tuple of 2 numbers" in message("rmsprop_first_hop", 0.0632)


# --- 2. rmsprop_rates ---------------------------------------------------------------------------

def test_rates_reference_passes_public_and_hidden(capsys):
    run_check(E["rmsprop_rates"], rates)
    assert "[rmsprop_rates] passed: 6/6 cases" in capsys.readouterr().out
    hidden_pass(E["rmsprop_rates"], rates)


@pytest.mark.parametrize(("mistake", "fragment"), [
    ("old_v", "uses v AFTER adding that step's g**2"),
    ("v0", "start v at v0"),
    ("eps_inside", "eps outside the square root"),
    ("weight", "without its weight (1 - beta)"),
    ("bias", "no bias correction"),
    ("v0_row", "one row per step"),
])
def test_rates_known_mistakes(mistake, fragment):
    def wrong(*args, **kwargs):
        return rates(*args, **kwargs, mistake=mistake)

    assert fragment in message("rmsprop_rates", wrong)


def test_rates_in_place_update_of_x0_is_named():
    def wrong(*args, **kwargs):
        return rates(*args, **kwargs, mistake="in_place")

    assert "all rows are the same array" in message("rmsprop_rates", wrong)


def test_rates_updating_the_callers_x0_is_named():
    def wrong(objective, x0, lr, steps, beta=0.9, eps=1e-8, v0=0.0):
        points, used = rates(objective, x0, lr, steps, beta, eps, v0)
        x0 -= x0 - points[-1]  # leaves the caller's x0 at the last point
        return points, used

    assert "`x0` changed in place" in message("rmsprop_rates", wrong)


def test_rates_points_only_is_a_clear_shape_error():
    assert "a tuple (points, rates)" in message(
        "rmsprop_rates", lambda *a, **k: rates(*a, **k)[0])


# --- 3. rmsprop_fix_torch -----------------------------------------------------------------------

def test_fix_torch_fixed_function_passes(capsys):
    run_check(E["rmsprop_fix_torch"], path)
    assert "[rmsprop_fix_torch] passed: 3/3 cases" in capsys.readouterr().out
    hidden_pass(E["rmsprop_fix_torch"], path)


def test_fix_torch_unfixed_bug_is_recognised_by_name():
    def shipped(*args, **kwargs):
        return path(*args, **kwargs, mistake="bias")

    text = message("rmsprop_fix_torch", shipped)
    assert "case 'lesson 05's PyTorch run" in text
    assert "still behaves like the code you were given" in text and "363.7" in text
    assert "bias" not in text  # the symptom, never the fix


@pytest.mark.parametrize(("mistake", "fragment"), [
    ("eps_inside", "eps is inside the square root"),
    ("weight", "without its weight (1 - beta)"),
    ("old_v", "AFTER adding the new g**2"),
])
def test_fix_torch_other_wrong_fixes_are_named(mistake, fragment):
    def wrong(*args, **kwargs):
        return path(*args, **kwargs, mistake=mistake)

    assert fragment in message("rmsprop_fix_torch", wrong)


def test_fix_torch_aliased_rows_are_named():
    assert "all rows are the same array" in message("rmsprop_fix_torch", aliased)


def test_fix_torch_level_two_adds_the_general_hint_and_level_three_the_lesson():
    def shipped(*args, **kwargs):
        return path(*args, **kwargs, mistake="bias")

    level2 = message("rmsprop_fix_torch", shipped, level=2)
    assert "work out the first step by hand" in level2 and "sqrt(v) + eps" not in level2
    assert "See lesson 05, sections 5" in message("rmsprop_fix_torch", shipped, level=3)


# --- 4. rmsprop_settled_hop ---------------------------------------------------------------------

def test_settled_hop_right_prediction_passes(capsys):
    run_check(E["rmsprop_settled_hop"], {"y_distance": 0.01, "y_rate": 0.5})
    out = capsys.readouterr().out
    assert "passed: 2/2 cases" in out and "y_distance 0.010000 (you predicted 0.01)" in out


@pytest.mark.parametrize(("prediction", "fragment"), [
    ({"y_distance": 0.02, "y_rate": 0.5}, "length of a whole hop"),
    ({"y_distance": 0.0, "y_rate": 0.5}, "does not settle AT the minimum"),
    ({"y_distance": 0.0632, "y_rate": 0.5}, "that is the first step"),
    ({"y_distance": 0.01, "y_rate": 0.25}, "land on the minimum in one step"),
    ({"y_distance": 0.01, "y_rate": 0.02}, "that is lr itself"),
    ({"y_distance": 0.01, "y_rate": 2.0}, "that is x's rate"),
])
def test_settled_hop_typical_wrong_predictions_are_named(prediction, fragment):
    assert fragment in message("rmsprop_settled_hop", prediction)


def test_settled_hop_wrong_keys():
    assert "the keys 'y_distance' and 'y_rate'" in message("rmsprop_settled_hop", (0.01, 0.5))


# --- 5. rmsprop_fix_scale -----------------------------------------------------------------------

def test_fix_scale_fixed_function_passes(capsys):
    run_check(E["rmsprop_fix_scale"], path09)
    assert "[rmsprop_fix_scale] passed: 3/3 cases" in capsys.readouterr().out
    hidden_pass(E["rmsprop_fix_scale"], path09)


def test_fix_scale_unfixed_bug_is_recognised_by_name():
    def shipped(*args, **kwargs):
        return path09(*args, **kwargs, mistake="eps_inside")

    text = message("rmsprop_fix_scale", shipped)
    assert "case 'the valley scaled by 1e-6" in text
    assert "still behaves like the code you were given" in text and "0.004 per step" in text
    assert not re.search(r"\beps\b", text.split(", got ")[1])  # the symptom, never the fix


@pytest.mark.parametrize(("mistake", "fragment"), [
    ("bias", "no bias correction"),
    ("weight", "without its weight (1 - beta)"),
    ("old_v", "AFTER adding the new g**2"),
])
def test_fix_scale_wrong_fixes_are_named(mistake, fragment):
    def wrong(*args, **kwargs):
        return path09(*args, **kwargs, mistake=mistake)

    assert fragment in message("rmsprop_fix_scale", wrong)


def test_fix_scale_aliased_rows_are_named():
    def wrong(objective, x0, lr, steps, beta=0.9, eps=1e-8):
        return aliased(objective, x0, lr, steps, beta, eps)

    assert "all rows are the same array" in message("rmsprop_fix_scale", wrong)


# --- 6. rmsprop_tune_364 ------------------------------------------------------------------------

@pytest.mark.parametrize("setting", [{"lr": 0.65, "beta": 0.9}, {"lr": 0.5, "beta": 0.99},
                                     {"lr": 0.45, "beta": 0.999}])
def test_tune_good_settings_pass_public_and_hidden(setting, capsys):
    run_check(E["rmsprop_tune_364"], setting)
    out = capsys.readouterr().out
    assert "[rmsprop_tune_364] passed: 3/3 cases" in out and "(the goal: below 0.5)" in out
    hidden_pass(E["rmsprop_tune_364"], setting, seeds=range(4))


@pytest.mark.parametrize("setting", [{"lr": 0.3, "beta": 0.9}, {"lr": 0.3, "beta": 0.99},
                                     {"lr": 0.01, "beta": 0.99}])
def test_tune_the_lessons_and_torchs_defaults_do_not_arrive(setting):
    text = message("rmsprop_tune_364", setting)
    assert "not there yet" in text and "larger lr" in text


def test_tune_a_large_lr_hops_too_wide():
    text = message("rmsprop_tune_364", {"lr": 1.2, "beta": 0.9})
    assert "hops around e" in text


def test_tune_a_diverging_lr_says_it_left_the_domain():
    text = message("rmsprop_tune_364", {"lr": 10.0, "beta": 0.9})
    assert "left the domain x > 1" in text and "far too large" in text


@pytest.mark.parametrize(("setting", "fragment"), [
    ({"lr": 0.5}, "a dict {'lr': ..., 'beta': ...}"),
    ({"lr": 0.5, "beta": 1.0}, "0 <= beta < 1"),
    ({"lr": -0.5, "beta": 0.9}, "lr > 0"),
])
def test_tune_malformed_settings(setting, fragment):
    assert fragment in message("rmsprop_tune_364", setting)


# --- 7. rmsprop_no_slowdown ---------------------------------------------------------------------

def test_explain_exercise_has_no_cases():
    assert E["rmsprop_no_slowdown"].public() == []
