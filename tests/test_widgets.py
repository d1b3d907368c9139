"""course_lib.widgets: the explorer works with no browser attached, redraws on every change with
exactly the run that ``minimize`` gives for the same settings, survives divergence, and never
prints (nbval compares what a cell prints)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display in tests; must come before pyplot is imported

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.objectives import Rosenbrock, SeedBowl, XOverLogX, ill_conditioned_quadratic
from course_lib.optim import SGD, AdaGrad, Adam, RMSprop
from course_lib.training import minimize
from course_lib.widgets import OptimizerExplorer, optimizer_explorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
X0 = [-3.0, 2.0]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def explorer() -> OptimizerExplorer:
    # An explicit start, so the reference runs below do not depend on default_start.
    return optimizer_explorer(x0=X0, steps=40)


def assert_same_run(actual, expected) -> None:
    np.testing.assert_array_equal(actual.points, expected.points)
    np.testing.assert_array_equal(actual.losses, expected.losses)


def test_created_headless_and_drawn_once(capsys) -> None:
    before = plt.get_fignums()
    explorer = optimizer_explorer()
    assert explorer.last_trajectory is not None
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    assert set(explorer.sliders) == {"lr", "beta", "eps", "steps"}
    assert isinstance(explorer.widget, widgets.Box)
    assert explorer.image in explorer.widget.children
    assert plt.get_fignums() == before  # no pyplot figure left behind
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_default_choices() -> None:
    explorer = optimizer_explorer()
    names = list(explorer.objective_dropdown.options)
    assert names[0] == ill_conditioned_quadratic(10.0).name
    assert any(name.startswith("rotated quadratic") for name in names)
    assert any(name.startswith("Rosenbrock") for name in names)
    assert "Beale" in names and SeedBowl.name in names
    assert list(explorer.optimizer_dropdown.options) == ["SGD", "AdaGrad", "RMSprop", "Adam"]


def test_initial_run_matches_minimize(explorer) -> None:
    expected = minimize(ill_conditioned_quadratic(10.0), RMSprop(lr=0.1, beta=0.9, eps=1e-8),
                        X0, 40)
    assert_same_run(explorer.last_trajectory, expected)


def test_changing_lr_redraws_with_the_new_lr(explorer, capsys) -> None:
    first_run, first_image = explorer.last_trajectory, explorer.image.value
    explorer.sliders["lr"].value = 0.02
    expected = minimize(ill_conditioned_quadratic(10.0), RMSprop(lr=0.02, beta=0.9, eps=1e-8),
                        X0, 40)
    assert_same_run(explorer.last_trajectory, expected)
    assert not np.array_equal(first_run.points, expected.points)  # the change mattered
    assert explorer.image.value != first_image
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("SGD", lambda lr, beta, eps: SGD(lr=lr, momentum=beta)),
        ("AdaGrad", lambda lr, beta, eps: AdaGrad(lr=lr, eps=eps)),
        ("RMSprop", lambda lr, beta, eps: RMSprop(lr=lr, beta=beta, eps=eps)),
        ("Adam", lambda lr, beta, eps: Adam(lr=lr, beta2=beta, eps=eps)),
    ],
)
def test_beta_maps_to_each_optimizers_argument(explorer, name, reference) -> None:
    explorer.optimizer_dropdown.value = name
    explorer.sliders["lr"].value = 0.05
    explorer.sliders["beta"].value = 0.5
    explorer.sliders["eps"].value = 1e-4
    expected = minimize(ill_conditioned_quadratic(10.0), reference(0.05, 0.5, 1e-4), X0, 40)
    assert_same_run(explorer.last_trajectory, expected)
    assert explorer.mapping_label.value.startswith(name + ":")


def test_adagrad_ignores_beta_and_sgd_ignores_eps(explorer) -> None:
    explorer.optimizer_dropdown.value = "AdaGrad"
    assert explorer.sliders["beta"].disabled
    before = explorer.last_trajectory
    explorer.sliders["beta"].value = 0.3
    assert_same_run(explorer.last_trajectory, before)
    explorer.optimizer_dropdown.value = "SGD"
    assert explorer.sliders["eps"].disabled and not explorer.sliders["beta"].disabled


def test_objective_and_steps_controls(explorer) -> None:
    explorer.objective_dropdown.value = Rosenbrock().name
    explorer.sliders["steps"].value = 7
    run = explorer.last_trajectory
    assert run.points.shape == (8, 2)
    np.testing.assert_array_equal(run.points[0], X0)
    np.testing.assert_allclose(run.losses, Rosenbrock().f(run.points))


def test_divergent_lr_shows_the_stop_message_without_raising(capsys) -> None:
    explorer = optimizer_explorer(objectives=[Rosenbrock()], x0=[-1.5, 2.0], steps=40)
    explorer.optimizer_dropdown.value = "SGD"
    explorer.sliders["beta"].value = 0.0
    capsys.readouterr()
    explorer.sliders["lr"].value = 1.0  # far too large for Rosenbrock's steep walls
    run = explorer.last_trajectory
    assert run.stopped and run.stopped.startswith("Stopped after")
    assert explorer.status.value == run.stopped
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    # minimize() prints the stop message; the explorer must keep it out of the cell's output
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    # and it recovers when lr comes back down
    explorer.sliders["lr"].value = 1e-3
    assert explorer.last_trajectory.stopped is None
    assert explorer.status.value.startswith("After 40 steps")


def test_redraw_can_be_called_directly(explorer) -> None:
    run = explorer.redraw()
    assert run is explorer.last_trajectory
    assert_same_run(run, minimize(ill_conditioned_quadratic(10.0), RMSprop(lr=0.1), X0, 40))


def test_x0_per_objective_and_default_starts() -> None:
    bowl = SeedBowl()
    explorer = optimizer_explorer(objectives=[bowl], x0={bowl.name: [1.0, -1.0]})
    np.testing.assert_array_equal(explorer.last_trajectory.points[0], [1.0, -1.0])
    assert optimizer_explorer(objectives={"bowl": bowl}).last_trajectory.points.shape == (101, 2)


def test_display_text_is_short_and_stable(explorer) -> None:
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == (
        "OptimizerExplorer(RMSprop on 'ill-conditioned quadratic (kappa=10)')"
    )
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="must be 2-D"):
        optimizer_explorer(objectives=[XOverLogX()])
    with pytest.raises(ValueError, match="at least one"):
        optimizer_explorer(objectives=[])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        OptimizerExplorer(optimizer="LBFGS")
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        optimizer_explorer(steps=0)


# --- size on screen -------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) read from the PNG's IHDR chunk, independently of matplotlib."""
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def px(value: str) -> int:
    assert value.endswith("px"), value
    return int(value[:-2])


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_png_is_drawn_at_the_size_the_image_widget_is_shown(explorer, optimizer) -> None:
    explorer.optimizer_dropdown.value = optimizer  # redraws
    layout = explorer.image.layout
    assert png_size(bytes(explorer.image.value)) == (px(layout.width), px(layout.height))
    assert layout.object_fit == "none"  # never rescaled by the browser


