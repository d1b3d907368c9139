"""Sheet 03 (EWMA): the cases and comparators of its seven exercises.

Expected values come from closed forms and from ``course_lib.ewma``, never from the learner's
code. The bias correction is Kingma & Ba's (2015, section 3, https://arxiv.org/abs/1412.6980);
RMSprop's running average of squared gradients is Hinton's (lecture 6e,
http://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch
from . import _compare as c
from ._compare import floats as _f

_LESSON = "../notebooks/03_ewma.ipynb"


def _lesson(section: str) -> str:
    return f"lesson 03, section {section}: {_LESSON}"


def recurrence(xs: np.ndarray, keep: float, mix: float, corrected: bool = False,
               feedback: bool = False, offset: int = 0) -> np.ndarray:
    """``v = keep * v + mix * x`` from ``v_0 = 0``, one output per row of ``xs``; ``corrected``
    divides by ``1 - keep**(t + offset)``; ``feedback`` stores the corrected value back in v.

    With keep = beta and mix = 1 - beta this is the EWMA; the other settings are the known
    mistakes (swapped weights, a missing 1 - beta, t counted from 0, the correction fed back)."""
    x = np.asarray(xs, dtype=float)
    v, out = np.zeros_like(x[0]), []
    with np.errstate(all="ignore"):
        for t, x_t in enumerate(x, start=1):
            v = keep * v + mix * x_t
            shown = v / (1 - keep ** (t + offset)) if corrected else v
            v = shown if feedback else v
            out.append(shown)
    return np.array(out)


def _ewma_mistake(a: np.ndarray, xs: np.ndarray, beta: float, corrected: bool) -> str | None:
    """The known mistakes of an EWMA (bias-corrected or not), by name."""
    # Only called on a wrong answer, so a mistake that coincides with the right answer for
    # this beta (swapped weights at beta = 0.5) can never be named by accident.
    plain = recurrence(xs, beta, 1 - beta)
    if corrected and c.same(a, plain):
        return "bias_correction=True must divide each v_t by 1 - beta**t"
    if corrected and len(a) > 1 and c.same(a[1:], recurrence(xs, beta, 1 - beta, True,
                                                             offset=-1)[1:]):
        return "t counts from 1 for the first value: v_1 / (1 - beta**1)"
    if corrected and c.same(a, recurrence(xs, beta, 1 - beta, True, offset=1)):
        return "t counts from 1 for the first value, not from 2: v_1 / (1 - beta**1)"
    if corrected and c.same(a, recurrence(xs, beta, 1 - beta, True, feedback=True)):
        return ("the corrected value is fed back into the average: keep v itself uncorrected "
                "and divide only the value you return")
    if c.same(a, recurrence(xs, 1 - beta, beta, corrected)):
        return "the weights are swapped: beta multiplies the old average, 1 - beta the new value"
    if c.same(a, recurrence(xs, beta, 1.0, corrected)):
        return "the new value is mixed in without its weight (1 - beta)"
    if not corrected and len(a) and np.allclose(a[0], xs[0]):
        return "start from v_0 = 0, not from the first value"
    return None


# --- ewma_series (implement) ------------------------------------------------------------------


def series_public() -> list[Case]:
    rng = np.random.default_rng(3)

    def case(label, xs, beta, corrected):
        return Case(label, (xs, beta), {"bias_correction": corrected})

    return [
        case("five values, beta = 0.8", _f([4.0, 8.0, 6.0, 10.0, 2.0]), 0.8, False),
        case("beta = 0 returns the values", _f([1.0, -2.0, 3.0]), 0.0, True),
        case("a single value, corrected", _f([5.0]), 0.9, True),
        case("bias correction of a constant gives the constant", np.full(6, 3.0), 0.9, True),
        case("bias correction, beta = 0.9", _f([1.0, 2.0, 0.0, 4.0]), 0.9, True),
        case("two series side by side (time along the rows)",
             _f([[1.0, 10.0], [2.0, 0.0], [0.0, 5.0]]), 0.7, False),
        case("two series side by side, corrected", _f([[9.0, 1.0], [1.0, 1.0], [4.0, 0.0]]),
             0.9, True),
        case("a long noisy series, beta = 0.99", rng.normal(size=400), 0.99, False),
        case("float32 values", _f([2.0, 0.0, 1.0], np.float32), 0.8, True),
    ]


def series_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        shape = (int(rng.integers(1, 30)),) + ((int(rng.integers(1, 4)),) if k == 2 else ())
        cases.append(Case(f"hidden {k + 1}", (rng.normal(size=shape),
                                              float(rng.choice([0.6, 0.9, 0.95]))),
                          {"bias_correction": bool(k % 2)}, hidden=True))
    return cases


def series_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..ewma import ewma

    xs, beta = case.args
    corrected = case.kwargs.get("bias_correction", False)
    c.close(got, ewma(xs, beta, bias_correction=corrected), "averages",
            "v_t = beta * v_(t-1) + (1 - beta) * x_t from v_0 = 0, one output per row of xs",
            diagnose=lambda a: _ewma_mistake(a, xs, beta, corrected), rtol=2e-6, atol=1e-7)
    c.unchanged(xs, after, 0, "xs")


# --- corrected_ewma (diagnose) ----------------------------------------------------------------


def fix_public() -> list[Case]:
    return [
        Case("a constant series of 5s, beta = 0.9 (every corrected value is 5)",
             (np.full(5, 5.0), 0.9)),
        Case("a series that changes, beta = 0.8", (_f([10.0, 0.0, 10.0, 4.0]), 0.8)),
        Case("a single value", (_f([2.5]), 0.99)),
        Case("a long series, beta = 0.95", (np.linspace(-1.0, 3.0, 60), 0.95)),
    ]


def fix_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (rng.normal(size=int(rng.integers(2, 40))),
                                     float(rng.choice([0.7, 0.9, 0.99]))), hidden=True)
            for k in range(3)]


def _fix_mistake(a: np.ndarray, xs: np.ndarray, beta: float) -> str | None:
    # The shipped bug is described by its symptom only, so the message does not give the fix.
    if c.same(a, recurrence(xs, beta, 1 - beta, True, feedback=True)):
        return ("this still behaves like the code you were given: after the first step its "
                "values drift away from a proper weighted average (on a constant series they "
                "grow instead of staying at the constant)")
    return _ewma_mistake(a, xs, beta, True)


def fix_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..ewma import ewma

    xs, beta = case.args
    c.close(got, ewma(xs, beta, bias_correction=True), "corrected averages",
            "correct the output, v_t / (1 - beta**t), not the running average itself; a "
            "constant series must come out as that constant at every step",
            diagnose=lambda a: _fix_mistake(a, xs, beta), rtol=1e-9, atol=1e-12)
    c.unchanged(xs, after, 0, "xs")


# --- rms_of_gradients (diagnose) -------------------------------------------------------------


def rms_public() -> list[Case]:
    flipping = 2.0 * (-1.0) ** np.arange(1, 61)
    rng = np.random.default_rng(9)
    return [
        Case("a gradient of size 2 that flips sign, beta = 0.9 (the RMS settles at 2)",
             (flipping, 0.9)),
        Case("two parameters of very different scales, beta = 0.99",
             (rng.normal(size=(40, 2)) * _f([10.0, 0.1]), 0.99)),
        Case("beta = 0 keeps only the latest gradient", (_f([3.0, -1.0, 0.5]), 0.0)),
        Case("a single step", (_f([[4.0, -0.5]]), 0.9)),
    ]


def rms_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        shape = (int(rng.integers(1, 40)),) + ((int(rng.integers(1, 4)),) if k else ())
        cases.append(Case(f"hidden {k + 1}", (rng.normal(size=shape) * 3,
                                              float(rng.choice([0.5, 0.9, 0.99]))),
                          hidden=True))
    return cases


def _rms_mistake(a: np.ndarray, g: np.ndarray, beta: float) -> str | None:
    with np.errstate(all="ignore"):
        if c.same(a, np.sqrt(recurrence(g * g, beta, 1.0))):  # the shipped bug: its symptom
            return (f"this still behaves like the code you were given: with beta = {beta:g}, "
                    f"for gradients of a steady size the RMS settles "
                    f"{1 / np.sqrt(1 - beta):.3g} times above that size")
        if c.same(a, recurrence(g * g, beta, 1 - beta)):
            return "that is v itself: return its square root, the RMS"
        of_g = np.sqrt(recurrence(g, beta, 1 - beta))  # nan where the average is negative
        if a.shape == of_g.shape and np.allclose(a, of_g, equal_nan=True):
            return "average the squared gradients, not the gradients: the sign must not matter"
        if c.same(a, np.sqrt(recurrence(g * g, beta, 1 - beta, corrected=True))):
            return "RMSprop keeps its average uncorrected: return sqrt(v_t) itself"
    return None


def rms_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..ewma import ewma

    grads, beta = case.args
    c.close(got, np.sqrt(ewma(grads**2, beta)), "RMS", "v_t = beta * v_(t-1) + "
            "(1 - beta) * g_t**2 from v_0 = 0, and the RMS is sqrt(v_t)",
            diagnose=lambda a: _rms_mistake(a, grads, beta), rtol=1e-9, atol=1e-12)
    c.unchanged(grads, after, 0, "grads")


# --- predict_half_jump (predict) --------------------------------------------------------------

JUMP_BETA, JUMP_AT = 0.96, 100


def measured_half_jump(beta: float = JUMP_BETA) -> int:
    """Steps after the jump until course_lib's EWMA first covers half of it."""
    from ..ewma import ewma

    jump = np.r_[np.zeros(JUMP_AT), np.ones(400)]
    response = ewma(jump, beta)[JUMP_AT:]  # response[k - 1] is k steps after the jump
    return int(np.argmax(response >= 0.5)) + 1


