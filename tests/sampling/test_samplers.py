"""The four built-in samplers: quotas, coverage, balance, determinism, resume and config."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain.sampling import (
    GroupBatchSampler,
    Homogeneous,
    InverseFrequency,
    Proportional,
    TargetShares,
)
from fairtrain.testing.samplers import check_sampler
from fairtrain.testing.strategies import groups as groups_strategy

KINDS = ["proportional", "proportional-drop", "homogeneous", "inverse_frequency", "target"]


@st.composite
def samplers(draw, kind=None):
    """Any built-in sampler on arbitrary groups, batch size and seed."""
    kind = kind or draw(st.sampled_from(KINDS))
    groups = draw(groups_strategy(max_groups=6, max_count=40))
    seed = draw(st.integers(0, 2**32 - 1))
    k = groups.n_groups
    if kind == "target":
        weights = draw(st.lists(st.integers(0, 5), min_size=k, max_size=k).filter(any))
        shares = (np.asarray(weights, float) / sum(weights)).tolist()
        needed = sum(w > 0 for w in weights)
    else:
        needed = 1 if kind.startswith("proportional") else k
    upper = max(needed, 70)
    if kind == "proportional-drop":
        upper = max(1, min(upper, len(groups)))
    batch_size = draw(st.integers(needed, upper))
    if kind == "proportional":
        return Proportional(groups, batch_size=batch_size, seed=seed)
    if kind == "proportional-drop":
        return Proportional(groups, batch_size=batch_size, seed=seed, last_batch="drop")
    if kind == "homogeneous":
        return Homogeneous(groups, batch_size=batch_size, seed=seed)
    if kind == "inverse_frequency":
        power = draw(st.sampled_from([1.0, 0.5, 0.0, -1.0, 2.0]))
        return InverseFrequency(groups, batch_size=batch_size, seed=seed, power=power)
    return TargetShares(groups, shares=shares, batch_size=batch_size, seed=seed)


def batch_counts(sampler, epoch):
    plan = sampler.plan(epoch)
    return np.stack([
        np.bincount(sampler.groups.codes[row[row >= 0]], minlength=sampler.groups.n_groups)
        for row in plan
    ])


@given(samplers())
def test_conformance_kit_holds_for_every_builtin(sampler):
    # plan shape/dtype/range, quotas within one, drift < 1, within-group balance,
    # determinism, order independence, resume and config round trip
    check_sampler(sampler, epochs=3)


@given(samplers())
def test_every_batch_is_within_one_of_its_exact_share(sampler):
    shares = sampler.target_shares()
    for epoch in (0, 2):
        counts = batch_counts(sampler, epoch)
        sizes = counts.sum(axis=1)
        exact = sizes[:, None] * shares[None, :]
        assert np.all(np.abs(counts - exact) < 1 + 1e-9)


@given(samplers())
def test_cumulative_counts_never_drift_a_whole_example(sampler):
    counts = np.concatenate([batch_counts(sampler, e) for e in range(3)])
    targets = np.concatenate([sampler.targets(e) for e in range(3)])
    drift = np.cumsum(counts, axis=0) - np.cumsum(targets, axis=0)
    assert np.abs(drift).max() < 1


@given(samplers(kind="proportional"), st.integers(0, 50))
def test_proportional_covers_every_index_exactly_once_per_epoch(sampler, epoch):
    plan = sampler.plan(epoch)
    real = plan[plan >= 0]
    np.testing.assert_array_equal(np.sort(real), np.flatnonzero(sampler.groups.included))
    assert sampler.steps_per_epoch == -(-len(sampler.groups) // sampler.batch_size)


@given(samplers(), st.integers(1, 6))
def test_within_group_appearances_differ_by_at_most_one(sampler, epochs):
    plans = np.concatenate([sampler.plan(e).ravel() for e in range(epochs)])
    seen = np.bincount(plans[plans >= 0], minlength=len(sampler.groups))
    for members in sampler.groups.members():
        assert np.ptp(seen[members]) <= 1


@given(samplers(), st.integers(0, 20))
def test_same_seed_and_epoch_give_the_same_plan_without_planning_earlier_epochs(sampler, e):
    twin = type(sampler).from_config(sampler.get_config())
    later = twin.plan(e)
    for earlier in range(min(e, 3)):
        sampler.plan(earlier)
    np.testing.assert_array_equal(sampler.plan(e), later)


@given(samplers(), st.data())
def test_set_state_get_state_resumes_on_the_identical_next_batch(sampler, data):
    epoch = data.draw(st.integers(0, 3))
    step = data.draw(st.integers(0, sampler.steps_per_epoch - 1))
    sampler.set_state({"epoch": epoch, "step": step})
    state = sampler.get_state()
    expected = [sampler.next_batch() for _ in range(3)]
    restored = type(sampler).from_config(sampler.get_config())
    restored.set_state(state)
    for want in expected:
        np.testing.assert_array_equal(restored.next_batch(), want)
    assert restored.get_state() == sampler.get_state()


@given(samplers())
def test_config_round_trip(sampler):
    config = sampler.get_config()
    twin = type(sampler).from_config(config)
    assert twin.get_config().keys() == config.keys()
    np.testing.assert_array_equal(twin.plan(1), sampler.plan(1))


def test_different_seeds_give_different_plans():
    groups = ft.Groups.from_codes(np.repeat(np.arange(3), [20, 30, 50]))
    a = Homogeneous(groups, batch_size=12, seed=0).plan(0)
    b = Homogeneous(groups, batch_size=12, seed=1).plan(0)
    assert not np.array_equal(a, b)


def test_plan_is_a_known_value_on_every_machine():
    # Pins the random streams (PCG64 from SeedSequence([seed, group, block])): a change
    # here changes every user's batches and needs a CHANGELOG entry.
    groups = ft.Groups.from_codes(np.array([0, 1, 0, 1, 0, 0, 1, 0]))
    plan = Homogeneous(groups, batch_size=4, seed=7).plan(0)
    assert plan.tolist() == [[5, 7, 3, 6], [0, 4, 1, 1]]


def test_homogeneous_vggface2_batches_hold_sixteen_of_each_group():
    codes = np.repeat(np.arange(4), [60, 80, 800, 60])
    sampler = Homogeneous(ft.Groups.from_codes(codes), batch_size=64, seed=0)
    assert sampler.steps_per_epoch == 16
    assert np.all(batch_counts(sampler, 0) == 16)


def test_minority_cycles_and_majority_continues_across_epochs():
    codes = np.repeat([0, 1], [3, 21])
    sampler = Homogeneous(ft.Groups.from_codes(codes), batch_size=4, seed=0)  # 6 steps
    majority = np.flatnonzero(codes == 1)
    drawn = [np.intersect1d(sampler.plan(e).ravel(), majority) for e in range(2)]
    # epoch 0 draws 12 of the 21 majority examples; epoch 1 first takes the other 9
    assert len(drawn[0]) == 12
    assert set(majority) - set(drawn[0]) <= set(drawn[1])
    minority_seen = np.bincount(sampler.plan(0).ravel(), minlength=24)[:3]
    assert minority_seen.tolist() == [4, 4, 4]


def test_a_single_example_group_works():
    codes = np.array([0] * 9 + [1])
    sampler = Homogeneous(ft.Groups.from_codes(codes), batch_size=2, seed=0)
    assert np.all(sampler.plan(0)[:, 1] == 9)
    assert Proportional(ft.Groups.from_codes(codes), batch_size=3).plan(0).shape == (4, 3)


def test_excluded_examples_are_never_drawn():
    groups = ft.Groups(np.array([0, -1, 1, 0, -1, 1, 0]), ["a", "b"])
    for sampler in (Homogeneous(groups, batch_size=2), Proportional(groups, batch_size=2)):
        plan = sampler.plan(0)
        assert not np.isin([1, 4], plan).any()


def test_proportional_partial_and_drop_last_batch():
    groups = ft.Groups.from_codes(np.repeat([0, 1], [7, 3]))
    partial = Proportional(groups, batch_size=4, seed=0)
    assert partial.steps_per_epoch == 3
    assert (partial.plan(0) == -1).sum() == 2  # the last batch holds 2 examples
    assert partial.batch(0, 2).shape == (2,)
    drop = Proportional(groups, batch_size=4, seed=0, last_batch="drop")
    assert drop.steps_per_epoch == 2
    assert (drop.plan(0) >= 0).all()
    # the 2 examples left out of epoch 0 come first in epoch 1
    left = set(range(10)) - set(drop.plan(0).ravel())
    assert left <= set(drop.plan(1).ravel())


def test_inverse_frequency_power_one_gives_each_group_share_inverse_to_size():
    groups = ft.Groups.from_codes(np.repeat([0, 1, 2], [10, 20, 40]))
    sampler = InverseFrequency(groups, batch_size=7, power=1.0)
    np.testing.assert_allclose(sampler.target_shares(), [4 / 7, 2 / 7, 1 / 7])
    assert np.all(sampler.quotas(0) == [4, 2, 1])


def test_target_shares_by_name():
    groups = ft.Groups.from_codes(np.repeat([0, 1, 2], [10, 20, 40]), ["a", "b", "c"])
    sampler = TargetShares(groups, shares={"a": 0.5, "c": 0.5}, batch_size=4)
    assert np.all(sampler.quotas(0) == [2, 0, 2])
    assert TargetShares.from_config(sampler.get_config()).get_config()["shares"] == {
        "a": 0.5, "c": 0.5}


def _mutate_and_compare_config(obj, attribute, mutate):
    """get_config() before and after ``mutate(getattr(obj, attribute))``; a container
    that refuses the change (TypeError) is as good as one that is a copy."""
    before = obj.get_config()
    with contextlib.suppress(TypeError):
        mutate(getattr(obj, attribute))
    return before, obj.get_config()


def test_target_shares_cannot_be_changed_through_its_shares_list():
    # review 4: TargetShares.shares was the live list get_config() reads; a change to it
    # reached the config but not the cached quotas, so from_config(get_config())
    # planned other batches than the sampler itself
    groups = ft.Groups.from_columns({"g": list("aaaaaabbbccc")})
    sampler = TargetShares(groups, shares=[0.5, 0.25, 0.25], batch_size=4)
    plan = sampler.plan(0).copy()

    def swap(shares):
        shares[0], shares[2] = 0.25, 0.5

    before, after = _mutate_and_compare_config(sampler, "shares", swap)
    assert after == before
    again = TargetShares.from_config(json.loads(json.dumps(sampler.get_config())))
    np.testing.assert_array_equal(again.plan(0), plan)


def test_target_shares_cannot_be_changed_through_its_shares_mapping():
    groups = ft.Groups.from_columns({"g": list("aaaaaabbbccc")})
    sampler = TargetShares(groups, shares={"a": 0.5, "c": 0.5}, batch_size=4)

    def swap(shares):
        shares["a"], shares["b"], shares["c"] = 0.25, 0.25, 0.5

    before, after = _mutate_and_compare_config(sampler, "shares", swap)
    assert after == before == {**before, "shares": {"a": 0.5, "c": 0.5}}


def test_registry_resolves_every_builtin_name():
    get = ft.registry.get
    assert get("samplers", "proportional") is Proportional
    assert get("samplers", "homogeneous") is Homogeneous
    assert get("samplers", "balanced") is Homogeneous
    assert get("samplers", "inverse_frequency") is InverseFrequency
    assert get("samplers", "target") is TargetShares
    assert ft.CompositionLog is ft.sampling.CompositionLog


GROUPS = ft.Groups.from_codes(np.array([0, 0, 1, 1, 2, 2]), ["a", "b", "c"])
EMPTY = ft.Groups.from_codes(np.array([0, 0, 2, 2]), ["a", "b", "c"])


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Homogeneous(GROUPS, batch_size=2), ValueError,
         r"at least the number of groups with a positive share \(3\); got batch_size=2"),
        (lambda: Homogeneous(GROUPS, batch_size=0), ValueError,
         r"`batch_size` must be an int >= 1; got batch_size=0 \(int\)"),
        (lambda: Homogeneous(GROUPS, batch_size=2.0), TypeError,
         r"`batch_size` must be an int >= 1; got batch_size=2.0 \(float\)"),
        (lambda: Homogeneous(GROUPS, batch_size=3, seed=-1), ValueError, "seed"),
        (lambda: Homogeneous(np.zeros((3, 2)), batch_size=3), ValueError, "Groups"),
        (lambda: TargetShares(EMPTY, shares=[0.5, 0.25, 0.25], batch_size=3), ValueError,
         r"positive share to group\(s\) with no examples: \['b'\]"),
        (lambda: TargetShares(GROUPS, shares=[0.5, -0.25, 0.75], batch_size=3), ValueError,
         "non-negative"),
        (lambda: TargetShares(GROUPS, shares=[0.5, 0.25, 0.2], batch_size=3), ValueError,
         "sum to 1"),
        (lambda: TargetShares(GROUPS, shares=[0.5, 0.5], batch_size=3), ValueError,
         "one share per group"),
        (lambda: TargetShares(GROUPS, shares={"zz": 1.0}, batch_size=3), ValueError,
         "unknown group"),
        (lambda: TargetShares(GROUPS, shares=[np.nan, 0.5, 0.5], batch_size=3), ValueError,
         "finite"),
        (lambda: InverseFrequency(GROUPS, batch_size=3, power=float("inf")), ValueError,
         "finite"),
        (lambda: InverseFrequency(GROUPS, batch_size=3, power=float("nan")), ValueError,
         "finite"),
        (lambda: Proportional(GROUPS, batch_size=3, last_batch="pad"), ValueError,
         "last_batch"),
        (lambda: Proportional(GROUPS, batch_size=9, last_batch="drop"), ValueError,
         "full batch"),
    ],
    ids=["batch-too-small", "batch-zero", "batch-float", "negative-seed", "not-groups",
         "share-for-empty-group", "negative-share", "shares-not-summing-to-1",
         "wrong-number-of-shares", "unknown-name", "nan-share", "infinite-power",
         "nan-power", "bad-last-batch", "drop-without-full-batch"],
)
def test_bad_input_is_rejected_with_a_clear_message(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_homogeneous_ignores_empty_groups():
    sampler = Homogeneous(EMPTY, batch_size=2)
    assert sampler.target_shares().tolist() == [0.5, 0.0, 0.5]


def test_set_state_rejects_positions_outside_the_epoch():
    sampler = Homogeneous(GROUPS, batch_size=3)
    with pytest.raises(ValueError, match=r"`step` must be an int in \[0, 2\).*steps_per_epoch=2"):
        sampler.set_state({"epoch": 0, "step": sampler.steps_per_epoch})


def test_plan_is_read_only():
    plan = Homogeneous(GROUPS, batch_size=3).plan(0)
    with pytest.raises(ValueError):
        plan[0, 0] = 1


def test_base_class_needs_target_shares():
    with pytest.raises(NotImplementedError):
        GroupBatchSampler(GROUPS, batch_size=3)


def test_raw_columns_are_made_into_groups_as_everywhere():
    columns = {"g": np.array(["a", "b", "b", "a", "b", "b"])}
    a = Homogeneous(columns, batch_size=2, seed=1)
    b = Homogeneous(ft.Groups.from_columns(columns), batch_size=2, seed=1)
    np.testing.assert_array_equal(a.plan(0), b.plan(0))
