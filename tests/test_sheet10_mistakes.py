"""Sheet 10 (a network on real data): right answers pass, each known mistake gets its message.

The reference answers below are written here, independently of the solution sheet. Wrong
answers make exactly one mistake each; every test asserts the targeted text of the message.
"""

from __future__ import annotations

import numpy as np
import pytest

import course_lib as cl
from course_lib.cases import Case, Mismatch, build, mistake_message
from course_lib.cases import sheet10 as s10
from course_lib.data import load_digits_split
from course_lib.optim import RMSprop

EX = s10.EXERCISES


def passes(exercise, answer, hidden_draws=(0,)):
    """Every public case, and the hidden cases of a few draws, accept ``answer``."""
    cases = exercise.public()
    for seed in hidden_draws:
        cases += exercise.hidden(np.random.default_rng(seed)) if exercise.hidden else []
    for case in cases:
        built = Case(case.label, build(case.args), build(case.kwargs))
        got = answer(*built.args, **built.kwargs) if exercise.mode == "call" else answer
        exercise.compare(built, got, None)


# --- digits_shuffle_fix -----------------------------------------------------------------------

def train_loop(seed, lr, beta, epochs, batch_size=32, how="right"):
    data = load_digits_split(scale="center", random_state=0)
    model = cl.MLP([64, 16, 10], task="multiclass", seed=seed)
    optimizer, rng = RMSprop(lr, beta=beta), np.random.default_rng(seed)
    n, out = len(data.y_train), []
    if how == "before":
        out.append(model.loss(data.X_val, data.y_val))
    for _ in range(epochs):
        image_order = np.arange(n) if how == "none" else None
        if image_order is None:
            image_order = rng.permutation(n)
        label_order = rng.permutation(n) if how in ("broken", "global") else image_order
        if how == "global":
            label_order = np.random.default_rng(seed + 1).permutation(n)
        X, y = data.X_train[image_order], data.y_train[label_order]
        for start in range(0, n, batch_size):
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            optimizer.step(model.params, model.loss_and_grad(Xb, yb)[1])
        split = (data.X_train, data.y_train) if how == "train" else (data.X_val, data.y_val)
        out.append(model.loss(*split))
    return out


def test_the_fixed_loop_passes_public_and_hidden_cases():
    # "once" draws one permutation first, so the right loop must not: it draws per epoch
    def right(seed, lr, beta, epochs, batch_size=32):
        data = load_digits_split(scale="center", random_state=0)
        model = cl.MLP([64, 16, 10], task="multiclass", seed=seed)
        optimizer, rng, out = RMSprop(lr, beta=beta), np.random.default_rng(seed), []
        for _ in range(epochs):
            order = rng.permutation(len(data.y_train))
            X, y = data.X_train[order], data.y_train[order]
            for start in range(0, len(y), batch_size):
                optimizer.step(model.params, model.loss_and_grad(X[start:start + batch_size],
                                                                 y[start:start + batch_size])[1])
            out.append(model.loss(data.X_val, data.y_val))
        return out

    passes(EX["digits_shuffle_fix"], right, hidden_draws=(0, 1))


@pytest.mark.parametrize("how, text", [
    ("broken", "still behaves like the code you were given: the validation loss stays near"),
    ("none", "no longer shuffled"),
    ("train", "losses on the training split"),
    ("before", "no entry for the loss before training"),
    ("global", "validation loss stays near log 10"),  # recognised from the loss alone
])
def test_shuffle_mistakes_are_named(how, text):
    def wrong(seed, lr, beta, epochs, batch_size=32):
        return train_loop(seed, lr, beta, epochs, batch_size, how)

    assert text in mistake_message(EX["digits_shuffle_fix"], wrong)


def test_one_order_for_every_epoch_is_named():
    # the public case with one epoch cannot tell; the 3-epoch case comes first and can
    def wrong(seed, lr, beta, epochs, batch_size=32):
        data = load_digits_split(scale="center", random_state=0)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(data.y_train))
        model, optimizer, out = cl.MLP([64, 16, 10], task="multiclass", seed=seed), \
            RMSprop(lr, beta=beta), []
        for _ in range(epochs):
            X, y = data.X_train[order], data.y_train[order]
            for start in range(0, len(y), batch_size):
                optimizer.step(model.params, model.loss_and_grad(X[start:start + batch_size],
                                                                 y[start:start + batch_size])[1])
            out.append(model.loss(data.X_val, data.y_val))
        return out

    assert "reused in every epoch" in mistake_message(EX["digits_shuffle_fix"], wrong)


