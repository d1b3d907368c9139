"""Sheet 08 (RMSprop and its relatives): the cases and comparators of its seven exercises.

Expected values come from closed forms and from ``course_lib.optim`` (Adam and AMSGrad: Kingma
& Ba 2015, https://arxiv.org/abs/1412.6980, and Reddi, Kale & Kumar 2018,
https://openreview.net/forum?id=ryQu7f-RZ; Adadelta: Zeiler 2012,
https://arxiv.org/abs/1212.5701), never from the learner's code. The edge rule of
``sweep_best_lr`` is the one ``course_lib.tuning.tune`` applies (Bergstra & Bengio 2012,
https://jmlr.org/papers/v13/bergstra12a.html, for random search).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch, Spec
from . import _compare as c
from ._compare import floats as _f
from ._compare import hidden_arrays as _hidden_arrays

_LESSON = "../notebooks/08_rmsprop_and_relatives.ipynb"


def _where(section: str) -> str:
    return f"lesson 08, section {section}: {_LESSON}"


# --- sweep_best_lr ----------------------------------------------------------------------------

def _best_and_edge(lrs: np.ndarray, scores: np.ndarray) -> tuple[float | None, str | None]:
    """The closed rule: lowest finite score (ties: smallest lr); edge by value, ties count."""
    ok = np.isfinite(scores)
    if not ok.any():
        return None, None
    best = scores[ok].min()
    tied = lrs[ok & (scores == best)]
    edge = "low" if lrs.min() in tied else "high" if lrs.max() in tied else None
    return float(tied.min()), edge


def sweep_public() -> list[Case]:
    lrs = _f([0.001, 0.003, 0.01, 0.03, 0.1, 0.3])
    return [
        Case("a clear optimum inside the range", (lrs, _f([90, 60, 35, 41, 70, 200]))),
        Case("the best is the largest lr tried", (lrs, _f([300, 150, 80, 40, 20, 11]))),
        Case("the best is the smallest lr tried", (lrs, _f([12, 30, 60, 90, np.inf, np.inf]))),
        Case("diverged runs scored inf and nan", (lrs, _f([80, 40, 25, 30, np.nan, np.inf]))),
        Case("a NaN before the optimum", (lrs, _f([70, np.nan, 50, 20, 35, 44]))),
        Case("learning rates not in order", (_f([0.3, 0.01, 0.1, 0.001, 0.03]),
                                             _f([9, 40, 16, 70, 25]))),
        Case("a plateau of ties reaching the high edge", (lrs, _f([72, 8, 5, 4, 4, 4]))),
        Case("ties inside the range: the smallest lr among them", (lrs,
                                                                   _f([50, 9, 7, 7, 12, 60]))),
        Case("every run failed", (lrs[:4], _f([np.inf, np.nan, np.inf, np.inf]))),
    ]


def sweep_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(4):
        n = int(rng.integers(4, 9))
        lrs = 10.0 ** np.sort(rng.uniform(-4, 1, n))
        scores = rng.uniform(1, 100, n).round(1)
        if k == 1:
            scores[int(rng.choice([0, n - 1]))] = 0.5          # best on an edge
        scores[rng.random(n) < 0.2] = rng.choice([np.inf, np.nan])
        order = rng.permutation(n) if k >= 2 else np.arange(n)
        cases.append(Case(f"hidden {k + 1}", (lrs[order], scores[order]), hidden=True))
    return cases


def _sweep_mistake(lrs: np.ndarray, scores: np.ndarray, best: Any, edge: Any) -> str | None:
    want_best, want_edge = _best_and_edge(lrs, scores)
    if want_best is None:
        return "every run failed (inf or NaN): there is no best learning rate, return (None, None)"
    nan_best = np.isnan(scores) & np.isclose(lrs, best if isinstance(best, float) else -1.0)
    if nan_best.any():
        return ("a diverged run (score NaN) was picked as best: np.argmin and min treat NaN as "
                "the smallest; count NaN as failed, like inf")
    if isinstance(best, (int, np.integer)) and not isinstance(best, bool):
        return "return the learning rate itself, not its position in `lrs`"
    if isinstance(best, float) and np.isclose(best, lrs[np.argmax(np.where(np.isfinite(scores),
                                                                           scores, -np.inf))]):
        return "lower scores are better (they count steps or a loss): take the minimum"
    ends = {"low": lrs[0], "high": lrs[-1]}
    if edge in ends and want_edge != edge and best == ends[edge]:
        return ("the edges of the range are the smallest and the largest learning rate tried, "
                "not the first and last entries of `lrs`")
    if want_edge is not None and edge is None:
        return ("the best score sits on the edge of the searched range (a tie counts): the optimum "
                "may lie beyond it, so a fair sweep must say so instead of calling it best")
    return None


def sweep_compare(case: Case, got: Any, after: tuple | None) -> None:
    lrs, scores = case.args
    best, edge = c.pair(got, 2, "(best_lr, edge)")
    if isinstance(best, np.floating):
        best = float(best)
    want_best, want_edge = _best_and_edge(lrs, scores)
    hint = ("the best learning rate has the lowest finite score (ties: the smallest lr); edge is "
            "'low' or 'high' when a best score sits at the smallest or largest lr tried, else None")
    right_best = (best is None) if want_best is None else (
        isinstance(best, (float, int)) and not isinstance(best, bool)
        and np.isclose(best, want_best, rtol=1e-12, atol=0))
    if not right_best or edge != want_edge:
        raise Mismatch(c.show((want_best, want_edge)), c.show((best, edge)), hint,
                       _sweep_mistake(lrs, scores, best, edge))
    c.unchanged(lrs, after, 0, "lrs")
    c.unchanged(scores, after, 1, "scores")


# --- amsgrad_step -----------------------------------------------------------------------------

def amsgrad_public() -> list[Case]:
    def case(label, p, g, m, v, v_max, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        return Case(label, (p, g, m, v, v_max, t, lr),
                    {"beta1": beta1, "beta2": beta2, "eps": eps})

    return [
        case("the first step (t = 1, all state 0)", _f([1.0, -2.0]), _f([0.3, -40.0]),
             np.zeros(2), np.zeros(2), np.zeros(2), 1, 0.1),
        case("v falls below its maximum", _f([1.0, 2.0]), _f([0.01, -0.02]), _f([0.2, -0.1]),
             _f([0.4, 0.3]), _f([0.5, 0.3]), 4, 0.01),
        case("a large gradient raises the maximum", _f([0.5]), _f([3.0]), _f([0.1]), _f([0.2]),
             _f([0.25]), 3, 0.05, 0.9, 0.99),
        case("beta1 = 0, beta2 = 0.9", _f([1.0, -1.0]), _f([0.5, 2.0]), _f([0.3, 0.1]),
             _f([1.0, 0.1]), _f([2.0, 0.1]), 2, 0.1, 0.0, 0.9),
        case("a large eps (0.5)", _f([1.0]), _f([2.0]), _f([0.1]), _f([5.0]), _f([6.0]), 2, 1.0,
             0.9, 0.999, 0.5),
        case("float32", _f([1.0, -1.0], np.float32), _f([0.2, 0.3], np.float32),
             _f([0.1, 0.0], np.float32), _f([0.01, 0.0], np.float32),
             _f([0.02, 0.0], np.float32), 2, 0.01),
        case("the sixth step on a valley (state from five steps of course_lib's AMSGrad)",
             *_amsgrad_after_five(), 6, 0.3, 0.8, 0.99),
    ]


def _amsgrad_after_five() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(p, g, m, v, v_max) after five steps of Adam(amsgrad=True) on a rotated valley."""
    from ..objectives import rotated_quadratic
    from ..optim import Adam

    valley, p = rotated_quadratic(10.0, 30.0), _f([2.0, -1.0])
    optimizer = Adam(lr=0.3, beta1=0.8, beta2=0.99, amsgrad=True)
    for _ in range(5):
        optimizer.step(p, valley.grad(p))
    m, v, v_max = (np.array(optimizer.state[0][k], dtype=float) for k in ("m", "v", "v_max"))
    return p.copy(), valley.grad(p), m, v, v_max


