"""The bundled diamonds data must be what seaborn.load_dataset("diamonds") gives, offline; the
digits split must be a stratified, deterministic, disjoint split of scikit-learn's digits."""

from __future__ import annotations

import gzip
import hashlib
import shutil

import numpy as np
import pandas as pd
import pytest
import seaborn as sns
import seaborn.utils

from course_lib import data as data_module
from course_lib.data import DIAMONDS_PATH, DigitsSplit, load_diamonds, load_digits_split

# SHA-256 of the decompressed CSV, as recorded in course_lib/datasets/README.md. If the file is
# regenerated on purpose, update both places.
DECOMPRESSED_SHA256 = "0e7164799468299f8dc09b006cf396c43717c3dc71f947f0a32cc6e199895b46"

EXPECTED_DTYPES = {
    "carat": "float64",
    "cut": "category",
    "color": "category",
    "clarity": "category",
    "depth": "float64",
    "table": "float64",
    "price": "int64",
    "x": "float64",
    "y": "float64",
    "z": "float64",
}


@pytest.fixture(scope="module")
def diamonds() -> pd.DataFrame:
    return load_diamonds()


@pytest.fixture(scope="module")
def seaborn_diamonds(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """seaborn's own loader, run on the bundled CSV placed in its cache directory."""
    home = tmp_path_factory.mktemp("seaborn_data")
    with gzip.open(DIAMONDS_PATH, "rb") as src, open(home / "diamonds.csv", "wb") as dst:
        shutil.copyfileobj(src, dst)

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("seaborn tried to download; the test must stay offline")

    # With the file already cached seaborn should never reach the network; make sure of it.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(seaborn.utils, "urlretrieve", no_download)
        return sns.load_dataset("diamonds", data_home=str(home), cache=True)


def test_equals_seaborn_load_dataset(
    diamonds: pd.DataFrame, seaborn_diamonds: pd.DataFrame
) -> None:
    pd.testing.assert_frame_equal(diamonds, seaborn_diamonds, check_exact=True)


def test_bundled_file_matches_documented_checksum() -> None:
    with gzip.open(DIAMONDS_PATH, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert digest == DECOMPRESSED_SHA256


def test_shape_columns_and_dtypes(diamonds: pd.DataFrame) -> None:
    assert diamonds.shape == (53_940, 10)
    assert list(diamonds.columns) == list(EXPECTED_DTYPES)
    assert {c: str(t) for c, t in diamonds.dtypes.items()} == EXPECTED_DTYPES
    assert isinstance(diamonds.index, pd.RangeIndex)
    assert not diamonds.isna().any().any()


def test_category_orders_match_seaborn(diamonds: pd.DataFrame) -> None:
    assert list(diamonds["cut"].cat.categories) == ["Ideal", "Premium", "Very Good", "Good", "Fair"]
    assert list(diamonds["color"].cat.categories) == list("DEFGHIJ")
    clarity = ["IF", "VVS1", "VVS2", "VS1", "VS2", "SI1", "SI2", "I1"]
    assert list(diamonds["clarity"].cat.categories) == clarity
    # seaborn gives the categories an order for plotting but does not mark them ordered.
    assert not any(diamonds[c].cat.ordered for c in ("cut", "color", "clarity"))


# Independent references: summary statistics published for ggplot2's / seaborn's diamonds data
# (pandas describe() output reproduced in many tutorials).
def test_published_summary_statistics(diamonds: pd.DataFrame) -> None:
    price = diamonds["price"]
    assert round(price.mean(), 6) == 3932.799722
    assert round(price.std(), 6) == 3989.439738
    assert price.min() == 326
    assert price.max() == 18823
    assert list(price.quantile([0.25, 0.5, 0.75])) == [950.0, 2401.0, 5324.25]
    assert round(diamonds["carat"].mean(), 6) == 0.797940
    assert round(diamonds["depth"].mean(), 6) == 61.749405
    assert round(diamonds["table"].mean(), 6) == 57.457184
    assert round(diamonds["x"].mean(), 6) == 5.731157
    assert round(diamonds["y"].mean(), 6) == 5.734526
    assert round(diamonds["z"].mean(), 6) == 3.538734
    assert diamonds["carat"].corr(diamonds["price"]) == pytest.approx(0.9216, abs=1e-4)


def test_ranges_documented_by_ggplot2(diamonds: pd.DataFrame) -> None:
    # From the help page of ggplot2::diamonds, the original source of the data set.
    documented = {
        "price": (326, 18823),
        "carat": (0.2, 5.01),
        "x": (0, 10.74),
        "y": (0, 58.9),
        "z": (0, 31.8),
        "depth": (43, 79),
        "table": (43, 95),
    }
    actual = {c: (diamonds[c].min(), diamonds[c].max()) for c in documented}
    assert actual == documented


def test_published_category_counts(diamonds: pd.DataFrame) -> None:
    counts = {"Ideal": 21551, "Premium": 13791, "Very Good": 12082, "Good": 4906, "Fair": 1610}
    assert diamonds["cut"].value_counts().to_dict() == counts
    assert diamonds["color"].value_counts().idxmax() == "G"
    assert diamonds["clarity"].value_counts().idxmax() == "SI1"


def test_first_and_last_rows(diamonds: pd.DataFrame) -> None:
    # ggplot2's head(diamonds) and tail(diamonds, 1).
    first, last = diamonds.iloc[0].tolist(), diamonds.iloc[-1].tolist()
    assert first == [0.23, "Ideal", "E", "SI2", 61.5, 55.0, 326, 3.95, 3.98, 2.43]
    assert last == [0.75, "Ideal", "D", "SI2", 62.2, 55.0, 2757, 5.83, 5.87, 3.64]


def test_known_data_errors_are_kept(diamonds: pd.DataFrame) -> None:
    # The raw data contain 20 diamonds with a zero dimension; the course cleans them in a
    # notebook, so the loader must not silently drop them.
    has_zero = (diamonds[["x", "y", "z"]] == 0).any(axis=1)
    assert has_zero.sum() == 20


def test_each_call_returns_an_independent_copy() -> None:
    first = load_diamonds()
    second = load_diamonds()
    assert first is not second
    assert not np.shares_memory(first["price"].to_numpy(), second["price"].to_numpy())

    first.loc[0, "price"] = -1
    first["price_per_carat"] = first["price"] / first["carat"]
    first.loc[1, "cut"] = "Fair"

    fresh = load_diamonds()
    assert fresh.loc[0, "price"] == 326
    assert "price_per_carat" not in fresh.columns
    assert fresh.loc[1, "cut"] == "Premium"
    pd.testing.assert_frame_equal(fresh, second)


def test_missing_bundled_file_says_what_to_reinstall(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    missing = tmp_path / "diamonds.csv.gz"
    monkeypatch.setattr(data_module, "DIAMONDS_PATH", missing)
    with pytest.raises(FileNotFoundError, match=r"(?s)diamonds.*Reinstall the course library"):
        load_diamonds()


# --- the handwritten digits split -----------------------------------------------------------


@pytest.fixture(scope="module")
def sk_digits():
    from sklearn.datasets import load_digits

    return load_digits()


@pytest.fixture(scope="module")
def split() -> DigitsSplit:
    return load_digits_split()


def test_digits_split_sizes_shapes_and_dtypes(split: DigitsSplit) -> None:
    # 20% of 1797 rounded up (scikit-learn's rule) is 360 for the test set; 25% of the other
    # 1437, rounded up, is 360 for validation; 1077 remain for training.
    sizes = [len(split.y_train), len(split.y_val), len(split.y_test)]
    assert sizes == [1077, 360, 360]
    for X, y in [(split.X_train, split.y_train), (split.X_val, split.y_val),
                 (split.X_test, split.y_test)]:
        assert X.shape == (len(y), 64) and X.dtype == np.float64
        assert y.shape == (len(y),) and y.dtype == np.int64
    X_train, y_train, X_val, y_val, X_test, y_test, *_ = split  # unpacks in this order
    assert X_train is split.X_train and y_test is split.y_test


def test_digits_split_is_a_partition_of_the_data(split: DigitsSplit, sk_digits) -> None:
    parts = [split.idx_train, split.idx_val, split.idx_test]
    everything = np.concatenate(parts)
    assert len(everything) == len(np.unique(everything)) == 1797  # no overlap, nothing lost
    np.testing.assert_array_equal(np.sort(everything), np.arange(1797))
    for idx, X, y in zip(parts, [split.X_train, split.X_val, split.X_test],
                         [split.y_train, split.y_val, split.y_test], strict=True):
        np.testing.assert_array_equal(X, sk_digits.data[idx] / 16.0)
        np.testing.assert_array_equal(y, sk_digits.target[idx])


def test_digits_split_unit_scale_is_in_0_1(split: DigitsSplit) -> None:
    for X in (split.X_train, split.X_val, split.X_test):
        assert X.min() == 0.0 and X.max() == 1.0


@pytest.mark.parametrize("random_state", [0, 1, 42])
def test_digits_split_is_stratified(random_state: int, sk_digits) -> None:
    s = load_digits_split(random_state=random_state)
    share = np.bincount(sk_digits.target) / len(sk_digits.target)
    for y in (s.y_train, s.y_val, s.y_test):
        counts = np.bincount(y, minlength=10)
        assert np.all(np.abs(counts - share * len(y)) <= 1.0), counts


def test_digits_split_is_deterministic_and_depends_on_random_state() -> None:
    a, b = load_digits_split(random_state=3), load_digits_split(random_state=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = load_digits_split(random_state=4)
    assert not np.array_equal(a.idx_test, c.idx_test)


def test_digits_split_other_fractions() -> None:
    s = load_digits_split(val_size=0.1, test_size=0.3)
    # ceil(0.3 * 1797) = 540; of the other 1257, ceil(0.1 / 0.7 * 1257) = 180; 1077 remain
    assert [len(s.y_train), len(s.y_val), len(s.y_test)] == [1077, 180, 540]


def test_digits_split_standard_scale_uses_training_statistics_only(sk_digits) -> None:
    from sklearn.preprocessing import StandardScaler

    s = load_digits_split(scale="standard")
    scaler = StandardScaler().fit(sk_digits.data[s.idx_train])
    np.testing.assert_allclose(s.X_train, scaler.transform(sk_digits.data[s.idx_train]),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.X_val, scaler.transform(sk_digits.data[s.idx_val]),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.X_test, scaler.transform(sk_digits.data[s.idx_test]),
                               rtol=1e-12, atol=1e-12)
    varying = s.X_train.std(axis=0) > 0
    np.testing.assert_allclose(s.X_train[:, varying].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(s.X_train[:, varying].std(axis=0), 1.0, rtol=1e-12)
    # the same rows as the unit-scaled split: scaling does not change the split
    np.testing.assert_array_equal(s.idx_test, load_digits_split().idx_test)


def test_digits_split_center_scale(sk_digits) -> None:
    s = load_digits_split(scale="center")
    mean = sk_digits.data[s.idx_train].mean(axis=0)
    for idx, X in [(s.idx_train, s.X_train), (s.idx_val, s.X_val), (s.idx_test, s.X_test)]:
        np.testing.assert_allclose(X, (sk_digits.data[idx] - mean) / 16, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0.0, atol=1e-12)
    assert abs(s.X_val.mean()) > 1e-6  # held-out splits are shifted by the training means


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"val_size": 0.0}, ValueError, "val_size.*between 0 and 1.*0.0"),
        ({"test_size": 1.0}, ValueError, "test_size.*between 0 and 1"),
        ({"val_size": 0.5, "test_size": 0.5}, ValueError, "sum < 1"),
        ({"val_size": "0.2"}, TypeError, "val_size"),
        ({"scale": "minmax"}, ValueError, "'unit', 'center' or 'standard'.*'minmax'"),
    ],
)
def test_digits_split_bad_arguments(kwargs, error, message: str) -> None:
    with pytest.raises(error, match=message):
        load_digits_split(**kwargs)
