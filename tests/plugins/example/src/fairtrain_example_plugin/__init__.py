"""A tiny third-party fairtrain plugin: one metric and one weight scheme."""

import numpy as np

LOADED = True


def median_absolute_error(y_true, y_pred, sample_weight=None):
    """Median of |y_true - y_pred| (sample_weight is ignored)."""
    return float(np.median(np.abs(np.asarray(y_true) - np.asarray(y_pred))))


def uniform(counts, **_):
    """Weight 1 for every group."""
    return np.ones(len(counts))
