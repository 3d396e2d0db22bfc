"""`bias_report` and `BiasReport`: overall value, per-group values and bias per attribute."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np

from fairtrain._validation import Interval, Options, check, check_lengths, validate_params
from fairtrain.groups import Groups, as_groups
from fairtrain.metrics.aggregators import max_gap, pairwise_bias, ratio, worst_group
from fairtrain.metrics.fairness import fairness_inputs, measure_of
from fairtrain.metrics.grouped import (
    METRIC_HINTS,
    METRIC_PARAMS,
    GroupEvaluator,
    MetricLike,
    attribute_views,
    greater_is_better_of,
    resolve_metric,
)

__all__ = ["AttributeBias", "BiasReport", "bias_report"]



@dataclass(frozen=True)
class AttributeBias:
    """The per-group values and the bias of one attribute (or of the intersection).

    Attributes
    ----------
    attribute : str
        The attribute name, or ``"intersection"`` for the cells of several attributes.
    groups : tuple of str
        The group names, in order.
    values : ndarray of float, shape (k,)
        The metric of every group; ``nan`` where it is undefined (an empty group, a rate
        without a denominator).
    counts : ndarray of int, shape (k,)
        Examples per group.
    flagged : tuple of str
        Groups with fewer than ``min_count`` examples: their value is unstable. They
        still count in the bias.
    undefined : tuple of str
        Groups whose value is ``nan``; the bias is taken over the other groups.
    pairwise : float
        :func:`~fairtrain.metrics.pairwise_bias` of the defined groups (``nan`` with
        fewer than two).
    gap : float
        :func:`~fairtrain.metrics.max_gap` of the defined groups.
    ratio : float
        :func:`~fairtrain.metrics.ratio` of the defined groups (``nan`` if a value is
        negative).
    worst : str or None
        :func:`~fairtrain.metrics.worst_group` of the defined groups.
    ci : ndarray of float, shape (k, 2), or None
        Bootstrap confidence interval of every group's value.
    pairwise_ci : tuple of float, or None
        Bootstrap confidence interval of the pairwise bias.
    measure : float or None
        With a fairness measure as the metric (``"equalized_odds_difference"``...): its
        value for this attribute; ``values`` then hold the first rate it compares
        (selection rate or true positive rate) and ``rates`` all of them. None
        otherwise.
    rates : dict of str to ndarray, or None
        With a fairness measure: every rate it compares, per group, by name.
    """

    attribute: str
    groups: tuple[str, ...]
    values: np.ndarray
    counts: np.ndarray
    flagged: tuple[str, ...]
    undefined: tuple[str, ...]
    pairwise: float
    gap: float
    ratio: float
    worst: str | None
    ci: np.ndarray | None = None
    pairwise_ci: tuple[float, float] | None = None
    measure: float | None = None
    rates: Mapping[str, np.ndarray] | None = None

    def value(self, group: str) -> float:
        """The metric of one group, by name."""
        if group not in self.groups:
            raise KeyError(f"Unknown group {group!r}; the groups are {list(self.groups)}.")
        return float(self.values[self.groups.index(group)])

    def to_dict(self) -> dict[str, Any]:
        """The values, counts, flags and bias as plain Python (``nan`` kept as float)."""
        groups = {}
        for i, name in enumerate(self.groups):
            entry: dict[str, Any] = {
                "value": float(self.values[i]),
                "count": int(self.counts[i]),
                "flagged": name in self.flagged,
            }
            if self.ci is not None:
                entry["ci"] = [float(self.ci[i, 0]), float(self.ci[i, 1])]
            if self.rates is not None:
                entry["rates"] = {r: float(v[i]) for r, v in self.rates.items()}
            groups[name] = entry
        out: dict[str, Any] = {
            "groups": groups,
            "bias": {
                "pairwise": self.pairwise,
                "max_gap": self.gap,
                "ratio": self.ratio,
                "worst_group": self.worst,
            },
            "undefined": list(self.undefined),
        }
        if self.pairwise_ci is not None:
            out["bias"]["pairwise_ci"] = list(self.pairwise_ci)
        if self.measure is not None:
            out["measure"] = self.measure
        return out


def _bias(values: np.ndarray, names: tuple[str, ...], greater_is_better: bool) -> tuple:
    """``(pairwise, gap, ratio, worst)`` over the defined values (nan with fewer than two)."""
    defined = np.isfinite(values)
    if defined.sum() < 2:
        worst = names[int(np.flatnonzero(defined)[0])] if defined.any() else None
        return math.nan, math.nan, math.nan, worst
    kept = {n: float(v) for n, v, d in zip(names, values, defined) if d}
    v = np.asarray(list(kept.values()))
    return (
        pairwise_bias(v),
        max_gap(v),
        ratio(v) if v.min() >= 0 else math.nan,
        worst_group(kept, greater_is_better=greater_is_better),
    )


def _interval(samples: np.ndarray, confidence: float) -> np.ndarray:
    """Percentile interval of every column of ``samples`` (rows: resamples), NaNs left out."""
    samples = np.atleast_2d(samples)
    out = np.full((samples.shape[1], 2), np.nan)
    alpha = (1 - confidence) / 2
    for j in range(samples.shape[1]):
        column = samples[:, j][np.isfinite(samples[:, j])]
        if column.size:
            out[j] = np.quantile(column, [alpha, 1 - alpha])
    return out


def _stratified_resample(groups: Groups, rng: np.random.Generator) -> np.ndarray:
    """One stratified bootstrap resample of example indices.

    Within every cell, as many indices as the cell holds, drawn with replacement from
    its members; excluded examples are never drawn.

    The result is ordered by cell, so ``groups.codes[idx]`` is sorted.
    """
    members = groups.members()
    counts = groups.counts
    flat = np.concatenate(members) if members else np.empty(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    sizes = np.repeat(counts, counts)
    return flat[starts + (rng.random(flat.size) * sizes).astype(np.int64)]


def _fmt(value: float) -> str:
    """A value as the report prints it: 4 decimals, 4 significant digits if tiny or huge."""
    if value is None or not np.isfinite(value):
        return "nan"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}"


class BiasReport:
    """Overall value, per-group values and bias of one metric, for every attribute.

    Made by :func:`bias_report`; read it with ``print(report)``, :meth:`to_dict`,
    :meth:`to_json` or :meth:`to_frame`.

    Attributes
    ----------
    metric : str
        The metric's name.
    greater_is_better : bool
        Whether higher values of the metric are better.
    n : int
        Number of examples.
    overall : float
        The metric over the grouped examples (those outside every group, code ``-1``,
        are left out, as in fairlearn's ``MetricFrame.overall`` from
        :meth:`to_metricframe`): read every bias next to it, since a low bias can hide
        a model that is equally bad for everyone.
    overall_ci : tuple of float, or None
        Bootstrap confidence interval of ``overall``.
    attributes : dict of str to AttributeBias
        One entry per attribute, in order, then ``"intersection"`` when there are
        several attributes.
    min_count : int
        Groups with fewer examples are flagged.
    n_bootstrap : int
        Number of bootstrap resamples (0: no intervals).
    confidence : float
        Confidence level of the intervals.
    n_excluded : int
        Examples outside every group (code ``-1``): left out of every value.
    overall_rates : dict of str to float, or None
        With a fairness measure as the metric: every rate it compares, over the grouped
        examples (``overall`` is the first of them). None otherwise.
    options : dict of str to str, or None
        With a fairness measure: its ``method`` (and ``agg``). None otherwise.
    interval : str or None
        How the intervals were made: ``"bootstrap"`` (:func:`bias_report`), the analytic
        method of a :class:`~fairtrain.metrics.GroupAccumulator` (``"wilson"``,
        ``"normal ..."``), or None without intervals.

    Examples
    --------
    The apparent-age challenge's worked example: four age groups, their MAE and bias.

    >>> import numpy as np
    >>> from fairtrain.metrics import bias_report
    >>> age = np.repeat(["0-20", "20-40", "40-60", "60-120"], 2)
    >>> y_true = np.full(8, 30.0)
    >>> y_pred = y_true + [7.08, -7.08, 5.29, -5.29, 7.39, -7.39, 10.23, -10.23]
    >>> report = bias_report(y_true, y_pred, {"age": age}, metric="mae", min_count=1)
    >>> print(report)
    Bias report: mae (lower is better), 8 examples
    overall mae: 7.4975
    <BLANKLINE>
    age: pairwise bias 2.5217 | overall mae 7.4975
      max gap 4.9400 | ratio 0.5171 | worst 60-120
      group         n         mae
      0-20          2      7.0800
      20-40         2      5.2900
      40-60         2      7.3900
      60-120        2     10.2300
    """

    def __init__(
        self,
        *,
        metric: str,
        greater_is_better: bool,
        n: int,
        overall: float,
        attributes: Mapping[str, AttributeBias],
        min_count: int,
        n_bootstrap: int = 0,
        confidence: float = 0.95,
        overall_ci: tuple[float, float] | None = None,
        n_excluded: int = 0,
        inputs: tuple[Any, ...] | None = None,
        overall_rates: Mapping[str, float] | None = None,
        options: Mapping[str, str] | None = None,
        interval: str | None = None,
    ) -> None:
        self.metric = metric
        self.greater_is_better = greater_is_better
        self.n = n
        self.overall = overall
        self.attributes = dict(attributes)
        self.min_count = min_count
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.overall_ci = overall_ci
        self.n_excluded = n_excluded
        self.interval = interval if interval is not None or not n_bootstrap else "bootstrap"
        self._inputs = inputs
        self.overall_rates = None if overall_rates is None else dict(overall_rates)
        self.options = None if options is None else dict(options)

    def __getitem__(self, attribute: str) -> AttributeBias:
        """The :class:`AttributeBias` of one attribute (or ``"intersection"``)."""
        if attribute not in self.attributes:
            raise KeyError(
                f"Unknown attribute {attribute!r}; the report has {list(self.attributes)}."
            )
        return self.attributes[attribute]

    def __repr__(self) -> str:
        return (
            f"BiasReport(metric={self.metric!r}, n={self.n}, overall={self.overall:.6g}, "
            f"attributes={list(self.attributes)})"
        )

    def __str__(self) -> str:
        if self.overall_rates is not None:
            return self._fairness_str()
        direction = "higher" if self.greater_is_better else "lower"
        lines = [f"Bias report: {self.metric} ({direction} is better), {self.n} examples"]
        overall = f"overall {self.metric}: {_fmt(self.overall)}"
        if self.overall_ci is not None:
            overall += (
                f"  [{self.confidence:.0%} CI {_fmt(self.overall_ci[0])}, "
                f"{_fmt(self.overall_ci[1])}]"
            )
        lines.append(overall)
        if self.n_excluded:
            lines.append(f"({self.n_excluded} examples outside every group: left out)")
        any_flag = False
        for name, att in self.attributes.items():
            lines.append("")
            head = (
                f"{name}: pairwise bias {_fmt(att.pairwise)} | overall {self.metric} "
                f"{_fmt(self.overall)}\n  max gap {_fmt(att.gap)} | ratio {_fmt(att.ratio)} "
                f"| worst {att.worst or '-'}"
            )
            if att.pairwise_ci is not None:
                head += (
                    f"\n  pairwise bias {self.confidence:.0%} CI "
                    f"[{_fmt(att.pairwise_ci[0])}, {_fmt(att.pairwise_ci[1])}]"
                )
            lines.append(head)
            width = max([len("group"), *(len(g) for g in att.groups)])
            header = f"  {'group':<{width}}  {'n':>8}  {self.metric:>10}"
            if att.ci is not None:
                header += f"  {f'{self.confidence:.0%} CI':>21}"
            lines.append(header)
            for i, group in enumerate(att.groups):
                row = f"  {group:<{width}}  {int(att.counts[i]):>8d}  {_fmt(att.values[i]):>10}"
                if att.ci is not None:
                    ci = f"[{_fmt(att.ci[i, 0])}, {_fmt(att.ci[i, 1])}]"
                    row += f"  {ci:>21}"
                if group in att.flagged:
                    row += "  *"
                    any_flag = True
                lines.append(row.rstrip())
            if att.undefined:
                lines.append(
                    f"  undefined for {list(att.undefined)}: left out of the bias"
                )
        if any_flag:
            lines.append("")
            lines.append(
                f"* fewer than min_count={self.min_count} examples: an unstable estimate"
            )
        return "\n".join(lines)

    def _fairness_str(self) -> str:
        """The printed report of a fairness measure: its value and rates per attribute."""
        assert self.overall_rates is not None and self.options is not None
        direction = "higher" if self.greater_is_better else "lower"
        lines = [
            f"Bias report: {self.metric} ({direction} is better), {self.n} examples",
            ", ".join(f"{k} {v}" for k, v in self.options.items()),
            "overall " + " | ".join(f"{r} {_fmt(v)}" for r, v in self.overall_rates.items()),
        ]
        if self.n_excluded:
            lines.append(f"({self.n_excluded} examples outside every group: left out)")
        names = list(self.overall_rates)
        any_flag = False
        for name, att in self.attributes.items():
            assert att.rates is not None and att.measure is not None
            width = max([len("group"), *(len(g) for g in att.groups)])
            lines += ["", f"{name}: {self.metric} {_fmt(att.measure)}",
                      f"  {'group':<{width}}  {'n':>8}" + "".join(f"  {r:>10}" for r in names)]
            for i, group in enumerate(att.groups):
                row = f"  {group:<{width}}  {int(att.counts[i]):>8d}" + "".join(
                    f"  {_fmt(att.rates[r][i]):>{max(10, len(r))}}" for r in names
                )
                if group in att.flagged:
                    row, any_flag = row + "  *", True
                lines.append(row.rstrip())
        if any_flag:
            lines += ["", f"* fewer than min_count={self.min_count} examples: an unstable "
                      "estimate"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as plain Python types (``nan`` kept as float).

        Examples
        --------
        >>> from fairtrain.metrics import bias_report
        >>> r = bias_report([1, 2, 3, 4], [1, 2, 5, 4], {"g": ["a", "a", "b", "b"]},
        ...                 metric="mae", min_count=1)
        >>> r.to_dict()["attributes"]["g"]["bias"]
        {'pairwise': 1.0, 'max_gap': 1.0, 'ratio': 0.0, 'worst_group': 'b'}
        """
        out = {
            "metric": self.metric,
            "greater_is_better": self.greater_is_better,
            "n": self.n,
            "n_excluded": self.n_excluded,
            "overall": self.overall,
            "overall_ci": None if self.overall_ci is None else list(self.overall_ci),
            "min_count": self.min_count,
            "n_bootstrap": self.n_bootstrap,
            "confidence": self.confidence,
            "interval": self.interval,
            "attributes": {k: v.to_dict() for k, v in self.attributes.items()},
        }
        if self.overall_rates is not None:
            out["overall_rates"] = dict(self.overall_rates)
            out["options"] = dict(self.options or {})
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON; undefined values (``nan``) become ``null``."""

        def clean(obj: Any) -> Any:
            if isinstance(obj, float) and not math.isfinite(obj):
                return None
            if isinstance(obj, dict):
                return {k: clean(v) for k, v in obj.items()}
            if isinstance(obj, list):
                return [clean(v) for v in obj]
            return obj

        return json.dumps(clean(self.to_dict()), indent=indent, allow_nan=False)

    def to_frame(self, kind: Literal["groups", "bias"] = "groups") -> Any:
        """The report as a pandas DataFrame (requires pandas).

        Parameters
        ----------
        kind : {"groups", "bias"}, default "groups"
            ``"groups"``: one row per (attribute, group) with ``value``, ``count``,
            ``flagged`` (and ``ci_low``, ``ci_high`` with a bootstrap; a fairness
            measure's rates by name). ``"bias"``: one row per attribute with
            ``pairwise``, ``max_gap``, ``ratio``, ``worst_group`` and ``overall`` (and a
            fairness measure's value, under its name).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            If pandas is not installed.
        """
        check("kind", kind, Options(str, ("groups", "bias")))
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is in the test extra
            raise ImportError(
                "BiasReport.to_frame needs pandas: pip install pandas (or use to_dict())."
            ) from exc
        if kind == "bias":
            rows = [
                {"attribute": a, "pairwise": b.pairwise, "max_gap": b.gap, "ratio": b.ratio,
                 "worst_group": b.worst, "overall": self.overall}
                | ({} if b.measure is None else {self.metric: b.measure})
                for a, b in self.attributes.items()
            ]
            return pd.DataFrame(rows).set_index("attribute")
        rows = []
        for a, b in self.attributes.items():
            for i, g in enumerate(b.groups):
                row = {"attribute": a, "group": g, "value": float(b.values[i]),
                       "count": int(b.counts[i]), "flagged": g in b.flagged}
                if b.ci is not None:
                    row["ci_low"], row["ci_high"] = float(b.ci[i, 0]), float(b.ci[i, 1])
                for r, v in (b.rates or {}).items():
                    row[r] = float(v[i])
                rows.append(row)
        return pd.DataFrame(rows).set_index(["attribute", "group"])

    def without_data(self) -> BiasReport:
        """The same report without a reference to the data it was built from.

        Everything but :meth:`to_metricframe` works on it; keep this when storing many
        reports (one per epoch), so the predictions are not kept alive.
        """
        clone = copy.copy(self)
        clone._inputs = None
        return clone

    def to_metricframe(self) -> Any:
        """The same metric on the same data as a fairlearn ``MetricFrame`` (intersection).

        Requires fairlearn (``pip install "fairtrain[fairlearn]"``). See
        :func:`fairtrain.metrics.to_metricframe`.
        """
        from fairtrain.metrics.interop import to_metricframe

        if self._inputs is None:
            raise ValueError("This report was built without its data; use to_metricframe().")
        metric, y_true, y_pred, groups, sample_weight, metric_kwargs = self._inputs
        return to_metricframe(
            y_true, y_pred, groups,
            metric=metric, sample_weight=sample_weight, metric_kwargs=metric_kwargs,
        )


def _attribute_bias(
    attribute: str, view: Groups, values: np.ndarray, greater_is_better: bool, min_count: int,
    **extra: Any,
) -> AttributeBias:
    """The :class:`AttributeBias` of one attribute's values; ``extra``: its optional fields."""
    pair, gap, rat, worst = _bias(values, view.names, greater_is_better)
    counts = view.counts
    return AttributeBias(
        attribute=attribute,
        groups=view.names,
        values=values,
        counts=counts,
        flagged=tuple(nm for nm, c in zip(view.names, counts) if c < min_count),
        undefined=tuple(nm for nm, x in zip(view.names, values) if not np.isfinite(x)),
        pairwise=pair,
        gap=gap,
        ratio=rat,
        worst=worst,
        **extra,
    )


def _fairness_report(
    func: Any,
    name: str,
    y_true: Any,
    y_pred: Any,
    g: Groups,
    sample_weight: Any,
    metric_kwargs: Mapping[str, Any] | None,
    greater_is_better: bool | None,
    min_count: int,
    n_bootstrap: int,
) -> BiasReport:
    """:func:`bias_report` of a fairness measure: its value and rates for every attribute."""
    measure = measure_of(func)
    assert measure is not None
    direction = greater_is_better_of(func, name, greater_is_better)
    if n_bootstrap:
        raise ValueError(
            f"n_bootstrap is not available for the fairness measure {name!r}; pass "
            "n_bootstrap=0, or bootstrap the rates it compares (e.g. "
            "metric='true_positive_rate')."
        )
    method, agg = measure.options(name, metric_kwargs)
    data = fairness_inputs(name, measure, y_true, y_pred, sample_weight)
    attributes = {}
    overall_rates: dict[str, float] = {}
    for attribute, view in attribute_views(g).items():
        rates = data.rates(measure.rates, view)
        # the first rate (selection or true positive rate: higher is better) as values
        attributes[attribute] = _attribute_bias(
            attribute, view, rates.by_group[0], True, min_count,
            measure=measure.value(rates, method, agg),
            rates=dict(zip(rates.names, rates.by_group)),
        )
        overall_rates = {r: float(v) for r, v in zip(rates.names, rates.overall)}
    return BiasReport(
        metric=name,
        greater_is_better=direction,
        n=len(g),
        overall=overall_rates[measure.rates[0]],
        attributes=attributes,
        min_count=min_count,
        n_excluded=int(len(g) - np.count_nonzero(g.included)),
        inputs=(name, y_true, y_pred, g, sample_weight, metric_kwargs),
        overall_rates=overall_rates,
        options={"method": method, "agg": agg} if measure.takes_agg else {"method": method},
    )


def _metric_report(
    metric: MetricLike, y_true: Any, y_pred: Any, g: Groups, n: int, sample_weight: Any,
    metric_kwargs: Mapping[str, Any] | None, greater_is_better: bool | None, min_count: int,
    n_bootstrap: int, confidence: float, seed: int,
) -> BiasReport:
    """:func:`bias_report` of a per-group metric: values, bias and intervals per attribute."""
    evaluator = GroupEvaluator(
        metric, y_true, y_pred, n, sample_weight=sample_weight, metric_kwargs=metric_kwargs
    )
    direction = greater_is_better_of(evaluator.func, evaluator.name, greater_is_better)
    views = attribute_views(g)
    values = {name: evaluator.values(view) for name, view in views.items()}
    included = g.included
    overall = evaluator.overall(included)
    overall_ci, intervals = None, {}
    if n_bootstrap:
        overall_ci, intervals = _bootstrap(evaluator, g, views, values, n_bootstrap,
                                           confidence, seed)
    attributes = {
        name: _attribute_bias(name, view, values[name], direction, min_count,
                              **intervals.get(name, {}))
        for name, view in views.items()
    }
    return BiasReport(
        metric=evaluator.name,
        greater_is_better=direction,
        n=n,
        overall=overall,
        attributes=attributes,
        min_count=int(min_count),
        n_bootstrap=int(n_bootstrap),
        confidence=float(confidence),
        overall_ci=overall_ci,  # type: ignore[arg-type]
        n_excluded=int(n - np.count_nonzero(included)),
        inputs=(metric, y_true, y_pred, g, sample_weight, metric_kwargs),
    )


def _bootstrap(
    evaluator: GroupEvaluator, g: Groups, views: Mapping[str, Groups],
    values: Mapping[str, np.ndarray], n_bootstrap: int, confidence: float, seed: int,
) -> tuple[tuple[float, ...], dict[str, dict[str, Any]]]:
    """``(overall_ci, {attribute: {"ci": ..., "pairwise_ci": ...}})`` of a stratified bootstrap."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    boot = {name: np.empty((n_bootstrap, view.n_groups)) for name, view in views.items()}
    boot_bias = {name: np.empty(n_bootstrap) for name in views}
    boot_overall = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        idx = _stratified_resample(g, rng)
        resampled = evaluator.take(idx)
        boot_overall[b] = resampled.overall()
        for name, view in views.items():
            v = resampled.values_of(view.codes[idx], view.n_groups)
            boot[name][b] = v
            defined = np.isfinite(values[name])
            sub = v[defined]
            boot_bias[name][b] = (
                pairwise_bias(sub) if sub.size >= 2 and np.isfinite(sub).all() else np.nan
            )
    overall_ci = tuple(float(x) for x in _interval(boot_overall[:, None], confidence)[0])
    intervals = {
        name: {
            "ci": _interval(boot[name], confidence),
            "pairwise_ci": tuple(
                float(x) for x in _interval(boot_bias[name][:, None], confidence)[0]
            ),
        }
        for name in views
    }
    return overall_ci, intervals


@validate_params(
    {
        **METRIC_PARAMS,
        "greater_is_better": ["boolean", None],
        "min_count": [Interval(Integral, 1, None)],
        "n_bootstrap": [Interval(Integral, 0, None)],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "seed": [Interval(Integral, 0, None)],
    },
    hints=METRIC_HINTS,
)
def bias_report(
    y_true: Any, y_pred: Any, groups: Any = None, *, metric: MetricLike = "mae",
    sample_weight: Any = None, metric_kwargs: Mapping[str, Any] | None = None,
    greater_is_better: bool | None = None, min_count: int = 30, n_bootstrap: int = 0,
    confidence: float = 0.95, seed: int = 0, sensitive_features: Any = None,
) -> BiasReport:
    """Overall value, value per group and bias of a metric, for every attribute.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, n_classes)
        Targets and predictions, as the metric takes them. Use validation data to
        choose models; keep the test set for the final report.
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The groups. Every attribute is reported on its own and, with several, their
        intersection too.
    metric : str or callable, default "mae"
        A registered metric name (see ``fairtrain.registry.available("metrics")``) or a callable
        ``metric(y_true, y_pred, **metric_kwargs) -> float``. A fairness measure
        (``"equalized_odds_difference"``, ``"demographic_parity_ratio"``...) is reported per
        attribute: its value (``report[attribute].measure``) next to the per-group rates it
        compares (``.rates``; the first of them as ``.values``).
    sample_weight : array-like of float, shape (n,), optional
        Non-negative weight of every example.
    metric_kwargs : mapping, optional
        Extra keyword arguments of the metric, e.g. ``{"average": "binary"}``; for a
        fairness measure, its ``method`` and ``agg``.
    greater_is_better : bool, optional
        Direction of the metric, used to name the worst group. Default: the metric's
        ``greater_is_better`` attribute (the built-ins have one); required otherwise.
    min_count : int, default 30
        Groups with fewer examples are flagged as unstable estimates.
    n_bootstrap : int, default 0
        Number of bootstrap resamples for confidence intervals (0: none), stratified:
        every resample keeps each cell's size (the metrics guide says why).
    confidence : float, default 0.95
        Confidence level of the percentile intervals.
    seed : int, default 0
        Seed of the bootstrap (``numpy.random.SeedSequence(seed)``).
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Returns
    -------
    BiasReport

    Raises
    ------
    ValueError
        If the lengths differ, an input holds NaN, the metric name is unknown (with close
        matches), its direction is unknown, or an option is out of range; with a fairness
        measure, also if a label is not 0/1 (-1/1) or ``n_bootstrap > 0``.
    TypeError
        If a fairness measure gets a ``metric_kwargs`` key other than ``method`` and ``agg``.

    Notes
    -----
    Per attribute, over its groups ``1..k`` whose value ``v`` is defined (not ``nan``): pairwise
    bias ``sum_{i<j} |v_i - v_j| / (k (k - 1) / 2)``, max gap ``max v - min v``, ratio
    ``min v / max v`` and the worst group (largest error or smallest score).

    Examples
    --------
    >>> import numpy as np
    >>> from fairtrain.metrics import bias_report
    >>> age = np.repeat(["0-20", "20-40", "40-60", "60-120"], 2)
    >>> y_true = np.full(8, 30.0)
    >>> y_pred = y_true + [7.08, -7.08, 5.29, -5.29, 7.39, -7.39, 10.23, -10.23]
    >>> report = bias_report(y_true, y_pred, {"age": age}, metric="mae", min_count=1)
    >>> round(report["age"].pairwise, 2)  # print(report) shows it all: see BiasReport
    2.52
    """
    g = as_groups(groups, sensitive_features=sensitive_features)
    n = check_lengths(y_true=y_true, y_pred=y_pred, groups=g.codes)
    func, name = resolve_metric(metric)
    if measure_of(func) is not None:  # one number per attribute, not per group
        return _fairness_report(func, name, y_true, y_pred, g, sample_weight, metric_kwargs,
                                greater_is_better, min_count, n_bootstrap)
    return _metric_report(metric, y_true, y_pred, g, n, sample_weight, metric_kwargs,
                          greater_is_better, min_count, n_bootstrap, confidence, seed)
