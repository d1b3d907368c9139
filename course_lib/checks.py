"""The checks behind the exercise sheets in ``solutions/`` and ``exercises/``.

Each ``check_<exercise id>(fn)`` runs the learner's function on several cases, edge cases
included, and compares what comes back with ``course_lib`` or with a closed form (never with the
learner's own code). Then it either

- prints exactly one line, ``[exercise_id] passed: N/N cases``;
- re-raises :class:`NotAttempted` when the learner's code still raises it;
- raises :class:`CheckFailed` with one line naming the case, what was expected, what came back
  and a hint (never the solution); an exception in the learner's code is reported the same way,
  chained to the original so its traceback still shows the line that failed.

Whatever the learner's code prints, warns or plots while it is being checked is captured and
thrown away, so a check cell's output depends only on whether the cases pass.

The checks' own frames set ``__tracebackhide__``, which IPython and pytest honour: a learner's
traceback shows the check cell and their own code, not the check's lines (which compute the
expected answers). IPython still shows the last hidden frame, the check's ``raise`` line, so
:class:`CheckFailed` renders its own traceback for IPython (``_render_traceback_``) without any
check frame.

``CHECKS`` maps each exercise id to its check.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from functools import lru_cache
from numbers import Integral, Real
from types import TracebackType
from typing import Any, NoReturn

import numpy as np

from .batching import minibatches, n_batches
from .models import LinearRegression
from .objectives import (
    Rosenbrock,
    ill_conditioned_quadratic,
    rotated_quadratic,
)
from .optim import SGD, Adam, RMSprop
from .training import fit, minimize

__all__ = [
    "NotAttempted",
    "CheckFailed",
    "CHECKS",
    "check_gd_step",
    "check_mse_gradient",
    "check_choose_lr",
    "check_gradient_descent",
    "check_ewma_update",
    "check_ewma_series",
    "check_choose_beta",
    "check_adagrad_accumulate",
    "check_adagrad_step",
    "check_run_adagrad",
    "check_rmsprop_average",
    "check_rmsprop_step",
    "check_rmsprop_effective_lr",
    "check_run_rmsprop",
    "check_count_batches",
    "check_minibatch_iterator",
    "check_rmse_dollars",
    "check_train_line",
    "check_momentum_step",
    "check_adam_step",
    "check_lr_sweep",
]


class NotAttempted(Exception):
    """Raised by an exercise that has not been written yet (``raise NotAttempted("id")``)."""

    def __init__(self, exercise_id: str = "?") -> None:
        self.exercise_id = exercise_id
        super().__init__(
            f"exercise {exercise_id} is not attempted yet: replace the "
            f"`raise NotAttempted(...)` line with your code"
        )

    def __reduce__(self) -> tuple[type, tuple[str]]:  # keep the id when copied or pickled
        return (type(self), (self.exercise_id,))


class CheckFailed(AssertionError):
    """An exercise's code gave a wrong answer (or raised) on one of the check's cases."""

    def _render_traceback_(self) -> list[str]:
        """The traceback IPython and Jupyter show: the learner's frames, then the message.

        IPython hides frames that set ``__tracebackhide__`` except the last one, which for a
        failed check is the check's own ``raise CheckFailed(f"...")`` line. This hook (IPython
        calls it instead of formatting the traceback itself) leaves out every check frame, so
        the traceback ends at the learner's call.
        """
        shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
        tb = _without_check_frames(self.__traceback__)
        if shell is None:
            return traceback.format_exception(type(self), self, tb)
        return shell.InteractiveTB.structured_traceback(type(self), self, tb)


def _without_check_frames(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` minus the frames of course_lib that set ``__tracebackhide__``."""
    kept = []
    while tb is not None:
        frame = tb.tb_frame
        ours = str(frame.f_globals.get("__name__", "")).startswith("course_lib")
        hidden = ours and frame.f_locals.get("__tracebackhide__", False)
        if not hidden:
            kept.append(tb)
        tb = tb.tb_next
    new: TracebackType | None = None
    for entry in reversed(kept):
        new = TracebackType(new, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return new


# --- the shared runner ----------------------------------------------------------------------

_FLOAT64_TOL = {"rtol": 1e-7, "atol": 1e-10}
_FLOAT32_TOL = {"rtol": 2e-5, "atol": 1e-6}


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    """Swallow prints, warnings, ``plt.show()`` and new figures of the code run inside."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    figures_before = set(pyplot.get_fignums()) if pyplot is not None else set()
    original_show = getattr(pyplot, "show", None)
    if pyplot is not None:
        setattr(pyplot, "show", lambda *args, **kwargs: None)  # noqa: B010 (a module attribute)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")  # the learner's code may have imported it
        if pyplot is not None:
            if original_show is not None:
                setattr(pyplot, "show", original_show)  # noqa: B010
            for number in set(pyplot.get_fignums()) - figures_before:
                pyplot.close(number)


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _show(value: Any) -> str:
    """A short one-line description of a value, for messages."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (Real, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiu":
            return f"an array of dtype {value.dtype} and shape {value.shape}"
        if value.shape == ():
            return _show(value[()])
        text = np.array2string(
            value, separator=", ", threshold=12, edgeitems=3, max_line_width=10**9,
            formatter={"float_kind": lambda x: f"{x:.6g}"},
        )
        suffix = f" ({value.dtype})" if value.dtype == np.float32 else ""
        return " ".join(text.split()) + suffix
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_show(v) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    text = repr(value)
    return _first_line(text, 80) if len(text) <= 80 else f"a {type(value).__name__}"


class Runner:
    """Runs the cases of one exercise's check.

    ``call`` runs the learner's code quietly and turns its exceptions into one-line
    :class:`CheckFailed` errors (or re-raises :class:`NotAttempted`); the ``expect_*`` methods
    compare a result and raise a one-line :class:`CheckFailed` naming the case; ``passed``
    prints the single success line.
    """

    def __init__(self, exercise_id: str, fn: Any, what: str = "function") -> None:
        __tracebackhide__ = True
        self.exercise_id = exercise_id
        self.cases: list[str] = []
        if not callable(fn):
            self.fail_plain(
                f"expected your {what} `{exercise_id}` itself, got {_show(fn)}. "
                f"Hint: pass the function without calling it, e.g. check_{exercise_id}"
                f"({exercise_id})."
            )
        self.fn = fn

    # -- running the learner's code ----------------------------------------------------------
    def call(self, case: str, *args: Any, consume: Callable[[Any], Any] | None = None,
             **kwargs: Any) -> Any:
        """Call the learner's function on one case, quietly, converting its errors;
        ``consume`` is applied inside the capture (e.g. ``list`` to run a generator)."""
        __tracebackhide__ = True
        if case not in self.cases:
            self.cases.append(case)
        with _quietly():
            try:
                result = self.fn(*args, **kwargs)
                return consume(result) if consume is not None else result
            except NotAttempted as exc:
                if exc.exercise_id == self.exercise_id:
                    raise
                other = exc.exercise_id
                raise CheckFailed(
                    f"[{self.exercise_id}] case '{case}': your code uses exercise {other}, "
                    f"which is not attempted yet. Hint: finish {other} first (its own check "
                    f"cell tells you when it works)."
                ) from None
            except CheckFailed:
                raise
            except Exception as exc:
                raise CheckFailed(
                    f"[{self.exercise_id}] case '{case}': your code raised "
                    f"{type(exc).__name__}: {_first_line(str(exc))}"
                ) from exc

    # -- failing ------------------------------------------------------------------------------
    def fail_plain(self, message: str) -> NoReturn:
        __tracebackhide__ = True
        raise CheckFailed(f"[{self.exercise_id}] {message}")

    def fail(self, case: str, expected: str, got: str, hint: str) -> NoReturn:
        """Raise the one-line CheckFailed: case, expected, got, hint."""
        __tracebackhide__ = True
        raise CheckFailed(
            f"[{self.exercise_id}] case '{case}': expected {expected}, got {got}. Hint: {hint}"
        )

    # -- comparing ----------------------------------------------------------------------------
    def as_array(self, case: str, got: Any, name: str, shape: tuple[int, ...] | None,
                 hint: str) -> np.ndarray:
        """``got`` as a float array of ``shape``, or a CheckFailed explaining what it is."""
        __tracebackhide__ = True
        label = f"{name} " if name else ""
        if got is None:
            self.fail(case, f"{label}to be an array", "None",
                      "the function has no `return` statement, or returns before the end")
        try:
            raw = np.asarray(got)
            array = raw if raw.dtype == np.float32 else raw.astype(float)  # float32 stays
        except (TypeError, ValueError):
            self.fail(case, f"{label}to be numbers", _show(got), hint)
        if shape is not None and array.shape != shape:
            self.fail(case, f"{label}of shape {shape}", f"shape {array.shape} ({_show(got)})",
                      hint)
        return array

    def expect_close(
        self,
        case: str,
        got: Any,
        expected: Any,
        hint: str,
        name: str = "",
        dtype: type | None = None,
        diagnose: Callable[..., str | None] | None = None,  # called as diagnose(got)
        rtol: float | None = None,
        atol: float | None = None,
    ) -> np.ndarray:
        """Compare ``got`` with ``expected`` (same shape, values within tolerance).

        ``dtype=np.float32`` also requires the result to stay float32. ``diagnose(got)`` may
        return a more specific hint for a recognised mistake.
        """
        __tracebackhide__ = True
        expected = np.asarray(expected)
        array = self.as_array(case, got, name, expected.shape, hint)
        label = f"{name} = " if name else ""
        if dtype is not None and array.dtype != dtype:
            self.fail(case, f"{label}an array of dtype {np.dtype(dtype).name}",
                      f"dtype {array.dtype}",
                      "keep the parameters' dtype: combine the inputs with arithmetic instead "
                      "of building new arrays with np.array(..., dtype=float) or np.zeros(n)")
        tolerance = dict(_FLOAT32_TOL if expected.dtype == np.float32 or dtype == np.float32
                         else _FLOAT64_TOL)
        tolerance.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
        with np.errstate(all="ignore"):
            ok = np.allclose(array.astype(float), expected.astype(float),
                             rtol=tolerance["rtol"], atol=tolerance["atol"])
        if not ok:
            better = diagnose(array) if diagnose is not None else None
            self.fail(case, label + _show(expected), label + _show(array), better or hint)
        return array

    def expect_unchanged(self, case: str, name: str, before: np.ndarray, after: np.ndarray) -> None:
        """The learner's function must not change its input arrays in place."""
        __tracebackhide__ = True
        if not np.array_equal(before, after, equal_nan=True):
            self.fail(case, f"the input `{name}` to be left unchanged",
                      f"`{name}` changed in place to {_show(after)}",
                      "build new arrays (x = x - ...) instead of updating the inputs in place "
                      "(x -= ...), so the caller's arrays keep their values")

    def expect_number(self, case: str, got: Any, name: str, hint: str) -> float:
        """``got`` as a Python float; it must be one real number."""
        __tracebackhide__ = True
        if got is None:
            self.fail(case, f"{name} to be a number", "None",
                      "the function has no `return` statement, or returns before the end")
        numeric = (Real, np.floating, np.integer, np.ndarray)
        if isinstance(got, bool) or not isinstance(got, numeric):
            self.fail(case, f"{name} to be a number", _show(got), hint)
        if isinstance(got, np.ndarray):
            if got.shape != ():
                self.fail(case, f"{name} to be a single number", f"an array of shape {got.shape}",
                          "return one number, e.g. with float(...) or an index, not an array")
            got = got[()]
        value = float(got)
        return value

    def scalar(self, case: str, got: Any, name: str, hint: str) -> float:
        """``got`` as a float: a number, or an array holding exactly one."""
        __tracebackhide__ = True
        if isinstance(got, np.ndarray) and got.size == 1:
            got = got.reshape(())
        return self.expect_number(case, got, name, hint)

    def expect_pairs(self, case: str, got: Any, n: int, names: str) -> tuple[Any, ...]:
        """``got`` must be a tuple/list of ``n`` values (e.g. ``(p, s)``)."""
        __tracebackhide__ = True
        if not isinstance(got, (tuple, list)) or len(got) != n:
            self.fail(case, f"a tuple {names}", _show(got),
                      f"return the {n} values together, as one tuple in the order {names}")
        return tuple(got)

    # -- success ------------------------------------------------------------------------------
    def passed(self) -> None:
        """Print the one success line, ``[exercise_id] passed: N/N cases``."""
        n = len(self.cases)
        print(f"[{self.exercise_id}] passed: {n}/{n} cases")


def _aliased_rows_hint(got: np.ndarray, expected: np.ndarray) -> str | None:
    # Appending the same array that is then updated in place makes every stored point the last.
    if len(got) > 1 and np.all(got == got[-1]) and not np.all(expected == expected[-1]):
        return "all rows are the same array: store a copy of each point"
    return None


def _array(values: Any, dtype: type = np.float64) -> np.ndarray:
    return np.array(values, dtype=dtype)


def _same(got: np.ndarray, value: np.ndarray) -> bool:
    with np.errstate(all="ignore"):
        return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-6, atol=1e-9))


