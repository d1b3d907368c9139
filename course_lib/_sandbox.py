"""Run one rebuilt notebook under nbval, in a sandbox (private helper of course_lib.grade).

Design (the README's "For instructors: grading" explains it for users):

* Every submission runs in its own process tree: ``python -m pytest --nbval-lax`` on the rebuilt
  notebook, with a small pytest plugin (``PLUGIN_SOURCE``, written as ``conftest.py``) that
  reports each cell's outputs and errors, tagged with the cell's grading index, over a pipe
  that only the pytest process holds (the kernel never inherits it).
* With bubblewrap (``bwrap``): new PID, network, IPC and UTS namespaces; the file system is
  rebuilt from read-only binds of the system, the Python installation and the course; the
  working directory is a size-limited tmpfs; submissions, private checks, outputs, the
  reference and ``.git`` are hidden. When the grader runs as root, bwrap runs as root (so it can
  bind a Python installed under ``/root``) and the sandboxed command drops to an unprivileged
  uid before anything else runs; as a normal user bwrap runs unprivileged in a user namespace.
* Everywhere: resource limits (address space, CPU time, file size, number of processes, no core
  files), a per-cell timeout (nbval) and a total wall-clock timeout (enforced here).
* Without bubblewrap ("rlimits" fallback) only the resource limits, a private working directory
  and (as root) the unprivileged uid remain: no network or file-system isolation.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

#: uid (and gid) of sandbox slot 0 when the grader runs as root; slot k uses BASE + k. Each
#: parallel slot has its own uid so that one submission's fork bomb (RLIMIT_NPROC is counted
#: per uid) cannot starve the others. Override with COURSE_GRADE_UID_BASE.
DEFAULT_UID_BASE = 2_000_000_000

INSIDE_ROOT = "/grade"  # where the job directory appears inside the bubblewrap sandbox

# --------------------------------------------------------------------------------------------
# Code that runs inside the sandbox. Kept as text: it must not import course_lib (slow, and the
# sandbox may not see it), and it is written into the private job directory for each run.
# --------------------------------------------------------------------------------------------

#: First process of every sandboxed run: drops privileges (when started as root), sets the
#: resource limits, then execs pytest. argv: CONFIG_JSON CMD...
LAUNCHER_SOURCE = r"""
import ctypes, json, os, resource, sys
cfg = json.loads(sys.argv[1])
cmd = sys.argv[2:]
uid = cfg.get("uid")
libc = ctypes.CDLL(None, use_errno=True)
if os.getuid() == 0:
    for cap in range(64):  # PR_CAPBSET_DROP: no capability can ever come back
        libc.prctl(24, cap, 0, 0, 0)
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: setuid programs stay powerless
    sys.exit("launcher: could not set no_new_privs")
if uid is not None and os.getuid() == 0:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        sys.exit("launcher: could not drop root privileges")
nproc = cfg["nproc"]
if cfg.get("nproc_relative"):
    me = os.getuid()
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat("/proc/" + pid).st_uid == me:
                    count += len(os.listdir("/proc/" + pid + "/task"))  # threads count too
            except OSError:
                pass
    nproc += count
limits = {"RLIMIT_AS": cfg["memory"], "RLIMIT_CPU": cfg["cpu"], "RLIMIT_FSIZE": cfg["fsize"],
          "RLIMIT_NPROC": nproc, "RLIMIT_CORE": 0}
for name, value in limits.items():
    which = getattr(resource, name)
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    extra = 5 if name == "RLIMIT_CPU" else 0
    new_hard = value + extra
    if hard != resource.RLIM_INFINITY:
        new_hard = min(new_hard, hard)
    resource.setrlimit(which, (value, new_hard))
