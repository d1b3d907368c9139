"""Sheet 10 (a network on real data): the cases and comparators of its seven exercises.

Everything is measured on scikit-learn's digits (Alpaydin & Kaynak 1998,
https://doi.org/10.24432/C50P49) through ``course_lib.data.load_digits_split``, with
``course_lib.MLP`` trained by ``course_lib.fit`` and ``course_lib.optim.RMSprop`` (Hinton,
lecture 6e, http://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf) or
``SGD``. Expected values come from those runs or from closed forms, never from the learner's
code. :func:`learning_curves` is also the given experiment of the sheet's exercise on reading
learning curves.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch
from . import _compare as c

_LESSON = "lesson 10, section {}: ../notebooks/10_a_network_on_real_data.ipynb"


def _lesson(section: str) -> str:
    return _LESSON.format(section)


@lru_cache(maxsize=1)
def _digits() -> Any:
    from ..data import load_digits_split

    return load_digits_split(scale="center", random_state=0)


def _fit(optimizer: Any, seed: int, epochs: int, batch_size: int, hidden: int = 16,
         n_train: int | None = None) -> tuple[Any, Any]:
    """(model, History) of ``course_lib.fit`` on the digits, validation split included."""
    from ..models import MLP
    from ..training import fit

    data = _digits()
    X, y = data.X_train[:n_train], data.y_train[:n_train]
    model = MLP([64, hidden, 10], task="multiclass", seed=seed)
    with np.errstate(all="ignore"):
        history = fit(model, X, y, optimizer, epochs=epochs, batch_size=batch_size, seed=seed,
                      validation_data=(data.X_val, data.y_val), verbose=False)
    return model, history


# --- digits_shuffle_fix (diagnose) ------------------------------------------------------------

def shuffle_public() -> list[Case]:
    def case(label, seed, lr, beta, epochs, batch_size=32):
        return Case(label, (seed, lr, beta, epochs), {"batch_size": batch_size})

    return [
        case("seed 0, lr 0.01, beta 0.99, 3 epochs", 0, 0.01, 0.99, 3),
        case("seed 1, lr 0.003, beta 0.999, 2 epochs", 1, 0.003, 0.999, 2),
        case("one epoch, batches of 64", 2, 0.02, 0.9, 1, 64),
    ]


def shuffle_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        seed, epochs = int(rng.integers(3, 10_000)), int(rng.integers(1, 4))
        lr, beta = float(rng.choice([0.003, 0.01, 0.02])), float(rng.choice([0.9, 0.99, 0.999]))
        cases.append(Case(f"hidden {k + 1}", (seed, lr, beta, epochs),
                          {"batch_size": int(rng.choice([16, 32, 50]))}, hidden=True))
    return cases


def _replay(seed: int, lr: float, beta: float, epochs: int, batch_size: int,
            how: str) -> np.ndarray:
    """The loop as a known mistake writes it: "two_perms" (images and labels shuffled apart),
    "no_shuffle", "once" (one order for every epoch) or "train" (the training loss returned)."""
    from ..models import MLP
    from ..optim import RMSprop

    data = _digits()
    model, optimizer = MLP([64, 16, 10], task="multiclass", seed=seed), RMSprop(lr, beta=beta)
    rng, n, losses = np.random.default_rng(seed), len(data.y_train), []
    once = rng.permutation(n) if how == "once" else None
    for _ in range(epochs):
        order = rng.permutation(n) if how in ("two_perms", "train") else once
        order = np.arange(n) if how == "no_shuffle" else order
        labels = rng.permutation(n) if how == "two_perms" else order
        X, y = data.X_train[order], data.y_train[labels]
        for start in range(0, n, batch_size):
            stop = start + batch_size
            with np.errstate(all="ignore"):
                optimizer.step(model.params, model.loss_and_grad(X[start:stop], y[start:stop])[1])
        split = (data.X_train, data.y_train) if how == "train" else (data.X_val, data.y_val)
        losses.append(model.loss(*split))
    return np.array(losses)


_SHUFFLE_MISTAKES = {
    "two_perms": "this still behaves like the code you were given: the validation loss stays "
                 "near log 10 = 2.30, what a network that guesses gets, so what it learns from "
                 "the training batches does not carry over to other images",
    "no_shuffle": "the batches are no longer shuffled: draw one permutation per epoch from rng "
                  "and index both the images and the labels with it",
    "once": "one order is drawn before the loop and reused in every epoch: draw a new "
            "permutation at the start of each epoch",
    "train": "these are losses on the training split: the function reports the validation "
             "loss, model.loss(data.X_val, data.y_val)",
}


def shuffle_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..optim import RMSprop

    seed, lr, beta, epochs = case.args
    batch_size = case.kwargs.get("batch_size", 32)
    history = _fit(RMSprop(lr, beta=beta), seed, epochs, batch_size)[1]
    expected = history.val_loss[1:]
    result = c.array(got, None, "validation losses", "return a list with one number per epoch")
    if result.shape == (epochs + 1,):
        raise Mismatch(f"{epochs} losses (one after each epoch)", f"{epochs + 1} losses",
                       "one validation loss per epoch, measured after that epoch",
                       "no entry for the loss before training: append after each epoch")

    def diagnose(a: np.ndarray) -> str | None:
        for how, message in _SHUFFLE_MISTAKES.items():
            if c.same(a, _replay(seed, lr, beta, epochs, batch_size, how)):
                return message
        if np.all(a > 2.0) and expected[-1] < 1.0:
            return _SHUFFLE_MISTAKES["two_perms"]
        return None

    c.close(result, expected, "validation losses", "shuffle images and labels with ONE "
            "permutation per epoch, drawn from rng = np.random.default_rng(seed), as "
            "course_lib.minibatches does; the check replays course_lib.fit with the same seed",
            diagnose=diagnose)


# --- digits_curves (predict: reading learning curves) ----------------------------------------

#: The curves' letters and what made them (the sheet shows the letters only).
_RUNS = {"A": "small_data", "B": "too_small", "C": "good", "D": "too_large"}
_QUESTIONS = {
    "good": "which curve is the well-chosen setting",
    "too_large": "which curve has a learning rate much too large",
    "too_small": "which curve has a learning rate much too small",
    "small_data": "which curve was trained on only 100 training images",
}
CURVE_EPOCHS = 20
STOP_TOLERANCE = 3  #: epochs either side of the measured best that pass


@lru_cache(maxsize=1)
def _curves() -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
    from ..optim import SGD, RMSprop

    made = {"good": (RMSprop(0.003, beta=0.999), 64, None),
            "too_large": (RMSprop(0.3, beta=0.9), 64, None),
            "too_small": (SGD(0.01), 64, None),
            "small_data": (RMSprop(0.03, beta=0.9), 10, 100)}
    found = {}
    for letter, run in _RUNS.items():
        optimizer, batch, n_train = made[run]
        history = _fit(optimizer, 0, CURVE_EPOCHS, batch, hidden=32, n_train=n_train)[1]
        found[letter] = (tuple(history.train_loss), tuple(history.val_loss))
    return found


def learning_curves() -> dict[str, dict[str, np.ndarray]]:
    """The four runs of the sheet's experiment: letter -> {"epoch", "train_loss", "val_loss"}.

    An MLP [64, 32, 10] (seed 0) trained for 20 epochs on the digits by four settings, which
    the letters hide; row 0 of each curve is before training.
    """
    return {letter: {"epoch": np.arange(CURVE_EPOCHS + 1), "train_loss": np.array(train),
                     "val_loss": np.array(val)} for letter, (train, val) in _curves().items()}


def _curve_facts() -> dict[str, str]:
    """What each curve shows, in measured numbers (the feedback on a wrong letter)."""
    curves, facts = learning_curves(), {}
    for letter, run in _RUNS.items():
        train, val = curves[letter]["train_loss"], curves[letter]["val_loss"]
        best = int(np.argmin(val))
        rises = int(np.sum(np.diff(train[1:]) > 0))
        text = {
            "small_data": f"its training loss falls to {train[-1]:.1e} while its validation "
                          f"loss is lowest at epoch {best} ({val[best]:.3f}) and then climbs to "
                          f"{val[-1]:.3f}: the network memorises a small training set",
            "too_small": f"it falls slowly and steadily, training and validation together "
                         f"({train[-1]:.2f} and {val[-1]:.2f} after {CURVE_EPOCHS} epochs): "
                         f"nothing goes wrong but the speed",
            "good": f"it ends with the lowest validation loss of the four ({val[-1]:.3f}, "
                    f"lowest at epoch {best}) and is nearly flat over the second half",
            "too_large": f"its training loss rises in {rises} of the {CURVE_EPOCHS - 1} "
                         f"epochs after the first and its validation loss stays near "
                         f"{np.median(val):.1f}: steps too large to settle",
        }[run]
        facts[letter] = text
    return facts


def curves_public() -> list[Case]:
    return [Case(question, (key,)) for key, question in _QUESTIONS.items()] + [
        Case("stop_epoch: when to stop the run trained on 100 images", ("stop_epoch",))]


def _letter_of(got: Any, key: str) -> str:
    if not isinstance(got, dict):
        raise Mismatch("a dict such as {'good': 'A', ...}", c.show(got),
                       "answer with a dict: one letter per question, and stop_epoch")
    missing = [k for k in (*_QUESTIONS, "stop_epoch") if k not in got]
    if missing:
        raise Mismatch(f"the keys {list(_QUESTIONS)} and 'stop_epoch'", f"no {missing[0]!r}",
                       "answer every question of the dict")
    value = got[key]
    letter = value.strip().upper() if isinstance(value, str) else value
    if letter not in _RUNS:
        raise Mismatch(f"{key!r} to be one of the letters A, B, C, D", c.show(value),
                       "each question's answer is the letter of one curve")
    return letter


def curves_compare(case: Case, got: Any, after: tuple | None) -> None:
    (key,) = case.args
    if key == "stop_epoch":
        _letter_of(got, "good")
        return _stop_compare(got["stop_epoch"])
    letter = _letter_of(got, key)
    letters = [_letter_of(got, k) for k in _QUESTIONS]
    right = {run: letter for letter, run in _RUNS.items()}[key]
    if letter != right:
        mistake = f"you chose curve {letter}; {_curve_facts()[letter]}"
        if letters.count(letter) > 1:
            mistake += ". Each run made exactly one curve, and you gave it to two questions"
        raise Mismatch(f"another curve for {key!r}", f"curve {letter}",
                       "read the training loss first (does it fall, how fast, does it jump?), "
                       "then the gap between training and validation", mistake)
    return None


def _stop_compare(value: Any) -> None:
    val = learning_curves()["A"]["val_loss"]
    best = int(np.argmin(val))
    epoch = c.number(value, "stop_epoch", "stop_epoch is an epoch number, 0 to 20")
    if abs(epoch - best) <= STOP_TOLERANCE:
        return
    mistake = None
    if epoch >= CURVE_EPOCHS - 1:
        mistake = ("that is where the training loss is lowest; stop where the VALIDATION loss "
                   "is lowest: after it, the network only fits the 100 images better")
    raise Mismatch(f"an epoch within {STOP_TOLERANCE} of the validation minimum of the curve "
                   "trained on 100 images", f"{epoch:g}",
                   "early stopping keeps the weights of the epoch with the lowest validation "
                   "loss", mistake)


def curves_comment(case: Case, got: Any) -> str | None:
    facts = _curve_facts()
    best = int(np.argmin(learning_curves()["A"]["val_loss"]))
    lines = [f"curve {letter} ({_QUESTIONS[run].split('which curve ')[1]}): {facts[letter]}"
             for letter, run in _RUNS.items()]
    stop = got.get("stop_epoch") if isinstance(got, dict) else None
    lines.append(f"you would stop curve A at epoch {stop}; its validation loss is lowest at "
                 f"epoch {best}")
    return "\n".join(lines)


# --- digits_rmsprop_tune (tune) ----------------------------------------------------------------

TUNE_GOAL = 0.22  #: mean validation cross-entropy after one epoch, over the case's 5 seeds
#: seeds per case: one seed's loss varies by about 0.017, a mean of 5 by 0.008 (measured on 80)
TUNE_SEEDS = 5
_TUNE_BATCH = 32


@lru_cache(maxsize=64)
def tune_losses(lr: float, beta: float, seeds: tuple[int, ...]) -> tuple[float, ...]:
    """Validation losses after one epoch (batches of 32) of RMSprop(lr, beta) on MLP [64, 16,
    10], one per seed (NaN when the run diverged)."""
    from ..optim import RMSprop

    losses = []
    for seed in seeds:
        _model, history = _fit(RMSprop(lr, beta=beta), seed, 1, _TUNE_BATCH)
        losses.append(float(history.val_loss[-1]) if history.stopped is None else np.nan)
    return tuple(losses)


def tune_public() -> list[Case]:
    return [Case("seeds 0 to 4", (tuple(range(TUNE_SEEDS)),))]


def tune_hidden(rng: np.random.Generator) -> list[Case]:
    draws = [rng.choice(10_000, TUNE_SEEDS, replace=False) + TUNE_SEEDS for _ in range(2)]
    return [Case(f"hidden {k + 1}", (tuple(int(seed) for seed in seeds),), hidden=True)
            for k, seeds in enumerate(draws)]


def _setting(got: Any) -> tuple[float, float]:
    if not isinstance(got, dict) or set(got) != {"lr", "beta"}:
        raise Mismatch("a dict {'lr': ..., 'beta': ...}", c.show(got),
                       "the answer is RMSprop's two hyperparameters, nothing else (eps stays "
                       "1e-8, the batch size 32, one epoch)")
    lr = c.number(got["lr"], "lr", "lr is a positive number")
    beta = c.number(got["beta"], "beta", "beta is a number in [0, 1)")
    if not (lr > 0 and np.isfinite(lr)) or not 0 <= beta < 1:
        raise Mismatch("lr > 0 and 0 <= beta < 1", f"lr = {lr:g}, beta = {beta:g}",
                       "RMSprop needs a positive learning rate and a decay rate below 1")
    return lr, beta


def _tune_mistake(lr: float, beta: float, first_step: float) -> str | None:
    if np.isclose(lr, 0.01) and np.isclose(beta, 0.99):
        return "that is torch.optim.RMSprop's default (lr 0.01, alpha 0.99): a default is not tuned"
    if np.isclose(lr, 0.001) and np.isclose(beta, 0.9):
        return "that is Keras's default (learning_rate 0.001, rho 0.9): a default is not tuned"
    if abs(lr / 0.0011 - 1) < 0.1 and abs((1 - beta) / 0.00065 - 1) < 0.2:
        return ("that is the lesson's setting, tuned for 20 epochs; the best setting depends on "
                "the budget, and here it is one epoch of 34 steps")
    if first_step < 0.12:
        return (f"the first steps are too small for a run of 34 steps: each weight's first step "
                f"is about lr / sqrt(1 - beta) = {first_step:.3g}")
    if first_step > 0.6:
        return (f"the first steps are large (lr / sqrt(1 - beta) = {first_step:.3g}) and, with "
                f"a long memory, stay large after the gradients have shrunk")
    return None


def tune_compare(case: Case, got: Any, after: tuple | None) -> None:
    (seeds,) = case.args
    lr, beta = _setting(got)
    losses = np.array(tune_losses(lr, beta, tuple(seeds)))
    first_step = lr / np.sqrt(1 - beta)
    if not np.all(np.isfinite(losses)):
        raise Mismatch("finite losses", "a run that diverged (the loss became inf or NaN)",
                       "make lr smaller", f"lr = {lr:g} diverges: the steps are far too large")
    if losses.mean() > TUNE_GOAL:
        raise Mismatch(f"a mean validation loss <= {TUNE_GOAL}",
                       f"{losses.mean():.4f} (per seed {', '.join(f'{x:.4f}' for x in losses)})",
                       "in a run this short, what matters first is the size of the early steps, "
                       "lr / sqrt(1 - beta); try a few settings along that line, and beta of "
                       "0.99 and above", _tune_mistake(lr, beta, first_step))


def tune_comment(case: Case, got: Any) -> str | None:
    (seeds,) = case.args
    lr, beta = _setting(got)
    losses = tune_losses(lr, beta, tuple(seeds))
    return (f"seeds {', '.join(map(str, seeds))}: validation loss "
            f"{', '.join(f'{x:.4f}' for x in losses)}, mean {np.mean(losses):.4f} (goal <= "
            f"{TUNE_GOAL}); lr / sqrt(1 - beta) = {lr / np.sqrt(1 - beta):.3g}")


# --- digits_confusion (implement) -------------------------------------------------------------

@lru_cache(maxsize=1)
def _trained() -> tuple[Any, Any]:
    """(model, optimizer) after one epoch of RMSprop(0.01, beta=0.995) on MLP [64, 16, 10]."""
    from ..optim import RMSprop

    optimizer = RMSprop(0.01, beta=0.995)
    model = _fit(optimizer, 0, 1, _TUNE_BATCH)[0]
    return model, optimizer


def _labels(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def confusion_public() -> list[Case]:
    data = _digits()
    predicted = _trained()[0].predict(data.X_test).astype(np.int64)
    return [
        Case("3 classes, with repeated pairs", (_labels([0, 0, 1, 2, 2, 2]),
                                                 _labels([0, 1, 1, 2, 2, 0]), 3)),
        Case("class 3 never occurs (n_classes = 4)", (_labels([0, 1, 2, 1]),
                                                       _labels([0, 2, 2, 1]), 4)),
        Case("class 2 is predicted but never true", (_labels([0, 1, 1, 0]),
                                                      _labels([2, 1, 1, 0]), 3)),
        Case("all right", (_labels([1, 0, 1]), _labels([1, 0, 1]), 2)),
        Case("the digits' test split, a small network after one epoch",
             (data.y_test.copy(), predicted, 10)),
    ]


def confusion_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        n_classes, n = int(rng.integers(2, 11)), int(rng.integers(1, 60))
        used = int(rng.integers(1, n_classes + 1))  # some classes may never occur
        y_true = rng.integers(0, used, size=n)
        y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, n_classes, size=n))
        cases.append(Case(f"hidden {k + 1}", (y_true, y_pred, n_classes), hidden=True))
    return cases


def _confusion_diagnose(expected: np.ndarray) -> Any:
    def diagnose(a: np.ndarray) -> str | None:
        if c.same(a, expected.T) and not c.same(expected, expected.T):
            return "rows are the true digits and columns the predictions: yours is transposed"
        if c.same(a, (expected > 0).astype(float)) and expected.max() > 1:
            return ("counts[y_true, y_pred] += 1 adds 1 only once per repeated pair (NumPy's "
                    "fancy indexing is buffered): use np.add.at or a loop")
        return None

    return diagnose


def _recall_check(got: Any, counts: np.ndarray) -> None:
    rows = counts.sum(axis=1)
    with np.errstate(all="ignore"):
        expected = np.diag(counts) / rows
    result = c.array(got, expected.shape, "recall", "one accuracy per true class")
    empty = rows == 0
    nan_ok = np.array_equal(np.isnan(result), empty)
    if nan_ok and np.allclose(result[~empty], expected[~empty], rtol=1e-12, atol=1e-12):
        return
    columns = counts.sum(axis=0)
    with np.errstate(all="ignore"):
        precision = np.diag(counts) / columns
        overall = np.trace(counts) / counts.sum() * np.ones_like(expected)
    mistake = None
    if not nan_ok and np.allclose(np.where(empty, 0.0, expected), np.nan_to_num(result)):
        mistake = ("a class with no images has no accuracy: return NaN there, not 0 (and NaN "
                   "only there)")
    elif c.same(np.nan_to_num(result), np.nan_to_num(precision)):
        mistake = ("that divides by the column sums (how often a digit was predicted, the "
                   "precision); the accuracy of a digit divides by its row sum, its images")
    elif c.same(result, overall):
        mistake = "that is the overall accuracy, repeated: one accuracy per true class"
    want, have = c.shown_apart(expected, result)
    raise Mismatch(f"recall = {want}", f"recall = {have}", "recall[k] = counts[k, k] / "
                   "(the number of images of class k)", mistake)


def confusion_compare(case: Case, got: Any, after: tuple | None) -> None:
    y_true, y_pred, n_classes = case.args
    expected = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(expected, (y_true, y_pred), 1)
    got_counts, got_recall = c.pair(got, 2, "(counts, recall)")
    shape = np.shape(got_counts)
    if shape != expected.shape and len(shape) == 2 and shape[0] == shape[1] < n_classes:
        raise Mismatch(f"counts of shape {expected.shape}", f"shape {shape}",
                       "one row and one column per class, 0 to n_classes - 1",
                       "use n_classes for the shape, not the largest label seen: a class that "
                       "never occurs still gets its row and column")
    c.close(got_counts, expected, "counts", "counts[i, j] is how many images of true class i "
            "were predicted as j", diagnose=_confusion_diagnose(expected))
    _recall_check(got_recall, expected)
    c.unchanged(y_true, after, 0, "y_true")
    c.unchanged(y_pred, after, 1, "y_pred")


# --- digits_rate_summary (implement) ----------------------------------------------------------

def rates_public() -> list[Case]:
    optimizer = _trained()[1]
    vs = [np.array(state["v"], dtype=float) for state in optimizer.state]
    return [
        Case("one array, no zeros", ([np.array([4.0, 1.0, 0.25])], 0.1), {"eps": 1e-8}),
        Case("a weight that never had a gradient (v = 0)", ([np.array([[0.0, 4.0],
                                                                       [1.0, 0.0]])], 0.01),
             {"eps": 1e-8}),
        Case("two arrays, one all zero", ([np.zeros(3), np.array([9.0, 1.0])], 0.3),
             {"eps": 1e-8}),
        Case("a large eps (0.5)", ([np.array([1.0, 4.0, 16.0, 0.0])], 1.0), {"eps": 0.5}),
        Case("RMSprop's state after one epoch on the digits (lr 0.01, beta 0.995)", (vs, 0.01),
             {"eps": 1e-8}),
    ]


def rates_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        vs = []
        for _ in range(int(rng.integers(1, 5))):
            shape = tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 3))))
            v = rng.lognormal(-4, 2, size=shape)
            vs.append(np.where(rng.random(shape) < 0.2, 0.0, v))
        cases.append(Case(f"hidden {k + 1}", (vs, float(rng.choice([0.001, 0.01, 0.1]))),
                          {"eps": 1e-8}, hidden=True))
    return cases


def _summary(vs: list[np.ndarray], lr: float, eps: float, rate: Any, keep_zero: bool = False,
             centre: Any = np.median) -> np.ndarray:
    rows = []
    for v in vs:
        r = rate(v, lr, eps)[(v > 0) | keep_zero]
        rows.append([r.min(), centre(r), r.max()] if r.size else [np.nan] * 3)
    return np.array(rows, dtype=float).reshape(len(vs), 3)


def _rates_diagnose(vs: list[np.ndarray], lr: float, eps: float) -> Any:
    with np.errstate(all="ignore"):
        known = {
            "this course adds eps outside the square root: lr / (sqrt(v) + eps)":
                _summary(vs, lr, eps, lambda v, lr, eps: lr / np.sqrt(v + eps)),
            "divide by the square root of v":
                _summary(vs, lr, eps, lambda v, lr, eps: lr / (v + eps)),
            "the weights with v = 0 have had no gradient yet: their rate lr / eps says nothing, "
            "leave them out of the summary (count them instead)":
                _summary(vs, lr, eps, lambda v, lr, eps: lr / (np.sqrt(v) + eps), True),
            "the middle value is the median, not the mean":
                _summary(vs, lr, eps, lambda v, lr, eps: lr / (np.sqrt(v) + eps),
                         centre=np.mean),
        }

    def diagnose(a: np.ndarray) -> str | None:
        return next((message for message, value in known.items()
                     if np.array_equal(np.isnan(a), np.isnan(value))
                     and c.same(np.nan_to_num(a), np.nan_to_num(value))), None)

    return diagnose


def rates_compare(case: Case, got: Any, after: tuple | None) -> None:
    vs, lr = case.args
    eps = case.kwargs.get("eps", 1e-8)
    got_summary, got_frozen = c.pair(got, 2, "(summary, frozen)")
    with np.errstate(all="ignore"):
        expected = _summary(vs, lr, eps, lambda v, lr, eps: lr / (np.sqrt(v) + eps))
    result = c.array(got_summary, expected.shape, "summary", "one row (min, median, max) per "
                     "array of v")
    hint = ("each row: min, median and max of lr / (sqrt(v) + eps) over the entries with v > 0; "
            "NaN when there is none")
    if not np.array_equal(np.isnan(result), np.isnan(expected)):
        mistake = _rates_diagnose(vs, lr, eps)(result)
        raise Mismatch(f"NaN exactly where an array has no v > 0 ({c.show(expected)})",
                       c.show(result), hint, mistake or "an array whose v are all 0 gets a row "
                       "of NaN (np.nan), because none of its weights has had a gradient")
    c.close(np.nan_to_num(result), np.nan_to_num(expected), "summary", hint,
            diagnose=_rates_diagnose(vs, lr, eps))
    frozen = np.array([int(np.sum(v == 0)) for v in vs])
    c.close(got_frozen, frozen, "frozen", "frozen counts the entries of each array with v == 0",
            diagnose=lambda a: "frozen counts v == 0, not v > 0" if c.same(
                a, np.array([v.size for v in vs]) - frozen) else None)
    for k, v in enumerate(vs):
        if after is not None and not np.array_equal(v, after[0][k]):
            c.unchanged(v, (after[0][k],), 0, f"vs[{k}]")


# --- digits_torch_twin (implement) -----------------------------------------------------------

def _mlp_params(sizes: list[int], seed: int) -> list[np.ndarray]:
    from ..models import MLP

    return [p.copy() for p in MLP(sizes, task="multiclass", seed=seed).params]


def twin_public() -> list[Case]:
    data = _digits()
    X, y = data.X_train, data.y_train
    rng = np.random.default_rng(10)
    return [
        Case("a square network [10, 10, 10] (every W is square), 6 random inputs",
             (_mlp_params([10, 10, 10], 4), rng.normal(size=(6, 10)),
              np.array([0, 3, 9, 3, 5, 1]))),
        Case("[64, 64, 10] from seed 0, 20 training images",
             (_mlp_params([64, 64, 10], 0), X[:20].copy(), y[:20].copy())),
        Case("[64, 16, 10] from seed 1, 5 images", (_mlp_params([64, 16, 10], 1), X[5:10].copy(),
                                                    y[5:10].copy())),
        Case("two hidden layers [64, 8, 8, 10]", (_mlp_params([64, 8, 8, 10], 2),
                                                   X[:12].copy(), y[:12].copy())),
        Case("one image", (_mlp_params([64, 16, 10], 3), X[:1].copy(), y[:1].copy())),
    ]


def twin_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        sizes = [int(rng.integers(2, 9)), *(int(n) for n in rng.integers(2, 9, size=int(
            rng.integers(1, 3)))), int(rng.integers(2, 6))]
        n = int(rng.integers(1, 15))
        X, y = rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], size=n)
        params = _mlp_params(sizes, int(rng.integers(1000)))
        params = [p + 0.1 * rng.normal(size=p.shape) for p in params]  # nonzero biases
        cases.append(Case(f"hidden {k + 1}", (params, X, y), hidden=True))
    return cases


def _plain(value: Any) -> Any:
    """A torch tensor as a NumPy array (the grader converts them too), anything else as is."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().numpy()
    return value


