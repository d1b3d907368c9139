"""Sheet 02 (optimization basics): the cases and comparators of its seven exercises.

Expected values come from closed forms, ``course_lib.LinearRegression``, ``course_lib.SeedBowl``
and ``course_lib.minimize`` with ``course_lib.optim.SGD``, never from the learner's code. The
stability limit of gradient descent is measured by bisection over runs of ``course_lib``'s SGD,
not taken from the formula the learner is asked to apply (Nocedal & Wright 2006,
https://doi.org/10.1007/978-0-387-40065-5).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch, Spec
from . import _compare as c
from ._compare import floats as _f

_LESSON = "../notebooks/02_optimization_basics.ipynb"


def _lesson(section: str) -> str:
    return f"lesson 02, section {section}: {_LESSON}"


def _near(value: float, target: float, rel: float = 0.02) -> bool:
    return math.isfinite(value) and abs(value - target) <= rel * abs(target)


# --- mse_gradient (implement) -----------------------------------------------------------------


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
        n, d = int(rng.integers(2, 8)), int(rng.integers(1, 4))
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
        if n > 1 and c.same(a, exact * n):
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
    c.close(got_b, grad_b[0], "grad_b", "grad_b is 2 * the mean error, one number",
            diagnose=_mse_diagnose(grad_b[0], len(y)))
    for index, name in ((0, "X"), (1, "y"), (2, "w")):
        c.unchanged(case.args[index], after, index, name)


# --- bowl_gradient (diagnose) -----------------------------------------------------------------


def bowl_public() -> list[Case]:
    return [Case(label, (_f(p),)) for label, p in [
        ("the start (-4.5, 4.5) of the published run", [-4.5, 4.5]),
        ("a point on the y axis", [0.0, 2.0]),
        ("a point on the x axis", [3.0, 0.0]),
        ("negative coordinates", [-1.0, -3.0]),
        ("the minimum (zero gradient)", [0.0, 0.0]),
    ]]


def bowl_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (rng.uniform(-5, 5, size=2),), hidden=True)
            for k in range(3)]


def bowl_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..objectives import SeedBowl

    (p,) = case.args
    x, y = p

    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, _f([2 * x, 0.2 * y])):
            return ("this still behaves like the code you were given: the x-component is right, "
                    "but at every point with y != 0 the y-component is too small: the gradient "
                    "check fails in y")
        if c.same(a, _f([2 * x, 0.5 * y])):
            return "the power rule: d/dy of 0.5 * y**2 is 2 * 0.5 * y"
        if c.same(a, _f([x, y])):
            return "the x-component was right: d/dx of x**2 is 2 * x"
        return None

    c.close(got, SeedBowl().grad(p), "gradient", "differentiate f(x, y) = x**2 + 0.5 * y**2 "
            "one coordinate at a time, and confirm with check_gradient", diagnose=diagnose)
    c.unchanged(p, after, 0, "p")


# --- predict_lr_limit (predict) ---------------------------------------------------------------

_TILTED = ((5.0, 2.0), (2.0, 2.0))


@lru_cache(maxsize=8)
def measured_lr_limit(A: tuple = _TILTED, steps: int = 300) -> float:
    """The largest learning rate with which course_lib's SGD still shrinks the distance to the
    minimum of 1/2 x^T A x in ``steps`` steps, found by bisection over actual runs."""
    from ..objectives import Quadratic
    from ..optim import SGD
    from ..training import minimize

    bowl, x0 = Quadratic(np.array(A)), _f([1.0, -0.3])

    def converges(lr: float) -> bool:
        run = minimize(bowl, SGD(lr=lr), x0, steps, verbose=False)
        return not run.stopped and float(np.linalg.norm(run.final)) < float(np.linalg.norm(x0))

    low, high = 0.0, 1.0
    while converges(high):
        low, high = high, 2 * high
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if converges(middle) else (low, middle)
    return low


def limit_public() -> list[Case]:
    return [Case("gradient descent on the tilted bowl A = [[5, 2], [2, 2]]", (_TILTED,))]


def _limit_mistake(lr: float, A: np.ndarray) -> str | None:
    low, high = np.linalg.eigvalsh(A)
    diag = float(np.max(np.diag(A)))
    if _near(lr, 1 / high):
        return ("that is 1/L, the rate that lands on the minimum of the steepest direction in "
                "one step; above it gradient descent overshoots, yet it still converges")
    if _near(lr, 2 / diag) or _near(lr, 1 / diag):
        return ("that uses a diagonal entry of A; in a tilted bowl the curvatures are the "
                "eigenvalues of A, not its diagonal entries")
    if _near(lr, 2 / low) or _near(lr, 1 / low):
        return ("that comes from the flattest direction; the steepest direction is the first "
                "to diverge")
    return None


def limit_compare(case: Case, got: Any, after: tuple | None) -> None:
    (A,) = case.args
    lr = c.number(got, "a learning rate", "write one number, your predicted learning rate")
    measured = measured_lr_limit(tuple(map(tuple, A)))
    if not _near(lr, measured):
        raise Mismatch(f"a prediction within 2% of the measured limit, {measured:.4f}",
                       c.show(lr), "work out the stability limit from the curvatures of the "
                       "bowl before you run anything",
                       mistake=_limit_mistake(lr, np.asarray(A, dtype=float)))


def limit_comment(case: Case, got: Any) -> str:
    measured = measured_lr_limit(tuple(map(tuple, case.args[0])))
    return (f"you predicted {float(got):.4g}; measured {measured:.4f} (bisection over 300-step "
            f"runs of course_lib's SGD), a gap of {abs(float(got) - measured) / measured:.1%}")


# --- gd_until (implement) ---------------------------------------------------------------------


def until_public() -> list[Case]:
    tilted = Spec("Quadratic", (_f(_TILTED),), attr="grad")
    valley = Spec("ill_conditioned_quadratic", (100.0,), attr="grad")
    round_bowl = Spec("ill_conditioned_quadratic", (1.0,), attr="grad")
    line = Spec("Quadratic", (_f([[2.0]]),), attr="grad")
    return [Case(label, (grad, _f(x0), lr, tol, max_steps))
            for label, grad, x0, lr, tol, max_steps in [
                ("the tilted bowl until |g| < 1e-3", tilted, [2.0, 2.5], 0.2, 1e-3, 500),
                ("max_steps comes first (a slow valley)", valley, [1.0, 1.0], 0.019, 1e-8, 20),
                ("a round bowl with lr = 1: one step lands on the minimum", round_bowl,
                 [3.0, -4.0], 1.0, 1e-6, 50),
                ("starting at the minimum: no step at all", tilted, [0.0, 0.0], 0.2, 1e-6, 10),
                ("a 1-D quadratic until |g| < 0.1", line, [3.0], 0.3, 0.1, 100),
                ("max_steps = 0", tilted, [2.0, 2.5], 0.2, 1e-3, 0),
            ]]


def until_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        kappa, angle = float(rng.choice([2.0, 5.0, 20.0])), float(rng.choice([0.0, 30.0, 60.0]))
        lr = float(rng.uniform(0.2, 1.6)) / kappa
        tol, max_steps = float(10.0 ** -rng.integers(1, 7)), int(rng.integers(3, 120))
        cases.append(Case(f"hidden {k + 1}", (Spec("rotated_quadratic", (kappa, angle),
                                                   attr="grad"),
                                              rng.uniform(-3, 3, size=2), lr, tol, max_steps),
                          hidden=True))
    return cases


def gd_until_points(objective: Any, x0: np.ndarray, lr: float, tol: float, max_steps: int,
                    squared: bool = False) -> np.ndarray:
    """The reference: course_lib's SGD, stepping while |grad| >= tol, at most max_steps times."""
    from ..optim import SGD

    optimizer, p = SGD(lr=lr), np.array(x0, dtype=float)
    points = [p.copy()]
    for _ in range(max_steps):
        g = objective.grad(p)
        size = float(g @ g) if squared else float(np.linalg.norm(g))
        if size < tol:
            break
        optimizer.step(p, g)
        points.append(p.copy())
    return np.array(points)


