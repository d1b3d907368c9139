r"""Tune an optimizer's hyperparameters fairly: several seeds, and no winner on a range's edge.

A comparison between optimizers means something only if every contender had its own
hyperparameters tuned with the same budget, the spread over seeds is shown, and no setting is
called best while it sits on the edge of the range that was searched (the optimum may lie just
beyond it). :func:`tune` does all three.

Ranges (each is searched in its own natural coordinate ``u``):

=====================================  ==========================  ==============================
range                                  coordinate ``u``            widening past an edge
=====================================  ==========================  ==============================
``LogGrid(lo, hi, per_decade=3)``      ``log10(value)``            one more decade on that side
``DecayGrid(lo, hi, per_decade=1)``    ``-log10(1 - beta)``        one more decade of ``1 - beta``
                                                                   (0.999 -> 0.9999; down to 0)
``LinearGrid(lo, hi, num=5)``          ``value``                   one more step (halving the gap
                                                                   to an excluded upper bound)
``Choice([...])``                      none (unordered)            never: no edge rule
=====================================  ==========================  ==============================

Grid search (``method="grid"``) scores every point of the Cartesian product of the grids on
every seed. The best setting has the lowest mean score over the seeds (ties: lower standard
deviation, then the earlier setting). If its value of some hyperparameter is the smallest or
largest of that grid, the grid is widened on that side and the new settings are scored; this
repeats up to ``max_widenings`` times per hyperparameter, after which :class:`EdgeOfRangeError`
is raised. An edge that is the hyperparameter's *natural bound* (beta = 0 or momentum = 0: no
averaging, no momentum) cannot be widened: it is reported in ``notes`` instead.

Random search (``method="random"``, Bergstra & Bengio 2012,
https://jmlr.org/papers/v13/bergstra12a.html) draws ``trials`` settings, each hyperparameter
independently and uniformly in its coordinate ``u`` (log-uniformly for ``LogGrid``). The best value
of a hyperparameter is *on the edge* when it is the smallest (largest) value sampled for it **and**
lies within half a grid step of the range's low (high) end, i.e. in the outer
``1/(2*per_decade)`` decade of a ``LogGrid``. Widening extends the range as for a grid and draws
``trials`` more settings whose value of that hyperparameter lies in the new strip (the others are
drawn from their whole current ranges).

A score is a function ``score(optimizer, seed) -> float``, lower is better; NaN, infinity and a
:class:`~course_lib.optim.NonFiniteGradientError` raised inside it count as a failed run
(score ``inf``). A setting with any failed seed has mean ``inf``.

Worked example: plain gradient descent on :math:`f(x) = a x^2 / 2` lands on the minimum in one
step when :math:`lr = 1/a`, so counting steps to a tolerance must find ``lr = 1/a``:

>>> import numpy as np
>>> from course_lib.optim import SGD
>>> from course_lib.tuning import tune, LogGrid
>>> def steps_to_tol(opt, seed, a=4.0):
...     x = np.array([1.0 + seed])
...     for k in range(1, 1001):
...         opt.step(x, a * x)
...         if abs(x[0]) < 1e-8:
...             return k
...     return np.inf
>>> result = tune(SGD, {"lr": LogGrid(1 / 16, 1.0, per_decade=1 / np.log10(2))},
...               steps_to_tol, seeds=range(3))  # lr = 1/16, 1/8, 1/4, 1/2, 1
>>> result.best, result.scores
({'lr': 0.25}, array([1., 1., 1.]))
>>> result
SGD tuned by grid search: 5 settings x 3 seeds
best: lr=0.25
score: mean 1, std 0, min 1, max 1, failed 0 of 3
>>> result.table[["lr", "mean", "failed"]]
       lr       mean  failed
0  0.2500   1.000000       0
1  0.1250  28.000000       0
2  0.0625  66.666667       0
3  0.5000        inf       3
4  1.0000        inf       3

A grid that stops short of the best rate is widened, and the widening is noted:

>>> result = tune(SGD, {"lr": LogGrid(0.01, 0.1, per_decade=2)}, steps_to_tol, seeds=range(3))
>>> result.best
{'lr': 0.316227766017}
>>> print(result.notes[0].replace("; ", ";\n"))
lr: best value 0.1 was on the high edge of LogGrid(0.01, 0.1, per_decade=2);
widened to LogGrid(0.01, 1.0, per_decade=2).
"""

