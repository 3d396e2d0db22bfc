"""`GroupAccumulator`: per-group sufficient statistics, updated batch by batch and mergeable."""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from statistics import NormalDist
from typing import Any

import numpy as np

from fairtrain import registry
from fairtrain._validation import Interval, as_sample_weight, check, validate_params
from fairtrain.groups import Groups
from fairtrain.metrics import functions as _f
from fairtrain.metrics._inputs import as_labels, as_values
from fairtrain.metrics.report import AttributeBias, BiasReport, _bias
from fairtrain.metrics.spec import GroupSpec

__all__ = ["GroupAccumulator", "sum_across_processes"]

#: The metrics an accumulator computes from sums, and the statistics each needs.
STREAMABLE = {
    "mae": "regression",
    "mse": "regression",
    "accuracy": "classification",
    "error_rate": "classification",
    "selection_rate": "classification",
    "true_positive_rate": "classification",
    "false_positive_rate": "classification",
    "recall": "classification",
    "precision": "classification",
}
#: Metrics refused by name: why no per-group sum gives them.
NEEDS_EVERY_EXAMPLE = {
    "roc_auc": "ranks every score against every other",
    "roc_auc_score": "ranks every score against every other",
    "auc": "ranks every score against every other",
    "average_precision": "ranks every score against every other",
    "average_precision_score": "ranks every score against every other",
    "median_absolute_error": "is a median, an order statistic of every error",
    "median": "is an order statistic of every example",
    "quantile": "is an order statistic of every example",
}
_CLASS_STATS = ("tp", "true", "pred", "seen")
_UNIT_STATS = ("count", "weight", "weight2", "hit", "miss", "abs", "sq", "quad")


def _resolve(metric: Any) -> str:
    """The name of a streamable metric given by name or as the built-in function."""
    if isinstance(metric, str):
        name = metric
    elif callable(metric):
        name = str(getattr(metric, "__name__", type(metric).__name__))
        if name in STREAMABLE and getattr(_f, name) is metric:
            return name
    else:
        raise TypeError(
            f"A metric must be a metric name or a built-in metric function; got {metric!r}."
        )
    if name in NEEDS_EVERY_EXAMPLE:
        raise ValueError(
            f"Metric {name!r} cannot be accumulated batch by batch: it "
            f"{NEEDS_EVERY_EXAMPLE[name]}, which no per-group sum gives. Compute it with "
            f"bias_report on the arrays in memory. Streamable: {sorted(STREAMABLE)}."
        )
    if isinstance(metric, str):
        func = registry.get("metrics", name)  # an unknown name fails with close matches
        if name in STREAMABLE and func is getattr(_f, name):
            return name
        target = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"
        what = f"Metric {name!r} (registered as {target}) is"
    else:
        what = f"The callable {name!r} is"
    raise ValueError(
        f"{what} not one whose per-group sufficient statistics fairtrain knows, so it "
        f"cannot be accumulated. Streamable: {sorted(STREAMABLE)}; compute other metrics "
        "with bias_report on the arrays in memory."
    )


def streamable(metric: Any) -> str | None:
    """The metric's name if a :class:`GroupAccumulator` can take it, else None."""
    try:
        return _resolve(metric)
    except (TypeError, ValueError, registry.PluginError):
        return None


def _check_kwargs(name: str, kwargs: Mapping[str, Any], n_classes: int | None) -> dict:
    """Validated options of a metric (as its function would check them)."""
    allowed = {
        p.name for p in inspect.signature(getattr(_f, name)).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name != "sample_weight"
    }
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(
            f"Metric {name!r} takes no option(s) {unknown}; its options are "
            f"{sorted(allowed) or 'none'}."
        )
    out = dict(kwargs)
    if "average" in out:
        _f._check_average(out["average"])  # average=None (one value per class) is refused
    if "zero_division" in out:
        _f._check_zero_division(out["zero_division"])
    if "pos_label" in allowed:
        pos = out.get("pos_label", 1)
        if isinstance(pos, (bool, np.bool_)) or not isinstance(pos, (int, np.integer)) or (
            n_classes is not None and not 0 <= pos < n_classes
        ):
            raise ValueError(
                f"`pos_label` of {name!r} must be a class index in [0, n_classes={n_classes}) "
                f"(the accumulator takes integer class labels); got {pos!r}."
            )
    return out