def _until_mistake(a: np.ndarray, expected: np.ndarray, squared: np.ndarray,
                   max_steps: int) -> str | None:
    if len(a) == len(expected) + 1 and c.same(a[:-1], expected):
        return ("one point too many: test the gradient at the current point before stepping, "
                "and take at most max_steps steps (at most max_steps + 1 rows)")
    if len(a) == len(expected) - 1 and c.same(a, expected[1:]):
        return "one point too few: the start x0 is the first row"
    if len(a) == len(expected) - 1 and c.same(a, expected[:-1]):
        return "one point too few: keep the point of the last step too"
    if len(a) > max_steps + 1:
        return f"{len(a) - 1} steps: take at most max_steps = {max_steps} steps"
    if len(squared) != len(expected) and c.same(a, squared):
        return "compare the length of the gradient, np.linalg.norm(g), with tol, not its square"
    if a.shape == expected.shape:
        return c.aliased_rows_hint(a, expected)
    return None


def until_compare(case: Case, got: Any, after: tuple | None) -> None:
    grad, x0, lr, tol, max_steps = case.args
    objective = grad.__self__  # the bound method's objective
    expected = gd_until_points(objective, x0, lr, tol, max_steps)
    squared = gd_until_points(objective, x0, lr, tol, max_steps, squared=True)
    hint = ("return every point, the start included, one row per point; stop at the first point "
            "whose gradient is shorter than tol, or after max_steps steps")
    points = c.array(got, None, "points", hint)
    if points.shape != expected.shape:
        raise Mismatch(f"points of shape {expected.shape}", f"shape {points.shape}", hint,
                       mistake=_until_mistake(points, expected, squared, max_steps))
    c.close(points, expected, "points", hint,
            diagnose=lambda a: _until_mistake(a, expected, squared, max_steps))
    c.unchanged(x0, after, 1, "x0")