def amsgrad_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        _dtype, (p, g, m, v) = _hidden_arrays(rng, 4)
        v = np.abs(v)
        v_max = v + np.abs(rng.normal(size=v.shape)).astype(v.dtype) * (rng.random(v.shape) < .5)
        t, lr = int(rng.integers(1, 30)), float(rng.choice([0.001, 0.01, 0.1]))
        beta1, beta2 = float(rng.choice([0.0, 0.5, 0.9])), float(rng.choice([0.9, 0.99, 0.999]))
        cases.append(Case(f"hidden {k + 1}", (p, g, m, v, v_max.astype(v.dtype), t, lr),
                          {"beta1": beta1, "beta2": beta2, "eps": 1e-8}, hidden=True))
    return cases


_OLD_V = "take the maximum with the NEW v (after this step's update), not with the old one"


def _amsgrad_rule(p, g, m, v, v_max, t, lr, b1, b2, eps, *, max_of="new", correct=True,
                  count=0, inside=False):
    """The rule and its known variants (the variants only name mistakes)."""
    m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    top = {"new": np.maximum(v_max, v_new), "old": np.maximum(v_max, v), "none": v_new,
           "hat": np.maximum(v_max, v_new / (1 - b2**t))}[max_of]
    tc = t + count
    c1, c2 = ((1 - b1**tc), (1 - b2**tc)) if correct else (1.0, 1.0)
    if max_of == "hat":
        c2 = 1.0
    with np.errstate(all="ignore"):
        d = np.sqrt(top / c2 + eps) if inside else np.sqrt(top / c2) + eps
        return p - lr * (m_new / c1) / d, m_new, v_new, top


