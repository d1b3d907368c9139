"""Sheet 09 (RMSprop in PyTorch): right answers pass, every known mistake gets its message.

The reference answers below are written here, independently of the solutions notebook; the
expected values the comparators use come from course_lib and torch.optim.RMSprop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_lib.cases import Case, build, mistake_message, resolve_via  # noqa: E402
from course_lib.cases.sheet09 import EXERCISES, FIRST_STEP_KEYS, first_step_measured  # noqa: E402
from course_lib.torch_harness import run_optimizer, run_torch_rmsprop  # noqa: E402

F64 = torch.float64


def _got(exercise, answer, case: Case):
    if exercise.mode == "value":
        return answer
    args, kwargs = build(case.args), build(case.kwargs)
    if exercise.via:
        return resolve_via(exercise.via)(answer, *args, **kwargs)
    return answer(*args, **kwargs)


def _cases(exercise, seeds=(0, 1, 2)):
    found = list(exercise.public())
    for seed in seeds:
        found += exercise.hidden(np.random.default_rng(seed)) if exercise.hidden else []
    return found


def assert_passes(exercise_id, answer, seeds=(0, 1, 2)):
    exercise = EXERCISES[exercise_id]
    for case in _cases(exercise, seeds):
        exercise.compare(Case(case.label, build(case.args), build(case.kwargs)),
                         _got(exercise, answer, case), None)


def message(exercise_id, answer) -> str:
    """The level-1 message of the first failing public case."""
    return mistake_message(EXERCISES[exercise_id], answer)


# --- train_xlogx ------------------------------------------------------------------------------

def train_xlogx(x0, lr, steps, alpha=0.99, *, zero_grad=True, dtype=F64, store="item",
                with_start=False, loss_after=False, pass_alpha=True):
    x = torch.tensor([float(x0)], dtype=dtype, requires_grad=True)
    optimizer = torch.optim.RMSprop([x], lr=lr, **({"alpha": alpha} if pass_alpha else {}))
    xs, losses = ([x.item()] if with_start else []), []
    for _ in range(steps):
        if zero_grad:
            optimizer.zero_grad()
        loss = (x / torch.log(x)).sum()
        loss.backward()
        optimizer.step()
        losses.append((x / torch.log(x)).item() if loss_after else loss.item())
        xs.append({"item": x.item(), "detach": x.detach(), "tensor": x}[store])
    return xs, losses


def test_train_xlogx_right_answer_passes():
    assert_passes("train_xlogx", train_xlogx)


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"zero_grad": False}, "gradients accumulate"),
    ({"store": "detach"}, "every entry is the final x"),
    ({"store": "tensor"}, "every entry is the final x"),
    ({"pass_alpha": False}, "pass alpha"),
    ({"dtype": torch.float32}, "compute in float64"),
    ({"with_start": True}, "should not include the start"),
    ({"loss_after": True}, "off by one step"),
])
def test_train_xlogx_mistakes_are_named(kwargs, text):
    assert text in message("train_xlogx", lambda *a, **k: train_xlogx(*a, **k, **kwargs))


def test_train_xlogx_may_return_tensors_or_arrays():
    def as_tensors(*args, **kwargs):
        xs, losses = train_xlogx(*args, **kwargs)
        return torch.tensor(xs, dtype=F64), np.array(losses)

    assert_passes("train_xlogx", as_tensors, seeds=(0,))
    assert "to be a list of 10 floats" in message("train_xlogx", lambda *a, **k: ("x", []))


def test_train_xlogx_matches_the_lesson_run():
    # torch in float32 printed 361.0000 after the first step (lesson 09, section 1.1)
    xs, _ = train_xlogx(364.0, 0.3, 1, dtype=torch.float32)
    assert f"{xs[0]:.4f}" == "361.0000"


# --- fit_line ---------------------------------------------------------------------------------

def fit_line(xs, ys, lr, steps, alpha=0.99, *, where="start"):
    x, y = torch.tensor(xs, dtype=F64), torch.tensor(ys, dtype=F64)
    w = torch.zeros(1, dtype=F64, requires_grad=True)
    b = torch.zeros(1, dtype=F64, requires_grad=True)
    optimizer = torch.optim.RMSprop([w, b], lr=lr, alpha=alpha)
    losses = []
    if where == "outside":      # the sheet's broken version
        optimizer.zero_grad()
    for _ in range(steps):
        if where == "start":
            optimizer.zero_grad()
        loss = torch.mean((w * x + b - y) ** 2)
        loss.backward()
        if where == "before_step":
            optimizer.zero_grad()
        optimizer.step()
        if where == "end":
            optimizer.zero_grad()
        losses.append(loss.item())
    return {"losses": losses, "w": w.item(), "b": b.item()}


@pytest.mark.parametrize("where", ["start", "end"])
def test_fit_line_fixes_pass(where):
    assert_passes("fit_line", lambda *a, **k: fit_line(*a, **k, where=where))


@pytest.mark.parametrize(("where", "text"), [
    ("outside", "this still behaves like the code you were given: the loss falls for a few "
                "steps, then climbs back"),
    ("before_step", "w and b never move"),
])
def test_fit_line_mistakes_are_named(where, text):
    found = message("fit_line", lambda *a, **k: fit_line(*a, **k, where=where))
    assert text in found
    assert "zero_grad" not in found and "accumulate" not in found   # the fix is not given away


def test_fit_line_fixed_reaches_least_squares():
    x5, y5 = [0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 2.9, 5.1, 7.0, 9.1]
    fitted = fit_line(x5, y5, 0.1, 300)
    w, b = np.polyfit(x5, y5, 1)
    assert abs(fitted["w"] - w) < 0.05 and abs(fitted["b"] - b) < 0.1
    broken = fit_line(x5, y5, 0.1, 100, where="outside")["losses"]
    assert max(broken[50:]) > 100 * min(fit_line(x5, y5, 0.1, 100)["losses"][50:])


# --- line_setting (tune) ---------------------------------------------------------------------

def test_line_setting_good_settings_pass_on_public_and_hidden_data():
    for setting in ({"lr": 0.05, "alpha": 0.995}, {"lr": 0.03, "alpha": 0.999},
                    {"lr": 0.07, "alpha": 0.99}):
        assert_passes("line_setting", setting, seeds=range(5))


@pytest.mark.parametrize(("setting", "text"), [
    ({"lr": 0.01, "alpha": 0.99}, "these are torch's defaults"),
    ({"lr": 5.0, "alpha": 0.9}, "got within 0.001 and then left again"),
    ({"lr": 0.005, "alpha": 0.999}, "still on its way after 60 steps"),
    ({"lr": 1e300, "alpha": 0.9}, "the run diverged"),
    ({"lr": 0.05, "alpha": 1.0}, "must be in [0, 1)"),
    ({"lr": -0.05, "alpha": 0.99}, "lr must be a positive number"),
    ({"lr": 0.05}, "a dict with the keys 'lr' and 'alpha'"),
])
def test_line_setting_bad_settings_fail_with_the_reason(setting, text):
    assert text in message("line_setting", setting)


def test_line_setting_experiment_is_what_torch_does():
    # the comparator's experiment (course_lib, torch's rule) against a real torch run
    from course_lib.cases.sheet09 import line_data, line_excess

    xs, ys = line_data(4)
    losses = fit_line(xs, ys, 0.05, 61, alpha=0.995)["losses"]
    w, b = np.polyfit(xs, ys, 1)
    best = np.mean((w * np.array(xs) + b - np.array(ys)) ** 2)
    np.testing.assert_allclose(np.array(losses[1:]) - best, line_excess(4, 0.05, 0.995),
                               rtol=1e-9, atol=1e-12)


def test_line_setting_comment_reports_each_public_data_set():
    comment = EXERCISES["line_setting"].comment(None, {"lr": 0.05, "alpha": 0.995})
    assert comment.startswith("lr = 0.05, alpha = 0.995: data set 0: ")
    assert comment.count("above least squares") == 3


# --- first_steps ------------------------------------------------------------------------------

RIGHT_STEPS = {
    "torch, g = 1": 0.3 / (math.sqrt(0.01) + 1e-8),
    "keras, g = 1": 0.3 / math.sqrt(0.1 + 1e-7),
    "torch, g = 1e-4": 0.3e-4 / (math.sqrt(0.01 * 1e-8) + 1e-8),
    "keras, g = 1e-4": 0.3e-4 / math.sqrt(0.1 * 1e-8 + 1e-7),
}


def test_first_step_measurements_are_the_closed_forms_and_torch():
    for key, value in RIGHT_STEPS.items():
        assert first_step_measured(key) == pytest.approx(value, rel=1e-7)
    for g in (1.0, 1e-4):
        x = torch.zeros(1, dtype=F64, requires_grad=True)
        optimizer = torch.optim.RMSprop([x], lr=0.3)
        (g * x).sum().backward()
        optimizer.step()
        assert first_step_measured(f"torch, g = {g:g}") == pytest.approx(abs(x.item()), rel=1e-12)


def test_first_steps_right_prediction_passes_and_shows_the_gap():
    assert_passes("first_steps", RIGHT_STEPS)
    rounded = {"torch, g = 1": 3.0, "keras, g = 1": 0.95, "torch, g = 1e-4": 3.0,
               "keras, g = 1e-4": 0.094}
    assert_passes("first_steps", rounded)
    comment = EXERCISES["first_steps"].comment
    case = EXERCISES["first_steps"].public()[3]
    assert comment(case, rounded).splitlines()[3] == ("keras, g = 1e-4:  you predicted 0.094, "
                                                      "measured 0.0944 (gap 0.4%)")


@pytest.mark.parametrize(("change", "text"), [
    ({"torch, g = 1": 0.3}, "v starts at 0"),
    ({"torch, g = 1": 0.9487, "keras, g = 1": 3.0}, "other framework's decay"),
    ({"keras, g = 1e-4": 0.9487}, "inside the root"),
    ({"torch, g = 1e-4": 0.3e-4 / math.sqrt(0.01 * 1e-8 + 1e-8)}, "outside the root"),
    ({"torch, g = 1e-4": 3e-5}, "does not scale with g"),
])
def test_first_steps_wrong_predictions_are_named(change, text):
    assert text in message("first_steps", {**RIGHT_STEPS, **change})


def test_first_steps_needs_every_key():
    partial = {k: v for k, v in RIGHT_STEPS.items() if k != FIRST_STEP_KEYS[-1]}
    assert "a dict with the keys" in message("first_steps", partial)


# --- momentum_rmsprop -------------------------------------------------------------------------

def make_class(mistake=None):
    """A learner's MomentumRMSprop, right or with one mistake (written independently)."""

    class MomentumRMSprop(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-2, *, beta=0.99, eps=1e-8, momentum=0.0):
            super().__init__(params, {"lr": lr, "beta": beta, "eps": eps, "momentum": momentum})

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                lr = self.defaults["lr"] if mistake == "defaults_lr" else group["lr"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g, state = p.grad, self.state[p]
                    if not state or mistake == "state_reset":
                        state["square_avg"] = torch.zeros_like(p)
                        state["momentum_buffer"] = torch.zeros_like(p)
                    v, buf = state["square_avg"], state["momentum_buffer"]
                    if mistake == "no_one_minus_beta":
                        v.mul_(group["beta"]).addcmul_(g, g)
                    else:
                        v.mul_(group["beta"]).addcmul_(g, g, value=1 - group["beta"])
                    if mistake == "eps_inside":
                        d = v.add(group["eps"]).sqrt()
                    else:
                        d = v.sqrt().add_(group["eps"])
                    if mistake == "no_momentum":
                        p.addcdiv_(g, d, value=-lr)
                    elif mistake == "lr_in_buffer":
                        buf.mul_(group["momentum"]).addcdiv_(g, d, value=lr)
                        p.sub_(buf)
                    elif mistake == "rebind":
                        buf.mul_(group["momentum"]).addcdiv_(g, d)
                        p = p - lr * buf  # noqa: PLW2901 - the mistake under test
                    else:
                        buf.mul_(group["momentum"]).addcdiv_(g, d)
                        p.add_(buf, alpha=-lr)

    return MomentumRMSprop


def test_momentum_rmsprop_right_class_passes():
    assert_passes("momentum_rmsprop", make_class())


def test_the_harness_agrees_with_torch_for_a_right_class():
    # parity of the harness itself: an independent class against torch.optim.RMSprop
    kwargs = {"problem": "network", "seed": 7, "steps": 40, "lr": 0.01,
              "hyper": {"beta": 0.9, "momentum": 0.9}, "schedule": {"step_size": 10,
                                                                     "gamma": 0.5}}
    ours, theirs = run_optimizer(make_class(), **kwargs), run_torch_rmsprop(**kwargs)
    assert ours["params"].shape == (41, 17)
    np.testing.assert_allclose(ours["params"], theirs["params"], rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(ours["lrs"], theirs["lrs"])
    assert theirs["lrs"][-1, 0] == 0.01 * 0.5**3
    assert theirs["losses"][-1] < theirs["losses"][0]


@pytest.mark.parametrize(("mistake", "text"), [
    ("eps_inside", "eps outside the root"),
    ("no_one_minus_beta", "weighted by (1 - beta)"),
    ("defaults_lr", "group['lr']"),
    ("lr_in_buffer", "lr out of the buffer"),
    ("no_momentum", "use the group's momentum"),
    ("state_reset", "self.state[p]"),
    ("rebind", "never move"),
])
def test_momentum_rmsprop_mistakes_are_named(mistake, text):
    assert text in message("momentum_rmsprop", make_class(mistake))


def test_the_unused_tensor_is_skipped_and_a_class_that_does_not_skip_fails():
    result = run_torch_rmsprop(problem="quadratic", seed=0, steps=3)
    assert np.array_equal(result["params"][:, 5:], np.ones((4, 2)))   # never moved

    class NoSkip(make_class()):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(group["lr"] * p.grad)

    with pytest.raises(TypeError):
        run_optimizer(NoSkip, problem="quadratic", seed=0, steps=3)


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"problem": "mnist"}, "problem must be one of"),
    ({"steps": 0}, "steps must be an int from 1 to 500, got 0"),
    ({"lr": -1.0}, "lr must be a positive number, got -1.0"),
    ({"group_lrs": [0.1]}, "group_lrs must be None or two learning rates"),
    ({"schedule": {"step_size": 2}}, "schedule must be None or"),
])
def test_harness_bad_input_names_the_argument(kwargs, text):
    with pytest.raises(ValueError, match=text.replace("(", r"\(")):
        run_optimizer(make_class(), **kwargs)


