"""Mini-batches for stochastic gradient descent.

One call to :func:`minibatches` is one epoch: the samples are shuffled once and then handed out
in consecutive slices, so every sample is used exactly once per epoch.
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral

import numpy as np


def _check_batch_size(batch_size: object) -> int:
    # bool is a subclass of int, but batch_size=True is always a mistake; floats such as 32.0
    # are refused too, because 32.5 could only be rounded by guessing.
    if isinstance(batch_size, bool) or not isinstance(batch_size, Integral):
        raise TypeError(
            f"batch_size must be a positive integer, got {batch_size!r} "
            f"({type(batch_size).__name__})."
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer (>= 1), got {batch_size!r}.")
    return int(batch_size)


def n_batches(n_samples: int, batch_size: int) -> int:
    """Number of mini-batches in one epoch: ``ceil(n_samples / batch_size)``.

    The last batch may be shorter than ``batch_size``; it still counts as a batch.

    >>> n_batches(10, 3)
    4
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral):
        raise TypeError(
            f"n_samples must be a non-negative integer, got {n_samples!r} "
            f"({type(n_samples).__name__})."
        )
    if n_samples < 0:
        raise ValueError(f"n_samples must be a non-negative integer, got {n_samples!r}.")
    batch_size = _check_batch_size(batch_size)
    # Integer ceiling division; math.ceil(n / b) would go through a float.
    return -(-int(n_samples) // batch_size)


def minibatches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs covering one shuffled epoch.

    Parameters
    ----------
    X : array of shape (n_samples,) or (n_samples, n_features)
    y : array of shape (n_samples,)
    batch_size : int
        Samples per batch, >= 1. The last batch holds the remainder and may be shorter;
        a ``batch_size`` larger than ``n_samples`` gives a single batch with all the data.
    rng : numpy.random.Generator
        Source of the shuffle, e.g. ``np.random.default_rng(0)``. The same seed gives the
        same order, which makes training runs reproducible.

    Yields
    ------
    (X_batch, y_batch) : rows of ``X`` and ``y`` with the same indices, so pairs stay together.
    Each batch is a copy: changing it does not change ``X`` or ``y``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5.0)
    >>> [len(yb) for _, yb in minibatches(X, y, batch_size=2, rng=rng)]
    [2, 2, 1]
    """
    # The checks and the shuffle run here, at call time, rather than inside the generator:
    # a generator body only starts at the first next(), which would report a bad argument
    # far away from the line that passed it.
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim not in (1, 2):
        raise ValueError(
            f"X must be a 1-D or 2-D array (n_samples[, n_features]), got shape {X.shape}."
        )
    if y.ndim not in (1, 2):
        raise ValueError(
            f"y must have shape (n_samples,) or (n_samples, n_outputs), got shape {y.shape}."
        )
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of samples, got len(X)={X.shape[0]} "
            f"and len(y)={y.shape[0]}."
        )
    n_samples = X.shape[0]
    if n_samples == 0:
        raise ValueError("X and y must hold at least one sample, got 0 samples.")
    batch_size = _check_batch_size(batch_size)
    if not isinstance(rng, np.random.Generator):
        # The legacy np.random.RandomState and plain integer seeds are refused on purpose:
        # one Generator passed around keeps every random draw in a run reproducible.
        raise TypeError(
            f"rng must be a numpy.random.Generator, got {rng!r} ({type(rng).__name__}). "
            "Create one with np.random.default_rng(seed)."
        )

    order = rng.permutation(n_samples)
    return _epoch(X, y, order, batch_size)


def _epoch(
    X: np.ndarray, y: np.ndarray, order: np.ndarray, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        # Fancy indexing copies, so a caller editing a batch cannot alter the data set.
        yield X[idx], y[idx]
