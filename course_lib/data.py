"""Offline copies of the example data sets used in the course.

The notebooks must run without internet access (classrooms, CI, trains), so instead of
``seaborn.load_dataset`` downloading from GitHub we read a copy shipped inside the package.
See ``course_lib/datasets/README.md`` for where the file comes from and how it was made.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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
