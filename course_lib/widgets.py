"""An interactive explorer: choose an objective, an optimizer and its hyperparameters, and see
the optimizer's path on the contour plot.

>>> explorer = optimizer_explorer()     # doctest: +SKIP
>>> explorer                            # the last line of a cell shows the controls and plot

The controls sit in a column on the left and the plot on their right, so the whole explorer
fits a 1400x900 browser window (:data:`CONTROLS_WIDTH` + :data:`PLOT_SIZE` pixels wide). The PNG
is drawn at exactly the pixel size the Image widget is given (its layout width and height), so
the browser shows it pixel for pixel instead of stretching it to the output's width.

The plot is drawn into an ``ipywidgets.Image`` as a PNG rather than displayed inside an
``Output`` widget. Displaying into an Output widget only works when a browser front end is
attached: under nbval (no front end) the figure lands in the cell's own outputs, and under
plain Python ``display`` prints ``Figure(...)`` to stdout. An Image's value is widget state, so
creating and redrawing the explorer prints nothing and works the same with or without a
browser.
"""

from __future__ import annotations

import html
import io
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .objectives import (
    Beale,
    Objective,
    Rosenbrock,
    SeedBowl,
    ill_conditioned_quadratic,
    rotated_quadratic,
)
from .optim import SGD, AdaGrad, Adam, Optimizer, RMSprop
from .plots import OKABE_ITO, plot_contours
from .training import Trajectory, minimize

OPTIMIZERS: tuple[str, ...] = ("SGD", "AdaGrad", "RMSprop", "Adam")

#: (width, height) of the plot in pixels: the PNG's size and the Image widget's layout size.
PLOT_SIZE: tuple[int, int] = (600, 540)
#: Dots per inch used to draw the PNG (the figure's size in inches is PLOT_SIZE / PLOT_DPI).
PLOT_DPI = 100
#: Width in pixels of the column of controls left of the plot.
CONTROLS_WIDTH = 360

#: What the explorer's single ``beta`` and ``eps`` sliders mean for each optimizer.
BETA_MAPPING: dict[str, str] = {
    "SGD": "SGD: beta is the momentum (0 = plain gradient descent); eps is not used.",
    "AdaGrad": "AdaGrad: sums all past g², so beta is not used; eps is added to sqrt(sum).",
    "RMSprop": "RMSprop: beta is the decay of the running mean of g²; eps is added to its sqrt.",
    "Adam": "Adam: beta is beta2 (running mean of g²), beta1 stays 0.9; eps as in RMSprop.",
}


def default_objectives() -> dict[str, Objective]:
    """The explorer's objectives, keyed by their names."""
    objectives = [
        ill_conditioned_quadratic(10.0),
        rotated_quadratic(10.0),
        Rosenbrock(),
        Beale(),
        SeedBowl(),
    ]
    return {objective.name: objective for objective in objectives}


def default_start(objective: Objective) -> np.ndarray:
    """A start that makes the path interesting: off both axes, away from the minimum."""
    if isinstance(objective, Rosenbrock):
        return np.array([-1.5, 2.0])  # across the valley from the minimum, the classic start
    if isinstance(objective, Beale):
        return np.array([1.0, 1.5])  # near the saddle-like ridge, so the path has to turn
    if isinstance(objective, SeedBowl):
        return np.array([-4.0, 4.0])
    (x_lo, x_hi), (y_lo, y_hi) = objective.plot_range
    # Quadratics and anything else: 90% of the way to the left edge, half way up, so the
    # start is well off the steep axis of an axis-aligned valley.
    return np.array([x_lo + 0.1 * (x_hi - x_lo), 0.5 * (y_lo + y_hi) + 0.25 * (y_hi - y_lo)])


def make_optimizer(name: str, lr: float, beta: float, eps: float) -> Optimizer:
    """The optimizer ``name`` with the explorer's ``beta`` mapped as in :data:`BETA_MAPPING`."""
    if name == "SGD":
        return SGD(lr=lr, momentum=beta)
    if name == "AdaGrad":
        return AdaGrad(lr=lr, eps=eps)
    if name == "RMSprop":
        return RMSprop(lr=lr, beta=beta, eps=eps)
    if name == "Adam":
        return Adam(lr=lr, beta2=beta, eps=eps)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}.")


