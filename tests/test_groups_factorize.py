"""Groups.from_columns factorisation: every fast path equals np.unique."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairtrain.groups import _DENSE_RANGE, _FEW_LEVELS, _factorize

pools = st.one_of(
    st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=40),  # sparse integers
    st.lists(st.integers(-3, 30), min_size=1, max_size=40),  # dense integers
    st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=40),
    st.lists(st.text(max_size=4), min_size=1, max_size=40),
)


@settings(max_examples=80, deadline=None)
@given(
    pools,
    st.integers(1, 30),  # distinct levels drawn from the pool
    st.integers(1, 12_000),  # rows: beyond 4,096 the levels come from a sample
    st.sampled_from(["int64", "int32", "uint16", "native"]),
    st.integers(0, 2**32 - 1),
)
def test_factorize_equals_numpy_unique_on_every_path(pool, k, n, dtype, seed):
    rng = np.random.default_rng(seed)
    levels = np.array(pool[:k])
    if levels.dtype.kind == "i" and dtype != "native":
        if dtype == "uint16":
            levels = np.abs(levels) % 60_000
        levels = levels.astype(dtype)
    # skewed frequencies, so that rare values are often missed by the sample
    p = rng.dirichlet(np.full(levels.size, 0.3))
    arr = levels[rng.choice(levels.size, size=n, p=p)]
    uniques, inverse = _factorize(arr)
    expected_uniques, expected_inverse = np.unique(arr, return_inverse=True)
    assert uniques.dtype == expected_uniques.dtype
    np.testing.assert_array_equal(uniques, expected_uniques)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))


@pytest.mark.parametrize(
    "arr",
    [
        np.array([5, _DENSE_RANGE + 5] * 3000),  # just outside the counting range
        np.array([-7, 0, 3] * 3000, dtype=np.int8),
        np.array([f"v{i}" for i in range(_FEW_LEVELS + 1)] * 500),  # binary-search path
        np.array([0.0, -0.0, 1.5] * 3000),  # signed zeros are one value, as in np.unique
        np.array(["b", "a", "c"] * 3000 + ["rare"], dtype=object),  # pandas' object columns
    ],
)
def test_factorize_boundaries(arr):
    uniques, inverse = _factorize(arr)
    expected_uniques, expected_inverse = np.unique(arr, return_inverse=True)
    np.testing.assert_array_equal(uniques, expected_uniques)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=4),  # radix of each attribute
    st.integers(1, 300),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 1.0),
)
def test_cell_keys_equal_the_matmul_they_replace(radix, n, seed, p_included):
    from fairtrain.groups import _cell_keys

    rng = np.random.default_rng(seed)
    radix = np.asarray(radix, dtype=np.int64)
    digits = rng.integers(0, radix, size=(n, radix.size)).astype(np.int64)
    weights = np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1]]).astype(np.int64)
    included = rng.random(n) < p_included
    np.testing.assert_array_equal(
        _cell_keys(digits, weights, included), digits[included] @ weights
    )
    np.testing.assert_array_equal(
        _cell_keys(digits, weights, np.ones(n, bool)), digits @ weights
    )


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["uint64", "int64", "uint32", "int8", "uint8"]),
    st.integers(0, 2**32 - 1),
    st.integers(1, 40),
    st.integers(0, 8),
)
def test_factorize_dense_path_at_the_ends_of_every_integer_dtype(dtype, seed, n, span):
    # a dense range at the very top (or bottom) of the dtype: the counting path must
    # not overflow where np.unique does not (uint64 above the int64 range crashed)
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    top = rng.integers(0, 2) == 1
    base = int(info.max) - span if top else int(info.min)
    arr = np.array([base + int(v) for v in rng.integers(0, span + 1, size=n)], dtype=dtype)
    uniques, inverse = _factorize(arr)
    expected_uniques, expected_inverse = np.unique(arr, return_inverse=True)
    assert uniques.dtype == expected_uniques.dtype
    np.testing.assert_array_equal(uniques, expected_uniques)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))


def test_from_columns_takes_uint64_ids_above_the_int64_range():
    from fairtrain import Groups

    ids = np.array([2**64 - 1, 2**64 - 2, 2**64 - 1], dtype=np.uint64)
    g = Groups.from_columns({"site": ids})
    assert g.names == (str(2**64 - 2), str(2**64 - 1))
    assert g.codes.tolist() == [1, 0, 1]


# ------------------------------------------------- pandas columns: the fast paths
# A pandas string, object or categorical column is factorised by pandas (or arrow)
# instead of being turned into one Python object a row; the result must be exactly
# what the general path gives the same values as a NumPy object array.
pd = pytest.importorskip("pandas")

MISSING = [None, float("nan"), np.float32("nan"), pd.NA, pd.NaT, np.datetime64("NaT")]
STRING_DTYPES = ["object", "string[python]", "str"]
NULLABLE = ["Int64", "Float64", "boolean"]
try:
    import pyarrow  # noqa: F401

    STRING_DTYPES.append("string[pyarrow]")
except ImportError:  # pragma: no cover - pyarrow is optional
    pass

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=5
)  # unicode, "" included; no lone surrogates (arrow stores UTF-8)


def _outcome(fn):
    """``("ok", groups fields)`` or ``("error", type, message)``: what a call gave."""
    try:
        g = fn()
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome compared
        return ("error", type(exc), str(exc))
    return (
        "ok",
        g.codes.tolist(),
        g.names,
        g.levels,
        g.attribute_codes.tolist(),
        g.cell_levels.tolist(),
        g.counts.tolist(),
        tuple(map(str, g.report)),
    )


@st.composite
def pandas_columns(draw):
    """Two or three columns of one of pandas' string dtypes, missing values sometimes."""
    n = draw(st.integers(0, 60))
    columns, reference, levels = {}, {}, {}
    for j in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(STRING_DTYPES + ["category", "mixed"] + NULLABLE))
        # object columns may hold any str, lone surrogates too (not UTF-8)
        surrogates = st.text(st.characters(whitelist_categories=("Cs",)), min_size=1,
                             max_size=2)
        alphabet = st.one_of(texts, surrogates) if kind in ("object", "mixed") else texts
        pool = draw(st.lists(alphabet, min_size=1, max_size=6, unique=True))
        if kind in NULLABLE:  # pandas' nullable dtypes: the general path, as before
            pool = draw(st.lists(st.integers(0, 4), min_size=1, max_size=4, unique=True))
            pool = [v % 2 == 0 for v in pool] if kind == "boolean" else pool
            pool = [v / 2 for v in pool] if kind == "Float64" else pool
        if kind == "mixed":  # object columns: str and other objects (np.unique refuses)
            pool = pool + draw(
                st.lists(st.one_of(st.integers(-3, 3), st.floats(allow_nan=False)),
                         max_size=2)
            )
        values = [pool[i] for i in draw(st.lists(st.integers(0, len(pool) - 1),
                                                 min_size=n, max_size=n))]
        if n and draw(st.integers(0, 4)) == 0:
            values[draw(st.integers(0, n - 1))] = draw(st.sampled_from(MISSING))
        name = f"a{j}"
        if kind == "category":
            if draw(st.booleans()):  # numeric categories
                pool = draw(st.lists(st.integers(-5, 5), min_size=1, max_size=6, unique=True))
                values = [pool[i % len(pool)] for i in range(n)]
            cats = draw(st.permutations(pool))
            values = [v if any(v is c for c in cats) else None for v in values]
            column = pd.Series(pd.Categorical(values, categories=cats))
            levels[name] = list(cats)  # the general path reads the category order so
        elif kind == "mixed":
            column = pd.Series(values, dtype=object)
        else:
            try:
                column = pd.Series(values, dtype=kind)
            except (TypeError, ValueError):  # a missing kind the dtype refuses
                column = pd.Series([v for v in values if isinstance(v, str)], dtype=kind)
        reference[name] = np.asarray(column, dtype=object)
        # a Series, an Index or a bare pandas array: each is a pandas column
        columns[name] = draw(st.sampled_from([column, pd.Index(column), column.array]))
    if draw(st.booleans()):  # fixed levels: a value outside them is an error
        for name, ref in reference.items():
            if name not in levels and draw(st.booleans()):
                present = sorted({v for v in ref.tolist() if isinstance(v, str)})
                extra = draw(st.lists(texts, max_size=2))
                kept = present[: draw(st.integers(0, len(present)))]
                levels[name] = list(dict.fromkeys(draw(st.permutations(kept + extra))))
    user_levels = {k: v for k, v in levels.items()
                   if not isinstance(columns[k].dtype, pd.CategoricalDtype)}
    return columns, reference, levels, user_levels