def jump_public() -> list[Case]:
    return [Case(f"an EWMA with beta = {JUMP_BETA} after a jump from 0 to 1", (JUMP_BETA,))]


def _jump_mistake(k: float, beta: float) -> str | None:
    known = {
        1 / (1 - beta): "that is the effective window 1/(1 - beta): after one window the "
                        "average has covered about 63% of the jump, not half",
        beta / (1 - beta): "beta/(1 - beta) is how far the average trails a steadily rising "
                           "signal, not how long it takes to cover half of a jump",
        0.5 / (1 - beta): "half the window is too short: the weights fall off exponentially, "
                          "so the average covers 1 - beta**k of the jump after k steps",
    }
    nearest = min(known, key=lambda value: abs(k - value))
    return known[nearest] if abs(k - nearest) <= 0.5 else None


def jump_compare(case: Case, got: Any, after: tuple | None) -> None:
    (beta,) = case.args
    k = c.number(got, "a number of steps", "write one number, your predicted number of steps")
    measured = measured_half_jump(beta)
    if not (math.isfinite(k) and abs(k - measured) <= 1):
        raise Mismatch(f"a prediction within 1 step of the measured {measured} steps",
                       c.show(k), "after k steps the average has covered 1 - beta**k of the "
                       "jump: solve 1 - beta**k = 1/2 for k",
                       mistake=_jump_mistake(k, beta))