from __future__ import annotations

import copy
import inspect
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ._validation import check_real
from .optim.base import NonFiniteGradientError

__all__ = [
    "tune",
    "TuningResult",
    "LogGrid",
    "DecayGrid",
    "LinearGrid",
    "Choice",
    "EdgeOfRangeError",
]

Edge = Literal["low", "high"]
Score = Callable[[Any, int], float]


class EdgeOfRangeError(ValueError):
    """The best setting still sits on the edge of a hyperparameter's range after widening."""

    def __init__(self, name: str, edge: Edge, value: Any, message: str) -> None:
        super().__init__(message)
        self.name, self.edge, self.value = name, edge, value


def _tidy(value: float) -> float:
    """Round to 12 significant digits, so 10**-2 prints as 0.01 and widened grids match."""
    return float(f"{value:.12g}")


def _check_per_decade(per_decade: object) -> float:
    value = check_real("per_decade", per_decade)
    if not (0 < value < math.inf):
        raise ValueError(f"per_decade must be a finite number > 0, got {per_decade!r}.")
    return value


# --- ranges --------------------------------------------------------------------------------
class _NumericRange:
    """Points ``u`` on a lattice of step ``step`` in a coordinate where the search is uniform.

    ``u_bounds`` are the natural bounds of the coordinate (both allowed values); a widening
    never passes them, and a best value sitting on one is reported, not widened.
    """

    _us: tuple[float, ...]
    step: float
    widen_points: int  # lattice points added per widening
    u_bounds: tuple[float, float] = (-math.inf, math.inf)

    def _init_lattice(self, u_lo: float, u_hi: float, per_unit: float) -> None:
        n = max(2, round((u_hi - u_lo) * per_unit) + 1)
        self.step = (u_hi - u_lo) / (n - 1)
        self._us = tuple(float(u) for u in np.linspace(u_lo, u_hi, n))

    # conversions, written by each range
    def _to_value(self, u: float) -> float:
        raise NotImplementedError

    def _to_u(self, value: float) -> float:
        raise NotImplementedError

    def values(self) -> list[float]:
        """The grid's values, in increasing order."""
        return [self._to_value(u) for u in self._us]

    @property
    def lo(self) -> float:
        return self._to_value(self._us[0])

    @property
    def hi(self) -> float:
        return self._to_value(self._us[-1])

    def _outward(self, edge: Edge) -> list[float]:
        """New lattice points beyond ``edge``, clipped to the natural bound (may be empty)."""
        sign, end = (-1, self._us[0]) if edge == "low" else (1, self._us[-1])
        bound = self.u_bounds[0] if edge == "low" else self.u_bounds[1]
        new: list[float] = []
        for k in range(1, self.widen_points + 1):
            u = end + sign * k * self.step
            if (u - bound) * sign >= 0 or math.isclose(u, bound, abs_tol=1e-9):
                if not math.isclose(end, bound, abs_tol=1e-9):
                    new.append(bound)
                break
            new.append(u)
        return new

    def widen(self, edge: Edge) -> _NumericRange | None:
        """This range extended past ``edge``, or ``None`` if that edge is a natural bound."""
        new = self._outward(edge)
        if not new:
            return None
        wider = copy.copy(self)
        wider._us = tuple(sorted(self._us + tuple(new)))
        return wider

    def on_edge(self, value: float, edge: Edge, zone: bool) -> bool:
        """Is ``value`` on ``edge``: the end point itself, or (``zone``) within half a step?"""
        u, end = self._to_u(value), self._us[0] if edge == "low" else self._us[-1]
        if not zone:
            return math.isclose(u, end, rel_tol=1e-9, abs_tol=1e-12)
        return abs(u - end) <= self.step / 2 + 1e-12

    def sample(self, rng: np.random.Generator, n: int) -> list[float]:
        """``n`` values drawn uniformly in ``u`` over the whole range."""
        return [_tidy(self._to_value(u)) for u in rng.uniform(self._us[0], self._us[-1], n)]

    def sample_strip(self, wider: _NumericRange, rng: np.random.Generator, n: int) -> list[float]:
        """``n`` values drawn uniformly in ``u`` over the part of ``wider`` outside this range."""
        if wider._us[0] < self._us[0]:
            a, b = wider._us[0], self._us[0]
        else:
            a, b = self._us[-1], wider._us[-1]
        return [_tidy(self._to_value(u)) for u in rng.uniform(a, b, n)]