@settings(max_examples=150, deadline=None)
@given(pandas_columns(), st.integers(1, 3), st.sampled_from(["merge", "drop"]),
       st.integers(1, 16))
def test_pandas_columns_give_what_the_general_path_gives(data, min_count, policy, sample):
    from unittest import mock

    from fairtrain import Groups

    columns, reference, levels, user_levels = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a tiny sample, so that arrow's level guess misses values and must add them
        with mock.patch("fairtrain.groups._ARROW_SAMPLE", sample):
            fast = _outcome(lambda: Groups.from_columns(
                columns, levels=user_levels, min_count=min_count, policy=policy))
        slow = _outcome(lambda: Groups.from_columns(
            reference, levels=levels, min_count=min_count, policy=policy))
    assert fast == slow


@pytest.mark.parametrize("dtype", STRING_DTYPES)
def test_clean_pandas_string_columns_take_the_fast_path(dtype):
    # the property above compares outcomes; this makes sure the fast path is taken
    from fairtrain.groups import _pandas_factorize

    column = pd.Series(["b", "é", "b", "a"] * 3, dtype=dtype)
    uniques, codes = _pandas_factorize(column)
    assert uniques.tolist() == ["a", "b", "é"]
    assert codes.tolist() == [1, 2, 1, 0] * 3
    assert _pandas_factorize(pd.Series(["a", None], dtype=dtype)) is None  # missing
    assert _pandas_factorize(np.array(["a", "b"], dtype=object)) is None  # not pandas
    assert _pandas_factorize(column.array)[1].tolist() == codes.tolist()  # bare array


