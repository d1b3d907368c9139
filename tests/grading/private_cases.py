"""Private cases for the grader's test sheet (grading_tiny), the protocol's form of private
checks: extra case sets judged in the grading process (marker for the file-system search:
PRIVATE-TOKEN-9e27). Used by test_protocol.py.
"""

from course_lib.cases import Case, Mismatch, PrivateCases


def _is_int(case, got, after):
    if not isinstance(got, int) or isinstance(got, bool):
        raise Mismatch("an int", f"a {type(got).__name__}", "the sum of integers is an integer")


PRIVATE_CASES = [
    # a gate: large and negative inputs, judged by the exercise's own comparator
    PrivateCases("grading_tiny", "double", [Case("large", (10**6,)), Case("negative", (-7,))]),
    # one extra point: total is an exact integer
    PrivateCases("grading_tiny", "total", [Case("an int", ())], compare=_is_int, points=1),
]