def _amsgrad_diagnose(args: tuple, b1: float, b2: float, eps: float):
    variants: dict[str, dict[str, Any]] = {
        _OLD_V: {"max_of": "old"},
        "divide by the running maximum v_max, not by v: dividing by v is plain Adam":
            {"max_of": "none"},
        "keep the bias corrections: divide m by 1 - beta1**t and v_max by 1 - beta2**t":
            {"correct": False},
        "use the step number t as given (it already counts from 1)": {"count": -1},
        "this course adds eps outside the square root: sqrt(v_max / (1 - beta2**t)) + eps":
            {"inside": True},
    }

    def diagnose(a: np.ndarray) -> str | None:
        if args[5] == 1 and np.isnan(a).any():
            return "use the step number t as given (it already counts from 1): 1 - beta**0 is 0"
        full = (*args, b1, b2, eps)
        for message, kw in variants.items():
            if args[5] + kw.get("count", 0) >= 1 and c.same(a, _amsgrad_rule(*full, **kw)[0]):
                return message
        return None

    return diagnose


def _vmax_diagnose(v, v_new, v_max, b2, t):
    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, np.maximum(v_max, v)):
            return _OLD_V
        if c.same(a, v_new) and not c.same(v_new, np.maximum(v_max, v_new)):
            return ("v_max is the running maximum np.maximum(v_max, v): returning the new v and "
                    "dividing by it is plain Adam")
        if c.same(a, np.maximum(v_max, v_new / (1 - b2**t))):
            return "v_max keeps the raw v (as torch does); the bias correction comes when dividing"
        return None

    return diagnose


