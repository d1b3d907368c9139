"""The check behind every exercise sheet's check cells: ``check("exercise_id")``.

``check`` looks the learner's answer up by name in the notebook and runs the exercise's public
cases (its case definitions are in :mod:`course_lib.cases`, one module per sheet, shared with the
grader). It then either

- prints exactly one line, ``[exercise_id] passed: N/N cases`` (a prediction's check then prints
  the gap to the measurement on the next line);
- raises :class:`NotAttempted` when the answer is not written, or its cell has not run yet;
- raises :class:`CheckFailed` with one line naming the case, what was expected, what came back
  and, in levels over repeated failures, the known mistake, a hint and the lesson section (never
  the solution); an exception in the learner's code is reported the same way, chained to the
  original so its traceback still shows the line that failed.

Whatever the learner's code prints, warns or plots while it is being checked is captured and
thrown away, so a check cell's output depends only on whether the cases pass.

The checks' own frames set ``__tracebackhide__``, which IPython and pytest honour: a learner's
traceback shows the check cell and their own code, not the check's lines (which compute the
expected answers). IPython still shows the last hidden frame, the check's ``raise`` line, so
:class:`CheckFailed` renders its own traceback for IPython (``_render_traceback_``) without any
check frame.
"""

from __future__ import annotations

import contextlib
import io
import sys
import traceback
import warnings
from collections.abc import Iterator
from numbers import Integral, Real
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["NotAttempted", "CheckFailed", "check"]


class NotAttempted(Exception):
    """Raised by an exercise that has not been written yet (``raise NotAttempted("id")``)."""

    def __init__(self, exercise_id: str = "?", message: str | None = None) -> None:
        self.exercise_id = exercise_id
        self.message = message
        super().__init__(message or (
            f"exercise {exercise_id} is not attempted yet: replace the "
            f"`raise NotAttempted(...)` line with your code"
        ))

    def __reduce__(self) -> tuple[type, tuple[str, str | None]]:  # keep id and text if copied
        return (type(self), (self.exercise_id, self.message))


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


def _show(value: Any, digits: int = 6) -> str:
    """A short one-line description of a value, for messages (``digits`` significant digits)."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (Real, np.floating)):
        return f"{float(value):.{digits}g}"
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiu":
            return f"an array of dtype {value.dtype} and shape {value.shape}"
        if value.shape == ():
            return _show(value[()], digits)
        text = np.array2string(
            value, separator=", ", threshold=12, edgeitems=3, max_line_width=10**9,
            formatter={"float_kind": lambda x: f"{x:.{digits}g}"},
        )
        suffix = f" ({value.dtype})" if value.dtype == np.float32 else ""
        return " ".join(text.split()) + suffix
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_show(v, digits) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    text = repr(value)
    return _first_line(text, 80) if len(text) <= 80 else f"a {type(value).__name__}"


def check(exercise_id: str, *, sealed: str | None = None) -> None:
    """Check the answer to exercise ``exercise_id`` (the check cell of every sheet).

    The answer is looked up by name in the notebook (the caller's globals): a function for an
    exercise that calls it, a value for a prediction or a setting, a string for a written
    explanation (whose model answer, ``sealed`` in the exercise sheet, is shown only once the
    answer has at least ``MIN_WORDS`` words). A name that is not defined yet means the answer
    cell has not run: the check says so instead of raising ``NameError``.
    """
    __tracebackhide__ = True
    from .cases import find_exercise, run_check

    exercise = find_exercise(exercise_id)
    if exercise is None:
        raise ValueError(f"check: exercise_id must be the id of one of the course's exercises "
                         f"(e.g. 'adagrad_step'), got {exercise_id!r}")
    namespace = sys._getframe(1).f_globals  # the notebook's namespace when called from a cell
    name = exercise.answer_name
    if name not in namespace:
        raise NotAttempted(exercise_id, (
            f"`{name}` is not defined yet: run the answer cell above first (if it still says "
            f"`raise NotAttempted(...)`, write your answer there, then run it)"))
    if exercise.mode == "explain":
        _reveal(exercise_id, name, namespace[name], sealed)
    else:
        run_check(exercise, namespace[name])


def _reveal(exercise_id: str, name: str, text: Any, sealed: str | None) -> None:
    """Count the learner's words; once there are enough, show the model answer."""
    __tracebackhide__ = True
    from .cases import MIN_WORDS, unseal, written_text

    if not isinstance(text, str):
        raise CheckFailed(f"[{exercise_id}] expected `{name}` to be your answer as text between "
                          f"triple quotes, got {_show(text)}.")
    words = len(written_text(text).split())
    if words < MIN_WORDS:
        raise NotAttempted(exercise_id, (
            f"exercise {exercise_id} is not attempted yet: write your answer ({MIN_WORDS} words "
            f"or more) between the triple quotes in the cell above and run it; this cell then "
            f"shows the model answer ({words} words so far)"))
    print(f"[{exercise_id}] written: {words} words (graded by hand)")
    if sealed is None:
        print("This is the solution sheet: the text above is the model answer.")
        return
    model = "**A model answer** (compare it with yours):\n\n" + unseal(sealed)
    try:
        from IPython.display import Markdown, display
    except ImportError:
        print(model)
    else:
        display(Markdown(model))
