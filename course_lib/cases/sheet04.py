"""Sheet 04 (AdaGrad): the cases and comparators of its six exercises.

Expected values come from closed forms and from ``course_lib.minimize`` with
``course_lib.optim.AdaGrad`` (Duchi, Hazan & Singer 2011, https://jmlr.org/papers/v12/duchi11a.html),
never from the learner's code. Full-matrix AdaGrad (exercise ``full_adagrad_step``) is the
paper's update with ``H_t = eps * I + G_t^(1/2)``, computed here from an eigendecomposition.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch, Spec
from . import _compare as c
from ._compare import floats as _f
from ._compare import hidden_arrays as _hidden_arrays

_LESSON = "../notebooks/04_adagrad.ipynb"


def _lesson(section: str) -> str:
    return f"lesson 04, section {section}: {_LESSON}"


# --- adagrad_two_steps (predict) --------------------------------------------------------------

TWO_KAPPA, TWO_START, TWO_LR = 500.0, (5.0, 2.0), 1.0


def two_steps_measured() -> np.ndarray:
    """Where course_lib's AdaGrad (lr = 1) is after two steps on 1/2 (x^2 + 500 y^2)."""
    from ..objectives import ill_conditioned_quadratic
    from ..optim import AdaGrad
    from ..training import minimize

    run = minimize(ill_conditioned_quadratic(TWO_KAPPA), AdaGrad(lr=TWO_LR), _f(TWO_START), 2,
                   verbose=False)
    return run.points[-1]


def _two_steps_wrong() -> dict[str, np.ndarray]:
    """The usual wrong predictions, each with what it gets wrong."""
    x, y = TWO_START
    first = _f([x - TWO_LR, y - TWO_LR])  # the first step is lr * sign(g) in each coordinate
    old_s = first - TWO_LR * first / np.abs(_f(TWO_START))
    return {
        "only the first step has size lr in each coordinate (there s = g_1**2); at the second "
        "step s holds two squared gradients, so the step is smaller": first - TWO_LR,
        "divide by the root of s after adding the new g**2: s = g_1**2 + g_2**2 at step 2":
            old_s,
        "that is gradient descent's path (its y leaves by a factor |1 - 500|); AdaGrad divides "
        "the curvature away": _f([0.0, y * (1 - TWO_LR * TWO_KAPPA) ** 2]),
        "the coordinates are swapped: give (x, y)": two_steps_measured()[::-1],
    }


def two_steps_public() -> list[Case]:
    return [Case("the point after two steps", ())]


def two_steps_compare(case: Case, got: Any, after: tuple | None) -> None:
    hint = ("apply s <- s + g**2, then p <- p - lr * g / sqrt(s), twice, coordinate by "
            "coordinate, with g = (x, 500 y).")
    guess = c.array(got, (2,), "the point", "give the point as (x, y): two numbers")
    measured = two_steps_measured()
    if np.all(np.abs(guess - measured) <= 0.01):
        return
    mistake = next((text for text, wrong in _two_steps_wrong().items()
                    if np.all(np.abs(guess - wrong) <= 0.01)), None)
    raise Mismatch(f"a point within 0.01 of the measured ({measured[0]:.4f}, {measured[1]:.4f})"
                   " in each coordinate", c.show(guess), hint, mistake)


def two_steps_comment(case: Case, got: Any) -> str:
    measured, guess = two_steps_measured(), np.asarray(got, dtype=float)
    gap = np.abs(guess - measured).max()
    return (f"you predicted ({guess[0]:.4f}, {guess[1]:.4f}); course_lib measured "
            f"({measured[0]:.4f}, {measured[1]:.4f}), a gap of {gap:.2g}. kappa = 500 never "
            f"entered the arithmetic: g_y = 500 y, and sqrt(s_y) grows by the same factor 500.")


# --- adagrad_step (diagnose: s updated after the division) ------------------------------------

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
        case("the first step on a very flat coordinate (g = 1e-6)", _f([3.0, 3.0]),
             _f([1e-6, 2.0]), np.zeros(2), 0.1, 1e-10),
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
    for k in range(4):
        dtype, (p, g, s) = _hidden_arrays(rng, 3)
        lr = float(rng.choice([0.01, 0.1, 0.5, 1.0]))
        if k >= 2:  # tiny gradients on a fresh sum: where eps inside the root shows
            g, s = (g * 1e-6).astype(np.float64), np.zeros(len(g))
            p = p.astype(np.float64)
        cases.append(Case(f"hidden {k + 1}", (p, g, np.abs(s), lr), {"eps": 1e-10},
                          hidden=True))
    return cases