def _as_objective_dict(
    objectives: Mapping[str, Objective] | Sequence[Objective] | None,
) -> dict[str, Objective]:
    if objectives is None:
        return default_objectives()
    if isinstance(objectives, Mapping):
        result = dict(objectives)
    else:
        result = {objective.name: objective for objective in objectives}
    if not result:
        raise ValueError("objectives must hold at least one objective.")
    for name, objective in result.items():
        if getattr(objective, "dim", None) != 2:
            raise ValueError(
                f"the explorer draws contours, so every objective must be 2-D; "
                f"{name!r} has dim={getattr(objective, 'dim', None)}."
            )
    return result


class OptimizerExplorer:
    """Sliders and dropdowns for an optimizer run, with its path drawn on the contours.

    Attributes a notebook or a test can use:

    * ``widget``: the ipywidgets container (showing the explorer displays it);
    * ``sliders``: ``{"lr", "beta", "eps", "steps"}`` -> slider;
    * ``objective_dropdown``, ``optimizer_dropdown``: the two dropdowns;
    * ``redraw()``: run the optimizer with the current settings and redraw; returns the run;
    * ``last_trajectory``: the :class:`~course_lib.training.Trajectory` of the latest redraw;
    * ``status``: an HTML line with the final loss, or the reason the run stopped;
    * ``image``: the plot, a PNG of exactly :data:`PLOT_SIZE` pixels shown at that size.

    Every change of a control calls ``redraw``. Sliders only report when released
    (``continuous_update=False``), so dragging does not queue up dozens of runs.
    """

    def __init__(
        self,
        objectives: Mapping[str, Objective] | Sequence[Objective] | None = None,
        x0: ArrayLike | Mapping[str, ArrayLike] | None = None,
        steps: int = 100,
        optimizer: str = "RMSprop",
        lr: float = 0.1,
        beta: float = 0.9,
        eps: float = 1e-8,
    ) -> None:
        self.objectives = _as_objective_dict(objectives)
        self._x0 = x0
        if optimizer not in OPTIMIZERS:
            allowed = ", ".join(OPTIMIZERS)
            raise ValueError(f"optimizer must be one of {allowed}, got {optimizer!r}.")
        make_optimizer(optimizer, lr, beta, eps)  # fail now, with the optimizer's own message
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}.")

        common: dict[str, Any] = {
            "continuous_update": False,
            "style": {"description_width": "72px"},
            "layout": widgets.Layout(width="100%"),
        }
        self.sliders: dict[str, widgets.Widget] = {
            # lr and eps span decades, so their sliders move in powers of ten.
            "lr": widgets.FloatLogSlider(
                value=lr, base=10, min=-4, max=1, step=0.05, description="lr",
                readout_format=".3g", **common,
            ),
            "beta": widgets.FloatSlider(
                value=beta, min=0.0, max=0.999, step=0.001, description="beta",
                readout_format=".3f", **common,
            ),
            "eps": widgets.FloatLogSlider(
                value=eps, base=10, min=-10, max=0, step=0.5, description="eps",
                readout_format=".0e", **common,
            ),
            "steps": widgets.IntSlider(
                value=int(steps), min=1, max=max(1000, int(steps)), step=1,
                description="steps", **common,
            ),
        }
        dropdown = {"style": {"description_width": "72px"}, "layout": widgets.Layout(width="100%")}
        self.objective_dropdown = widgets.Dropdown(
            options=list(self.objectives), description="objective", **dropdown
        )
        dropdown["layout"] = widgets.Layout(width="100%")  # one Layout per widget
        self.optimizer_dropdown = widgets.Dropdown(
            options=list(OPTIMIZERS), value=optimizer, description="optimizer", **dropdown
        )
        # HTML rather than Label: a Label cuts long text with "...", HTML wraps it.
        self.mapping_label = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.status = widgets.HTML(layout=widgets.Layout(width="100%"))
        width, height = PLOT_SIZE
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{width}px", height=f"{height}px", flex="0 0 auto", object_fit="none"))
        self.last_trajectory: Trajectory | None = None

        for control in [*self.sliders.values(), self.objective_dropdown, self.optimizer_dropdown]:
            control.observe(self._on_change, names="value")

        controls = widgets.VBox(
            [self.objective_dropdown, self.optimizer_dropdown, *self.sliders.values(),
             self.mapping_label, self.status],
            layout=widgets.Layout(width=f"{CONTROLS_WIDTH}px", flex="0 0 auto"),
        )
        self.widget = widgets.HBox([controls, self.image],
                                   layout=widgets.Layout(align_items="flex-start"))
        self.redraw()

    # --- running and drawing ---------------------------------------------------------------
    @property
    def objective(self) -> Objective:
        return self.objectives[self.objective_dropdown.value]

    def start(self) -> np.ndarray:
        """The start point for the selected objective."""
        if self._x0 is None:
            return default_start(self.objective)
        if isinstance(self._x0, Mapping):
            if self.objective_dropdown.value in self._x0:
                return np.asarray(self._x0[self.objective_dropdown.value], dtype=float)
            return default_start(self.objective)
        return np.asarray(self._x0, dtype=float)

    def make_optimizer(self) -> Optimizer:
        """The selected optimizer with the sliders' hyperparameters."""
        return make_optimizer(
            self.optimizer_dropdown.value,
            lr=self.sliders["lr"].value,
            beta=self.sliders["beta"].value,
            eps=self.sliders["eps"].value,
        )

    def _on_change(self, change: dict[str, Any]) -> None:
        self.redraw()

    def redraw(self) -> Trajectory:
        """Run the optimizer with the current settings and redraw the plot. Prints nothing."""
        name = self.optimizer_dropdown.value
        objective = self.objective
        # Sliders that the chosen optimizer ignores are greyed out, so nobody tunes them in vain.
        self.sliders["beta"].disabled = name == "AdaGrad"
        self.sliders["eps"].disabled = name == "SGD"
        self.mapping_label.value = html.escape(BETA_MAPPING[name], quote=False)

        # The stop message of a diverged run goes into the title and the status line instead
        # of stdout, because a cell's printed output is compared by nbval.
        trajectory = minimize(objective, self.make_optimizer(), self.start(),
                              self.sliders["steps"].value, verbose=False)
        self.last_trajectory = trajectory

        if trajectory.stopped:
            summary = trajectory.stopped
        else:
            summary = (f"After {trajectory.steps} steps: f = {trajectory.losses[-1]:.4g} at "
                       f"({trajectory.final[0]:.4g}, {trajectory.final[1]:.4g}).")
        self.status.value = html.escape(summary, quote=False)

        # A Figure made without pyplot is not registered anywhere, so it cannot leak into the
        # notebook's inline output or pile up in memory.
        width, height = PLOT_SIZE
        fig = Figure(figsize=(width / PLOT_DPI, height / PLOT_DPI), dpi=PLOT_DPI)
        # Fixed margins with room for a three-line title: an automatic layout would double the
        # drawing time, and a slider should feel responsive.
        fig.subplots_adjust(left=0.11, right=0.97, bottom=0.09, top=0.86)
        ax = fig.add_subplot()
        label = f"{name} (lr={self.sliders['lr'].value:.3g})"
        plot_contours(objective, {label: trajectory}, ax=ax, title=objective.name)
        if trajectory.stopped:
            ax.set_title(objective.name + "\n" + textwrap.fill(trajectory.stopped, 70),
                         color=OKABE_ITO["vermillion"], fontsize="medium")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=PLOT_DPI)  # exactly PLOT_SIZE pixels
        self.image.value = buffer.getvalue()
        return trajectory

    # --- display ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        # Short and free of model ids: this is the text/plain a notebook stores and nbval
        # compares, and what a static viewer (no widgets) shows.
        return (f"OptimizerExplorer({self.optimizer_dropdown.value} on "
                f"{self.objective_dropdown.value!r})")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        return bundle


def optimizer_explorer(
    objectives: Mapping[str, Objective] | Sequence[Objective] | None = None,
    x0: ArrayLike | Mapping[str, ArrayLike] | None = None,
    steps: int = 100,
) -> OptimizerExplorer:
    """An :class:`OptimizerExplorer`, drawn once already; make it a cell's last line to show it.

    ``objectives`` defaults to :func:`default_objectives` (a dict name -> objective, or a list
    of 2-D objectives). ``x0`` is one start for every objective, a dict name -> start, or None
    for :func:`default_start`. ``steps`` is the initial number of steps.
    """
    return OptimizerExplorer(objectives=objectives, x0=x0, steps=steps)


__all__ = [
    "OPTIMIZERS",
    "PLOT_SIZE",
    "PLOT_DPI",
    "CONTROLS_WIDTH",
    "BETA_MAPPING",
    "OptimizerExplorer",
    "optimizer_explorer",
    "default_objectives",
    "default_start",
    "make_optimizer",
]
