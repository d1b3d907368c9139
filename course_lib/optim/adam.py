"""Adam: momentum (a running mean of gradients) plus RMSprop's scaling, both bias-corrected."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_bool, check_decay, check_learning_rate, check_non_negative
from .base import Optimizer, State


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015, Algorithm 1).

    For each coordinate, at step t::

        g_t  <- g_t + weight_decay * p_{t-1}              (coupled L2, as torch)
        m_t   = beta1 * m_{t-1} + (1 - beta1) * g_t       (EWMA of gradients)
        v_t   = beta2 * v_{t-1} + (1 - beta2) * g_t^2     (EWMA of squared gradients)
        m_hat = m_t / (1 - beta1^t) ;  v_hat = v_t / (1 - beta2^t)    (bias corrections)
        p_t   = p_{t-1} - lr * m_hat / (sqrt(v_hat) + eps)

    With ``amsgrad`` the denominator uses the running maximum of ``v_t`` (stored as
    ``v_max``). With ``eps_hat`` eps is added to ``sqrt(v_t)`` before the bias correction, the
    "epsilon hat" form in the paper's Section 2 used by Keras and TF1:
    ``p_t = p_{t-1} - lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m_t / (sqrt(v_t) + eps)``.

    With ``bias_correction=False`` the corrections are left out (``m_hat = m_t``,
    ``v_hat = v_t``), for ablations: Adam with ``beta1=0`` and no bias correction is RMSprop with
    ``beta = beta2`` (torch's form, eps outside the square root). The frameworks' Adam always
    corrects; optax's ``rmsprop(bias_correction=True)`` is the converse switch on RMSprop.

    The effective learning rate stored each step is the factor that multiplies ``m_t``.

    Names: torch ``Adam(lr=1e-3, betas=(beta1, beta2), eps=1e-8, amsgrad)`` with state
    ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq``; Keras 3 ``Adam(learning_rate=1e-3,
    beta_1, beta_2, epsilon=1e-7, amsgrad)`` with ``momentum`` (m) and ``velocity`` (v).
    """

    frameworks = {
        "torch": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "eps_hat": False},
        "keras": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "eps_hat": True},
        "tf1": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "eps_hat": True},
    }
    framework_float32 = {"keras": ("lr",), "tf1": ("lr", "beta1", "beta2", "eps")}
    framework_limits = {
        "keras": {"weight_decay": "Keras decays weights decoupled from the gradient (that is "
                  "AdamW's rule, not Adam with L2)."},
        "tf1": {"weight_decay": "TF1's AdamOptimizer has no weight decay.",
                "amsgrad": "TF1's AdamOptimizer has no AMSGrad."},
    }

    def __init__(
        self,
        lr: float,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        eps_hat: bool = False,
        bias_correction: bool = True,
    ) -> None:
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.eps_hat = eps_hat
        self.bias_correction = bias_correction
        super().__init__()

    def check_hyperparameters(self) -> None:
        self.lr = check_learning_rate("lr", self.lr)
        self.beta1 = check_decay("beta1", self.beta1)
        self.beta2 = check_decay("beta2", self.beta2)
        self.eps = check_non_negative("eps", self.eps)
        self.weight_decay = check_non_negative("weight_decay", self.weight_decay)
        self.amsgrad = check_bool("amsgrad", self.amsgrad)
        self.eps_hat = check_bool("eps_hat", self.eps_hat)
        self.bias_correction = check_bool("bias_correction", self.bias_correction)

    def init_state(self, param: np.ndarray) -> State:
        state = super().init_state(param)
        state["m"] = np.zeros_like(param)
        state["v"] = np.zeros_like(param)
        if self.amsgrad:
            state["v_max"] = np.zeros_like(param)
        return state

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        g: Any = grad
        if self.weight_decay:
            g = g + self.weight_decay * param
        t = state["step"]
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g
        v = state["v"]
        if self.amsgrad:
            state["v_max"] = np.maximum(state["v_max"], v)
            v = state["v_max"]
        # without bias correction both factors are 1: m and v are used as they are
        bias1 = 1 - self.beta1**t if self.bias_correction else 1.0
        bias2 = 1 - self.beta2**t if self.bias_correction else 1.0
        if self.eps_hat:
            step_size = self.lr * math.sqrt(bias2) / bias1
            d = np.sqrt(v) + self.eps
        else:
            step_size = self.lr / bias1
            d = np.sqrt(v) / math.sqrt(bias2) + self.eps
        state["effective_lr"] = step_size / d
        param -= step_size * (state["m"] / d)
