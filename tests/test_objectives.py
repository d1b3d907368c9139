"""The test functions: exact gradients, known minima, vectorised evaluation, dtypes, errors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from course_lib.gradcheck import check_gradient
from course_lib.objectives import (
    Beale,
    Quadratic,
    Rosenbrock,
    Saddle,
    SeedBowl,
    XOverLogX,
    ill_conditioned_quadratic,
    rotated_quadratic,
)

SPD3 = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.5, -0.2, 2.0]])

OBJECTIVES = {
    "ill_conditioned": lambda: ill_conditioned_quadratic(25.0),
    "rotated": lambda: rotated_quadratic(10.0, 30.0),
    "quadratic_b": lambda: Quadratic(SPD3, b=[1.0, -2.0, 0.5]),
    "indefinite_quadratic": lambda: Quadratic([[1.0, 2.0], [2.0, -1.0]], b=[0.3, 0.1]),
    "seed_bowl": SeedBowl,
    "rosenbrock": Rosenbrock,
    "rosenbrock_a2": lambda: Rosenbrock(a=2.0, b=10.0),
    "rosenbrock_neg": lambda: Rosenbrock(a=-0.5, b=100.0),
    "beale": Beale,
    "saddle": Saddle,
    "x_over_log_x": XOverLogX,
}

WITH_MINIMUM = [k for k in OBJECTIVES if k not in ("saddle", "indefinite_quadratic")]


def random_points(objective, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if objective.dim == 1:  # x / log x lives on x > 1
        return rng.uniform(1.2, 60.0, size=(n, 1))
    if objective.dim == 2:
        (x_lo, x_hi), (y_lo, y_hi) = objective.plot_range
        return np.column_stack([rng.uniform(x_lo, x_hi, n), rng.uniform(y_lo, y_hi, n)])
    return rng.normal(scale=2.0, size=(n, objective.dim))


# --- gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_gradient_passes_check_at_random_points(name: str) -> None:
    objective = OBJECTIVES[name]()
    for point in random_points(objective, 6, seed=list(OBJECTIVES).index(name)):
        result = check_gradient(objective.f, objective.grad, point)
        assert result.ok, f"{name} at {point}: {result}"


def test_article_gradient_for_the_bowl_fails_the_check() -> None:
    bowl = SeedBowl()

    def article_grad(x: np.ndarray) -> np.ndarray:
        return np.array([2 * x[0], 0.2 * x[1]])

    result = check_gradient(bowl.f, article_grad, np.array([1.5, -2.0]))
    assert result.ok is False
    assert result.worst_index == (1,)


# --- values by hand -------------------------------------------------------------------------


def test_hand_values() -> None:
    assert ill_conditioned_quadratic(10.0).f([1.0, 2.0]) == pytest.approx(0.5 * (1 + 10 * 4))
    assert SeedBowl().f([3.0, 2.0]) == pytest.approx(9 + 2)
    np.testing.assert_allclose(SeedBowl().grad([3.0, 2.0]), [6.0, 2.0])
    assert Saddle().f([1.0, 3.0]) == pytest.approx(1 - 9)
    assert Rosenbrock().f([0.0, 0.0]) == pytest.approx(1.0)
    assert Rosenbrock().f([-1.0, 1.0]) == pytest.approx(4.0)
    assert Rosenbrock(a=2.0, b=10.0).f([1.0, 3.0]) == pytest.approx(1 + 10 * 4)
    # Beale at the origin: 1.5^2 + 2.25^2 + 2.625^2
    assert Beale().f([0.0, 0.0]) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert XOverLogX().f([math.e**2]) == pytest.approx(math.e**2 / 2)
    np.testing.assert_allclose(XOverLogX().grad([math.e**2]), [(2 - 1) / 4])


def test_quadratic_with_b_by_hand() -> None:
    # f = 1/2 (2 x^2 + 4 y^2) - (2 x + 4 y): minimum (1, 1), value 3 - 6 = -3
    q = Quadratic([[2.0, 0.0], [0.0, 4.0]], b=[2.0, 4.0])
    np.testing.assert_allclose(q.minimum, [1.0, 1.0])
    assert q.f_min == pytest.approx(-3.0)
    assert q.f([0.0, 0.0]) == pytest.approx(0.0)
    np.testing.assert_allclose(q.grad([0.0, 0.0]), [-2.0, -4.0])
    assert q.condition_number == pytest.approx(2.0)


def test_ill_conditioned_quadratic_matches_its_formula() -> None:
    q = ill_conditioned_quadratic(7.0)
    pts = random_points(q, 20, seed=5)
    np.testing.assert_allclose(q.f(pts), 0.5 * (pts[:, 0] ** 2 + 7 * pts[:, 1] ** 2))
    np.testing.assert_allclose(q.grad(pts), pts * [1.0, 7.0])


# --- minima ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WITH_MINIMUM)
def test_known_minimum(name: str) -> None:
    objective = OBJECTIVES[name]()
    assert objective.minimum is not None and objective.f_min is not None
    assert objective.f(objective.minimum) == pytest.approx(objective.f_min, abs=1e-12)
    np.testing.assert_allclose(objective.grad(objective.minimum), 0.0, atol=1e-9)
    # nothing nearby is lower
    rng = np.random.default_rng(0)
    nearby = objective.minimum + rng.normal(scale=1e-2, size=(50, objective.dim))
    assert np.all(objective.f(nearby) >= objective.f_min - 1e-12)


def test_documented_minima() -> None:
    np.testing.assert_allclose(Rosenbrock().minimum, [1.0, 1.0])
    np.testing.assert_allclose(Rosenbrock(a=2.0).minimum, [2.0, 4.0])
    np.testing.assert_allclose(Rosenbrock(a=-0.5).minimum, [-0.5, 0.25])
    np.testing.assert_allclose(Beale().minimum, [3.0, 0.5])
    np.testing.assert_allclose(XOverLogX().minimum, [math.e])
    assert XOverLogX().f_min == pytest.approx(math.e)
    np.testing.assert_allclose(SeedBowl().minimum, [0.0, 0.0])


def test_quadratic_minimum_solves_the_normal_equation() -> None:
    b = np.array([1.0, -2.0, 0.5])
    q = Quadratic(SPD3, b=b)
    np.testing.assert_allclose(SPD3 @ q.minimum, b, atol=1e-12)


def test_saddle_is_stationary_but_not_a_minimum() -> None:
    s = Saddle()
    np.testing.assert_array_equal(s.grad([0.0, 0.0]), [0.0, 0.0])
    assert s.f([0.0, 0.1]) < s.f([0.0, 0.0]) < s.f([0.1, 0.0])
    assert s.minimum is None


def test_indefinite_quadratic_has_no_minimum() -> None:
    q = Quadratic([[1.0, 0.0], [0.0, -1.0]])
    assert q.minimum is None
    assert q.condition_number == math.inf


# --- rotated quadratic ----------------------------------------------------------------------


@pytest.mark.parametrize("kappa", [1.0, 10.0, 1000.0])
@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 90.0])
def test_rotated_quadratic_condition_number(kappa: float, angle: float) -> None:
    q = rotated_quadratic(kappa, angle)
    eig = np.linalg.eigvalsh(q.A)
    np.testing.assert_allclose(eig, [1.0, kappa], rtol=1e-12)
    assert eig[-1] / eig[0] == pytest.approx(kappa, rel=1e-12)
    assert q.condition_number == pytest.approx(kappa, rel=1e-12)
    np.testing.assert_array_equal(q.A, q.A.T)


def test_rotated_quadratic_steep_direction() -> None:
    # at 30 degrees the steep eigenvector (eigenvalue kappa) is the rotated y axis
    kappa, theta = 10.0, math.radians(30.0)
    q = rotated_quadratic(kappa, 30.0)
    steep = np.array([-math.sin(theta), math.cos(theta)])
    flat = np.array([math.cos(theta), math.sin(theta)])
    assert q.f(steep) == pytest.approx(0.5 * kappa)
    assert q.f(flat) == pytest.approx(0.5)
    np.testing.assert_allclose(q.grad(steep), kappa * steep, atol=1e-12)


# --- vectorised evaluation ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_grid_evaluation_equals_pointwise(name: str) -> None:
    objective = OBJECTIVES[name]()
    grid = random_points(objective, 35, seed=11).reshape(5, 7, objective.dim)
    values = objective.f(grid)
    grads = objective.grad(grid)
    assert np.shape(values) == (5, 7)
    assert grads.shape == (5, 7, objective.dim)
    for i in range(5):
        for j in range(7):
            point = grid[i, j].copy()
            assert values[i, j] == pytest.approx(objective.f(point), rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(grads[i, j], objective.grad(point), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_single_point_gives_a_float(name: str) -> None:
    objective = OBJECTIVES[name]()
    point = random_points(objective, 1, seed=3)[0]
    assert isinstance(objective.f(point), float)
    assert objective.grad(point).shape == (objective.dim,)


# --- dtypes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_float32_in_float32_out(name: str) -> None:
    objective = OBJECTIVES[name]()
    points64 = random_points(objective, 4, seed=7)
    points32 = points64.astype(np.float32)
    g32 = objective.grad(points32)
    assert g32.dtype == np.float32
    assert objective.grad(points32[0]).dtype == np.float32
    assert np.asarray(objective.f(points32)).dtype == np.float32
    g64 = objective.grad(points32.astype(np.float64))
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_integer_input_is_float64(name: str) -> None:
    objective = OBJECTIVES[name]()
    point = np.full(objective.dim, 2)
    assert objective.grad(point).dtype == np.float64


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_wrong_shape_is_refused(name: str) -> None:
    objective = OBJECTIVES[name]()
    bad = np.ones(objective.dim + 1)
    shape = re_shape(bad.shape)
    with pytest.raises(ValueError, match=shape):
        objective.f(bad)
    with pytest.raises(ValueError, match=shape):
        objective.grad(bad)
    with pytest.raises(ValueError, match=re_shape((4, objective.dim + 2))):
        objective.grad(np.ones((4, objective.dim + 2)))
    with pytest.raises(ValueError, match=r"\(\)"):
        objective.f(1.0)


def re_shape(shape: tuple[int, ...]) -> str:
    return re.escape(str(shape))


def test_quadratic_rejects_non_symmetric_A() -> None:
    with pytest.raises(ValueError, match="symmetric"):
        Quadratic([[1.0, 2.0], [0.0, 1.0]])


def test_quadratic_rejects_non_square_A_and_bad_b() -> None:
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        Quadratic(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"b must.*\(3,\)"):
        Quadratic(np.eye(2), b=[1.0, 2.0, 3.0])


@pytest.mark.parametrize("kappa", [0.0, -1.0])
def test_bad_condition_number(kappa: float) -> None:
    with pytest.raises(ValueError, match="condition_number"):
        ill_conditioned_quadratic(kappa)
    with pytest.raises(ValueError, match="condition_number"):
        rotated_quadratic(kappa)


def test_bad_rosenbrock_parameters() -> None:
    with pytest.raises(ValueError, match=r"b must.*0\.0"):
        Rosenbrock(b=0.0)
    with pytest.raises(TypeError, match=r"a must.*'1'"):
        Rosenbrock(a="1")  # type: ignore[arg-type]
