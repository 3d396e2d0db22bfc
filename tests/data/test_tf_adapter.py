"""to_tf_dataset and from_group_datasets: exact planned batches, loaded only where planned."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import fairtrain as ft  # noqa: E402
from fairtrain.data import EpochSync, from_group_datasets, to_tf_dataset  # noqa: E402

CODES = np.repeat(np.arange(4), [6, 8, 80, 6])
np.random.default_rng(0).shuffle(CODES)
GROUPS = ft.Groups.from_codes(CODES, ["African", "Asian", "Latin/Caucasian", "Indian"])
CODES_T = tf.constant(CODES)


def index_and_group(i):
    return i, tf.gather(CODES_T, i)


def batches(ds):
    return [tuple(np.asarray(t) for t in b) for b in ds]


def epochs(ds, which):
    """The batches of the given global epochs, as EpochSync makes fit serve them."""
    sync = EpochSync(ds)
    out = []
    for e in which:
        sync.on_epoch_begin(e)
        out += batches(ds)
    return out


@pytest.mark.parametrize("vectorized", [False, True], ids=["per-example", "vectorized"])
@pytest.mark.parametrize("kind", ["homogeneous", "proportional"])
def test_batches_are_exactly_the_plan_rows(kind, vectorized):
    sampler = ft.registry.get("samplers", kind)(GROUPS, batch_size=16, seed=3)
    got = epochs(to_tf_dataset(sampler, index_and_group, vectorized=vectorized), [0, 1])
    expected = [row[row >= 0] for e in range(2) for row in sampler.plan(e)]
    assert len(got) == len(expected) == 2 * sampler.steps_per_epoch
    for (x, y), want in zip(got, expected):
        np.testing.assert_array_equal(x, want)
        np.testing.assert_array_equal(y, CODES[want])


@pytest.mark.parametrize("vectorized", [False, True], ids=["per-example", "vectorized"])
def test_load_runs_only_for_the_planned_indices(vectorized):
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    calls = []

    def record(i):
        calls.append(np.atleast_1d(i).copy())
        return i

    def load(i):
        out = tf.numpy_function(record, [i], tf.int64)
        out.set_shape(i.shape)
        return out

    epochs(to_tf_dataset(sampler, load, vectorized=vectorized), [0, 1])
    loaded = np.sort(np.concatenate(calls))
    planned = np.sort(np.concatenate([sampler.plan(e).ravel() for e in range(2)]))
    np.testing.assert_array_equal(loaded, planned)  # each planned index once, nothing else


def test_nondeterministic_order_keeps_every_batch_intact():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    got = batches(to_tf_dataset(sampler, index_and_group, deterministic=False,
                                num_parallel_calls=4))
    rows = {tuple(r) for r in sampler.plan(0).tolist()}
    assert {tuple(x.tolist()) for x, _ in got} == rows


def test_partial_last_batch_of_proportional():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=32, seed=0)  # 100 = 3*32 + 4
    got = batches(to_tf_dataset(sampler, index_and_group))
    assert [len(x) for x, _ in got] == [32, 32, 32, 4]
    assert sorted(np.concatenate([x for x, _ in got]).tolist()) == list(range(100))


def test_an_iteration_serves_the_epoch_the_clock_says():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=10, seed=5)
    ds = to_tf_dataset(sampler, index_and_group)
    got = epochs(ds, [3, 1])
    steps = sampler.steps_per_epoch
    for (x, _), row in zip(got, np.concatenate([sampler.plan(3), sampler.plan(1)])):
        np.testing.assert_array_equal(x, row)
    assert len(got) == 2 * steps


def test_without_epoch_sync_one_pass_then_a_loud_error():
    # Before: a finite dataset re-iterated by Keras replayed plan(0) every epoch.
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=25, seed=0)
    ds = to_tf_dataset(sampler, index_and_group)
    first = batches(ds)
    np.testing.assert_array_equal(first[0][0], sampler.plan(0)[0])
    with pytest.raises(Exception, match="EpochSync"):
        batches(ds)


@pytest.mark.parametrize("kind", ["to_tf_dataset", "from_group_datasets"])
def test_without_epoch_sync_a_pass_left_unfinished_is_not_an_epoch(kind):
    # Before: a pass counted as it started, so `next(iter(ds)); list(ds)` was refused
    # ("asked for a further epoch") although epoch 0 had not been served once.
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=25, seed=0)
    if kind == "to_tf_dataset":
        ds = to_tf_dataset(sampler, index_and_group)
    else:
        ds = from_group_datasets(sampler, [tf.data.Dataset.from_tensors(np.int64(g))
                                           for g in range(4)])
    peeked = next(iter(ds))
    first = [np.asarray(b[0] if kind == "to_tf_dataset" else b) for b in ds]
    assert len(first) == sampler.steps_per_epoch
    if kind == "to_tf_dataset":
        np.testing.assert_array_equal(np.asarray(peeked[0]), sampler.plan(0)[0])
        for x, row in zip(first, sampler.plan(0), strict=True):
            np.testing.assert_array_equal(x, row)
    else:
        counts = [np.bincount(b, minlength=4).tolist() for b in first]
        assert counts == sampler.quotas(0).tolist()
    with pytest.raises(Exception, match="EpochSync"):
        next(iter(ds))


def test_short_epochs_serve_the_first_rows_of_each_plan():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=10, seed=1)
    ds = to_tf_dataset(sampler, index_and_group, steps_per_epoch=3)
    assert int(ds.cardinality()) == 3
    got = epochs(ds, [0, 1])
    want = np.concatenate([sampler.plan(0)[:3], sampler.plan(1)[:3]])
    for (x, _), row in zip(got, want, strict=True):
        np.testing.assert_array_equal(x, row)


def test_repeat_holds_every_epoch_from_the_clock_on():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=25, seed=0)
    ds = to_tf_dataset(sampler, index_and_group, repeat=True, steps_per_epoch=2)
    EpochSync(ds).on_epoch_begin(1)
    got = batches(ds.take(6))
    want = np.concatenate([sampler.plan(e)[:2] for e in (1, 2, 3)])
    for (x, _), row in zip(got, want, strict=True):
        np.testing.assert_array_equal(x, row)


@pytest.mark.parametrize("name", ["epochs", "initial_epoch", "initial_step"])
def test_arguments_removed_before_0_1_are_plain_unknown_keywords(name):
    # 0.1 ships without the **removed shims: Python's own TypeError names the keyword
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
        to_tf_dataset(sampler, index_and_group, **{name: 1})
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
        from_group_datasets(sampler, [tf.data.Dataset.range(3)] * 4, **{name: 1})


def test_sample_weight_array_and_per_output_dict_are_gathered_at_the_planned_indices():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    w = np.linspace(0.5, 2.0, len(GROUPS)).astype(np.float32)
    got = batches(to_tf_dataset(sampler, index_and_group, sample_weight=w))
    for x, _, wb in got:
        np.testing.assert_allclose(wb, w[x])
    per_output = {"age": w, "race": 2 * w}
    ds = to_tf_dataset(sampler, index_and_group, sample_weight=per_output)
    for x, _, wb in ds:
        np.testing.assert_allclose(wb["age"], w[x.numpy()])
        np.testing.assert_allclose(wb["race"], 2 * w[x.numpy()])


def test_load_may_return_its_own_weights():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    ds = to_tf_dataset(sampler, lambda i: (i, i, tf.cast(i, tf.float32)))
    x, _, w = next(iter(ds))
    np.testing.assert_allclose(w.numpy(), x.numpy().astype(np.float32))


def test_composition_log_records_exactly_the_quotas():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=0, last_batch="drop")
    log = ft.CompositionLog(GROUPS)
    epochs(to_tf_dataset(sampler, index_and_group, composition_log=log), [0, 1])
    expected = np.concatenate([sampler.quotas(0), sampler.quotas(1)])
    np.testing.assert_array_equal(log.counts, expected)


def test_fit_a_two_output_model_with_per_output_weights():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data into fit is exercised under the TensorFlow backend")
    features = tf.constant(np.random.default_rng(0).normal(size=(100, 3)).astype("float32"))
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)

    def load(i):
        x = tf.gather(features, i)
        return x, {"a": tf.reduce_sum(x, -1, keepdims=True), "b": x[..., :1]}

    inp = keras.Input((3,))
    model = keras.Model(inp, {"a": keras.layers.Dense(1, name="a")(inp),
                              "b": keras.layers.Dense(1, name="b")(inp)})
    model.compile(optimizer="sgd", loss={"a": "mse", "b": "mse"})
    w = np.ones(len(GROUPS), np.float32)
    ds = to_tf_dataset(sampler, load, sample_weight={"a": w, "b": 0 * w}, repeat=True)
    history = model.fit(ds, epochs=2, steps_per_epoch=sampler.steps_per_epoch, verbose=0,
                        shuffle=False, callbacks=[EpochSync(ds)])
    assert len(history.history["loss"]) == 2
    assert history.history["b_loss"][-1] == 0.0  # weight 0 silences output "b"


def test_from_group_datasets_gives_exact_quotas_from_streams():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=0, last_batch="drop")
    streams = [tf.data.Dataset.from_tensors(np.int64(g)) for g in range(4)]
    ds = from_group_datasets(sampler, streams)
    sync = EpochSync(ds)
    got = []
    for e in (0, 1):
        sync.on_epoch_begin(e)
        got += [b.numpy() for b in ds]
    counts = np.stack([np.bincount(b, minlength=4) for b in got])
    np.testing.assert_array_equal(counts, np.concatenate([sampler.quotas(0),
                                                          sampler.quotas(1)]))


def test_from_group_datasets_by_name_and_continues_each_stream():
    groups = ft.Groups.from_codes(np.repeat([0, 1], [9, 3]), ["maj", "min"])
    sampler = ft.sampling.Homogeneous(groups, batch_size=4)
    streams = {"maj": tf.data.Dataset.range(100), "min": tf.data.Dataset.range(1000, 1003)}
    got = np.concatenate([b.numpy() for b in from_group_datasets(sampler, streams)])
    assert got[got < 1000].tolist() == list(range(6))  # the majority stream continues
    assert got[got >= 1000].tolist() == [1000, 1001, 1002, 1000, 1001, 1002]  # repeated


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_weight": np.ones(3)}, r"shape \(100,\)"),
        ({"sample_weight": -np.ones(100)}, "negative"),
        ({"steps_per_epoch": 99}, "steps_per_epoch"),
        ({"steps_per_epoch": 0}, "steps_per_epoch"),
        # issue 19 §3: all-zero weights trained on a loss of 0 without a word
        ({"sample_weight": np.zeros(100)}, "0 for every example"),
        ({"sample_weight": {"a": np.zeros(100), "b": np.zeros(100)}}, "0 for every example"),
    ],
    ids=["weight-shape", "negative-weight", "steps-too-many", "steps-zero", "all-zero",
         "all-zero-per-output"],
)
def test_bad_arguments_are_rejected(kwargs, message):
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with pytest.raises(ValueError, match=message):
        to_tf_dataset(sampler, index_and_group, **kwargs)


def test_weights_twice_is_an_error():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with pytest.raises(ValueError, match="already returns sample weights"):
        to_tf_dataset(sampler, lambda i: (i, i, 1.0), sample_weight=np.ones(100))


def test_not_a_sampler_is_a_type_error():
    with pytest.raises(TypeError, match="fairtrain sampler"):
        to_tf_dataset(GROUPS, index_and_group)


def test_from_group_datasets_without_repeat_drops_a_short_batch():
    # Before: a stream running dry mid-batch gave a last batch short of its quotas.
    groups = ft.Groups.from_codes(np.repeat([0, 1], [9, 3]), ["maj", "min"])
    sampler = ft.sampling.Homogeneous(groups, batch_size=4)
    streams = {"maj": tf.data.Dataset.range(100), "min": tf.data.Dataset.range(1000, 1003)}
    got = [b.numpy() for b in from_group_datasets(sampler, streams, repeat=False)]
    assert [len(b) for b in got] == [4]  # the minority ran dry in batch 2: dropped
    assert np.count_nonzero(got[0] >= 1000) == 2
    ds = from_group_datasets(sampler, streams, repeat=False)
    assert len(list(ds)) == 1
    with pytest.raises(Exception, match="EpochSync"):  # a pass that ran dry is an epoch
        next(iter(ds))


def test_epoch_sync_refuses_what_a_feed_cannot_serve_before_training():
    keras = pytest.importorskip("keras")
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=10, seed=0)
    features = tf.constant(np.ones((100, 3), np.float32))

    def load(i):
        return tf.gather(features, i), tf.ones([1])

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    ds = to_tf_dataset(sampler, load)
    with pytest.raises(ValueError, match="steps_per_epoch=3"):
        model.fit(ds, epochs=2, steps_per_epoch=3, callbacks=[EpochSync(ds)], verbose=0,
                  shuffle=False)
    endless = to_tf_dataset(sampler, load, repeat=True)
    with pytest.raises(ValueError, match="repeats forever"):
        model.fit(endless, epochs=1, callbacks=[EpochSync(endless)], verbose=0,
                  shuffle=False)
    with pytest.raises(TypeError, match="derived from one"):
        EpochSync(ds.map(lambda x, y: (x, y)))


@pytest.mark.parametrize("argument", ["prefetch", "num_parallel_calls"])
def test_autotune_given_as_a_numpy_integer_is_autotune(argument):
    import tensorflow as tf

    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=4)
    numpy_autotune = np.int64(tf.data.AUTOTUNE)
    ds = to_tf_dataset(sampler, lambda i: i, vectorized=False, **{argument: numpy_autotune})
    want = to_tf_dataset(sampler, lambda i: i, vectorized=False)
    assert [b.numpy().tolist() for b in ds.take(3)] == [b.numpy().tolist() for b in want.take(3)]
    with pytest.raises(TypeError, match=argument):
        to_tf_dataset(sampler, lambda i: i, vectorized=False, **{argument: np.bool_(True)}
                      if argument == "num_parallel_calls" else {argument: "2"})
