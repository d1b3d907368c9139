"""Exercise sheets: generate ``exercises/`` from ``solutions/``, and check a sheet.

Command line (run from the repository's root; ``make exercises`` and ``make check`` call it)::

    python -m course_tools.sheets build                 # write exercises/ from solutions/
    python -m course_tools.sheets check-sync            # exit 1 if exercises/ is out of date
    python -m course_tools.sheets report NOTEBOOK       # run a sheet, print one row per exercise

The format of a sheet is described in ``solutions/README.md``: exercises are found by the
``"course"`` metadata of their cells, never by position.

``report`` runs the notebook in its own folder (one kernel, a time limit per cell), then prints
a table ``exercise  points  status  message`` with the status ``passed``, ``failed``,
``not attempted`` or ``error`` (written answers show ``answered`` or ``not attempted`` and are
graded by hand), and a last line ``N of M exercises passed``. Its exit status is 0 when every
checked exercise passed, 1 otherwise (failed, not attempted or error), and 2 when the argument
is not a course sheet.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from .sheet_format import (
    MARKERS,
    PLACEHOLDER,
    SETUP_IMPORT,
    TASKS,
    Exercise,
    SheetError,
    _where,
    answer_string,
    course_meta,
    exercises_of,
    passed_in,
    replace_text_regions,
    shipped_answer,
    source_digest,
    untouched,
    written_answer,
)

DEFAULT_TIMEOUT = 120  # seconds per cell when a sheet is checked

# Cell metadata that records one run (nbclient's timings) rather than the content.
_RUN_METADATA = ("execution",)

__all__ = ["build", "check_sync", "exercise_notebook", "generate", "report", "summarize",
           "Exercise", "SheetError", "PLACEHOLDER"]


def _validate_sheet(nb: NotebookNode, path: Path) -> list[Exercise]:
    meta = nb.metadata.get("course")
    if not isinstance(meta, dict) or meta.get("sheet") != path.stem or not meta.get("title"):
        raise SheetError(
            f"{path}: the notebook metadata needs \"course\": {{\"sheet\": \"{path.stem}\", "
            f"\"title\": \"...\"}}, got {meta!r}."
        )
    exercises = exercises_of(nb, path)
    if not exercises:
        raise SheetError(f"{path}: no exercises (no cell has \"course\" metadata).")
    first_answer = min(i for e in exercises for i in e.answer_cells)
    setup = [
        i for i, cell in enumerate(nb.cells[:first_answer])
        if cell.cell_type == "code" and not course_meta(cell) and SETUP_IMPORT in cell.source
        and "NotAttempted" in cell.source
    ]
    if not setup:
        raise SheetError(f"{path}: a set-up cell before the first exercise must import "
                         f"NotAttempted: `{SETUP_IMPORT} NotAttempted, ...`.")
    for index, cell in enumerate(nb.cells):
        if course_meta(cell).get("role") not in ("answer", "written") and any(
                line.strip() in MARKERS for line in cell.source.split("\n")):
            raise SheetError(f"{_where(path, index)}: a solution marker in a cell that is not an "
                             f"answer or written cell would ship the solution.")
    return exercises


def _sealed_check(exercise_id: str, answer_source: str, where: str) -> str:
    """The exercise version of an explain exercise's check cell: the model answer sealed in."""
    from course_lib.cases import seal, written_text

    text = answer_string(answer_source)
    if text is None or not written_text(text):
        raise SheetError(f"{where}: an explain answer cell must assign the model answer as a "
                         f"string, e.g. {exercise_id} = \"\"\"...\"\"\".")
    return f'check("{exercise_id}", sealed="{seal(written_text(text))}")'


def exercise_notebook(nb: NotebookNode, path: Path) -> NotebookNode:
    """The learner's version of a solution sheet: answers removed, outputs cleared."""
    tasks = {e.id: e.task for e in _validate_sheet(nb, path)}
    sheet = copy.deepcopy(nb)
    models: dict[str, str] = {}  # explain exercise -> its solution answer cell
    for index, cell in enumerate(sheet.cells):
        meta = course_meta(cell)
        where = _where(path, index)
        if meta.get("role") == "answer":
            ex_id = meta["exercise"]
            models[ex_id] = cell.source
            cell.source = shipped_answer(cell.source, ex_id, tasks[ex_id], where)
            cell.metadata["course"]["shipped"] = source_digest(cell.source)
        elif meta.get("role") == "check" and tasks[meta["exercise"]] == "explain":
            cell.source = _sealed_check(meta["exercise"], models[meta["exercise"]], where)
        elif meta.get("role") == "written":
            cell.source = replace_text_regions(cell.source, where)
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return sheet


