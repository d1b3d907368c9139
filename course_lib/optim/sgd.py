"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    check_bool,
    check_decay,
    check_learning_rate,
    check_non_negative,
    check_unit_interval,
)
from .base import Optimizer, State


class SGD(Optimizer):
    r"""Gradient descent with torch's momentum convention.

    For each coordinate::

        g_t   <- g_t + weight_decay * p_{t-1}                       (coupled L2)
        buf_1  = g_1 ;  buf_t = momentum * buf_{t-1} + (1 - dampening) * g_t
        step_t = g_t + momentum * buf_t  (nesterov)  |  buf_t  (momentum)  |  g_t  (plain)
        p_t    = p_{t-1} - lr * step_t

    Every coordinate has the same effective learning rate ``lr``: nothing adapts.

    Names: torch ``SGD(lr=1e-3, momentum, dampening, nesterov, weight_decay)`` with state
    ``momentum_buffer`` (buf); Keras 3 ``SGD(learning_rate=0.01, momentum, nesterov)`` keeps
    ``velocity = -lr * buf``, the same trajectory for a constant lr.
    """

    frameworks = {
        "torch": {"lr": 1e-3},
        "keras": {"lr": 1e-2},
    }
    framework_float32 = {"keras": ("lr", "momentum")}
    framework_limits = {
        "keras": {"weight_decay": "Keras decays weights decoupled from the gradient.",
                  "dampening": "Keras's SGD has no dampening."},
    }

    def __init__(
        self,
        lr: float,
        *,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        super().__init__()

    def check_hyperparameters(self) -> None:
        self.lr = check_learning_rate("lr", self.lr)
        self.momentum = check_decay("momentum", self.momentum)
        self.dampening = check_unit_interval("dampening", self.dampening)
        self.nesterov = check_bool("nesterov", self.nesterov)
        self.weight_decay = check_non_negative("weight_decay", self.weight_decay)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={self.momentum!r}, dampening={self.dampening!r}."
            )

    def init_state(self, param: np.ndarray) -> State:
        state = super().init_state(param)
        if self.momentum:
            state["buf"] = np.zeros_like(param)
        return state

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        g: Any = grad
        if self.weight_decay:
            g = g + self.weight_decay * param
        if self.momentum:
            if state["step"] == 1:
                state["buf"] = np.array(g, copy=True)
            else:
                state["buf"] = self.momentum * state["buf"] + (1 - self.dampening) * g
            direction = g + self.momentum * state["buf"] if self.nesterov else state["buf"]
        else:
            direction = g
        state["effective_lr"] = np.full_like(param, self.lr)
        param -= self.lr * direction
