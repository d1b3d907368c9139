"""Sheet 09 (RMSprop in PyTorch): the cases and comparators of its six exercises.

Expected values come from ``course_lib.optim.RMSprop`` in float64 (which agrees with
``torch.optim.RMSprop`` to about 1e-14 on these problems, lesson 09 section 2.5), from closed
forms, and, for the optimizer class, from ``torch.optim.RMSprop`` itself run in the grader's
process (https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html); never from the
learner's code. torch is imported inside functions only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Case, Exercise, Mismatch
from . import _compare as c

_LESSON = "../notebooks/09_rmsprop_in_pytorch.ipynb"


def _one_float(value: Any) -> float:
    """One number from a float, a one-element array or a one-element tensor."""
    if hasattr(value, "detach"):  # a torch tensor (in-notebook; the grader gets arrays)
        value = value.detach()
    values = np.asarray(value, dtype=float).reshape(-1)
    if values.size != 1:
        raise ValueError("not one number")
    return float(values[0])


def _floats(got: Any, name: str, n: int) -> np.ndarray:
    """``got`` as floats (a list of numbers, or of one-element arrays or tensors)."""
    wrong = Mismatch(f"{name} to be a list of {n} floats", c.show(got),
                     "collect one Python float per step, e.g. with x.item().")
    if hasattr(got, "detach"):  # a tensor in the notebook, as the grader's worker converts it
        got = np.asarray(got.detach(), dtype=float).reshape(-1)
    if not isinstance(got, (list, tuple, np.ndarray)):
        raise wrong
    try:
        return np.array([_one_float(v) for v in got], dtype=float)
    except (TypeError, ValueError, RuntimeError):
        raise wrong from None


# --- train_xlogx ------------------------------------------------------------------------------

def _xlogx_reference(x0: float, lr: float, steps: int, alpha: float,
                     accumulate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(x after each step, loss computed in each step) of RMSprop (torch's rule) on x/log x."""
    from ..objectives import XOverLogX
    from ..optim import RMSprop

    curve, optimizer = XOverLogX(), RMSprop(lr, beta=alpha, eps=1e-8)
    x, total = np.array([float(x0)]), np.zeros(1)
    xs: list[float] = []
    losses: list[float] = []
    for _ in range(steps):
        losses.append(float(curve.f(x)))
        total = total + curve.grad(x) if accumulate else curve.grad(x)  # what x.grad holds
        optimizer.step(x, total)
        xs.append(float(x[0]))
    return np.array(xs), np.array(losses)


def xlogx_public() -> list[Case]:
    return [
        Case("x0 = 364, lr = 0.3, 10 steps (the lesson's run)", (364.0, 0.3, 10)),
        Case("alpha = 0.9 (Keras's decay)", (364.0, 0.3, 10), {"alpha": 0.9}),
        Case("a single step", (50.0, 0.1, 1)),
        Case("300 steps from 20, down to e", (20.0, 0.1, 300)),
    ]


def xlogx_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        x0, lr = float(rng.uniform(100, 400)), float(rng.choice([0.05, 0.1, 0.3]))
        steps, alpha = int(rng.integers(2, 41)), float(rng.choice([0.9, 0.99]))
        cases.append(Case(f"hidden {k + 1}", (x0, lr, steps), {"alpha": alpha}, hidden=True))
    return cases


def _xlogx_mistake(case: Case, xs: np.ndarray, losses: np.ndarray) -> str | None:
    x0, lr, steps = case.args
    alpha = case.kwargs.get("alpha", 0.99)
    right_xs, _ = _xlogx_reference(x0, lr, steps, alpha)
    if c.same(xs, _xlogx_reference(x0, lr, steps, alpha, accumulate=True)[0]):
        return ("gradients accumulate: backward() adds to x.grad, so without "
                "optimizer.zero_grad() in every step RMSprop is fed the sum of all gradients")
    if steps > 1 and np.all(xs == xs[-1]) and not np.all(right_xs == right_xs[-1]):
        return ("every entry is the final x: you stored the tensor itself (or x.detach(), "
                "which shares its memory), and step() updates it in place; store x.item().")
    if alpha != 0.99 and c.same(xs, _xlogx_reference(x0, lr, steps, 0.99)[0]):
        return "pass alpha to torch.optim.RMSprop: its default is 0.99"
    if np.allclose(xs, right_xs, rtol=1e-4) and not np.allclose(xs, right_xs, rtol=1e-10):
        return "compute in float64: torch.tensor([x0], dtype=torch.float64, requires_grad=True)."
    return None


