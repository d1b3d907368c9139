"""Sheet 02 (optimization basics): the cases and comparators of its four exercises.

Expected values come from closed forms, ``course_lib.LinearRegression`` and ``course_lib.minimize``
with ``course_lib.optim.SGD``, never from the learner's code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch, Spec
from . import _compare as c
from .sheet04 import _f, _hidden_arrays

# --- gd_step ----------------------------------------------------------------------------------


def step_public() -> list[Case]:
    return [
        Case("one step on two parameters", (_f([1.0, -2.0]), _f([0.5, -4.0]), 0.1)),
        Case("zero gradient (at a minimum)", (_f([3.0, 4.0]), _f([0.0, 0.0]), 0.5)),
        Case("a single parameter", (_f([2.0]), _f([6.0]), 0.25)),
        Case("a large learning rate", (_f([1.0, 1.0]), _f([1.0, -1.0]), 3.0)),
        Case("float32 parameters", (_f([1.0, -2.0], np.float32), _f([0.5, 4.0], np.float32),
                                    0.1)),
    ]


def step_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        _dtype, (p, g) = _hidden_arrays(rng, 2)
        cases.append(Case(f"hidden {k + 1}", (p, g, float(rng.choice([0.01, 0.3, 2.0]))),
                          hidden=True))
    return cases


def step_compare(case: Case, got: Any, after: tuple | None) -> None:
    p, g, lr = case.args

    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, p + lr * g):
            return "the step goes uphill: subtract the scaled gradient"
        return "the step must be scaled by lr" if c.same(a, p - g) else None

    c.close(got, p - lr * g, "p", "move against the gradient: the step is the learning rate "
            "times the gradient", dtype=p.dtype.type, diagnose=diagnose)
    c.unchanged(p, after, 0, "p")


# --- mse_gradient -----------------------------------------------------------------------------


def mse_public() -> list[Case]:
    rng = np.random.default_rng(20)
    X3 = rng.normal(size=(6, 3))
    y3 = X3 @ _f([1.0, -2.0, 0.5]) + 0.3 + rng.normal(size=6)
    return [
        Case("one feature, three samples", (_f([[1.0], [2.0], [3.0]]), _f([2.0, 3.0, 7.0]),
                                            _f([1.0]), 0.5)),
        Case("three features", (X3, y3, _f([0.2, 0.1, -0.3]), -1.0)),
        Case("a single sample", (_f([[2.0, -1.0]]), _f([4.0]), _f([0.5, 0.5]), 1.0)),
        Case("a perfect fit (zero gradient)", (_f([[1.0], [2.0]]), _f([3.0, 5.0]), _f([2.0]),
                                               1.0)),
        Case("float32 data", (_f([[1.0], [-1.0], [0.5]], np.float32),
                              _f([1.0, 2.0, 0.0], np.float32), _f([0.5], np.float32), 0.0)),
    ]


def mse_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        n, d = int(rng.integers(1, 8)), int(rng.integers(1, 4))
        cases.append(Case(f"hidden {k + 1}", (rng.normal(size=(n, d)), rng.normal(size=n),
                                              rng.normal(size=d), float(rng.normal())),
                          hidden=True))
    return cases


def _mse_diagnose(exact: np.ndarray, n: int):
    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, exact / 2):
            return "that is the gradient of half the MSE: d/de of e**2 is 2 * e"
        if c.same(a, -exact):
            return "the sign is flipped: the error is prediction minus target"
        if c.same(a, exact * n):
            return "the MSE is a mean: divide the sum by the number of samples"
        return None

    return diagnose


def mse_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..models import LinearRegression

    X, y, w, b = case.args
    model = LinearRegression(n_features=X.shape[1], weights=w, bias=b, loss="mse")
    _, (grad_w, grad_b) = model.loss_and_grad(X, y)
    got_w, got_b = c.pair(got, 2, "(grad_w, grad_b)")
    c.close(got_w, grad_w, "grad_w", "differentiate mean((X @ w + b - y)**2) with the chain "
            "rule; every sample's error contributes 2 * error times its features to grad_w",
            diagnose=_mse_diagnose(grad_w, len(y)))
    if isinstance(got_b, np.ndarray) and got_b.size == 1:
        got_b = got_b.reshape(())
    got_b = c.number(got_b, "grad_b", "grad_b is one number")
    c.close(got_b, grad_b[0], "grad_b", "grad_b is 2 * the mean error (one number)",
            diagnose=_mse_diagnose(grad_b[0], len(y)))


# --- choose_lr --------------------------------------------------------------------------------


def lr_public() -> list[Case]:
    from ..objectives import rotated_quadratic

    return [Case(label, (A,)) for label, A in {
        "the sheet's matrix [[5, 2], [2, 2]]": _f([[5.0, 2.0], [2.0, 2.0]]),
        "an axis-aligned valley diag(1, 100)": _f([[1.0, 0.0], [0.0, 100.0]]),
        "a 1x1 matrix [[4]]": _f([[4.0]]),
        "a rotated valley (kappa = 10, 30 degrees)": rotated_quadratic(10.0, 30.0).A,
        "a 3x3 matrix": _f([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]),
        "the sheet's matrix in float32": _f([[5.0, 2.0], [2.0, 2.0]], np.float32),
    }.items()]


def lr_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        d = int(rng.integers(1, 4))
        M = rng.normal(size=(d, d))
        cases.append(Case(f"hidden {k + 1}", (M @ M.T + 0.5 * np.eye(d),), hidden=True))
    return cases


def lr_compare(case: Case, got: Any, after: tuple | None) -> None:
    (A,) = case.args
    lr = c.number(got, "a learning rate", "return one positive number, the learning rate")
    c.unchanged(A, after, 0, "A")
    eigenvalues = np.linalg.eigvalsh(A.astype(np.float64))
    limit = 2.0 / float(eigenvalues[-1])
    wanted = f"a learning rate in [{limit / 10:.4g}, {limit:.4g})"
    if not math.isfinite(lr) or lr <= 0:
        raise Mismatch(wanted, c.show(lr), "a learning rate is a positive, finite number")
    growth = float(np.max(np.abs(1.0 - lr * eigenvalues)))
    if lr >= limit * (1 - 1e-12):
        what = ("it neither converges nor diverges: the steepest direction flips sign forever"
                if math.isclose(growth, 1.0, rel_tol=1e-9) else
                f"gradient descent diverges: the steepest direction grows by {growth:.3g} per "
                "step")
        raise Mismatch(wanted, f"{c.show(lr)} ({what})", "the curvature of the steepest "
                       "direction of the bowl limits the learning rate (lesson 2, the stability "
                       "limit); the limit itself is not stable")
    if lr < limit / 10:
        raise Mismatch(wanted, f"{c.show(lr)} (stable, but the slowest direction shrinks only by "
                       f"a factor {growth:.6g} per step)", "find the largest stable rate from "
                       "the matrix and stay close to it")


# --- gradient_descent -------------------------------------------------------------------------


def gd_public() -> list[Case]:
    bowl = Spec("Quadratic", (_f([[5.0, 2.0], [2.0, 2.0]]), _f([1.0, -1.0])), attr="grad")
    line = Spec("Quadratic", (_f([[2.0]]), _f([1.0])), attr="grad")
    valley = Spec("ill_conditioned_quadratic", (10.0,), attr="grad")
    minimum = list(np.linalg.solve(_f([[5.0, 2.0], [2.0, 2.0]]), _f([1.0, -1.0])))
    return [Case(label, (grad, _f(x0), lr, steps)) for label, grad, x0, lr, steps in [
        ("20 steps on a 2-D bowl", bowl, [4.0, 3.0], 0.2, 20),
        ("a 1-D quadratic", line, [3.0], 0.3, 10),
        ("a learning rate above the limit (10 steps)", valley, [1.0, 1.0], 0.21, 10),
        ("starting at the minimum (zero gradient)", bowl, minimum, 0.1, 5),
        ("a single step", valley, [-4.0, 3.0], 0.05, 1),
        ("zero steps", bowl, [4.0, 3.0], 0.2, 0),
    ]]


def gd_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (Spec("rotated_quadratic", (float(rng.choice([2.0, 8.0])),
                                                                 30.0), attr="grad"),
                                     rng.uniform(-3, 3, size=2), 0.1, int(rng.integers(1, 15))),
                 hidden=True) for k in range(2)]


def gd_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import SGD
    from ..training import minimize

    grad, x0, lr, steps = case.args
    objective = grad.__self__  # the bound method's objective
    expected = (minimize(objective, SGD(lr=lr), x0, steps, verbose=False).points if steps
                else x0[None, :])

    def diagnose(a: np.ndarray) -> str | None:
        if len(a) > 1 and np.all(a == a[-1]) and not np.all(expected == expected[-1]):
            return ("all rows are the same array: append a copy of the point (p.copy()), or "
                    "build a new array each step")
        return None

    c.close(got, expected, "points", "return every point, the start included, one row per "
            "point (np.array(list_of_points))", diagnose=diagnose)
    c.unchanged(x0, after, 1, "x0")


EXERCISES = {
    "gd_step": Exercise("gd_step", step_public, step_compare, step_hidden),
    "mse_gradient": Exercise("mse_gradient", mse_public, mse_compare, mse_hidden),
    "choose_lr": Exercise("choose_lr", lr_public, lr_compare, lr_hidden),
    "gradient_descent": Exercise("gradient_descent", gd_public, gd_compare, gd_hidden,
                                 forbidden=("SGD", "minimize")),
}
