"""The grader, ``python -m course_tools.grade``, on crafted submissions of a tiny sheet.

The sheet (tests/grading/reference/grading_tiny.ipynb) and the submissions
(tests/grading/submissions/) are written by make_fixtures.py; see there for what each hostile
submission does. The main run grades all of them in one call, two at a time, with short limits
(5 s per cell, 60 s per notebook, 2 GB, 64 processes), and the CSV is compared field by field.

Which sandbox is used depends on the machine: bubblewrap when it works, otherwise the
resource-limits fallback (the grader says so; these tests check that it does). Nothing is
marked xfail; what cannot be checked in this environment is skipped with the reason.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from course_tools import grade, reference, report, sheet_format, verdict
from course_tools import sandbox as _sandbox

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# These tests grade the tiny sheet the old way (its check cells run under nbval in the learner's
# kernel): the path of sheets without case definitions. test_protocol.py grades it by protocol.
REFERENCE_DIR = HERE / "reference_legacy"
REFERENCE_NB = REFERENCE_DIR / "grading_tiny.ipynb"
SUBMISSIONS_DIR = HERE / "submissions"
PRIVATE_CHECKS = HERE / "private_checks.py"
SHEET = "grading_tiny"

LIMITS = ["--cell-timeout", "5", "--timeout", "60", "--memory", "2G", "--nproc", "64",
          "--jobs", "2", "--no-progress"]  # fmt: skip

# ---- expected grades -------------------------------------------------------------------------

NA = "Not attempted yet: the answer still raises NotAttempted (replace that line with your code)."
DOUBLE_WRONG = "double(1) returned 1, expected 2. Hint: multiply by 2."
MEAN_WRONG = (
    "mean([1, 2, 3]) returned 6, expected 2.0. Hint: divide the sum by the number of values."
)
MEAN_ZERO = (
    "mean([1, 2, 3]) returned 0, expected 2.0. Hint: divide the sum by the number of values."
)


def total_wrong(value):
    return (
        f"total is {value}, expected the sum of the squares of 1 to 10. "
        "Hint: range(1, 11) stops before 11."
    )


CHECK_TIMEOUT = (
    "The check did not finish within 5 s: is there an endless loop, or is the code far slower "
    "than it needs to be?"
)
STOPPED_IN_DOUBLE = (
    "Not checked: the kernel had to be stopped after a timeout in the check of exercise double. "
    "Nothing after that could run."
)


def ok(ex, points):
    return (ex, points, points, "passed", "")


def zero(ex, points, status, message):
    return (ex, 0, points, status, message)


ALL_PASS = [ok("double", 2), ok("mean", 1), ok("total", 3)]

EXPECTED = {
    "correct": ALL_PASS,
    "untouched": [zero("double", 2, "not attempted", NA), zero("mean", 1, "not attempted", NA),
                  zero("total", 3, "not attempted", NA)],
    "partial": [ok("double", 2), zero("mean", 1, "failed", MEAN_WRONG),
                zero("total", 3, "not attempted", NA)],
    "infinite_loop": [zero("double", 2, "timed out", CHECK_TIMEOUT), ok("mean", 1), ok("total", 3)],
    "uninterruptible_loop": [zero("double", 2, "timed out", CHECK_TIMEOUT),
                             zero("mean", 1, "error", STOPPED_IN_DOUBLE),
                             zero("total", 3, "error", STOPPED_IN_DOUBLE)],
    "exit_kernel": [
        ok("double", 2),
        zero("mean", 1, "error",
             "The Python kernel died while running your answer cell of exercise mean (exit code "
             "3): the code ended the Python process (os._exit, a crash) or hit a resource limit. "
             "Nothing after it could run."),
        zero("total", 3, "error", "Not checked: the kernel died in your answer cell of exercise "
                                  "mean. Nothing after that could run."),
    ],
    "memory_hog": [
        zero("double", 2, "failed",
             "The check stopped with MemoryError (each process may use at most 2 GB of memory)."),
        ok("mean", 1), ok("total", 3),
    ],
    "fork_bomb": ALL_PASS,
    "network": ALL_PASS,
    "write_attack": ALL_PASS,
    "kill_parent": [
        ok("double", 2),
        zero("mean", 1, "error",
             "The process running the notebook ended while running your answer cell of exercise "
             "mean (was it killed by the code?). Nothing after it could run."),
        zero("total", 3, "error",
             "Not checked: the process running the notebook ended earlier, while running your "
             "answer cell of exercise mean."),
    ],
    "forge_results": [zero("double", 2, "failed", DOUBLE_WRONG),
                      zero("mean", 1, "failed", MEAN_WRONG),
                      zero("total", 3, "failed", total_wrong(1))],
    "deleted_check": [ok("double", 2), zero("mean", 1, "failed", MEAN_WRONG), ok("total", 3)],
    "edited_check": [zero("double", 2, "failed", DOUBLE_WRONG),
                     zero("mean", 1, "failed", MEAN_WRONG), ok("total", 3)],
    "nbval_markers": [ok("double", 2), zero("mean", 1, "failed", MEAN_WRONG),
                      zero("total", 3, "failed", total_wrong(384))],
    "stale_outputs": [zero("double", 2, "failed", DOUBLE_WRONG),
                      zero("mean", 1, "failed", MEAN_ZERO),
                      zero("total", 3, "failed", total_wrong(0))],
    "helper_cell": [
        ok("double", 2),
        zero("mean", 1, "failed",
             "The check stopped with NameError: name 'my_sum' is not defined. Names used by the "
             "check must be defined in the answer cell itself: code in cells you added is not "
             "run when grading."),
        ok("total", 3),
    ],
    "not_json": [("", 0, 0, "error", "not a notebook: the file is not valid JSON (Expecting "
                                     "value: line 1 column 1 (char 0))")],
    "not_notebook": [("", 0, 0, "error", "not a Jupyter notebook: the JSON has no list of cells")],
    "unknown_sheet": [("", 0, 0, "error",
                       "unknown sheet 'no_such_sheet' (the reference has: grading_tiny)")],
    "no_sheet": [("", 0, 0, "error",
                  "the notebook has no course.sheet in its metadata, so it is not one of the "
                  "course's exercise sheets (was it made from an exercises/ notebook?)")],
}  # fmt: skip
SHEET_OF = {"unknown_sheet": "no_such_sheet", "not_json": "", "not_notebook": "", "no_sheet": ""}


def expected_rows(name: str, path: str) -> list[dict]:
    return [
        {"submission": path, "sheet": SHEET_OF.get(name, SHEET), "exercise": ex,
         "points": str(points), "max_points": str(top), "status": status, "message": message}
        for ex, points, top, status, message in EXPECTED[name]
    ]  # fmt: skip


# ---- helpers ---------------------------------------------------------------------------------

VOLATILE = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache"}


def hash_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under root (caches and the virtualenv left out)."""
    digests = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in VOLATILE)
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if path.is_file():
                digests[str(path.relative_to(root))] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return digests