def amsgrad_compare(case: Case, got: Any, after: tuple | None) -> None:
    p, g, m, v, v_max, t, lr = case.args
    b1, b2 = case.kwargs.get("beta1", 0.9), case.kwargs.get("beta2", 0.999)
    eps = case.kwargs.get("eps", 1e-8)
    got_p, got_m, got_v, got_max = c.pair(got, 4, "(p, m, v, v_max)")
    p_new, m_new, v_new, top = _amsgrad_rule(p, g, m, v, v_max, t, lr, b1, b2, eps)

    def fixed_beta(a: np.ndarray) -> str | None:
        if b1 != 0.9 and c.same(a, 0.9 * m + 0.1 * g):
            return "use the beta1 passed to the function, not a fixed 0.9"
        return None

    c.close(got_m, m_new, "m", "m is the EWMA of the gradients", dtype=m.dtype.type,
            diagnose=fixed_beta)
    c.close(got_v, v_new, "v", "v is the EWMA of the squared gradients", dtype=v.dtype.type)
    c.close(got_max, top, "v_max", "v_max is the elementwise maximum, np.maximum, of the old v_max "
            "and the new v", dtype=v_max.dtype.type,
            diagnose=_vmax_diagnose(v, v_new, v_max, b2, t))
    c.close(got_p, p_new, "p", "AMSGrad is Adam with v_max in the denominator, "
            "p - lr * m_hat / (sqrt(v_max / (1 - beta2**t)) + eps), t counting from 1",
            dtype=p.dtype.type,
            diagnose=_amsgrad_diagnose((p, g, m, v, v_max, t, lr), b1, b2, eps))
    for index, name in ((0, "p"), (2, "m"), (3, "v"), (4, "v_max")):
        c.unchanged(case.args[index], after, index, name)


# --- adam_step_count (diagnose; the answer is run_adam) ---------------------------------------

def adam_run_public() -> list[Case]:
    def case(label, objective, x0, lr, steps, beta1=0.9, beta2=0.999):
        return Case(label, (objective, _f(x0), lr, steps),
                    {"beta1": beta1, "beta2": beta2, "eps": 1e-8})

    return [
        case("one step on a rotated valley", Spec("rotated_quadratic", (25.0, 45.0)),
             [2.0, -1.0], 0.1, 1),
        case("25 steps on a rotated valley", Spec("rotated_quadratic", (25.0, 45.0)),
             [2.0, -1.0], 0.1, 25),
        case("40 steps on Rosenbrock, beta1 = 0.5", Spec("Rosenbrock"), [-1.5, 2.0], 0.02, 40,
             0.5, 0.99),
        case("10 steps, beta2 = 0.9", Spec("SeedBowl"), [-4.5, 4.5], 0.5, 10, 0.9, 0.9),
    ]


def adam_run_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        kappa, angle = float(rng.choice([4.0, 25.0])), float(rng.choice([0.0, 30.0, 45.0]))
        cases.append(Case(f"hidden {k + 1}", (Spec("rotated_quadratic", (kappa, angle)),
                                              rng.uniform(-3, 3, 2), float(rng.choice([0.05, 0.3])),
                                              int(rng.integers(3, 30))),
                          {"beta1": float(rng.choice([0.5, 0.9])), "beta2": 0.999, "eps": 1e-8},
                          hidden=True))
    return cases


def _adam_points(objective, x0, lr, steps, b1, b2, eps, *, t_of=lambda k: k + 1,
                 correct_m=True, correct_v=True) -> np.ndarray:
    """Adam's points with a step count ``t_of(k)`` for loop index k (the variants only name
    mistakes; the expected points come from course_lib)."""
    p, m, v, points = np.array(x0, dtype=float), 0.0, 0.0, []
    points.append(p.copy())
    with np.errstate(all="ignore"):
        for k in range(steps):
            g, t = objective.grad(p), t_of(k)
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            m_hat = m / (1 - b1**t) if correct_m else m
            v_hat = v / (1 - b2**t) if correct_v else v
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
            points.append(p.copy())
    return np.array(points)


def _adam_run_diagnose(args: tuple, b1: float, b2: float, eps: float):
    variants: dict[str, dict[str, Any]] = {
        "this still behaves like the code you were given: every point after the start is nan, "
        "from the very first step on": {"t_of": lambda k: k},
        "removing the bias correction hides the nan but changes Adam: keep the correction and "
        "fix the step number instead": {"correct_m": False, "correct_v": False},
        "both m and v need their correction; only one of them is corrected":
            {"correct_v": False},
        "both m and v need their correction; only one of them is corrected ":
            {"correct_m": False},
        "clamping the step number (max(t, 1)) gives steps 1 and 2 the same t: t must be 1, 2, 3, "
        "... for steps 1, 2, 3, ...": {"t_of": lambda k: max(k, 1)},
        "the step number is one too large: t is 1 on the first step, 2 on the second, ...":
            {"t_of": lambda k: k + 2},
    }

    def diagnose(a: np.ndarray) -> str | None:
        full = (*args, b1, b2, eps)
        for message, kw in variants.items():
            twin = _adam_points(*full, **kw)
            if a.shape == twin.shape and np.array_equal(np.isnan(a), np.isnan(twin)) and (
                    c.same(np.nan_to_num(a), np.nan_to_num(twin))):
                return message.strip()
        return None

    return diagnose