class LogGrid(_NumericRange):
    """Log-spaced values from ``lo`` to ``hi``, both included, ``per_decade`` per factor of 10.

    ``LogGrid(1e-3, 1.0, per_decade=3)`` is 0.001, 0.00215, 0.00464, 0.01, ..., 1.0 (10 values).
    Widening adds one decade beyond the edge, at the same spacing. Use it for learning rates
    and ``eps``.
    """

    widen_by_decades = 1.0

    def __init__(self, lo: float, hi: float, per_decade: float = 3) -> None:
        lo, hi = check_real("lo", lo), check_real("hi", hi)
        if not (0 < lo < hi < math.inf):
            raise ValueError(f"LogGrid needs 0 < lo < hi < inf, got lo={lo!r}, hi={hi!r}.")
        self.per_decade = _check_per_decade(per_decade)
        self._init_lattice(math.log10(lo), math.log10(hi), self.per_decade)
        self.widen_points = max(1, round(self.per_decade))

    def _to_value(self, u: float) -> float:
        return _tidy(10.0**u)

    def _to_u(self, value: float) -> float:
        return math.log10(value)

    def __repr__(self) -> str:
        return f"LogGrid({self.lo!r}, {self.hi!r}, per_decade={self.per_decade:g})"


class DecayGrid(_NumericRange):
    """Decay rates ``beta`` from ``lo`` to ``hi`` with ``1 - beta`` log-spaced.

    ``DecayGrid(0.9, 0.999)`` is 0.9, 0.99, 0.999: averaging windows ``1/(1 - beta)`` of 10, 100
    and 1000 steps. Widening towards 1 adds 0.9999, ... (1 itself never: that average would never
    forget); widening below ``lo`` adds one decade of ``1 - beta`` and stops at ``beta = 0`` (no
    averaging at all), the natural bound. Use it for ``beta``, ``beta1``, ``beta2`` and
    ``momentum`` (0 included as the bound: ``DecayGrid(0.0, 0.99)`` is 0, 0.9, 0.99).
    """

    u_bounds = (0.0, 12.0)  # beta = 0 and beta = 1 - 1e-12

    def __init__(self, lo: float, hi: float, per_decade: float = 1) -> None:
        lo, hi = check_real("lo", lo), check_real("hi", hi)
        if not (0 <= lo < hi < 1):
            raise ValueError(f"DecayGrid needs 0 <= lo < hi < 1, got lo={lo!r}, hi={hi!r}.")
        if 1 - hi < 1e-12:
            raise ValueError(f"DecayGrid needs hi <= 1 - 1e-12, got hi={hi!r}.")
        self.per_decade = _check_per_decade(per_decade)
        self._init_lattice(-math.log10(1 - lo), -math.log10(1 - hi), self.per_decade)
        self.widen_points = max(1, round(self.per_decade))

    def _to_value(self, u: float) -> float:
        if u <= 0:
            return 0.0
        return float(f"{1.0 - _tidy(10.0**-u):.15g}")

    def _to_u(self, value: float) -> float:
        return -math.log10(1.0 - value)

    def __repr__(self) -> str:
        return f"DecayGrid({self.lo!r}, {self.hi!r}, per_decade={self.per_decade:g})"


