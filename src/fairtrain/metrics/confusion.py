"""Confusion matrices per group, and their normalisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from fairtrain._validation import Options, as_sample_weight, check, check_lengths
from fairtrain.groups import as_groups
from fairtrain.metrics._inputs import as_labels

__all__ = ["GroupConfusion", "confusion_by_group", "normalize_confusion"]

Normalize = Literal["true", "pred", "all"]


@dataclass(frozen=True)
class GroupConfusion:
    """Confusion matrices of every group and overall, as returned by confusion_by_group.

    Attributes
    ----------
    matrices : ndarray of float, shape (n_groups, n_classes, n_classes)
        ``matrices[g, i, j]``: (weighted) number of examples of group ``g`` whose true
        class is ``labels[i]`` and predicted class ``labels[j]``. Rows are real classes,
        columns predicted ones.
    overall : ndarray of float, shape (n_classes, n_classes)
        The same over the grouped examples (those excluded from every group, code
        ``-1``, are left out, as in every fairtrain "overall").
    labels : tuple
        The classes, in matrix order.
    groups : tuple of str
        The group names, in matrix order.
    """

    matrices: np.ndarray
    overall: np.ndarray
    labels: tuple[Any, ...]
    groups: tuple[str, ...]

    def __getitem__(self, group: str) -> np.ndarray:
        """The confusion matrix of one group, by name."""
        if group not in self.groups:
            raise KeyError(f"Unknown group {group!r}; the groups are {list(self.groups)}.")
        return self.matrices[self.groups.index(group)]


def _class_codes(yt: np.ndarray, yp: np.ndarray,
                 labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classes (``labels``, or the sorted labels seen) and both inputs' class codes.

    Raises
    ------
    ValueError
        If ``labels`` repeats a label, or an input holds a label not in it.
    """
    if labels is None:
        classes = np.unique(np.concatenate([yt, yp]))
    else:
        classes = np.asarray(list(labels))
        if np.unique(classes).size != classes.size:
            raise ValueError(f"`labels` must be distinct; got {classes.tolist()}.")
    order = np.argsort(classes, kind="stable")
    sorted_classes = classes[order]
    encoded = []
    for name, y in (("y_true", yt), ("y_pred", yp)):
        pos = np.clip(np.searchsorted(sorted_classes, y), 0, classes.size - 1)
        unknown = sorted_classes[pos] != y
        if unknown.any():
            bad = np.unique(y[unknown])[:5].tolist()
            raise ValueError(
                f"`{name}` holds labels not in `labels` {classes.tolist()}: {bad}."
            )
        encoded.append(order[pos])
    return classes, encoded[0], encoded[1]


def confusion_by_group(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    labels: Any = None,
    sample_weight: Any = None,
    sensitive_features: Any = None,
) -> GroupConfusion:
    """Confusion matrix of every group (rows real, columns predicted) in one pass.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Class labels, class scores or probabilities, as for
        :func:`fairtrain.metrics.accuracy`.
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The groups (several attributes give their intersection).
    labels : sequence, optional
        The classes and their order, e.g. ``["African", "Asian", "Latin/Caucasian",
        "Indian"]`` or ``[0, 1, 2, 3]``. Default: the sorted labels seen in either
        input. A label outside ``labels`` is an error.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each (counts).
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Returns
    -------
    GroupConfusion

    Raises
    ------
    ValueError
        If the lengths differ, a value is NaN, ``labels`` repeats a label, or a label
        is not in ``labels``.

    Notes
    -----
    ``matrices[g, i, j] = sum_k w_k [group_k = g][y_true_k = labels[i]][y_pred_k =
    labels[j]]``, one :func:`numpy.bincount` over ``(g * C + i) * C + j``.

    Examples
    --------
    >>> from fairtrain.metrics import confusion_by_group
    >>> cm = confusion_by_group([0, 1, 1, 0, 1], [0, 1, 0, 0, 1], ["a", "a", "a", "b", "b"])
    >>> cm["a"].tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    >>> cm.overall.tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    """
    yt, yp = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    g = as_groups(groups, sensitive_features=sensitive_features)
    n = check_lengths(y_true=yt, y_pred=yp, groups=g.codes)
    w = as_sample_weight(sample_weight, n)
    classes, kt, kp = _class_codes(yt, yp, labels)
    c = classes.size
    cell = kt.astype(np.int64) * c + kp
    keep = g.codes >= 0
    overall = np.bincount(
        cell[keep], weights=None if w is None else w[keep], minlength=c * c
    ).reshape(c, c).astype(np.float64)
    index = g.codes[keep].astype(np.int64) * c * c + cell[keep]
    matrices = np.bincount(
        index, weights=None if w is None else w[keep], minlength=g.n_groups * c * c
    ).reshape(g.n_groups, c, c).astype(np.float64)
    return GroupConfusion(
        matrices=matrices,
        overall=overall,
        labels=tuple(v.item() if hasattr(v, "item") else v for v in classes),
        groups=g.names,
    )


