"""What the grader writes: ``grades.csv`` and the Markdown feedback files.

Every field that may hold text from a learner (file names, sheet ids, messages) goes through
:func:`clean_text` (control characters, bidi overrides and lone surrogates removed, one line);
CSV fields also through :func:`csv_field`, which neutralises spreadsheet formulas. The CSV has
one writer, :func:`write_csv`.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from .reference import Sheet
from .verdict import Result

CSV_HEADER = ["submission", "sheet", "exercise", "points", "max_points", "status", "message"]
#: the written answers, for reading (``--written``): one row per submission and exercise
WRITTEN_HEADER = ["submission", "sheet", "exercise", "kind", "max_points", "status", "words",
                  "answer"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SURROGATES = re.compile("[\ud800-\udfff]")
MESSAGE_LIMIT = 400


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


def _printable(ch: str) -> bool:
    # Cc: control characters (NUL, BEL, ESC...); Cf: format characters, which include the bidi
    # overrides and isolates (U+202A-202E, U+2066-2069) that reorder what a reader sees
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") or ch in " "


def clean_text(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """One line of printable text: whitespace runs become one space, control and format
    characters and lone surrogates are dropped, and the result is cut to ``limit``."""
    text = _SURROGATES.sub("\ufffd", str(text))
    text = " ".join(text.split())
    text = "".join(ch for ch in text if _printable(ch))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def csv_field(text: object) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading ``= + - @``, tab or CR gets a
    leading apostrophe (the OWASP advice for CSV injection)."""
    raw = str(text)
    cleaned = clean_text(raw, limit=10**6)
    if raw[:1] in FORMULA_START or cleaned[:1] in FORMULA_START:
        return "'" + cleaned
    return cleaned


def _fmt(x: float) -> str:
    return f"{x:g}"


def _kinds(rep: SubmissionReport) -> dict[str, tuple[str, float]]:
    """exercise id -> (kind, points) from the reference sheet."""
    if rep.sheet_obj is None:
        return {}
    return {e.id: (e.task, e.points) for e in rep.sheet_obj.exercises}


def _written_rows(rep: SubmissionReport) -> list[list[str]]:
    """One row per written answer: to read (its text, on one line) or not attempted."""
    kinds = _kinds(rep)
    rows = []
    for ex_id, text in rep.written.items():
        task, points = kinds.get(ex_id, ("explain", 0.0))
        status = "to read" if text else "not attempted"
        rows.append([rep.submission, rep.sheet, ex_id, task, _fmt(points), status,
                     str(len(text.split())), clean_text(text, 4000)])
    return rows


def write_csv(path: Path, reports: Sequence[SubmissionReport]) -> None:
    """The auto-graded rows (the written answers go to :func:`write_written`)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for rep in reports:
            for r in rep.results:
                row = [rep.submission, rep.sheet, r.exercise, _fmt(r.points),
                       _fmt(r.max_points), r.status, clean_text(r.message)]
                writer.writerow([csv_field(v) for v in row])


def write_written(path: Path, reports: Sequence[SubmissionReport]) -> int:
    """The written answers, one row each, for the instructor to read; how many are to read."""
    rows = [row for rep in reports for row in _written_rows(rep)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(WRITTEN_HEADER)
        for row in rows:
            writer.writerow([csv_field(v) for v in row])
    return sum(row[5] == "to read" for row in rows)


def _kind_table(graded: list[Result], kinds: dict[str, tuple[str, float]]) -> list[str]:
    """Points per kind of exercise (implement, predict, diagnose, tune)."""
    totals: dict[str, list[float]] = {}
    for r in graded:
        kind = kinds.get(r.exercise, ("", 0.0))[0]
        if kind:
            got, top = totals.setdefault(kind, [0.0, 0.0])
            totals[kind] = [got + r.points, top + r.max_points]
    if not totals:
        return []
    lines = ["| kind | points |", "|---|---|"]
    lines += [f"| {kind} | {_fmt(got)} / {_fmt(top)} |" for kind, (got, top) in totals.items()]
    return lines + [""]


def _md(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """Learner text for Markdown: one clean line, with backticks and HTML made harmless."""
    line = clean_text(text, limit)
    return line.replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")


def _score_table(graded: list[Result]) -> list[str]:
    total = sum(r.points for r in graded)
    top = sum(r.max_points for r in graded)
    lines = [f"Auto-graded score: **{_fmt(total)} / {_fmt(top)}**", ""]
    lines += ["| exercise | points | status |", "|---|---|---|"]
    for r in graded:
        lines.append(f"| `{r.exercise}` | {_fmt(r.points)} / {_fmt(r.max_points)} | {r.status} |")
    lines.append("")
    for r in graded:
        if r.status != "passed":
            body = clean_text(r.message, 2000).replace("```", "'''") or "(no message)"
            lines += [f"## `{r.exercise}`: {r.status}", "", "```text", body, "```", ""]
    return lines


def feedback_markdown(report: SubmissionReport) -> str:
    lines = [f"# Feedback: {_md(Path(report.submission).name)}", ""]
    if report.sheet_obj is not None:
        lines += [f"Sheet: **{_md(report.sheet_obj.title)}** (`{_md(report.sheet)}`)", ""]
    graded = [r for r in report.results if r.exercise]
    if graded:
        lines += _score_table(graded)
        lines += _kind_table(graded, _kinds(report))
    else:
        lines += ["This file could not be graded:", "", f"> {_md(report.results[0].message)}",
                  ""]
    if report.written:
        lines += ["## Written answers (graded by hand, not in the score above)", ""]
        for ex_id, text in report.written.items():
            lines.append(f"- `{ex_id}`: {'answered' if text else 'not answered yet'}")
            if text:
                lines.append(f"  > {_md(text, 2000)}")
        lines.append("")
    if report.notes:
        lines += ["## Notes", ""] + [f"- {_md(n, 1000)}" for n in report.notes] + [""]
    return "\n".join(lines)