# --- lesson 02: optimization basics ---------------------------------------------------------

# Sheet 02's checks are case definitions (course_lib/cases/sheet02.py).

def check_gd_step(gd_step: Callable[..., Any]) -> None:
    """``gd_step(p, g, lr)`` returns the new parameters ``p - lr * g``."""
    __tracebackhide__ = True
    _case_check("gd_step", gd_step)


def check_mse_gradient(mse_gradient: Callable[..., Any]) -> None:
    """``mse_gradient(X, y, w, b)`` returns ``(grad_w, grad_b)`` of mean((X w + b - y)^2)."""
    __tracebackhide__ = True
    _case_check("mse_gradient", mse_gradient)


def check_choose_lr(choose_lr: Callable[..., Any]) -> None:
    """``choose_lr(A)`` returns a learning rate with which gradient descent converges on
    ``f(x) = 1/2 x^T A x`` and that is at least a tenth of the largest such rate."""
    __tracebackhide__ = True
    _case_check("choose_lr", choose_lr)


def check_gradient_descent(gradient_descent: Callable[..., Any]) -> None:
    """``gradient_descent(grad, x0, lr, steps)`` returns the points visited, shape
    ``(steps + 1, dim)``, starting with ``x0``."""
    __tracebackhide__ = True
    _case_check("gradient_descent", gradient_descent)


