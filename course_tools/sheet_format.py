"""The format of an exercise sheet: the one definition every tool reads.

A sheet is a notebook whose metadata holds ``"course": {"sheet": ID, "title": TEXT}``. Its
exercises are found by the ``"course"`` metadata of their cells, never by position:

* ``{"role": "answer", "exercise": ID}``: a code cell the learner fills in. In ``solutions/`` it
  holds ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` regions; the exercise version replaces each
  region by ``raise NotAttempted("ID")``.
* ``{"role": "check", "exercise": ID, "points": P, "kind": K}``: the check cell after the
  answers, ``check("ID")``; ``K`` is the exercise's kind, one of :data:`TASKS` (implement,
  predict, diagnose, tune, explain). An ``explain`` answer is a string (in triple quotes) that
  the answer cell assigns to ``ID``, graded by hand; the exercise version's check cell carries
  the model answer sealed (``check("ID", sealed=...)``), shown once the learner has written.
* ``{"role": "written", "exercise": ID, "points": P}``: a Markdown cell with
  ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->``; the exercise version holds
  :data:`PLACEHOLDER` there (an older form of ``explain``, graded by hand).

A ``diagnose`` answer cell ships broken code: its fixed lines sit in a ``# BEGIN SOLUTION``
region followed by the broken lines, commented out, in a ``# BEGIN BROKEN`` ... ``# END BROKEN``
region; the exercise version drops the first and uncomments the second. An answer cell left as
it shipped is "not attempted" (:func:`shipped_answer`, compared by source).

One rule each, used by the builder, the report and the grader alike:

* points: :func:`parse_points` (a number > 0; ``True`` is not a number);
* scoring: :data:`KINDS` (``"check"``: auto-graded, ``"written"``: graded by hand);
* kinds of exercise: :data:`TASKS`;
* the placeholder: :data:`PLACEHOLDER`; the shipped answer: :func:`shipped_answer`;
* the pass contract: a check that passes prints exactly one line :func:`pass_line`
  (``[ID] passed: N/N cases``); :func:`passed_in` is the only matcher. The self-check report
  reads it; the grader does not decide anything from printed text.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.cases import PLACEHOLDER, written_text

CODE_BEGIN = "# BEGIN SOLUTION"
CODE_END = "# END SOLUTION"
TEXT_BEGIN = "<!-- BEGIN SOLUTION -->"
TEXT_END = "<!-- END SOLUTION -->"
BROKEN_BEGIN = "# BEGIN BROKEN"
BROKEN_END = "# END BROKEN"
MARKERS = (CODE_BEGIN, CODE_END, TEXT_BEGIN, TEXT_END, BROKEN_BEGIN, BROKEN_END)
SETUP_IMPORT = "from course_lib.checks import"
ROLES = ("answer", "check", "written")
KINDS = ("check", "written")  #: how an exercise is scored: automatically, or by hand
TASKS = ("implement", "predict", "diagnose", "tune", "explain")  #: what an exercise asks
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
    check_cell: int | None  #: index of its check cell (None for Markdown written answers)
    task: str = "implement"  #: one of TASKS


def course_meta(node: Mapping[str, Any]) -> dict[str, Any]:
    """The ``"course"`` metadata of a cell or notebook (empty when absent or malformed)."""
    meta = node.get("metadata", {})
    course = meta.get("course", {}) if isinstance(meta, Mapping) else {}
    return dict(course) if isinstance(course, Mapping) else {}


def sheet_id(nb: Mapping[str, Any]) -> str | None:
    """The notebook's ``course.sheet``, or None when it has none."""
    value = course_meta(nb).get("sheet")
    return value if isinstance(value, str) and value else None


def parse_task(meta: Mapping[str, Any], role: str, where: str) -> str:
    """The exercise's kind (course.kind of its check cell): one of TASKS."""
    if role == "written":
        return "explain"
    task = meta.get("kind", "implement")
    if task not in TASKS:
        raise SheetError(f"{where}: course.kind must be one of {TASKS}, got {task!r}.")
    return str(task)


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
        self.scored: dict[str, tuple[str, int, float, str]] = {}  # id -> (role, cell, points,
        # task)

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
        self.scored[exercise] = (role, index, parse_points(meta.get("points"), where),
                                 parse_task(meta, role, where))

    def exercise(self, exercise: str, path: Path | str) -> Exercise:
        answers = tuple(self.answers.get(exercise, ()))
        if exercise not in self.scored:
            raise SheetError(f"{path}: exercise {exercise!r} has answer cells but no check "
                             f"cell.")
        role, index, points, task = self.scored[exercise]
        if role == "written":
            if answers:
                raise SheetError(f"{path}: written exercise {exercise!r} also has answer code "
                                 f"cells; a written exercise is one Markdown cell.")
            return Exercise(exercise, "written", points, (index,), None, task)
        if not answers:
            raise SheetError(f"{path}: exercise {exercise!r} has a check cell but no answer "
                             f"cell before it.")
        kind = "written" if task == "explain" else "check"
        return Exercise(exercise, kind, points, answers, index, task)


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


