"""The exercise framework of issue 10: kinds, levelled help, `check("id")`, written answers
with a sealed model answer, diagnose cells that ship broken code, and plain-data harnesses.

The exercises used here are made up for the test (a tiny sheet's worth), so these tests do not
change when a sheet's exercises do.
"""

from __future__ import annotations

import types
from typing import Any

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib.cases import (
    MIN_WORDS,
    PLACEHOLDER,
    Case,
    Exercise,
    Mismatch,
    _runner,
    mistake_message,
    run_check,
    seal,
    unseal,
    written_text,
)
from course_lib.cases import _compare as c
from course_lib.checks import CheckFailed, NotAttempted, check
from course_tools.inside import codec
from course_tools.sheet_format import (
    SheetError,
    answer_string,
    exercises_of,
    replace_code_regions,
    shipped_answer,
    source_digest,
    untouched,
    written_answer,
)
from course_tools.sheets import exercise_notebook, summarize


def _double_compare(case: Case, got: Any, after: tuple | None) -> None:
    (x,) = case.args

    def diagnose(a: np.ndarray) -> str | None:
        return "you added instead of multiplying" if c.same(a, x + 2) else None

    c.close(got, 2 * x, "y", "multiply the input by two", diagnose=diagnose)


DOUBLE = Exercise("double", lambda: [Case("x = 3", (np.array([3.0]),))], _double_compare,
                  lesson="lesson 02, section 1")


# --- levelled help ------------------------------------------------------------------------

def test_first_failure_shows_the_case_and_the_known_mistake_but_not_the_hint() -> None:
    message = mistake_message(DOUBLE, lambda x: x + 2)
    assert "case 'x = 3'" in message and "expected y = [6], got y = [5]" in message
    assert "Known mistake: you added instead of multiplying." in message
    assert "Hint:" not in message and "lesson 02" not in message


def test_help_grows_with_each_repeated_failure_and_resets_on_a_pass() -> None:
    texts = []
    for _ in range(3):
        with pytest.raises(CheckFailed) as info:
            run_check(DOUBLE, lambda x: x * 3)
        texts.append(str(info.value))
    assert "Hint:" not in texts[0] and "a second failure adds a hint" in texts[0]
    assert "Hint: multiply the input by two." in texts[1] and "See" not in texts[1]
    assert texts[2].endswith("See lesson 02, section 1.")
    run_check(DOUBLE, lambda x: 2 * x)
    assert "double" not in _runner.FAILURES
    with pytest.raises(CheckFailed) as info:
        run_check(DOUBLE, lambda x: x * 3)
    assert "Hint:" not in str(info.value)


def test_mistake_message_refuses_a_right_answer() -> None:
    with pytest.raises(AssertionError, match="passed every public case"):
        mistake_message(DOUBLE, lambda x: 2 * x)


def test_values_that_differ_past_six_digits_are_shown_with_more() -> None:
    # eps inside vs outside the root: equal to 6 digits, so both are shown with 10
    expected, got = np.array([361.0001]), np.array([361.0003])
    with pytest.raises(Mismatch) as info:
        c.close(got, expected, "p", "hint")
    assert info.value.expected != info.value.got.replace("got", "expected")
    assert "361.0001" in info.value.expected and "361.0003" in info.value.got


# --- check("id") ----------------------------------------------------------------------------

def _call_check_from(namespace: dict, exercise_id: str, **kwargs: Any) -> None:
    """Call check() the way a notebook cell does: from code whose globals are the notebook's."""
    code = compile(f"check({exercise_id!r}, **kwargs)", "<cell>", "exec")
    exec(code, {**namespace, "check": check, "kwargs": kwargs})  # noqa: S102


@pytest.fixture
def tiny_course(monkeypatch) -> None:
    """check() finds this file's exercises instead of the course's."""
    exercises = {"double": DOUBLE, "tiny_explain": EXPLAIN}
    monkeypatch.setattr("course_lib.cases.find_exercise", exercises.get)


def test_check_before_the_answer_cell_ran_says_run_it_first(tiny_course) -> None:
    with pytest.raises(NotAttempted) as info:
        _call_check_from({}, "double")
    assert "`double` is not defined yet: run the answer cell above first" in str(info.value)
    assert info.value.exercise_id == "double"


def test_check_finds_the_answer_by_name_in_the_notebook(tiny_course, capsys) -> None:
    _call_check_from({"double": lambda x: 2 * x}, "double")
    assert capsys.readouterr().out == "[double] passed: 1/1 cases\n"


def test_check_finds_the_real_course_exercises() -> None:
    from course_lib.cases import all_exercises, find_exercise

    everything = all_exercises()
    assert len(everything) >= 10
    some = sorted(everything)[0]
    assert find_exercise(some) is everything[some]


