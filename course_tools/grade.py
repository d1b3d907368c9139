"""Grade learners' exercise notebooks against the trusted reference, in a sandbox.

Usage (put the submissions after ``--``: a file named ``-rf.ipynb`` is then a file)::

    python -m course_tools.grade --out grades.csv [--feedback DIR] [--sheet SHEET]
        [--reference DIR] [--private-checks FILE] [--jobs N] [--cell-timeout S]
        [--timeout S|auto] [--memory SIZE] [--sandbox auto|bwrap|rlimits] -- SUBMISSION...

For each submission the notebook is rebuilt from the reference sheet with the same
``course.sheet`` (:mod:`course_tools.submission`), run under nbval in a sandbox
(:mod:`course_tools.sandbox`), and its records turned into grades (:mod:`course_tools.verdict`).
Results go to a CSV file and optional Markdown feedback files (:mod:`course_tools.report`). The
grader never writes anywhere else (apart from its own temporary directory).

The README's "For instructors: grading" section is the user documentation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from types import SimpleNamespace

from . import protocol
from . import sandbox as _sandbox
from .reference import (
    GradeError,
    PrivateCheck,
    Sheet,
    attach_private_cases,
    attach_private_checks,
    load_private_cases,
    load_private_checks,
    load_reference,
)
from .report import SubmissionReport, feedback_markdown, write_csv, write_written
from .submission import Rebuilt, Ungradable, read_submission, rebuild
from .verdict import Result, _Grader

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO_ROOT / "solutions"
#: --timeout auto: this many times the reference's own run, and at least MIN_BUDGET seconds
BUDGET_FACTOR, MIN_BUDGET = 4.0, 30.0

__all__ = ["GradeError", "Result", "main", "rebuild", "feedback_markdown", "grade_submission"]


class Job:
    """Everything the grading of one batch shares (read-only once built)."""

    def __init__(self, sheets: dict[str, Sheet], private: dict, expected_sheet: str | None):
        self.sheets = sheets
        self.private = private
        self.expected_sheet = expected_sheet
        self.sandbox: _sandbox.Sandbox | None = None
        self.problem: str | None = None  # why nothing can run (no sandbox)
        self.base = Path(".")
        self.fixed_budget: float | None = None  # --timeout S; None: measured per sheet
        self.budgets: dict[str, float] = {}  # sheet -> seconds per submission (auto)
        self.lock = threading.Lock()
        self.private_cases: list = []  # course_lib.cases.PrivateCases (protocol sheets)
        self.seed = secrets.randbits(63)  # hidden cases; never sent to a sandbox


def _submission_seed(job: Job, submission: str) -> int:
    return (job.seed + zlib.crc32(submission.encode("utf-8", "replace"))) % 2**63


def _max_points(sheet: Sheet, private: dict, ex) -> float:
    return ex.points + sum(p.points or 0.0 for p in private.get((sheet.sheet, ex.id), []))


def _not_code_rows(results: list[Result], rebuilt: Rebuilt) -> list[Result]:
    """An answer given in a Markdown cell was not run: say so in its row."""
    out = []
    for r in results:
        if r.exercise in rebuilt.not_code and r.status == "not attempted":
            r = Result(r.exercise, 0.0, r.max_points, "not attempted",
                       f"Not run: your answer cell of {r.exercise} is not a code cell "
                       "(Markdown or raw); change its cell type back to Code.")
        out.append(r)
    return out


def grade_submission(submission: str, job: Job, name: str, slot: int) -> SubmissionReport:
    start = time.monotonic()
    try:
        sheet, learner = read_submission(submission, job.sheets, job.expected_sheet)
    except Ungradable as exc:
        rows = [Result("", 0.0, 0.0, "error", str(exc))]
        return SubmissionReport(submission, exc.sheet, rows, [], {}, job.sheets.get(exc.sheet))
    rebuilt = rebuild(sheet, learner, job.private)
    notes = list(rebuilt.notes)
    if job.sandbox is not None and sheet.cases is not None:
        return _by_protocol(submission, job, sheet, learner, rebuilt, name, slot)
    if job.sandbox is None:
        results = [Result(e.id, 0.0, _max_points(sheet, job.private, e), "error",
                          f"Not graded: {job.problem}") for e in sheet.checked()]
        return SubmissionReport(submission, sheet.sheet, results, notes, rebuilt.written, sheet)
    budget = _budget(job, sheet, slot)
    run = job.sandbox.run(job.base, name, rebuilt.notebook_json, slot, budget)
    limits = job.sandbox.limits
    if budget is not None:
        limits = dataclasses.replace(limits, total_timeout=budget)
    results = _not_code_rows(_Grader(sheet, rebuilt, run, limits).grade(), rebuilt)
    if job.sandbox.warning:
        notes.append("Sandbox: " + job.sandbox.warning)
    report = SubmissionReport(submission, sheet.sheet, results, notes, rebuilt.written, sheet)
    report.seconds = time.monotonic() - start
    report.debug = {"notebook": rebuilt.notebook_json, "records": run.records,
                    "log": run.log_tail, "returncode": run.returncode,
                    "total_timed_out": run.total_timed_out, "seconds": run.elapsed}
    return report


def _by_protocol(submission: str, job: Job, sheet: Sheet, learner, rebuilt: Rebuilt,
                 name: str, slot: int) -> SubmissionReport:
    assert job.sandbox is not None and sheet.cases is not None
    budget = _budget(job, sheet, slot)
    run = protocol.grade(sheet, learner, sheet.cases, job.private_cases, job.sandbox, job.base,
                         name, slot, budget, _submission_seed(job, submission))
    notes = list(rebuilt.notes)
    if job.sandbox.warning:
        notes.append("Sandbox: " + job.sandbox.warning)
    report = SubmissionReport(submission, sheet.sheet, run.results, notes, rebuilt.written,
                              sheet)
    report.debug = run.debug
    return report


def _reference_time(job: Job, sheet: Sheet, slot: int) -> float:
    """Seconds the reference's own solutions take (graded like a submission)."""
    assert job.sandbox is not None
    own = SimpleNamespace(cells=sheet.cells)
    if sheet.cases is not None:
        run = protocol.grade(sheet, own, sheet.cases, job.private_cases, job.sandbox,
                             job.base, f"reference-{sheet.sheet}", slot, 600.0, job.seed)
        wrong = [r.exercise for r in run.results if r.status != "passed"]
        if wrong:
            _say(f"WARNING: the reference of {sheet.sheet} fails its own cases: {wrong}")
        return float(run.debug["seconds"])
    rebuilt = rebuild(sheet, own, {})
    return job.sandbox.run(job.base, f"reference-{sheet.sheet}", rebuilt.notebook_json,
                           slot).elapsed


