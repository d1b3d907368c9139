"""Case definitions: the one source of truth behind an exercise's checks.

An exercise's cases say *what to ask* (inputs as plain data; objectives and models by name,
:class:`Spec`) and a comparator says *what counts as right*. Two runners use them:

* the in-notebook check (``check_<id>(fn)`` in :mod:`course_lib.checks`, via
  :func:`run_check`), which calls the learner's function directly: self-study, and like any
  code in the learner's own kernel it can be fooled by that learner;
* the grader (``course_tools.protocol``), which sends the same inputs to a worker in the
  sandbox, gets values back, and runs the comparator in its own process, together with hidden
  cases drawn from a seed the sandbox never sees. Only the grader's verdict counts.

A comparator is ``compare(case, got, after)``: ``case.args``/``case.kwargs`` are the inputs
(specs already built), ``got`` what came back, ``after`` the inputs as the function left them
(None when unknown). It returns None when ``got`` is right, or raises :class:`Mismatch`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

#: Sheets whose checks are case definitions: sheet id -> module (under course_lib.cases).
SHEET_MODULES = {"02_optimization_basics": "course_lib.cases.sheet02",
                 "03_ewma": "course_lib.cases.sheet03", "04_adagrad": "course_lib.cases.sheet04",
                 "05_rmsprop": "course_lib.cases.sheet05"}

#: What a Spec may name: course_lib's objectives and models, nothing else.
FACTORIES = ("Quadratic", "Rosenbrock", "Beale", "Saddle", "SeedBowl", "XOverLogX",
             "ill_conditioned_quadratic", "rotated_quadratic", "LinearRegression",
             "LogisticRegression")


@dataclass(frozen=True)
class Spec:
    """A callable input by name: ``course_lib.<factory>(*args, **kwargs)``, or one of that
    object's methods (``attr="grad"``: the objective's gradient function)."""

    factory: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    attr: str | None = None


@dataclass(frozen=True)
class Case:
    label: str  #: shown to the learner (a hidden case is described by dtype and shape only)
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    hidden: bool = False


class Mismatch(Exception):
    """What a comparator raises: what was expected, what came back, and a hint."""

    def __init__(self, expected: str, got: str, hint: str) -> None:
        super().__init__(f"expected {expected}, got {got}. Hint: {hint}")
        self.expected, self.got, self.hint = expected, got, hint


@dataclass(frozen=True)
class Exercise:
    """The cases and the comparator of one exercise."""

    id: str
    public: Callable[[], list[Case]]  #: the public and fixed edge cases
    compare: Callable[[Case, Any, tuple | None], None]
    hidden: Callable[[np.random.Generator], list[Case]] | None = None
    kind: str = "call"  #: "call" (a function) or "value" (a name the answer cell defines)
    consume: int | None = None  #: a generator's results are listed, up to this many
    forbidden: tuple[str, ...] = ()  #: library names an answer should not use (flagged)
    hint_not_callable: str = ""


def build(value: Any) -> Any:
    """``value`` with every :class:`Spec` replaced by the object it names."""
    if isinstance(value, Spec):
        if value.factory not in FACTORIES:
            raise ValueError(f"{value.factory!r} is not a course_lib objective or model")
        import course_lib

        made = getattr(course_lib, value.factory)(*build(value.args), **build(value.kwargs))
        if value.attr is None:
            return made
        if value.attr not in ("grad", "f"):
            raise ValueError(f"{value.attr!r} is not a method a case may name")
        return getattr(made, value.attr)
    if isinstance(value, tuple):
        return tuple(build(v) for v in value)
    if isinstance(value, list):
        return [build(v) for v in value]
    if isinstance(value, dict):
        return {k: build(v) for k, v in value.items()}
    return value


def built(case: Case) -> Case:
    """The case with its specs built (for the comparator)."""
    return replace(case, args=build(case.args), kwargs=build(case.kwargs))


def copy_inputs(value: Any) -> Any:
    """Fresh copies of the arrays in ``value`` (what the function receives)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(copy_inputs(v) for v in value)
    if isinstance(value, list):
        return [copy_inputs(v) for v in value]
    if isinstance(value, dict):
        return {k: copy_inputs(v) for k, v in value.items()}
    return value


def sheet_exercises(sheet: str) -> dict[str, Exercise] | None:
    """The case definitions of ``sheet`` (None when its checks are not case definitions)."""
    module = SHEET_MODULES.get(sheet)
    if module is None:
        return None
    return dict(importlib.import_module(module).EXERCISES)


def describe(value: Any) -> str:
    """A value by type, dtype and shape only (for hidden cases: never the numbers)."""
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return f"a {kind} of {len(value)} values"
    if isinstance(value, (bool, np.bool_)):
        return "a bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "a number"
    if isinstance(value, Spec):
        return "an objective"
    return "None" if value is None else f"a {type(value).__name__}"


def describe_case(case: Case) -> str:
    """'a hidden case with a float32 array of shape (3,), ...' (no values)."""
    parts = [describe(a) for a in case.args] + [f"{k}={describe(v)}"
                                                for k, v in case.kwargs.items()]
    return "a hidden case with " + ", ".join(parts) if parts else "a hidden case"


from ._runner import run_check  # noqa: E402 - the runner uses the definitions above

__all__ = ["Case", "Exercise", "Mismatch", "PrivateCases", "Spec", "build", "describe",
           "describe_case", "run_check", "sheet_exercises"]


@dataclass(frozen=True)
class PrivateCases:
    """The instructor's private checks for one exercise: extra cases (a list, or a function of
    a ``np.random.Generator``) judged by the exercise's comparator or by ``compare``. Without
    ``points`` they are a gate; with ``points`` they add that many points."""

    sheet: str
    exercise: str
    cases: Any
    compare: Callable[[Case, Any, tuple | None], None] | None = None
    points: float | None = None

    def draw(self, rng: np.random.Generator) -> list[Case]:
        found = self.cases(rng) if callable(self.cases) else list(self.cases)
        return [replace(case, hidden=True) for case in found]
