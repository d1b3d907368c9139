"""minimize and fit: shapes, closed forms, hand-written loops, divergence, reproducibility, bars."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from course_lib import training
from course_lib.models import MLP, LinearRegression, least_squares
from course_lib.objectives import (
    Beale,
    Rosenbrock,
    SeedBowl,
    XOverLogX,
    ill_conditioned_quadratic,
    rotated_quadratic,
)
from course_lib.optim import SGD, RMSprop
from course_lib.training import History, Trajectory, fit, minimize


def regression_data(n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=n)
    return X, y


def central_difference(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Written here, independent of course_lib.gradcheck."""
    g = np.zeros_like(x, dtype=float)
    for i in range(x.size):
        e = np.zeros_like(x, dtype=float)
        e[i] = h
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


@pytest.fixture(autouse=True)
def _no_progress_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # the default: whatever the shell running the tests says, start from "progress allowed"
    monkeypatch.delenv("COURSE_LIB_PROGRESS", raising=False)


# --- minimize: shapes and bookkeeping -------------------------------------------------------


def test_minimize_shapes() -> None:
    traj = minimize(Rosenbrock(), RMSprop(lr=0.01), [-1.0, 1.5], steps=30)
    assert isinstance(traj, Trajectory)
    assert traj.points.shape == (31, 2)
    assert traj.losses.shape == (31,)
    assert traj.grad_norms.shape == (31,)
    assert traj.effective_lrs.shape == (30, 2)
    assert traj.steps == 30
    np.testing.assert_array_equal(traj.final, traj.points[-1])
    assert traj.stopped is None
    np.testing.assert_array_equal(traj.points[0], [-1.0, 1.5])


def test_minimize_one_dimensional_objective() -> None:
    traj = minimize(XOverLogX(), RMSprop(lr=0.1), 20.0, steps=5)
    assert traj.points.shape == (6, 1)
    assert traj.effective_lrs.shape == (5, 1)


def test_minimize_does_not_modify_x0() -> None:
    x0 = np.array([-1.2, 1.0])
    minimize(Rosenbrock(), SGD(lr=1e-3), x0, steps=10)
    np.testing.assert_array_equal(x0, [-1.2, 1.0])


@pytest.mark.parametrize("optimizer", [SGD(lr=0.05), RMSprop(lr=0.05)], ids=["sgd", "rmsprop"])
def test_minimize_keeps_float32(optimizer) -> None:
    x0 = np.array([1.0, -1.0], dtype=np.float32)
    traj = minimize(SeedBowl(), optimizer, x0, steps=10)
    assert traj.points.dtype == np.float32
    assert x0.dtype == np.float32
    np.testing.assert_array_equal(x0, [1.0, -1.0])


def test_minimize_integer_x0_runs_in_float64() -> None:
    traj = minimize(SeedBowl(), SGD(lr=0.1), [3, -2], steps=3)
    assert traj.points.dtype == np.float64
    # x_{t+1} = x_t - 0.1 * (2x, y) = (0.8 x, 0.9 y)
    np.testing.assert_allclose(traj.points[-1], [3 * 0.8**3, -2 * 0.9**3])


def test_minimize_records_losses_and_grad_norms_of_its_points() -> None:
    q = ill_conditioned_quadratic(5.0)
    traj = minimize(q, SGD(lr=0.1), [2.0, 1.0], steps=8)
    x, y = traj.points[:, 0], traj.points[:, 1]
    np.testing.assert_allclose(traj.losses, 0.5 * (x**2 + 5 * y**2))
    np.testing.assert_allclose(traj.grad_norms, np.hypot(x, 5 * y))


def test_minimize_resets_the_optimizer() -> None:
    opt = RMSprop(lr=0.05)
    first = minimize(Beale(), opt, [1.0, 1.0], steps=20)
    second = minimize(Beale(), opt, [1.0, 1.0], steps=20)
    np.testing.assert_array_equal(first.points, second.points)


@pytest.mark.parametrize("steps", [0, -3])
def test_minimize_bad_steps(steps: int) -> None:
    with pytest.raises(ValueError, match=rf"steps.*{steps}"):
        minimize(SeedBowl(), SGD(lr=0.1), [1.0, 1.0], steps=steps)


