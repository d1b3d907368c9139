"""The grader's trusted inputs: the reference sheets and the instructor's private checks.

Both are read in the grading process only and never written where a sandbox can read them.
Sheets are parsed by :mod:`course_tools.sheet_format` (the same rules as the sheet builder).
"""

from __future__ import annotations

import ast
import dataclasses
import re
import runpy
from collections.abc import Sequence
from pathlib import Path

from .sheet_format import Exercise, SheetError, exercises_of, parse_points, sheet_id


class GradeError(Exception):
    """A problem with the grader's own inputs (reference, private checks, options)."""


@dataclasses.dataclass
class Sheet:
    sheet: str
    title: str
    path: Path
    cells: list  # the reference notebook's cells (nbformat nodes)
    exercises: list[Exercise]
    cases: dict | None = None  # exercise id -> course_lib.cases.Exercise (the protocol), or None

    def checked(self) -> list[Exercise]:
        """The auto-graded exercises (kind "check")."""
        return [e for e in self.exercises if e.kind == "check"]


def load_sheet(path: Path) -> Sheet | None:
    """Read one reference notebook; None when it carries no ``course.sheet``."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable reference is a grader error
        raise GradeError(f"reference {path}: cannot read it ({exc})") from exc
    sheet = sheet_id(nb)
    if sheet is None:
        return None
    try:
        exercises = exercises_of(nb, f"reference {path}")
    except SheetError as exc:
        raise GradeError(str(exc)) from None
    meta = nb.metadata.get("course", {})
    found = Sheet(sheet, str(meta.get("title", sheet)), Path(path), list(nb.cells), exercises)
    found.cases = _case_definitions(found, meta.get("cases"))
    return found


def _case_definitions(sheet: Sheet, module_name: object) -> dict | None:
    """The sheet's case definitions: course_lib.cases' registry, or the module the reference's
    metadata names (``course.cases``, a file next to the reference notebook)."""
    from course_lib.cases import sheet_exercises

    cases = sheet_exercises(sheet.sheet)
    if cases is None and isinstance(module_name, str):
        file = sheet.path.parent / f"{module_name}.py"
        if not file.is_file():
            raise GradeError(f"reference {sheet.path}: course.cases names {file}, which is not "
                             "there")
        cases = dict(runpy.run_path(str(file))["EXERCISES"])
    if cases is None:
        return None
    missing = [e.id for e in sheet.checked() if e.id not in cases]
    if missing:
        raise GradeError(f"reference {sheet.path}: no case definitions for {missing}")
    return cases


def load_reference(directory: Path) -> dict[str, Sheet]:
    directory = Path(directory)
    if not directory.is_dir():
        raise GradeError(f"reference directory {directory} does not exist")
    sheets: dict[str, Sheet] = {}
    for path in sorted(directory.glob("*.ipynb")):
        sheet = load_sheet(path)
        if sheet is None:
            continue
        if sheet.sheet in sheets:
            raise GradeError(
                f"sheet {sheet.sheet!r} is defined twice: {sheets[sheet.sheet].path} and {path}"
            )
        sheets[sheet.sheet] = sheet
    if not sheets:
        raise GradeError(f"no reference sheets (notebooks with course.sheet) in {directory}")
    return sheets


# --------------------------------------------------------------------------------------------
# Private checks
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class PrivateCheck:
    exercise: str
    sheet: str | None
    points: float | None  # None: a gate (must pass for any points); else extra points
    source: str
    origin: str


_PY_HEADER = re.compile(r"^# %% private-check\b(?P<attrs>.*)$")
_ATTR = re.compile(r"(\w+)=(\S+)")


def _extra_points(value: object, origin: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_points(float(value), origin)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SheetError):
            raise GradeError(str(exc)) from None
        raise GradeError(f"{origin}: points must be a number, got {value!r}") from None


def _private_from_attrs(attrs: dict, source: str, origin: str) -> PrivateCheck:
    unknown = set(attrs) - {"exercise", "sheet", "points"}
    if unknown:
        raise GradeError(f"{origin}: unknown attribute(s) {sorted(unknown)}")
    ex = attrs.get("exercise")
    if not isinstance(ex, str) or not ex:
        raise GradeError(f"{origin}: a private check needs exercise=ID")
    points = _extra_points(attrs.get("points"), origin)
    sheet = attrs.get("sheet")
    if not source.strip():
        raise GradeError(f"{origin}: the private check is empty")
    return PrivateCheck(ex, str(sheet) if sheet else None, points, source.strip("\n"), origin)


def _private_from_notebook(path: Path, text: str) -> list[PrivateCheck]:
    import nbformat

    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001
        raise GradeError(f"private checks {path}: not a readable notebook ({exc})") from exc
    checks = []
    for n, cell in enumerate(nb.cells):
        course = cell.get("metadata", {}).get("course", {})
        if not isinstance(course, dict) or course.get("role") != "private-check":
            continue
        if cell.cell_type != "code":
            raise GradeError(f"{path} cell {n}: a private check must be a code cell")
        attrs = {k: course[k] for k in ("exercise", "sheet", "points") if k in course}
        checks.append(_private_from_attrs(attrs, cell.source, f"{path} cell {n}"))
    return checks


def _refuse_preamble(path: Path, preamble: str) -> None:
    try:
        tree = ast.parse(preamble)
    except SyntaxError as exc:
        raise GradeError(f"{path}: {exc}") from exc
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if body:
        raise GradeError(f"{path}: code before the first '# %% private-check' line would never "
                         "run; put it inside a check")


def _private_from_python(path: Path, text: str) -> list[PrivateCheck]:
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _PY_HEADER.match(line)]
    _refuse_preamble(path, "\n".join(lines[: starts[0] if starts else len(lines)]))
    checks = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        header = _PY_HEADER.match(lines[start])
        attrs = dict(_ATTR.findall(header.group("attrs") if header else ""))
        source = "\n".join(lines[start + 1 : end])
        checks.append(_private_from_attrs(attrs, source, f"{path}:{start + 1}"))
    return checks


def load_private_cases(path: Path) -> list:
    """The PRIVATE_CASES of a Python file (course_lib.cases.PrivateCases), or [] if none."""
    from course_lib.cases import PrivateCases

    if path.suffix != ".py" or "PRIVATE_CASES" not in path.read_text(encoding="utf-8"):
        return []
    try:
        found = runpy.run_path(str(path)).get("PRIVATE_CASES", [])
    except Exception as exc:  # noqa: BLE001 - the instructor's file is broken
        raise GradeError(f"private checks {path}: {type(exc).__name__}: {exc}") from exc
    if not all(isinstance(p, PrivateCases) for p in found) or not found:
        raise GradeError(f"{path}: PRIVATE_CASES must be a non-empty list of PrivateCases")
    return list(found)


def attach_private_cases(sheets: dict[str, Sheet], found: list) -> list:
    for p in found:
        sheet = sheets.get(p.sheet)
        if sheet is None or sheet.cases is None or p.exercise not in sheet.cases:
            raise GradeError(f"private cases for {p.sheet}/{p.exercise}: no such case-defined "
                             "exercise in the reference")
    return found


def load_private_checks(path: Path) -> list[PrivateCheck]:
    """Read private checks from a ``.py`` file (``# %% private-check exercise=ID`` blocks) or a
    notebook (code cells with ``course.role == "private-check"``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GradeError(f"cannot read private checks {path}: {exc}") from exc
    reader = _private_from_notebook if path.suffix == ".ipynb" else _private_from_python
    checks = reader(path, text)
    if not checks:
        raise GradeError(f"{path}: no private checks found")
    return checks


def _target_sheet(sheets: dict[str, Sheet], check: PrivateCheck) -> str:
    if check.sheet is not None:
        if check.sheet not in sheets:
            raise GradeError(f"{check.origin}: unknown sheet {check.sheet!r}")
        targets = [check.sheet]
    else:
        targets = [s for s, sheet in sheets.items()
                   if any(e.id == check.exercise for e in sheet.checked())]
        if len(targets) > 1:
            raise GradeError(f"{check.origin}: exercise {check.exercise!r} is in several sheets "
                             f"({', '.join(targets)}); add sheet=...")
    if not targets or not any(e.id == check.exercise for e in sheets[targets[0]].checked()):
        where = f"sheet {check.sheet!r}" if check.sheet else "any reference sheet"
        raise GradeError(f"{check.origin}: no auto-graded exercise {check.exercise!r} in {where}")
    return targets[0]


def attach_private_checks(
    sheets: dict[str, Sheet], checks: Sequence[PrivateCheck]
) -> dict[tuple[str, str], list[PrivateCheck]]:
    """Map (sheet, exercise) to its private checks; unknown ids are an error (typos)."""
    result: dict[tuple[str, str], list[PrivateCheck]] = {}
    for check in checks:
        key = (_target_sheet(sheets, check), check.exercise)
        result.setdefault(key, []).append(check)
    return result
