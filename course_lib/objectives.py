"""Test functions for optimizers, each with its exact gradient.

Every objective has ``f(x)`` and ``grad(x)``. ``x`` is a point (shape ``(dim,)``) or any stack
of points (shape ``(..., dim)``, e.g. a grid for a contour plot); ``f`` returns one value per
point and ``grad`` an array shaped like ``x``, in ``x``'s float dtype. Where the minimum is
known it is in ``minimum`` (the point) and ``f_min`` (the value).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ._validation import check_positive, check_real


def _as_points(x: ArrayLike, dim: int) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    if array.ndim == 0 or array.shape[-1] != dim:
        raise ValueError(f"x must have shape ({dim},) or (..., {dim}), got shape {array.shape}.")
    return array


def _value(values: np.ndarray) -> float | np.ndarray:
    return float(values) if values.ndim == 0 else values


class Objective:
    """Base class: a differentiable function of a ``dim``-vector."""

    name: str = "objective"
    dim: int = 2
    minimum: np.ndarray | None = None
    f_min: float | None = None
    #: a window that shows the interesting part, ((x_lo, x_hi), (y_lo, y_hi)), for 2-D plots
    plot_range: tuple[tuple[float, float], tuple[float, float]] = ((-2.0, 2.0), (-2.0, 2.0))

    def f(self, x: ArrayLike) -> float | np.ndarray:
        raise NotImplementedError

    def grad(self, x: ArrayLike) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: ArrayLike) -> float | np.ndarray:
        return self.f(x)

    def __repr__(self) -> str:
        return f"<{self.name}>"


class Quadratic(Objective):
    """``f(x) = 1/2 x^T A x - b^T x`` with symmetric ``A``; ``grad f = A x - b``.

    With ``A`` positive definite the minimum is ``A^{-1} b``, and the ratio of ``A``'s largest
    to smallest eigenvalue (the condition number) says how elongated the valley is.
    """

    def __init__(self, A: ArrayLike, b: ArrayLike | None = None, name: str = "quadratic") -> None:
        A = np.asarray(A, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix, got shape {A.shape}.")
        if not np.allclose(A, A.T):
            raise ValueError(
                "A must be symmetric (A == A.T); a quadratic form only sees (A + A.T) / 2."
            )
        self.A = A
        self.dim = A.shape[0]
        self.b = np.zeros(self.dim) if b is None else np.asarray(b, dtype=np.float64)
        if self.b.shape != (self.dim,):
            raise ValueError(f"b must have shape ({self.dim},), got {self.b.shape}.")
        self.name = name
        self.eigenvalues = np.linalg.eigvalsh(A)
        if self.eigenvalues[0] > 0:
            self.minimum = np.linalg.solve(A, self.b)
            self.f_min = float(-0.5 * self.b @ self.minimum)
            self.condition_number = float(self.eigenvalues[-1] / self.eigenvalues[0])
        else:
            self.condition_number = math.inf
        r = 1.5 * max(3.0, float(np.abs(self.minimum).max()) if self.minimum is not None else 3.0)
        self.plot_range = ((-r, r), (-r, r))

    def f(self, x: ArrayLike) -> float | np.ndarray:
        x = _as_points(x, self.dim)
        A, b = self.A.astype(x.dtype), self.b.astype(x.dtype)
        return _value(0.5 * np.einsum("...i,ij,...j->...", x, A, x) - x @ b)

    def grad(self, x: ArrayLike) -> np.ndarray:
        x = _as_points(x, self.dim)
        return x @ self.A.astype(x.dtype).T - self.b.astype(x.dtype)


def ill_conditioned_quadratic(condition_number: float = 10.0) -> Quadratic:
    """``f = 1/2 (x^2 + kappa y^2)``: an axis-aligned valley, ``kappa`` times steeper across."""
    kappa = check_positive("condition_number", condition_number)
    return Quadratic(np.diag([1.0, kappa]), name=f"ill-conditioned quadratic (kappa={kappa:g})")


def rotated_quadratic(condition_number: float = 10.0, angle_degrees: float = 45.0) -> Quadratic:
    """The same valley turned by ``angle_degrees``, so it no longer lines up with the axes.

    Per-coordinate methods (AdaGrad, RMSprop) can rescale the axes but cannot rotate them, so
    this is where they lose their advantage.
    """
    kappa = check_positive("condition_number", condition_number)
    theta = math.radians(check_real("angle_degrees", angle_degrees))
    R = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    A = R @ np.diag([1.0, kappa]) @ R.T
    A = (A + A.T) / 2  # exactly symmetric despite rounding
    return Quadratic(A, name=f"rotated quadratic (kappa={kappa:g}, {angle_degrees:g} deg)")


class SeedBowl(Objective):
    """``f(x, y) = x^2 + 0.5 y^2``, the bowl of the AdaGrad-vs-RMSprop article.

    Its gradient is ``(2x, y)``. (The article's code uses ``0.2 y`` for the second component,
    which is not the derivative of ``0.5 y^2``; lesson 4 checks it.)
    """

    name = "bowl x^2 + 0.5 y^2"
    minimum = np.zeros(2)
    f_min = 0.0
    plot_range = ((-5.0, 5.0), (-5.0, 5.0))

    def f(self, x: ArrayLike) -> float | np.ndarray:
        x = _as_points(x, 2)
        return _value(x[..., 0] ** 2 + 0.5 * x[..., 1] ** 2)

    def grad(self, x: ArrayLike) -> np.ndarray:
        x = _as_points(x, 2)
        return np.stack([2 * x[..., 0], x[..., 1]], axis=-1)


class Rosenbrock(Objective):
    """``f = (a - x)^2 + b (y - x^2)^2``: a curved, flat-bottomed valley; minimum at (a, a^2)."""

    plot_range = ((-2.0, 2.0), (-1.0, 3.0))

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = check_real("a", a)
        self.b = check_positive("b", b)
        self.name = f"Rosenbrock (a={self.a:g}, b={self.b:g})"
        self.minimum = np.array([self.a, self.a**2])
        self.f_min = 0.0

    def f(self, x: ArrayLike) -> float | np.ndarray:
        x = _as_points(x, 2)
        u, w = x[..., 0], x[..., 1]
        return _value((self.a - u) ** 2 + self.b * (w - u**2) ** 2)

    def grad(self, x: ArrayLike) -> np.ndarray:
        x = _as_points(x, 2)
        u, w = x[..., 0], x[..., 1]
        du = -2 * (self.a - u) - 4 * self.b * u * (w - u**2)
        dw = 2 * self.b * (w - u**2)
        return np.stack([du, dw], axis=-1)


class Beale(Objective):
    """Beale's function: steep walls, wide plateaus; minimum 0 at (3, 0.5)."""

    name = "Beale"
    minimum = np.array([3.0, 0.5])
    f_min = 0.0
    plot_range = ((-4.5, 4.5), (-4.5, 4.5))
    _c = (1.5, 2.25, 2.625)

    def f(self, x: ArrayLike) -> float | np.ndarray:
        x = _as_points(x, 2)
        u, w = x[..., 0], x[..., 1]
        return _value(sum((c - u + u * w**k) ** 2 for k, c in enumerate(self._c, start=1)))

    def grad(self, x: ArrayLike) -> np.ndarray:
        x = _as_points(x, 2)
        u, w = x[..., 0], x[..., 1]
        du = np.zeros_like(u)
        dw = np.zeros_like(w)
        for k, c in enumerate(self._c, start=1):
            r = c - u + u * w**k
            du = du + 2 * r * (w**k - 1)
            dw = dw + 2 * r * k * u * w ** (k - 1)
        return np.stack([du, dw], axis=-1)


