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

import base64
import importlib
import importlib.util
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

#: Sheets whose checks are case definitions are found by their two-digit prefix: sheet
#: ``06_minibatch_rmsprop`` -> module ``course_lib.cases.sheet06`` (when that module exists).
SHEET_PREFIX = re.compile(r"^(?P<nn>\d\d)_")

#: How an exercise's answer is used: called on each case, read as a value, or read by a person.
MODES = ("call", "value", "explain")

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
    """What a comparator raises: what was expected, what came back, the general hint and,
    when the comparator recognised it, the known mistake the answer makes."""

    def __init__(self, expected: str, got: str, hint: str, mistake: str | None = None) -> None:
        super().__init__(f"expected {expected}, got {got}. Hint: {mistake or hint}")
        self.expected, self.got, self.hint, self.mistake = expected, got, hint, mistake


@dataclass(frozen=True)
class Exercise:
    """The cases and the comparator of one exercise."""

    id: str
    public: Callable[[], list[Case]] = list  #: the public and fixed edge cases
    compare: Callable[[Case, Any, tuple | None], None] | None = None
    hidden: Callable[[np.random.Generator], list[Case]] | None = None
    mode: str = "call"  #: one of MODES: "call" (a function), "value" (a name), "explain"
    consume: int | None = None  #: a generator's results are listed, up to this many
    forbidden: tuple[str, ...] = ()  #: library names an answer should not use (flagged)
    name: str = ""  #: the name the answer cell defines (default: the id)
    lesson: str = ""  #: where the lesson explains it (the third level of help)
    #: ``comment(case, value)``, printed after the pass line of a value exercise (a
    #: prediction's gap to the measurement), or None
    comment: Callable[[Case, Any], str | None] | None = None
    #: a course_lib function called as ``via(answer, *args, **kwargs)`` (e.g. a harness that
    #: runs the learner's optimizer class on a small problem and returns plain data)
    via: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"Exercise {self.id!r}: mode must be one of {MODES}, got "
                             f"{self.mode!r}")
        if self.mode != "explain" and self.compare is None:
            raise ValueError(f"Exercise {self.id!r}: a {self.mode!r} exercise needs compare")
        if self.comment is not None and self.mode != "value":
            raise ValueError(f"Exercise {self.id!r}: a comment is made on a value (a "
                             f"prediction, a setting), so it needs mode='value'")
        if self.via is not None and not self.via.startswith("course_lib."):
            raise ValueError(f"Exercise {self.id!r}: via must name a course_lib function, got "
                             f"{self.via!r}")

    @property
    def answer_name(self) -> str:
        return self.name or self.id


def resolve_via(path: str) -> Callable[..., Any]:
    """The course_lib function ``path`` names (``course_lib.module.function``)."""
    if not path.startswith("course_lib."):
        raise ValueError(f"via must name a course_lib function, got {path!r}")
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


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


def sheet_module(sheet: str) -> str | None:
    """The module holding ``sheet``'s case definitions, or None when there is none."""
    match = SHEET_PREFIX.match(sheet)
    if match is None:
        return None
    name = f"{__name__}.sheet{match.group('nn')}"
    return name if importlib.util.find_spec(name) is not None else None


def sheet_exercises(sheet: str) -> dict[str, Exercise] | None:
    """The case definitions of ``sheet`` (None when its checks are not case definitions)."""
    module = sheet_module(sheet)
    if module is None:
        return None
    return dict(importlib.import_module(module).EXERCISES)


def _sheet_module_names() -> list[str]:
    import pkgutil

    return sorted(f"{__name__}.{info.name}" for info in pkgutil.iter_modules(__path__)
                  if re.fullmatch(r"sheet\d\d", info.name))


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of every sheet module, by id (ids are unique across the course)."""
    found: dict[str, Exercise] = {}
    for name in _sheet_module_names():
        for ex_id, exercise in importlib.import_module(name).EXERCISES.items():
            if ex_id in found:
                raise ValueError(f"exercise id {ex_id!r} is defined twice ({name})")
            found[ex_id] = exercise
    return found


def find_exercise(exercise_id: str) -> Exercise | None:
    """The exercise ``exercise_id`` of whichever sheet defines it (None when none does).

    A sheet module that fails to import does not hide the exercises of the others; its error
    is raised only when no sheet defines the id.
    """
    problem: Exception | None = None
    for name in _sheet_module_names():
        try:
            exercises = importlib.import_module(name).EXERCISES
        except Exception as exc:  # noqa: BLE001 - re-raised below when it matters
            problem = problem or exc
            continue
        if exercise_id in exercises:
            return exercises[exercise_id]
    if problem is not None:
        raise problem
    return None


#: What an unanswered written answer holds (the sheet builder writes it; the check reads it).
PLACEHOLDER = "_Write your answer here._"
#: A written answer shorter than this has not been attempted (its model answer stays hidden).
MIN_WORDS = 15
_MARKER_LINES = ("# BEGIN SOLUTION", "# END SOLUTION")


def written_text(text: str) -> str:
    """A written answer without the solution markers and the placeholder ("" when empty)."""
    lines = [line for line in text.split("\n") if line.strip() not in _MARKER_LINES]
    body = "\n".join(lines).replace(PLACEHOLDER, "").strip()
    return body


def seal(text: str) -> str:
    """A model answer encoded so that it does not show in the exercise notebook's source."""
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def unseal(sealed: str) -> str:
    return zlib.decompress(base64.b64decode(sealed.encode("ascii"))).decode("utf-8")


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


from ._runner import mistake_message, run_check  # noqa: E402 - uses the definitions above

__all__ = ["Case", "Exercise", "Mismatch", "PrivateCases", "Spec", "all_exercises", "build",
           "describe", "describe_case", "find_exercise", "mistake_message", "resolve_via",
           "run_check", "seal", "sheet_exercises", "unseal", "written_text"]


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
