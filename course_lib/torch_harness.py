"""Run an optimizer class a learner wrote on a small fixed problem; return plain data.

An exercise on a ``torch.optim.Optimizer`` subclass cannot send the learner's class to the
grader (only plain data crosses its protocol). So the check calls :func:`run_optimizer` next to
the learner's code: it trains a small, seeded problem with the class and returns NumPy arrays
(every parameter after every step, the learning rates used, the losses). The grader then runs
:func:`run_torch_rmsprop`, the same problem with ``torch.optim.RMSprop``
(https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html), in its own process and
compares the two.

The inputs are plain data: a problem name, a seed, a number of steps, hyperparameters in the
course's notation (``beta`` is torch's ``alpha``), optional per-group learning rates and an
optional ``StepLR`` schedule. Everything runs in float64, where two correct implementations
agree to about 1e-15 relative on these problems (lesson 09, section 5.2).

torch is imported inside the functions: importing this module does not need it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

PROBLEMS = ("quadratic", "network")


def _check(problem: str, steps: int, lr: float, group_lrs: list | None,
           schedule: dict | None) -> None:
    if problem not in PROBLEMS:
        raise ValueError(f"problem must be one of {PROBLEMS}, got {problem!r}.")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 500:
        raise ValueError(f"steps must be an int from 1 to 500, got {steps!r}.")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    if group_lrs is not None and (not isinstance(group_lrs, (list, tuple))
                                  or len(group_lrs) != 2):
        raise ValueError(f"group_lrs must be None or two learning rates, got {group_lrs!r}.")
    if schedule is not None and set(schedule) != {"step_size", "gamma"}:
        raise ValueError(f"schedule must be None or {{'step_size': n, 'gamma': g}}, got "
                         f"{schedule!r}.")


def _problem(problem: str, seed: int) -> tuple[list, Callable[[], Any]]:
    """(tensors, loss function) of a seeded problem, float64.

    "quadratic": a weighted bowl in two tensors (shapes (3,) and (2,)), plus a third tensor
    that the loss never uses (its ``.grad`` stays None, so ``step`` must skip it).
    "network": one hidden layer of 4 tanh units fitting 16 points of a smooth function
    (17 parameters in 4 tensors).
    """
    import torch

    gen = torch.Generator().manual_seed(int(seed))
    f64 = torch.float64
    if problem == "quadratic":
        start = torch.randn(5, generator=gen, dtype=f64) * 2
        a, b = start[:3].clone().requires_grad_(), start[3:].clone().requires_grad_()
        unused = torch.ones(2, dtype=f64, requires_grad=True)
        weights = torch.rand(5, generator=gen, dtype=f64) * 9 + 1

        def loss() -> Any:
            return 0.5 * (weights[:3] * a**2).sum() + 0.5 * (weights[3:] * (b - 1) ** 2).sum()

        return [a, b, unused], loss
    inputs = torch.randn(16, 2, generator=gen, dtype=f64)
    targets = torch.sin(2 * inputs[:, :1]) + 0.5 * inputs[:, 1:] ** 2
    w1 = (torch.randn(2, 4, generator=gen, dtype=f64) * 0.7).requires_grad_()
    b1 = torch.zeros(4, dtype=f64, requires_grad=True)
    w2 = (torch.randn(4, 1, generator=gen, dtype=f64) * 0.5).requires_grad_()
    b2 = torch.zeros(1, dtype=f64, requires_grad=True)

    def net_loss() -> Any:
        return torch.mean((torch.tanh(inputs @ w1 + b1) @ w2 + b2 - targets) ** 2)

    return [w1, b1, w2, b2], net_loss


def _train(make: Callable[[Any], Any], *, problem: str, seed: int, steps: int, lr: float,
           group_lrs: list | None, schedule: dict | None) -> dict[str, np.ndarray]:
    """Train the problem with the optimizer ``make(params)`` builds; plain-data results."""
    import torch

    tensors, loss_fn = _problem(problem, seed)
    if group_lrs is None:
        params: Any = tensors
    else:  # the first tensor alone, the others together, each group with its own lr
        params = [{"params": tensors[:1], "lr": float(group_lrs[0])},
                  {"params": tensors[1:], "lr": float(group_lrs[1])}]
    optimizer = make(params)
    scheduler = (None if schedule is None else torch.optim.lr_scheduler.StepLR(
        optimizer, step_size=int(schedule["step_size"]), gamma=float(schedule["gamma"])))
    path, lrs, losses = [_flat(tensors)], [], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        lrs.append([float(group["lr"]) for group in optimizer.param_groups])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(float(loss.item()))
        path.append(_flat(tensors))
    return {"params": np.array(path), "lrs": np.array(lrs, dtype=float),
            "losses": np.array(losses)}


def _flat(tensors: list) -> np.ndarray:
    return np.concatenate([t.detach().double().reshape(-1).numpy().copy() for t in tensors])


def run_optimizer(optimizer_class: Any, *, problem: str = "quadratic", seed: int = 0,
                  steps: int = 10, lr: float = 0.01, hyper: dict | None = None,
                  group_lrs: list | None = None,
                  schedule: dict | None = None) -> dict[str, np.ndarray]:
    """Train ``problem`` with ``optimizer_class(params, lr=lr, **hyper)``.

    Returns ``{"params": (steps + 1, n) every parameter after every step (the start first),
    "lrs": (steps, groups) each group's lr in each step, "losses": (steps,)}``.
    ``group_lrs=[lr0, lr1]`` puts the first tensor in a group of its own; ``schedule`` is a
    ``StepLR`` (``{"step_size": n, "gamma": g}``) stepped after every ``optimizer.step()``.
    """
    _check(problem, steps, lr, group_lrs, schedule)
    hyper = dict(hyper or {})
    return _train(lambda params: optimizer_class(params, lr=lr, **hyper), problem=problem,
                  seed=seed, steps=steps, lr=lr, group_lrs=group_lrs, schedule=schedule)


def run_torch_rmsprop(*, problem: str = "quadratic", seed: int = 0, steps: int = 10,
                      lr: float = 0.01, hyper: dict | None = None, group_lrs: list | None = None,
                      schedule: dict | None = None) -> dict[str, np.ndarray]:
    """:func:`run_optimizer` with ``torch.optim.RMSprop``; ``hyper`` in the course's notation
    (``beta`` -> torch's ``alpha``; ``eps``, ``momentum`` as in torch)."""
    import torch

    _check(problem, steps, lr, group_lrs, schedule)
    hyper = dict(hyper or {})
    if "beta" in hyper:
        hyper["alpha"] = hyper.pop("beta")
    return _train(lambda params: torch.optim.RMSprop(params, lr=lr, **hyper), problem=problem,
                  seed=seed, steps=steps, lr=lr, group_lrs=group_lrs, schedule=schedule)


__all__ = ["PROBLEMS", "run_optimizer", "run_torch_rmsprop"]
