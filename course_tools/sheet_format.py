"""The format of an exercise sheet: the one definition every tool reads.

A sheet is a notebook whose metadata holds ``"course": {"sheet": ID, "title": TEXT}``. Its
exercises are found by the ``"course"`` metadata of their cells, never by position:

* ``{"role": "answer", "exercise": ID}``: a code cell the learner fills in. In ``solutions/`` it
  holds ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` regions; the exercise version replaces each
  region by ``raise NotAttempted("ID")``.
* ``{"role": "check", "exercise": ID, "points": P}``: the check cell after the answers
  (kind ``"check"``: auto-graded).
* ``{"role": "written", "exercise": ID, "points": P}``: a Markdown cell with
  ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->``; the exercise version holds
  :data:`PLACEHOLDER` there (kind ``"written"``: graded by hand).

One rule each, used by the builder, the report and the grader alike:

* points: :func:`parse_points` (a number > 0; ``True`` is not a number);
* kinds: :data:`KINDS` (``"check"``, ``"written"``);
* the placeholder: :data:`PLACEHOLDER`;
* the pass contract: a check that passes prints exactly one line :func:`pass_line`
  (``[ID] passed: N/N cases``); :func:`passed_in` is the only matcher. The self-check report
  reads it; the grader does not decide anything from printed text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CODE_BEGIN = "# BEGIN SOLUTION"
CODE_END = "# END SOLUTION"
TEXT_BEGIN = "<!-- BEGIN SOLUTION -->"
TEXT_END = "<!-- END SOLUTION -->"
MARKERS = (CODE_BEGIN, CODE_END, TEXT_BEGIN, TEXT_END)
PLACEHOLDER = "_Write your answer here._"
SETUP_IMPORT = "from course_lib.checks import"
ROLES = ("answer", "check", "written")
KINDS = ("check", "written")  #: an exercise's kind is the role of its scoring cell
_CELL_TYPE = {"answer": "code", "check": "code", "written": "markdown"}
_PASS = re.compile(r"^\[(?P<id>[A-Za-z_][A-Za-z0-9_]*)\] passed: (?P<n>\d+)/(?P=n) cases$")


class SheetError(ValueError):
    """A sheet does not follow this format (the message names the file and the cell)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise of a sheet, as its cell metadata describes it."""

    id: str
    kind: str  #: one of KINDS
    points: float
    answer_cells: tuple[int, ...]  #: indices of its answer (or written) cells
    check_cell: int | None  #: index of its check cell (None for written answers)


def course_meta(node: Mapping[str, Any]) -> dict[str, Any]:
    """The ``"course"`` metadata of a cell or notebook (empty when absent or malformed)."""
    meta = node.get("metadata", {})
    course = meta.get("course", {}) if isinstance(meta, Mapping) else {}
    return dict(course) if isinstance(course, Mapping) else {}


def sheet_id(nb: Mapping[str, Any]) -> str | None:
    """The notebook's ``course.sheet``, or None when it has none."""
    value = course_meta(nb).get("sheet")
    return value if isinstance(value, str) and value else None


def parse_points(value: Any, where: str) -> float:
    """The one rule for points: a number greater than 0 (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SheetError(f"{where}: points must be a number > 0, got {value!r}.")
    return float(value)


def pass_line(exercise: str, n_cases: int) -> str:
    """The line a passing check prints."""
    return f"[{exercise}] passed: {n_cases}/{n_cases} cases"


def passed_in(stdout: str, exercise: str) -> str | None:
    """The pass line of ``exercise`` in ``stdout`` (a whole line), or None."""
    for line in stdout.splitlines():
        match = _PASS.match(line.rstrip())
        if match and match.group("id") == exercise:
            return match.group(0)
    return None


def _where(path: Path | str, index: int | None = None) -> str:
    return f"{path}" if index is None else f"{path}, cell {index}"


def _cell_role(cell: Mapping[str, Any], where: str) -> tuple[str, str] | None:
    """(role, exercise) of a cell with course metadata, validated; None for other cells."""
    meta = course_meta(cell)
    if not meta:
        return None
    role, exercise = meta.get("role"), meta.get("exercise")
    if role not in ROLES:
        raise SheetError(f"{where}: course.role must be one of {ROLES}, got {role!r}.")
    if not isinstance(exercise, str) or not exercise.isidentifier():
        raise SheetError(f"{where}: course.exercise must be an identifier such as "
                         f"'adagrad_step', got {exercise!r}.")
    if cell.get("cell_type") != _CELL_TYPE[role]:
        raise SheetError(f"{where}: a {role} cell must be a {_CELL_TYPE[role]} cell, got "
                         f"{cell.get('cell_type')}.")
    return role, exercise


class _Collector:
    """Accumulates the cells of each exercise while a sheet is read in order."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.answers: dict[str, list[int]] = {}
        self.scored: dict[str, tuple[str, int, float]] = {}  # id -> (kind, cell, points)

    def add(self, role: str, exercise: str, index: int, meta: dict, where: str) -> None:
        if exercise not in self.order:
            self.order.append(exercise)
        if role == "answer":
            if exercise in self.scored:
                raise SheetError(f"{where}: an answer cell of {exercise!r} comes after its "
                                 f"check cell; answers go before the check.")
            self.answers.setdefault(exercise, []).append(index)
            return
        if exercise in self.scored:
            raise SheetError(f"{where}: exercise {exercise!r} already has a check or written "
                             f"cell; each exercise has exactly one.")
        self.scored[exercise] = (role, index, parse_points(meta.get("points"), where))

    def exercise(self, exercise: str, path: Path | str) -> Exercise:
        answers = tuple(self.answers.get(exercise, ()))
        if exercise not in self.scored:
            raise SheetError(f"{path}: exercise {exercise!r} has answer cells but no check "
                             f"cell.")
        kind, index, points = self.scored[exercise]
        if kind == "written":
            if answers:
                raise SheetError(f"{path}: written exercise {exercise!r} also has answer code "
                                 f"cells; a written exercise is one Markdown cell.")
            return Exercise(exercise, "written", points, (index,), None)
        if not answers:
            raise SheetError(f"{path}: exercise {exercise!r} has a check cell but no answer "
                             f"cell before it.")
        return Exercise(exercise, "check", points, answers, index)


