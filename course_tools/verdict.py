"""Turning the records of one sandboxed run into grades (in the trusted process).

The records come from the grader's pytest plugin over the grader's own pipe; the kernel never
holds that pipe. (What the kernel publishes about each cell is still what decides a pass: see
the README's threat model.)
"""

from __future__ import annotations

import dataclasses
import signal

from . import sandbox as _sandbox
from .reference import Sheet
from .sheet_format import Exercise, passed_in
from .submission import CellPlan, Rebuilt

STATUSES = ("passed", "failed", "not attempted", "timed out", "error")


@dataclasses.dataclass
class Result:
    exercise: str
    points: float
    max_points: float
    status: str
    message: str  # the full text, for the feedback file (the CSV gets one line of it)


@dataclasses.dataclass
class CellRun:
    state: str  # ok, skipped, timed_out, stopped, died, dead_at_start, setup_error, failed
    outputs: list
    message: str = ""
    kernel_exit: int | None = None

    def error(self) -> dict | None:
        for out in self.outputs:
            if out.get("type") == "error":
                return out
        return None

    def stdout(self) -> str:
        return "".join(
            o.get("text", "")
            for o in self.outputs
            if o.get("type") == "stream" and o.get("name") == "stdout"
        )


def _cell_runs(records: list[dict]) -> dict[int, CellRun]:
    runs: dict[int, CellRun] = {}
    for rec in records:
        if rec.get("event") != "cell" or not isinstance(rec.get("index"), int):
            continue
        exc = rec.get("exc") or {}
        etype, emsg = str(exc.get("type", "")), str(exc.get("message", ""))
        outputs = [o for o in rec.get("outputs") or [] if isinstance(o, dict)]
        code = rec.get("kernel_exit") if isinstance(rec.get("kernel_exit"), int) else None
        if rec.get("phase") == "setup":
            state = "setup_error"
        elif etype == "KernelDied":
            state = "died"
        elif etype == "RuntimeError" and "Kernel dead" in emsg:
            state = "dead_at_start"
        elif rec.get("timed_out"):
            state = "timed_out" if rec.get("kernel_alive") else "stopped"
        elif etype == "Skipped":
            state = "skipped"
        elif exc and not rec.get("kernel_alive"):
            state = "died"
        elif exc:
            state = "failed"
        else:
            state = "ok"
        runs[rec["index"]] = CellRun(state, outputs, emsg, code)
    return runs


def _exit_text(code: int | None) -> str:
    if code is None:
        return ""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (a resource limit, e.g. CPU time)" if name in ("SIGKILL", "SIGXCPU") else ""
        return f" (killed by {name}{hint})"
    return f" (exit code {code})"


