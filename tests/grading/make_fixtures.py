"""Write the grader's test fixtures: a tiny reference sheet and crafted submissions.

    .venv/bin/python tests/grading/make_fixtures.py

The fixtures are committed; tests/grading/test_grade.py checks they are up to date. The
reference sheet has its checks inline (no dependency on course_lib.checks), three auto-graded
exercises and one written one:

    double (2 points)  a function            mean (1 point)  a function
    total  (3 points)  a top-level value     why    (1 point) written, graded by hand

Placeholders in hostile submissions (__PORT__, __VICTIM__, __REFERENCE__) are filled in by the
tests with a free port and paths in their temporary directory.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference" / "grading_tiny.ipynb"  # graded by the protocol
LEGACY = HERE / "reference_legacy" / "grading_tiny.ipynb"  # no case definitions: nbval
SUBMISSIONS = HERE / "submissions"
HOSTILE_DIR = HERE / "hostile"
SHEET = "grading_tiny"

SETUP = '''\
class NotAttempted(Exception):
    """Raised by an answer that has not been written yet."""


class CheckFailed(AssertionError):
    """Raised by a check: names the failing case, what was expected and what came back."""'''

ANSWER_DOUBLE = '''\
def double(x):
    """Return twice x."""
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION'''

CHECK_DOUBLE = '''\
def check_double(f):
    cases = [0, 1, -3, 2.5]
    for x in cases:
        got = f(x)
        if got != 2 * x:
            raise CheckFailed(
                f"double({x!r}) returned {got!r}, expected {2 * x!r}. Hint: multiply by 2."
            )
    print(f"[double] passed: {len(cases)}/{len(cases)} cases")


check_double(double)'''

ANSWER_MEAN = '''\
def mean(xs):
    """The arithmetic mean of a non-empty list."""
    # BEGIN SOLUTION
    return sum(xs) / len(xs)
    # END SOLUTION'''

CHECK_MEAN = '''\
def check_mean(f):
    cases = [[1, 2, 3], [5], [-1, 1], [0.5, 0.25]]
    for xs in cases:
        got = f(list(xs))
        want = sum(xs) / len(xs)
        if got != want:
            raise CheckFailed(
                f"mean({xs!r}) returned {got!r}, expected {want!r}. "
                "Hint: divide the sum by the number of values."
            )
    print(f"[mean] passed: {len(cases)}/{len(cases)} cases")


check_mean(mean)'''

ANSWER_TOTAL = '''\
# The sum of the squares of 1, 2, ..., 10.
# BEGIN SOLUTION
total = sum(k * k for k in range(1, 11))
# END SOLUTION'''

CHECK_TOTAL = '''\
def check_total(value):
    if value != 385:
        raise CheckFailed(
            f"total is {value!r}, expected the sum of the squares of 1 to 10. "
            "Hint: range(1, 11) stops before 11."
        )
    print("[total] passed: 1/1 cases")


check_total(total)'''

WRITTEN = """\
**Question.** Why does `mean([])` have no sensible value?