def _twin_reference(params: list[np.ndarray], X: np.ndarray, y: np.ndarray,
                    transpose: bool = False, tanh_last: bool = False,
                    no_tanh: bool = False) -> tuple[float, list[np.ndarray]]:
    """course_lib's loss and gradients; the flags replay known mistakes (W used as x @ W.T, a
    tanh after the output layer, no tanh at all)."""
    from ..models import MLP

    sizes = [params[0].shape[0]] + [p.shape[1] for p in params[::2]]
    model = MLP(sizes, task="multiclass")
    model.params = [p.T.copy() if transpose and p.ndim == 2 else p.copy() for p in params]
    if not (tanh_last or no_tanh):
        return model.loss_and_grad(X, y)
    z = X
    for k in range(len(params) // 2):
        z = z @ model.params[2 * k] + model.params[2 * k + 1]
        z = z if no_tanh else np.tanh(z)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(y)), y])), []


def _twin_loss_mistake(loss: float, params: list, X: np.ndarray, y: np.ndarray,
                       expected: float) -> str | None:
    n = len(y)
    if n > 1 and np.isclose(loss, n * expected, rtol=1e-9):
        return "the loss is the sum over the images: cross_entropy's default mean is what "\
               "course_lib computes"
    if np.isclose(loss, expected, rtol=1e-5):
        return "float32 rounding: build the layers with dtype=torch.float64 and convert the "\
               "arrays with torch.from_numpy, which keeps float64"
    if all(w.shape[0] == w.shape[1] for w in params[::2]) and np.isclose(
            loss, _twin_reference(params, X, y, transpose=True)[0], rtol=1e-9):
        return "Linear.weight is (outputs, inputs): copy W.T into it, not W"
    for flag, text in (("tanh_last", "no tanh after the output layer: cross_entropy takes the "
                        "raw logits"), ("no_tanh", "a tanh goes between the layers")):
        if np.isclose(loss, _twin_reference(params, X, y, **{flag: True})[0], rtol=1e-9):
            return text
    return _double_softmax(loss, params, X, y)


