"""Bias metrics: per-group values, fairness measures, reports, confusion matrices, ranks.

Streaming: :class:`GroupAccumulator` keeps per-group sums batch by batch and
:func:`evaluate` runs a model over a dataset into one, in memory that does not grow with
the data.

NumPy only: pandas, fairlearn and matplotlib are imported where used
(:meth:`BiasReport.to_frame`, :func:`to_metricframe`, :mod:`fairtrain.metrics.plots`).
"""

from __future__ import annotations

from fairtrain.metrics.aggregators import max_gap, pairwise_bias, ratio, worst_group
from fairtrain.metrics.confusion import GroupConfusion, confusion_by_group, normalize_confusion
from fairtrain.metrics.evaluation import evaluate
from fairtrain.metrics.fairness import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
)
from fairtrain.metrics.functions import (
    accuracy,
    error_rate,
    false_positive_rate,
    mae,
    mse,
    precision,
    recall,
    selection_rate,
    true_positive_rate,
)
from fairtrain.metrics.grouped import by_group
from fairtrain.metrics.interop import to_metricframe
from fairtrain.metrics.leaderboard import leaderboard_rank
from fairtrain.metrics.report import AttributeBias, BiasReport, bias_report
from fairtrain.metrics.spec import GroupSpec
from fairtrain.metrics.streaming import GroupAccumulator, sum_across_processes

__all__ = [
    "AttributeBias",
    "BiasReport",
    "GroupAccumulator",
    "GroupConfusion",
    "GroupSpec",
    "accuracy",
    "bias_report",
    "by_group",
    "confusion_by_group",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "error_rate",
    "evaluate",
    "false_positive_rate",
    "leaderboard_rank",
    "mae",
    "max_gap",
    "mse",
    "normalize_confusion",
    "pairwise_bias",
    "precision",
    "ratio",
    "recall",
    "selection_rate",
    "sum_across_processes",
    "to_metricframe",
    "true_positive_rate",
    "worst_group",
]
