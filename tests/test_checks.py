"""The in-notebook checks: the pass line, NotAttempted, errors in the learner's code, what the
learner's code prints, and the traceback a learner sees.

The runner's behaviour is tested on a made-up exercise (``double``) and, where it needs no right
answer, on every exercise of the course. Right and wrong answers of the real exercises are tested
per sheet, in ``tests/test_sheetNN_mistakes.py``.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.cases import Case, Exercise, all_exercises, run_check
from course_lib.cases import _compare as c
from course_lib.checks import CheckFailed, NotAttempted


def _double_compare(case: Case, got: Any, after: tuple | None) -> None:
    c.close(got, 2 * case.args[0], "y", "multiply the input by two")


DOUBLE = Exercise("double", lambda: [Case("one value", (np.array([1.5]),)),
                                     Case("two values", (np.array([-1.0, 4.0]),))],
                  _double_compare)
CALLED = sorted(ex_id for ex_id, ex in all_exercises().items() if ex.mode == "call")


def _raise_not_attempted(exercise: str):
    def unfinished(*args: Any, **kwargs: Any) -> Any:
        raise NotAttempted(exercise)

    return unfinished


def test_a_right_answer_prints_exactly_the_pass_line(capsys) -> None:
    run_check(DOUBLE, lambda x: 2 * x)
    out, err = capsys.readouterr()
    assert (out, err) == ("[double] passed: 2/2 cases\n", "")


def test_every_called_exercise_has_several_cases() -> None:
    for ex_id in CALLED:
        assert len(all_exercises()[ex_id].public()) >= 3, ex_id


@pytest.mark.parametrize("exercise", CALLED)
def test_not_attempted_is_reraised(exercise: str) -> None:
    with pytest.raises(NotAttempted) as info:
        run_check(all_exercises()[exercise], _raise_not_attempted(exercise))
    assert str(info.value) == (
        f"exercise {exercise} is not attempted yet: replace the `raise NotAttempted(...)` line "
        f"with your code"
    )
    assert info.value.exercise_id == exercise


@pytest.mark.parametrize("exercise", CALLED)
def test_learner_exception_is_one_line_naming_case_and_error(exercise: str) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        return {}["no such key"]

    with pytest.raises(CheckFailed) as info:
        run_check(all_exercises()[exercise], broken)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"[{exercise}] case '")
    assert "your code raised KeyError: 'no such key'" in message
    assert isinstance(info.value.__cause__, KeyError)  # the learner's traceback is kept


def test_another_exercise_not_attempted_is_a_failure_naming_it() -> None:
    with pytest.raises(CheckFailed, match=r"uses exercise some_helper, which is not attempted"):
        run_check(DOUBLE, _raise_not_attempted("some_helper"))


def test_learner_prints_warnings_and_figures_are_captured(capsys) -> None:
    def noisy(x: np.ndarray) -> np.ndarray:
        print("debugging output")
        print("to stderr", file=sys.stderr)
        warnings.warn("a learner's warning", UserWarning, stacklevel=1)
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        plt.figure()
        plt.plot([1, 2])
        plt.show()
        return 2 * x

    figures_before = plt.get_fignums()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_check(DOUBLE, noisy)
    out, err = capsys.readouterr()
    assert (out, err) == ("[double] passed: 2/2 cases\n", "")
    assert [str(w.message) for w in caught] == []
    assert plt.get_fignums() == figures_before


def test_not_a_function_is_a_clear_failure() -> None:
    with pytest.raises(CheckFailed, match=r"expected your function `double` itself, got 3"):
        run_check(DOUBLE, 3)


def test_no_return_is_explained() -> None:
    with pytest.raises(CheckFailed, match="has no `return` statement"):
        run_check(DOUBLE, lambda x: None)


def test_not_attempted_message_and_copy_keep_the_id() -> None:
    import copy
    import pickle

    error = NotAttempted("adagrad_step", "a message of its own")
    assert copy.copy(error).exercise_id == "adagrad_step"
    again = pickle.loads(pickle.dumps(error))
    assert (again.exercise_id, str(again)) == ("adagrad_step", "a message of its own")
    assert issubclass(CheckFailed, AssertionError)


# --- what a learner's traceback shows --------------------------------------------------------

_IPYTHON_RUN = r'''
import re
import numpy as np
from IPython.core.interactiveshell import InteractiveShell
import course_lib.cases as cases
from course_lib.cases import Case, Exercise
from course_lib.cases import _compare as c

DOUBLE = Exercise("double", lambda: [Case("one value", (np.array([1.5]),))],
                  lambda case, got, after: c.close(got, 2 * case.args[0], "y", "times two"))
cases.find_exercise = {"double": DOUBLE}.get
shell = InteractiveShell.instance()
shown = []
shell._showtraceback = lambda etype, value, stb: shown.append("\n".join(stb))
shell.run_cell("from course_lib.checks import check", store_history=True)
for cell in ["def double(x):\n    return x + 2\n",
             'check("double")  # the check cell',
             "def double(x):\n    return x / {}[2]\n",
             'check("double")  # the check cell']:
    shell.run_cell(cell, store_history=True)
print("\n=====\n".join(re.sub(r"\x1b\[[0-9;]*m", "", text) for text in shown))
'''


def _ipython_tracebacks() -> list[str]:
    out = subprocess.run([sys.executable, "-c", _IPYTHON_RUN], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return out.split("\n=====\n")


def test_ipython_traceback_ends_at_the_learners_call_not_the_checks_raise_line() -> None:
    pytest.importorskip("IPython")
    wrong, raising = _ipython_tracebacks()
    for text in (wrong, raising):
        assert "raise CheckFailed(" not in text and "course_lib/checks.py" not in text
        assert "course_lib/cases/_runner.py" not in text
        assert 'check("double")  # the check cell' in text
        assert text.rstrip().splitlines()[-1].startswith("CheckFailed: [double] case '")
    assert "expected y = [3], got y = [3.5]" in wrong
    # an error in the learner's code still shows the learner's line that raised it
    assert "----> 2     return x / {}[2]" in raising
    assert "your code raised KeyError" in raising


def test_rendered_traceback_without_ipython_shell_also_drops_the_check_frames() -> None:
    with pytest.raises(CheckFailed) as info:
        run_check(DOUBLE, lambda x: x + 2)  # this test's own line
    text = "".join(info.value._render_traceback_())
    assert "run_check(DOUBLE, lambda x: x + 2)  # this test's own line" in text
    assert "raise CheckFailed(" not in text and "course_lib/checks.py" not in text
    assert "CheckFailed: [double] case 'one value'" in text
    # the default formatting (what the hook replaces) does show the runner's line
    import traceback

    plain = "".join(traceback.format_exception(info.value))
    assert "raise CheckFailed(" in plain