def test_the_broken_loop_really_learns_nothing():
    losses = train_loop(0, 0.01, 0.99, 3, how="broken")
    assert min(losses) > 2.0 > np.log(10) - 0.4


# --- digits_curves ----------------------------------------------------------------------------

RIGHT_CURVES = {"good": "C", "too_large": "D", "too_small": "B", "small_data": "A",
                "stop_epoch": 7}


def test_the_experiment_supports_the_answer():
    curves = s10.learning_curves()
    a, b, c_, d = (curves[k] for k in "ABCD")
    best = int(np.argmin(a["val_loss"]))
    assert 4 <= best <= 10 and a["val_loss"][-1] > a["val_loss"][best] + 0.1  # rises later
    assert a["train_loss"][-1] < 1e-3                                         # memorised
    assert np.all(np.diff(b["train_loss"]) < 0) and b["train_loss"][-1] > 1.0  # slow, steady
    assert c_["val_loss"][-1] == min(curves[k]["val_loss"][-1] for k in "ABCD")
    assert np.sum(np.diff(d["train_loss"][1:]) > 0) >= 5                      # jumps around
    assert np.median(d["val_loss"]) > 0.5


def test_the_right_reading_passes_and_letters_may_be_lower_case():
    passes(EX["digits_curves"], RIGHT_CURVES)
    passes(EX["digits_curves"], {**{k: v.lower() for k, v in RIGHT_CURVES.items()
                                    if isinstance(v, str)}, "stop_epoch": 5})


@pytest.mark.parametrize("answer, text", [
    ({**RIGHT_CURVES, "too_large": "A", "small_data": "D"}, "memorises a small training set"),
    ({**RIGHT_CURVES, "good": "B", "too_small": "C"}, "nothing goes wrong but the speed"),
    ({**RIGHT_CURVES, "good": "D", "too_large": "C"}, "steps too large to settle"),
    ({**RIGHT_CURVES, "too_large": "A"}, "you gave it to two questions"),
    ({**RIGHT_CURVES, "stop_epoch": 20}, "stop where the VALIDATION loss"),
    ({**RIGHT_CURVES, "stop_epoch": 1}, "within 3 of the validation minimum"),
    ({**RIGHT_CURVES, "good": "E"}, "one of the letters A, B, C, D"),
    ({k: v for k, v in RIGHT_CURVES.items() if k != "stop_epoch"}, "no 'stop_epoch'"),
    (["C", "D", "B", "A"], "a dict such as"),
])
def test_curve_mistakes_are_named(answer, text):
    assert text in mistake_message(EX["digits_curves"], answer)


def test_the_curves_comment_reports_the_measured_minimum():
    case = EX["digits_curves"].public()[0]
    note = EX["digits_curves"].comment(case, RIGHT_CURVES)
    assert "lowest at epoch 7" in note and "stop curve A at epoch 7" in note


# --- digits_rmsprop_tune ----------------------------------------------------------------------

@pytest.mark.parametrize("setting", [{"lr": 0.006, "beta": 0.999}, {"lr": 0.02, "beta": 0.99},
                                     {"lr": 0.01, "beta": 0.998}, {"lr": 0.003, "beta": 0.9999}])
def test_a_region_of_settings_reaches_the_goal_on_public_and_hidden_seeds(setting):
    passes(EX["digits_rmsprop_tune"], setting, hidden_draws=(0, 1, 2))


@pytest.mark.parametrize("setting, text", [
    ({"lr": 0.01, "beta": 0.99}, "torch.optim.RMSprop's default"),
    ({"lr": 0.001, "beta": 0.9}, "Keras's default"),
    ({"lr": 0.0011, "beta": 0.99935}, "tuned for 20 epochs"),
    ({"lr": 1e-4, "beta": 0.9}, "the first steps are too small"),
    ({"lr": 5.0, "beta": 0.9}, "the first steps are large"),
    ({"lr": 0.01, "beta": 0.99, "eps": 1e-8}, "nothing else"),
    ({"lr": 0.01, "beta": 1.0}, "below 1"),
    ({"lr": "0.01", "beta": 0.99}, "lr is a positive number"),
])
def test_tune_mistakes_are_named(setting, text):
    assert text in mistake_message(EX["digits_rmsprop_tune"], setting, level=2)


def test_the_default_fails_on_the_hidden_seeds_too():
    for case in EX["digits_rmsprop_tune"].hidden(np.random.default_rng(0)) + \
            EX["digits_rmsprop_tune"].hidden(np.random.default_rng(1)):
        with pytest.raises(Mismatch, match="default"):
            EX["digits_rmsprop_tune"].compare(case, {"lr": 0.01, "beta": 0.99}, None)


