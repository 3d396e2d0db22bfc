"""SampledPyDataset under any Keras backend (the CI reruns these with KERAS_BACKEND=jax)."""

from __future__ import annotations

import numpy as np
import pytest

import fairtrain as ft

keras = pytest.importorskip("keras")
from fairtrain.data import EpochSync, SampledPyDataset  # noqa: E402

pytestmark = pytest.mark.keras_backend

CODES = np.repeat(np.arange(4), [6, 8, 80, 6])
np.random.default_rng(0).shuffle(CODES)
GROUPS = ft.Groups.from_codes(CODES)
FEATURES = np.random.default_rng(1).normal(size=(100, 3)).astype("float32")


def test_batch_t_is_plan_row_t_of_the_clock_s_epoch():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=2)
    ds = SampledPyDataset(sampler, lambda i: (i, CODES[i]))
    assert len(ds) == sampler.steps_per_epoch
    for t in range(len(ds)):
        np.testing.assert_array_equal(ds[t][0], sampler.plan(0)[t])
    sync = EpochSync(ds)
    sync.on_epoch_begin(3)
    assert ds.epoch == 3
    np.testing.assert_array_equal(ds[2][0], sampler.plan(3)[2])
    sync.on_train_end()
    assert ds.epoch is None


def test_initial_epoch_removed_before_0_1_is_a_plain_unknown_keyword():
    # 0.1 ships without the **removed shim: Python's own TypeError names the keyword
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with pytest.raises(TypeError, match="unexpected keyword argument 'initial_epoch'"):
        SampledPyDataset(sampler, lambda i: i, initial_epoch=2)


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=[_ServedIndexSum()])
    return model


def _feed(sampler, **kwargs):
    return SampledPyDataset(sampler, lambda i: (FEATURES[i], i.astype("float32")[:, None]),
                            **kwargs)


def test_without_epoch_sync_one_epoch_works_and_a_second_is_refused():
    # Before: fit(initial_epoch=2) served plan(0), and nothing said so.
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=3, last_batch="drop")
    ds = _feed(sampler)
    history = _model().fit(ds, epochs=1, verbose=0)
    assert history.history["served_index_sum"] == [float(sampler.plan(0).sum())]
    with pytest.raises(RuntimeError, match=r"EpochSync\(dataset\)"):
        _model().fit(_feed(sampler), epochs=2, verbose=0)


def test_initial_epoch_serves_that_epoch_s_plan():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=3, last_batch="drop")
    ds = _feed(sampler)
    history = _model().fit(ds, epochs=4, initial_epoch=2, verbose=0,
                           callbacks=[EpochSync(ds)])
    assert history.history["served_index_sum"] == [
        float(sampler.plan(e).sum()) for e in (2, 3)]


def test_load_batch_runs_only_for_the_planned_indices():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=32, seed=0)
    calls = []
    ds = SampledPyDataset(sampler, lambda i: calls.append(i.copy()) or (i, CODES[i]))
    for t in range(len(ds)):
        ds[t]
    assert [len(c) for c in calls] == [32, 32, 32, 4]  # the partial batch is not padded
    np.testing.assert_array_equal(np.sort(np.concatenate(calls)), np.arange(100))


def test_sample_weight_array_and_dict():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    w = np.linspace(0.1, 1.0, 100).astype("float32")
    x, y, wb = SampledPyDataset(sampler, lambda i: (i, CODES[i]), sample_weight=w)[1]
    np.testing.assert_allclose(wb, w[x])
    x, y, wb = SampledPyDataset(sampler, lambda i: (i, CODES[i]),
                                sample_weight={"a": w, "b": 2 * w})[0]
    np.testing.assert_allclose(wb["b"], 2 * w[x])
    with pytest.raises(ValueError, match=r"shape \(100,\)"):
        SampledPyDataset(sampler, lambda i: (i, i), sample_weight=w[:5])
    with pytest.raises(ValueError, match="must return"):
        SampledPyDataset(sampler, lambda i: i, sample_weight=w)[0]


