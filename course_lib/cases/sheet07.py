"""Sheet 07 (momentum): the cases and comparators of its seven exercises.

Expected values come from ``course_lib.optim.SGD`` (heavy ball in PyTorch's buffer form,
Polyak 1964, https://doi.org/10.1016/0041-5553(64)90137-5; Nesterov's look-ahead in the form of
Sutskever et al. 2013, https://proceedings.mlr.press/v28/sutskever13.html), from
``course_lib.optim.RMSprop`` run by ``course_lib.minimize`` under a schedule, and from the closed
forms of lesson 07, section 3 (the best ``lr`` and ``mu`` on a quadratic), never from the
learner's code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch, Spec
from . import _compare as c
from ._compare import floats as _f
from ._compare import hidden_arrays as _hidden_arrays

_LESSON = "../notebooks/07_momentum.ipynb"


def _lesson(section: str) -> str:
    return f"lesson 07, {section}: {_LESSON}"


# --- momentum_step (implement) ----------------------------------------------------------------

def step_public() -> list[Case]:
    def case(label, p, g, buf, lr, mu, nesterov):
        return Case(label, (p, g, buf, lr), {"momentum": mu, "nesterov": nesterov})

    return [
        case("the first step (buf = 0) is a gradient step", _f([1.0, 2.0]), _f([0.5, -1.0]),
             np.zeros(2), 0.1, 0.9, False),
        case("a later step", _f([1.0, 2.0]), _f([0.5, -1.0]), _f([2.0, 1.0]), 0.1, 0.9, False),
        case("momentum = 0.5", _f([1.0, 2.0]), _f([0.5, -1.0]), _f([2.0, 1.0]), 0.1, 0.5, False),
        case("zero gradient: the buffer keeps p moving", np.zeros(2), np.zeros(2),
             _f([1.0, -2.0]), 0.1, 0.9, False),
        case("Nesterov, the first step (buf = 0)", _f([1.0, 2.0]), _f([0.5, -1.0]),
             np.zeros(2), 0.1, 0.9, True),
        case("Nesterov, a later step", _f([1.0, 2.0]), _f([0.5, -1.0]), _f([2.0, 1.0]), 0.1,
             0.9, True),
        case("float32, Nesterov", _f([1.0, -1.0], np.float32), _f([0.2, 0.3], np.float32),
             _f([0.1, 0.0], np.float32), 0.01, 0.9, True),
        case("the sixth step on a valley (p and buf from five steps of course_lib's "
             "SGD(lr=0.04, momentum=0.7, nesterov=True))", *_after_five_steps(), 0.04, 0.7, True),
    ]


def _after_five_steps() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, g, buf) after five Nesterov steps of course_lib's SGD on the valley (kappa = 25)."""
    from ..objectives import ill_conditioned_quadratic
    from ..optim import SGD

    valley, p = ill_conditioned_quadratic(25.0), _f([-4.0, 2.0])
    optimizer = SGD(lr=0.04, momentum=0.7, nesterov=True)
    for _ in range(5):
        optimizer.step(p, valley.grad(p))
    return p.copy(), valley.grad(p), np.array(optimizer.state[0]["buf"], dtype=float)


def step_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(4):
        _dtype, (p, g, buf) = _hidden_arrays(rng, 3)
        lr, mu = float(rng.choice([0.01, 0.1, 0.5])), float(rng.choice([0.3, 0.7, 0.9, 0.99]))
        cases.append(Case(f"hidden {k + 1}", (p, g, buf, lr),
                          {"momentum": mu, "nesterov": bool(k % 2)}, hidden=True))
    return cases


def _expected_step(p, g, buf, lr, mu, nesterov):
    """One step of course_lib's SGD from the state (buf) of an earlier step."""
    from ..optim import SGD

    optimizer, q = SGD(lr=lr, momentum=mu, nesterov=nesterov), p.copy()
    optimizer.step(q, np.zeros_like(p))  # creates the state (its first step sets buf = g = 0)
    optimizer.state[0]["buf"] = buf.copy()
    q[...] = p
    optimizer.step(q, g)
    return q, optimizer.state[0]["buf"]


