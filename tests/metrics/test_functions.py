"""Built-in metrics: agreement with scikit-learn, conversions, and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn import metrics as skm

from fairtrain import registry
from fairtrain.metrics import functions as F

BUILTINS = ["mae", "mse", "accuracy", "error_rate", "recall", "precision", "selection_rate",
            "true_positive_rate", "false_positive_rate"]


@pytest.mark.parametrize("name", BUILTINS)
def test_builtins_are_found_through_their_entry_points(name):
    func = registry.get("metrics", name)
    assert func is getattr(F, name)
    assert registry.available("metrics")[name] == "fairtrain"
    assert isinstance(func.greater_is_better, bool)
    assert func.kind in ("regression", "classification")


labels = st.lists(st.integers(0, 3), min_size=1, max_size=60)


@given(st.data())
def test_classification_metrics_agree_with_sklearn(data):
    n = data.draw(st.integers(1, 60))
    yt = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    yp = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    w = np.array(data.draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n)))
    assert F.accuracy(yt, yp, sample_weight=w) == pytest.approx(
        skm.accuracy_score(yt, yp, sample_weight=w))
    assert F.error_rate(yt, yp) == pytest.approx(1 - skm.accuracy_score(yt, yp))
    present = np.unique(yt)
    assert F.recall(yt, yp, sample_weight=w) == pytest.approx(
        skm.recall_score(yt, yp, labels=present, average="macro", sample_weight=w,
                         zero_division=0))
    predicted = np.unique(yp)
    assert F.precision(yt, yp) == pytest.approx(
        skm.precision_score(yt, yp, labels=predicted, average="macro", zero_division=0))
    if (yt == 1).any():
        assert F.true_positive_rate(yt, yp) == pytest.approx(
            skm.recall_score(yt == 1, yp == 1))
        assert F.recall(yt, yp, average="binary") == F.true_positive_rate(yt, yp)
    else:
        assert math.isnan(F.true_positive_rate(yt, yp))
    if (yt != 1).any():
        negatives = yt != 1
        assert F.false_positive_rate(yt, yp) == pytest.approx(np.mean(yp[negatives] == 1))
    assert F.selection_rate(yt, yp) == pytest.approx(np.mean(yp == 1))


@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1,
                max_size=50))
def test_regression_metrics_agree_with_sklearn(pairs):
    yt, yp = np.array(pairs).T
    assert F.mae(yt, yp) == pytest.approx(skm.mean_absolute_error(yt, yp), abs=1e-9)
    assert F.mse(yt, yp) == pytest.approx(skm.mean_squared_error(yt, yp), rel=1e-9, abs=1e-6)


def test_per_class_recall_and_precision_are_by_group_over_the_classes():
    # A metric returns one number (average=None, which returned a dict, is gone): the
    # per-class values are by_group over the true (recall) or predicted (precision)
    # classes, which scikit-learn's average=None gives for the classes it covers.
    from fairtrain.metrics import by_group

    yt, yp = np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 1, 1, 0, 3])
    per_true = by_group(yt, yp, yt, metric="accuracy")
    expected = skm.recall_score(yt, yp, labels=[0, 1, 2], average=None)
    assert [per_true[str(c)] for c in (0, 1, 2)] == pytest.approx(expected.tolist())
    per_pred = by_group(yt, yp, yp, metric="accuracy")
    expected = skm.precision_score(yt, yp, labels=[0, 1, 3], average=None, zero_division=0)
    assert [per_pred[str(c)] for c in (0, 1, 3)] == pytest.approx(expected.tolist())


@pytest.mark.parametrize("name", ["recall", "precision"])
def test_a_metric_returns_one_number_so_average_none_is_refused(name):
    with pytest.raises(TypeError, match=r"`average` must be one of .*got average=None.*by_group"):
        getattr(F, name)([0, 1], [0, 1], average=None)
    with pytest.raises(ValueError, match=r"`average` must be one of .*got average='samples'"):
        getattr(F, name)([0, 1], [0, 1], average="samples")


def test_scores_and_probabilities_are_read_as_labels():
    assert F.accuracy([0, 1, 2], np.eye(3)[[0, 1, 1]]) == pytest.approx(2 / 3)
    assert F.accuracy(np.eye(3)[[0, 1, 2]], [0, 1, 2]) == 1.0
    assert F.accuracy([0, 1, 1], [[0.2], [0.7], [0.4]]) == pytest.approx(2 / 3)
    assert F.mae([[1.0], [2.0]], [1.5, 2.5]) == 0.5
    assert F.accuracy(["a", "b"], ["a", "a"]) == 0.5
    assert F.true_positive_rate(["no", "yes"], ["yes", "yes"], pos_label="yes") == 1.0


def test_weights_of_zero_give_nan_not_zero():
    assert math.isnan(F.mae([1.0, 2.0], [2.0, 2.0], sample_weight=[0, 0]))
    assert math.isnan(F.false_positive_rate([1, 1], [1, 0]))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: F.mae([1, 2, 3], [1, 2]), ValueError, "y_true=3, y_pred=2"),
        (lambda: F.mae([1, np.nan], [1, 2]), ValueError, "NaN"),
        (lambda: F.mae([], []), ValueError, "empty"),
        (lambda: F.accuracy([0, 1], [0.2, 1.7]), ValueError, "outside"),
        (lambda: F.mae([1, 2], [1, 2], sample_weight=[1, -1]), ValueError, "non-negative"),
        (lambda: F.mae([1, 2], [1, 2], sample_weight=[1]), ValueError, "one weight"),
        (lambda: F.recall([0, 1], [0, 1], average="samples"), ValueError,
         r"`average` must be one of \"binary\", \"micro\", \"macro\", \"weighted\""),
        (lambda: F.accuracy(["a", "b"], [0, 1]), TypeError, "one kind"),
        (lambda: F.true_positive_rate(["a", "b"], ["a", "b"]), TypeError, "pos_label"),
        (lambda: F.accuracy([None, "a"], ["a", "a"]), ValueError, "missing"),
        (lambda: F.mae(["a"], ["b"]), TypeError, "numeric"),
    ],
    ids=["lengths", "nan", "empty", "not-probabilities", "negative-weight", "weight-length",
         "average", "mixed-labels", "pos-label-type", "none-label", "string-regression"],
)
def test_bad_inputs_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- scikit-learn's averaging
def _labelled(data, n_classes):
    n = data.draw(st.integers(1, 30))
    yt = np.array(data.draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)))
    yp = np.array(data.draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)))
    w = data.draw(st.none() | st.lists(st.integers(0, 3), min_size=n, max_size=n))
    assume(w is None or sum(w) > 0)  # scikit-learn refuses all-zero weights
    return yt, yp, None if w is None else np.array(w, dtype=float)


@pytest.mark.parametrize("zero_division", [0, 1, np.nan], ids=["zero", "one", "nan"])
@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
@pytest.mark.parametrize("name", ["recall", "precision"])
@given(data=st.data())
def test_recall_precision_averages_agree_with_sklearn(name, average, zero_division, data):
    yt, yp, w = _labelled(data, data.draw(st.integers(2, 4)))
    ours = getattr(F, name)(yt, yp, sample_weight=w, average=average,
                            zero_division=zero_division)
    sk = getattr(skm, f"{name}_score")
    labels = np.unique(np.concatenate([yt, yp]))
    theirs = sk(yt, yp, sample_weight=w, average=average, zero_division=zero_division,
                labels=labels)
    np.testing.assert_allclose(ours, theirs, equal_nan=True)


@pytest.mark.parametrize("zero_division", [0, 1, np.nan], ids=["zero", "one", "nan"])
@pytest.mark.parametrize("name", ["recall", "precision"])
@given(data=st.data())
def test_binary_average_agrees_with_sklearn(name, zero_division, data):
    yt, yp, w = _labelled(data, 2)
    ours = getattr(F, name)(yt, yp, sample_weight=w, average="binary", pos_label=1,
                            zero_division=zero_division)
    theirs = getattr(skm, f"{name}_score")(yt, yp, sample_weight=w, average="binary",
                                           pos_label=1, zero_division=zero_division)
    np.testing.assert_allclose(ours, theirs, equal_nan=True)


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "binary"])
@given(data=st.data())
def test_per_group_average_equals_the_metric_on_each_group(average, data):
    from fairtrain.metrics import by_group

    yt, yp, w = _labelled(data, 2 if average == "binary" else 3)
    assume(average != "binary" or (yt == 1).any() or (yp == 1).any())
    groups = np.array(data.draw(st.lists(st.sampled_from("ab"), min_size=yt.size,
                                         max_size=yt.size)))
    kwargs = {"average": average, "zero_division": 0}
    values = by_group(yt, yp, groups, sample_weight=w, metric_kwargs=kwargs, metric="recall")
    for g, v in values.items():
        m = groups == g
        expected = F.recall(yt[m], yp[m], sample_weight=None if w is None else w[m],
                            **kwargs) if m.any() else math.nan
        np.testing.assert_allclose(v, expected, equal_nan=True)


def test_default_average_is_macro_and_bad_options_are_refused():
    assert F.recall([0, 1, 2], [0, 1, 1]) == pytest.approx(2 / 3)  # class 2 recall 0
    with pytest.raises(ValueError, match='"binary", "micro", "macro", "weighted"'):
        F.recall([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division"):
        F.precision([0, 1], [0, 1], zero_division=2)
    with pytest.warns(RuntimeWarning, match="ill-defined"):
        assert F.recall([0, 0], [0, 1], zero_division="warn") == 0.25  # (1/2 + 0) / 2




def test_the_zero_division_warning_points_at_the_callers_line():
    import fairtrain as ft
    from fairtrain.metrics import bias_report

    groups = ft.Groups.from_columns({"g": ["a", "a", "b", "b"]})
    calls = [
        lambda: F.recall([0, 0], [0, 1], zero_division="warn"),
        lambda: F.precision([0, 1], [0, 0], zero_division="warn"),
        lambda: bias_report([0, 1, 1, 1], [2, 1, 1, 0], groups, metric="recall",
                            metric_kwargs={"zero_division": "warn"}, min_count=1),
    ]
    for call in calls:  # direct, and through bias_report's deeper stack
        with pytest.warns(RuntimeWarning, match="ill-defined") as caught:
            call()
        assert {w.filename for w in caught} == {__file__}
