"""Throughput of the grader: N submissions of one sheet graded in parallel, against one alone.

    .venv/bin/python benchmarks/grading_benchmark.py [--sheet 04_adagrad]
                                                     [--n 30] [--jobs 2]

It makes N submissions of one sheet, a mix of the worked solution, the untouched exercise
version and half-done ones, and grades them with ``course_tools.grade`` in this process. Before
that, the reference run grades one (worked) submission alone with one job, in the same process.
It prints the wall time of both and the ratio

    ratio = time(N submissions, J jobs) / (time(1 submission alone) x N / J)

below 1 when the per-run start-up (reference sheets, sandbox probe) is shared, above 1 when
parallel runs slow each other down, and, for a sheet graded by the protocol, each submission's
time in the sandbox and the protocol's own overhead (request round trips minus the time the
worker spent in the learner's code). Target: 30 submissions in at most 40 s on 2 cores.
Without solutions/ and exercises/ it falls back to the grader tests' tiny sheet.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_tools import grade  # noqa: E402

TINY = ROOT / "tests" / "grading"


def make_submissions(sheet: str, n: int, dest: Path) -> tuple[list[Path], Path]:
    """N submission files and the reference directory to grade them against."""
    solution = ROOT / "solutions" / f"{sheet}.ipynb"
    exercise = ROOT / "exercises" / f"{sheet}.ipynb"
    reference = ROOT / "solutions"
    if not (solution.exists() and exercise.exists()):
        print(f"{sheet}: no solutions/exercises pair; using the grader tests' tiny sheet")
        solution = TINY / "submissions" / "correct.ipynb"
        exercise = TINY / "submissions" / "untouched.ipynb"
        reference = TINY / "reference"
    worked = json.loads(solution.read_text(encoding="utf-8"))
    blank = json.loads(exercise.read_text(encoding="utf-8"))
    # half done: the first half of the answer cells from the solution, the rest untouched
    half = copy.deepcopy(blank)
    answers = [
        c for c in worked["cells"]
        if c.get("metadata", {}).get("course", {}).get("role") == "answer"
    ]  # fmt: skip
    done = 0
    for cell in half["cells"]:
        course = cell.get("metadata", {}).get("course", {})
        if course.get("role") == "answer" and done < len(answers) // 2:
            cell["source"] = answers[done]["source"]
            done += 1
    kinds = [("worked", worked), ("blank", blank), ("half", half)]
    paths = []
    for i in range(n):
        kind, nb = kinds[i % len(kinds)]
        path = dest / f"learner{i:02d}_{kind}.ipynb"
        path.write_text(json.dumps(nb), encoding="utf-8")
        paths.append(path)
    return paths, reference


def timed_grade(paths: list[Path], reference: Path, jobs: int, out: Path) -> float:
    # a fixed budget, so the time measured is the grading (auto measures the reference first)
    start = time.perf_counter()
    code = grade.main(
        ["--reference", str(reference), "--out", str(out), "--jobs", str(jobs), "--timeout",
         "300", "--no-progress", "--debug-dir", str(out.with_suffix(".debug")), "--",
         *map(str, paths)]
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"the grader failed (exit code {code})")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheet", default="04_adagrad")
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as tmp:
        tmp = Path(tmp)
        paths, reference = make_submissions(args.sheet, args.n, tmp)
        one = timed_grade(paths[:1], reference, 1, tmp / "one.csv")
        many = timed_grade(paths, reference, args.jobs, tmp / "many.csv")
        rows = (tmp / "many.csv").read_text(encoding="utf-8").splitlines()[1:]
        errors = [r for r in rows if ",error," in r]
        runs = [json.loads(p.read_text("utf-8")) for p in (tmp / "many.debug").glob("*.run.json")]
    ideal = one * args.n / args.jobs
    print()
    print(f"sheet {args.sheet}, {os.cpu_count()} CPU(s)")
    print(f"reference run: 1 submission alone, 1 job:      {one:6.1f} s")
    print(f"{args.n} submissions, {args.jobs} jobs:                  {many:6.1f} s "
          f"(target: at most 40 s for 30 on 2 cores; load average now "
          f"{open('/proc/loadavg').read().split()[0]})")  # fmt: skip
    label = f"ratio to (reference x {args.n} / {args.jobs} = {ideal:.1f} s):"
    print(f"{label:<46} {many / ideal:6.2f}")
    print(f"rows with status 'error': {len(errors)}")
    protocol = [r for r in runs if r.get("protocol")]
    if protocol:
        n = len(protocol)
        each = sum(r["seconds"] for r in protocol) / n
        cells = sum(r["cells_seconds"] or 0 for r in protocol) / n
        calls = sum(r["calls_seconds"] for r in protocol) / n
        over = sum(r["calls_overhead"] for r in protocol) / n
        requests = sum(r["requests"] for r in protocol) / n
        print(f"protocol, per submission (mean of {n}): {each:.2f} s in the sandbox, of which "
              f"{cells:.2f} s start-up and answer cells, {calls:.3f} s for {requests - 1:.0f} "
              f"requests; protocol overhead (round trips minus the worker's own time): "
              f"{over:.3f} s")


if __name__ == "__main__":
    main()
