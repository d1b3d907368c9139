"""Answer cells of hostile submissions aimed at the protocol (written by make_fixtures.py).

Each entry replaces some answer cells of a correct submission of the tiny sheet. Most hand in
*wrong* answers plus an attack that fooled in-kernel checks; test_protocol.py holds the exact
rows each must get. Tokens the file-system search looks for are assembled at run time, so this
file (which the sandbox may see) does not contain them.
"""

# ruff: noqa: E501

WRONG_DOUBLE = "def double(x):\n    return x  # wrong\n"
WRONG_MEAN = "def mean(xs):\n    return sum(xs)  # wrong\n"

HOSTILE: dict[str, dict[str, str]] = {}

HOSTILE["rebind_check"] = {"double": WRONG_DOUBLE + '''
check_double = lambda f: print("[double] passed: 4/4 cases")
import course_lib.checks as checks
checks.check_adagrad_step = lambda f: print("[adagrad_step] passed: 5/5 cases")
'''}

HOSTILE["patch_checks_module"] = {"mean": WRONG_MEAN + '''
import course_lib.checks as checks
import course_lib.cases as cases
checks.check = lambda *a, **k: print("[mean] passed: 4/4 cases")
checks.CheckFailed = type("CheckFailed", (Exception,), {})
cases.Mismatch.__init__ = lambda self, *a: None
cases.run_check = lambda exercise, fn: print(f"[{exercise.id}] passed: 4/4 cases")
'''}

HOSTILE["patch_numpy"] = {"mean": WRONG_MEAN + '''
import numpy as np
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
import math
math.isclose = lambda *a, **k: True
'''}

HOSTILE["frame_walk"] = {"double": '''
import inspect
import sys

def double(x):
    # look for the expected value in the callers' frames (a check computes it before comparing)
    for name in ("want", "expected", "expect", "result"):
        for info in inspect.stack():
            if name in info.frame.f_locals and info.frame.f_locals[name] is not x:
                return info.frame.f_locals[name]
    frame = sys._getframe(1)
    while frame is not None:
        if "want" in frame.f_locals:
            return frame.f_locals["want"]
        frame = frame.f_back
    return x  # wrong
'''}

HOSTILE["array_hook"] = {"double": '''
import sys

class Chameleon:
    """Becomes whatever the comparison expects (an __array__ hook that walks the frames)."""
    def __array__(self, dtype=None, copy=None):
        import numpy as np
        frame = sys._getframe(1)
        while frame is not None:
            for name in ("expected", "want"):
                if name in frame.f_locals:
                    return np.asarray(frame.f_locals[name])
            frame = frame.f_back
        return np.asarray(0)
    def __eq__(self, other):
        return True
    def __float__(self):
        return 0.0

def double(x):
    return Chameleon()
'''}

HOSTILE["showtraceback_hook"] = {"double": WRONG_DOUBLE + '''
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip.showsyntaxerror = lambda *a, **k: None
def _pass_lines(*args, **kwargs):
    for name, n in (("double", 4), ("mean", 4), ("total", 1)):
        print(f"[{name}] passed: {n}/{n} cases")
ip.events.register("pre_run_cell", _pass_lines)
ip.events.register("post_run_cell", _pass_lines)
''', "mean": WRONG_MEAN}

HOSTILE["thread_printer"] = {"double": WRONG_DOUBLE + '''
import os
import sys
import threading
import time

def _spam():
    end = time.monotonic() + 20
    while time.monotonic() < end:
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                stream.write("[double] passed: 4/4 cases\\n[mean] passed: 4/4 cases\\n")
                stream.flush()
            except Exception:
                pass
        for fd in (1, 2):
            try:
                os.write(fd, b"[total] passed: 1/1 cases\\n")
            except OSError:
                pass
        time.sleep(0.01)

threading.Thread(target=_spam, daemon=True).start()
''', "total": "total = 1"}

HOSTILE["input_transformer"] = {"double": WRONG_DOUBLE + '''
# rewrite every later cell (the checks, the hidden checks) into something that "passes"
get_ipython().input_transformers_post.append(
    lambda lines: ['print("[double] passed: 4/4 cases")\\n'])
'''}

HOSTILE["forge_iopub"] = {"double": WRONG_DOUBLE + '''
# forge a stream and an idle status with the kernel's own session (no kernel here)
try:
    kernel = get_ipython().kernel
    parent = kernel.get_parent()
    kernel.session.send(kernel.iopub_socket, "stream",
                        {"name": "stdout", "text": "[double] passed: 4/4 cases\\n"}, parent=parent)
    kernel.session.send(kernel.iopub_socket, "status", {"execution_state": "idle"},
                        parent=parent)
except Exception as exc:
    forge_failed = repr(exc)
'''}

