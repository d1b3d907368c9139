"""Grade learners' exercise notebooks against the trusted reference, in a sandbox.

Usage::

    python -m course_lib.grade SUBMISSION.ipynb... --out grades.csv [--feedback DIR]
        [--reference DIR] [--private-checks FILE] [--jobs N] [--cell-timeout S]
        [--timeout S] [--memory SIZE] [--sandbox auto|bwrap|rlimits]

For each submission the notebook is rebuilt from the reference sheet with the same
``course.sheet`` (default reference: the repository's ``solutions/``): the learner's answer cells
are taken, everything else (set-up cells, check cells) comes from the reference, and optional
private checks are appended after the reference's check of their exercise. The rebuilt notebook
runs under nbval in a sandbox (see ``course_lib._sandbox``), one process tree per submission,
several in parallel. Results go to a CSV file (one row per submission and auto-graded exercise)
and optional Markdown feedback files. The grader never writes anywhere else (apart from its own
temporary directory), never to a submission nor to the course.

The README's "For instructors: grading" section is the user documentation.
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import json
import os
import queue
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import _sandbox

CSV_HEADER = ["submission", "sheet", "exercise", "points", "max_points", "status", "message"]
STATUSES = ("passed", "failed", "not attempted", "timed out", "error")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO_ROOT / "solutions"
MAX_NOTEBOOK_BYTES = 50 * 2**20

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION[ \t]*$")
_END = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")
_MARKER = re.compile(r"^\s*#\s*(NBVAL_[A-Z_]+)\s*$", re.MULTILINE)


class GradeError(Exception):
    """A problem with the grader's own inputs (reference, private checks, options)."""


# --------------------------------------------------------------------------------------------
# The reference sheets
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Exercise:
    id: str
    points: float
    kind: str  # "code" (has a check cell) or "written" (graded by hand)


@dataclasses.dataclass
class Sheet:
    sheet: str
    title: str
    path: Path
    cells: list  # the reference notebook's cells (nbformat nodes)
    exercises: list[Exercise]

    def code_exercises(self) -> list[Exercise]:
        return [e for e in self.exercises if e.kind == "code"]


def _course_meta(cell_or_nb) -> dict:
    meta = cell_or_nb.get("metadata", {})
    course = meta.get("course", {}) if isinstance(meta, dict) else {}
    return course if isinstance(course, dict) else {}


