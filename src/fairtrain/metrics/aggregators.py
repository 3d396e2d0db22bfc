"""Bias aggregators: one number from the per-group values of a metric."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fairtrain._validation import validate_params

__all__ = ["max_gap", "pairwise_bias", "ratio", "worst_group"]


def _values(values: Any, *, min_groups: int = 2) -> tuple[tuple[str, ...], np.ndarray]:
    raw = list(values.values()) if isinstance(values, Mapping) else values
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        flat = np.asarray(raw, dtype=object).reshape(-1).tolist()
        bad = next((v for v in flat if not isinstance(v, (int, float, np.number))), flat[:1])
        raise TypeError(
            f"`values` must be the metric's value (a number) for every group; got {bad!r}. "
            "Pass one number per group, e.g. BiasReport[attribute].values."
        ) from None
    if isinstance(values, Mapping):
        names = tuple(str(k) for k in values)
    else:
        names = tuple(str(i) for i in range(arr.size))
    if arr.ndim != 1:
        raise ValueError(f"`values` must be one value per group; got shape {arr.shape}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        which = [names[i] for i in np.flatnonzero(bad)][:5]
        raise ValueError(
            f"`values` holds {int(bad.sum())} NaN or infinite value(s) (groups {which}); "
            "a group's metric is undefined there. Drop those groups, or compare only the "
            "groups where the metric is defined (BiasReport does this and lists them)."
        )
    if arr.size < min_groups:
        raise ValueError(
            f"A bias needs at least {min_groups} groups; got {arr.size}."
        )
    return names, arr


def pairwise_bias(values: Any) -> float:
    """Mean absolute difference over all unordered pairs of groups: the bias score.

    Parameters
    ----------
    values : mapping of str to float, or array-like of float, shape (k,)
        The metric of every group, ``k >= 2``.

    Returns
    -------
    float
        Zero exactly when all groups are equal; in the metric's unit.

    Raises
    ------
    ValueError
        If there are fewer than two groups or a value is NaN or infinite.
    TypeError
        If a value is not a number.

    Notes
    -----
    ``sum_{i<j} |v_i - v_j| / (k (k - 1) / 2)``, computed on the sorted values so the
    result does not depend on the order of the groups. This is the apparent-age
    challenge's bias score of an attribute, with ``v`` the per-group MAE.

    Examples
    --------
    The challenge's worked example, per-group MAE of the four age groups:

    >>> from fairtrain.metrics import pairwise_bias
    >>> round(pairwise_bias([7.08, 5.29, 7.39, 10.23]), 2)
    2.52
    """
    _, arr = _values(values)
    v = np.sort(arr)
    k = v.size
    diffs = np.abs(v[:, None] - v[None, :])
    return float(np.triu(diffs, 1).sum() / (k * (k - 1) / 2))


def max_gap(values: Any) -> float:
    """Largest difference between two groups, ``max(v) - min(v)``.

    Parameters
    ----------
    values : mapping of str to float, or array-like of float, shape (k,)
        The metric of every group, ``k >= 2``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If there are fewer than two groups or a value is NaN or infinite.
    TypeError
        If a value is not a number.

    Notes
    -----
    ``max_g v_g - min_g v_g``. On ``selection_rate`` this is fairlearn's demographic
    parity difference; the larger of it on the true and the false positive rates is the
    equalised odds difference.

    Examples
    --------
    >>> from fairtrain.metrics import max_gap
    >>> max_gap({"a": 0.9, "b": 0.75, "c": 0.8})
    0.15
    """
    _, arr = _values(values)
    return float(arr.max() - arr.min())


def ratio(values: Any) -> float:
    """Smallest group value over the largest, ``min(v) / max(v)``; 1 means all equal.

    Parameters
    ----------
    values : mapping of str to float, or array-like of float, shape (k,)
        The non-negative metric of every group, ``k >= 2``.

    Returns
    -------
    float
        In ``[0, 1]``; 1.0 when every value is 0.

    Raises
    ------
    ValueError
        If there are fewer than two groups, a value is NaN or infinite, or a value is
        negative.
    TypeError
        If a value is not a number.

    Notes
    -----
    ``min_g v_g / max_g v_g`` (the "four-fifths rule" compares it with 0.8 on
    selection rates).

    Examples
    --------
    >>> from fairtrain.metrics import ratio
    >>> ratio([0.4, 0.5])
    0.8
    """
    _, arr = _values(values)
    if arr.min() < 0:
        raise ValueError(
            f"`ratio` needs non-negative values; got {arr.min():g}. Use max_gap or "
            "pairwise_bias for signed metrics."
        )
    top = arr.max()
    return 1.0 if top == 0 else float(arr.min() / top)


@validate_params({"greater_is_better": ["boolean"]})
def worst_group(values: Any, *, greater_is_better: bool) -> str:
    """The name of the group with the worst value.

    Parameters
    ----------
    values : mapping of str to float, or array-like of float, shape (k,)
        The metric of every group (a sequence names its groups ``"0"``, ``"1"``, ...).
    greater_is_better : bool
        True for scores such as accuracy or recall (the worst is the smallest), False
        for errors such as MAE (the worst is the largest).

    Returns
    -------
    str
        The first such group on ties.

    Raises
    ------
    ValueError
        If there are no groups or a value is NaN or infinite.
    TypeError
        If a value is not a number, or ``greater_is_better`` is not True or False.

    Examples
    --------
    >>> from fairtrain.metrics import worst_group
    >>> worst_group({"0-20": 7.08, "20-40": 5.29, "40-60": 7.39, "60-120": 10.23},
    ...             greater_is_better=False)
    '60-120'
    """
    names, arr = _values(values, min_groups=1)
    index = int(np.argmin(arr) if greater_is_better else np.argmax(arr))
    return names[index]