def test_diverged_run_keeps_the_same_pixel_size() -> None:
    explorer = optimizer_explorer(objectives=[Rosenbrock()], x0=[-1.5, 2.0], steps=40)
    explorer.optimizer_dropdown.value = "SGD"
    explorer.sliders["beta"].value = 0.0
    explorer.sliders["lr"].value = 1.0  # diverges: a three-line title
    assert explorer.last_trajectory.stopped
    layout = explorer.image.layout
    assert png_size(bytes(explorer.image.value)) == (px(layout.width), px(layout.height))


def test_controls_beside_the_plot_fit_a_1400_by_900_window(explorer) -> None:
    controls, image = explorer.widget.children
    assert image is explorer.image
    assert isinstance(explorer.widget, widgets.HBox) and isinstance(controls, widgets.VBox)
    # JupyterLab's side bar, margins and prompt take about 300 px of the width and its menus,
    # tabs and toolbar about 150 px of the height, leaving about 1100 x 750 for an output.
    assert px(controls.layout.width) + px(image.layout.width) <= 1100
    assert px(image.layout.height) <= 750
    # the controls column: 2 dropdowns and 4 sliders of about 32 px, 2 text lines of ~3 rows
    assert 6 * 32 + 2 * 3 * 20 <= px(image.layout.height)
    for child in controls.children:
        assert child.layout.width == "100%"


def test_status_and_mapping_lines_wrap_and_hold_plain_text(explorer) -> None:
    assert isinstance(explorer.status, widgets.HTML)
    explorer.optimizer_dropdown.value = "AdaGrad"
    assert explorer.mapping_label.value == (
        "AdaGrad: sums all past g², so beta is not used; eps is added to sqrt(sum)."
    )
