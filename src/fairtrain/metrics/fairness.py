"""Fairness measures under fairlearn's names: parity differences and ratios over all groups.

Each measure compares one or two per-group rates (selection rate, true positive rate,
false positive rate) across every group of a grouping, as fairlearn's functions of the
same names do, with their signatures and their values. The groups come as ``groups``,
as to every fairtrain callable, or as fairlearn's ``sensitive_features``: whatever
:meth:`Groups.from_columns <fairtrain.Groups.from_columns>` takes, or a
:class:`~fairtrain.Groups` (intersectional groups included).

A measure is one number per grouping, not a per-group metric: :func:`by_group` refuses
it, and :func:`~fairtrain.metrics.bias_report` reports it for every attribute next to the
per-group rates it is made of.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from fairtrain._validation import (
    Options,
    as_sample_weight,
    check,
    check_lengths,
    validate_params,
)
from fairtrain.groups import as_groups
from fairtrain.metrics._inputs import as_labels

if TYPE_CHECKING:  # pragma: no cover
    from fairtrain.groups import Groups

__all__ = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
]

Method = Literal["between_groups", "to_overall"]
Agg = Literal["worst_case", "mean"]
#: the options of the measures (fairlearn's), declared once for the functions and for
#: ``metric_kwargs``
_OPTIONS = {
    "method": Options(str, ("between_groups", "to_overall")),
    "agg": Options(str, ("worst_case", "mean")),
}
#: the label sets fairlearn's rates accept without a pos_label; 1 is the positive class
_BINARY = (frozenset({0, 1}), frozenset({-1, 1}))


@dataclass(frozen=True)
class GroupRates:
    """The rates a measure is made of, for every group and over all grouped examples.

    ``by_group[r, g]`` is rate ``names[r]`` of group ``g`` (``nan`` for a group without
    examples); ``overall[r]`` is the rate over every example with a group.
    """

    names: tuple[str, ...]
    by_group: np.ndarray
    overall: np.ndarray


@dataclass(frozen=True)
class FairnessInputs:
    """Validated labels and weights, reusable for several groupings of the same examples.

    ``predicted`` and ``positive`` are boolean (label 1); ``positive`` is None for the
    measures that read only the predictions (demographic parity).
    """

    predicted: np.ndarray
    positive: np.ndarray | None
    weights: np.ndarray

    def rates(self, names: tuple[str, ...], groups: Groups) -> GroupRates:
        """Every rate of ``names`` for every group of ``groups`` (code ``-1`` left out).

        Raises
        ------
        ValueError
            If a true or false positive rate is asked for and a group's weights are all
            0 (fairlearn raises there too, through scikit-learn's confusion matrix).
        """
        keep = groups.codes >= 0
        codes, n_groups = groups.codes[keep], groups.n_groups
        counts = np.bincount(codes, minlength=n_groups)
        if self.positive is not None:
            weighed = np.bincount(codes, weights=self.weights[keep], minlength=n_groups)
            unweighed = np.flatnonzero((counts > 0) & (weighed == 0))
            if unweighed.size:
                shown = [groups.names[g] for g in unweighed[:5]]
                raise ValueError(
                    f"Every example of group(s) {shown} has sample_weight 0, so their true "
                    "and false positive rates are undefined (fairlearn raises too). Give "
                    "them a positive weight or leave their examples out."
                )
        by_group = np.empty((len(names), n_groups))
        overall = np.empty(len(names))
        for r, name in enumerate(names):
            num, den, undefined = self._terms(name, keep)
            by_group[r] = _rate(
                np.bincount(codes, weights=num, minlength=n_groups),
                np.bincount(codes, weights=den, minlength=n_groups),
                undefined,
            )
            by_group[r, counts == 0] = np.nan  # fairlearn never sees an empty group
            overall[r] = _rate(np.asarray([num.sum()]), np.asarray([den.sum()]), undefined)[0]
        return GroupRates(names, by_group, overall)

    def _terms(self, name: str, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        # (numerator, denominator, value when the denominator is 0) per example
        w, pred = self.weights[keep], self.predicted[keep]
        if name == "selection_rate":
            return w * pred, w, math.nan
        assert self.positive is not None
        pos = self.positive[keep]
        cond = pos if name == "true_positive_rate" else ~pos
        # scikit-learn's normalised confusion matrix, which fairlearn reads: 0, not nan
        return w * (cond & pred), w * cond, 0.0


def _rate(num: np.ndarray, den: np.ndarray, undefined: float) -> np.ndarray:
    out = np.full(num.shape, undefined)
    np.divide(num, den, out=out, where=den > 0)
    return out


@dataclass(frozen=True)
class Measure:
    """What a fairness measure compares and how.

    Attributes
    ----------
    rates : tuple of str
        The per-group rates it compares, in fairlearn's order.
    combine : {"difference", "ratio"}
        Largest absolute difference, or smallest ratio (at most 1).
    """

    rates: tuple[str, ...]
    combine: Literal["difference", "ratio"]

    @property
    def takes_agg(self) -> bool:
        """Whether it combines two rates, and so takes ``agg``."""
        return len(self.rates) > 1

    def options(self, name: str, given: Mapping[str, Any] | None) -> tuple[str, str]:
        """``method`` and ``agg`` from a mapping (``metric_kwargs``), checked."""
        given = dict(given or {})
        allowed = ("method", "agg") if self.takes_agg else ("method",)
        unknown = sorted(set(given) - set(allowed))
        if unknown:
            raise TypeError(
                f"{name} takes the options {list(allowed)} (as fairlearn's function); got "
                f"{unknown}. It has no pos_label: encode the positive class as 1 and the "
                "others as 0."
            )
        return (check("method", given.get("method", "between_groups"), _OPTIONS["method"]),
                check("agg", given.get("agg", "worst_case"), _OPTIONS["agg"]))

    def value(self, rates: GroupRates, method: str, agg: str) -> float:
        """The measure of ``rates`` (``nan`` when no group has a defined rate)."""
        reduce = _difference if self.combine == "difference" else _ratio
        parts = [
            reduce(rates.by_group[r], rates.overall[r], method) for r in range(len(self.rates))
        ]
        if len(parts) == 1:
            return parts[0]
        if agg == "mean":
            defined = [p for p in parts if not math.isnan(p)]
            return sum(defined) / len(defined) if defined else math.nan
        # fairlearn takes Python's max (min) of [TPR part, FPR part]: an undefined first
        # part gives nan, an undefined second part is passed over
        if math.isnan(parts[0]):
            return math.nan
        if math.isnan(parts[1]):
            return parts[0]
        return max(parts) if self.combine == "difference" else min(parts)


def _difference(values: np.ndarray, overall: float, method: str) -> float:
    v = values[~np.isnan(values)]
    if not v.size:
        return math.nan
    if method == "between_groups":
        return float(v.max() - v.min())
    return float(np.max(np.abs(v - overall)))


def _ratio(values: np.ndarray, overall: float, method: str) -> float:
    v = values[~np.isnan(values)]
    if not v.size:
        return math.nan
    if method == "between_groups":
        high = v.max()
        return float(v.min() / high) if high > 0 else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        r = v / overall  # a positive rate over a zero overall is inf, read as ratio 0
        r = np.where(r > 1, 1 / r, r)
    r = r[~np.isnan(r)]
    return float(r.min()) if r.size else math.nan




def _label_set(y: np.ndarray) -> set[Any]:
    if y.dtype.kind == "O":
        try:
            return set(y.tolist())
        except TypeError:  # unhashable entries: certainly not 0/1 labels
            return {repr(v) for v in y.tolist()[:5]}
    return set(np.unique(y).tolist())


def _check_binary(name: str, labels: Mapping[str, np.ndarray]) -> None:
    seen: set[Any] = set()
    for y in labels.values():
        seen |= _label_set(y)
    if not any(seen <= allowed for allowed in _BINARY):
        shown = sorted(map(repr, seen))[:6]
        arrays = " and ".join(f"`{k}`" for k in labels)
        raise ValueError(
            f"{name} compares binary predictions with 1 as the positive class (as "
            f"fairlearn): {arrays} must hold labels from {{0, 1}} or {{-1, 1}}; got "
            f"labels {', '.join(shown)}. Encode the positive class as 1 and every other "
            "class as 0 (e.g. y == 'yes'), or threshold the scores first."
        )


def fairness_inputs(
    name: str, measure: Measure, y_true: Any, y_pred: Any, sample_weight: Any
) -> FairnessInputs:
    """Checked labels and weights of a measure: binary, non-empty, of one length.

    Raises
    ------
    ValueError
        If the inputs are empty, their lengths differ, or a label is not 0/1 (-1/1).
    """
    yp = as_labels(y_pred, "y_pred")
    needs_truth = measure.rates != ("selection_rate",)
    # demographic parity reads only the predictions; of y_true it checks the length
    yt = as_labels(y_true, "y_true") if needs_truth else np.asarray(y_true)
    if yt.ndim == 0:
        raise TypeError(f"`y_true` must be an array with one entry per example; got {y_true!r}.")
    if len(yt) == 0 and len(yp) == 0:
        raise ValueError(
            f"{name} of no examples: y_true and y_pred are empty. Pass the labels and "
            "predictions of at least one example (fairlearn raises here too)."
        )
    n = check_lengths(y_true=yt, y_pred=yp)
    _check_binary(name, {"y_true": yt, "y_pred": yp} if needs_truth else {"y_pred": yp})
    weights = as_sample_weight(sample_weight, n)
    return FairnessInputs(
        predicted=yp == 1,
        positive=(yt == 1) if needs_truth else None,
        weights=np.ones(n) if weights is None else weights,
    )


def measure_of(metric: Any) -> Measure | None:
    """The :class:`Measure` of a fairness function, or None for any other metric."""
    measure = getattr(metric, "_fairtrain_fairness", None)
    return measure if isinstance(measure, Measure) else None


def _evaluate(
    func: Callable[..., float],
    y_true: Any,
    y_pred: Any,
    groups: Any,
    sensitive_features: Any,
    method: str,
    sample_weight: Any,
    agg: str = "worst_case",
) -> float:
    name = func.__name__
    measure = measure_of(func)
    assert measure is not None
    data = fairness_inputs(name, measure, y_true, y_pred, sample_weight)
    given = "groups" if groups is not None else "sensitive_features"
    groups = as_groups(groups, sensitive_features=sensitive_features)
    check_lengths(**{"y_pred": data.predicted, given: groups.codes})
    if not groups.included.any():
        raise ValueError(
            f"{name}: no example belongs to a group (every code is -1, dropped by the "
            "tiny-cell policy); build the groups with policy='merge' or a lower min_count."
        )
    return measure.value(data.rates(measure.rates, groups), method, agg)


#: What the six measures' docstrings share, filled in where a line holds ``{name}``
#: alone (indented as that line), so that each block is written once.
_SHARED_DOCS = {
    "groups": """\
groups : Groups, array-like of shape (n,), or mapping of str to array-like
    The groups, as :meth:`fairtrain.Groups.from_columns` takes them (a DataFrame
    too); several columns are intersected. Examples outside every group (code
    ``-1``) are left out.
sensitive_features : Groups, array-like of shape (n,), or mapping of str to array-like
    fairlearn's name for ``groups``: pass one of the two, not both.""",
    "method_and_weight": """\
method : {"between_groups", "to_overall"}, default "between_groups"
    Compare the groups with each other, or each group with the same rate over all
    grouped examples.
sample_weight : array-like of float, shape (n,), optional
    Non-negative weight of every example.""",
    "groups_error": """\
TypeError
    If neither or both of ``groups`` and ``sensitive_features`` are given, or an
    option is not a str.""",
}
_PLACEHOLDER = re.compile(r"^( *)\{(\w+)\}$", re.MULTILINE)


