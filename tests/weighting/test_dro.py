"""GroupDRO weights and the GroupLossProbe callback that feeds them and the Adaptive sampler."""

from __future__ import annotations

import contextlib
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairtrain import Groups
from fairtrain.weighting.dro import GroupDRO

counts_st = st.lists(st.integers(1, 40), min_size=2, max_size=6)
loss_st = st.floats(0.0, 10.0, allow_nan=False)


def _groups(counts):
    return Groups.from_codes(np.repeat(np.arange(len(counts)), counts))


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, data=st.data(), step=st.floats(0.0, 3.0), adj=st.floats(0.0, 2.0))
def test_weights_follow_the_exponentiated_gradient_rule_step_by_step(counts, data, step, adj):
    # The oracle: the rule of the Notes in plain Python, multiplied out and normalised
    # (GroupDRO works in the log domain): q_g <- q_g exp(eta (l_g + C / sqrt(n_g))),
    # no step for a group not measured (NaN), from q = 1/k.
    k = len(counts)
    dro = GroupDRO(_groups(counts), step_size=step, adjustment=adj)
    q = [1.0 / k] * k
    for _ in range(data.draw(st.integers(1, 5))):
        losses = data.draw(st.lists(st.one_of(loss_st, st.just(np.nan)), min_size=k,
                                    max_size=k))
        raw = [qg if math.isnan(lg) else qg * math.exp(step * (lg + adj / math.sqrt(n)))
               for qg, lg, n in zip(q, losses, counts)]
        q = [v / sum(raw) for v in raw]
        assert dro.update(losses).tolist() == pytest.approx(q, rel=1e-9, abs=0)
        assert dro.group_weights.tolist() == pytest.approx(q, rel=1e-9, abs=0)
        assert dro.history[-1][1].tolist() == pytest.approx(q, rel=1e-9, abs=0)


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, loss=loss_st, step=st.floats(0.0, 3.0))
def test_equal_losses_do_not_move_the_weights(counts, loss, step):
    dro = GroupDRO(_groups(counts), step_size=step)
    before = dro.group_weights
    dro.update([loss] * len(counts))
    np.testing.assert_allclose(dro.group_weights, before, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, data=st.data(), step=st.floats(0.01, 3.0))
def test_weights_move_toward_the_higher_loss_group(counts, data, step):
    k = len(counts)
    dro = GroupDRO(_groups(counts), step_size=step)
    losses = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)))
    worst = data.draw(st.integers(0, k - 1))
    losses[worst] = 2.0
    before = dro.group_weights
    after = dro.update(losses)
    assert after[worst] > before[worst]
    assert after[int(np.argmin(losses))] <= before[int(np.argmin(losses))] + 1e-12