def _buf_diagnose(buf, g, mu):
    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, mu * buf + (1 - mu) * g):
            return ("the buffer is a sum, as in PyTorch (dampening = 0): the gradient enters "
                    "without a (1 - momentum) factor")
        if mu != 0.9 and c.same(a, 0.9 * buf + g):
            return "use the momentum passed to the function, not a fixed 0.9"
        return None

    return diagnose


def _p_diagnose(p, g, buf, lr, mu, nesterov):
    def diagnose(a: np.ndarray) -> str | None:
        new = mu * buf + g
        if c.same(a, p + lr * (g + mu * new if nesterov else new)):
            return "the step goes against the gradient: p - lr * (...), not p + lr * (...)."
        if nesterov and c.same(a, p - lr * new) and c.same(a, p - lr * (g + mu * buf)):
            return ("with nesterov=True PyTorch steps along g + momentum * buf (the look-ahead "
                    "uses the updated buffer: on the first step that is (1 + momentum) * g).")
        if nesterov and c.same(a, p - lr * new):
            return ("with nesterov=True PyTorch steps along g + momentum * buf (the look-ahead), "
                    "not along buf.")
        if nesterov and c.same(a, p - lr * (g + mu * buf)):
            return "the look-ahead uses the updated buffer: g + momentum * (the new buf)"
        if not nesterov and c.same(a, p - lr * (g + mu * new)):
            return "nesterov=False is the plain heavy ball: p moves by lr * buf"
        if c.same(a, p - lr * buf):
            return "use the updated buffer, not the old one"
        return None

    return diagnose


def step_compare(case: Case, got: Any, after: tuple | None) -> None:
    p, g, buf, lr = case.args
    mu, nesterov = case.kwargs.get("momentum", 0.9), case.kwargs.get("nesterov", False)
    got_p, got_buf = c.pair(got, 2, "(p, buf)")
    p_new, buf_new = _expected_step(p, g, buf, lr, mu, nesterov)
    c.close(got_buf, buf_new, "buf", "the buffer decays by `momentum` and adds the new gradient",
            dtype=buf.dtype.type, diagnose=_buf_diagnose(buf, g, mu))
    c.close(got_p, p_new, "p", "PyTorch's step: p - lr * buf, or p - lr * (g + momentum * buf) "
            "with nesterov=True, always with the new buf", dtype=p.dtype.type,
            diagnose=_p_diagnose(p, g, buf, lr, mu, nesterov))
    c.unchanged(p, after, 0, "p")
    c.unchanged(buf, after, 2, "buf")


# --- momentum_gd_rate (predict) ---------------------------------------------------------------

_KAPPA = 16.0  # the valley f = (x^2 + 16 y^2) / 2 of exercises 2 and 3


def _measured_factor(lr: float, mu: float, first: int, last: int) -> float:
    """The mean factor per step of the distance to the minimum, steps first..last."""
    from ..objectives import ill_conditioned_quadratic
    from ..optim import SGD
    from ..training import minimize

    run = minimize(ill_conditioned_quadratic(_KAPPA), SGD(lr=lr, momentum=mu),
                   _f([-4.0, 2.0]), last, verbose=False)
    dist = np.linalg.norm(run.points, axis=1)
    return float((dist[last] / dist[first]) ** (1 / (last - first)))


_GD_MISTAKES = (
    ((1 - 2 / _KAPPA), "that is the large-kappa approximation 1 - 2/kappa; for kappa = 16 it is "
     "off by 0.007: use the exact (kappa - 1)/(kappa + 1)"),
    (((_KAPPA - 1) / (_KAPPA + 1)) ** 2, "that is the factor for f, which is quadratic in the "
     "error; the distance shrinks by its square root"),
    (1 - 1 / _KAPPA, "that is 1 - lr * lambda_min with lr = 1/lambda_max; at the best lr both "
     "extreme directions shrink by the same factor"),
    ((math.sqrt(_KAPPA) - 1) / (math.sqrt(_KAPPA) + 1), "that is heavy ball's best rate, "
     "(sqrt(kappa) - 1)/(sqrt(kappa) + 1); plain gradient descent is slower"),
    (2 / (_KAPPA + 1), "that is the best learning rate 2/(lambda_max + lambda_min), not the "
     "factor per step"),
)


def gd_rate_public() -> list[Case]:
    return [Case("the factor per step, measured with course_lib's SGD at lr = 2/17")]