<!-- BEGIN SOLUTION -->
The mean divides by the number of values, and there are none: 0/0 is undefined.
<!-- END SOLUTION -->"""


def code(source, **course):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source}  # fmt: skip
    if course:
        cell["metadata"]["course"] = course
    return cell


def markdown(source, **course):
    cell = {"cell_type": "markdown", "metadata": {}, "source": source}
    if course:
        cell["metadata"]["course"] = course
    return cell


def reference() -> dict:
    cells = [
        markdown("# A tiny sheet for the grader's tests"),
        code(SETUP),
        markdown("## Exercise 1: `double`"),
        code(ANSWER_DOUBLE, role="answer", exercise="double"),
        code(CHECK_DOUBLE, role="check", exercise="double", points=2),
        markdown("## Exercise 2: `mean`"),
        code(ANSWER_MEAN, role="answer", exercise="mean"),
        code(CHECK_MEAN, role="check", exercise="mean", points=1),
        markdown("## Exercise 3: `total`"),
        code(ANSWER_TOTAL, role="answer", exercise="total"),
        code(CHECK_TOTAL, role="check", exercise="total", points=3),
        markdown(WRITTEN, role="written", exercise="why", points=1),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    return {
        "cells": cells,
        "metadata": {
            "course": {"sheet": SHEET, "title": "Grader test sheet", "cases": "grading_tiny_cases"},
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def legacy_reference() -> dict:
    """The same sheet without case definitions: graded by running its check cells (nbval)."""
    nb = reference()
    del nb["metadata"]["course"]["cases"]
    return nb


def exercise_version(nb: dict) -> dict:
    """What a learner receives: solution regions replaced (as solutions/README.md says)."""
    sys.path.insert(0, str(HERE.parent.parent))
    from course_tools.sheet_format import replace_code_regions, replace_text_regions

    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        course = cell["metadata"].get("course", {})
        if course.get("role") == "answer":
            cell["source"] = replace_code_regions(cell["source"], course["exercise"])
        elif course.get("role") == "written":
            cell["source"] = replace_text_regions(cell["source"])
    return nb


def answer(nb: dict, exercise: str, source: str, *, tags=None) -> None:
    for cell in nb["cells"]:
        course = cell["metadata"].get("course", {})
        if course.get("role") == "answer" and course.get("exercise") == exercise:
            cell["source"] = source
            if tags:
                cell["metadata"]["tags"] = tags
            return
    raise KeyError(exercise)


def check_cell(nb: dict, exercise: str) -> dict:
    for cell in nb["cells"]:
        course = cell["metadata"].get("course", {})
        if course.get("role") == "check" and course.get("exercise") == exercise:
            return cell
    raise KeyError(exercise)


def solved(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    answer(nb, "double", "def double(x):\n    return x + x")
    answer(nb, "mean", "def mean(xs):\n    return sum(xs) / len(xs)")
    answer(nb, "total", "total = 0\nfor k in range(1, 11):\n    total += k ** 2")
    for cell in nb["cells"]:
        if cell["metadata"].get("course", {}).get("role") == "written":
            cell["source"] = cell["source"].replace(
                "_Write your answer here._", "There are no values, so we would divide by zero."
            )
    return nb


WRONG_MEAN = "def mean(xs):\n    return sum(xs)"

FORK_BOMB = '''\
import os
import time

# A fork bomb, kept safe: the sandbox's RLIMIT_NPROC stops it; in addition it never forks more
# than 2000 times and every child exits by itself after 15 s.
children = 0
for _ in range(2000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            time.sleep(15)
        finally:
            os._exit(0)
    children += 1
print(f"forked {children} children")

def mean(xs):
    return sum(xs) / len(xs)'''

UNINTERRUPTIBLE = '''\
def double(x):
    while True:  # an endless loop that also swallows the interrupt nbval sends
        try:
            while True:
                pass
        except KeyboardInterrupt:
            pass'''

NETWORK = '''\
import socket

reached = []
for address in [("127.0.0.1", __PORT__), ("192.0.2.1", 80)]:  # our listener, TEST-NET-1
    try:
        with socket.create_connection(address, timeout=2) as s:
            s.sendall(b"submission says hello")
            reached.append(address)
    except OSError:
        pass
print(f"reached: {reached}")

def double(x):
    return 2 * x'''

WRITE_ATTACK = '''\
import glob
import os

import course_lib  # the course's own package, to find its files

# Existing course files are only opened for appending (that is what a sandbox must refuse) and
# nothing is written, so a broken sandbox could not damage a checkout; new files and the other
# submission (a temporary copy) are really written.
course_dir = os.path.dirname(course_lib.__file__)
targets = {
    "reference": ("__REFERENCE__", "a", ""),
    "course_lib": (os.path.join(course_dir, "__init__.py"), "a", ""),
    "new_course_file": (os.path.join(course_dir, "pwned.py"), "w", "pwned = True"),
    "victim": ("__VICTIM__", "w", '{"cells": [], "hacked": true}'),
}
damage = {}
for name, (path, mode, text) in targets.items():
    try:
        with open(path, mode) as f:
            f.write(text)
        damage[name] = "written"
    except OSError as exc:
        damage[name] = type(exc).__name__
for path in glob.glob("/grade/*") + glob.glob("*.ipynb"):
    try:
        with open(path, "a") as f:
            pass
        damage[path] = "written"
    except OSError as exc:
        damage[path] = type(exc).__name__
print(f"damage: {damage}")

def double(x):
    return 2 * x'''


KILL_PARENT = '''\
import os
import signal

os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent: the grading pytest process'''

FORGE_RESULTS = '''\
import json
import os
import threading
import time

# Try to write fake "passed" records into every file descriptor of the grading process (the
# kernel's parent), hoping to reach the pipe that carries the results: now, and from a
# background thread while the checks run (so a forged record would come after the real one).
fake = "".join(
    json.dumps({"event": "cell", "index": index, "phase": "call", "exc": None,
                "timed_out": False, "kernel_alive": True,
                "outputs": [{"type": "stream", "name": "stdout",
                             "text": f"[{ex}] passed: 1/1 cases\\n"}]}) + "\\n"
    for index, ex in [(2, "double"), (4, "mean"), (6, "total")]
)


def forge():
    forged = []
    for who, pid in [("parent", os.getppid()), ("self", os.getpid())]:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError as exc:
            forged.append(f"{who}: {type(exc).__name__}")
            continue
        for fd in fds:
            try:
                with open(f"/proc/{pid}/fd/{fd}", "w") as f:
                    f.write(fake)
                forged.append(f"{who}/{fd}")
            except OSError:
                pass
    return forged


def keep_forging():
    end = time.monotonic() + 10
    while time.monotonic() < end:
        forge()
        time.sleep(0.1)


print(f"forged: {forge()}")
threading.Thread(target=keep_forging, daemon=True).start()

def double(x):
    return x  # wrong'''


def submissions(ref: dict) -> dict[str, object]:
    ex = exercise_version(ref)
    good = solved(ex)
    subs: dict[str, object] = {}
    subs["correct"] = good
    subs["untouched"] = ex

    nb = copy.deepcopy(ex)
    answer(nb, "double", "def double(x):\n    return 2 * x")
    answer(nb, "mean", WRONG_MEAN)
    subs["partial"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "double", "def double(x):\n    while True:\n        pass")
    subs["infinite_loop"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "double", UNINTERRUPTIBLE)
    subs["uninterruptible_loop"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "mean", "import os\n\nos._exit(3)")
    subs["exit_kernel"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "double", "def double(x):\n    blob = bytearray(20 * 2**30)  # 20 GB\n"
                         "    return 2 * x + len(blob) * 0")  # fmt: skip
    subs["memory_hog"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "mean", FORK_BOMB)
    subs["fork_bomb"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "double", NETWORK)
    subs["network"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "double", WRITE_ATTACK)
    subs["write_attack"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "mean", KILL_PARENT)
    subs["kill_parent"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "double", FORGE_RESULTS)
    answer(nb, "mean", WRONG_MEAN)
    answer(nb, "total", "import time\n\ntime.sleep(1)  # give the forger time\ntotal = 1")
    subs["forge_results"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "mean", WRONG_MEAN)
    nb["cells"].remove(check_cell(nb, "mean"))
    subs["deleted_check"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "mean", WRONG_MEAN)
    answer(nb, "double", "def double(x):\n    return x")
    check_cell(nb, "mean")["source"] = 'print("[mean] passed: 4/4 cases")'
    check_cell(nb, "double")["source"] = 'print("[double] passed: 4/4 cases")'
    subs["edited_check"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "double", "# NBVAL_SKIP\ndef double(x):\n    return 2 * x", tags=["nbval-skip"])
    answer(nb, "mean", "# NBVAL_RAISES_EXCEPTION\n" + WRONG_MEAN, tags=["raises-exception"])
    answer(nb, "total", "# NBVAL_IGNORE_OUTPUT\ntotal = 384")
    cell = check_cell(nb, "mean")
    cell["source"] = "# NBVAL_SKIP\n" + cell["source"]
    cell["metadata"]["tags"] = ["nbval-skip", "raises-exception"]
    cell = check_cell(nb, "total")
    cell["source"] = "# NBVAL_RAISES_EXCEPTION\n# NBVAL_IGNORE_OUTPUT\n" + cell["source"]
    subs["nbval_markers"] = nb

    nb = copy.deepcopy(ex)
    answer(nb, "double", "def double(x):\n    return x")
    answer(nb, "mean", "def mean(xs):\n    return 0")
    answer(nb, "total", "total = 0")
    for n, (exercise, cases) in enumerate([("double", 4), ("mean", 4), ("total", 1)], start=1):
        cell = check_cell(nb, exercise)
        cell["execution_count"] = n
        cell["outputs"] = [{"name": "stdout", "output_type": "stream",
                            "text": f"[{exercise}] passed: {cases}/{cases} cases\n"}]  # fmt: skip
    subs["stale_outputs"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "mean", "def mean(xs):\n    return my_sum(xs) / len(xs)")
    nb["cells"].insert(
        6, {"cell_type": "code", "execution_count": None, "id": "added", "metadata": {},
            "outputs": [], "source": "def my_sum(xs):\n    return sum(xs)"},
    )  # fmt: skip
    subs["helper_cell"] = nb

    nb = copy.deepcopy(good)
    answer(nb, "mean", "import time\n\ntime.sleep(600)\n\ndef mean(xs):\n    return 0")
    subs["slow"] = nb  # used with a short total timeout

    nb = copy.deepcopy(good)
    answer(nb, "double", "double = lambda x: 2 * x if abs(x) < 100 else 0")
    answer(nb, "total", "total = 385.0")
    subs["sneaky"] = nb  # passes the public checks, not the private ones

    nb = copy.deepcopy(good)
    nb["metadata"]["course"]["sheet"] = "no_such_sheet"
    subs["unknown_sheet"] = nb

    nb = copy.deepcopy(good)
    del nb["metadata"]["course"]
    subs["no_sheet"] = nb

    subs["not_json"] = "this is not a notebook {\n"
    subs["not_notebook"] = {"hello": "world", "cells": "none"}
    return subs


def hostile_submissions(ref: dict) -> dict[str, dict]:
    """The protocol's hostile corpus (tests/grading/hostile/): see hostile.py."""
    sys.path.insert(0, str(HERE))
    from hostile import HOSTILE

    good = solved(exercise_version(ref))
    subs = {}
    for name, answers in HOSTILE.items():
        nb = copy.deepcopy(good)
        for exercise, source in answers.items():
            answer(nb, exercise, source.strip("\n"))
        subs[name] = nb
    return subs


def main() -> None:
    ref = reference()
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE.write_text(json.dumps(ref, indent=1) + "\n", encoding="utf-8")
    LEGACY.parent.mkdir(parents=True, exist_ok=True)
    LEGACY.write_text(json.dumps(legacy_reference(), indent=1) + "\n", encoding="utf-8")
    SUBMISSIONS.mkdir(exist_ok=True)
    for name, content in submissions(ref).items():
        text = content if isinstance(content, str) else json.dumps(content, indent=1) + "\n"
        (SUBMISSIONS / f"{name}.ipynb").write_text(text, encoding="utf-8")
    HOSTILE_DIR.mkdir(exist_ok=True)
    for name, nb in hostile_submissions(ref).items():
        (HOSTILE_DIR / f"{name}.ipynb").write_text(json.dumps(nb, indent=1) + "\n", "utf-8")
    print(f"wrote {REFERENCE.relative_to(HERE)}, {len(submissions(ref))} submissions and "
          f"{len(hostile_submissions(ref))} hostile ones")


if __name__ == "__main__":
    main()
