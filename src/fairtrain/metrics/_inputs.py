"""Input validation and conversion shared by the metric functions and reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fairtrain.groups import Groups, _is_missing


def as_values(y: Any, name: str) -> np.ndarray:
    """Regression targets or predictions as a float vector; ``(n, 1)`` is squeezed."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"`{name}` must be one-dimensional (or a single column); got shape {arr.shape}."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be numeric for this metric; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    check_finite(arr, name)
    return arr


def as_labels(y: Any, name: str) -> np.ndarray:
    """Class labels from labels, one-hot rows, class scores or positive-class probabilities.

    A 2-D array with several columns gives the arg-max of each row; a float vector with
    fractional values in ``[0, 1]`` is read as the probability of class 1 and thresholded
    at 0.5; integer-valued floats become integers.
    """
    arr = np.asarray(y)
    if arr.ndim == 2:
        if arr.shape[1] == 1:
            arr = arr[:, 0]
        else:
            if arr.dtype.kind == "f":
                check_finite(arr, name)
            return np.argmax(arr, axis=1)
    if arr.ndim != 1:
        raise ValueError(
            f"`{name}` must hold one label per example (shape (n,)) or one row of class "
            f"scores per example (shape (n, n_classes)); got shape {arr.shape}."
        )
    if arr.dtype.kind == "f":
        check_finite(arr, name)
        whole = np.floor(arr) == arr
        if whole.all():
            return arr.astype(np.int64)
        if arr.min() < 0 or arr.max() > 1:
            raise ValueError(
                f"`{name}` holds fractional values outside [0, 1], so they are neither "
                "class labels nor probabilities; pass class labels."
            )
        return (arr >= 0.5).astype(np.int64)
    if arr.dtype.kind == "O":
        missing = _is_missing(arr)
        if missing.any():
            raise ValueError(
                f"`{name}` holds {int(missing.sum())} missing label(s) (None or NaN), "
                f"first at index {int(np.flatnonzero(missing)[0])}."
            )
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise if a float array holds NaN or infinity."""
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            first = int(np.flatnonzero(bad.reshape(-1))[0])
            raise ValueError(
                f"`{name}` holds {int(bad.sum())} NaN or infinite value(s), first at flat "
                f"index {first}; remove or impute them first."
            )


def as_weights(sample_weight: Any, n: int) -> np.ndarray | None:
    """Validated non-negative finite weights of length ``n`` (or None)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.ndim != 1:
        raise ValueError(f"`sample_weight` must be one-dimensional; got shape {w.shape}.")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"`sample_weight` must be numeric; got dtype {w.dtype}.")
    w = w.astype(np.float64, copy=False)
    check_finite(w, "sample_weight")
    if w.size != n:
        raise ValueError(
            f"`sample_weight` has {w.size} entries but there are {n} examples; "
            "give one weight per example."
        )
    if w.size and w.min() < 0:
        raise ValueError(f"`sample_weight` must be non-negative; got {w.min():g}.")
    return w


def check_lengths(**arrays: Any) -> int:
    """The common length of the named arrays, or a ValueError naming every length."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise ValueError(
            f"The inputs must have one entry per example; got lengths {shown}."
        )
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError("The inputs are empty: there are no examples to score.")
    return n


def as_groups(groups: Any) -> Groups:
    """A :class:`Groups` from a Groups, a mapping of attribute columns, or one column."""
    if isinstance(groups, Groups):
        return groups
    if isinstance(groups, Mapping) or hasattr(groups, "columns"):
        return Groups.from_columns(groups)
    arr = np.asarray(groups)
    if arr.ndim != 1:
        raise ValueError(
            "`groups` must be a fairtrain.Groups, a mapping of attribute columns, or one "
            f"column of group labels; got an array of shape {arr.shape}."
        )
    return Groups.from_columns({"group": arr})