def adam_run_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import Adam
    from ..training import minimize

    objective, x0, lr, steps = case.args
    b1, b2 = case.kwargs.get("beta1", 0.9), case.kwargs.get("beta2", 0.999)
    eps = case.kwargs.get("eps", 1e-8)
    expected = minimize(objective, Adam(lr=lr, beta1=b1, beta2=b2, eps=eps), x0, steps,
                        verbose=False).points
    c.close(got, expected, "points", "Adam's m and v are EWMAs that start at 0; the bias "
            "corrections divide them by 1 - beta1**t and 1 - beta2**t with t = 1 on the first "
            "step", diagnose=_adam_run_diagnose((objective, x0, lr, steps), b1, b2, eps))
    c.unchanged(x0, after, 1, "x0")


# --- adadelta_numerator (diagnose; the answer is adadelta_step) -------------------------------

def adadelta_public() -> list[Case]:
    def case(label, p, g, v, u, lr=1.0, beta=0.9, eps=1e-6):
        return Case(label, (p, g, v, u), {"lr": lr, "beta": beta, "eps": eps})

    return [
        case("the first step (v = u = 0)", _f([1.0, -2.0]), _f([0.3, -40.0]), np.zeros(2),
             np.zeros(2)),
        case("a later step (u > 0)", _f([1.0, 2.0]), _f([0.5, -1.0]), _f([0.4, 0.9]),
             _f([1e-4, 4e-4])),
        case("torch's multiplier lr = 0.5", _f([1.0]), _f([2.0]), _f([1.0]), _f([1e-3]), 0.5),
        case("beta = 0.95, eps = 1e-4", _f([0.0, 3.0]), _f([1.0, 0.0]), np.zeros(2),
             np.zeros(2), 1.0, 0.95, 1e-4),
        case("float32", _f([1.0, -1.0], np.float32), _f([0.2, 0.3], np.float32),
             _f([0.1, 0.0], np.float32), _f([0.001, 0.0], np.float32)),
        case("the 21st step on Rosenbrock (state from 20 steps of course_lib's Adadelta)",
             *_adadelta_after_twenty(), 1.0, 0.9, 1e-6),
    ]