class Listener:
    """A TCP server on 127.0.0.1 recording every connection (the 'network' submission's target)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.hits.append(conn.recv(100))
                except OSError:
                    self.hits.append(b"")

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


def run_grader(*args, env=None, timeout=600):
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "course_tools.grade", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=str(ROOT),
    )  # fmt: skip
    seconds = time.monotonic() - start
    rows = None
    out = None
    for i, a in enumerate(args):
        if a == "--out":
            out = Path(args[i + 1])
    if out is not None and out.exists() and proc.returncode in (0, 1):
        with open(out, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            assert header == report.CSV_HEADER
            rows = [dict(zip(header, r, strict=True)) for r in reader]
    return SimpleNamespace(code=proc.returncode, stderr=proc.stderr, rows=rows, seconds=seconds)


def copy_submissions(names, dest: Path, port: int = 9, victim: Path | None = None) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    victim = victim or dest / "correct.ipynb"
    paths = []
    for name in names:
        text = (SUBMISSIONS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
        text = text.replace("__PORT__", str(port)).replace("__VICTIM__", str(victim))
        text = text.replace("__REFERENCE__", str(REFERENCE_NB))
        path = dest / f"{name}.ipynb"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def rows_of(result, path: Path) -> list[dict]:
    return [r for r in result.rows if r["submission"] == str(path)]


def stream_text(debug_dir: Path, name: str) -> str:
    info = json.loads((debug_dir / f"{name}.run.json").read_text(encoding="utf-8"))
    return "".join(
        out.get("text", "")
        for rec in info["records"] if rec.get("event") == "cell"
        for out in rec.get("outputs", []) if out.get("type") == "stream"
    )  # fmt: skip


def sandbox_uids() -> list[int]:
    base = _sandbox.DEFAULT_UID_BASE
    return [u for u in range(base, base + 40) if _sandbox._pids_of_uid(u)]


# ---- which sandbox this machine gives --------------------------------------------------------


@pytest.fixture(scope="module")
def machine():
    """What `--sandbox auto` picks here (bwrap, rlimits or nothing), decided like the grader."""
    base = Path(tempfile.mkdtemp(prefix="course-grade-test-"))
    base.chmod(0o711)
    try:
        box, messages = _sandbox.detect(
            "auto", _sandbox.Limits(cell_timeout=10, total_timeout=60), ROOT, [], base, 1
        )
        mode, problem = box.mode, None
    except _sandbox.SandboxUnavailable as exc:
        mode, problem, messages = None, str(exc), []
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    info = SimpleNamespace(mode=mode, problem=problem, root=os.geteuid() == 0, messages=messages)
    print(f"\nsandbox on this machine: {mode or 'none'} {problem or ''}", file=sys.stderr)
    return info


def need_sandbox(machine):
    if machine.mode is None:
        pytest.skip(
            "no usable sandbox on this machine, so no submission can run here "
            f"({machine.problem}); test_no_sandbox_means_error_rows checks the refusal"
        )


MAIN = [n for n in EXPECTED]


@pytest.fixture(scope="module")
def main_run(machine, tmp_path_factory):
    work = tmp_path_factory.mktemp("grading")
    names = list(MAIN)
    left_out = {}
    if machine.mode == "rlimits" and not machine.root:
        # without bubblewrap and as a normal user nothing stops writes: do not attack the checkout
        names.remove("write_attack")
        left_out["write_attack"] = "no bubblewrap and not root: the fallback cannot stop writes"
    listener = Listener()
    try:
        paths = copy_submissions(names, work / "submissions", port=listener.port)
        course_before = hash_tree(ROOT)
        subs_before = hash_tree(work / "submissions")
        result = run_grader(
            *paths, "--reference", REFERENCE_DIR, "--out", work / "grades.csv",
            "--feedback", work / "feedback", "--debug-dir", work / "debug", *LIMITS,
        )  # fmt: skip
        time.sleep(0.5)  # let the listener record anything in flight
    finally:
        listener.close()
    print(f"\nmain grading run: {len(names)} submissions in {result.seconds:.1f} s",
          file=sys.stderr)  # fmt: skip
    return SimpleNamespace(
        work=work, names=names, paths=dict(zip(names, paths, strict=True)), result=result,
        course_before=course_before, course_after=hash_tree(ROOT), subs_before=subs_before,
        subs_after=hash_tree(work / "submissions"), listener_hits=list(listener.hits),
        left_out=left_out, leftover_uids=sandbox_uids() if machine.root else [],
    )  # fmt: skip


# ---- the grades ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MAIN)
def test_grades_field_by_field(machine, main_run, name):
    need_sandbox(machine)
    if name in main_run.left_out:
        pytest.skip(f"{name} not run here: {main_run.left_out[name]}")
    path = main_run.paths[name]
    assert rows_of(main_run.result, path) == expected_rows(name, str(path))


def test_run_summary(machine, main_run):
    need_sandbox(machine)
    result = main_run.result
    assert result.code == 0, result.stderr
    assert {r["submission"] for r in result.rows} == {str(p) for p in main_run.paths.values()}
    assert len(result.rows) == sum(len(EXPECTED[n]) for n in main_run.names)
    for row in result.rows:
        assert row["status"] in verdict.STATUSES
        assert "\n" not in row["message"] and "\r" not in row["message"]
    assert "sandbox:" in result.stderr
    # hostile notebooks are stopped within their own budget (60 s) and do not hold up the rest
    for name in main_run.names:
        info_path = main_run.work / "debug" / f"{name}.run.json"
        if info_path.exists():
            info = json.loads(info_path.read_text(encoding="utf-8"))
            assert info["seconds"] < 60 + 10, name
    assert result.seconds < 150


def test_nothing_but_the_outputs_is_written(machine, main_run):
    need_sandbox(machine)
    assert main_run.course_after == main_run.course_before, "the course tree changed"
    assert main_run.subs_after == main_run.subs_before, "a submission changed"
    assert not (ROOT / "course_lib" / "pwned.py").exists()
    assert sorted(p.name for p in main_run.work.iterdir()) == [
        "debug", "feedback", "grades.csv", "submissions"
    ]  # fmt: skip


def test_write_attack_was_refused(machine, main_run):
    need_sandbox(machine)
    if "write_attack" in main_run.left_out:
        pytest.skip(main_run.left_out["write_attack"])
    text = stream_text(main_run.work / "debug", "write_attack")
    assert "damage: {" in text
    damage = eval(text.split("damage: ", 1)[1].splitlines()[0])  # the submission's own report
    assert damage and "written" not in damage.values(), damage


def test_network_is_cut_or_the_grader_says_it_is_not(machine, main_run):
    need_sandbox(machine)
    text = stream_text(main_run.work / "debug", "network")
    feedback = (main_run.work / "feedback" / "network.md").read_text(encoding="utf-8")
    if machine.mode == "bwrap":
        assert main_run.listener_hits == []
        assert "reached: []" in text
        assert "Sandbox:" not in feedback
    else:
        print("rlimits fallback: the network is NOT isolated; checking that the grader says so")
        assert "no network isolation" in feedback
        assert "WARNING" in main_run.result.stderr


def test_no_process_is_left_behind(machine, main_run):
    need_sandbox(machine)
    if not machine.root:
        pytest.skip("only checkable as root (the sandbox then runs under its own uids)")
    assert main_run.leftover_uids == []
    assert "forked " in stream_text(main_run.work / "debug", "fork_bomb")


def test_results_cannot_be_forged(machine, main_run):
    need_sandbox(machine)
    text = stream_text(main_run.work / "debug", "forge_results")
    attempts = eval(text.split("forged: ", 1)[1].splitlines()[0])  # the submission's own report
    # it could not even list the grading process's descriptors (PR_SET_DUMPABLE is off there)
    assert "parent: PermissionError" in attempts
    assert not any(a.startswith("parent/") for a in attempts)


def test_feedback_files(machine, main_run):
    need_sandbox(machine)
    fb = main_run.work / "feedback"
    assert sorted(p.stem for p in fb.iterdir()) == sorted(main_run.names)
    partial = (fb / "partial.md").read_text(encoding="utf-8")
    assert "Auto-graded score: **2 / 6**" in partial
    assert MEAN_WRONG in partial  # the check's own words
    assert "## `total`: not attempted" in partial
    assert "`why`: answered" in (fb / "correct.md").read_text(encoding="utf-8")
    assert "`why`: not answered yet" in (fb / "untouched.md").read_text(encoding="utf-8")
    assert "not a notebook" in (fb / "not_json.md").read_text(encoding="utf-8")
    helper = (fb / "helper_cell.md").read_text(encoding="utf-8")
    assert "were not run: only answer cells are graded" in helper
    for name in main_run.names:
        text = (fb / f"{name}.md").read_text(encoding="utf-8")
        assert ("Sandbox: bubblewrap was not used" in text) == (
            machine.mode == "rlimits" and name not in SHEET_OF
        )
        assert "check_double(" not in text  # check code is never shown


# ---- other runs ------------------------------------------------------------------------------


def test_total_timeout(machine, tmp_path):
    need_sandbox(machine)
    paths = copy_submissions(["slow", "correct"], tmp_path / "subs")
    result = run_grader(
        *paths, "--reference", REFERENCE_DIR, "--out", tmp_path / "g.csv", "--cell-timeout",
        "30", "--timeout", "8", "--jobs", "2", "--no-progress",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    budget = "The notebook's total time limit (8 s) ran out"
    assert rows_of(result, paths[0]) == [
        {"submission": str(paths[0]), "sheet": SHEET, "exercise": ex, "points": p,
         "max_points": m, "status": s, "message": msg}
        for ex, p, m, s, msg in [
            ("double", "2", "2", "passed", ""),
            ("mean", "0", "1", "timed out",
             f"{budget} while running your answer cell of exercise mean."),
            ("total", "0", "3", "timed out", f"{budget} before this exercise was checked."),
        ]
    ]  # fmt: skip
    assert rows_of(result, paths[1]) == expected_rows("correct", str(paths[1]))
    assert result.seconds < 8 + 20


def test_private_checks(machine, tmp_path):
    need_sandbox(machine)
    paths = copy_submissions(["correct", "sneaky", "untouched"], tmp_path / "subs")
    result = run_grader(
        *paths, "--reference", REFERENCE_DIR, "--private-checks", PRIVATE_CHECKS,
        "--out", tmp_path / "g.csv", "--feedback", tmp_path / "fb", *LIMITS,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    want = {
        "correct": [ok("double", 2), ok("mean", 1), ("total", 4, 4, "passed", "")],
        "sneaky": [
            zero("double", 2, "failed", "A hidden check failed: double(1000000) returned 0, "
                                        "expected 2000000."),
            ok("mean", 1),
            ("total", 3, 4, "failed", "A hidden check failed: total should be an int, not a "
                                      "float"),
        ],
        "untouched": [zero("double", 2, "not attempted", NA),
                      zero("mean", 1, "not attempted", NA),
                      zero("total", 4, "not attempted", NA)],
    }  # fmt: skip
    for path in paths:
        assert rows_of(result, path) == [
            {"submission": str(path), "sheet": SHEET, "exercise": ex, "points": str(p),
             "max_points": str(m), "status": s, "message": msg}
            for ex, p, m, s, msg in want[path.stem]
        ]  # fmt: skip
    feedback = (tmp_path / "fb" / "sneaky.md").read_text(encoding="utf-8")
    assert "A hidden check failed: double(1000000) returned 0" in feedback
    assert "10**6" not in feedback and "isinstance" not in feedback  # the code stays hidden


def test_missing_bubblewrap_is_reported(machine, tmp_path):
    """With bwrap off the PATH, --sandbox auto says so and falls back (or refuses, loudly)."""
    paths = copy_submissions(["correct"], tmp_path / "subs")
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"))
    result = run_grader(
        *paths, "--reference", REFERENCE_DIR, "--out", tmp_path / "g.csv",
        "--feedback", tmp_path / "fb", *LIMITS, env=env,
    )  # fmt: skip
    assert "bubblewrap (bwrap) is not installed" in result.stderr
    assert "Falling back to resource limits only" in result.stderr
    feedback = (tmp_path / "fb" / "correct.md").read_text(encoding="utf-8")
    if result.code == 1:  # the fallback cannot run here either: every row says why
        print(f"fallback unavailable here, checked the refusal: {result.stderr.strip()}")
        assert "no usable sandbox" in result.stderr
        assert [r["status"] for r in result.rows] == ["error"] * 3
        assert all("no usable sandbox" in r["message"] for r in result.rows)
    else:
        assert result.code == 0, result.stderr
        assert rows_of(result, paths[0]) == expected_rows("correct", str(paths[0]))
        assert "Sandbox: bubblewrap was not used" in feedback


FALLBACK = ["correct", "memory_hog", "fork_bomb", "infinite_loop", "exit_kernel", "write_attack"]


def test_forced_fallback(tmp_path):
    """--sandbox rlimits: hostile submissions under resource limits only."""
    names = list(FALLBACK)
    if os.geteuid() != 0:
        names.remove("write_attack")  # nothing would stop it as a normal user
    paths = copy_submissions(names, tmp_path / "subs")
    course_before = hash_tree(ROOT)
    result = run_grader(
        *paths, "--reference", REFERENCE_DIR, "--out", tmp_path / "g.csv",
        "--feedback", tmp_path / "fb", "--sandbox", "rlimits", *LIMITS,
    )  # fmt: skip
    assert "WARNING" in result.stderr and "NOT isolated" in result.stderr
    assert hash_tree(ROOT) == course_before
    if result.code == 1:
        assert all(r["status"] == "error" for r in result.rows)
        assert all("no usable sandbox" in r["message"] for r in result.rows)
        pytest.skip(
            "the resource-limits fallback cannot run on this machine (checked that the grader "
            "refuses cleanly instead): "
            + next(line for line in result.stderr.splitlines() if "no usable sandbox" in line)
        )
    assert result.code == 0, result.stderr
    for name, path in zip(names, paths, strict=True):
        assert rows_of(result, path) == expected_rows(name, str(path)), name
    if os.geteuid() == 0:
        assert sandbox_uids() == []


def test_no_sandbox_means_error_rows(machine, tmp_path):
    if machine.mode is not None:
        pytest.skip(f"this machine has a working sandbox ({machine.mode}); "
                    "test_missing_bubblewrap_is_reported covers the refusal path")  # fmt: skip
    paths = copy_submissions(["correct"], tmp_path / "subs")
    result = run_grader(*paths, "--reference", REFERENCE_DIR, "--out", tmp_path / "g.csv",
                        *LIMITS)  # fmt: skip
    assert result.code == 1
    assert [r["status"] for r in result.rows] == ["error"] * 3


# ---- command line and inputs -----------------------------------------------------------------


def test_refuses_to_overwrite_an_input(tmp_path):
    paths = copy_submissions(["correct"], tmp_path)
    before = paths[0].read_bytes()
    result = run_grader(paths[0], "--reference", REFERENCE_DIR, "--out", paths[0])
    assert result.code == 2
    assert "would overwrite an input" in result.stderr
    assert paths[0].read_bytes() == before


def test_bad_private_checks_are_refused(tmp_path):
    paths = copy_submissions(["correct"], tmp_path / "subs")
    cases = {
        "typo.py": ("# %% private-check exercise=dubble\nassert True\n", "no auto-graded"),
        "code.py": ("import os\n# %% private-check exercise=double\nassert True\n",
                    "would never run"),
        "attr.py": ("# %% private-check exercise=double weight=2\nassert True\n",
                    "unknown attribute"),
    }  # fmt: skip
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = run_grader(paths[0], "--reference", REFERENCE_DIR, "--out", tmp_path / "g.csv",
                            "--private-checks", path)  # fmt: skip
        assert result.code == 2, name
        assert message in result.stderr, (name, result.stderr)
    assert not (tmp_path / "g.csv").exists()


def test_private_checks_from_a_notebook(tmp_path):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "outputs": [],
                     "metadata": {"course": {"role": "private-check", "exercise": "total",
                                             "points": 2}},
                     "source": "assert total == 385"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    path = tmp_path / "private.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    checks = reference.load_private_checks(path)
    assert [(c.exercise, c.points, c.sheet) for c in checks] == [("total", 2.0, None)]
    sheets = reference.load_reference(REFERENCE_DIR)
    assert list(reference.attach_private_checks(sheets, checks)) == [(SHEET, "total")]


def test_example_private_checks_file():
    """The example (sheet 04, graded by the protocol) loads, attaches, and its cases are judged
    right for the reference's own answers by the exercises' comparators."""
    import numpy as np

    from course_lib.cases import build, built

    example = ROOT / "examples" / "private_checks_example.py"
    found = reference.load_private_cases(example)
    assert [(p.sheet, p.exercise, p.points) for p in found] == [
        ("04_adagrad", "adagrad_step", None), ("04_adagrad", "run_adagrad", 1)]
    sheets = reference.load_reference(ROOT / "solutions")
    assert reference.attach_private_cases(sheets, found) == found

    def adagrad_step(p, g, s, lr, eps=1e-10):
        s = s + g * g
        return p - lr * g / (np.sqrt(s) + eps), s

    spec = sheets["04_adagrad"].cases["adagrad_step"]
    for case in found[0].draw(np.random.default_rng(0)):
        spec.compare(built(case), adagrad_step(*build(case.args), **case.kwargs), None)


def test_rebuild_takes_only_the_answer_cells():
    sheets = reference.load_reference(REFERENCE_DIR)
    sheet = sheets[SHEET]
    import nbformat

    learner = nbformat.read(str(SUBMISSIONS_DIR / "nbval_markers.ipynb"), as_version=4)
    rebuilt = grade.rebuild(sheet, learner, {})
    nb = json.loads(rebuilt.notebook_json)
    ref_code = [c for c in sheet.cells if c.cell_type == "code"]
    assert len(nb["cells"]) == len(ref_code)
    for cell, ref, info in zip(nb["cells"], ref_code, rebuilt.plan, strict=True):
        assert cell["outputs"] == [] and cell["execution_count"] is None
        assert "tags" not in cell["metadata"]
        assert cell["metadata"]["course_grade"]["skip"] is False
        if info.role == "answer":
            assert "NBVAL_" in cell["source"]  # the learner's text, markers and all
        else:
            assert cell["source"] == ref.source  # the reference's, whatever the learner did
    # a deleted answer cell comes back as the exercise version
    learner.cells = [c for c in learner.cells
                     if sheet_format.course_meta(c).get("role") != "answer"]
    rebuilt = grade.rebuild(sheet, learner, {})
    answers = [c for c, i in zip(json.loads(rebuilt.notebook_json)["cells"], rebuilt.plan,
                                 strict=True) if i.role == "answer"]  # fmt: skip
    assert [a["source"].splitlines()[-1].strip() for a in answers] == [
        'raise NotAttempted("double")', 'raise NotAttempted("mean")',
        'raise NotAttempted("total")',
    ]  # fmt: skip


def test_stub_answer_keeps_indentation():
    source = "def f(x):\n    y = 1\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n"
    stub = sheet_format.replace_code_regions(source, "f")
    assert stub == 'def f(x):\n    y = 1\n    raise NotAttempted("f")\n'


def test_feedback_names_do_not_collide():
    assert grade.feedback_names(["a/x.ipynb", "b/x.ipynb", "x.ipynb", "c/y.ipynb"]) == [
        "x", "b__x", "x-2", "y"
    ]  # fmt: skip


def test_fixtures_are_up_to_date():
    spec = importlib.util.spec_from_file_location("make_fixtures", HERE / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ref = module.reference()
    assert json.loads((HERE / "reference" / "grading_tiny.ipynb").read_text("utf-8")) == ref
    assert json.loads(REFERENCE_NB.read_text(encoding="utf-8")) == module.legacy_reference()
    subs = module.submissions(ref)
    assert sorted(subs) == sorted(p.stem for p in SUBMISSIONS_DIR.glob("*.ipynb"))
    for name, content in subs.items():
        text = (SUBMISSIONS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
        if isinstance(content, str):
            assert text == content, name
        else:
            assert json.loads(text) == content, name
    assert set(EXPECTED) | {"slow", "sneaky"} == set(subs)