def _double_softmax(loss: float, params: list, X: np.ndarray, y: np.ndarray) -> str | None:
    """The softmax applied twice: the network's probabilities passed on as logits."""
    from ..models import MLP

    sizes = [params[0].shape[0]] + [p.shape[1] for p in params[::2]]
    model = MLP(sizes, task="multiclass")
    model.params = [p.copy() for p in params]
    p = model.predict_proba(X)
    log_q = p - np.log(np.exp(p).sum(axis=1, keepdims=True))
    if np.isclose(loss, -np.mean(log_q[np.arange(len(y)), y]), rtol=1e-9):
        return "cross_entropy applies the softmax itself: pass it the logits, not probabilities"
    return None


def twin_compare(case: Case, got: Any, after: tuple | None) -> None:
    params, X, y = case.args
    expected_loss, expected_grads = _twin_reference(params, X, y)
    got_loss, got_grads = c.pair(_plain(got), 2, "(loss, grads)")
    loss = c.number(_plain(got_loss), "loss", "return the loss as a float, e.g. loss.item()")
    if not np.isclose(loss, expected_loss, rtol=1e-10, atol=0):
        want, have = c.shown_apart(expected_loss, loss)
        raise Mismatch(f"loss = {want}", f"loss = {have}", "the network is Linear, Tanh, ..., "
                       "Linear with course_lib's weights, then "
                       "torch.nn.functional.cross_entropy on the logits and the labels",
                       _twin_loss_mistake(loss, params, X, y, expected_loss))
    if not isinstance(got_grads, (list, tuple)) or len(got_grads) != len(params):
        raise Mismatch(f"a list of {len(params)} gradients [dW_1, db_1, ...]", c.show(got_grads),
                       "one gradient per parameter array, in course_lib's order and layout")
    for k, (g, ref) in enumerate(zip(got_grads, expected_grads, strict=True)):
        g = np.asarray(_plain(g))
        layout = None
        if ref.ndim == 2 and g.shape == ref.T.shape and (g.shape != ref.shape or c.same(
                g.T, ref)):
            layout = "a weight's .grad is in torch's (outputs, inputs) layout: transpose it back"
        name = f"grads[{k}]"
        if layout is not None:
            raise Mismatch(f"{name} in course_lib's layout, shape {ref.shape} (inputs, "
                           "outputs)", "its transpose", "return the "
                           "gradients in course_lib's layout, W as (inputs, outputs)", layout)
        c.close(g, ref, name, "the gradients come from loss.backward(), as p.grad of each "
                "torch parameter, transposed for the weights", rtol=1e-9, atol=1e-12)
    c.unchanged(X, after, 1, "X")


