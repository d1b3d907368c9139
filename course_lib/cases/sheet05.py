"""Sheet 05 (RMSprop): the cases and comparators of its seven exercises.

Every expected value comes from a closed form or from ``course_lib.minimize`` with
``course_lib.optim.RMSprop`` (Hinton, lecture 6e,
http://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf), run here, never from
the learner's code. The predictions and the tuned setting are judged by experiments this module
runs itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch, Spec
from . import _compare as c
from ._compare import floats as _f

_LESSON = "../notebooks/05_rmsprop.ipynb"
_BIAS = ("torch.optim.RMSprop has no bias correction: dividing v by 1 - beta**t is Adam's "
         "correction (Adam with beta1 = 0), which makes the first step lr instead of "
         "lr/sqrt(1 - beta)")
_EPS_INSIDE = ("eps is inside the square root (Keras's convention); torch adds it outside, "
               "sqrt(v) + eps")
_NO_ONE_MINUS_BETA = ("the new g**2 is added without its weight (1 - beta): v is then about "
                      "g**2/(1 - beta) and every steady step is lr*sqrt(1 - beta) instead of lr")


def _path(objective: Any, x0: Any, steps: int, **hyper: Any):
    """course_lib's RMSprop run (a Trajectory), quietly."""
    from ..optim import RMSprop
    from ..training import minimize

    with np.errstate(all="ignore"):
        return minimize(objective, RMSprop(**hyper), x0, steps, verbose=False)


def _variant_paths(objective: Any, x0: np.ndarray, steps: int, lr: float, beta: float,
                   eps: float, v0: float = 0.0) -> dict[str, np.ndarray]:
    """Points (and rates) of RMSprop written with the known mistakes, for diagnosis."""
    found: dict[str, list] = {}
    for name in ("bias", "eps_inside", "no_one_minus_beta", "old_v", "v0_ignored"):
        x, v = np.array(x0, dtype=float), np.full(np.shape(x0), v0 if name != "v0_ignored" else 0.0)
        points, rates = [x], []
        with np.errstate(all="ignore"):
            for t in range(1, steps + 1):
                g = objective.grad(x)
                old = v
                v = beta * v + (1 - beta if name != "no_one_minus_beta" else 1.0) * g * g
                used = {"bias": v / (1 - beta**t), "old_v": old}.get(name, v)
                root = np.sqrt(used + eps) if name == "eps_inside" else np.sqrt(used) + eps
                rates.append(lr / root)
                x = x - lr * g / root
                points.append(x)
        found[name] = [np.array(points), np.array(rates)]
    return {k: v[0] for k, v in found.items()} | {k + "_rates": v[1] for k, v in found.items()}


def _nearest(a: np.ndarray, candidates: dict[str, np.ndarray], right: np.ndarray) -> str | None:
    """The candidate ``a`` matches, if ``a`` is far closer to it than to the right answer."""
    def gap(b: np.ndarray) -> float:
        if a.shape != b.shape or a.size == 0:
            return np.inf
        with np.errstate(all="ignore"):
            diff = np.where(np.isnan(a) & np.isnan(b), 0.0, np.abs(a - b))
        return float(np.max(np.where(np.isnan(diff), np.inf, diff)))

    found = {name: gap(b) for name, b in candidates.items()}
    name = min(found, key=lambda k: found[k], default=None)
    if name is None or not np.isfinite(found[name]):
        return None
    return name if found[name] <= 1e-3 * gap(right) or c.same(a, candidates[name]) else None


# --- 1. rmsprop_first_hop (predict) -----------------------------------------------------------

_HOP_LR = 0.02


def _first_hop(beta: float) -> float:
    from ..objectives import XOverLogX

    run = _path(XOverLogX(), _f([364.0]), 1, lr=_HOP_LR, beta=beta, eps=1e-8)
    return float(abs(run.points[1, 0] - run.points[0, 0]))


