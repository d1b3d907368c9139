"""The exercise checks: they pass the reference answers, fail wrong ones with a useful one-line
message, treat NotAttempted as "not attempted", and ignore whatever the learner's code prints."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

import course_lib as cl
from course_lib import checks
from course_lib.checks import CHECKS, CheckFailed, NotAttempted
from course_tools.sheet_format import CODE_BEGIN, CODE_END, course_meta

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def _solution_answers() -> tuple[dict[str, Callable[..., Any]], dict[str, list[str]]]:
    """Every exercise's reference function, defined by running each solution sheet's set-up
    cell and answer cells (not its other cells), and the lines of each answer region."""
    functions: dict[str, Callable[..., Any]] = {}
    regions: dict[str, list[str]] = {}
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        namespace: dict[str, Any] = {}
        for cell in nb.cells:
            meta = course_meta(cell)
            is_setup = cell.cell_type == "code" and not meta and "course_lib.checks" in cell.source
            if is_setup or meta.get("role") == "answer":
                code = "\n".join(line for line in cell.source.splitlines()
                                 if not line.lstrip().startswith("%"))
                exec(compile(code, f"{path.name}", "exec"), namespace)  # noqa: S102
            if meta.get("role") == "answer":
                inside, lines = False, regions.setdefault(meta["exercise"], [])
                for line in cell.source.splitlines():
                    if line.strip() in (CODE_BEGIN, CODE_END):
                        inside = line.strip() == CODE_BEGIN
                    elif inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
                        lines.append(line.strip())
        for exercise in {course_meta(c).get("exercise") for c in nb.cells} - {None}:
            if exercise in namespace:
                functions[exercise] = namespace[exercise]
    return functions, regions


REFERENCE, SOLUTION_LINES = _solution_answers()
CODE_EXERCISES = sorted(CHECKS)


def test_every_check_has_a_reference_answer_named_like_its_exercise() -> None:
    assert set(CHECKS) <= set(REFERENCE), set(CHECKS) - set(REFERENCE)
    for exercise, check in CHECKS.items():
        assert check.__name__ == f"check_{exercise}"
        assert check.__doc__, f"check_{exercise} needs a docstring"


@pytest.mark.parametrize("exercise", CODE_EXERCISES)
def test_reference_answer_passes_with_exactly_one_line(exercise: str, capsys) -> None:
    CHECKS[exercise](REFERENCE[exercise])
    out, err = capsys.readouterr()
    assert re.fullmatch(rf"\[{exercise}\] passed: (\d+)/\1 cases\n", out), out
    assert int(re.search(r"(\d+)/", out).group(1)) >= 4, "a check needs several cases"
    assert err == ""


@pytest.mark.parametrize("exercise", CODE_EXERCISES)
def test_not_attempted_is_reraised(exercise: str) -> None:
    def unfinished(*args: Any, **kwargs: Any) -> Any:
        raise NotAttempted(exercise)

    with pytest.raises(NotAttempted) as info:
        CHECKS[exercise](unfinished)
    assert str(info.value) == (
        f"exercise {exercise} is not attempted yet: replace the `raise NotAttempted(...)` line "
        f"with your code"
    )
    assert info.value.exercise_id == exercise


@pytest.mark.parametrize("exercise", CODE_EXERCISES)
def test_another_exercise_not_attempted_is_a_failure_naming_it(exercise: str) -> None:
    def uses_unfinished(*args: Any, **kwargs: Any) -> Any:
        raise NotAttempted("some_helper")

    with pytest.raises(CheckFailed, match=r"uses exercise some_helper, which is not attempted"):
        CHECKS[exercise](uses_unfinished)


@pytest.mark.parametrize("exercise", CODE_EXERCISES)
def test_learner_exception_is_one_line_naming_case_and_error(exercise: str) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        return {}["no such key"]

    with pytest.raises(CheckFailed) as info:
        CHECKS[exercise](broken)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"[{exercise}] case '")
    assert "your code raised KeyError: 'no such key'" in message
    assert isinstance(info.value.__cause__, KeyError)  # the learner's traceback is kept


@pytest.mark.parametrize("exercise", CODE_EXERCISES)
def test_learner_prints_warnings_and_figures_are_captured(exercise: str, capsys) -> None:
    reference = REFERENCE[exercise]

    def noisy(*args: Any, **kwargs: Any) -> Any:
        import sys

        print("debugging output")
        print("to stderr", file=sys.stderr)
        warnings.warn("a learner's warning", UserWarning, stacklevel=1)
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        plt.figure()
        plt.plot([1, 2])
        plt.show()
        return reference(*args, **kwargs)

    figures_before = plt.get_fignums()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CHECKS[exercise](noisy)
    out, err = capsys.readouterr()
    assert re.fullmatch(rf"\[{exercise}\] passed: (\d+)/\1 cases\n", out), out
    assert err == ""
    assert [str(w.message) for w in caught] == []
    assert plt.get_fignums() == figures_before


def test_not_a_function_is_a_clear_failure() -> None:
    with pytest.raises(CheckFailed, match=r"expected your function `gd_step` itself, got 3"):
        checks.check_gd_step(3)  # type: ignore[arg-type]


def test_no_return_is_explained() -> None:
    def forgot(p, g, lr):
        p - lr * g  # noqa: B018

    with pytest.raises(CheckFailed, match=r"got None\. Hint: the function has no `return`"):
        checks.check_gd_step(forgot)


def _inplace_gd(p, g, lr):
    p -= lr * g
    return p


def _gd_copies_missing(grad, x0, lr, steps):
    p = np.array(x0, dtype=float)
    path = [p]
    for _ in range(steps):
        p -= lr * grad(p)
        path.append(p)
    return np.array(path)


def _ewma_no_correction(xs, beta, bias_correction=False):
    return cl.ewma(xs, beta)


def _ewma_from_first(xs, beta, bias_correction=False):
    v, out = xs[0], []
    for t, x in enumerate(xs, start=1):
        v = beta * v + (1 - beta) * x
        out.append(v / (1 - beta**t) if bias_correction else v)
    return np.array(out)


def _batches_in_file_order(X, y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]


def _batches_dropping_last(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]


def _batches_unpaired(X, y, batch_size, rng):
    rows_x, rows_y = rng.permutation(len(X)), rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield X[rows_x[start:start + batch_size]], y[rows_y[start:start + batch_size]]


def _train_new_rng_each_epoch(X, y, lr, epochs, batch_size, seed):
    p, v = np.zeros(2), np.zeros(2)
    for _ in range(epochs):
        for xb, yb in cl.minibatches(X[:, 0], y, batch_size, np.random.default_rng(seed)):
            error = p[0] * xb + p[1] - yb
            g = np.array([np.mean(error * xb), np.mean(error)])
            v = 0.9 * v + 0.1 * g**2
            p = p - lr * g / (np.sqrt(v) + 1e-8)
    return p[0], p[1]


def _adam_without_correction(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return p - lr * m / (np.sqrt(v) + eps), m, v


def _sweep_losses_only(make_optimizer, lrs, objective, x0, steps):
    return np.array([cl.minimize(objective, make_optimizer(lr), x0, steps).losses[-1] * 0 + 1
                     for lr in lrs])


def _sweep_nan_for_divergence(make_optimizer, lrs, objective, x0, steps):
    runs = [cl.minimize(objective, make_optimizer(lr), x0, steps) for lr in lrs]
    return np.array([np.nan if r.stopped else r.losses[-1] for r in runs])


#: (exercise, wrong answer, fragments its failure message must contain)
WRONG: list[tuple[str, Callable[..., Any], list[str]]] = [
    ("gd_step", lambda p, g, lr: p + lr * g, ["case 'one step on two parameters'",
                                             "expected p = [0.95, -1.6]", "got p = [1.05, -2.4]",
                                             "uphill"]),
    ("gd_step", lambda p, g, lr: p - g, ["scaled by lr"]),
    ("gd_step", _inplace_gd, ["left unchanged", "in place"]),
    ("gd_step", lambda p, g, lr: np.array(p - lr * g, dtype=float),
     ["case 'float32 parameters'", "dtype float32", "got dtype float64"]),
    ("mse_gradient", lambda X, y, w, b: (X.T @ (X @ w + b - y) / len(y), np.mean(X @ w + b - y)),
     ["expected grad_w = [-8]", "got grad_w = [-4]", "half the MSE"]),
    ("mse_gradient", lambda X, y, w, b: (2 * X.T @ (X @ w + b - y), 2 * np.sum(X @ w + b - y)),
     ["divide the sum by the number of samples"]),
    ("mse_gradient", lambda X, y, w, b: X.T @ (X @ w + b - y),
     ["expected a tuple (grad_w, grad_b)"]),
    ("choose_lr", lambda A: 2 / np.linalg.eigvalsh(A).max(),
     ["expected a learning rate in [0.03333, 0.3333)", "flips sign forever"]),
    ("choose_lr", lambda A: 2 / np.abs(A).max(), ["got 0.4", "diverges", "grows by 1.4"]),
    ("choose_lr", lambda A: 1e-4, ["stable, but", "stay close to it"]),
    ("choose_lr", lambda A: np.linalg.eigvalsh(A) / 10, ["single number", "shape (2,)"]),
    ("gradient_descent", _gd_copies_missing, ["all rows are the same array"]),
    ("gradient_descent", lambda grad, x0, lr, steps: np.zeros((steps, len(x0))),
     ["expected points of shape (21, 2)", "got shape (20, 2)"]),
    ("ewma_update", lambda v, x, beta: (1 - beta) * v + beta * x,
     ["case 'beta = 0 keeps only the new value'", "expected v = -3, got v = 7", "swapped"]),
    ("ewma_series", _ewma_no_correction, ["bias correction", "divide each v_t by 1 - beta**t"]),
    ("ewma_series", _ewma_from_first, ["start from v_0 = 0"]),
    ("choose_beta", lambda noise, target, half: 0.9, ["noise 1.0 down to 0.2",
                                                       "more smoothing needs a larger beta"]),
    ("choose_beta", lambda noise, target, half: 0.99, ["half-life is 68.97 steps"]),
    ("choose_beta", lambda noise, target, half: 1.5, ["a decay rate is in [0, 1)"]),
    ("adagrad_accumulate", lambda s, g: s + g, ["square the gradient"]),
    ("adagrad_accumulate", lambda s, g: g**2, ["keeps the past"]),
    ("adagrad_step", lambda p, g, s, lr, eps=1e-10: (p - lr * g / (np.sqrt(s) + eps), s + g * g),
     ["add the new g**2 to s before dividing"]),
    ("adagrad_step", lambda p, g, s, lr, eps=1e-10: (p - lr * g / np.sqrt(s + g * g + eps),
                                                     s + g * g),
     ["case 'a large eps (0.5)'", "eps outside the square root"]),
    ("adagrad_step", lambda p, g, s, lr, eps=1e-10: p, ["expected a tuple (p, s)"]),
    ("run_adagrad", lambda objective, x0, lr, steps, eps=1e-10: REFERENCE["run_adagrad"](
        objective, x0, lr, steps), ["case 'a large eps (0.5)'"]),
    ("run_adagrad", lambda objective, x0, lr, steps, eps=1e-10: REFERENCE["gradient_descent"](
        objective.grad, x0, lr, steps), ["expected points", "start from s = 0"]),
    ("rmsprop_average", lambda v, g, beta: beta * v + (1 - beta) * g,
     ["average the squared gradient"]),
    ("rmsprop_step", lambda p, g, v, lr, beta=0.9, eps=1e-8: (p - lr * g / (np.sqrt(v) + eps),
                                                              beta * v + (1 - beta) * g * g),
     ["update v with the new gradient before dividing"]),
    ("rmsprop_step", lambda p, g, v, lr, beta=0.9, eps=1e-8: REFERENCE["rmsprop_step"](p, g, v, lr),
     ["case 'beta = 0.99 (torch's default)'", "expected v = [0.000189613]",
      "use the beta passed"]),
    ("rmsprop_effective_lr", lambda v, lr, eps=1e-8: lr / np.sqrt(v + eps),
     ["eps outside the square root"]),
    ("run_rmsprop", lambda objective, x0, lr, steps, beta=0.9, eps=1e-8: REFERENCE["run_rmsprop"](
        objective, x0, lr, steps), ["case 'x/log(x) from 364, beta = 0.99'", "[361"]),
    ("count_batches", lambda n, b: n // b, ["expected 4, got 3", "round the division up"]),
    ("count_batches", lambda n, b: np.ceil(n / b), ["the integer 20", "float64"]),
    ("minibatch_iterator", _batches_in_file_order, ["rng.permutation(len(X))"]),
    ("minibatch_iterator", _batches_dropping_last, ["batches of sizes [4, 4, 2]", "sizes [4, 4]"]),
    ("minibatch_iterator", _batches_unpaired, ["each X row to stay with its y value"]),
    ("rmse_dollars", lambda y_true, y_pred, std: float(np.sqrt(np.mean((y_pred - y_true) ** 2))),
     ["expected 100, got 1", "multiply by price_std"]),
    ("rmse_dollars", lambda y_true, y_pred, std: std * float(np.mean((y_pred - y_true) ** 2)),
     ["square root"]),
    ("train_line", _train_new_rng_each_epoch, ["case '10 samples, batches of 4",
                                               "ONE np.random.default_rng(seed)"]),
    ("train_line", lambda X, y, lr, epochs, batch_size, seed: (0.0, 0.0), ["expected (w, b)"]),
    ("momentum_step", lambda p, g, buf, lr, momentum=0.9: (
        p - lr * (momentum * buf + (1 - momentum) * g), momentum * buf + (1 - momentum) * g),
     ["without a (1 - momentum) factor"]),
    ("momentum_step", lambda p, g, buf, lr, momentum=0.9: (p - lr * buf, momentum * buf + g),
     ["use the updated velocity"]),
    ("adam_step", _adam_without_correction, ["case 'the first step (t = 1)", "bias correction"]),
    ("lr_sweep", _sweep_losses_only, ["expected final losses", "the loss at the last point"]),
    ("lr_sweep", _sweep_nan_for_divergence, ["case 'gradient descent that diverges",
                                             "must count as np.inf"]),
]


@pytest.mark.parametrize(("exercise", "wrong", "fragments"), WRONG,
                         ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(WRONG)])
def test_wrong_answer_fails_with_a_useful_one_line_message(
    exercise: str, wrong: Callable[..., Any], fragments: list[str]
) -> None:
    with pytest.raises(CheckFailed) as info:
        CHECKS[exercise](wrong)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"[{exercise}] ")
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    if "case '" in message:
        assert "expected" in message and ", got " in message and "Hint: " in message
    for line in SOLUTION_LINES[exercise]:  # the message never shows the solution's code
        assert line not in message, line


def test_every_check_is_exercised_by_several_wrong_answers() -> None:
    counts = {exercise: sum(e == exercise for e, _, _ in WRONG) for exercise in CHECKS}
    assert all(n >= 1 for n in counts.values()), counts
    assert sum(n >= 2 for n in counts.values()) >= len(CHECKS) // 2


def test_not_attempted_message_and_copy_keep_the_id() -> None:
    import copy
    import pickle

    error = NotAttempted("adagrad_step")
    assert copy.copy(error).exercise_id == "adagrad_step"
    assert pickle.loads(pickle.dumps(error)).exercise_id == "adagrad_step"
    assert issubclass(CheckFailed, AssertionError)


# --- what a learner's traceback shows --------------------------------------------------------

_IPYTHON_RUN = r'''
import re
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
shown = []
shell._showtraceback = lambda etype, value, stb: shown.append("\n".join(stb))
shell.run_cell("from course_lib.checks import check_gd_step", store_history=True)
for cell in ["def gd_step(p, g, lr):\n    return p + lr * g\n",
             "check_gd_step(gd_step)  # the check cell",
             "def gd_step(p, g, lr):\n    return p / {}[lr]\n",
             "check_gd_step(gd_step)  # the check cell"]:
    shell.run_cell(cell, store_history=True)
print("\n=====\n".join(re.sub(r"\x1b\[[0-9;]*m", "", text) for text in shown))
'''


def _ipython_tracebacks() -> list[str]:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _IPYTHON_RUN], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return out.split("\n=====\n")


def test_ipython_traceback_ends_at_the_learners_call_not_the_checks_raise_line() -> None:
    pytest.importorskip("IPython")
    wrong, raising = _ipython_tracebacks()
    for text in (wrong, raising):
        assert "raise CheckFailed(" not in text and "course_lib/checks.py" not in text
        assert "check_gd_step(gd_step)  # the check cell" in text
        assert text.rstrip().splitlines()[-1].startswith("CheckFailed: [gd_step] case '")
    assert "expected p = [0.95, -1.6], got p = [1.05, -2.4]" in wrong
    # an error in the learner's code still shows the learner's line that raised it
    assert "----> 2     return p / {}[lr]" in raising
    assert "your code raised KeyError" in raising


def test_rendered_traceback_without_ipython_shell_also_drops_the_check_frames() -> None:
    def gd_step(p, g, lr):
        return p + lr * g

    with pytest.raises(CheckFailed) as info:
        checks.check_gd_step(gd_step)  # this test's own line
    text = "".join(info.value._render_traceback_())
    assert "checks.check_gd_step(gd_step)  # this test's own line" in text
    assert "raise CheckFailed(" not in text and "course_lib/checks.py" not in text
    assert "CheckFailed: [gd_step] case 'one step on two parameters'" in text
    # the default formatting (what the hook replaces) does show the template line
    import traceback

    plain = "".join(traceback.format_exception(info.value))
    assert "raise CheckFailed(" in plain