def jump_comment(case: Case, got: Any) -> str:
    measured = measured_half_jump(case.args[0])
    return (f"you predicted {float(got):.4g} steps; measured {measured} (the first step at "
            f"which course_lib's EWMA reaches 0.5), a gap of {abs(float(got) - measured):.2g}")


# --- tune_ewma_beta (tune) --------------------------------------------------------------------

TRACK_PERIOD, TRACK_NOISE, TRACK_LENGTH, TRACK_GOAL = 1000, 1.0, 4000, 0.21


def tracking_series(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(signal, noisy series): a slow sine wave and the same with white noise of std 1."""
    t = np.arange(1, TRACK_LENGTH + 1)
    signal = np.sin(2 * np.pi * t / TRACK_PERIOD)
    noise = TRACK_NOISE * np.random.default_rng(seed).normal(size=t.size)
    return signal, signal + noise


def tracking_error(beta: float, seed: int) -> float:
    """RMS distance between the bias-corrected EWMA of the noisy series and the signal."""
    from ..ewma import ewma

    signal, noisy = tracking_series(seed)
    return float(np.sqrt(np.mean((ewma(noisy, beta, bias_correction=True) - signal) ** 2)))


def track_public() -> list[Case]:
    return [Case(f"the series of seed {seed}", (seed,)) for seed in range(3)]


def track_hidden(rng: np.random.Generator) -> list[Case]:
    return c.hidden_seed_cases(rng, first=3)


def _track_beta(got: Any) -> float:
    beta = c.one_setting(got, "beta", "decay rate")
    if not 0.0 <= beta < 1.0:
        raise Mismatch("a decay rate in [0, 1)", c.show(beta), "a decay rate is in [0, 1)")
    return beta


def track_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..ewma import ewma

    beta = _track_beta(got)
    (seed,) = case.args
    error = tracking_error(beta, seed)
    if error < TRACK_GOAL:
        return
    signal, _ = tracking_series(seed)
    lag = float(np.sqrt(np.mean((ewma(signal, beta, bias_correction=True) - signal) ** 2)))
    noise = TRACK_NOISE * math.sqrt((1 - beta) / (1 + beta))
    mistake = (f"too little smoothing: the noise left alone has a std of about "
               f"{noise:.3g}, more than the goal" if noise >= lag else
               f"too much smoothing: the lag alone costs {lag:.3g}, since the average trails the "
               f"signal by about {beta / (1 - beta):.3g} steps")
    raise Mismatch(f"a tracking error below {TRACK_GOAL:g}", f"{error:.4g} (beta = {beta:g})",
                   "noise left and lag pull in opposite directions: balance the two",
                   mistake=mistake)


def track_comment(case: Case, got: Any) -> str:
    error = tracking_error(float(got["beta"]), case.args[0])
    return f"tracking error {error:.4f} (goal below {TRACK_GOAL:g})"


# --- choose_beta (implement) ------------------------------------------------------------------


def beta_public() -> list[Case]:
    return [
        Case("noise 0.4 down to 0.1, half-life <= 10", (0.4, 0.1, 10.0)),
        Case("noise 1.0 down to 0.2, half-life <= 20", (1.0, 0.2, 20.0)),
        Case("noise already small enough (0.5 allowed 0.5)", (0.5, 0.5, 3.0)),
        Case("strong smoothing: 2.0 down to 0.1, half-life <= 200", (2.0, 0.1, 200.0)),
        Case("a tight window: 0.3 down to 0.2, half-life <= 1", (0.3, 0.2, 1.0)),
    ]


def beta_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        noise = float(rng.uniform(0.5, 2.0))
        target = noise * float(rng.uniform(0.2, 0.6))
        r = target / noise
        low = (1 - r * r) / (1 + r * r)
        max_half = math.ceil(math.log(0.5) / math.log(low)) + 5.0  # always solvable
        cases.append(Case(f"hidden {k + 1}", (noise, target, max_half), hidden=True))
    return cases


def beta_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..ewma import half_life

    noise, target, max_half = case.args
    beta = c.number(got, "a decay rate beta", "return one number between 0 and 1")
    r = target / noise
    low, high = max(0.0, (1 - r * r) / (1 + r * r)), 0.5 ** (1 / max_half)
    wanted = f"beta in [{low:.4f}, {high:.4f}]"
    if not (0.0 <= beta < 1.0):
        raise Mismatch(wanted, c.show(beta), "a decay rate is in [0, 1)")
    left = noise * math.sqrt((1 - beta) / (1 + beta))
    if left > target * (1 + 1e-9):
        mistake = ("(1 - beta)/(1 + beta) is the ratio of the variances: compare it with the "
                   "squared ratio of the standard deviations" if
                   math.isclose(beta, (1 - r) / (1 + r), rel_tol=1e-6) else None)
        raise Mismatch(wanted, f"{c.show(beta)}, which leaves noise of std {left:.4g} (more "
                       f"than {target:g})", "more smoothing needs a larger beta: solve the noise "
                       "formula of lesson 3 for beta", mistake=mistake)
    if half_life(beta) > max_half * (1 + 1e-9):
        raise Mismatch(wanted, f"{c.show(beta)}, whose half-life is {half_life(beta):.4g} steps "
                       f"(more than {max_half:g})", "smooth no more than needed: the smallest "
                       "beta that meets the noise target reacts fastest")


EXERCISES = {
    "ewma_series": Exercise("ewma_series", series_public, series_compare, series_hidden,
                            forbidden=("ewma",), lesson=_lesson("5 (The start-up bias, and how "
                                                                "to remove it)")),
    "corrected_ewma": Exercise("corrected_ewma", fix_public, fix_compare, fix_hidden,
                               forbidden=("ewma",), lesson=_lesson("5 (The start-up bias, and "
                                                                   "how to remove it)")),
    "rms_of_gradients": Exercise("rms_of_gradients", rms_public, rms_compare, rms_hidden,
                                 forbidden=("ewma", "RMSprop"),
                                 lesson=_lesson("7 (Preview: the EWMA inside RMSprop)")),
    "predict_half_jump": Exercise("predict_half_jump", jump_public, jump_compare, mode="value",
                                  comment=jump_comment,
                                  lesson=_lesson("4 (Choosing beta: lag against smoothness)")),
    "tune_ewma_beta": Exercise("tune_ewma_beta", track_public, track_compare, track_hidden,
                               mode="value", comment=track_comment,
                               lesson=_lesson("4 (Choosing beta: lag against smoothness)")),
    "choose_beta": Exercise("choose_beta", beta_public, beta_compare, beta_hidden,
                            lesson=_lesson("4 (Choosing beta: lag against smoothness)")),
    "explain_first_step": Exercise("explain_first_step", mode="explain",
                                   lesson=_lesson("5 (The start-up bias, and how to remove "
                                                  "it)")),
}