def test_check_of_an_unknown_exercise_names_the_argument(tiny_course) -> None:
    with pytest.raises(ValueError, match="exercise_id must be the id of one of the course's"):
        check("no_such_exercise")


# --- written answers with a sealed model answer --------------------------------------------

EXPLAIN = Exercise("tiny_explain", mode="explain")
MODEL = "The model answer explains the point in a sentence that is long enough to count here."


def test_seal_round_trips_and_hides_the_text() -> None:
    sealed = seal(MODEL)
    assert unseal(sealed) == MODEL and "model answer" not in sealed


def test_written_text_drops_markers_and_placeholder() -> None:
    assert written_text(f"\n{PLACEHOLDER}\n") == ""
    assert written_text("\n# BEGIN SOLUTION\nSome text.\n# END SOLUTION\n") == "Some text."


@pytest.mark.parametrize("words", [0, MIN_WORDS - 1])
def test_model_answer_stays_hidden_until_the_learner_has_written(words: int, tiny_course,
                                                                 capsys) -> None:
    text = " ".join(["word"] * words) or PLACEHOLDER
    with pytest.raises(NotAttempted, match="write your answer"):
        _call_check_from({"tiny_explain": text}, "tiny_explain", sealed=seal(MODEL))
    assert MODEL not in capsys.readouterr().out


def test_model_answer_is_revealed_after_enough_words(tiny_course, monkeypatch, capsys) -> None:
    monkeypatch.setattr("IPython.display.display", lambda obj: print(obj.data))
    text = " ".join(["because"] * MIN_WORDS)
    _call_check_from({"tiny_explain": text}, "tiny_explain", sealed=seal(MODEL))
    out = capsys.readouterr().out
    assert f"[tiny_explain] written: {MIN_WORDS} words (graded by hand)" in out
    assert MODEL in out


def test_a_written_answer_that_is_not_text_is_refused(tiny_course) -> None:
    with pytest.raises(CheckFailed, match="your answer as text between triple quotes"):
        _call_check_from({"tiny_explain": 42}, "tiny_explain")


# --- the sheet format: kinds, broken code, written answers in code cells ------------------

BROKEN_CELL = """def double(x):
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION
    # BEGIN BROKEN
    # return x + 2
    # END BROKEN"""


def test_a_diagnose_cell_ships_the_broken_code_runnable() -> None:
    shipped = shipped_answer(BROKEN_CELL, "double", "diagnose")
    assert shipped == "def double(x):\n    return x + 2"
    namespace: dict = {}
    exec(shipped, namespace)  # noqa: S102
    assert namespace["double"](3) == 5


def test_an_explain_cell_ships_the_placeholder_inside_the_string() -> None:
    source = f'tiny_explain = """\n# BEGIN SOLUTION\n{MODEL}\n# END SOLUTION\n"""'
    shipped = shipped_answer(source, "tiny_explain", "explain")
    assert shipped == f'tiny_explain = """\n{PLACEHOLDER}\n"""'
    assert answer_string(shipped) == f"\n{PLACEHOLDER}\n" and written_answer(shipped) == ""
    assert written_answer(source) == MODEL


@pytest.mark.parametrize(("source", "message"), [
    ("# BEGIN BROKEN\n# x\n# BEGIN SOLUTION\nx\n# END SOLUTION", "inside another region"),
    ("# END BROKEN", "without # BEGIN BROKEN"),
    ("# BEGIN SOLUTION\nx\n# END SOLUTION\n# BEGIN BROKEN\n# y", "never closed"),
])
def test_unbalanced_broken_markers_are_refused(source: str, message: str) -> None:
    with pytest.raises(SheetError, match=message):
        replace_code_regions(source, "double")


def _tiny_sheet() -> nbformat.NotebookNode:
    answer = {"course": {"role": "answer", "exercise": "double"}}
    written = {"course": {"role": "answer", "exercise": "tiny_explain"}}
    nb = new_notebook(cells=[
        new_markdown_cell("# Exercises 0: tiny"),
        new_code_cell("from course_lib.checks import NotAttempted, check"),
        new_code_cell(BROKEN_CELL, metadata=answer),
        new_code_cell('check("double")', metadata={"course": {
            "role": "check", "exercise": "double", "points": 2, "kind": "diagnose"}}),
        new_code_cell(f'tiny_explain = """\n# BEGIN SOLUTION\n{MODEL}\n# END SOLUTION\n"""',
                      metadata=written),
        new_code_cell('check("tiny_explain")', metadata={"course": {
            "role": "check", "exercise": "tiny_explain", "points": 1, "kind": "explain"}}),
    ])
    nb.metadata["course"] = {"sheet": "00_tiny", "title": "Exercises: tiny"}
    return nb