# --- minimize: closed forms -----------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.01, 0.05, 0.15])
def test_sgd_on_quadratic_is_matrix_power(lr: float) -> None:
    kappa, angle = 10.0, 30.0
    theta = math.radians(angle)
    R = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    A = R @ np.diag([1.0, kappa]) @ R.T
    x0 = np.array([2.0, -1.0])
    traj = minimize(rotated_quadratic(kappa, angle), SGD(lr=lr), x0, steps=40)
    M = np.eye(2) - lr * A
    want = np.array([np.linalg.matrix_power(M, t) @ x0 for t in range(41)])
    np.testing.assert_allclose(traj.points, want, rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(traj.effective_lrs, np.full((40, 2), lr))


@pytest.mark.parametrize(
    ("objective", "x0"),
    [
        (Rosenbrock(), [-1.2, 1.0]),
        (Beale(), [1.0, 1.5]),
        (rotated_quadratic(50.0, 20.0), [3.0, -0.5]),
        (SeedBowl(), [0.3, -4.0]),
        (XOverLogX(), [50.0]),
    ],
    ids=["rosenbrock", "beale", "rotated", "bowl", "xlogx"],
)
@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_beta(objective, x0, beta: float) -> None:
    lr = 0.01
    x0 = np.array(x0)
    traj = minimize(objective, RMSprop(lr=lr, beta=beta), x0, steps=1)
    step = traj.points[1] - traj.points[0]
    # v_1 = (1 - beta) g^2, so the step is lr g / sqrt((1 - beta) g^2) = lr sign(g) / sqrt(1 - beta)
    np.testing.assert_allclose(np.abs(step), lr / math.sqrt(1 - beta), rtol=1e-6)
    g = central_difference(objective.f, x0)
    np.testing.assert_array_equal(np.sign(step), -np.sign(g))
    want_rates = lr / (math.sqrt(1 - beta) * np.abs(g))
    np.testing.assert_allclose(traj.effective_lrs[0], want_rates, rtol=1e-5)


# --- minimize: divergence -------------------------------------------------------------------


def test_minimize_divergence_stops_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = minimize(Rosenbrock(), SGD(lr=1.0), [-1.5, 2.0], steps=200)
    assert traj.stopped is not None
    assert "lr=1" in traj.stopped and "lr=" in traj.stopped
    assert traj.steps < 200
    assert len(traj.losses) == len(traj.points) == len(traj.grad_norms)
    assert traj.effective_lrs.shape == (traj.steps, 2)
    assert not np.isfinite(traj.losses[-1])
    assert np.all(np.isfinite(traj.losses[:-1]))
    out, err = capsys.readouterr()
    assert out.splitlines() == [traj.stopped]
    assert err == ""


def test_minimize_without_divergence_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    minimize(Rosenbrock(), SGD(lr=1e-3), [-1.5, 2.0], steps=200)
    assert capsys.readouterr() == ("", "")


# --- fit: bookkeeping -----------------------------------------------------------------------


@pytest.mark.parametrize(("n", "batch_size"), [(50, 8), (50, 10), (50, 50), (50, 64), (7, 1)])
def test_fit_rows_and_steps(n: int, batch_size: int) -> None:
    X, y = regression_data(n)
    epochs = 4
    hist = fit(LinearRegression(3), X, y, SGD(lr=0.01), epochs, batch_size=batch_size)
    assert isinstance(hist, History)
    per_epoch = -(-n // batch_size)
    np.testing.assert_array_equal(hist.epoch, np.arange(epochs + 1))
    np.testing.assert_array_equal(hist.steps, per_epoch * np.arange(epochs + 1))
    assert hist.train_loss.shape == (epochs + 1,)
    assert hist.batch_losses.shape == (epochs * per_epoch,)
    assert hist.val_loss is None
    assert hist.stopped is None


def test_fit_full_batch_sgd_matches_hand_written_gradient_descent() -> None:
    X, y = regression_data(40, seed=2)
    lr, epochs = 0.05, 25
    model = LinearRegression(3)
    hist = fit(model, X, y, SGD(lr=lr), epochs, batch_size=None)

    w, b = np.zeros(3), 0.0
    losses = [np.mean((X @ w + b - y) ** 2)]
    for _ in range(epochs):
        e = X @ w + b - y
        w, b = w - lr * 2 * X.T @ e / len(y), b - lr * 2 * np.mean(e)
        losses.append(np.mean((X @ w + b - y) ** 2))
    np.testing.assert_allclose(hist.train_loss, losses, rtol=1e-10)
    np.testing.assert_allclose(model.weights, w, rtol=1e-10)
    assert model.bias == pytest.approx(b, rel=1e-10)
    # with the full batch, each batch loss is the loss before that step
    np.testing.assert_allclose(hist.batch_losses, losses[:-1], rtol=1e-10)
    np.testing.assert_array_equal(hist.steps, np.arange(epochs + 1))


def test_fit_same_seed_same_history_different_seed_different_batches() -> None:
    X, y = regression_data(60)

    def run(seed: int) -> tuple[History, np.ndarray]:
        model = LinearRegression(3)
        return fit(model, X, y, RMSprop(lr=0.01), 5, batch_size=7, seed=seed), model.get_flat()

    (a, pa), (b, pb), (c, pc) = run(3), run(3), run(4)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    np.testing.assert_array_equal(a.batch_losses, b.batch_losses)
    np.testing.assert_array_equal(pa, pb)
    assert a.batch_losses.shape == c.batch_losses.shape
    assert not np.array_equal(a.batch_losses, c.batch_losses)
    assert not np.array_equal(pa, pc)


def test_fit_rmsprop_reaches_least_squares() -> None:
    X, y = regression_data(100, seed=1)
    model = LinearRegression(3)
    hist = fit(model, X, y, RMSprop(lr=0.003), 3000)
    w, b = least_squares(X, y)
    # constant-lr RMSprop ends up hopping around the minimum with steps of about lr
    np.testing.assert_allclose(model.weights, w, atol=5e-3)
    assert model.bias == pytest.approx(b, abs=5e-3)
    best = np.mean((X @ w + b - y) ** 2)
    assert best <= hist.train_loss[-1] < best * 1.01
    assert hist.train_loss[-1] < hist.train_loss[0]


def test_fit_validation_loss_and_frame() -> None:
    X, y = regression_data(60)
    X_val, y_val = regression_data(20, seed=9)
    model = LinearRegression(3)
    hist = fit(model, X, y, SGD(lr=0.05), 6, batch_size=16, validation_data=(X_val, y_val))
    assert hist.val_loss is not None and hist.val_loss.shape == (7,)
    assert hist.val_loss[0] == pytest.approx(np.mean(y_val**2))  # the model starts at zero
    assert hist.val_loss[-1] == pytest.approx(np.mean((model.predict(X_val) - y_val) ** 2))
    assert hist.train_loss[0] == pytest.approx(np.mean(y**2))
    frame = hist.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "epoch", "steps", "train_loss", "val_loss", "lr", "effective_lr"
    ]
    assert len(frame) == 7
    np.testing.assert_array_equal(frame["train_loss"].to_numpy(), hist.train_loss)


def test_history_frame_without_validation() -> None:
    X, y = regression_data(20)
    hist = fit(LinearRegression(3), X, y, SGD(lr=0.05), 3)
    assert list(hist.to_frame().columns) == [
        "epoch", "steps", "train_loss", "lr", "effective_lr"
    ]


def test_fit_mismatched_lengths() -> None:
    X, y = regression_data(20)
    with pytest.raises(ValueError, match=r"20.*19"):
        fit(LinearRegression(3), X, y[:-1], SGD(lr=0.1), 2)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"epochs": 0}, ValueError),
        ({"epochs": 2, "batch_size": 0}, ValueError),
        ({"epochs": 2, "batch_size": 2.5}, TypeError),
    ],
)
def test_fit_bad_arguments(kwargs: dict, error: type[Exception]) -> None:
    X, y = regression_data(20)
    with pytest.raises(error):
        fit(LinearRegression(3), X, y, SGD(lr=0.1), **kwargs)


