"""Adadelta: RMSprop whose step size comes from a running RMS of its own past updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_decay, check_learning_rate, check_non_negative
from .base import Optimizer, State


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012).

    For each coordinate::

        g_t      <- g_t + weight_decay * p_{t-1}                  (coupled L2, as torch)
        v_t       = beta * v_{t-1} + (1 - beta) * g_t^2          (as in RMSprop)
        delta_t   = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t       = beta * u_{t-1} + (1 - beta) * delta_t^2      (EWMA of squared updates)
        p_t       = p_{t-1} - lr * delta_t

    The paper has no learning rate (``lr = 1``): ``sqrt(u + eps)`` plays its part, which also
    gives the update the units of the parameter. The effective learning rate stored each step
    is ``lr * sqrt(u_{t-1} + eps) / sqrt(v_t + eps)``.

    Names: torch ``Adadelta(lr=1.0, rho=0.9, eps=1e-6)`` with state ``square_avg`` (v) and
    ``acc_delta`` (u); Keras 3 ``Adadelta(learning_rate=1e-3, rho=0.95, epsilon=1e-7)`` with
    ``accumulated_grad`` and ``accumulated_delta_var``; TF1 ``AdadeltaOptimizer(0.001, rho=0.95,
    epsilon=1e-8)``.
    """

    frameworks = {
        "torch": {"lr": 1.0, "beta": 0.9, "eps": 1e-6},
        "keras": {"lr": 1e-3, "beta": 0.95, "eps": 1e-7},
        "tf1": {"lr": 1e-3, "beta": 0.95, "eps": 1e-8},
    }
    framework_float32 = {"keras": ("lr",), "tf1": ("lr", "beta", "eps")}
    framework_limits = {
        "keras": {"weight_decay": "Keras decays weights decoupled from the gradient."},
        "tf1": {"weight_decay": "TF1's AdadeltaOptimizer has no weight decay."},
    }

    def __init__(
        self, lr: float = 1.0, *, beta: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0
    ) -> None:
        self.lr = lr
        self.beta = beta
        self.eps = eps
        self.weight_decay = weight_decay
        super().__init__()

    def check_hyperparameters(self) -> None:
        self.lr = check_learning_rate("lr", self.lr)
        self.beta = check_decay("beta", self.beta)
        self.eps = check_non_negative("eps", self.eps)
        self.weight_decay = check_non_negative("weight_decay", self.weight_decay)

    def init_state(self, param: np.ndarray) -> State:
        state = super().init_state(param)
        state["v"] = np.zeros_like(param)
        state["u"] = np.zeros_like(param)
        return state

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        g: Any = grad
        if self.weight_decay:
            g = g + self.weight_decay * param
        state["v"] = self.beta * state["v"] + (1 - self.beta) * g * g
        scale = np.sqrt(state["u"] + self.eps) / np.sqrt(state["v"] + self.eps)
        delta = scale * g
        state["u"] = self.beta * state["u"] + (1 - self.beta) * delta * delta
        state["effective_lr"] = self.lr * scale
        param -= self.lr * delta