def _budget(job: Job, sheet: Sheet, slot: int) -> float | None:
    """Seconds for one submission of ``sheet``: fixed (--timeout S) or measured (auto)."""
    if job.fixed_budget is not None:
        return job.fixed_budget
    with job.lock:
        if sheet.sheet not in job.budgets:
            elapsed = _reference_time(job, sheet, slot)
            job.budgets[sheet.sheet] = max(MIN_BUDGET, BUDGET_FACTOR * elapsed)
        return job.budgets[sheet.sheet]


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def feedback_names(submissions: Sequence[str]) -> list[str]:
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
    """Files as given; directories: every ``.ipynb`` below them, symlinks included (they get
    an error row) but never followed into."""
    result = []
    for arg in args:
        if os.path.isdir(arg) and not os.path.islink(arg):
            for dirpath, dirnames, filenames in os.walk(arg, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
                result += [os.path.join(dirpath, f) for f in sorted(filenames)
                           if f.endswith(".ipynb")]
        else:
            result.append(arg)
    return result


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m course_tools.grade",
        description="Grade exercise notebooks against the reference sheets, in a sandbox. Put "
        "the submissions after `--`.",
    )
    p.add_argument("submissions", nargs="+", help="notebooks (or directories of notebooks)")
    p.add_argument("--out", required=True, help="CSV file to write (one row per exercise)")
    p.add_argument("--feedback", help="directory for one Markdown feedback file per submission")
    p.add_argument("--written", help="CSV file of the written answers, for reading (one row per "
                   "submission and written exercise)")
    p.add_argument("--sheet", help="the assignment's sheet: a submission of any other sheet "
                   "gets an error row")
    p.add_argument("--reference", default=str(DEFAULT_REFERENCE),
                   help="directory of reference sheets (default: the repository's solutions/)")
    p.add_argument("--private-checks", help="extra checks learners never see (.py or .ipynb)")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                   help="submissions graded in parallel (default: number of CPUs)")
    p.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell (60)")
    p.add_argument("--timeout", default="auto",
                   help=f"wall-clock seconds per submission, or auto: {BUDGET_FACTOR:g} times "
                   f"the reference's own run, at least {MIN_BUDGET:g} s (default auto)")
    p.add_argument("--memory", default="4G", help="address space per process (4G)")
    p.add_argument("--disk", default="512M", help="working-directory size / largest file (512M)")
    p.add_argument("--nproc", type=int, default=256, help="processes per submission (256)")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "rlimits"), default="auto",
                   help="auto: bubblewrap when it works, else resource limits only (loudly)")
    p.add_argument("--seed", help="seed of the hidden cases (default: a secret random one)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--debug-dir", help="also write each rebuilt notebook, the raw cell records "
                   "and pytest's output there (for diagnosing the grader)")
    return p


