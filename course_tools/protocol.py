"""The grading protocol: the learner's code only produces values; the grader decides.

For one submission of a sheet whose checks are case definitions (:mod:`course_lib.cases`):

1. the worker (``inside/worker.py``) starts in the sandbox and runs the reference's set-up
   cells and the learner's answer cells, nothing else (no check cell, no private check);
2. for each exercise the grader sends its cases one request at a time over its own pipes:
   the public and edge cases, hidden cases drawn from a seed the sandbox never sees, and the
   instructor's private case sets; inputs are plain data (``inside/codec.py``);
3. each reply must carry the request's id, in order, before the deadline, and decode as plain
   data; anything else is an error row, never a pass. The comparator runs here, in the grading
   process, so the expected values never reach the sandbox.

What the worker's process prints is never read.
"""

from __future__ import annotations

import ast
import dataclasses
import time
from typing import Any

import numpy as np

from course_lib.cases import Case, Exercise, Mismatch, PrivateCases, built, describe
from course_lib.cases import describe_case as _describe_case
from course_lib.cases._runner import full_message

from .inside import codec
from .reference import Sheet
from .sheet_format import course_meta, shipped_answer
from .submission import learner_cells
from .verdict import Result

STARTUP = 30.0  # seconds for the worker to start and run its cells, on top of the cell limits
GRACE = 2.0  # seconds past a call's own limit before the worker counts as gone


class ProtocolError(Exception):
    """The worker's reply is missing, late, out of order or malformed."""


@dataclasses.dataclass
class Plan:
    """What one protocol run asks: the cells to run and, per exercise, the cases."""

    cells: list[dict]
    answer_sources: dict[str, list[str]]
    not_code: set[str]
    cases: dict[str, list[tuple[Case, Any, float | None]]]  # id -> (case, comparator, extra)
    untouched: set[str] = dataclasses.field(default_factory=set)  # answers as they shipped


def setup_cells(sheet: Sheet) -> list[str]:
    """The reference's code cells without a role that come before the first answer cell."""
    sources = []
    for cell in sheet.cells:
        if course_meta(cell).get("role") == "answer":
            break
        if cell.get("cell_type") == "code" and not course_meta(cell):
            sources.append(cell.get("source", ""))
    return sources


def _answer_cells(sheet: Sheet, learner) -> tuple[list[dict], dict[str, list[str]], set[str],
                                                  set[str]]:
    """The answer cells to run (written answers are read, never run), their sources, the
    exercises answered in non-code cells, and those whose answers are as they shipped."""
    found = learner_cells(sheet, learner)
    tasks = {e.id: e.task for e in sheet.exercises if e.kind == "check"}
    cells, sources, changed = [], {}, set()
    for cell in sheet.cells:
        meta = course_meta(cell)
        ex = meta.get("exercise")
        if meta.get("role") != "answer" or ex not in tasks:
            continue
        k = len(sources.setdefault(ex, []))
        mine = found.answers.get(ex, [])
        shipped = shipped_answer(cell.get("source", ""), ex, tasks[ex])
        text = mine[k] if k < len(mine) else shipped
        if text.strip() != shipped.strip():
            changed.add(ex)
        sources[ex].append(text)
        cells.append({"role": "answer", "exercise": ex, "source": text})
    return cells, sources, found.not_code, set(sources) - changed


def make_plan(sheet: Sheet, learner, exercises: dict[str, Exercise],
              private: list[PrivateCases], rng: np.random.Generator) -> Plan:
    answers, sources, not_code, untouched = _answer_cells(sheet, learner)
    cells = [{"role": "setup", "source": s} for s in setup_cells(sheet)] + answers
    for index, cell in enumerate(cells):
        cell["index"] = index
    cases: dict[str, list] = {}
    for ex in sheet.checked():
        spec = exercises[ex.id]
        todo = [(case, spec.compare, None) for case in spec.public()]
        if spec.hidden is not None:
            todo += [(case, spec.compare, None) for case in spec.hidden(rng)]
        for extra in private:
            if extra.exercise == ex.id:
                todo += [(case, extra.compare or spec.compare, extra)
                         for case in extra.draw(rng)]
        cases[ex.id] = todo
    return Plan(cells, sources, not_code, cases, untouched)


# --------------------------------------------------------------------------------------------
# Talking to the worker
# --------------------------------------------------------------------------------------------


