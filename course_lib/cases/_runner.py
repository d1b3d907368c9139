"""The in-notebook runner: one exercise's public cases against the learner's function.

It prints the pass line (``[id] passed: N/N cases``) or raises ``CheckFailed`` with the case,
what was expected, what came back and the hint; an exception in the learner's code is chained,
so the traceback ends in the learner's own line. The grader does not use this runner: it runs
the same cases through its protocol (``course_tools.protocol``).
"""

from __future__ import annotations

from typing import Any

from . import Case, Exercise, Mismatch, build, copy_inputs


def _call(exercise: Exercise, fn: Any, case: Case) -> tuple[Any, tuple, dict]:
    """Call ``fn`` on fresh copies of the case's inputs, quietly; (result, args, kwargs)."""
    __tracebackhide__ = True
    from ..checks import CheckFailed, NotAttempted, _first_line, _quietly

    args, kwargs = copy_inputs(build(case.args)), copy_inputs(build(case.kwargs))
    with _quietly():
        try:
            got = fn(*args, **kwargs)
            if exercise.consume is not None:
                got = list(got)[: exercise.consume + 1]
            return got, args, kwargs
        except NotAttempted as exc:
            if exc.exercise_id == exercise.id:
                raise
            raise CheckFailed(
                f"[{exercise.id}] case '{case.label}': your code uses exercise "
                f"{exc.exercise_id}, which is not attempted yet. Hint: finish "
                f"{exc.exercise_id} first (its own check cell tells you when it works)."
            ) from None
        except Exception as exc:
            # chained to the learner's error, minus this frame: its traceback starts at their
            # function and ends at the line that raised
            tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
            raise CheckFailed(f"[{exercise.id}] case '{case.label}': your code raised "
                              f"{type(exc).__name__}: {_first_line(str(exc))}"
                              ) from exc.with_traceback(tb)


def run_check(exercise: Exercise, fn: Any) -> None:
    """Check ``fn`` (or, for a "value" exercise, the value itself) on the public cases."""
    __tracebackhide__ = True
    from ..checks import CheckFailed, _show

    if exercise.kind == "call" and not callable(fn):
        raise CheckFailed(f"[{exercise.id}] expected your function `{exercise.id}` itself, got "
                          f"{_show(fn)}. Hint: pass the function without calling it, e.g. "
                          f"check_{exercise.id}({exercise.id}).")
    cases = exercise.public()
    for case in cases:
        if exercise.kind == "call":
            got, args, kwargs = _call(exercise, fn, case)
        else:
            got, args, kwargs = fn, (), {}
        try:
            exercise.compare(Case(case.label, build(case.args), build(case.kwargs)), got,
                             (*args, *kwargs.values()))
        except Mismatch as wrong:
            raise CheckFailed(f"[{exercise.id}] case '{case.label}': {wrong}") from None
    print(f"[{exercise.id}] passed: {len(cases)}/{len(cases)} cases")
