"""Sheet 06 (mini-batches): the cases and comparators of its seven exercises.

Expected values come from ``course_lib`` (``minibatches``, ``fit``, ``RMSprop``,
``LinearRegression``, ``least_squares``) and from closed forms, never from the learner's code.
Sources: mini-batch RMSprop, Hinton, lecture 6e
(http://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf); the cosine schedule,
Loshchilov & Hutter 2017 (https://arxiv.org/abs/1608.03983).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch
from . import _compare as c

_LESSON = "../notebooks/06_minibatch_rmsprop.ipynb"


def _lesson(where: str) -> str:
    return f"lesson 06, {where}: {_LESSON}"


# --- 1. mb_budget (predict) -------------------------------------------------------------------

#: The fit call the learner predicts: the sheet's 43,152 training diamonds, 3 epochs of 100.
BUDGET = {"n": 43152, "batch_size": 100, "epochs": 3}


@lru_cache(maxsize=1)
def _budget_measured() -> dict[str, int]:
    """Updates and per-sample gradients of the exercise's fit call, counted by running it."""
    from ..batching import minibatches
    from ..models import LinearRegression
    from ..optim import RMSprop
    from ..training import fit

    n, batch, epochs = BUDGET["n"], BUDGET["batch_size"], BUDGET["epochs"]
    X, y = np.zeros((n, 1)), np.zeros(n)
    history = fit(LinearRegression(n_features=1), X, y, RMSprop(lr=0.01), epochs=epochs,
                  batch_size=batch, seed=0, verbose=False)
    rng = np.random.default_rng(0)  # the same epochs, to count the samples in each batch
    seen = sum(len(yb) for _ in range(epochs) for _, yb in minibatches(X, y, batch, rng))
    return {"updates": int(history.steps[-1]), "gradients": int(seen)}


def budget_public() -> list[Case]:
    return [Case("parameter updates", ("updates",)),
            Case("per-sample gradients evaluated", ("gradients",))]