# --- lesson 03: EWMA ------------------------------------------------------------------------

# Sheet 03's checks are case definitions (course_lib/cases/sheet03.py).

def check_ewma_update(ewma_update: Callable[..., Any]) -> None:
    """``ewma_update(v, x, beta)`` returns ``beta * v + (1 - beta) * x``."""
    __tracebackhide__ = True
    _case_check("ewma_update", ewma_update)


def check_ewma_series(ewma_series: Callable[..., Any]) -> None:
    """``ewma_series(xs, beta, bias_correction=False)`` returns one average per value, starting
    from ``v_0 = 0``; with ``bias_correction`` each is divided by ``1 - beta**t``."""
    __tracebackhide__ = True
    _case_check("ewma_series", ewma_series)


def check_choose_beta(choose_beta: Callable[..., Any]) -> None:
    """``choose_beta(noise_std, max_noise, max_half_life)`` returns a decay rate whose EWMA
    leaves at most ``max_noise`` of white noise of std ``noise_std`` and whose half-life is
    at most ``max_half_life`` steps."""
    __tracebackhide__ = True
    _case_check("choose_beta", choose_beta)


# --- lesson 04: AdaGrad ---------------------------------------------------------------------

# Sheet 04's checks are case definitions (course_lib/cases/sheet04.py), shared with the grader.