#: The shipped bug (s updated after the division): named by its symptom, never by its fix.
SHIPPED_STEP = ("this still behaves like the code you were given: from s = 0 its first step throws "
                "the point about 1e10 times too far, where the lesson's first step moves each "
                "coordinate by lr")

EPS_INSIDE = ("eps is inside the square root: this course adds eps outside the square root, "
              "sqrt(s) + eps, as torch does. Inside, it swamps small gradients: sqrt(1e-12 + "
              "1e-10) is about 1e-5, ten times the 1e-6 it should be")


def _step_diagnose(p, g, s, lr, eps):
    def diagnose(a: np.ndarray) -> str | None:
        with np.errstate(all="ignore"):
            if c.same(a, p - lr * g / np.sqrt(s + g * g + eps)):
                return EPS_INSIDE
            if c.same(a, p - lr * g / (np.sqrt(s) + eps)):
                return SHIPPED_STEP
            if c.same(a, p - lr * g / (s + g * g + eps)):
                return "divide by the square root of s"
            if c.same(a, p - lr * g / (np.abs(g) + eps)):
                return ("s is a sum that keeps the past: add g**2 to the s you were given, do "
                        "not start it again from g**2")
        return None

    return diagnose


def step_compare(case: Case, got: Any, after: tuple | None) -> None:
    p, g, s, lr = case.args
    eps = case.kwargs.get("eps", 1e-10)
    got_p, got_s = c.pair(got, 2, "(p, s)")
    s_new = s + g * g
    with np.errstate(all="ignore"):
        p_new = p - lr * g / (np.sqrt(s_new) + eps)

    def s_mistake(a: np.ndarray) -> str | None:
        if c.same(a, g * g) and not c.same(s, 0 * s):
            return "s is a sum that keeps the past, not just the latest square"
        return "square the gradient: its sign must not matter" if c.same(a, s + g) else None

    c.close(got_s, s_new, "s", "s grows by the squared gradient", dtype=s.dtype.type,
            diagnose=s_mistake)
    c.close(got_p, p_new, "p", "follow AdaGrad's update rule from the lesson, coordinate by "
            "coordinate", dtype=p.dtype.type, diagnose=_step_diagnose(p, g, s, lr, eps))
    c.unchanged(p, after, 0, "p")
    c.unchanged(s, after, 2, "s")


# --- run_adagrad (diagnose: s reset every step) -----------------------------------------------

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


def _variant_points(objective: Any, x0: np.ndarray, lr: float, steps: int, eps: float,
                    variant: str) -> np.ndarray:
    """The path of a known wrong loop: "reset" (s = g**2 each step), "gd", "eps_inside"."""
    p, s, path = _f(x0), np.zeros(len(x0)), [_f(x0)]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            g = objective.grad(p)
            s = g * g if variant == "reset" else s + g * g
            if variant == "gd":
                p = p - lr * g
            elif variant == "eps_inside":
                p = p - lr * g / np.sqrt(s + eps)
            else:
                p = p - lr * g / (np.sqrt(s) + eps)
            path.append(p)
    return np.array(path)


#: The first entry is the shipped bug (s reset every step): named by its symptom, not its fix.
_RUN_MISTAKES = {
    "reset": "this still behaves like the code you were given: every step moves each coordinate "
             "by exactly lr, however close the point is, so the run hops around the minimum "
             "instead of settling",
    "gd": "no division by sqrt(s): that is gradient descent's path",
    "eps_inside": "eps outside the square root: sqrt(s) + eps",
}


def run_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import AdaGrad
    from ..training import minimize

    objective, x0, lr, steps = case.args
    eps = case.kwargs.get("eps", 1e-10)
    expected = minimize(objective, AdaGrad(lr=lr, eps=eps), x0, steps, verbose=False).points

    def diagnose(a: np.ndarray) -> str | None:
        for variant, text in _RUN_MISTAKES.items():
            if c.same(a, _variant_points(objective, x0, lr, steps, eps, variant)):
                return text
        return c.aliased_rows_hint(a, expected)

    c.close(got, expected, "points", "start from s = 0, take `steps` AdaGrad steps with the "
            "objective's gradient, and return all points, the start included.",
            diagnose=diagnose)
    c.unchanged(x0, after, 1, "x0")


# --- adagrad_rotated_lr (tune) ----------------------------------------------------------------

TUNE_KAPPA, TUNE_ANGLE, TUNE_STEPS, TUNE_GOAL, TUNE_RADIUS = 20.0, 30.0, 150, 1e-6, 5.0


