"""Adaptive: shares stay a floored distribution, move toward higher losses, plan exactly, resume."""

from __future__ import annotations

import contextlib
import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairtrain import Groups
from fairtrain.sampling import Adaptive
from fairtrain.testing import check_sampler

counts_st = st.lists(st.integers(1, 40), min_size=2, max_size=6)
loss_st = st.floats(0.0, 10.0, allow_nan=False)


def _groups(counts, empty_at=None):
    codes = np.repeat(np.arange(len(counts)), counts)
    names = [f"g{i}" for i in range(len(counts))]
    if empty_at is not None:
        names.insert(empty_at, "empty")
        codes = np.where(codes >= empty_at, codes + 1, codes)
    return Groups(codes.astype(np.int32), names) if empty_at is not None else Groups.from_codes(
        codes, names
    )


def _batch_counts(sampler, epoch):
    plan = sampler.plan(epoch)
    k = sampler.groups.n_groups
    return np.stack([np.bincount(sampler.groups.codes[row[row >= 0]], minlength=k) for row in plan])


@settings(max_examples=60, deadline=None)
@given(
    counts=counts_st,
    data=st.data(),
    step=st.floats(0.0, 5.0),
    momentum=st.floats(0.0, 0.95),
    relative=st.booleans(),
)
def test_shares_stay_a_distribution_above_the_floor(counts, data, step, momentum, relative):
    groups = _groups(counts)
    k = len(counts)
    floor = data.draw(st.floats(0.0, 1.0 / k))
    sampler = Adaptive(
        groups, batch_size=8, step_size=step, momentum=momentum, min_share=floor,
        relative=relative,
    )
    for _ in range(data.draw(st.integers(1, 6))):
        losses = data.draw(st.lists(st.one_of(loss_st, st.just(np.nan)), min_size=k, max_size=k))
        shares = sampler.update(losses)
        assert np.isclose(shares.sum(), 1.0, atol=1e-12)
        assert np.all(shares >= min(floor, 1 / k) - 1e-12)
        np.testing.assert_array_equal(shares, sampler.shares)


def test_a_floor_of_one_over_k_gives_equal_shares_not_nan():
    # Found by Hypothesis: with min_share = 1/k every group hits the floor, and the
    # projection divided 0 by 0.
    sampler = Adaptive(_groups([1, 1, 1, 1, 2]), batch_size=8, step_size=1.0, min_share=0.2)
    np.testing.assert_allclose(sampler.shares, 0.2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sampler.update([1.0, 2.0, 3.0, 4.0, 5.0]), 0.2, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, loss=loss_st, step=st.floats(0.0, 5.0), momentum=st.floats(0, 0.95),
       initial=st.sampled_from(["proportional", "homogeneous"]))
def test_equal_losses_do_not_move_the_shares(counts, loss, step, momentum, initial):
    sampler = Adaptive(_groups(counts), batch_size=8, step_size=step, momentum=momentum,
                       initial_shares=initial)
    before = sampler.shares
    for _ in range(3):
        after = sampler.update([loss] * len(counts))
        np.testing.assert_allclose(after, before, rtol=1e-12, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, data=st.data(), step=st.floats(0.01, 5.0))
def test_shares_move_toward_the_higher_loss_group(counts, data, step):
    k = len(counts)
    sampler = Adaptive(_groups(counts), batch_size=8, step_size=step, min_share=0.2 / k)
    worst = data.draw(st.integers(0, k - 1))
    losses = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)))
    losses[worst] = 2.0  # strictly the highest
    before = sampler.shares
    after = sampler.update(losses)
    others_above_floor = np.any(np.delete(before, worst) > 0.2 / k + 1e-9)
    if others_above_floor:
        assert after[worst] > before[worst]
    else:
        assert after[worst] >= before[worst] - 1e-12
    # The lowest-loss group never gains share.
    best = int(np.argmin(losses))
    assert after[best] <= before[best] + 1e-12


def test_two_groups_fairbatch_direction_and_numbers():
    groups = Groups.from_codes([0] * 30 + [1] * 10)
    s = Adaptive(groups, batch_size=8, step_size=0.5, min_share=0.0)
    new = s.update([0.2, 0.6])
    # d = l / mean - 1 = (-0.5, 0.5): shares 0.75 e^-0.25 : 0.25 e^0.25, normalised.
    a, b = 0.75 * np.exp(-0.25), 0.25 * np.exp(0.25)
    np.testing.assert_allclose(new, [a / (a + b), b / (a + b)], rtol=1e-12)