def _step_cases_hint(kind: str) -> str:
    return f"follow {kind}'s update rule from the lesson, coordinate by coordinate"


def _case_check(exercise_id: str, fn: Callable[..., Any]) -> None:
    __tracebackhide__ = True
    from .cases import SHEET_MODULES, run_check, sheet_exercises

    everything: dict = {}
    for sheet in SHEET_MODULES:
        everything.update(sheet_exercises(sheet) or {})
    run_check(everything[exercise_id], fn)


def check_adagrad_accumulate(adagrad_accumulate: Callable[..., Any]) -> None:
    """``adagrad_accumulate(s, g)`` returns the new sum of squared gradients ``s + g**2``."""
    __tracebackhide__ = True
    _case_check("adagrad_accumulate", adagrad_accumulate)


def check_adagrad_step(adagrad_step: Callable[..., Any]) -> None:
    """``adagrad_step(p, g, s, lr, eps=1e-10)`` returns ``(p, s)`` after one AdaGrad step
    (``s + g**2`` first, then ``p - lr * g / (sqrt(s) + eps)``)."""
    __tracebackhide__ = True
    _case_check("adagrad_step", adagrad_step)


def check_run_adagrad(run_adagrad: Callable[..., Any]) -> None:
    """``run_adagrad(objective, x0, lr, steps, eps=1e-10)`` returns the points visited by
    AdaGrad, shape ``(steps + 1, dim)``, like ``course_lib.minimize(..., AdaGrad(lr, eps))``."""
    __tracebackhide__ = True
    _case_check("run_adagrad", run_adagrad)


# --- lesson 05: RMSprop ---------------------------------------------------------------------

# Sheet 05's checks are case definitions too (course_lib/cases/sheet05.py).

def check_rmsprop_average(rmsprop_average: Callable[..., Any]) -> None:
    """``rmsprop_average(v, g, beta)`` returns ``beta * v + (1 - beta) * g**2``."""
    __tracebackhide__ = True
    _case_check("rmsprop_average", rmsprop_average)


def check_rmsprop_step(rmsprop_step: Callable[..., Any]) -> None:
    """``rmsprop_step(p, g, v, lr, beta=0.9, eps=1e-8)`` returns ``(p, v)`` after one RMSprop
    step (eps outside the square root, as in torch)."""
    __tracebackhide__ = True
    _case_check("rmsprop_step", rmsprop_step)


def check_rmsprop_effective_lr(rmsprop_effective_lr: Callable[..., Any]) -> None:
    """``rmsprop_effective_lr(v, lr, eps=1e-8)`` returns each coordinate's rate
    ``lr / (sqrt(v) + eps)``."""
    __tracebackhide__ = True
    _case_check("rmsprop_effective_lr", rmsprop_effective_lr)


def check_run_rmsprop(run_rmsprop: Callable[..., Any]) -> None:
    """``run_rmsprop(objective, x0, lr, steps, beta=0.9, eps=1e-8)`` returns the points
    visited, like ``course_lib.minimize(..., RMSprop(lr, beta, eps))``."""
    __tracebackhide__ = True
    _case_check("run_rmsprop", run_rmsprop)


# --- lesson 06: mini-batches ----------------------------------------------------------------

def check_count_batches(count_batches: Callable[..., Any]) -> None:
    """``count_batches(n_samples, batch_size)`` returns the number of mini-batches in one
    epoch, the short last one included."""
    __tracebackhide__ = True
    run = Runner("count_batches", count_batches)
    cases = {
        "640 samples in batches of 32": (640, 32),
        "10 samples in batches of 3 (a short last batch)": (10, 3),
        "a batch larger than the data": (5, 10),
        "a single sample": (1, 1),
        "the diamonds training set in batches of 512": (43152, 512),
        "no samples": (0, 4),
    }
    for case, (n, batch_size) in cases.items():
        got = run.call(case, n, batch_size)
        expected = n_batches(n, batch_size)
        if isinstance(got, bool) or not isinstance(got, (Integral, np.integer)):
            run.fail(case, f"the integer {expected}", f"{_show(got)} ({type(got).__name__})",
                     "a number of batches is an int; np.ceil and / give floats")
        if int(got) != expected:
            floor = n // batch_size
            run.fail(case, str(expected), str(int(got)),
                     "the short last batch counts too: round the division up"
                     if int(got) == floor else "one batch per batch_size samples, rounded up")
    run.passed()


