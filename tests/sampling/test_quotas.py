"""Largest-remainder quotas with carry: exact bounds, by property and on worked cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairtrain.sampling import largest_remainder, quota_table


@st.composite
def rational_targets(draw):
    """Per-batch exact counts numerators / den summing to a batch size."""
    den = draw(st.integers(1, 400))
    batch = draw(st.integers(1, 70))
    k = draw(st.integers(1, 7))
    cuts = sorted(draw(st.lists(st.integers(0, batch * den), min_size=k - 1, max_size=k - 1)))
    edges = [0, *cuts, batch * den]
    return [b - a for a, b in zip(edges[:-1], edges[1:])], den, batch


@given(rational_targets(), st.integers(1, 900))
def test_quota_table_is_within_one_per_batch_and_never_drifts_a_whole_example(case, steps):
    numerators, den, batch = case
    table = quota_table(numerators, den, steps)
    exact = np.asarray(numerators, float) / den
    assert table.shape == (steps, len(numerators))
    assert table.dtype == np.int64
    assert np.all(table.sum(axis=1) == batch)
    assert np.all(np.abs(table - exact) < 1)
    drift = np.cumsum(table, axis=0) - np.arange(1, steps + 1)[:, None] * exact
    assert np.abs(drift).max() < 1


@given(rational_targets())
def test_quota_table_is_periodic_with_the_denominator(case):
    numerators, den, _ = case
    table = quota_table(numerators, den, 2 * den + 3)
    np.testing.assert_array_equal(table[den:], table[: table.shape[0] - den])
    # after one full period every group has exactly its total
    np.testing.assert_array_equal(table[:den].sum(axis=0), numerators)


def test_unequal_fractional_parts_need_the_pd2_tie_break():
    # A case where "largest carried remainder first" drifts a whole example.
    numerators, den = [0, 3, 3, 3, 5, 5, 5], 6
    table = quota_table(numerators, den, 12)
    drift = np.cumsum(table, axis=0) - np.arange(1, 13)[:, None] * np.asarray(numerators) / den
    assert np.abs(drift).max() < 1


def test_vggface2_shares_batch_64():
    table = quota_table([64 * 6, 64 * 8, 64 * 80, 64 * 6], 100, 25)
    assert table.min(axis=0).tolist() == [3, 5, 51, 3]
    assert table.max(axis=0).tolist() == [4, 6, 52, 4]
    assert table.sum(axis=0).tolist() == [96, 128, 1280, 96]  # 25 batches: exact


def test_largest_remainder_ties_go_to_the_lower_index():
    assert largest_remainder([1, 1, 1], 3, 1).tolist() == [1, 0, 0]
    assert largest_remainder([5, 7], 4, 3).tolist() == [1, 2]


@pytest.mark.parametrize(
    ("numerators", "den", "message"),
    [([1, 1], 3, "multiple of the denominator"), ([-1, 4], 3, "non-negative"),
     ([1, 2], 0, "`denominator` must be an int >= 1")],
    ids=["not-a-batch", "negative", "zero-denominator"],
)
def test_quota_table_rejects_bad_input(numerators, den, message):
    with pytest.raises(ValueError, match=message):
        quota_table(numerators, den, 3)
