"""Input validation and conversion shared by the metric functions and reports."""

from __future__ import annotations

from typing import Any

import numpy as np

from fairtrain._validation import check_finite, is_missing

__all__ = ["as_labels", "as_values"]


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

    A 2-D array with several columns gives the arg-max of each row (integer rows must be
    one-hot: other integer columns are labels, not scores); a float vector with
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
            elif arr.dtype.kind in "biu":
                _check_one_hot(arr, name)
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
        missing = is_missing(arr)
        if missing.any():
            raise ValueError(
                f"`{name}` holds {int(missing.sum())} missing label(s) (None or NaN), "
                f"first at index {int(np.flatnonzero(missing)[0])}."
            )
    return arr


def _check_one_hot(arr: np.ndarray, name: str) -> None:
    """Integer rows are labels, not scores: their arg-max is a class only if one-hot."""
    bad = ~(((arr == 0) | (arr == 1)).all(axis=1) & (arr.sum(axis=1) == 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"`{name}` is an integer array of shape {arr.shape} that is not one-hot (row "
            f"{i} is {arr[i].tolist()}), so its rows are not classes. Pass one label per "
            "example (shape (n,)), one-hot rows, or float class scores."
        )

