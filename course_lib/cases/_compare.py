"""Comparators' building blocks: each returns the checked value or raises Mismatch."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import Case, Mismatch

FLOAT64_TOL = {"rtol": 1e-7, "atol": 1e-10}
FLOAT32_TOL = {"rtol": 2e-5, "atol": 1e-6}
_NO_RETURN = "the function has no `return` statement, or returns before the end"


def show(value: Any, digits: int = 6) -> str:
    from ..checks import _show

    return _show(value, digits)


def shown_apart(expected: Any, got: Any) -> tuple[str, str]:
    """Both values with enough digits that they read differently (up to 15)."""
    for digits in (6, 10, 15):
        pair = show(expected, digits), show(got, digits)
        if pair[0] != pair[1]:
            return pair
    return pair


def array(got: Any, shape: tuple[int, ...] | None, name: str, hint: str) -> np.ndarray:
    """``got`` as a float array of ``shape`` (float32 stays float32)."""
    label = f"{name} " if name else ""
    if got is None:
        raise Mismatch(f"{label}to be an array", "None", hint, _NO_RETURN)
    try:
        raw = np.asarray(got)
        result = raw if raw.dtype == np.float32 else raw.astype(float)
    except (TypeError, ValueError):
        raise Mismatch(f"{label}to be numbers", show(got), hint) from None
    if shape is not None and result.shape != shape:
        raise Mismatch(f"{label}of shape {shape}", f"shape {result.shape} ({show(got)})", hint)
    return result


def close(got: Any, expected: np.ndarray, name: str, hint: str, dtype: Any = None,
          diagnose: Callable[[np.ndarray], str | None] | None = None,
          rtol: float | None = None, atol: float | None = None) -> np.ndarray:
    """``got`` has ``expected``'s shape (and ``dtype``) and values within tolerance."""
    expected = np.asarray(expected)
    result = array(got, expected.shape, name, hint)
    label = f"{name} = " if name else ""
    if dtype is not None and result.dtype != dtype:
        raise Mismatch(f"{label}an array of dtype {np.dtype(dtype).name}",
                       f"dtype {result.dtype}",
                       "keep the parameters' dtype: combine the inputs with arithmetic instead "
                       "of building new arrays with np.array(..., dtype=float) or np.zeros(n)")
    f32 = expected.dtype == np.float32 or dtype == np.float32
    tol = dict(FLOAT32_TOL if f32 else FLOAT64_TOL)
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    with np.errstate(all="ignore"):
        ok = np.allclose(result.astype(float), expected.astype(float), rtol=tol["rtol"],
                         atol=tol["atol"])
    if not ok:
        mistake = diagnose(result) if diagnose is not None else None
        want, have = shown_apart(expected, result)
        raise Mismatch(label + want, label + have, hint, mistake)
    return result


def number(got: Any, name: str, hint: str) -> float:
    """``got`` as one real number (a 0-d array is fine, a longer one is not)."""
    if got is None:
        raise Mismatch(f"{name} to be a number", "None", hint, _NO_RETURN)
    numeric = (int, float, np.integer, np.floating, np.ndarray)
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, numeric):
        raise Mismatch(f"{name} to be a number", show(got), hint)
    if isinstance(got, np.ndarray):
        if got.shape != ():
            raise Mismatch(f"{name} to be a single number", f"an array of shape {got.shape}",
                           "return one number, e.g. with float(...) or an index, not an array")
        got = got[()]
    return float(got)


def same(got: np.ndarray, value: np.ndarray) -> bool:
    with np.errstate(all="ignore"):
        return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-6, atol=1e-9))


def pair(got: Any, n: int, names: str) -> tuple:
    if not isinstance(got, (tuple, list)) or len(got) != n:
        raise Mismatch(f"a tuple {names}", show(got),
                       f"return the {n} values together, as one tuple in the order {names}")
    return tuple(got)


def unchanged(before: np.ndarray, after: tuple | None, index: int, name: str) -> None:
    """The function left its input array number ``index`` as it was."""
    if after is None or index >= len(after):
        return
    if not np.array_equal(before, np.asarray(after[index]), equal_nan=True):
        raise Mismatch(f"the input `{name}` to be left unchanged",
                       f"`{name}` changed in place to {show(after[index])}",
                       "a function that returns new values must not change its inputs",
                       "an in-place update of an input: build new arrays (x = x - ...) instead "
                       "of updating the inputs in place (x -= ...), so the caller's arrays keep "
                       "their values")


def aliased_rows_hint(got: np.ndarray, expected: np.ndarray) -> str | None:
    # Appending the same array that is then updated in place makes every stored point the last.
    if len(got) > 1 and np.all(got == got[-1]) and not np.all(expected == expected[-1]):
        return "all rows are the same array: store a copy of each point"
    return None


# --- inputs shared by the sheets' cases ---------------------------------------------------------

def floats(values: Any, dtype: Any = np.float64) -> np.ndarray:
    """``values`` as a new array of ``dtype`` (float64 unless said)."""
    return np.array(values, dtype=dtype)


def hidden_arrays(rng: np.random.Generator, k: int) -> tuple[Any, list[np.ndarray]]:
    """A random dtype (float64 or float32) and k random vectors of one random length (1-6)."""
    dtype = (np.float64, np.float32)[int(rng.integers(2))]
    n = int(rng.integers(1, 7))
    return dtype, [rng.normal(size=n).astype(dtype) for _ in range(k)]


def hidden_seed_cases(rng: np.random.Generator, first: int, n: int = 3,
                      stop: int = 10_000) -> list[Case]:
    """``n`` hidden cases of a setting judged on a seed, each seed drawn from [first, stop)
    (so never one of the public seeds below ``first``)."""
    return [Case(f"hidden {k + 1}", (int(rng.integers(first, stop)),), hidden=True)
            for k in range(n)]


def one_setting(got: Any, key: str, what: str) -> float:
    """The number of a one-key setting ``{key: number}`` (a tune answer), or a Mismatch."""
    if not isinstance(got, dict) or set(got) != {key}:
        raise Mismatch(f"a dict {{'{key}': <a number>}}", show(got),
                       f"the answer is a dict with one key, '{key}'")
    return number(got[key], key, f"the {what} is one number")


def lr_setting(got: Any) -> float:
    """The learning rate of a setting ``{"lr": number}``: positive and finite."""
    lr = one_setting(got, "lr", "learning rate")
    if not math.isfinite(lr) or lr <= 0:
        raise Mismatch("a positive, finite learning rate", show(lr), "lr must be > 0")
    return lr