def exercises_of(nb: Mapping[str, Any], path: Path | str = "notebook") -> list[Exercise]:
    """The exercises of a sheet in order, validated against the format.

    Raises :class:`SheetError` naming the file and cell when the metadata is inconsistent.
    """
    collector = _Collector()
    for index, cell in enumerate(nb.get("cells", [])):
        where = _where(path, index)
        found = _cell_role(cell, where)
        if found is not None:
            collector.add(*found, index, course_meta(cell), where)
    return [collector.exercise(exercise, path) for exercise in collector.order]


def _code_region_line(line: str, state: dict, exercise_id: str, where: str) -> str | None:
    """One line of :func:`replace_code_regions`: the output line, or None to drop it."""
    marker = line.strip()
    if marker == CODE_BEGIN:
        if state["indent"] is not None:
            raise SheetError(f"{where}, line {state['line']}: {CODE_BEGIN} inside another "
                             f"region.")
        state["indent"] = line[: len(line) - len(line.lstrip())]
        state["regions"] += 1
        return f'{state["indent"]}raise NotAttempted("{exercise_id}")'
    if marker == CODE_END:
        if state["indent"] is None:
            raise SheetError(f"{where}, line {state['line']}: {CODE_END} without {CODE_BEGIN}.")
        state["indent"] = None
        return None
    return line if state["indent"] is None else None


def replace_code_regions(source: str, exercise_id: str, where: str = "cell") -> str:
    """Replace each ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` region (marker lines included)
    by ``raise NotAttempted("<exercise_id>")`` at the indentation of its BEGIN line."""
    state: dict[str, Any] = {"indent": None, "regions": 0, "line": 0}
    out: list[str] = []
    for number, line in enumerate(source.split("\n"), start=1):
        state["line"] = number
        kept = _code_region_line(line, state, exercise_id, where)
        if kept is not None:
            out.append(kept)
    if state["indent"] is not None:
        raise SheetError(f"{where}: {CODE_BEGIN} is never closed by {CODE_END}.")
    if state["regions"] == 0:
        raise SheetError(f"{where}: an answer cell needs at least one {CODE_BEGIN} region.")
    return "\n".join(out)


def replace_text_regions(source: str, where: str = "cell") -> str:
    """Replace the text between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` (the
    markers stay) by :data:`PLACEHOLDER`."""
    out: list[str] = []
    inside = False
    regions = 0
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker in (TEXT_BEGIN, TEXT_END) and inside == (marker == TEXT_BEGIN):
            other = TEXT_BEGIN if marker == TEXT_END else TEXT_END
            problem = "inside another region" if inside else f"without {other}"
            raise SheetError(f"{where}, line {number}: {marker} {problem}.")
        if marker == TEXT_BEGIN:
            inside, regions = True, regions + 1
            out += [line, PLACEHOLDER]
        elif marker == TEXT_END:
            inside = False
            out.append(line)
        elif not inside:
            out.append(line)
    if inside:
        raise SheetError(f"{where}: {TEXT_BEGIN} is never closed by {TEXT_END}.")
    if regions == 0:
        raise SheetError(f"{where}: a written cell needs a {TEXT_BEGIN} ... {TEXT_END} region.")
    return "\n".join(out)


def written_answer(source: str) -> str:
    """The learner's text of a written answer ("" when it is still the placeholder)."""
    lines = source.split("\n")
    stripped = [line.strip() for line in lines]
    text = source.strip()
    if TEXT_BEGIN in stripped and TEXT_END in stripped[stripped.index(TEXT_BEGIN):]:
        start = stripped.index(TEXT_BEGIN)
        end = start + stripped[start:].index(TEXT_END)
        text = "\n".join(lines[start + 1:end]).strip()
    return "" if text in ("", PLACEHOLDER) else text
