"""The in-notebook runner: one exercise's public cases against the learner's answer.

It prints the pass line (``[id] passed: N/N cases``), then the exercise's comment if it has
one (a prediction's gap to the measurement), or raises ``CheckFailed``. Help comes in levels,
counted per exercise in this kernel: the first failure shows the case, what was expected,
what came back and the known mistake when the comparator recognised one; a repeated failure
adds the general hint; the third adds where the lesson explains it. Never the expected code.
An exception in the learner's code is chained, so the traceback ends in the learner's own line.
The grader does not use this runner: it runs the same cases through its protocol
(``course_tools.protocol``) and shows every level at once.
"""

from __future__ import annotations

from typing import Any

from . import Case, Exercise, Mismatch, build, copy_inputs, resolve_via

#: failures per exercise id in this kernel (reset when the exercise passes)
FAILURES: dict[str, int] = {}


def _call(exercise: Exercise, fn: Any, case: Case) -> tuple[Any, tuple, dict]:
    """Call ``fn`` on fresh copies of the case's inputs, quietly; (result, args, kwargs)."""
    __tracebackhide__ = True
    from ..checks import CheckFailed, NotAttempted, _first_line, _quietly

    args, kwargs = copy_inputs(build(case.args)), copy_inputs(build(case.kwargs))
    target = fn if exercise.via is None else resolve_via(exercise.via)
    lead = () if exercise.via is None else (fn,)
    with _quietly():
        try:
            got = target(*lead, *args, **kwargs)
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


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def explain_message(exercise: Exercise, wrong: Mismatch, level: int) -> str:
    """The failure text at help ``level`` (1: case and known mistake; 2: + hint; 3: + lesson)."""
    parts = [f"expected {wrong.expected}, got {wrong.got}."]
    if wrong.mistake:
        parts.append(f"Known mistake: {_sentence(wrong.mistake)}")
    if level >= 2:
        parts.append(f"Hint: {_sentence(wrong.hint)}")
    elif not wrong.mistake:
        parts.append("(Change your code and run the check again: a second failure adds a "
                     "hint.)")
    if level >= 3 and exercise.lesson:
        parts.append(f"See {_sentence(exercise.lesson)}")
    return " ".join(parts)


def full_message(exercise: Exercise, wrong: Mismatch) -> str:
    """Every level of help at once (the grader's feedback, given after the work is handed in)."""
    if not wrong.mistake and not exercise.lesson:
        return str(wrong)
    return explain_message(exercise, wrong, 3)


def _first_mismatch(exercise: Exercise, fn: Any, cases: list[Case]) -> tuple[Case, Mismatch] | None:
    __tracebackhide__ = True
    for case in cases:
        if exercise.mode == "call":
            got, args, kwargs = _call(exercise, fn, case)
        else:
            got, args, kwargs = fn, (), {}
        try:
            assert exercise.compare is not None
            exercise.compare(Case(case.label, build(case.args), build(case.kwargs)), got,
                             (*args, *kwargs.values()))
        except Mismatch as wrong:
            return case, wrong
    return None


def run_check(exercise: Exercise, fn: Any) -> None:
    """Check ``fn`` (or, for a "value" exercise, the value itself) on the public cases."""
    __tracebackhide__ = True
    from ..checks import CheckFailed, _show

    if exercise.mode == "call" and exercise.via is None and not callable(fn):
        raise CheckFailed(f"[{exercise.id}] expected your function `{exercise.answer_name}` "
                          f"itself, got {_show(fn)}. Hint: pass the function without calling "
                          f"it, e.g. check(\"{exercise.id}\").")
    cases = exercise.public()
    failed = _first_mismatch(exercise, fn, cases)
    if failed is not None:
        case, wrong = failed
        level = FAILURES[exercise.id] = FAILURES.get(exercise.id, 0) + 1
        raise CheckFailed(f"[{exercise.id}] case '{case.label}': "
                          f"{explain_message(exercise, wrong, min(level, 3))}") from None
    FAILURES.pop(exercise.id, None)
    print(f"[{exercise.id}] passed: {len(cases)}/{len(cases)} cases")
    if exercise.comment is not None and cases:
        note = exercise.comment(Case(cases[0].label, build(cases[0].args),
                                     build(cases[0].kwargs)), fn)
        if note:
            print(note)


def mistake_message(exercise: Exercise, answer: Any, level: int = 1) -> str:
    """The message the check gives ``answer`` at help ``level`` (for tests of known mistakes).

    Raises AssertionError when every public case passes.
    """
    from ..checks import CheckFailed

    try:
        failed = _first_mismatch(exercise, answer, exercise.public())
    except CheckFailed as exc:
        return str(exc)
    if failed is None:
        raise AssertionError(f"{exercise.id}: the answer passed every public case")
    case, wrong = failed
    return f"[{exercise.id}] case '{case.label}': {explain_message(exercise, wrong, level)}"
