"""Sheet 02 (optimization basics): right answers pass every case, each known mistake is named.

The reference answers here are written independently of solutions/02_optimization_basics.ipynb.
"""

from __future__ import annotations

import numpy as np
import pytest
from hidden_cases import pass_hidden

from course_lib.cases import mistake_message, run_check
from course_lib.cases.sheet02 import EXERCISES, measured_gd_steps, measured_lr_limit

# --- reference answers ------------------------------------------------------------------------


def mse_gradient(X, y, w, b):
    error = X @ w + b - y
    return 2 * X.T @ error / len(y), 2 * np.mean(error)


def bowl_gradient(p):
    return np.array([2 * p[0], p[1]])


def gd_until(grad, x0, lr, tol, max_steps):
    p = np.array(x0, dtype=float)
    points = [p]
    while len(points) <= max_steps and np.linalg.norm(grad(p)) >= tol:
        p = p - lr * grad(p)
        points.append(p)
    return np.array(points)


RIGHT = {"mse_gradient": mse_gradient, "bowl_gradient": bowl_gradient, "gd_until": gd_until,
         "predict_lr_limit": 1 / 3, "tune_gd_lr": {"lr": 2 / 11},
         "predict_gd_steps": np.log(np.sqrt(2) * 1e-6) / np.log(0.9)}


def _hidden_pass(exercise_id, answer, seeds=range(8)):
    pass_hidden(EXERCISES[exercise_id], answer, seeds)


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_a_right_answer_passes_public_and_hidden_cases(exercise_id, capsys):
    run_check(EXERCISES[exercise_id], RIGHT[exercise_id])
    assert f"[{exercise_id}] passed:" in capsys.readouterr().out
    _hidden_pass(exercise_id, RIGHT[exercise_id])


def test_every_exercise_has_a_kind_and_the_sheet_mixes_them():
    modes = {ex.mode for ex in EXERCISES.values()}
    assert modes == {"call", "value", "explain"}
    assert 5 <= len(EXERCISES) <= 8
    assert all(ex.lesson for ex in EXERCISES.values())
    assert all(ex.hidden is not None for ex in EXERCISES.values()
               if ex.id in ("mse_gradient", "bowl_gradient", "gd_until", "tune_gd_lr"))


def _message(exercise_id, answer, level=1):
    return mistake_message(EXERCISES[exercise_id], answer, level)


# --- mse_gradient -----------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, text", [
    (lambda X, y, w, b: (X.T @ (X @ w + b - y) / len(y), np.mean(X @ w + b - y)),
     "gradient of half the MSE"),
    (lambda X, y, w, b: (2 * X.T @ (y - X @ w - b) / len(y), 2 * np.mean(y - X @ w - b)),
     "sign is flipped"),
    (lambda X, y, w, b: (2 * X.T @ (X @ w + b - y), 2 * np.sum(X @ w + b - y)),
     "divide the sum by the number of samples"),
])
def test_mse_gradient_names_the_known_mistakes(wrong, text):
    assert text in _message("mse_gradient", wrong)


def test_mse_gradient_wants_grad_b_as_one_number():
    message = _message("mse_gradient", lambda X, y, w, b: (
        2 * X.T @ (X @ w + b - y) / len(y), 2 * (X @ w + b - y) / len(y)))
    assert "single number" in message or "one number" in message


def test_mse_gradient_notices_an_input_changed_in_place():
    def in_place(X, y, w, b):
        error = X @ w + b - y
        y -= y  # a learner's "scratch" use of an input
        return 2 * X.T @ error / len(error), 2 * np.mean(error)

    assert "left unchanged" in _message("mse_gradient", in_place)


# --- bowl_gradient (diagnose) -----------------------------------------------------------------

def test_the_unfixed_published_gradient_is_named():
    message = _message("bowl_gradient", lambda p: np.array([2 * p[0], 0.2 * p[1]]))
    assert "this still behaves like the code you were given" in message
    assert "y-component is too small" in message and "0.2" not in message  # no fix given
    assert "case 'the start (-4.5, 4.5)" in message


@pytest.mark.parametrize("wrong, text", [
    (lambda p: np.array([2 * p[0], 0.5 * p[1]]), "power rule"),
    (lambda p: np.array([p[0], p[1]]), "x-component was right"),
])
def test_bowl_gradient_names_the_wrong_fixes(wrong, text):
    assert text in _message("bowl_gradient", wrong)


def test_bowl_gradient_hint_points_to_the_gradient_check_at_level_two():
    message = _message("bowl_gradient", lambda p: np.array([3 * p[0], p[1]]), level=2)
    assert "check_gradient" in message


# --- predict_lr_limit (predict) ---------------------------------------------------------------

def test_the_measured_limit_agrees_with_the_closed_form():
    # 2 / lambda_max of [[5, 2], [2, 2]] is 2 / 6: an independent closed form
    assert abs(measured_lr_limit() - 1 / 3) < 0.005


def test_a_right_prediction_passes_and_the_gap_is_printed(capsys):
    run_check(EXERCISES["predict_lr_limit"], 0.33)
    out = capsys.readouterr().out
    assert "passed: 1/1" in out and "you predicted 0.33; measured 0.33" in out


@pytest.mark.parametrize("prediction, text", [
    (1 / 6, "1/L"),
    (0.4, "diagonal entry"),
    (2.0, "flattest direction"),
])
def test_the_typical_wrong_predictions_are_explained(prediction, text):
    message = _message("predict_lr_limit", prediction)
    assert text in message and "measured limit, 0.333" in message


