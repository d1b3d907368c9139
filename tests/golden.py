"""Replaying the golden-trajectory fixtures (``tests/fixtures/*_golden.json``) with course_lib.

A fixture file holds cases recorded from a real framework (PyTorch, Keras 3, TF1), each with
the framework's arguments, a problem, a start point, a number of steps, a dtype and the
parameter vector before the first step and after every step. :func:`replay` runs course_lib's
optimizer on course_lib's objective for the same case and returns its trajectory in the same
layout, for the parity tests to compare.

A case either spells out ``course_kwargs`` (the torch fixture: course_lib's constructor
arguments, complete) or only has ``framework_kwargs`` in the framework's own names (the
Keras/TF1 fixture); then the optimizer is built with ``Cls.like(framework, **overrides)``,
the overrides renamed with :data:`KERAS_NAMES` / :data:`TF1_NAMES`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from course_lib.objectives import Quadratic, Rosenbrock, SeedBowl, XOverLogX
from course_lib.optim import SGD, Adadelta, AdaGrad, Adam, RMSprop

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: Optimizer names used in the fixtures (framework class names) -> course_lib classes.
OPTIMIZERS: dict[str, type] = {
    "SGD": SGD,
    "Adagrad": AdaGrad,  # torch and Keras spell it "Adagrad"
    "AdaGrad": AdaGrad,
    "RMSprop": RMSprop,
    "RMSProp": RMSprop,  # TF1's RMSPropOptimizer
    "Adadelta": Adadelta,
    "Adam": Adam,
}

#: Keras 3 argument name -> course_lib argument name.
KERAS_NAMES = {
    "learning_rate": "lr",
    "rho": "beta",  # RMSprop and Adadelta
    "epsilon": "eps",
    "momentum": "momentum",
    "centered": "centered",
    "beta_1": "beta1",
    "beta_2": "beta2",
    "amsgrad": "amsgrad",
    "nesterov": "nesterov",
    "initial_accumulator_value": "initial_accumulator_value",
}

#: TF1 (``tf.compat.v1.train.RMSPropOptimizer``) argument name -> course_lib argument name.
TF1_NAMES = {
    "learning_rate": "lr",
    "decay": "beta",
    "momentum": "momentum",
    "epsilon": "eps",
    "centered": "centered",
}

FRAMEWORK_NAMES = {"keras": KERAS_NAMES, "tf1": TF1_NAMES}

#: course_lib arguments renamed since the fixtures were recorded: old name -> new name.
#: (RMSprop's ``initial_v`` took AdaGrad's, torch's and Keras's ``initial_accumulator_value``.)
COURSE_RENAMED = {"initial_v": "initial_accumulator_value"}

#: The frameworks round some hyperparameters to float32 even for float64 parameters (Keras keeps
#: the learning rate in a float32 variable; TF1 casts every hyperparameter). ``Cls.like`` does
#: the same, so the replay below passes the fixture's values unchanged. Keras's Adam also raises
#: float32 betas to the step number for its bias corrections while its EWMAs use float64 betas;
#: no constructor argument can say that, so Keras Adam float64 runs differ from course_lib's at
#: about 1e-5 relative from the first step.


def load(filename: str) -> dict[str, Any]:
    """The parsed fixture file ``tests/fixtures/<filename>``."""
    return json.loads((FIXTURES / filename).read_text())


def optimizer_class(case: dict[str, Any]) -> type:
    name = case["optimizer"].removesuffix("Optimizer")  # TF1 spells it "RMSPropOptimizer"
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise KeyError(
            f"{case['name']}: no course_lib optimizer for {case['optimizer']!r}"
        ) from None


def course_overrides(framework: str, framework_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``framework_kwargs`` (Keras or TF1 names) renamed to course_lib's argument names."""
    names = FRAMEWORK_NAMES[framework]
    unknown = sorted(set(framework_kwargs) - set(names))
    if unknown:
        raise KeyError(f"no course_lib equivalent known for {framework} argument(s) {unknown}")
    return {names[k]: v for k, v in framework_kwargs.items()}


def build_optimizer(case: dict[str, Any]):
    """course_lib's optimizer for ``case``, configured as the case's framework configured it.

    Cases with ``course_kwargs`` (torch) use them as they are. Otherwise the optimizer is
    ``Cls.like(framework, **overrides)``, which also rounds what the framework rounds.
    """
    cls = optimizer_class(case)
    if "course_kwargs" in case:
        kwargs = {COURSE_RENAMED.get(k, k): v for k, v in case["course_kwargs"].items()}
        return cls(**kwargs)
    framework = case["framework"]
    overrides = course_overrides(framework, case["framework_kwargs"])
    return cls.like(framework, **overrides)


def build_objective(problem: dict[str, Any]):
    """course_lib's objective for a case's ``problem`` entry."""
    name = problem["name"]
    if name == "quadratic":
        return Quadratic(np.array(problem["A"], dtype=float), np.array(problem["b"], dtype=float))
    if name == "rosenbrock":
        return Rosenbrock(a=problem["a"], b=problem["b"])
    if name == "x_over_log_x":
        return XOverLogX()
    if name == "bowl":
        return SeedBowl()
    raise KeyError(f"unknown problem {name!r}")


def replay(case: dict[str, Any], optimizer=None) -> np.ndarray:
    """course_lib's trajectory for ``case``: shape (steps + 1, n), x0 first, in the case's dtype.

    ``optimizer`` defaults to :func:`build_optimizer` (pass one to replay another setting).
    """
    opt = build_optimizer(case) if optimizer is None else optimizer
    objective = build_objective(case["problem"])
    x = np.array(case["x0"], dtype=np.dtype(case["dtype"]))
    rows = [x.copy()]
    for _ in range(case["steps"]):
        opt.step(x, objective.grad(x))
        rows.append(x.copy())
    return np.array(rows)


def expected(case: dict[str, Any]) -> np.ndarray:
    """The recorded trajectory, in the case's dtype (float32 values are stored exactly)."""
    return np.array(case["trajectory"], dtype=np.dtype(case["dtype"]))


def printed(trajectory: np.ndarray, every: int = 100) -> list[str]:
    """What the tutorials' loops print: x after step i + 1 for i = 0, every, 2 * every, ...

    (The loop steps first and prints ``f"{x.item():.4f}"`` when ``i % every == 0``.)
    """
    steps = len(trajectory) - 1
    return [f"{trajectory[i + 1].item():.4f}" for i in range(0, steps, every)]


def first_difference(actual: np.ndarray, desired: np.ndarray, rtol: float, atol: float) -> str:
    """A one-line account of the first step at which two trajectories part, for messages."""
    bad = ~np.isclose(actual, desired, rtol=rtol, atol=atol)
    if not bad.any():
        return "trajectories agree"
    step = int(np.argwhere(bad.reshape(len(bad), -1).any(axis=1))[0, 0])
    return (
        f"first differs after step {step}: course_lib {actual[step].tolist()} vs "
        f"reference {desired[step].tolist()}"
    )
