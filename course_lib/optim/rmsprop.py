"""RMSprop: divide each coordinate's step by a running RMS of its recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_bool, check_decay, check_learning_rate, check_non_negative
from .base import Optimizer, State


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, Coursera lecture 6e, 2012), with the frameworks' variants.

    For each coordinate, with gradient :math:`g_t`::

        g_t  <- g_t + weight_decay * p_{t-1}               (coupled L2, as torch)
        v_t   = beta * v_{t-1} + (1 - beta) * g_t^2         (EWMA of squared gradients)
        m_t   = beta * m_{t-1} + (1 - beta) * g_t           (centered only)
        s_t   = v_t - m_t^2   if centered   else   v_t
        d_t   = sqrt(s_t) + eps     or, with eps_in_sqrt,   sqrt(s_t + eps)
        p_t   = p_{t-1} - lr * g_t / d_t                    (no momentum)
        buf_t = momentum * buf_{t-1} + g_t / d_t ;  p_t = p_{t-1} - lr * buf_t   (momentum)

    The effective learning rate stored each step is ``lr / d_t``.

    Names in the frameworks:

    =============================  ===================  ====================  ===================
    course_lib                     torch                Keras 3               TF1
    =============================  ===================  ====================  ===================
    ``lr``                         ``lr`` (1e-2)        ``learning_rate``     ``learning_rate``
    ``beta``                       ``alpha`` (.99)      ``rho`` (0.9)         ``decay`` (0.9)
    ``eps``                        ``eps`` (1e-8)       ``epsilon`` (1e-7)    ``epsilon`` (1e-10)
    ``eps_in_sqrt``                False                True                  True
    ``initial_accumulator_value``  0 (not an option)    0 (not an option)     1.0 (fixed)
    ``v``                          ``square_avg``       ``velocity``          ``ms``
    ``m``                          ``grad_avg``         ``average_gradient``  ``mg``
    ``buf``                        ``momentum_buffer``  ``momentum``          ``mom``
    =============================  ===================  ====================  ===================

    ``initial_accumulator_value`` (the value ``v`` starts from) has the name torch and Keras give
    AdaGrad's start value, which is the same idea; :class:`~course_lib.optim.AdaGrad` uses it too.

    Keras and TF1 keep ``lr`` inside the momentum buffer (``buf = mu*buf + lr*g/d``); that gives
    the same trajectory as torch's form while ``lr`` stays constant. Use ``RMSprop.like(...)``
    for a framework's exact defaults.
    """

    frameworks = {
        "torch": {"lr": 1e-2, "beta": 0.99, "eps": 1e-8, "eps_in_sqrt": False,
                  "initial_accumulator_value": 0.0},
        "keras": {"lr": 1e-3, "beta": 0.9, "eps": 1e-7, "eps_in_sqrt": True,
                  "initial_accumulator_value": 0.0},
        "tf1": {"lr": None, "beta": 0.9, "eps": 1e-10, "eps_in_sqrt": True,
                "initial_accumulator_value": 1.0},
    }
    framework_float32 = {"keras": ("lr",), "tf1": ("lr", "beta", "eps", "momentum")}
    framework_limits = {
        "keras": {
            "weight_decay": "Keras decays weights decoupled from the gradient "
            "(p -= lr * weight_decay * p), while course_lib's weight_decay is torch's coupled "
            "L2 (added to the gradient).",
        },
        "tf1": {"weight_decay": "TF1's RMSPropOptimizer has no weight decay."},
    }

    def __init__(
        self,
        lr: float,
        *,
        beta: float = 0.9,
        eps: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
        eps_in_sqrt: bool = False,
        initial_accumulator_value: float = 0.0,
    ) -> None:
        self.lr = lr
        self.beta = beta
        self.eps = eps
        self.momentum = momentum
        self.centered = centered
        self.weight_decay = weight_decay
        self.eps_in_sqrt = eps_in_sqrt
        self.initial_accumulator_value = initial_accumulator_value
        super().__init__()

    def check_hyperparameters(self) -> None:
        self.lr = check_learning_rate("lr", self.lr)
        self.beta = check_decay("beta", self.beta)
        self.eps = check_non_negative("eps", self.eps)
        self.momentum = check_decay("momentum", self.momentum)
        self.centered = check_bool("centered", self.centered)
        self.weight_decay = check_non_negative("weight_decay", self.weight_decay)
        self.eps_in_sqrt = check_bool("eps_in_sqrt", self.eps_in_sqrt)
        self.initial_accumulator_value = check_non_negative(
            "initial_accumulator_value", self.initial_accumulator_value
        )

    def init_state(self, param: np.ndarray) -> State:
        state = super().init_state(param)
        state["v"] = np.full_like(param, self.initial_accumulator_value)
        if self.centered:
            state["m"] = np.zeros_like(param)
        if self.momentum:
            state["buf"] = np.zeros_like(param)
        return state

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        g: Any = grad
        if self.weight_decay:
            g = g + self.weight_decay * param
        state["v"] = self.beta * state["v"] + (1 - self.beta) * g**2
        if self.centered:
            state["m"] = self.beta * state["m"] + (1 - self.beta) * g
            s = state["v"] - state["m"] ** 2
        else:
            s = state["v"]
        d = np.sqrt(s + self.eps) if self.eps_in_sqrt else np.sqrt(s) + self.eps
        state["effective_lr"] = self.lr / d
        if self.momentum:
            state["buf"] = self.momentum * state["buf"] + g / d
            param -= self.lr * state["buf"]
        else:
            param -= self.lr * g / d