def split_paths(argv: Sequence[str]) -> list[str]:
    """argv with every existing file that looks like an option moved after ``--``.

    A shell glob such as ``*.ipynb`` yields only names that exist, so an existing
    ``-rf.ipynb`` or ``--private-checks=x.ipynb`` is a submission, never an option. A bare
    option name (``-j``, ``--out``) stays an option even if a file has that name.
    """
    argv = list(argv)
    end = argv.index("--") if "--" in argv else len(argv)
    before, after = argv[:end], argv[end + 1:]
    options, paths, expect_value = [], [], False
    for token in before:
        bare_option = token in _VALUE_OPTIONS or token in _FLAG_OPTIONS
        if not expect_value and token.startswith("-") and not bare_option \
                and os.path.lexists(token):
            paths.append(token)
            continue
        options.append(token)
        expect_value = token in _VALUE_OPTIONS
    return options + ["--", *paths, *after] if paths or "--" in argv else options


_VALUE_OPTIONS = {"--out", "--written", "--feedback", "--sheet", "--reference",
                  "--private-checks", "--jobs", "-j", "--cell-timeout", "--timeout",
                  "--memory", "--disk", "--nproc",
                  "--sandbox", "--debug-dir", "--seed"}
_FLAG_OPTIONS = {"--no-progress", "-h", "--help"}


def _check_outputs(args, submissions: Sequence[str], reference: Path) -> None:
    protected = {os.path.realpath(s) for s in submissions}
    if args.private_checks:
        protected.add(os.path.realpath(args.private_checks))
    ref = os.path.realpath(reference)
    for option, value in (("--out", args.out), ("--written", args.written)):
        out = os.path.realpath(value) if value else None
        if out is not None and (out in protected or out.startswith(ref + os.sep)):
            raise GradeError(f"{option} {value} would overwrite an input; choose another path")
    if args.written and os.path.realpath(args.written) == os.path.realpath(args.out):
        raise GradeError("--written and --out must be different files")
    if args.feedback:
        fb = os.path.realpath(args.feedback)
        if fb == ref or fb.startswith(ref + os.sep):
            raise GradeError("--feedback must not be inside the reference directory")


def _limits(args) -> tuple[_sandbox.Limits, float | None]:
    """The sandbox limits and the fixed budget per submission (None: auto)."""
    fixed = None if args.timeout == "auto" else float(args.timeout)
    if args.jobs < 1:
        raise GradeError("--jobs must be at least 1")
    limits = _sandbox.Limits(
        cell_timeout=args.cell_timeout,
        total_timeout=fixed if fixed is not None else 600.0,
        memory=_sandbox.parse_size(args.memory),
        disk=_sandbox.parse_size(args.disk),
        nproc=args.nproc,
    )
    return limits, fixed


def _setup(args) -> tuple[Job, list[str], _sandbox.Limits]:
    """Read the trusted inputs and check the options (GradeError/ValueError: exit 2)."""
    reference = Path(args.reference)
    sheets = load_reference(reference)
    checks: list[PrivateCheck] = []
    cases = load_private_cases(Path(args.private_checks)) if args.private_checks else []
    if args.private_checks and not cases:
        checks = load_private_checks(Path(args.private_checks))
        if any(sheets[s].cases is not None for s, _ in attach_private_checks(sheets, checks)):
            raise GradeError(f"{args.private_checks}: a sheet graded by the protocol takes "
                             "private cases (PRIVATE_CASES), not check cells")
    if args.sheet is not None and args.sheet not in sheets:
        raise GradeError(f"--sheet {args.sheet!r} is not a reference sheet (the reference "
                         f"has: {', '.join(sorted(sheets))})")
    job = Job(sheets, attach_private_checks(sheets, checks), args.sheet)
    job.private_cases = attach_private_cases(sheets, cases)
    if args.seed is not None:
        job.seed = int(args.seed)
    submissions = expand_submissions(args.submissions)
    _check_outputs(args, submissions, reference)
    limits, fixed = _limits(args)
    job.fixed_budget = fixed
    return job, submissions, limits