def test_a_prediction_that_is_not_a_number_is_refused():
    assert "a learning rate to be a number" in _message("predict_lr_limit", "1/3")


# --- gd_until ---------------------------------------------------------------------------------

def _one_too_many(grad, x0, lr, tol, max_steps):
    p = np.array(x0, dtype=float)
    points = [p]
    for _ in range(max_steps):
        p = p - lr * grad(p)
        points.append(p)
        if np.linalg.norm(grad(p)) < tol:
            break
    else:
        return np.array(points)
    points.append(p - lr * grad(p))  # steps once more after the test
    return np.array(points)


def _squared(grad, x0, lr, tol, max_steps):
    p = np.array(x0, dtype=float)
    points = [p]
    while len(points) <= max_steps and grad(p) @ grad(p) >= tol:
        p = p - lr * grad(p)
        points.append(p)
    return np.array(points)


def _aliased(grad, x0, lr, tol, max_steps):
    p = np.array(x0, dtype=float)
    points = [p]
    while len(points) <= max_steps and np.linalg.norm(grad(p)) >= tol:
        p -= lr * grad(p)
        points.append(p)
    return np.array(points)


def _no_start(grad, x0, lr, tol, max_steps):
    return gd_until(grad, x0, lr, tol, max_steps)[1:]


def _drops_last(grad, x0, lr, tol, max_steps):
    return gd_until(grad, x0, lr, tol, max_steps)[:-1]


def _ignores_max_steps(grad, x0, lr, tol, max_steps):
    return gd_until(grad, x0, lr, tol, 10_000)


@pytest.mark.parametrize("wrong, text", [
    (_one_too_many, "one point too many"),
    (_squared, "not its square"),
    (_aliased, "all rows are the same array"),
    (_no_start, "one point too few: the start x0 is the first row"),
    (_drops_last, "keep the point of the last step"),
    (_ignores_max_steps, "take at most max_steps = 20 steps"),
])
def test_gd_until_names_the_known_mistakes(wrong, text):
    assert text in _message("gd_until", wrong)


def test_gd_until_notices_x0_changed_in_place():
    def in_place(grad, x0, lr, tol, max_steps):
        points = [x0.copy()]
        while len(points) <= max_steps and np.linalg.norm(grad(x0)) >= tol:
            x0 -= lr * grad(x0)
            points.append(x0.copy())
        return np.array(points)

    assert "left unchanged" in _message("gd_until", in_place)


# --- tune_gd_lr -------------------------------------------------------------------------------

@pytest.mark.parametrize("lr", [0.09, 0.12, 0.15, 0.18])
def test_a_region_of_learning_rates_reaches_the_goal(lr):
    run_check(EXERCISES["tune_gd_lr"], {"lr": lr})
    _hidden_pass("tune_gd_lr", {"lr": lr}, seeds=range(4))


@pytest.mark.parametrize("lr", [1e-3, 1e-2])  # torch's and Keras's default learning rates
def test_the_framework_defaults_are_too_slow(lr):
    message = _message("tune_gd_lr", {"lr": lr})
    assert "too slow: the flat direction (curvature 1) shrinks by only" in message


def test_a_diverging_rate_is_named():
    message = _message("tune_gd_lr", {"lr": 0.25})
    assert "diverges" in message and "|1 - lr * 10| = 1.5" in message


def test_a_rate_close_to_the_limit_is_too_slow_in_the_steep_direction():
    assert "the steep direction (curvature 10) shrinks by only" in _message(
        "tune_gd_lr", {"lr": 0.197})


@pytest.mark.parametrize("answer", [0.1, {"learning_rate": 0.1}, {"lr": -0.1}])
def test_tune_gd_lr_refuses_malformed_answers(answer):
    message = _message("tune_gd_lr", answer)
    assert "dict" in message or "positive" in message


def test_the_tune_comment_reports_the_loss(capsys):
    run_check(EXERCISES["tune_gd_lr"], {"lr": 0.15})
    assert "loss after 100 steps:" in capsys.readouterr().out


# --- predict_gd_steps (predict) ---------------------------------------------------------------

def test_the_measured_step_count_agrees_with_the_closed_form():
    # from (1, 1) the flat coordinate 0.9**k dominates: 0.9**k / sqrt(2) < 1e-6 at k = 128
    assert measured_gd_steps() == int(np.ceil(np.log(np.sqrt(2) * 1e-6) / np.log(0.9))) == 128


def test_the_whole_distance_estimate_passes_and_the_gap_is_explained(capsys):
    run_check(EXERCISES["predict_gd_steps"], np.log(1e-6) / np.log(0.9))  # 131.1
    out = capsys.readouterr().out
    assert "passed: 1/1" in out and "measured 128" in out and "1/sqrt(2)" in out


@pytest.mark.parametrize("prediction, text", [
    (6, "that is the steep direction"),
    (62, "best learning rate"),
])
def test_the_typical_wrong_step_counts_are_explained(prediction, text):
    message = _message("predict_gd_steps", prediction)
    assert text in message and "measured 128 steps" in message


def test_a_step_count_far_off_gets_the_general_hint_on_retry():
    assert "the slower one decides" in _message("predict_gd_steps", 500, level=2)
