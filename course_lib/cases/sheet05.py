"""Sheet 05 (RMSprop): the cases and comparators of its four exercises.

Expected values come from closed forms and from ``course_lib.minimize`` with
``course_lib.optim.RMSprop`` (Hinton, lecture 6e,
http://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf), never from the
learner's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Case, Exercise, Spec
from . import _compare as c
from .sheet04 import _f, _hidden_arrays

_EWMA_HINT = "v is the EWMA of the squared gradients"


# --- rmsprop_average --------------------------------------------------------------------------

def average_public() -> list[Case]:
    return [
        Case("the first gradient (v = 0)", (np.zeros(2), _f([3.0, -1.0]), 0.9)),
        Case("a negative gradient", (_f([1.0, 4.0]), _f([-2.0, -0.5]), 0.9)),
        Case("beta = 0 keeps only the latest square", (_f([5.0]), _f([2.0]), 0.0)),
        Case("beta = 0.99 (torch's default)", (_f([1.0, 0.0]), _f([10.0, 1.0]), 0.99)),
        Case("float32", (_f([1.0], np.float32), _f([0.5], np.float32), 0.9)),
    ]


def average_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        _dtype, (v, g) = _hidden_arrays(rng, 2)
        beta = float(rng.choice([0.5, 0.9, 0.95, 0.99]))
        cases.append(Case(f"hidden {k + 1}", (np.abs(v), g, beta), hidden=True))
    return cases


def average_compare(case: Case, got: Any, after: tuple | None) -> None:
    v, g, beta = case.args

    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, beta * v + (1 - beta) * g):
            return "average the squared gradient, not the gradient"
        if c.same(a, (1 - beta) * v + beta * g**2):
            return "the weights are swapped: beta multiplies the old average"
        return None

    c.close(got, beta * v + (1 - beta) * g**2, "v", _EWMA_HINT, dtype=v.dtype.type,
            diagnose=diagnose)
    c.unchanged(v, after, 0, "v")


# --- rmsprop_step -----------------------------------------------------------------------------

def step_public() -> list[Case]:
    def case(label, p, g, v, lr, beta, eps):
        return Case(label, (p, g, v, lr), {"beta": beta, "eps": eps})

    return [
        case("the first step from v = 0", _f([364.0]), _f([0.1377]), np.zeros(1), 0.3, 0.9,
             1e-8),
        case("beta = 0.99 (torch's default)", _f([364.0]), _f([0.1377]), np.zeros(1), 0.3, 0.99,
             1e-8),
        case("a later step (v > 0)", _f([1.0, 2.0]), _f([0.5, -1.0]), _f([4.0, 0.25]), 0.1, 0.9,
             1e-8),
        case("zero gradient where v = 0", _f([1.0, 2.0]), _f([2.0, 0.0]), np.zeros(2), 0.1, 0.9,
             1e-8),
        case("beta = 0", _f([1.0, -1.0]), _f([4.0, -0.5]), _f([1.0, 1.0]), 0.1, 0.0, 1e-8),
        case("a large eps (0.5)", _f([1.0]), _f([2.0]), _f([5.0]), 1.0, 0.9, 0.5),
        case("float32", _f([1.0, -1.0], np.float32), _f([0.2, 0.3], np.float32),
             _f([0.1, 0.0], np.float32), 0.01, 0.9, 1e-8),
        case("the sixth step on a bowl (p and v from five steps of course_lib's RMSprop)",
             *_after_five_steps(), 0.5, 0.9, 1e-8),
    ]


def _after_five_steps() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, g, v) after five RMSprop steps (lr 0.5, beta 0.9) on the seed's bowl."""
    from ..objectives import SeedBowl
    from ..optim import RMSprop

    bowl, p = SeedBowl(), _f([-4.5, 4.5])
    optimizer = RMSprop(lr=0.5, beta=0.9, eps=1e-8)
    for _ in range(5):
        optimizer.step(p, bowl.grad(p))
    return p.copy(), bowl.grad(p), np.array(optimizer.state[0]["v"], dtype=float)


def step_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        _dtype, (p, g, v) = _hidden_arrays(rng, 3)
        lr, beta = float(rng.choice([0.01, 0.1, 0.5])), float(rng.choice([0.5, 0.9, 0.99]))
        cases.append(Case(f"hidden {k + 1}", (p, g, np.abs(v), lr), {"beta": beta, "eps": 1e-8},
                          hidden=True))
    return cases


def _step_diagnose(p, g, v, lr, beta, eps):
    def diagnose(a: np.ndarray) -> str | None:
        v_new = beta * v + (1 - beta) * g * g
        with np.errstate(all="ignore"):
            if c.same(a, p - lr * g / (np.sqrt(v) + eps)):
                return "update v with the new gradient before dividing by its root"
            if c.same(a, p - lr * g / np.sqrt(v_new + eps)):
                return "this course adds eps outside the square root: sqrt(v) + eps"
            if c.same(a, p - lr * g / (v_new + eps)):
                return "divide by the square root of v"
            if c.same(a, p - lr * g / (np.sqrt(v_new / (1 - beta)) + eps)):
                return "RMSprop has no bias correction: divide by sqrt(v) itself"
        return None

    return diagnose