def gd_rate_compare(case: Case, got: Any, after: tuple | None) -> None:
    value = c.number(got, "momentum_gd_rate", "write one number, e.g. momentum_gd_rate = 0.5")
    measured = _measured_factor(2 / (_KAPPA + 1), 0.0, 100, 101)
    if abs(value - measured) <= 0.003:
        return
    mistake = next((why for wrong, why in _GD_MISTAKES if abs(value - wrong) < 1e-3), None)
    raise Mismatch(f"{measured:.4f} (within 0.003)", f"{value:.6g}",
                   "at the best lr the flattest and the steepest direction shrink by the same "
                   "factor |1 - lr * lambda|", mistake=mistake)


def gd_rate_comment(case: Case, got: Any) -> str:
    measured = _measured_factor(2 / (_KAPPA + 1), 0.0, 100, 101)
    gap = abs(float(got) - measured)
    return (f"you predicted {float(got):.4f}; measured {measured:.4f} per step (15/17: both "
            f"directions shrink by |1 - lr * lambda| = 15/17), gap {gap:.4f}")


# --- momentum_best_setting (predict) ----------------------------------------------------------

_ROOT = math.sqrt(_KAPPA)
_BEST = {"lr": 4 / (_ROOT + 1) ** 2, "momentum": ((_ROOT - 1) / (_ROOT + 1)) ** 2,
         "rate": (_ROOT - 1) / (_ROOT + 1)}  # lr* = 4/(sqrt(L)+sqrt(m))^2 with m = 1, L = kappa
_TOLERANCE = {"lr": 0.005, "momentum": 0.02, "rate": 0.01}
_BEST_MISTAKES = {
    "lr": ((2 / (_KAPPA + 1), "2/(lambda_max + lambda_min) is gradient descent's best lr; heavy "
            "ball's is 4/(sqrt(lambda_max) + sqrt(lambda_min))**2"),
           (4 / (_KAPPA + 1), "square the sum of the square roots: 4/(sqrt(16) + sqrt(1))**2"),
           (1 / _KAPPA, "1/lambda_max is a safe gradient-descent step, not heavy ball's best")),
    "momentum": ((_BEST["rate"], "that is the rate sqrt(mu*); mu* is its square"),
                 (0.9, "0.9 is the popular default; it is the best mu only for kappa near 1442"),
                 ((_KAPPA - 1) / (_KAPPA + 1), "that is gradient descent's rate")),
    "rate": ((_BEST["momentum"], "the eigenvalues multiply to mu, so the rate is sqrt(mu), not "
              "mu"),
             ((_KAPPA - 1) / (_KAPPA + 1), "that is gradient descent's rate; heavy ball's is "
              "(sqrt(kappa) - 1)/(sqrt(kappa) + 1)")),
}


def best_public() -> list[Case]:
    return [Case(f"{key}: the closed form of lesson 07, section 3", (key,))
            for key in ("lr", "momentum")] + [
        Case("rate: measured with course_lib's SGD at lr*, mu* (steps 300-400)", ("rate",))]


def _prediction(got: Any) -> dict[str, float]:
    keys = ("lr", "momentum", "rate")
    if not isinstance(got, dict) or set(got) != set(keys):
        raise Mismatch("a dict with the keys 'lr', 'momentum' and 'rate'", c.show(got),
                       "e.g. momentum_best_setting = {'lr': 0.1, 'momentum': 0.5, 'rate': 0.7}")
    return {k: c.number(got[k], k, "each value is one number") for k in keys}


def best_compare(case: Case, got: Any, after: tuple | None) -> None:
    (key,) = case.args
    value = _prediction(got)[key]
    expected = _measured_factor(_BEST["lr"], _BEST["momentum"], 300, 400) if key == "rate" \
        else _BEST[key]
    if abs(value - expected) <= _TOLERANCE[key]:
        return
    mistake = next((why for wrong, why in _BEST_MISTAKES[key] if abs(value - wrong) < 2e-3),
                   None)
    raise Mismatch(f"{key} = {expected:.4f} (within {_TOLERANCE[key]})", f"{value:.6g}",
                   "both extreme curvatures at the edge of the complex window: "
                   "lr * lambda_min = (1 - sqrt(mu))**2 and lr * lambda_max = (1 + sqrt(mu))**2",
                   mistake=mistake)


