"""Sheet 04 (AdaGrad): the cases and comparators of its three exercises.

Expected values come from closed forms and from ``course_lib.minimize`` with
``course_lib.optim.AdaGrad`` (Duchi, Hazan & Singer 2011, https://jmlr.org/papers/v12/duchi11a.html),
never from the learner's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Case, Exercise, Spec
from . import _compare as c


def _f(values: Any, dtype: Any = np.float64) -> np.ndarray:
    return np.array(values, dtype=dtype)


def _hidden_arrays(rng: np.random.Generator, k: int) -> tuple[Any, list[np.ndarray]]:
    """A random dtype and k random vectors of one random length."""
    dtype = (np.float64, np.float32)[int(rng.integers(2))]
    n = int(rng.integers(1, 7))
    return dtype, [rng.normal(size=n).astype(dtype) for _ in range(k)]


# --- adagrad_accumulate -----------------------------------------------------------------------

def accumulate_public() -> list[Case]:
    return [
        Case("the first gradient (s = 0)", (np.zeros(2), _f([3.0, -1.0]))),
        Case("a negative gradient", (_f([1.0, 4.0]), _f([-2.0, -0.5]))),
        Case("zero gradient leaves s unchanged", (_f([2.0, 5.0]), np.zeros(2))),
        Case("float32", (_f([1.0], np.float32), _f([0.5], np.float32))),
    ]


def accumulate_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        dtype, (s, g) = _hidden_arrays(rng, 2)
        cases.append(Case(f"hidden {k + 1}", (np.abs(s) * 3, g), hidden=True))
    return cases


def accumulate_compare(case: Case, got: Any, after: tuple | None) -> None:
    s, g = case.args

    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, s + g):
            return "square the gradient: its sign must not matter"
        if c.same(a, g**2) and not c.same(s, 0 * s):
            return "s is a sum that keeps the past, not just the latest square"
        return None

    c.close(got, s + g**2, "s", "s collects the squares of all past gradients",
            dtype=s.dtype.type, diagnose=diagnose)
    c.unchanged(s, after, 0, "s")


# --- adagrad_step -----------------------------------------------------------------------------

def step_public() -> list[Case]:
    def case(label, p, g, s, lr, eps):
        return Case(label, (p, g, s, lr), {"eps": eps})

    return [
        case("the first step from s = 0", _f([-4.0, 3.0]), _f([-4.0, 30.0]), np.zeros(2), 1.0,
             1e-10),
        case("a later step (s > 0)", _f([1.0, 2.0]), _f([0.5, -1.0]), _f([4.0, 9.0]), 0.5,
             1e-10),
        case("a coordinate whose gradient has always been 0", _f([1.0, 2.0]), _f([2.0, 0.0]),
             np.zeros(2), 0.1, 1e-10),
        case("a large eps (0.5)", _f([1.0]), _f([2.0]), _f([5.0]), 1.0, 0.5),
        case("float32", _f([1.0, -1.0], np.float32), _f([0.2, 0.3], np.float32),
             _f([0.1, 0.0], np.float32), 0.1, 1e-10),
        case("the fourth step on a valley (p and s from three steps of course_lib's AdaGrad)",
             *_after_three_steps(), 1.0, 1e-10),
    ]


def _after_three_steps() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, g, s) after three AdaGrad steps with lr = 1 on a valley (kappa = 10) from (-4, 3)."""
    from ..objectives import ill_conditioned_quadratic
    from ..optim import AdaGrad

    valley, p = ill_conditioned_quadratic(10.0), _f([-4.0, 3.0])
    optimizer = AdaGrad(lr=1.0)
    for _ in range(3):
        optimizer.step(p, valley.grad(p))
    return p.copy(), valley.grad(p), np.array(optimizer.state[0]["s"], dtype=float)


def step_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        dtype, (p, g, s) = _hidden_arrays(rng, 3)
        lr = float(rng.choice([0.01, 0.1, 0.5, 1.0]))
        cases.append(Case(f"hidden {k + 1}", (p, g, np.abs(s), lr), {"eps": 1e-10},
                          hidden=True))
    return cases