def test_fit_runs_the_planned_epochs_and_logs_their_composition():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    log = ft.CompositionLog(GROUPS)
    ds = SampledPyDataset(
        sampler,
        lambda i: (FEATURES[i], FEATURES[i].sum(axis=1, keepdims=True)),
        composition_log=log,
        workers=2,
    )
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(ds, epochs=2, verbose=0, callbacks=[EpochSync(ds)])
    expected = np.concatenate([sampler.quotas(0), sampler.quotas(1)])
    # threads may serve batches in any order; each served batch is a planned one
    assert sorted(map(tuple, log.counts.tolist())) == sorted(map(tuple, expected.tolist()))


def test_composition_log_with_multiprocessing_is_refused():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with pytest.raises(ValueError, match="worker processes"):
        SampledPyDataset(sampler, lambda i: i, use_multiprocessing=True,
                         composition_log=ft.CompositionLog(GROUPS))


def test_index_out_of_range():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with pytest.raises(IndexError):
        SampledPyDataset(sampler, lambda i: i)[len(sampler)]


@pytest.mark.parametrize("epoch", [1.9, True, np.float64(1.0)], ids=["float", "bool", "np-float"])
def test_sampled_pydataset_does_not_truncate_an_epoch(epoch):
    # review 4: indices(i, epoch=1.9) and plan_fingerprint(1.9) called int(epoch) and
    # served epoch 1's batch (the truncation TabularDataset.take was fixed for)
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    ds = SampledPyDataset(sampler, lambda i: i)
    with pytest.raises(TypeError, match="`epoch` must be an int"):
        ds.indices(0, epoch=epoch)
    with pytest.raises(TypeError, match="`epoch` must be an int"):
        ds.plan_fingerprint(epoch)
    with pytest.raises(ValueError, match="`epoch` must be an int >= 0"):
        ds.indices(0, epoch=-1)


def test_a_numpy_integer_epoch_is_an_epoch():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    ds = SampledPyDataset(sampler, lambda i: i)
    np.testing.assert_array_equal(ds.indices(1, epoch=np.int64(2)), sampler.plan(2)[1])
    assert ds.plan_fingerprint(np.int32(2)) == ds.plan_fingerprint(2) != ds.plan_fingerprint(1)


class _ServedIndexSum(keras.metrics.Metric):
    """Sum of y_true over an epoch: here y_true is each served example's index."""

    def __init__(self, name="served_index_sum", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.total.assign_add(keras.ops.sum(keras.ops.cast(y_true, "float32")))

    def result(self):
        return keras.ops.convert_to_tensor(self.total)


@pytest.mark.parametrize("shuffle", [False, True], ids=["in-order", "shuffled"])
@pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "two-workers"])
def test_every_epoch_serves_exactly_its_plan(workers, shuffle):
    # Batches built ahead by the workers are keyed by (epoch, index): none of another
    # epoch is ever served. The served indices of each epoch must sum to its plan's.
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=3, last_batch="drop")
    ds = SampledPyDataset(
        sampler,
        lambda i: (FEATURES[i], i.astype("float32")[:, None]),
        workers=workers,
        max_queue_size=4,
    )
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=[_ServedIndexSum()])
    history = model.fit(ds, epochs=3, verbose=0, callbacks=[EpochSync(ds)], shuffle=shuffle)
    served = history.history["served_index_sum"]
    planned = [float(sampler.plan(e).sum()) for e in range(3)]
    assert served == planned


def test_a_validation_feed_serves_the_plan_of_the_epoch_it_validates():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=3, last_batch="drop")
    val_sampler = ft.sampling.Homogeneous(GROUPS, batch_size=16, seed=9)
    train, val = _feed(sampler), _feed(val_sampler)
    history = _model().fit(train, validation_data=val, epochs=3, verbose=0,
                           callbacks=[EpochSync(train), EpochSync(val, validation=True)])
    assert history.history["val_served_index_sum"] == [
        float(val_sampler.plan(e).sum()) for e in range(3)]