def _adadelta_after_twenty() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(p, g, v, u) after 20 steps of Adadelta (torch's defaults) on Rosenbrock."""
    from ..objectives import Rosenbrock
    from ..optim import Adadelta

    rosen, p, optimizer = Rosenbrock(), _f([-1.5, 2.0]), Adadelta()
    for _ in range(20):
        optimizer.step(p, rosen.grad(p))
    v, u = (np.array(optimizer.state[0][k], dtype=float) for k in ("v", "u"))
    return p.copy(), rosen.grad(p), v, u


def adadelta_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        _dtype, (p, g, v, u) = _hidden_arrays(rng, 4)
        u = np.abs(u) * 1e-3 if k else 0 * u
        cases.append(Case(f"hidden {k + 1}", (p, g, np.abs(v), u),
                          {"lr": float(rng.choice([1.0, 0.5, 2.0])),
                           "beta": float(rng.choice([0.9, 0.95])), "eps": 1e-6}, hidden=True))
    return cases


def _adadelta_rule(p, g, v, u, lr, beta, eps, *, top="inside", u_with_lr=False):
    v_new = beta * v + (1 - beta) * g * g
    numerator = {"inside": np.sqrt(u + eps), "none": np.sqrt(u), "outside": np.sqrt(u) + eps,
                 "lr": 1.0}[top]
    delta = numerator / np.sqrt(v_new + eps) * g
    step = lr * delta
    u_new = beta * u + (1 - beta) * (step if u_with_lr else delta) ** 2
    return p - step, v_new, u_new


def _adadelta_diagnose(args: tuple, which: int):
    variants: dict[str, dict[str, Any]] = {
        "this still behaves like the code you were given: from u = 0 the step is exactly 0, so "
        "p never moves and u stays 0": {"top": "none"},
        "Zeiler (and torch) put eps inside both roots, sqrt(u + eps) / sqrt(v + eps), so the "
        "first step is not tiny":
            {"top": "outside"},
        "that is RMSprop's step (lr * g / sqrt(v)): Adadelta's numerator is the RMS of its own "
        "past updates, sqrt(u + eps)": {"top": "lr"},
        "u averages the squared update before torch's multiplier lr, delta**2, not "
        "(lr * delta)**2": {"u_with_lr": True},
    }

    def diagnose(a: np.ndarray) -> str | None:
        for message, kw in variants.items():
            with np.errstate(all="ignore"):
                twin = _adadelta_rule(*args, **kw)[which]
            if c.same(a, twin):
                return message
        return None

    return diagnose


def adadelta_compare(case: Case, got: Any, after: tuple | None) -> None:
    p, g, v, u = case.args
    lr, beta, eps = (case.kwargs.get(k, d) for k, d in (("lr", 1.0), ("beta", 0.9),
                                                        ("eps", 1e-6)))
    got_p, got_v, got_u = c.pair(got, 3, "(p, v, u)")
    args = (p, g, v, u, lr, beta, eps)
    p_new, v_new, u_new = _adadelta_rule(*args)
    c.close(got_v, v_new, "v", "v is the EWMA of the squared gradients", dtype=v.dtype.type)
    c.close(got_p, p_new, "p", "delta = sqrt(u + eps) / sqrt(v + eps) * g with the OLD u and "
            "the new v; p moves by lr * delta", dtype=p.dtype.type,
            diagnose=_adadelta_diagnose(args, 0))
    c.close(got_u, u_new, "u", "u is the EWMA of the squared updates delta**2",
            dtype=u.dtype.type, diagnose=_adadelta_diagnose(args, 2))
    for index, name in ((0, "p"), (2, "v"), (3, "u")):
        c.unchanged(case.args[index], after, index, name)


# --- predict_adadelta_step --------------------------------------------------------------------

_PREDICT_TOL = 0.10  #: a prediction within 10 % of the measured step passes


def _adadelta_first_step(g: float, beta: float, eps: float) -> float:
    """The length of course_lib's first Adadelta step (lr = 1) under gradient g."""
    from ..optim import Adadelta

    p = np.zeros(1)
    Adadelta(beta=beta, eps=eps).step(p, np.array([g]))
    return float(abs(p[0]))


def predict_public() -> list[Case]:
    return [Case("measured: course_lib's Adadelta(beta=0.95, eps=1e-6), first step, g = 40",
                 (40.0, 0.95, 1e-6))]


def predict_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (float(10 ** rng.uniform(-1, 3)), 0.95, 1e-6), hidden=True)
            for k in range(2)]


def _predict_mistake(value: float, g: float, beta: float, eps: float) -> str | None:
    known = {
        1.0: "lr = 1 is torch's multiplier, not the step: the step is sqrt(u + eps) / "
             "sqrt(v + eps) * g",
        g: "that is lr * g, a gradient-descent step; Adadelta divides g by the RMS of the "
           "gradients",
        np.sqrt(eps): "at t = 1, v = (1 - beta) g**2 already: the denominator is "
                      "sqrt((1 - beta) g**2), not |g|",
        1 / np.sqrt(1 - beta): "that is RMSprop's first step with lr = 1; in Adadelta the "
                               "numerator at t = 1 is sqrt(eps), not lr",
        np.sqrt(eps * (1 - beta)): "the (1 - beta) divides: v_1 = (1 - beta) g**2 is in the "
                                   "denominator",
        np.sqrt(eps / 0.1): "that is the step for beta = 0.9 (the lesson's table); here beta "
                            "= 0.95",
    }
    for wrong, message in known.items():
        if np.isclose(value, wrong, rtol=_PREDICT_TOL):
            return message
    return None