def test_exponentiated_gradient_numbers():
    dro = GroupDRO(_groups([3, 1]), step_size=1.0)
    q = dro.update([0.0, 1.0])
    np.testing.assert_allclose(q, [1 / (1 + np.e), np.e / (1 + np.e)])
    # Sagawa's adjustment C / sqrt(n_g) is added to the measured losses.
    adj = GroupDRO(_groups([4, 1]), step_size=1.0, adjustment=1.0)
    q = adj.update([0.0, 0.0])
    a, b = np.exp(1 / 2), np.exp(1.0)
    np.testing.assert_allclose(q, [a / (a + b), b / (a + b)])


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=2, max_size=4), data=st.data())
def test_weighted_batch_mean_is_the_dro_objective(counts, data):
    """With a batch of composition r (the batch shares), mean(w * l) = sum_g q_g L_g."""
    k = len(counts)
    groups = _groups(counts)
    per_group = data.draw(st.lists(st.integers(1, 4), min_size=k, max_size=k))
    r = np.asarray(per_group, float) / sum(per_group)
    dro = GroupDRO(groups, step_size=0.5, batch_shares=r.tolist())
    dro.update(data.draw(st.lists(loss_st, min_size=k, max_size=k)))
    if any(per_group[g] > counts[g] for g in range(k)):
        return  # a group too small for this composition
    batch = np.concatenate([groups.members()[g][: per_group[g]] for g in range(k)])
    example_loss = np.random.default_rng(0).random(len(groups))
    w = dro.sample_weight(batch)
    mean_l = np.array([example_loss[batch][groups.codes[batch] == g].mean() for g in range(k)])
    np.testing.assert_allclose(np.mean(w * example_loss[batch]),
                               dro.group_weights @ mean_l, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(counts=counts_st, data=st.data())
def test_state_round_trips(counts, data):
    k = len(counts)
    dro = GroupDRO(_groups(counts), step_size=0.3)
    for _ in range(data.draw(st.integers(0, 3))):
        dro.update(data.draw(st.lists(loss_st, min_size=k, max_size=k)))
    twin = GroupDRO.from_config(dro.get_config())
    twin.set_state(json.loads(json.dumps(dro.get_state())))
    assert twin.get_state() == dro.get_state()
    more = data.draw(st.lists(loss_st, min_size=k, max_size=k))
    np.testing.assert_array_equal(twin.update(more), dro.update(more))


def test_weighted_loader_and_errors():
    groups = _groups([3, 1])
    dro = GroupDRO(groups, step_size=1.0)
    load = dro.weighted(lambda idx: (idx * 2, idx))
    x, y, w = load(np.array([0, 3]))
    np.testing.assert_allclose(w, [0.5 / 0.75, 0.5 / 0.25])
    dro.update([0.0, 5.0])
    assert load(np.array([3]))[2][0] > 2.0  # follows the update
    with pytest.raises(ValueError, match=r"return \(x, y\)"):
        dro.weighted(lambda idx: idx)(np.array([0]))
    with pytest.raises(TypeError, match="callable"):
        dro.weighted(3)
    with pytest.raises(ValueError, match="in \\[0, 4\\)"):
        dro.sample_weight([4])
    with pytest.raises(ValueError, match="step_size"):
        GroupDRO(groups, step_size=-1)
    with pytest.raises(ValueError, match="`batch_shares` must be a positive share for every"):
        GroupDRO(groups, batch_shares=[1.0, 0.0])
    with pytest.raises(ValueError, match="summing to 1"):
        dro.set_state({"group_weights": [0.9, 0.9]})


# ---------------------------------------------------------------------- the probe


def test_stratified_probe_indices():
    from fairtrain.callbacks.probe import stratified_indices

    codes = np.repeat([0, 1, 2, -1], [100, 3, 20, 5])
    groups = Groups(codes, ["0", "1", "2"])  # the last 5 examples excluded (code -1)
    idx = stratified_indices(groups, 30, seed=1)
    assert idx.size == 30 and np.all(codes[idx] >= 0)
    assert np.bincount(codes[idx]).tolist() == [14, 3, 13]
    assert np.array_equal(idx, stratified_indices(groups, 30, seed=1))
    assert stratified_indices(groups, 10_000).size == 123
    # a column of labels is groups as everywhere (here the label -1 is a group)
    assert stratified_indices(codes, 10_000).size == 128


def _major_minor():
    """120 examples, 90 of group "major" then 30 of "minor", 3 features, binary labels.

    The minority's label follows other features: a linear model fits it worse.
    """
    rng = np.random.default_rng(0)
    codes = np.repeat([0, 1], [90, 30])
    x = rng.normal(size=(120, 3)).astype("float32")
    y = np.where(codes == 0, x[:, 0] > 0, x[:, 1] * x[:, 2] > 0).astype("float32")
    return Groups.from_codes(codes, ["major", "minor"]), x, y


@pytest.mark.keras_backend
@pytest.mark.parametrize("workers", [1, 2])
def test_probe_updates_sampler_and_dro_and_logs_them_during_fit(workers):
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks.probe import GroupLossProbe
    from fairtrain.data import EpochSync, SampledPyDataset
    from fairtrain.sampling import Adaptive, CompositionLog

    groups, x, y = _major_minor()
    sampler = Adaptive(groups, batch_size=12, step_size=1.0, seed=0)
    dro = GroupDRO(groups, step_size=1.0, batch_shares="batch")  # the shares move
    log = CompositionLog(groups)
    ds = SampledPyDataset(sampler, dro.weighted(lambda i: (x[i], y[i])), composition_log=log,
                          workers=workers)  # 2: batches built ahead in threads
    probe = GroupLossProbe(x, y, groups, consumers=[sampler, dro], size=60)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    history = model.fit(ds, epochs=3, callbacks=[EpochSync(ds), probe], verbose=0)
    logs = history.history
    for key in ("share_major", "share_minor", "dro_weight_major", "dro_weight_minor",
                "dro_step_size", "group_loss_major", "group_loss_minor"):
        assert len(logs[key]) == 3, key
    np.testing.assert_allclose(logs["share_minor"][-1], sampler.shares[1])
    np.testing.assert_allclose(logs["dro_weight_minor"][-1], dro.group_weights[1])
    assert logs["dro_step_size"] == [1.0] * 3
    # Both consumers moved toward the group whose loss was higher after epoch 0 (which
    # group that is depends on the backend's initial weights, not on fairtrain).
    first = np.array([logs["group_loss_major"][0], logs["group_loss_minor"][0]])
    hi = int(np.argmax(first))
    assert first[hi] > first[1 - hi]
    assert sampler.history[1][1][hi] > sampler.history[0][1][hi]
    dro_history = dro.get_state()["history"]  # [[epoch, q], ...], as Adaptive's
    assert [e for e, _ in dro_history] == [0, 1, 2, 3]  # as the sampler's below
    assert dro_history[1][1][hi] > dro_history[0][1][hi]
    # Epoch e was served with the shares after the updates of epochs < e.
    assert [e for e, _ in sampler.history] == [0, 1, 2, 3]
    served = log.counts.reshape(3, sampler.steps_per_epoch, 2)
    for epoch in range(3):  # fit may visit an epoch's batches in any order
        key = lambda rows: sorted(map(tuple, rows))  # noqa: E731
        assert key(served[epoch]) == key(sampler.quotas(epoch))
    assert int(sampler.quotas(0)[:, 1].sum()) == 30  # epoch 0: the initial shares
    assert sampler.quotas(1)[:, hi].sum() > sampler.quotas(0)[:, hi].sum()


def test_probe_errors():
    pytest.importorskip("keras")
    from fairtrain.callbacks.probe import GroupLossProbe
    from fairtrain.sampling import Adaptive

    groups = _groups([4, 4])
    sampler = Adaptive(groups, batch_size=2)
    x, y = np.zeros((8, 2)), np.zeros(8)
    with pytest.raises(ValueError, match="same length"):
        GroupLossProbe(x[:5], y, groups, consumers=[sampler])
    with pytest.raises(TypeError, match="update"):
        GroupLossProbe(x, y, groups, consumers=[object()])
    with pytest.raises(ValueError, match="empty"):
        GroupLossProbe(x, y, groups, consumers=[])
    with pytest.warns(UserWarning, match=r"no example of group\(s\) \['1'\]"):
        GroupLossProbe(x[:4], y[:4], np.zeros(4, dtype=np.int64), consumers=[sampler])
    other = Groups.from_codes(groups.codes, ["a", "b"])
    with pytest.raises(ValueError, match=r"`groups` must be named as the consumers' groups"):
        GroupLossProbe(x, y, other, consumers=[sampler])


class EpochRecorder:
    """A consumer that records the epoch of every update."""

    def __init__(self):
        self.calls = []

    def update(self, group_losses, *, epoch=None):
        self.calls.append(epoch)


def _probe_data():
    """32 examples of 2 features, a binary target, two groups of 16."""
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    return x, (x[:, 0] > 0).astype("float32"), np.repeat([0, 1], 16)


@pytest.mark.keras_backend
def test_probe_every_step_unit_updates_with_the_current_epoch():
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks.probe import GroupLossProbe

    class Recorder:
        def __init__(self):
            self.calls = []

        def update(self, group_losses, *, epoch=None):
            self.calls.append((epoch, np.asarray(group_losses).shape))

    x, y, codes = _probe_data()
    recorder = Recorder()
    probe = GroupLossProbe(x, y, codes, consumers=[recorder], size=8, every=2, unit="step",
                           loss="mse")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, callbacks=[probe], verbose=0)
    # 4 batches per epoch, an update every 2: epochs 0, 0, 1, 1.
    assert recorder.calls == [(0, (2,)), (0, (2,)), (1, (2,)), (1, (2,))]
    assert len(history.history["group_loss_0"]) == 2
    # A period longer than an epoch: epoch 0 has no measurement yet. Its logs must still
    # hold the keys (NaN), or History's lists shift by an epoch against history.epoch.
    late = GroupLossProbe(x, y, codes, consumers=[Recorder()], size=8, every=6, unit="step",
                          loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, callbacks=[late], verbose=0)
    assert len(history.history["group_loss_0"]) == 2
    assert np.isnan(history.history["group_loss_0"][0])
    assert not np.isnan(history.history["group_loss_0"][1])