def best_comment(case: Case, got: Any) -> str:
    # the runner prints the comment once, after the pass line: it covers the whole prediction
    measured = _measured_factor(_BEST["lr"], _BEST["momentum"], 300, 400)
    yours = _measured_factor(float(got["lr"]), float(got["momentum"]), 300, 400)
    return (f"you predicted rate {float(got['rate']):.4f}; measured {measured:.4f} at lr* = 0.16, "
            f"mu* = 0.36 (a bit above 0.6: at the double root the error decays like k * 0.6**k), "
            f"and {yours:.4f} at your lr and momentum")


# --- momentum_sweep_reset (diagnose) ----------------------------------------------------------

def sweep_public() -> list[Case]:
    valley = Spec("ill_conditioned_quadratic", (10.0,))
    return [
        Case("one setting", (valley, _f([-4.0, 2.0]), [(0.05, 0.9)], 20)),
        Case("the same setting twice", (valley, _f([-4.0, 2.0]), [(0.05, 0.9), (0.05, 0.9)], 20)),
        Case("three settings", (valley, _f([-4.0, 2.0]), [(0.02, 0.5), (0.05, 0.9), (0.1, 0.0)],
                                15)),
        Case("a rotated valley", (Spec("rotated_quadratic", (25.0, 30.0)), _f([3.0, -1.0]),
                                  [(0.1, 0.44), (0.04, 0.7)], 10)),
    ]


def sweep_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        kappa, angle = float(rng.choice([4.0, 10.0, 25.0])), float(rng.choice([0.0, 45.0]))
        settings = [(float(rng.choice([0.01, 0.03, 0.05])), float(rng.choice([0.3, 0.6, 0.9])))
                    for _ in range(int(rng.integers(2, 5)))]
        cases.append(Case(f"hidden {k + 1}", (Spec("rotated_quadratic", (kappa, angle)),
                                              rng.uniform(-4, 4, size=2), settings,
                                              int(rng.integers(5, 25))), hidden=True))
    return cases


def _shared_buffer(objective, x0, settings, steps, reset_p=True):
    """The unfixed sweep: one buffer for all runs (and, with reset_p=False, one p too)."""
    buf, p, losses = np.zeros(len(x0)), np.array(x0, dtype=float), []
    for lr, mu in settings:
        p = np.array(x0, dtype=float) if reset_p else p
        for _ in range(steps):
            buf = mu * buf + objective.grad(p)
            p = p - lr * buf
        losses.append(float(objective.f(p)))
    return np.array(losses)


def sweep_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import SGD
    from ..training import minimize

    objective, x0, settings, steps = case.args
    expected = np.array([minimize(objective, SGD(lr=lr, momentum=mu), x0, steps,
                                  verbose=False).losses[-1] for lr, mu in settings])

    def diagnose(a: np.ndarray) -> str | None:
        if len(settings) > 1 and c.same(a, _shared_buffer(objective, x0, settings, steps)):
            return ("this still behaves like the code you were given: the first run is right, "
                    "and every later run ends somewhere else than the same setting run alone")
        if len(settings) > 1 and c.same(a, _shared_buffer(objective, x0, settings, steps, False)):
            return "every run must start from x0 and at rest (a fresh p and a fresh buf)"
        return None

    c.close(got, expected, "final losses", "each setting is its own run: the same result "
            "wherever it sits in the list", diagnose=diagnose)
    c.unchanged(x0, after, 1, "x0")


# --- momentum_lr_placement (diagnose) ---------------------------------------------------------

def placement_public() -> list[Case]:
    bowl = Spec("Quadratic", ([[1.0]],), {"name": "x^2/2"})
    return [
        Case("a constant lr", (bowl, _f([1.0]), [0.01] * 10)),
        Case("lr / 10 after step 5", (bowl, _f([1.0]), [0.01] * 5 + [0.001] * 5)),
        Case("a warm-up: lr rising from 0", (Spec("rotated_quadratic", (10.0, 30.0)),
                                             _f([2.0, -1.0]), [0.0, 0.005, 0.01, 0.02, 0.02])),
    ]


