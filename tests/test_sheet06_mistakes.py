"""Sheet 06 (mini-batches): right answers pass, and every known mistake gets its message.

The reference answers here are written independently of the solution sheet. Independent
references for the comparators' own expectations: ``course_lib.fit`` (the diagnose path's last
point), PyTorch's ``CosineAnnealingLR`` (the cosine schedule) and counting by hand (the budget).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib import LinearRegression, fit, minibatches
from course_lib.cases import build, built, mistake_message, run_check
from course_lib.cases.sheet06 import EXERCISES, reference_path
from course_lib.optim import RMSprop

BUDGET, BATCHES, PATH = (EXERCISES[k] for k in ("mb_budget", "mb_epoch_batches",
                                                  "mb_fix_train_path"))
COSINE, TUNE = EXERCISES["mb_cosine_lr"], EXERCISES["mb_tune"]


def _hidden_pass(exercise, answer, draws=3) -> None:
    for k in range(draws):
        for case in exercise.hidden(np.random.default_rng(k)):
            got = answer(*build(case.args), **build(case.kwargs))
            if exercise.consume is not None:
                got = list(got)
            exercise.compare(built(case), got, None)


# --- mb_budget ---------------------------------------------------------------------------------

RIGHT_BUDGET = {"updates": 3 * 432, "gradients": 3 * 43152}  # 43152 = 431 * 100 + 52


def test_budget_right_prediction_passes_and_reports_the_measurement(capsys) -> None:
    run_check(BUDGET, RIGHT_BUDGET)
    out = capsys.readouterr().out
    assert "[mb_budget] passed: 2/2 cases" in out and "1296 updates" in out


@pytest.mark.parametrize(("key", "wrong", "message"), [
    ("updates", 3 * 431, "the short last batch (52 samples) is a batch too"),
    ("updates", 3 * 43152 / 100, "round N / B up"),
    ("updates", 432, "that is one epoch"),
    ("updates", 3 * 43152, "one update per batch, not per sample"),
    ("gradients", 3 * 432 * 100, "holds only 52 samples"),
    ("gradients", 43152, "that is one epoch"),
    ("gradients", 1296, "that counts updates"),
])
def test_budget_known_mistakes(key: str, wrong: float, message: str) -> None:
    text = mistake_message(BUDGET, {**RIGHT_BUDGET, key: wrong})
    assert message in text and ("1296" in text or "129456" in text)


def test_budget_needs_both_keys() -> None:
    assert "a dict with the keys 'updates' and 'gradients'" in mistake_message(BUDGET, 1296)


# --- mb_epoch_batches --------------------------------------------------------------------------

def right_batches(X, y, batch_size, epochs, seed, drop_last=False):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            if not (drop_last and len(rows) < batch_size):
                yield X[rows], y[rows]


def test_epoch_batches_right_answer_passes_public_and_hidden(capsys) -> None:
    run_check(BATCHES, right_batches)
    assert "[mb_epoch_batches] passed: 7/7 cases" in capsys.readouterr().out
    _hidden_pass(BATCHES, right_batches)


def reseeded(X, y, batch_size, epochs, seed, drop_last=False):
    for _ in range(epochs):
        yield from right_batches(X, y, batch_size, 1, seed, drop_last)


def two_permutations(X, y, batch_size, epochs, seed, drop_last=False):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        xs, ys = X[rng.permutation(len(X))], y[rng.permutation(len(y))]
        for start in range(0, len(X), batch_size):
            if not (drop_last and len(ys[start:start + batch_size]) < batch_size):
                yield xs[start:start + batch_size], ys[start:start + batch_size]


def shuffled_in_place(X, y, batch_size, epochs, seed, drop_last=False):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        X[...], y[...] = X[order], y[order]
        for start in range(0, len(X), batch_size):
            if not (drop_last and len(y[start:start + batch_size]) < batch_size):
                yield X[start:start + batch_size].copy(), y[start:start + batch_size].copy()


def no_short_batch(X, y, batch_size, epochs, seed, drop_last=False):
    yield from right_batches(X, y, batch_size, epochs, seed, drop_last=True)


def ignores_drop_last(X, y, batch_size, epochs, seed, drop_last=False):
    yield from right_batches(X, y, batch_size, epochs, seed, drop_last=False)


def one_epoch(X, y, batch_size, epochs, seed, drop_last=False):
    yield from right_batches(X, y, batch_size, 1, seed, drop_last)


def refilled_buffer(X, y, batch_size, epochs, seed, drop_last=False):
    xbuf, ybuf = np.empty((batch_size, *X.shape[1:])), np.empty(batch_size)
    for xb, yb in right_batches(X, y, batch_size, epochs, seed, drop_last):
        xbuf[:len(yb)], ybuf[:len(yb)] = xb, yb
        yield xbuf[:len(yb)], ybuf[:len(yb)]


@pytest.mark.parametrize(("answer", "message"), [
    (reseeded, "every epoch repeats the same order"),
    (two_permutations, "an X row lost its target"),
    (shuffled_in_place, "an in-place update of an input"),
    (no_short_batch, "the short last batch of each epoch counts too"),
    (ignores_drop_last, "drop_last=True skips the short last batch"),
    (one_epoch, "that is one epoch of batches; yield all 2 epochs"),
    (refilled_buffer, "the same array, refilled"),
])
def test_epoch_batches_known_mistakes(answer, message: str) -> None:
    assert message in mistake_message(BATCHES, answer)


def test_epoch_batches_a_plain_function_is_not_a_generator() -> None:
    text = mistake_message(BATCHES, lambda X, y, *a, **k: (X, y))
    assert "(X_batch, y_batch)" in text


# --- mb_fix_train_path --------------------------------------------------------------------------

def right_path(X, y, lr, epochs, batch_size, seed):
    w = b = 0.0
    v = np.zeros(2)
    rng, path = np.random.default_rng(seed), [(0.0, 0.0)]
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            rows = order[start:start + batch_size]
            error = w * X[rows, 0] + b - y[rows]
            g = np.array([np.mean(error * X[rows, 0]), np.mean(error)])
            v = 0.9 * v + 0.1 * g * g
            w, b = np.array([w, b]) - lr * g / (np.sqrt(v) + 1e-8)
            path.append((w, b))
    return np.array(path)


def shipped_path(X, y, lr, epochs, batch_size, seed):
    """The code the exercise sheet ships: a new RMSprop (v = 0) at every epoch."""
    model, rng = LinearRegression(n_features=1, loss="half_mse"), np.random.default_rng(seed)
    path = [model.get_flat()]
    for _ in range(epochs):
        optimizer = RMSprop(lr=lr)
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            optimizer.step(model.params, model.loss_and_grad(X_batch, y_batch)[1])
            path.append(model.get_flat())
    return np.array(path)


def test_fix_optimizer_right_answer_passes_public_and_hidden(capsys) -> None:
    run_check(PATH, right_path)
    assert "[mb_fix_train_path] passed: 4/4 cases" in capsys.readouterr().out
    _hidden_pass(PATH, right_path)


def test_fix_optimizer_reference_ends_where_fit_ends() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 1))
    y = 2 * X[:, 0] + rng.normal(size=50)
    model = LinearRegression(n_features=1, loss="half_mse")
    fit(model, X, y, RMSprop(lr=0.05), epochs=3, batch_size=8, seed=4, verbose=False)
    end = reference_path(X, y, 0.05, 3, 8, 4)[-1]
    np.testing.assert_allclose(end, [model.weights[0], model.bias], rtol=0, atol=1e-14)


def test_fix_optimizer_shipped_bug_is_named_by_its_symptom_not_its_fix() -> None:
    text = mistake_message(PATH, shipped_path)
    assert "this still behaves like the code you were given" in text
    assert "a step of about 3 lr" in text and "update 1 of epoch 2" in text
    mistake = text.split("Known mistake:")[1]
    assert "optimizer" not in mistake and "RMSprop(" not in mistake and "before" not in mistake


def test_fix_optimizer_other_mistakes() -> None:
    def reseeded_path(X, y, lr, epochs, batch_size, seed):
        return np.vstack([np.zeros((1, 2)), _continue(X, y, lr, epochs, batch_size, seed)])

    def no_start(*args):
        return right_path(*args)[1:]

    def aliased(*args):
        rows, out = right_path(*args), []
        buffer = np.zeros(2)
        for row in rows:
            buffer[:] = row
            out.append(buffer)
        return np.array(out)

    assert "every epoch repeats the first epoch's batch order" in mistake_message(
        PATH, reseeded_path)
    assert "starts with the start point (0, 0)" in mistake_message(PATH, no_start)
    assert "all rows are the same array" in mistake_message(PATH, aliased)


def _continue(X, y, lr, epochs, batch_size, seed) -> np.ndarray:
    """RMSprop whose shuffle restarts from the seed every epoch (v carries over)."""
    model, optimizer = LinearRegression(n_features=1, loss="half_mse"), RMSprop(lr=lr)
    rows = []
    for _ in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, np.random.default_rng(seed)):
            optimizer.step(model.params, model.loss_and_grad(X_batch, y_batch)[1])
            rows.append(model.get_flat())
    return np.array(rows)


def test_fix_optimizer_help_grows_to_the_lesson_pointer() -> None:
    text = mistake_message(PATH, shipped_path, level=3)
    assert "Hint: course_lib.fit keeps what RMSprop has learnt" in text
    assert "06_minibatch_rmsprop.ipynb" in text


# --- mb_cosine_lr ------------------------------------------------------------------------------

def right_cosine(epoch, epochs, lr0, lr_min=0.0):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * (epoch - 1) / epochs)) / 2


def test_cosine_right_answer_passes_public_and_hidden(capsys) -> None:
    run_check(COSINE, right_cosine)
    assert "[mb_cosine_lr] passed: 6/6 cases" in capsys.readouterr().out
    _hidden_pass(COSINE, right_cosine)


def test_cosine_agrees_with_torch_cosine_annealing_stepped_per_epoch() -> None:
    torch = pytest.importorskip("torch")
    from course_lib.cases.sheet06 import cosine

    for epochs, lr0, lr_min in [(10, 0.01, 0.0), (4, 0.1, 0.01), (1, 0.02, 0.0)]:
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=lr_min)
        for epoch in range(1, epochs + 1):
            assert math.isclose(opt.param_groups[0]["lr"], cosine(epoch, epochs, lr0, lr_min),
                                rel_tol=1e-12, abs_tol=1e-15)
            opt.step()
            sched.step()


@pytest.mark.parametrize(("answer", "message"), [
    (lambda e, E, lr0, lr_min=0.0: right_cosine(e + 1, E, lr0, lr_min), "count the epochs done"),
    (lambda e, E, lr0, lr_min=0.0: 2 * right_cosine(e, E, lr0, lr_min) - lr_min,
     "the factor is (1 + cos) / 2"),
    (lambda e, E, lr0, lr_min=0.0: right_cosine(e, E, lr0, 0.0), "not lr0 * ..."),
    (lambda e, E, lr0, lr_min=0.0: lr_min + (lr0 - lr_min) * (1 + math.cos(180 * (e - 1) / E))
     / 2, "np.cos takes radians"),
    (lambda e, E, lr0, lr_min=0.0: lr_min + (lr0 - lr_min)
     * (1 + math.cos(math.pi * (e - 1) / max(E - 1, 1))) / 2, "dividing by epochs - 1"),
])
def test_cosine_known_mistakes(answer, message: str) -> None:
    assert message in mistake_message(COSINE, answer)


def test_cosine_returns_one_number() -> None:
    assert "return one number" in mistake_message(COSINE, lambda *a, **k: [0.01], level=2)


# --- mb_tune -----------------------------------------------------------------------------------

GOOD = [{"lr": 0.003, "batch_size": 128, "epochs": 3, "schedule": "cosine"},
        {"lr": 0.001, "batch_size": 64, "epochs": 3, "schedule": "constant"}]
PUBLISHED = {"lr": 0.01, "batch_size": 512, "epochs": 3, "schedule": "constant"}


@pytest.mark.parametrize("setting", GOOD)
def test_tune_good_settings_pass_public_and_hidden_seeds(setting, capsys) -> None:
    run_check(TUNE, setting)
    assert "[mb_tune] passed: 1/1 cases" in capsys.readouterr().out
    for case in TUNE.hidden(np.random.default_rng(0)):
        TUNE.compare(built(case), setting, None)


@pytest.mark.parametrize(("setting", "message"), [
    (PUBLISHED, "that is the lesson's published setting"),
    ({**PUBLISHED, "lr": 1e-4}, "not there yet"),
    ({**PUBLISHED, "lr": 1e200}, "far too large"),
    ({**GOOD[0], "epochs": 4}, "over budget"),
    ({**GOOD[0], "lr": 0.03, "batch_size": 256}, "jitters around"),
    ({**GOOD[0], "batch_size": 8}, "batch_size >= 32"),
    ({**GOOD[0], "batch_size": 128.0}, "whole numbers for batch_size and epochs"),
    ({**GOOD[0], "schedule": "step"}, "schedule 'constant' or 'cosine'"),
    ({"lr": 0.003}, "a dict {'lr'"),
])
def test_tune_bad_settings_fail_with_their_message(setting, message: str) -> None:
    assert message in mistake_message(TUNE, setting)


def test_explain_exercise_is_read_by_hand() -> None:
    assert EXERCISES["mb_noise_floor"].mode == "explain"
    assert all(ex.lesson for ex in EXERCISES.values())


# --- mb_batch_jitter ---------------------------------------------------------------------------

JITTER = EXERCISES["mb_batch_jitter"]


def test_jitter_right_choice_passes_and_reports_the_measurement(capsys) -> None:
    run_check(JITTER, "c")
    out = capsys.readouterr().out
    assert "[mb_batch_jitter] passed: 1/1 cases" in out and "times smaller" in out


def test_jitter_experiment_is_course_lib_fit_seed_by_seed() -> None:
    from course_lib.cases.sheet06 import diamonds_split, final_slopes

    X_train, y_train, *_ = diamonds_split()
    slopes = final_slopes(512, 3, 2, 0.01)
    for seed in range(3):
        model = LinearRegression(n_features=1, weights=[1.0], bias=0.0, loss="half_mse")
        fit(model, X_train, y_train, RMSprop(lr=0.01), epochs=2, batch_size=512, seed=seed,
            verbose=False)
        assert math.isclose(slopes[seed], model.weights[0], rel_tol=0, abs_tol=1e-12)


def test_jitter_measured_ratio_is_the_lessons_and_in_the_right_bucket() -> None:
    from course_lib.cases.sheet06 import jitter_measured

    small, large = jitter_measured()
    assert 1.2 <= small / large < 5  # lesson 06, section 10: 0.0226 / 0.0096 = 2.4 (its split)


@pytest.mark.parametrize(("choice", "message"), [
    ("a", "how much the VARIANCE of the gradient noise falls"),
    ("b", "8 = sqrt(64)"),
    ("d", "it does shrink, a little"),
    ("C", "one of the letters"),
    (2.4, "one of the letters"),
])
def test_jitter_wrong_choices_are_explained(choice, message: str) -> None:
    text = mistake_message(JITTER, choice)
    assert message in text
    if choice in ("a", "b", "d"):
        assert "measured 1.93 times" in text