def xlogx_compare(case: Case, got: Any, after: tuple | None) -> None:
    x0, lr, steps = case.args
    alpha = case.kwargs.get("alpha", 0.99)
    got_xs, got_losses = c.pair(got, 2, "(xs, losses)")
    xs, losses = _floats(got_xs, "xs", steps), _floats(got_losses, "losses", steps)
    right_xs, right_losses = _xlogx_reference(x0, lr, steps, alpha)
    if len(xs) == steps + 1 and c.same(xs[1:], right_xs):
        raise Mismatch(f"{steps} values in xs", f"{len(xs)}", "xs holds x after each step",
                       mistake="xs should not include the start x0: one value per step")
    mistake = _xlogx_mistake(case, xs, losses) if len(xs) == steps else None
    # float64 torch and course_lib agree to about 1e-14 here (lesson 09, section 2.5): a tight
    # tolerance, so that a float32 run is caught too
    c.close(xs, right_xs, "xs", "xs[t] is x.item() after step t + 1 of torch.optim.RMSprop, "
            "with lr and alpha as given",
            diagnose=lambda a: mistake, rtol=1e-10, atol=1e-12)
    from ..objectives import XOverLogX

    after_step = np.array([float(XOverLogX().f(np.array([x]))) for x in right_xs])
    c.close(losses, right_losses, "losses", "losses[t] is loss.item() of the forward pass in "
            "step t", diagnose=lambda a: ("off by one step: record the loss of the forward pass, "
                                          "computed at x before optimizer.step() moves it"
                                          if c.same(a, after_step) else None))


# --- fit_line (diagnose) ----------------------------------------------------------------------

def _line_reference(xs: list, ys: list, lr: float, steps: int, alpha: float,
                    mode: str = "right") -> dict[str, Any]:
    """Full-batch RMSprop (torch's rule) on the MSE of y = w x + b from w = b = 0.

    mode "accumulate": the gradient used is the sum of all gradients so far (no zero_grad in
    the loop); "frozen": no gradient reaches the optimizer (zero_grad between backward and
    step)."""
    from ..optim import RMSprop

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    p, total, losses = np.zeros(2), np.zeros(2), []
    optimizer = RMSprop(lr, beta=alpha, eps=1e-8)
    for _ in range(steps):
        r = p[0] * x + p[1] - y
        losses.append(float(np.mean(r * r)))
        g = np.array([2 * np.mean(r * x), 2 * np.mean(r)])
        total = total + g if mode == "accumulate" else g
        if not np.all(np.isfinite(total)):  # diverged: the loss stays inf from here on
            losses += [np.inf] * (steps - len(losses))
            break
        if mode != "frozen":
            optimizer.step(p, total)
    return {"losses": np.array(losses), "w": float(p[0]), "b": float(p[1])}


def line_public() -> list[Case]:
    x5, y5 = [0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 2.9, 5.1, 7.0, 9.1]
    return [
        Case("a single step", (x5, y5, 0.1, 1)),
        Case("five points, lr = 0.1, 100 steps", (x5, y5, 0.1, 100)),
        Case("alpha = 0.9, lr = 0.01, 40 steps", ([-1.0, 0.5, 2.0], [3.0, 1.5, -0.5], 0.01, 40),
             {"alpha": 0.9}),
    ]


def line_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(2):
        n = int(rng.integers(4, 15))
        x = rng.uniform(-3, 3, size=n)
        y = float(rng.normal()) * x + float(rng.normal()) + 0.3 * rng.normal(size=n)
        lr, steps = float(rng.choice([0.01, 0.02, 0.05])), int(rng.integers(20, 61))
        cases.append(Case(f"hidden {k + 1}", ([float(v) for v in x], [float(v) for v in y], lr,
                                              steps), {"alpha": 0.99}, hidden=True))
    return cases


