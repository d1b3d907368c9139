"""Run an optimizer: on an objective (``minimize``) or on a model and data (``fit``).

Both keep everything a notebook wants to plot, stop with one clear line when the loss stops
being a finite number, and show a progress bar only when a run takes more than a couple of
seconds (set the environment variable ``COURSE_LIB_PROGRESS=0`` to never show one).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ._validation import check_positive_int
from .batching import minibatches
from .models import Model
from .objectives import Objective
from .optim import Optimizer

PROGRESS_AFTER_SECONDS = 2.0


class _LazyProgress:
    """A tqdm bar that appears only once a run has taken ``PROGRESS_AFTER_SECONDS``."""

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.done = total, desc, 0
        self.enabled = os.environ.get("COURSE_LIB_PROGRESS", "1") != "0"
        self.start = time.perf_counter()
        self.bar: Any = None

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled and time.perf_counter() - self.start > PROGRESS_AFTER_SECONDS:
            from tqdm.auto import tqdm  # imported late: most runs never need it

            self.bar = tqdm(total=self.total, initial=self.done, desc=self.desc, leave=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _divergence_message(where: str, value: float, optimizer: Optimizer) -> str:
    return (
        f"Stopped {where}: the loss became {value} (not a finite number). "
        f"The learning rate lr={optimizer.lr:g} is probably too large for this problem."
    )


@dataclass
class Trajectory:
    """What :func:`minimize` saw, one row per point visited (the start included)."""

    points: np.ndarray  #: shape (steps + 1, dim)
    losses: np.ndarray  #: f at each point
    grad_norms: np.ndarray  #: Euclidean norm of the gradient at each point
    effective_lrs: np.ndarray  #: shape (steps, dim): each coordinate's rate at each step
    stopped: str | None = None  #: why the run ended early, if it did

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def final(self) -> np.ndarray:
        return self.points[-1]


def minimize(
    objective: Objective | Any,
    optimizer: Optimizer,
    x0: ArrayLike,
    steps: int,
    verbose: bool = True,
) -> Trajectory:
    """Run ``steps`` updates of ``optimizer`` on ``objective`` (anything with ``f`` and ``grad``)
    from ``x0``. ``x0`` keeps its dtype if it is float32 or float64 (so a float32 run stays
    float32) and is not modified. The optimizer's state is reset first. If the loss stops being
    finite the run ends there, with the reason in ``stopped`` (printed unless ``verbose=False``).
    """
    steps = check_positive_int("steps", steps)
    x = np.array(x0, dtype=None, copy=True)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    x = np.atleast_1d(x)
    optimizer.reset()
    points, losses, grad_norms, rates = [x.copy()], [], [], []
    stopped = None
    progress = _LazyProgress(steps, type(optimizer).__name__)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step in range(steps + 1):
            loss = float(objective.f(x))
            grad = np.asarray(objective.grad(x), dtype=x.dtype)
            losses.append(loss)
            grad_norms.append(float(np.linalg.norm(grad)))
            if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
                stopped = _divergence_message(f"after {step} steps", loss, optimizer)
                break
            if step == steps:
                break
            optimizer.step(x, grad)
            points.append(x.copy())
            rates.append(optimizer.state[0]["effective_lr"].copy())
            progress.update()
    progress.close()
    if stopped and verbose:
        print(stopped)
    dim = x.size
    return Trajectory(
        points=np.array(points),
        losses=np.array(losses),
        grad_norms=np.array(grad_norms),
        effective_lrs=np.array(rates).reshape(-1, dim),
        stopped=stopped,
    )


@dataclass
class History:
    """What :func:`fit` saw. Row 0 is before training; row k is after epoch k."""

    epoch: np.ndarray
    steps: np.ndarray  #: optimizer steps taken so far
    train_loss: np.ndarray  #: loss on all of the training data
    val_loss: np.ndarray | None = None
    batch_losses: np.ndarray = field(default_factory=lambda: np.empty(0))  #: every mini-batch
    stopped: str | None = None

    def to_frame(self) -> pd.DataFrame:
        columns = {"epoch": self.epoch, "steps": self.steps, "train_loss": self.train_loss}
        if self.val_loss is not None:
            columns["val_loss"] = self.val_loss
        return pd.DataFrame(columns)


def fit(
    model: Model,
    X: ArrayLike,
    y: ArrayLike,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int | None = None,
    seed: int = 0,
    validation_data: tuple[ArrayLike, ArrayLike] | None = None,
    verbose: bool = True,
) -> History:
    """Train ``model`` in place with mini-batches of ``batch_size`` (``None``: the full batch).

    Each epoch shuffles the data with ``np.random.default_rng(seed)`` and visits every sample
    once. The losses recorded per epoch are on the whole training set (and on
    ``validation_data``, if given), so runs with different batch sizes compare fairly. If the
    loss stops being finite the run ends there, with the reason in ``stopped`` (printed unless
    ``verbose=False``).
    """
    epochs = check_positive_int("epochs", epochs)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)} values; they must match.")
    batch = n if batch_size is None else check_positive_int("batch_size", batch_size)
    rng = np.random.default_rng(seed)
    optimizer.reset()

    def losses() -> tuple[float, float | None]:
        val = model.loss(*validation_data) if validation_data is not None else None
        return model.loss(X, y), val

    train, val = losses()
    rows = [(0, 0, train, val)]
    batch_losses: list[float] = []
    steps, stopped = 0, None
    progress = _LazyProgress(epochs, "epochs")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            for X_batch, y_batch in minibatches(X, y, batch, rng):
                loss, grads = model.loss_and_grad(X_batch, y_batch)
                batch_losses.append(loss)
                if not (np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads)):
                    stopped = _divergence_message(
                        f"in epoch {epoch} after {steps} steps", loss, optimizer
                    )
                    break
                optimizer.step(model.params, grads)
                steps += 1
            if stopped:
                break
            train, val = losses()
            rows.append((epoch, steps, train, val))
            progress.update()
    progress.close()
    if stopped and verbose:
        print(stopped)
    epoch_col, steps_col, train_col, val_col = zip(*rows, strict=True)
    return History(
        epoch=np.array(epoch_col),
        steps=np.array(steps_col),
        train_loss=np.array(train_col),
        val_loss=np.array(val_col, dtype=float) if validation_data is not None else None,
        batch_losses=np.array(batch_losses),
        stopped=stopped,
    )