def _batches(result: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(xb), np.asarray(yb)) for xb, yb in result]


def check_minibatch_iterator(minibatch_iterator: Callable[..., Any]) -> None:
    """``minibatch_iterator(X, y, batch_size, rng)`` yields ``(X_batch, y_batch)`` pairs that
    cover one epoch shuffled by ``rng.permutation(len(X))``, as ``course_lib.minibatches``."""
    __tracebackhide__ = True
    run = Runner("minibatch_iterator", minibatch_iterator)
    cases = {
        "10 samples in batches of 4 (a short last batch)": (10, 1, 4, 0),
        "a batch larger than the data": (5, 1, 8, 1),
        "a single sample": (1, 1, 1, 2),
        "three features, batches of 16": (50, 3, 16, 3),
        "1-D X": (7, 0, 2, 4),
    }
    for case, (n, features, batch_size, seed) in cases.items():
        # Row i of X holds i in every column, and y_i = 10 i: a batch shows which rows it took.
        X = np.arange(n, dtype=float) if features == 0 else \
            np.repeat(np.arange(n, dtype=float)[:, None], features, axis=1)
        y = 10.0 * np.arange(n)
        X_in, y_in = X.copy(), y.copy()
        got = run.call(case, X_in, y_in, batch_size, np.random.default_rng(seed),
                       consume=_batches)
        sizes = [len(yb) for _, yb in got]
        expected_sizes = [min(batch_size, n - start) for start in range(0, n, batch_size)]
        if sizes != expected_sizes:
            run.fail(case, f"batches of sizes {expected_sizes}", f"sizes {sizes}",
                     "slice the shuffled indices in steps of batch_size; the last slice keeps "
                     "whatever is left")
        rows = np.concatenate([yb for _, yb in got]) / 10.0
        if sorted(rows.tolist()) != list(range(n)):
            run.fail(case, "every sample exactly once per epoch", f"rows {_show(rows)}",
                     "take the rows at the positions of one permutation of 0..n-1")
        for xb, yb in got:
            first = xb if xb.ndim == 1 else xb[:, 0]
            if xb.shape[1:] != X.shape[1:] or not np.array_equal(first * 10.0, yb):
                run.fail(case, "each X row to stay with its y value",
                         f"X rows {_show(first)} with y {_show(yb)}",
                         "index X and y with the same indices")
        reference = [yb for _, yb in minibatches(X, y, batch_size, np.random.default_rng(seed))]
        if not all(np.array_equal(a, b) for a, b in zip(reference, (yb for _, yb in got),
                                                         strict=True)):
            run.fail(case, "the order of rng.permutation(len(X))",
                     f"y batches {_show([yb for _, yb in got])}",
                     "shuffle with one call to rng.permutation(len(X)) per epoch, using the rng "
                     "you were given")
        run.expect_unchanged(case, "X", X, X_in)
    case = "two epochs from one generator are shuffled differently"
    X, y = np.arange(12, dtype=float), 10.0 * np.arange(12)
    rng, ref_rng = np.random.default_rng(5), np.random.default_rng(5)
    for epoch in (1, 2):
        got = run.call(case, X, y, 5, rng, consume=_batches)
        ref = [yb for _, yb in minibatches(X, y, 5, ref_rng)]
        if not all(np.array_equal(a, yb) for a, (_, yb) in zip(ref, got, strict=False)):
            run.fail(case, f"epoch {epoch} to use the generator's next permutation",
                     f"y batches {_show([yb for _, yb in got])}",
                     "draw the permutation from the rng you are given, inside the function, "
                     "every time it is called")
    run.passed()


def check_rmse_dollars(rmse_dollars: Callable[..., Any]) -> None:
    """``rmse_dollars(y_true, y_pred, price_std)`` returns the RMSE of standardized prices,
    converted back to dollars."""
    __tracebackhide__ = True
    run = Runner("rmse_dollars", rmse_dollars)
    cases = {
        "perfect predictions": (_array([0.5, -1.0]), _array([0.5, -1.0]), 4000.0),
        "errors of +1 and -1 standard deviation": (_array([0.0, 0.0]), _array([1.0, -1.0]),
                                                   100.0),
        "a single sample": (_array([1.0]), _array([0.5]), 2000.0),
        "uneven errors": (_array([0.0, 1.0, 2.0, 3.0]), _array([0.5, 1.0, 1.0, 3.0]), 3989.4),
        "float32": (_array([0.1, 0.2], np.float32), _array([0.3, 0.1], np.float32), 3989.4),
    }
    for case, (y_true, y_pred, std) in cases.items():
        got = run.call(case, y_true.copy(), y_pred.copy(), std)
        value = run.expect_number(case, got, "an RMSE in dollars", "return one number")
        residual = y_pred.astype(float) - y_true.astype(float)
        expected = std * math.sqrt(float(np.mean(residual**2)))
        if not math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-6):
            mse = float(np.mean(residual**2))
            hint = ("a standardized error of 1 is one standard deviation: multiply by price_std"
                    if math.isclose(value, expected / std, rel_tol=1e-6) else
                    "take the square root of the mean squared error"
                    if math.isclose(value, std * mse, rel_tol=1e-6)
                    or math.isclose(value, std**2 * mse, rel_tol=1e-6) else
                    "the mean price cancels in a difference; only the standard deviation "
                    "converts the scale")
            run.fail(case, f"{expected:.6g}", _show(value), hint)
    run.passed()


