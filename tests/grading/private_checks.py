"""Private checks for the grader's test sheet (grading_tiny), used by test_grade.py.

The format is documented in examples/private_checks_example.py.
"""

# ruff: noqa: F821  (the names come from the notebook being graded)

# %% private-check exercise=double
# A gate: hidden large and negative cases.
for x in (10**6, -7):
    got = double(x)
    if got != 2 * x:
        raise CheckFailed(f"double({x}) returned {got!r}, expected {2 * x}.")

# %% private-check sheet=grading_tiny exercise=total points=1
# One extra point: the total is an exact integer.
assert isinstance(total, int), "total should be an int, not a float"
