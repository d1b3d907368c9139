"""Run one rebuilt notebook under nbval, in a sandbox (the grader's, ``course_tools.grade``).

Design (the README's "For instructors: grading" explains it for users):

* Every submission runs in its own process tree: ``python -m pytest --nbval-lax`` on the rebuilt
  notebook, with a small pytest plugin (``inside/nbval_plugin.py``, copied as ``conftest.py``) that
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

#: The files that run inside the sandbox (real modules, linted and imported by the tests).
INSIDE = Path(__file__).resolve().parent / "inside"
#: job-directory name -> source file: copied into each job directory, which the sandbox sees
JOB_FILES = {"launcher.py": "launcher.py", "conftest.py": "nbval_plugin.py",
             "pytest_main.py": "pytest_main.py", "worker.py": "worker.py", "codec.py": "codec.py"}
PYTEST_INI = "[pytest]\naddopts =\nconsole_output_style = classic\n"


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
        self.warning: str | None = self._fallback_warning() if mode == "rlimits" else None

    def _fallback_warning(self) -> str:
        return (
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
        return [self.python, "-I", root + "/launcher.py", json.dumps(cfg), *pytest_args]

    def _pytest_args(self, root: str) -> list[str]:
        limits = self.limits
        return [
            self.python, "-I", "-B", root + "/pytest_main.py",
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
        mounts, bound = self._system_binds(args)
        for root in self._bind_roots():
            args += ["--ro-bind", root, root]
            mounts.append(root)
            bound.append(root)
        # hide what the submission must not read: other submissions, private checks, outputs,
        # the reference solutions, the grader's own code, the course's git history
        for path in self._hidden_paths(bound):
            if path.is_dir():
                args += ["--tmpfs", str(path), "--remount-ro", str(path)]
            else:
                args += ["--ro-bind", "/dev/null", str(path)]
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += self._job_binds(jobdir, mounts)
        args += _traversable_parents(mounts, bound)
        args += ["--remount-ro", "/"]
        return args + ["--"]

    @staticmethod
    def _system_binds(args: list[str]) -> tuple[list[str], list[str]]:
        """Bind (or link) the system directories; returns (mount points, bound dirs)."""
        mounts: list[str] = []
        for d in SYSTEM_DIRS:
            if os.path.islink(d):
                args += ["--symlink", os.readlink(d), d]
                mounts.append(d)
            elif os.path.isdir(d):
                args += ["--ro-bind", d, d]
                mounts.append(d)
        bound = [d for d in SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
        return mounts, bound

    def _job_binds(self, jobdir: Path, mounts: list[str]) -> list[str]:
        inside = INSIDE_ROOT
        args: list[str] = []
        for name in (*JOB_FILES, "pytest.ini"):
            args += ["--ro-bind", str(jobdir / name), inside + "/" + name]
        args += ["--size", str(self.limits.disk), "--perms", "1777", "--tmpfs", inside + "/work"]
        if (jobdir / "notebook.ipynb").exists():
            args += ["--ro-bind", str(jobdir / "notebook.ipynb"),
                     inside + "/work/notebook.ipynb"]
        mounts += [inside + "/work"]
        if not any(_is_within(m, "/tmp") for m in mounts):
            args += ["--symlink", inside + "/work/tmp", "/tmp"]
        return args

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

    def command(self, jobdir: Path, slot: int, extra_env: dict[str, str],
                worker: bool = False) -> list[str]:
        """The command line of one run: pytest on the notebook, or the protocol worker."""
        uid = self.uids[slot]
        root = INSIDE_ROOT if self.mode == "bwrap" else str(jobdir)
        inner = ([self.python, "-I", "-B", root + "/worker.py"] if worker
                 else self._pytest_args(root))
        cmd = self._launcher_cmd(root, uid, inner, extra_env)
        if self.mode == "bwrap":
            cmd = self._bwrap_cmd(jobdir, uid) + cmd
        return cmd

    # ---- running ---------------------------------------------------------------------------

    def prepare_jobdir(self, base: Path, name: str, notebook_json: str | None,
                       slot: int) -> Path:
        """The job directory: the inside files, and the notebook (none for the worker)."""
        jobdir = base / name
        jobdir.mkdir(mode=0o755)
        for name, source in JOB_FILES.items():
            shutil.copyfile(INSIDE / source, jobdir / name)
            (jobdir / name).chmod(0o644)
        (jobdir / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
        (jobdir / "pytest.ini").chmod(0o644)
        work = jobdir / "work"
        work.mkdir(mode=0o700)
        uid = self.uids[slot]
        if uid is not None:
            os.chown(work, uid, uid)
        if notebook_json is None:
            return jobdir
        (work / "notebook.ipynb").write_text(notebook_json, encoding="utf-8")
        nb_copy = jobdir / "notebook.ipynb"  # what bwrap binds into its own tmpfs
        shutil.copyfile(work / "notebook.ipynb", nb_copy)
        for f in (nb_copy, work / "notebook.ipynb"):
            f.chmod(0o644)
        return jobdir

    def run(self, base: Path, name: str, notebook_json: str, slot: int,
            budget: float | None = None) -> RunResult:
        """Run one notebook; ``budget``: its wall-clock seconds (default: the limits')."""
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
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, pass_fds=(write_fd,), env=env,
                                    cwd=str(base), start_new_session=True)
        finally:
            os.close(write_fd)
        deadline = start + (budget if budget is not None else self.limits.total_timeout)
        records, timed_out = [], True
        try:
            records, timed_out = read_records(read_fd, deadline)
        finally:
            os.close(read_fd)
            self._stop(proc, slot, at_once=timed_out)
        tail = _log_tail(log)
        remove_tree(jobdir)
        return RunResult(records, timed_out, proc.returncode, tail, time.monotonic() - start)

    def start_worker(self, base: Path, name: str, slot: int) -> WorkerProcess:
        """Start the protocol worker in the sandbox; the grader holds both pipe ends."""
        jobdir = self.prepare_jobdir(base, name, None, slot)
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        env = {"COURSE_GRADE_IN": str(req_r), "COURSE_GRADE_OUT": str(rep_w)}
        cmd = self.command(jobdir, slot, env, worker=True)
        log = tempfile.TemporaryFile(dir=base)
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, pass_fds=(req_r, rep_w),
                                    env={"PATH": "/usr/local/bin:/usr/bin:/bin",
                                         "LANG": "C.UTF-8"},
                                    cwd=str(base), start_new_session=True)
        finally:
            os.close(req_r)
            os.close(rep_w)
        return WorkerProcess(self, proc, slot, jobdir, req_w, rep_r, log)

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