@pytest.mark.keras_backend
def test_probe_every_step_unit_counts_global_steps_so_resume_keeps_the_cadence():
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks.probe import GroupLossProbe

    x, y, codes = _probe_data()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    def run(initial_epoch):
        rec = EpochRecorder()
        probe = GroupLossProbe(x, y, codes, consumers=[rec], size=8, every=3, unit="step",
                               loss="mse")
        model.fit(x, y, batch_size=8, epochs=3, initial_epoch=initial_epoch,
                  callbacks=[probe], verbose=0)
        return rec.calls

    # 4 batches per epoch, an update every 3 global steps: steps 3, 6, 9, 12.
    whole = run(0)
    assert whole == [0, 1, 2, 2]
    # Resumed at epoch 1 (e.g. after BackupAndRestore): the same updates from there on.
    assert run(1) == [e for e in whole if e >= 1]


def test_state_carries_the_step_size_and_huge_steps_do_not_warn():
    import warnings

    dro = GroupDRO(_groups([3, 1]), step_size=0.01)
    dro.step_size = 0.5  # e.g. changed by a schedule during training
    twin = GroupDRO.from_config({**dro.get_config(), "step_size": 0.01})
    twin.set_state(json.loads(json.dumps(dro.get_state())))
    assert twin.step_size == 0.5 and twin.get_state() == dro.get_state()
    with pytest.raises(ValueError, match="step_size"):
        twin.set_state({**dro.get_state(), "step_size": -1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = GroupDRO(_groups([3, 1]), step_size=50.0)
        for _ in range(3):
            q = big.update([0.0, 100.0])  # q_0 underflows to 0, then log(0)
    assert q.tolist() == [0.0, 1.0]


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(4, 30), min_size=2, max_size=4), data=st.data())
def test_batch_weights_give_the_dro_objective_under_an_adaptive_sampler(counts, data):
    """batch_shares="batch": every batch's mean weighted loss is sum_g q_g L_g of the batch,
    also after the Adaptive sampler moved its shares away from any fixed r."""
    from fairtrain.sampling import Adaptive

    k = len(counts)
    groups = _groups(counts)
    sampler = Adaptive(groups, batch_size=8, step_size=2.0, seed=1)
    dro = GroupDRO(groups, step_size=0.5, batch_shares="batch")
    losses = data.draw(st.lists(loss_st, min_size=k, max_size=k))
    sampler.update(losses, epoch=0)
    dro.update(losses)
    example_loss = np.random.default_rng(0).random(len(groups))
    for row in sampler.plan(1):
        w = dro.sample_weight(row)
        present = np.unique(groups.codes[row])
        mean_l = np.array([example_loss[row][groups.codes[row] == g].mean() for g in present])
        np.testing.assert_allclose(np.mean(w * example_loss[row]),
                                   dro.group_weights[present] @ mean_l, rtol=1e-5)