class LinearGrid(_NumericRange):
    """``num`` evenly spaced values from ``lo`` to ``hi``, inside ``bounds = (lower, upper)``.

    The lower bound is allowed (momentum = 0 is plain gradient descent), the upper one is not
    (momentum = 1 never forgets): widening down adds one step and stops at ``lower``; widening
    up adds one step, or halves the gap to ``upper`` when a step would reach it.
    """

    widen_points = 1

    def __init__(
        self, lo: float, hi: float, num: int = 5, *, bounds: tuple[float, float] = (0.0, 1.0)
    ) -> None:
        lo, hi = check_real("lo", lo), check_real("hi", hi)
        lower, upper = (check_real("bounds[0]", bounds[0]), check_real("bounds[1]", bounds[1]))
        if not (lower <= lo < hi < upper):
            raise ValueError(
                f"LinearGrid needs bounds[0] <= lo < hi < bounds[1], got lo={lo!r}, hi={hi!r}, "
                f"bounds={bounds!r}."
            )
        if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 2:
            raise ValueError(f"num must be an integer >= 2, got {num!r}.")
        self.num, self.bounds = int(num), (lower, upper)
        self.u_bounds = (lower, upper)
        self._init_lattice(lo, hi, (num - 1) / (hi - lo))

    def _to_value(self, u: float) -> float:
        return _tidy(u)

    def _to_u(self, value: float) -> float:
        return value

    def _outward(self, edge: Edge) -> list[float]:
        if edge == "low":
            return super()._outward(edge)
        end, upper = self._us[-1], self.u_bounds[1]
        return [end + self.step if end + self.step < upper else (end + upper) / 2]

    def __repr__(self) -> str:
        return f"LinearGrid({self.lo!r}, {self.hi!r}, num={len(self._us)}, bounds={self.bounds!r})"


class Choice:
    """An unordered set of values (``True``/``False``, ``"nesterov"``, ...): no edge rule."""

    def __init__(self, options: Sequence[Any]) -> None:
        if isinstance(options, (str, bytes)) or not isinstance(options, (list, tuple)):
            raise TypeError(f"Choice needs a list of options, got {options!r}.")
        if not options:
            raise ValueError("Choice needs at least one option, got an empty list.")
        try:
            distinct = len(set(options)) == len(options)
        except TypeError:
            raise TypeError(f"Choice options must be hashable, got {options!r}.") from None
        if not distinct:
            raise ValueError(f"Choice options must be distinct, got {options!r}.")
        self.options = list(options)

    def values(self) -> list[Any]:
        return list(self.options)

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        return [self.options[i] for i in rng.integers(len(self.options), size=n)]

    def __repr__(self) -> str:
        return f"Choice({self.options!r})"


Range = _NumericRange | Choice


# --- result --------------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if 0.5 < value < 1:  # a decay rate: keep its nines, 0.999999 is not 1
            return f"{value:.{max(4, 3 - math.floor(math.log10(1 - value)))}g}"
        return f"{value:.4g}"
    return repr(value)


def _fmt_setting(setting: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in setting.items())


@dataclass(repr=False)
class TuningResult:
    """What :func:`tune` found. ``repr()`` is :meth:`summary`."""

    best: dict[str, Any]  #: the best setting of the tuned hyperparameters
    scores: np.ndarray  #: the best setting's score on each seed, in the order of ``seeds``
    table: Any  #: pandas DataFrame, one row per setting, sorted by mean (best first)
    trials: int  #: number of settings scored (widening included), each on every seed
    notes: list[str]  #: ranges widened, and edges left alone because they are natural bounds
    fixed: dict[str, Any] = field(default_factory=dict)  #: hyperparameters held fixed
    seeds: tuple[int, ...] = ()  #: the seeds every setting was scored on
    space: dict[str, Range] = field(default_factory=dict)  #: the ranges, as finally widened
    method: str = "grid"
    factory: Callable[..., Any] | None = None  #: the optimizer class (or callable) tuned
    _all: dict[tuple[Any, ...], np.ndarray] = field(default_factory=dict)

    def optimizer(self) -> Any:
        """A fresh optimizer with the best setting (``fixed`` included)."""
        assert self.factory is not None
        return self.factory(**self.fixed, **self.best)

    def scores_for(self, **setting: Any) -> np.ndarray:
        """The per-seed scores of any scored setting, e.g. ``result.scores_for(lr=0.1)``."""
        if set(setting) != set(self.space):
            raise TypeError(f"give a value for each of {list(self.space)}, got {list(setting)}.")
        key = tuple(setting[name] for name in self.space)
        if key not in self._all:
            raise KeyError(f"the setting {_fmt_setting(setting)} was not scored.")
        return self._all[key].copy()

    def summary(self) -> str:
        """A few lines: what was searched, the best setting and its spread, the notes."""
        name = getattr(self.factory, "__name__", type(self.factory).__name__)
        s = self.scores
        failed = int(np.sum(~np.isfinite(s)))
        lines = [
            f"{name} tuned by {self.method} search: {self.trials} settings x "
            f"{len(self.seeds)} seeds",
            f"best: {_fmt_setting(self.best)}"
            + (f" (fixed: {_fmt_setting(self.fixed)})" if self.fixed else ""),
            f"score: mean {_fmt(float(np.mean(s)))}, std {_fmt(_std(s))}, "
            f"min {_fmt(float(np.min(s)))}, max {_fmt(float(np.max(s)))}, "
            f"failed {failed} of {len(s)}",
        ]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _std(scores: np.ndarray) -> float:
    # std over seeds (np.std, ddof=0); inf when a seed failed, without numpy's warning
    return float(np.std(scores)) if np.all(np.isfinite(scores)) else math.inf


