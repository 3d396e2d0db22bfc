"""A weight-scheme plugin: inverse-frequency weights with a cap."""

from __future__ import annotations

import numpy as np


def capped_inverse(counts, *, cap: float = 10.0) -> np.ndarray:
    """``N / (k n_g)`` for every non-empty cell, capped at ``cap``; empty cells get 0.

    Parameters
    ----------
    counts : array-like, shape (k,) or (n_groups, n_labels)
        Examples per cell.
    cap : float, default 10.0
        Largest weight, so that a cell with a handful of examples cannot dominate.

    Returns
    -------
    ndarray of float, the shape of ``counts``
    """
    if not np.isfinite(cap) or cap <= 0:
        raise ValueError(f"`cap` must be a positive finite number; got cap={cap!r}.")
    table = np.asarray(counts, dtype=np.float64)
    if table.size == 0 or np.any(~np.isfinite(table)) or np.any(table < 0) or table.sum() <= 0:
        raise ValueError(f"`counts` must be non-negative with at least one example; got {table!r}.")
    filled = table > 0
    weights = np.zeros_like(table)
    weights[filled] = table.sum() / (filled.sum() * table[filled])
    return np.minimum(weights, cap)
