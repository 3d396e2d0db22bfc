"""``Groups.members()``: ascending indices per cell, whichever way they are computed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain import groups as groups_module


def expected_members(codes, k):
    codes = np.asarray(codes)
    return [np.flatnonzero(codes == g) for g in range(k)]


@settings(max_examples=60, deadline=None)
@given(
    k=st.one_of(st.integers(1, 12), st.integers(250, 260)),
    n=st.integers(1, 3_000),
    excluded=st.floats(0, 0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_members_are_the_ascending_indices_of_each_cell(k, n, excluded, seed):
    # Cell counts on both sides of the scan/sort switch and of the 8-bit keys.
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, k, n)
    codes[rng.random(n) < excluded] = -1  # excluded examples belong to no cell
    codes[rng.integers(0, n)] = k - 1  # the last cell is never empty
    groups = ft.Groups(codes, [str(i) for i in range(k)])
    members = groups.members()
    assert len(members) == k
    for got, want in zip(members, expected_members(codes, k)):
        assert got.dtype == np.int64
        assert not got.flags.writeable
        np.testing.assert_array_equal(got, want)
    assert [m.size for m in members] == groups.counts.tolist()


@pytest.mark.parametrize("k", [groups_module._MEMBERS_BY_SCAN, groups_module._MEMBERS_BY_SCAN + 1])
def test_both_ways_agree_at_the_switch(k):
    codes = np.tile(np.arange(-1, k), 50)[::-1]
    groups = ft.Groups(codes, [str(i) for i in range(k)])
    for got, want in zip(groups.members(), expected_members(codes, k)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("k", [65_534, 65_535])
def test_the_16_bit_and_32_bit_keys_sort_alike(k):
    rng = np.random.default_rng(k)
    codes = rng.integers(-1, k, 200_000)
    codes[:k] = np.arange(k)  # every cell non-empty
    rng.shuffle(codes)
    groups = ft.Groups(codes, [str(i) for i in range(k)])
    members = groups.members()
    order = np.argsort(codes, kind="stable")
    np.testing.assert_array_equal(np.concatenate(members), order[np.count_nonzero(codes < 0) :])
