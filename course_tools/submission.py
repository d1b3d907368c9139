"""Reading a learner's submission (in the trusted process) and rebuilding the notebook to run.

The rebuilt notebook is the reference sheet with the learner's answer cells, found by their
exercise ids (never by position): set-up and check cells always come from the reference, and
private checks follow the reference's check of their exercise.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat

from .reference import PrivateCheck, Sheet
from .sheet_format import course_meta, replace_code_regions, sheet_id, written_answer

MAX_NOTEBOOK_BYTES = 50 * 2**20
_MARKER = re.compile(r"^\s*#\s*(NBVAL_[A-Z_]+)\s*$", re.MULTILINE)


class Ungradable(Exception):
    """The submission cannot be graded at all (the message says why, for the CSV)."""

    def __init__(self, message: str, sheet: str = ""):
        super().__init__(message)
        self.sheet = sheet


def read_bytes_nofollow(path: str) -> bytes:
    """The file's bytes, opened without following a symlink (a symlink is Ungradable)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if os.path.islink(path):
            raise Ungradable("the submission is a symbolic link, not a file: hand in the "
                             "notebook itself") from None
        raise Ungradable(f"cannot read the file: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Ungradable("not a file")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise Ungradable(f"the file is too large ({info.st_size} bytes) to be an exercise "
                             "notebook")
        return f.read(MAX_NOTEBOOK_BYTES + 1)