def test_probe_warns_when_dro_weights_assume_fixed_shares_beside_an_adaptive_sampler():
    pytest.importorskip("keras")
    from fairtrain.callbacks.probe import GroupLossProbe
    from fairtrain.sampling import Adaptive

    groups = _groups([4, 4])
    x, y = np.zeros((8, 2)), np.zeros(8)
    sampler = Adaptive(groups, batch_size=2)
    with pytest.warns(UserWarning, match='batch_shares="batch"'):
        GroupLossProbe(x, y, groups, consumers=[sampler, GroupDRO(groups)])
    GroupLossProbe(x, y, groups, consumers=[sampler, GroupDRO(groups, batch_shares="batch")])


def test_array_batch_shares_and_batch_mode_errors():
    groups = _groups([3, 1])
    dro = GroupDRO(groups, step_size=1.0, batch_shares=np.array([0.75, 0.25]))
    np.testing.assert_allclose(dro.sample_weight([0, 3]), [0.5 / 0.75, 0.5 / 0.25])
    per_batch = GroupDRO(groups, batch_shares="batch")
    np.testing.assert_allclose(per_batch.sample_weight([0, 1, 3]), [0.75, 0.75, 1.5])
    assert per_batch.sample_weight([]).shape == (0,)
    with pytest.raises(ValueError, match="sample_weight"):
        per_batch.example_weights()
    with pytest.raises(ValueError, match='"batch"'):
        GroupDRO(groups, batch_shares="uniform")


