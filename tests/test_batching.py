"""minibatches: one shuffled epoch, every sample exactly once, arguments checked up front."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.batching import minibatches, n_batches


def paired_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row i of X is (i, 10 i) and y[i] = i, so any batch shows which samples it holds."""
    index = np.arange(n)
    X = np.column_stack([index, 10 * index]).astype(float)
    y = index.astype(float)
    return X, y


def epoch(n: int, batch_size: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    X, y = paired_data(n)
    return list(minibatches(X, y, batch_size, np.random.default_rng(seed)))


def test_every_sample_exactly_once_per_epoch() -> None:
    batches = epoch(103, 10, seed=0)
    seen = np.concatenate([yb for _, yb in batches])
    assert np.array_equal(np.sort(seen), np.arange(103))


def test_batch_sizes_with_short_last_batch() -> None:
    sizes = [len(yb) for _, yb in epoch(103, 10, seed=0)]
    assert sizes == [10] * 10 + [3]


def test_exact_multiple_has_no_empty_batch() -> None:
    sizes = [len(yb) for _, yb in epoch(100, 25, seed=0)]
    assert sizes == [25, 25, 25, 25]


def test_batch_size_larger_than_n_gives_one_batch() -> None:
    batches = epoch(7, 1000, seed=0)
    assert len(batches) == 1
    assert np.array_equal(np.sort(batches[0][1]), np.arange(7))


def test_rows_of_X_and_y_stay_paired() -> None:
    for X_batch, y_batch in epoch(50, 8, seed=3):
        assert X_batch.shape == (len(y_batch), 2)
        assert np.array_equal(X_batch[:, 0], y_batch)
        assert np.array_equal(X_batch[:, 1], 10 * y_batch)


def test_one_dimensional_X() -> None:
    X = np.arange(20.0) * 2
    y = np.arange(20.0)
    for X_batch, y_batch in minibatches(X, y, 6, np.random.default_rng(1)):
        assert X_batch.ndim == 1
        assert np.array_equal(X_batch, 2 * y_batch)


def test_order_comes_from_rng_permutation() -> None:
    seen = np.concatenate([yb for _, yb in epoch(30, 4, seed=42)])
    assert np.array_equal(seen, np.random.default_rng(42).permutation(30))


def test_same_seed_same_batches() -> None:
    first, second = epoch(40, 7, seed=123), epoch(40, 7, seed=123)
    assert len(first) == len(second)
    for (X1, y1), (X2, y2) in zip(first, second, strict=True):
        assert np.array_equal(X1, X2)
        assert np.array_equal(y1, y2)


def test_different_seeds_different_order() -> None:
    order_a = np.concatenate([yb for _, yb in epoch(40, 7, seed=0)])
    order_b = np.concatenate([yb for _, yb in epoch(40, 7, seed=1)])
    assert not np.array_equal(order_a, order_b)


def test_each_epoch_reshuffles_with_the_same_generator() -> None:
    X, y = paired_data(40)
    rng = np.random.default_rng(0)
    order_1 = np.concatenate([yb for _, yb in minibatches(X, y, 8, rng)])
    order_2 = np.concatenate([yb for _, yb in minibatches(X, y, 8, rng)])
    assert not np.array_equal(order_1, order_2)
    assert np.array_equal(np.sort(order_1), np.sort(order_2))


def test_batches_are_copies() -> None:
    X, y = paired_data(10)
    X_before, y_before = X.copy(), y.copy()
    for X_batch, y_batch in minibatches(X, y, 3, np.random.default_rng(0)):
        X_batch[:] = -1
        y_batch[:] = -1
    assert np.array_equal(X, X_before)
    assert np.array_equal(y, y_before)


def test_numpy_integer_batch_size_is_accepted() -> None:
    X, y = paired_data(10)
    sizes = [len(yb) for _, yb in minibatches(X, y, np.int64(4), np.random.default_rng(0))]
    assert sizes == [4, 4, 2]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=300),
    batch_size=st.integers(min_value=1, max_value=400),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_property_partition_of_the_samples(n: int, batch_size: int, seed: int) -> None:
    batches = epoch(n, batch_size, seed)
    sizes = [len(yb) for _, yb in batches]
    assert len(batches) == n_batches(n, batch_size)
    assert all(size == batch_size for size in sizes[:-1])
    assert 1 <= sizes[-1] <= batch_size
    seen = np.concatenate([yb for _, yb in batches])
    assert np.array_equal(np.sort(seen), np.arange(n))
    for X_batch, y_batch in batches:
        assert np.array_equal(X_batch[:, 0], y_batch)


