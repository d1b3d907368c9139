"""The protocol grader on the hostile corpus: every submission gets its exact rows.

One grader run grades the 23 crafted submissions of test_grade.py and the 20 hostile ones of
hostile.py against the tiny sheet's case definitions (reference/grading_tiny_cases.py), with
the private cases of private_cases.py and a fixed hidden-case seed. The learner's code runs in
the sandboxed worker and only produces values; the rows come from the comparators in the
grading process. See hostile.py for what each attack does.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from test_grade import (
    ROOT,
    SUBMISSIONS_DIR,
    Listener,
    copy_submissions,
    hash_tree,
    machine,  # noqa: F401 - the fixture
    need_sandbox,
)

from course_lib.cases import Case, describe_case
from course_tools import protocol
from course_tools.inside import codec

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
PRIVATE = HERE / "private_cases.py"
HOSTILE_DIR = HERE / "hostile"
SHEET = "grading_tiny"
# fs_search looks for the seed in every /proc/*/cmdline and environ and in every file it can
# read, this one included: so the literal is assembled here
SEED = "98765" + "43210" + "123"
LIMITS = ["--cell-timeout", "10", "--memory", "2G", "--nproc", "64", "--jobs", "2",
          "--no-progress", "--seed", SEED]

NA = "Not attempted yet: the answer still raises NotAttempted (replace that line with your code)."
D_WRONG = "case 'double(1)': expected 2, got 1. Hint: multiply by 2"
M_WRONG = ("case 'mean([1, 2, 3])': expected 2.0, got 6. Hint: divide the sum by the number of "
           "values")


def T_WRONG(got):  # noqa: N802 - reads like the other constants
    return (f"case 'total': expected the sum of the squares of 1 to 10, got {got}. Hint: "
            "range(1, 11) stops before 11")


def undefined(name):
    return (f"your answer does not define `{name}` (NameError). Names must be defined in the "
            "answer cell itself: code in cells you added is not run.")


ENDED = "The sandboxed process gave no usable reply: the sandboxed process ended."
BUDGET = "The submission's total time budget ran out"


def ok(ex, points, top=None):
    return (ex, points, points if top is None else top, "passed", "")


def zero(ex, top, status, message):
    return (ex, 0, top, status, message)


def not_graded(status, why):
    msg = ("Not graded: while running the answer cells, the sandboxed process gave no usable "
           f"reply: {why}.")
    return [zero("double", 2, status, msg), zero("mean", 1, status, msg),
            zero("total", 4, status, msg)]


PASS = [ok("double", 2), ok("mean", 1), ok("total", 4)]  # total: 3 points + 1 private

EXPECTED = {
    # --- the crafted submissions of test_grade.py ---
    "correct": PASS,
    "untouched": [zero("double", 2, "not attempted", NA), zero("mean", 1, "not attempted", NA),
                  zero("total", 4, "not attempted", NA)],
    "partial": [ok("double", 2), zero("mean", 1, "failed", M_WRONG),
                zero("total", 4, "not attempted", NA)],
    "infinite_loop": [zero("double", 2, "timed out",
                           "case 'double(0)': your code did not finish within the time limit."),
                      ok("mean", 1), ok("total", 4)],
    "uninterruptible_loop": [zero("double", 2, "timed out",
                                  "case 'double(0)': your code did not finish within the time "
                                  "limit."), ok("mean", 1), ok("total", 4)],
    "exit_kernel": not_graded("error", "the sandboxed process ended"),
    "memory_hog": [zero("double", 2, "failed", "case 'double(0)': your code raised MemoryError:"),
                   ok("mean", 1), ok("total", 4)],
    "fork_bomb": PASS,
    "network": PASS,
    "write_attack": PASS,
    "kill_parent": [ok("double", 2),
                    zero("mean", 1, "failed", undefined("mean") + " Your answer cell raised "
                         "PermissionError: [Errno 1] Operation not permitted"), ok("total", 4)],
    "forge_results": [zero("double", 2, "failed", D_WRONG), zero("mean", 1, "failed", M_WRONG),
                      zero("total", 4, "failed", T_WRONG(1))],
    "deleted_check": [ok("double", 2), zero("mean", 1, "failed", M_WRONG), ok("total", 4)],
    "edited_check": [zero("double", 2, "failed", D_WRONG), zero("mean", 1, "failed", M_WRONG),
                     ok("total", 4)],
    "nbval_markers": [ok("double", 2), zero("mean", 1, "failed", M_WRONG),
                      zero("total", 4, "failed", T_WRONG(384))],
    "stale_outputs": [zero("double", 2, "failed", D_WRONG),
                      zero("mean", 1, "failed", "case 'mean([1, 2, 3])': expected 2.0, got 0. "
                           "Hint: divide the sum by the number of values"),
                      zero("total", 4, "failed", T_WRONG(0))],
    "helper_cell": [ok("double", 2),
                    zero("mean", 1, "failed", "case 'mean([1, 2, 3])': your code raised "
                         "NameError: name 'my_sum' is not defined"), ok("total", 4)],
    "slow": [ok("double", 2),
             zero("mean", 1, "timed out", "Your answer cell did not finish within the time "
                  "limit per cell."), ok("total", 4)],
    "sneaky": [zero("double", 2, "failed", "a hidden case with a number: the result is not "
                    "right (got a number). Hint: multiply by 2"), ok("mean", 1),
               ("total", 3, 4, "failed", "A hidden check failed: a hidden case: the result is "
                "not right (got a number). Hint: the sum of integers is an integer")],
    "unknown_sheet": [("", 0, 0, "error",
                       "unknown sheet 'no_such_sheet' (the reference has: grading_tiny)")],
    "no_sheet": [("", 0, 0, "error",
                  "the notebook has no course.sheet in its metadata, so it is not one of the "
                  "course's exercise sheets (was it made from an exercises/ notebook?)")],
    "not_json": [("", 0, 0, "error", "not a notebook: the file is not valid JSON (Expecting "
                                     "value: line 1 column 1 (char 0))")],
    "not_notebook": [("", 0, 0, "error", "not a Jupyter notebook: the JSON has no list of cells")],
    # --- the hostile corpus of hostile.py ---
    "rebind_check": [zero("double", 2, "failed", D_WRONG), ok("mean", 1), ok("total", 4)],
    "patch_checks_module": [ok("double", 2), zero("mean", 1, "failed", M_WRONG), ok("total", 4)],
    "patch_numpy": [ok("double", 2), zero("mean", 1, "failed", M_WRONG), ok("total", 4)],
    "frame_walk": [zero("double", 2, "failed", D_WRONG), ok("mean", 1), ok("total", 4)],
    "array_hook": [zero("double", 2, "failed", "case 'double(0)': expected 0, got a Chameleon. "
                        "Hint: multiply by 2"), ok("mean", 1), ok("total", 4)],
    "showtraceback_hook": [zero("double", 2, "failed", D_WRONG),
                           zero("mean", 1, "failed", M_WRONG), ok("total", 4)],
    "thread_printer": [zero("double", 2, "failed", D_WRONG), ok("mean", 1),
                       zero("total", 4, "failed", T_WRONG(1))],
    "input_transformer": [zero("double", 2, "failed", D_WRONG),
                          zero("mean", 1, "failed", undefined("mean")),
                          zero("total", 4, "failed", undefined("total"))],
    "forge_iopub": [zero("double", 2, "failed", D_WRONG), ok("mean", 1), ok("total", 4)],
    "forge_channel": not_graded("error", "a reply out of order"),
    "steal_requests": [zero("double", 2, "failed", "case 'double(0)': expected 0, got -999. "
                            "Hint: multiply by 2"),
                       zero("mean", 1, "failed", "case 'mean([1, 2, 3])': expected 2.0, got "
                            "-999. Hint: divide the sum by the number of values"),
                       zero("total", 4, "failed", T_WRONG(-999))],
    "lone_surrogate": [zero("double", 2, "failed", "case 'double(0)': expected 0, got "
                            "'\\ud800\\x1b[2J\\u202e'. Hint: multiply by 2"),
                       zero("mean", 1, "failed", "case 'mean([1, 2, 3])': your code raised "
                            "ValueError: \ufffd [31m bad"), ok("total", 4)],
    "unsupported_values": [zero("double", 2, "failed", "case 'double(0)': expected 0, got a "
                                "function. Hint: multiply by 2"), ok("mean", 1),
                           zero("total", 4, "failed", T_WRONG("a generator"))],
    "huge_value": [zero("double", 2, "failed", "case 'double(0)': your code raised CodecError: "
                        "an array of 10000000 elements is larger than 1000000"),
                   ok("mean", 1), ok("total", 4)],
    "library_answer": [ok("double", 2),
                       ("mean", 1, 1, "passed", "Flagged for review: the answer uses "
                        "statistics, which this exercise asks you to write yourself."),
                       ok("total", 4)],
    "sleeper": [zero("double", 2, "timed out", f"{BUDGET} while checking this exercise."),
                zero("mean", 1, "timed out", f"{BUDGET} before this exercise was checked."),
                zero("total", 4, "timed out", f"{BUDGET} before this exercise was checked.")],
    "exit_in_call": [ok("double", 2), zero("mean", 1, "error", ENDED),
                     zero("total", 4, "error", "Not checked: the sandboxed process ended "
                          "earlier, while checking exercise mean.")],
    "print_flood": [zero("double", 2, "failed", D_WRONG), ok("mean", 1), ok("total", 4)],
    "unstoppable": [zero("double", 2, "timed out", "Your code did not finish within 10 s and "
                         "did not stop when interrupted, so it was stopped."),
                    zero("mean", 1, "error", "Not checked: the sandboxed process stopped "
                         "answering earlier, while checking exercise double."),
                    zero("total", 4, "error", "Not checked: the sandboxed process stopped "
                         "answering earlier, while checking exercise double.")],
    # passes only when the search found none of the cases, private cases, seed or notebook
    "fs_search": PASS,
}
NOT_A_SHEET = {"unknown_sheet", "no_sheet", "not_json", "not_notebook"}


def expected_rows(name: str, path: str) -> list[list[str]]:
    sheet = "no_such_sheet" if name == "unknown_sheet" else "" if name in NOT_A_SHEET else SHEET
    return [[path, sheet, ex, f"{p:g}", f"{m:g}", status, msg]
            for ex, p, m, status, msg in EXPECTED[name]]


def _copy_hostile(dest: Path) -> list[Path]:
    paths = []
    for src in sorted(HOSTILE_DIR.glob("*.ipynb")):
        path = dest / src.name
        path.write_bytes(src.read_bytes())
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def corpus_run(machine, tmp_path_factory):  # noqa: F811 - pytest's fixture argument
    need_sandbox(machine)
    if machine.mode != "bwrap":
        pytest.skip("the corpus's expected rows are those of the bubblewrap sandbox "
                    "(fs_search finds the grader's /proc without it); see the README")
    work = tmp_path_factory.mktemp("protocol")
    subs = work / "subs"
    listener = Listener()
    try:
        names = [p.stem for p in SUBMISSIONS_DIR.glob("*.ipynb")]
        paths = copy_submissions(names, subs, port=listener.port) + _copy_hostile(subs)
        before = hash_tree(ROOT), hash_tree(subs)
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "course_tools.grade", "--reference", str(REFERENCE),
             "--private-checks", str(PRIVATE), "--out", str(work / "grades.csv"),
             "--feedback", str(work / "fb"), *LIMITS, "--", *map(str, paths)],
            capture_output=True, text=True, timeout=900, cwd=ROOT)
        seconds = time.monotonic() - start
    finally:
        listener.close()
    with open(work / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    print(f"\nprotocol corpus: {len(paths)} submissions in {seconds:.1f} s", file=sys.stderr)
    return SimpleNamespace(proc=proc, rows=rows, paths={p.stem: p for p in paths}, work=work,
                           before=before, after=(hash_tree(ROOT), hash_tree(subs)),
                           hits=list(listener.hits))


def test_the_corpus_is_large_and_complete():
    assert len(EXPECTED) >= 30 + len(NOT_A_SHEET)
    hostile = {p.stem for p in HOSTILE_DIR.glob("*.ipynb")}
    crafted = {p.stem for p in SUBMISSIONS_DIR.glob("*.ipynb")}
    assert set(EXPECTED) == hostile | crafted


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rows(corpus_run, name):
    assert corpus_run.proc.returncode == 0, corpus_run.proc.stderr[-3000:]
    path = str(corpus_run.paths[name])
    assert [r for r in corpus_run.rows if r[0] == path] == expected_rows(name, path)


def test_course_and_submissions_are_byte_identical(corpus_run):
    assert corpus_run.before[0] == corpus_run.after[0]
    assert corpus_run.before[1] == corpus_run.after[1]


def test_no_network_from_the_worker(corpus_run):
    assert corpus_run.hits == []


def test_feedback_never_quotes_cases_or_private_checks(corpus_run):
    cases = (REFERENCE / "grading_tiny_cases.py").read_text(encoding="utf-8")
    private = PRIVATE.read_text(encoding="utf-8")
    secret_lines = [line.strip() for line in (cases + private).splitlines()
                    if len(line.strip()) > 25 and not line.strip().startswith(("#", '"'))]
    for path in (corpus_run.work / "fb").iterdir():
        text = path.read_text(encoding="utf-8")
        assert not [line for line in secret_lines if line in text], path.name
        assert "'large'" not in text and "'negative'" not in text  # private cases' labels


# ---- units: the codec and the channel ----------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, float("nan"), "text", [1, 2], (1, (2.0, None)), {"a": [1]},
    np.arange(6, dtype=np.int64).reshape(2, 3), np.float32(1.5), np.array([1.0, 2.0], np.float32),
])
def test_codec_round_trip(value):
    back = codec.from_plain(json.loads(codec.dumps({"v": codec.to_plain(value)}))["v"])
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and value != value:
        assert back != back
    else:
        assert back == value and type(back) is type(value)


@pytest.mark.parametrize("bad", [
    {"__ndarray__": {"dtype": "object", "shape": [1], "data": ""}},
    {"__ndarray__": {"dtype": "float64", "shape": [2], "data": "AAAA"}},
    {"__ndarray__": {"dtype": "float64", "shape": [10**9], "data": ""}},
    {"__pickle__": "gASVAAAAAAAAAAA="}, {"a": 1, "b": 2}, {"__float__": "1e999"},
    {"__spec__": ["os.system", {"__tuple__": ["id"]}, {"__dict__": {}}, None]},
    {"__spec__": ["SeedBowl", {"__tuple__": []}, {"__dict__": {}}, "__class__"]},
])
def test_codec_refuses_what_is_not_plain_data(bad):
    with pytest.raises(ValueError):  # codec.CodecError is one
        value = codec.from_plain(bad)
        from course_lib.cases import build

        build(value)  # a Spec naming something outside course_lib's objectives


def test_unsupported_values_travel_as_a_type_name():
    assert codec.from_plain(codec.to_plain(object())) == codec.Unsupported("object")
    assert codec.to_plain(np.array(["a"]))["__unsupported__"].startswith("array of dtype")


class _FakeWorker:
    def __init__(self, replies):
        self.replies, self.ended, self.sent = list(replies), False, []

    def send(self, data):
        self.sent.append(data)
        return True

    def receive(self, deadline):
        if not self.replies:
            return None
        return self.replies.pop(0)


@pytest.mark.parametrize("reply, why", [
    (b'{"id": 1, "ok": true, "value": 2}', "a reply out of order"),
    (b"not json", "a malformed reply"),
    (b"[1, 2]", "a malformed reply"),
    (None, "the sandboxed process stopped answering"),
])
def test_the_channel_refuses_bad_replies(reply, why):
    channel = protocol.Channel(_FakeWorker([reply] if reply else []), time.monotonic() + 60)
    with pytest.raises(protocol.ProtocolError, match=why):
        channel.ask({"op": "value", "name": "total"}, 1.0)
    with pytest.raises(protocol.ProtocolError):  # once broken, never asked again
        channel.ask({"op": "value", "name": "total"}, 1.0)


def test_a_reply_never_claims_a_pass():
    """The reply carries only a value; a 'passed' field is ignored and the comparator decides."""
    import runpy

    spec = runpy.run_path(str(REFERENCE / "grading_tiny_cases.py"))["EXERCISES"]["double"]
    case = Case("double(1)", (1,))
    reply = {"id": 0, "ok": True, "value": 1, "passed": True, "status": "passed"}
    assert protocol.judge(spec, case, spec.compare, reply) == (
        "failed", "case 'double(1)': expected 2, got 1. Hint: multiply by 2")
    assert protocol.judge(spec, case, spec.compare, {"id": 0, "ok": True, "value": 2}) is None


def test_hidden_cases_are_described_by_dtype_and_shape_only():
    case = Case("x", (np.zeros(3, np.float32), 0.5), {"eps": 1e-10}, hidden=True)
    assert describe_case(case) == ("a hidden case with a float32 array of shape (3,), a number, "
                                   "eps=a number")


def test_forbidden_names_are_found_in_imports_names_and_attributes():
    sources = ["from course_lib.optim import AdaGrad\n",
               "import course_lib\nx = course_lib.minimize", "def f(:\n"]
    assert protocol.forbidden_uses(sources, ("AdaGrad", "minimize", "RMSprop")) == [
        "AdaGrad", "minimize"]



def test_a_real_sheet_by_protocol(machine, tmp_path):  # noqa: F811 - pytest's fixture argument
    """Sheet 04 through the protocol: the solutions pass, and a wrong answer dressed with
    in-kernel attacks fails with the comparator's message; the rest is not attempted."""
    need_sandbox(machine)
    solution = json.loads((ROOT / "solutions" / "04_adagrad.ipynb").read_text("utf-8"))
    hostile = json.loads((ROOT / "exercises" / "04_adagrad.ipynb").read_text("utf-8"))
    attack = ("import numpy as np\nnp.allclose = lambda *a, **k: True\n"
              "import course_lib.checks as c\nc.check = lambda *a, **k: "
              "print('[adagrad_step] passed: 6/6 cases')\n"
              "def adagrad_step(p, g, s, lr, eps=1e-10):\n    s = s + g**2\n"
              "    return p - lr * g / np.sqrt(s + eps), s  # eps inside the root\n")
    for cell in hostile["cells"]:
        course = cell["metadata"].get("course", {})
        if course.get("role") == "answer" and course.get("exercise") == "adagrad_step":
            cell["source"] = attack
    paths = []
    for name, nb in (("solution", solution), ("hostile", hostile)):
        paths.append(tmp_path / f"{name}.ipynb")
        paths[-1].write_text(json.dumps(nb), encoding="utf-8")
    out = tmp_path / "g.csv"
    proc = subprocess.run([sys.executable, "-m", "course_tools.grade", "--sheet", "04_adagrad",
                           "--out", str(out), "--no-progress", "--", *map(str, paths)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    got = {(Path(r["submission"]).stem, r["exercise"]): r for r in rows}
    exercises = {ex for _, ex in got}
    assert "adagrad_step" in exercises and len(exercises) >= 4
    for ex in exercises:
        assert got[("solution", ex)]["status"] == "passed", got[("solution", ex)]
    wrong = got[("hostile", "adagrad_step")]
    assert wrong["status"] == "failed" and wrong["points"] == "0"
    assert "eps outside the square root" in wrong["message"]
    for ex in exercises - {"adagrad_step"}:
        assert got[("hostile", ex)]["status"] == "not attempted", got[("hostile", ex)]