class Channel:
    """Requests with increasing ids; each reply must answer the last request, in time."""

    def __init__(self, worker, deadline: float) -> None:
        self.worker, self.deadline, self.next_id = worker, deadline, 0
        self.broken: str | None = None  # why the worker can no longer be asked
        self.timings: list[tuple[float, float]] = []  # (round trip, worker's own seconds)

    def ask(self, request: dict, seconds: float) -> dict:
        if self.broken:
            raise ProtocolError(self.broken)
        rid = self.next_id
        self.next_id += 1
        start = time.monotonic()
        if not self.worker.send(codec.dumps({"id": rid, **request})):
            self._break("the sandboxed process ended")
        line = self.worker.receive(min(self.deadline, time.monotonic() + seconds))
        if line is None:
            late = time.monotonic() >= self.deadline
            self._break("the sandboxed process ended" if self.worker.ended
                        else "the submission's total time budget ran out" if late
                        else "the sandboxed process stopped answering")
        try:
            reply = codec.loads(line)
        except codec.CodecError as exc:
            self._break(f"a malformed reply ({exc})")
        if reply.get("id") != rid:
            self._break("a reply out of order")
        own = reply.get("seconds")
        self.timings.append((time.monotonic() - start, own if isinstance(own, float) else 0.0))
        return reply

    def _break(self, why: str):
        self.broken = why
        raise ProtocolError(why)


def _call_request(spec: Exercise, case: Case, timeout: float) -> dict:
    if spec.mode == "value":
        return {"op": "value", "name": spec.answer_name, "timeout": timeout}
    request = {"op": "call", "name": spec.answer_name, "timeout": timeout,
               "args": codec.to_plain(tuple(case.args)), "kwargs": codec.to_plain(case.kwargs)}
    if spec.consume is not None:
        request["consume"] = {"cap": spec.consume}
    if spec.via is not None:
        request["via"] = spec.via
    return request


def _label(case: Case) -> str:
    return _describe_case(case) if case.hidden else f"case '{case.label}'"


def _error_outcome(spec: Exercise, case: Case, error: dict) -> tuple[str, str]:
    kind, text = str(error.get("type", "Error")), str(error.get("message", ""))
    if kind == "NotAttempted":
        other = error.get("exercise")
        if other in (None, spec.id):
            return "not attempted", _NOT_ATTEMPTED
        return "failed", (f"{_label(case)}: your code uses exercise {other}, which is not "
                          f"attempted yet. Hint: finish {other} first.")
    if kind == "NameError" and f"'{spec.answer_name}'" in text:
        return "failed", (f"your answer does not define `{spec.answer_name}` (NameError). Names "
                          "must be "
                          "defined in the answer cell itself: code in cells you added is not run.")
    return "failed", f"{_label(case)}: your code raised {kind}: {text}"


def judge(spec: Exercise, case: Case, compare, reply: dict) -> tuple[str, str] | None:
    """None when the reply is right; else (status, message). Never trusts the reply's claims."""
    if reply.get("timed_out") is True and reply.get("ok") is False:
        return "timed out", f"{_label(case)}: your code did not finish within the time limit."
    if reply.get("ok") is not True:
        error = reply.get("error")
        return _error_outcome(spec, case, error if isinstance(error, dict) else {})
    try:
        got = codec.from_plain(reply.get("value"))
        after = codec.from_plain(reply["after"]) if "after" in reply else None
    except (codec.CodecError, ValueError, TypeError) as exc:
        return "error", f"{_label(case)}: the value that came back cannot be read ({exc})."
    if isinstance(got, codec.Unsupported):
        got = _Opaque(got.type_name)
    try:
        compare(built(case), got, after if isinstance(after, tuple) else None)
    except Mismatch as wrong:
        if case.hidden:
            return "failed", (f"{_label(case)}: the result is not right (got "
                              f"{describe(got)}). Hint: {wrong.mistake or wrong.hint}")
        return "failed", f"{_label(case)}: {full_message(spec, wrong)}"
    except Exception as exc:  # noqa: BLE001 - a comparator choking on a strange value
        return "failed", f"{_label(case)}: what came back is not usable ({type(exc).__name__})."
    return None


class _Opaque:
    """A value that could not travel (a learner's own object): only its type name is known."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"a {self.type_name}"


def forbidden_uses(sources: list[str], names: tuple[str, ...]) -> list[str]:
    """The ``names`` an answer's code mentions (imports, names, attributes): flagged for review."""
    found: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in names:
                found.add(node.id)
            elif isinstance(node, ast.Attribute) and node.attr in names:
                found.add(node.attr)
            elif isinstance(node, ast.alias) and node.name.split(".")[-1] in names:
                found.add(node.name.split(".")[-1])
    return sorted(found)


