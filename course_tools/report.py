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


def write_csv(path: Path, reports: Sequence[SubmissionReport]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for rep in reports:
            for r in rep.results:
                row = [rep.submission, rep.sheet, r.exercise, _fmt(r.points),
                       _fmt(r.max_points), r.status, clean_text(r.message)]
                writer.writerow([csv_field(v) for v in row])


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
    else:
        lines += ["This file could not be graded:", "", f"> {_md(report.results[0].message)}",
                  ""]
    if report.written:
        lines += ["## Written answers (graded by hand, not in the score above)", ""]
        for ex_id, text in report.written.items():
            lines.append(f"- `{ex_id}`: {'answered' if text else 'not answered yet'}")
        lines.append("")
    if report.notes:
        lines += ["## Notes", ""] + [f"- {_md(n, 1000)}" for n in report.notes] + [""]
    return "\n".join(lines)
