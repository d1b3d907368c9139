"""Argument checks shared by the library.

Every check names the argument, shows the value it got and says what is allowed, so a learner who
mistypes a hyperparameter sees at once which one and why.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


def _is_real_number(value: object) -> bool:
    # bool is a subclass of int, but `lr=True` is always a mistake.
    return isinstance(value, Real) and not isinstance(value, bool)


def check_real(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise TypeError if it is not a real number."""
    if not _is_real_number(value):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__}).")
    value = float(value)  # type: ignore[arg-type]
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got nan.")
    return value


def check_positive(name: str, value: object) -> float:
    """A finite number > 0 (learning rates)."""
    value = check_real(name, value)
    if not (0.0 < value < math.inf):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return value


def check_learning_rate(name: str, value: object) -> float:
    """A finite number >= 0: lr = 0 takes no step, as schedules do when they warm up from zero
    or decay to zero (Keras cosine decay, optax warm-up, torch's schedulers)."""
    value = check_real(name, value)
    if not (0.0 <= value < math.inf):
        raise ValueError(
            f"{name} must be a finite number >= 0 (0 takes no step), got {value!r}."
        )
    return value


def check_non_negative(name: str, value: object) -> float:
    """A finite number >= 0 (eps, weight decay, initial accumulators)."""
    value = check_real(name, value)
    if not (0.0 <= value < math.inf):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return value


def check_decay(name: str, value: object) -> float:
    """A decay rate in [0, 1): 1 would never forget, and above 1 the average blows up."""
    value = check_real(name, value)
    if not (0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}.")
    return value


def check_unit_interval(name: str, value: object) -> float:
    """A fraction in [0, 1] (dampening)."""
    value = check_real(name, value)
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {value!r}.")
    return value


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_float_array(name: str, value: object) -> np.ndarray:
    """A NumPy array of float32 or float64 that can be updated in place."""
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array of floats (updated in place), got "
            f"{type(value).__name__}. Use np.asarray(..., dtype=float)."
        )
    if value.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{name} must have dtype float32 or float64, got {value.dtype}. "
            f"Integer arrays cannot hold fractional updates: use .astype(float)."
        )
    return value


def as_numeric_array(name: str, value: object, dtype: np.dtype) -> np.ndarray:
    """Convert array-like numeric data to ``dtype``; reject strings, objects, complex and bools."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(
            f"{name} must hold real numbers, got an array of dtype {array.dtype}."
        )
    return array.astype(dtype, copy=False)