def test_momentum_keeps_moving_after_the_losses_equalise():
    groups = Groups.from_codes([0] * 20 + [1] * 20)
    s = Adaptive(groups, batch_size=8, step_size=0.5, momentum=0.5)
    first = s.update([0.0, 1.0])
    second = s.update([1.0, 1.0])  # no new signal, the velocity carries on
    assert second[1] > first[1]
    plain = Adaptive(groups, batch_size=8, step_size=0.5, momentum=0.0)
    plain.update([0.0, 1.0])
    np.testing.assert_allclose(plain.update([1.0, 1.0]), first)


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=2, max_size=5), data=st.data(),
       batch_size=st.integers(2, 16), steps=st.one_of(st.none(), st.integers(1, 9)))
def test_quotas_exact_for_the_current_shares(counts, data, batch_size, steps):
    k = len(counts)
    sampler = Adaptive(_groups(counts), batch_size=batch_size, step_size=1.0,
                       steps_per_epoch=steps)
    n_steps = sampler.steps_per_epoch
    for epoch in range(4):
        shares = sampler.shares_for(epoch)
        np.testing.assert_array_equal(shares, sampler.shares)
        quotas = sampler.quotas(epoch)
        np.testing.assert_array_equal(_batch_counts(sampler, epoch), quotas)
        assert np.all(quotas.sum(axis=1) == batch_size)
        totals = quotas.sum(axis=0)
        assert np.all(np.abs(totals - n_steps * batch_size * shares) < 1)
        assert np.all(np.abs(quotas - batch_size * shares) < 1 + 1 / n_steps)
        cum = np.cumsum(quotas - totals / n_steps, axis=0)
        assert np.all(np.abs(cum) < 1)
        losses = data.draw(st.lists(loss_st, min_size=k, max_size=k))
        sampler.update(losses, epoch=epoch)


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 25), min_size=2, max_size=4), data=st.data())
def test_streams_continue_across_share_changes(counts, data):
    """Within a group, appearance counts over epochs differ by at most one."""
    k = len(counts)
    groups = _groups(counts)
    sampler = Adaptive(groups, batch_size=6, step_size=2.0)
    seen = np.zeros(len(groups), dtype=np.int64)
    for epoch in range(4):
        plan = sampler.plan(epoch)
        np.add.at(seen, plan[plan >= 0], 1)
        sampler.update(data.draw(st.lists(loss_st, min_size=k, max_size=k)), epoch=epoch)
    for members in groups.members():
        assert np.ptp(seen[members]) <= 1


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 25), min_size=2, max_size=4), data=st.data(),
       momentum=st.floats(0, 0.9))
def test_state_round_trips_and_resumes_identically(counts, data, momentum):
    k = len(counts)
    groups = _groups(counts)
    a = Adaptive(groups, batch_size=5, step_size=1.0, momentum=momentum, seed=3)
    n_epochs = data.draw(st.integers(1, 4))
    for epoch in range(n_epochs):
        a.plan(epoch)
        a.update(data.draw(st.lists(loss_st, min_size=k, max_size=k)), epoch=epoch)
    a.set_state({**a.get_state(), "epoch": n_epochs, "step": 0})
    state = json.loads(json.dumps(a.get_state()))
    b = Adaptive.from_config(a.get_config())
    b.set_state(state)
    assert b.get_state() == a.get_state()
    np.testing.assert_array_equal(b.shares, a.shares)
    for epoch in range(n_epochs + 1):  # past epochs too: the history replays them
        np.testing.assert_array_equal(b.plan(epoch), a.plan(epoch))
    more = data.draw(st.lists(loss_st, min_size=k, max_size=k))
    np.testing.assert_array_equal(b.update(more, epoch=n_epochs), a.update(more, epoch=n_epochs))
    np.testing.assert_array_equal(b.plan(n_epochs + 1), a.plan(n_epochs + 1))
    np.testing.assert_array_equal(b.next_batch(), a.next_batch())