def _points(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise GradeError(f"{where}: points must be a non-negative number, got {value!r}")
    return float(value)


def load_sheet(path: Path) -> Sheet | None:
    """Read one reference notebook; None when it carries no ``course.sheet``."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable reference is a grader error
        raise GradeError(f"reference {path}: cannot read it ({exc})") from exc
    meta = _course_meta(nb)
    sheet = meta.get("sheet")
    if not isinstance(sheet, str) or not sheet:
        return None
    exercises: list[Exercise] = []
    seen: set[str] = set()
    answers: set[str] = set()
    for cell in nb.cells:
        course = _course_meta(cell)
        role, ex = course.get("role"), course.get("exercise")
        if role not in ("answer", "check", "written"):
            continue
        if not isinstance(ex, str) or not ex:
            raise GradeError(f"reference {path}: a {role} cell has no exercise id")
        if role == "answer":
            answers.add(ex)
            continue
        if ex in seen:
            raise GradeError(f"reference {path}: exercise {ex!r} has more than one {role} cell")
        seen.add(ex)
        where = f"reference {path}, exercise {ex!r}"
        if role == "check":
            if ex not in answers:
                raise GradeError(f"{where}: the check comes before any answer cell")
            exercises.append(Exercise(ex, _points(course.get("points", 1), where), "code"))
        else:
            exercises.append(Exercise(ex, _points(course.get("points", 1), where), "written"))
    return Sheet(sheet, str(meta.get("title", sheet)), path, list(nb.cells), exercises)


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


def stub_answer(source: str, exercise: str) -> str:
    """The exercise version of a reference answer cell: each solution region becomes a raise."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        if not inside:
            m = _BEGIN.match(line)
            if m:
                inside = True
                out.append(f'{m.group("indent")}raise NotAttempted("{exercise}")')
            else:
                out.append(line)
        elif _END.match(line):
            inside = False
    return "\n".join(out)


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


def _private_from_attrs(attrs: dict, source: str, origin: str) -> PrivateCheck:
    unknown = set(attrs) - {"exercise", "sheet", "points"}
    if unknown:
        raise GradeError(f"{origin}: unknown attribute(s) {sorted(unknown)}")
    ex = attrs.get("exercise")
    if not isinstance(ex, str) or not ex:
        raise GradeError(f"{origin}: a private check needs exercise=ID")
    points = attrs.get("points")
    if points is not None:
        try:
            points = _points(float(points), origin)
        except ValueError:
            raise GradeError(f"{origin}: points must be a number, got {points!r}") from None
    sheet = attrs.get("sheet")
    if not source.strip():
        raise GradeError(f"{origin}: the private check is empty")
    return PrivateCheck(ex, str(sheet) if sheet else None, points, source.strip("\n"), origin)


def load_private_checks(path: Path) -> list[PrivateCheck]:
    """Read private checks from a ``.py`` file (``# %% private-check exercise=ID`` blocks) or a
    notebook (code cells with ``course.role == "private-check"``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GradeError(f"cannot read private checks {path}: {exc}") from exc
    checks: list[PrivateCheck] = []
    if path.suffix == ".ipynb":
        import nbformat

        try:
            nb = nbformat.reads(text, as_version=4)
        except Exception as exc:  # noqa: BLE001
            raise GradeError(f"private checks {path}: not a readable notebook ({exc})") from exc
        for n, cell in enumerate(nb.cells):
            course = _course_meta(cell)
            if course.get("role") != "private-check":
                continue
            if cell.cell_type != "code":
                raise GradeError(f"{path} cell {n}: a private check must be a code cell")
            attrs = {k: course[k] for k in ("exercise", "sheet", "points") if k in course}
            checks.append(_private_from_attrs(attrs, cell.source, f"{path} cell {n}"))
    else:
        lines = text.splitlines()
        starts = [i for i, line in enumerate(lines) if _PY_HEADER.match(line)]
        preamble = "\n".join(lines[: starts[0] if starts else len(lines)])
        try:
            tree = ast.parse(preamble)
        except SyntaxError as exc:
            raise GradeError(f"{path}: {exc}") from exc
        body = tree.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        if body:
            raise GradeError(
                f"{path}: code before the first '# %% private-check' line would never run; "
                "put it inside a check"
            )
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(lines)
            header = _PY_HEADER.match(lines[start])
            assert header is not None  # starts holds the header lines only
            attrs = dict(_ATTR.findall(header.group("attrs")))
            source = "\n".join(lines[start + 1 : end])
            checks.append(_private_from_attrs(attrs, source, f"{path}:{start + 1}"))
    if not checks:
        raise GradeError(f"{path}: no private checks found")
    return checks


def attach_private_checks(
    sheets: dict[str, Sheet], checks: Sequence[PrivateCheck]
) -> dict[tuple[str, str], list[PrivateCheck]]:
    """Map (sheet, exercise) to its private checks; unknown ids are an error (typos)."""
    result: dict[tuple[str, str], list[PrivateCheck]] = {}
    for check in checks:
        if check.sheet is not None:
            if check.sheet not in sheets:
                raise GradeError(f"{check.origin}: unknown sheet {check.sheet!r}")
            targets = [check.sheet]
        else:
            targets = [
                s for s, sheet in sheets.items()
                if any(e.id == check.exercise for e in sheet.code_exercises())
            ]  # fmt: skip
            if len(targets) > 1:
                raise GradeError(
                    f"{check.origin}: exercise {check.exercise!r} is in several sheets "
                    f"({', '.join(targets)}); add sheet=..."
                )
        if not targets or not any(
            e.id == check.exercise for e in sheets[targets[0]].code_exercises()
        ):
            raise GradeError(
                f"{check.origin}: no auto-graded exercise {check.exercise!r} in "
                + (f"sheet {check.sheet!r}" if check.sheet else "any reference sheet")
            )
        result.setdefault((targets[0], check.exercise), []).append(check)
    return result


# --------------------------------------------------------------------------------------------
# Reading a submission and rebuilding it
# --------------------------------------------------------------------------------------------


class Ungradable(Exception):
    """The submission cannot be graded at all (the message says why, for the CSV)."""

    def __init__(self, message: str, sheet: str = ""):
        super().__init__(message)
        self.sheet = sheet


def read_submission(path: Path, sheets: dict[str, Sheet]):
    """Return (sheet, notebook) or raise Ungradable."""
    import nbformat

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Ungradable(f"cannot read the file: {exc.strerror or exc}") from exc
    if not path.is_file():
        raise Ungradable("not a file")
    if size > MAX_NOTEBOOK_BYTES:
        raise Ungradable(f"the file is too large ({size} bytes) to be an exercise notebook")
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Ungradable("not a notebook: the file is not UTF-8 text") from None
    except ValueError as exc:
        raise Ungradable(f"not a notebook: the file is not valid JSON ({exc})") from None
    except OSError as exc:
        raise Ungradable(f"cannot read the file: {exc.strerror or exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise Ungradable("not a Jupyter notebook: the JSON has no list of cells")
    if not isinstance(data.get("nbformat"), int):
        raise Ungradable("not a Jupyter notebook: the JSON has no nbformat version")
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
        raise Ungradable(f"not a readable Jupyter notebook ({type(exc).__name__}: {exc})") from None
    if not isinstance(nb.get("cells"), list) or not all(
        isinstance(c, dict) and isinstance(c.get("source", ""), str) for c in nb.cells
    ):
        raise Ungradable("not a readable Jupyter notebook (malformed cells)")
    sheet_id = _course_meta(nb).get("sheet")
    if not isinstance(sheet_id, str) or not sheet_id:
        raise Ungradable(
            "the notebook has no course.sheet in its metadata, so it is not one of the "
            "course's exercise sheets (was it made from an exercises/ notebook?)"
        )
    if sheet_id not in sheets:
        known = ", ".join(sorted(sheets))
        raise Ungradable(f"unknown sheet {sheet_id!r} (the reference has: {known})", sheet_id)
    return sheets[sheet_id], nb


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


def _reference_markers(cell) -> set[str]:
    found = set(_MARKER.findall(cell.get("source", "")))
    tags = cell.get("metadata", {}).get("tags", [])
    if isinstance(tags, list):
        if "nbval-skip" in tags:
            found.add("NBVAL_SKIP")
        if "raises-exception" in tags or "nbval-raises-exception" in tags:
            found.add("NBVAL_RAISES_EXCEPTION")
    return found


def rebuild(sheet: Sheet, learner, private: dict[tuple[str, str], list[PrivateCheck]]) -> Rebuilt:
    """The notebook that is actually run: the reference, with the learner's answer cells."""
    learner_answers: dict[str, list[str]] = {}
    learner_written: dict[str, str] = {}
    reference_sources = {c.get("source", "").strip() for c in sheet.cells}
    added = 0
    for cell in learner.cells:
        course = _course_meta(cell)
        role, ex = course.get("role"), course.get("exercise")
        if role == "answer" and isinstance(ex, str):
            learner_answers.setdefault(ex, []).append(cell.get("source", ""))
        elif role == "written" and isinstance(ex, str):
            learner_written[ex] = cell.get("source", "")
        elif (
            cell.get("cell_type") == "code"
            and cell.get("source", "").strip()
            and cell.get("source", "").strip() not in reference_sources
        ):
            added += 1
    notes: list[str] = []
    if added:
        notes.append(
            f"{added} code cell(s) outside the answer cells differ from the sheet or were added; "
            "they were not run: only answer cells are graded (put helper code in the answer "
            "cell that needs it)."
        )
    ref_answer_ids = {
        _course_meta(c).get("exercise")
        for c in sheet.cells
        if _course_meta(c).get("role") == "answer"
    }
    unknown = sorted(set(learner_answers) - ref_answer_ids)
    if unknown:
        notes.append(f"answer cells for unknown exercise id(s) {', '.join(unknown)} were ignored.")

    cells: list[dict] = []
    plan: list[CellPlan] = []
    used: dict[str, int] = {}
    ref_answer_counts: dict[str, int] = {}
    for c in sheet.cells:
        course = _course_meta(c)
        if course.get("role") == "answer":
            ex = course["exercise"]
            ref_answer_counts[ex] = ref_answer_counts.get(ex, 0) + 1

    def add(source: str, info: CellPlan, skip: bool = False, course: dict | None = None):
        info.index = len(cells)
        meta = {"course_grade": {"index": info.index, "skip": skip}}
        if course:
            meta["course"] = course
        cells.append(
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"grade-{info.index}",
                "metadata": meta,
                "outputs": [],
                "source": source,
            }
        )
        plan.append(info)

    for ref in sheet.cells:
        if ref.get("cell_type") != "code":
            continue
        course = _course_meta(ref)
        role, ex = course.get("role"), course.get("exercise")
        markers = _reference_markers(ref)
        if role == "answer":
            assert isinstance(ex, str)  # answer and check cells always name their exercise
            k = used.get(ex, 0)
            used[ex] = k + 1
            mine = learner_answers.get(ex, [])
            if k < len(mine):
                source = mine[k]
                if k == ref_answer_counts[ex] - 1 and len(mine) > k + 1:
                    source = "\n\n".join([source, *mine[k + 1 :]])  # extra copies: keep all
            else:
                source = stub_answer(ref.get("source", ""), ex)
            add(source, CellPlan(0, "answer", ex), course=dict(course))
        elif role == "check":
            assert isinstance(ex, str)
            add(ref.get("source", ""), CellPlan(0, "check", ex), course=dict(course))
            for check in private.get((sheet.sheet, ex), []):
                add(check.source, CellPlan(0, "private", ex, check))
        else:
            info = CellPlan(0, "setup", tolerate_error="NBVAL_RAISES_EXCEPTION" in markers)
            add(ref.get("source", ""), info, skip="NBVAL_SKIP" in markers)

    written = {}
    for ex in sheet.exercises:
        if ex.kind == "written":
            text = learner_written.get(ex.id, "")
            if "_Write your answer here._" in text:
                text = ""
            written[ex.id] = text.strip()
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "course": {"sheet": sheet.sheet},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return Rebuilt(json.dumps(nb, indent=1), plan, notes, written)


