"""Exponentially weighted moving averages, the building block of RMSprop, Adam and friends."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validation import check_bool, check_decay, check_positive_int


def ewma(values: ArrayLike, beta: float, bias_correction: bool = False) -> np.ndarray:
    r"""The exponentially weighted moving average of a series, one value per input value.

    ::

        v_0 = 0
        v_t = beta * v_{t-1} + (1 - beta) * x_t            for t = 1, 2, ...
        v_hat_t = v_t / (1 - beta^t)                       (with bias_correction)

    Unrolled, ``v_t = sum_k (1 - beta) * beta^(t-k) * x_k``: see :func:`ewma_weights`. The weights
    add up to ``1 - beta^t`` rather than 1, which is the start-up bias that the correction
    divides away. ``values`` may be 1-D, or 2-D with time along the first axis.
    """
    beta = check_decay("beta", beta)
    bias_correction = check_bool("bias_correction", bias_correction)
    x = np.asarray(values, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"values must be 1-D or 2-D (time first), got shape {x.shape}.")
    if x.shape[0] == 0:
        raise ValueError("values must hold at least one value, got an empty series.")
    out = np.empty_like(x)
    v = np.zeros_like(x[0])
    for t, x_t in enumerate(x, start=1):
        v = beta * v + (1 - beta) * x_t
        out[t - 1] = v / (1 - beta**t) if bias_correction else v
    return out


def ewma_weights(beta: float, t: int, bias_correction: bool = False) -> np.ndarray:
    """The weight that ``ewma(..., beta)`` at step ``t`` puts on each of ``x_1 .. x_t``.

    Entry ``k - 1`` is the weight of ``x_k``: ``(1 - beta) * beta**(t - k)``, divided by
    ``1 - beta**t`` with bias correction (then they add up to exactly 1).
    """
    beta = check_decay("beta", beta)
    t = check_positive_int("t", t)
    bias_correction = check_bool("bias_correction", bias_correction)
    ages = np.arange(t - 1, -1, -1)  # x_1 is t - 1 steps old, x_t is new
    weights = (1 - beta) * beta**ages
    return weights / (1 - beta**t) if bias_correction else weights


def effective_window(beta: float) -> float:
    """About how many recent values an EWMA averages over: ``1 / (1 - beta)``."""
    return 1.0 / (1.0 - check_decay("beta", beta))


def half_life(beta: float) -> float:
    """Steps after which a value's weight has halved: ``log(1/2) / log(beta)``."""
    beta = check_decay("beta", beta)
    if beta == 0.0:
        return 0.0
    return float(np.log(0.5) / np.log(beta))