def test_kinds_come_from_the_check_cells_and_explain_is_graded_by_hand() -> None:
    found = {e.id: (e.kind, e.task) for e in exercises_of(_tiny_sheet())}
    assert found == {"double": ("check", "diagnose"), "tiny_explain": ("written", "explain")}


def test_an_unknown_kind_is_refused() -> None:
    nb = _tiny_sheet()
    nb.cells[3].metadata["course"]["kind"] = "guess"
    with pytest.raises(SheetError, match="course.kind must be one of"):
        exercises_of(nb)


def test_the_builder_seals_the_model_answer_and_records_the_shipped_source(tmp_path) -> None:
    shipped = exercise_notebook(_tiny_sheet(), tmp_path / "00_tiny.ipynb")
    check_cell = shipped.cells[5].source
    assert check_cell.startswith('check("tiny_explain", sealed="') and MODEL not in check_cell
    assert unseal(check_cell.split('sealed="')[1].rstrip('")')) == MODEL
    assert MODEL not in nbformat.writes(shipped)
    for index in (2, 4):
        cell = shipped.cells[index]
        assert cell.metadata["course"]["shipped"] == source_digest(cell.source)
        assert untouched(cell)


def test_the_report_says_not_attempted_for_untouched_broken_code(tmp_path) -> None:
    shipped = exercise_notebook(_tiny_sheet(), tmp_path / "00_tiny.ipynb")
    results = {r.exercise: (r.status, r.task) for r in summarize(shipped)}
    assert results == {"double": ("not attempted", "diagnose"),
                       "tiny_explain": ("not attempted", "explain")}
    shipped.cells[2].source = "def double(x):\n    return 2 * x"
    shipped.cells[4].source = f'tiny_explain = """{MODEL}"""'
    assert not untouched(shipped.cells[2])
    statuses = {r.exercise: r.status for r in summarize(shipped)}
    assert statuses["double"] == "error"  # edited, but the check cell has not run
    assert statuses["tiny_explain"] == "answered"


# --- plain data: harnesses and tensors ------------------------------------------------------

def test_via_passes_the_answer_to_a_course_lib_function() -> None:
    seen = []
    fake = types.ModuleType("course_lib._fake_harness")
    fake.run = lambda answer, n: seen.append(answer) or answer(n)  # type: ignore[attr-defined]
    import sys

    sys.modules["course_lib._fake_harness"] = fake
    try:
        ex = Exercise("tiny_via", lambda: [Case("n = 4", (4,))],
                      lambda case, got, after: None if got == 8 else (_ for _ in ()).throw(
                          Mismatch("8", str(got), "double it")),
                      via="course_lib._fake_harness.run")
        run_check(ex, lambda n: 2 * n)
        assert len(seen) == 1
    finally:
        del sys.modules["course_lib._fake_harness"]


def test_via_must_name_a_course_lib_function() -> None:
    with pytest.raises(ValueError, match="via must name a course_lib function"):
        Exercise("tiny", lambda: [], _double_compare, via="os.system")


def test_a_torch_tensor_travels_as_its_values() -> None:
    torch = pytest.importorskip("torch")
    plain = codec.to_plain(torch.tensor([1.5, -2.0], dtype=torch.float64))
    back = codec.from_plain(plain)
    assert isinstance(back, np.ndarray) and back.tolist() == [1.5, -2.0]
    assert back.dtype == np.float64


def test_a_comment_is_only_for_value_exercises() -> None:
    with pytest.raises(ValueError, match="needs mode='value'"):
        Exercise("tiny", lambda: [], _double_compare, comment=lambda case, got: "gap")


def test_the_shared_setting_parsers_name_what_is_wrong() -> None:
    assert c.lr_setting({"lr": 0.5}) == 0.5
    assert c.one_setting({"beta": 0.9}, "beta", "decay rate") == 0.9
    for bad, text in [({"lr": 0.5, "eps": 1.0}, "a dict {'lr': <a number>}"),
                      (0.5, "a dict {'lr': <a number>}"),
                      ({"lr": -1.0}, "a positive, finite learning rate"),
                      ({"lr": float("inf")}, "a positive, finite learning rate")]:
        with pytest.raises(Mismatch, match=text.replace("{", r"\{").replace("}", r"\}")):
            c.lr_setting(bad)
    cases = c.hidden_seed_cases(np.random.default_rng(0), first=5, n=4, stop=7)
    assert [case.hidden for case in cases] == [True] * 4
    assert all(5 <= case.args[0] < 7 for case in cases)
