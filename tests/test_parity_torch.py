"""course_lib's optimizers against PyTorch's ``torch.optim``.

Three layers:

* golden: every float64 case of ``tests/fixtures/torch_golden.json`` (recorded from torch 2.13
  by ``tests/fixtures/make_torch_fixtures.py``) replayed with course_lib. Runs without torch.
* the seed tutorial: RMSprop(lr=0.3) on x / log(x) from 364 in float32 prints the same
  4-decimal numbers as torch and as the published tutorial.
* live: when torch is installed, torch.optim and course_lib side by side on problems the
  fixture does not cover (a list of two arrays of different shapes, random gradients).

Tolerances. course_lib and torch evaluate the same formulas in float64 but may round
intermediate results differently (torch uses ``lerp``/``addcmul`` and its own grouping of the
bias corrections, course_lib plain NumPy), so trajectories can differ in the last bits; bit
equality would test NumPy, not the algorithm. The generator checked that perturbing every
gradient by a few units in the last place moves each golden trajectory by less than 1% of
``RTOL = 1e-10``, so a failure here means a different formula (a missing bias correction, eps
in the wrong place, a momentum buffer started differently), not rounding. ``ATOL = 1e-12`` only
matters where a coordinate converges to or passes through 0 (the bowl runs end near 1e-12 ..
1e-29), where a relative comparison is meaningless; it is far below every step size in these
runs, so a real difference still shows up in the steps before.
"""

from __future__ import annotations

import numpy as np
import pytest
from golden import (
    build_objective,
    expected,
    first_difference,
    load,
    printed,
    replay,
)

from course_lib.optim import SGD, Adadelta, AdaGrad, Adam, RMSprop

RTOL, ATOL = 1e-10, 1e-12

GOLDEN = load("torch_golden.json")
FLOAT64_CASES = [case for case in GOLDEN["cases"] if case["dtype"] == "float64"]
SEED_CASE = next(case for case in GOLDEN["cases"] if case.get("printed"))

# The seed tutorial's published printout (torch, float32): x at iterations 0, 100, ..., 1400.
PUBLISHED = ["361.0000", "302.5840", "268.0156", "236.2579", "205.2928", "174.5349",
             "143.7643", "112.8619", "81.7036", "50.0471", "17.0591", "2.7183", "2.7183",
             "2.7183", "2.7183"]  # fmt: skip


def assert_same_trajectory(actual: np.ndarray, desired: np.ndarray, what: str) -> None:
    assert actual.shape == desired.shape, f"{what}: shape {actual.shape} vs {desired.shape}"
    np.testing.assert_allclose(
        actual,
        desired,
        rtol=RTOL,
        atol=ATOL,
        err_msg=f"{what}: {first_difference(actual, desired, RTOL, ATOL)}",
    )


# --- golden -------------------------------------------------------------------------------
def test_fixture_is_well_formed():
    assert GOLDEN["generator"] == "tests/fixtures/make_torch_fixtures.py"
    names = [case["name"] for case in GOLDEN["cases"]]
    assert len(names) == len(set(names)), "case names must be unique"
    for case in GOLDEN["cases"]:
        assert case["framework"] == "torch"
        assert len(case["trajectory"]) == case["steps"] + 1
        assert case["trajectory"][0] == case["x0"]
    assert {c["optimizer"] for c in FLOAT64_CASES} == {
        "RMSprop", "Adagrad", "Adadelta", "Adam", "SGD"
    }  # fmt: skip


@pytest.mark.parametrize("case", FLOAT64_CASES, ids=[c["name"] for c in FLOAT64_CASES])
def test_golden_trajectory(case):
    assert_same_trajectory(replay(case), expected(case), case["name"])


# --- the seed tutorial, float32 ------------------------------------------------------------
def test_printed_fixture_is_its_trajectory():
    # printed[j] is the trajectory after step 100 j + 1 (the loop steps, then prints).
    assert printed(expected(SEED_CASE), SEED_CASE["printed_every"]) == SEED_CASE["printed"]


def test_torch_reproduced_the_published_printout():
    # Recorded by the generator from torch 2.13's own run; documents that it matches.
    assert SEED_CASE["printed"] == PUBLISHED