def placement_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        lrs = [float(v) for v in rng.choice([0.001, 0.01, 0.05], size=int(rng.integers(4, 12)))]
        cases.append(Case(f"hidden {k + 1}", (Spec("rotated_quadratic", (5.0, 45.0)),
                                              rng.uniform(-3, 3, size=2), lrs), hidden=True))
    return cases


def _keras_form(grad, x0, lrs, beta=0.9, momentum=0.9, eps=1e-8, lr_outside=False):
    """Keras's placement: the lr inside the buffer (the unfixed function); ``lr_outside``
    multiplies the step by lr once more (a half-done fix)."""
    x, v, buf, points = np.array(x0, dtype=float), 0.0, 0.0, []
    for lr in lrs:
        g = grad(x)
        v = beta * v + (1 - beta) * g**2
        buf = momentum * buf + lr * g / (np.sqrt(v) + eps)
        x = x - lr * buf if lr_outside else x - buf
        points.append(x)
    return np.array(points)


def placement_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import RMSprop
    from ..training import minimize

    objective, x0, lrs = case.args
    run = minimize(objective, RMSprop(lr=lrs[0], beta=0.9, eps=1e-8, momentum=0.9), x0,
                   len(lrs),
                   verbose=False, schedule=lambda k: lrs[k])
    expected = run.points[1:]

    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, _keras_form(objective.grad, x0, lrs)):
            return ("this still behaves like the code you were given: right while lr is "
                    "constant, but after lr changes it keeps moving at the old speed for about "
                    "1/(1 - momentum) steps, where PyTorch changes speed at once")
        if c.same(a, _keras_form(objective.grad, x0, lrs, lr_outside=True)):
            return "the learning rate appears twice now: in the buffer and in the step"
        return c.aliased_rows_hint(a, expected)

    c.close(got, expected, "points", "in PyTorch's form the buffer collects the normalised "
            "gradients alone, and the learning rate of the current step multiplies the whole "
            "buffer when p moves", diagnose=diagnose)
    c.unchanged(x0, after, 1, "x0")


# --- momentum_tune (tune) ---------------------------------------------------------------------

_TUNE_VALLEY, _TUNE_RADIUS, _TUNE_FROM, _TUNE_TO = 25.0, math.sqrt(20.0), 50, 60


def tune_public() -> list[Case]:
    return [Case(f"start point of seed {seed}", (seed,)) for seed in range(5)]


def tune_hidden(rng: np.random.Generator) -> list[Case]:
    return c.hidden_seed_cases(rng, first=5, n=5, stop=10**6)


def _tune_optimizer(got: Any) -> Any:
    from ..optim import SGD

    allowed = {"lr", "momentum", "nesterov"}
    if not isinstance(got, dict) or not {"lr", "momentum"} <= set(got) <= allowed:
        raise Mismatch("a dict with the keys 'lr' and 'momentum' (and optionally 'nesterov')",
                       c.show(got), "e.g. momentum_tune = {'lr': 0.05, 'momentum': 0.5}")
    try:
        return SGD(lr=got["lr"], momentum=got["momentum"], nesterov=got.get("nesterov", False))
    except (TypeError, ValueError) as exc:
        raise Mismatch("a setting SGD accepts", c.show(got), str(exc)) from None


def tune_start(seed: int) -> np.ndarray:
    """The start point of ``seed``: a random angle on the circle of radius sqrt(20)."""
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    return _TUNE_RADIUS * np.array([np.cos(angle), np.sin(angle)])


def tune_losses(setting: dict, seed: int) -> np.ndarray:
    """f at steps 0.._TUNE_TO of course_lib's SGD with ``setting`` from ``seed``'s start."""
    from ..objectives import ill_conditioned_quadratic
    from ..training import minimize

    run = minimize(ill_conditioned_quadratic(_TUNE_VALLEY), _tune_optimizer(setting),
                   tune_start(seed), _TUNE_TO, verbose=False)
    return run.losses


