"""fairlearn interoperability: the same metric and groups as a ``MetricFrame``."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from fairtrain._validation import as_sample_weight, check_lengths, validate_params
from fairtrain.groups import Groups, as_groups
from fairtrain.metrics.grouped import (
    METRIC_HINTS,
    METRIC_PARAMS,
    MetricLike,
    check_per_group,
    resolve_metric,
)

__all__ = ["to_metricframe"]


@validate_params(METRIC_PARAMS, hints=METRIC_HINTS)
def to_metricframe(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    metric: MetricLike = "mae",
    sample_weight: Any = None,
    metric_kwargs: Mapping[str, Any] | None = None,
    sensitive_features: Any = None,
) -> Any:
    """A fairlearn ``MetricFrame`` of the same metric over the same groups.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
        Targets and predictions.
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The groups; every attribute becomes one sensitive feature, so ``by_group`` is
        indexed by the intersection. A level merged into ``"other"`` by the ``merge``
        policy is ``groups.other`` there too, so the cells are fairtrain's.
    metric : str or callable, default "mae"
        A registered metric name or a callable, as for :func:`by_group`.
    sample_weight : array-like of float, shape (n,), optional
        Passed to the metric through ``sample_params``.
    metric_kwargs : mapping, optional
        Bound to the metric with :func:`functools.partial`.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Returns
    -------
    fairlearn.metrics.MetricFrame
        Examples outside every group (code ``-1``) are left out, so its ``overall``
        covers the grouped examples only.

    Raises
    ------
    ImportError
        If fairlearn (or pandas) is not installed.
    ValueError
        If ``metric`` is a fairness measure (one number over all groups, such as
        ``"equalized_odds_difference"``), not a per-group metric.

    Notes
    -----
    ``MetricFrame.by_group`` equals :func:`by_group` on the same inputs; fairtrain's
    version computes built-in metrics in one vectorised pass instead of one call per
    group.
    """
    try:
        import pandas as pd
        from fairlearn.metrics import MetricFrame
    except ImportError as exc:
        raise ImportError(
            'to_metricframe needs fairlearn: pip install "fairtrain[fairlearn]".'
        ) from exc
    func, name = resolve_metric(metric)
    check_per_group(func, name)
    if metric_kwargs:
        func = functools.partial(func, **metric_kwargs)
    g = as_groups(groups, sensitive_features=sensitive_features)
    n = check_lengths(y_true=y_true, y_pred=y_pred, groups=g.codes)
    w = as_sample_weight(sample_weight, n)
    keep = g.codes >= 0
    features = _sensitive_features(pd, g, keep)
    yt, yp = np.asarray(y_true)[keep], np.asarray(y_pred)[keep]
    return MetricFrame(
        metrics={name: func},
        y_true=yt,
        y_pred=yp,
        sensitive_features=features,
        sample_params=None if w is None else {name: {"sample_weight": w[keep]}},
    )


def _sensitive_features(pd: Any, g: Groups, keep: np.ndarray) -> Any:
    """A DataFrame of the ``keep`` examples' level labels, one column per attribute."""
    # each example's level in its cell (merged levels read g.other), so that fairlearn
    # sees fairtrain's cells, not the levels a merge policy pooled
    cell_levels = g.cell_levels[g.codes[keep]]
    return pd.DataFrame(
        {
            a: np.asarray((*g.levels[a], g.other), dtype=object)[cell_levels[:, j]]
            for j, a in enumerate(g.attributes)
        }
    )