# --- the sheet as a whole ---------------------------------------------------------------------

def test_every_exercise_is_defined_with_its_mode():
    assert list(EXERCISES) == ["train_xlogx", "fit_line", "line_setting", "first_steps",
                               "momentum_rmsprop", "float32_verdict"]
    assert EXERCISES["line_setting"].mode == "value"
    assert EXERCISES["first_steps"].mode == "value"
    assert EXERCISES["float32_verdict"].mode == "explain"
    assert EXERCISES["float32_verdict"].public() == []
    assert EXERCISES["momentum_rmsprop"].via == "course_lib.torch_harness.run_optimizer"
    for exercise in EXERCISES.values():
        assert "09_rmsprop_in_pytorch.ipynb" in exercise.lesson


def test_help_levels_reach_the_lesson_pointer():
    wrong = make_class("eps_inside")
    third = mistake_message(EXERCISES["momentum_rmsprop"], wrong, level=3)
    assert "Known mistake: torch adds eps outside the root" in third
    assert "Hint: follow torch's rule" in third
    assert third.endswith("See lesson 09, section 5.1 (The class): "
                          "../notebooks/09_rmsprop_in_pytorch.ipynb.")


def test_an_unwritten_step_is_not_attempted():
    from course_lib.cases import run_check
    from course_lib.checks import NotAttempted

    class Unwritten(make_class()):
        @torch.no_grad()
        def step(self, closure=None):
            raise NotAttempted("momentum_rmsprop")

    with pytest.raises(NotAttempted):
        run_check(EXERCISES["momentum_rmsprop"], Unwritten)