# --- argument checks: raised when minibatches() is called, before any iteration -------------


@pytest.mark.parametrize("bad", [0, -3])
def test_batch_size_must_be_positive(bad: int) -> None:
    X, y = paired_data(5)
    with pytest.raises(ValueError, match=rf"batch_size must be a positive integer.*got {bad}\."):
        minibatches(X, y, bad, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [True, 2.0, "8", None])
def test_batch_size_must_be_an_integer(bad: object) -> None:
    X, y = paired_data(5)
    with pytest.raises(TypeError, match=r"batch_size must be a positive integer, got"):
        minibatches(X, y, bad, np.random.default_rng(0))  # type: ignore[arg-type]


def test_batch_size_bool_is_named_in_the_message() -> None:
    X, y = paired_data(5)
    with pytest.raises(TypeError, match=r"got True \(bool\)"):
        minibatches(X, y, True, np.random.default_rng(0))


@pytest.mark.parametrize(
    "bad", [None, 0, np.random.RandomState(0), np.random.default_rng(0).bit_generator]
)
def test_rng_must_be_a_generator(bad: object) -> None:
    X, y = paired_data(5)
    with pytest.raises(
        TypeError,
        match=r"rng must be a numpy\.random\.Generator, got .*np\.random\.default_rng\(seed\)",
    ):
        minibatches(X, y, 2, bad)  # type: ignore[arg-type]


def test_lengths_must_match() -> None:
    X, _ = paired_data(5)
    y = np.arange(4.0)
    with pytest.raises(ValueError, match=r"len\(X\)=5 and len\(y\)=4"):
        minibatches(X, y, 2, np.random.default_rng(0))


def test_empty_data_rejected() -> None:
    with pytest.raises(ValueError, match=r"at least one sample, got 0"):
        minibatches(np.empty((0, 3)), np.empty(0), 2, np.random.default_rng(0))


def test_X_must_be_1d_or_2d() -> None:
    with pytest.raises(ValueError, match=r"X must be a 1-D or 2-D array.*\(4, 2, 2\)"):
        minibatches(np.zeros((4, 2, 2)), np.zeros(4), 2, np.random.default_rng(0))


def test_y_may_have_several_outputs_but_not_more_dimensions() -> None:
    X, Y = np.arange(8.0).reshape(4, 2), np.arange(8.0).reshape(4, 2) * 10
    batches = list(minibatches(X, Y, 3, np.random.default_rng(0)))
    for X_batch, Y_batch in batches:
        np.testing.assert_array_equal(Y_batch, X_batch * 10)  # rows stay paired
    assert sorted(len(b[1]) for b in batches) == [1, 3]
    with pytest.raises(ValueError, match=r"y must have shape \(n_samples,\).*\(4, 1, 1\)"):
        minibatches(X, np.zeros((4, 1, 1)), 2, np.random.default_rng(0))


# --- n_batches -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "batch_size", "expected"),
    [(0, 5, 0), (1, 5, 1), (10, 3, 4), (9, 3, 3), (10, 1, 10), (10, 100, 1)],
)
def test_n_batches_is_ceiling_division(n: int, batch_size: int, expected: int) -> None:
    assert n_batches(n, batch_size) == expected


def test_n_batches_large_values_exact() -> None:
    # Exact integer arithmetic: a float-based ceil would be off by one here.
    assert n_batches(2**60 + 1, 2**30) == 2**30 + 1


def test_n_batches_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"n_samples must be a non-negative integer, got -1"):
        n_batches(-1, 4)
    with pytest.raises(TypeError, match=r"n_samples must be a non-negative integer, got 10\.0"):
        n_batches(10.0, 4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer.*got 0"):
        n_batches(10, 0)