# --------------------------------------------------------------------------------------------
# One submission
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    """One protocol run of one submission (what ``grade_submission`` needs back)."""

    results: list[Result]
    notes: list[str]
    debug: dict


def _cell_replies(channel: Channel, plan: Plan, cell_timeout: float) -> dict[int, dict]:
    cells = [{"index": c["index"], "source": c["source"]} for c in plan.cells]
    reply = channel.ask({"op": "cells", "cells": cells, "timeout": cell_timeout},
                        STARTUP + cell_timeout * max(1, len(cells)))
    found = reply.get("cells")
    if not isinstance(found, list) or len(found) != len(cells):
        channel._break("a malformed reply to the cells")
    return {c.get("index"): c for c in found if isinstance(c, dict)}


def _setup_problem(plan: Plan, replies: dict[int, dict]) -> str | None:
    for cell in plan.cells:
        reply = replies.get(cell["index"], {})
        if cell["role"] == "setup" and reply.get("status") != "ok":
            error = reply.get("error") or {}
            return (f"Not graded: set-up cell {cell['index']} of the sheet failed in the grading "
                    f"sandbox ({error.get('type', reply.get('status'))}: "
                    f"{error.get('message', '')}); this is a problem of the grading environment, "
                    "not of the submission.")
    return None


def _answer_note(plan: Plan, replies: dict[int, dict], ex_id: str) -> tuple[str, str] | None:
    """How the exercise's answer cells ran, when that explains a failure."""
    for cell in plan.cells:
        reply = replies.get(cell["index"], {})
        if cell.get("exercise") != ex_id:
            continue
        if reply.get("status") == "timed out":
            return "timed out", "Your answer cell did not finish within the time limit per cell."
        error = reply.get("error") or {}
        if reply.get("status") == "error" and error.get("type") != "NotAttempted":
            return "error", (f"Your answer cell raised {error.get('type')}: "
                             f"{error.get('message', '')}")
    return None


_NOT_ATTEMPTED = ("Not attempted yet: the answer still raises NotAttempted (replace that line "
                  "with your code).")


_UNTOUCHED = ("Not attempted yet: the code is still as it shipped (find the bug and fix it in "
              "the answer cell).")


def _comment(spec: Exercise, todo: list, replies: list[dict]) -> str:
    """The exercise's comment on a passing answer (a prediction's gap), from its first reply."""
    if not todo or not replies or spec.comment is None:
        return ""
    try:
        return str(spec.comment(built(todo[0][0]), codec.from_plain(replies[0].get("value")))
                   or "")
    except Exception:  # noqa: BLE001 - a comment is a courtesy, never a verdict
        return ""


def _raised_not_attempted(plan: Plan, replies: dict[int, dict], ex_id: str) -> bool:
    """An answer cell of ``ex_id`` stopped at its own ``raise NotAttempted``."""
    return any(cell.get("exercise") == ex_id
               and (replies.get(cell["index"], {}).get("error") or {}).get("type") == "NotAttempted"
               for cell in plan.cells)


def _ask_cases(channel: Channel, spec: Exercise, todo: list, limits) -> tuple[list, list]:
    """Ask the cases in order: the failures as (group, status, message), one per group, and
    the replies that were judged."""
    failures: list = []
    replies: list = []
    for case, compare, group in todo:
        if any(f[0] is None for f in failures) or any(f[0] is group for f in failures):
            continue  # the first failure of a group decides it
        reply = channel.ask(_call_request(spec, case, limits.cell_timeout),
                            limits.cell_timeout + GRACE)
        replies.append(reply)
        outcome = judge(spec, case, compare, reply)
        if outcome is not None:
            failures.append((group, *outcome))
    return failures, replies


def _score(ex, private: list[PrivateCases], failures: list) -> tuple[float, str, str]:
    """(points, status, message) from the failures of the base cases and the private groups."""
    base = [f for f in failures if f[0] is None]
    if base:
        return 0.0, base[0][1], base[0][2]
    mine = [p for p in private if p.exercise == ex.id]
    failed = {id(f[0]): f for f in failures}
    points = ex.points + sum(p.points or 0.0 for p in mine if id(p) not in failed)
    if not failures:
        return points, "passed", ""
    gate = any(p.points is None and id(p) in failed for p in mine)
    first = failures[0]
    return (0.0 if gate else points), first[1], f"A hidden check failed: {first[2]}"