def tune_start(seed: int) -> np.ndarray:
    """The start of seed ``seed``: distance 5 from the minimum, in a random direction."""
    direction = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    return TUNE_RADIUS * _f([np.cos(direction), np.sin(direction)])


def tune_steps(lr: float, seed: int) -> float:
    """Steps course_lib's AdaGrad needs to bring the rotated valley's loss below the goal from
    the start of ``seed`` (inf if not within TUNE_STEPS, or if the run overflowed)."""
    from ..objectives import rotated_quadratic
    from ..optim import AdaGrad

    valley, p = rotated_quadratic(TUNE_KAPPA, TUNE_ANGLE), tune_start(seed)
    optimizer = AdaGrad(lr=lr)
    with np.errstate(all="ignore"):
        for step in range(1, TUNE_STEPS + 1):
            optimizer.step(p, valley.grad(p))
            loss = float(valley.f(p))
            if not math.isfinite(loss):
                return math.inf
            if loss < TUNE_GOAL:
                return step
    return math.inf


def tune_public() -> list[Case]:
    return [Case(f"the start of seed {seed}", (seed,)) for seed in range(4)]


def tune_hidden(rng: np.random.Generator) -> list[Case]:
    return c.hidden_seed_cases(rng, first=4)


def tune_compare(case: Case, got: Any, after: tuple | None) -> None:
    lr = c.lr_setting(got)
    (seed,) = case.args
    steps = tune_steps(lr, seed)
    if steps <= TUNE_STEPS:
        return
    wanted = f"a loss below {TUNE_GOAL:g} within {TUNE_STEPS} steps"
    hint = ("AdaGrad's first step has size lr in every coordinate, and its rate only shrinks "
            "after that: lr sets how far the run can travel, so compare it with the distance "
            "to the minimum (5).")
    if lr < 12:  # the middle (on a log scale) of the rates that pass
        mistake = (f"lr = {lr:g} is too small for AdaGrad: the effective rate lr / sqrt(s) "
                   "falls from the first step on, so the run crawls (torch's default 0.01 "
                   "and the lesson's lr = 1 on the aligned valley both fall short here).")
    else:
        mistake = (f"lr = {lr:g} is too large: the first step throws the point about lr away "
                   "from the minimum in each coordinate, and the run spends its budget coming "
                   "back")
    raise Mismatch(wanted, f"no loss below {TUNE_GOAL:g} after {TUNE_STEPS} steps (lr = {lr:g})",
                   hint, mistake)


def tune_comment(case: Case, got: Any) -> str:
    steps = [tune_steps(float(got["lr"]), seed) for seed in range(4)]
    return (f"steps to a loss below {TUNE_GOAL:g} from the four public starts: "
            f"{', '.join(f'{s:.0f}' for s in steps)} (budget {TUNE_STEPS})")


# --- full_adagrad_step (implement) ------------------------------------------------------------

