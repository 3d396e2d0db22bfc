"""Groups.from_columns factorisation: every fast path equals np.unique."""

from __future__ import annotations

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