# --- the search ----------------------------------------------------------------------------
class _Search:
    """Scores settings once each and ranks them; the state of one call to :func:`tune`."""

    def __init__(self, factory: Callable[..., Any], names: list[str], score: Score,
                 seeds: tuple[int, ...], fixed: dict[str, Any]) -> None:
        self.factory, self.names, self.score = factory, names, score
        self.seeds, self.fixed = seeds, fixed
        self.results: dict[tuple[Any, ...], np.ndarray] = {}

    def run(self, setting: tuple[Any, ...]) -> None:
        if setting in self.results:
            return
        hp = dict(zip(self.names, setting, strict=True))
        out = np.empty(len(self.seeds))
        for i, seed in enumerate(self.seeds):
            out[i] = self._one(hp, seed)
        self.results[setting] = out

    def _one(self, hp: dict[str, Any], seed: int) -> float:
        opt = self.factory(**self.fixed, **hp)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                value = self.score(opt, seed)
        except NonFiniteGradientError:
            return math.inf
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"score must return a real number (lower is better), got {value!r} for "
                f"{_fmt_setting(hp)}, seed {seed}."
            ) from None
        return math.inf if math.isnan(value) else value

    def ranked(self) -> list[tuple[Any, ...]]:
        """Settings best first: lowest mean, then lowest std, then scored first."""
        order = {s: i for i, s in enumerate(self.results)}
        def key(s: tuple[Any, ...]) -> tuple[float, float, int]:
            scores = self.results[s]
            mean = float(np.mean(scores)) if np.all(np.isfinite(scores)) else math.inf
            return (mean, _std(scores), order[s])
        return sorted(self.results, key=key)

    def table(self) -> Any:
        import pandas as pd  # only once, at the end: never in the scoring loop

        rows = []
        for s in self.ranked():
            sc = self.results[s]
            finite = bool(np.all(np.isfinite(sc)))
            rows.append({**dict(zip(self.names, s, strict=True)),
                         "mean": float(np.mean(sc)) if finite else math.inf, "std": _std(sc),
                         "min": float(np.min(sc)), "max": float(np.max(sc)),
                         "failed": int(np.sum(~np.isfinite(sc)))})
        return pd.DataFrame(rows)


def _edges(best: dict[str, Any], ranges: dict[str, Range], search: _Search,
           zone: bool) -> list[tuple[str, Edge]]:
    """Which (hyperparameter, edge) pairs the best setting sits on."""
    found: list[tuple[str, Edge]] = []
    for i, (name, r) in enumerate(ranges.items()):
        if isinstance(r, Choice):
            continue
        seen = [s[i] for s in search.results]
        ends: tuple[tuple[Edge, Any], ...] = (("low", min(seen)), ("high", max(seen)))
        for edge, extreme in ends:
            if best[name] == extreme and r.on_edge(best[name], edge, zone):
                found.append((name, edge))
    return found


def _edge_error(name: str, edge: Edge, value: Any, r: Range,
                max_widenings: int) -> EdgeOfRangeError:
    side = "smaller" if edge == "low" else "larger"
    return EdgeOfRangeError(
        name, edge,
        value,
        f"the best setting has {name}={_fmt(value)}, on the {edge} edge of its range {r!r}, "
        f"after {max_widenings} widening(s), so it cannot be called best: a {side} {name} may "
        f"score better. Search a range that extends further on the {edge} side, or pass a "
        f"larger max_widenings.",
    )