@pytest.mark.parametrize("shards", [1, 2])
def test_a_resumed_fit_logs_only_the_batches_it_trained_on(shards):
    """Keras peeks at the first batch(es) before training, when EpochSync has not set the
    epoch yet (so plan(0)'s). Resumed with initial_epoch=1, those batches are never
    trained on: the composition log must not keep them."""
    codes = np.repeat(np.arange(2), [40, 24])
    np.random.default_rng(0).shuffle(codes)
    groups = ft.Groups.from_codes(codes)
    sampler = ft.sampling.Proportional(groups, batch_size=8, seed=0, last_batch="drop")
    x = np.random.default_rng(1).normal(size=(64, 3)).astype("float32")
    y = (codes == 1).astype("float32")
    log = ft.CompositionLog(groups)
    kwargs = {"num_shards": shards, "shard_index": shards - 1} if shards > 1 else {}
    ds = SampledPyDataset(sampler, lambda i: (x[i], y[i]), composition_log=log, **kwargs)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(ds, epochs=2, initial_epoch=1, shuffle=False, verbose=0,
              callbacks=[EpochSync(ds)])
    def expected(*epochs):
        return np.stack([np.bincount(codes[ds.indices(t, e)], minlength=2)
                         for e in epochs for t in range(len(ds))])

    np.testing.assert_array_equal(log.counts, expected(1))
    # A fit from epoch 0, then one resumed at 3: the second fit's peek (plan(0) again)
    # must not take away the batches the first fit trained on.
    log.clear()
    model.fit(ds, epochs=1, shuffle=False, verbose=0, callbacks=[EpochSync(ds)])
    model.fit(ds, epochs=4, initial_epoch=3, shuffle=False, verbose=0,
              callbacks=[EpochSync(ds)])
    np.testing.assert_array_equal(log.counts, expected(0, 3))


def test_all_zero_sample_weights_are_refused_before_training():
    # issue 19 §3: all-zero weights trained on a loss of 0 without a word
    with pytest.warns(ft.groups.GroupPolicyWarning):  # the last example is excluded
        groups = ft.Groups.from_columns({"g": np.append(CODES.astype(str), "tiny")},
                                        min_count=2, policy="drop")
    assert groups.codes[-1] == -1
    sampler = ft.sampling.Homogeneous(groups, batch_size=8)
    only_excluded = np.r_[np.zeros(100), 1.0]   # the one weighted example is never drawn
    for w in (np.zeros(101), only_excluded, {"a": np.zeros(101), "b": np.zeros(101)}):
        with pytest.raises(ValueError, match="0 for every example"):
            SampledPyDataset(sampler, lambda i: (i, i), sample_weight=w)
    # one output weighted 0 (an output left out of the loss) is a choice, not an error
    SampledPyDataset(sampler, lambda i: (i, i),
                     sample_weight={"a": np.ones(101), "b": np.zeros(101)})


# JAX warns at every fork; load_batch here is NumPy only (see test_epoch_contract).
_FORK_OK = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")


@_FORK_OK
def test_worker_processes_end_when_the_dataset_is_collected():
    # Before: a module-level registry held every multiprocessing dataset, so
    # `__del__` never ran and its worker processes lived as long as the interpreter.
    import gc
    import multiprocessing
    import time

    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    before = set(multiprocessing.active_children())
    ds = SampledPyDataset(sampler, lambda i: (i, i), workers=2, use_multiprocessing=True)
    np.testing.assert_array_equal(ds[0][0], sampler.plan(0)[0])
    workers = set(multiprocessing.active_children()) - before
    assert len(workers) == 2
    del ds
    gc.collect()
    deadline = time.monotonic() + 30
    while any(p.is_alive() for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(p.is_alive() for p in workers)


def test_keras_pool_settings_are_read_only_and_say_fairtrain_runs_the_pool():
    # Before: `ds.workers` read 1 after workers=4 with nothing to say why, and
    # `ds.workers = 4` was accepted, which made Keras run its own enqueuer on top of
    # fairtrain's pool (batches of the next epoch built before its number arrived).
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    ds = SampledPyDataset(sampler, lambda i: i, workers=4, use_multiprocessing=True)
    assert (ds.prefetch_workers, ds.prefetch_processes) == (4, True)
    assert (ds.workers, ds.use_multiprocessing) == (1, False)  # what Keras runs
    for name in ("workers", "use_multiprocessing"):
        with pytest.raises(AttributeError, match="prefetch_workers"):
            setattr(ds, name, 4)
    assert (ds.workers, ds.use_multiprocessing) == (1, False)