# --- predict_gd_steps (predict) --------------------------------------------------------------

STEPS_KAPPA, STEPS_LR, STEPS_SHRINK = 9.0, 0.1, 1e-6


def measured_gd_steps() -> int:
    """The first step at which course_lib's SGD (lr 0.1) on ill_conditioned_quadratic(9), from
    (1, 1), has shrunk the distance to the minimum a millionfold."""
    from ..objectives import ill_conditioned_quadratic
    from ..optim import SGD
    from ..training import minimize

    run = minimize(ill_conditioned_quadratic(STEPS_KAPPA), SGD(lr=STEPS_LR), _f([1.0, 1.0]),
                   1000, verbose=False)
    distance = np.linalg.norm(run.points, axis=1) / np.linalg.norm(run.points[0])
    return int(np.argmax(distance < STEPS_SHRINK))


def steps_public() -> list[Case]:
    return [Case("gradient descent with lr = 0.1 on the valley with curvatures 1 and 9",
                 (STEPS_KAPPA, STEPS_LR))]


def _steps_mistake(k: float, kappa: float, lr: float) -> str | None:
    count = math.log(STEPS_SHRINK)
    if _near(k, count / math.log(abs(1 - lr * kappa)), 0.1):
        return (f"that is the steep direction: it shrinks by |1 - lr * {kappa:g}| = "
                f"{abs(1 - lr * kappa):.2g} per step and is gone quickly; the flat direction "
                "decides how long the run takes")
    if _near(k, count / math.log((kappa - 1) / (kappa + 1)), 0.05):
        return ("(kappa - 1)/(kappa + 1) is the factor per step of the best learning rate "
                "2/(L + mu), not of the learning rate used here")
    return None


def steps_compare(case: Case, got: Any, after: tuple | None) -> None:
    kappa, lr = case.args
    k = c.number(got, "a number of steps", "write one number, your predicted number of steps")
    measured = measured_gd_steps()
    if not _near(k, measured, 0.05):
        raise Mismatch(f"a prediction within 5% of the measured {measured} steps", c.show(k),
                       "each direction of the valley shrinks by its own factor |1 - lr * "
                       "curvature| per step; the slower one decides",
                       mistake=_steps_mistake(k, kappa, lr))


def steps_comment(case: Case, got: Any) -> str:
    measured = measured_gd_steps()
    flat = abs(1 - STEPS_LR)
    return (f"you predicted {float(got):.4g} steps; measured {measured} (course_lib's SGD from "
            f"(1, 1)), a gap of {abs(float(got) - measured) / measured:.1%}. The flat direction "
            f"alone needs ln(1e-6)/ln({flat:g}) = {math.log(STEPS_SHRINK) / math.log(flat):.1f} "
            f"steps to shrink a millionfold; it starts at 1/sqrt(2) of the distance, which "
            f"saves about {math.log(math.sqrt(2)) / -math.log(flat):.1f} steps")


