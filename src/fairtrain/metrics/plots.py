"""Plots of confusion matrices, per-group metrics and staged training curves (matplotlib).

matplotlib is an optional dependency (``pip install "fairtrain[plot]"``), imported when a
plot is drawn. The functions draw on a given ``ax`` or on a new figure made without
``pyplot`` (no global state, no GUI backend needed); save with ``ax.figure.savefig``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from fairtrain.metrics.confusion import GroupConfusion, normalize_confusion
from fairtrain.metrics.report import BiasReport

__all__ = ["plot_by_group", "plot_confusion", "plot_confusion_pair", "plot_training_curves"]


def _figure(ncols: int = 1, size: tuple[float, float] = (6.0, 4.5)) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "fairtrain.metrics.plots needs matplotlib: pip install 'fairtrain[plot]'."
        ) from exc
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def _matrix(confusion: Any, labels: Sequence[Any] | None, group: str | None) -> tuple:
    if isinstance(confusion, GroupConfusion):
        cm = confusion.overall if group is None else confusion[group]
        return np.asarray(cm, dtype=float), list(labels or confusion.labels)
    if group is not None:
        raise ValueError("`group` needs a GroupConfusion from confusion_by_group.")
    cm = np.asarray(confusion, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"`confusion` must be one square matrix; got shape {cm.shape}.")
    labels = list(labels) if labels is not None else list(range(cm.shape[0]))
    if len(labels) != cm.shape[0]:
        raise ValueError(f"`labels` needs {cm.shape[0]} entries; got {len(labels)}.")
    return cm, labels


def plot_confusion(
    confusion: Any,
    labels: Sequence[Any] | None = None,
    *,
    normalize: Literal["true", "pred", "all"] | None = None,
    group: str | None = None,
    ax: Any = None,
    title: str | None = None,
    cmap: str = "Blues",
) -> Any:
    """Heat map of a confusion matrix, rows real and columns predicted, values written in.

    Parameters
    ----------
    confusion : array-like, shape (C, C), or GroupConfusion
        Counts (or rates). A :class:`~fairtrain.metrics.GroupConfusion` gives its
        ``overall`` matrix, or ``group``'s.
    labels : sequence, length C, optional
        Class names on both axes. Default: the GroupConfusion's labels, else 0..C-1.
    normalize : {"true", "pred", "all"}, optional
        Normalise first with :func:`~fairtrain.metrics.normalize_confusion`.
    group : str, optional
        With a GroupConfusion: the group to draw.
    ax : matplotlib Axes, optional
        Where to draw. Default: a new figure.
    title : str, optional
        Default: ``"Confusion matrix"`` (with the normalisation).
    cmap : str, default "Blues"
        A matplotlib colour map.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        If the matrix is not square or the labels do not match it.
    """
    cm, labels = _matrix(confusion, labels, group)
    if normalize is not None:
        cm = normalize_confusion(cm, normalize=normalize)
    if ax is None:
        _, ax = _figure(size=(1.2 * len(labels) + 3, 1.1 * len(labels) + 2.5))
    shown = np.nan_to_num(cm, nan=0.0)
    image = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1 if normalize else max(shown.max(), 1))
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, [str(v) for v in labels], rotation=30, ha="right")
    ax.set_yticks(ticks, [str(v) for v in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("real")
    threshold = (1 if normalize else shown.max()) / 2
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            v = cm[i, j]
            text = "–" if np.isnan(v) else (f"{v:.2f}" if normalize else f"{v:g}")
            ax.text(j, i, text, ha="center", va="center",
                    color="white" if shown[i, j] > threshold else "black")
    default = "Confusion matrix" + (f" (normalised by {normalize})" if normalize else "")
    ax.set_title(title or (default + (f": {group}" if group else "")))
    return ax


def plot_confusion_pair(
    confusion: Any,
    labels: Sequence[Any] | None = None,
    *,
    normalize: Literal["true", "pred", "all"] = "true",
    group: str | None = None,
    title: str | None = None,
) -> Any:
    """The raw and the normalised confusion matrix side by side.

    Parameters
    ----------
    confusion : array-like, shape (C, C), or GroupConfusion
        As for :func:`plot_confusion`.
    labels : sequence, length C, optional
        Class names.
    normalize : {"true", "pred", "all"}, default "true"
        Normalisation of the right-hand matrix.
    group : str, optional
        With a GroupConfusion: the group to draw.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cm, labels = _matrix(confusion, labels, group)
    c = len(labels)
    fig, (left, right) = _figure(2, size=(2.4 * c + 6, 1.1 * c + 2.5))
    plot_confusion(cm, labels, ax=left, title="counts")
    plot_confusion(cm, labels, normalize=normalize, ax=right, title=f"normalised by {normalize}")
    if title or group:
        fig.suptitle(title or f"Confusion matrix: {group}")
    return fig