class _Grader:
    """Grades one run of one rebuilt notebook."""

    def __init__(self, sheet: Sheet, rebuilt: Rebuilt, run, limits: _sandbox.Limits):
        self.sheet = sheet
        self.plan = rebuilt.plan
        self.limits = limits
        self.run = run
        self.runs = _cell_runs(run.records) if run is not None else {}

    def _label(self, info: CellPlan) -> str:
        if info.role == "answer":
            return f"your answer cell of exercise {info.exercise}"
        if info.role == "check":
            return f"the check of exercise {info.exercise}"
        if info.role == "private":
            return f"a hidden check of exercise {info.exercise}"
        return f"set-up cell {info.index}"

    def _kernel_loss(self) -> tuple[CellPlan, CellRun] | None:
        """The cell where the kernel died or had to be stopped, if any."""
        for info in self.plan:
            run = self.runs.get(info.index)
            if run is not None and run.state in ("died", "stopped"):
                return info, run
        return None

    def _setup_failure(self) -> str | None:
        """A set-up cell that failed before any answer ran: the environment's fault."""
        for info in self.plan:
            if info.role != "setup":
                return None
            run = self.runs.get(info.index)
            if run is None:
                return None
            if run.state == "setup_error":
                return f"the notebook's kernel could not be started: {run.message}"
            err = run.error()
            if err is not None and not info.tolerate_error:
                return (
                    f"set-up cell {info.index} of the sheet failed in the grading sandbox "
                    f"({err.get('ename')}: {err.get('evalue')}); this is a problem of the "
                    "grading environment, not of the submission"
                )
        return None

    def _interrupted(self) -> CellPlan | None:
        """The cell that was running when the run ended early (started, never reported)."""
        started = [
            r["index"] for r in (self.run.records if self.run else [])
            if r.get("event") == "start" and isinstance(r.get("index"), int)
        ]  # fmt: skip
        for index in reversed(started):
            if index not in self.runs and 0 <= index < len(self.plan):
                return self.plan[index]
        return None

    def _missing(self, ex: Exercise) -> tuple[str, str]:
        """Status and message for an exercise whose check never reported."""
        cause = self._interrupted()
        mine = cause is not None and cause.exercise == ex.id
        if self.run is not None and self.run.total_timed_out:
            where = (
                f"while running {self._label(cause)}" if mine
                else "before this exercise was checked"
            )  # fmt: skip
            return "timed out", (
                f"The notebook's total time limit ({self.limits.total_timeout:g} s) ran out "
                f"{where}."
            )
        if mine:
            return "error", (
                f"The process running the notebook ended while running {self._label(cause)} "
                "(was it killed by the code?). Nothing after it could run."
            )
        if cause is not None:
            return "error", (
                "Not checked: the process running the notebook ended earlier, while running "
                f"{self._label(cause)}."
            )
        return "error", (
            "Not checked: the process running the notebook ended unexpectedly"
            + (f" (exit status {self.run.returncode})" if self.run else "")
            + "."
        )

    def grade(self) -> list[Result]:
        setup_problem = self._setup_failure()
        results = []
        for ex in self.sheet.checked():
            res = self._grade_exercise(ex)
            if setup_problem and res.status != "passed":
                res = Result(ex.id, 0.0, res.max_points, "error", "Not graded: " + setup_problem)
            results.append(res)
        return results

    def _grade_exercise(self, ex: Exercise) -> Result:
        cells = [c for c in self.plan if c.exercise == ex.id]
        check = next(c for c in cells if c.role == "check")
        privates = [c for c in cells if c.role == "private"]
        max_points = ex.points + sum(p.private.points or 0.0 for p in privates if p.private)
        run = self.runs.get(check.index)
        outcome = self._died_in(cells) or self._check_state(ex, run)
        if outcome is None:
            assert run is not None
            err = run.error()
            if err is None and passed_in(run.stdout(), ex.id) is None:
                outcome = ("failed", "The check finished without reporting a pass.")
            elif err is None:
                points, outcome = self._with_private(ex, privates)
                return Result(ex.id, points, max_points, *outcome)
            else:
                outcome = self._check_error(err, [c for c in cells if c.role == "answer"])
        return Result(ex.id, 0.0, max_points, *outcome)

    def _died_in(self, cells: list[CellPlan]) -> tuple[str, str] | None:
        """The kernel died in one of this exercise's cells."""
        for info in cells:
            run = self.runs.get(info.index)
            if run is not None and run.state == "died":
                return ("error",
                        f"The Python kernel died while running {self._label(info)}"
                        f"{_exit_text(run.kernel_exit)}: the code ended the Python process "
                        "(os._exit, a crash) or hit a resource limit. Nothing after it could "
                        "run.")
        return None

    def _check_state(self, ex: Exercise, run: CellRun | None) -> tuple[str, str] | None:
        """Why the check cell did not run to its end (None when it did)."""
        if run is None:
            return self._missing(ex)
        if run.state == "setup_error":
            return "error", f"The notebook's kernel could not be started: {run.message}"
        if run.state in ("timed_out", "stopped"):
            return ("timed out",
                    f"The check did not finish within {self.limits.cell_timeout:g} s: is there "
                    "an endless loop, or is the code far slower than it needs to be?")
        if run.state == "dead_at_start":
            return self._dead_at_start(ex)
        if run.state != "ok":
            return "error", f"The check could not run: {run.message or run.state}."
        return None

    def _dead_at_start(self, ex: Exercise) -> tuple[str, str]:
        loss = self._kernel_loss()
        if loss and loss[0].exercise == ex.id:
            return ("timed out",
                    f"{self._label(loss[0]).capitalize()} did not finish within "
                    f"{self.limits.cell_timeout:g} s and did not stop when interrupted, so the "
                    "kernel was stopped.")
        cause = ""
        if loss:
            how = "died" if loss[1].state == "died" else "had to be stopped after a timeout"
            cause = f": the kernel {how} in {self._label(loss[0])}"
        return "error", f"Not checked{cause}. Nothing after that could run."

    def _check_error(self, err: dict, answers: list[CellPlan]) -> tuple[str, str]:
        """Status and message when the check cell raised ``err``."""
        ename, evalue = str(err.get("ename", "")), str(err.get("evalue", ""))
        answer_runs = [(a, self.runs.get(a.index)) for a in answers]
        answer_errors = [(a, r.error()) for a, r in answer_runs if r is not None and r.error()]
        if ename == "NotAttempted" or any(e.get("ename") == "NotAttempted"
                                          for _, e in answer_errors):
            return ("not attempted", "Not attempted yet: the answer still raises NotAttempted "
                    "(replace that line with your code).")
        if any(r is not None and r.state == "timed_out" for _, r in answer_runs):
            return ("timed out",
                    f"Your answer cell did not finish within {self.limits.cell_timeout:g} s and "
                    "was interrupted, so its code was not fully defined when the check ran.")
        if ename == "CheckFailed":
            return "failed", evalue
        return "failed", self._stopped_message(ename, evalue, answers, answer_errors)

    def _stopped_message(self, ename: str, evalue: str, answers: list, answer_errors: list) -> str:
        message = f"The check stopped with {ename}" + (f": {evalue}" if evalue.strip() else "")
        if ename == "MemoryError":
            message += (f" (each process may use at most {_sandbox._human(self.limits.memory)} "
                        "of memory)")
        for a, e in answer_errors:
            part = f" (cell part {answers.index(a) + 1})" if len(answers) > 1 else ""
            message += f". Your answer cell raised {e.get('ename')}: {e.get('evalue')}{part}"
        if ename == "NameError":
            message += (". Names used by the check must be defined in the answer cell itself: "
                        "code in cells you added is not run when grading")
        return message + "."

    def _private_failure(self, ex: Exercise, info: CellPlan) -> tuple[str, str] | None:
        """Why one private check did not pass (None when it passed)."""
        run = self.runs.get(info.index)
        if run is None:
            return self._missing(ex)
        if run.state in ("timed_out", "stopped"):
            return ("timed out",
                    f"A hidden check did not finish within {self.limits.cell_timeout:g} s.")
        if run.state != "ok":
            return "failed", f"A hidden check could not run ({run.state})."
        e = run.error()
        if e is None:
            return None
        text = str(e.get("evalue", "")).strip()
        return ("failed", f"A hidden check failed: {text}" if text
                else f"A hidden check failed ({e.get('ename')}).")

    def _with_private(self, ex: Exercise, privates: list[CellPlan]) -> tuple[float, tuple]:
        """(points, (status, message)) once the reference check passed."""
        points = ex.points
        failures: list[tuple[str, str]] = []
        gate_failed = False
        for info in privates:
            extra = info.private.points if info.private else None
            failure = self._private_failure(ex, info)
            if failure is None:
                points += extra or 0.0
            else:
                failures.append(failure)
                gate_failed = gate_failed or extra is None
        if not failures:
            return points, ("passed", "")
        return (0.0 if gate_failed else points), failures[0]