class WorkerProcess:
    """The grader's end of one worker: send a request, read its reply by a deadline."""

    def __init__(self, box: Sandbox, proc, slot: int, jobdir: Path, req_w: int, rep_r: int,
                 log) -> None:
        self.box, self.proc, self.slot, self.jobdir = box, proc, slot, jobdir
        self.req_w, self.rep_r, self.log = req_w, rep_r, log
        self.buf = b""
        self.closed = False
        self.ended = False  # the worker closed its end (it exited or was killed)

    def send(self, data: bytes) -> bool:
        """Write one request; False when the worker is gone."""
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.req_w, view):]
            return True
        except (BrokenPipeError, OSError):
            return False

    def receive(self, deadline: float) -> bytes | None:
        """One reply line, or None (the deadline passed, or the worker closed its end)."""
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.rep_r], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(self.rep_r, 1 << 20)
            if not chunk:
                self.ended = True
                return None
            self.buf += chunk
            if len(self.buf) > 64 << 20:
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def stop(self) -> str:
        """Kill everything of this run; the end of its log (for --debug-dir)."""
        if self.closed:
            return ""
        self.closed = True
        for fd in (self.req_w, self.rep_r):
            os.close(fd)
        self.box._stop(self.proc, self.slot, at_once=True)
        tail = _log_tail(self.log)
        remove_tree(self.jobdir)
        return tail


def read_records(fd: int, deadline: float) -> tuple[list[dict], bool]:
    """JSON-line records from ``fd`` until it closes; (records, whether the deadline passed)."""
    records: list[dict] = []
    buf = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return records, True
        ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return records, False
        *lines, buf = (buf + chunk).split(b"\n")
        if len(buf) > 8 << 20:  # a record can never be this long
            buf = b""
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                records.append(rec)