EXERCISES = {
    "digits_shuffle_fix": Exercise("digits_shuffle_fix", shuffle_public, shuffle_compare,
                                   shuffle_hidden, name="train_digits",
                                   lesson=_lesson("5 (Seven optimizers, each tuned the same "
                                                  "way: the loop train())")),
    "digits_curves": Exercise("digits_curves", curves_public, curves_compare, mode="value",
                              comment=curves_comment,
                              lesson=_lesson("5 (the learning curves after the table)")),
    "digits_rmsprop_tune": Exercise("digits_rmsprop_tune", tune_public, tune_compare,
                                    tune_hidden, mode="value", comment=tune_comment,
                                    lesson=_lesson("7 (The effective learning rates of a few "
                                                   "weights: no step is larger than "
                                                   "lr / sqrt(1 - beta))")),
    "digits_confusion": Exercise("digits_confusion", confusion_public, confusion_compare,
                                 confusion_hidden,
                                 lesson=_lesson("6 (Where the tuned RMSprop goes wrong)")),
    "digits_rate_summary": Exercise("digits_rate_summary", rates_public, rates_compare,
                                    rates_hidden,
                                    lesson=_lesson("7 (The effective learning rates of a few "
                                                   "weights)")),
    "digits_torch_twin": Exercise("digits_torch_twin", twin_public, twin_compare, twin_hidden,
                                  lesson=_lesson("3 (The same network in PyTorch)")),
    "digits_honest_test": Exercise("digits_honest_test", mode="explain",
                                   lesson=_lesson("1 (The data: handwritten digits) and 9 (What "
                                                  "the numbers show, and what they do not)")),
}
