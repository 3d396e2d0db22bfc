"""Tests of fairtrain.groups: Groups, bins and the tiny-cell policies."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain.testing import group_columns


def _row_name(columns, i):
    if len(columns) == 1:
        return str(next(iter(columns.values()))[i])
    return "|".join(f"{a}={v[i]}" for a, v in columns.items())


# ---------------------------------------------------------------- properties
@given(group_columns())
def test_codes_round_trip_to_names(columns):
    g = ft.Groups.from_columns(columns)
    names = np.asarray(g.names, dtype=object)[g.codes]
    expected = [_row_name(columns, i) for i in range(len(g))]
    assert names.tolist() == expected


@given(group_columns())
def test_counts_sum_to_n_and_match_codes(columns):
    g = ft.Groups.from_columns(columns)
    assert g.counts.sum() == len(g) == len(next(iter(columns.values())))
    assert g.counts.tolist() == [int(np.sum(g.codes == k)) for k in range(g.n_groups)]
    assert np.all(g.counts > 0)  # cells are the observed combinations only
    assert np.isclose(g.shares.sum(), 1.0)


@given(group_columns())
def test_intersection_refines_each_attribute(columns):
    g = ft.Groups.from_columns(columns)
    for j, attribute in enumerate(g.attributes):
        marginal = g.attribute(attribute)
        # every cell lies inside one level of the attribute, and cell_levels says which
        for cell in range(g.n_groups):
            levels = np.unique(marginal.codes[g.codes == cell])
            assert levels.tolist() == [g.cell_levels[cell, j]]
        assert marginal.names == tuple(sorted(set(map(str, columns[attribute]))))


@given(group_columns(), st.randoms(use_true_random=False))
def test_permuting_rows_permutes_codes_only(columns, rnd):
    g = ft.Groups.from_columns(columns)
    perm = np.arange(len(g))
    rnd.shuffle(perm)
    h = ft.Groups.from_columns({a: np.asarray(v)[perm] for a, v in columns.items()})
    assert h.names == g.names
    assert h.levels == g.levels
    np.testing.assert_array_equal(h.codes, g.codes[perm])
    np.testing.assert_array_equal(h.counts, g.counts)
    np.testing.assert_array_equal(h.attribute_codes, g.attribute_codes[perm])


@given(group_columns(max_rows=60), st.integers(min_value=2, max_value=12))
def test_drop_policy_reports_exactly_what_it_dropped(columns, min_count):
    plain = ft.Groups.from_columns(columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = ft.Groups.from_columns(columns, min_count=min_count, policy="drop")
    tiny = {n: int(c) for n, c in zip(plain.names, plain.counts) if c < min_count}
    dropped = {a.cell: a.count for a in g.report}
    assert all(a.action == "drop" for a in g.report)
    assert dropped == tiny
    assert int(np.sum(g.codes < 0)) == sum(tiny.values())
    assert set(g.names) == set(plain.names) - set(tiny)
    assert np.all(g.counts >= min_count)
    assert bool(caught) == bool(tiny)
    # kept rows keep their cell
    kept = g.codes >= 0
    kept_names = np.asarray(g.names, dtype=object)[g.codes[kept]]
    before = np.asarray(plain.names, dtype=object)[plain.codes[kept]]
    np.testing.assert_array_equal(kept_names, before)


@given(group_columns(max_rows=60), st.integers(min_value=2, max_value=12))
def test_merge_policy_reports_exactly_what_it_merged(columns, min_count):
    plain = ft.Groups.from_columns(columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ft.GroupPolicyWarning)
        g = ft.Groups.from_columns(columns, min_count=min_count, policy="merge")
    assert np.all(g.codes >= 0)  # merging keeps every example
    old = np.asarray(plain.names, dtype=object)[plain.codes]
    new = np.asarray(g.names, dtype=object)[g.codes]
    changed = old != new
    # every changed row belongs to a cell the report names, and the final cell of every
    # reported merge chain is where those rows ended up
    merges = {}
    for a in g.report:
        if a.action == "merge":
            merges.setdefault(a.cell, a.into)
    for o, n in zip(old[changed], new[changed]):
        end = o
        while end in merges:
            end = merges[end]
        assert end == n
    original_tiny = {n for n, c in zip(plain.names, plain.counts) if c < min_count}
    assert {o for o in old[changed]} == {c for c in original_tiny if c in merges and merges[c] != c}
    still_tiny = {a.cell for a in g.report if a.action == "below_min_count"}
    assert {n for n, c in zip(g.names, g.counts) if c < min_count} == still_tiny
    # the attribute view is untouched by merging
    for attribute in g.attributes:
        np.testing.assert_array_equal(
            g.attribute(attribute).codes, plain.attribute(attribute).codes
        )


@given(group_columns())
def test_take_keeps_names_and_restricts_rows(columns):
    g = ft.Groups.from_columns(columns)
    idx = np.arange(0, len(g), 2)
    part = g.take(idx)
    assert part.names == g.names
    np.testing.assert_array_equal(part.codes, g.codes[idx])
    assert part.counts.sum() == idx.size


@given(st.lists(st.integers(0, 4), min_size=1, max_size=60))
def test_members_partition_the_included_rows(codes):
    g = ft.Groups.from_codes(np.array(codes), [f"g{i}" for i in range(5)])
    members = g.members()
    assert len(members) == 5
    for k, m in enumerate(members):
        assert m.tolist() == [i for i, c in enumerate(codes) if c == k]


# ---------------------------------------------------------------- examples
def test_levels_fix_the_order():
    eth = ["Asian", "African", "Indian", "Latin/Caucasian", "Asian"]
    order = ["African", "Asian", "Latin/Caucasian", "Indian"]
    g = ft.Groups.from_columns({"ethnicity": eth}, levels={"ethnicity": order})
    assert g.names == tuple(order)
    assert g.codes.tolist() == [1, 0, 3, 2, 1]


def test_bins_keep_numeric_order_in_groups():
    age = ft.bins([5, 70, 25, 45, 120, 0], [0, 20, 40, 60, 120])
    g = ft.Groups.from_columns({"age": age, "gender": ["m", "f", "m", "f", "m", "f"]})
    assert g.levels["age"] == ("0-20", "20-40", "40-60", "60-120")
    assert g.attribute("age").codes.tolist() == [0, 3, 1, 2, 3, 0]
    assert np.asarray(age).tolist() == ["0-20", "60-120", "20-40", "40-60", "60-120", "0-20"]


def test_bins_custom_labels():
    age = ft.bins([1, 50], [0, 18, 100], labels=["minor", "adult"])
    assert age.labels == ("minor", "adult")
    assert age.codes.tolist() == [0, 1]


def test_from_dataframe():
    pd = pytest.importorskip("pandas")
    eth = pd.Categorical(["b", "a", "b"], categories=["b", "a"])
    df = pd.DataFrame({"gender": ["f", "m", "f"], "eth": eth})
    g = ft.Groups.from_columns(df)
    assert g.attributes == ("gender", "eth")
    assert g.levels["eth"] == ("b", "a")
    assert g.names == ("gender=f|eth=b", "gender=m|eth=a")


def test_single_example_group_and_repr():
    g = ft.Groups.from_codes([0, 0, 1], ["many", "one"])
    assert g.counts.tolist() == [2, 1]
    assert "one" in repr(g) and "33.33%" in repr(g)


def test_codes_are_read_only():
    g = ft.Groups.from_codes([0, 1])
    with pytest.raises(ValueError):
        g.codes[0] = 1


def test_groups_does_not_alias_or_freeze_the_callers_arrays():
    # review 4: Groups(...) kept a caller's int32 attribute_codes view as its own (a
    # later write to the caller's array changed the groups and their attribute views)
    # and made the caller's cell_levels array read-only
    big = np.array([[0, 0, 9], [1, 1, 9], [1, 0, 9]], dtype=np.int32)
    attribute_codes = big[:, :2]
    cell_levels = np.array([[0, 0], [1, 1], [1, 0]], dtype=np.int32)
    codes = np.array([0, 1, 2], dtype=np.int32)
    g = ft.Groups(codes, ["a", "b", "c"], attributes=("x", "y"),
                  levels={"x": ["p", "q"], "y": ["r", "s"]},
                  attribute_codes=attribute_codes, cell_levels=cell_levels)
    assert cell_levels.flags.writeable and codes.flags.writeable
    big[0, 0] = 1  # the caller reuses its arrays
    cell_levels[0, 0] = 1
    codes[0] = 2
    assert g.attribute_codes[0].tolist() == [0, 0]
    assert g.cell_levels[0].tolist() == [0, 0]
    assert g.codes.tolist() == [0, 1, 2]
    assert g.attribute("x").codes.tolist() == [0, 1, 1]  # built from the columns above
    assert not g.attribute_codes.flags.writeable and not g.cell_levels.flags.writeable


def test_groups_config_round_trips_when_every_cell_was_dropped():
    # review 4: from_config(get_config()) raised "cannot reshape array of size 0" for
    # groups whose drop policy left no cell
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ft.GroupPolicyWarning)
        g = ft.Groups.from_columns({"a": ["x", "y", "y"], "b": ["p", "q", "q"]},
                                   min_count=3, policy="drop")
    assert g.n_groups == 0 and g.codes.tolist() == [-1, -1, -1]
    again = ft.Groups.from_config(json.loads(json.dumps(g.get_config())))
    assert again.names == g.names and again.attributes == g.attributes
    assert again.levels == g.levels and again.report == g.report
    assert again.codes.tolist() == g.codes.tolist()
    np.testing.assert_array_equal(again.attribute_codes, g.attribute_codes)
    assert again.cell_levels.shape == g.cell_levels.shape == (0, 2)
    with warnings.catch_warnings():  # one attribute too
        warnings.simplefilter("ignore", ft.GroupPolicyWarning)
        one = ft.Groups.from_columns({"a": ["x", "y", "y"]}, min_count=3, policy="drop")
    again = ft.Groups.from_config(json.loads(json.dumps(one.get_config())))
    assert again.codes.tolist() == [-1, -1, -1] and again.cell_levels.shape == (0, 1)


def test_merge_example_climbs_attributes_until_big_enough():
    cols = {"eth": ["a"] * 5 + ["b"] * 5 + ["c"],
            "gender": ["f"] * 4 + ["m"] + ["f"] * 5 + ["m"]}
    with pytest.warns(ft.GroupPolicyWarning, match="merged"):
        g = ft.Groups.from_columns(cols, min_count=2)
    # a|m and c|m (1 each) become a|other and c|other, still tiny, then other|other (2)
    assert g.names == ("eth=a|gender=f", "eth=b|gender=f", "eth=other|gender=other")
    assert g.counts.tolist() == [4, 5, 2]
    assert [str(a) for a in g.report] == [
        "merged 'eth=a|gender=m' (1 examples) into 'eth=a|gender=other'",
        "merged 'eth=c|gender=m' (1 examples) into 'eth=c|gender=other'",
        "merged 'eth=a|gender=other' (1 examples) into 'eth=other|gender=other'",
        "merged 'eth=c|gender=other' (1 examples) into 'eth=other|gender=other'",
    ]
    assert g.cell_levels.tolist() == [[0, 0], [1, 0], [-1, -1]]
    assert g.attribute("eth").counts.tolist() == [5, 5, 1]


def test_merge_that_stays_tiny_is_reported():
    with pytest.warns(ft.GroupPolicyWarning, match="still below"):
        g = ft.Groups.from_columns({"eth": ["a"] * 3 + ["b"]}, min_count=2)
    assert g.names == ("a", "other")
    assert [a.action for a in g.report] == ["merge", "below_min_count"]


def test_error_policy_names_the_tiny_cells():
    with pytest.raises(ValueError, match=r"eth=a\|gender=m \(1\)"):
        ft.Groups.from_columns({"eth": ["a", "a", "a"], "gender": ["f", "f", "m"]},
                               min_count=2, policy="error")


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("columns", "match"),
    [
        pytest.param({"a": [1, 2], "b": [1]}, "same length", id="lengths-differ"),
        pytest.param({"a": [1.0, float("nan")]}, "missing value", id="nan"),
        pytest.param({"a": ["x", None]}, "missing value", id="none"),
        pytest.param({"a": []}, "empty", id="empty-column"),
        pytest.param({}, "empty", id="no-columns"),
    ],
)
def test_bad_columns(columns, match):
    with pytest.raises(ValueError, match=match):
        ft.Groups.from_columns(columns)


def test_unknown_level_value():
    with pytest.raises(ValueError, match=r"not among its levels.*'z'"):
        ft.Groups.from_columns({"a": ["x", "z"]}, levels={"a": ["x", "y"]})


@pytest.mark.parametrize(
    ("values", "edges", "match"),
    [
        pytest.param([1, 200], [0, 100], "outside the bins", id="outside"),
        pytest.param([1, float("nan")], [0, 100], "NaN", id="nan"),
        pytest.param([1], [0, 0, 1], "strictly increasing", id="edges"),
        pytest.param([], [0, 1], "empty", id="empty"),
    ],
)
def test_bad_bins(values, edges, match):
    with pytest.raises(ValueError, match=match):
        ft.bins(values, edges)


def test_bad_codes():
    with pytest.raises(ValueError, match="non-negative"):
        ft.Groups.from_codes([0, -2])
    with pytest.raises(TypeError, match="integers"):
        ft.Groups.from_codes([0.5, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        ft.Groups([0, 2], ["a", "b"])
    with pytest.raises(ValueError, match="Unknown attribute"):
        ft.Groups.from_codes([0]).attribute("age")
    with pytest.raises(ValueError, match="policy"):
        ft.Groups.from_columns({"a": [1]}, policy="squash")


@given(
    st.lists(st.text(max_size=3), min_size=1, max_size=40)
    | st.lists(st.integers(-5, 5), min_size=1, max_size=40),
    st.integers(min_value=1, max_value=400),
)
def test_factorize_equals_numpy_unique(values, repeat):
    from fairtrain.groups import _factorize

    # repeated to beyond the sample size, so values the sample skips take the fallback
    arr = np.tile(np.array(values), repeat)
    uniques, inverse = _factorize(arr)
    expected_uniques, expected_inverse = np.unique(arr, return_inverse=True)
    np.testing.assert_array_equal(uniques, expected_uniques)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))


def test_factorize_finds_values_the_sample_skipped():
    from fairtrain.groups import _factorize

    arr = np.array(["common"] * 20_000, dtype=object)
    arr[12_345] = "rare"  # not on the sampling stride
    uniques, inverse = _factorize(arr.astype(str))
    assert uniques.tolist() == ["common", "rare"]
    assert np.flatnonzero(inverse == 1).tolist() == [12_345]


# ---------------------------------------------------------------- core hardening (issue 9)
def test_binned_column_straight_to_a_metric_keeps_bin_order():
    from fairtrain.metrics import bias_report, by_group

    age = ft.bins([3, 7, 15, 30, 12, 4], [0, 5, 10, 20, 40])
    values = by_group([1.0] * 6, [1.0] * 6, age, metric="mae")
    assert list(values) == ["0-5", "5-10", "10-20", "20-40"]
    report = bias_report([1.0] * 6, [1.0] * 6, age, metric="mae", min_count=1)
    assert report["group"].groups == ("0-5", "5-10", "10-20", "20-40")


def test_groups_with_attributes_but_no_levels_is_a_clear_error():
    with pytest.raises(ValueError, match="`levels` must give the levels of every attribute"):
        ft.Groups([0, 1], ["a", "b"], attributes=("x", "y"))
    with pytest.raises(ValueError, match=r"missing \['y'\]"):
        ft.Groups([0, 1], ["a", "b"], attributes=("x", "y"), levels={"x": ["a", "b"]})
    with pytest.raises(ValueError, match="attribute_codes"):
        ft.Groups([0, 1], ["a", "b"], attributes=("x", "y"),
                  levels={"x": ["a"], "y": ["b"]})


def test_attribute_view_is_cached_and_shares_memory():
    g = ft.Groups.from_columns({"a": ["x", "y", "x", "z"], "b": [0, 1, 1, 0]})
    view = g.attribute("a")
    assert g.attribute("a") is view
    assert np.shares_memory(view.codes, g.attribute_codes)
    assert view._counts is None  # nothing counted until asked
    assert view.counts.tolist() == [2, 1, 1]
    assert view.names == ("x", "y", "z")
    assert not view.codes.flags.writeable


@given(st.data())
def test_by_attribute_equals_from_columns_of_that_attribute(data):
    n = data.draw(st.integers(1, 30))
    a = data.draw(st.lists(st.sampled_from("xyz"), min_size=n, max_size=n))
    b = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    g = ft.Groups.from_columns({"a": a, "b": b})
    for name, column in {"a": a, "b": b}.items():
        alone = ft.Groups.from_columns({name: column})
        view = g.by_attribute()[name]
        assert view.names == alone.names
        assert view.codes.tolist() == alone.codes.tolist()
        assert view.counts.tolist() == alone.counts.tolist()


def test_other_label_is_kept_by_take():
    import warnings

    cols = {"a": ["x"] * 6 + ["y"], "b": ["c"] * 5 + ["d", "d"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = ft.Groups.from_columns(cols, min_count=2, policy="merge", other="rest")
    assert g.other == "rest"
    assert g.take([0, 6]).other == "rest"
    assert ft.Groups.from_codes([0, 1], ["p", "q"]).other == "other"


def test_a_bare_pandas_categorical_keeps_its_category_order_like_a_series():
    pd = pytest.importorskip("pandas")
    from fairtrain.groups import as_groups

    cat = pd.Categorical(["lo", "hi", "mid", "lo"], categories=["lo", "mid", "hi"])
    expected = ("lo", "mid", "hi")
    assert ft.Groups.from_columns({"g": pd.Series(cat)}).names == expected
    assert ft.Groups.from_columns({"g": cat}).names == expected
    assert ft.Groups.from_columns({"g": pd.CategoricalIndex(cat)}).names == expected
    assert as_groups(cat).names == expected
    assert as_groups(cat).codes.tolist() == [0, 2, 1, 0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        # one attribute whose levels do not cover the cells
        ({"codes": [0, 1, 2], "names": ["a", "b", "c"], "levels": {"group": ["x"]}},
         "attribute_codes"),
        # an attribute code beyond that attribute's levels
        ({"codes": [0, 1], "names": ["a|1", "b|1"], "attributes": ["a", "b"],
          "levels": {"a": ["a", "b"], "b": ["1"]},
          "attribute_codes": [[0, 0], [1, 5]], "cell_levels": [[0, 0], [1, 0]]},
         "attribute_codes"),
        # a cell level beyond that attribute's levels
        ({"codes": [0, 1], "names": ["a|1", "b|1"], "attributes": ["a", "b"],
          "levels": {"a": ["a", "b"], "b": ["1"]},
          "attribute_codes": [[0, 0], [1, 0]], "cell_levels": [[0, 0], [1, 3]]},
         "cell_levels"),
    ],
)
def test_level_codes_outside_the_levels_are_refused(kwargs, match):
    # before, the attribute view silently had more counts than names
    kwargs = dict(kwargs)
    codes, names = kwargs.pop("codes"), kwargs.pop("names")
    with pytest.raises(ValueError, match=match):
        ft.Groups(codes, names, **kwargs)


@pytest.mark.parametrize(
    "config, cell_levels",
    [
        ({"codes": [0, 1, 1, 0], "names": ["f", "m"], "attributes": ["sex"],
          "levels": {"sex": ["f", "m"]}, "cell_levels": [0, 1]},
         [[0], [1]]),
        ({"codes": [0, 1, 2], "names": ["a=x|b=1", "a=x|b=2", "a=y|b=1"],
          "attributes": ["a", "b"], "levels": {"a": ["x", "y"], "b": ["1", "2"]},
          "cell_levels": [0, 0, 0, 1, 1, 0]},
         [[0, 0], [0, 1], [1, 0]]),
    ],
)
def test_from_config_reads_a_flat_cell_levels_list_row_by_row(config, cell_levels):
    groups = ft.Groups.from_config(config)
    assert groups.cell_levels.tolist() == cell_levels
    assert groups.attribute_codes.tolist() == np.asarray(cell_levels)[config["codes"]].tolist()


def test_from_config_names_cell_levels_when_its_shape_does_not_fit():
    config = {"codes": [0, 1], "names": ["f", "m"], "attributes": ["sex"],
              "levels": {"sex": ["f", "m"]}, "cell_levels": [[0, 1, 0]]}
    with pytest.raises(ValueError, match=r"`cell_levels` must be 2 rows of 1 level codes"):
        ft.Groups.from_config(config)


def test_from_columns_builds_a_subclass_through_its_init_as_from_codes_does():
    class Tagged(ft.Groups):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.tag = "built"

    assert Tagged.from_codes([0, 1]).tag == "built"
    groups = Tagged.from_columns({"sex": ["f", "m", "m"], "age": [1, 2, 2]})
    assert isinstance(groups, Tagged) and groups.tag == "built"
    plain = ft.Groups.from_columns({"sex": ["f", "m", "m"], "age": [1, 2, 2]})
    assert groups.get_config() == plain.get_config()
