"""`check_metric`: test a metric plugin the way fairtrain tests its built-in metrics."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from numbers import Integral
from typing import Any, Literal

import numpy as np

from fairtrain._validation import Interval, check
from fairtrain.groups import Groups
from fairtrain.metrics.grouped import by_group, greater_is_better_of, resolve_metric
from fairtrain.metrics.report import bias_report

__all__ = ["check_metric"]


def _data(kind: str, n: int, n_classes: int, rng: np.random.Generator) -> tuple:
    """``n`` targets and predictions: real values, or labels kept from y_true 70 % of the time."""
    if kind == "regression":
        y_true = rng.uniform(0, 100, n)
        y_pred = y_true + rng.normal(0, 5, n)
    else:
        y_true = rng.integers(0, n_classes, n)
        noise = rng.integers(0, n_classes, n)
        y_pred = np.where(rng.random(n) < 0.7, y_true, noise)
    return y_true, y_pred


def _kind(func: Callable[..., Any], name: str, kind: str | None) -> str:
    """``kind``, else the metric's ``kind`` attribute; a ValueError if neither is valid."""
    kind = kind or getattr(func, "kind", None)
    if kind not in ("regression", "classification"):
        raise ValueError(
            f"Pass kind='regression' or 'classification' for metric {name!r} (it has no "
            "`kind` attribute)."
        )
    return kind


def _groups(n: int, n_groups: int, rng: np.random.Generator) -> Groups:
    """``n`` examples in ``n_groups`` groups of (nearly) equal size, in random order."""
    codes = np.arange(n) % n_groups
    rng.shuffle(codes)
    return Groups.from_codes(codes, [f"g{i}" for i in range(n_groups)])


def _test_data(kind: str, seed: Any, n: int, n_classes: int,
               n_groups: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray, Groups]:
    """The checks' random stream (after drawing from it) and their labels, predictions, groups."""
    seed = check("seed", seed, Interval(Integral, 0, None))
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    y_true, y_pred = _data(kind, n, n_classes, rng)
    groups = _groups(n, n_groups, rng)
    return rng, y_true, y_pred, groups


def _close(a: float, b: float) -> bool:
    """Whether two metric values agree (to rounding; NaN agrees with NaN)."""
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check_metric(
    metric: str | Callable[..., Any],
    *,
    kind: Literal["regression", "classification"] | None = None,
    n_classes: int = 3,
    n_examples: int = 120,
    n_groups: int = 4,
    metric_kwargs: Mapping[str, Any] | None = None,
    greater_is_better: bool | None = None,
    seed: int = 0,
) -> None:
    """Check that a metric behaves as fairtrain's per-group tools require.

    The contract of an entry point in the ``fairtrain.metrics`` group: it names a
    callable ``metric(y_true, y_pred, **metric_kwargs) -> float`` (optionally taking
    ``sample_weight=``) that raises ``ValueError`` on inputs of different lengths, and
    carries ``greater_is_better`` (bool) and, ideally, ``kind`` (``"regression"`` or
    ``"classification"``). fairtrain calls it once per group on that group's examples
    (:func:`~fairtrain.metrics.by_group`, :func:`~fairtrain.metrics.bias_report`,
    :class:`~fairtrain.BiasMonitor`) and once on all grouped examples for the overall
    value.

    Parameters
    ----------
    metric : str or callable
        A registered metric name (checked through the registry, as users will find
        it) or the metric function ``metric(y_true, y_pred, **metric_kwargs)``.
    kind : {"regression", "classification"}, optional
        The data to test on: real-valued targets, or integer class labels. Default: the
        metric's ``kind`` attribute.
    n_classes : int, default 3
        Classes of the classification data.
    n_examples : int, default 120
        Examples in the test data.
    n_groups : int, default 4
        Groups in the test data.
    metric_kwargs : mapping, optional
        Extra keyword arguments of the metric.
    greater_is_better : bool, optional
        The metric's direction, if it has no ``greater_is_better`` attribute.
    seed : int, default 0
        Seed of the test data.

    Raises
    ------
    AssertionError
        Naming the first check that failed and what was seen.
    ValueError
        If ``kind`` cannot be found, or the metric's direction is unknown.

    Notes
    -----
    The checks: the metric returns one finite float, the same on a second call; it
    leaves its inputs unchanged; it does not depend on the order of the examples; it
    rejects inputs of different lengths with ``ValueError``; :func:`by_group` equals
    calling it on each group's examples; :func:`bias_report` runs with it; and, if it
    takes ``sample_weight``, unit weights change nothing and integer weights equal
    repeating the examples.

    Examples
    --------
    >>> import numpy as np
    >>> from fairtrain.testing import check_metric
    >>> def median_absolute_error(y_true, y_pred):
    ...     if len(y_true) != len(y_pred):
    ...         raise ValueError("y_true and y_pred differ in length")
    ...     return float(np.median(np.abs(np.asarray(y_true) - np.asarray(y_pred))))
    >>> median_absolute_error.greater_is_better = False
    >>> check_metric(median_absolute_error, kind="regression")
    """
    func, name = resolve_metric(metric)
    kind = _kind(func, name, kind)
    direction = greater_is_better_of(func, name, greater_is_better)
    rng, y_true, y_pred, groups = _test_data(kind, seed, n_examples, n_classes, n_groups)
    call = _Call(func, name, dict(metric_kwargs or {}))
    value = _check_value(call, y_true, y_pred, rng)
    _check_grouped(call, metric, value, y_true, y_pred, groups, direction)
    _check_weights(call, value, y_true, y_pred, rng)


