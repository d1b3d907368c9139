"""Case definitions of the grader's test sheet (grading_tiny): the protocol's cases.

Loaded by the grader (the reference notebook's metadata says ``"cases": "grading_tiny_cases"``)
in its own process; the sandbox never sees this file (test_protocol's fs_search submission
looks for this marker: CASES-TOKEN-b41c).
"""

from __future__ import annotations

from typing import Any

from course_lib.cases import Case, Exercise, Mismatch


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def _number(got: Any) -> bool:
    return isinstance(got, (int, float)) and not isinstance(got, bool)


def double_public() -> list[Case]:
    return [Case(f"double({x!r})", (x,)) for x in (0, 1, -3, 2.5)]


def double_hidden(rng) -> list[Case]:
    return [Case("hidden", (int(x),), hidden=True) for x in rng.integers(-10**6, 10**6, 3)]


def double_compare(case: Case, got: Any, after: Any) -> None:
    (x,) = case.args
    if not _number(got) or got != 2 * x:
        raise Mismatch(_show(2 * x), _show(got), "multiply by 2")


def mean_public() -> list[Case]:
    return [Case(f"mean({xs!r})", (xs,)) for xs in ([1, 2, 3], [5], [-1, 1], [0.5, 0.25])]


def mean_hidden(rng) -> list[Case]:
    return [Case("hidden", ([float(v) for v in rng.normal(size=int(rng.integers(1, 6)))],),
                 hidden=True) for _ in range(2)]


def mean_compare(case: Case, got: Any, after: Any) -> None:
    (xs,) = case.args
    want = sum(xs) / len(xs)
    if not _number(got) or abs(got - want) > 1e-12 * max(1.0, abs(want)):
        raise Mismatch(_show(want), _show(got), "divide the sum by the number of values")


def total_public() -> list[Case]:
    return [Case("total", ())]


def total_compare(case: Case, got: Any, after: Any) -> None:
    if not _number(got) or got != 385:
        raise Mismatch("the sum of the squares of 1 to 10", _show(got),
                       "range(1, 11) stops before 11")


EXERCISES = {
    "double": Exercise("double", double_public, double_compare, double_hidden),
    "mean": Exercise("mean", mean_public, mean_compare, mean_hidden, forbidden=("statistics",)),
    "total": Exercise("total", total_public, total_compare, mode="value"),
}