def normalize_confusion(
    confusion: Any, *, normalize: Normalize | None = "true"
) -> np.ndarray:
    """Normalise confusion matrices over the true classes (rows), predictions or all.

    Parameters
    ----------
    confusion : array-like of float, shape (..., n_classes, n_classes), or GroupConfusion
        One matrix or a stack of them (a GroupConfusion gives its ``matrices``).
    normalize : {"true", "pred", "all"} or None, default "true"
        As scikit-learn's ``confusion_matrix``: ``"true"``: every row (real class) sums
        to one, so the diagonal is each class's recall (the row-normalised matrices of
        the ethnicity experiment). ``"pred"``: every column (predicted class) sums to
        one (precision on the diagonal). ``"all"``: the matrix sums to one. ``None``:
        the matrices unchanged, as floats.

    Returns
    -------
    ndarray of float, same shape
        A row (column, matrix) with total 0 is ``nan``: its rates are undefined.

    Raises
    ------
    ValueError
        If ``normalize`` is not one of the options, the matrices are not square, or an
        entry is negative or NaN.

    Notes
    -----
    ``true: C[i, j] / sum_j C[i, j]``; ``pred: C[i, j] / sum_i C[i, j]``;
    ``all: C[i, j] / sum_ij C[i, j]``.

    Two deliberate differences from scikit-learn: the default is ``"true"``, not
    ``None``, since normalising is what this function is for; and a row with no
    examples is ``nan``, not 0, because a rate without examples is undefined, and a 0
    would read as "never recognised".

    Examples
    --------
    >>> from fairtrain.metrics import normalize_confusion
    >>> normalize_confusion([[3, 1], [0, 2]]).tolist()
    [[0.75, 0.25], [0.0, 1.0]]
    >>> normalize_confusion([[3, 1], [0, 2]], normalize="pred").tolist()
    [[1.0, 0.3333333333333333], [0.0, 0.6666666666666666]]
    """
    mode = check(
        "normalize", normalize, [Options(str, ("true", "pred", "all")), None],
        hint="As in scikit-learn's confusion_matrix.",
    )
    if isinstance(confusion, GroupConfusion):
        confusion = confusion.matrices
    cm = np.asarray(confusion, dtype=np.float64)
    if cm.ndim < 2 or cm.shape[-1] != cm.shape[-2]:
        raise ValueError(
            f"`confusion` must be square matrices, shape (..., C, C); got {cm.shape}."
        )
    if not np.isfinite(cm).all() or (cm < 0).any():
        raise ValueError("`confusion` must hold finite non-negative counts (no NaN or inf).")
    if mode is None:
        return cm.copy()
    if mode == "true":
        total = cm.sum(axis=-1, keepdims=True)
    elif mode == "pred":
        total = cm.sum(axis=-2, keepdims=True)
    else:
        total = cm.sum(axis=(-2, -1), keepdims=True)
    out = np.full(cm.shape, np.nan)
    np.divide(cm, total, out=out, where=total > 0)
    return out