# --------------------------------------------------------------------------------------------
# Turning the run's records into grades
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    exercise: str
    points: float
    max_points: float
    status: str
    message: str  # the full text, for the feedback file (the CSV gets one line of it)


def one_line(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclasses.dataclass
class CellRun:
    state: str  # ok, skipped, timed_out, stopped, died, dead_at_start, setup_error, failed
    outputs: list
    message: str = ""
    kernel_exit: int | None = None

    def error(self) -> dict | None:
        for out in self.outputs:
            if out.get("type") == "error":
                return out
        return None

    def stdout(self) -> str:
        return "".join(
            o.get("text", "")
            for o in self.outputs
            if o.get("type") == "stream" and o.get("name") == "stdout"
        )


def _cell_runs(records: list[dict]) -> dict[int, CellRun]:
    runs: dict[int, CellRun] = {}
    for rec in records:
        if rec.get("event") != "cell" or not isinstance(rec.get("index"), int):
            continue
        exc = rec.get("exc") or {}
        etype, emsg = str(exc.get("type", "")), str(exc.get("message", ""))
        outputs = [o for o in rec.get("outputs") or [] if isinstance(o, dict)]
        code = rec.get("kernel_exit") if isinstance(rec.get("kernel_exit"), int) else None
        if rec.get("phase") == "setup":
            state = "setup_error"
        elif etype == "KernelDied":
            state = "died"
        elif etype == "RuntimeError" and "Kernel dead" in emsg:
            state = "dead_at_start"
        elif rec.get("timed_out"):
            state = "timed_out" if rec.get("kernel_alive") else "stopped"
        elif etype == "Skipped":
            state = "skipped"
        elif exc and not rec.get("kernel_alive"):
            state = "died"
        elif exc:
            state = "failed"
        else:
            state = "ok"
        runs[rec["index"]] = CellRun(state, outputs, emsg, code)
    return runs


def _exit_text(code: int | None) -> str:
    if code is None:
        return ""
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (a resource limit, e.g. CPU time)" if name in ("SIGKILL", "SIGXCPU") else ""
        return f" (killed by {name}{hint})"
    return f" (exit code {code})"


class _Grader:
    """Grades one run of one rebuilt notebook."""

    def __init__(self, sheet: Sheet, rebuilt: Rebuilt, run, limits: _sandbox.Limits):
        self.sheet = sheet
        self.plan = rebuilt.plan
        self.limits = limits
        self.run = run
        self.runs = _cell_runs(run.records) if run is not None else {}

    def _label(self, info: CellPlan) -> str:
        if info.role == "answer":
            return f"your answer cell of exercise {info.exercise}"
        if info.role == "check":
            return f"the check of exercise {info.exercise}"
        if info.role == "private":
            return f"a hidden check of exercise {info.exercise}"
        return f"set-up cell {info.index}"

    def _kernel_loss(self) -> tuple[CellPlan, CellRun] | None:
        """The cell where the kernel died or had to be stopped, if any."""
        for info in self.plan:
            run = self.runs.get(info.index)
            if run is not None and run.state in ("died", "stopped"):
                return info, run
        return None

    def _setup_failure(self) -> str | None:
        """A set-up cell that failed before any answer ran: the environment's fault."""
        for info in self.plan:
            if info.role != "setup":
                return None
            run = self.runs.get(info.index)
            if run is None:
                return None
            if run.state == "setup_error":
                return f"the notebook's kernel could not be started: {run.message}"
            err = run.error()
            if err is not None and not info.tolerate_error:
                return (
                    f"set-up cell {info.index} of the sheet failed in the grading sandbox "
                    f"({err.get('ename')}: {err.get('evalue')}); this is a problem of the "
                    "grading environment, not of the submission"
                )
        return None

    def _interrupted(self) -> CellPlan | None:
        """The cell that was running when the run ended early (started, never reported)."""
        started = [
            r["index"] for r in (self.run.records if self.run else [])
            if r.get("event") == "start" and isinstance(r.get("index"), int)
        ]  # fmt: skip
        for index in reversed(started):
            if index not in self.runs and 0 <= index < len(self.plan):
                return self.plan[index]
        return None

    def _missing(self, ex: Exercise) -> tuple[str, str]:
        """Status and message for an exercise whose check never reported."""
        cause = self._interrupted()
        mine = cause is not None and cause.exercise == ex.id
        label = self._label(cause) if cause is not None else ""
        if self.run is not None and self.run.total_timed_out:
            where = (
                f"while running {label}" if mine
                else "before this exercise was checked"
            )  # fmt: skip
            return "timed out", (
                f"The notebook's total time limit ({self.limits.total_timeout:g} s) ran out "
                f"{where}."
            )
        if mine:
            return "error", (
                f"The process running the notebook ended while running {label} "
                "(was it killed by the code?). Nothing after it could run."
            )
        if cause is not None:
            return "error", (
                "Not checked: the process running the notebook ended earlier, while running "
                f"{self._label(cause)}."
            )
        return "error", (
            "Not checked: the process running the notebook ended unexpectedly"
            + (f" (exit status {self.run.returncode})" if self.run else "")
            + "."
        )

    def grade(self) -> list[Result]:
        setup_problem = self._setup_failure()
        results = []
        for ex in self.sheet.code_exercises():
            res = self._grade_exercise(ex)
            if setup_problem and res.status != "passed":
                res = Result(ex.id, 0.0, res.max_points, "error", "Not graded: " + setup_problem)
            results.append(res)
        return results

    def _grade_exercise(self, ex: Exercise) -> Result:
        cells = [c for c in self.plan if c.exercise == ex.id]
        answers = [c for c in cells if c.role == "answer"]
        check = next(c for c in cells if c.role == "check")
        privates = [c for c in cells if c.role == "private"]
        max_points = ex.points + sum(
            p.private.points or 0.0 for p in privates if p.private is not None
        )

        def result(status: str, message: str, points: float = 0.0) -> Result:
            return Result(ex.id, points, max_points, status, message)

        for info in cells:  # 1. the kernel died in one of this exercise's cells
            run = self.runs.get(info.index)
            if run is not None and run.state == "died":
                return result(
                    "error",
                    f"The Python kernel died while running {self._label(info)}"
                    f"{_exit_text(run.kernel_exit)}: the code ended the Python process "
                    "(os._exit, a crash) or hit a resource limit. Nothing after it could run.",
                )
        run = self.runs.get(check.index)
        if run is None:
            return result(*self._missing(ex))
        if run.state == "setup_error":
            return result("error", f"The notebook's kernel could not be started: {run.message}")
        if run.state in ("timed_out", "stopped"):
            return result(
                "timed out",
                f"The check did not finish within {self.limits.cell_timeout:g} s: is there an "
                "endless loop, or is the code far slower than it needs to be?",
            )
        if run.state == "dead_at_start":
            loss = self._kernel_loss()
            if loss and loss[0].exercise == ex.id:
                return result(
                    "timed out",
                    f"{self._label(loss[0]).capitalize()} did not finish within "
                    f"{self.limits.cell_timeout:g} s and did not stop when interrupted, so the "
                    "kernel was stopped.",
                )
            cause = ""
            if loss:
                how = "died" if loss[1].state == "died" else "had to be stopped after a timeout"
                cause = f": the kernel {how} in {self._label(loss[0])}"
            return result("error", f"Not checked{cause}. Nothing after that could run.")
        if run.state != "ok":
            return result("error", f"The check could not run: {run.message or run.state}.")

        answer_runs = [(a, self.runs.get(a.index)) for a in answers]
        err = run.error()
        if err is None:
            line = re.compile(rf"^\[{re.escape(ex.id)}\] passed: (\d+)/\1 cases\s*$", re.M)
            if not line.search(run.stdout()):
                return result("failed", "The check finished without reporting a pass.")
            return self._with_private(ex, privates, result)
        ename, evalue = str(err.get("ename", "")), str(err.get("evalue", ""))
        answer_errors = [(a, e) for a, r in answer_runs if r is not None and (e := r.error())]
        not_attempted = any(e.get("ename") == "NotAttempted" for _, e in answer_errors)
        if ename == "NotAttempted" or not_attempted:
            return result(
                "not attempted",
                "Not attempted yet: the answer still raises NotAttempted (replace that line "
                "with your code).",
            )
        if any(r is not None and r.state == "timed_out" for _, r in answer_runs):
            return result(
                "timed out",
                f"Your answer cell did not finish within {self.limits.cell_timeout:g} s and "
                "was interrupted, so its code was not fully defined when the check ran.",
            )
        if ename == "CheckFailed":
            return result("failed", evalue)
        message = f"The check stopped with {ename}" + (f": {evalue}" if evalue.strip() else "")
        if ename == "MemoryError":
            message += (
                f" (each process may use at most {_sandbox._human(self.limits.memory)} "
                "of memory)"
            )
        for a, e in answer_errors:
            message += (
                f". Your answer cell raised {e.get('ename')}: {e.get('evalue')}"
                + (f" (cell part {answers.index(a) + 1})" if len(answers) > 1 else "")
            )
        if ename == "NameError":
            message += (
                ". Names used by the check must be defined in the answer cell itself: code in "
                "cells you added is not run when grading"
            )
        return result("failed", message + ".")

    def _with_private(self, ex: Exercise, privates: list[CellPlan], result) -> Result:
        points = ex.points
        failures: list[tuple[str, str]] = []
        gate_failed = False
        for info in privates:
            run = self.runs.get(info.index)
            check = info.private
            assert check is not None  # every "private" cell plan carries its check
            if run is None:
                status, msg = self._missing(ex)
                failures.append((status, msg))
                gate_failed = gate_failed or check.points is None
                continue
            if run.state in ("timed_out", "stopped"):
                failures.append(
                    ("timed out", f"A hidden check did not finish within "
                                  f"{self.limits.cell_timeout:g} s.")
                )  # fmt: skip
            elif run.state != "ok":
                failures.append(("error", f"A hidden check could not run ({run.state})."))
            elif (e := run.error()) is not None:
                text = str(e.get("evalue", "")).strip()
                failures.append(
                    ("failed", f"A hidden check failed: {text}" if text
                     else f"A hidden check failed ({e.get('ename')}).")
                )  # fmt: skip
            else:
                if check.points is not None:
                    points += check.points
                continue
            if check.points is None:
                gate_failed = True
        if not failures:
            return result("passed", "", points)
        status, message = failures[0]
        if status == "error":
            status = "failed"
        return result(status, message, 0.0 if gate_failed else points)


# --------------------------------------------------------------------------------------------
# Grading submissions
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SubmissionReport:
    submission: str
    sheet: str
    results: list[Result]
    notes: list[str]
    written: dict[str, str]
    sheet_obj: Sheet | None = None
    seconds: float = 0.0
    debug: dict | None = None  # rebuilt notebook, records, log tail (for --debug-dir)


def grade_submission(
    submission: str,
    sheets: dict[str, Sheet],
    private: dict,
    sandbox: _sandbox.Sandbox | None,
    base: Path,
    name: str,
    slot: int,
    sandbox_problem: str | None = None,
) -> SubmissionReport:
    start = time.monotonic()
    try:
        sheet, learner = read_submission(Path(submission), sheets)
    except Ungradable as exc:
        sheet_obj = sheets.get(exc.sheet)
        rows = [Result("", 0.0, 0.0, "error", str(exc))]
        return SubmissionReport(submission, exc.sheet, rows, [], {}, sheet_obj)
    rebuilt = rebuild(sheet, learner, private)
    notes = list(rebuilt.notes)
    if sandbox is None:
        results = [
            Result(e.id, 0.0, _max_points(sheet, private, e), "error",
                   f"Not graded: {sandbox_problem}")
            for e in sheet.code_exercises()
        ]  # fmt: skip
        return SubmissionReport(submission, sheet.sheet, results, notes, rebuilt.written, sheet)
    run = sandbox.run(base, name, rebuilt.notebook_json, slot)
    results = _Grader(sheet, rebuilt, run, sandbox.limits).grade()
    if sandbox.warning:
        notes.append("Sandbox: " + sandbox.warning)
    report = SubmissionReport(submission, sheet.sheet, results, notes, rebuilt.written, sheet)
    report.seconds = time.monotonic() - start
    report.debug = {
        "notebook": rebuilt.notebook_json,
        "records": run.records,
        "log": run.log_tail,
        "returncode": run.returncode,
        "total_timed_out": run.total_timed_out,
        "seconds": run.elapsed,
    }
    return report


def _max_points(sheet: Sheet, private: dict, ex: Exercise) -> float:
    return ex.points + sum(p.points or 0.0 for p in private.get((sheet.sheet, ex.id), []))


def feedback_markdown(report: SubmissionReport) -> str:
    lines = [f"# Feedback: {Path(report.submission).name}", ""]
    if report.sheet_obj is not None:
        lines += [f"Sheet: **{report.sheet_obj.title}** (`{report.sheet}`)", ""]
    graded = [r for r in report.results if r.exercise]
    if not graded:
        lines += ["This file could not be graded:", "", f"> {report.results[0].message}", ""]
    else:
        total = sum(r.points for r in graded)
        top = sum(r.max_points for r in graded)
        lines += [f"Auto-graded score: **{_fmt(total)} / {_fmt(top)}**", ""]
        lines += ["| exercise | points | status |", "|---|---|---|"]
        for r in graded:
            score = f"{_fmt(r.points)} / {_fmt(r.max_points)}"
            lines.append(f"| `{r.exercise}` | {score} | {r.status} |")
        lines.append("")
        for r in graded:
            if r.status == "passed":
                continue
            lines += [f"## `{r.exercise}`: {r.status}", ""]
            body = r.message.strip() or "(no message)"
            lines += ["```text", body.replace("```", "'''"), "```", ""]
    if report.written:
        lines += ["## Written answers (graded by hand, not in the score above)", ""]
        for ex_id, text in report.written.items():
            state = "answered" if text else "not answered yet"
            lines.append(f"- `{ex_id}`: {state}")
        lines.append("")
    if report.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in report.notes] + [""]
    return "\n".join(lines)


