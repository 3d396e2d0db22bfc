"""`BiasMonitor`: per-group metrics and bias written into the epoch logs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Integral
from typing import Any, Literal

import numpy as np

from fairtrain._lazy import import_keras
from fairtrain._validation import InstanceOf, Interval, param_error, validate_params
from fairtrain.callbacks._common import batches, is_dataset, key_part, n_rows
from fairtrain.metrics.evaluation import evaluate as _stream
from fairtrain.metrics.fairness import measure_of
from fairtrain.metrics.grouped import (
    METRIC_PARAMS,
    MetricLike,
    attribute_views,
    check_metric_kwargs,
    greater_is_better_of,
    resolve_metric,
)
from fairtrain.metrics.report import BiasReport, bias_report
from fairtrain.metrics.spec import GroupSpec, as_groups_or_spec
from fairtrain.metrics.streaming import streamable

keras = import_keras("fairtrain.callbacks")

__all__ = ["BiasMonitor"]

#: What :meth:`BiasMonitor.get_config` leaves out: the data, given again to from_config.
_DATA = ("x", "y", "groups")


class BiasMonitor(keras.callbacks.Callback):
    """Evaluate per-group metrics and bias on validation data at the end of epochs.

    The values go into the epoch logs, so ``EarlyStopping`` and ``ModelCheckpoint`` can
    monitor a bias and ``CSVLogger``, ``TensorBoard`` and the returned ``History``
    record it. Works under every Keras backend (it only calls ``model.predict``).

    Give it the **validation** set, never the test set: whatever it logs is used to
    choose epochs and models, and a test set used that way stops being a test.

    Parameters
    ----------
    x : array-like, shape (n, ...), list or dict of such arrays, tf.data.Dataset, or PyDataset
        Validation inputs, as ``model.predict`` takes them; or a finite dataset (then
        ``y`` is None) whose batches ``carries`` describes. A dataset is read once
        per evaluation; with a streamable metric (see
        :class:`~fairtrain.metrics.GroupAccumulator`) it is streamed through
        :func:`~fairtrain.metrics.evaluate`, one batch in memory at a time.
    y : array-like, shape (n,) or (n, n_classes), or None
        Validation targets; None when ``x`` is a dataset.
    groups : Groups, mapping of str to array-like, array-like of shape (n,), or GroupSpec
        The groups of the validation examples (e.g. ``groups.take(val_idx)``);
        anything :func:`fairtrain.groups.as_groups` takes; with ``carries="codes"``,
        only their structure (a ``GroupSpec`` or ``Groups``).
    metric : str or callable, default "mae"
        A registered metric name (``"mae"``, ``"recall"``, a plugin's, a fairness
        measure such as ``"equalized_odds_difference"``) or a callable
        ``metric(y_true, y_pred) -> float``.
    every : int, default 1
        Evaluate on epochs ``0, every, 2 * every, ...`` and on the last epoch (``every``
        counts epochs, as everywhere in fairtrain); the epochs in between repeat the
        last values, so every epoch's logs have the same keys (as ``CSVLogger``
        requires).
    prefix : str, default ``"val_"``
        Prefix of every log key.
    batch_size : int, default 256
        Batch size of ``model.predict``.
    metric_kwargs : mapping, optional
        Extra keyword arguments of the metric.
    greater_is_better : bool, optional
        The metric's direction; default: the metric's own ``greater_is_better``.
    transform : callable, optional
        Applied to the predictions before scoring, e.g. ``lambda p: p * 100`` for an
        age predicted on a [0, 1] scale (to each batch's when streamed). Not part of
        :meth:`get_config`.
    log_groups : bool, default True
        Also log the value of every group (disable for many intersectional cells).
    min_count : int, default 30
        Passed to :func:`~fairtrain.metrics.bias_report` (flags small groups).
    verbose : int, default 0
        1 prints the bias of every attribute after each evaluation.
    sensitive_features : optional
        fairlearn's name for ``groups`` (it takes the same, a ``GroupSpec`` too); give
        exactly one of the two.
    carries : {"order", "codes", "index"}, default "order"
        For a dataset: ``"order"``, batches ``(x, y)`` or ``(x, y, sample_weight)``, as
        Keras' ``validation_data``, matched to ``groups`` by position (so
        deterministic, unshuffled, exactly ``len(groups)`` examples, checked at
        every evaluation); ``"codes"``, batches ``(x, y, group_codes[, sample_weight])``;
        ``"index"``, batches ``(x, y, index[, sample_weight])`` with positions in
        ``groups``. See :func:`~fairtrain.metrics.evaluate`. ``"codes"`` and
        ``"index"`` need a streamable metric.

    Attributes
    ----------
    reports : dict of int to BiasReport
        The report of every evaluated epoch (worst group names included). Reports keep
        their summaries only (:meth:`BiasReport.without_data`), not the predictions,
        so memory does not grow with the predictions of every epoch.
    keys : list of str
        The log keys written every epoch.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``every=2.0``), a fairness measure gets
        a ``metric_kwargs`` key other than its options, neither or both of ``groups``
        and ``sensitive_features`` are given, or a ``GroupSpec`` comes without
        ``carries="codes"``.
    ValueError
        If the lengths of ``x``, ``y`` and ``groups`` differ, ``every`` is not
        positive, the metric is unknown or has no direction, a fairness measure's
        ``method`` or ``agg`` is unknown, or two log keys would be the same (a group
        named ``bias``, ``gap`` or ``worst`` would overwrite its attribute's
        aggregate: rename the group).

    Notes
    -----
    With ``m`` the metric's name and ``a`` an attribute (``"intersection"`` for the
    cells of several attributes), the keys are ``{prefix}{m}_overall``,
    ``{prefix}{m}_{a}_bias`` (pairwise bias: ``sum_{i<j} |v_i - v_j| / (k (k-1) / 2)``),
    ``{prefix}{m}_{a}_gap`` (``max v - min v``), ``{prefix}{m}_{a}_worst`` (the worst
    group's value) and, with ``log_groups``, ``{prefix}{m}_{a}_{group}``. A fairness
    measure (``metric="equalized_odds_difference"``...) is one number per attribute:
    its keys are ``{prefix}{m}_{a}`` and, with ``log_groups``,
    ``{prefix}{m}_{a}_{rate}_{group}`` for every rate it compares. Characters
    other than letters, digits and ``_.=-`` become ``_``. Logs hold numbers only, so
    TensorBoard can plot them; the worst group's *name* is in :attr:`reports`.
    ``EarlyStopping(mode="auto")`` guesses the direction from the key name; pass
    ``mode="min"`` for a bias.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from fairtrain import BiasMonitor
    >>> x = np.linspace(0, 1, 40).reshape(-1, 1)
    >>> y = 2 * x[:, 0]
    >>> sex = np.tile(["f", "m"], 20)
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> monitor = BiasMonitor(x, y, {"sex": sex}, metric="mae", min_count=1)
    >>> history = model.fit(x, y, epochs=2, callbacks=[monitor], verbose=0)
    >>> len(history.history["val_mae_sex_bias"])
    2
    >>> monitor.keys
    ['val_mae_overall', 'val_mae_sex_bias', 'val_mae_sex_gap', 'val_mae_sex_worst', \
'val_mae_sex_f', 'val_mae_sex_m']
    """

    @validate_params(
        {
            "metric": METRIC_PARAMS["metric"],
            "metric_kwargs": METRIC_PARAMS["metric_kwargs"],
            "every": [Interval(Integral, 1, None)],
            "prefix": [InstanceOf(str, "a str")],
            "batch_size": [Interval(Integral, 1, None)],
            "greater_is_better": ["boolean", None],
            "transform": ["callable", None],
            "log_groups": ["boolean"],
            "min_count": [Interval(Integral, 1, None)],
            "verbose": [Interval(Integral, 0, None)],
        }
    )
    def __init__(
        self,
        x: Any,
        y: Any = None,
        groups: Any = None,
        *,
        metric: MetricLike = "mae",
        every: int = 1,
        prefix: str = "val_",
        batch_size: int = 256,
        metric_kwargs: Mapping[str, Any] | None = None,
        greater_is_better: bool | None = None,
        transform: Callable[[np.ndarray], Any] | None = None,
        log_groups: bool = True,
        min_count: int = 30,
        verbose: int = 0,
        sensitive_features: Any = None,
        carries: Literal["order", "codes", "index"] = "order",
    ) -> None:
        super().__init__()
        self._dataset = is_dataset(x)
        self._stream = self._dataset and streamable(metric) is not None
        if carries not in ("order", "codes", "index"):
            raise param_error("carries", carries, "'order', 'codes' or 'index'")
        if carries != "order" and not self._stream:
            raise param_error(
                "carries", carries,
                "'order' (the others need a dataset as `x` and a streamable metric)",
                hint=f"See fairtrain.metrics.GroupAccumulator; got metric={metric!r}.",
            )
        # the one rule on groups (either name, not both), a GroupSpec where batches carry codes
        groups = as_groups_or_spec(groups, sensitive_features=sensitive_features, carries=carries)
        if isinstance(groups, GroupSpec):
            self._views = groups.views
        else:
            self._views = {name: v.names for name, v in attribute_views(groups).items()}
        if self._dataset:
            if y is not None:
                raise param_error(
                    "y", y, "None when `x` is a dataset",
                    hint="The dataset carries the targets.",
                )
        else:
            if y is None:
                raise param_error(
                    "y", y, "the validation targets unless `x` is a dataset",
                    error=TypeError,
                )
            lengths = {"x": n_rows(x, "x"), "y": len(y), "groups": len(groups)}
            if len(set(lengths.values())) > 1:
                shown = ", ".join(f"{k}={v}" for k, v in lengths.items())
                raise ValueError(
                    f"The validation inputs must have one entry per example; got {shown}."
                )
        func, name = resolve_metric(metric)
        greater_is_better_of(func, name, greater_is_better)
        self._measure = measure_of(func)  # a fairness measure: one value per attribute
        if self._measure is not None:  # its options fail here, not after an epoch
            self._measure.options(name, metric_kwargs)
        else:
            check_metric_kwargs(func, name, metric_kwargs)  # now, not after the first epoch
        self.x = x
        self.y = None if y is None else np.asarray(y)
        self.groups = groups
        self.metric = metric
        self.every = every
        self.prefix = prefix
        self.batch_size = batch_size
        self.metric_kwargs = dict(metric_kwargs or {})
        self.greater_is_better = greater_is_better
        self.transform = transform
        self.log_groups = log_groups
        self.min_count = min_count
        self.verbose = verbose
        self.carries = carries
        self.reports: dict[int, BiasReport] = {}
        self._stem = f"{prefix}{key_part(name)}"
        self.keys = self._keys()
        self._last: dict[str, float] | None = None

    def _keys(self) -> list[str]:
        # every key with what it stands for, so that a clash names both sources
        sources: dict[str, str] = {}
        if self._measure is None:
            sources[f"{self._stem}_overall"] = "the overall value"

        def add(key: str, source: str) -> None:
            if key in sources:
                raise ValueError(
                    f"{sources[key]} and {source} would both be logged as {key!r}, and one "
                    "would overwrite the other. Rename the group or attribute (or pass "
                    "log_groups=False)."
                )
            sources[key] = source

        for attribute, names in self._views.items():
            stem = f"{self._stem}_{key_part(attribute)}"
            if self._measure is not None:
                add(stem, f"the measure of attribute {attribute!r}")
                for rate in self._measure.rates if self.log_groups else ():
                    for group in names:
                        add(f"{stem}_{rate}_{key_part(group)}",
                            f"the {rate} of group {group!r} of attribute {attribute!r}")
                continue
            for aggregate in ("bias", "gap", "worst"):
                add(f"{stem}_{aggregate}", f"the {aggregate} of attribute {attribute!r}")
            if self.log_groups:
                for group in names:
                    add(f"{stem}_{key_part(group)}",
                        f"group {group!r} of attribute {attribute!r}")
        return list(sources)

    def _predict_dataset(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        y_true, y_pred, weights = [], [], []
        for batch in batches(self.x):
            if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
                raise ValueError(
                    "A validation dataset must yield (x, y) or (x, y, sample_weight) "
                    f"batches; got {type(batch).__name__}."
                )
            y_pred.append(np.asarray(self.model.predict_on_batch(batch[0])))
            y_true.append(np.asarray(batch[1]))
            if len(batch) == 3:
                weights.append(np.asarray(batch[2]).reshape(-1))
        n = sum(len(y) for y in y_true)
        if n != len(self.groups):
            raise ValueError(
                f"The validation dataset yielded {n} examples but groups has "
                f"{len(self.groups)}; they are matched by position, so the dataset "
                "must be finite, unshuffled and hold exactly the grouped examples."
            )
        if weights and len(weights) != len(y_true):
            raise ValueError(
                f"In the validation dataset, some batches carry sample weights "
                f"({len(weights)} of {len(y_true)}) and others do not; yield "
                "(x, y, sample_weight) from every batch or from none."
            )
        w = np.concatenate(weights) if weights else None
        return np.concatenate(y_true), np.concatenate(y_pred), w

    def evaluate(self) -> BiasReport:
        """Predict the validation set with the current model and build its report.

        The report keeps the data it was built from (so ``to_metricframe`` works),
        except a streamed one; :attr:`reports` keeps only summaries.
        """
        if self._stream:
            name = streamable(self.metric)
            accumulator = _stream(
                self.model, self.x, groups=self.groups, metrics=[self.metric],
                carries=self.carries, transform=self.transform,
                metric_kwargs={name: self.metric_kwargs} if self.metric_kwargs else None,
            )
            return accumulator.result(
                greater_is_better=self.greater_is_better, min_count=self.min_count
            )
        weights = None
        if self._dataset:
            y_true, y_pred, weights = self._predict_dataset()
        else:
            y_true = self.y
            y_pred = np.asarray(
                self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
            )
        if self.transform is not None:
            y_pred = np.asarray(self.transform(y_pred))
        return bias_report(
            y_true,
            y_pred,
            self.groups,
            metric=self.metric,
            sample_weight=weights,
            metric_kwargs=self.metric_kwargs,
            greater_is_better=self.greater_is_better,
            min_count=self.min_count,
        )

    def _values(self, report: BiasReport) -> dict[str, float]:
        if self._measure is not None:
            return self._measure_values(report)
        values = {f"{self._stem}_overall": report.overall}
        for attribute, bias in report.attributes.items():
            stem = f"{self._stem}_{key_part(attribute)}"
            values[f"{stem}_bias"] = bias.pairwise
            values[f"{stem}_gap"] = bias.gap
            values[f"{stem}_worst"] = (
                bias.value(bias.worst) if bias.worst is not None else float("nan")
            )
            if self.log_groups:
                for group, value in zip(bias.groups, bias.values):
                    values[f"{stem}_{key_part(group)}"] = float(value)
        return values

    def _measure_values(self, report: BiasReport) -> dict[str, float]:
        values: dict[str, float] = {}
        for attribute, bias in report.attributes.items():
            stem = f"{self._stem}_{key_part(attribute)}"
            values[stem] = float(bias.measure)  # type: ignore[arg-type]
            for rate, per_group in (bias.rates or {}).items() if self.log_groups else ():
                for group, value in zip(bias.groups, per_group):
                    values[f"{stem}_{rate}_{key_part(group)}"] = float(value)
        return values

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Forget the values carried over from an earlier ``fit``."""
        self._last = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Evaluate (on the scheduled epochs) and write the values into ``logs``."""
        last_epoch = int((self.params or {}).get("epochs", 0)) - 1
        if self._last is None or epoch % self.every == 0 or epoch == last_epoch:
            report = self.evaluate().without_data()
            self.reports[epoch] = report
            self._last = self._values(report)
            if self.verbose:
                parts = [
                    f"{a} bias {b.pairwise:.4g} (worst {b.worst})" if b.measure is None
                    else f"{a} {b.measure:.4g}"
                    for a, b in report.attributes.items()
                ]
                print(
                    f"BiasMonitor epoch {epoch + 1}: {report.metric} {report.overall:.4g}; "
                    + "; ".join(parts)
                )
        if logs is not None:
            logs.update(self._last)

    def get_config(self) -> dict[str, Any]:
        """The settings: everything but the data (and ``transform``).

        As Keras keeps datasets out of a model's config, the data are the one thing
        not here: ``BiasMonitor.from_config({**config, "x": x, "y": y, "groups": g})``
        rebuilds the callback. The config is plain JSON when the metric is given by
        name (a callable metric is kept as that callable).
        """
        return {
            "metric": self.metric,
            "every": self.every,
            "prefix": self.prefix,
            "batch_size": self.batch_size,
            "metric_kwargs": dict(self.metric_kwargs),
            "greater_is_better": self.greater_is_better,
            "log_groups": self.log_groups,
            "min_count": self.min_count,
            "verbose": self.verbose,
            "carries": self.carries,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BiasMonitor:
        """``cls(**config)``, with the data added back: ``x``, ``y`` and ``groups``.

        Raises
        ------
        ValueError
            If the config lacks the data (which :meth:`get_config` leaves out).
        """
        missing = [k for k in _DATA if k not in config]
        if missing and not ("sensitive_features" in config and missing == ["groups"]):
            raise ValueError(
                f"BiasMonitor.from_config needs the validation data, which no config "
                f"holds: add {missing} to it, e.g. "
                "BiasMonitor.from_config({**config, 'x': x, 'y': y, 'groups': groups})."
            )
        return cls(**config)