def predict_compare(case: Case, got: Any, after: tuple | None) -> None:
    g, beta, eps = case.args
    value = c.number(got, "predict_adadelta_step", "write your prediction as one number, e.g. "
                     "predict_adadelta_step = 0.01")
    measured = _adadelta_first_step(g, beta, eps)
    if not abs(value - measured) <= _PREDICT_TOL * measured:
        raise Mismatch(f"a step within 10 % of the measured {measured:.4g}", f"{value:.4g}",
                       "at t = 1, u = 0 and v = (1 - beta) g**2: write the step down with these "
                       "and see what is left of g", _predict_mistake(value, g, beta, eps))


def predict_comment(case: Case, got: Any) -> str | None:
    g, beta, eps = case.args
    measured = _adadelta_first_step(g, beta, eps)
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    gap = value / measured - 1
    return (f"You predicted {value:.4g}; measured {measured:.4g} (gap {gap:+.1%}). "
            f"sqrt(eps / (1 - beta)) = {np.sqrt(eps / (1 - beta)):.4g}, whatever the gradient: "
            "the first step is set by eps, a hidden learning rate.")


# --- tune_adam_valley -------------------------------------------------------------------------

_KAPPA, _F0, _STEPS, _HOLD, _TOL, _NEEDED = 25.0, 50.0, 80, 20, 1e-6, 3
_ADAM_KEYS = ("lr", "beta1", "beta2", "eps")


def valley_start(seed: int, kappa: float = _KAPPA, f0: float = _F0) -> np.ndarray:
    """Lesson 08's start for ``seed``: a random direction on the level set f = f0 of the
    axis-aligned valley, turned by 45 degrees with it."""
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    d = np.array([np.cos(angle), np.sin(angle)])
    point = d * np.sqrt(2 * f0 / (d[0] ** 2 + kappa * d[1] ** 2))
    turn = np.deg2rad(45.0)
    return np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]) @ point


def tune_public() -> list[Case]:
    return [Case(f"starts {s}-{s + 4}" + (" (the lesson's five)" if s == 0 else ""),
                 (tuple(range(s, s + 5)),)) for s in (0, 5, 10)]


def tune_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (tuple(int(x) for x in rng.integers(15, 10**6, 5)),),
                 hidden=True) for k in range(3)]


def _valley_losses(setting: dict, seed: int) -> np.ndarray:
    """f at steps 0 .. _STEPS + _HOLD of Adam(**setting) from the seed's start."""
    from ..objectives import rotated_quadratic
    from ..optim import Adam
    from ..training import minimize

    run = minimize(rotated_quadratic(_KAPPA, 45.0), Adam(**setting), valley_start(seed),
                   _STEPS + _HOLD, verbose=False)
    losses = np.full(_STEPS + _HOLD + 1, np.inf)
    losses[: len(run.losses)] = run.losses
    return losses


def _setting(got: Any) -> dict:
    if not isinstance(got, dict) or "lr" not in got:
        raise Mismatch("a dict such as {\"lr\": 0.1, \"beta1\": 0.9, \"beta2\": 0.999}",
                       c.show(got), "the answer is the setting itself: a dict of Adam's "
                       "hyperparameters, with at least \"lr\"")
    unknown = sorted(set(got) - set(_ADAM_KEYS))
    if unknown:
        raise Mismatch(f"keys among {_ADAM_KEYS}", f"the keys {unknown}", "tune Adam's own "
                       "hyperparameters: lr, beta1, beta2, and eps if you like",
                       "course_lib's Adam takes beta1 and beta2 separately, not torch's "
                       "betas=(beta1, beta2)" if "betas" in unknown else None)
    try:
        return {k: float(v) for k, v in got.items()}
    except (TypeError, ValueError):
        raise Mismatch("numbers as the values", c.show(got), "write each hyperparameter as a "
                       "number, e.g. {\"lr\": 0.5, \"beta1\": 0.8}") from None