def _broken_outcome(channel: Channel, ex_id: str, first: bool, limits) -> tuple[str, str]:
    why = channel.broken or "the sandboxed process ended"
    if "time budget" in why:
        where = "while checking this exercise" if first else "before this exercise was checked"
        return "timed out", f"The submission's total time budget ran out {where}."
    if first and "stopped answering" in why:
        return "timed out", (f"Your code did not finish within {limits.cell_timeout:g} s and did "
                             "not stop when interrupted, so it was stopped.")
    if first:
        return "error", f"The sandboxed process gave no usable reply: {why}."
    return "error", f"Not checked: {why} earlier, while checking exercise {ex_id}."


class SubmissionRun:
    """Grades one submission through the protocol (one worker, one channel)."""

    def __init__(self, sheet: Sheet, plan: Plan, exercises: dict[str, Exercise],
                 private: list[PrivateCases], limits) -> None:
        self.sheet, self.plan, self.exercises = sheet, plan, exercises
        self.private, self.limits = private, limits

    def grade(self, channel: Channel) -> list[Result]:
        try:
            replies = _cell_replies(channel, self.plan, self.limits.cell_timeout)
        except ProtocolError:
            return self._all_broken(channel)
        problem = _setup_problem(self.plan, replies)
        results = []
        broken_at: str | None = None
        for ex in self.sheet.checked():
            top = self._max_points(ex)
            if problem:
                results.append(Result(ex.id, 0.0, top, "error", problem))
                continue
            if broken_at is not None:
                status, msg = _broken_outcome(channel, broken_at, False, self.limits)
                results.append(Result(ex.id, 0.0, top, status, msg))
                continue
            try:
                results.append(self._exercise(channel, ex, replies, top))
            except ProtocolError:
                broken_at = ex.id
                status, msg = _broken_outcome(channel, ex.id, True, self.limits)
                results.append(Result(ex.id, 0.0, top, status, msg))
        return results

    def _max_points(self, ex) -> float:
        return ex.points + sum(p.points or 0.0 for p in self.private if p.exercise == ex.id)

    def _all_broken(self, channel: Channel) -> list[Result]:
        status, msg = _broken_outcome(channel, "", True, self.limits)
        msg = f"Not graded: while running the answer cells, {msg[0].lower()}{msg[1:]}"
        return [Result(ex.id, 0.0, self._max_points(ex), status, msg)
                for ex in self.sheet.checked()]

    def _exercise(self, channel: Channel, ex, replies: dict, top: float) -> Result:
        spec = self.exercises[ex.id]
        if ex.id in self.plan.untouched and ex.task == "diagnose":
            return Result(ex.id, 0.0, top, "not attempted", _UNTOUCHED)
        failures, asked = _ask_cases(channel, spec, self.plan.cases[ex.id], self.limits)
        points, status, message = _score(ex, self.private, failures)
        if status == "passed":
            message = _comment(spec, self.plan.cases[ex.id], asked)
        note = _answer_note(self.plan, replies, ex.id)
        if status == "failed" and _raised_not_attempted(self.plan, replies, ex.id):
            status, message = "not attempted", _NOT_ATTEMPTED
        elif status not in ("passed", "not attempted") and note is not None:
            if note[0] == "timed out":
                status, message = "timed out", note[1]
            else:
                message = f"{message} {note[1]}".strip()
        if status == "not attempted" and ex.id in self.plan.not_code:
            message = (f"Not run: your answer cell of {ex.id} is not a code cell (Markdown or "
                       "raw); change its cell type back to Code.")
        uses = forbidden_uses(self.plan.answer_sources.get(ex.id, []), spec.forbidden)
        if status == "passed" and uses:
            message = (f"Flagged for review: the answer uses {', '.join(uses)}, which this "
                       "exercise asks you to write yourself.")
        return Result(ex.id, points, top, status, message)


def grade(sheet: Sheet, learner, exercises: dict[str, Exercise], private: list[PrivateCases],
          box, base, name: str, slot: int, budget: float, seed: int) -> Run:
    """Grade one submission of a case-defined sheet through the protocol, in ``box``."""
    plan = make_plan(sheet, learner, exercises, private, np.random.default_rng(seed))
    start = time.monotonic()
    worker = box.start_worker(base, name, slot)
    channel = Channel(worker, start + budget)
    try:
        results = SubmissionRun(sheet, plan, exercises, private, box.limits).grade(channel)
    finally:
        tail = worker.stop()
    calls = channel.timings[1:]  # the first request runs the cells
    debug = {"protocol": True, "requests": channel.next_id, "broken": channel.broken,
             "log": tail, "seconds": time.monotonic() - start, "notebook": "{}",
             "cells_seconds": channel.timings[0][0] if channel.timings else None,
             "calls_seconds": sum(t for t, _ in calls),
             "calls_overhead": sum(t - own for t, own in calls)}
    return Run(results, [], debug)