@lru_cache(maxsize=1)
def _diamonds_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Standardized carat -> price, split 80/20 with a fixed seed (the check's own split)."""
    from .data import load_diamonds

    diamonds = load_diamonds()
    carat = diamonds["carat"].to_numpy(dtype=float)
    price = diamonds["price"].to_numpy(dtype=float)
    order = np.random.default_rng(2024).permutation(len(price))
    test, train = order[: len(price) // 5], order[len(price) // 5:]
    x_mean, x_std = carat[train].mean(), carat[train].std()
    y_mean, y_std = price[train].mean(), price[train].std()
    X = ((carat - x_mean) / x_std)[:, None]
    y = (price - y_mean) / y_std
    return X[train], y[train], X[test], y[test], float(y_std)


#: The test RMSE (dollars) the diamonds case of ``check_train_line`` must reach; the
#: least-squares line gets about $1,550 on the check's split, predicting the mean $4,000.
DIAMONDS_RMSE_THRESHOLD = 1600.0


def check_train_line(train_line: Callable[..., Any]) -> None:
    """``train_line(X, y, lr, epochs, batch_size, seed)`` fits ``y ~ w x + b`` with mini-batch
    RMSprop on the half-MSE from ``w = b = 0`` and returns ``(w, b)``, as
    ``course_lib.fit(LinearRegression(loss="half_mse"), ..., RMSprop(lr), epochs, batch_size,
    seed)`` does."""
    __tracebackhide__ = True
    run = Runner("train_line", train_line)
    rng = np.random.default_rng(8)
    x_small = rng.normal(size=(10, 1))
    y_small = 0.8 * x_small[:, 0] - 0.3 + 0.1 * rng.normal(size=10)
    cases = {
        "10 samples, batches of 4 (a short last batch), 3 epochs": (x_small, y_small, 0.05, 3,
                                                                    4, 0),
        "full batch, 5 epochs": (x_small, y_small, 0.1, 5, 10, 1),
        "one sample per batch, 2 epochs": (x_small, y_small, 0.01, 2, 1, 2),
    }
    hint = ("shuffle with ONE np.random.default_rng(seed) made before the epoch loop, use the "
            "half-MSE gradient of the batch, RMSprop with beta = 0.9 and eps = 1e-8, and start "
            "at w = b = 0")
    for case, (X, y, lr, epochs, batch_size, seed) in cases.items():
        model = LinearRegression(n_features=1, loss="half_mse")
        fit(model, X, y, RMSprop(lr=lr), epochs=epochs, batch_size=batch_size, seed=seed)
        got = run.call(case, X.copy(), y.copy(), lr, epochs, batch_size, seed)
        w, b = run.expect_pairs(case, got, 2, "(w, b)")
        line = np.array([run.scalar(case, w, "w", hint), run.scalar(case, b, "b", hint)])
        run.expect_close(case, line, np.array([model.weights[0], model.bias]), hint,
                         name="(w, b)", rtol=1e-6, atol=1e-9)
    case = "the same seed gives the same line"
    lines = []
    for _ in range(2):
        got = run.call(case, x_small.copy(), y_small.copy(), 0.05, 2, 3, 7)
        w, b = run.expect_pairs(case, got, 2, "(w, b)")
        lines.append((run.scalar(case, w, "w", hint), run.scalar(case, b, "b", hint)))
    if lines[0] != lines[1]:
        run.fail(case, f"{_show(lines[0])} twice", f"{_show(lines[0])}, then {_show(lines[1])}",
                 "take all randomness from np.random.default_rng(seed)")
    case = "diamonds (standardized carat -> price), 2 epochs of 256"
    X_train, y_train, X_test, y_test, price_std = _diamonds_split()
    got = run.call(case, X_train.copy(), y_train.copy(), 0.01, 2, 256, 0)
    w, b = run.expect_pairs(case, got, 2, "(w, b)")
    w, b = run.scalar(case, w, "w", hint), run.scalar(case, b, "b", hint)
    rmse = price_std * math.sqrt(float(np.mean((w * X_test[:, 0] + b - y_test) ** 2)))
    if not rmse <= DIAMONDS_RMSE_THRESHOLD:
        run.fail(case, f"a test RMSE below ${DIAMONDS_RMSE_THRESHOLD:,.0f}",
                 f"${rmse:,.0f} with w = {w:.4g}, b = {b:.4g}", hint)
    run.passed()


# --- lesson 08: RMSprop and relatives -------------------------------------------------------

def check_momentum_step(momentum_step: Callable[..., Any]) -> None:
    """``momentum_step(p, g, buf, lr, momentum=0.9)`` returns ``(p, buf)`` with
    ``buf = momentum * buf + g`` and ``p = p - lr * buf`` (torch's convention)."""
    __tracebackhide__ = True
    run = Runner("momentum_step", momentum_step)
    cases = {
        "the first step (buf = 0) is a plain gradient step": (_array([1.0, 2.0]),
                                                              _array([0.5, -1.0]), np.zeros(2),
                                                              0.1, 0.9),
        "a later step": (_array([1.0, 2.0]), _array([0.5, -1.0]), _array([2.0, 1.0]), 0.1, 0.9),
        "momentum = 0 is gradient descent": (_array([1.0]), _array([3.0]), _array([5.0]), 0.5,
                                             0.0),
        "zero gradient: the velocity keeps moving p": (_array([0.0, 0.0]), np.zeros(2),
                                                       _array([1.0, -2.0]), 0.1, 0.9),
        "float32": (_array([1.0, -1.0], np.float32), _array([0.2, 0.3], np.float32),
                    _array([0.1, 0.0], np.float32), 0.01, 0.9),
    }
    for case, (p, g, buf, lr, mu) in cases.items():
        p_in, g_in, buf_in = p.copy(), g.copy(), buf.copy()
        got = run.call(case, p_in, g_in, buf_in, lr, momentum=mu)
        got_p, got_buf = run.expect_pairs(case, got, 2, "(p, buf)")
        buf_new = mu * buf + g
        run.expect_close(
            case, got_buf, buf_new, "the velocity decays by `momentum` and adds the new gradient",
            name="buf", dtype=buf.dtype.type,
            diagnose=lambda a, buf=buf, g=g, mu=mu: (
                "this course uses torch's form: the gradient enters the velocity without a "
                "(1 - momentum) factor"
                if _same(a, mu * buf + (1 - mu) * g) else None))
        run.expect_close(case, got_p, p - lr * buf_new, "p moves by lr times the NEW velocity",
                         name="p", dtype=p.dtype.type,
                         diagnose=lambda a, p=p, buf=buf, lr=lr: (
                             "use the updated velocity, not the old one"
                             if _same(a, p - lr * buf) else None))
        run.expect_unchanged(case, "p", p, p_in)
        run.expect_unchanged(case, "buf", buf, buf_in)
    case = "ten steps on a valley, against course_lib.optim.SGD(momentum=0.9)"
    valley = ill_conditioned_quadratic(10.0)
    p, buf, q = _array([-4.0, 3.0]), np.zeros(2), _array([-4.0, 3.0])
    reference = SGD(lr=0.05, momentum=0.9)
    for _ in range(10):
        got = run.call(case, p, valley.grad(p), buf, 0.05, momentum=0.9)
        p, buf = (np.asarray(x, dtype=float) for x in run.expect_pairs(case, got, 2, "(p, buf)"))
        reference.step(q, valley.grad(q))
    run.expect_close(case, p, q, "each call starts from the p and buf returned by the one before",
                     name="p after 10 steps")
    run.passed()


def check_adam_step(adam_step: Callable[..., Any]) -> None:
    """``adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8)`` returns
    ``(p, m, v)`` after Adam's step number ``t`` (counting from 1), with bias correction."""
    __tracebackhide__ = True
    run = Runner("adam_step", adam_step)
    cases = {
        "the first step (t = 1) moves each coordinate by about lr": (
            _array([1.0, -2.0]), _array([0.3, -40.0]), np.zeros(2), np.zeros(2), 1, 0.1,
            0.9, 0.999, 1e-8),
        "a later step (t = 5)": (_array([1.0, 2.0]), _array([0.5, -1.0]), _array([0.2, -0.1]),
                                 _array([0.3, 0.2]), 5, 0.01, 0.9, 0.999, 1e-8),
        "zero gradient at t = 1": (_array([1.0, 2.0]), _array([0.0, 1.0]), np.zeros(2),
                                   np.zeros(2), 1, 0.1, 0.9, 0.999, 1e-8),
        "beta1 = 0 (no momentum)": (_array([1.0]), _array([2.0]), _array([0.5]), _array([1.0]),
                                    3, 0.1, 0.0, 0.99, 1e-8),
        "a large eps (0.5)": (_array([1.0]), _array([2.0]), _array([0.1]), _array([5.0]), 2, 1.0,
                              0.9, 0.999, 0.5),
        "float32": (_array([1.0, -1.0], np.float32), _array([0.2, 0.3], np.float32),
                    _array([0.1, 0.0], np.float32), _array([0.01, 0.0], np.float32), 2, 0.01,
                    0.9, 0.999, 1e-8),
    }
    for case, (p, g, m, v, t, lr, b1, b2, eps) in cases.items():
        p_in, g_in, m_in, v_in = p.copy(), g.copy(), m.copy(), v.copy()
        got = run.call(case, p_in, g_in, m_in, v_in, t, lr, beta1=b1, beta2=b2, eps=eps)
        got_p, got_m, got_v = run.expect_pairs(case, got, 3, "(p, m, v)")
        m_new = b1 * m + (1 - b1) * g
        v_new = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m_new / (1 - b1**t), v_new / (1 - b2**t)
        p_new = p - lr * m_hat / (np.sqrt(v_hat) + eps)

        def diagnose(a: np.ndarray, p=p, lr=lr, eps=eps, m_new=m_new, v_new=v_new,
                     m_hat=m_hat, v_hat=v_hat, t=t, b1=b1, b2=b2) -> str | None:
            with np.errstate(all="ignore"):
                if _same(a, p - lr * m_new / (np.sqrt(v_new) + eps)):
                    return "divide m and v by 1 - beta1**t and 1 - beta2**t (bias correction)"
                if t > 1 and _same(a, p - lr * (m_new / (1 - b1 ** (t - 1))) / (
                        np.sqrt(v_new / (1 - b2 ** (t - 1))) + eps)):
                    return "use the step number t as given (it already counts from 1)"
                if _same(a, p - lr * m_hat / np.sqrt(v_hat + eps)):
                    return "this course adds eps outside the square root, after the correction"
            return None

        run.expect_close(case, got_m, m_new, "m is the EWMA of the gradients", name="m",
                         dtype=m.dtype.type)
        run.expect_close(case, got_v, v_new, "v is the EWMA of the squared gradients", name="v",
                         dtype=v.dtype.type)
        run.expect_close(case, got_p, p_new, _step_cases_hint("Adam"), name="p",
                         dtype=p.dtype.type, diagnose=diagnose)
        for name, before, after in (("p", p, p_in), ("m", m, m_in), ("v", v, v_in)):
            run.expect_unchanged(case, name, before, after)
    case = "twenty steps on a valley, against course_lib.optim.Adam"
    valley = rotated_quadratic(10.0, 30.0)
    p, m, v, q = _array([2.0, -1.0]), np.zeros(2), np.zeros(2), _array([2.0, -1.0])
    reference = Adam(lr=0.1)
    for t in range(1, 21):
        got = run.call(case, p, valley.grad(p), m, v, t, 0.1)
        p, m, v = (np.asarray(x, dtype=float)
                   for x in run.expect_pairs(case, got, 3, "(p, m, v)"))
        reference.step(q, valley.grad(q))
    run.expect_close(case, p, q, "each call starts from the p, m and v returned by the one "
                     "before, with t = 1, 2, 3, ...", name="p after 20 steps")
    run.passed()


def check_lr_sweep(lr_sweep: Callable[..., Any]) -> None:
    """``lr_sweep(make_optimizer, lrs, objective, x0, steps)`` returns one final loss per
    learning rate (``np.inf`` where the run diverged), as ``course_lib.minimize`` gives."""
    __tracebackhide__ = True
    run = Runner("lr_sweep", lr_sweep)
    cases: dict[str, tuple[Callable[[float], Any], list[float], Any, list[float], int]] = {
        "RMSprop on Rosenbrock, three rates": (lambda lr: RMSprop(lr=lr), [1e-3, 1e-2, 1e-1],
                                               Rosenbrock(), [-1.5, 2.0], 100),
        "Adam on a rotated valley": (lambda lr: Adam(lr=lr), [0.3, 0.03], rotated_quadratic(),
                                     [2.0, -1.0], 50),
        "a single learning rate": (lambda lr: SGD(lr=lr), [0.1], ill_conditioned_quadratic(4.0),
                                   [1.0, 1.0], 20),
        "gradient descent that diverges at the larger rate": (
            lambda lr: SGD(lr=lr), [0.05, 0.5], ill_conditioned_quadratic(10.0), [1.0, 1.0],
            300),
    }
    for case, (make, lrs, objective, x0, steps) in cases.items():
        with _quietly():  # minimize prints a line when a run diverges
            runs = [minimize(objective, make(lr), _array(x0), steps) for lr in lrs]
        expected = np.array([np.inf if r.stopped else r.losses[-1] for r in runs])
        got = run.call(case, make, list(lrs), objective, _array(x0), steps)
        with np.errstate(all="ignore"):
            run.expect_close(
                case, got, expected,
                "one final loss per learning rate, in the order given: the loss at the last "
                "point of each run", name="final losses", rtol=1e-9, atol=1e-12,
                diagnose=lambda a, e=expected: (
                    "a run that diverged (its trajectory has `stopped` set) must count as np.inf"
                    if np.isinf(e).any() and not np.isinf(a).any() else None))
    run.passed()


#: exercise id -> its check, for tools (the grader, the tests).
CHECKS: dict[str, Callable[[Any], None]] = {
    name.removeprefix("check_"): obj
    for name, obj in dict(globals()).items()
    if name.startswith("check_") and callable(obj)
}