def _log_tail(log) -> str:
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - 4000))
    tail = log.read().decode("utf-8", "replace")
    log.close()
    return tail


def _traversable_parents(mounts: list[str], bound: list[str]) -> list[str]:
    """bwrap creates the parents of mount points with the host's modes (/root is 0700): make
    those (bwrap-owned, in-memory) directories traversable."""
    parents = set()
    for m in mounts:
        p = os.path.dirname(m)
        while p not in ("/", ""):
            parents.add(p)
            p = os.path.dirname(p)
    args: list[str] = []
    for p in sorted(parents):
        if not any(_is_within(p, b) for b in bound):
            args += ["--chmod", "0755", p]
    return args


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
            [sys.executable, "-I", str(INSIDE / "killer.py"), str(uid)],
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

def _probe(sandbox: Sandbox, base: Path) -> str | None:
    """Start the protocol worker and have it run one cell; None when it works, else why.

    (The worker is what every case-defined sheet needs; the nbval path uses the same binds.)
    """
    try:
        worker = sandbox.start_worker(base, "probe-" + sandbox.mode, 0)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    reply = None
    try:
        request = json.dumps({"id": 0, "op": "cells", "timeout": 30,
                              "cells": [{"index": 0, "source": "probe = 1"}]})
        if worker.send(request.encode() + b"\n"):
            reply = worker.receive(time.monotonic() + 90)
    finally:
        tail = worker.stop()
    try:
        cells = json.loads(reply)["cells"] if reply else None
    except (ValueError, KeyError, TypeError):
        cells = None
    if cells and cells[0].get("status") == "ok":
        return None
    code = worker.proc.returncode
    return (f"a one-cell test did not run (exit code {code}): "
            f"{' '.join(tail.split())[-600:]}")


def _try_bwrap(requested, limits, course_root, hidden, base, slots, uid_base, messages):
    """The bubblewrap sandbox when it works; else None, with a warning in ``messages``."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        sudo = "" if os.geteuid() == 0 else "sudo "
        reason = (f"bubblewrap (bwrap) is not installed (run: {sudo}apt-get install -y "
                  f"bubblewrap, or on Fedora {sudo}dnf install -y bubblewrap)")
    else:
        box = Sandbox("bwrap", limits, course_root, hidden, uid_base, bwrap, slots)
        reason = _probe(box, base)
        if reason is None:
            return box
        reason = f"bubblewrap ({bwrap}) is installed but refused to work: {reason}"
    if requested == "bwrap":
        raise SandboxUnavailable(reason + " (and --sandbox bwrap was asked for)", messages)
    messages.append(
        f"WARNING: {reason}. Falling back to resource limits only: submissions are NOT "
        "isolated from the network or the file system. Install bubblewrap "
        "(e.g. apt-get install bubblewrap) for the full sandbox."
    )
    return None


def _fallback_problem(box: Sandbox, reason: str) -> SandboxUnavailable:
    extra = ""
    if box.is_root:
        extra = (
            f" As root the grader runs submissions as uid {box.uids[0]}, which must be "
            f"able to read and run {sys.executable} and its installation "
            f"({sys.base_prefix}); a Python under /root usually is not readable by other "
            "users. Install bubblewrap (it can bind that Python into the sandbox), or "
            "use a world-readable Python installation."
        )
    return SandboxUnavailable(f"the resource-limits sandbox does not work: {reason}.{extra}")


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
        box = _try_bwrap(requested, limits, course_root, hidden, base, slots, uid_base, messages)
        if box is not None:
            return box, messages
    if requested == "rlimits":
        messages.append(
            "WARNING: --sandbox rlimits: bubblewrap is not used; submissions are NOT isolated "
            "from the network or the file system (resource limits only)."
        )
    box = Sandbox("rlimits", limits, course_root, hidden, uid_base, None, slots)
    reason = _probe(box, base)
    if reason is not None:
        problem = _fallback_problem(box, reason)
        problem.messages = messages
        raise problem
    return box, messages