@pytest.mark.parametrize("repeat", [False, True], ids=["per-epoch", "repeat"])
def test_probe_with_to_tf_dataset_plans_each_epoch_after_the_last_update(repeat):
    """tf.data feed + EpochSync + probe: epoch e serves the shares after epochs < e."""
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("to_tf_dataset feeds fit under the TensorFlow backend")
    import tensorflow as tf

    from fairtrain.callbacks.probe import GroupLossProbe
    from fairtrain.data import EpochSync, to_tf_dataset
    from fairtrain.sampling import Adaptive, CompositionLog

    groups, x, y = _major_minor()
    sampler = Adaptive(groups, batch_size=12, step_size=1.0, seed=0)
    log = CompositionLog(groups)
    xt, yt = tf.constant(x), tf.constant(y)
    steps = sampler.steps_per_epoch
    ds = to_tf_dataset(sampler, lambda i: (tf.gather(xt, i), tf.gather(yt, i)),
                       composition_log=log, repeat=repeat, prefetch=False,
                       steps_per_epoch=steps)
    probe = GroupLossProbe(x, y, groups, consumers=[sampler], size=60)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        model.fit(ds, epochs=3, verbose=0, callbacks=[EpochSync(ds), probe], shuffle=False,
                  steps_per_epoch=steps if repeat else None)
    shifted = [w for w in caught if "apply from epoch" in str(w.message)]
    if repeat:  # one iterator across epochs may plan ahead: then the warning says so
        firsts = [e for e, _ in sampler.history]
        assert firsts == [0, 1, 2, 3] or shifted
    else:
        assert not shifted
        assert [e for e, _ in sampler.history] == [0, 1, 2, 3]
    served = log.counts[: 3 * steps].reshape(3, steps, 2)
    for epoch in range(3):  # what was served is what the sampler says it planned
        assert sorted(map(tuple, served[epoch])) == sorted(map(tuple, sampler.quotas(epoch)))