def line_compare(case: Case, got: Any, after: tuple | None) -> None:
    xs, ys, lr, steps = case.args
    alpha = case.kwargs.get("alpha", 0.99)
    if not isinstance(got, dict) or set(got) != {"losses", "w", "b"}:
        raise Mismatch("a dict with keys 'losses', 'w', 'b'", c.show(got),
                       "keep the function's return statement as it was given")
    losses = _floats(got["losses"], "losses", steps)
    found = np.concatenate([losses, [c.number(got["w"], "w", "a number, w.item()."),
                                     c.number(got["b"], "b", "a number, b.item().")]])

    def flat(ref: dict) -> np.ndarray:
        return np.concatenate([ref["losses"], [ref["w"], ref["b"]]])

    def diagnose(a: np.ndarray) -> str | None:
        # the shipped bug is described by its symptom only (the fix is the exercise)
        for mode, why in (("accumulate", "this still behaves like the code you were given: "
                           "the loss falls for a few steps, then climbs back and swings up and "
                           "down"),
                          ("frozen", "w and b never move: clearing the gradients between "
                           "backward() and step() throws them away before the optimizer "
                           "uses them")):
            if c.same(a, flat(_line_reference(xs, ys, lr, steps, alpha, mode))):
                return why
        return None

    c.close(found, flat(_line_reference(xs, ys, lr, steps, alpha)), "(losses..., w, b)",
            "one step is: clear the gradients, forward pass, backward(), step().",
            diagnose=diagnose)


# --- line_setting (tune) ---------------------------------------------------------------------

TUNE_STEPS, TUNE_GOAL = 60, 1e-3


def line_data(seed: int, n: int = 20) -> tuple[list[float], list[float]]:
    """A noisy line from ``seed``: x uniform in [-2, 2], slope in [1.5, 2.5], intercept in
    [0.5, 1.5], noise of std 0.2 (the data sets the tune exercise is judged on)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    w, b = rng.uniform(1.5, 2.5), rng.uniform(0.5, 1.5)
    y = w * x + b + 0.2 * rng.normal(size=n)
    return [float(v) for v in x], [float(v) for v in y]


def line_excess(seed: int, lr: float, alpha: float, steps: int = TUNE_STEPS) -> np.ndarray:
    """The training loss minus the least-squares loss after each of ``steps`` steps of
    RMSprop (torch's rule, course_lib float64) from w = b = 0 on ``line_data(seed)``."""
    x, y = (np.array(v) for v in line_data(seed))
    design = np.c_[x, np.ones_like(x)]
    best = float(np.mean((design @ np.linalg.lstsq(design, y, rcond=None)[0] - y) ** 2))
    ref = _line_reference(list(x), list(y), lr, steps + 1, alpha)
    return ref["losses"][1:] - best     # losses[t] is the loss before step t + 1


def tune_public() -> list[Case]:
    return [Case(f"data set {seed}", (), {"seed": seed}) for seed in (0, 1, 2)]


def tune_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden {k + 1}", (), {"seed": int(rng.integers(3, 10**6))}, hidden=True)
            for k in range(3)]


def _setting(got: Any) -> tuple[float, float]:
    if not isinstance(got, dict) or set(got) != {"lr", "alpha"}:
        raise Mismatch("a dict with the keys 'lr' and 'alpha'", c.show(got),
                       "line_setting = {'lr': ..., 'alpha': ...}")
    lr, alpha = c.number(got["lr"], "lr", "a number"), c.number(got["alpha"], "alpha", "a number")
    if not lr > 0:
        raise Mismatch("lr > 0", f"lr = {lr!r}", "a learning rate is positive",
                       mistake="lr must be a positive number")
    if not 0 <= alpha < 1:
        raise Mismatch("alpha in [0, 1)", f"alpha = {alpha!r}", "alpha is a decay rate",
                       mistake="alpha is the decay of v and must be in [0, 1)")
    return lr, alpha