def _tune_mistake(setting: dict, worst: np.ndarray) -> str | None:
    if not np.isfinite(worst).all() or worst.max() > 100 * _F0:
        return "the loss ended far above where it started: the learning rate is far too large"
    beta1, beta2 = setting.get("beta1", 0.9), setting.get("beta2", 0.999)
    if beta1 >= 0.85:
        return (f"with beta1 = {beta1:g} Adam needs about 160 steps here whatever lr is (lesson "
                "08's ablation): too much momentum for this valley")
    if beta2 < 0.99:
        return ("a short second-moment memory (beta2 below 0.99) keeps the steps about lr long, "
                "so the iterate circles the minimum instead of settling")
    return None


def tune_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import Adam

    setting, (seeds,) = _setting(got), case.args
    try:
        Adam(**setting)
    except (TypeError, ValueError) as exc:
        raise Mismatch("a setting Adam accepts", c.show(got), str(exc)) from None
    worst = np.array([_valley_losses(setting, seed)[_STEPS:].max() for seed in seeds])
    arrived = int(np.sum(worst < _TOL))
    if arrived >= _NEEDED:
        return
    raise Mismatch(f"f < {_TOL:g} from step {_STEPS} to {_STEPS + _HOLD} for at least "
                   f"{_NEEDED} of the {len(seeds)} starts",
                   f"{arrived} of {len(seeds)} (worst f after step {_STEPS}: "
                   f"{c.show(worst)})",
                   "look at the lesson's tuned table and its ablation: which beta1 and beta2 did "
                   "the search find, and with which lr?", _tune_mistake(setting, worst))


def tune_comment(case: Case, got: Any) -> str | None:
    setting, firsts = _setting(got), []
    for seed in case.args[0]:
        below = _valley_losses(setting, seed) < _TOL
        held = [below[k:k + _HOLD + 1].all() for k in range(_STEPS + 1)]
        firsts.append(int(np.argmax(held)) if any(held) else None)
    shown = ", ".join("-" if k is None else str(k) for k in firsts)
    return (f"Your setting arrived (f < {_TOL:g} for good) at steps {shown} from the lesson's "
            f"five starts (-: not by step {_STEPS}).")


# --- memory_conclusion (explain) --------------------------------------------------------------

EXERCISES = {
    "sweep_best_lr": Exercise("sweep_best_lr", sweep_public, sweep_compare, sweep_hidden,
                              lesson=_where("4.1 (How the contenders are tuned) and 4.3 (The "
                                            "axis-aligned valley: nothing left to tune)")),
    "amsgrad_step": Exercise("amsgrad_step", amsgrad_public, amsgrad_compare, amsgrad_hidden,
                             forbidden=("Adam",),
                             lesson=_where("7.3 (Two later variants: AMSGrad and AdamW) and 1 "
                                           "(Adam's rule)")),
    "adam_step_count": Exercise("adam_step_count", adam_run_public, adam_run_compare,
                                adam_run_hidden, name="run_adam", forbidden=("Adam", "minimize"),
                                lesson=_where("7.1 (Adam = momentum + RMSprop + bias "
                                              "correction)")),
    "adadelta_numerator": Exercise("adadelta_numerator", adadelta_public, adadelta_compare,
                                   adadelta_hidden, name="adadelta_step",
                                   forbidden=("Adadelta",),
                                   lesson=_where("6 (Adadelta: \"no learning rate\", and "
                                                 "units)")),
    "predict_adadelta_step": Exercise("predict_adadelta_step", predict_public, predict_compare,
                                      predict_hidden, mode="value", comment=predict_comment,
                                      lesson=_where("6 (Adadelta: \"no learning rate\", and "
                                                    "units)")),
    "tune_adam_valley": Exercise("tune_adam_valley", tune_public, tune_compare, tune_hidden,
                                 mode="value", comment=tune_comment,
                                 lesson=_where("4.1 (the tuned table) and 7.2 (Ablations: which "
                                               "ingredient does the work?)")),
    "memory_conclusion": Exercise("memory_conclusion", mode="explain",
                                  lesson=_where("7.2 (Ablations: which ingredient does the "
                                                "work?)")),
}
