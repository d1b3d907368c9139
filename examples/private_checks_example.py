"""Private checks: extra check cells that learners never see (example for sheet 04_adagrad).

Grade with them:

    python -m course_tools.grade --out grades.csv \
        --private-checks examples/private_checks_example.py -- submissions/*.ipynb

Format. Each block starting with a line

    # %% private-check exercise=ID [sheet=SHEET] [points=P]

is one extra code cell. The grader inserts it right after the reference's check cell of that
exercise and runs it in the same kernel, so it sees the learner's names (and the sheet's
imports). Nothing before the first such line may be code (comments and this docstring are fine).

A private check passes when its cell runs without an exception. Raise
``course_lib.checks.CheckFailed("...")`` (or use ``assert cond, "..."``) with a message: the
learner's feedback quotes that message ("A hidden check failed: ..."), never the check's code.

Points:

* without ``points=``: a gate. The exercise earns its points only when the reference check and
  every gate pass; a failing gate gives 0 points.
* with ``points=P``: extra points. The exercise's max_points becomes its points plus P; the
  reference check earns the sheet's points, this check earns P more.

Private checks run only when the reference check passed (if it did not, its own message is
the feedback). ``sheet=`` may be left out when the exercise id names one exercise in the
reference; unknown ids are an error, so a typo cannot silently disable a check. A notebook
(``.ipynb``) works too: code cells with metadata
``{"course": {"role": "private-check", "exercise": "ID", "points": P}}``.

Keep this file out of the learners' repository.
"""

# ruff: noqa: F821  (the names come from the learner's notebook)

# %% private-check sheet=04_adagrad exercise=adagrad_step
# A hidden case: a zero gradient on a coordinate that has never moved must leave it in place
# (no 0/0 = nan) and a huge gradient must give a step of about lr, not overflow.
import numpy as np

from course_lib.checks import CheckFailed

p, s = adagrad_step(np.array([1.0, 2.0]), np.array([1e150, 0.0]), np.zeros(2), 0.1)
if not np.all(np.isfinite(p)) or abs(p[0] - 0.9) > 1e-9 or p[1] != 2.0:
    raise CheckFailed(
        f"adagrad_step(p=[1, 2], g=[1e150, 0], s=[0, 0], lr=0.1) gave p = {p!r}; expected "
        "[0.9, 2.0]. Hint: square the gradient once, and keep eps outside the root."
    )

# %% private-check sheet=04_adagrad exercise=run_adagrad points=1
# One extra point: a start point given as a list of ints works too (AdaGrad's first step with
# lr = 1 moves every coordinate by 1 against the sign of its gradient).
path = run_adagrad(ill_conditioned_quadratic(10), [-4, 3], 1.0, 3)
assert path.shape == (4, 2), f"run_adagrad from [-4, 3] (ints) returned shape {path.shape}"
assert abs(path[1][0] + 3.0) < 1e-9 and abs(path[1][1] - 2.0) < 1e-9, (
    f"run_adagrad from the integer start [-4, 3] took its first step to {list(path[1])}; "
    "expected [-3.0, 2.0]. Hint: convert x0 to a float array first."
)
