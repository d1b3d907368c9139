"""What every optimizer shares: argument checks, per-array state, and framework presets.

A subclass only says what its state holds (``init_state``) and how one array is updated
(``update``); ``step`` does the bookkeeping around it, so the update rules read like the slides.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .._validation import as_numeric_array, check_float_array

State = dict[str, Any]


_IMMUTABLE = (int, float, bool, str, type(None), np.generic)


def _copy_state(state: State) -> State:
    """A copy whose arrays can be changed in place without touching ``state``."""
    return {k: v.copy() if isinstance(v, np.ndarray)
            else v if isinstance(v, _IMMUTABLE) else copy.deepcopy(v)
            for k, v in state.items()}


class NonFiniteGradientError(ValueError):
    """A gradient contained NaN or infinity; the optimizer's state was left untouched."""


class Optimizer:
    """Base class for the course's optimizers.

    Hyperparameters are plain attributes set in the constructor (``opt.lr``, ``opt.beta``, ...),
    ``lr`` first and every other one by keyword. ``lr = 0`` is allowed (no step: schedules warm
    up from it and decay to it); a negative, NaN or infinite ``lr`` is refused.
    State is kept apart, in ``opt.state``: one dict per parameter array, created on the first
    call to ``step``. Every state dict has ``"step"`` (how many updates that array has had) and
    ``"effective_lr"`` (an array: each coordinate's learning rate in the latest step); the
    subclasses add their running averages.
    """

    #: framework name -> constructor arguments that reproduce that framework's definition.
    frameworks: ClassVar[dict[str, dict[str, Any]]] = {}
    #: framework name -> {argument: why it cannot be reproduced}.
    framework_limits: ClassVar[dict[str, dict[str, str]]] = {}
    #: framework name -> arguments that framework stores as float32 whatever the model's dtype
    #: (Keras keeps the learning rate in a float32 variable; TF1 casts every hyperparameter).
    framework_float32: ClassVar[dict[str, tuple[str, ...]]] = {"keras": ("lr",)}

    lr: float
    _hyperparameter_names: ClassVar[tuple[str, ...]]  # set by _names(), once per class

    def __init__(self) -> None:
        self.state: list[State] = []
        self._state_made_with: dict[str, Any] = {}  # hyperparameters when the state was made
        self._state_fits: tuple | None = None  # hyperparameters last checked against the state
        self.check_hyperparameters()

    # --- to be written by each optimizer -------------------------------------------------
    def check_hyperparameters(self) -> None:
        """Validate (and normalise) the hyperparameter attributes; raise on a bad one."""
        raise NotImplementedError

    def init_state(self, param: np.ndarray) -> State:
        """Fresh state for one parameter array (the running averages start here)."""
        return {"step": 0, "effective_lr": np.zeros_like(param)}

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> None:
        """Apply one update to ``param`` in place, reading and writing ``state``."""
        raise NotImplementedError

    # --- shared machinery ----------------------------------------------------------------
    def step(
        self,
        params: np.ndarray | Sequence[np.ndarray],
        grads: np.ndarray | Sequence[np.ndarray] | Any,
    ) -> None:
        """Update ``params`` (one float array, or a list of them) in place, one step.

        The step is all or nothing: every array's new parameters and new state are computed on
        copies and committed together at the end, so any error (a bad hyperparameter, a shape
        mismatch, a NaN/infinite gradient, a hyperparameter switched on after the first step)
        leaves every array's parameters and state, step counters included, as they were.
        """
        self.check_hyperparameters()  # attributes may have been changed, e.g. by a schedule
        param_list, grad_list = self._pair_up(params, grads)
        if self.state:
            self._check_same_state(param_list)
            self._check_same_arrays(param_list)
            old_states = self.state
        else:
            old_states = [self.init_state(p) for p in param_list]
        new_params, new_states = [], []
        for p, g, old in zip(param_list, grad_list, old_states, strict=True):
            new_p, new_s = p.copy(), _copy_state(old)
            new_s["step"] += 1
            self.update(new_p, g, new_s)
            new_params.append(new_p)
            new_states.append(new_s)
        for p, new_p in zip(param_list, new_params, strict=True):  # commit: cannot fail now
            p[...] = new_p
        if not self.state:
            self._state_made_with = self.hyperparameters()
        self.state = new_states

    def reset(self) -> None:
        """Forget all state, as if the optimizer had just been created."""
        self.state = []
        self._state_made_with = {}
        self._state_fits = None

    def hyperparameters(self) -> dict[str, Any]:
        """The constructor arguments, as currently set."""
        return {name: getattr(self, name) for name in self._names()}

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        # read once per class: inspect.signature is slow, and step() asks on every call
        if "_hyperparameter_names" not in cls.__dict__:
            cls._hyperparameter_names = tuple(inspect.signature(cls.__init__).parameters)[1:]
        return cls._hyperparameter_names

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    @classmethod
    def like(cls, framework: str, **overrides: Any) -> Optimizer:
        """This optimizer configured exactly as ``framework`` defines it, defaults included.

        ``overrides`` use the course's argument names (``lr``, ``beta``, ``eps``, ...), e.g.
        ``RMSprop.like("torch", lr=0.3)``.
        """
        if framework not in cls.frameworks:
            allowed = ", ".join(repr(name) for name in cls.frameworks)
            raise ValueError(f"framework must be one of {allowed}, got {framework!r}.")
        names = list(inspect.signature(cls.__init__).parameters)[1:]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise TypeError(
                f"{cls.__name__}.like() got unknown argument(s) {unknown}; "
                f"allowed: {', '.join(names)}."
            )
        for name, why in cls.framework_limits.get(framework, {}).items():
            if overrides.get(name):
                raise ValueError(
                    f"{name}={overrides[name]!r} cannot be matched for {framework}: {why}"
                )
        kwargs = {**cls.frameworks[framework], **overrides}
        if kwargs.get("lr") is None:
            raise TypeError(
                f"{framework}'s {cls.__name__} has no default learning rate: pass lr=..."
            )
        for name in cls.framework_float32.get(framework, ()):
            if isinstance(kwargs.get(name), (int, float)) and not isinstance(kwargs[name], bool):
                # e.g. lr=0.01 becomes 0.009999999776482582, as it does inside that framework
                kwargs[name] = float(np.float32(kwargs[name]))
        return cls(**kwargs)

    def _pair_up(
        self, params: Any, grads: Any
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        single = isinstance(params, np.ndarray)
        if single:
            param_list, grad_list = [params], [grads]
        elif isinstance(params, (list, tuple)):
            if not isinstance(grads, (list, tuple)):
                raise TypeError(
                    f"params is a list of {len(params)} arrays, so grads must be a list too, "
                    f"got {type(grads).__name__}."
                )
            if len(params) != len(grads):
                raise ValueError(
                    f"params and grads must have the same length, got {len(params)} params "
                    f"and {len(grads)} grads."
                )
            if not params:
                raise ValueError("params must hold at least one array, got an empty list.")
            param_list, grad_list = list(params), list(grads)
        else:
            raise TypeError(
                f"params must be a NumPy float array or a list of them, got "
                f"{type(params).__name__}."
            )
        checked = []
        for i, (p, g) in enumerate(zip(param_list, grad_list, strict=True)):
            name = "params" if single else f"params[{i}]"
            gname = "grads" if single else f"grads[{i}]"
            check_float_array(name, p)
            g = as_numeric_array(gname, g, p.dtype)
            if g.shape != p.shape:
                raise ValueError(
                    f"{gname} has shape {g.shape} but {name} has shape {p.shape}; "
                    f"they must match."
                )
            if not np.all(np.isfinite(g)):
                raise NonFiniteGradientError(
                    f"{gname} contains NaN or infinity, so no step was taken and the state was "
                    f"left unchanged. The loss has probably diverged: try a smaller lr "
                    f"(now {self.lr!r})."
                )
            checked.append(g)
        return param_list, checked

    def _check_same_state(self, params: list[np.ndarray]) -> None:
        """The state must hold what the current hyperparameters need (e.g. momentum's buf)."""
        key = tuple(getattr(self, n) for n in self._names())
        if key == self._state_fits:
            return  # same hyperparameters as at the last check: nothing to recompute
        probe = np.zeros(1, dtype=params[0].dtype)  # the keys do not depend on the shape
        needed = set(self.init_state(probe))
        for i, state in enumerate(self.state):
            held = set(state)
            if needed == held:
                continue
            changed = self._changed_hyperparameters(probe, held)
            what = (
                "; ".join(f"{n} was {old!r} when the state was made and is now {new!r}"
                          for n, old, new in changed)
                if changed else f"state[{i}] was modified"
            )
            raise ValueError(
                f"{what}, so the state no longer fits: it needs {sorted(needed)} but holds "
                f"{sorted(held)}. Call reset() after changing "
                f"{', '.join(n for n, _, _ in changed) or 'the state'} (it forgets the running "
                f"averages), or use a new optimizer. Nothing was changed by this step."
            )
        self._state_fits = key

    def _changed_hyperparameters(self, param: np.ndarray, held: set) -> list[tuple]:
        """(name, old, new) for each hyperparameter whose change alone explains the mismatch."""
        before = getattr(self, "_state_made_with", {})
        changed = [(n, v, getattr(self, n)) for n, v in before.items() if getattr(self, n) != v]
        culprits = []
        for name, old, new in changed:
            trial = copy.copy(self)
            setattr(trial, name, old)
            if set(trial.init_state(param)) == held:
                culprits.append((name, old, new))
        return culprits or changed

    def _check_same_arrays(self, params: list[np.ndarray]) -> None:
        shapes = [s["effective_lr"].shape for s in self.state]
        given = [p.shape for p in params]
        if shapes != given:
            raise ValueError(
                f"this optimizer's state is for arrays of shapes {shapes}, but params now have "
                f"shapes {given}. Use one optimizer per set of parameters, or call reset()."
            )