@pytest.mark.xfail(
    strict=True,
    reason="float32 rounding, not a formula difference: at iteration 800 course_lib prints "
    "81.7037, torch 81.7036. torch's float32 run rounds differently in three places: "
    "autograd's gradient of x / log(x) (1/L + (-x/L^2)/x, vs course_lib's (L - 1)/L^2), "
    "torch.log vs np.log (different float32 libm), and addcmul_ = fma(value * g, g, v) "
    "(one rounding) in the square_avg update. Emulating the first and last of these in "
    "NumPy reproduces all 15 lines; either alone does not.",
)
def test_seed_tutorial_prints_exactly_like_torch():
    ours = replay(SEED_CASE)
    assert ours.dtype == np.float32
    assert printed(ours, SEED_CASE["printed_every"]) == SEED_CASE["printed"]
    assert printed(ours, SEED_CASE["printed_every"]) == PUBLISHED


def test_seed_tutorial_prints_like_torch():
    assert SEED_CASE["dtype"] == "float32"
    ours = printed(replay(SEED_CASE), SEED_CASE["printed_every"])
    assert ours[:2] == PUBLISHED[:2]  # 361.0000 (first step: lr / sqrt(1 - 0.99) = 3.0), ...
    assert ours[-4:] == ["2.7183"] * 4  # converged to e
    for i, (mine, theirs) in enumerate(zip(ours, SEED_CASE["printed"], strict=True)):
        # float32 at x ~ 100 has a spacing of ~8e-6, so one unit in the 4th printed decimal
        # is the most that differently rounded float32 arithmetic can show here.
        assert abs(float(mine) - float(theirs)) <= 1.00001e-4, f"iteration {100 * i}"
    assert sum(a == b for a, b in zip(ours, SEED_CASE["printed"], strict=True)) >= 14


def test_seed_tutorial_float32_trajectory_close():
    # float32 arithmetic in a different order drifts by a few float32 ulps (~1e-7 relative);
    # the runs must stay that close all the way to x = e.
    np.testing.assert_allclose(replay(SEED_CASE), expected(SEED_CASE), rtol=1e-5, atol=1e-6)


# --- live: torch.optim side by side -------------------------------------------------------
# (torch optimizer name, torch kwargs) -> the same run in course_lib via Cls.like("torch", ...).
LIVE_CONFIGS = {
    "rmsprop_default": ("RMSprop", {"lr": 0.01}),
    # lr=0.01 would be chaotic on matrix_vector: perturbing torch's own gradients by a few
    # ulps moves its trajectory by 1e-1 within 150 steps. Every config here was checked to
    # move by < 0.1% of the tolerance under that perturbation.
    "rmsprop_alpha0.9": ("RMSprop", {"lr": 0.003, "alpha": 0.9}),
    "rmsprop_centered": ("RMSprop", {"lr": 0.01, "centered": True}),
    "rmsprop_centered_momentum": ("RMSprop", {"lr": 0.001, "centered": True, "momentum": 0.9}),
    "rmsprop_weight_decay_eps": ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-3}),
    "adagrad_default": ("Adagrad", {"lr": 0.1}),
    "adagrad_all": (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.1},
    ),
    "adadelta_default": ("Adadelta", {}),
    "adadelta_rho_wd": ("Adadelta", {"lr": 0.5, "rho": 0.95, "weight_decay": 0.1}),
    "adam_default": ("Adam", {"lr": 0.01}),
    "adam_amsgrad_wd": (
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.1},
    ),
    "sgd_plain": ("SGD", {"lr": 0.01}),
    "sgd_momentum_dampening": ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.3}),
    "sgd_nesterov_wd": (
        "SGD",
        {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    ),
}

COURSE_CLASSES = {"RMSprop": RMSprop, "Adagrad": AdaGrad, "Adadelta": Adadelta, "Adam": Adam,
                  "SGD": SGD}  # fmt: skip


def course_like_torch(name: str, torch_kwargs: dict):
    """course_lib's optimizer built with ``like("torch")``, torch's names renamed."""
    overrides = {}
    for key, value in torch_kwargs.items():
        if key == "betas":
            overrides["beta1"], overrides["beta2"] = value
        else:
            overrides[{"alpha": "beta", "rho": "beta"}.get(key, key)] = value
    return COURSE_CLASSES[name].like("torch", **overrides)