def _tune_mistake(excess: np.ndarray, lr: float, alpha: float) -> str | None:
    if not np.all(np.isfinite(excess)):
        return "the run diverged (the loss became inf or NaN)"
    if (lr, alpha) == (0.01, 0.99):
        return ("these are torch's defaults: in 60 steps of about lr each, RMSprop does not get "
                "from w = 0 to a slope near 2")
    if excess.min() < TUNE_GOAL:
        return (f"the run got within {TUNE_GOAL:g} and then left again: RMSprop keeps steps "
                "of about lr around the minimum while v forgets its past (alpha = "
                f"{alpha:g} remembers about {1 / (1 - alpha):.0f} steps)")
    return ("still on its way after 60 steps: the steps are too short (lr) or shrink too "
            "early")


def tune_compare(case: Case, got: Any, after: tuple | None) -> None:
    lr, alpha = _setting(got)
    with np.errstate(all="ignore"):
        excess = line_excess(case.kwargs["seed"], lr, alpha)
    last = float(excess[-1])
    if not last < TUNE_GOAL:
        raise Mismatch(f"the loss after {TUNE_STEPS} steps within {TUNE_GOAL:g} of least "
                       "squares", f"{last:.3g} above it", "choose lr and alpha together: "
                       "the run must travel far enough early and settle by the end",
                       mistake=_tune_mistake(excess, lr, alpha))


def tune_comment(case: Case, got: Any) -> str | None:
    lr, alpha = float(got["lr"]), float(got["alpha"])
    rows = [f"data set {seed}: {max(float(line_excess(seed, lr, alpha)[-1]), 0.0):.1e} above "
            "least squares" for seed in (0, 1, 2)]
    return f"lr = {lr:g}, alpha = {alpha:g}: " + "; ".join(rows)


# --- first_steps (predict) --------------------------------------------------------------------

FIRST_STEP_KEYS = ("torch, g = 1", "keras, g = 1", "torch, g = 1e-4", "keras, g = 1e-4")
_PREDICT_TOL = 0.05  # relative


def first_step_measured(key: str) -> float:
    """|x_1 - x_0| of the framework's default RMSprop rule with lr = 0.3 under gradient g."""
    from ..optim import RMSprop

    framework, g = key.split(", g = ")
    optimizer, x = RMSprop.like(framework, lr=0.3), np.zeros(1)
    optimizer.step(x, np.array([float(g)]))
    return float(abs(x[0]))


def _first_step_mistake(key: str, value: float) -> str | None:
    framework, g_text = key.split(", g = ")
    g, lr = float(g_text), 0.3
    beta = {"torch": 0.99, "keras": 0.9}[framework]
    other = {"torch": 0.9, "keras": 0.99}[framework]

    def near(target: float) -> bool:
        return abs(value - target) <= _PREDICT_TOL * abs(target)

    if framework == "torch" and g < 1e-3 and near(lr * g / np.sqrt((1 - beta) * g * g + 1e-8)):
        return ("torch adds eps outside the root: sqrt(v) + eps = 1e-5 + 1e-8 here (inside, "
                "sqrt(v + eps) would be about 1e-4 and the step about lr).")
    if near(lr):
        return ("v starts at 0, so after one step v = (1 - decay) g^2 and the step is "
                "lr / sqrt(1 - decay), not lr")
    if near(lr / np.sqrt(1 - other)):
        return (f"that is the other framework's decay: {framework}'s is {beta} "
                "(torch's alpha = 0.99, Keras's rho = 0.9)")
    if framework == "keras" and g < 1e-3 and near(lr / np.sqrt(1 - beta)):
        return ("Keras adds eps = 1e-7 inside the root: here (1 - rho) g^2 = 1e-9 is much "
                "smaller than eps, so sqrt(v + eps) is about sqrt(eps).")
    if near(lr * g) or near(lr * g / np.sqrt(1 - beta)):
        return "RMSprop divides g by its own RMS: the step does not scale with g"
    return None


def first_steps_public() -> list[Case]:
    return [Case(key, (), {"key": key}) for key in FIRST_STEP_KEYS]