def first_hop_public() -> list[Case]:
    return [Case("the first step with beta = 0.9", (0, 0.9)),
            Case("the first step with beta = 0.99 (torch's default)", (1, 0.99))]


def _prediction(got: Any, n: int, what: str) -> tuple:
    if not isinstance(got, (tuple, list)) or len(got) != n:
        raise Mismatch(f"a tuple of {n} numbers ({what})", c.show(got),
                       f"write your prediction as a tuple of {n} numbers, e.g. (0.1, 0.2)")
    return tuple(c.number(x, "each prediction", "write plain numbers") for x in got)


def first_hop_compare(case: Case, got: Any, after: tuple | None) -> None:
    index, beta = case.args
    guess = _prediction(got, 2, "the first step for beta = 0.9, then for beta = 0.99")[index]
    measured = _first_hop(beta)
    if abs(guess - measured) <= 0.05 * measured:
        return
    from ..objectives import XOverLogX

    g = float(abs(XOverLogX().grad(_f([364.0]))[0]))
    known = {
        _HOP_LR: "that is the step once v has caught up with g**2; at the first step "
                 "v = (1 - beta) g**2 only, since v starts at 0",
        _HOP_LR * g: "that is gradient descent's step lr*|g|; RMSprop divides g by sqrt(v)",
        _HOP_LR / (1 - beta): "the step divides by the square ROOT of v = (1 - beta) g**2",
        _HOP_LR * np.sqrt(1 - beta): "upside down: v = (1 - beta) g**2 is SMALLER than g**2, "
                                     "so the first step is longer than lr",
        _first_hop(0.99 if beta == 0.9 else 0.9): "that is the step for the other beta: the "
                                                   "first step depends on beta",
    }
    mistake = next((m for value, m in known.items() if abs(guess - value) <= 0.05 * value), None)
    raise Mismatch(f"a first step within 5% of the measured {measured:.6f}", f"{guess:.6g}",
                   "v starts at 0, so after one gradient v = (1 - beta) g**2; divide the step "
                   "lr * g by sqrt(v) and see what is left of g", mistake)


def first_hop_comment(case: Case, got: Any) -> str | None:
    hops = [_first_hop(0.9), _first_hop(0.99)]
    guesses = [float(x) for x in got]
    return ("measured first steps: " + ", ".join(
        f"beta = {b}: {h:.6f} (you predicted {p:.4g}, off by {abs(p - h) / h:.1%})"
        for b, h, p in zip((0.9, 0.99), hops, guesses, strict=True))
        + f"; lr/sqrt(1 - beta) = {_HOP_LR / np.sqrt(0.1):.6f} and "
        f"{_HOP_LR / np.sqrt(0.01):.6f}, whatever the gradient (0.1377 here)")


# --- 2. rmsprop_rates (implement) -------------------------------------------------------------

def rates_public() -> list[Case]:
    def case(label, objective, x0, lr, steps, beta=0.9, eps=1e-8, v0=0.0):
        return Case(label, (objective, _f(x0), lr, steps),
                    {"beta": beta, "eps": eps, "v0": v0})

    valley = Spec("ill_conditioned_quadratic", (25.0,))
    return [
        case("3 steps on the valley from v = 0", valley, [-4.0, 3.0], 0.1, 3),
        case("3 steps from v0 = 1 (TF1's start)", valley, [-4.0, 3.0], 0.1, 3, v0=1.0),
        case("x/log(x) from 364, beta = 0.99", Spec("XOverLogX"), [364.0], 0.3, 20, beta=0.99),
        case("a large eps (0.5)", Spec("SeedBowl"), [1.0, 2.0], 0.1, 4, eps=0.5),
        case("150 steps on the valley (the rate climbs past 2/lambda)", valley, [-4.0, 3.0],
             0.1, 150),
        case("starting at the minimum with v0 = 0.25", Spec("SeedBowl"), [0.0, 0.0], 0.1, 2,
             v0=0.25),
    ]