@dataclass
class _Bars:
    """What :func:`plot_by_group` draws, read from a report or a mapping."""

    names: list[str]
    heights: np.ndarray
    overall: float | None
    metric: str | None
    title: str | None
    ci: np.ndarray | None = None
    flagged: tuple[str, ...] = ()
    min_count: int | None = None

    @classmethod
    def of(cls, values: Any, attribute: str | None, *, overall: float | None,
           metric: str | None, title: str | None) -> _Bars:
        """The bars of ``values``, a BiasReport or ``{group: value}``.

        ``overall``, ``metric`` and ``title`` given win over the report's.
        """
        if isinstance(values, BiasReport):
            report = values
            attribute = attribute or next(iter(report.attributes))
            bias = report[attribute]
            return cls(
                list(bias.groups), np.asarray(bias.values, dtype=float),
                report.overall if overall is None else overall, metric or report.metric,
                title or f"{attribute}: pairwise bias {bias.pairwise:.4g}",
                bias.ci, bias.flagged, report.min_count,
            )
        if isinstance(values, Mapping):
            return cls([str(k) for k in values], np.asarray(list(values.values()), dtype=float),
                       overall, metric, title)
        raise TypeError(
            f"`values` must be a BiasReport or a mapping of group to value; got "
            f"{type(values).__name__}."
        )


def plot_by_group(
    values: Any,
    attribute: str | None = None,
    *,
    overall: float | None = None,
    metric: str | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Bar chart of a metric per group, with the overall value as a horizontal line.

    Parameters
    ----------
    values : BiasReport or mapping of str to float
        A report (then ``attribute`` picks the attribute; overall, metric name,
        intervals and small-group flags come from it) or ``{group: value}``.
    attribute : str, optional
        The report's attribute. Default: its first one.
    overall : float, optional
        The overall value (required with a mapping to draw the line).
    metric : str, optional
        The axis label. Default: the report's metric.
    ax : matplotlib Axes, optional
        Where to draw. Default: a new figure.
    title : str, optional
        Default: the attribute and its pairwise bias.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Hatched bars are groups with fewer than ``min_count`` examples; error bars are the
    bootstrap intervals when the report has them.
    """
    bars = _Bars.of(values, attribute, overall=overall, metric=metric, title=title)
    names, heights, overall, flagged = bars.names, bars.heights, bars.overall, bars.flagged
    if ax is None:
        _, ax = _figure(size=(max(4.0, 0.8 * len(names) + 2), 4.0))
    x = np.arange(len(names))
    drawn = ax.bar(x, np.nan_to_num(heights), color="tab:blue", alpha=0.85)
    for bar, name in zip(drawn, names):
        if name in flagged:
            bar.set_hatch("//")
            bar.set_alpha(0.5)
    if bars.ci is not None:
        # a percentile interval need not contain the estimate: clip, never a negative bar
        lower = np.clip(np.nan_to_num(heights - bars.ci[:, 0]), 0, None)
        upper = np.clip(np.nan_to_num(bars.ci[:, 1] - heights), 0, None)
        ax.errorbar(x, np.nan_to_num(heights), yerr=[lower, upper], fmt="none",
                    ecolor="black", capsize=3)
    min_count, metric, title = bars.min_count, bars.metric, bars.title
    handles = []
    if overall is not None:
        handles.append(ax.axhline(overall, color="tab:red", linestyle="--",
                                  label=f"overall {overall:.4g}"))
    if flagged:
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="tab:blue", alpha=0.5, hatch="//",
                             label=f"fewer than {min_count} examples"))
    if handles:
        ax.legend(handles=handles, loc="best", framealpha=0.9)
    ax.set_xticks(x, names, rotation=30 if len(names) > 4 else 0,
                  ha="right" if len(names) > 4 else "center")
    ax.set_ylabel(metric or "value")
    if title:
        ax.set_title(title)
    return ax


def plot_training_curves(
    history: Any,
    stages: Sequence[str] | None = None,
    *,
    keys: Sequence[str] | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Training curves per epoch, with a vertical line where each training stage begins.

    Parameters
    ----------
    history : mapping of str to sequence of float, or keras History
        Per-epoch values, e.g. ``model.fit(...).history`` or a history saved as JSON.
    stages : sequence of str, optional
        The stage of every epoch (``["head"] * 5 + ["backbone"] * 5 + ["all"] * 10``);
        a line and the stage name mark where it changes.
    keys : sequence of str, optional
        The curves to draw. Default: every key with one value per epoch.
    ax : matplotlib Axes, optional
        Where to draw. Default: a new figure.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If a key is unknown, the curves differ in length, or ``stages`` does not give
        one stage per epoch.
    """
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping) or not data:
        raise ValueError("`history` must be a non-empty mapping of key to per-epoch values.")
    if keys is None:
        keys = list(data)
    unknown = [k for k in keys if k not in data]
    if unknown:
        raise ValueError(f"Unknown history keys {unknown}; the keys are {list(data)}.")
    lengths = {k: len(data[k]) for k in keys}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"The curves must have one value per epoch; got lengths {lengths}.")
    n_epochs = next(iter(lengths.values()))
    if stages is not None and len(stages) != n_epochs:
        raise ValueError(
            f"`stages` needs one stage per epoch ({n_epochs}); got {len(stages)}."
        )
    if ax is None:
        _, ax = _figure(size=(7.0, 4.5))
    epochs = np.arange(1, n_epochs + 1)
    for key in keys:
        ax.plot(epochs, np.asarray(data[key], dtype=float), marker="o", markersize=3,
                label=key)
    if stages is not None:
        starts = [i for i in range(n_epochs) if i == 0 or stages[i] != stages[i - 1]]
        for i in starts:
            if i > 0:
                ax.axvline(i + 0.5, color="gray", linestyle=":")
            ax.annotate(str(stages[i]), xy=(i + 0.6, 1.0), xycoords=("data", "axes fraction"),
                        va="top", ha="left", fontsize=9, color="dimgray")
    ax.set_xlabel("epoch")
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return ax