def first_steps_compare(case: Case, got: Any, after: tuple | None) -> None:
    key = case.kwargs["key"]
    if not isinstance(got, dict) or set(got) != set(FIRST_STEP_KEYS):
        raise Mismatch(f"a dict with the keys {list(FIRST_STEP_KEYS)}", c.show(got),
                       "fill in one number per key, the keys as given")
    value = c.number(got[key], f"first_steps[{key!r}]", "a number: the size of the first step")
    measured = first_step_measured(key)
    if not abs(value - measured) <= _PREDICT_TOL * measured:
        raise Mismatch(f"within 5% of the measured {measured:.4g}", f"{value:.4g}",
                       "the first step of RMSprop from v = 0 is lr g / d with v = (1 - decay) "
                       "g^2, and d is each framework's denominator",
                       mistake=_first_step_mistake(key, value))


def first_steps_comment(case: Case, got: Any) -> str | None:
    """Every prediction next to its measurement (printed once, after the pass line)."""
    lines = []
    for key in FIRST_STEP_KEYS:
        measured, value = first_step_measured(key), float(got[key])
        lines.append(f"{key + ':':17s} you predicted {value:.4g}, measured {measured:.4g} "
                     f"(gap {abs(value - measured) / measured:.1%})")
    return "\n".join(lines)


# --- MomentumRMSprop (a torch.optim.Optimizer subclass, via the harness) ----------------------

def rmsprop_class_public() -> list[Case]:
    def case(label: str, **kwargs: Any) -> Case:
        return Case(label, (), kwargs)

    return [
        case("5 steps, momentum 0, on a bowl with a tensor the loss never uses (.grad is None)",
             problem="quadratic", seed=0, steps=5, lr=0.05, hyper={"beta": 0.99}),
        case("momentum 0.9, beta 0.9, 20 steps", problem="quadratic", seed=1, steps=20,
             lr=0.02, hyper={"beta": 0.9, "momentum": 0.9}),
        case("two parameter groups with their own lr", problem="quadratic", seed=2, steps=10,
             lr=0.01, hyper={"beta": 0.9}, group_lrs=[0.05, 0.005]),
        case("a StepLR schedule (lr x 0.1 every 8 steps), momentum 0.9", problem="quadratic",
             seed=3, steps=20, lr=0.05, hyper={"beta": 0.9, "momentum": 0.9},
             schedule={"step_size": 8, "gamma": 0.1}),
        case("a small network, 30 steps, momentum 0.5, eps 1e-6", problem="network", seed=4,
             steps=30, lr=0.01, hyper={"beta": 0.99, "momentum": 0.5, "eps": 1e-6}),
    ]


def rmsprop_class_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(3):
        hyper = {"beta": float(rng.choice([0.9, 0.99])),
                 "momentum": float(rng.choice([0.0, 0.5, 0.9]))}
        kwargs: dict[str, Any] = {"problem": ("quadratic", "network")[k % 2],
                                  "seed": int(rng.integers(100, 10_000)),
                                  "steps": int(rng.integers(5, 25)),
                                  "lr": float(rng.choice([0.005, 0.01, 0.03])), "hyper": hyper}
        if rng.random() < 0.5:
            kwargs["schedule"] = {"step_size": int(rng.integers(3, 8)), "gamma": 0.5}
        cases.append(Case(f"hidden {k + 1}", (), kwargs, hidden=True))
    return cases


_CLASS_MISTAKES = {
    "eps_inside": "torch adds eps outside the root: sqrt(v) + eps.",
    "no_one_minus_beta": "the new g^2 is weighted by (1 - beta): v = beta v + (1 - beta) g^2",
    "defaults_lr": ("read lr from each group, group['lr'], in every step: groups have their "
                    "own lr, and a scheduler writes the new lr into group['lr']"),
    "lr_in_buffer": ("torch keeps lr out of the buffer (b = mu b + g/d, p = p - lr b); with lr "
                     "inside it (Keras's form) a schedule reaches only new gradients"),
    "no_momentum": "use the group's momentum: b = momentum b + g/d, then p = p - lr b",
    "state_reset": ("keep v and the buffer in self.state[p], so that they carry over from one "
                    "step to the next"),
}