def test_a_diverging_run_gets_a_clear_message(monkeypatch):
    monkeypatch.setattr(s10, "tune_losses", lambda lr, beta, seeds: (np.nan,) * len(seeds))
    with pytest.raises(Mismatch, match="diverges"):
        EX["digits_rmsprop_tune"].compare(EX["digits_rmsprop_tune"].public()[0],
                                          {"lr": 100.0, "beta": 0.9}, None)


def test_the_tune_score_is_the_fit_validation_loss():
    # independent of the comparator: cl.fit by hand on seed 0
    model = cl.MLP([64, 16, 10], task="multiclass", seed=0)
    data = load_digits_split(scale="center", random_state=0)
    cl.fit(model, data.X_train, data.y_train, RMSprop(0.006, beta=0.999), epochs=1,
           batch_size=32, seed=0, verbose=False)
    assert s10.tune_losses(0.006, 0.999, (0,))[0] == pytest.approx(model.loss(data.X_val,
                                                                              data.y_val))


# --- digits_confusion -------------------------------------------------------------------------

def confusion(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    for i, j in zip(y_true, y_pred, strict=True):
        counts[i, j] += 1
    rows = counts.sum(axis=1)
    recall = np.full(n_classes, np.nan)
    recall[rows > 0] = np.diag(counts)[rows > 0] / rows[rows > 0]
    return counts, recall


def test_the_confusion_matrix_passes():
    passes(EX["digits_confusion"], confusion, hidden_draws=(0, 1, 2))


def _buffered(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    counts[y_true, y_pred] += 1
    return counts, confusion(y_true, y_pred, n_classes)[1]


def _from_data(y_true, y_pred, n_classes):
    return confusion(y_true, y_pred, int(max(y_true.max(), y_pred.max())) + 1)


def _precision(y_true, y_pred, n_classes):
    counts = confusion(y_true, y_pred, n_classes)[0]
    with np.errstate(all="ignore"):
        return counts, np.diag(counts) / counts.sum(axis=0)


def _zero_for_empty(y_true, y_pred, n_classes):
    counts, recall = confusion(y_true, y_pred, n_classes)
    return counts, np.nan_to_num(recall)


def _overall(y_true, y_pred, n_classes):
    return confusion(y_true, y_pred, n_classes)[0], np.full(n_classes, np.mean(y_true == y_pred))


def _sorts_input(y_true, y_pred, n_classes):
    result = confusion(y_true, y_pred, n_classes)
    y_true.sort()
    return result


@pytest.mark.parametrize("wrong, text", [
    (lambda t, p, n: (confusion(t, p, n)[0].T, confusion(t, p, n)[1]), "yours is transposed"),
    (_buffered, "adds 1 only once per repeated pair"),
    (_from_data, "use n_classes for the shape"),
    (_precision, "divides by the column sums"),
    (_zero_for_empty, "return NaN there, not 0"),
    (_overall, "the overall accuracy, repeated"),
    (_sorts_input, "in-place update of an input"),
    (lambda t, p, n: confusion(t, p, n)[0], "return the 2 values together"),
])
def test_confusion_mistakes_are_named(wrong, text):
    assert text in mistake_message(EX["digits_confusion"], wrong, level=2)


# --- digits_rate_summary ----------------------------------------------------------------------

def rate_summary(vs, lr, eps=1e-8, rate=None, keep_zero=False, centre=np.median,
                 empty=np.nan, count=lambda v: int(np.sum(v == 0))):
    rate = rate or (lambda v: lr / (np.sqrt(v) + eps))
    rows = []
    for v in vs:
        r = rate(v).ravel() if keep_zero else rate(v[v > 0])
        rows.append([r.min(), centre(r), r.max()] if r.size else [empty] * 3)
    return np.array(rows, dtype=float), np.array([count(v) for v in vs])


def test_the_rate_summary_passes():
    passes(EX["digits_rate_summary"], rate_summary, hidden_draws=(0, 1, 2))


def test_the_digits_state_has_frozen_weights_with_rate_lr_over_eps():
    case = EX["digits_rate_summary"].public()[-1]
    vs, lr = case.args
    summary, frozen = rate_summary(vs, lr)
    assert frozen[0] > 0 and frozen[0] % 16 == 0      # whole rows of W1: blank pixels
    assert rate_summary(vs, lr, keep_zero=True)[0][0, 2] == pytest.approx(lr / 1e-8)
    assert summary[0, 2] < lr / 1e-8 / 10


@pytest.mark.parametrize("wrong, text", [
    (lambda vs, lr, eps=1e-8: rate_summary(vs, lr, eps, rate=lambda v: lr / np.sqrt(v + eps)),
     "eps outside the square root"),
    (lambda vs, lr, eps=1e-8: rate_summary(vs, lr, eps, rate=lambda v: lr / (v + eps)),
     "divide by the square root of v"),
    (lambda vs, lr, eps=1e-8: rate_summary(vs, lr, eps, keep_zero=True),
     "leave them out of the summary"),
    (lambda vs, lr, eps=1e-8: rate_summary(vs, lr, eps, centre=np.mean),
     "the median, not the mean"),
    (lambda vs, lr, eps=1e-8: rate_summary(vs, lr, eps, count=lambda v: int(np.sum(v > 0))),
     "frozen counts v == 0, not v > 0"),
    (lambda vs, lr, eps=1e-8: rate_summary(vs, lr, eps, empty=0.0), "a row of NaN"),
])
def test_rate_summary_mistakes_are_named(wrong, text):
    with np.errstate(all="ignore"):
        assert text in mistake_message(EX["digits_rate_summary"], wrong)


# --- digits_torch_twin ------------------------------------------------------------------------

def torch_twin(params, X, y, dtype="float64", weight_t=True, grad_t=True, reduction="mean",
               tanh_last=False, no_tanh=False, softmax=False):
    import torch

    dtype = getattr(torch, dtype)
    n, layers = len(params) // 2, []
    for k in range(n):
        W, b = params[2 * k], params[2 * k + 1]
        linear = torch.nn.Linear(W.shape[0], W.shape[1], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T if weight_t else W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if (k < n - 1 and not no_tanh) or tanh_last:
            layers.append(torch.nn.Tanh())
    if softmax:
        layers.append(torch.nn.Softmax(dim=1))
    net = torch.nn.Sequential(*layers)
    loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(X).to(dtype)),
                                             torch.from_numpy(y), reduction=reduction)
    loss.backward()
    grads = [p.grad.numpy().T if p.ndim == 2 and grad_t else p.grad.numpy()
             for p in net.parameters()]
    return loss.item(), [g.astype(float) for g in grads]


def test_the_torch_twin_passes_public_and_hidden_cases():
    passes(EX["digits_torch_twin"], torch_twin, hidden_draws=(0, 1, 2))


def test_the_twin_may_return_tensors():
    def tensors(params, X, y):
        import torch

        loss, grads = torch_twin(params, X, y)
        return torch.tensor(loss, dtype=torch.float64), [torch.from_numpy(g) for g in grads]

    passes(EX["digits_torch_twin"], tensors)


@pytest.mark.parametrize("kwargs, text", [
    ({"dtype": "float32"}, "float32 rounding"),
    ({"weight_t": False}, "copy W.T into it, not W"),
    ({"grad_t": False}, "transpose it back"),
    ({"reduction": "sum"}, "the sum over the images"),
    ({"tanh_last": True}, "no tanh after the output layer"),
    ({"no_tanh": True}, "a tanh goes between the layers"),
    ({"softmax": True}, "pass it the logits, not probabilities"),
])
def test_torch_twin_mistakes_are_named(kwargs, text):
    assert text in mistake_message(EX["digits_torch_twin"],
                                   lambda params, X, y: torch_twin(params, X, y, **kwargs))


def test_a_twin_returning_only_the_loss_is_told_what_to_return():
    message = mistake_message(EX["digits_torch_twin"], lambda p, X, y: torch_twin(p, X, y)[0])
    assert "(loss, grads)" in message


# --- the sheet as a whole ---------------------------------------------------------------------

def test_every_exercise_is_defined_with_hidden_cases_where_they_apply():
    assert set(EX) == {"digits_torch_twin", "digits_shuffle_fix", "digits_curves",
                       "digits_rmsprop_tune", "digits_confusion", "digits_rate_summary",
                       "digits_honest_test"}
    assert EX["digits_honest_test"].mode == "explain"
    for key in ("digits_torch_twin", "digits_shuffle_fix", "digits_rmsprop_tune",
                "digits_confusion", "digits_rate_summary"):
        hidden = EX[key].hidden(np.random.default_rng(3))
        assert hidden and all(case.hidden for case in hidden)
    assert all(ex.lesson.startswith("lesson 10, section") for ex in EX.values())