def matrix_vector_grads(params: list[np.ndarray], step: int) -> list[np.ndarray]:
    """f(W, v) = 0.5 |W v - y|^2 + 0.05 |W|^2 with W 3x4, v 4: a coupled, curved problem."""
    W, v = params
    y = np.array([1.0, -2.0, 0.5])
    r = W @ v - y
    return [np.outer(r, v) + 0.1 * W, W.T @ r]


def random_grads_factory(seed: int):
    rng = np.random.default_rng(seed)

    def grads(params: list[np.ndarray], step: int) -> list[np.ndarray]:
        # Seeded gradients, independent of the parameters, with a drift so that the running
        # averages do not just average out: identical input to both optimizers at every step.
        return [rng.normal(0.3, 1.0, size=p.shape) * (1 + 0.01 * step) for p in params]

    return grads


def start_params(seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(3, 4)), rng.normal(size=4)]


def run_side_by_side(torch, name, torch_kwargs, course_opt, grad_fn_factory, steps=150):
    """Trajectories (steps + 1, n_params) of torch.optim and course_lib, each on its own copy."""
    ours = [p.copy() for p in start_params()]
    theirs = [torch.tensor(p.copy(), dtype=torch.float64, requires_grad=True) for p in ours]
    torch_opt = getattr(torch.optim, name)(theirs, **torch_kwargs)
    ours_grads, theirs_grads = grad_fn_factory(), grad_fn_factory()
    ours_rows = [np.concatenate([p.ravel() for p in ours])]
    theirs_rows = [ours_rows[0].copy()]
    for step in range(steps):
        course_opt.step(ours, ours_grads(ours, step))
        with torch.no_grad():
            current = [t.detach().numpy().copy() for t in theirs]
            for t, g in zip(theirs, theirs_grads(current, step), strict=True):
                t.grad = torch.from_numpy(g)
        torch_opt.step()
        ours_rows.append(np.concatenate([p.ravel() for p in ours]))
        theirs_rows.append(np.concatenate([t.detach().numpy().ravel() for t in theirs]))
    return np.array(ours_rows), np.array(theirs_rows)


PROBLEMS = {
    "matrix_vector": lambda: matrix_vector_grads,
    "random_grads": lambda: random_grads_factory(7),
}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip(
        "torch",
        reason="PyTorch is not installed: the live torch.optim comparison needs it "
        "(the golden-fixture tests above still run)",
    )


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("config", list(LIVE_CONFIGS))
def test_live_against_torch(torch, config, problem):
    name, torch_kwargs = LIVE_CONFIGS[config]
    course_opt = course_like_torch(name, torch_kwargs)
    ours, theirs = run_side_by_side(torch, name, torch_kwargs, course_opt, PROBLEMS[problem])
    assert np.all(np.isfinite(theirs))
    assert_same_trajectory(ours, theirs, f"{config} on {problem}")


@pytest.mark.parametrize("name", list(COURSE_CLASSES))
def test_like_torch_defaults(torch, name):
    # Cls.like("torch") with no arguments at all must be torch's constructor defaults.
    ours, theirs = run_side_by_side(
        torch, name, {}, COURSE_CLASSES[name].like("torch"), PROBLEMS["random_grads"]
    )
    assert_same_trajectory(ours, theirs, f"{name}.like('torch') vs torch defaults")


def test_live_fixture_case_still_matches_torch(torch):
    # The fixture's first cases, re-run live on the installed torch: flags a fixture that is
    # stale for this torch version (regenerate it with make_torch_fixtures.py).
    for case in FLOAT64_CASES[:4]:
        x = torch.tensor(case["x0"], dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, case["optimizer"])([x], **case["framework_kwargs"])
        objective = build_objective(case["problem"])
        rows = [x.detach().numpy().copy()]
        for _ in range(case["steps"]):
            x.grad = torch.from_numpy(objective.grad(x.detach().numpy().copy()))
            opt.step()
            rows.append(x.detach().numpy().copy())
        assert_same_trajectory(np.array(rows), expected(case), f"torch live {case['name']}")
