"""Sheet 03 (EWMA): right answers pass every case, each known mistake is named.

The reference answers here are written independently of solutions/03_ewma.ipynb.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hidden_cases import pass_hidden

from course_lib.cases import mistake_message, run_check
from course_lib.cases.sheet03 import EXERCISES, measured_half_jump, tracking_error

# --- reference answers ------------------------------------------------------------------------


def ewma_series(xs, beta, bias_correction=False):
    x = np.asarray(xs, dtype=float)
    out, v = np.empty_like(x), np.zeros_like(x[0])
    for t in range(len(x)):
        v = beta * v + (1 - beta) * x[t]
        out[t] = v / (1 - beta ** (t + 1)) if bias_correction else v
    return out


def corrected_ewma(xs, beta):
    return ewma_series(xs, beta, bias_correction=True)


def choose_beta(noise_std, max_noise, max_half_life):
    r2 = (max_noise / noise_std) ** 2
    return max(0.0, (1 - r2) / (1 + r2))


RIGHT = {"ewma_series": ewma_series, "corrected_ewma": corrected_ewma,
         "choose_beta": choose_beta, "predict_half_jump": math.log(0.5) / math.log(0.96),
         "tune_ewma_beta": {"beta": 0.96}}


def _hidden_pass(exercise_id, answer, seeds=range(8)):
    pass_hidden(EXERCISES[exercise_id], answer, seeds)


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_a_right_answer_passes_public_and_hidden_cases(exercise_id, capsys):
    run_check(EXERCISES[exercise_id], RIGHT[exercise_id])
    assert f"[{exercise_id}] passed:" in capsys.readouterr().out
    _hidden_pass(exercise_id, RIGHT[exercise_id])


def test_every_exercise_has_a_kind_and_the_sheet_mixes_them():
    assert {ex.mode for ex in EXERCISES.values()} == {"call", "value", "explain"}
    assert 5 <= len(EXERCISES) <= 8
    assert all(ex.lesson for ex in EXERCISES.values())


def _message(exercise_id, answer, level=1):
    return mistake_message(EXERCISES[exercise_id], answer, level)


def _ewma(keep, mix, corrected=False, feedback=False, offset=0):
    """An EWMA written with a mistake: v = keep * v + mix * x, optional (wrong) correction."""
    def average(xs, beta, bias_correction=corrected):
        k, m = keep(beta), mix(beta)
        x = np.asarray(xs, dtype=float)
        v, out = np.zeros_like(x[0]), []
        for t, x_t in enumerate(x, start=1):
            v = k * v + m * x_t
            shown = v / (1 - k ** (t + offset)) if bias_correction else v
            if feedback:
                v = shown
            out.append(shown)
        return np.array(out)

    return average


# --- ewma_series ------------------------------------------------------------------------------

def _never_corrects(xs, beta, bias_correction=False):
    return ewma_series(xs, beta)


def _from_first_value(xs, beta, bias_correction=False):
    x = np.asarray(xs, dtype=float)
    v, out = x[0], []
    for x_t in x:
        v = beta * v + (1 - beta) * x_t
        out.append(v)
    return np.array(out)


def _counts_from_zero(xs, beta, bias_correction=False):
    x = np.asarray(xs, dtype=float)
    v, out = 0.0, []
    for t, x_t in enumerate(x):
        v = beta * v + (1 - beta) * x_t
        out.append(v / (1 - beta**t) if bias_correction else v)  # inf at t = 0
    return np.array(out)


@pytest.mark.parametrize("wrong, text", [
    (_never_corrects, "must divide each v_t by 1 - beta**t"),
    (_from_first_value, "start from v_0 = 0"),
    (_counts_from_zero, "t counts from 1 for the first value"),
    (_ewma(lambda b: 1 - b, lambda b: b), "the weights are swapped"),
    (_ewma(lambda b: b, lambda b: 1.0), "without its weight (1 - beta)"),
    (_ewma(lambda b: b, lambda b: 1 - b, offset=1), "not from 2"),
    (_ewma(lambda b: b, lambda b: 1 - b, feedback=True), "fed back into the average"),
])
def test_ewma_series_names_the_known_mistakes(wrong, text):
    assert text in _message("ewma_series", wrong)


def test_ewma_series_needs_one_average_per_column():
    def flattened(xs, beta, bias_correction=False):
        return ewma_series(np.ravel(xs), beta, bias_correction)

    assert "case 'two series side by side" in _message("ewma_series", flattened)


def test_ewma_series_notices_xs_changed_in_place():
    def in_place(xs, beta, bias_correction=False):
        out = ewma_series(xs, beta, bias_correction)
        xs[...] = out
        return out

    assert "left unchanged" in _message("ewma_series", in_place)


# --- corrected_ewma (diagnose) ----------------------------------------------------------------

def test_the_unfixed_bug_is_named_on_the_constant_series():
    message = _message("corrected_ewma", _ewma(lambda b: b, lambda b: 1 - b, True, True))
    assert "this still behaves like the code you were given" in message
    assert "grow instead of staying at the constant" in message
    assert "a constant series of 5s" in message and "fed back" not in message  # no fix given


@pytest.mark.parametrize("wrong, text", [
    (_ewma(lambda b: b, lambda b: 1 - b, False), "must divide each v_t"),
    (_ewma(lambda b: b, lambda b: 1 - b, True, offset=1), "not from 2"),
])
def test_corrected_ewma_names_the_wrong_fixes(wrong, text):
    assert text in _message("corrected_ewma", wrong)


def test_a_fix_that_counts_t_from_zero_is_named():
    def zero_based(xs, beta):
        v, out = 0.0, []
        for t, x in enumerate(xs):
            v = beta * v + (1 - beta) * x
            out.append(v / (1 - beta**t))
        return np.array(out)

    with np.errstate(divide="ignore"):
        assert "t counts from 1 for the first value" in _message("corrected_ewma", zero_based)


# --- predict_half_jump ------------------------------------------------------------------------

def test_the_measured_half_jump_agrees_with_the_closed_form():
    # the first k with 1 - 0.96**k >= 1/2, from the closed form of a jump's response
    assert measured_half_jump() == math.ceil(math.log(0.5) / math.log(0.96)) == 17


def test_a_right_prediction_passes_with_the_gap(capsys):
    run_check(EXERCISES["predict_half_jump"], 17)
    out = capsys.readouterr().out
    assert "passed: 1/1" in out and "you predicted 17 steps; measured 17" in out


@pytest.mark.parametrize("prediction, text", [
    (25, "effective window 1/(1 - beta)"),
    (24, "steadily rising signal"),
    (12.5, "half the window is too short"),
])
def test_the_typical_wrong_predictions_are_explained(prediction, text):
    message = _message("predict_half_jump", prediction)
    assert text in message and "measured 17 steps" in message


# --- tune_ewma_beta ---------------------------------------------------------------------------

@pytest.mark.parametrize("beta", [0.945, 0.95, 0.96, 0.965])
def test_a_region_of_decay_rates_reaches_the_goal(beta):
    run_check(EXERCISES["tune_ewma_beta"], {"beta": beta})
    _hidden_pass("tune_ewma_beta", {"beta": beta}, seeds=range(4))


def test_keras_default_beta_smooths_too_little():
    assert "too little smoothing" in _message("tune_ewma_beta", {"beta": 0.9})


def test_torch_default_beta_lags_too_much():
    message = _message("tune_ewma_beta", {"beta": 0.99})
    assert "too much smoothing" in message and "about 99 steps" in message


def test_the_goal_is_set_by_numbers_not_by_the_check():
    # an independent recomputation of the tracking error of beta = 0.96 on seed 0
    rng = np.random.default_rng(0)
    t = np.arange(1, 4001)
    signal = np.sin(2 * np.pi * t / 1000)
    noisy = signal + rng.normal(size=t.size)
    smooth = ewma_series(noisy, 0.96, bias_correction=True)
    assert math.isclose(tracking_error(0.96, 0), float(np.sqrt(np.mean((smooth - signal) ** 2))))


@pytest.mark.parametrize("answer", [0.96, {"decay": 0.96}, {"beta": 1.0}])
def test_tune_ewma_beta_refuses_malformed_answers(answer):
    message = _message("tune_ewma_beta", answer)
    assert "dict" in message or "[0, 1)" in message


# --- choose_beta ------------------------------------------------------------------------------

def test_choose_beta_names_the_std_instead_of_variance_mistake():
    def std_ratio(noise_std, max_noise, max_half_life):
        r = max_noise / noise_std
        return (1 - r) / (1 + r)

    assert "ratio of the variances" in _message("choose_beta", std_ratio)


def test_choose_beta_refuses_too_much_smoothing():
    assert "smooth no more than needed" in _message("choose_beta", lambda n, m, h: 0.999,
                                                    level=2)


def test_choose_beta_refuses_a_decay_rate_outside_the_unit_interval():
    assert "a decay rate is in [0, 1)" in _message("choose_beta", lambda n, m, h: 1.5, level=2)


# --- rms_of_gradients (diagnose) --------------------------------------------------------------

def rms_of_gradients(grads, beta):
    g2 = np.asarray(grads, dtype=float) ** 2
    return np.sqrt(ewma_series(g2, beta))


def _rms(update, root=np.sqrt, corrected=False):
    def rms(grads, beta):
        g = np.asarray(grads, dtype=float)
        v, out = np.zeros_like(g[0]), []
        for t, g_t in enumerate(g, start=1):
            v = update(v, g_t, beta)
            out.append(root(v / (1 - beta**t) if corrected else v))
        return np.array(out)

    return rms


def test_rms_of_gradients_right_answer_passes(capsys):
    run_check(EXERCISES["rms_of_gradients"], rms_of_gradients)
    assert "[rms_of_gradients] passed: 4/4 cases" in capsys.readouterr().out
    _hidden_pass("rms_of_gradients", rms_of_gradients)


def test_the_unfixed_missing_one_minus_beta_is_named():
    message = _message("rms_of_gradients", _rms(lambda v, g, b: b * v + g * g))
    assert "this still behaves like the code you were given" in message
    assert "with beta = 0.9, for gradients of a steady size the RMS settles 3.16 times" in message
    assert "settles at 2" in message and "1 - beta" not in message.split("Known")[1]


@pytest.mark.parametrize("wrong, text", [
    (_rms(lambda v, g, b: b * v + (1 - b) * g * g, root=lambda v: v), "return its square root"),
    (_rms(lambda v, g, b: b * v + (1 - b) * g), "average the squared gradients"),
    (_rms(lambda v, g, b: b * v + (1 - b) * g * g, corrected=True), "uncorrected"),
])
def test_rms_of_gradients_names_the_wrong_fixes(wrong, text):
    with np.errstate(invalid="ignore"):
        assert text in _message("rms_of_gradients", wrong)
