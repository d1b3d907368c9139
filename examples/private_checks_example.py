"""Private checks: extra cases that learners never see (example for sheet 04_adagrad).

Grade with them:

    python -m course_tools.grade --sheet 04_adagrad --out grades.csv \
        --private-checks examples/private_checks_example.py -- submissions/*.ipynb

Format (sheets graded by the protocol, such as 04_adagrad). The file defines ``PRIVATE_CASES``,
a list of ``course_lib.cases.PrivateCases(sheet, exercise, cases, compare=None, points=None)``.
The grader loads it in its own process; the sandbox never sees it. Each case is sent to the
learner's function like the sheet's own cases and judged in the grader by the exercise's
comparator (or by ``compare``, which raises ``course_lib.cases.Mismatch(expected, got, hint)``).
``cases`` is a list, or a function of a ``numpy.random.Generator`` (drawn per submission from
the grader's secret seed). The feedback describes a private case by dtype and shape only and
quotes the comparator's hint, never this file.

Points:

* without ``points``: a gate. The exercise earns its points only when its own cases and every
  gate pass; a failing gate gives 0 points.
* with ``points=P``: extra points. The exercise's max_points becomes its points plus P.

Sheets still graded by running their check cells (no case definitions yet) take the older
format instead: blocks starting ``# %% private-check exercise=ID [sheet=SHEET] [points=P]``,
each an extra cell run after the reference's check, in the learner's kernel.

Keep this file out of the learners' repository.
"""

import numpy as np

from course_lib.cases import Case, PrivateCases, Spec

PRIVATE_CASES = [
    # A gate: a zero gradient on a coordinate that never moved must leave it in place (no
    # 0/0 = nan), and a huge gradient must give a step of about lr, not overflow.
    PrivateCases("04_adagrad", "adagrad_step", [
        Case("a huge gradient next to a zero one",
             (np.array([1.0, 2.0]), np.array([1e150, 0.0]), np.zeros(2), 0.1), {"eps": 1e-10}),
    ]),
    # One extra point: a start point given as integers works too.
    PrivateCases("04_adagrad", "run_adagrad", [
        Case("an integer start point",
             (Spec("ill_conditioned_quadratic", (10.0,)), np.array([-4, 3]), 1.0, 3),
             {"eps": 1e-10}),
    ], points=1),
]