def rates_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        spec = Spec("rotated_quadratic", (float(rng.choice([2.0, 10.0, 30.0])),
                                          float(rng.choice([0.0, 30.0, 45.0]))))
        cases.append(Case(f"hidden {k + 1}", (spec, rng.uniform(-3, 3, size=2),
                                              float(rng.choice([0.01, 0.1, 0.5])),
                                              int(rng.integers(1, 40))),
                          {"beta": float(rng.choice([0.5, 0.9, 0.99])), "eps": 1e-8,
                           "v0": float(rng.choice([0.0, 0.0, 0.1, 1.0]))}, hidden=True))
    return cases


def rates_compare(case: Case, got: Any, after: tuple | None) -> None:
    objective, x0, lr, steps = case.args
    beta, eps, v0 = (case.kwargs.get(k, d) for k, d in (("beta", 0.9), ("eps", 1e-8), ("v0", 0.0)))
    got_points, got_rates = c.pair(got, 2, "(points, rates)")
    run = _path(objective, x0, steps, lr=lr, beta=beta, eps=eps, initial_accumulator_value=v0)
    wrong = _variant_paths(objective, x0, steps, lr, beta, eps, v0)

    def diagnose(kind: str):
        def named(a: np.ndarray) -> str | None:
            messages = {"old_v": "the rate of a step uses v AFTER adding that step's g**2",
                        "v0_ignored": "start v at v0, not at 0",
                        "eps_inside": "this course adds eps outside the square root: "
                                      "sqrt(v) + eps",
                        "no_one_minus_beta": _NO_ONE_MINUS_BETA, "bias": _BIAS}
            suffix, right = ("", run.points) if kind == "points" else ("_rates",
                                                                       run.effective_lrs)
            name = _nearest(a, {k: wrong[k + suffix] for k in messages}, right)
            if name is not None:
                return messages[name]
            return c.aliased_rows_hint(a, run.points) if kind == "points" else None
        return named

    hint = ("start from v = v0 (np.full_like(x, v0)); each step updates v with the new g**2, "
            "then uses the rate lr/(sqrt(v) + eps); return all points (the start first) and "
            "the rates of the steps")
    c.close(got_points, run.points, "points", hint, diagnose=diagnose("points"))
    if np.shape(got_rates) == (steps + 1, len(x0)):
        raise Mismatch(f"rates of shape {(steps, len(x0))}", f"shape {np.shape(got_rates)}",
                       hint, "one row per step (the rate that step used), not one per point: "
                       "v0 alone moves nothing")
    c.close(got_rates, run.effective_lrs, "rates", hint, diagnose=diagnose("rates"))
    c.unchanged(x0, after, 1, "x0")


# --- 3. rmsprop_fix_torch (diagnose) ----------------------------------------------------------

def torch_public() -> list[Case]:
    def case(label, objective, x0, lr, steps, beta=0.99, eps=1e-8):
        return Case(label, (objective, _f(x0), lr, steps), {"beta": beta, "eps": eps})

    return [
        case("lesson 05's PyTorch run on x/log(x): 5 steps from 364", Spec("XOverLogX"), [364.0],
             0.3, 5),
        case("the valley, beta = 0.9", Spec("ill_conditioned_quadratic", (25.0,)), [-4.0, 3.0],
             0.1, 30, beta=0.9),
        case("tiny gradients (a bowl scaled by 1e-6), where eps matters", Spec("Quadratic",
             (_f([[2e-6, 0.0], [0.0, 1e-6]]),)), [1.0, -2.0], 0.01, 10),
    ]


def path_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        spec = Spec("rotated_quadratic", (float(rng.choice([2.0, 10.0])),
                                          float(rng.choice([0.0, 45.0]))))
        cases.append(Case(f"hidden {k + 1}", (spec, rng.uniform(-3, 3, size=2),
                                              float(rng.choice([0.01, 0.1])),
                                              int(rng.integers(2, 30))),
                          {"beta": float(rng.choice([0.9, 0.99])), "eps": 1e-8}, hidden=True))
    return cases