def _widen_step(search: _Search, ranges: dict[str, Range], widenings: dict[str, int],
                max_widenings: int, zone: bool,
                notes: list[str]) -> list[tuple[str, _NumericRange]]:
    """Widen every range whose edge holds the best value; return (name, old range) widened."""
    best_key = search.ranked()[0]
    best = dict(zip(ranges, best_key, strict=True))
    if not np.all(np.isfinite(search.results[best_key])):
        return []  # every setting failed: no ranking, so no edge to widen (tune raises)
    widened: list[tuple[str, _NumericRange]] = []
    for name, edge in _edges(best, ranges, search, zone):
        old = ranges[name]
        assert isinstance(old, _NumericRange)  # _edges skips Choice
        wider = old.widen(edge)
        if wider is None:
            continue  # a natural bound: noted at the end if it still holds the best value
        if widenings[name] >= max_widenings:
            raise _edge_error(name, edge, best[name], old, max_widenings)
        widenings[name] += 1
        ranges[name] = wider
        widened.append((name, old))
        notes.append(f"{name}: best value {_fmt(best[name])} was on the {edge} edge of {old!r}; "
                     f"widened to {wider!r}.")
    return widened


def _grid(search: _Search, ranges: dict[str, Range], max_widenings: int,
          notes: list[str]) -> None:
    widenings = dict.fromkeys(ranges, 0)
    while True:
        for setting in itertools.product(*(r.values() for r in ranges.values())):
            search.run(setting)
        if not _widen_step(search, ranges, widenings, max_widenings, False, notes):
            return


def _random(search: _Search, ranges: dict[str, Range], max_widenings: int, trials: int,
            rng: np.random.Generator, notes: list[str]) -> None:
    widenings = dict.fromkeys(ranges, 0)
    draws = {name: r.sample(rng, trials) for name, r in ranges.items()}
    while True:
        for setting in zip(*draws.values(), strict=True):
            search.run(setting)
        widened = _widen_step(search, ranges, widenings, max_widenings, True, notes)
        if not widened:
            return
        draws = {name: [] for name in ranges}
        for wide_name, old in widened:
            wider = ranges[wide_name]
            assert isinstance(wider, _NumericRange)  # only numeric ranges widen
            for name, r in ranges.items():
                strip = name == wide_name
                draws[name] += old.sample_strip(wider, rng, trials) if strip else r.sample(
                    rng, trials)


def _natural_bound_notes(best: dict[str, Any], ranges: dict[str, Range], search: _Search,
                         zone: bool) -> list[str]:
    notes = []
    for name, edge in _edges(best, ranges, search, zone):
        notes.append(f"{name}: best value {_fmt(best[name])} is on the {edge} edge of "
                     f"{ranges[name]!r}, which is its natural bound (it cannot be widened); "
                     f"kept as best.")
    return notes


# --- argument checks -----------------------------------------------------------------------
def _check_space(space: object, fixed: object, factory: object) -> tuple[dict, dict]:
    if not isinstance(space, dict) or not space:
        raise TypeError(f"space must be a non-empty dict of name -> range, got {space!r}.")
    for name, r in space.items():
        if not isinstance(name, str):
            raise TypeError(f"space keys must be hyperparameter names (str), got {name!r}.")
        if not isinstance(r, (_NumericRange, Choice)):
            raise TypeError(
                f"space[{name!r}] must be a LogGrid, DecayGrid, LinearGrid or Choice, got "
                f"{r!r}. For a fixed list of values use Choice([...]); to hold it fixed use "
                f"fixed={{{name!r}: ...}}."
            )
    fixed = {} if fixed is None else fixed
    if not isinstance(fixed, dict):
        raise TypeError(f"fixed must be a dict of name -> value or None, got {fixed!r}.")
    both = sorted(set(space) & set(fixed))
    if both:
        raise ValueError(f"{both} are both in space and in fixed; tune or fix each, not both.")
    params = inspect.signature(factory).parameters if inspect.isclass(factory) else {}
    if params and all(p.kind != p.VAR_KEYWORD for p in params.values()):
        allowed = list(params)
        unknown = [n for n in [*space, *fixed] if n not in allowed]
        if unknown:
            raise TypeError(f"{getattr(factory, '__name__', factory)} has no hyperparameter(s) "
                            f"{unknown}; "
                            f"allowed: {', '.join(allowed)}.")
    return dict(space), dict(fixed)