class _Call:
    """The metric under test with its keyword arguments, and how a check fails."""

    def __init__(self, func: Callable[..., Any], name: str, kwargs: dict[str, Any]) -> None:
        self.func, self.name, self.kwargs = func, name, kwargs

    def __call__(self, y_true: Any, y_pred: Any, **extra: Any) -> Any:
        return self.func(y_true, y_pred, **extra, **self.kwargs)

    def fail(self, check: str, detail: str) -> None:
        raise AssertionError(f"check_metric({self.name!r}) failed '{check}': {detail}")


def _check_value(call: _Call, y_true: np.ndarray, y_pred: np.ndarray,
                 rng: np.random.Generator) -> float:
    """One finite float, deterministic, inputs untouched, order-free, lengths checked.

    Returns the metric on all examples.
    """
    yt0, yp0 = y_true.copy(), y_pred.copy()
    value = call(y_true, y_pred)
    if not isinstance(value, (float, int, np.floating, np.integer)) or isinstance(value, bool):
        call.fail("returns a float", f"got {type(value).__name__}: {value!r}")
    value = float(value)
    if not math.isfinite(value):
        call.fail("returns a finite value on ordinary data", f"got {value}")
    if not np.array_equal(y_true, yt0) or not np.array_equal(y_pred, yp0):
        call.fail("leaves its inputs unchanged", "y_true or y_pred was modified in place")
    again = float(call(y_true, y_pred))
    if not _close(again, value):
        call.fail("deterministic", f"{value} then {again}")
    order = rng.permutation(len(y_true))
    shuffled = float(call(y_true[order], y_pred[order]))
    if not _close(shuffled, value):
        call.fail("independent of the order of the examples", f"{value} vs {shuffled} shuffled")
    try:
        call(y_true, y_pred[:-1])
    except ValueError:
        pass
    except Exception as exc:  # noqa: BLE001 - reported as the failure
        call.fail("rejects different lengths with ValueError",
                  f"raised {type(exc).__name__}: {exc}")
    else:
        call.fail("rejects different lengths with ValueError", "no error was raised")
    return value


def _check_grouped(call: _Call, metric: Any, value: float, y_true: np.ndarray,
                   y_pred: np.ndarray, groups: Groups, direction: bool) -> None:
    """:func:`by_group` equals the metric on each group; :func:`bias_report` runs."""
    grouped = by_group(y_true, y_pred, groups, metric=metric, metric_kwargs=call.kwargs)
    for code, group in enumerate(groups.names):
        rows = groups.codes == code
        expected = float(call(y_true[rows], y_pred[rows]))
        if not _close(grouped[group], expected):
            call.fail("by_group equals the metric on each group",
                      f"group {group}: by_group {grouped[group]} vs {expected}")
    report = bias_report(y_true, y_pred, groups, metric=metric, metric_kwargs=call.kwargs,
                         greater_is_better=direction, min_count=1)
    if not _close(report.overall, value):
        call.fail("bias_report's overall equals the metric", f"{report.overall} vs {value}")


def _check_weights(call: _Call, value: float, y_true: np.ndarray, y_pred: np.ndarray,
                   rng: np.random.Generator) -> None:
    """Unit weights change nothing; integer weights equal repeated examples.

    Nothing to check for a metric without ``sample_weight``.
    """
    if "sample_weight" not in inspect.signature(call.func).parameters:
        return
    n = len(y_true)
    ones = float(call(y_true, y_pred, sample_weight=np.ones(n)))
    if not _close(ones, value):
        call.fail("unit sample weights change nothing", f"{value} vs {ones}")
    counts = rng.integers(1, 4, n)
    weighted = float(call(y_true, y_pred, sample_weight=counts))
    repeated = float(call(np.repeat(y_true, counts), np.repeat(y_pred, counts)))
    if not _close(weighted, repeated):
        call.fail("integer sample weights equal repeated examples",
                  f"weighted {weighted} vs repeated {repeated}")