def _tune_mistake(got: dict, losses: np.ndarray) -> str | None:
    """The known reason a setting misses the goal, or None."""
    mu, lr = float(got["momentum"]), float(got["lr"])
    nesterov = bool(got.get("nesterov", False))
    limit = 2 * (1 + mu) / (1 + 2 * mu) if nesterov else 2 * (1 + mu)
    formula = "2(1 + mu)/(1 + 2 mu)" if nesterov else "2(1 + mu)"
    if len(losses) <= _TUNE_TO or not losses[-1] < losses[0]:
        return (f"the run diverges: along the steep direction lr * 25 = {lr * 25:.3g}, and it "
                f"must stay below {formula} = {limit:.3g} with mu = {mu:g}")
    if mu >= 0.8:
        return (f"with momentum {mu:g} the error shrinks by at least sqrt({mu:g}) = "
                f"{math.sqrt(mu):.3f} per step, slower than gradient descent's 12/13 = 0.923")
    if mu == 0:
        return "plain gradient descent needs about 100 steps here: add momentum"
    return None


def tune_compare(case: Case, got: Any, after: tuple | None) -> None:
    (seed,) = case.args
    losses = tune_losses(got, seed)
    late = losses[_TUNE_FROM:]
    if len(losses) == _TUNE_TO + 1 and np.all(late < 1e-6):
        return
    raise Mismatch(f"f < 1e-6 at every step from {_TUNE_FROM} to {_TUNE_TO}",
                   f"max f = {late.max():.3g} over those steps" if len(late) else
                   f"a blow-up after {len(losses) - 1} steps",
                   "section 3's map: the fast settings sit in a small region of (lr, momentum), "
                   "next to the divergence boundary", mistake=_tune_mistake(got, losses))


def tune_comment(case: Case, got: Any) -> str | None:
    (seed,) = case.args
    if seed != 0:
        return None  # one summary line, printed with the first case

    def first_below(setting: dict, seed: int) -> int:
        above = np.nonzero(tune_losses(setting, seed) >= 1e-6)[0]
        return int(above[-1]) + 1 if len(above) else 0

    yours = ", ".join(str(first_below(got, s)) for s in range(5))
    theory = ", ".join(str(first_below({"lr": 1 / 9, "momentum": 4 / 9}, s)) for s in range(5))
    return (f"f < 1e-6 for good from step {yours} on the five start points (goal: by step "
            f"{_TUNE_FROM}); section 3's lr = 1/9, momentum = 4/9 gives {theory}")


EXERCISES = {
    "momentum_step": Exercise("momentum_step", step_public, step_compare, step_hidden,
                              forbidden=("SGD",), lesson=_lesson("sections 2 (The heavy ball) and "
                                                                 "6 (Nesterov's look-ahead)")),
    "momentum_gd_rate": Exercise("momentum_gd_rate", gd_rate_public, gd_rate_compare,
                                 mode="value", comment=gd_rate_comment,
                                 lesson=_lesson("section 1 (Why gradient descent crawls "
                                                "along a valley)")),
    "momentum_best_setting": Exercise("momentum_best_setting", best_public, best_compare,
                                      mode="value", comment=best_comment,
                                      lesson=_lesson("section 3 (Eigenvalues: when momentum "
                                                     "converges, and how fast)")),
    "momentum_sweep_reset": Exercise("momentum_sweep_reset", sweep_public, sweep_compare,
                                     sweep_hidden, name="sweep_heavy_ball",
                                     forbidden=("SGD", "minimize"),
                                     lesson=_lesson("section 2 (The heavy ball)")),
    "momentum_lr_placement": Exercise("momentum_lr_placement", placement_public,
                                      placement_compare, placement_hidden,
                                      name="rmsprop_momentum_torch",
                                      forbidden=("RMSprop", "minimize"),
                                      lesson=_lesson("section 8 (What \"RMSprop with "
                                                     "momentum\" is)")),
    "momentum_tune": Exercise("momentum_tune", tune_public, tune_compare, tune_hidden,
                              mode="value", comment=tune_comment,
                              lesson=_lesson("sections 3 (Eigenvalues: when momentum "
                                             "converges, and how fast) and 4 (Measured: steps "
                                             "to 1e-6, every contender tuned)")),
    "momentum_why_not_09": Exercise("momentum_why_not_09", mode="explain",
                                    lesson=_lesson("sections 3 (Eigenvalues: when "
                                                   "momentum converges, and how fast) and 4 "
                                                   "(Measured: steps to 1e-6, every "
                                                   "contender tuned)")),
}