def render(nb: NotebookNode) -> str:
    """A notebook as the text ``nbformat.write`` would store."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def generate(solutions_dir: Path) -> dict[str, str]:
    """File name -> text of every exercise sheet generated from ``solutions_dir``."""
    generated = {}
    for path in sorted(solutions_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        generated[path.name] = render(exercise_notebook(nb, path))
    return generated


def build(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Write ``exercises_dir`` from ``solutions_dir``; remove sheets with no solution."""
    generated = generate(solutions_dir)
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated.items():
        target = exercises_dir / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    for stale in sorted(set(exercises_dir.glob("*.ipynb")) - set(written)):
        stale.unlink()
        print(f"removed {stale} (no {solutions_dir / stale.name})")
    return written


def _cell_label(cell: dict[str, Any], index: int) -> str:
    meta = cell.get("metadata", {}).get("course", {})
    if meta:
        return f"cell {index} ({meta.get('role')} of {meta.get('exercise')})"
    return f"cell {index} ({cell.get('cell_type')})"


def describe_difference(expected: str, actual: str, limit: int = 12) -> list[str]:
    """A few lines saying where two notebook texts differ (by cell), for check-sync."""
    try:
        want, have = json.loads(expected), json.loads(actual)
    except json.JSONDecodeError:
        return ["  the committed file is not valid JSON"]
    lines: list[str] = []
    want_cells, have_cells = want.get("cells", []), have.get("cells", [])
    if len(want_cells) != len(have_cells):
        lines.append(f"  {len(have_cells)} cells committed, {len(want_cells)} generated")
    for index, (w, h) in enumerate(zip(want_cells, have_cells, strict=False)):
        if w == h:
            continue
        parts = [key for key in sorted(set(w) | set(h)) if w.get(key) != h.get(key)]
        lines.append(f"  {_cell_label(w, index)}: differs in {', '.join(parts)}")
        if "source" in parts:
            source = lambda c: "".join(c.get("source", "")).splitlines()  # noqa: E731
            diff = difflib.unified_diff(source(h), source(w), "committed", "generated",
                                        lineterm="", n=0)
            lines += [f"      {line}" for line in list(diff)[2:8]]
    other = sorted(k for k in set(want) | set(have) if k != "cells" and want.get(k) != have.get(k))
    if other:
        lines.append(f"  notebook {', '.join(other)} differ")
    if len(lines) > limit:
        lines = lines[:limit] + [f"  ... and {len(lines) - limit} more lines"]
    return lines or ["  the files differ in formatting only"]


def check_sync(solutions_dir: Path, exercises_dir: Path) -> int:
    """0 if ``exercises_dir`` holds exactly what ``build`` would write, else print why and 1."""
    generated = generate(solutions_dir)
    committed = {p.name: p for p in sorted(exercises_dir.glob("*.ipynb"))}
    problems: list[str] = []
    for name, text in generated.items():
        if name not in committed:
            problems.append(f"{exercises_dir / name}: missing")
            continue
        actual = committed[name].read_text(encoding="utf-8")
        if actual != text:
            problems.append(f"{exercises_dir / name}: differs from what "
                            f"{solutions_dir / name} generates")
            problems += describe_difference(text, actual)
    for name in sorted(set(committed) - set(generated)):
        problems.append(f"{exercises_dir / name}: has no {solutions_dir / name}")
    if problems:
        print(f"{exercises_dir}/ is out of date with {solutions_dir}/:")
        print("\n".join(problems))
        print("Run `make exercises` (python -m course_tools.sheets build) and commit the result.")
        return 1
    print(f"{exercises_dir}/ is up to date with {solutions_dir}/ ({len(generated)} sheets).")
    return 0


