"""Check an analytic gradient against central finite differences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._validation import check_positive


@dataclass(frozen=True)
class GradientCheck:
    """The outcome of :func:`check_gradient`."""

    ok: bool
    max_rel_error: float
    worst_index: tuple[int, ...]
    analytic: np.ndarray
    numeric: np.ndarray
    tol: float

    def __str__(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        i = self.worst_index
        return (
            f"gradient check {verdict}: max relative error {self.max_rel_error:.1e} "
            f"(tolerance {self.tol:.0e}) at index {i}: analytic {self.analytic[i]:.6g}, "
            f"numeric {self.numeric[i]:.6g}"
        )


def numeric_gradient(f: Callable[[np.ndarray], float], x: ArrayLike, h: float = 1e-6) -> np.ndarray:
    """Central differences ``(f(x + h e_i) - f(x - h e_i)) / 2h``, one coordinate at a time."""
    x = np.array(x, dtype=np.float64)  # a copy: f must never see a half-perturbed caller array
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        f_plus = float(f(x))
        x[i] = original - h
        f_minus = float(f(x))
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def check_gradient(
    f: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], ArrayLike],
    x: ArrayLike,
    h: float = 1e-6,
    tol: float = 1e-6,
) -> GradientCheck:
    """Compare ``grad(x)`` with central differences of ``f`` at ``x``, in float64.

    The relative error of each coordinate is ``|a - n| / max(|a| + |n|, floor)``; the check
    passes when the largest is below ``tol``. Central differences are accurate to about
    ``h**2`` plus a rounding error of about ``eps_machine * |f| / h``, so with the defaults a
    correct gradient of a smooth function gives errors around 1e-9 and a wrong one errors near
    1. That rounding error is absolute, so a coordinate whose derivative is thousands of times
    smaller than the largest one would look wrong when divided by its own size: ``floor`` is
    one thousandth of the largest ``|a| + |n|`` (and at least 1e-8).
    """
    h = check_positive("h", h)
    tol = check_positive("tol", tol)
    x = np.array(x, dtype=np.float64)
    analytic = np.asarray(grad(x.copy()), dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(
            f"grad(x) returned shape {analytic.shape}, but x has shape {x.shape}; they must match."
        )
    numeric = numeric_gradient(f, x, h)
    size = np.abs(analytic) + np.abs(numeric)
    floor = max(1e-3 * float(size.max()), 1e-8) if size.size else 1e-8
    rel = np.abs(analytic - numeric) / np.maximum(size, floor)
    worst = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.size else ()
    max_rel = float(rel.max()) if rel.size else 0.0
    return GradientCheck(
        ok=bool(max_rel < tol),
        max_rel_error=max_rel,
        worst_index=tuple(int(i) for i in worst),
        analytic=analytic,
        numeric=numeric,
        tol=tol,
    )