def _feedback_names(submissions: Sequence[str]) -> list[str]:
    names: list[str] = []
    taken: set[str] = set()
    for sub in submissions:
        p = Path(sub)
        candidates = [p.stem, f"{p.parent.name}__{p.stem}" if p.parent.name else p.stem]
        name = next((c for c in candidates if c and c not in taken), None)
        k = 2
        while name is None or name in taken:
            name = f"{p.stem}-{k}"
            k += 1
        taken.add(name)
        names.append(name)
    return names


def expand_submissions(args: Sequence[str]) -> list[str]:
    result = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            found = sorted(
                str(f) for f in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in f.parts
            )
            result.extend(found)
        else:
            result.append(arg)
    return result


def write_csv(path: Path, reports: Sequence[SubmissionReport]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for rep in reports:
            for r in rep.results:
                writer.writerow(
                    [rep.submission, rep.sheet, r.exercise, _fmt(r.points), _fmt(r.max_points),
                     r.status, one_line(r.message)]
                )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m course_lib.grade",
        description="Grade exercise notebooks against the reference sheets, in a sandbox.",
    )
    p.add_argument("submissions", nargs="+", help="notebooks (or directories of notebooks)")
    p.add_argument("--out", required=True, help="CSV file to write (one row per exercise)")
    p.add_argument("--feedback", help="directory for one Markdown feedback file per submission")
    p.add_argument("--reference", default=str(DEFAULT_REFERENCE),
                   help="directory of reference sheets (default: the repository's solutions/)")
    p.add_argument("--private-checks", help="extra checks learners never see (.py or .ipynb)")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                   help="submissions graded in parallel (default: number of CPUs)")
    p.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell (60)")
    p.add_argument("--timeout", type=float, default=600.0,
                   help="wall-clock seconds per submission (600)")
    p.add_argument("--memory", default="4G", help="address space per process (4G)")
    p.add_argument("--disk", default="512M", help="working-directory size / largest file (512M)")
    p.add_argument("--nproc", type=int, default=256, help="processes per submission (256)")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "rlimits"), default="auto",
                   help="auto: bubblewrap when it works, else resource limits only (loudly)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--debug-dir", help="also write each rebuilt notebook, the raw cell records "
                   "and pytest's output there (for diagnosing the grader)")
    return p  # fmt: skip