def test_fit_trains_a_two_output_mlp() -> None:
    # MLP documents n_out > 1 for regression (y of shape (n, n_out)); fit should train it
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = np.column_stack([X[:, 0] - X[:, 1], 0.5 * X[:, 2]])
    model = MLP([3, 8, 2], task="regression", seed=0)
    hist = fit(model, X, Y, RMSprop(lr=0.01), 30, batch_size=10)
    assert hist.train_loss.shape == (31,)
    assert hist.train_loss[-1] < hist.train_loss[0]


# --- fit: divergence ------------------------------------------------------------------------


def test_fit_divergence_stops_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = regression_data(50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = fit(LinearRegression(3), X, y * 100, SGD(lr=5.0), 200, batch_size=10)
    assert hist.stopped is not None
    assert "lr=5" in hist.stopped
    assert len(hist.epoch) < 201
    assert len(hist.epoch) == len(hist.steps) == len(hist.train_loss)
    assert not np.isfinite(hist.batch_losses[-1])
    out, err = capsys.readouterr()
    assert out.splitlines() == [hist.stopped]
    assert err == ""


def test_fit_short_run_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = regression_data(50)
    fit(LinearRegression(3), X, y, SGD(lr=0.05), 20, batch_size=10)
    assert capsys.readouterr() == ("", "")


# --- progress bar ---------------------------------------------------------------------------


def test_progress_bar_appears_when_forced(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # positive control for the tests below: with no delay the bar path is taken
    monkeypatch.setattr(training, "PROGRESS_AFTER_SECONDS", 0.0)
    monkeypatch.setenv("COURSE_LIB_PROGRESS", "1")
    minimize(Rosenbrock(), SGD(lr=1e-3), [-1.0, 1.0], steps=50)
    X, y = regression_data(30)
    fit(LinearRegression(3), X, y, SGD(lr=0.05), 10)
    out, err = capsys.readouterr()
    assert out == ""
    assert "SGD" in err and "epochs" in err


def test_progress_env_zero_disables_the_bar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(training, "PROGRESS_AFTER_SECONDS", 0.0)
    monkeypatch.setenv("COURSE_LIB_PROGRESS", "0")
    traj = minimize(Rosenbrock(), SGD(lr=1e-3), [-1.0, 1.0], steps=50)
    X, y = regression_data(30)
    hist = fit(LinearRegression(3), X, y, SGD(lr=0.05), 10)
    assert traj.steps == 50 and len(hist.epoch) == 11
    assert capsys.readouterr() == ("", "")


def test_short_runs_show_no_bar(capsys: pytest.CaptureFixture[str]) -> None:
    assert training.PROGRESS_AFTER_SECONDS >= 1.0
    minimize(Beale(), RMSprop(lr=0.01), [1.0, 1.0], steps=100)
    X, y = regression_data(30)
    fit(LinearRegression(3), X, y, RMSprop(lr=0.01), 20, batch_size=5)
    assert capsys.readouterr() == ("", "")


def test_verbose_false_keeps_the_stop_message_but_prints_nothing(capsys) -> None:
    from course_lib import LinearRegression, Rosenbrock, fit, minimize
    from course_lib.optim import SGD

    trajectory = minimize(Rosenbrock(), SGD(lr=1.0), [-1.5, 2.0], 200, verbose=False)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 1)) * 100
    history = fit(LinearRegression(1), X, X[:, 0], SGD(lr=10.0), 50, verbose=False)
    assert trajectory.stopped and "lr=1" in trajectory.stopped
    assert history.stopped and "lr=10" in history.stopped
    assert capsys.readouterr().out == ""