def _uncomment(line: str) -> str:
    """A line of a BROKEN region as the learner sees it: its first ``# `` removed."""
    indent = line[: len(line) - len(line.lstrip())]
    body = line.lstrip()
    if body.startswith("# "):
        return indent + body[2:]
    return indent + body[1:] if body.startswith("#") else line


def _marker_line(marker: str, line: str, state: dict, exercise_id: str, where: str) -> list[str]:
    """What a marker line becomes (and the state it leaves)."""
    at = f"{where}, line {state['line']}"
    if marker in (CODE_BEGIN, BROKEN_BEGIN):
        if state["open"] is not None:
            raise SheetError(f"{at}: {marker} inside another region.")
        state["open"] = marker
        state["indent"] = line[: len(line) - len(line.lstrip())]
        if marker == BROKEN_BEGIN:
            return []
        state["regions"] += 1
        if state["mode"] == "raise":
            return [f'{state["indent"]}raise NotAttempted("{exercise_id}")']
        return [PLACEHOLDER] if state["mode"] == "placeholder" else []
    begin = CODE_BEGIN if marker == CODE_END else BROKEN_BEGIN
    if state["open"] != begin:
        raise SheetError(f"{at}: {marker} without {begin}.")
    state["open"] = None
    return []


def replace_code_regions(source: str, exercise_id: str, where: str = "cell",
                         mode: str = "raise") -> str:
    """Replace each ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` region (marker lines included)
    by ``raise NotAttempted("<exercise_id>")`` at the indentation of its BEGIN line
    (``mode="raise"``), by nothing (``"drop"``) or by :data:`PLACEHOLDER` (``"placeholder"``);
    the lines of ``# BEGIN BROKEN`` ... ``# END BROKEN`` regions are uncommented."""
    state: dict[str, Any] = {"open": None, "indent": "", "regions": 0, "line": 0, "mode": mode}
    out: list[str] = []
    for number, line in enumerate(source.split("\n"), start=1):
        state["line"] = number
        marker = line.strip()
        if marker in (CODE_BEGIN, CODE_END, BROKEN_BEGIN, BROKEN_END):
            out += _marker_line(marker, line, state, exercise_id, where)
        elif state["open"] is None:
            out.append(line)
        elif state["open"] == BROKEN_BEGIN:
            out.append(_uncomment(line))
    if state["open"] is not None:
        raise SheetError(f"{where}: {state['open']} is never closed.")
    if state["regions"] == 0:
        raise SheetError(f"{where}: an answer cell needs at least one {CODE_BEGIN} region.")
    return "\n".join(out)


def shipped_answer(source: str, exercise_id: str, task: str = "implement",
                   where: str = "cell") -> str:
    """An answer cell of the solution sheet as the exercise sheet ships it."""
    if task == "explain":
        return replace_code_regions(source, exercise_id, where, "placeholder")
    broken = any(line.strip() == BROKEN_BEGIN for line in source.split("\n"))
    return replace_code_regions(source, exercise_id, where, "drop" if broken else "raise")


def source_digest(source: str) -> str:
    """What an exercise sheet's answer cell records of its shipped source (``course.shipped``)."""
    return "sha256:" + hashlib.sha256(source.strip().encode("utf-8")).hexdigest()


def untouched(cell: Mapping[str, Any]) -> bool:
    """The answer cell still holds what the exercise sheet shipped."""
    shipped = course_meta(cell).get("shipped")
    return isinstance(shipped, str) and shipped == source_digest(str(cell.get("source", "")))


def answer_string(source: str) -> str | None:
    """The text an ``explain`` answer cell assigns (``name = \"\"\"...\"\"\"``), read without
    running it; None when the cell is not one assignment of a string."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            return node.value.value
    return None


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
    """The learner's text of a written answer ("" when it is still the placeholder): a Markdown
    written cell, or the string an ``explain`` answer cell assigns."""
    lines = source.split("\n")
    stripped = [line.strip() for line in lines]
    if TEXT_BEGIN in stripped and TEXT_END in stripped[stripped.index(TEXT_BEGIN):]:
        start = stripped.index(TEXT_BEGIN)
        end = start + stripped[start:].index(TEXT_END)
        text = "\n".join(lines[start + 1:end]).strip()
    else:
        assigned = answer_string(source)  # None unless the cell is code assigning a string
        text = written_text(assigned) if assigned is not None else source.strip()
    return "" if text in ("", PLACEHOLDER) else text