def test_epoch_e_uses_the_updates_of_epochs_before_e():
    groups = Groups.from_codes([0] * 40 + [1] * 40)
    s = Adaptive(groups, batch_size=8, step_size=1.0, initial_shares="homogeneous")
    s.plan(0)
    new = s.update([0.1, 0.9], epoch=0)
    np.testing.assert_array_equal(s.shares_for(0), [0.5, 0.5])
    np.testing.assert_array_equal(s.shares_for(1), new)
    assert _batch_counts(s, 1).sum(axis=0)[1] > 40
    assert [e for e, _ in s.history] == [0, 1]


def test_an_update_never_changes_an_epoch_already_planned():
    groups = Groups.from_codes([0] * 40 + [1] * 40)
    s = Adaptive(groups, batch_size=8, step_size=1.0)
    s.plan(0)
    planned = s.plan(1).copy()  # the pipeline planned ahead
    with pytest.warns(RuntimeWarning, match="apply from epoch 2"):
        s.update([0.1, 0.9], epoch=0)
    np.testing.assert_array_equal(s.plan(1), planned)
    assert s.history[-1][0] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.update([0.1, 0.9])  # no epoch: the first one not planned, silently
    assert s.history[-1][0] == 2


def test_reading_an_epoch_s_quotas_freezes_it_as_a_plan_does():
    # Before: only plan() froze an epoch, so quotas(1), read by a pipeline that serves
    # quotas (from_group_datasets), changed under it when update(epoch=0) came after.
    groups = Groups.from_codes([0] * 40 + [1] * 40)
    s = Adaptive(groups, batch_size=8, step_size=1.0)
    read = s.quotas(1)
    assert read.tolist() == [[4, 4]] * 10  # shares 1/2 each of 8, for 10 steps
    with pytest.warns(RuntimeWarning, match="apply from epoch 2"):
        s.update([0.1, 0.9], epoch=0)
    np.testing.assert_array_equal(s.quotas(1), read)
    np.testing.assert_array_equal(_batch_counts(s, 1), read)
    assert s.quotas(2)[:, 1].sum() > 40  # the update lands on the next epoch


def test_an_update_behind_a_later_one_does_not_blame_planning():
    # Before: "epochs up to 5 were planned already" though nothing was planned; the
    # shares had moved from epoch 6 on by an update for epoch 5, which came first.
    groups = Groups.from_codes([0] * 40 + [1] * 40)
    s = Adaptive(groups, batch_size=8, step_size=1.0)
    s.update([0.1, 0.9], epoch=5)
    with pytest.warns(RuntimeWarning, match="apply from epoch 6, not 3") as record:
        s.update([0.1, 0.9], epoch=2)
    message = str(record[0].message)
    assert "planned" not in message
    assert "update for epoch 5" in message
    assert [e for e, _ in s.history] == [0, 6]


def test_updates_within_one_epoch_compose():
    groups = Groups.from_codes([0] * 40 + [1] * 40)
    s = Adaptive(groups, batch_size=8, step_size=0.3)
    s.update([0.1, 0.9], epoch=0)
    twice = s.update([0.1, 0.9], epoch=0)
    assert len(s.history) == 2  # both steps land on epoch 1
    np.testing.assert_array_equal(s.shares_for(1), twice)


def test_empty_groups_keep_share_zero_and_names_work():
    groups = _groups([10, 5, 3], empty_at=1)
    s = Adaptive(groups, batch_size=4, step_size=1.0)
    assert s.shares[1] == 0
    new = s.update({"g0": 0.5, "g1": 2.0})  # g2 not measured
    assert new[1] == 0 and new[2] < s.shares_for(0)[2] + 1e-12
    assert _batch_counts(s, 0)[:, 1].sum() == 0


def test_check_sampler_and_registry():
    check_sampler(Adaptive, registered_as="adaptive")
    check_sampler(Adaptive, init_kwargs={"initial_shares": "homogeneous", "momentum": 0.5})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"step_size": -1.0}, ValueError, "step_size"),
        ({"step_size": "big"}, TypeError, "step_size"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"min_share": 0.6}, ValueError, "min_share"),
        ({"initial_shares": "uniform"}, ValueError, "initial_shares"),
        ({"initial_shares": [0.5, 0.6]}, ValueError, "sum to 1"),
        ({"relative": 1}, TypeError, "relative"),
    ],
    ids=["negative-step", "string-step", "momentum-1", "floor-too-high", "unknown-initial",
         "bad-shares", "relative-int"],
)
def test_bad_arguments_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        Adaptive(Groups.from_codes([0, 0, 1, 1]), batch_size=2, **kwargs)