def _step_diagnose(p, g, s, lr, eps):
    def diagnose(a: np.ndarray) -> str | None:
        with np.errstate(all="ignore"):
            if c.same(a, p - lr * g / (np.sqrt(s) + eps)):
                return "add the new g**2 to s before dividing by its root"
            if c.same(a, p - lr * g / np.sqrt(s + g * g + eps)):
                return "this course adds eps outside the square root: sqrt(s) + eps"
            if c.same(a, p - lr * g / (s + g * g + eps)):
                return "divide by the square root of s"
        return None

    return diagnose


def step_compare(case: Case, got: Any, after: tuple | None) -> None:
    p, g, s, lr = case.args
    eps = case.kwargs.get("eps", 1e-10)
    got_p, got_s = c.pair(got, 2, "(p, s)")
    s_new = s + g * g
    with np.errstate(all="ignore"):
        p_new = p - lr * g / (np.sqrt(s_new) + eps)
    c.close(got_s, s_new, "s", "s grows by the squared gradient", dtype=s.dtype.type)
    c.close(got_p, p_new, "p", "follow AdaGrad's update rule from the lesson, coordinate by "
            "coordinate", dtype=p.dtype.type, diagnose=_step_diagnose(p, g, s, lr, eps))
    c.unchanged(p, after, 0, "p")
    c.unchanged(s, after, 2, "s")


# --- run_adagrad ------------------------------------------------------------------------------

def run_public() -> list[Case]:
    def case(label, objective, x0, lr, steps, eps=1e-10):
        return Case(label, (objective, _f(x0), lr, steps), {"eps": eps})

    return [
        case("20 steps on a valley (kappa = 10)", Spec("ill_conditioned_quadratic", (10.0,)),
             [-4.0, 3.0], 1.0, 20),
        case("a rotated valley", Spec("rotated_quadratic", (100.0, 45.0)), [-4.0, 3.0], 2.0, 30),
        case("1-D x/log(x) from 364", Spec("XOverLogX"), [364.0], 10.0, 15),
        case("a single step", Spec("SeedBowl"), [-4.5, 4.5], 1.0, 1),
        case("a large eps (0.5)", Spec("SeedBowl"), [1.0, 2.0], 0.5, 5, 0.5),
        case("starting at the minimum (zero gradient)", Spec("SeedBowl"), [0.0, 0.0], 1.0, 3),
    ]


def run_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        kappa = float(rng.choice([2.0, 5.0, 30.0]))
        angle = float(rng.choice([0.0, 30.0, 60.0]))
        x0 = rng.uniform(-5, 5, size=2)
        lr, steps = float(rng.choice([0.3, 1.0, 1.5])), int(rng.integers(2, 25))
        cases.append(Case(f"hidden {k + 1}", (Spec("rotated_quadratic", (kappa, angle)), x0, lr,
                                              steps), {"eps": 1e-10}, hidden=True))
    return cases


def run_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import AdaGrad
    from ..training import minimize

    objective, x0, lr, steps = case.args
    eps = case.kwargs.get("eps", 1e-10)
    expected = minimize(objective, AdaGrad(lr=lr, eps=eps), x0, steps, verbose=False).points
    c.close(got, expected, "points", "start from s = 0, take `steps` AdaGrad steps with the "
            "objective's gradient, and return all points (the start included)",
            diagnose=lambda a: c.aliased_rows_hint(a, expected))
    c.unchanged(x0, after, 1, "x0")


EXERCISES = {
    "adagrad_accumulate": Exercise("adagrad_accumulate", accumulate_public, accumulate_compare,
                                   accumulate_hidden),
    "adagrad_step": Exercise("adagrad_step", step_public, step_compare, step_hidden),
    "run_adagrad": Exercise("run_adagrad", run_public, run_compare, run_hidden,
                            forbidden=("AdaGrad", "minimize")),
}
