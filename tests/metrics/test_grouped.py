"""by_group: equals a plain loop over groups, fairlearn's MetricFrame, and resolves names."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairtrain import Groups, registry
from fairtrain.metrics import by_group, functions
from fairtrain.testing.strategies import groups as groups_strategy

CLASSIFICATION = ["accuracy", "error_rate", "recall", "precision", "selection_rate",
                  "true_positive_rate", "false_positive_rate"]
REGRESSION = ["mae", "mse"]


@st.composite
def grouped_data(draw, kind):
    g = draw(groups_strategy(max_groups=5, max_count=20))
    n = len(g)
    regression = kind == "regression"
    values = st.floats(-100, 100, allow_nan=False) if regression else st.integers(0, 2)
    yt = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    yp = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    weighted = draw(st.booleans())
    w = np.array(draw(st.lists(st.floats(0.5, 3), min_size=n, max_size=n))) if weighted else None
    return g, yt, yp, w


def _loop(metric, yt, yp, g, w, **kwargs):
    """Per-group values by slicing and calling the metric once per group."""
    out = {}
    for code, name in enumerate(g.names):
        rows = [i for i in range(len(g)) if g.codes[i] == code]
        extra = {} if w is None else {"sample_weight": w[rows]}
        out[name] = metric(yt[rows], yp[rows], **extra, **kwargs)
    return out


def _same(a, b):
    assert list(a) == list(b)
    for k in a:
        if math.isnan(b[k]):
            assert math.isnan(a[k]), k
        else:
            assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-9), k


@pytest.mark.parametrize("name", REGRESSION)
@given(data=grouped_data("regression"))
def test_regression_by_group_equals_a_loop(name, data):
    g, yt, yp, w = data
    _same(by_group(yt, yp, g, metric=name, sample_weight=w),
          _loop(getattr(functions, name), yt, yp, g, w))


@pytest.mark.parametrize("name", CLASSIFICATION)
@given(data=grouped_data("classification"))
def test_classification_by_group_equals_a_loop(name, data):
    g, yt, yp, w = data
    if name in ("true_positive_rate", "false_positive_rate", "selection_rate") and not (
        (yt == 1).any() or (yp == 1).any()
    ):
        return  # pos_label=1 absent everywhere: by_group refuses it (tested below)
    _same(by_group(yt, yp, g, metric=name, sample_weight=w),
          _loop(getattr(functions, name), yt, yp, g, w))


@given(data=grouped_data("regression"))
def test_mae_by_group_equals_plain_python(data):
    g, yt, yp, _ = data
    expected = {}
    for code, name in enumerate(g.names):
        errors = [abs(float(a) - float(b)) for a, b, c in zip(yt, yp, g.codes) if c == code]
        expected[name] = sum(errors) / len(errors)
    _same(by_group(yt, yp, g, metric="mae"), expected)


@given(data=grouped_data("classification"))
def test_macro_recall_by_group_equals_plain_python(data):
    g, yt, yp, _ = data
    expected = {}
    for code, name in enumerate(g.names):
        rows = [(a, b) for a, b, c in zip(yt, yp, g.codes) if c == code]
        classes = sorted({a for a, _ in rows})
        per_class = [sum(1 for a, b in rows if a == k and b == k) / sum(1 for a, _ in rows
                     if a == k) for k in classes]
        expected[name] = sum(per_class) / len(per_class)
    _same(by_group(yt, yp, g, metric="recall"), expected)


@pytest.mark.parametrize("name", ["mae", "accuracy", "recall", "true_positive_rate"])
@given(data=st.data())
def test_by_group_matches_fairlearn_metricframe(name, data):
    pytest.importorskip("fairlearn")
    pd = pytest.importorskip("pandas")
    from fairlearn.metrics import MetricFrame
    from sklearn import metrics as skm

    kind = "regression" if name == "mae" else "classification"
    g, yt, yp, _ = data.draw(grouped_data(kind))
    if name == "true_positive_rate":
        yt[0] = 1  # by_group refuses a pos_label found nowhere (tested below)
    reference = {
        "mae": skm.mean_absolute_error,
        "accuracy": skm.accuracy_score,
        "recall": lambda a, b: skm.recall_score(a, b, labels=np.unique(a), average="macro",
                                                zero_division=0),
        # recall of label 1 against the rest; NaN for a group without a positive
        "true_positive_rate": lambda a, b: skm.recall_score(a == 1, b == 1,
                                                            zero_division=np.nan),
    }[name]
    frame = MetricFrame(metrics=reference, y_true=yt, y_pred=yp,
                        sensitive_features=pd.Series(np.asarray(g.names)[g.codes], name="g"))
    expected = {str(k): float(v) for k, v in frame.by_group.items()}
    assert sorted(expected) == sorted(g.names)  # every group of the data has a value
    _same(by_group(yt, yp, g, metric=name), {k: expected[k] for k in g.names})


def test_groups_given_as_columns_and_excluded_examples():
    ours = by_group([1.0, 2, 3, 4], [1.0, 1, 1, 1], {"sex": ["f", "m", "f", "m"]}, metric="mae")
    assert ours == {"f": 1.0, "m": 2.0}
    g = Groups(np.array([0, -1, 1, 1]), ["a", "b"])  # example 1 dropped by a policy
    assert by_group([0.0, 100, 2, 4], [0.0, 0, 0, 0], g, metric="mae") == {"a": 0.0, "b": 3.0}
    def plain_mae(y_true, y_pred):
        return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))

    assert by_group([0.0, 100, 2, 4], [0.0, 0, 0, 0], g, metric=plain_mae) == {"a": 0.0, "b": 3.0}
    empty = Groups.from_codes([0, 0], ["a", "b"])
    values = by_group([1.0, 2.0], [1.0, 1.0], empty, metric="mae")
    assert values["a"] == 0.5 and math.isnan(values["b"])


def test_third_party_metric_by_name_uses_the_loop():
    calls = []

    @registry.register("metrics", "max_error_test")
    def max_error_test(y_true, y_pred):
        calls.append(len(y_true))
        return float(np.max(np.abs(np.asarray(y_true) - np.asarray(y_pred))))

    try:
        out = by_group([1.0, 5, 2, 2], [1.0, 1, 2, 0], [0, 0, 1, 1], metric="max_error_test")
    finally:
        registry.unregister("metrics", "max_error_test")
    assert out == {"0": 4.0, "1": 2.0}
    assert sorted(calls) == [2, 2]


def test_metric_kwargs_reach_the_metric():
    yt, yp, g = [0, 1, 1, 0], [0, 1, 0, 0], ["a", "a", "b", "b"]
    assert by_group(yt, yp, g, metric_kwargs={"average": "binary"}, metric="recall") == {
        "a": 1.0, "b": 0.0}
    assert by_group(yt, yp, g, metric="recall") == {"a": 1.0, "b": 0.5}


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: by_group([1.0], [1.0], [0], metric="mea"), ValueError, "Did you mean .*'mae'"),
        (lambda: by_group([1.0, 2.0], [1.0, 2.0], [0], metric="mae"), ValueError, "groups=1"),
        (lambda: by_group([1.0], [1.0], [0], metric=3), TypeError, "metric name"),
        (lambda: by_group([0, 0], [0, 0], [0, 1], metric="true_positive_rate"), ValueError,
         "pos_label"),
        (lambda: by_group([1.0], [1.0], [0], metric=lambda a, b: [1, 2]), TypeError,
         "one number per group"),
        (lambda: by_group([0], [0], [0], metric_kwargs={"average": None}, metric="recall"),
         TypeError, "`average` must be one of"),
        (lambda: by_group("mae", [1.0], [1.0]), TypeError,
         r"`y_true` must be an array-like; got y_true='mae' \(str\).*metric='mae'"),
    ],
    ids=["unknown-name", "lengths", "not-callable", "pos-label-absent", "vector-metric",
         "per-class-recall", "metric-first-as-before-0.1"],
)
def test_by_group_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