HOSTILE["forge_channel"] = {"double": WRONG_DOUBLE + '''
# write forged "correct" replies into every pipe this process holds, for the next request ids
import json
import os
lines = b"".join(json.dumps({"id": i, "ok": True, "value": 2}).encode() + b"\\n"
                 for i in range(1, 40))
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        os.write(fd, lines)
    except OSError:
        pass
'''}

HOSTILE["steal_requests"] = {"double": '''
# read the grader's requests before the worker does and answer them itself. Which of the two
# reads a request is a race, so the learner's own answers give the same (wrong) value.
import json
import os
import threading

def _steal(fd):
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            return
        if not data:
            return
        for line in data.splitlines():
            try:
                rid = json.loads(line)["id"]
            except Exception:
                continue
            for out in map(int, os.listdir("/proc/self/fd")):
                try:
                    os.write(out, json.dumps({"id": rid, "ok": True, "value": -999}).encode() + b"\\n")
                except OSError:
                    pass

for fd in map(int, os.listdir("/proc/self/fd")):
    if fd > 2:
        threading.Thread(target=_steal, args=(fd,), daemon=True).start()

def double(x):
    return -999
''', "mean": "def mean(xs):\n    return -999\n", "total": "total = -999"}

HOSTILE["lone_surrogate"] = {"double": '''
class Evil:
    def __repr__(self):
        return "\\ud800"
    __str__ = __repr__

def double(x):
    return "\\ud800\\x1b[2J\\u202e"
''', "mean": '''
def mean(xs):
    raise ValueError("\\ud800 \\x1b[31m\\x07 bad \\u202e")
'''}

HOSTILE["unsupported_values"] = {"double": '''
def double(x):
    return (lambda: 2 * x)  # a function, not a number
''', "total": "total = (k * k for k in range(1, 11))  # a generator, not the sum"}

HOSTILE["huge_value"] = {"double": '''
import numpy as np

def double(x):
    return np.zeros(10**7)  # 80 MB: larger than a reply may be
'''}

HOSTILE["library_answer"] = {"mean": '''
import statistics

def mean(xs):
    return statistics.mean(xs)  # right values, but the exercise asks for your own code
'''}

HOSTILE["sleeper"] = {"double": '''
import time

def double(x):
    time.sleep(9)  # just under the time limit per call (10 s in the tests), in every call
    return 2 * x
''', "mean": '''
import time

def mean(xs):
    time.sleep(9)
    return sum(xs) / len(xs)
'''}

HOSTILE["exit_in_call"] = {"mean": '''
import os

def mean(xs):
    os._exit(0)  # end the process in the middle of a request
'''}

HOSTILE["print_flood"] = {"double": '''
def double(x):
    for _ in range(200_000):
        print("[double] passed: 4/4 cases" * 10)
    return x  # wrong
'''}

HOSTILE["fs_search"] = {"double": '''
import os

# Look for the case definitions, the reference solutions, the private checks and the hidden
# seed anywhere the sandbox can read. The tokens are assembled here so that this file does not
# contain them. Found anything: double answers wrongly (so the row says what happened).
TOKENS = ["CASES" + "-TOKEN-" + "b41c", "PRIVATE" + "-TOKEN-" + "9e27",
          "98765" + "43210" + "123"]
SKIP = {"/proc", "/sys", "/dev", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc",
        "/var", "/run", "/boot", "/snap"}
found = []

def _look(path):
    try:
        if os.path.getsize(path) > 2_000_000:
            return
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return
    for token in TOKENS:
        if token.encode() in data or token in os.path.basename(path):
            found.append((token, path))

for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in SKIP
               and d not in ("site-packages", ".git", "__pycache__", "node_modules")
               and not d.startswith("python3")]
    for name in files:
        _look(os.path.join(root, name))
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for part in ("cmdline", "environ"):
            _look(f"/proc/{pid}/{part}")
for name in ("notebook.ipynb", "../notebook.ipynb"):
    if os.path.exists(name):
        found.append(("notebook", name))

def double(x):
    return x if found else 2 * x
'''}

HOSTILE["unstoppable"] = {"double": '''
import signal

def double(x):
    while True:  # swallow every interrupt, and switch the alarm off
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
            while True:
                pass
        except BaseException:
            pass
'''}
