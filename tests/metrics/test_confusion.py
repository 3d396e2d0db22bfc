"""confusion_by_group and normalize_confusion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import confusion_matrix

from fairtrain.metrics import GroupConfusion, confusion_by_group, normalize_confusion
from fairtrain.testing.strategies import groups as groups_strategy

matrices = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 3), st.integers(1, 5)).map(lambda s: (s[0], s[1], s[1])),
    elements=st.integers(0, 50).map(float),
)


@given(matrices)
def test_rows_sum_to_one_and_empty_rows_are_nan(cm):
    out = normalize_confusion(cm)
    totals = cm.sum(axis=-1)
    np.testing.assert_allclose(out.sum(axis=-1)[totals > 0], 1.0)
    assert np.isnan(out[totals == 0]).all()
    cols = normalize_confusion(cm, normalize="pred")
    np.testing.assert_allclose(cols.sum(axis=-2)[cm.sum(axis=-2) > 0], 1.0)
    total = normalize_confusion(cm, normalize="all")
    np.testing.assert_allclose(total.sum(axis=(-2, -1))[cm.sum(axis=(-2, -1)) > 0], 1.0)


@given(groups_strategy(max_groups=4, max_count=25), st.data())
def test_each_group_matches_sklearn_confusion_matrix(g, data):
    n = len(g)
    yt = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    yp = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    labels = [0, 1, 2, 3]
    cm = confusion_by_group(yt, yp, g, labels=labels)
    assert isinstance(cm, GroupConfusion) and cm.labels == (0, 1, 2, 3)
    for code, name in enumerate(g.names):
        rows = g.codes == code
        np.testing.assert_array_equal(
            cm[name], confusion_matrix(yt[rows], yp[rows], labels=labels)
        )
    np.testing.assert_array_equal(cm.overall, confusion_matrix(yt, yp, labels=labels))
    np.testing.assert_array_equal(cm.matrices.sum(axis=0), cm.overall)


def test_diagonal_of_row_normalised_matrix_is_per_class_recall():
    classes = ["African", "Asian", "Latin/Caucasian", "Indian"]
    yt = np.array(classes)[[0, 0, 1, 1, 2, 2, 2, 3]]
    yp = np.array(classes)[[0, 1, 1, 1, 2, 2, 0, 3]]
    cm = confusion_by_group(yt, yp, {"ethnicity": yt}, labels=classes)
    assert cm.labels == tuple(classes)  # the given order, not sorted
    diag = np.diagonal(normalize_confusion(cm.overall))
    np.testing.assert_allclose(diag, [0.5, 1.0, 2 / 3, 1.0])
    # each group's own class sits on its own row
    assert cm["Asian"][1].tolist() == [0, 2, 0, 0]


def test_weights_and_scores():
    cm = confusion_by_group([0, 1], [[0.9, 0.1], [0.8, 0.2]], [0, 0], sample_weight=[2.0, 0.5])
    assert cm.overall.tolist() == [[2.0, 0.0], [0.5, 0.0]]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: confusion_by_group([0, 5], [0, 1], [0, 0], labels=[0, 1]), r"not in `labels`"),
        (lambda: confusion_by_group([0, 1], [0, 1], [0, 0], labels=[0, 0]), "distinct"),
        (lambda: confusion_by_group([0, 1], [0], [0, 0]), "lengths"),
        (lambda: normalize_confusion([[1, 2]]), "square"),
        (lambda: normalize_confusion([[1, -2], [0, 1]]), "non-negative"),
        (lambda: normalize_confusion([[1]], normalize="row"),
         r'`normalize` must be one of "true", "pred", "all" or None; got normalize=.row.'),
        # an infinite count made its row nan (inf / inf) without a word
        (lambda: normalize_confusion([[np.inf, 1], [0, 1]]), "finite"),
    ],
    ids=["unknown-label", "repeated-label", "lengths", "not-square", "negative", "option",
         "infinite"],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("normalize", ["true", "pred", "all", None])
@given(st.data())
def test_normalize_matches_sklearn_confusion_matrix(normalize, data):
    n = data.draw(st.integers(1, 40))
    yt = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    yp = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    labels = [0, 1, 2, 3]
    raw = confusion_matrix(yt, yp, labels=labels)
    ours = normalize_confusion(raw, normalize=normalize)
    with np.errstate(all="ignore"):
        theirs = confusion_matrix(yt, yp, labels=labels, normalize=normalize)
    # a row (column) without examples: nan here, 0 in scikit-learn (documented)
    np.testing.assert_allclose(np.nan_to_num(ours, nan=0.0), theirs)


def test_names_older_than_scikit_learns_are_gone_before_0_1():
    cm = np.array([[3.0, 1.0], [0.0, 2.0]])
    for old in ("rows", "columns"):
        with pytest.raises(ValueError, match=r"`normalize` must be one of \"true\""):
            normalize_confusion(cm, normalize=old)


def test_overall_leaves_out_excluded_examples():
    import fairtrain as ft

    g = ft.Groups([0, 0, -1, 1], ["a", "b"])
    cm = confusion_by_group([0, 1, 1, 1], [0, 1, 0, 1], g, labels=[0, 1])
    assert cm.overall.tolist() == [[1.0, 0.0], [0.0, 2.0]]


def test_sensitive_features_is_groups():
    a = confusion_by_group([0, 1, 1], [0, 1, 0], ["x", "y", "y"])
    b = confusion_by_group([0, 1, 1], [0, 1, 0], sensitive_features=["x", "y", "y"])
    np.testing.assert_array_equal(a.matrices, b.matrices)
    with pytest.raises(TypeError, match="not both"):
        confusion_by_group([0], [0], [0], sensitive_features=[0])