os.umask(0o077)
os.makedirs(cfg["tmpdir"], exist_ok=True)
os.chdir(cfg["cwd"])
os.execve(cmd[0], cmd, cfg["env"])
"""

#: The pytest plugin (written as conftest.py next to the rebuilt notebook). It forces every
#: cell to run (learner markers are ignored: options come from the grader's metadata only) and
#: streams one JSON line per cell to the grader.
PLUGIN_SOURCE = r'''
"""Grading plugin written by course_lib.grade; runs inside the sandbox."""
import ctypes
import json
import os
import re
import time
from collections import defaultdict
from queue import Empty

import pytest

_MAX_TEXT = 20000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _open_channel():
    fd = int(os.environ.pop("COURSE_GRADE_FD"))
    os.set_inheritable(fd, False)  # the kernel and anything it starts never get it
    return os.fdopen(fd, "w", encoding="utf-8", buffering=1)


_CHANNEL = _open_channel()
try:  # make /proc/<this pid>/fd unreadable for the (same-uid) kernel
    ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
except Exception:
    pass


def _emit(record):
    _CHANNEL.write(json.dumps(record) + "\n")
    _CHANNEL.flush()


def _cut(text):
    text = _ANSI.sub("", str(text))
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT // 2] + "\n[... output cut ...]\n" + text[-_MAX_TEXT // 2 :]
    return text


class KernelDied(RuntimeError):
    pass


def _patch_nbval():
    """Notice a dead kernel at once instead of waiting for the whole cell timeout."""
    from nbval import kernel as nbkernel

    def await_reply(self, msg_id, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = 0.5
            if deadline is not None:
                step = max(0.0, min(step, deadline - time.monotonic()))
            try:
                msg = self.get_message(stream="shell", timeout=step)
            except Empty:
                if not self.is_alive():
                    raise KernelDied("the kernel process died") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                if msg["content"]["status"] == "aborted":
                    raise RuntimeError("Kernel aborted execution request")
                return

    nbkernel.RunningKernel.await_reply = await_reply


def pytest_configure(config):
    _patch_nbval()


def _meta(item):
    cell = getattr(item, "cell", None)
    if cell is None:
        return {}
    meta = cell.get("metadata", {}).get("course_grade", {})
    return meta if isinstance(meta, dict) else {}


def pytest_collection_modifyitems(session, config, items):
    # nbval waits a fixed 5 s for a cell's output messages after its reply and kills the kernel
    # when they are late, which happens on a machine busy grading in parallel: wait longer
    output_timeout = max(10.0, min(30.0, float(config.option.nbval_cell_timeout)))
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = output_timeout
        if getattr(item, "cell", None) is not None:
            # Ignore every NBVAL marker and tag: run each cell, never compare outputs, record
            # errors instead of failing on them.
            item.options = defaultdict(bool, check=False, check_exception=True,
                                       skip=bool(_meta(item).get("skip")))
    _emit({"event": "collected", "n": len(items)})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    parent = getattr(item, "parent", None)
    if parent is not None and hasattr(parent, "timed_out"):
        parent.timed_out = False  # so each cell's own timeout is recorded
    _emit({"event": "start", "index": _meta(item).get("index")})


def _kernel_state(item):
    kernel = getattr(item.parent, "kernel", None)
    km = getattr(kernel, "km", None)
    if km is None:
        return False, None
    try:
        alive = bool(km.is_alive())
    except Exception:
        alive = False
    code = None
    try:
        code = km.provisioner.process.returncode
    except Exception:
        pass
    return alive, code


def _outputs(item):
    streams = {}
    result = []
    for out in getattr(item, "test_outputs", None) or []:
        kind = out.get("output_type")
        if kind == "stream":
            name = out.get("name", "stdout")
            if name not in streams:
                streams[name] = {"type": "stream", "name": name, "text": ""}
                result.append(streams[name])
            streams[name]["text"] += out.get("text", "")
        elif kind == "error":
            result.append({"type": "error", "ename": _cut(out.get("ename", "")),
                           "evalue": _cut(out.get("evalue", "")),
                           "traceback": _cut("\n".join(out.get("traceback", [])))})
        elif kind in ("display_data", "execute_result"):
            text = out.get("data", {}).get("text/plain", "")
            result.append({"type": "display", "text": _cut(text)})
    for stream in streams.values():
        stream["text"] = _cut(stream["text"])
    return result


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if call.when not in ("setup", "call"):
        return
    if call.when == "setup" and call.excinfo is None:
        return
    exc = None
    if call.excinfo is not None:
        exc = {"type": call.excinfo.type.__name__, "message": _cut(call.excinfo.value)}
    alive, code = _kernel_state(item)
    _emit({
        "event": "cell",
        "index": _meta(item).get("index"),
        "phase": call.when,
        "exc": exc,
        "timed_out": bool(getattr(item.parent, "timed_out", False)),
        "kernel_alive": alive,
        "kernel_exit": code,
        "outputs": _outputs(item) if call.when == "call" else [],
        "duration": round(call.duration, 3),
    })


def pytest_sessionfinish(session, exitstatus):
    _emit({"event": "finished", "status": int(exitstatus)})
'''

#: Starts pytest. jsonschema (via nbformat) would otherwise import the optional rfc3987_syntax,
#: which builds a grammar at import time (about 1 s per submission) that nbval never needs.
PYTEST_MAIN = (
    "import sys; sys.modules.setdefault('rfc3987_syntax', None); import pytest; "
    "sys.exit(pytest.main(sys.argv[1:]))"
)

PYTEST_INI = "[pytest]\naddopts =\nconsole_output_style = classic\n"

#: Kills every process of one uid (run as root; kill(-1) is atomic, so a fork bomb cannot race).
KILLER_SOURCE = r"""
import os, sys
uid = int(sys.argv[1])
os.setgroups([])
os.setresgid(uid, uid, uid)
os.setresuid(uid, uid, uid)
try:
    os.kill(-1, 9)
