"""One helper for the sheets' tests: an answer passes every hidden case of an exercise.

Hidden cases are drawn per submission from a seed; a right answer must pass them for any seed,
so the tests draw them from several. The answer is used as the grader uses it: called on each
case (through the exercise's ``via`` harness when it has one, its generator listed up to
``consume``), or, for a value exercise, judged as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from course_lib.cases import Case, Exercise, built, copy_inputs, resolve_via


def answer_for(exercise: Exercise, answer: Any, case: Case) -> tuple[Any, tuple | None]:
    """(what the answer gives for ``case``, its inputs afterwards) for a built case."""
    if exercise.mode == "value":
        return answer, None
    args, kwargs = copy_inputs(case.args), copy_inputs(case.kwargs)
    if exercise.via is not None:
        got = resolve_via(exercise.via)(answer, *args, **kwargs)
    else:
        got = answer(*args, **kwargs)
    if exercise.consume is not None:
        got = list(got)[: exercise.consume + 1]
    return got, (*args, *kwargs.values())


def pass_hidden(exercise: Exercise, answer: Any, seeds: Iterable[int] = range(8)) -> None:
    """``answer`` passes the hidden cases drawn from each seed (a Mismatch propagates)."""
    if exercise.hidden is None:
        return
    for seed in seeds:
        for case in exercise.hidden(np.random.default_rng(seed)):
            case = built(case)
            exercise.compare(case, *answer_for(exercise, answer, case))
