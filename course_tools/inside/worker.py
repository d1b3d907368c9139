"""The grading worker: runs inside the sandbox, produces values, decides nothing.

Started by the grader as ``python -I worker.py`` with two pipe descriptors, ``COURSE_GRADE_IN``
(requests) and ``COURSE_GRADE_OUT`` (replies); the grader holds the other ends. Messages are
JSON lines (:mod:`codec`). The first request lists the cells to run (the reference's set-up,
then the learner's answer cells); then each request asks for one value: "call ``name`` with
these inputs" (or "call the course_lib function ``via`` with ``name`` and these inputs") or
"the value of ``name``". Every reply carries the request's id. What the
learner's code prints goes nowhere. The worker never sees an expected value, a reference
solution or a private check: the grader compares.
"""

import contextlib
import io
import os
import signal
import sys
import time

from course_lib.cases import build, resolve_via

if __package__:  # imported by the tests
    from . import codec
else:  # run as a script in the job directory (python -I does not put it on sys.path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import codec  # noqa: E402


class CellTimeout(BaseException):
    """Raised by the alarm when a cell or a call runs past its time limit."""


def _alarm(_signum, _frame):
    raise CellTimeout()


def _error(exc: BaseException) -> dict:
    info = {"type": type(exc).__name__[:100], "message": str(exc)[:500]}
    exercise = getattr(exc, "exercise_id", None)
    if type(exc).__name__ == "NotAttempted" and isinstance(exercise, str):
        info["exercise"] = exercise[:100]
    return info


class Shell:
    """IPython's shell when it is there (set-up cells use magics), else plain ``exec``."""

    def __init__(self) -> None:
        try:
            from IPython.core.interactiveshell import InteractiveShell

            self.ipython = InteractiveShell.instance(colors="nocolor")
            # no GUI event loop here: `%matplotlib inline` only needs to pick the backend
            self.ipython.enable_gui = lambda gui=None: None
            self.ns = self.ipython.user_ns
        except ImportError:
            self.ipython, self.ns = None, {"__name__": "__main__"}

    def run(self, source: str) -> BaseException | None:
        """Run one cell; the exception it raised, or None."""
        if self.ipython is None:
            try:
                exec(compile(source, "<cell>", "exec"), self.ns)  # noqa: S102 - the sandbox
            except BaseException as exc:  # noqa: BLE001 - reported, never raised
                return exc
            return None
        result = self.ipython.run_cell(source, store_history=False)
        return result.error_before_exec or result.error_in_exec


class _Null(io.TextIOBase):
    """Where the learner's prints go: nowhere (and nothing piles up in memory)."""

    def write(self, text: str) -> int:
        return len(text)


_NULL = _Null()


@contextlib.contextmanager
def limited(seconds: float):
    """Quietly, with an alarm after ``seconds`` (what is printed is thrown away)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.001, float(seconds)))
    try:
        with contextlib.redirect_stdout(_NULL), contextlib.redirect_stderr(_NULL):
            yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_cells(shell: Shell, cells: list, timeout: float) -> list:
    replies = []
    for cell in cells:
        start = time.monotonic()
        try:
            with limited(timeout):
                exc = shell.run(str(cell.get("source", "")))
        except CellTimeout as late:
            exc = late
        status = "ok" if exc is None else "timed out" if isinstance(exc, CellTimeout) else "error"
        reply = {"index": cell.get("index"), "status": status,
                 "seconds": round(time.monotonic() - start, 3)}
        if status == "error":
            reply["error"] = _error(exc)
        replies.append(reply)
    return replies


def _consume(value, consume):
    if consume is None:
        return value
    cap = int(consume.get("cap", 10_000))
    items = []
    for item in value:
        items.append(item)
        if len(items) > cap:
            raise codec.CodecError(f"the generator yielded more than {cap} items")
    return items


def answer(shell: Shell, request: dict) -> dict:
    """The reply to one value request."""
    name = str(request.get("name", ""))
    try:
        with limited(float(request.get("timeout", 10))):
            if name not in shell.ns:
                raise NameError(f"name {name!r} is not defined")
            value = shell.ns[name]
            if request.get("op") == "call":
                args = build(codec.from_plain(request.get("args", {"__tuple__": []})))
                kwargs = build(codec.from_plain(request.get("kwargs", {"__dict__": {}})))
                via = request.get("via")
                target, lead = (value, ()) if via is None else (resolve_via(str(via)), (value,))
                value = _consume(target(*lead, *args, **kwargs), request.get("consume"))
                return {"ok": True, "value": codec.to_plain(value),
                        "after": codec.to_plain((*args, *kwargs.values()))}
            return {"ok": True, "value": codec.to_plain(value)}
    except CellTimeout:
        return {"ok": False, "timed_out": True}
    except BaseException as exc:  # noqa: BLE001 - the learner's error is a value too
        return {"ok": False, "error": _error(exc)}


def serve(inp, out) -> None:
    shell = Shell()
    for line in inp:
        request = codec.loads(line)
        rid = request.get("id")
        if request.get("op") == "cells":
            reply = {"cells": run_cells(shell, request.get("cells", []),
                                        float(request.get("timeout", 60)))}
        elif request.get("op") in ("call", "value"):
            start = time.monotonic()
            reply = answer(shell, request)
            reply["seconds"] = round(time.monotonic() - start, 6)
        else:
            return
        try:
            data = codec.dumps({"id": rid, **reply})
        except (codec.CodecError, ValueError, TypeError) as exc:
            data = codec.dumps({"id": rid, "ok": False, "error": _error(exc)})
        out.write(data)
        out.flush()


def main() -> None:
    inp = os.fdopen(int(os.environ.pop("COURSE_GRADE_IN")), "rb")
    out = os.fdopen(int(os.environ.pop("COURSE_GRADE_OUT")), "wb")
    for fd in (inp.fileno(), out.fileno()):
        os.set_inheritable(fd, False)  # processes the learner starts never get them
    sys.argv = ["worker"]
    serve(inp, out)


if __name__ == "__main__":
    main()