def test_an_object_column_pandas_cannot_hash_goes_the_general_way():
    from fairtrain import Groups

    column = pd.Series([[1], [2], [1]], dtype=object)  # lists: pandas cannot hash them
    with pytest.raises(TypeError):
        pd.factorize(column)
    g = Groups.from_columns({"x": column})  # as before the fast path: np.unique's order
    assert g.names == ("[1]", "[2]") and g.codes.tolist() == [0, 1, 0]


def test_categorical_columns_take_the_category_codes_when_exact():
    from fairtrain.groups import _pandas_category_codes

    cat = pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"])
    for column in (cat, pd.Series(cat), pd.CategoricalIndex(cat)):
        assert _pandas_category_codes(column).tolist() == [0, 1, 0]
    assert _pandas_category_codes(pd.Categorical([2, 1], categories=[2, 1])).tolist() == [0, 1]
    assert _pandas_category_codes(pd.Categorical(["a", None])) is None  # missing
    # dates: the general path decides (today it refuses them), unchanged
    dates = pd.Categorical(pd.to_datetime(["2020-01-01", "2021-01-01"]))
    assert _pandas_category_codes(dates) is None
    from fairtrain import Groups

    reference = np.asarray(dates)
    assert _outcome(lambda: Groups.from_columns({"d": dates})) == _outcome(
        lambda: Groups.from_columns({"d": reference}, levels={"d": list(dates.categories)})
    )


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["x", "y", "ü"]), st.booleans()),
             min_size=1, max_size=60),
    st.integers(1, 4),
    st.sampled_from(["merge", "drop"]),
    st.booleans(),  # fixed levels with an unused one
)
def test_cells_codes_and_counts_equal_a_plain_reference(rows, min_count, policy, fixed):
    # cells: observed combinations in lexicographic order of the level codes; counts
    # (filled while building) equal counting the codes; the policies' outcome equals
    # the same groups' codes recounted
    from fairtrain import Groups

    columns = {name: [r[j] for r in rows] for j, name in enumerate(["a", "b", "c"])}
    levels = {"b": ["z", "y", "x", "ü"]} if fixed else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = Groups.from_columns(columns, levels=levels, min_count=min_count, policy=policy)
    expected_levels = {a: sorted(set(v), key=str) for a, v in columns.items()}
    if fixed:
        expected_levels["b"] = levels["b"]
    assert g.levels == {a: tuple(map(str, v)) for a, v in expected_levels.items()}
    digits = np.array([[expected_levels[a].index(v) for a, v in zip(columns, r)]
                       for r in rows])
    np.testing.assert_array_equal(g.attribute_codes[g.included], digits[g.included])
    np.testing.assert_array_equal(g.counts, np.bincount(g.codes[g.codes >= 0],
                                                        minlength=g.n_groups))
    assert g.counts.dtype == np.int64 and not g.counts.flags.writeable
    if min_count == 1:
        cells = sorted(set(map(tuple, digits.tolist())))
        assert g.codes.tolist() == [cells.index(tuple(d)) for d in digits.tolist()]
        assert g.cell_levels.tolist() == [list(c) for c in cells]
        assert g.names == tuple(
            "|".join(f"{a}={expected_levels[a][d]}" for a, d in zip(columns, c))
            for c in cells
        )
    # merged or not, cells are sorted by their level codes ("other" after the levels)
    order = [tuple(k if k >= 0 else 99 for k in c) for c in g.cell_levels.tolist()]
    assert order == sorted(order)


def test_an_arrow_failure_falls_back_to_pandas_factorize(monkeypatch):
    pytest.importorskip("pyarrow")
    import fairtrain.groups as groups

    def broken(column):
        raise RuntimeError("an arrow this code does not know")

    monkeypatch.setattr(groups, "_arrow_factorize", broken)
    column = pd.Series(["b", "a", "b"], dtype="string[pyarrow]")
    uniques, codes = groups._pandas_factorize(column)
    assert uniques.tolist() == ["a", "b"] and codes.tolist() == [1, 0, 1]


def test_sliced_and_chunked_arrow_columns_equal_the_general_path():
    pa = pytest.importorskip("pyarrow")
    from fairtrain import Groups
    from fairtrain.groups import _arrow_factorize

    one = pd.Series(["b", "a", "c", "b"] * 50, dtype="string[pyarrow]")
    two = pd.Series(["é", "a"] * 30, dtype="string[pyarrow]")
    chunked = pd.concat([one, two], ignore_index=True)
    assert isinstance(chunked.array.__arrow_array__(), pa.ChunkedArray)
    for column in (chunked, chunked.iloc[7:150], one.iloc[3:]):
        assert _arrow_factorize(column) is not None
        fast = _outcome(lambda column=column: Groups.from_columns({"x": column}))
        slow = _outcome(
            lambda column=column: Groups.from_columns({"x": np.asarray(column, dtype=object)})
        )
        assert fast == slow