def _budget_mistakes(key: str) -> dict[float, str]:
    n, batch, epochs = BUDGET["n"], BUDGET["batch_size"], BUDGET["epochs"]
    full, short = n // batch, n - batch * (n // batch)
    per_epoch = -(-n // batch)
    if key == "updates":
        return {epochs * full: f"the short last batch ({short} samples) is a batch too: an "
                               "epoch has ceil(N / B) updates, not N // B",
                epochs * n / batch: "a number of updates is a whole number: round N / B up",
                per_epoch: "that is one epoch; the call runs 3",
                epochs * n: "that counts samples: one update per batch, not per sample",
                full: "that is one epoch without its short last batch"}
    return {epochs * per_epoch * batch: f"the last batch of each epoch holds only {short} "
                                        "samples: every epoch evaluates exactly N per-sample "
                                        "gradients, whatever the batch size",
            n: "that is one epoch; the call runs 3",
            epochs * per_epoch: "that counts updates; each update evaluates one gradient per "
                                "sample of its batch"}


def budget_compare(case: Case, got: Any, after: tuple | None) -> None:
    (key,) = case.args
    if not isinstance(got, dict) or set(got) != {"updates", "gradients"}:
        raise Mismatch("a dict with the keys 'updates' and 'gradients'", c.show(got),
                       "write {'updates': ..., 'gradients': ...} with two whole numbers")
    guess = c.number(got[key], key, "write a whole number")
    measured = _budget_measured()[key]
    if guess == measured:
        return
    mistake = next((m for value, m in _budget_mistakes(key).items()
                    if math.isclose(guess, value, rel_tol=1e-9)), None)
    raise Mismatch(f"{key} = {measured} (counted exactly)", f"{guess:g}",
                   "one epoch cuts N samples into ceil(N / B) batches, the last one shorter; "
                   "one update per batch", mistake)


def budget_comment(case: Case, got: Any) -> str | None:
    measured = _budget_measured()
    return (f"measured: {measured['updates']} updates and {measured['gradients']} per-sample "
            "gradients (3 epochs of ceil(43152 / 100) = 432 batches, the last of each epoch "
            "holding 52 samples); a batch of 500 would cost the same gradients for about 5 times "
            "fewer updates")


# --- 2. mb_epoch_batches (implement, a generator) ---------------------------------------------

def _indexed(n: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    """Row i of X holds i in every column and y_i = 10 i: a batch shows which rows it took."""
    rows = np.arange(n, dtype=float)
    X = rows if features == 0 else np.repeat(rows[:, None], features, axis=1)
    return X, 10.0 * rows


def _epochs_case(label, n, features, batch, epochs, seed, drop_last=False, hidden=False):
    X, y = _indexed(n, features)
    return Case(label, (X, y, batch, epochs, seed), {"drop_last": drop_last}, hidden=hidden)


def epochs_public() -> list[Case]:
    return [
        _epochs_case("10 samples, batches of 4, 2 epochs (a short last batch)", 10, 1, 4, 2, 0),
        _epochs_case("drop_last=True skips the short batch", 10, 1, 4, 2, 1, True),
        _epochs_case("drop_last=True with nothing short to drop (12 in batches of 4)", 12, 1, 4,
                     2, 2, True),
        _epochs_case("1-D X, batches of 3, 3 epochs", 7, 0, 3, 3, 3),
        _epochs_case("three features, batches of 4", 9, 3, 4, 2, 4),
        _epochs_case("a batch larger than the data", 5, 1, 8, 2, 5),
        _epochs_case("a batch larger than the data, drop_last=True: no batch at all", 5, 1, 8,
                     2, 6, True),
    ]


def epochs_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        n, batch = int(rng.integers(3, 30)), int(rng.integers(1, 9))
        cases.append(_epochs_case(f"hidden {k + 1}", n, int(rng.choice([0, 1, 3])), batch,
                                  int(rng.integers(1, 4)), int(rng.integers(0, 10**6)),
                                  bool(rng.integers(2)), hidden=True))
    return cases


def _reference_batches(X, y, batch, epochs, seed, drop_last, reseed=False) -> list:
    """course_lib's epochs: one generator, one ``minibatches`` call (one permutation) each."""
    from ..batching import minibatches

    rng, out = np.random.default_rng(seed), []
    for _ in range(epochs):
        if reseed:
            rng = np.random.default_rng(seed)
        out += [(xb, yb) for xb, yb in minibatches(X, y, batch, rng)
                if not (drop_last and len(yb) < batch)]
    return out


def _as_batches(got: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    hint = "yield one (X_batch, y_batch) pair per batch"
    if not isinstance(got, (list, tuple)):
        raise Mismatch("the batches of a generator", c.show(got), hint)
    pairs = []
    for item in got:
        xb, yb = c.pair(item, 2, "(X_batch, y_batch)")
        pairs.append((c.array(xb, None, "X_batch", hint), c.array(yb, None, "y_batch", hint)))
    return pairs


def _count_mistake(n, batch, epochs, drop_last, count) -> str | None:
    whole, every = n // batch, -(-n // batch)
    per_epoch = whole if drop_last else every
    if whole != every and count == (every if drop_last else whole) * epochs:
        return ("drop_last=True skips the short last batch of each epoch" if drop_last else
                "the short last batch of each epoch counts too (drop_last=False)")
    if epochs > 1 and per_epoch > 0 and count == per_epoch:
        return f"that is one epoch of batches; yield all {epochs} epochs"
    return None


def _pairs_mistake(pairs: list) -> str | None:
    for xb, yb in pairs:
        first = xb if xb.ndim == 1 else xb[:, 0]
        if first.shape != yb.shape or not np.array_equal(first * 10.0, yb):
            return ("an X row lost its target: X and y must be indexed with the same "
                    "permutation (two calls to rng.permutation give two different orders)")
    return None


def epochs_compare(case: Case, got: Any, after: tuple | None) -> None:
    X, y, batch, epochs, seed = case.args
    drop_last = case.kwargs.get("drop_last", False)
    pairs, n = _as_batches(got), len(y)
    expected = _reference_batches(X, y, batch, epochs, seed, drop_last)
    want = [len(yb) for _, yb in expected]
    have = [len(yb) for _, yb in pairs]
    hint = ("make ONE np.random.default_rng(seed) before the epoch loop; each epoch draws one "
            "rng.permutation(len(X)) and yields consecutive slices of it")
    if have != want:
        raise Mismatch(f"{len(want)} batches of sizes {want}", f"sizes {have}", hint,
                       _count_mistake(n, batch, epochs, drop_last, len(have)))
    c.unchanged(X, after, 0, "X")
    c.unchanged(y, after, 1, "y")
    for (xb, _yb), (xe, _ye) in zip(pairs, expected, strict=True):
        if xb.shape != xe.shape:
            raise Mismatch(f"X batches of shape {xe.shape}", f"shape {xb.shape}",
                           "take whole rows of X: X[rows] keeps its other dimensions")
    got_y, want_y = [yb for _, yb in pairs], [yb for _, yb in expected]
    if not _same_batches(got_y, want_y):
        reseeded = [yb for _, yb in _reference_batches(X, y, batch, epochs, seed, drop_last,
                                                       reseed=True)]
        raise Mismatch(f"y batches {c.show(want_y)}", c.show(got_y), hint,
                       _order_mistake(pairs, want_y, reseeded))


def _same_batches(a: list, b: list) -> bool:
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def _order_mistake(pairs: list, want_y: list, reseeded: list) -> str | None:
    """Why the batches hold the wrong rows (None: no known reason)."""
    mistake = _pairs_mistake(pairs)
    full = [yb for _, yb in pairs if len(yb) == len(pairs[0][1])]
    if mistake is None and len(full) > 1 and all(np.array_equal(full[0], yb) for yb in full):
        mistake = ("every batch you yielded is the same array, refilled: yield a new array for "
                   "each batch (indexing X[rows] makes one)")
    if mistake is None and _same_batches([yb for _, yb in pairs], reseeded):
        mistake = ("every epoch repeats the same order: the generator is made again from the "
                   "seed each epoch; make it once, before the epoch loop")
    return mistake


# --- 3. mb_fix_train_path (diagnose) ------------------------------------------------------------

def _line_data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 1))
    return X, 0.8 * X[:, 0] - 0.3 + 0.3 * rng.normal(size=n)


def _path_case(label, n, lr, epochs, batch, seed, hidden=False) -> Case:
    X, y = _line_data(seed + 1000, n)
    return Case(label, (X, y, lr, epochs, batch, seed), hidden=hidden)


def path_public() -> list[Case]:
    return [
        _path_case("40 samples in batches of 8, 3 epochs", 40, 0.05, 3, 8, 0),
        _path_case("the full batch, 4 epochs", 30, 0.1, 4, 30, 1),
        _path_case("200 samples in batches of 32 (a short last batch), 3 epochs", 200, 0.01, 3,
                   32, 2),
        _path_case("one epoch", 25, 0.05, 1, 5, 3),
    ]


def path_hidden(rng: np.random.Generator) -> list[Case]:
    return [_path_case(f"hidden {k + 1}", int(rng.integers(10, 80)),
                       float(rng.choice([0.003, 0.01, 0.05])), int(rng.integers(2, 5)),
                       int(rng.integers(2, 17)), int(rng.integers(0, 10**6)), hidden=True)
            for k in range(3)]


def reference_path(X, y, lr, epochs, batch, seed, fresh_optimizer=False,
                   reseed=False) -> np.ndarray:
    """Every (w, b) of mini-batch RMSprop on the half-MSE from w = b = 0, with course_lib's
    pieces; ``fresh_optimizer``/``reseed``: the known mistakes (a new optimizer, or a new
    generator from the seed, at every epoch)."""
    from ..batching import minibatches
    from ..models import LinearRegression
    from ..optim import RMSprop

    model, optimizer = LinearRegression(n_features=1, loss="half_mse"), RMSprop(lr=lr)
    rng, path = np.random.default_rng(seed), [model.get_flat()]
    for _ in range(epochs):
        if fresh_optimizer:
            optimizer = RMSprop(lr=lr)
        if reseed:
            rng = np.random.default_rng(seed)
        for X_batch, y_batch in minibatches(X, y, batch, rng):
            optimizer.step(model.params, model.loss_and_grad(X_batch, y_batch)[1])
            path.append(model.get_flat())
    return np.array(path)


def path_compare(case: Case, got: Any, after: tuple | None) -> None:
    X, y, lr, epochs, batch, seed = case.args
    expected = reference_path(X, y, lr, epochs, batch, seed)
    hint = ("course_lib.fit keeps what RMSprop has learnt about the gradients for the whole "
            "run; look at what your loop creates, and where")
    result = c.array(got, None, "path", hint)
    if result.shape == (len(expected) - 1, 2):
        raise Mismatch(f"a path of shape {expected.shape}", f"shape {result.shape}", hint,
                       "the path starts with the start point (0, 0), then one row per update")
    c.array(result, expected.shape, "path", hint)
    with np.errstate(all="ignore"):
        rows_ok = np.all(np.isclose(result, expected, rtol=c.FLOAT64_TOL["rtol"],
                                    atol=c.FLOAT64_TOL["atol"]), axis=1)
    if not rows_ok.all():
        k = int(np.argmin(rows_ok))
        epoch, within = divmod(k - 1, -(-len(y) // batch))
        want, have = c.shown_apart(expected[k], result[k])
        raise Mismatch(f"(w, b) = {want} after update {k} (update {within + 1} of epoch "
                       f"{epoch + 1}), the first row that differs", have, hint,
                       _path_mistake(case, result, expected))
    c.unchanged(X, after, 0, "X")
    c.unchanged(y, after, 1, "y")


def _path_mistake(case: Case, result: np.ndarray, expected: np.ndarray) -> str | None:
    X, y, lr, epochs, batch, seed = case.args
    if c.same(result, reference_path(X, y, lr, epochs, batch, seed, fresh_optimizer=True)):
        return ("this still behaves like the code you were given: the path follows "
                "course_lib's through the first epoch, then at the first update of the next "
                "epoch takes a step of about 3 lr")
    if c.same(result, reference_path(X, y, lr, epochs, batch, seed, reseed=True)):
        return ("every epoch repeats the first epoch's batch order: the shuffle must go on "
                "from one epoch to the next")
    return c.aliased_rows_hint(result, expected)


# --- 4. mb_cosine_lr (implement) -------------------------------------------------------------

def cosine(epoch: float, epochs: float, lr0: float, lr_min: float = 0.0) -> float:
    """SGDR's cosine (Loshchilov & Hutter 2017, eq. 5) per epoch, T_cur = epoch - 1 epochs done
    out of T_i = epochs: lr0 in epoch 1, falling towards lr_min (reached after the last)."""
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * (epoch - 1) / epochs))


def cosine_public() -> list[Case]:
    def case(label, epoch, epochs, lr0, lr_min=0.0):
        return Case(label, (epoch, epochs, lr0), {"lr_min": lr_min})

    return [
        case("epoch 1 of 10 runs at lr0", 1, 10, 0.01),
        case("epoch 6 of 10: half way down", 6, 10, 0.01),
        case("the last epoch (10 of 10) is not at 0 yet", 10, 10, 0.01),
        case("epoch 3 of 4 with lr_min = 0.01", 3, 4, 0.1, 0.01),
        case("a single epoch", 1, 1, 0.02),
        case("epoch 2 of 3, lr_min = 0.001", 2, 3, 0.003, 0.001),
    ]


def cosine_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        epochs = int(rng.integers(2, 40))
        lr0 = float(rng.choice([0.001, 0.01, 0.1]))
        cases.append(Case(f"hidden {k + 1}", (int(rng.integers(1, epochs + 1)), epochs, lr0),
                          {"lr_min": float(rng.choice([0.0, lr0 / 10]))}, hidden=True))
    return cases


def _cosine_mistakes(epoch, epochs, lr0, lr_min) -> dict[str, float]:
    u = (epoch - 1) / epochs
    known = {"count the epochs done: fit's epochs start at 1, and epoch 1 runs at lr0 itself":
             cosine(epoch + 1, epochs, lr0, lr_min),
             "lr is halfway between lr0 and lr_min when the cosine is 0: the factor is "
             "(1 + cos) / 2, not 1 + cos": lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * u)),
             "the rate falls from lr0 to lr_min: lr_min + (lr0 - lr_min) * ..., not lr0 * ...":
             lr0 * 0.5 * (1 + math.cos(math.pi * u)),
             "np.cos takes radians: the argument runs from 0 to pi, not to 180":
             lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(180 * u))}
    if epochs > 1:
        known["dividing by epochs - 1 puts the last epoch at lr_min (an epoch at lr = 0 does "
              "nothing); the cosine reaches lr_min after the last epoch"] = \
            lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * (epoch - 1) / (epochs - 1)))
    return known