# --- learning-rate schedules ----------------------------------------------------------------


def test_minimize_schedule_sets_lr_before_each_step_counted_from_zero() -> None:
    # gradient descent on f = x^2 / 2: x_{k+1} = (1 - lr_k) x_k, so x_final = prod(1 - lr_k)
    class Half:
        def f(self, x):
            return 0.5 * float(x @ x)

        def grad(self, x):
            return x.copy()

    lrs = [0.0, 0.1, 0.25, 0.5, 0.0]
    opt = SGD(lr=0.3)
    traj = minimize(Half(), opt, [2.0], steps=5, schedule=lambda k: lrs[k])
    np.testing.assert_array_equal(traj.lrs, lrs)
    assert traj.final[0] == pytest.approx(2.0 * np.prod([1 - lr for lr in lrs]), rel=1e-15)
    np.testing.assert_array_equal(traj.points[1], traj.points[0])  # lr = 0: no move
    np.testing.assert_array_equal(traj.effective_lrs[:, 0], lrs)
    assert opt.lr == 0.3  # put back after the run


def test_minimize_without_schedule_records_the_constant_lr() -> None:
    traj = minimize(SeedBowl(), RMSprop(lr=0.05), [1.0, 1.0], steps=4)
    np.testing.assert_array_equal(traj.lrs, [0.05] * 4)


