"""Run an optimizer: on an objective (``minimize``) or on a model and data (``fit``).

Both keep everything a notebook wants to plot, stop with one clear line when the loss stops
being a finite number, and show a progress bar only when a run takes more than a couple of
seconds (set the environment variable ``COURSE_LIB_PROGRESS=0`` to never show one).

Both take an optional learning-rate ``schedule``: a function of the step (``minimize``, counted
from 0) or of the epoch (``fit``, counted from 1) returning the learning rate to use, e.g. a
cosine decay to zero (Loshchilov & Hutter 2017, https://arxiv.org/abs/1608.03983) or a linear
warm-up from zero (Goyal et al. 2017, https://arxiv.org/abs/1706.02677). ``lr = 0`` is allowed.
It plays the part of torch's ``torch.optim.lr_scheduler`` and Keras's
``LearningRateSchedule``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ._validation import check_learning_rate, check_positive_int
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
    lrs: np.ndarray = field(default_factory=lambda: np.empty(0))  #: optimizer.lr at each step

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def final(self) -> np.ndarray:
        return self.points[-1]


Schedule = Callable[[int], float]


def _check_schedule(schedule: object) -> Schedule | None:
    if schedule is not None and not callable(schedule):
        raise TypeError(
            f"schedule must be a function of the step (or epoch) returning a learning rate, "
            f"or None; got {schedule!r}."
        )
    return schedule


def _scheduled_lr(schedule: Schedule, when: str, k: int) -> float:
    """``schedule(k)`` checked like a learning rate, the error naming the call."""
    return check_learning_rate(f"schedule({k}) (the learning rate for {when} {k})", schedule(k))


def minimize(
    objective: Objective | Any,
    optimizer: Optimizer,
    x0: ArrayLike,
    steps: int,
    verbose: bool = True,
    *,
    schedule: Schedule | None = None,
) -> Trajectory:
    """Run ``steps`` updates of ``optimizer`` on ``objective`` (anything with ``f`` and ``grad``)
    from ``x0``. ``x0`` keeps its dtype if it is float32 or float64 (so a float32 run stays
    float32) and is not modified. The optimizer's state is reset first. If the loss stops being
    finite the run ends there, with the reason in ``stopped`` (printed unless ``verbose=False``).

    ``schedule(k)`` (k = 0, 1, ..., steps - 1), if given, is the learning rate of step k: it is
    written to ``optimizer.lr`` before that step (0 is allowed), and ``optimizer.lr`` is put back
    as it was after the run. ``Trajectory.lrs`` records the rate of every step.
    """
    steps = check_positive_int("steps", steps)
    schedule = _check_schedule(schedule)
    x = np.array(x0, dtype=None, copy=True)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    x = np.atleast_1d(x)
    optimizer.reset()
    base_lr = optimizer.lr
    try:
        record = _run_steps(objective, optimizer, x, steps, schedule)
    finally:
        optimizer.lr = base_lr
    points, losses, grad_norms, rates, lrs, stopped = record
    if stopped and verbose:
        print(stopped)
    return Trajectory(
        points=np.array(points),
        losses=np.array(losses),
        grad_norms=np.array(grad_norms),
        effective_lrs=np.array(rates).reshape(-1, x.size),
        stopped=stopped,
        lrs=np.array(lrs, dtype=float),
    )


def _run_steps(
    objective: Any, optimizer: Optimizer, x: np.ndarray, steps: int, schedule: Schedule | None
) -> tuple[list, list, list, list, list, str | None]:
    """The loop of :func:`minimize`: step ``x`` in place and record every point."""
    points, losses, grad_norms, rates, lrs = [x.copy()], [], [], [], []
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
            if schedule is not None:
                optimizer.lr = _scheduled_lr(schedule, "step", step)
            optimizer.step(x, grad)
            points.append(x.copy())
            rates.append(optimizer.state[0]["effective_lr"].copy())
            lrs.append(optimizer.lr)
            progress.update()
    progress.close()
    return points, losses, grad_norms, rates, lrs, stopped


@dataclass
class History:
    """What :func:`fit` saw. Row 0 is before training; row k is after epoch k."""

    epoch: np.ndarray
    steps: np.ndarray  #: optimizer steps taken so far
    train_loss: np.ndarray  #: loss on all of the training data
    val_loss: np.ndarray | None = None
    batch_losses: np.ndarray = field(default_factory=lambda: np.empty(0))  #: every mini-batch
    stopped: str | None = None
    #: optimizer.lr during each epoch (row 0, before training: NaN)
    lr: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: median over all coordinates of the per-coordinate effective learning rate at the last
    #: step of each epoch (row 0: NaN)
    effective_lr: np.ndarray = field(default_factory=lambda: np.empty(0))

    def to_frame(self) -> pd.DataFrame:
        columns = {"epoch": self.epoch, "steps": self.steps, "train_loss": self.train_loss}
        if self.val_loss is not None:
            columns["val_loss"] = self.val_loss
        if len(self.lr) == len(self.epoch):
            columns["lr"] = self.lr
            columns["effective_lr"] = self.effective_lr
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
    *,
    schedule: Schedule | None = None,
) -> History:
    """Train ``model`` in place with mini-batches of ``batch_size`` (``None``: the full batch).

    Each epoch shuffles the data with ``np.random.default_rng(seed)`` and visits every sample
    once. The losses recorded per epoch are on the whole training set (and on
    ``validation_data``, if given), so runs with different batch sizes compare fairly. If the
    loss stops being finite the run ends there, with the reason in ``stopped`` (printed unless
    ``verbose=False``).

    ``schedule(epoch)`` (epoch = 1, ..., epochs), if given, is the learning rate for every step
    of that epoch: it is written to ``optimizer.lr`` before the epoch (0 is allowed), and
    ``optimizer.lr`` is put back as it was after the run. ``History.lr`` and
    ``History.effective_lr`` record the rate of each epoch.
    """
    epochs = check_positive_int("epochs", epochs)
    schedule = _check_schedule(schedule)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)} values; they must match.")
    batch = n if batch_size is None else check_positive_int("batch_size", batch_size)
    data = (X, y, validation_data)
    optimizer.reset()
    base_lr = optimizer.lr
    try:
        rows, batch_losses, stopped = _run_epochs(
            model, data, optimizer, epochs, batch, np.random.default_rng(seed), schedule
        )
    finally:
        optimizer.lr = base_lr
    if stopped and verbose:
        print(stopped)
    epoch_col, steps_col, train_col, val_col, lr_col, eff_col = zip(*rows, strict=True)
    return History(
        epoch=np.array(epoch_col),
        steps=np.array(steps_col),
        train_loss=np.array(train_col),
        val_loss=np.array(val_col, dtype=float) if validation_data is not None else None,
        batch_losses=np.array(batch_losses),
        stopped=stopped,
        lr=np.array(lr_col, dtype=float),
        effective_lr=np.array(eff_col, dtype=float),
    )


def _median_effective_lr(optimizer: Optimizer) -> float:
    if not optimizer.state:
        return math.nan
    return float(np.median(np.concatenate([s["effective_lr"].ravel() for s in optimizer.state])))


def _run_epochs(
    model: Model, data: tuple, optimizer: Optimizer, epochs: int, batch: int,
    rng: np.random.Generator, schedule: Schedule | None,
) -> tuple[list[tuple], list[float], str | None]:
    """The loop of :func:`fit`: one row per epoch (row 0 before training)."""
    X, y, validation_data = data

    def losses() -> tuple[float, float | None]:
        val = model.loss(*validation_data) if validation_data is not None else None
        return model.loss(X, y), val

    rows = [(0, 0, *losses(), math.nan, math.nan)]
    batch_losses: list[float] = []
    steps, stopped = 0, None
    progress = _LazyProgress(epochs, "epochs")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            if schedule is not None:
                optimizer.lr = _scheduled_lr(schedule, "epoch", epoch)
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
            rows.append((epoch, steps, *losses(), optimizer.lr, _median_effective_lr(optimizer)))
            progress.update()
    progress.close()
    return rows, batch_losses, stopped
