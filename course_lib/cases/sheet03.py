"""Sheet 03 (EWMA): the cases and comparators of its three exercises.

Expected values come from closed forms and from ``course_lib.ewma``, never from the learner's
code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch
from . import _compare as c
from .sheet04 import _f

# --- ewma_update ------------------------------------------------------------------------------


def update_public() -> list[Case]:
    return [
        Case("the first value (v = 0, x = 4, beta = 0.5)", (0.0, 4.0, 0.5)),
        Case("the second value (v = 2, x = 8, beta = 0.5)", (2.0, 8.0, 0.5)),
        Case("beta = 0 keeps only the new value", (7.0, -3.0, 0.0)),
        Case("beta = 0.99 forgets slowly", (10.0, 0.0, 0.99)),
        Case("arrays, one average per coordinate", (_f([1.0, 2.0]), _f([3.0, -4.0]), 0.9)),
    ]


def update_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (float(rng.normal()), float(rng.normal()),
                                     float(rng.choice([0.3, 0.8, 0.95]))), hidden=True)
            for k in range(3)]


def update_compare(case: Case, got: Any, after: tuple | None) -> None:
    v, x, beta = case.args
    expected = beta * np.asarray(v) + (1 - beta) * np.asarray(x)
    swapped = (1 - beta) * np.asarray(v) + beta * np.asarray(x)

    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, swapped):
            return ("the weights are swapped: beta multiplies the old average, 1 - beta the new "
                    "value")
        return None

    c.close(got, expected, "v", "the new average mixes the old one and the new value, with "
            "weights that add up to 1", diagnose=diagnose)


# --- ewma_series ------------------------------------------------------------------------------


def series_public() -> list[Case]:
    rng = np.random.default_rng(3)

    def case(label, xs, beta, corrected):
        return Case(label, (xs, beta), {"bias_correction": corrected})

    return [
        case("five values, beta = 0.5", _f([4.0, 8.0, 6.0, 10.0, 2.0]), 0.5, False),
        case("beta = 0 returns the values", _f([1.0, -2.0, 3.0]), 0.0, False),
        case("a single value", _f([5.0]), 0.9, False),
        case("bias correction of a constant gives the constant", np.full(6, 3.0), 0.9, True),
        case("bias correction, beta = 0.9", _f([1.0, 2.0, 0.0, 4.0]), 0.9, True),
        case("a long noisy series, beta = 0.99", rng.normal(size=400), 0.99, False),
        case("float32 values", _f([2.0, 0.0, 1.0], np.float32), 0.8, True),
    ]


def series_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (rng.normal(size=int(rng.integers(1, 30))),
                                     float(rng.choice([0.5, 0.9]))),
                 {"bias_correction": bool(k % 2)}, hidden=True) for k in range(2)]


def series_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..ewma import ewma

    xs, beta = case.args
    corrected = case.kwargs.get("bias_correction", False)
    plain = ewma(xs, beta)

    def diagnose(a: np.ndarray) -> str | None:
        if corrected and c.same(a, plain):
            return "bias_correction=True must divide each v_t by 1 - beta**t"
        t = np.arange(len(xs))
        with np.errstate(all="ignore"):
            if corrected and c.same(a[1:], plain[1:] / (1 - beta ** t[1:])):
                return "t counts from 1 for the first value: v_1 / (1 - beta**1)"
        if len(a) and np.isclose(a[0], xs[0]) and not corrected and beta > 0:
            return "start from v_0 = 0, not from the first value"
        return None

    c.close(got, ewma(xs, beta, bias_correction=corrected), "averages",
            "v_t = beta * v_(t-1) + (1 - beta) * x_t from v_0 = 0, one output per input",
            diagnose=diagnose, rtol=2e-6, atol=1e-7)
    c.unchanged(xs, after, 0, "xs")


# --- choose_beta ------------------------------------------------------------------------------


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
        raise Mismatch(wanted, f"{c.show(beta)}, which leaves noise of std {left:.4g} (more "
                       f"than {target:g})", "more smoothing needs a larger beta: solve the noise "
                       "formula of lesson 3 for beta")
    if half_life(beta) > max_half * (1 + 1e-9):
        raise Mismatch(wanted, f"{c.show(beta)}, whose half-life is {half_life(beta):.4g} steps "
                       f"(more than {max_half:g})", "smooth no more than needed: the smallest "
                       "beta that meets the noise target reacts fastest")


EXERCISES = {
    "ewma_update": Exercise("ewma_update", update_public, update_compare, update_hidden),
    "ewma_series": Exercise("ewma_series", series_public, series_compare, series_hidden,
                            forbidden=("ewma",)),
    "choose_beta": Exercise("choose_beta", beta_public, beta_compare, beta_hidden),
}
