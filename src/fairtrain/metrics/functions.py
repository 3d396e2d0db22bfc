"""The built-in metrics, registered under the ``fairtrain.metrics`` entry points.

Every built-in is a plain function ``metric(y_true, y_pred, *, sample_weight=None, ...)``
that returns a float, exactly like a third-party metric. Each one also carries

* ``greater_is_better``: whether a higher value is better (accuracy) or worse (MAE);
* ``kind``: ``"regression"`` or ``"classification"``;
* a private per-example *contribution* (numerator, denominator and, for macro averages,
  a class key), so that :func:`fairtrain.metrics.by_group` computes every group at once
  with :func:`numpy.bincount` instead of looping over groups.

A value that is undefined (a rate whose denominator is zero, such as the true positive
rate of a group without positives) is ``nan``, never a silent 0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from fairtrain._validation import (
    Options,
    as_sample_weight,
    caller_stacklevel,
    check,
    check_lengths,
    param_error,
)
from fairtrain.metrics._inputs import as_labels, as_values

__all__ = [
    "accuracy",
    "error_rate",
    "false_positive_rate",
    "mae",
    "mse",
    "precision",
    "recall",
    "selection_rate",
    "true_positive_rate",
]

Average = Literal["binary", "micro", "macro", "weighted"]
_AVERAGES = Options(str, ("binary", "micro", "macro", "weighted"))


@dataclass
class _Contribution:
    """Per-example terms whose per-group ratio is the metric.

    ``value(g) = sum_{i in g} num_i / sum_{i in g} den_i`` (``den`` None means 1 per
    example). With a ``key`` (class index), the ratio is taken per (group, key) and the
    value is the unweighted mean over the keys whose denominator is positive.
    """

    num: np.ndarray
    den: np.ndarray | None
    key: np.ndarray | None = None
    n_keys: int = 1

    def reduce(
        self, codes: np.ndarray, n_groups: int, counts: np.ndarray | None = None
    ) -> np.ndarray:
        """The metric of every group, shape (n_groups,); ``nan`` where undefined.

        ``counts`` (examples per group, if already known) saves one pass.
        """
        num, den, key = self.num, self.den, self.key
        if codes.size and codes.min() < 0:
            keep = codes >= 0
            codes, num = codes[keep], num[keep]
            den = None if den is None else den[keep]
            key = None if key is None else key[keep]
        if key is None:
            totals = np.bincount(codes, weights=num, minlength=n_groups)
            if den is not None:
                denoms = np.bincount(codes, weights=den, minlength=n_groups)
            elif counts is not None:
                denoms = np.asarray(counts, dtype=np.float64)
            else:
                denoms = np.bincount(codes, minlength=n_groups).astype(np.float64)
            return _ratio(totals, denoms)
        index = codes.astype(np.int64) * self.n_keys + key
        size = n_groups * self.n_keys
        totals = np.bincount(index, weights=num, minlength=size).reshape(n_groups, -1)
        denoms = (
            np.bincount(index, minlength=size).astype(np.float64)
            if den is None
            else np.bincount(index, weights=den, minlength=size)
        ).reshape(n_groups, -1)
        present = denoms > 0
        per_key = np.where(present, _ratio(totals, denoms), 0.0)
        n_present = present.sum(axis=1)
        return _ratio(per_key.sum(axis=1), n_present.astype(np.float64))

    def take(self, index: np.ndarray) -> _Contribution:
        """The same terms on the examples ``index``."""
        return _Contribution(
            self.num[index],
            None if self.den is None else self.den[index],
            None if self.key is None else self.key[index],
            self.n_keys,
        )

    def overall(self) -> float:
        """The metric over all examples."""
        if self.key is None:
            den = float(self.num.size) if self.den is None else float(self.den.sum())
            return float(_ratio(np.asarray(self.num.sum()), np.asarray(den)))
        return float(self.reduce(np.zeros(self.num.size, dtype=np.intp), 1)[0])


@dataclass
class _ClassCounts:
    """Per-example class indices whose per-(group, class) counts give recall or precision.

    For every group: ``tp[c]``, ``true[c]`` and ``pred[c]`` (weighted), the classes
    present (seen in ``y_true`` or ``y_pred`` of that group, as scikit-learn takes
    ``labels``), then scikit-learn's averaging of ``tp / true`` (recall) or
    ``tp / pred`` (precision).
    """

    kt: np.ndarray
    kp: np.ndarray
    w: np.ndarray | None
    n_classes: int
    score: Literal["recall", "precision"]
    average: str
    zero_division: float
    pos: int = -1

    def take(self, index: np.ndarray) -> _ClassCounts:
        """The same counts on the examples ``index``."""
        return _ClassCounts(
            self.kt[index], self.kp[index], None if self.w is None else self.w[index],
            self.n_classes, self.score, self.average, self.zero_division, self.pos,
        )

    def reduce(
        self, codes: np.ndarray, n_groups: int, counts: np.ndarray | None = None
    ) -> np.ndarray:
        """The metric of every group, shape (n_groups,); ``nan`` for an empty group."""
        kt, kp, w = self.kt, self.kp, self.w
        if codes.size and codes.min() < 0:
            keep = codes >= 0
            codes, kt, kp = codes[keep], kt[keep], kp[keep]
            w = None if w is None else w[keep]
        c = self.n_classes
        size = n_groups * c
        base = codes.astype(np.int64) * c
        it, ip = base + kt, base + kp
        hit = kt == kp
        true = np.bincount(it, weights=w, minlength=size).reshape(n_groups, c)
        pred = np.bincount(ip, weights=w, minlength=size).reshape(n_groups, c)
        tp = np.bincount(
            it[hit], weights=None if w is None else w[hit], minlength=size
        ).reshape(n_groups, c)
        seen = (np.bincount(it, minlength=size) + np.bincount(ip, minlength=size)).reshape(
            n_groups, c
        ) > 0
        return _class_scores(
            tp, true, pred, seen, score=self.score, average=self.average,
            zero_division=self.zero_division, pos=self.pos,
        )

    def overall(self) -> float:
        """The metric over all examples."""
        return float(self.reduce(np.zeros(self.kt.size, dtype=np.intp), 1)[0])


def _class_scores(
    tp: np.ndarray,
    true: np.ndarray,
    pred: np.ndarray,
    seen: np.ndarray,
    *,
    score: Literal["recall", "precision"],
    average: str,
    zero_division: float,
    pos: int = -1,
) -> np.ndarray:
    """Recall or precision of every group from its per-class counts.

    ``tp``, ``true`` and ``pred`` (weighted) and ``seen`` (the class occurs in the
    group's ``y_true`` or ``y_pred``) have shape (n_groups, n_classes). Shared by the
    in-memory metrics and :class:`~fairtrain.metrics.GroupAccumulator`, so both average
    the same counts the same way.
    """
    den = true if score == "recall" else pred
    members = seen.any(axis=1)
    if average == "micro":
        out = _ratio(np.where(seen, tp, 0).sum(axis=1), np.where(seen, den, 0).sum(axis=1))
        undefined = members & np.isnan(out)
        _warn_zero(score, zero_division, undefined.any())
        out[undefined] = zero_division
        return np.where(members, out, np.nan)
    per_class = _ratio(tp, den.astype(np.float64))
    undefined = seen & np.isnan(per_class)
    if average == "binary":
        undefined = undefined[:, pos] | (members & ~seen[:, pos])
        out = per_class[:, pos]
        _warn_zero(score, zero_division, undefined.any())
        out[undefined] = zero_division
        return np.where(members, out, np.nan)
    _warn_zero(score, zero_division, undefined.any())
    per_class[undefined] = zero_division
    per_class[~seen] = np.nan
    defined = ~np.isnan(per_class)
    if average == "macro":
        weights = defined.astype(np.float64)
    else:  # weighted by the true support, as scikit-learn
        weights = np.where(defined, true, 0.0)
        no_weight = defined.any(axis=1) & (weights.sum(axis=1) == 0)
        weights[no_weight] = defined[no_weight]
    return _ratio(
        (np.where(defined, per_class, 0.0) * weights).sum(axis=1), weights.sum(axis=1)
    )


def _warn_zero(score: str, zero_division: float, undefined: bool) -> None:
    if undefined and isinstance(zero_division, _WarnZero):
        warnings.warn(
            f"{score} is ill-defined for a class with no "
            f"{'true' if score == 'recall' else 'predicted'} examples and is set "
            "to 0 (zero_division='warn'); pass zero_division=0, 1 or numpy.nan.",
            RuntimeWarning,
            stacklevel=caller_stacklevel(),
        )


class _WarnZero(float):
    """0.0 that remembers it came from ``zero_division="warn"``."""


def _check_zero_division(zero_division: Any) -> float:
    if isinstance(zero_division, str) and zero_division == "warn":
        return _WarnZero(0.0)
    if (
        isinstance(zero_division, (int, float, np.number))
        and not isinstance(zero_division, bool)
        and (math.isnan(zero_division) or zero_division in (0, 1))
    ):
        return float(zero_division)
    raise param_error(
        "zero_division", zero_division, "'warn', 0, 1 or numpy.nan (as in scikit-learn)"
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.shape(num), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _builtin(
    contribution: Callable[..., _Contribution], *, greater_is_better: bool, kind: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func.greater_is_better = greater_is_better  # type: ignore[attr-defined]
        func.kind = kind  # type: ignore[attr-defined]
        func._fairtrain_contribution = contribution  # type: ignore[attr-defined]
        return func

    return decorate


# ---------------------------------------------------------------- contributions
def _regression(y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[np.ndarray, ...]:
    yt, yp = as_values(y_true, "y_true"), as_values(y_pred, "y_pred")
    n = check_lengths(y_true=yt, y_pred=yp)
    return yt, yp, as_sample_weight(sample_weight, n)


def _classification(
    y_true: Any, y_pred: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    yt, yp = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    n = check_lengths(y_true=yt, y_pred=yp)
    numeric = {yt.dtype.kind in "biuf", yp.dtype.kind in "biuf"}
    if len(numeric) > 1:
        raise TypeError(
            f"`y_true` ({yt.dtype}) and `y_pred` ({yp.dtype}) must hold labels of one kind: "
            "both numbers or both strings."
        )
    return yt, yp, as_sample_weight(sample_weight, n)


def _weighted(mask_or_values: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    values = mask_or_values.astype(np.float64)
    return values if w is None else values * w


def _positive(
    y: np.ndarray, pos_label: Any, name: str, other: np.ndarray, strict: bool
) -> np.ndarray:
    numeric_label = isinstance(pos_label, (bool, int, float, np.number))
    if numeric_label != (y.dtype.kind in "biuf"):
        raise TypeError(
            f"`pos_label`={pos_label!r} cannot be a label of `{name}` (dtype {y.dtype}); "
            "pass pos_label as one of the label values."
        )
    is_pos = y == pos_label
    if strict and not is_pos.any() and not (other == pos_label).any():
        examples = np.unique(np.concatenate([y, other]))[:5].tolist()
        raise ValueError(
            f"`pos_label`={pos_label!r} occurs in neither y_true nor y_pred (labels seen "
            f"include {examples}); pass pos_label=<the positive class>."
        )
    return is_pos


def _encode_classes(yt: np.ndarray, yp: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    if yt.dtype.kind in "iub" and yp.dtype.kind in "iub":
        lo = min(int(yt.min()), int(yp.min()))
        hi = max(int(yt.max()), int(yp.max()))
        if lo >= 0 and hi < 1 << 16:
            return yt.astype(np.intp), yp.astype(np.intp), hi + 1
    both = np.concatenate([yt, yp])
    uniques, inverse = np.unique(both, return_inverse=True)
    inverse = inverse.reshape(-1)
    return inverse[: yt.size], inverse[yt.size :], uniques.size


def _mae_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *,
               strict: bool = False) -> _Contribution:
    yt, yp, w = _regression(y_true, y_pred, sample_weight)
    return _Contribution(_weighted(np.abs(yt - yp), w), w)


def _mse_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *,
               strict: bool = False) -> _Contribution:
    yt, yp, w = _regression(y_true, y_pred, sample_weight)
    return _Contribution(_weighted(np.square(yt - yp), w), w)


def _accuracy_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                    strict: bool = False) -> _Contribution:
    yt, yp, w = _classification(y_true, y_pred, sample_weight)
    return _Contribution(_weighted(yt == yp, w), w)


def _error_rate_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                      strict: bool = False) -> _Contribution:
    yt, yp, w = _classification(y_true, y_pred, sample_weight)
    return _Contribution(_weighted(yt != yp, w), w)


def _tpr_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *, pos_label: Any = 1,
               strict: bool = False) -> _Contribution:
    yt, yp, w = _classification(y_true, y_pred, sample_weight)
    pos = _positive(yt, pos_label, "y_true", yp, strict)
    hit = pos & (yp == pos_label)
    return _Contribution(_weighted(hit, w), _weighted(pos, w))


def _fpr_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *, pos_label: Any = 1,
               strict: bool = False) -> _Contribution:
    yt, yp, w = _classification(y_true, y_pred, sample_weight)
    neg = ~_positive(yt, pos_label, "y_true", yp, strict)
    false_alarm = neg & (yp == pos_label)
    return _Contribution(_weighted(false_alarm, w), _weighted(neg, w))


def _selection_rate_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                          pos_label: Any = 1, strict: bool = False) -> _Contribution:
    yt, yp, w = _classification(y_true, y_pred, sample_weight)
    selected = _positive(yp, pos_label, "y_pred", yt, strict)
    return _Contribution(_weighted(selected, w), w)


def _check_average(average: Any) -> None:
    check(
        "average",
        average,
        _AVERAGES,
        hint="A metric gives one number; for one value per class use "
        "by_group(y_true, y_pred, groups=y_true, metric='accuracy') (recall) or "
        "groups=y_pred (precision).",
    )


def _class_counts(score: Literal["recall", "precision"], y_true: Any, y_pred: Any,
                  sample_weight: Any, average: Any, pos_label: Any, zero_division: Any,
                  strict: bool) -> _ClassCounts:
    _check_average(average)
    zero = _check_zero_division(zero_division)
    yt, yp, w = _classification(y_true, y_pred, sample_weight)
    pos = -1
    if average == "binary":
        _positive(yt, pos_label, "y_true", yp, strict)
        # pos_label becomes a class of its own even where no example has it
        yt_ext = np.concatenate([yt, np.asarray([pos_label])])
        kt, kp, n_classes = _encode_classes(yt_ext, yp)
        pos, kt = int(kt[-1]), kt[:-1]
    else:
        kt, kp, n_classes = _encode_classes(yt, yp)
    return _ClassCounts(kt, kp, w, n_classes, score, average, zero, pos)


def _recall_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                  average: Average = "macro", pos_label: Any = 1,
                  zero_division: Any = np.nan, strict: bool = False) -> _ClassCounts:
    return _class_counts("recall", y_true, y_pred, sample_weight, average, pos_label,
                         zero_division, strict)


def _precision_terms(y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                     average: Average = "macro", pos_label: Any = 1,
                     zero_division: Any = np.nan, strict: bool = False) -> _ClassCounts:
    return _class_counts("precision", y_true, y_pred, sample_weight, average, pos_label,
                         zero_division, strict)


# ---------------------------------------------------------------- public metrics
@_builtin(_mae_terms, greater_is_better=False, kind="regression")
def mae(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Mean absolute error.

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (n,) or (n, 1)
        Targets and predictions. NaN or infinity is an error.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.

    Returns
    -------
    float
        ``nan`` if every weight is zero.

    Raises
    ------
    ValueError
        If the lengths differ, the inputs are empty, or a value is NaN.

    Notes
    -----
    ``sum_i w_i * |y_true_i - y_pred_i| / sum_i w_i``.

    Examples
    --------
    >>> from fairtrain.metrics import mae
    >>> mae([10, 20, 30], [12, 20, 26])
    2.0
    """
    return _mae_terms(y_true, y_pred, sample_weight).overall()


@_builtin(_mse_terms, greater_is_better=False, kind="regression")
def mse(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Mean squared error.

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (n,) or (n, 1)
        Targets and predictions. NaN or infinity is an error.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.

    Returns
    -------
    float
        ``nan`` if every weight is zero.

    Raises
    ------
    ValueError
        If the lengths differ, the inputs are empty, or a value is NaN.

    Notes
    -----
    ``sum_i w_i * (y_true_i - y_pred_i) ** 2 / sum_i w_i``.

    Examples
    --------
    >>> from fairtrain.metrics import mse
    >>> mse([10, 20, 30], [12, 20, 26])
    6.666666666666667
    """
    return _mse_terms(y_true, y_pred, sample_weight).overall()


@_builtin(_accuracy_terms, greater_is_better=True, kind="classification")
def accuracy(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Share of examples whose predicted class is the true class.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Class labels (integers, booleans or strings). A 2-D array of class scores or
        one-hot rows is read as the arg-max of each row; a float vector with
        fractional values in [0, 1] as the probability of class 1, thresholded at 0.5.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the lengths differ, the inputs are empty, or a value is NaN.

    Notes
    -----
    ``sum_i w_i * [y_true_i == y_pred_i] / sum_i w_i``.

    Examples
    --------
    >>> from fairtrain.metrics import accuracy
    >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
    0.75
    >>> accuracy([0, 1], [[0.9, 0.1], [0.3, 0.7]])   # class scores: arg-max per row
    1.0
    """
    return _accuracy_terms(y_true, y_pred, sample_weight).overall()


@_builtin(_error_rate_terms, greater_is_better=False, kind="classification")
def error_rate(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Share of misclassified examples, ``1 - accuracy``.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Class labels, class scores or probabilities, as for :func:`accuracy`.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the lengths differ, the inputs are empty, or a value is NaN.

    Notes
    -----
    ``sum_i w_i * [y_true_i != y_pred_i] / sum_i w_i``.

    Examples
    --------
    >>> from fairtrain.metrics import error_rate
    >>> error_rate(["cat", "dog", "dog", "cat"], ["cat", "cat", "dog", "cat"])
    0.25
    """
    return _error_rate_terms(y_true, y_pred, sample_weight).overall()


@_builtin(_recall_terms, greater_is_better=True, kind="classification")
def recall(
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    average: Average = "macro",
    pos_label: Any = 1,
    zero_division: Any = np.nan,
) -> float:
    """Recall per class, averaged over the classes (macro by default), or of one class.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Class labels, class scores or probabilities, as for :func:`accuracy`.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.
    average : {"binary", "micro", "macro", "weighted"}, default "macro"
        As scikit-learn's ``recall_score``, over the classes seen in ``y_true`` or
        ``y_pred``: ``"macro"``: the unweighted mean of the per-class recall;
        ``"weighted"``: their mean weighted by each class's (weighted) number of true
        examples; ``"micro"``: from the summed counts (equals the accuracy);
        ``"binary"``: the recall of ``pos_label``. A metric returns one number: the
        recall of every class is
        ``by_group(y_true, y_pred, groups=y_true, metric="accuracy")``.
    pos_label : label, default 1
        The positive class for ``average="binary"``.
    zero_division : {"warn", 0, 1, numpy.nan}, default numpy.nan
        The recall of a class without true examples (absent from ``y_true``).
        ``numpy.nan`` leaves it out of the average (as scikit-learn does with
        ``numpy.nan``); ``"warn"`` is 0 with a warning.

    Returns
    -------
    float
        ``nan`` if no class has a positive (weighted) support.

    Raises
    ------
    TypeError
        If ``average`` is not a str (``None`` included).
    ValueError
        If the lengths differ, the inputs are empty, a value is NaN, or ``average`` is
        not one of the options.

    Notes
    -----
    Recall of class ``c``: ``sum_i w_i [y_true_i = c][y_pred_i = c] /
    sum_i w_i [y_true_i = c]``. Macro: the mean of that over the classes ``c`` with
    ``sum_i w_i [y_true_i = c] > 0``. Inside a group whose members all share one true
    class (ethnicity classified by ethnicity), the group's macro recall is the recall of
    its own class: the diagonal of the row-normalised confusion matrix.

    Two deliberate differences from scikit-learn's defaults (``average="binary"``,
    ``zero_division="warn"``): fairtrain's per-group recall is mostly multi-class
    (ethnicity classified by ethnicity), where ``"binary"`` raises, so the default is
    ``"macro"``; and inside one group most classes have no true examples, so a class
    whose recall is undefined is left out of the average (``numpy.nan``) instead of
    counting as 0, which would pull every group's value down by the number of absent
    classes. With ``average="binary"`` on more than two classes, fairtrain gives the
    one-vs-rest recall of ``pos_label`` where scikit-learn raises.

    Examples
    --------
    >>> from fairtrain.metrics import recall
    >>> y_true = [0, 0, 1, 1, 1, 2]
    >>> y_pred = [0, 1, 1, 1, 0, 0]
    >>> recall(y_true, y_pred)                      # (1/2 + 2/3 + 0) / 3
    0.389
    >>> recall(y_true, y_pred, average="binary")    # class 1
    0.6666666666666666
    """
    return _recall_terms(
        y_true, y_pred, sample_weight, average=average, pos_label=pos_label,
        zero_division=zero_division,
    ).overall()


@_builtin(_precision_terms, greater_is_better=True, kind="classification")
def precision(
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    average: Average = "macro",
    pos_label: Any = 1,
    zero_division: Any = np.nan,
) -> float:
    """Precision per predicted class, averaged over the classes, or of one class.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Class labels, class scores or probabilities, as for :func:`accuracy`.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.
    average : {"binary", "micro", "macro", "weighted"}, default "macro"
        As scikit-learn's ``precision_score``, over the classes seen in ``y_true`` or
        ``y_pred``: ``"macro"``: the unweighted mean of the per-class precision;
        ``"weighted"``: their mean weighted by each class's (weighted) number of true
        examples; ``"micro"``: from the summed counts (equals the accuracy);
        ``"binary"``: the precision of ``pos_label``. A metric returns one number: the
        precision of every predicted class is
        ``by_group(y_true, y_pred, groups=y_pred, metric="accuracy")``.
    pos_label : label, default 1
        The positive class for ``average="binary"``.
    zero_division : {"warn", 0, 1, numpy.nan}, default numpy.nan
        The precision of a class never predicted (absent from ``y_pred``).
        ``numpy.nan`` leaves it out of the average (as scikit-learn does with
        ``numpy.nan``); ``"warn"`` is 0 with a warning.

    Returns
    -------
    float
        ``nan`` if nothing is predicted (with positive weight).

    Raises
    ------
    TypeError
        If ``average`` is not a str (``None`` included).
    ValueError
        If the lengths differ, the inputs are empty, a value is NaN, or ``average`` is
        not one of the options.

    Notes
    -----
    Precision of class ``c``: ``sum_i w_i [y_true_i = c][y_pred_i = c] /
    sum_i w_i [y_pred_i = c]``; macro averages it over the classes with
    ``sum_i w_i [y_pred_i = c] > 0``.

    Two deliberate differences from scikit-learn's defaults (``average="binary"``,
    ``zero_division="warn"``): fairtrain's per-group precision is mostly multi-class
    (ethnicity classified by ethnicity), where ``"binary"`` raises, so the default is
    ``"macro"``; and inside one group most classes have no predicted examples, so a class
    whose precision is undefined is left out of the average (``numpy.nan``) instead of
    counting as 0, which would pull every group's value down by the number of absent
    classes. With ``average="binary"`` on more than two classes, fairtrain gives the
    one-vs-rest precision of ``pos_label`` where scikit-learn raises.

    Examples
    --------
    >>> from fairtrain.metrics import precision
    >>> precision([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 0])   # (1/3 + 2/3) / 2
    0.5
    >>> precision([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 0], average="binary")
    0.6666666666666666
    """
    return _precision_terms(
        y_true, y_pred, sample_weight, average=average, pos_label=pos_label,
        zero_division=zero_division,
    ).overall()


@_builtin(_selection_rate_terms, greater_is_better=True, kind="classification")
def selection_rate(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, pos_label: Any = 1
) -> float:
    """Share of examples predicted as the positive class (``y_true`` is only checked).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Class labels, class scores or probabilities, as for :func:`accuracy`.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.
    pos_label : label, default 1
        The positive class.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the lengths differ, the inputs are empty, or a value is NaN.

    Notes
    -----
    ``sum_i w_i [y_pred_i = pos_label] / sum_i w_i``. Its largest difference between
    groups is the demographic parity difference. ``greater_is_better`` is True only in
    the sense that the worst group is the least selected one.

    Examples
    --------
    >>> from fairtrain.metrics import selection_rate
    >>> selection_rate([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return _selection_rate_terms(y_true, y_pred, sample_weight, pos_label=pos_label).overall()


@_builtin(_tpr_terms, greater_is_better=True, kind="classification")
def true_positive_rate(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, pos_label: Any = 1
) -> float:
    """Share of the positive examples predicted positive (recall of ``pos_label``).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Class labels, class scores or probabilities, as for :func:`accuracy`.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.
    pos_label : label, default 1
        The positive class.

    Returns
    -------
    float
        ``nan`` when there is no positive example.

    Raises
    ------
    ValueError
        If the lengths differ, the inputs are empty, or a value is NaN.

    Notes
    -----
    ``sum_i w_i [y_true_i = p][y_pred_i = p] / sum_i w_i [y_true_i = p]`` with
    ``p = pos_label``.

    Examples
    --------
    >>> from fairtrain.metrics import true_positive_rate
    >>> true_positive_rate([0, 1, 1, 1], [1, 1, 0, 1])
    0.6666666666666666
    >>> true_positive_rate([0, 0], [1, 0])
    nan
    """
    return _tpr_terms(y_true, y_pred, sample_weight, pos_label=pos_label).overall()


@_builtin(_fpr_terms, greater_is_better=False, kind="classification")
def false_positive_rate(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, pos_label: Any = 1
) -> float:
    """Share of the negative examples predicted positive.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Class labels, class scores or probabilities, as for :func:`accuracy`.
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example. Default: 1 each.
    pos_label : label, default 1
        The positive class; every other label is negative.

    Returns
    -------
    float
        ``nan`` when there is no negative example.

    Raises
    ------
    ValueError
        If the lengths differ, the inputs are empty, or a value is NaN.

    Notes
    -----
    ``sum_i w_i [y_true_i != p][y_pred_i = p] / sum_i w_i [y_true_i != p]`` with
    ``p = pos_label``.

    Examples
    --------
    >>> from fairtrain.metrics import false_positive_rate
    >>> false_positive_rate([0, 0, 1, 1], [1, 0, 1, 1])
    0.5
    """
    return _fpr_terms(y_true, y_pred, sample_weight, pos_label=pos_label).overall()
