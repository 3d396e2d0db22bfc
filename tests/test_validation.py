"""fairtrain._validation: the one definition of each input check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain._validation import (
    as_sample_weight,
    check_int,
    check_lengths,
    check_positive,
    is_missing,
)
from fairtrain.groups import as_groups


@pytest.mark.parametrize("value", [True, 2.0, "3", None])
def test_check_int_refuses_non_integers(value):
    with pytest.raises(TypeError, match="`k` must be an integer"):
        check_int("k", value)


def test_check_int_minimum():
    assert check_int("k", np.int64(3), minimum=1) == 3
    with pytest.raises(ValueError, match="`k` must be at least 1; got k=0"):
        check_int("k", 0, minimum=1)


@pytest.mark.parametrize("value", [np.float32(1e-3), 2, np.int8(1), 0.5])
def test_check_positive_takes_any_real_number(value):
    assert check_positive("lr", value) == pytest.approx(float(value))
    assert type(check_positive("lr", value)) is float


@pytest.mark.parametrize(("value", "error"), [
    (0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
    (True, TypeError), ("1", TypeError), (None, TypeError)])
def test_check_positive_refuses(value, error):
    with pytest.raises(error, match="`lr` must be"):
        check_positive("lr", value)
    assert check_positive("x", 0, allow_zero=True) == 0.0


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=20))
def test_as_sample_weight_keeps_valid_weights(w):
    out = as_sample_weight(w, len(w))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.asarray(w, dtype=np.float64))
    assert as_sample_weight(w, len(w), dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(("w", "error", "match"), [
    ([1.0, -1.0], ValueError, "1 negative weight"),
    ([1.0, np.nan], ValueError, "NaN or infinite"),
    ([1.0], ValueError, r"shape \(2,\)"),
    ([[1.0, 1.0]], ValueError, r"shape \(2,\)"),
    (["a", "b"], TypeError, "numeric"),
])
def test_as_sample_weight_refuses(w, error, match):
    with pytest.raises(error, match=match):
        as_sample_weight(w, 2)
    assert as_sample_weight(None, 2) is None


def test_check_lengths():
    assert check_lengths(a=[1, 2], b=[3, 4], c=None) == 2
    with pytest.raises(ValueError, match="a=2, b=1"):
        check_lengths(a=[1, 2], b=[3])
    with pytest.raises(ValueError, match="empty"):
        check_lengths(a=[])


def test_is_missing():
    assert is_missing(np.array([1.0, np.nan])).tolist() == [False, True]
    assert is_missing(np.array(["a", None, float("nan")], dtype=object)).tolist() == [
        False, True, True]
    assert not is_missing(np.array([1, 2])).any()


def test_as_groups_one_rule():
    g = ft.Groups.from_columns({"g": ["a", "b"]})
    assert as_groups(g) is g
    assert as_groups(["a", "b"]).names == ("a", "b")
    assert as_groups({"x": [1, 2]}).attributes == ("x",)
    assert as_groups(ft.bins([15, 1], [0, 10, 20])).names == ("0-10", "10-20")
    assert as_groups(sensitive_features=["a", "b"]).names == ("a", "b")
    with pytest.raises(TypeError, match="not both"):
        as_groups(["a"], sensitive_features=["a"])
    with pytest.raises(TypeError, match="Pass the groups"):
        as_groups()
    with pytest.raises(ValueError, match="shape"):
        as_groups(np.zeros((2, 2)))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(), st.just(float("nan")), st.floats(allow_nan=False), st.text(max_size=3),
            st.integers(), st.just(np.float64("nan")), st.booleans(),
        ),
        max_size=30,
    )
)
def test_is_missing_on_objects_equals_the_per_value_rule(values):
    column = np.empty(len(values), dtype=object)
    column[:] = values
    expected = [v is None or (isinstance(v, float) and v != v) for v in values]
    np.testing.assert_array_equal(is_missing(column), np.asarray(expected, dtype=bool))


def test_is_missing_on_objects_whose_comparison_is_odd():
    class Odd:
        def __eq__(self, other):
            raise TypeError("no comparison")

        __hash__ = object.__hash__

    column = np.empty(3, dtype=object)
    column[:] = [Odd(), None, "a"]
    np.testing.assert_array_equal(is_missing(column), [False, True, False])


def _missing_kinds():
    pd = pytest.importorskip("pandas")
    return [
        pd.NA, pd.NaT, np.datetime64("NaT"), np.timedelta64("NaT"), np.float32("nan"),
        np.float16("nan"), float("nan"), None,
    ]


def test_every_kind_of_missing_value_is_missing():
    # np.float32 NaN, pandas NA / NaT and NumPy NaT were read as ordinary values:
    # pandas' NA raised "boolean value of NA is ambiguous", the others became a group
    values = _missing_kinds()
    column = np.empty(len(values) + 2, dtype=object)
    column[:] = [*values, "a", 1.5]
    assert is_missing(column).tolist() == [True] * len(values) + [False, False]
    dates = np.array(["2020-01-01", "NaT"], dtype="M8[D]")
    assert is_missing(dates).tolist() == [False, True]
    assert is_missing(dates - dates[0]).tolist() == [False, True]


@pytest.mark.parametrize("kind", range(8))
def test_groups_refuse_every_kind_of_missing_value_by_name(kind):
    import fairtrain as ft

    column = np.empty(3, dtype=object)
    column[:] = ["a", _missing_kinds()[kind], "b"]
    with pytest.raises(ValueError, match="missing value"):
        ft.Groups.from_columns({"g": column})


def test_groups_refuse_missing_values_of_pandas_and_numpy_dtypes():
    pd = pytest.importorskip("pandas")
    import fairtrain as ft

    for col in (
        pd.Series(["a", None, "b"], dtype="string"),
        pd.Series(pd.to_datetime(["2020-01-01", None])),
        np.array(["2020-01-01", "NaT"], dtype="M8[D]"),
    ):
        with pytest.raises(ValueError, match="missing value"):
            ft.Groups.from_columns({"g": col})