def _parse_notebook(raw: bytes):
    import nbformat

    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Ungradable("not a notebook: the file is not UTF-8 text") from None
    except ValueError as exc:
        raise Ungradable(f"not a notebook: the file is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise Ungradable("not a Jupyter notebook: the JSON has no list of cells")
    if not isinstance(data.get("nbformat"), int):
        raise Ungradable("not a Jupyter notebook: the JSON has no nbformat version")
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
        raise Ungradable(f"not a readable Jupyter notebook ({type(exc).__name__}: {exc})") from None
    if not all(isinstance(c, dict) and isinstance(c.get("source", ""), str) for c in nb.cells):
        raise Ungradable("not a readable Jupyter notebook (malformed cells)")
    return nb


def read_submission(path: str, sheets: dict[str, Sheet], expected: str | None = None):
    """Return (sheet, notebook) or raise Ungradable. ``expected``: the only sheet allowed."""
    nb = _parse_notebook(read_bytes_nofollow(path))
    found = sheet_id(nb)
    if found is None:
        raise Ungradable(
            "the notebook has no course.sheet in its metadata, so it is not one of the "
            "course's exercise sheets (was it made from an exercises/ notebook?)"
        )
    if expected is not None and found != expected:
        raise Ungradable(f"this assignment is sheet {expected!r}, but the notebook is sheet "
                         f"{found!r}", found)
    if found not in sheets:
        known = ", ".join(sorted(sheets))
        raise Ungradable(f"unknown sheet {found!r} (the reference has: {known})", found)
    return sheets[found], nb


# --------------------------------------------------------------------------------------------
# Rebuilding
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class CellPlan:
    index: int
    role: str  # "setup", "answer", "check", "private"
    exercise: str | None = None
    private: PrivateCheck | None = None
    tolerate_error: bool = False  # the reference marks the cell NBVAL_RAISES_EXCEPTION


@dataclasses.dataclass
class Rebuilt:
    notebook_json: str
    plan: list[CellPlan]
    notes: list[str]
    written: dict[str, str]  # written exercise id -> the learner's text ("" when untouched)
    not_code: set[str] = dataclasses.field(default_factory=set)  # answers given in Markdown


@dataclasses.dataclass
class LearnerCells:
    """What the grader takes from a submission."""

    answers: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    written: dict[str, str] = dataclasses.field(default_factory=dict)
    not_code: set[str] = dataclasses.field(default_factory=set)  # answers in non-code cells
    added: int = 0  # code cells outside the answers that are not in the reference


def _reference_markers(cell) -> set[str]:
    found = set(_MARKER.findall(cell.get("source", "")))
    tags = cell.get("metadata", {}).get("tags", [])
    if isinstance(tags, list):
        if "nbval-skip" in tags:
            found.add("NBVAL_SKIP")
        if "raises-exception" in tags or "nbval-raises-exception" in tags:
            found.add("NBVAL_RAISES_EXCEPTION")
    return found


def learner_cells(sheet: Sheet, learner) -> LearnerCells:
    found = LearnerCells()
    reference_sources = {c.get("source", "").strip() for c in sheet.cells}
    for cell in learner.cells:
        course = course_meta(cell)
        role, ex = course.get("role"), course.get("exercise")
        source = cell.get("source", "")
        if role == "answer" and isinstance(ex, str):
            if cell.get("cell_type") != "code":
                found.not_code.add(ex)
                continue
            found.answers.setdefault(ex, []).append(source)
        elif role == "written" and isinstance(ex, str):
            found.written[ex] = source
        elif role == "check":
            continue  # never run from the submission (and an explain check carries its seal)
        elif cell.get("cell_type") == "code" and source.strip() not in reference_sources | {""}:
            found.added += 1
    return found


def _notes(sheet: Sheet, found: LearnerCells) -> list[str]:
    notes: list[str] = []
    if found.added:
        notes.append(
            f"{found.added} code cell(s) outside the answer cells differ from the sheet or were "
            "added; they were not run: only answer cells are graded (put helper code in the "
            "answer cell that needs it)."
        )
    for ex in sorted(found.not_code):
        notes.append(f"an answer cell of exercise {ex} is not a code cell (Markdown or raw), so "
                     "it was not run; change its type back to Code.")
    ids = {course_meta(c).get("exercise") for c in sheet.cells
           if course_meta(c).get("role") == "answer"}
    unknown = sorted(set(found.answers) - ids)
    if unknown:
        notes.append(f"answer cells for unknown exercise id(s) {', '.join(unknown)} were ignored.")
    return notes


class _Builder:
    """Collects the cells of the rebuilt notebook and their plan."""

    def __init__(self) -> None:
        self.cells: list[dict] = []
        self.plan: list[CellPlan] = []

    def add(self, source: str, info: CellPlan, skip: bool = False, course=None) -> None:
        info.index = len(self.cells)
        meta: dict = {"course_grade": {"index": info.index, "skip": skip}}
        if course:
            meta["course"] = course
        self.cells.append({"cell_type": "code", "execution_count": None,
                           "id": f"grade-{info.index}", "metadata": meta, "outputs": [],
                           "source": source})
        self.plan.append(info)


def _answer_source(ref, ex: str, k: int, mine: list[str], last: bool) -> str:
    """The source run for the k-th answer cell of ``ex`` (the stub when the learner has none)."""
    if k >= len(mine):
        return replace_code_regions(ref.get("source", ""), ex, f"reference answer of {ex}")
    if last and len(mine) > k + 1:
        return "\n\n".join(mine[k:])  # extra copies: keep them all
    return mine[k]


def _add_reference_cell(build: _Builder, ref, found: LearnerCells, used: dict, counts: dict,
                        private: list[PrivateCheck]) -> None:
    course = course_meta(ref)
    role, ex = course.get("role"), course.get("exercise")
    if role == "answer":
        k = used[ex] = used.get(ex, -1) + 1
        source = _answer_source(ref, ex, k, found.answers.get(ex, []), k == counts[ex] - 1)
        build.add(source, CellPlan(0, "answer", ex), course=course)
    elif role == "check":
        build.add(ref.get("source", ""), CellPlan(0, "check", ex), course=course)
        for check in private:
            if check.exercise == ex:
                build.add(check.source, CellPlan(0, "private", ex, check))
    else:
        markers = _reference_markers(ref)
        info = CellPlan(0, "setup", tolerate_error="NBVAL_RAISES_EXCEPTION" in markers)
        build.add(ref.get("source", ""), info, skip="NBVAL_SKIP" in markers)


def rebuild(sheet: Sheet, learner, private: dict[tuple[str, str], list[PrivateCheck]]) -> Rebuilt:
    """The notebook that is actually run: the reference, with the learner's answer cells."""
    found = learner_cells(sheet, learner)
    counts: dict[str, int] = {}
    for c in sheet.cells:
        if course_meta(c).get("role") == "answer":
            ex = course_meta(c)["exercise"]
            counts[ex] = counts.get(ex, 0) + 1
    checks = [c for (s, _), cs in private.items() if s == sheet.sheet for c in cs]
    build, used = _Builder(), {}
    for ref in sheet.cells:
        if ref.get("cell_type") == "code":
            _add_reference_cell(build, ref, found, used, counts, checks)
    # a written answer is a Markdown cell, or (explain) a code cell assigning a string
    written = {e.id: written_answer(found.written.get(e.id)
                                    or "\n".join(found.answers.get(e.id, [])[:1]))
               for e in sheet.exercises if e.kind == "written"}
    nb = {"cells": build.cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                      "name": "python3"},
                       "course": {"sheet": sheet.sheet}}}
    return Rebuilt(json.dumps(nb, indent=1), build.plan, _notes(sheet, found), written,
                   found.not_code)