class GroupAccumulator:
    """Per-group sufficient statistics of one or more metrics, batch by batch.

    ``update`` adds a batch; ``merge`` (or ``+``) adds two accumulators (from two
    workers, two shards, two passes); ``result`` gives the same
    :class:`~fairtrain.metrics.BiasReport` as :func:`~fairtrain.metrics.bias_report`
    on all the examples at once, to floating-point round-off, in memory that does not
    grow with the number of examples.

    Parameters
    ----------
    groups_spec : GroupSpec or Groups
        The structure of the groups (a ``Groups`` is reduced to its
        :meth:`GroupSpec.from_groups`; its per-example codes are not kept).
    metrics : str, metric function, or sequence of them, default "mae"
        Streamable metrics (see :attr:`STREAMABLE`): ``"mae"``, ``"mse"``,
        ``"accuracy"``, ``"error_rate"``, ``"selection_rate"``,
        ``"true_positive_rate"``, ``"false_positive_rate"``, ``"recall"``,
        ``"precision"``. Metrics that need every example (AUC, medians) are refused.
    n_classes : int, optional
        The number of classes; required with a classification metric, whose labels
        must then be integers in ``[0, n_classes)`` (or class scores, one-hot rows or
        positive-class probabilities, as the metrics take them).
    metric_kwargs : mapping of str to mapping, optional
        Options of each metric, by name, e.g. ``{"recall": {"average": "binary"}}``.

    Attributes
    ----------
    spec : GroupSpec
        The groups' structure.
    metrics : tuple of str
        The metrics' names.
    n : int
        Examples added so far, excluded ones (code ``-1``) included.

    Raises
    ------
    ValueError
        If a metric cannot be accumulated (its name says why), an option is out of
        range, or ``n_classes`` is missing for a classification metric.
    TypeError
        If ``groups_spec`` is neither a ``GroupSpec`` nor a ``Groups``, or a metric
        has no such option.

    Notes
    -----
    The state, per *unit* (a cell; see :attr:`GroupSpec.n_units`), is: the number of
    examples ``n``, the weight sums ``W = sum w`` and ``sum w^2``; for classification
    ``sum w [y = p]`` (hits) and ``sum w [y != p]`` and, per class ``c``,
    ``tp_c = sum w [y = c][p = c]``, ``true_c = sum w [y = c]``,
    ``pred_c = sum w [p = c]`` and the unweighted count of ``y = c`` plus ``p = c``
    (whether ``c`` occurs); for regression ``sum w |e|``, ``sum w e^2`` and
    ``sum w e^4`` with ``e = y_true - y_pred``. That is ``O(units x classes)`` numbers,
    whatever the number of examples. Every group of every attribute is a sum of units,
    and every metric a ratio of sums: MAE ``sum w |e| / W``, accuracy ``hits / W``,
    true positive rate ``tp_p / true_p``, recall and precision as
    :func:`~fairtrain.metrics.recall` averages ``tp_c / true_c`` (or ``/ pred_c``).

    Intervals (``result(intervals=True)``) replace the bootstrap, which needs the
    examples. For a rate ``k / n`` (accuracy, error rate, selection rate, TPR, FPR,
    binary and micro recall and precision) the Wilson score interval
    ``(p + z^2 / 2n +- z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n)``; for macro
    and weighted recall and precision, a normal interval with variance
    ``sum_c a_c^2 p_c (1 - p_c) / n_c`` (``a_c`` the averaging weights); for MAE and
    MSE, the mean ``+- z s / sqrt(n)`` with ``s^2`` the (weighted) variance of ``|e|``
    or ``e^2`` with Bessel's correction. ``z`` is the normal quantile of
    ``(1 + confidence) / 2``. With sample weights, ``n`` is Kish's effective size,
    ``W^2 / sum w^2`` of the group, scaled to the rate's denominator
    (``n = den * W / sum w^2``). No interval is given for the bias itself.

    Examples
    --------
    >>> import numpy as np
    >>> import fairtrain as ft
    >>> from fairtrain.metrics import GroupAccumulator, bias_report
    >>> groups = ft.Groups.from_columns({"sex": ["f", "m", "f", "m", "f", "m"]})
    >>> y_true = np.array([1, 0, 1, 1, 0, 0])
    >>> y_pred = np.array([1, 0, 0, 1, 0, 1])
    >>> acc = GroupAccumulator(groups, metrics=["accuracy", "true_positive_rate"],
    ...                        n_classes=2)
    >>> for batch in (slice(0, 4), slice(4, 6)):
    ...     acc = acc.update(y_true[batch], y_pred[batch], groups.codes[batch])
    >>> acc.result("accuracy", min_count=1)["sex"].values.tolist()
    [0.6666666666666666, 0.6666666666666666]
    >>> bias_report(y_true, y_pred, groups, metric="accuracy",
    ...             min_count=1)["sex"].values.tolist()
    [0.6666666666666666, 0.6666666666666666]
    """

    STREAMABLE = tuple(STREAMABLE)

    def __init__(
        self,
        groups_spec: GroupSpec | Groups,
        *,
        metrics: Any = "mae",
        n_classes: int | None = None,
        metric_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if isinstance(groups_spec, Groups):
            groups_spec = GroupSpec.from_groups(groups_spec)
        if not isinstance(groups_spec, GroupSpec):
            raise TypeError(
                "`groups_spec` must be a GroupSpec or a Groups; got "
                f"{type(groups_spec).__name__}."
            )
        listed = [metrics] if isinstance(metrics, str) or callable(metrics) else list(metrics)
        if not listed:
            raise ValueError("`metrics` is empty: name at least one metric.")
        names = tuple(_resolve(m) for m in listed)
        if len(set(names)) != len(names):
            raise ValueError(f"`metrics` names a metric twice: {list(names)}.")
        kinds = {STREAMABLE[m] for m in names}
        if "classification" in kinds:
            if n_classes is None:
                named = [m for m in names if STREAMABLE[m] == "classification"]
                raise ValueError(
                    f"Classification metrics ({named}) need n_classes (their labels are "
                    "class indices in [0, n_classes))."
                )
            n_classes = check("n_classes", n_classes, Interval(Integral, 1, None))
        kwargs = dict(metric_kwargs or {})
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise ValueError(f"`metric_kwargs` names metrics not in `metrics`: {unknown}.")
        self.spec = groups_spec
        self.metrics = names
        self.n_classes = n_classes
        self.metric_kwargs = {m: _check_kwargs(m, kwargs.get(m, {}), n_classes) for m in names}
        self._kinds = kinds
        self.n = 0
        u, c = groups_spec.n_units, n_classes or 0
        self._unit = {s: np.zeros(u, dtype=np.int64 if s == "count" else np.float64)
                      for s in _UNIT_STATS}
        self._class = {s: np.zeros((u, c), dtype=np.int64 if s == "seen" else np.float64)
                       for s in _CLASS_STATS}
        self._labels_seen = np.zeros(c, dtype=np.int64)  # over every example, excluded too

    # ------------------------------------------------------------------ state
    @property
    def nbytes(self) -> int:
        """Bytes held by the statistics (independent of the number of examples)."""
        arrays = [*self._unit.values(), *self._class.values(), self._labels_seen]
        return int(sum(a.nbytes for a in arrays))

    def __repr__(self) -> str:
        return (
            f"GroupAccumulator(metrics={list(self.metrics)}, n={self.n}, "
            f"n_groups={self.spec.n_groups}, nbytes={self.nbytes})"
        )

    def _empty_like(self) -> GroupAccumulator:
        return GroupAccumulator(
            self.spec, metrics=self.metrics, n_classes=self.n_classes,
            metric_kwargs=self.metric_kwargs,
        )

    def merge(self, other: GroupAccumulator) -> GroupAccumulator:
        """A new accumulator holding the examples of both (neither is changed).

        Raises
        ------
        TypeError
            If ``other`` is not a ``GroupAccumulator``.
        ValueError
            If the two have different groups, metrics, options or classes.
        """
        if not isinstance(other, GroupAccumulator):
            raise TypeError(f"Can only merge a GroupAccumulator; got {type(other).__name__}.")
        diff = self.spec.difference(other.spec)
        if diff is None and self.metrics != other.metrics:
            diff = f"their metrics differ: {list(self.metrics)} and {list(other.metrics)}"
        if diff is None and self.n_classes != other.n_classes:
            diff = f"their n_classes differ: {self.n_classes} and {other.n_classes}"
        if diff is None and _options_key(self.metric_kwargs) != _options_key(
                other.metric_kwargs):
            diff = f"their metric_kwargs differ: {self.metric_kwargs} and {other.metric_kwargs}"
        if diff is not None:
            raise ValueError(
                f"Cannot merge accumulators of different kinds: {diff}. Build every "
                "accumulator with the same groups_spec, metrics, n_classes and options."
            )
        out = self._empty_like()
        out.n = self.n + other.n
        for s in _UNIT_STATS:
            out._unit[s] = self._unit[s] + other._unit[s]
        for s in _CLASS_STATS:
            out._class[s] = self._class[s] + other._class[s]
        out._labels_seen = self._labels_seen + other._labels_seen
        return out

    def to_array(self) -> np.ndarray:
        """The statistics as one flat float64 vector, to sum across processes.

        Returns
        -------
        ndarray of float64, shape (m,)
            ``[n, unit statistics, class statistics, labels seen]``; ``m`` depends on
            the groups and ``n_classes`` only, so every process's vector has the same
            layout. Counts are exact as float64 up to ``2**53``.

        Notes
        -----
        Every statistic is a sum over examples, so the element-wise sum of the vectors
        of the shards is the vector of their union:
        ``a.from_array(a.to_array() + b.to_array())`` equals ``a.merge(b)``.

        Examples
        --------
        >>> from fairtrain.metrics import GroupAccumulator, GroupSpec
        >>> acc = GroupAccumulator(GroupSpec.from_levels({"sex": ["f", "m"]}), metrics="mae")
        >>> acc = acc.update([1.0, 2.0], [1.5, 2.0], [0, 1])
        >>> acc.to_array()[:3].tolist()  # n, then the count of each group
        [2.0, 1.0, 1.0]
        """
        parts = [np.array([self.n], dtype=np.float64)]
        parts += [self._unit[s].ravel() for s in _UNIT_STATS]
        parts += [self._class[s].ravel() for s in _CLASS_STATS]
        parts.append(self._labels_seen)
        return np.concatenate([p.astype(np.float64) for p in parts])

    def from_array(self, array: Any) -> GroupAccumulator:
        """A new accumulator of this kind holding the statistics ``array``.

        Parameters
        ----------
        array : array-like of float, shape (m,)
            A vector laid out as :meth:`to_array`'s, typically the sum over processes
            of theirs.

        Returns
        -------
        GroupAccumulator
            Same groups, metrics and options as this one (which is not changed).

        Raises
        ------
        ValueError
            If ``array`` is not one-dimensional of :meth:`to_array`'s length, holds a
            non-finite value, or a count that is negative or not an integer.
        """
        a = np.asarray(array, dtype=np.float64)
        m = self.to_array().size
        if a.shape != (m,):
            raise ValueError(
                f"`array` must be a vector of {m} statistics (the layout of to_array() "
                f"for these groups and classes); got shape {a.shape}."
            )
        if not np.all(np.isfinite(a)):
            raise ValueError("`array` holds a NaN or infinite statistic; sum finite vectors.")
        out = self._empty_like()
        pos = 0

        def take(like: np.ndarray, name: str) -> np.ndarray:
            nonlocal pos
            part = a[pos:pos + like.size].reshape(like.shape)
            pos += like.size
            if like.dtype.kind == "i":
                if np.any(part < 0) or np.any(part != np.round(part)):
                    raise ValueError(
                        f"The counts {name!r} in `array` must be non-negative integers; "
                        "pass sums of to_array() vectors, unscaled."
                    )
                return part.astype(np.int64)
            return part.copy()

        out.n = int(take(np.zeros(1, dtype=np.int64), "n")[0])
        for s in _UNIT_STATS:
            out._unit[s] = take(self._unit[s], s)
        for s in _CLASS_STATS:
            out._class[s] = take(self._class[s], s)
        out._labels_seen = take(self._labels_seen, "labels_seen")
        return out

    def allreduce(self, reduce_sum: Callable[[np.ndarray], Any] | None = None) -> GroupAccumulator:
        """The accumulator of every process's examples: one sum of :meth:`to_array`.

        Parameters
        ----------
        reduce_sum : callable, optional
            ``reduce_sum(vector) -> vector``, the element-wise sum of every process's
            ``vector`` (float64, shape (m,)), returned on every process. Default:
            :func:`~fairtrain.metrics.sum_across_processes` (JAX processes).

        Returns
        -------
        GroupAccumulator
            The same on every process: the statistics of the union of the shards.

        Notes
        -----
        Any collective that sums a float64 vector works: the default one gathers over
        JAX processes; under another runtime (``tf.distribute`` workers, MPI, torch
        distributed) pass its sum. The counts must arrive exact (no float32 on the way).

        Examples
        --------
        Two shards summed by a stand-in for the collective:

        >>> from fairtrain.metrics import GroupAccumulator, GroupSpec
        >>> spec = GroupSpec.from_levels({"sex": ["f", "m"]})
        >>> a = GroupAccumulator(spec, metrics="mae").update([1.0, 2.0], [1.5, 2.0], [0, 1])
        >>> b = GroupAccumulator(spec, metrics="mae").update([3.0], [1.0], [0])
        >>> both = a.allreduce(lambda v: v + b.to_array())
        >>> both.n, both.result(min_count=1)["sex"].values.tolist()
        (3, [1.25, 0.0])
        """
        if reduce_sum is None:
            reduce_sum = sum_across_processes
        return self.from_array(reduce_sum(self.to_array()))

    def __add__(self, other: GroupAccumulator) -> GroupAccumulator:
        if not isinstance(other, GroupAccumulator):
            return NotImplemented
        return self.merge(other)

    # ------------------------------------------------------------------ update
    def update(
        self, y_true: Any, y_pred: Any, group_codes: Any, sample_weight: Any = None
    ) -> GroupAccumulator:
        """Add one batch of examples (returns ``self``).

        Parameters
        ----------
        y_true, y_pred : array-like, shape (b,) or (b, n_classes)
            Targets and predictions of the batch, as the metrics take them.
        group_codes : array-like of int, shape (b,) or (b, n_attributes), or Groups
            The batch's groups: cell codes (``groups.codes[idx]``), attribute codes
            (``groups.attribute_codes[idx]``) or a ``Groups`` over the batch; see
            :class:`GroupSpec`. ``-1`` (a row of ``-1``) marks an excluded example.
        sample_weight : array-like of float, shape (b,), optional
            Non-negative weight of every example.

        Returns
        -------
        GroupAccumulator
            ``self``, so that updates chain.

        Raises
        ------
        ValueError
            If the lengths differ, a value is NaN, a label is not a class index in
            ``[0, n_classes)``, or a group code is invalid. The state is left unchanged.
        """
        if _check_batch(y_true, y_pred, group_codes, sample_weight) == 0:
            return self
        units = self.spec.codes_to_units(group_codes)
        return self._add_units(y_true, y_pred, units, sample_weight)

    def _add_units(
        self, y_true: Any, y_pred: Any, units: np.ndarray, sample_weight: Any
    ) -> GroupAccumulator:
        """``update`` on examples already mapped to units (``-1``: excluded)."""
        b = _check_batch(y_true, y_pred, units, sample_weight)
        if b == 0:
            return self
        w = as_sample_weight(sample_weight, b)
        keep = units >= 0
        u = units[keep]
        wk = None if w is None else w[keep]
        size = self.spec.n_units
        new_unit: dict[str, np.ndarray] = {}
        new_class: dict[str, np.ndarray] = {}
        if "regression" in self._kinds:
            yt, yp = as_values(y_true, "y_true"), as_values(y_pred, "y_pred")
            e2 = np.square(yt - yp)[keep]
            for s, v in (("abs", np.abs(yt - yp)[keep]), ("sq", e2), ("quad", np.square(e2))):
                new_unit[s] = np.bincount(u, weights=v if wk is None else v * wk,
                                          minlength=size)
        labels_seen = None
        if "classification" in self._kinds:
            kt, kp = self._labels(y_true, "y_true"), self._labels(y_pred, "y_pred")
            c = self.n_classes or 0
            labels_seen = np.bincount(kt, minlength=c) + np.bincount(kp, minlength=c)
            self._count_classes(u, kt[keep], kp[keep], wk, new_unit, new_class)
        new_unit["count"] = np.bincount(u, minlength=size)
        new_unit["weight"] = np.bincount(u, weights=wk, minlength=size).astype(np.float64)
        new_unit["weight2"] = (
            new_unit["weight"] if wk is None
            else np.bincount(u, weights=np.square(wk), minlength=size)
        )
        # every input was valid: only now does the state change
        for s, v in new_unit.items():
            self._unit[s] += v
        for s, v in new_class.items():
            self._class[s] += v
        if labels_seen is not None:
            self._labels_seen += labels_seen
        self.n += b
        return self

    def _labels(self, y: Any, name: str) -> np.ndarray:
        labels = as_labels(y, name)
        c = self.n_classes or 0
        if labels.dtype.kind not in "biu":
            raise TypeError(
                f"`{name}` must hold integer class labels in [0, n_classes={c}) (or class "
                f"scores, one-hot rows or probabilities); got dtype {labels.dtype}. Map "
                "string labels to class indices first."
            )
        labels = labels.astype(np.int64, copy=False)
        if labels.min() < 0 or labels.max() >= c:
            bad = int(labels[(labels < 0) | (labels >= c)][0])
            raise ValueError(
                f"`{name}` holds the label {bad}, outside [0, n_classes={c}); pass "
                "n_classes to cover every class."
            )
        return labels

    def _count_classes(self, u: np.ndarray, kt: np.ndarray, kp: np.ndarray,
                       w: np.ndarray | None, new_unit: dict, new_class: dict) -> None:
        size, c = self.spec.n_units, self.n_classes or 0
        it, ip = u * c + kt, u * c + kp
        hit = kt == kp

        def count(index: np.ndarray, mask: np.ndarray | None = None,
                  length: int = size * c) -> np.ndarray:
            weights = w if mask is None or w is None else w[mask]
            index = index if mask is None else index[mask]
            return np.bincount(index, weights=weights, minlength=length).astype(np.float64)

        new_class["true"] = count(it).reshape(size, c)
        new_class["pred"] = count(ip).reshape(size, c)
        new_class["tp"] = count(it, hit).reshape(size, c)
        new_class["seen"] = (np.bincount(it, minlength=size * c)
                             + np.bincount(ip, minlength=size * c)).reshape(size, c)
        new_unit["hit"] = count(u, hit, size)
        new_unit["miss"] = count(u, ~hit, size)

    # ------------------------------------------------------------------ results
    def statistics(self, attribute: str | None = None) -> dict[str, np.ndarray]:
        """The summed statistics of every group of one grouping.

        The hook for metrics built on the same sums (fairlearn-style differences and
        ratios of selection rates or error rates).

        Parameters
        ----------
        attribute : str, optional
            A name of :attr:`GroupSpec.views` (an attribute or ``"intersection"``);
            default: the cells (the intersection, or the only attribute).

        Returns
        -------
        dict of str to ndarray
            ``count``, ``weight``, ``weight2``, ``hit``, ``miss``, ``abs``, ``sq``,
            ``quad`` of shape (k,) and ``tp``, ``true``, ``pred``, ``seen`` of shape
            (k, n_classes), as described in the class notes; ``overall`` maps to the
            same over every grouped example, shape (1,) or (1, n_classes).
        """
        views = self.spec._views
        if attribute is None:
            attribute = list(views)[-1]
        if attribute not in views:
            raise ValueError(f"Unknown attribute {attribute!r}; the groupings are {list(views)}.")
        names, codes = views[attribute]
        return self._sum_units(codes, len(names))

    def _sum_units(self, codes: np.ndarray, k: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for s, v in [*self._unit.items(), *self._class.items()]:
            total = np.zeros((k, *v.shape[1:]), dtype=v.dtype)
            np.add.at(total, codes, v)  # in unit order for every statistic alike
            out[s] = total
        return out

    def results(self, **options: Any) -> dict[str, BiasReport]:
        """``{metric: self.result(metric, **options)}`` for every metric."""
        return {m: self.result(m, **options) for m in self.metrics}

    @validate_params(
        {
            "min_count": [Interval(Integral, 1, None)],
            "greater_is_better": ["boolean", None],
            "intervals": ["boolean"],
            "confidence": [Interval(Real, 0, 1, closed="neither")],
        }
    )
    def result(
        self,
        metric: Any = None,
        *,
        min_count: int = 30,
        greater_is_better: bool | None = None,
        intervals: bool = False,
        confidence: float = 0.95,
    ) -> BiasReport:
        """The report of one metric over every example added so far.

        Parameters
        ----------
        metric : str or metric function, optional
            One of :attr:`metrics`; default: the only one.
        min_count : int, default 30
            Groups with fewer examples are flagged, as in ``bias_report``.
        greater_is_better : bool, optional
            The metric's direction; default: the built-in's.
        intervals : bool, default False
            Add the intervals of the class notes to every group's value and to the
            overall value (``report.interval`` names the method).
        confidence : float, default 0.95
            Confidence level of the intervals.

        Returns
        -------
        BiasReport
            Equal to ``bias_report(y_true, y_pred, groups, metric=metric, ...)`` on the
            concatenated batches, to floating-point round-off (without the data: its
            ``to_metricframe`` is unavailable).

        Raises
        ------
        TypeError
            If an option has the wrong type (``greater_is_better`` and ``intervals`` are
            True or False, not ``"False"`` or 0), as ``bias_report`` refuses.
        ValueError
            If no example was added, the metric is not one of :attr:`metrics`, its
            ``pos_label`` never occurred, ``min_count`` < 1 or ``confidence`` is outside
            (0, 1) (as ``bias_report`` refuses).
        """
        name = self._pick(metric)
        if self.n == 0:
            raise ValueError("The accumulator is empty: update it with a batch first.")
        kwargs = self.metric_kwargs[name]
        self._check_pos_label(name, kwargs)
        func = getattr(_f, name)
        direction = func.greater_is_better if greater_is_better is None else greater_is_better
        z = NormalDist().inv_cdf((1 + confidence) / 2)
        overall_stats = self._sum_units(np.zeros(self.spec.n_units, dtype=np.int64), 1)
        overall, overall_ci = _evaluate(name, kwargs, overall_stats, z if intervals else None)
        attributes = {}
        for view, (names, codes) in self.spec._views.items():
            stats = self._sum_units(codes, len(names))
            values, ci = _evaluate(name, kwargs, stats, z if intervals else None)
            attributes[view] = _attribute(view, names, values, stats["count"], ci,
                                          min_count, direction)
        return BiasReport(
            metric=name, greater_is_better=direction, n=self.n, overall=float(overall[0]),
            attributes=attributes, min_count=min_count, confidence=float(confidence),
            overall_ci=None if overall_ci is None else (float(overall_ci[0, 0]),
                                                        float(overall_ci[0, 1])),
            n_excluded=int(self.n - self._unit["count"].sum()),
            interval=_interval_name(name, kwargs) if intervals else None,
        )

    def _pick(self, metric: Any) -> str:
        if metric is None:
            if len(self.metrics) > 1:
                raise ValueError(
                    f"This accumulator holds several metrics {list(self.metrics)}; name one."
                )
            return self.metrics[0]
        name = _resolve(metric)
        if name not in self.metrics:
            raise ValueError(
                f"Metric {name!r} was not accumulated; this accumulator holds "
                f"{list(self.metrics)}."
            )
        return name

    def _check_pos_label(self, name: str, kwargs: Mapping[str, Any]) -> None:
        if STREAMABLE[name] != "classification" or "pos_label" not in inspect.signature(
                getattr(_f, name)).parameters:
            return
        if name in ("recall", "precision") and kwargs.get("average", "macro") != "binary":
            return
        pos = int(kwargs.get("pos_label", 1))
        if not self._labels_seen[pos]:
            seen = np.flatnonzero(self._labels_seen)[:5].tolist()
            raise ValueError(
                f"`pos_label`={pos} occurs in neither y_true nor y_pred (labels seen "
                f"include {seen}); pass pos_label=<the positive class>."
            )


def _options_key(metric_kwargs: Mapping[str, Mapping[str, Any]]) -> str:
    """The options as text whatever their key order (``repr``: ``nan`` equals ``nan``)."""
    return repr(sorted((m, sorted(o.items())) for m, o in metric_kwargs.items()))


def _check_batch(y_true: Any, y_pred: Any, group_codes: Any, sample_weight: Any) -> int:
    """The batch's length; a ValueError names every length when they differ."""
    lengths = {"y_true": len(y_true), "y_pred": len(y_pred), "group_codes": len(group_codes)}
    if sample_weight is not None:
        lengths["sample_weight"] = len(sample_weight)
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise ValueError(f"A batch must have one entry per example; got lengths {shown}.")
    return lengths["y_true"]


# ---------------------------------------------------------------- metric from sums
def _evaluate(
    name: str, kwargs: Mapping[str, Any], s: Mapping[str, np.ndarray], z: float | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The metric of every group (and its interval if ``z``) from the summed statistics."""
    kish = _ratio(s["weight"], s["weight2"])  # effective examples per unit of weight
    if name in ("mae", "mse"):
        first, second = (s["abs"], s["sq"]) if name == "mae" else (s["sq"], s["quad"])
        mean = _ratio(first, s["weight"])
        ci = None if z is None else _normal_mean(mean, _ratio(second, s["weight"]),
                                                 s["weight"] * kish, z)
        return mean, ci
    if name in ("recall", "precision"):
        return _class_score(name, kwargs, s, kish, z)
    num, den = _rate_parts(name, kwargs, s)
    value = _ratio(num, den)
    return value, None if z is None else _wilson(value, den * kish, z)


def _rate_parts(name: str, kwargs: Mapping[str, Any],
                s: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator of a rate, as the in-memory metric sums them."""
    if name == "accuracy":
        return s["hit"], s["weight"]
    if name == "error_rate":
        return s["miss"], s["weight"]
    p = int(kwargs.get("pos_label", 1))
    tp, true, pred = s["tp"][:, p], s["true"][:, p], s["pred"][:, p]
    if name == "selection_rate":
        return pred, s["weight"]
    if name == "true_positive_rate":
        return tp, true
    # false positive rate: predicted p among those whose label is not p
    return pred - tp, s["weight"] - true


def _class_score(
    name: str, kwargs: Mapping[str, Any], s: Mapping[str, np.ndarray], kish: np.ndarray,
    z: float | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    average = kwargs.get("average", "macro")
    zero = _f._check_zero_division(kwargs.get("zero_division", np.nan))
    seen = s["seen"] > 0
    pos = int(kwargs.get("pos_label", 1)) if average == "binary" else -1
    value = _f._class_scores(s["tp"], s["true"], s["pred"], seen, score=name,
                             average=average, zero_division=zero, pos=pos)
    if z is None:
        return value, None
    den = s["true"] if name == "recall" else s["pred"]
    if average == "binary":
        rate = _ratio(s["tp"][:, pos], den[:, pos])
        return value, _wilson(rate, den[:, pos] * kish, z)
    if average == "micro":
        num_m = np.where(seen, s["tp"], 0).sum(axis=1)
        den_m = np.where(seen, den, 0).sum(axis=1)
        return value, _wilson(_ratio(num_m, den_m), den_m * kish, z)
    per_class = _ratio(s["tp"], den)
    defined = np.isfinite(per_class)
    weights = defined.astype(float) if average == "macro" else np.where(defined, s["true"], 0.0)
    share = weights / np.where(weights.sum(axis=1, keepdims=True) > 0,
                               weights.sum(axis=1, keepdims=True), 1.0)
    n_eff = den * kish[:, None]
    var = np.where(defined, share**2 * _ratio(per_class * (1 - per_class), n_eff), 0.0)
    half = z * np.sqrt(np.nan_to_num(var, nan=0.0).sum(axis=1))
    ci = np.column_stack([np.clip(value - half, 0, 1), np.clip(value + half, 0, 1)])
    ci[~np.isfinite(value)] = np.nan
    return value, ci


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return _f._ratio(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))


def _wilson(p: np.ndarray, n: np.ndarray, z: float) -> np.ndarray:
    """Wilson score interval of proportions ``p`` out of ``n`` (nan where n is 0)."""
    out = np.full((p.size, 2), np.nan)
    ok = np.isfinite(p) & (n > 0)
    p, n = p[ok], n[ok]
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    out[ok] = np.column_stack([np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)])
    return out


def _normal_mean(mean: np.ndarray, second: np.ndarray, n: np.ndarray, z: float) -> np.ndarray:
    """``mean +- z s / sqrt(n)`` with ``s^2`` from the first two moments (Bessel)."""
    out = np.full((mean.size, 2), np.nan)
    ok = np.isfinite(mean) & (n > 1)
    var = np.maximum(second[ok] - mean[ok] ** 2, 0.0) * n[ok] / (n[ok] - 1)
    half = z * np.sqrt(var / n[ok])
    out[ok] = np.column_stack([np.maximum(mean[ok] - half, 0.0), mean[ok] + half])
    return out


def _interval_name(name: str, kwargs: Mapping[str, Any]) -> str:
    if name in ("mae", "mse"):
        return "normal (mean +- z s / sqrt(n))"
    if name in ("recall", "precision") and kwargs.get("average", "macro") in ("macro",
                                                                              "weighted"):
        return "normal (over the classes' rates)"
    return "wilson"


def _attribute(
    view: str, names: Sequence[str], values: np.ndarray, counts: np.ndarray,
    ci: np.ndarray | None, min_count: int, direction: bool,
) -> AttributeBias:
    names = tuple(names)
    pair, gap, rat, worst = _bias(values, names, direction)
    return AttributeBias(
        attribute=view, groups=names, values=values, counts=counts.astype(np.int64),
        flagged=tuple(nm for nm, c in zip(names, counts) if c < min_count),
        undefined=tuple(nm for nm, x in zip(names, values) if not math.isfinite(x)),
        pairwise=pair, gap=gap, ratio=rat, worst=worst, ci=ci, pairwise_ci=None,
    )


def sum_across_processes(vector: Any) -> np.ndarray:
    """The element-wise sum of a float64 vector over every JAX process, on every process.

    Parameters
    ----------
    vector : array-like of float, shape (m,)
        This process's vector (the same ``m`` on every process), e.g.
        :meth:`GroupAccumulator.to_array`.

    Returns
    -------
    ndarray of float64, shape (m,)
        ``sum_p vector_p``, summed in float64 in process order, so the same bits on
        every process. With one process (or without JAX initialized for several), the
        vector itself.

    Notes
    -----
    The vectors travel as bytes (``multihost_utils.process_allgather`` of their
    ``uint8`` view), so float64 survives JAX's default 32-bit mode; the sum is done
    after the gather, in NumPy. One collective per call; every process must call it.
    """
    v = np.ascontiguousarray(np.asarray(vector, dtype=np.float64).reshape(-1))
    jax = sys.modules.get("jax")
    if jax is None or jax.process_count() == 1:
        return v.copy()
    from jax.experimental import multihost_utils

    raw = np.asarray(multihost_utils.process_allgather(v.view(np.uint8)))
    gathered = raw.reshape(jax.process_count(), -1).view(np.float64)
    total = np.zeros_like(v)
    for row in gathered:  # fixed order: identical result everywhere
        total = total + row
    return total