class Saddle(Objective):
    """``f = x^2 - y^2``: a minimum along x, a maximum along y, zero gradient at the origin."""

    name = "saddle x^2 - y^2"
    plot_range = ((-2.0, 2.0), (-2.0, 2.0))

    def f(self, x: ArrayLike) -> float | np.ndarray:
        x = _as_points(x, 2)
        return _value(x[..., 0] ** 2 - x[..., 1] ** 2)

    def grad(self, x: ArrayLike) -> np.ndarray:
        x = _as_points(x, 2)
        return np.stack([2 * x[..., 0], -2 * x[..., 1]], axis=-1)


class XOverLogX(Objective):
    """``f(x) = x / log(x)`` for ``x > 1``, the tutorial's 1-D example; minimum ``e`` at ``x = e``.

    ``f'(x) = (log x - 1) / (log x)^2``. The gradient is tiny far from the minimum (about 0.14
    at x = 364), which is where dividing by its running RMS helps.
    """

    name = "x / log(x)"
    dim = 1
    minimum = np.array([math.e])
    f_min = math.e

    def f(self, x: ArrayLike) -> float | np.ndarray:
        x = _as_points(x, 1)
        return _value((x / np.log(x))[..., 0])

    def grad(self, x: ArrayLike) -> np.ndarray:
        x = _as_points(x, 1)
        log_x = np.log(x)
        return (log_x - 1) / log_x**2


__all__ = [
    "Objective",
    "Quadratic",
    "ill_conditioned_quadratic",
    "rotated_quadratic",
    "SeedBowl",
    "Rosenbrock",
    "Beale",
    "Saddle",
    "XOverLogX",
]