# --- checking a sheet -----------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """What running a sheet said about one exercise."""

    exercise: str
    kind: str  #: "check" or "written"
    points: float
    status: str  #: passed, failed, not attempted, error; answered (written)
    message: str
    task: str = "implement"  #: what the exercise asks (sheet_format.TASKS)


def _error_of(cell: NotebookNode) -> tuple[str, str] | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output.get("ename", "Error"), output.get("evalue", "")
    return None


def _stdout_of(cell: NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _written_result(nb: NotebookNode, exercise: Exercise) -> Result:
    answered = bool(written_answer(nb.cells[exercise.answer_cells[0]].source))
    return Result(exercise.id, "written", exercise.points,
                  "answered" if answered else "not attempted",
                  "graded by hand" if answered else "replace the placeholder with your answer",
                  exercise.task)


def _untouched(nb: NotebookNode, exercise: Exercise) -> bool:
    return all(untouched(nb.cells[i]) for i in exercise.answer_cells)


def _check_outcome(nb: NotebookNode, exercise: Exercise) -> tuple[str, str]:
    """(status, message) of one auto-checked exercise, read from the executed cells."""
    assert exercise.check_cell is not None
    check = nb.cells[exercise.check_cell]
    error = _error_of(check)
    line = passed_in(_stdout_of(check), exercise.id)
    answer_errors = [e for e in (_error_of(nb.cells[i]) for i in exercise.answer_cells)
                     if e is not None and e[0] != "NotAttempted"]
    if error is None and line is not None:
        return "passed", line.split("passed:", 1)[1].strip()
    if answer_errors:
        name, value = answer_errors[0]
        return "error", f"your answer cell raised {name}: {_one_line(value)}"
    if error is None:
        ran = check.get("execution_count") is not None or check.get("outputs")
        return "error", ("the check cell printed no result (was it changed?)" if ran
                         else "the check cell did not run")
    return _error_outcome(exercise.id, *error)


def _error_outcome(exercise_id: str, name: str, value: str) -> tuple[str, str]:
    value = _one_line(value)
    prefix = f"[{exercise_id}] "
    if name == "NotAttempted":
        return "not attempted", "replace the `raise NotAttempted(...)` line"
    if name == "CheckFailed":
        return "failed", value[len(prefix):] if value.startswith(prefix) else value
    if name == "KeyboardInterrupt":
        return "error", "stopped: the cell ran past the time limit per cell"
    return "error", f"{name}: {value}"


def summarize(nb: NotebookNode, path: Path | str = "notebook") -> list[Result]:
    """Read the outcome of every exercise from an executed sheet's outputs."""
    results = []
    for exercise in exercises_of(nb, path):
        if exercise.kind == "written":
            results.append(_written_result(nb, exercise))
        elif _untouched(nb, exercise):
            results.append(Result(exercise.id, "check", exercise.points, "not attempted",
                                  "the answer cell is as it shipped", exercise.task))
        else:
            results.append(Result(exercise.id, "check", exercise.points,
                                  *_check_outcome(nb, exercise), exercise.task))
    return results


def execute(nb: NotebookNode, folder: Path, timeout: int = DEFAULT_TIMEOUT) -> str | None:
    """Run every cell of ``nb`` in place (errors allowed) with ``folder`` as the working
    directory. Returns why the run stopped early (a dead kernel), or None."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    os.environ.setdefault("COURSE_LIB_PROGRESS", "0")
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=True,
        interrupt_on_timeout=True, record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        # The kernel's own log lines (e.g. about its transport) are not the learner's business;
        # everything the notebook prints is in the cells' outputs.
        client.execute(stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    except DeadKernelError:
        return "the kernel died (out of memory, or the code called exit)"
    except CellTimeoutError:
        return f"a cell ran longer than {timeout} s and could not be stopped"
    return None


class UsageError(Exception):
    """The argument of ``report`` is not a course sheet."""


def load_sheet(path: Path) -> NotebookNode:
    """Read ``path`` as a course sheet, or raise :class:`UsageError` saying what it is."""
    example = "e.g. make check NB=exercises/04_adagrad.ipynb"
    if not path.exists():
        raise UsageError(f"no such file: {path} ({example})")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give one notebook ({example})")
    if path.suffix != ".ipynb":
        raise UsageError(f"{path} is not a Jupyter notebook (.ipynb); {example}")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a broken file
        raise UsageError(f"{path} is not a readable Jupyter notebook ({type(exc).__name__}: "
                         f"{_one_line(str(exc))[:120]}); {example}") from None
    if not isinstance(nb.metadata.get("course"), dict) or not any(
            course_meta(cell) for cell in nb.cells):
        raise UsageError(f"{path} is not a course exercise sheet (it has no exercise metadata); "
                         f"the sheets are in exercises/ and solutions/, {example}")
    try:
        exercises_of(nb, path)
    except SheetError as exc:
        raise UsageError(f"{path} is not a valid course sheet: {exc} ({example})") from None
    return nb


def _kind_totals(results: Sequence[Result]) -> list[str]:
    """One line per kind of exercise: points earned (passed or written) of points available."""
    lines = []
    for task in TASKS:
        mine = [r for r in results if r.task == task]
        if mine:
            done = sum(r.points for r in mine if r.status in ("passed", "answered"))
            top = sum(r.points for r in mine)
            lines.append(f"  {task:<10} {done:g} / {top:g} points ({len(mine)} exercises)")
    return ["points per kind (written answers count once given; they are graded by hand):"] \
        + lines if lines else []


def format_report(results: Sequence[Result]) -> list[str]:
    """The table printed by ``report``, ending with ``N of M exercises passed``."""
    rows = [("exercise", "kind", "points", "status", "message")]
    rows += [(r.exercise, r.task, f"{r.points:g}", r.status, r.message) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d:<{widths[3]}}  {e}"
             .rstrip() for a, b, c, d, e in rows]
    checked = [r for r in results if r.kind == "check"]
    written = [r for r in results if r.kind == "written"]
    passed = [r for r in checked if r.status == "passed"]
    lines.append("")
    lines += _kind_totals(results)
    if written:
        answered = sum(r.status == "answered" for r in written)
        lines.append(f"written answers given: {answered} of {len(written)} "
                     f"(graded by hand, not counted below)")
    lines.append(f"{len(passed)} of {len(checked)} exercises passed")
    return lines


def report(path: Path, timeout: int = DEFAULT_TIMEOUT) -> int:
    """Run a sheet and print its table. Exit status: 0 all passed, 1 not all, 2 bad argument."""
    try:
        nb = load_sheet(path)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    title = nb.metadata["course"].get("title", path.stem)
    print(f"Checking {path} ({title}): running every cell...", flush=True)
    stopped = execute(nb, path.resolve().parent, timeout)
    results = summarize(nb, path)
    print("\n".join(format_report(results)))
    if stopped:
        print(f"note: the run stopped early: {stopped}")
    checked = [r for r in results if r.kind == "check"]
    return 0 if checked and all(r.status == "passed" for r in checked) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.sheets",
        description="Generate the exercise sheets from the solutions, and check a sheet.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in [("build", "write exercises/ from solutions/"),
                            ("check-sync", "exit 1 if exercises/ differs from what build writes")]:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--solutions", type=Path, default=Path("solutions"))
        sub.add_argument("--exercises", type=Path, default=Path("exercises"))
    sub = commands.add_parser(
        "report", help="run a sheet and print one row per exercise",
        description="Run NOTEBOOK and print each exercise's status. Exit status 0 when every "
        "checked exercise passed, 1 otherwise, 2 when NOTEBOOK is not a course sheet.")
    sub.add_argument("notebook", type=Path, help="e.g. exercises/04_adagrad.ipynb")
    sub.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                     help=f"seconds allowed per cell (default {DEFAULT_TIMEOUT})")
    return parser


def _build_or_sync(args: argparse.Namespace) -> int:
    if not args.solutions.is_dir():
        print(f"error: no folder {args.solutions}/ (run this from the repository's root)",
              file=sys.stderr)
        return 2
    if args.command == "build":
        written = build(args.solutions, args.exercises)
        print(f"wrote {len(written)} sheets to {args.exercises}/ from {args.solutions}/")
        return 0
    return check_sync(args.solutions, args.exercises)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            return report(args.notebook, args.timeout)
        return _build_or_sync(args)
    except SheetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
