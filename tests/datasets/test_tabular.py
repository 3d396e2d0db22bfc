from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fairtrain.datasets import TabularDataset, split


def _dataset(features, *, numeric=None, label=None, **kwargs):
    features = np.asarray(features, dtype=np.float32)
    n, d = features.shape
    return TabularDataset(
        features=features, feature_names=[f"f{j}" for j in range(d)],
        label=np.zeros(n, int) if label is None else label,
        columns=kwargs.pop("columns", {"row": np.arange(n)}),
        numeric=np.ones(d, bool) if numeric is None else numeric, **kwargs)


_matrices = hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1,
                                                     max_side=12),
                       elements=st.integers(-1000, 1000).map(float))


@settings(max_examples=40)  # each example fits a StandardScaler
@given(train=_matrices, data=st.data())
def test_standardize_agrees_with_standard_scaler(train, data):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    d = train.shape[1]
    test = data.draw(hnp.arrays(np.float32, (data.draw(st.integers(1, 5)), d),
                                elements=st.integers(-1000, 1000).map(float)))
    numeric = np.asarray(data.draw(st.lists(st.booleans(), min_size=d, max_size=d)))
    reference = _dataset(train, numeric=numeric)
    got = _dataset(test, numeric=numeric).standardize(reference=reference).features
    expected = test.astype(np.float64)
    if numeric.any():  # StandardScaler refuses zero columns; with none, nothing changes
        scaler = preprocessing.StandardScaler().fit(train[:, numeric].astype(np.float64))
        expected[:, numeric] = scaler.transform(expected[:, numeric])
    np.testing.assert_allclose(got, expected.astype(np.float32), rtol=1e-6, atol=1e-6)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(reference.features, train)  # the reference is unchanged


def test_standardize_errors():
    ds = _dataset([[1.0, 2.0]])
    with pytest.raises(ValueError, match="other feature columns"):
        ds.standardize(reference=_dataset([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="no rows"):
        ds.standardize(reference=ds.take([]))


def test_take_slices_every_row_field_and_keeps_the_rest():
    ds = _dataset(np.arange(12).reshape(4, 3), label=[0, 1, 1, 0],
                  columns={"g": ["a", "b", "a", "b"]}, attributes=["g"],
                  levels={"g": ["b", "a"]}, name="t")
    part = ds.take(np.array([False, True, True, False]))
    assert part.features.tolist() == [[3, 4, 5], [6, 7, 8]]
    assert (part.label.tolist(), part.columns["g"].tolist()) == ([1, 1], ["b", "a"])
    assert (part.feature_names, part.attributes, part.levels, part.name) == (
        ds.feature_names, ("g",), {"g": ["b", "a"]}, "t")
    assert ds.take(slice(1, 2)).label.tolist() == [1]
    assert ds.groups("g").names == ("b", "a")
    assert repr(ds) == "TabularDataset(name='t', n=4, features=3, attributes=['g'], rejected=0)"


def test_split_stratifies_a_table_by_its_label():
    label = np.array([0] * 10 + [1] * 10)
    ds = _dataset(np.arange(20).reshape(20, 1), label=label, columns={"y": label})
    train, val, test = split(ds, test_size=0.3, val_size=0.2, stratify="y", seed=1)
    assert [np.bincount(p.label, minlength=2).tolist() for p in (train, val, test)] == [
        [5, 5], [2, 2], [3, 3]]
    rows = np.concatenate([p.features[:, 0] for p in (train, val, test)])
    assert sorted(rows.tolist()) == list(range(20))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"features": [1.0, 2.0]}, "2-D"),
    ({"feature_names": ["a", "a"]}, "name each of the 2"),
    ({"feature_names": ["a"]}, "name each of the 2"),
    ({"label": [0, 2]}, "each 0 or 1"),
    ({"label": [0]}, "n=2"),
    ({"numeric": [1, 0]}, "2 bools"),
    ({"columns": {"g": ["a"]}}, r"needs \(2,\)"),
    ({"attributes": ["sex"]}, "'sex' is not a column"),
    ({"levels": {"g": ["a"]}}, r"not among its levels \['a'\]: \['b'\]"),
])
def test_bad_fields_are_errors(kwargs, match):
    fields = dict(features=[[0.0, 1.0], [1.0, 0.0]], feature_names=["x", "y"], label=[0, 1],
                  columns={"g": ["a", "b"]}) | kwargs
    with pytest.raises(ValueError, match=match):
        TabularDataset(**fields)


@pytest.mark.parametrize("index", [[0.7, 2.9], [9], [True, False]],
                         ids=["floats", "out-of-range", "short-mask"])
def test_take_refuses_what_face_datasets_refuse(index):
    # the float truncation issue 19 fixed in FaceDataset.take stood again here:
    # take([0.7, 2.9]) returned rows 0 and 2 without a word
    ds = _dataset(np.arange(12).reshape(4, 3), label=[0, 1, 1, 0])
    with pytest.raises((TypeError, IndexError), match="index"):
        ds.take(index)
