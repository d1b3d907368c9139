"""course_lib.optim: closed-form steps, properties, state handling and argument checks.

Parity with the frameworks' own trajectories is in test_parity_*.py; here every expected value
comes from a formula worked out by hand.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.optim import SGD, Adadelta, AdaGrad, Adam, NonFiniteGradientError, RMSprop

ALL = [SGD, AdaGrad, RMSprop, Adadelta, Adam]


def make(cls, **kwargs):
    kwargs.setdefault("lr", 0.1)
    return cls(**kwargs)


# --- one step, in closed form ---------------------------------------------------------------


def test_rmsprop_first_step_overshoots_by_one_over_sqrt_one_minus_beta():
    # v_1 = (1 - beta) g^2, so the step is lr * g / (sqrt(1 - beta) |g|) = lr / sqrt(1 - beta).
    for beta in (0.9, 0.99):
        p = np.array([1.0, -2.0, 3.0])
        g = np.array([0.5, -40.0, 1e-3])
        RMSprop(lr=0.01, beta=beta, eps=0.0).step(p, g)
        expected = np.array([1.0, -2.0, 3.0]) - 0.01 * np.sign(g) / math.sqrt(1 - beta)
        np.testing.assert_allclose(p, expected, rtol=1e-14)


def test_rmsprop_eps_inside_and_outside_the_square_root():
    g, beta, eps, lr = 0.2, 0.9, 1e-3, 0.1
    v = (1 - beta) * g * g
    outside = np.array([0.0])
    RMSprop(lr=lr, beta=beta, eps=eps).step(outside, np.array([g]))
    inside = np.array([0.0])
    RMSprop(lr=lr, beta=beta, eps=eps, eps_in_sqrt=True).step(inside, np.array([g]))
    assert outside[0] == pytest.approx(-lr * g / (math.sqrt(v) + eps), rel=1e-14)
    assert inside[0] == pytest.approx(-lr * g / math.sqrt(v + eps), rel=1e-14)


def test_rmsprop_tf1_accumulator_starts_at_one():
    opt = RMSprop.like("tf1", lr=0.3)
    p, g = np.array([364.0]), np.array([0.14])
    opt.step(p, g)
    ms = 0.9 * 1.0 + 0.1 * 0.14**2
    # TF1 casts hyperparameters to float32, so 0.9 is really 0.8999999761581421, etc.
    assert p[0] == pytest.approx(364.0 - 0.3 * 0.14 / math.sqrt(ms + 1e-10), rel=1e-7)
    assert opt.state[0]["v"][0] == pytest.approx(ms, rel=1e-7)


def test_rmsprop_centered_and_momentum_two_steps_by_hand():
    lr, beta, mu, eps = 0.1, 0.5, 0.9, 1e-8
    g1, g2 = 2.0, -1.0
    v1, m1 = (1 - beta) * g1**2, (1 - beta) * g1
    d1 = math.sqrt(v1 - m1**2) + eps
    b1 = g1 / d1
    v2, m2 = beta * v1 + (1 - beta) * g2**2, beta * m1 + (1 - beta) * g2
    d2 = math.sqrt(v2 - m2**2) + eps
    b2 = mu * b1 + g2 / d2
    p = np.array([0.0])
    opt = RMSprop(lr=lr, beta=beta, eps=eps, momentum=mu, centered=True)
    opt.step(p, np.array([g1]))
    opt.step(p, np.array([g2]))
    assert p[0] == pytest.approx(-lr * b1 - lr * b2, rel=1e-12)
    assert opt.state[0]["effective_lr"][0] == pytest.approx(lr / d2, rel=1e-12)


def test_adagrad_two_steps_with_lr_decay_and_initial_accumulator():
    lr, decay, s0, eps = 0.5, 0.1, 0.25, 1e-10
    g1, g2 = 1.0, 3.0
    s1, s2 = s0 + g1**2, s0 + g1**2 + g2**2
    expected = -lr * g1 / (math.sqrt(s1) + eps) - lr / (1 + decay) * g2 / (math.sqrt(s2) + eps)
    p = np.array([0.0])
    opt = AdaGrad(lr=lr, lr_decay=decay, initial_accumulator_value=s0)
    opt.step(p, np.array([g1]))
    opt.step(p, np.array([g2]))
    assert p[0] == pytest.approx(expected, rel=1e-13)


def test_adadelta_first_step():
    beta, eps, g = 0.9, 1e-6, 2.0
    p = np.array([1.0])
    Adadelta(beta=beta, eps=eps).step(p, np.array([g]))
    assert p[0] == pytest.approx(1.0 - math.sqrt(eps) / math.sqrt((1 - beta) * g**2 + eps) * g)


@pytest.mark.parametrize("eps_hat", [False, True])
def test_adam_first_step_is_lr_times_sign(eps_hat):
    # After bias correction m_hat = g and v_hat = g^2, so with eps = 0 the step is lr * sign(g).
    p = np.array([1.0, 1.0])
    Adam(lr=0.01, eps=0.0, eps_hat=eps_hat).step(p, np.array([-3.0, 1e-4]))
    np.testing.assert_allclose(p, [1.01, 0.99], rtol=1e-14)


def test_adam_eps_hat_matches_the_papers_section_2_form():
    b1, b2, eps, lr = 0.9, 0.999, 1e-3, 0.1
    g = [0.3, -0.1, 0.05]
    m = v = 0.0
    x = 0.0
    for t, gt in enumerate(g, start=1):
        m = b1 * m + (1 - b1) * gt
        v = b2 * v + (1 - b2) * gt**2
        x -= lr * math.sqrt(1 - b2**t) / (1 - b1**t) * m / (math.sqrt(v) + eps)
    p = np.array([0.0])
    opt = Adam(lr=lr, eps=eps, eps_hat=True)
    for gt in g:
        opt.step(p, np.array([gt]))
    assert p[0] == pytest.approx(x, rel=1e-13)


def test_adam_amsgrad_keeps_the_largest_v():
    opt = Adam(lr=0.1, amsgrad=True)
    p = np.array([0.0])
    for gt in (10.0, 0.0, 0.0):
        opt.step(p, np.array([gt]))
    assert opt.state[0]["v_max"][0] == pytest.approx((1 - 0.999) * 100.0)
    assert opt.state[0]["v"][0] < opt.state[0]["v_max"][0]


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_two_steps(nesterov):
    lr, mu = 0.1, 0.9
    g1, g2 = 1.0, 2.0
    buf1, buf2 = g1, mu * g1 + g2
    step1 = g1 + mu * buf1 if nesterov else buf1
    step2 = g2 + mu * buf2 if nesterov else buf2
    p = np.array([0.0])
    opt = SGD(lr=lr, momentum=mu, nesterov=nesterov)
    opt.step(p, np.array([g1]))
    opt.step(p, np.array([g2]))
    assert p[0] == pytest.approx(-lr * (step1 + step2), rel=1e-14)


def test_sgd_dampening_and_weight_decay():
    lr, mu, damp, wd = 0.1, 0.5, 0.3, 0.01
    p = np.array([2.0])
    opt = SGD(lr=lr, momentum=mu, dampening=damp, weight_decay=wd)
    g1 = 1.0 + wd * 2.0
    opt.step(p, np.array([1.0]))
    p1 = 2.0 - lr * g1
    g2 = 1.0 + wd * p1
    buf2 = mu * g1 + (1 - damp) * g2
    opt.step(p, np.array([1.0]))
    assert p[0] == pytest.approx(p1 - lr * buf2, rel=1e-14)


# --- properties ---------------------------------------------------------------------------

gradients = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).filter(lambda g: abs(g) > 1e-3),
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(gradients, st.floats(min_value=1e-3, max_value=1e3), st.sampled_from([0.0, 0.9, 0.99]))
def test_rmsprop_step_is_invariant_to_scaling_the_gradient(grads, scale, beta):
    plain, scaled = np.array([0.0]), np.array([0.0])
    a, b = RMSprop(lr=0.01, beta=beta, eps=0.0), RMSprop(lr=0.01, beta=beta, eps=0.0)
    for g in grads:
        a.step(plain, np.array([g]))
        b.step(scaled, np.array([scale * g]))
    assert scaled[0] == pytest.approx(plain[0], rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=2, max_size=30))
def test_adagrad_effective_rate_never_increases(grads):
    opt = AdaGrad(lr=0.1)
    p = np.array([0.0])
    rates = []
    for g in grads:
        opt.step(p, np.array([g]))
        rates.append(opt.state[0]["effective_lr"][0])
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:], strict=False))


def test_rmsprop_effective_rate_recovers_when_gradients_shrink_but_adagrads_does_not():
    grads = [10.0] * 20 + [0.1] * 50
    rms, ada = RMSprop(lr=0.1), AdaGrad(lr=0.1)
    p, q = np.array([0.0]), np.array([0.0])
    for g in grads:
        rms.step(p, np.array([g]))
        ada.step(q, np.array([g]))
    assert rms.state[0]["effective_lr"][0] > 50 * ada.state[0]["effective_lr"][0]


# --- arrays, dtypes and state ---------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL)
def test_list_of_arrays_is_updated_in_place_with_state_per_array(cls):
    w, b = np.ones((2, 3)), np.zeros(3)
    ids = (id(w), id(b))
    opt = make(cls)
    opt.step([w, b], [np.full((2, 3), 0.5), np.array([1.0, -1.0, 0.0])])
    assert (id(w), id(b)) == ids
    assert not np.allclose(w, 1.0)
    assert [s["step"] for s in opt.state] == [1, 1]
    assert opt.state[0]["effective_lr"].shape == (2, 3)


@pytest.mark.parametrize("cls", ALL)
def test_float32_stays_float32(cls):
    p = np.array([1.0, 2.0], dtype=np.float32)
    opt = make(cls, **({"momentum": 0.9} if cls in (SGD, RMSprop) else {}))
    opt.step(p, [0.1, -0.2])
    assert p.dtype == np.float32
    arrays = [v for v in opt.state[0].values() if isinstance(v, np.ndarray)]
    assert arrays and all(a.dtype == np.float32 for a in arrays)


@pytest.mark.parametrize("cls", ALL)
def test_nan_gradient_raises_before_anything_changes(cls):
    w, b = np.array([1.0, 2.0]), np.array([3.0])
    opt = make(cls)
    opt.step([w, b], [np.array([0.1, 0.1]), np.array([0.1])])
    before = ([w.copy(), b.copy()], [{k: np.copy(v) for k, v in s.items()} for s in opt.state])
    with pytest.raises(NonFiniteGradientError, match=r"grads\[1\] contains NaN or infinity"):
        opt.step([w, b], [np.array([0.5, 0.5]), np.array([np.nan])])
    with pytest.raises(NonFiniteGradientError):
        opt.step([w, b], [np.array([np.inf, 0.5]), np.array([0.1])])
    np.testing.assert_array_equal(w, before[0][0])
    np.testing.assert_array_equal(b, before[0][1])
    for state, saved in zip(opt.state, before[1], strict=True):
        for key, value in saved.items():
            np.testing.assert_array_equal(state[key], value)


def test_state_is_tied_to_the_arrays_until_reset():
    opt = RMSprop(lr=0.1)
    opt.step(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match=r"state is for arrays of shapes \[\(2,\)\].*reset\(\)"):
        opt.step(np.zeros(3), np.ones(3))
    opt.reset()
    opt.step(np.zeros(3), np.ones(3))
    assert opt.state[0]["v"].shape == (3,)


@pytest.mark.parametrize(
    ("params", "grads", "error", "message"),
    [
        (np.array([1, 2]), np.array([1, 2]), TypeError, "dtype float32 or float64, got int64"),
        ([1.0, 2.0], [1.0, 2.0], TypeError, r"params\[0\] must be a NumPy array of floats"),
        (np.zeros(2), np.zeros(3), ValueError, r"grads has shape \(3,\) but params has shape"),
        ([np.zeros(2)], [np.zeros(2), np.zeros(1)], ValueError, "1 params and 2 grads"),
        ([np.zeros(2)], np.zeros(2), TypeError, "grads must be a list too"),
        ([], [], ValueError, "at least one array"),
        (np.zeros(2), np.array(["a", "b"]), TypeError, "grads must hold real numbers"),
    ],
)
def test_bad_arrays_are_rejected_clearly(params, grads, error, message):
    with pytest.raises(error, match=message):
        RMSprop(lr=0.1).step(params, grads)


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "message"),
    [
        (RMSprop, {"lr": -1}, ValueError, r"lr must be a finite number >= 0 .*, got -1\.0"),
        (RMSprop, {"lr": float("inf")}, ValueError, "lr must be a finite number >= 0"),
        (Adam, {"lr": float("-inf")}, ValueError, "lr must be a finite number >= 0"),
        (SGD, {"lr": float("nan")}, ValueError, "lr must be a number, got nan"),
        (RMSprop, {"lr": 0.1, "initial_accumulator_value": -1}, ValueError,
         "initial_accumulator_value must be a finite number >= 0"),
        (Adam, {"lr": 0.1, "bias_correction": 0}, TypeError, "bias_correction must be True or"),
        (RMSprop, {"lr": "0.1"}, TypeError, r"lr must be a real number, got '0\.1'"),
        (RMSprop, {"lr": True}, TypeError, "lr must be a real number, got True"),
        (RMSprop, {"lr": 0.1, "beta": 1.0}, ValueError, r"beta must be in \[0, 1\), got 1\.0"),
        (RMSprop, {"lr": 0.1, "beta": -0.1}, ValueError, r"beta must be in \[0, 1\)"),
        (RMSprop, {"lr": 0.1, "eps": -1e-8}, ValueError, "eps must be a finite number >= 0"),
        (RMSprop, {"lr": 0.1, "centered": 1}, TypeError, "centered must be True or False"),
        (Adam, {"lr": 0.1, "beta2": 1.5}, ValueError, r"beta2 must be in \[0, 1\), got 1\.5"),
        (SGD, {"lr": 0.1, "nesterov": True}, ValueError, "nesterov=True needs momentum > 0"),
        (SGD, {"lr": 0.1, "dampening": 2}, ValueError, r"dampening must be in \[0, 1\]"),
        (AdaGrad, {"lr": 0.1, "lr_decay": -1}, ValueError, "lr_decay must be a finite number"),
        (Adadelta, {"weight_decay": -0.1}, ValueError, "weight_decay must be a finite number"),
    ],
)
def test_bad_hyperparameters_are_rejected_clearly(cls, kwargs, error, message):
    with pytest.raises(error, match=message):
        cls(**kwargs)


def test_hyperparameters_are_checked_again_at_each_step():
    opt = RMSprop(lr=0.1)
    opt.lr = -0.5  # e.g. a broken learning-rate schedule
    p = np.array([1.0])
    with pytest.raises(ValueError, match="lr must be a finite number >= 0 .*, got -0.5"):
        opt.step(p, np.array([1.0]))
    assert p[0] == 1.0 and opt.state == []


# --- framework presets ---------------------------------------------------------------------


def test_like_reproduces_the_published_framework_defaults():
    torch_rms = RMSprop.like("torch")
    assert (torch_rms.lr, torch_rms.beta, torch_rms.eps, torch_rms.eps_in_sqrt) == (
        0.01, 0.99, 1e-8, False
    )
    keras_rms = RMSprop.like("keras")
    # Keras keeps lr in a float32 variable and TF1 casts every hyperparameter to float32.
    assert (keras_rms.lr, keras_rms.beta, keras_rms.eps, keras_rms.eps_in_sqrt) == (
        0.0010000000474974513, 0.9, 1e-7, True
    )
    tf1 = RMSprop.like("tf1", lr=0.1)
    assert (tf1.beta, tf1.eps, tf1.initial_accumulator_value, tf1.eps_in_sqrt) == (
        0.8999999761581421, 1.0000000133514320e-10, 1.0, True
    )
    assert tf1.lr == 0.10000000149011612
    assert AdaGrad.like("keras").initial_accumulator_value == float(np.float32(0.1))
    assert Adadelta.like("torch").lr == 1.0 and Adadelta.like("keras").beta == 0.95
    assert Adam.like("keras").eps_hat and not Adam.like("torch").eps_hat


TORCH_NAMES = {
    "RMSprop": (RMSprop, {"lr": "lr", "alpha": "beta", "eps": "eps"}),
    "Adagrad": (AdaGrad, {"lr": "lr", "eps": "eps", "lr_decay": "lr_decay",
                          "initial_accumulator_value": "initial_accumulator_value"}),
    "Adadelta": (Adadelta, {"lr": "lr", "rho": "beta", "eps": "eps"}),
    "Adam": (Adam, {"lr": "lr", "eps": "eps"}),
    "SGD": (SGD, {"lr": "lr"}),
}


@pytest.mark.parametrize("torch_name", sorted(TORCH_NAMES))
def test_torch_presets_match_torchs_own_signature(torch_name):
    torch = pytest.importorskip("torch", reason="torch is not installed; presets checked above")
    cls, names = TORCH_NAMES[torch_name]
    defaults = inspect.signature(getattr(torch.optim, torch_name).__init__).parameters
    ours = cls.like("torch")
    for torch_arg, our_arg in names.items():
        assert getattr(ours, our_arg) == defaults[torch_arg].default, torch_arg


def test_like_overrides_and_errors():
    assert RMSprop.like("torch", lr=0.3).lr == 0.3
    allowed = "framework must be one of 'torch', 'keras', 'tf1', got 'jax'"
    with pytest.raises(ValueError, match=allowed):
        RMSprop.like("jax")
    with pytest.raises(TypeError, match=r"unknown argument\(s\) \['alpha'\]"):
        RMSprop.like("torch", alpha=0.9)
    with pytest.raises(TypeError, match="tf1's RMSprop has no default learning rate"):
        RMSprop.like("tf1")
    with pytest.raises(ValueError, match="weight_decay=0.1 cannot be matched for keras"):
        RMSprop.like("keras", weight_decay=0.1)


def test_repr_shows_every_hyperparameter():
    text = repr(RMSprop(lr=0.3, beta=0.99))
    assert text.startswith("RMSprop(lr=0.3, beta=0.99, eps=1e-08, momentum=0.0")
    assert "initial_accumulator_value=0.0" in text


# --- a step is all or nothing ---------------------------------------------------------------


def two_arrays():
    return [np.array([1.0, -2.0]), np.array([3.0])], [np.array([0.5, 4.0]), np.array([-1.0])]


def snapshot(params, opt):
    return [p.copy() for p in params], [
        {k: np.copy(v) for k, v in s.items()} for s in opt.state
    ]


def assert_unchanged(params, opt, saved):
    for p, before in zip(params, saved[0], strict=True):
        np.testing.assert_array_equal(p, before)
    assert len(opt.state) == len(saved[1])
    for state, before in zip(opt.state, saved[1], strict=True):
        assert set(state) == set(before)
        for key, value in before.items():
            np.testing.assert_array_equal(state[key], value)


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    [(SGD, "momentum", 0.9), (RMSprop, "momentum", 0.9), (RMSprop, "centered", True),
     (Adam, "amsgrad", True)],
)
def test_switching_on_a_state_hungry_option_after_the_first_step_says_call_reset(
    cls, name, value
):
    params, grads = two_arrays()
    opt = cls(lr=0.1)
    opt.step(params, grads)
    saved = snapshot(params, opt)
    setattr(opt, name, value)
    with pytest.raises(ValueError, match=rf"{name} was .* and is now {value!r}.*reset\(\)"):
        opt.step(params, grads)
    assert_unchanged(params, opt, saved)
    assert [s["step"] for s in opt.state] == [1, 1]
    opt.reset()
    opt.step(params, grads)  # after reset() it works, with the new state
    assert [s["step"] for s in opt.state] == [1, 1]


def test_switching_an_option_off_again_names_it_too():
    params, grads = two_arrays()
    opt = RMSprop(lr=0.1, momentum=0.9)
    opt.step(params, grads)
    opt.momentum = 0.0
    with pytest.raises(ValueError, match=r"momentum was 0\.9 .* now 0\.0.*'buf'"):
        opt.step(params, grads)


def test_a_schedule_changing_lr_is_not_mistaken_for_a_state_change():
    params, grads = two_arrays()
    opt = RMSprop(lr=0.1, momentum=0.5)
    for lr in (0.1, 0.05, 0.0, 0.2):
        opt.lr = lr
        opt.step(params, grads)
    assert [s["step"] for s in opt.state] == [4, 4]


def test_an_error_while_updating_the_second_array_leaves_the_first_untouched():
    class Fails(RMSprop):
        def update(self, param, grad, state):
            super().update(param, grad, state)  # changes this array's copy first
            if param.size == 1:
                raise RuntimeError("boom")

    params, grads = two_arrays()
    opt = Fails(lr=0.1)
    with pytest.raises(RuntimeError, match="boom"):
        opt.step(params, grads)
    assert opt.state == []
    np.testing.assert_array_equal(params[0], [1.0, -2.0])
    opt = Fails(lr=0.1)
    opt.step(params[:1], grads[:1])
    saved = snapshot(params[:1], opt)
    opt.reset()
    opt.step(params[:1], grads[:1])  # state fresh again: one step
    assert opt.state[0]["step"] == 1
    assert not np.array_equal(params[0], saved[0][0])


@pytest.mark.parametrize("cls", ALL)
def test_any_error_leaves_both_arrays_and_step_counters_as_they_were(cls):
    params, grads = two_arrays()
    opt = make(cls)
    opt.step(params, grads)
    saved = snapshot(params, opt)
    opt.lr = -1.0
    with pytest.raises(ValueError, match="lr must be"):
        opt.step(params, grads)
    opt.lr = 0.1
    with pytest.raises(ValueError, match="shape"):
        opt.step(params, [grads[0], np.zeros(2)])
    with pytest.raises(NonFiniteGradientError):
        opt.step(params, [grads[0], np.array([np.nan])])
    key = sorted(set(opt.state[1]) - {"step"})[-1]  # v, s, m, u or effective_lr
    held = opt.state[1].pop(key)
    with pytest.raises(ValueError, match=r"state\[1\] was modified.*reset\(\)"):
        opt.step(params, grads)
    opt.state[1][key] = held
    assert_unchanged(params, opt, saved)
    assert [s["step"] for s in opt.state] == [1, 1]


def test_in_place_state_changes_inside_update_do_not_leak_on_error():
    class InPlace(RMSprop):
        def update(self, param, grad, state):
            state["v"] *= 2.0  # in place, on purpose
            state["step"] += 10
            raise RuntimeError("after touching the state")

    params, grads = two_arrays()
    opt = RMSprop(lr=0.1)
    opt.step(params, grads)
    saved = snapshot(params, opt)
    opt.__class__ = InPlace
    with pytest.raises(RuntimeError):
        opt.step(params, grads)
    assert_unchanged(params, opt, saved)


# --- lr = 0 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL)
def test_lr_zero_takes_no_step_but_still_updates_the_state(cls):
    params, grads = two_arrays()
    opt = cls(lr=0.0)
    opt.step(params, grads)
    np.testing.assert_array_equal(params[0], [1.0, -2.0])
    np.testing.assert_array_equal(params[1], [3.0])
    assert [s["step"] for s in opt.state] == [1, 1]
    np.testing.assert_array_equal(opt.state[0]["effective_lr"], [0.0, 0.0])


def test_lr_zero_then_positive_is_a_warm_up():
    # with lr = 0 first, v already holds g1^2: the second step uses v_2 = b v_1 + (1 - b) g2^2
    beta, g1, g2 = 0.9, 2.0, 1.0
    p = np.array([0.0])
    opt = RMSprop(lr=0.0, beta=beta, eps=0.0)
    opt.step(p, np.array([g1]))
    opt.lr = 0.1
    opt.step(p, np.array([g2]))
    v2 = beta * (1 - beta) * g1**2 + (1 - beta) * g2**2
    assert p[0] == pytest.approx(-0.1 * g2 / math.sqrt(v2), rel=1e-14)


# --- signatures and names -------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL)
def test_every_argument_after_lr_is_keyword_only(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert params[0].name == "lr"
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:])
    with pytest.raises(TypeError, match="positional"):
        cls(0.1, 0.5)


def test_adagrad_and_rmsprop_share_the_name_of_the_initial_accumulator():
    for cls in (AdaGrad, RMSprop):
        assert "initial_accumulator_value" in inspect.signature(cls.__init__).parameters
        assert "initial_v" not in inspect.signature(cls.__init__).parameters
    # RMSprop from v_0 = 1: v_1 = beta + (1 - beta) g^2, as TF1 starts its mean square
    p = np.array([0.0])
    RMSprop(lr=0.1, beta=0.9, eps=0.0, initial_accumulator_value=1.0).step(p, np.array([2.0]))
    assert p[0] == pytest.approx(-0.1 * 2.0 / math.sqrt(0.9 + 0.1 * 4.0), rel=1e-14)


# --- Adam without bias correction ---------------------------------------------------------------


def test_adam_without_bias_correction_first_step_in_closed_form():
    # m_1 = (1 - b1) g, v_1 = (1 - b2) g^2, no correction: step = lr (1 - b1) / sqrt(1 - b2)
    lr, b1, b2 = 0.01, 0.9, 0.999
    p = np.array([1.0, 1.0])
    Adam(lr=lr, beta1=b1, beta2=b2, eps=0.0, bias_correction=False).step(
        p, np.array([-3.0, 1e-4]))
    size = lr * (1 - b1) / math.sqrt(1 - b2)
    np.testing.assert_allclose(p, [1.0 + size, 1.0 - size], rtol=1e-13)
    q = np.array([1.0])  # beta1 = 0: m_1 = g, so the step is lr / sqrt(1 - b2), 31.6 lr
    Adam(lr=lr, beta1=0.0, beta2=b2, eps=0.0, bias_correction=False).step(q, np.array([5.0]))
    assert q[0] == pytest.approx(1.0 - lr / math.sqrt(1 - b2), rel=1e-13)


@pytest.mark.parametrize("eps", [0.0, 1e-3])
def test_adam_beta1_zero_without_bias_correction_is_rmsprop(eps):
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(30, 3)) * np.array([1.0, 10.0, 0.01])
    p, q = np.zeros(3), np.zeros(3)
    adam = Adam(lr=0.05, beta1=0.0, beta2=0.99, eps=eps, bias_correction=False)
    rms = RMSprop(lr=0.05, beta=0.99, eps=eps)
    for g in grads:
        adam.step(p, g)
        rms.step(q, g)
    np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(adam.state[0]["v"], rms.state[0]["v"], rtol=1e-12)
    # and with bias correction it is not: the first step differs by sqrt(1 - 0.99) = 0.1
    assert Adam(lr=0.05, beta1=0.0, beta2=0.99).bias_correction is True
