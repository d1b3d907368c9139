"""The course's optimizers: one small class each, on a shared base.

>>> import numpy as np
>>> from course_lib.optim import RMSprop
>>> p = np.array([1.0, -2.0])
>>> opt = RMSprop(lr=0.1)
>>> opt.step(p, np.array([0.5, 4.0]))
>>> opt.state[0]["step"], opt.state[0]["v"]
(1, array([0.025, 1.6  ]))
"""

from .adadelta import Adadelta
from .adagrad import AdaGrad
from .adam import Adam
from .base import NonFiniteGradientError, Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "AdaGrad", "RMSprop", "Adadelta", "Adam", "Optimizer", "NonFiniteGradientError"]