# --- tune_gd_lr (tune) ------------------------------------------------------------------------

TUNE_KAPPA, TUNE_ANGLE, TUNE_STEPS, TUNE_GOAL, TUNE_RADIUS = 10.0, 30.0, 100, 1e-6, 5.0


def tune_start(seed: int) -> np.ndarray:
    """The start of seed ``seed``: distance 5 from the minimum, in a random direction."""
    direction = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    return TUNE_RADIUS * _f([np.cos(direction), np.sin(direction)])


def tune_final_loss(lr: float, seed: int) -> float:
    """The loss after TUNE_STEPS steps of course_lib's SGD on the rotated valley (inf if it
    overflowed)."""
    from ..objectives import rotated_quadratic
    from ..optim import SGD
    from ..training import minimize

    valley = rotated_quadratic(TUNE_KAPPA, TUNE_ANGLE)
    with np.errstate(all="ignore"):
        run = minimize(valley, SGD(lr=lr), tune_start(seed), TUNE_STEPS, verbose=False)
    return math.inf if run.stopped else float(run.losses[-1])


def tune_public() -> list[Case]:
    return [Case(f"the start of seed {seed}", (seed,)) for seed in range(3)]


def tune_hidden(rng: np.random.Generator) -> list[Case]:
    return c.hidden_seed_cases(rng, first=3)


def tune_compare(case: Case, got: Any, after: tuple | None) -> None:
    lr = c.lr_setting(got)
    (seed,) = case.args
    loss = tune_final_loss(lr, seed)
    if loss < TUNE_GOAL:
        return
    wanted = f"a loss below {TUNE_GOAL:g} after {TUNE_STEPS} steps"
    flat, steep = abs(1 - lr * 1.0), abs(1 - lr * TUNE_KAPPA)
    if steep >= 1:
        raise Mismatch(wanted, f"a loss of {loss:.3g} (lr = {lr:g})", "the steepest curvature "
                       "limits the learning rate", mistake=f"gradient descent diverges: the "
                       f"steep direction (curvature {TUNE_KAPPA:g}) is multiplied by "
                       f"|1 - lr * {TUNE_KAPPA:g}| = {steep:.3g} per step")
    which = (f"the flat direction (curvature 1) shrinks by only |1 - lr| = {flat:.3g}" if
             flat >= steep else f"the steep direction (curvature {TUNE_KAPPA:g}) shrinks by "
             f"only |1 - lr * {TUNE_KAPPA:g}| = {steep:.3g}")
    raise Mismatch(wanted, f"a loss of {loss:.3g} (lr = {lr:g})", "both directions must shrink "
                   "fast enough; the slower one decides", mistake=f"too slow: {which} per step")


def tune_comment(case: Case, got: Any) -> str:
    loss = tune_final_loss(float(got["lr"]), case.args[0])
    return f"loss after {TUNE_STEPS} steps: {loss:.3g} (goal {TUNE_GOAL:g})"


EXERCISES = {
    "mse_gradient": Exercise("mse_gradient", mse_public, mse_compare, mse_hidden,
                             lesson=_lesson("7 (A real loss surface)")),
    "bowl_gradient": Exercise("bowl_gradient", bowl_public, bowl_compare, bowl_hidden,
                              forbidden=("SeedBowl",),
                              lesson=_lesson("3 (The gradient, and how to check one)")),
    "predict_lr_limit": Exercise("predict_lr_limit", limit_public, limit_compare, mode="value",
                                 comment=limit_comment,
                                 lesson=_lesson("5.2 (Many dimensions: the largest curvature "
                                                "sets the limit)")),
    "gd_until": Exercise("gd_until", until_public, until_compare, until_hidden,
                         forbidden=("SGD", "minimize"), lesson=_lesson("4 (Gradient descent)")),
    "predict_gd_steps": Exercise("predict_gd_steps", steps_public, steps_compare, mode="value",
                                 comment=steps_comment,
                                 lesson=_lesson("6 (Ill-conditioning: the zig-zag)")),
    "tune_gd_lr": Exercise("tune_gd_lr", tune_public, tune_compare, tune_hidden, mode="value",
                           comment=tune_comment,
                           lesson=_lesson("5.3 (The best learning rate, found by search)")),
    "explain_standardize": Exercise("explain_standardize", mode="explain",
                                    lesson=_lesson("7 (A real loss surface)")),
}
