"""check_gradient and numeric_gradient: right gradients pass, wrong ones fail, inputs untouched."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.gradcheck import GradientCheck, check_gradient, numeric_gradient


def cubic(x: np.ndarray) -> float:
    return float(np.sum(x**3) + x[0] * x[-1])


def cubic_grad(x: np.ndarray) -> np.ndarray:
    g = 3 * x**2
    g[0] += x[-1]
    g[-1] += x[0]
    return g


def article_bowl(x: np.ndarray) -> float:
    """f = x^2 + 0.5 y^2, the AdaGrad-vs-RMSprop article's bowl."""
    return float(x[0] ** 2 + 0.5 * x[1] ** 2)


def article_bowl_wrong_grad(x: np.ndarray) -> np.ndarray:
    """The article's gradient: (2x, 0.2y). The true one is (2x, y)."""
    return np.array([2 * x[0], 0.2 * x[1]])


def test_numeric_gradient_matches_hand_derivative() -> None:
    x = np.array([0.5, -1.2, 2.0])
    np.testing.assert_allclose(numeric_gradient(cubic, x), cubic_grad(x.copy()), rtol=1e-8)


def test_numeric_gradient_of_linear_function_is_exact_enough() -> None:
    c = np.array([1.5, -2.0, 0.25])
    np.testing.assert_allclose(numeric_gradient(lambda x: float(c @ x), np.zeros(3)), c, rtol=1e-9)


def test_correct_gradient_passes_and_fields() -> None:
    x = np.array([0.3, -0.7, 1.1, 2.0])
    result = check_gradient(cubic, cubic_grad, x)
    assert isinstance(result, GradientCheck)
    assert result.ok is True
    assert 0.0 <= result.max_rel_error < 1e-6
    assert result.tol == 1e-6
    assert isinstance(result.worst_index, tuple) and len(result.worst_index) == 1
    assert result.analytic.shape == x.shape and result.numeric.shape == x.shape
    assert result.analytic.dtype == np.float64 and result.numeric.dtype == np.float64
    np.testing.assert_allclose(result.analytic, cubic_grad(x.copy()))
    # numeric is the central-difference estimate, close to the true derivative
    np.testing.assert_allclose(result.numeric, cubic_grad(x.copy()), rtol=1e-7)
    assert "OK" in str(result)


def test_wrong_gradient_from_the_article_fails_at_index_1() -> None:
    result = check_gradient(article_bowl, article_bowl_wrong_grad, np.array([1.0, 2.0]))
    assert result.ok is False
    assert result.worst_index == (1,)
    # |0.2 y - y| / (0.2 |y| + |y|) = 0.8 / 1.2
    assert result.max_rel_error == pytest.approx(0.8 / 1.2, rel=1e-6)
    assert result.numeric[1] == pytest.approx(2.0, rel=1e-7)
    assert result.analytic[1] == pytest.approx(0.4)
    assert "FAILED" in str(result)


def test_the_fixed_article_gradient_passes() -> None:
    def right(x: np.ndarray) -> np.ndarray:
        return np.array([2 * x[0], x[1]])

    assert check_gradient(article_bowl, right, np.array([1.0, 2.0])).ok is True


def test_sign_error_fails() -> None:
    result = check_gradient(cubic, lambda x: -cubic_grad(x), np.array([0.5, 1.0, 1.5]))
    assert result.ok is False
    assert result.max_rel_error == pytest.approx(1.0, rel=1e-6)


def test_matrix_shaped_parameters() -> None:
    A = np.random.default_rng(0).normal(size=(3, 4))
    W = np.random.default_rng(1).normal(size=(3, 4))

    def f(w: np.ndarray) -> float:
        return float(np.sum(A * w**2))

    good = check_gradient(f, lambda w: 2 * A * w, W)
    assert good.ok is True
    assert len(good.worst_index) == 2

    def bad(w: np.ndarray) -> np.ndarray:
        g = 2 * A * w
        g[2, 1] *= 3.0
        return g

    result = check_gradient(f, bad, W)
    assert result.ok is False
    assert result.worst_index == (2, 1)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        check_gradient(article_bowl, lambda x: np.zeros(3), np.array([1.0, 2.0]))