def _mistaken_class(mistake: str) -> type:
    """A torch optimizer with one of the known mistakes (to name a learner's)."""
    import torch

    class Mistaken(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-2, *, beta=0.99, eps=1e-8, momentum=0.0):
            super().__init__(params, {"lr": lr, "beta": beta, "eps": eps, "momentum": momentum})

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                lr = self.defaults["lr"] if mistake == "defaults_lr" else group["lr"]
                beta, eps = group["beta"], group["eps"]
                mu = 0.0 if mistake == "no_momentum" else group["momentum"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = {} if mistake == "state_reset" else self.state[p]
                    if not state:
                        state["v"], state["b"] = torch.zeros_like(p), torch.zeros_like(p)
                    g, v, b = p.grad, state["v"], state["b"]
                    v.mul_(beta).add_((1.0 if mistake == "no_one_minus_beta" else 1 - beta) * g * g)
                    d = (v + eps).sqrt() if mistake == "eps_inside" else v.sqrt() + eps
                    b.mul_(mu).add_((lr if mistake == "lr_in_buffer" else 1.0) * g / d)
                    p.sub_(b if mistake == "lr_in_buffer" else lr * b)

    return Mistaken


def rmsprop_class_compare(case: Case, got: Any, after: tuple | None) -> None:
    from ..torch_harness import run_optimizer, run_torch_rmsprop

    expected = run_torch_rmsprop(**case.kwargs)
    if not isinstance(got, dict) or "params" not in got:
        raise Mismatch("the harness's results", c.show(got), "run the class through check()")
    params = c.array(got["params"], expected["params"].shape, "the parameters",
                     "every tensor, after every step")

    def diagnose(a: np.ndarray) -> str | None:
        if np.array_equal(a, np.repeat(a[:1], len(a), axis=0)):
            return ("the parameters never move: update each tensor in place (p.sub_(...) or "
                    "p.add_(..., alpha=-lr)); p = p - ... only rebinds a local name.")
        for mistake, why in _CLASS_MISTAKES.items():
            if c.same(a, run_optimizer(_mistaken_class(mistake), **case.kwargs)["params"]):
                return why
        return None

    tol = c.FLOAT64_TOL
    with np.errstate(all="ignore"):
        bad = ~np.all(np.isclose(params, expected["params"], rtol=tol["rtol"],
                                 atol=tol["atol"]), axis=1)
    if bad.any():  # show the first step that differs, not the whole trajectory
        k = int(np.argmax(bad))
        c.close(params[k], expected["params"][k], f"every parameter after step {k}",
                "follow torch's rule, v = beta v + (1 - beta) g^2, d = sqrt(v) + eps, "
                "b = momentum b + g/d, p = p - lr b.", diagnose=lambda _: diagnose(params))


EXERCISES = {
    "train_xlogx": Exercise(
        "train_xlogx", xlogx_public, xlogx_compare, xlogx_hidden,
        lesson=f"lesson 09, section 1.1 (Four calls per step): {_LESSON}"),
    "fit_line": Exercise(
        "fit_line", line_public, line_compare, line_hidden,
        lesson=f"lesson 09, section 3.2 (zero_grad, and gradients that add up): {_LESSON}"),
    "line_setting": Exercise(
        "line_setting", tune_public, tune_compare, tune_hidden, mode="value",
        comment=tune_comment,
        lesson=f"lesson 09, section 4.1 (Four defaults, switched one at a time): {_LESSON}; "
               "and lesson 05 (RMSprop), on lr and beta"),
    "first_steps": Exercise(
        "first_steps", first_steps_public, first_steps_compare, mode="value",
        comment=first_steps_comment,
        lesson=f"lesson 09, section 4.1 (Four defaults, switched one at a time): {_LESSON}"),
    "momentum_rmsprop": Exercise(
        "momentum_rmsprop", rmsprop_class_public, rmsprop_class_compare, rmsprop_class_hidden,
        name="MomentumRMSprop", via="course_lib.torch_harness.run_optimizer",
        forbidden=("RMSprop", "torch_harness"),
        lesson=f"lesson 09, section 5.1 (The class): {_LESSON}"),
    "float32_verdict": Exercise(
        "float32_verdict", mode="explain",
        lesson=f"lesson 09, sections 2.4-2.5 (A NumPy replica; In float64): {_LESSON}"),
}
