"""course_lib.tuning: the search finds known optima, widens edges, refuses edge winners.

Expected values come from closed forms (gradient descent on a x^2/2 lands in one step when
lr = 1/a), from scores built so that the optimum is known, or from NumPy computed here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.optim import SGD, Adam, NonFiniteGradientError, RMSprop
from course_lib.tuning import (
    Choice,
    DecayGrid,
    EdgeOfRangeError,
    LinearGrid,
    LogGrid,
    TuningResult,
    tune,
)


def steps_to_tol(a: float, budget: int = 500):
    """Score: steps of the optimizer on f = a x^2 / 2 from x0 = 1 + seed until |x| < 1e-8."""

    def score(opt, seed):
        x = np.array([1.0 + seed])
        for k in range(1, budget + 1):
            opt.step(x, a * x)
            if abs(x[0]) < 1e-8:
                return k
        return math.inf

    return score


def log_bowl(target: float):
    """Score with its minimum at lr = target: (log10 lr - log10 target)^2, plus the seed."""
    return lambda opt, seed: (math.log10(opt.lr) - math.log10(target)) ** 2 + 0.01 * seed


# --- the ranges ---------------------------------------------------------------------------


def test_log_grid_includes_both_ends_and_spaces_by_decades():
    values = LogGrid(1e-3, 1.0, per_decade=3).values()
    assert len(values) == 10
    assert values[0] == 1e-3 and values[-1] == 1.0 and values[3] == 0.01
    np.testing.assert_allclose(np.diff(np.log10(values)), 1 / 3, rtol=1e-9)


def test_log_grid_widening_adds_one_decade_on_that_side_only():
    grid = LogGrid(0.01, 0.1, per_decade=2)
    assert grid.widen("high").values() == [0.01, 0.0316227766017, 0.1, 0.316227766017, 1.0]
    assert grid.widen("low").values() == [0.001, 0.00316227766017, 0.01, 0.0316227766017, 0.1]


def test_decay_grid_spaces_one_minus_beta_and_widens_to_more_nines_and_to_zero():
    grid = DecayGrid(0.9, 0.999)
    assert grid.values() == [0.9, 0.99, 0.999]
    assert grid.widen("high").values() == [0.9, 0.99, 0.999, 0.9999]
    lower = grid.widen("low")
    assert lower.values() == [0.0, 0.9, 0.99, 0.999]
    assert lower.widen("low") is None  # beta = 0 is the natural bound
    np.testing.assert_allclose(
        np.diff(np.log10(1 - np.array(DecayGrid(0.9, 0.999, per_decade=2).values()))), -0.5
    )


def test_linear_grid_stops_at_its_lower_bound_and_never_reaches_the_upper():
    grid = LinearGrid(0.3, 0.9, num=3)
    assert grid.values() == [0.3, 0.6, 0.9]
    assert grid.widen("low").values() == [0.0, 0.3, 0.6, 0.9]
    assert grid.widen("low").widen("low") is None
    assert grid.widen("high").values() == [0.3, 0.6, 0.9, 0.95]
    assert grid.widen("high").widen("high").values()[-1] == 0.975


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: LogGrid(0.0, 1.0), "0 < lo < hi"),
        (lambda: LogGrid(1.0, 0.1), "0 < lo < hi"),
        (lambda: LogGrid(0.1, 1.0, per_decade=0), "per_decade"),
        (lambda: DecayGrid(0.9, 1.0), "0 <= lo < hi < 1"),
        (lambda: DecayGrid(-0.1, 0.9), "0 <= lo < hi < 1"),
        (lambda: LinearGrid(0.0, 1.0), "bounds"),
        (lambda: LinearGrid(0.0, 0.5, num=1), "num"),
        (lambda: Choice([]), "at least one"),
        (lambda: Choice([True, True]), "distinct"),
    ],
)
def test_bad_ranges_raise_value_errors_that_name_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_choice_rejects_a_bare_string_and_unhashable_options():
    with pytest.raises(TypeError, match="list of options"):
        Choice("abc")
    with pytest.raises(TypeError, match="hashable"):
        Choice([[1], [2]])


# --- finding the optimum ------------------------------------------------------------------


def test_grid_search_finds_lr_one_over_a_where_gradient_descent_takes_one_step():
    a = 4.0  # lr = 1/a = 0.25 is on the grid 1/16, 1/8, 1/4, 1/2, 1
    result = tune(SGD, {"lr": LogGrid(1 / 16, 1.0, per_decade=1 / math.log10(2))},
                  steps_to_tol(a), seeds=range(3))
    assert result.best == {"lr": 0.25}
    np.testing.assert_array_equal(result.scores, [1, 1, 1])
    assert result.trials == 5 and result.notes == []
    # lr = 1/2 and 1 oscillate or diverge on this f: failed on every seed
    failed = result.table.set_index("lr")["failed"]
    assert failed[0.5] == 3 and failed[1.0] == 3 and failed[0.125] == 0


def test_two_hyperparameters_are_searched_over_the_cartesian_product():
    def score(opt, seed):
        return (math.log10(opt.lr) + 2) ** 2 + (math.log10(1 - opt.beta) + 2) ** 2

    result = tune(RMSprop, {"lr": LogGrid(1e-3, 0.1, per_decade=1),
                            "beta": DecayGrid(0.9, 0.999)}, score, seeds=[0])
    assert result.best == {"lr": 0.01, "beta": 0.99}
    assert result.trials == 9
    assert sorted(zip(result.table["lr"], result.table["beta"], strict=True)) == sorted(
        (lr, beta) for lr in (1e-3, 1e-2, 1e-1) for beta in (0.9, 0.99, 0.999)
    )


def test_spread_over_seeds_is_numpys_std_of_the_per_seed_scores():
    seeds = [3, 1, 4, 1, 5]

    def score(opt, seed):
        return (math.log10(opt.lr) + 1) ** 2 + math.sin(seed) ** 2 * (1 + opt.lr)

    result = tune(SGD, {"lr": LogGrid(0.01, 1.0, per_decade=1)}, score, seeds=seeds,
                  fixed={"momentum": 0.5})
    assert result.best == {"lr": 0.1}
    per_seed = np.array([math.sin(s) ** 2 * 1.1 for s in seeds])
    np.testing.assert_allclose(result.scores, per_seed, rtol=1e-12)
    row = result.table.set_index("lr").loc[0.1]
    np.testing.assert_allclose(row["std"], np.std(per_seed), rtol=1e-12)
    np.testing.assert_allclose(row["mean"], np.mean(per_seed), rtol=1e-12)
    assert row["min"] == pytest.approx(per_seed.min())
    assert row["max"] == pytest.approx(per_seed.max())
    assert row["failed"] == 0


def test_ties_go_to_the_lower_spread_then_to_the_earlier_setting():
    spread = {0.01: [1.0, 3.0], 0.1: [2.0, 2.0], 1.0: [0.0, 4.0]}  # equal means
    lrs = [1e-3, *spread, 10.0]
    scores = {lr: spread.get(lr, [9.0, 9.0]) for lr in lrs}
    result = tune(SGD, {"lr": LogGrid(1e-3, 10.0, per_decade=1)},
                  lambda opt, seed: scores[opt.lr][seed], seeds=[0, 1])
    assert result.best == {"lr": 0.1}
    assert list(result.table["lr"][:3]) == [0.1, 0.01, 1.0]


def test_nan_and_nonfinite_gradient_errors_count_as_failed_runs():
    def score(opt, seed):
        if opt.lr > 0.5:
            opt.step(np.array([1.0]), np.array([np.nan]))  # raises NonFiniteGradientError
        if opt.lr < 0.05:
            return float("nan")
        return abs(math.log10(opt.lr) + 0.5)

    with pytest.raises(NonFiniteGradientError):
        SGD(lr=1.0).step(np.array([1.0]), np.array([np.nan]))
    result = tune(SGD, {"lr": LogGrid(0.01, 10.0, per_decade=2)}, score, seeds=[0, 1])
    assert result.best == {"lr": 0.316227766017}
    failed = result.table.set_index("lr")["failed"]
    assert failed[0.01] == 2 and failed[10.0] == 2 and failed[0.316227766017] == 0
    assert math.isinf(result.table.set_index("lr")["mean"][10.0])


def test_every_setting_failing_raises_instead_of_naming_a_best():
    with pytest.raises(ValueError, match="every setting failed"):
        tune(SGD, {"lr": LogGrid(0.1, 1.0)}, lambda opt, seed: math.inf, seeds=[0])


# --- edges --------------------------------------------------------------------------------


def test_best_on_the_top_edge_is_widened_and_the_widening_is_noted():
    result = tune(SGD, {"lr": LogGrid(1e-3, 0.1, per_decade=1)}, log_bowl(3.0), seeds=[0])
    assert result.best == {"lr": 1.0}  # 3.0 is not on the widened grid; 1 and 10 bracket it
    assert result.trials == 5
    assert len(result.notes) == 2
    assert "high edge" in result.notes[0] and "LogGrid(0.001, 1.0" in result.notes[0]
    assert "LogGrid(0.001, 10.0" in result.notes[1]


def test_still_on_the_edge_after_max_widenings_raises_naming_the_hyperparameter():
    with pytest.raises(EdgeOfRangeError, match="lr=100.*high edge") as info:
        tune(SGD, {"lr": LogGrid(1e-3, 0.1, per_decade=1)}, log_bowl(1e6), seeds=[0],
             max_widenings=3)
    assert info.value.name == "lr" and info.value.edge == "high" and info.value.value == 100.0
    assert "max_widenings" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_max_widenings_zero_raises_at_once_on_the_low_edge():
    with pytest.raises(EdgeOfRangeError, match="low edge") as info:
        tune(SGD, {"lr": LogGrid(1e-3, 0.1, per_decade=1)}, log_bowl(1e-6), seeds=[0],
             max_widenings=0)
    assert info.value.value == 1e-3


def test_natural_bound_momentum_zero_is_noted_not_raised():
    def score(opt, seed):  # momentum only hurts here: the best is momentum = 0
        return opt.momentum + abs(math.log10(opt.lr) + 1)

    result = tune(SGD, {"lr": LogGrid(0.01, 1.0, per_decade=1),
                        "momentum": DecayGrid(0.5, 0.9)}, score, seeds=[0], max_widenings=1)
    assert result.best == {"lr": 0.1, "momentum": 0.0}
    assert any("natural bound" in note and "momentum" in note for note in result.notes)
    assert any("widened to DecayGrid(0.0, 0.9" in note for note in result.notes)


def test_natural_bound_already_in_the_range_is_noted_with_no_widening():
    result = tune(SGD, {"lr": Choice([0.1]), "momentum": DecayGrid(0.0, 0.9)},
                  lambda opt, seed: opt.momentum, seeds=[0], max_widenings=0)
    assert result.best == {"lr": 0.1, "momentum": 0.0}
    assert result.trials == 2
    assert len(result.notes) == 1 and "natural bound" in result.notes[0]


def test_choice_has_no_edge_rule():
    result = tune(SGD, {"lr": Choice([0.1, 0.2])}, lambda opt, seed: opt.lr, seeds=[0],
                  max_widenings=0)
    assert result.best == {"lr": 0.1} and result.notes == []


# --- random search ------------------------------------------------------------------------


def test_random_search_is_reproducible_with_rng_seed_and_samples_log_uniformly():
    space = {"lr": LogGrid(1e-4, 1.0, per_decade=2), "beta1": DecayGrid(0.5, 0.999)}
    runs = [tune(Adam, space, log_bowl(0.01), seeds=[0], method="random", trials=400,
                 rng_seed=s, max_widenings=0) for s in (7, 7, 8)]
    assert runs[0].table.equals(runs[1].table)
    assert not runs[0].table.equals(runs[2].table)
    lrs = np.log10(runs[0].table["lr"])
    assert lrs.min() >= -4 and lrs.max() <= 0
    # log-uniform: each of the four decades holds about a quarter of the 400 draws
    counts = np.histogram(lrs, bins=4, range=(-4, 0))[0]
    assert counts.min() > 70 and counts.max() < 130
    assert runs[0].trials == 400


def test_random_search_widens_an_edge_and_samples_trials_more_in_the_new_strip():
    result = tune(SGD, {"lr": LogGrid(1e-3, 0.1, per_decade=2)}, log_bowl(0.5), seeds=[0],
                  method="random", trials=20, rng_seed=0, max_widenings=1)
    assert result.trials == 40
    assert len(result.notes) == 1 and "high edge" in result.notes[0]
    added = result.table["lr"][result.table["lr"] > 0.1]
    assert len(added) == 20 and added.max() <= 1.0
    assert 0.3 < result.best["lr"] < 1.0


def test_random_search_raises_when_still_on_the_edge():
    with pytest.raises(EdgeOfRangeError, match="lr"):
        tune(SGD, {"lr": LogGrid(1e-3, 0.1)}, log_bowl(1e3), seeds=[0], method="random",
             trials=10, max_widenings=2)


# --- the result ---------------------------------------------------------------------------


def test_result_gives_a_fresh_optimizer_with_the_fixed_hyperparameters_too():
    result = tune(RMSprop, {"lr": LogGrid(0.01, 1.0, per_decade=1)}, log_bowl(0.1), seeds=[0],
                  fixed={"beta": 0.99})
    opt = result.optimizer()
    assert isinstance(opt, RMSprop) and opt.lr == 0.1 and opt.beta == 0.99 and opt.state == []
    assert isinstance(result, TuningResult)
    assert list(result.table.columns) == ["lr", "mean", "std", "min", "max", "failed"]
    assert list(result.table["mean"]) == sorted(result.table["mean"])
    np.testing.assert_array_equal(result.scores_for(lr=1.0), [1.0])


def test_summary_and_repr_are_short_and_free_of_memory_addresses():
    result = tune(lambda **hp: SGD(**hp), {"lr": LogGrid(0.01, 1.0, per_decade=1)},
                  log_bowl(0.1), seeds=[0, 1])
    text = repr(result)
    assert text == result.summary()
    assert " at 0x" not in text and "lr=0.1" in text and "3 settings x 2 seeds" in text
    assert len(text.splitlines()) <= 4


def test_each_score_call_gets_a_fresh_optimizer():
    seen = []

    def score(opt, seed):
        seen.append(opt)
        assert opt.state == []
        opt.step(np.array([1.0]), np.array([1.0]))
        return opt.lr

    tune(SGD, {"lr": Choice([0.1, 0.2])}, score, seeds=[0, 1])
    assert len(seen) == 4 and len({id(o) for o in seen}) == 4


# --- argument checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"space": {"lr": [0.1, 1.0]}}, TypeError, r"space\['lr'\].*Choice"),
        ({"space": {}}, TypeError, "non-empty dict"),
        ({"space": {"learning_rate": LogGrid(0.1, 1.0)}}, TypeError, "learning_rate.*allowed"),
        ({"fixed": {"lr": 0.1}}, ValueError, "both in space and in fixed"),
        ({"seeds": []}, ValueError, "seeds"),
        ({"seeds": [0.5]}, ValueError, "seeds"),
        ({"max_widenings": -1}, ValueError, "max_widenings"),
        ({"method": "bayes"}, ValueError, "method must be 'grid' or 'random'"),
        ({"method": "random"}, ValueError, "trials"),
        ({"trials": 5}, ValueError, "trials is for method='random'"),
        ({"score": 3}, TypeError, "score must be a callable"),
        ({"optimizer": "SGD"}, TypeError, "optimizer must be"),
    ],
)
def test_bad_arguments_raise_errors_naming_them(kwargs, error, match):
    args = {"optimizer": SGD, "space": {"lr": LogGrid(0.1, 1.0)},
            "score": lambda opt, seed: 0.0, "seeds": [0], **kwargs}
    with pytest.raises(error, match=match):
        tune(**args)


def test_a_score_that_returns_no_number_is_named():
    with pytest.raises(TypeError, match="score must return a real number.*lr=0.1"):
        tune(SGD, {"lr": LogGrid(0.1, 1.0)}, lambda opt, seed: "fast", seeds=[0])