def test_cosine_decay_to_zero_runs_and_ends_with_a_step_of_size_zero() -> None:
    steps = 20
    cosine = lambda k: 0.1 * 0.5 * (1 + math.cos(math.pi * k / (steps - 1)))  # noqa: E731
    traj = minimize(rotated_quadratic(10.0), RMSprop(lr=0.1), [1.0, 1.0], steps=steps,
                    schedule=cosine)
    assert traj.lrs[0] == 0.1 and traj.lrs[-1] == pytest.approx(0.0, abs=1e-18)
    np.testing.assert_allclose(traj.points[-1], traj.points[-2], atol=1e-17)


@pytest.mark.parametrize(
    ("schedule", "error", "match"),
    [
        (lambda k: -0.1, ValueError, r"schedule\(0\) \(the learning rate for step 0\).*>= 0"),
        (lambda k: float("nan"), ValueError, r"schedule\(0\).*nan"),
        (lambda k: "fast", TypeError, r"schedule\(0\).*real number"),
        (0.1, TypeError, "schedule must be a function"),
    ],
)
def test_minimize_bad_schedule_is_named(schedule, error, match) -> None:
    opt = SGD(lr=0.3)
    with pytest.raises(error, match=match):
        minimize(SeedBowl(), opt, [1.0, 1.0], steps=3, schedule=schedule)
    assert opt.lr == 0.3


def test_fit_schedule_is_per_epoch_counted_from_one_and_recorded() -> None:
    X, y = regression_data(40)
    seen = []

    def schedule(epoch):
        seen.append(epoch)
        return 0.1 / epoch

    opt = SGD(lr=0.7)
    hist = fit(LinearRegression(3), X, y, opt, 4, batch_size=10, schedule=schedule)
    assert seen == [1, 2, 3, 4]
    np.testing.assert_allclose(hist.lr[1:], [0.1, 0.05, 0.1 / 3, 0.025], rtol=1e-15)
    assert math.isnan(hist.lr[0]) and math.isnan(hist.effective_lr[0])
    np.testing.assert_allclose(hist.effective_lr[1:], hist.lr[1:], rtol=1e-15)  # SGD: lr itself
    assert opt.lr == 0.7


def test_fit_schedule_equals_a_hand_written_loop_with_lr_changed_each_epoch() -> None:
    X, y = regression_data(30)
    a, b = LinearRegression(3), LinearRegression(3)
    fit(a, X, y, RMSprop(lr=0.0), 3, schedule=lambda e: [0.0, 0.05, 0.02][e - 1])
    opt = RMSprop(lr=0.0)
    for lr in (0.0, 0.05, 0.02):  # full batch: one step per epoch
        opt.lr = lr
        _, grads = b.loss_and_grad(X, y)
        opt.step(b.params, grads)
    for p, q in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(p, q)


def test_fit_effective_lr_is_the_median_over_all_coordinates() -> None:
    X, y = regression_data(30)
    model, opt = LinearRegression(3), RMSprop(lr=0.01)
    hist = fit(model, X, y, opt, 2)
    rates = np.concatenate([s["effective_lr"].ravel() for s in opt.state])
    assert hist.effective_lr[-1] == np.median(rates)
    assert rates.size == 4 and len(set(rates)) > 1