def cosine_compare(case: Case, got: Any, after: tuple | None) -> None:
    epoch, epochs, lr0 = case.args
    lr_min = case.kwargs.get("lr_min", 0.0)
    expected = cosine(epoch, epochs, lr0, lr_min)
    hint = ("lr = lr_min + (lr0 - lr_min) * (1 + cos(pi * t / T)) / 2, with t = epoch - 1 "
            "epochs done out of T = epochs")
    value = c.number(got, "lr", "return one number, the learning rate for that epoch")
    if math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-15):
        return
    mistake = next((m for m, wrong in _cosine_mistakes(epoch, epochs, lr0, lr_min).items()
                    if not math.isclose(wrong, expected, rel_tol=1e-9, abs_tol=1e-15)
                    and math.isclose(value, wrong, rel_tol=1e-9, abs_tol=1e-15)), None)
    want, have = c.shown_apart(expected, value)
    raise Mismatch(f"lr = {want}", have, hint, mistake)


# --- 5. mb_tune (tune) -------------------------------------------------------------------------

TUNE_EPOCHS, TUNE_GAP, TUNE_MIN_BATCH, TUNE_SEEDS = 3, 1.0, 32, 5
_TUNE_KEYS = {"lr", "batch_size", "epochs", "schedule"}


@lru_cache(maxsize=1)
def diamonds_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """The sheet's split: standardized carat -> price, 20 % held out by default_rng(0), both
    standardized with the training rows' statistics. (X_train, y_train, X_val, y_val, std)."""
    from ..data import load_diamonds

    diamonds = load_diamonds()
    carat = diamonds["carat"].to_numpy(dtype=float)
    price = diamonds["price"].to_numpy(dtype=float)
    order = np.random.default_rng(0).permutation(len(price))
    held, train = order[: len(price) // 5], order[len(price) // 5:]
    X = ((carat - carat[train].mean()) / carat[train].std())[:, None]
    y = (price - price[train].mean()) / price[train].std()
    return X[train], y[train], X[held], y[held], float(price[train].std())


def val_rmse_gap(w: float, b: float) -> float:
    """Validation RMSE (dollars) of y = w x + b minus that of the least-squares line."""
    from ..models import least_squares

    X_train, y_train, X_val, y_val, std = diamonds_split()
    w_ls, b_ls = least_squares(X_train, y_train)

    def rmse(slope: float, bias: float) -> float:
        return std * float(np.sqrt(np.mean((slope * X_val[:, 0] + bias - y_val) ** 2)))

    return rmse(w, b) - rmse(float(w_ls[0]), b_ls)


def tune_public() -> list[Case]:
    return [Case("shuffle seeds 0 to 4", ((0, 1, 2, 3, 4),))]


def tune_hidden(rng: np.random.Generator) -> list[Case]:
    seeds = tuple(int(s) for s in rng.choice(np.arange(5, 10**6), TUNE_SEEDS, replace=False))
    return [Case("hidden 1", (seeds,), hidden=True)]


def _tune_setting(got: Any) -> tuple[float, int, int, str]:
    if not isinstance(got, dict) or set(got) != _TUNE_KEYS:
        raise Mismatch("a dict {'lr': ..., 'batch_size': ..., 'epochs': ..., 'schedule': ...}",
                       c.show(got), "write the four settings as a dict with exactly these keys")
    lr = c.number(got["lr"], "lr", "write lr as a plain number")
    batch, epochs = (got[k] for k in ("batch_size", "epochs"))
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in (batch, epochs)):
        raise Mismatch("whole numbers for batch_size and epochs", f"{batch!r}, {epochs!r}",
                       "batch_size and epochs count samples and passes: write ints")
    if got["schedule"] not in ("constant", "cosine"):
        raise Mismatch("schedule 'constant' or 'cosine'", c.show(got["schedule"]),
                       "two schedules are allowed: 'constant' or 'cosine' (exercise 4's)")
    if not (lr > 0 and math.isfinite(lr)) or batch < TUNE_MIN_BATCH or not 1 <= epochs:
        raise Mismatch(f"lr > 0, batch_size >= {TUNE_MIN_BATCH}, epochs >= 1",
                       f"lr = {lr:g}, batch_size = {batch}, epochs = {epochs}",
                       f"batches under {TUNE_MIN_BATCH} are refused to keep the check fast")
    return lr, int(batch), int(epochs), str(got["schedule"])