@pytest.mark.keras_backend
def test_probe_measures_dict_inputs_and_refuses_reduced_losses():
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks.probe import GroupLossProbe

    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(20, 2)).astype("float32"),
         "b": rng.normal(size=(20, 1)).astype("float32")}
    y = rng.normal(size=20).astype("float32")
    codes = np.repeat([0, 1], 10)

    class Sink:
        def update(self, group_losses, *, epoch=None):
            pass

    ia, ib = keras.Input((2,), name="a"), keras.Input((1,), name="b")
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([ia, ib]))
    model = keras.Model({"a": ia, "b": ib}, out)
    pred = model.predict(x, verbose=0)[:, 0]
    probe = GroupLossProbe(x, y, codes, consumers=[Sink()], loss="mse")  # all 20 rows
    probe.set_model(model)
    expected = [np.mean((pred[codes == g] - y[codes == g]) ** 2) for g in (0, 1)]
    np.testing.assert_allclose(probe.measure(), expected, rtol=1e-5)
    probe = GroupLossProbe(x, y, codes, consumers=[Sink()], loss="mse", size=8)
    probe.set_model(model)
    idx = probe.indices
    assert np.bincount(codes[idx]).tolist() == [4, 4]  # 8 rows, split equally
    expected = [np.mean((pred[idx][codes[idx] == g] - y[idx][codes[idx] == g]) ** 2)
                for g in (0, 1)]
    np.testing.assert_allclose(probe.measure(), expected, rtol=1e-5)
    reduced = GroupLossProbe(x, y, codes, consumers=[Sink()], size=8,
                             loss=lambda t, p: keras.ops.mean((t - p) ** 2))
    reduced.set_model(model)
    with pytest.raises(ValueError, match="per-example loss"):
        reduced.measure()
    uncompiled = GroupLossProbe(x, y, codes, consumers=[Sink()], size=8)
    uncompiled.set_model(model)
    with pytest.raises(ValueError, match="loss="):
        uncompiled.measure()


def test_weighted_loader_refuses_to_run_in_a_forked_worker():
    """A forked worker's copy of the weights misses every later update: refused loudly."""
    pytest.importorskip("keras")
    from fairtrain.data import SampledPyDataset
    from fairtrain.sampling import Proportional

    groups = Groups.from_codes([0] * 8 + [1] * 8)
    dro = GroupDRO(groups, step_size=0.5)
    x = np.arange(16, dtype="float32")
    ds = SampledPyDataset(Proportional(groups, batch_size=4, seed=0),
                          dro.weighted(lambda i: (x[i], x[i])), workers=2,
                          use_multiprocessing=True)
    try:
        ds.epoch_clock.set(0)
        ds.on_epoch_begin()
        with pytest.raises(RuntimeError, match="another process"):
            ds[0]
    finally:
        ds.close()
    # in the training process the same loader works
    assert len(dro.weighted(lambda i: (x[i], x[i]))(np.array([0, 9]))) == 3