def _fill_doc(doc: str) -> str:
    """``doc`` with each ``{name}`` line replaced by its shared block, indented alike."""

    def block(match: re.Match[str]) -> str:
        indent, key = match.groups()
        return "\n".join(indent + line if line else line
                         for line in _SHARED_DOCS[key].splitlines())

    return _PLACEHOLDER.sub(block, doc)


def _fairness(
    rates: tuple[str, ...], combine: Literal["difference", "ratio"]
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    def decorate(func: Callable[..., float]) -> Callable[..., float]:
        func.__doc__ = _fill_doc(func.__doc__ or "")
        params = inspect.signature(func).parameters
        func = validate_params({k: v for k, v in _OPTIONS.items() if k in params})(func)
        func._fairtrain_fairness = Measure(rates, combine)  # type: ignore[attr-defined]
        func.greater_is_better = combine == "ratio"  # type: ignore[attr-defined]
        func.kind = "fairness"  # type: ignore[attr-defined]
        return func

    return decorate


_SELECTION = ("selection_rate",)
_TPR = ("true_positive_rate",)
_ODDS = ("true_positive_rate", "false_positive_rate")


@_fairness(_SELECTION, "difference")
def demographic_parity_difference(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    sensitive_features: Any = None,
    method: Method = "between_groups",
    sample_weight: Any = None,
) -> float:
    """Largest difference in selection rate between groups (0: demographic parity).

    fairlearn's function of the same name, with its signature and values (and
    ``groups`` as every fairtrain callable takes it).

    Parameters
    ----------
    y_true : array-like, shape (n,)
        Only its length is used (as in fairlearn).
    y_pred : array-like, shape (n,) or (n, 2)
        Predicted labels, 0/1 or -1/1 (1 is selected); class scores (arg-max) or
        probabilities of class 1 (thresholded at 0.5) are read as labels.
    {groups}
    {method_and_weight}

    Returns
    -------
    float
        ``nan`` if no group has a positive total weight.

    Raises
    ------
    ValueError
        If the inputs are empty or of different lengths, ``y_pred`` holds labels other
        than 0/1 (-1/1), or ``method`` is not one of the two.
    {groups_error}

    Notes
    -----
    With ``s_g = sum_{i in g} w_i [p_i = 1] / sum_{i in g} w_i`` (groups whose weights
    sum to 0 left out) and ``s`` the same over all grouped examples:
    ``max_g s_g - min_g s_g`` (``"between_groups"``) or ``max_g |s_g - s|``
    (``"to_overall"``). Unlike fairlearn, which counts ``y_pred == 1`` whatever the
    other labels are, predictions other than 0/1 (-1/1) are refused.

    Examples
    --------
    >>> from fairtrain.metrics import demographic_parity_difference
    >>> y_pred = [1, 1, 0, 1, 0, 0]
    >>> demographic_parity_difference([0] * 6, y_pred, ["a", "a", "a", "b", "b", "b"])
    0.333
    >>> demographic_parity_difference([0] * 6, y_pred,   # fairlearn's spelling
    ...                               sensitive_features=["a", "a", "a", "b", "b", "b"])
    0.333
    """
    return _evaluate(
        demographic_parity_difference, y_true, y_pred, groups, sensitive_features, method,
        sample_weight,
    )


@_fairness(_SELECTION, "ratio")
def demographic_parity_ratio(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    sensitive_features: Any = None,
    method: Method = "between_groups",
    sample_weight: Any = None,
) -> float:
    """Smallest ratio of selection rates between groups (1: demographic parity).

    fairlearn's function of the same name, with its signature and values (and
    ``groups`` as every fairtrain callable takes it).

    Parameters
    ----------
    y_true : array-like, shape (n,)
        Only its length is used (as in fairlearn).
    y_pred : array-like, shape (n,) or (n, 2)
        Predicted labels, 0/1 or -1/1 (1 is selected), as for
        :func:`demographic_parity_difference`.
    {groups}
    {method_and_weight}

    Returns
    -------
    float
        In ``[0, 1]``; ``nan`` when it is ``0 / 0`` (nobody is selected).

    Raises
    ------
    ValueError
        As :func:`demographic_parity_difference`.
    {groups_error}

    Notes
    -----
    With the selection rates ``s_g`` and ``s`` of :func:`demographic_parity_difference`:
    ``min_g s_g / max_g s_g`` (``"between_groups"``), or ``min_g r_g`` with
    ``r_g = s_g / s`` replaced by ``1 / r_g`` when above 1 (``"to_overall"``; a group
    with ``s_g = s = 0`` is left out).

    Examples
    --------
    >>> from fairtrain.metrics import demographic_parity_ratio
    >>> demographic_parity_ratio([0] * 6, [1, 1, 0, 1, 0, 0],
    ...                          groups=["a", "a", "a", "b", "b", "b"])
    0.5
    """
    return _evaluate(
        demographic_parity_ratio, y_true, y_pred, groups, sensitive_features, method,
        sample_weight,
    )


@_fairness(_ODDS, "difference")
def equalized_odds_difference(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    sensitive_features: Any = None,
    method: Method = "between_groups",
    sample_weight: Any = None,
    agg: Agg = "worst_case",
) -> float:
    """Largest difference in true or false positive rate between groups (0: equalized odds).

    fairlearn's function of the same name, with its signature and values (and
    ``groups`` as every fairtrain callable takes it).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, 2)
        True and predicted labels, 0/1 or -1/1 (1 is positive); class scores (arg-max)
        or probabilities of class 1 (thresholded at 0.5) are read as labels.
    {groups}
    {method_and_weight}
    agg : {"worst_case", "mean"}, default "worst_case"
        The larger of the two differences, or their mean.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the inputs are empty or of different lengths, a label is not 0/1 (-1/1), or
        ``method`` or ``agg`` is not one of its options.
    {groups_error}

    Notes
    -----
    ``TPR_g = sum_{i in g} w_i [y_i = 1][p_i = 1] / sum_{i in g} w_i [y_i = 1]`` and
    ``FPR_g`` the same over ``y_i != 1``; as in fairlearn (which reads scikit-learn's
    normalised confusion matrix), a group without positives (negatives) has
    ``TPR_g = 0`` (``FPR_g = 0``), unlike :func:`true_positive_rate`'s ``nan``. Each
    rate gives the difference of :func:`demographic_parity_difference`;
    ``"worst_case"`` is their maximum, ``"mean"`` their mean.

    Examples
    --------
    >>> from fairtrain.metrics import equalized_odds_difference
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 1, 1, 0, 0, 0]
    >>> groups = ["a"] * 4 + ["b"] * 4      # TPR 1 and 0.5, FPR 1 and 0
    >>> equalized_odds_difference(y_true, y_pred, groups)
    1.0
    >>> equalized_odds_difference(y_true, y_pred, groups, agg="mean")
    0.75
    """
    return _evaluate(
        equalized_odds_difference, y_true, y_pred, groups, sensitive_features, method,
        sample_weight, agg,
    )


@_fairness(_ODDS, "ratio")
def equalized_odds_ratio(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    sensitive_features: Any = None,
    method: Method = "between_groups",
    sample_weight: Any = None,
    agg: Agg = "worst_case",
) -> float:
    """Smallest ratio of true or false positive rates between groups (1: equalized odds).

    fairlearn's function of the same name, with its signature and values (and
    ``groups`` as every fairtrain callable takes it).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, 2)
        True and predicted labels, as for :func:`equalized_odds_difference`.
    {groups}
    {method_and_weight}
    agg : {"worst_case", "mean"}, default "worst_case"
        The smaller of the two ratios, or their mean.

    Returns
    -------
    float
        In ``[0, 1]``, or ``nan`` (see Notes).

    Raises
    ------
    ValueError
        As :func:`equalized_odds_difference`.
    {groups_error}

    Notes
    -----
    The ratio of :func:`demographic_parity_ratio` taken on the ``TPR_g`` and on the
    ``FPR_g`` of :func:`equalized_odds_difference`. A ratio is ``nan`` when every rate
    is 0 (``0 / 0``). As in fairlearn (Python's ``min`` of ``[TPR ratio, FPR ratio]``),
    ``"worst_case"`` is ``nan`` when the TPR ratio is, and the TPR ratio alone when only
    the FPR ratio is; ``"mean"`` averages the defined ones.

    Examples
    --------
    >>> from fairtrain.metrics import equalized_odds_ratio
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 1, 1, 0, 0, 0]
    >>> groups = ["a"] * 4 + ["b"] * 4      # TPR 1 and 0.5, FPR 1 and 0
    >>> equalized_odds_ratio(y_true, y_pred, groups)
    0.0
    >>> equalized_odds_ratio(y_true, y_pred, groups, agg="mean")
    0.25
    """
    return _evaluate(
        equalized_odds_ratio, y_true, y_pred, groups, sensitive_features, method,
        sample_weight, agg,
    )


@_fairness(_TPR, "difference")
def equal_opportunity_difference(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    sensitive_features: Any = None,
    method: Method = "between_groups",
    sample_weight: Any = None,
) -> float:
    """Largest difference in true positive rate between groups (0: equal opportunity).

    fairlearn's function of the same name, with its signature and values (and
    ``groups`` as every fairtrain callable takes it).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, 2)
        True and predicted labels, as for :func:`equalized_odds_difference`.
    {groups}
    {method_and_weight}

    Returns
    -------
    float

    Raises
    ------
    ValueError
        As :func:`equalized_odds_difference`.
    {groups_error}

    Notes
    -----
    ``max_g TPR_g - min_g TPR_g`` (``"between_groups"``) or ``max_g |TPR_g - TPR|``
    (``"to_overall"``), with ``TPR_g`` as in :func:`equalized_odds_difference` (0 for
    a group without positives, as in fairlearn).

    Examples
    --------
    >>> from fairtrain.metrics import equal_opportunity_difference
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    >>> equal_opportunity_difference(y_true, y_pred, ["a"] * 4 + ["b"] * 4)
    0.5
    """
    return _evaluate(
        equal_opportunity_difference, y_true, y_pred, groups, sensitive_features, method,
        sample_weight,
    )


@_fairness(_TPR, "ratio")
def equal_opportunity_ratio(
    y_true: Any,
    y_pred: Any,
    groups: Any = None,
    *,
    sensitive_features: Any = None,
    method: Method = "between_groups",
    sample_weight: Any = None,
) -> float:
    """Smallest ratio of true positive rates between groups (1: equal opportunity).

    fairlearn's function of the same name, with its signature and values (and
    ``groups`` as every fairtrain callable takes it).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, 2)
        True and predicted labels, as for :func:`equalized_odds_difference`.
    {groups}
    {method_and_weight}

    Returns
    -------
    float
        In ``[0, 1]``; ``nan`` when every true positive rate is 0.

    Raises
    ------
    ValueError
        As :func:`equalized_odds_difference`.
    {groups_error}

    Notes
    -----
    The ratio of :func:`demographic_parity_ratio` taken on the ``TPR_g`` of
    :func:`equalized_odds_difference`.

    Examples
    --------
    >>> from fairtrain.metrics import equal_opportunity_ratio
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    >>> equal_opportunity_ratio(y_true, y_pred, sensitive_features=["a"] * 4 + ["b"] * 4)
    0.5
    """
    return _evaluate(
        equal_opportunity_ratio, y_true, y_pred, groups, sensitive_features, method,
        sample_weight,
    )


#: the measures by name; found by name through the registry like any metric
_MEASURES: dict[str, Callable[..., float]] = {
    f.__name__: f
    for f in (
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
        equalized_odds_ratio,
        equal_opportunity_difference,
        equal_opportunity_ratio,
    )
}

