"""course_lib.plots: every plot is labelled, has a legend, draws the data it was given, uses
the Okabe-Ito colours, and rejects input it cannot draw with a clear message."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")  # no display in tests; must come before pyplot is imported

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex

from course_lib.objectives import (
    Rosenbrock,
    Saddle,
    SeedBowl,
    XOverLogX,
    ill_conditioned_quadratic,
)
from course_lib.optim import SGD, AdaGrad, RMSprop
from course_lib.plots import (
    OKABE_ITO,
    plot_contours,
    plot_effective_lr,
    plot_ewma_weights,
    plot_losses,
    plot_parameter_paths,
    series_style,
)
from course_lib.training import History, minimize

# The published Okabe-Ito hex codes, typed out here rather than read from the module.
PALETTE = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00",
           "#cc79a7"}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def legend_labels(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "the plot has no legend"
    return [text.get_text() for text in legend.get_texts()]


def assert_labelled(ax: Axes) -> None:
    assert isinstance(ax, Axes)
    assert ax.get_title().strip()
    assert ax.get_xlabel().strip()
    assert ax.get_ylabel().strip()
    assert ax.get_legend() is not None


def assert_palette_colours(ax: Axes) -> None:
    for line in ax.lines:
        assert to_hex(line.get_color()) in PALETTE, line.get_label()


@pytest.fixture(scope="module")
def quadratic_runs():
    q = ill_conditioned_quadratic(10.0)
    return q, {
        "SGD": minimize(q, SGD(lr=0.1), [-4.0, 2.0], 30),
        "RMSprop": minimize(q, RMSprop(lr=0.1), [-4.0, 2.0], 30),
    }


@pytest.fixture(scope="module")
def bowl_runs():
    bowl = SeedBowl()
    return {
        "AdaGrad": minimize(bowl, AdaGrad(lr=0.4), [-4.0, 4.0], 50),
        "RMSprop": minimize(bowl, RMSprop(lr=0.4), [-4.0, 4.0], 50),
    }


def test_module_palette_is_okabe_ito() -> None:
    assert {c.lower() for c in OKABE_ITO.values()} == PALETTE


def test_series_styles_differ_in_colour_marker_and_line_style() -> None:
    styles = [series_style(i) for i in range(8)]
    assert all(to_hex(s["color"]) in PALETTE for s in styles)
    assert len({s["color"] for s in styles}) == 8
    assert len({s["marker"] for s in styles}) == 8
    # neighbours also differ in line style, so two runs read apart in greyscale
    assert all(a["linestyle"] != b["linestyle"] for a, b in zip(styles, styles[1:], strict=False))


# --- plot_contours -----------------------------------------------------------------------------


def test_contours_labels_lines_and_legend(quadratic_runs) -> None:
    q, runs = quadratic_runs
    manual = np.array([[3.0, -3.0], [2.0, -1.0], [1.0, 0.0]])
    ax = plot_contours(q, {**runs, "by hand": manual})
    assert_labelled(ax)
    assert ax.get_title() == q.name
    assert len(ax.lines) == 3  # one per path; markers and contours are not Line2D
    assert legend_labels(ax) == ["SGD", "RMSprop", "by hand", "start", "end", "minimum"]
    assert_palette_colours(ax)
    # the lines are the paths themselves
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), runs["SGD"].points)
    np.testing.assert_array_equal(ax.lines[2].get_xydata(), manual)
    assert ax.lines[0].get_linestyle() != ax.lines[1].get_linestyle()
    assert ax.lines[0].get_marker() != ax.lines[1].get_marker()


def test_contours_window_is_plot_range_or_given_limits(quadratic_runs) -> None:
    q, runs = quadratic_runs
    ax = plot_contours(q, runs)
    assert ax.get_xlim() == pytest.approx(q.plot_range[0])
    assert ax.get_ylim() == pytest.approx(q.plot_range[1])
    ax = plot_contours(q, runs, xlim=(-5.0, 1.0), ylim=(-1.0, 3.0), title="zoom")
    assert ax.get_xlim() == pytest.approx((-5.0, 1.0))
    assert ax.get_ylim() == pytest.approx((-1.0, 3.0))
    assert ax.get_title() == "zoom"


def test_contours_draw_on_a_given_axes(quadratic_runs) -> None:
    q, runs = quadratic_runs
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_contours(q, runs, ax=right) is right
    assert len(left.lines) == 0


def test_contours_without_known_minimum_have_no_star() -> None:
    ax = plot_contours(Saddle(), {"path": np.array([[1.0, 0.1], [0.5, 0.2]])})
    assert "minimum" not in legend_labels(ax)


def test_contours_of_a_diverged_run_keep_the_window(capsys) -> None:
    rosenbrock = Rosenbrock()
    run = minimize(rosenbrock, SGD(lr=1.0), [-1.5, 2.0], 50)
    capsys.readouterr()  # minimize announces the stop; the plot itself must print nothing
    assert run.stopped
    ax = plot_contours(rosenbrock, {"SGD": run})
    assert ax.get_xlim() == pytest.approx(rosenbrock.plot_range[0])
    assert ax.get_ylim() == pytest.approx(rosenbrock.plot_range[1])
    assert "end" not in legend_labels(ax)  # the end is far off the window
    assert capsys.readouterr().out == ""


def test_contours_accept_explicit_and_linear_levels(quadratic_runs) -> None:
    q, runs = quadratic_runs
    assert_labelled(plot_contours(q, runs, levels=[0.5, 1.0, 4.0, 16.0]))
    assert_labelled(plot_contours(q, runs, levels=10, log_levels=False))


def test_contours_reject_a_1d_objective() -> None:
    with pytest.raises(ValueError, match="contours need a 2-D objective"):
        plot_contours(XOverLogX(), {"path": np.array([[3.0], [2.9]])})


def test_contours_reject_paths_of_the_wrong_shape(quadratic_runs) -> None:
    q, _ = quadratic_runs
    with pytest.raises(ValueError, match=r"'bad'.*\(n, 2\)"):
        plot_contours(q, {"bad": np.zeros((5, 3))})
    with pytest.raises(TypeError, match="dict of label"):
        plot_contours(q, [np.zeros((5, 2))])


# --- plot_losses -------------------------------------------------------------------------------


def test_losses_of_trajectories(quadratic_runs) -> None:
    _, runs = quadratic_runs
    ax = plot_losses(runs)
    assert_labelled(ax)
    assert legend_labels(ax) == ["SGD", "RMSprop"]
    assert len(ax.lines) == 2
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "step"
    assert_palette_colours(ax)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), runs["RMSprop"].losses)
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), np.arange(31))


def test_losses_of_histories_against_epoch_with_dashed_validation() -> None:
    history = History(
        epoch=np.arange(4), steps=np.array([0, 10, 20, 30]),
        train_loss=np.array([4.0, 2.0, 1.0, 0.5]), val_loss=np.array([4.5, 2.5, 1.5, 1.2]),
    )
    no_val = History(epoch=np.arange(3), steps=np.array([0, 5, 10]),
                     train_loss=np.array([3.0, 1.0, 0.3]))
    ax = plot_losses({"batch 10": history, "batch 5": no_val})
    assert_labelled(ax)
    assert ax.get_xlabel() == "epoch"
    assert legend_labels(ax) == ["batch 10", "batch 10 (validation)", "batch 5"]
    assert len(ax.lines) == 3
    train, val, _ = ax.lines
    np.testing.assert_array_equal(train.get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(val.get_ydata(), [4.5, 2.5, 1.5, 1.2])
    assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
    assert train.get_color() == val.get_color()
    # against optimizer steps on request
    ax = plot_losses({"batch 10": history}, x="step")
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 10, 20, 30])


def test_losses_fall_back_to_linear_scale_for_non_positive_values() -> None:
    ax = plot_losses({"shifted": np.array([1.0, 0.0, -0.5])}, title="Loss")
    assert ax.get_yscale() == "linear"
    assert "linear scale" in ax.get_title()
    ax = plot_losses({"fine": np.array([1.0, 0.1])}, log=False)
    assert ax.get_yscale() == "linear"
    assert ax.get_title() == "Loss"


def test_losses_of_a_diverged_run_still_plot(capsys) -> None:
    run = minimize(Rosenbrock(), SGD(lr=1.0), [-1.5, 2.0], 50)
    capsys.readouterr()
    ax = plot_losses({"SGD": run})  # the last loss is inf, which is not "<= 0"
    assert ax.get_yscale() == "log"
    assert capsys.readouterr().out == ""


def test_losses_reject_bad_input(quadratic_runs) -> None:
    _, runs = quadratic_runs
    with pytest.raises(ValueError, match="has steps but no epochs"):
        plot_losses(runs, x="epoch")
    with pytest.raises(ValueError, match="x must be 'step' or 'epoch'"):
        plot_losses(runs, x="time")
    with pytest.raises(ValueError, match="1-D array"):
        plot_losses({"bad": np.zeros((3, 2))})


# --- plot_ewma_weights -------------------------------------------------------------------------


def test_ewma_weights_stems_and_windows() -> None:
    ax = plot_ewma_weights([0.5, 0.9], t=20)
    assert_labelled(ax)
    assert legend_labels(ax) == ["β = 0.5", "window 1/(1-β) = 2", "β = 0.9", "window 1/(1-β) = 10"]
    assert len(ax.lines) == 4  # per beta: the stem heads and the window line
    assert_palette_colours(ax)
    heads, window = ax.lines[2], ax.lines[3]
    ages = np.arange(20)
    np.testing.assert_allclose(heads.get_ydata(), 0.1 * 0.9**ages)  # (1 - beta) beta^age
    assert list(window.get_xdata()) == pytest.approx([10.0, 10.0])


def test_ewma_weights_with_bias_correction_add_up_to_one() -> None:
    ax = plot_ewma_weights([0.9, 0.99], t=10, bias_correction=True)
    assert "bias-corrected" in ax.get_title()
    for heads in ax.lines[0::2]:
        assert np.sum(heads.get_ydata()) == pytest.approx(1.0)


def test_ewma_weights_reject_bad_betas() -> None:
    with pytest.raises(TypeError, match="non-empty list"):
        plot_ewma_weights([])
    with pytest.raises(TypeError, match="non-empty list"):
        plot_ewma_weights(0.9)
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\)"):
        plot_ewma_weights([1.0])


# --- plot_effective_lr -------------------------------------------------------------------------


def test_effective_lr_one_line_per_coordinate(bowl_runs) -> None:
    run = bowl_runs["AdaGrad"]
    ax = plot_effective_lr(run)
    assert_labelled(ax)
    assert legend_labels(ax) == ["x", "y"]
    assert len(ax.lines) == 2
    assert ax.get_yscale() == "log"
    assert_palette_colours(ax)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), run.effective_lrs[:, 1])
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), np.arange(1, 51))


def test_effective_lr_of_sgd_is_flat_at_lr() -> None:
    run = minimize(SeedBowl(), SGD(lr=0.05), [-4.0, 4.0], 10)
    ax = plot_effective_lr(run, labels=["w", "b"], title="SGD")
    assert legend_labels(ax) == ["w", "b"]
    assert ax.get_title() == "SGD"
    for line in ax.lines:
        np.testing.assert_array_equal(line.get_ydata(), np.full(10, 0.05))


def test_effective_lr_accepts_arrays_and_checks_labels() -> None:
    ax = plot_effective_lr(np.array([0.3, 0.2, 0.1]))
    assert legend_labels(ax) == ["x"]
    with pytest.raises(ValueError, match="got 3 labels for 2 coordinates"):
        plot_effective_lr(np.ones((4, 2)), labels=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"shape \(steps, dim\)"):
        plot_effective_lr(np.ones((2, 2, 2)))


# --- plot_parameter_paths ----------------------------------------------------------------------


def test_parameter_paths_two_runs_two_coordinates(bowl_runs) -> None:
    ax = plot_parameter_paths(bowl_runs)
    assert_labelled(ax)
    assert legend_labels(ax) == ["AdaGrad: x", "AdaGrad: y", "RMSprop: x", "RMSprop: y"]
    assert len(ax.lines) == 4
    assert_palette_colours(ax)
    ada_x, ada_y, rms_x, rms_y = ax.lines
    np.testing.assert_array_equal(rms_y.get_ydata(), bowl_runs["RMSprop"].points[:, 1])
    np.testing.assert_array_equal(ada_x.get_xdata(), np.arange(51))
    # a run keeps its colour; coordinates differ in line style; runs differ in colour and marker
    assert ada_x.get_color() == ada_y.get_color() != rms_x.get_color()
    assert ada_x.get_linestyle() != ada_y.get_linestyle()
    assert ada_x.get_marker() != rms_x.get_marker()


def test_parameter_paths_check_coordinate_names(bowl_runs) -> None:
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        plot_parameter_paths(bowl_runs, coordinate_names=("x", "y", "z"))


def test_plots_print_nothing(capsys, quadratic_runs, bowl_runs) -> None:
    q, runs = quadratic_runs
    plot_contours(q, runs)
    plot_losses(runs)
    plot_ewma_weights([0.9])
    plot_effective_lr(bowl_runs["RMSprop"])
    plot_parameter_paths(bowl_runs)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_show_displays_png_with_alt_text_and_a_caption_and_closes_the_figure():
    from unittest import mock

    from course_lib.plots import show

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with mock.patch("IPython.display.display") as display:
        show(ax, "A line  rising\nfrom 1 to 3 <fast> & steady.")
    (image, *_), image_kwargs = display.call_args_list[0]
    (caption, *_), _ = display.call_args_list[1]
    alt = "A line rising from 1 to 3 <fast> & steady."
    assert image["text/plain"] == f"[Figure] {alt}"
    assert image_kwargs["metadata"] == {"image/png": {"alt": alt}}
    assert base64.b64decode(image["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    # the caption is what a screen reader finds in JupyterLab; learner text is escaped
    assert caption["text/html"] == ('<p class="course-figure-caption"><em>Figure.</em> '
                                    "A line rising from 1 to 3 &lt;fast&gt; &amp; steady.</p>")
    assert caption["text/plain"] == f"Figure. {alt}"
    assert display.call_count == 2
    assert not plt.fignum_exists(fig.number)


@pytest.mark.parametrize("alt", ["", "   ", None])
def test_show_refuses_a_missing_alt_text(alt):
    from course_lib.plots import show

    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="alt must be a non-empty sentence"):
        show(fig, alt)
    plt.close(fig)
