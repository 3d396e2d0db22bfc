"""`by_group`: any metric, evaluated on every group at once."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from fairtrain import registry
from fairtrain._validation import (
    InstanceOf,
    as_sample_weight,
    check_lengths,
    param_error,
    validate_params,
)
from fairtrain.groups import Groups, as_groups
from fairtrain.metrics.fairness import measure_of

__all__ = ["by_group"]

MetricLike = str | Callable[..., Any]

#: The parameters every per-group metric entry point shares, declared once: the data
#: first (``y_true, y_pred, groups``), then the metric and its options as keywords.
METRIC_PARAMS: dict[str, Any] = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "metric": [InstanceOf(str, "a metric name"), "callable"],
    "metric_kwargs": [InstanceOf(Mapping, "a mapping"), None],
}
#: How to read the mistake of passing the metric first (the order before 0.1).
METRIC_HINTS = {
    "y_true": "The data come first and the metric is a keyword: "
    "f(y_true, y_pred, groups, metric='mae').",
    "y_pred": "The data come first and the metric is a keyword: "
    "f(y_true, y_pred, groups, metric='mae').",
}


def resolve_metric(metric: MetricLike) -> tuple[Callable[..., Any], str]:
    """The metric function and its display name; a name goes through the registry."""
    if isinstance(metric, str):
        return registry.get("metrics", metric), metric
    if callable(metric):
        return metric, str(getattr(metric, "__name__", type(metric).__name__))
    raise param_error(
        "metric", metric, "a metric name (see fairtrain.registry.available('metrics')) or "
        "a callable metric(y_true, y_pred)", error=TypeError,
    )


def check_per_group(func: Callable[..., Any], name: str) -> None:
    """Refuse a fairness measure where a per-group metric is needed."""
    measure = measure_of(func)
    if measure is not None:
        raise ValueError(
            f"{name!r} is a fairness measure over all the groups at once, not a metric of "
            f"one group. Call it with sensitive_features=..., pass it to "
            f"bias_report(metric={name!r}), or use the per-group rates it compares "
            f"({', '.join(measure.rates)}) here."
        )


def check_metric_kwargs(
    func: Callable[..., Any], name: str, metric_kwargs: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``metric_kwargs`` as a dict, refused up front if ``func`` does not take one of them."""
    if metric_kwargs is None:
        return {}
    if not isinstance(metric_kwargs, Mapping):
        raise TypeError(
            f"`metric_kwargs` must be a mapping of keyword arguments, e.g. "
            f"{{'average': 'macro'}}; got {metric_kwargs!r}."
        )
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):  # no signature to read: the call will tell
        return dict(metric_kwargs)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(metric_kwargs)
    taken = [p for p, v in parameters.items() if v.kind is not inspect.Parameter.VAR_POSITIONAL]
    unknown = [k for k in metric_kwargs if k not in taken]
    if unknown:
        options = taken[2:]
        hint = (" Only recall and precision (and other metrics over classes) take "
                "`average`." if "average" in unknown else "")
        raise TypeError(
            f"Metric {name!r} does not take {', '.join(f'`{k}`' for k in unknown)} (its "
            f"keyword arguments: {options}); remove it from the metric's keyword "
            f"arguments.{hint}"
        )
    return dict(metric_kwargs)


def greater_is_better_of(func: Callable[..., Any], name: str, given: bool | None) -> bool:
    """The metric's direction: the argument, else the function's attribute, else an error."""
    if given is not None:
        if not isinstance(given, (bool, np.bool_)):
            raise TypeError(
                f"`greater_is_better` must be True, False or None; got {given!r}. Pass True "
                "for scores (accuracy, recall), False for errors (mae, error_rate)."
            )
        return bool(given)
    direction = getattr(func, "greater_is_better", None)
    if direction is None:
        raise ValueError(
            f"Metric {name!r} does not say whether higher values are better; pass "
            "greater_is_better=True or False (or set metric.greater_is_better)."
        )
    return bool(direction)


def attribute_views(groups: Groups) -> dict[str, Groups]:
    """The groupings a report covers, by name.

    Every attribute on its own and, with several, ``"intersection"`` (the cells). With
    one attribute, its view is the cells.
    """
    if len(groups.attributes) == 1:
        return {groups.attributes[0]: groups}
    views = dict(groups.by_attribute())
    key = "intersection" if "intersection" not in views else "_intersection"
    views[key] = groups
    return views