def _check_outputs(args, submissions: Sequence[str], reference: Path) -> None:
    protected = {os.path.realpath(s) for s in submissions}
    if args.private_checks:
        protected.add(os.path.realpath(args.private_checks))
    ref = os.path.realpath(reference)
    out = os.path.realpath(args.out)
    if out in protected or out.startswith(ref + os.sep):
        raise GradeError(f"--out {args.out} would overwrite an input; choose another path")
    if args.feedback:
        fb = os.path.realpath(args.feedback)
        if fb == ref or fb.startswith(ref + os.sep):
            raise GradeError("--feedback must not be inside the reference directory")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    # jsonschema (imported by nbformat) would import the optional rfc3987_syntax, which builds a
    # grammar for about a second; nbformat never needs it
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

    def say(msg: str) -> None:
        print(f"grade: {msg}", file=sys.stderr, flush=True)

    try:
        reference = Path(args.reference)
        sheets = load_reference(reference)
        private_checks = []
        if args.private_checks:
            private_checks = load_private_checks(Path(args.private_checks))
        private = attach_private_checks(sheets, private_checks)
        submissions = expand_submissions(args.submissions)
        _check_outputs(args, submissions, reference)
        if args.jobs < 1:
            raise GradeError("--jobs must be at least 1")
        limits = _sandbox.Limits(
            cell_timeout=args.cell_timeout,
            total_timeout=args.timeout,
            memory=_sandbox.parse_size(args.memory),
            disk=_sandbox.parse_size(args.disk),
            nproc=args.nproc,
        )
    except (GradeError, ValueError) as exc:
        say(f"error: {exc}")
        return 2

    jobs = max(1, min(args.jobs, len(submissions) or 1))
    names = _feedback_names(submissions)
    hidden = [Path(os.path.realpath(s)) for s in submissions]
    hidden += [p.parent for p in hidden]
    hidden += [Path(os.path.realpath(reference))]
    for extra in (args.private_checks, args.out, args.feedback, args.debug_dir):
        if extra:
            hidden.append(Path(os.path.realpath(extra)))
    base = Path(tempfile.mkdtemp(prefix="course-grade-"))
    reports: list[SubmissionReport | None] = [None] * len(submissions)
    problem: str | None = None
    try:
        base.chmod(0o711)  # sandbox uids reach their own job directory, list nothing
        uid_base = os.environ.get("COURSE_GRADE_UID_BASE")
        sandbox: _sandbox.Sandbox | None
        try:
            sandbox, messages = _sandbox.detect(
                args.sandbox, limits, REPO_ROOT, hidden, base, jobs,
                int(uid_base) if uid_base else None,
            )  # fmt: skip
            for m in messages:
                say(m)
            say(sandbox.describe())
        except _sandbox.SandboxUnavailable as exc:
            for m in exc.messages:
                say(m)
            sandbox, problem = None, f"no usable sandbox: {exc}"
            say(f"ERROR: {problem}")
            say("every submission gets status 'error'; nothing was run")

        slots: queue.Queue[int] = queue.Queue()
        for k in range(jobs):
            slots.put(k)

        def work(i: int) -> SubmissionReport:
            slot = slots.get()
            try:
                return grade_submission(
                    submissions[i], sheets, private, sandbox, base, f"job{i}", slot, problem
                )
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the rest
                return SubmissionReport(
                    submissions[i], "", [Result("", 0.0, 0.0, "error", f"grader error: {exc!r}")],
                    [], {},
                )  # fmt: skip
            finally:
                slots.put(slot)

        from tqdm import tqdm

        with ThreadPoolExecutor(max_workers=jobs) as pool, tqdm(
            total=len(submissions), file=sys.stderr, unit="nb", disable=args.no_progress,
            desc="grading",
        ) as bar:  # fmt: skip
            futures = {pool.submit(work, i): i for i in range(len(submissions))}
            for fut in as_completed(futures):
                reports[futures[fut]] = fut.result()
                bar.update(1)
    finally:
        _sandbox.remove_tree(base)

    done = [r for r in reports if r is not None]
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True)
    write_csv(out, done)
    if args.feedback:
        fb = Path(args.feedback)
        fb.mkdir(parents=True, exist_ok=True)
        for rep, name in zip(done, names, strict=True):
            (fb / f"{name}.md").write_text(feedback_markdown(rep), encoding="utf-8")
    if args.debug_dir:
        dbg = Path(args.debug_dir)
        dbg.mkdir(parents=True, exist_ok=True)
        for rep, name in zip(done, names, strict=True):
            if rep.debug:
                info = dict(rep.debug)
                (dbg / f"{name}.rebuilt.ipynb").write_text(info.pop("notebook"), "utf-8")
                (dbg / f"{name}.run.json").write_text(json.dumps(info, indent=1), "utf-8")
    errors = sum(1 for rep in done for r in rep.results if r.status == "error")
    say(
        f"graded {len(done)} submission(s) in {time.monotonic() - started:.1f} s "
        f"({errors} row(s) with status 'error') -> {args.out}"
    )
    return 0 if problem is None else 1


if __name__ == "__main__":
    sys.exit(main())