def _hidden_paths(args, submissions: Sequence[str]) -> list[Path]:
    """What the sandbox must not see: submissions, the reference, private checks, outputs,
    and the grader itself."""
    hidden = [Path(os.path.realpath(s)) for s in submissions]
    hidden += [p.parent for p in hidden]
    hidden += [Path(os.path.realpath(args.reference)), Path(__file__).resolve().parent,
               DEFAULT_REFERENCE.resolve()]
    for extra in (args.private_checks, args.out, args.feedback, args.debug_dir):
        if extra:
            hidden.append(Path(os.path.realpath(extra)))
    return hidden


def _open_sandbox(args, job: Job, limits, hidden, jobs: int, say: Callable) -> None:
    uid_base = os.environ.get("COURSE_GRADE_UID_BASE")
    try:
        job.sandbox, messages = _sandbox.detect(
            args.sandbox, limits, REPO_ROOT, hidden, job.base, jobs,
            int(uid_base) if uid_base else None)
        for m in messages:
            say(m)
        say(job.sandbox.describe())
    except _sandbox.SandboxUnavailable as exc:
        for m in exc.messages:
            say(m)
        job.problem = f"no usable sandbox: {exc}"
        say(f"ERROR: {job.problem}")
        say("every submission gets status 'error'; nothing was run")


def _grade_all(job: Job, submissions: list[str], jobs: int, progress: bool) -> list:
    slots: queue.Queue[int] = queue.Queue()
    for k in range(jobs):
        slots.put(k)

    def work(i: int) -> SubmissionReport:
        slot = slots.get()
        try:
            return grade_submission(submissions[i], job, f"job{i}", slot)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the rest
            rows = [Result("", 0.0, 0.0, "error", f"grader error: {exc!r}")]
            return SubmissionReport(submissions[i], "", rows, [], {})
        finally:
            slots.put(slot)

    from tqdm import tqdm

    reports: list[SubmissionReport | None] = [None] * len(submissions)
    with ThreadPoolExecutor(max_workers=jobs) as pool, tqdm(
            total=len(submissions), file=sys.stderr, unit="nb", disable=not progress,
            desc="grading") as bar:
        futures = {pool.submit(work, i): i for i in range(len(submissions))}
        for fut in as_completed(futures):
            reports[futures[fut]] = fut.result()
            bar.update(1)
    return [r for r in reports if r is not None]


def _write_outputs(args, done: list[SubmissionReport], names: list[str]) -> None:
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True)
    write_csv(out, done)
    if args.written:
        to_read = write_written(Path(args.written), done)
        _say(f"{to_read} written answer(s) to read -> {args.written}")
    _say_kinds(done)
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
                notebook = info.pop("notebook", "{}")
                (dbg / f"{name}.rebuilt.ipynb").write_text(notebook, "utf-8")
                (dbg / f"{name}.run.json").write_text(json.dumps(info, indent=1), "utf-8")


def _say(msg: str) -> None:
    print(f"grade: {msg}", file=sys.stderr, flush=True)


def _say_kinds(done: list[SubmissionReport]) -> None:
    """Points per kind of exercise over the batch (what the sheet asks: implement, predict...)."""
    totals: dict[str, list[float]] = {}
    for rep in done:
        kinds = {e.id: e.task for e in rep.sheet_obj.exercises} if rep.sheet_obj else {}
        for r in rep.results:
            if r.exercise in kinds:
                got, top = totals.setdefault(kinds[r.exercise], [0.0, 0.0])
                totals[kinds[r.exercise]] = [got + r.points, top + r.max_points]
    if totals:
        _say("points per kind: " + ", ".join(f"{k} {g:g}/{t:g}" for k, (g, t) in totals.items()))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(split_paths(sys.argv[1:] if argv is None else argv))
    started = time.monotonic()
    # jsonschema (imported by nbformat) would import the optional rfc3987_syntax, which builds a
    # grammar for about a second; nbformat never needs it
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    try:
        job, submissions, limits = _setup(args)
    except (GradeError, ValueError) as exc:
        _say(f"error: {exc}")
        return 2
    jobs = max(1, min(args.jobs, len(submissions) or 1))
    job.base = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        job.base.chmod(0o711)  # sandbox uids reach their own job directory, list nothing
        _open_sandbox(args, job, limits, _hidden_paths(args, submissions), jobs, _say)
        done = _grade_all(job, submissions, jobs, not args.no_progress)
    finally:
        _sandbox.remove_tree(job.base)
    _write_outputs(args, done, feedback_names(submissions))
    errors = sum(1 for rep in done for r in rep.results if r.status == "error")
    _say(f"graded {len(done)} submission(s) in {time.monotonic() - started:.1f} s "
         f"({errors} row(s) with status 'error') -> {args.out}")
    return 0 if job.problem is None else 1


if __name__ == "__main__":
    sys.exit(main())