class GroupEvaluator:
    """Evaluate one metric on the same data for several groupings, sharing the work.

    Built-ins compute their per-example terms once; every grouping then costs one or
    two :func:`numpy.bincount` passes. Other callables are called once per group.
    """

    def __init__(
        self,
        metric: MetricLike,
        y_true: Any,
        y_pred: Any,
        n: int,
        *,
        sample_weight: Any = None,
        metric_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.func, self.name = resolve_metric(metric)
        check_per_group(self.func, self.name)
        self.kwargs = check_metric_kwargs(self.func, self.name, metric_kwargs)
        self.weights = as_sample_weight(sample_weight, n)
        terms = getattr(self.func, "_fairtrain_contribution", None)
        self.terms = None
        if terms is not None:
            self.terms = terms(y_true, y_pred, self.weights, strict=True, **self.kwargs)
            self.y_true = self.y_pred = None
        else:
            self.y_true, self.y_pred = np.asarray(y_true), np.asarray(y_pred)

    def take(self, index: np.ndarray) -> GroupEvaluator:
        """The same evaluator on the examples ``index`` (a bootstrap resample)."""
        new = object.__new__(GroupEvaluator)
        new.func, new.name, new.kwargs = self.func, self.name, self.kwargs
        new.weights = None if self.weights is None else self.weights[index]
        new.terms = None
        new.y_true = new.y_pred = None
        if self.terms is not None:
            new.terms = self.terms.take(index)
        else:
            assert self.y_true is not None and self.y_pred is not None
            new.y_true, new.y_pred = self.y_true[index], self.y_pred[index]
        return new

    def overall(self, included: np.ndarray | None = None) -> float:
        """The metric over the examples ``included`` (a boolean mask; default all).

        fairtrain's one definition of "overall" is the metric over the grouped examples
        (code ``>= 0``), as fairlearn's ``MetricFrame.overall`` over the same data.
        """
        if included is not None and not included.all():
            return self.values_of(np.where(included, 0, -1), 1)[0]
        if self.terms is not None:
            return self.terms.overall()
        return self._call(slice(None))

    def values(self, groups: Groups) -> np.ndarray:
        """The metric of every group of ``groups``, shape (n_groups,); nan if empty."""
        counts = groups.counts if self.terms is not None else None
        return self.values_of(groups.codes, groups.n_groups, counts)

    def values_of(
        self, codes: np.ndarray, n_groups: int, counts: np.ndarray | None = None
    ) -> np.ndarray:
        """The metric of every group given raw codes (``-1`` left out).

        ``counts`` (examples per group, if known) saves a pass.
        """
        if self.terms is not None:
            return self.terms.reduce(codes, n_groups, counts)
        out = np.full(n_groups, np.nan)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
        for g in range(n_groups):
            members = order[bounds[g] : bounds[g + 1]]
            if members.size:
                out[g] = self._call(members)
        return out

    def _call(self, index: Any) -> float:
        kwargs = dict(self.kwargs)
        if self.weights is not None:
            kwargs["sample_weight"] = self.weights[index]
        assert self.y_true is not None and self.y_pred is not None
        value = self.func(self.y_true[index], self.y_pred[index], **kwargs)
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Metric {self.name!r} must return one number per group; got "
                f"{type(value).__name__}. (For recall or precision, pass "
                "metric_kwargs={'average': 'macro'} or 'binary'.)"
            ) from exc


@validate_params(METRIC_PARAMS, hints=METRIC_HINTS)
def by_group(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    metric: MetricLike = "mae",
    sample_weight: Any = None,
    metric_kwargs: Mapping[str, Any] | None = None,
    sensitive_features: Any = None,
) -> dict[str, float]:
    """The value of a metric for every group.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Targets and predictions, as the metric takes them.
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The groups. Columns are turned into :meth:`fairtrain.Groups.from_columns`; with
        several attributes, the groups are their intersection (use
        :func:`bias_report` for every attribute at once).
    metric : str or callable, default "mae"
        A registered metric name (``"mae"``, ``"recall"``, a plugin's name; see
        ``fairtrain.registry.available("metrics")``) or any callable
        ``metric(y_true, y_pred, **metric_kwargs) -> float``.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example, passed on to the metric.
    metric_kwargs : mapping, optional
        Extra keyword arguments of the metric, e.g. ``{"average": "binary"}``.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Returns
    -------
    dict of str to float
        ``{group name: value}`` in the order of ``groups.names``. An empty group, or one
        where the metric is undefined, gets ``nan``. Examples excluded from the groups
        (code ``-1``) are left out.

    Raises
    ------
    ValueError
        If the lengths differ, the metric name is unknown (the message lists close
        matches), an input holds NaN, or the metric is a fairness measure (one number
        over all groups, such as ``"equalized_odds_difference"``).
    TypeError
        If the metric is neither a name nor a callable, or returns something that is not
        one number, or the data are not arrays (a metric passed first, as before 0.1).

    Notes
    -----
    For group ``g`` with members ``I_g``, the value is ``metric(y_true[I_g],
    y_pred[I_g], sample_weight=sample_weight[I_g])``. Built-in metrics compute it for
    all groups in one pass: a per-example numerator ``a_i`` and denominator ``b_i`` and
    ``value_g = bincount(codes, a)[g] / bincount(codes, b)[g]``; other callables are
    called once per group.

    Examples
    --------
    >>> from fairtrain.metrics import by_group
    >>> by_group([10, 20, 30, 40], [12, 20, 26, 40], ["a", "a", "b", "b"], metric="mae")
    {'a': 1.0, 'b': 2.0}

    Per-class recall is the accuracy within each true class:

    >>> by_group([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 2],
    ...          metric="accuracy")
    {'0': 0.5, '1': 0.6666666666666666, '2': 0.0}
    """
    g = as_groups(groups, sensitive_features=sensitive_features)
    n = check_lengths(y_true=y_true, y_pred=y_pred, groups=g.codes)
    evaluator = GroupEvaluator(
        metric, y_true, y_pred, n, sample_weight=sample_weight, metric_kwargs=metric_kwargs
    )
    values = evaluator.values(g)
    return {name: float(v) for name, v in zip(g.names, values)}