def _path_compare(case: Case, got: Any, after: tuple | None, default_beta: float,
                  shipped: tuple[str, str], hint: str) -> None:
    """Points like course_lib's RMSprop; ``shipped`` = (the given bug, its symptom)."""
    objective, x0, lr, steps = case.args
    beta, eps = case.kwargs.get("beta", default_beta), case.kwargs.get("eps", 1e-8)
    expected = _path(objective, x0, steps, lr=lr, beta=beta, eps=eps).points
    wrong = _variant_paths(objective, x0, steps, lr, beta, eps)
    messages = {"bias": _BIAS, "eps_inside": _EPS_INSIDE, "no_one_minus_beta": _NO_ONE_MINUS_BETA,
                "old_v": "divide by the root of v AFTER adding the new g**2 to it"}
    # the bug as shipped: describe what it does, never the fix (the learner is to find it)
    messages[shipped[0]] = "this still behaves like the code you were given: " + shipped[1]

    def diagnose(a: np.ndarray) -> str | None:
        name = _nearest(a, {k: wrong[k] for k in messages}, expected)
        return messages[name] if name is not None else c.aliased_rows_hint(a, expected)

    c.close(got, expected, "points", hint, diagnose=diagnose)
    c.unchanged(x0, after, 1, "x0")


def torch_compare(case: Case, got: Any, after: tuple | None) -> None:
    _path_compare(case, got, after, 0.99, ("bias", "its first step is exactly lr whatever beta "
                                           "is (from 364 with lr = 0.3 it lands on 363.7, where "
                                           "PyTorch printed 361.0000)."),
                  "work out the first step by hand from v = 0 with lesson 05's update rule "
                  "(section 3), then find the line of the function that the rule does not have")


# --- 4. rmsprop_settled_hop (predict) ---------------------------------------------------------

_SETTLE = {"lr": 0.02, "beta": 0.9, "eps": 1e-8}
_SETTLE_KEYS = ("y_distance", "y_rate")


def _settled() -> dict[str, float]:
    """The last 100 of 1000 steps on 1/2 (x^2 + 4 y^2) from (-1, 1): y's largest |y| and rate."""
    from ..objectives import ill_conditioned_quadratic

    run = _path(ill_conditioned_quadratic(4.0), _f([-1.0, 1.0]), 1000, **_SETTLE)
    return {"y_distance": float(np.abs(run.points[-100:, 1]).max()),
            "y_rate": float(run.effective_lrs[-100:, 1].mean())}


def settled_public() -> list[Case]:
    return [Case("how far y is from 0 at the end", ("y_distance",)),
            Case("y's effective learning rate at the end", ("y_rate",))]


def settled_compare(case: Case, got: Any, after: tuple | None) -> None:
    (key,) = case.args
    if not isinstance(got, dict) or set(got) != set(_SETTLE_KEYS):
        raise Mismatch("a dict with the keys 'y_distance' and 'y_rate'", c.show(got),
                       "write {'y_distance': ..., 'y_rate': ...} with two numbers")
    guess = c.number(got[key], key, "write a plain number")
    measured = _settled()[key]
    if abs(guess - measured) <= 0.05 * measured:
        return
    lr, lam = _SETTLE["lr"], 4.0
    known = {"y_distance": {lr: "lr is the length of a whole hop, from one side to the other",
                            0.0: "with a constant lr RMSprop does not settle AT the minimum",
                            lr / np.sqrt(1 - _SETTLE["beta"]): "that is the first step, not "
                                                               "the end state"},
             "y_rate": {1 / lam: "a rate of 1/lambda would land on the minimum in one step; a "
                                 "hop between +d and -d needs the factor 1 - rate*lambda = -1",
                        lr: "that is lr itself; the effective rate is lr/(sqrt(v) + eps)",
                        2.0: "that is x's rate (curvature 1); y's curvature is 4"}}[key]
    mistake = next((m for value, m in known.items()
                    if (value == 0 and guess == 0) or abs(guess - value) <= 0.05 * abs(value)),
                   None)
    raise Mismatch(f"{key} within 5% of the measured {measured:.6f}", f"{guess:.6g}",
                   "at the end every step has length about lr and goes from one side of the "
                   "minimum to the other; the gradient there is 4 y", mistake)


