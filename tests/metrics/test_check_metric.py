"""fairtrain.testing.check_metric accepts every built-in and catches broken metrics."""

from __future__ import annotations

import numpy as np
import pytest

from fairtrain.testing.metrics import check_metric

BUILTINS = ["mae", "mse", "accuracy", "error_rate", "recall", "precision", "selection_rate",
            "true_positive_rate", "false_positive_rate"]


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_passes(name):
    check_metric(name)


def test_builtin_options_pass():
    check_metric("recall", metric_kwargs={"average": "binary"}, n_classes=2)
    check_metric("precision", metric_kwargs={"average": "binary"}, n_classes=2)


def _checked(y_true, y_pred):
    if len(y_true) != len(y_pred):
        raise ValueError("lengths differ")


def first_error(y_true, y_pred):
    _checked(y_true, y_pred)
    return float(abs(y_true[0] - y_pred[0]))


def sorting_in_place(y_true, y_pred):
    _checked(y_true, y_pred)
    y_true.sort()
    return 0.0


def ignores_weights(y_true, y_pred, sample_weight=None):
    _checked(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def no_length_check(y_true, y_pred):
    return float(np.mean(np.abs(y_true[: len(y_pred)] - y_pred)))


def returns_array(y_true, y_pred):
    _checked(y_true, y_pred)
    return np.abs(y_true - y_pred)


@pytest.mark.parametrize(
    ("metric", "check"),
    [
        (first_error, "independent of the order"),
        (sorting_in_place, "leaves its inputs unchanged"),
        (ignores_weights, "integer sample weights"),
        (no_length_check, "rejects different lengths"),
        (returns_array, "returns a float"),
    ],
    ids=["order", "mutates", "weights", "lengths", "array"],
)
def test_broken_metrics_fail_the_named_check(metric, check):
    with pytest.raises(AssertionError, match=check):
        check_metric(metric, kind="regression", greater_is_better=False)


def test_kind_and_direction_are_required_for_plain_functions():
    with pytest.raises(ValueError, match="kind="):
        check_metric(first_error)
    with pytest.raises(ValueError, match="greater_is_better"):
        check_metric(first_error, kind="regression")