def step_compare(case: Case, got: Any, after: tuple | None) -> None:
    p, g, v, lr = case.args
    beta, eps = case.kwargs.get("beta", 0.9), case.kwargs.get("eps", 1e-8)
    got_p, got_v = c.pair(got, 2, "(p, v)")
    v_new = beta * v + (1 - beta) * g * g
    with np.errstate(all="ignore"):
        p_new = p - lr * g / (np.sqrt(v_new) + eps)

    def fixed_beta(a: np.ndarray) -> str | None:
        if beta != 0.9 and c.same(a, 0.9 * v + 0.1 * g * g):
            return "use the beta passed to the function, not a fixed 0.9"
        return None

    c.close(got_v, v_new, "v", _EWMA_HINT, dtype=v.dtype.type, diagnose=fixed_beta)
    c.close(got_p, p_new, "p", "follow RMSprop's update rule from the lesson, coordinate by "
            "coordinate", dtype=p.dtype.type, diagnose=_step_diagnose(p, g, v, lr, beta, eps))
    c.unchanged(p, after, 0, "p")
    c.unchanged(v, after, 2, "v")


# --- rmsprop_effective_lr ---------------------------------------------------------------------

def rate_public() -> list[Case]:
    return [
        Case("two coordinates", (_f([4.0, 0.25]), 0.1), {"eps": 1e-8}),
        Case("v = 0 (no gradient yet)", (_f([0.0, 1.0]), 0.01), {"eps": 1e-8}),
        Case("a large eps (0.5)", (_f([4.0]), 1.0), {"eps": 0.5}),
        Case("float32", (_f([0.01, 100.0], np.float32), 0.001), {"eps": 1e-8}),
    ]


def rate_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        _dtype, (v,) = _hidden_arrays(rng, 1)
        cases.append(Case(f"hidden {k + 1}", (np.abs(v), float(rng.choice([0.001, 0.1]))),
                          {"eps": 1e-8}, hidden=True))
    return cases


def rate_compare(case: Case, got: Any, after: tuple | None) -> None:
    v, lr = case.args
    eps = case.kwargs.get("eps", 1e-8)

    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, lr / np.sqrt(v + eps)):
            return "this course adds eps outside the square root"
        return "divide by the square root of v" if c.same(a, lr / (v + eps)) else None

    c.close(got, lr / (np.sqrt(v) + eps), "rate", "the step is rate * g; the rate divides lr "
            "by the RMS of the recent gradients", diagnose=diagnose)
    c.unchanged(v, after, 0, "v")


# --- run_rmsprop ------------------------------------------------------------------------------

def run_public() -> list[Case]:
    def case(label, objective, x0, lr, steps, beta, eps):
        return Case(label, (objective, _f(x0), lr, steps), {"beta": beta, "eps": eps})

    return [
        case("x/log(x) from 364, beta = 0.99", Spec("XOverLogX"), [364.0], 0.3, 10, 0.99, 1e-8),
        case("x/log(x) from 364, beta = 0.9", Spec("XOverLogX"), [364.0], 0.3, 10, 0.9, 1e-8),
        case("30 steps on the bowl from (-4.5, 4.5)", Spec("SeedBowl"), [-4.5, 4.5], 1.0, 30,
             0.9, 1e-8),
        case("a rotated valley, beta = 0", Spec("rotated_quadratic", (10.0, 30.0)), [2.0, -1.0],
             0.05, 20, 0.0, 1e-8),
        case("a single step with a large eps", Spec("SeedBowl"), [1.0, 2.0], 0.1, 1, 0.9, 0.5),
        case("starting at the minimum (zero gradient)", Spec("SeedBowl"), [0.0, 0.0], 0.1, 3,
             0.9, 1e-8),
    ]


def run_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        kappa, angle = float(rng.choice([2.0, 10.0])), float(rng.choice([0.0, 45.0]))
        x0, steps = rng.uniform(-3, 3, size=2), int(rng.integers(2, 20))
        cases.append(Case(f"hidden {k + 1}", (Spec("rotated_quadratic", (kappa, angle)), x0,
                                              0.05, steps), {"beta": 0.9, "eps": 1e-8},
                          hidden=True))
    return cases


def run_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import RMSprop
    from ..training import minimize

    objective, x0, lr, steps = case.args
    beta, eps = case.kwargs.get("beta", 0.9), case.kwargs.get("eps", 1e-8)
    expected = minimize(objective, RMSprop(lr=lr, beta=beta, eps=eps), x0, steps,
                        verbose=False).points
    c.close(got, expected, "points", "start from v = 0, take `steps` RMSprop steps with the "
            "given beta and eps, and return all points (the start included)",
            diagnose=lambda a: c.aliased_rows_hint(a, expected))
    c.unchanged(x0, after, 1, "x0")


EXERCISES = {
    "rmsprop_average": Exercise("rmsprop_average", average_public, average_compare,
                                average_hidden),
    "rmsprop_step": Exercise("rmsprop_step", step_public, step_compare, step_hidden),
    "rmsprop_effective_lr": Exercise("rmsprop_effective_lr", rate_public, rate_compare,
                                     rate_hidden),
    "run_rmsprop": Exercise("run_rmsprop", run_public, run_compare, run_hidden,
                            forbidden=("RMSprop", "minimize")),
}