def tune_run(setting: dict, seed: int) -> tuple[float, float, str | None]:
    """Train the exercise's line with ``setting`` and shuffle ``seed``: (w, b, stopped)."""
    return _tune_run(*_tune_setting(setting), seed)


@lru_cache(maxsize=64)
def _tune_run(lr: float, batch: int, epochs: int, schedule: str,
              seed: int) -> tuple[float, float, str | None]:
    from ..models import LinearRegression
    from ..optim import RMSprop
    from ..training import fit

    X_train, y_train, *_ = diamonds_split()
    model = LinearRegression(n_features=1, loss="half_mse")
    history = fit(model, X_train, y_train, RMSprop(lr=lr), epochs=epochs, batch_size=batch,
                  seed=seed, verbose=False,
                  schedule=(lambda e: cosine(e, epochs, lr)) if schedule == "cosine" else None)
    return float(model.weights[0]), model.bias, history.stopped


def tune_compare(case: Case, got: Any, after: tuple | None) -> None:
    lr, batch, epochs, schedule = _tune_setting(got)
    goal = (f"a validation RMSE on average at most ${TUNE_GAP:g} above the least-squares "
            f"line's, within {TUNE_EPOCHS} epochs of gradients")
    hint = ("two limits: enough steps of about lr to cover the 0.92 from w = 0, and a final "
            "jitter (set by the rate at the end of the run) small enough")
    if epochs > TUNE_EPOCHS:
        raise Mismatch(goal, f"{epochs} epochs ({epochs * 43152:,} per-sample gradients)", hint,
                       f"over budget: every epoch costs N = 43,152 per-sample gradients "
                       f"whatever the batch size; at most {TUNE_EPOCHS} epochs")
    (seeds,) = case.args
    runs = [tune_run(got, int(seed)) for seed in seeds]
    if any(stopped or not (math.isfinite(w) and math.isfinite(b)) for w, b, stopped in runs):
        raise Mismatch(goal, "a run whose loss stopped being a finite number", hint,
                       f"lr = {lr:g} is far too large: the line was thrown away")
    gap = float(np.mean([val_rmse_gap(w, b) for w, b, _ in runs]))
    if gap <= TUNE_GAP:
        return
    w = float(np.mean([w for w, _, _ in runs]))
    raise Mismatch(goal, f"${gap:.2f} above on average (mean slope {w:.4f})", hint,
                   _tune_mistake(lr, batch, epochs, schedule, w))


