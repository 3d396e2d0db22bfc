"""A metric plugin: the median absolute error."""

from __future__ import annotations

import numpy as np


def median_absolute_error(y_true, y_pred) -> float:
    """Median of ``|y_true - y_pred|``; robust to a few wild predictions.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
        Targets and predictions.

    Returns
    -------
    float
    """
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"`y_true` and `y_pred` must have the same length; got {len(y_true)} and "
            f"{len(y_pred)}."
        )
    if y_true.size == 0:
        return float("nan")
    return float(np.median(np.abs(y_true - y_pred)))


# What fairtrain's per-group tools read: the kind of data, and the direction.
median_absolute_error.kind = "regression"
median_absolute_error.greater_is_better = False