def full_reference(p: np.ndarray, g: np.ndarray, G: np.ndarray, lr: float, eps: float,
                   variant: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Full-matrix AdaGrad: G <- G + g g^T, p <- p - lr (eps I + G^(1/2))^(-1) g.

    ``variant`` gives a known wrong version: "inverse" (G^-1 instead of G^-1/2),
    "eps_inside" ((G + eps I)^-1/2), "old_G" (the root of G before adding g g^T),
    "diagonal" (only the diagonal of G: diagonal AdaGrad), "entrywise" (np.sqrt of each entry).
    """
    G_new = G + np.outer(g, g)
    M = G if variant == "old_G" else G_new
    if variant == "diagonal":
        return p - lr * g / (np.sqrt(np.diag(M)) + eps), G_new
    if variant == "entrywise":
        with np.errstate(all="ignore"):
            try:
                return p - lr * np.linalg.solve(np.sqrt(M) + eps * np.eye(len(g)), g), G_new
            except np.linalg.LinAlgError:
                return np.full_like(p, np.nan), G_new
    lam, Q = np.linalg.eigh(M)
    lam = np.clip(lam, 0.0, None)  # round-off can make a zero eigenvalue slightly negative
    scale = {"inverse": 1 / (lam + eps), "eps_inside": 1 / np.sqrt(lam + eps)}.get(
        variant, 1 / (np.sqrt(lam) + eps))
    return p - lr * Q @ (scale * (Q.T @ g)), G_new


_FULL_MISTAKES = {
    "inverse": "that divides by G itself: the step uses the inverse square root of G",
    "eps_inside": "add eps outside the square root: (eps * I + G^(1/2))^-1, as in the diagonal "
                  "version",
    "old_G": "add the outer product g g^T to G before taking its root",
    "diagonal": "that is diagonal AdaGrad: it uses only the diagonal of G and ignores how the "
                "coordinates' gradients go together",
    "entrywise": "np.sqrt(G) takes the root of each entry; the matrix square root comes from "
                 "the eigendecomposition G = Q diag(lam) Q^T",
}


def full_public() -> list[Case]:
    def case(label, p, g, G, lr, eps=1e-8):
        return Case(label, (_f(p), _f(g), _f(G), lr), {"eps": eps})

    return [
        case("the first step from G = 0 (a step of length lr along -g)", [-4.0, 3.0],
             [-4.0, 30.0], np.zeros((2, 2)), 1.0),
        case("a later step, G with off-diagonal entries", [1.0, 2.0], [0.5, -1.0],
             [[4.0, 1.5], [1.5, 9.0]], 0.5),
        case("1-D (the same as diagonal AdaGrad)", [2.0], [3.0], [[7.0]], 0.1),
        case("three coordinates", [1.0, -1.0, 0.5], [0.3, 0.2, -0.4],
             [[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]], 0.2),
        case("a large eps (0.5)", [1.0, 1.0], [2.0, 1.0], [[1.0, 0.0], [0.0, 4.0]], 1.0, 0.5),
    ]


def full_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        n = int(rng.integers(1, 5))
        A = rng.normal(size=(n, n))
        p, g = rng.normal(size=n), rng.normal(size=n)
        lr = float(rng.choice([0.1, 0.5, 1.0]))
        cases.append(Case(f"hidden {k + 1}", (p, g, A @ A.T, lr), {"eps": 1e-8}, hidden=True))
    return cases


def full_compare(case: Case, got: Any, after: tuple | None) -> None:
    p, g, G, lr = case.args
    eps = case.kwargs.get("eps", 1e-8)
    got_p, got_G = c.pair(got, 2, "(p, G)")
    p_new, G_new = full_reference(p, g, G, lr, eps)

    def g_mistake(a: np.ndarray) -> str | None:
        if c.same(a, G + g * g) or c.same(a, G + np.diag(g * g)):
            return "G grows by the outer product np.outer(g, g), a matrix, not by g * g"
        return None

    c.close(got_G, G_new, "G", "G is the sum of the outer products g g^T of all gradients",
            diagnose=g_mistake)

    def diagnose(a: np.ndarray) -> str | None:
        for variant, text in _FULL_MISTAKES.items():
            wrong = full_reference(p, g, G, lr, eps, variant)[0]
            with np.errstate(all="ignore"):  # the entry-wise root gives NaN where G < 0
                if np.allclose(a, wrong, rtol=1e-6, atol=1e-9, equal_nan=True):
                    return text
        return None

    c.close(got_p, p_new, "p", "p <- p - lr * (eps * I + G^(1/2))^(-1) g, with G^(1/2) from "
            "np.linalg.eigh", diagnose=diagnose, rtol=1e-6, atol=1e-7)
    c.unchanged(p, after, 0, "p")
    c.unchanged(G, after, 2, "G")


EXERCISES = {
    "adagrad_two_steps": Exercise("adagrad_two_steps", two_steps_public, two_steps_compare,
                                  mode="value", comment=two_steps_comment,
                                  lesson=_lesson("3 (Why it fixes a badly scaled valley)")),
    "adagrad_step": Exercise("adagrad_step", step_public, step_compare, step_hidden,
                             lesson=_lesson("2 (AdaGrad's update)")),
    "run_adagrad": Exercise("run_adagrad", run_public, run_compare, run_hidden,
                            forbidden=("AdaGrad", "minimize"),
                            lesson=_lesson("2 (AdaGrad's update)")),
    "adagrad_rotated_lr": Exercise("adagrad_rotated_lr", tune_public, tune_compare, tune_hidden,
                                   mode="value", comment=tune_comment,
                                   lesson=_lesson("3 (Why it fixes a badly scaled valley: "
                                                  "the catch, axes, not directions)")),
    "full_adagrad_step": Exercise("full_adagrad_step", full_public, full_compare, full_hidden,
                                  lesson=_lesson("3 (Why it fixes a badly scaled valley)")),
    "adagrad_conclusion": Exercise("adagrad_conclusion", mode="explain",
                                   lesson=_lesson("3 (Why it fixes a badly scaled valley)")),
}