def settled_comment(case: Case, got: Any) -> str | None:
    measured = _settled()
    return ("measured over steps 901-1000: " + ", ".join(
        f"{k} {measured[k]:.6f} (you predicted {float(got[k]):.4g})" for k in _SETTLE_KEYS)
        + "; the hop spans -lr/2 to +lr/2 and the rate that makes it is 2/lambda = 0.5")


# --- 5. rmsprop_fix_scale (diagnose) ----------------------------------------------------------

def scale_public() -> list[Case]:
    def case(label, objective, x0, lr, steps, beta=0.9, eps=1e-8):
        return Case(label, (objective, _f(x0), lr, steps), {"beta": beta, "eps": eps})

    tiny = Spec("Quadratic", (_f([[1e-6, 0.0], [0.0, 25e-6]]),))
    return [
        case("the valley scaled by 1e-6 (gradients about 1e-6)", tiny, [-4.0, 3.0], 0.1, 20),
        case("the valley itself", Spec("ill_conditioned_quadratic", (25.0,)), [-4.0, 3.0], 0.1,
             20),
        case("x/log(x) from 364, beta = 0.99", Spec("XOverLogX"), [364.0], 0.3, 5, beta=0.99),
    ]


def scale_compare(case: Case, got: Any, after: tuple | None) -> None:
    _path_compare(case, got, after, 0.9, ("eps_inside", "with every gradient multiplied by "
                                          "1e-6 its steps shrink with the gradient (x moves "
                                          "about 0.004 per step instead of 0.1 to 0.3), where "
                                          "RMSprop's path should hardly change"),
                  "compare the function with lesson 05's update rule (section 3) symbol by "
                  "symbol, then work out by hand what each version does when v is tiny")


# --- 6. rmsprop_tune_364 (tune) ---------------------------------------------------------------

_TUNE_STEPS, _TUNE_FROM, _TUNE_TOL = 900, 800, 0.5


def tune_public() -> list[Case]:
    return [Case(f"from x0 = {x0:g}", (x0,)) for x0 in (364.0, 300.0, 420.0)]


def tune_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (float(rng.uniform(300.0, 420.0)),), hidden=True)
            for k in range(3)]


def _setting(got: Any) -> tuple[float, float]:
    if not isinstance(got, dict) or set(got) != {"lr", "beta"}:
        raise Mismatch("a dict {'lr': ..., 'beta': ...}", c.show(got),
                       "write the two hyperparameters as a dict with exactly these keys")
    lr, beta = (c.number(got[k], k, "write plain numbers") for k in ("lr", "beta"))
    if not lr > 0 or not 0 <= beta < 1:
        raise Mismatch("lr > 0 and 0 <= beta < 1", f"lr = {lr:g}, beta = {beta:g}",
                       "lr is a positive step length; beta a decay rate in [0, 1)")
    return lr, beta