except ProcessLookupError:
    pass
"""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-submission limits."""

    cell_timeout: float = 60.0  # seconds per cell (nbval)
    total_timeout: float = 600.0  # wall-clock seconds for the whole notebook
    memory: int = 4 * 2**30  # RLIMIT_AS per process, bytes
    disk: int = 512 * 2**20  # working-dir tmpfs size (bwrap) and RLIMIT_FSIZE, bytes
    nproc: int = 256  # processes and threads per sandbox

    def describe(self) -> str:
        return (
            f"{self.cell_timeout:g} s per cell, {self.total_timeout:g} s per notebook, "
            f"{_human(self.memory)} address space per process, {_human(self.disk)} of files, "
            f"{self.nproc} processes"
        )


def _human(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def parse_size(text: str) -> int:
    """'2G', '512M', '1.5g', '1000000' -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)[iI]?[bB]?\s*", text)
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 2G or 512M)")
    factor = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
    return int(float(m.group(1)) * factor)


@dataclasses.dataclass
class RunResult:
    records: list[dict]  # the plugin's JSON records, in order
    total_timed_out: bool  # the wall-clock budget ran out and the run was killed
    returncode: int | None
    log_tail: str  # the end of pytest's own output, for diagnosing grader problems
    elapsed: float


class SandboxUnavailable(RuntimeError):
    """No safe way to run submissions here (the message says why and what to do)."""

    def __init__(self, message: str, messages: Sequence[str] = ()):
        super().__init__(message)
        self.messages = list(messages)  # what was tried before (warnings to print first)


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _python_paths() -> list[str]:
    """Directories the sandboxed Python needs (installation, venv, sys.path entries)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(str(Path(sys.executable).parent))
    paths.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    entries = list(sys.path)
    if entries and entries[0] in ("", os.getcwd()):
        # `python -m` puts the current directory first: that is where the grader was started,
        # not something the sandbox needs (and it may hold submissions or other private files)
        entries = entries[1:]
    for entry in entries:
        if entry and os.path.exists(entry):
            paths.add(entry if os.path.isdir(entry) else os.path.dirname(entry))
    result = set()
    for p in paths:
        if p and os.path.isdir(p):
            result.add(os.path.abspath(p))
            result.add(os.path.realpath(p))
    return sorted(result)


SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")


class Sandbox:
    """How submissions are run. Build with :func:`detect`."""

    def __init__(
        self,
        mode: str,
        limits: Limits,
        course_root: Path,
        hidden: Iterable[Path] = (),
        uid_base: int | None = None,
        bwrap: str | None = None,
        slots: int = 1,
    ):
        if mode not in ("bwrap", "rlimits"):
            raise ValueError(mode)
        self.mode = mode
        self.limits = limits
        self.course_root = Path(course_root).resolve()
        self.hidden = [Path(os.path.abspath(p)) for p in hidden]
        self.is_root = os.geteuid() == 0
        self.bwrap = bwrap
        self.uids: list[int | None] = [None] * slots
        if self.is_root:
            self.uids = _free_uids(uid_base if uid_base is not None else DEFAULT_UID_BASE, slots)
        self.python = sys.executable
        self._bwrap_help = ""
        if bwrap:
            try:
                self._bwrap_help = subprocess.run(
                    [bwrap, "--help"], capture_output=True, text=True, timeout=10
                ).stdout
            except (OSError, subprocess.SubprocessError):
                self._bwrap_help = ""
        self.warning: str | None = None
        if mode == "rlimits":
            self.warning = (
                "bubblewrap was not used, so submissions ran with resource limits only "
                "(time, memory, processes, file size"
                + (", an unprivileged uid" if self.is_root else "")
                + ") and a private working directory: no network isolation and no read-only "
                "view of the file system"
                + ("" if self.is_root else " (they ran as the grader's own user)")
                + "."
            )

    # ---- description --------------------------------------------------------------------

    def describe(self) -> str:
        who = (
            f"unprivileged uids {self.uids[0]}..{self.uids[-1]} (one per parallel slot)"
            if self.is_root
            else "the grader's own user"
        )
        if self.mode == "bwrap":
            what = (
                "bubblewrap: no network, private PID/IPC namespaces, read-only system and "
                "course, private working directory"
            )
        else:
            what = "resource limits only (no bubblewrap): NO network or file-system isolation"
        return f"sandbox: {what}; runs as {who}; limits: {self.limits.describe()}"

    # ---- building commands ---------------------------------------------------------------

    def _env(self, home: str) -> dict[str, str]:
        path_dirs = [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        return {
            "PATH": ":".join(path_dirs),
            "HOME": home,
            "USER": "grader",
            "LOGNAME": "grader",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TMPDIR": home + "/tmp",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": home + "/.matplotlib",
            "IPYTHONDIR": home + "/.ipython",
            "JUPYTER_CONFIG_DIR": home + "/.jupyter",
            "JUPYTER_DATA_DIR": home + "/.jupyter-data",
            "JUPYTER_RUNTIME_DIR": home + "/.jupyter-runtime",
            "JUPYTER_PLATFORM_DIRS": "1",
            "COURSE_LIB_PROGRESS": "0",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }

    def _launcher_cmd(
        self, root: str, uid: int | None, pytest_args: Sequence[str], extra_env: dict[str, str]
    ) -> list[str]:
        work = root + "/work"
        cfg = {
            "uid": uid,
            "memory": self.limits.memory,
            "cpu": int(self.limits.total_timeout) + 10,
            "fsize": self.limits.disk,
            "nproc": self.limits.nproc,
            # without a user namespace and as the grader's own uid, RLIMIT_NPROC counts all of
            # that user's processes: allow the ones that already exist
            "nproc_relative": self.mode == "rlimits" and not self.is_root,
            "tmpdir": work + "/tmp",
            "cwd": work,
            "env": {**self._env(work), **extra_env},
        }
        return [self.python, "-I", "-c", LAUNCHER_SOURCE, json.dumps(cfg), *pytest_args]

    def _pytest_args(self, root: str) -> list[str]:
        limits = self.limits
        return [
            self.python, "-I", "-B", "-c", PYTEST_MAIN,
            "-p", "nbval.plugin", "-p", "no:cacheprovider",
            "-c", root + "/pytest.ini", "--rootdir", root,
            "-q", "--color=no", "--tb=line", "-W", "ignore",
            "--nbval-lax", "--nbval-current-env",
            f"--nbval-cell-timeout={limits.cell_timeout:g}",
            f"--nbval-kernel-startup-timeout={min(60.0, limits.total_timeout):g}",
            root + "/work/notebook.ipynb",
        ]  # fmt: skip

    def _bind_roots(self) -> list[str]:
        roots = set(_python_paths())
        roots.add(str(self.course_root))
        # keep only the outermost of nested paths; the system directories are bound separately
        roots = {r for r in roots if not any(_is_within(r, s) for s in SYSTEM_DIRS)}
        outer = sorted(r for r in roots if not any(r != o and _is_within(r, o) for o in roots))
        return outer

    def _bwrap_cmd(self, jobdir: Path, uid: int | None) -> list[str]:
        assert self.bwrap is not None  # only the "bwrap" mode builds this command
        args = [self.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if not self.is_root:
            args += ["--unshare-user"]
            if "--disable-userns" in self._bwrap_help:
                args += ["--disable-userns"]
        mounts: list[str] = []  # every path that ends up as a mount point or link
        for d in SYSTEM_DIRS:
            if os.path.islink(d):
                args += ["--symlink", os.readlink(d), d]
                mounts.append(d)
            elif os.path.isdir(d):
                args += ["--ro-bind", d, d]
                mounts.append(d)
        bound = [d for d in SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
        for root in self._bind_roots():
            args += ["--ro-bind", root, root]
            mounts.append(root)
            bound.append(root)
        # hide what the submission must not read: other submissions, private checks, outputs,
        # the reference solutions, the course's git history
        for path in self._hidden_paths(bound):
            if path.is_dir():
                args += ["--tmpfs", str(path), "--remount-ro", str(path)]
            else:
                args += ["--ro-bind", "/dev/null", str(path)]
        args += ["--proc", "/proc", "--dev", "/dev"]
        inside = INSIDE_ROOT
        args += ["--ro-bind", str(jobdir / "conftest.py"), inside + "/conftest.py"]
        args += ["--ro-bind", str(jobdir / "pytest.ini"), inside + "/pytest.ini"]
        args += ["--size", str(self.limits.disk), "--perms", "1777", "--tmpfs", inside + "/work"]
        args += ["--ro-bind", str(jobdir / "notebook.ipynb"), inside + "/work/notebook.ipynb"]
        mounts += [inside + "/work"]
        if not any(_is_within(m, "/tmp") for m in mounts):
            args += ["--symlink", inside + "/work/tmp", "/tmp"]
        # bwrap creates the parents of mount points with the host's modes (/root is 0700):
        # make those (bwrap-owned, in-memory) directories traversable
        parents = set()
        for m in mounts:
            p = os.path.dirname(m)
            while p not in ("/", ""):
                parents.add(p)
                p = os.path.dirname(p)
        for p in sorted(parents):
            if not any(_is_within(p, b) for b in bound):
                args += ["--chmod", "0755", p]
        args += ["--remount-ro", "/"]
        return args + ["--"]

    def _hidden_paths(self, bound: list[str]) -> list[Path]:
        """Paths inside the bound trees to hide (directories when possible, else files)."""
        needed = bound + [INSIDE_ROOT]
        result: dict[str, Path] = {}
        candidates = list(self.hidden)
        git = self.course_root / ".git"
        if git.exists():
            candidates.append(git)
        for path in candidates:
            if not path.exists():
                continue
            path = Path(os.path.abspath(path))
            if not any(_is_within(str(path), b) for b in bound):
                continue  # not visible in the sandbox anyway
            if path.is_dir() and any(_is_within(n, str(path)) for n in needed):
                continue  # something the sandbox needs lies inside: hide its files instead
            result[str(path)] = path
        # drop entries inside an already hidden directory
        dirs = [k for k, v in result.items() if v.is_dir()]
        return [
            v for k, v in sorted(result.items())
            if not any(k != d and _is_within(k, d) for d in dirs)
        ]  # fmt: skip

    def command(self, jobdir: Path, slot: int, extra_env: dict[str, str]) -> list[str]:
        uid = self.uids[slot]
        root = INSIDE_ROOT if self.mode == "bwrap" else str(jobdir)
        cmd = self._launcher_cmd(root, uid, self._pytest_args(root), extra_env)
        if self.mode == "bwrap":
            cmd = self._bwrap_cmd(jobdir, uid) + cmd
        return cmd

    # ---- running ---------------------------------------------------------------------------

    def prepare_jobdir(self, base: Path, name: str, notebook_json: str, slot: int) -> Path:
        jobdir = base / name
        jobdir.mkdir(mode=0o755)
        (jobdir / "conftest.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
        (jobdir / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
        work = jobdir / "work"
        work.mkdir(mode=0o700)
        (work / "notebook.ipynb").write_text(notebook_json, encoding="utf-8")
        nb_copy = jobdir / "notebook.ipynb"  # what bwrap binds into its own tmpfs
        shutil.copyfile(work / "notebook.ipynb", nb_copy)
        for f in (jobdir / "conftest.py", jobdir / "pytest.ini", nb_copy, work / "notebook.ipynb"):
            f.chmod(0o644)
        uid = self.uids[slot]
        if uid is not None:
            os.chown(work, uid, uid)
        return jobdir

    def run(self, base: Path, name: str, notebook_json: str, slot: int) -> RunResult:
        start = time.monotonic()
        jobdir = self.prepare_jobdir(base, name, notebook_json, slot)
        read_fd, write_fd = os.pipe()
        # the results pipe: only pytest's plugin writes to it (the kernel never inherits it)
        cmd = self.command(jobdir, slot, {"COURSE_GRADE_FD": str(write_fd)})
        log = tempfile.TemporaryFile(dir=base)
        # bwrap and the launcher start with a minimal environment; the launcher then sets the
        # sandbox's own (see _env) before it execs pytest
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                env=env,
                cwd=str(base),
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        records: list[dict] = []
        buf = b""
        deadline = start + self.limits.total_timeout
        timed_out = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                ready, _, _ = select.select([read_fd], [], [], min(remaining, 1.0))
                if not ready:
                    continue
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                if len(buf) > 8 << 20:  # a record can never be this long
                    buf = b""
                for line in lines:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(rec, dict):
                        records.append(rec)
        finally:
            os.close(read_fd)
            self._stop(proc, slot, at_once=timed_out)
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - 4000))
        tail = log.read().decode("utf-8", "replace")
        log.close()
        remove_tree(jobdir)
        return RunResult(records, timed_out, proc.returncode, tail, time.monotonic() - start)

    def _stop(self, proc: subprocess.Popen, slot: int, at_once: bool = False) -> None:
        """Make sure nothing of this run is left: the process tree and, as root, the uid.

        With bubblewrap, killing it ends its PID namespace and everything in it; as root the
        slot's uid is then swept clean; as a normal user without bubblewrap the process tree
        (the kernel runs in a session of its own) is killed, which a process that detaches
        from it can escape (its CPU time stays limited).
        """
        if not at_once:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        family = _descendants(proc.pid) if proc.poll() is None else []
        for pid in [proc.pid, *family]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for group in {proc.pid, *family}:
            try:  # stragglers in the same process groups
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proc.wait()
        uid = self.uids[slot]
        if uid is not None:
            kill_uid(uid)


def _descendants(pid: int) -> list[int]:
    """All processes below ``pid`` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def remove_tree(path: Path) -> None:
    """Delete a job directory, even when sandboxed code removed its own permissions."""

    def retry(func, name, _exc):
        try:
            os.chmod(os.path.dirname(name), 0o700)
            if os.path.isdir(name) and not os.path.islink(name):
                os.chmod(name, 0o700)
            func(name)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


def _pids_of_uid(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def kill_uid(uid: int, attempts: int = 20) -> bool:
    """SIGKILL every process of ``uid`` (grader running as root). True when none is left."""
    for _ in range(attempts):
        if not _pids_of_uid(uid):
            return True
        subprocess.run(
            [sys.executable, "-I", "-c", KILLER_SOURCE, str(uid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=30, check=False,
        )  # fmt: skip
        time.sleep(0.05)
    return not _pids_of_uid(uid)


_UID_LOCKS: dict[int, int] = {}  # uid -> open file descriptor holding its lock


def _lock_uid(uid: int) -> bool:
    """Reserve ``uid`` for this process (another grader running at the same time skips it)."""
    import fcntl

    if uid in _UID_LOCKS:
        return True
    lock_dir = Path(tempfile.gettempdir()) / "course-grade-locks"
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(lock_dir / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _UID_LOCKS[uid] = fd  # held until this process exits
    return True


def _free_uids(base: int, n: int) -> list[int | None]:
    """``n`` uids from ``base`` up that no account, no running process and no other grader
    (at the same time) uses."""
    uids: list[int | None] = []
    candidate = base
    while len(uids) < n:
        try:
            pwd.getpwuid(candidate)
            in_use = True
        except KeyError:
            in_use = not _lock_uid(candidate) or bool(_pids_of_uid(candidate))
        if not in_use:
            uids.append(candidate)
        candidate += 1
        if candidate > base + 10 * n + 100:
            raise SandboxUnavailable(f"no free uid found from {base} up")
    return uids


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------

PROBE_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "probe",
            "metadata": {"course_grade": {"index": 0}},
            "outputs": [],
            "source": "print('probe ok')",
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _probe(sandbox: Sandbox, base: Path) -> str | None:
    """Run a one-cell notebook in the sandbox; None when it works, else the reason."""
    probe_limits = dataclasses.replace(
        sandbox.limits, total_timeout=min(90.0, max(30.0, sandbox.limits.total_timeout))
    )
    saved = sandbox.limits
    sandbox.limits = probe_limits
    try:
        result = sandbox.run(base, "probe-" + sandbox.mode, json.dumps(PROBE_NOTEBOOK), 0)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        sandbox.limits = saved
    for rec in result.records:
        if rec.get("event") == "cell" and not rec.get("exc"):
            for out in rec.get("outputs", []):
                if out.get("type") == "stream" and "probe ok" in out.get("text", ""):
                    return None
    tail = " ".join(result.log_tail.split())[-600:]
    return f"a one-cell test notebook did not run (exit code {result.returncode}): {tail}"


def detect(
    requested: str,
    limits: Limits,
    course_root: Path,
    hidden: Iterable[Path],
    base: Path,
    slots: int,
    uid_base: int | None = None,
) -> tuple[Sandbox, list[str]]:
    """Choose the sandbox: 'auto' (bwrap if it works, else rlimits), 'bwrap' or 'rlimits'.

    Returns the sandbox and the messages to print (warnings included). Raises
    SandboxUnavailable when nothing safe works.
    """
    messages: list[str] = []
    hidden = list(hidden)
    reason: str | None
    if requested in ("auto", "bwrap"):
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            reason = "bubblewrap (bwrap) is not installed"
        else:
            box = Sandbox("bwrap", limits, course_root, hidden, uid_base, bwrap, slots)
            reason = _probe(box, base)
            if reason is None:
                return box, messages
            reason = f"bubblewrap ({bwrap}) is installed but refused to work: {reason}"
        if requested == "bwrap":
            raise SandboxUnavailable(reason + " (and --sandbox bwrap was asked for)", messages)
        messages.append(
            f"WARNING: {reason}. Falling back to resource limits only: submissions are NOT "
            "isolated from the network or the file system. Install bubblewrap "
            "(e.g. apt-get install bubblewrap) for the full sandbox."
        )
    if requested == "rlimits":
        messages.append(
            "WARNING: --sandbox rlimits: bubblewrap is not used; submissions are NOT isolated "
            "from the network or the file system (resource limits only)."
        )
    box = Sandbox("rlimits", limits, course_root, hidden, uid_base, None, slots)
    reason = _probe(box, base)
    if reason is not None:
        extra = ""
        if box.is_root:
            extra = (
                f" As root the grader runs submissions as uid {box.uids[0]}, which must be "
                f"able to read and run {sys.executable} and its installation "
                f"({sys.base_prefix}); a Python under /root usually is not readable by other "
                "users. Install bubblewrap (it can bind that Python into the sandbox), or "
                "use a world-readable Python installation."
            )
        raise SandboxUnavailable(
            f"the resource-limits sandbox does not work: {reason}.{extra}", messages
        )
    return box, messages
