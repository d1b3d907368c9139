"""Case definitions of the grader's test sheet for the kinds of exercise (kinds_tiny).

``fix_double`` is a diagnose exercise (the sheet ships ``x + 2``), ``guess_square`` a
prediction with a comment on a pass, ``why_double`` a written explanation.
"""

from __future__ import annotations

from typing import Any

from course_lib.cases import Case, Exercise, Mismatch


def double_public() -> list[Case]:
    return [Case(f"fix_double({x!r})", (x,)) for x in (0, 1, -3)]


def double_compare(case: Case, got: Any, after: Any) -> None:
    (x,) = case.args
    if got != 2 * x:
        mistake = "this still behaves like the code you were given" if got == x + 2 else None
        raise Mismatch(repr(2 * x), repr(got), "double the input", mistake)


def guess_public() -> list[Case]:
    return [Case("the square of 7", ())]


def guess_compare(case: Case, got: Any, after: Any) -> None:
    if not isinstance(got, (int, float)) or isinstance(got, bool) or abs(got - 49) > 5:
        raise Mismatch("a prediction within 5 of the measurement", repr(got)[:40],
                       "7 * 7 is close to 50")


def guess_comment(case: Case, got: Any) -> str:
    return f"you predicted {got:g}; the measurement is 49 (gap {abs(got - 49):g})"


EXERCISES = {
    "fix_double": Exercise("fix_double", double_public, double_compare),
    "guess_square": Exercise("guess_square", guess_public, guess_compare, mode="value",
                             comment=guess_comment),
    "why_double": Exercise("why_double", mode="explain"),
}
