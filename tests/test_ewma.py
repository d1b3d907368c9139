"""ewma and friends, checked against a loop written here and against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.ewma import effective_window, ewma, ewma_weights, half_life


def reference_ewma(values: list[float], beta: float, bias_correction: bool = False) -> list[float]:
    """The textbook recursion, in plain Python floats, independent of the library."""
    out, v = [], 0.0
    for t, x in enumerate(values, start=1):
        v = beta * v + (1 - beta) * x
        out.append(v / (1 - beta**t) if bias_correction else v)
    return out


betas = st.floats(min_value=0.0, max_value=0.999, allow_nan=False)
constants = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)
lengths = st.integers(min_value=1, max_value=60)


# --- against the loop and closed forms --------------------------------------------------------


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("bias_correction", [False, True])
def test_matches_direct_loop(beta: float, bias_correction: bool) -> None:
    series = np.random.default_rng(0).normal(size=40).tolist()
    got = ewma(series, beta, bias_correction=bias_correction)
    want = reference_ewma(series, beta, bias_correction)
    assert got.shape == (40,)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_hand_computed_values() -> None:
    # beta = 0.5, x = (4, 8): v1 = 0.5 * 4 = 2, v2 = 0.5 * 2 + 0.5 * 8 = 5
    np.testing.assert_allclose(ewma([4.0, 8.0], 0.5), [2.0, 5.0])
    # bias-corrected: 2 / 0.5 = 4, 5 / 0.75 = 20/3
    np.testing.assert_allclose(ewma([4.0, 8.0], 0.5, bias_correction=True), [4.0, 20.0 / 3.0])


@settings(max_examples=60, deadline=None)
@given(beta=betas, c=constants, n=lengths)
def test_constant_series_closed_form(beta: float, c: float, n: int) -> None:
    got = ewma(np.full(n, c), beta)
    t = np.arange(1, n + 1)
    want = c * (1 - beta**t)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * (abs(c) + 1))


@settings(max_examples=60, deadline=None)
@given(beta=betas, c=constants, n=lengths)
def test_bias_corrected_constant_series_is_the_constant(beta: float, c: float, n: int) -> None:
    got = ewma(np.full(n, c), beta, bias_correction=True)
    # Exact up to rounding: a few ulps per step of the recursion.
    np.testing.assert_allclose(got, np.full(n, c), rtol=1e-10, atol=1e-12)


def test_beta_zero_is_the_series_itself() -> None:
    series = np.array([3.0, -1.0, 7.5])
    np.testing.assert_array_equal(ewma(series, 0.0), series)


# --- weights ----------------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.9, 0.999])
@pytest.mark.parametrize("t", [1, 2, 10, 50])
def test_weights_sum(beta: float, t: int) -> None:
    w = ewma_weights(beta, t)
    assert w.shape == (t,)
    assert math.isclose(w.sum(), 1 - beta**t, rel_tol=1e-12, abs_tol=1e-15)
    w_hat = ewma_weights(beta, t, bias_correction=True)
    assert math.isclose(w_hat.sum(), 1.0, rel_tol=1e-12)


def test_weights_hand_computed() -> None:
    # t = 3, beta = 0.5: weights (1 - b) b^2, (1 - b) b, (1 - b) = 0.125, 0.25, 0.5
    np.testing.assert_allclose(ewma_weights(0.5, 3), [0.125, 0.25, 0.5])
    np.testing.assert_allclose(ewma_weights(0.5, 3, bias_correction=True), [1 / 7, 2 / 7, 4 / 7])


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("bias_correction", [False, True])
def test_weights_dot_series_is_last_ewma_value(beta: float, bias_correction: bool) -> None:
    series = np.random.default_rng(1).normal(size=25)
    w = ewma_weights(beta, len(series), bias_correction=bias_correction)
    last = ewma(series, beta, bias_correction=bias_correction)[-1]
    assert math.isclose(float(w @ series), float(last), rel_tol=1e-10, abs_tol=1e-12)
    # and against the independent loop
    ref = reference_ewma(series.tolist(), beta, bias_correction)[-1]
    assert math.isclose(float(w @ series), ref, rel_tol=1e-10, abs_tol=1e-12)


# --- window and half-life ---------------------------------------------------------------------


def test_effective_window() -> None:
    assert math.isclose(effective_window(0.9), 10.0, rel_tol=1e-12)
    assert math.isclose(effective_window(0.99), 100.0, rel_tol=1e-12)
    assert effective_window(0.0) == 1.0


def test_half_life() -> None:
    assert math.isclose(half_life(0.5), 1.0, rel_tol=1e-12)
    assert math.isclose(half_life(0.9), math.log(0.5) / math.log(0.9), rel_tol=1e-12)
    # definition: after half_life steps the weight beta^k has halved
    k = half_life(0.97)
    assert math.isclose(0.97**k, 0.5, rel_tol=1e-12)


# --- 2-D input --------------------------------------------------------------------------------


@pytest.mark.parametrize("bias_correction", [False, True])
def test_two_dimensional_input_is_columnwise(bias_correction: bool) -> None:
    data = np.random.default_rng(2).normal(size=(30, 3))
    got = ewma(data, 0.8, bias_correction=bias_correction)
    assert got.shape == (30, 3)
    for j in range(3):
        want = reference_ewma(data[:, j].tolist(), 0.8, bias_correction)
        np.testing.assert_allclose(got[:, j], want, rtol=1e-12, atol=1e-15)


def test_does_not_modify_input() -> None:
    data = np.arange(5.0)
    ewma(data, 0.5)
    np.testing.assert_array_equal(data, np.arange(5.0))


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("beta", "error", "pattern"),
    [
        (1, ValueError, r"beta.*1\.0"),
        (1.0, ValueError, r"beta.*1\.0"),
        (-0.1, ValueError, r"beta.*-0\.1"),
        ("a", TypeError, r"beta.*'a'"),
        (float("nan"), ValueError, r"beta.*nan"),
    ],
)
def test_bad_beta(beta: object, error: type[Exception], pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        ewma([1.0, 2.0], beta)  # type: ignore[arg-type]
    with pytest.raises(error, match=pattern):
        ewma_weights(beta, 3)  # type: ignore[arg-type]
    with pytest.raises(error, match=pattern):
        effective_window(beta)  # type: ignore[arg-type]
    with pytest.raises(error, match=pattern):
        half_life(beta)  # type: ignore[arg-type]


def test_empty_series() -> None:
    with pytest.raises(ValueError, match=r"values.*empty"):
        ewma([], 0.9)


def test_three_dimensional_input() -> None:
    with pytest.raises(ValueError, match=r"values.*\(2, 3, 4\)"):
        ewma(np.zeros((2, 3, 4)), 0.9)


def test_bad_bias_correction() -> None:
    with pytest.raises(TypeError, match=r"bias_correction.*'yes'"):
        ewma([1.0], 0.9, bias_correction="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(("t", "error"), [(0, ValueError), (-2, ValueError), (2.5, TypeError)])
def test_bad_t(t: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=rf"t must.*{t}"):
        ewma_weights(0.9, t)  # type: ignore[arg-type]
