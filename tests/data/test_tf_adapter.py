"""to_tf_dataset and from_group_datasets: exact planned batches, loaded only where planned."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import fairtrain as ft  # noqa: E402
from fairtrain.data import from_group_datasets, to_tf_dataset  # noqa: E402

CODES = np.repeat(np.arange(4), [6, 8, 80, 6])
np.random.default_rng(0).shuffle(CODES)
GROUPS = ft.Groups.from_codes(CODES, ["African", "Asian", "Latin/Caucasian", "Indian"])
CODES_T = tf.constant(CODES)


def index_and_group(i):
    return i, tf.gather(CODES_T, i)


def batches(ds):
    return [tuple(np.asarray(t) for t in b) for b in ds]


@pytest.mark.parametrize("vectorized", [False, True], ids=["per-example", "vectorized"])
@pytest.mark.parametrize("kind", ["homogeneous", "proportional"])
def test_batches_are_exactly_the_plan_rows(kind, vectorized):
    sampler = ft.registry.get("samplers", kind)(GROUPS, batch_size=16, seed=3)
    got = batches(to_tf_dataset(sampler, index_and_group, epochs=2, vectorized=vectorized))
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

    ds = to_tf_dataset(sampler, load, epochs=2, vectorized=vectorized)
    for _ in ds:
        pass
    loaded = np.sort(np.concatenate(calls))
    planned = np.sort(np.concatenate([sampler.plan(e).ravel() for e in range(2)]))
    np.testing.assert_array_equal(loaded, planned)  # each planned index once, nothing else


def test_nondeterministic_order_keeps_every_batch_intact():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    got = batches(to_tf_dataset(sampler, index_and_group, epochs=1, deterministic=False,
                                num_parallel_calls=4))
    rows = {tuple(r) for r in sampler.plan(0).tolist()}
    assert {tuple(x.tolist()) for x, _ in got} == rows


def test_partial_last_batch_of_proportional():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=32, seed=0)  # 100 = 3*32 + 4
    got = batches(to_tf_dataset(sampler, index_and_group, epochs=1))
    assert [len(x) for x, _ in got] == [32, 32, 32, 4]
    assert sorted(np.concatenate([x for x, _ in got]).tolist()) == list(range(100))


def test_resume_at_an_epoch_and_step_yields_what_an_uninterrupted_run_would():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=10, seed=5)
    full = batches(to_tf_dataset(sampler, index_and_group, epochs=3))
    sampler.set_state({"epoch": 1, "step": 4})
    state = sampler.get_state()
    resumed = batches(to_tf_dataset(sampler, index_and_group, epochs=2,
                                     initial_epoch=state["epoch"],
                                     initial_step=state["step"]))
    skip = sampler.steps_per_epoch + 4
    assert len(resumed) == len(full) - skip
    for (a, _), (b, _) in zip(resumed, full[skip:]):
        np.testing.assert_array_equal(a, b)


def test_repeats_forever_by_default():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=25, seed=0)
    got = batches(to_tf_dataset(sampler, index_and_group).take(3 * sampler.steps_per_epoch))
    np.testing.assert_array_equal(got[-1][0], sampler.plan(2)[-1])


def test_sample_weight_array_and_per_output_dict_are_gathered_at_the_planned_indices():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    w = np.linspace(0.5, 2.0, len(GROUPS)).astype(np.float32)
    got = batches(to_tf_dataset(sampler, index_and_group, sample_weight=w, epochs=1))
    for x, _, wb in got:
        np.testing.assert_allclose(wb, w[x])
    per_output = {"age": w, "race": 2 * w}
    ds = to_tf_dataset(sampler, index_and_group, sample_weight=per_output, epochs=1)
    for x, _, wb in ds:
        np.testing.assert_allclose(wb["age"], w[x.numpy()])
        np.testing.assert_allclose(wb["race"], 2 * w[x.numpy()])


def test_load_may_return_its_own_weights():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8, seed=0)
    ds = to_tf_dataset(sampler, lambda i: (i, i, tf.cast(i, tf.float32)), epochs=1)
    x, _, w = next(iter(ds))
    np.testing.assert_allclose(w.numpy(), x.numpy().astype(np.float32))


def test_composition_log_records_exactly_the_quotas():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=0, last_batch="drop")
    log = ft.CompositionLog(GROUPS)
    for _ in to_tf_dataset(sampler, index_and_group, epochs=2, composition_log=log):
        pass
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
    ds = to_tf_dataset(sampler, load, sample_weight={"a": w, "b": 0 * w})
    history = model.fit(ds, epochs=2, steps_per_epoch=sampler.steps_per_epoch, verbose=0,
                        shuffle=False)
    assert len(history.history["loss"]) == 2
    assert history.history["b_loss"][-1] == 0.0  # weight 0 silences output "b"


def test_from_group_datasets_gives_exact_quotas_from_streams():
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=0, last_batch="drop")
    streams = [tf.data.Dataset.from_tensors(np.int64(g)) for g in range(4)]
    got = [b.numpy() for b in from_group_datasets(streams, sampler, epochs=2)]
    counts = np.stack([np.bincount(b, minlength=4) for b in got])
    np.testing.assert_array_equal(counts, np.concatenate([sampler.quotas(0),
                                                          sampler.quotas(1)]))


def test_from_group_datasets_by_name_and_continues_each_stream():
    groups = ft.Groups.from_codes(np.repeat([0, 1], [9, 3]), ["maj", "min"])
    sampler = ft.sampling.Homogeneous(groups, batch_size=4)
    streams = {"maj": tf.data.Dataset.range(100), "min": tf.data.Dataset.range(1000, 1003)}
    got = np.concatenate([b.numpy() for b in from_group_datasets(streams, sampler, epochs=1)])
    assert got[got < 1000].tolist() == list(range(6))  # the majority stream continues
    assert got[got >= 1000].tolist() == [1000, 1001, 1002, 1000, 1001, 1002]  # repeated


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_weight": np.ones(3)}, r"shape \(100,\)"),
        ({"sample_weight": -np.ones(100)}, "negative"),
        ({"initial_step": 99}, "initial_step"),
        ({"epochs": -1}, "epochs"),
    ],
    ids=["weight-shape", "negative-weight", "step-out-of-range", "negative-epochs"],
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
