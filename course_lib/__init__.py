"""course_lib: the tested helper library behind the course's notebooks.

Optimizers live in :mod:`course_lib.optim`; everything else is importable from here
(the tuning helper also as :mod:`course_lib.tuning`).
"""

from .batching import minibatches, n_batches
from .data import DigitsSplit, load_diamonds, load_digits_split
from .ewma import effective_window, ewma, ewma_weights, half_life
from .gradcheck import GradientCheck, check_gradient, numeric_gradient
from .models import MLP, LinearRegression, LogisticRegression, least_squares
from .objectives import (
    Beale,
    Quadratic,
    Rosenbrock,
    Saddle,
    SeedBowl,
    XOverLogX,
    ill_conditioned_quadratic,
    rotated_quadratic,
)
from .training import History, Trajectory, fit, minimize
from .tuning import (
    Choice,
    DecayGrid,
    EdgeOfRangeError,
    LinearGrid,
    LogGrid,
    TuningResult,
    tune,
)

__version__ = "0.1.0"

__all__ = [
    "minibatches",
    "n_batches",
    "load_diamonds",
    "load_digits_split",
    "DigitsSplit",
    "ewma",
    "ewma_weights",
    "effective_window",
    "half_life",
    "check_gradient",
    "numeric_gradient",
    "GradientCheck",
    "LinearRegression",
    "LogisticRegression",
    "MLP",
    "least_squares",
    "Quadratic",
    "ill_conditioned_quadratic",
    "rotated_quadratic",
    "SeedBowl",
    "Rosenbrock",
    "Beale",
    "Saddle",
    "XOverLogX",
    "minimize",
    "fit",
    "Trajectory",
    "History",
    "tune",
    "TuningResult",
    "LogGrid",
    "DecayGrid",
    "LinearGrid",
    "Choice",
    "EdgeOfRangeError",
]
