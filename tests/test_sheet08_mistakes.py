"""Sheet 08 (RMSprop and its relatives): right answers pass, each known mistake is named.

The reference answers below are written here from the papers' equations (Kingma & Ba 2015,
Reddi et al. 2018, Zeiler 2012), independently of the solution notebook; the comparators
compute their expected values from course_lib.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from course_lib.cases import Case, Mismatch, build, mistake_message, sheet_exercises
from course_lib.cases.sheet08 import EXERCISES, valley_start
from course_lib.checks import CheckFailed


def judge(exercise_id, answer, cases):
    """Every case through the comparator the way the runner does (call or value)."""
    exercise = EXERCISES[exercise_id]
    for case in cases:
        built = Case(case.label, build(case.args), build(case.kwargs))
        got = answer if exercise.mode == "value" else answer(*built.args, **built.kwargs)
        exercise.compare(built, got, None)


def all_cases(exercise_id, draws=3):
    exercise = EXERCISES[exercise_id]
    cases = list(exercise.public())
    for seed in range(draws):
        cases += exercise.hidden(np.random.default_rng(seed))
    return cases


def test_the_sheet_is_found_by_its_prefix_and_every_case_exercise_has_hidden_cases():
    assert sheet_exercises("08_rmsprop_and_relatives") == EXERCISES
    assert len(EXERCISES) == 7
    for exercise in EXERCISES.values():
        if exercise.mode != "explain":
            assert exercise.public() and exercise.hidden is not None
            assert all(case.hidden for case in exercise.hidden(np.random.default_rng(0)))
        assert exercise.lesson.startswith("lesson 08")


# --- sweep_best_lr ----------------------------------------------------------------------------

def sweep_best_lr(lrs, scores):
    lrs, scores = np.asarray(lrs, float), np.asarray(scores, float)
    ok = np.isfinite(scores)
    if not ok.any():
        return None, None
    best = np.min(scores[ok])
    winners = lrs[ok & (scores == best)]
    if np.min(lrs) in winners:
        return float(np.min(winners)), "low"
    if np.max(lrs) in winners:
        return float(np.min(winners)), "high"
    return float(np.min(winners)), None


def test_sweep_right_answer_passes_public_and_hidden():
    judge("sweep_best_lr", sweep_best_lr, all_cases("sweep_best_lr", draws=10))


def test_sweep_nan_picked_as_best_is_named():
    def argmin(lrs, scores):
        i = int(np.argmin(scores))                      # NaN wins np.argmin
        return float(lrs[i]), sweep_best_lr(lrs, scores)[1]

    assert "NaN" in mistake_message(EXERCISES["sweep_best_lr"], argmin)


def test_sweep_edge_never_reported_is_named():
    def no_edge(lrs, scores):
        return sweep_best_lr(lrs, scores)[0], None

    assert "edge of the searched range" in mistake_message(EXERCISES["sweep_best_lr"], no_edge)


def test_sweep_edge_by_position_is_named():
    def by_position(lrs, scores):
        best, _ = sweep_best_lr(lrs, scores)
        if best is None:
            return None, None
        return best, "low" if best == lrs[0] else "high" if best == lrs[-1] else None

    message = mistake_message(EXERCISES["sweep_best_lr"], by_position)
    assert "not in order" in message and "smallest and the largest learning rate" in message


def test_sweep_plateau_tie_missed_is_named():
    def first_tie_only(lrs, scores):
        best, _ = sweep_best_lr(lrs, scores)
        if best is None:
            return None, None
        return best, "low" if best == np.min(lrs) else "high" if best == np.max(lrs) else None

    message = mistake_message(EXERCISES["sweep_best_lr"], first_tie_only)
    assert "plateau" in message and "a tie counts" in message


def test_sweep_argmax_index_and_all_failed_are_named():
    def argmax(lrs, scores):
        s = np.where(np.isfinite(scores), scores, -np.inf)
        return float(lrs[int(np.argmax(s))]), None

    def index(lrs, scores):
        best, edge = sweep_best_lr(lrs, scores)
        return (None if best is None else int(np.flatnonzero(lrs == best)[0])), edge

    def never_none(lrs, scores):
        best, edge = sweep_best_lr(lrs, scores)
        return (float(lrs[0]) if best is None else best), edge

    exercise = EXERCISES["sweep_best_lr"]
    assert "take the minimum" in mistake_message(exercise, argmax)
    assert "not its position" in mistake_message(exercise, index)
    assert "(None, None)" in mistake_message(exercise, never_none)


# --- amsgrad_step -----------------------------------------------------------------------------

def amsgrad_step(p, g, m, v, v_max, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    v_max = np.maximum(v_max, v)
    m_hat, v_hat = m / (1 - beta1**t), v_max / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, v_max


def test_amsgrad_right_answer_passes_and_matches_torch_style_course_lib():
    from course_lib.objectives import Rosenbrock
    from course_lib.optim import Adam

    judge("amsgrad_step", amsgrad_step, all_cases("amsgrad_step"))
    rosen, p, q = Rosenbrock(), np.array([-1.5, 2.0]), np.array([-1.5, 2.0])
    m = v = v_max = np.zeros(2)
    reference = Adam(lr=0.05, amsgrad=True)
    for t in range(1, 101):
        p, m, v, v_max = amsgrad_step(p, rosen.grad(p), m, v, v_max, t, 0.05)
        reference.step(q, rosen.grad(q))
    assert np.allclose(p, q, rtol=1e-12, atol=1e-14)


def _amsgrad_variant(**kw):
    def step(p, g, m, v, v_max, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * g**2
        top = np.maximum(v_max, v if kw.get("old") else v_new)
        if kw.get("plain"):
            top = v_new
        tt = t - 1 if kw.get("shift") else t
        c1, c2 = (1.0, 1.0) if kw.get("uncorrected") else (1 - beta1**tt, 1 - beta2**tt)
        with np.errstate(all="ignore"):
            d = np.sqrt(top / c2 + eps) if kw.get("inside") else np.sqrt(top / c2) + eps
            return p - lr * (m_new / c1) / d, m_new, v_new, top
    return step


@pytest.mark.parametrize("variant, text", [
    ({"old": True}, "NEW v"),
    ({"plain": True}, "plain Adam"),
    ({"uncorrected": True}, "keep the bias corrections"),
    ({"shift": True}, "already counts from 1"),
    ({"inside": True}, "eps outside the square root"),
])
def test_amsgrad_known_mistakes_are_named(variant, text):
    assert text in mistake_message(EXERCISES["amsgrad_step"], _amsgrad_variant(**variant))


def test_amsgrad_corrected_max_fixed_beta_and_in_place_are_named():
    def corrected_max(p, g, m, v, v_max, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_max = np.maximum(v_max, v / (1 - beta2**t))
        return p - lr * (m / (1 - beta1**t)) / (np.sqrt(v_max) + eps), m, v, v_max

    def fixed_beta(p, g, m, v, v_max, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        return amsgrad_step(p, g, m, v, v_max, t, lr, 0.9, beta2, eps)

    def in_place(p, g, m, v, v_max, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        new = amsgrad_step(p, g, m, v, v_max, t, lr, beta1, beta2, eps)
        p -= p - new[0]
        return p, *new[1:]

    exercise = EXERCISES["amsgrad_step"]
    assert "raw v (as torch does)" in mistake_message(exercise, corrected_max)
    assert "not a fixed 0.9" in mistake_message(exercise, fixed_beta)
    assert "in-place update" in mistake_message(exercise, in_place)


# --- adam_step_count (run_adam) ---------------------------------------------------------------

def run_adam(objective, x0, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8, t_of=lambda k: k + 1,
             correct=(True, True)):
    p = np.array(x0, dtype=float)
    m, v = np.zeros_like(p), np.zeros_like(p)
    points = [p.copy()]
    with np.errstate(all="ignore"):
        for k in range(steps):
            g, t = objective.grad(p), t_of(k)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat = m / (1 - beta1**t) if correct[0] else m
            v_hat = v / (1 - beta2**t) if correct[1] else v
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
            points.append(p.copy())
    return np.array(points)


def test_run_adam_fixed_passes_public_and_hidden():
    judge("adam_step_count", run_adam, all_cases("adam_step_count"))


@pytest.mark.parametrize("variant, text", [
    ({"t_of": lambda k: k}, "behaves like the code you were given: every point after"),
    ({"correct": (False, False)}, "removing the bias correction hides the nan"),
    ({"correct": (True, False)}, "only one of them is corrected"),
    ({"correct": (False, True)}, "only one of them is corrected"),
    ({"t_of": lambda k: max(k, 1)}, "steps 1 and 2 the same t"),
    ({"t_of": lambda k: k + 2}, "one too large"),
])
def test_run_adam_known_mistakes_are_named(variant, text):
    def answer(*args, **kwargs):
        return run_adam(*args, **kwargs, **variant)

    assert text in mistake_message(EXERCISES["adam_step_count"], answer)


# --- adadelta_numerator (adadelta_step) -------------------------------------------------------

def adadelta_step(p, g, v, u, lr=1.0, beta=0.9, eps=1e-6, top="inside", u_with_lr=False):
    v = beta * v + (1 - beta) * g * g
    numerator = {"inside": np.sqrt(u + eps), "none": np.sqrt(u), "outside": np.sqrt(u) + eps,
                 "lr": 1.0}[top]
    delta = numerator / np.sqrt(v + eps) * g
    u = beta * u + (1 - beta) * (lr * delta if u_with_lr else delta) ** 2
    return p - lr * delta, v, u


def test_adadelta_fixed_passes_and_agrees_with_course_lib_over_many_steps():
    from course_lib.objectives import Rosenbrock
    from course_lib.optim import Adadelta

    judge("adadelta_numerator", adadelta_step, all_cases("adadelta_numerator"))
    rosen, p, q = Rosenbrock(), np.array([-1.5, 2.0]), np.array([-1.5, 2.0])
    v = u = np.zeros(2)
    reference = Adadelta(lr=0.7, beta=0.95)
    for _ in range(200):
        p, v, u = adadelta_step(p, rosen.grad(p), v, u, lr=0.7, beta=0.95)
        reference.step(q, rosen.grad(q))
    assert np.allclose(p, q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("variant, text", [
    ({"top": "none"}, "behaves like the code you were given: from u = 0"),
    ({"top": "outside"}, "inside both roots"),
    ({"top": "lr"}, "that is RMSprop's step"),
    ({"u_with_lr": True}, "before torch's multiplier lr"),
])
def test_adadelta_known_mistakes_are_named(variant, text):
    def answer(p, g, v, u, lr=1.0, beta=0.9, eps=1e-6):
        return adadelta_step(p, g, v, u, lr, beta, eps, **variant)

    assert text in mistake_message(EXERCISES["adadelta_numerator"], answer)


# --- predict_adadelta_step --------------------------------------------------------------------

def test_predict_right_value_passes_with_its_gap_printed(capsys):
    from course_lib.cases import run_check

    right = float(np.sqrt(1e-6 / 0.05))                 # sqrt(eps / (1 - beta)), by hand
    judge("predict_adadelta_step", right, all_cases("predict_adadelta_step"))
    judge("predict_adadelta_step", 1.08 * right, EXERCISES["predict_adadelta_step"].public())
    run_check(EXERCISES["predict_adadelta_step"], 0.0045)
    out = capsys.readouterr().out
    assert "passed: 1/1" in out and "You predicted 0.0045; measured 0.004472" in out


@pytest.mark.parametrize("value, text", [
    (1.0, "torch's multiplier"),
    (40.0, "gradient-descent step"),
    (1e-3, "not |g|"),
    (4.47, "RMSprop's first step"),
    (2.2e-4, "(1 - beta) divides"),
    (3.16e-3, "beta = 0.9"),
])
def test_predict_typical_wrong_values_are_explained(value, text):
    message = mistake_message(EXERCISES["predict_adadelta_step"], value)
    assert text in message and "0.004472" in message


def test_predict_not_a_number():
    assert "one number" in mistake_message(EXERCISES["predict_adadelta_step"], "0.004", level=2)


# --- tune_adam_valley -------------------------------------------------------------------------

GOOD = [{"lr": 1.0, "beta1": 0.7, "beta2": 0.9999}, {"lr": 1.5, "beta1": 0.65, "beta2": 0.999},
        {"lr": 2.0, "beta1": 0.7, "beta2": 0.999}, {"lr": 0.8, "beta1": 0.5, "beta2": 0.999},
        {"lr": 3.0, "beta1": 0.75, "beta2": 0.9999}]


def test_valley_starts_are_on_the_level_set():
    from course_lib.objectives import rotated_quadratic

    valley = rotated_quadratic(25.0, 45.0)
    assert all(abs(valley.f(valley_start(s)) - 50.0) < 1e-9 for s in range(10))


@pytest.mark.parametrize("setting", GOOD)
def test_tune_a_region_of_good_settings_passes_public_and_hidden(setting):
    judge("tune_adam_valley", setting, all_cases("tune_adam_valley", draws=2))


def test_tune_comment_reports_the_arrival_step():
    from course_lib.cases.sheet08 import tune_comment

    note = tune_comment(EXERCISES["tune_adam_valley"].public()[0], GOOD[1])
    assert note.startswith("Your setting arrived") and "the lesson's five starts" in note


@pytest.mark.parametrize("setting, text", [
    ({"lr": 1e-3}, "too much momentum"),                            # the defaults
    ({"lr": 0.66, "beta1": 0.9, "beta2": 0.999}, "too much momentum"),  # default betas, tuned lr
    ({"lr": 1.0, "beta1": 0.7, "beta2": 0.9}, "short second-moment memory"),
    ({"lr": 500.0, "beta1": 0.0, "beta2": 0.9999}, "far too large"),
])
def test_tune_default_and_bad_settings_fail_with_a_reason(setting, text):
    assert text in mistake_message(EXERCISES["tune_adam_valley"], setting)


def test_tune_malformed_answers_say_what_is_wanted():
    exercise = EXERCISES["tune_adam_valley"]
    assert "a dict" in mistake_message(exercise, 0.1)
    assert "'momentum'" in mistake_message(exercise, {"lr": 1.0, "momentum": 0.5})
    assert "beta1" in mistake_message(exercise, {"lr": 1.0, "beta1": 1.5}, level=2)
    assert "not torch's betas" in mistake_message(exercise, {"lr": 1.0, "betas": (0.7, 0.999)})
    assert "as a number" in mistake_message(exercise, {"lr": "fast"}, level=2)


# --- the runner end to end --------------------------------------------------------------------

def test_check_in_a_namespace_finds_the_answer_and_levels_add_help():
    from course_lib.cases import run_check
    from course_lib.cases._runner import FAILURES

    exercise = EXERCISES["adadelta_numerator"]

    def broken(p, g, v, u, lr=1.0, beta=0.9, eps=1e-6):
        return adadelta_step(p, g, v, u, lr, beta, eps, top="none")

    FAILURES.pop(exercise.id, None)
    texts = []
    for _ in range(3):
        with pytest.raises(CheckFailed) as info:
            run_check(exercise, broken)
        texts.append(str(info.value))
    assert "Known mistake: this still behaves like" in texts[0] and "Hint" not in texts[0]
    assert "eps" not in texts[0]                        # the shipped bug's message: no fix
    assert "Hint" in texts[1] and "section 6" in texts[2]
    run_check(exercise, adadelta_step)
    assert exercise.id not in FAILURES


def test_mismatch_carries_the_mistake_apart_from_the_hint():
    exercise = EXERCISES["sweep_best_lr"]
    case = exercise.public()[1]
    with pytest.raises(Mismatch) as info:
        exercise.compare(case, (0.3, None), None)
    assert info.value.mistake and "edge" in info.value.mistake and info.value.hint


@pytest.mark.parametrize("exercise_id, name, text", [
    ("adam_step_count", "run_adam", "behaves like the code you were given: every point after"),
    ("adadelta_numerator", "adadelta_step", "behaves like the code you were given: from u = 0"),
])
def test_the_shipped_broken_code_is_named_by_its_bug(exercise_id, name, text):
    import nbformat

    from course_tools.sheet_format import course_meta

    path = Path(__file__).resolve().parent.parent / "exercises" / "08_rmsprop_and_relatives.ipynb"
    sheet = nbformat.read(path, as_version=4)
    cell = next(c for c in sheet.cells if course_meta(c).get("exercise") == exercise_id)
    namespace = {"np": np}
    exec(cell.source, namespace)                        # the code as the learner receives it
    with np.errstate(all="ignore"):
        assert text in mistake_message(EXERCISES[exercise_id], namespace[name])


@pytest.mark.parametrize("lr", np.logspace(-3, 2, 16))
def test_tune_the_default_betas_fail_at_every_learning_rate(lr):
    assert "expected f < 1e-06" in mistake_message(EXERCISES["tune_adam_valley"], {"lr": lr})
