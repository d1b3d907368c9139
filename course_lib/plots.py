"""The course's plots: optimizer paths on contours, loss curves, EWMA weights, learning rates.

Every function draws on ``ax`` (or on a new figure when ``ax`` is None), gives the plot a title,
axis labels and a legend, and returns the Axes, so a notebook can keep adjusting it. Nothing is
printed and ``plt.show()`` is never called: the notebook decides when a figure is shown.

Colours come from the Okabe-Ito palette, which stays distinguishable for the common kinds of
colour blindness. Each series also gets its own line style and marker, so a plot still reads
when printed in black and white.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from .ewma import effective_window, ewma_weights
from .objectives import Objective
from .training import History, Trajectory

#: The Okabe-Ito colour-blind-safe palette (Okabe & Ito, 2008), in its published order.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: The order series are coloured in. Yellow is last because it is hard to see on white (the
#: contour plot's minimum star is yellow with a black edge), and black is kept late because
#: the start and end markers are black.
SERIES_COLORS: tuple[str, ...] = tuple(
    OKABE_ITO[name]
    for name in (
        "blue", "vermillion", "bluish green", "orange",
        "reddish purple", "sky blue", "black", "yellow",
    )
)
#: Line styles and markers cycle alongside the colours, for readers who cannot rely on colour.
LINE_STYLES: tuple[str, ...] = ("-", "--", "-.", ":")
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")

# More markers than this on one line turn it into a smear; beyond it only every k-th is drawn.
_MAX_MARKERS = 40


def series_style(i: int) -> dict[str, Any]:
    """Colour, line style and marker of the ``i``-th series, as keyword arguments for ``plot``."""
    return {
        "color": SERIES_COLORS[i % len(SERIES_COLORS)],
        "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.8)) -> Axes:
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}.")
        return ax
    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def _check_mapping(name: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name} must be a dict of label -> run, e.g. {{'RMSprop': trajectory}}, "
            f"got {type(value).__name__}."
        )
    return value


def _markevery(n_points: int) -> int:
    return max(1, n_points // _MAX_MARKERS)


def _points_of(label: str, run: Trajectory | ArrayLike, dim: int | None = None) -> np.ndarray:
    """The (n, dim) array of points of a Trajectory or of an array given directly."""
    points = run.points if isinstance(run, Trajectory) else np.asarray(run, dtype=float)
    if points.ndim != 2 or points.shape[0] == 0 or (dim is not None and points.shape[1] != dim):
        wanted = f"(n, {dim})" if dim is not None else "(n, dim)"
        raise ValueError(
            f"the points of {label!r} must have shape {wanted} with n >= 1, "
            f"got shape {points.shape}."
        )
    return points


def _log_scale_or_note(ax: Axes, values: list[np.ndarray], log: bool, what: str) -> str:
    """Use a log y-scale if asked and possible; otherwise return a note for the title.

    A log scale shows the rate of convergence (a straight line is linear convergence), but it
    cannot show values <= 0. Rather than silently dropping them, fall back to a linear scale
    and say so.
    """
    if not log:
        return ""
    finite = [v[np.isfinite(v)] for v in values]
    if any(np.any(v <= 0) for v in finite):
        return f" (linear scale: some {what} <= 0)"
    ax.set_yscale("log")
    return ""


# --- contours ----------------------------------------------------------------------------------


def _contour_levels(
    z: np.ndarray, levels: int | Sequence[float], log_levels: bool
) -> np.ndarray:
    if not isinstance(levels, (int, np.integer)):
        return np.sort(np.asarray(levels, dtype=float))
    if levels < 2:
        raise ValueError(f"levels must be at least 2, got {levels}.")
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return np.empty(0)
    z_lo, z_hi = float(finite.min()), float(finite.max())
    if z_hi <= z_lo:
        return np.empty(0)  # a flat function has no contour lines
    if not log_levels:
        return np.linspace(z_lo, z_hi, int(levels))
    # Most interesting detail sits just above the minimum, so space the levels geometrically
    # in the height above the lowest value on the grid: dense near the bottom, sparse on the
    # walls. Five decades covers Rosenbrock's banana as well as a gentle quadratic.
    span = z_hi - z_lo
    return z_lo + np.geomspace(span * 1e-5, span, int(levels))


def plot_contours(
    objective: Objective,
    trajectories: Mapping[str, Trajectory | ArrayLike],
    ax: Axes | None = None,
    levels: int | Sequence[float] = 30,
    log_levels: bool = True,
    title: str | None = None,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
) -> Axes:
    """Contour lines of a 2-D ``objective`` with optimizer paths drawn on top.

    ``trajectories`` maps a legend label to a :class:`~course_lib.training.Trajectory` or to an
    array of points of shape ``(n, 2)``. Each path is a line with markers; its start is a hollow
    black circle and its end (if inside the window) a black cross. The known minimum, if any,
    is a star. The window is ``objective.plot_range`` unless ``xlim``/``ylim`` are given; paths
    that leave it (a run that diverged) are cut off at its edge instead of stretching the axes.
    Legend: the labels in order, then "start", "end" and "minimum" where drawn.

    ``levels`` is a number of levels or the levels themselves; ``log_levels`` spaces a number
    of levels geometrically above the lowest value, so that the valley floor gets detail.
    """
    if not (hasattr(objective, "f") and hasattr(objective, "dim")):
        raise TypeError(
            f"objective must be a course_lib Objective (with f and dim), "
            f"got {type(objective).__name__}."
        )
    if objective.dim != 2:
        raise ValueError(
            f"contours need a 2-D objective (f of x and y), but {objective!r} has "
            f"dim={objective.dim}. For a 1-D objective, plot f against x with ax.plot instead."
        )
    trajectories = _check_mapping("trajectories", trajectories)
    paths = {label: _points_of(label, run, dim=2) for label, run in trajectories.items()}
    ax = _new_axes(ax, figsize=(6.4, 5.6))

    (x_lo, x_hi), (y_lo, y_hi) = objective.plot_range
    if xlim is not None:
        x_lo, x_hi = xlim
    if ylim is not None:
        y_lo, y_hi = ylim
    xs = np.linspace(x_lo, x_hi, 201)
    ys = np.linspace(y_lo, y_hi, 201)
    grid_x, grid_y = np.meshgrid(xs, ys)
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.asarray(objective.f(np.stack([grid_x, grid_y], axis=-1)), dtype=float)
    # Grey contour lines leave colour for the paths, which are what the eye should follow.
    # Shades go by level index (dark near the minimum, light on the walls), so geometric
    # levels get the whole range of greys instead of nearly all being dark.
    level_values = _contour_levels(z, levels, log_levels)
    if level_values.size:
        greys = plt.get_cmap("Greys_r")(np.linspace(0.1, 0.75, level_values.size))
        ax.contour(grid_x, grid_y, z, levels=level_values, colors=greys, linewidths=0.7)

    handles: list[Any] = []
    any_end = False
    for i, (label, points) in enumerate(paths.items()):
        style = series_style(i)
        (line,) = ax.plot(
            points[:, 0], points[:, 1], label=label, linewidth=1.6, markersize=4,
            markevery=_markevery(len(points)), **style,
        )
        handles.append(line)
        ax.scatter(points[0, 0], points[0, 1], s=90, facecolors="none", edgecolors="black",
                   linewidths=1.5, zorder=4)
        end = points[-1]
        # A diverged run ends far outside the window (or at inf): no marker, no legend entry.
        if x_lo <= end[0] <= x_hi and y_lo <= end[1] <= y_hi:
            ax.scatter(end[0], end[1], s=70, marker="X", color="black", zorder=4)
            any_end = True
    # One legend entry each for start and end, not one per run: they look the same for all.
    if paths:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=9,
                              markerfacecolor="none", markeredgecolor="black", label="start"))
    if any_end:
        handles.append(Line2D([], [], linestyle="none", marker="X", markersize=8,
                              color="black", label="end"))
    minimum = getattr(objective, "minimum", None)
    if minimum is not None:
        star = ax.scatter(minimum[0], minimum[1], s=260, marker="*", color=OKABE_ITO["yellow"],
                          edgecolors="black", linewidths=1.0, zorder=5, label="minimum")
        handles.append(star)

    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(objective.name if title is None else title)
    if handles:
        ax.legend(handles=handles, loc="best", fontsize="small", framealpha=0.9)
    return ax


# --- loss curves -------------------------------------------------------------------------------


def plot_losses(
    histories_or_trajectories: Mapping[str, Trajectory | History | ArrayLike],
    ax: Axes | None = None,
    log: bool = True,
    x: str | None = None,
    title: str | None = None,
    ylabel: str = "loss",
) -> Axes:
    """Loss curves, one per entry of the dict (legend label -> run).

    A :class:`~course_lib.training.Trajectory` contributes its ``losses`` (one per step); a
    :class:`~course_lib.training.History` its ``train_loss`` (solid) and, if present, its
    ``val_loss`` (dashed, same colour, labelled "<label> (validation)"); a plain array is one
    value per step.

    ``x`` chooses the horizontal axis: ``"epoch"`` (Histories only) or ``"step"`` (for a
    History, the number of optimizer steps taken so far). The default is ``"epoch"`` when
    every run is a History and ``"step"`` otherwise.

    With ``log`` the y-axis is logarithmic; if some loss is <= 0 (e.g. a quadratic whose
    minimum value is negative) it stays linear and the title says so. Plot ``loss - f_min``
    to see such a run on a log scale.
    """
    runs = _check_mapping("histories_or_trajectories", histories_or_trajectories)
    if x is None:
        x = "epoch" if runs and all(isinstance(r, History) for r in runs.values()) else "step"
    if x not in ("step", "epoch"):
        raise ValueError(f"x must be 'step' or 'epoch', got {x!r}.")
    ax = _new_axes(ax)

    plotted: list[np.ndarray] = []
    for i, (label, run) in enumerate(runs.items()):
        style = series_style(i)
        style.pop("linestyle")  # solid for training, dashed for validation
        if isinstance(run, History):
            xs = np.asarray(run.epoch if x == "epoch" else run.steps)
            series = [(label, run.train_loss, "-")]
            if run.val_loss is not None:
                series.append((f"{label} (validation)", run.val_loss, "--"))
        elif isinstance(run, Trajectory):
            if x == "epoch":
                raise ValueError(
                    f"{label!r} is a Trajectory, which has steps but no epochs: use x='step'."
                )
            xs = np.arange(len(run.losses))
            series = [(label, run.losses, "-")]
        else:
            values = np.asarray(run, dtype=float)
            if values.ndim != 1:
                raise ValueError(
                    f"the losses of {label!r} must be a 1-D array, got shape {values.shape}."
                )
            xs = np.arange(len(values))
            series = [(label, values, "-")]
        for name, values, linestyle in series:
            values = np.asarray(values, dtype=float)
            # A diverged run ends in inf or nan, which matplotlib leaves out; values near the
            # float64 limit would make the log-scale tick maths overflow, so drop them too.
            values = np.where(np.abs(values) > 1e300, np.nan, values)
            ax.plot(xs[: len(values)], values, label=name, linestyle=linestyle, linewidth=1.6,
                    markersize=4, markevery=_markevery(len(values)), **style)
            plotted.append(values)

    note = _log_scale_or_note(ax, plotted, log, "losses")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    ax.set_title(("Loss" if title is None else title) + note)
    if plotted:
        ax.legend(loc="best", fontsize="small")
    return ax


# --- EWMA weights ------------------------------------------------------------------------------


def plot_ewma_weights(
    betas: Sequence[float],
    t: int = 50,
    ax: Axes | None = None,
    bias_correction: bool = False,
    title: str | None = None,
) -> Axes:
    """The weight an EWMA with each ``beta`` puts on each past value, seen from step ``t``.

    The x-axis is the age of a value (0 = the newest, ``x_t``). Each beta gets a stem plot of
    :func:`~course_lib.ewma.ewma_weights` and a dotted vertical line at its effective window
    ``1/(1-beta)``: roughly, the average "remembers" that many recent values.
    """
    if isinstance(betas, (int, float)) or not isinstance(betas, Sequence) or len(betas) == 0:
        raise TypeError(f"betas must be a non-empty list of decay rates, got {betas!r}.")
    weights = {beta: ewma_weights(beta, t, bias_correction=bias_correction) for beta in betas}
    ax = _new_axes(ax)

    ages = np.arange(t)  # ewma_weights lists x_1 (age t-1) first, so reverse it below
    n = len(betas)
    width = 0.8 / n
    right = t - 0.5
    for i, (beta, w) in enumerate(weights.items()):
        style = series_style(i)
        # Side by side, as in a grouped bar chart, so stems of different betas do not overlap.
        shift = (i - (n - 1) / 2) * width
        ax.vlines(ages + shift, 0, w[::-1], color=style["color"], linewidth=1.2)
        ax.plot(ages + shift, w[::-1], linestyle="none", marker=style["marker"], markersize=4,
                color=style["color"], label=f"β = {beta:g}")
        window = effective_window(beta)
        ax.axvline(window, color=style["color"], linestyle=LINE_STYLES[(i + 1) % 4],
                   linewidth=1.4, label=f"window 1/(1-β) = {window:.3g}")
        right = max(right, window + 1)

    ax.set_xlim(-0.9, right)
    ax.set_xlabel(f"age of the value (steps before t = {t})")
    ax.set_ylabel("weight" + (" (bias-corrected)" if bias_correction else ""))
    default = f"EWMA weights at step t = {t}" + (", bias-corrected" if bias_correction else "")
    ax.set_title(default if title is None else title)
    ax.legend(loc="best", fontsize="small")
    return ax


# --- effective learning rates ------------------------------------------------------------------


def _coordinate_labels(dim: int, labels: Sequence[str] | None) -> list[str]:
    if labels is None:
        return list("xyz"[:dim]) if dim <= 3 else [f"x{i + 1}" for i in range(dim)]
    labels = list(labels)
    if len(labels) != dim:
        raise ValueError(f"got {len(labels)} labels for {dim} coordinates; give one each.")
    return labels


def plot_effective_lr(
    trajectory_or_rates: Trajectory | ArrayLike,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    log: bool = True,
    title: str | None = None,
) -> Axes:
    """Each coordinate's effective learning rate at each step, one line per coordinate.

    Takes a :class:`~course_lib.training.Trajectory` (its ``effective_lrs``) or an array of
    shape ``(steps, dim)`` (or ``(steps,)`` for one coordinate). Step 1 is the first update.
    ``labels`` names the coordinates (default x, y, z). Plain SGD gives flat lines; AdaGrad's
    can only fall; RMSprop's follow the recent gradient size.
    """
    rates = (trajectory_or_rates.effective_lrs if isinstance(trajectory_or_rates, Trajectory)
             else np.asarray(trajectory_or_rates, dtype=float))
    if rates.ndim == 1:
        rates = rates[:, None]
    if rates.ndim != 2:
        raise ValueError(f"rates must have shape (steps, dim), got shape {rates.shape}.")
    names = _coordinate_labels(rates.shape[1], labels)
    ax = _new_axes(ax)

    steps = np.arange(1, len(rates) + 1)
    for i, name in enumerate(names):
        ax.plot(steps, rates[:, i], label=name, linewidth=1.6, markersize=4,
                markevery=_markevery(len(rates)), **series_style(i))
    note = _log_scale_or_note(ax, [rates], log, "rates")
    ax.set_xlabel("step")
    ax.set_ylabel("effective learning rate")
    ax.set_title(("Effective learning rate per coordinate" if title is None else title) + note)
    ax.legend(loc="best", fontsize="small")
    return ax


# --- parameter paths ---------------------------------------------------------------------------


def plot_parameter_paths(
    trajectories: Mapping[str, Trajectory | ArrayLike],
    ax: Axes | None = None,
    coordinate_names: Sequence[str] = ("x", "y"),
    title: str | None = None,
) -> Axes:
    """Each coordinate of each run against the step (step 0 is the start).

    Colour and marker tell the runs apart, line style the coordinates (solid for the first,
    dashed for the second, ...), e.g. AdaGrad vs RMSprop, each with its x and y. Legend labels
    are ``"<run>: <coordinate>"``.
    """
    trajectories = _check_mapping("trajectories", trajectories)
    names = list(coordinate_names)
    paths = {label: _points_of(label, run, dim=len(names)) for label, run in trajectories.items()}
    ax = _new_axes(ax)

    for i, (label, points) in enumerate(paths.items()):
        style = series_style(i)
        style.pop("linestyle")
        steps = np.arange(len(points))
        for j, coordinate in enumerate(names):
            ax.plot(steps, points[:, j], label=f"{label}: {coordinate}",
                    linestyle=LINE_STYLES[j % len(LINE_STYLES)], linewidth=1.6, markersize=4,
                    markevery=_markevery(len(points)), **style)
    ax.grid(True, color="0.9")
    ax.set_xlabel("step")
    ax.set_ylabel("parameter value")
    ax.set_title("Parameters over the steps" if title is None else title)
    if paths:
        ax.legend(loc="best", fontsize="small")
    return ax


__all__ = [
    "OKABE_ITO",
    "SERIES_COLORS",
    "LINE_STYLES",
    "MARKERS",
    "series_style",
    "plot_contours",
    "plot_losses",
    "plot_ewma_weights",
    "plot_effective_lr",
    "plot_parameter_paths",
]


def show(fig: Figure | Axes, alt: str) -> None:
    """Display ``fig`` in the notebook with ``alt`` as its text alternative, then close it.

    Two outputs: the PNG, with ``alt`` in its display metadata (read by exporters) and as its
    ``text/plain`` fallback; then ``alt`` again as a one-line caption under the image. The
    caption is there because JupyterLab's image renderer (4.x) ignores the metadata and draws
    an ``<img>`` without ``alt``, so without it a screen reader would find nothing to read.
    Closing the figure stops the inline backend from drawing it a second time.
    """
    from IPython.display import display  # imported late: the library works without IPython

    figure = fig.figure if isinstance(fig, Axes) else fig
    if not isinstance(figure, Figure):
        raise TypeError(f"fig must be a matplotlib Figure or Axes, got {type(fig).__name__}.")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt must be a non-empty sentence describing the figure, got {alt!r}.")
    alt = " ".join(alt.split())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    display(
        {"image/png": png, "text/plain": f"[Figure] {alt}"},
        raw=True,
        metadata={"image/png": {"alt": alt}},
    )
    caption = f'<p class="course-figure-caption"><em>Figure.</em> {html.escape(alt)}</p>'
    display({"text/html": caption, "text/plain": f"Figure. {alt}"}, raw=True)
