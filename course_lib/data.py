"""Offline copies of the example data sets used in the course.

The notebooks must run without internet access (classrooms, CI, trains), so instead of
``seaborn.load_dataset`` downloading from GitHub we read a copy shipped inside the package.
See ``course_lib/datasets/README.md`` for where the file comes from and how it was made.
The handwritten digits ship with scikit-learn itself, so :func:`load_digits_split` needs no file
of ours (and no network either).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from ._validation import check_real

# Located next to this module rather than through the import system, so the loader also works
# when this file is imported on its own (for example from a test, before the package is set up).
DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
DIAMONDS_PATH = DATASETS_DIR / "diamonds.csv.gz"

# The same category orders seaborn.load_dataset("diamonds") applies (seaborn/utils.py): best
# grade first. They are deliberately not marked ordered=True, to match seaborn exactly.
DIAMONDS_CATEGORIES: dict[str, list[str]] = {
    "color": ["D", "E", "F", "G", "H", "I", "J"],
    "clarity": ["IF", "VVS1", "VVS2", "VS1", "VS2", "SI1", "SI2", "I1"],
    "cut": ["Ideal", "Premium", "Very Good", "Good", "Fair"],
}


def load_diamonds() -> pd.DataFrame:
    """Return the diamonds data set exactly as ``seaborn.load_dataset("diamonds")`` does.

    53,940 diamonds with 10 columns: carat, cut, color, clarity, depth, table, price, x, y, z.
    ``cut``, ``color`` and ``clarity`` are categoricals in seaborn's order (best grade first).
    No network access is needed: the data are read from a file bundled with ``course_lib``.

    Every call parses the file again and returns a new DataFrame, so changing the result
    (adding a column, dropping outliers) never affects what the next caller gets.

    Raises
    ------
    FileNotFoundError
        If the bundled file is missing, which means the installation is incomplete.
    """
    if not DIAMONDS_PATH.is_file():
        raise FileNotFoundError(
            f"The bundled diamonds data file is missing: {DIAMONDS_PATH}. "
            "It ships inside the course_lib package, so the installation is incomplete. "
            "Reinstall the course library from the course repository with "
            "`pip install --force-reinstall .` (or `pip install -e .` for a development copy)."
        )

    df = pd.read_csv(DIAMONDS_PATH)  # compression is inferred from the .gz suffix

    # Same conversion, in the same column order, as seaborn's loader, so the dtypes agree.
    for column, categories in DIAMONDS_CATEGORIES.items():
        df[column] = pd.Categorical(df[column], categories)
    return df


class DigitsSplit(NamedTuple):
    """The digits split three ways; unpacks as ``X_train, y_train, X_val, y_val, X_test, y_test``.

    ``X_*`` are float64 arrays of shape ``(n, 64)`` (the 8x8 images, row by row); ``y_*`` are
    int64 labels 0..9 of shape ``(n,)``; ``idx_*`` are the rows of
    ``sklearn.datasets.load_digits()`` each split holds, so any sample can be traced back.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    idx_train: np.ndarray
    idx_val: np.ndarray
    idx_test: np.ndarray


def _check_fraction(name: str, value: object) -> float:
    value = check_real(name, value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a fraction strictly between 0 and 1, got {value!r}.")
    return value


def load_digits_split(
    val_size: float = 0.2,
    test_size: float = 0.2,
    random_state: int = 0,
    scale: Literal["unit", "center", "standard"] = "unit",
) -> DigitsSplit:
    """scikit-learn's handwritten digits, split into stratified train/validation/test sets.

    The data (Alpaydin & Kaynak, 1998; UCI "Optical Recognition of Handwritten Digits", test
    part) are 1,797 images of 8x8 pixels, each pixel a count 0..16, of the digits 0..9 (about 180
    of each). ``test_size`` and ``val_size`` are fractions of the whole data set. The test set is
    split off first, then the validation set from the rest, both by
    ``sklearn.model_selection.train_test_split`` with ``stratify`` (each split keeps the class
    proportions) and ``random_state``; with the defaults the sizes are 1077 / 360 / 360.

    ``scale="unit"`` divides every pixel by 16, so features lie in [0, 1]. ``scale="center"``
    also subtracts each pixel's mean over the training split, ``(x - mean) / 16``, so that every
    input has mean 0 on the training data (LeCun et al., 1998, "Efficient BackProp", sec. 4.3:
    inputs of one sign make the weights into a unit move together). ``scale="standard"``
    subtracts each pixel's mean and divides by its standard deviation (as
    ``sklearn.preprocessing.StandardScaler``; a pixel that is constant in the training split is
    only centred). The means and deviations are always measured on the training split only, so
    no information from the validation or test images leaks into training.

    scikit-learn is imported here, not at the top: the rest of ``course_lib`` works without it.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    val_size = _check_fraction("val_size", val_size)
    test_size = _check_fraction("test_size", test_size)
    if val_size + test_size >= 1.0:
        raise ValueError(
            f"val_size + test_size must leave some data for training (sum < 1), got "
            f"{val_size!r} + {test_size!r}."
        )
    if scale not in ("unit", "center", "standard"):
        raise ValueError(f"scale must be 'unit', 'center' or 'standard', got {scale!r}.")
    digits = load_digits()
    X, y = digits.data.astype(np.float64), digits.target.astype(np.int64)
    rows = np.arange(len(y))
    rest, idx_test = train_test_split(
        rows, test_size=test_size, stratify=y, random_state=random_state
    )
    idx_train, idx_val = train_test_split(
        rest, test_size=val_size / (1.0 - test_size), stratify=y[rest], random_state=random_state
    )
    shift: float | np.ndarray = 0.0 if scale == "unit" else X[idx_train].mean(axis=0)
    spread: float | np.ndarray = 16.0
    if scale == "standard":
        deviation = X[idx_train].std(axis=0)
        spread = np.where(deviation == 0.0, 1.0, deviation)
    parts = [((X[idx] - shift) / spread, y[idx]) for idx in (idx_train, idx_val, idx_test)]
    return DigitsSplit(*parts[0], *parts[1], *parts[2], idx_train, idx_val, idx_test)
