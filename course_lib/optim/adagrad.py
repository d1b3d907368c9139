"""AdaGrad: per-coordinate learning rates from the sum of all past squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_bool, check_learning_rate, check_non_negative
from .base import Optimizer, State


class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi, Hazan & Singer, 2011).

    For each coordinate::

        g_t   <- g_t + weight_decay * p_{t-1}             (coupled L2, as torch)
        s_t    = s_{t-1} + g_t^2                          (sum, never forgets)
        lr_t   = lr / (1 + (t - 1) * lr_decay)
        d_t    = sqrt(s_t) + eps    or, with eps_in_sqrt,   sqrt(s_t + eps)
        p_t    = p_{t-1} - lr_t * g_t / d_t

    ``s`` only grows, so the effective learning rate ``lr_t / d_t`` (stored each step) can only
    shrink. It is a sum, not an average, which is why it is called ``s`` and not ``v``.

    Names: torch ``Adagrad(lr=1e-2, lr_decay, weight_decay, initial_accumulator_value=0,
    eps=1e-10)`` with state ``sum``; Keras 3 ``Adagrad(learning_rate=1e-3,
    initial_accumulator_value=0.1, epsilon=1e-7)`` with eps inside the square root and state
    ``accumulator``; TF1 ``AdagradOptimizer(learning_rate, initial_accumulator_value=0.1)``
    with no eps at all.
    """

    frameworks = {
        "torch": {"lr": 1e-2, "eps": 1e-10, "initial_accumulator_value": 0.0,
                  "eps_in_sqrt": False},
        "keras": {"lr": 1e-3, "eps": 1e-7, "initial_accumulator_value": 0.1,
                  "eps_in_sqrt": True},
        "tf1": {"lr": None, "eps": 0.0, "initial_accumulator_value": 0.1, "eps_in_sqrt": True},
    }
    framework_float32 = {"keras": ("lr", "initial_accumulator_value"), "tf1": ("lr",)}
    framework_limits = {
        "keras": {"weight_decay": "Keras decays weights decoupled from the gradient.",
                  "lr_decay": "Keras's Adagrad has no lr_decay (use a schedule)."},
        "tf1": {"weight_decay": "TF1's AdagradOptimizer has no weight decay.",
                "lr_decay": "TF1's AdagradOptimizer has no lr_decay."},
    }

    def __init__(
        self,
        lr: float,
        *,
        eps: float = 1e-10,
        lr_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        weight_decay: float = 0.0,
        eps_in_sqrt: bool = False,
    ) -> None:
        self.lr = lr
        self.eps = eps
        self.lr_decay = lr_decay
        self.initial_accumulator_value = initial_accumulator_value
        self.weight_decay = weight_decay
        self.eps_in_sqrt = eps_in_sqrt
        super().__init__()

    def check_hyperparameters(self) -> None:
        self.lr = check_learning_rate("lr", self.lr)
        self.eps = check_non_negative("eps", self.eps)
        self.lr_decay = check_non_negative("lr_decay", self.lr_decay)
        self.initial_accumulator_value = check_non_negative(
            "initial_accumulator_value", self.initial_accumulator_value
        )
        self.weight_decay = check_non_negative("weight_decay", self.weight_decay)
        self.eps_in_sqrt = check_bool("eps_in_sqrt", self.eps_in_sqrt)

    def init_state(self, param: np.ndarray) -> State:
        state = super().init_state(param)
        state["s"] = np.full_like(param, self.initial_accumulator_value)
        return state

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        g: Any = grad
        if self.weight_decay:
            g = g + self.weight_decay * param
        state["s"] = state["s"] + g * g
        lr_t = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        d = np.sqrt(state["s"] + self.eps) if self.eps_in_sqrt else np.sqrt(state["s"]) + self.eps
        state["effective_lr"] = lr_t / d
        param -= lr_t * (g / d)