def _check_seeds(seeds: object) -> tuple[int, ...]:
    if not isinstance(seeds, Iterable) or isinstance(seeds, (str, bytes)):
        raise TypeError(f"seeds must be an iterable of integers, e.g. range(5), got {seeds!r}.")
    out = tuple(seeds)
    if not out or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                          for s in out):
        raise ValueError(f"seeds must be a non-empty list of integers, got {seeds!r}.")
    return tuple(int(s) for s in out)


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def tune(
    optimizer: Callable[..., Any],
    space: dict[str, Range],
    score: Score,
    *,
    seeds: Iterable[int] = range(5),
    fixed: dict[str, Any] | None = None,
    max_widenings: int = 3,
    method: Literal["grid", "random"] = "grid",
    trials: int | None = None,
    rng_seed: int = 0,
) -> TuningResult:
    """Search ``space`` for the setting of ``optimizer`` with the lowest mean ``score`` over
    ``seeds``, widening any range whose best value sits on its edge (see the module docstring).

    Parameters
    ----------
    optimizer : an Optimizer class, or any callable ``(**hyperparameters) -> optimizer``.
    space : ``{name: LogGrid | DecayGrid | LinearGrid | Choice}``, the hyperparameters tuned.
    score : ``score(optimizer, seed) -> float``, lower is better; a fresh optimizer each call.
        NaN, inf or a NonFiniteGradientError count as a failed run (inf).
    seeds : every setting is scored once on each seed.
    fixed : hyperparameters passed unchanged to every optimizer (e.g. ``{"eps": 1e-8}``).
    max_widenings : how many times each range may be widened before EdgeOfRangeError.
    method : ``"grid"`` (Cartesian product of the grids) or ``"random"`` (``trials`` draws,
        Bergstra & Bengio 2012).
    trials : number of random settings (``method="random"`` only), before widening.
    rng_seed : seed of the random search's draws.

    Raises ``EdgeOfRangeError`` when a best value is still on an edge after ``max_widenings``
    widenings (an edge that is a natural bound, beta = 0 or momentum = 0, is only noted).
    """
    if not callable(optimizer):
        raise TypeError(f"optimizer must be an Optimizer class or a callable, got {optimizer!r}.")
    if not callable(score):
        raise TypeError(f"score must be a callable score(optimizer, seed), got {score!r}.")
    space, fixed = _check_space(space, fixed, optimizer)
    seeds = _check_seeds(seeds)
    max_widenings = _check_count("max_widenings", max_widenings, 0)
    search = _Search(optimizer, list(space), score, seeds, fixed)
    notes: list[str] = []
    if method == "grid":
        if trials is not None:
            raise ValueError(f"trials is for method='random'; got trials={trials!r} with grid.")
        _grid(search, space, max_widenings, notes)
    elif method == "random":
        trials = _check_count("trials", trials, 1)
        rng_seed = _check_count("rng_seed", rng_seed, 0)
        _random(search, space, max_widenings, trials, np.random.default_rng(rng_seed), notes)
    else:
        raise ValueError(f"method must be 'grid' or 'random', got {method!r}.")
    best_key = search.ranked()[0]
    if not np.all(np.isfinite(search.results[best_key])):
        raise ValueError(
            f"every setting failed on at least one seed (score inf or NaN) in "
            f"{', '.join(f'{k}={r!r}' for k, r in space.items())}, so none can be called best. "
            f"Check the score function (is its budget large enough?) or search other ranges."
        )
    best = dict(zip(space, best_key, strict=True))
    notes += _natural_bound_notes(best, space, search, method == "random")
    return TuningResult(
        best=best, scores=search.results[best_key].copy(), table=search.table(),
        trials=len(search.results), notes=notes, fixed=fixed, seeds=seeds, space=space,
        method=method, factory=optimizer, _all=search.results,
    )