def tune_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..objectives import XOverLogX

    lr, beta = _setting(got)
    (x0,) = case.args
    run = _path(XOverLogX(), _f([x0]), _TUNE_STEPS, lr=lr, beta=beta, eps=1e-8)
    goal = f"every x from step {_TUNE_FROM} to {_TUNE_STEPS} within {_TUNE_TOL} of e"
    if run.stopped or not np.all(np.isfinite(run.points)):
        bad = int(np.argmax(~np.isfinite(run.losses))) if len(run.losses) else 0
        raise Mismatch(goal, f"a run that left the domain x > 1 near step {bad}", "two "
                       "limits: enough distance per step to arrive in time, a hop small enough "
                       "to stay", "a step of about lr (lr/sqrt(1 - beta) at first) jumped past e "
                       "and below x = 1, where log(x) <= 0: this lr is far too large")
    late = run.points[_TUNE_FROM:, 0]
    worst = float(np.abs(late - np.e).max())
    if worst < _TUNE_TOL:
        return
    at = run.points[_TUNE_FROM, 0]
    if at - np.e > 2:
        mistake = (f"not there yet: x = {at:.1f} at step {_TUNE_FROM}. Once v has caught up "
                   f"with g**2 each step is about lr long, so covering about {x0 - np.e:.0f} "
                   f"in {_TUNE_FROM} steps needs a larger lr (a beta closer to 1 also helps "
                   "early: v stays biased low for about 1/(1 - beta) steps).")
    else:
        mistake = (f"x arrives but hops around e by up to {worst:.2f}: a constant-lr RMSprop "
                   "ends hopping with steps of about lr, so lr must be small enough for that hop")
    raise Mismatch(goal, f"|x - e| up to {worst:.3g} over those steps", "two limits: enough "
                   "distance per step to arrive in time, a hop small enough to stay", mistake)


def tune_comment(case: Case, got: Any) -> str | None:
    lr, beta = _setting(got)
    from ..objectives import XOverLogX

    worst = max(float(np.abs(_path(XOverLogX(), _f([x0]), _TUNE_STEPS, lr=lr, beta=beta,
                                   eps=1e-8).points[_TUNE_FROM:, 0] - np.e).max())
                for x0 in (300.0, 364.0, 420.0))
    return (f"largest |x - e| over steps {_TUNE_FROM}-{_TUNE_STEPS} from 300, 364 and 420: "
            f"{worst:.3g} (the goal: below {_TUNE_TOL})")


EXERCISES = {
    "rmsprop_first_hop": Exercise(
        "rmsprop_first_hop", first_hop_public, first_hop_compare, mode="value",
        comment=first_hop_comment,
        lesson=f"lesson 05, section 5 (The first step overshoots): {_LESSON}"),
    "rmsprop_rates": Exercise(
        "rmsprop_rates", rates_public, rates_compare, rates_hidden,
        forbidden=("RMSprop", "minimize"),
        lesson=f"lesson 05, sections 3 and 4 (the update rule; the effective learning rate "
               f"over time) and 5 (TF1 starts v at 1): {_LESSON}"),
    "rmsprop_fix_torch": Exercise(
        "rmsprop_fix_torch", torch_public, torch_compare, path_hidden, name="torch_rmsprop_path",
        forbidden=("RMSprop", "minimize"),
        lesson=f"lesson 05, sections 5 (The first step overshoots) and 8 (The frameworks): "
               f"{_LESSON}"),
    "rmsprop_settled_hop": Exercise(
        "rmsprop_settled_hop", settled_public, settled_compare, mode="value",
        comment=settled_comment,
        lesson=f"lesson 05, section 4.1 (the end of the section: the two-point cycle) and "
               f"6.2: {_LESSON}"),
    "rmsprop_fix_scale": Exercise(
        "rmsprop_fix_scale", scale_public, scale_compare, path_hidden, name="rmsprop_path",
        forbidden=("RMSprop", "minimize"),
        lesson=f"lesson 05, sections 3 (The update rule, from scratch) and 7 (Scale "
               f"invariance: multiply the gradient by 1000): {_LESSON}"),
    "rmsprop_tune_364": Exercise(
        "rmsprop_tune_364", tune_public, tune_compare, tune_hidden, mode="value",
        comment=tune_comment,
        lesson=f"lesson 05, sections 4.1 (the hop at the end), 5 (the first steps) and 8 "
               f"(PyTorch vs Keras on x/log x): {_LESSON}"),
    "rmsprop_no_slowdown": Exercise(
        "rmsprop_no_slowdown", mode="explain",
        lesson=f"lesson 05, section 1 (From AdaGrad's problem to an average that forgets): "
               f"{_LESSON}"),
}
