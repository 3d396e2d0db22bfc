"""Bias aggregators: the worked example and the properties of the bias score."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairtrain.metrics import max_gap, pairwise_bias, ratio, worst_group

values = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=12
)


def test_worked_example_age_bias():
    # REFERENCE.md: per-group MAE 7.08, 5.29, 7.39, 10.23 -> age bias 2.52
    assert round(pairwise_bias([7.08, 5.29, 7.39, 10.23]), 2) == 2.52
    assert pairwise_bias([7.08, 5.29, 7.39, 10.23]) == pytest.approx(15.13 / 6)


@given(values)
def test_pairwise_bias_equals_the_mean_over_unordered_pairs(v):
    pairs = [abs(a - b) for a, b in itertools.combinations(v, 2)]
    assert pairwise_bias(v) == pytest.approx(sum(pairs) / len(pairs), rel=1e-9, abs=1e-9)


@given(values)
def test_pairwise_bias_is_zero_iff_all_groups_are_equal(v):
    assert (pairwise_bias(v) == 0) == (len(set(v)) == 1)


@given(st.floats(-1e6, 1e6), st.integers(2, 10))
def test_pairwise_bias_of_equal_groups_is_exactly_zero(x, k):
    assert pairwise_bias([x] * k) == 0.0


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_pairwise_bias_is_symmetric(a, b):
    assert pairwise_bias([a, b]) == pairwise_bias([b, a]) == abs(a - b)


@given(values, st.randoms(use_true_random=False))
def test_pairwise_bias_is_invariant_to_group_order(v, rnd):
    shuffled = list(v)
    rnd.shuffle(shuffled)
    assert pairwise_bias(shuffled) == pairwise_bias(v)
    named = dict(zip((f"g{i}" for i in range(len(v))), v))
    assert pairwise_bias(named) == pairwise_bias(v)


@given(values, st.floats(min_value=-100, max_value=100, allow_nan=False))
def test_pairwise_bias_scales_with_the_values(v, c):
    scaled = [c * x for x in v]
    assert pairwise_bias(scaled) == pytest.approx(abs(c) * pairwise_bias(v), rel=1e-9, abs=1e-6)


@given(values, st.floats(-1e3, 1e3))
def test_pairwise_bias_ignores_a_common_shift_and_is_bounded_by_the_gap(v, shift):
    b = pairwise_bias(v)
    assert pairwise_bias([x + shift for x in v]) == pytest.approx(b, rel=1e-6, abs=1e-3)
    assert b <= max_gap(v) * (1 + 1e-12) + 1e-12


def test_gap_ratio_worst():
    v = {"a": 0.9, "b": 0.6, "c": 0.8}
    assert max_gap(v) == pytest.approx(0.3)
    assert ratio(v) == pytest.approx(2 / 3)
    assert worst_group(v, greater_is_better=True) == "b"
    assert worst_group(v, greater_is_better=False) == "a"
    assert ratio([0.0, 0.0]) == 1.0
    assert worst_group([3.0, 5.0, 5.0], greater_is_better=False) == "1"


@pytest.mark.parametrize(
    ("func", "arg", "match"),
    [
        (pairwise_bias, [1.0], "at least 2 groups"),
        (pairwise_bias, [1.0, math.nan], "NaN"),
        (max_gap, {"a": 1.0, "b": math.inf}, r"groups \['b'\]"),
        (ratio, [-1.0, 2.0], "non-negative"),
        (pairwise_bias, [[1.0, 2.0]], "one value per group"),
    ],
    ids=["one-group", "nan", "inf-named", "negative-ratio", "2d"],
)
def test_aggregators_reject_bad_values(func, arg, match):
    with pytest.raises(ValueError, match=match):
        func(arg)


@pytest.mark.parametrize("direction", ["False", "True", None, 0, 1.0])
def test_worst_group_refuses_a_direction_that_is_not_a_bool(direction):
    # review 4: "False" was read as True, so the best group (1.0) came back as the worst
    assert worst_group([1.0, 3.0], greater_is_better=False) == "1"  # by hand: 3.0 is worst
    assert worst_group([1.0, 3.0], greater_is_better=np.True_) == "0"
    with pytest.raises(TypeError, match="`greater_is_better` must be True or False; got"):
        worst_group([1.0, 3.0], greater_is_better=direction)