def test_bad_losses_and_states_raise():
    s = Adaptive(Groups.from_codes([0, 0, 1, 1]), batch_size=2)
    with pytest.raises(ValueError, match="one loss per group"):
        s.update([1.0])
    with pytest.raises(ValueError, match="infinite"):
        s.update([1.0, np.inf])
    with pytest.raises(ValueError, match="unknown group"):
        s.update({"nope": 1.0})
    with pytest.raises(ValueError, match="relative=False"):
        s.update([-1.0, -2.0])
    state = s.get_state()
    with pytest.raises(ValueError, match="distribution"):
        s.set_state({**state, "history": [[0, [0.9, 0.9]]]})
    with pytest.raises(ValueError, match="epoch 0"):
        s.set_state({**state, "history": [[1, [0.5, 0.5]]]})


def test_floor_zero_shares_can_reach_zero_without_warnings():
    """min_share=0 lets a share be (or underflow to) 0; update must not warn (log(0))."""
    groups = Groups.from_codes([0] * 10 + [1] * 10)
    s = Adaptive(groups, batch_size=4, min_share=0.0, initial_shares=[1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(s.update([0.1, 0.9]), [1.0, 0.0])
        big = Adaptive(groups, batch_size=4, min_share=0.0, step_size=5.0, momentum=0.95,
                       relative=False)
        for _ in range(8):
            shares = big.update([10.0, 0.0])
    assert shares[1] == 0.0 and shares.sum() == 1.0
    assert _batch_counts(big, 0)[:, 1].sum() == 0  # the starved group is never drawn


def test_a_refused_state_leaves_the_sampler_as_it_was():
    groups = Groups.from_codes([0] * 10 + [1] * 10)
    s = Adaptive(groups, batch_size=4, step_size=1.0)
    s.update([0.1, 0.9], epoch=0)
    before = s.get_state()
    bad = {**before, "epoch": 3, "step": 1, "history": [[0, [0.9, 0.9]]]}
    with pytest.raises(ValueError, match="distribution"):
        s.set_state(bad)
    assert s.get_state() == before
    with pytest.raises(ValueError, match="velocity"):
        s.set_state({**before, "velocity": [np.nan, 0.0]})
    with pytest.raises(ValueError, match="planned"):
        s.set_state({**before, "planned": -1})
    assert s.get_state() == before


def test_updates_reach_batches_built_in_worker_processes():
    pytest.importorskip("keras")
    from fairtrain.data import SampledPyDataset

    groups = Groups.from_codes([0] * 40 + [1] * 40)
    s = Adaptive(groups, batch_size=8, step_size=2.0, initial_shares="homogeneous")
    ds = SampledPyDataset(s, lambda i: (i, i), workers=2, use_multiprocessing=True)
    try:
        ds.epoch_clock.set(0)
        ds.on_epoch_begin()
        for t in range(len(ds)):
            ds[t]
        ds.on_epoch_end()
        s.update([0.0, 1.0], epoch=0)
        ds.epoch_clock.set(1)
        ds.on_epoch_begin()
        served = np.concatenate([ds[t][0] for t in range(len(ds))])
    finally:
        ds.close()
    assert np.bincount(groups.codes[served], minlength=2)[1] == s.quotas(1)[:, 1].sum()


@pytest.mark.parametrize("losses", [[-1.0, 1.0], [-1.0, 1.001]], ids=["mean-0", "mean-tiny"])
def test_relative_refuses_any_negative_loss(losses):
    """l / mean - 1 means nothing with mixed signs: a mean of 0 froze the shares, a mean
    near 0 made steps of thousands."""
    s = Adaptive(Groups.from_codes([0, 0, 1, 1]), batch_size=2, step_size=0.5)
    with pytest.raises(ValueError, match="relative=False"):
        s.update(losses)
    np.testing.assert_array_equal(s.shares, [0.5, 0.5])


def test_planning_a_late_epoch_does_not_rebuild_every_earlier_table(monkeypatch):
    """Past 64 share changes the table cache was cleared and every plan rebuilt the
    quota tables of all earlier segments: ~5 s per epoch at epoch 90 with 200 groups."""
    import fairtrain.sampling._moving as mod  # where the quota tables are built

    rng = np.random.default_rng(0)
    s = Adaptive(_groups([5] * 6), batch_size=6, step_size=0.5)
    for epoch in range(80):
        s.plan(epoch)
        s.update(rng.random(6), epoch=epoch)
    calls = []
    real = mod.largest_remainder
    monkeypatch.setattr(mod, "largest_remainder", lambda *a: calls.append(1) or real(*a))
    s.plan(80)
    assert len(calls) <= 1
    # and the plan is the one a fresh replay of the same state gives
    twin = Adaptive.from_config(s.get_config())
    twin.set_state(s.get_state())
    monkeypatch.setattr(mod, "largest_remainder", real)
    np.testing.assert_array_equal(twin.plan(80), s.plan(80))


def test_an_update_with_a_bad_epoch_raises_and_changes_nothing():
    sampler = Adaptive(_groups([10, 10, 10]), batch_size=6, step_size=1.0, momentum=0.5)
    with pytest.raises(ValueError, match="epoch"):
        sampler.update([0.1, 0.5, 0.9], epoch=-1)
    fresh = Adaptive(_groups([10, 10, 10]), batch_size=6, step_size=1.0, momentum=0.5)
    # no momentum left behind by the refused update: the next one moves as a first one
    np.testing.assert_array_equal(sampler.update([0.1, 0.5, 0.9]), fresh.update([0.1, 0.5, 0.9]))


def test_a_late_update_made_an_error_by_the_warnings_filter_changes_nothing():
    sampler = Adaptive(_groups([10, 10, 10]), batch_size=6, step_size=1.0, momentum=0.5)
    sampler.plan(2)
    before = sampler.get_state()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="apply from epoch 3"):
            sampler.update([0.1, 0.5, 0.9], epoch=0)
    assert sampler.get_state() == before


def test_adaptive_initial_shares_cannot_be_changed_through_the_attribute():
    # review 4: Adaptive.initial_shares was the live dict behind get_config(); a change
    # to it reached the config but not the shares, so from_config(get_config()) differed
    groups = Groups.from_codes(np.repeat([0, 1, 2], [6, 3, 3]), ["a", "b", "c"])
    s = Adaptive(groups, batch_size=6, initial_shares={"a": 0.2, "b": 0.3, "c": 0.5})
    quotas = s.quotas(0)
    before = s.get_config()
    with contextlib.suppress(TypeError):  # a read-only container is as good as a copy
        shares = s.initial_shares
        shares["a"], shares["c"] = 0.5, 0.2
    assert s.get_config() == before
    again = Adaptive.from_config(json.loads(json.dumps(s.get_config())))
    np.testing.assert_array_equal(again.quotas(0), quotas)


def test_the_dead_schedule_arrays_are_gone_from_the_moving_samplers(monkeypatch):
    # review 4: the CHANGELOG said Adaptive._schedule_arrays (never called) was removed;
    # it had moved to MovingShares, the base of Adaptive and FairBatch, whose overrides
    # of every caller (_drawn_before, _rows, targets) left it never called still
    from fairtrain.sampling._moving import MovingShares

    def called(self):
        raise AssertionError("MovingShares._schedule_arrays was called")

    monkeypatch.setattr(MovingShares, "_schedule_arrays", called)
    groups = Groups.from_codes(np.repeat([0, 1, 2], [6, 3, 3]), ["a", "b", "c"])
    sampler = Adaptive(groups, batch_size=6)
    for epoch in range(3):
        sampler.plan(epoch), sampler.quotas(epoch), sampler.targets(epoch)
        sampler.update([0.3, 0.1, 0.2], epoch=epoch)
    sampler.set_state(sampler.get_state())
    sampler.next_batch()  # all of the above without calling it: dead code
    monkeypatch.undo()
    assert "_schedule_arrays" not in vars(MovingShares)