@pytest.mark.keras_backend
def test_probe_every_step_unit_counts_batches_with_steps_per_execution():
    """Keras calls on_train_batch_end once per execution (``batch`` its last batch): the
    cadence is in training batches, whatever ``steps_per_execution``."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() == "torch":
        pytest.skip("Keras refuses steps_per_execution > 1 under torch")
    from fairtrain.callbacks.probe import GroupLossProbe

    x, y, codes = _probe_data()
    calls = {}
    for spe in (1, 2):
        rec = EpochRecorder()
        probe = GroupLossProbe(x, y, codes, consumers=[rec], size=8, every=2, unit="step",
                               loss="mse")
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=spe)
        model.fit(x, y, batch_size=8, epochs=2, callbacks=[probe], verbose=0)
        calls[spe] = rec.calls
    # 4 batches per epoch, an update every 2 batches: after batches 2, 4, 6, 8.
    assert calls[1] == [0, 0, 1, 1]
    assert calls[2] == calls[1]


@pytest.mark.keras_backend
def test_probe_shards_across_processes_sum_to_the_whole_probe(monkeypatch):
    """Under the Keras distribution API across processes, ``model.predict`` returns a
    global array no process can read (found with two real JAX processes). Each process
    now measures its shard with its local weights and one all-reduce sums the per-group
    sums and counts. Here, one process plays both ranks; the collective is a stand-in
    that adds the other rank's vector. The oracle is the one-process measurement.
    Two real JAX processes: tests/data/test_jax_multiprocess_probe.py."""
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks import probe as probe_module

    class Recorder:
        def update(self, group_losses, *, epoch=None):
            pass

    rng = np.random.default_rng(0)
    x = rng.normal(size=(21, 2)).astype("float32")
    y = rng.normal(size=21).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    codes = np.repeat([0, 1, 2], 7)
    probe = probe_module.GroupLossProbe(x, y, codes, consumers=[Recorder()], loss="mse")
    probe.set_model(model)
    probe.on_train_begin()
    whole = probe.measure()  # one process
    vectors = {}
    for rank in (0, 1):  # each rank's own vector (sums, counts)
        probe._processes = (2, rank)
        monkeypatch.setattr(probe_module, "sum_across_processes",
                            lambda v, r=rank: vectors.setdefault(r, np.array(v)))
        probe.measure()
    # the shards split the probe set: 11 and 10 examples, every group in both
    assert vectors[0][3:].sum() == 11 and vectors[1][3:].sum() == 10
    for rank in (0, 1):
        probe._processes = (2, rank)
        monkeypatch.setattr(probe_module, "sum_across_processes",
                            lambda v: vectors[0] + vectors[1])
        np.testing.assert_allclose(probe.measure(), whole, rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, data=st.data(), step=st.floats(0.01, 3.0), adj=st.floats(0.0, 2.0))
def test_weights_are_the_softmax_of_the_summed_steps_for_any_loss_scale(counts, data, step,
                                                                        adj):
    # issue 19 §3: an MSE in years² (1e4) underflowed a weight to exactly 0, and a 0
    # stayed 0 for the rest of training. Exponentiated gradient from equal weights is
    # q = softmax(eta * sum over updates of (l + C / sqrt(n))) (scipy as the oracle).
    from scipy.special import softmax

    k = len(counts)
    dro = GroupDRO(_groups(counts), step_size=step, adjustment=adj)
    total = np.zeros(k)
    big = st.floats(0.0, 1e6, allow_nan=False)
    for _ in range(data.draw(st.integers(1, 5))):
        losses = np.array(data.draw(st.lists(st.one_of(big, st.just(np.nan)),
                                             min_size=k, max_size=k)))
        measured = ~np.isnan(losses)
        total[measured] += step * (losses + adj / np.sqrt(counts))[measured]
        dro.update(losses)
        np.testing.assert_allclose(dro.group_weights, softmax(total), rtol=1e-9, atol=1e-300)


def test_a_group_outweighed_by_a_huge_loss_recovers():
    dro = GroupDRO(_groups([3, 1]), step_size=1.0)
    dro.update([1e4, 0.0])                    # q_1 = exp(-1e4) / (...) underflows to 0.0
    assert dro.group_weights.tolist() == [1.0, 0.0]
    dro.update([0.0, 1e4])                    # the opposite step: back to equal weights
    np.testing.assert_allclose(dro.group_weights, [0.5, 0.5])
    twin = GroupDRO(_groups([3, 1]), step_size=1.0)   # and a resumed run goes on the same
    twin.update([1e4, 0.0])
    resumed = GroupDRO(_groups([3, 1]), step_size=1.0)
    resumed.set_state(json.loads(json.dumps(twin.get_state())))
    np.testing.assert_allclose(resumed.update([0.0, 1e4]), [0.5, 0.5])


@pytest.mark.parametrize("indices", [[0.7, 3.2], np.array([0.0, 3.0])],
                         ids=["fractions", "whole-floats"])
def test_sample_weight_refuses_float_indices(indices):
    # issue 19 §3: float indices were truncated to other examples without a word
    dro = GroupDRO(_groups([3, 1]), step_size=1.0)
    with pytest.raises(TypeError, match="integers"):
        dro.sample_weight(indices)
    assert dro.sample_weight([]).shape == (0,)
    np.testing.assert_allclose(dro.sample_weight(np.array([0, 3], np.int32)),
                               [0.5 / 0.75, 0.5 / 0.25])


@pytest.mark.parametrize("history", [
    "not a list", [["a", "b"]], [[0.5]], 3, [],
    # saved before the renumbering: initial entry None, updates at the epoch measured
    [[None, [0.5, 0.5]], [3, [0.4, 0.6]]],
    [[1, [0.5, 0.5]]],
])
def test_set_state_with_a_bad_history_changes_nothing(history):
    dro = GroupDRO(_groups([30, 10]), step_size=1.0)
    dro.update([0.1, 2.0])
    before = (dro.group_weights, dro.history, dro.get_state())
    other = GroupDRO(_groups([30, 10]), step_size=0.5)
    other.update([3.0, 0.1])
    state = {**other.get_state(), "history": history}
    with pytest.raises((ValueError, TypeError)):
        dro.set_state(state)
    np.testing.assert_array_equal(dro.group_weights, before[0])
    assert [(e, h.tolist()) for e, h in dro.history] == [(e, h.tolist()) for e, h in before[1]]
    assert dro.get_state() == before[2]


def test_group_dro_batch_shares_cannot_desynchronise_config_and_weights():
    # review 4: GroupDRO.batch_shares was the live list behind get_config() while the
    # weights used a private copy: after a change to it, from_config(get_config())
    # weighed the examples otherwise
    groups = Groups.from_codes(np.repeat([0, 1, 2], [6, 3, 3]), ["a", "b", "c"])
    dro = GroupDRO(groups, batch_shares=[0.5, 0.25, 0.25])
    weights = dro.example_weights()
    before = dro.get_config()
    with contextlib.suppress(TypeError):  # a read-only container is as good as a copy
        shares = dro.batch_shares
        shares[0], shares[2] = 0.25, 0.5
    assert dro.get_config() == before
    again = GroupDRO.from_config(json.loads(json.dumps(dro.get_config())))
    np.testing.assert_array_equal(again.example_weights(), weights)


def test_group_dro_and_adaptive_histories_number_one_update_alike():
    # review 4: the same update(losses, epoch=0) was recorded as epoch 0 by GroupDRO
    # (the epoch measured) and epoch 1 by Adaptive (the first epoch it applies to),
    # "like Adaptive.history" (CHANGELOG) in shape only. Both now record the first
    # epoch the new values are used for, the initial values at epoch 0.
    from fairtrain.sampling import Adaptive

    groups = Groups.from_codes(np.repeat([0, 1, 2], [6, 3, 3]), ["a", "b", "c"])
    sampler, dro = Adaptive(groups, batch_size=6), GroupDRO(groups)
    for epoch in (0, 1, 3):
        sampler.update([0.1, 0.5, 0.2], epoch=epoch)
        dro.update([0.1, 0.5, 0.2], epoch=epoch)
    assert [e for e, _ in dro.history] == [e for e, _ in sampler.history] == [0, 1, 2, 4]
    assert [e for e, _ in dro.get_state()["history"]] == [0, 1, 2, 4]
    dro.update([0.1, 0.5, 0.2])  # no epoch given: GroupDRO cannot know it
    assert dro.history[-1][0] is None