def test_does_not_modify_callers_x() -> None:
    x = np.array([1.0, 2.0])
    before = x.copy()

    def greedy_grad(z: np.ndarray) -> np.ndarray:
        g = np.array([2 * z[0], z[1]])
        z[:] = 99.0  # a grad that scribbles on its argument must not reach the caller
        return g

    check_gradient(article_bowl, greedy_grad, x)
    np.testing.assert_array_equal(x, before)
    check_gradient(article_bowl, article_bowl_wrong_grad, x)
    np.testing.assert_array_equal(x, before)


def test_numeric_gradient_does_not_modify_callers_x() -> None:
    x = np.array([0.1, 0.2, 0.3])
    numeric_gradient(cubic, x)
    np.testing.assert_array_equal(x, [0.1, 0.2, 0.3])


def test_integer_and_list_input() -> None:
    result = check_gradient(article_bowl, lambda x: np.array([2 * x[0], x[1]]), [1, 2])
    assert result.ok is True
    assert result.analytic.dtype == np.float64


def test_float32_function_is_checked_in_float64() -> None:
    def grad32(x: np.ndarray) -> np.ndarray:
        return np.array([2 * x[0], x[1]], dtype=np.float32)

    result = check_gradient(article_bowl, grad32, np.array([0.5, 1.5], dtype=np.float32))
    assert result.analytic.dtype == np.float64
    assert result.ok is True


@pytest.mark.parametrize(("kwargs", "name"), [({"h": 0.0}, "h"), ({"tol": -1.0}, "tol")])
def test_bad_h_and_tol(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        check_gradient(cubic, cubic_grad, np.ones(2), **kwargs)


def test_tolerance_is_respected() -> None:
    # a 1e-3 relative error in the gradient passes a loose tolerance and fails a tight one
    def slightly_off(x: np.ndarray) -> np.ndarray:
        return cubic_grad(x) * (1 + 2e-3)

    x = np.array([1.0, 2.0])
    assert check_gradient(cubic, slightly_off, x, tol=1e-2).ok is True
    assert check_gradient(cubic, slightly_off, x, tol=1e-4).ok is False


def logistic_loss_with_a_nearly_irrelevant_feature():
    """Mean logistic loss where feature 2 is scaled by 1e-6: its derivative is ~1e-7 while the
    others are ~0.1, so its finite-difference estimate carries rounding noise of about
    eps * |f| / h that is large relative to the derivative itself."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    X[:, 2] *= 1e-6
    y = (rng.random(50) < 0.5).astype(float)

    def f(t: np.ndarray) -> float:
        z = X @ t
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def grad(t: np.ndarray) -> np.ndarray:
        return X.T @ (1.0 / (1.0 + np.exp(-(X @ t))) - y) / len(y)

    return f, grad


def test_correct_gradient_with_a_tiny_coordinate_passes() -> None:
    f, grad = logistic_loss_with_a_nearly_irrelevant_feature()
    for seed in range(6):
        theta = np.random.default_rng(seed).normal(size=3)
        result = check_gradient(f, grad, theta)
        assert result.ok, str(result)


def test_wrong_small_coordinate_is_still_caught() -> None:
    # a sign error on a coordinate 100 times smaller than the largest must not hide under the
    # floor that protects tiny coordinates
    def f(x: np.ndarray) -> float:
        return float(x[0] ** 2 + 0.01 * x[1])

    def wrong(x: np.ndarray) -> np.ndarray:
        return np.array([2 * x[0], -0.01])

    result = check_gradient(f, wrong, np.array([1.0, 0.0]))
    assert result.ok is False
    assert result.worst_index == (1,)