def _tune_mistake(lr: float, batch: int, epochs: int, schedule: str, w: float) -> str:
    steps = epochs * -(-43152 // batch)
    if w < 0.85:
        return (f"not there yet (mean slope {w:.3f}, the best line's is about 0.92): {steps} "
                f"steps of about lr = {lr:g} cover too little; use more steps (a smaller "
                "batch) or a larger lr")
    if schedule == "constant" and (lr, batch) == (0.01, 512):
        return ("that is the lesson's published setting: with a constant lr = 0.01 the line "
                "jitters around the best one by enough to cost dollars; the rate at the end "
                "of the run must be smaller")
    return ("the line arrived but jitters around the best one: the rate at the end of the "
            "run is too large; lower it, or let it decay")


def tune_comment(case: Case, got: Any) -> str | None:
    gaps = [val_rmse_gap(*tune_run(got, seed)[:2]) for seed in range(5)]  # never hidden seeds
    return (f"validation RMSE above the least-squares line's, shuffle seeds 0 to 4: mean "
            f"${np.mean(gaps):+.2f} (" + ", ".join(f"{g:+.2f}" for g in gaps)
            + f"); the goal: a mean of at most ${TUNE_GAP:g}")


# --- 6. mb_batch_jitter (predict) -------------------------------------------------------------

#: The experiment of exercise 6 (lesson 06, section 10's): constant-lr RMSprop from (1, 0),
#: 10 epochs, 20 shuffle seeds, batches of 128 against batches 64 times larger.
JITTER_LR, JITTER_EPOCHS, JITTER_SEEDS, JITTER_BATCHES = 0.01, 10, 20, (128, 8192)
JITTER_CHOICES = {"a": "about 64 times smaller", "b": "about 8 times smaller",
                  "c": "between 1.2 and 5 times smaller", "d": "not smaller (under 1.2 times)"}


def final_slopes(batch_size: int, seeds: int, epochs: int, lr: float) -> np.ndarray:
    """The final slope of ``seeds`` runs of mini-batch RMSprop (shuffle seeds 0, 1, ...) on the
    sheet's training diamonds from (w, b) = (1, 0), all at once: one course_lib RMSprop steps a
    (seeds, 2) array, whose elements keep their own v (as in lesson 06, section 8)."""
    from ..optim import RMSprop

    X, y, *_ = diamonds_split()
    x, n = X[:, 0], len(y)
    rngs = [np.random.default_rng(seed) for seed in range(seeds)]
    p, optimizer = np.tile([1.0, 0.0], (seeds, 1)), RMSprop(lr=lr)
    for _ in range(epochs):
        orders = np.stack([rng.permutation(n) for rng in rngs])
        for start in range(0, n, batch_size):
            rows = orders[:, start:start + batch_size]
            error = p[:, :1] * x[rows] + p[:, 1:] - y[rows]
            optimizer.step(p, np.column_stack([np.mean(error * x[rows], axis=1),
                                               np.mean(error, axis=1)]))
    return p[:, 0]


@lru_cache(maxsize=1)
def jitter_measured() -> tuple[float, float]:
    """The std over seeds of the final slope, for the small and the large batch."""
    small, large = (float(np.std(final_slopes(b, JITTER_SEEDS, JITTER_EPOCHS, JITTER_LR)))
                    for b in JITTER_BATCHES)
    return small, large


def _jitter_letter(ratio: float) -> str:
    return "a" if ratio >= 30 else "b" if ratio >= 5 else "c" if ratio >= 1.2 else "d"


def jitter_public() -> list[Case]:
    return [Case("the std of the final slope, batches of 128 against 8192")]


def jitter_compare(case: Case, got: Any, after: tuple | None) -> None:
    if got not in JITTER_CHOICES:
        raise Mismatch("one of the letters 'a', 'b', 'c', 'd'", c.show(got),
                       "write the letter of your choice as a string, e.g. \"a\"")
    small, large = jitter_measured()
    right = _jitter_letter(small / large)
    if got == right:
        return
    known = {"a": "64 is how much the VARIANCE of the gradient noise falls; even plain SGD's "
                  "jitter would not fall that much",
             "b": "8 = sqrt(64) is how much the typical size of the gradient noise falls; "
                  "RMSprop's steps do not follow it",
             "c": "the measurement decides: look at the two numbers the experiment printed",
             "d": "it does shrink, a little: a quieter gradient helps RMSprop too"}
    raise Mismatch(f"'{right}' ({JITTER_CHOICES[right]}: measured {small / large:.2f} times)",
                   f"'{got}' ({JITTER_CHOICES[got]})", "RMSprop divides each step by the RMS "
                   "of the recent gradients; near the optimum those are mostly noise", known[got])


def jitter_comment(case: Case, got: Any) -> str | None:
    small, large = jitter_measured()
    return (f"measured over {JITTER_SEEDS} seeds: std of the final slope {small:.4f} with "
            f"batches of 128, {large:.4f} with batches of 8192, {small / large:.2f} times "
            "smaller, while the gradient noise's typical size fell 8 times")


EXERCISES = {
    "mb_budget": Exercise(
        "mb_budget", budget_public, budget_compare, mode="value", comment=budget_comment,
        lesson=_lesson("sections 3 (Counting batches, steps and epochs) and 6 (Same work, "
                       "different numbers of steps)")),
    "mb_epoch_batches": Exercise(
        "mb_epoch_batches", epochs_public, epochs_compare, epochs_hidden, consume=200,
        forbidden=("minibatches",),
        lesson=_lesson("section 4 (Shuffling once per epoch)")),
    "mb_fix_train_path": Exercise(
        "mb_fix_train_path", path_public, path_compare, path_hidden, name="train_path",
        lesson=_lesson("sections 2 (The mini-batch gradient) and 7 (The published experiment "
                       "with course_lib.fit)")),
    "mb_cosine_lr": Exercise(
        "mb_cosine_lr", cosine_public, cosine_compare, cosine_hidden,
        lesson=_lesson("section 11 (Learning-rate schedules)")),
    "mb_tune": Exercise(
        "mb_tune", tune_public, tune_compare, tune_hidden, mode="value", comment=tune_comment,
        lesson=_lesson("sections 10 (The noise floor of constant-lr RMSprop) and 11 "
                       "(Learning-rate schedules)")),
    "mb_batch_jitter": Exercise(
        "mb_batch_jitter", jitter_public, jitter_compare, mode="value", comment=jitter_comment,
        lesson=_lesson("sections 5 (Batch size and gradient noise: the 1/B law) and 10 (The "
                       "noise floor of constant-lr RMSprop)")),
    "mb_noise_floor": Exercise(
        "mb_noise_floor", mode="explain",
        lesson=_lesson("section 10 (The noise floor of constant-lr RMSprop)")),
}
