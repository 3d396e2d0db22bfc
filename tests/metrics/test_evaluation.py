"""evaluate and BiasMonitor over datasets: streamed reports equal predict + bias_report."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import fairtrain as ft  # noqa: E402
from fairtrain.callbacks import BiasMonitor  # noqa: E402
from fairtrain.metrics import GroupSpec, bias_report, evaluate  # noqa: E402

pytestmark = pytest.mark.keras_backend

N = 90


class Batches(keras.utils.PyDataset):
    """The rows of some arrays, ``batch_size`` at a time, as tuples."""

    def __init__(self, *arrays, batch_size=16):
        super().__init__()
        self.arrays, self.batch_size = arrays, batch_size

    def __len__(self):
        return -(-len(self.arrays[0]) // self.batch_size)

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return tuple(a[s] for a in self.arrays)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 4)).astype("float32")
    y = rng.integers(0, 3, N)
    groups = ft.Groups.from_columns({"sex": rng.choice(["f", "m"], N),
                                     "age": rng.choice(["young", "mid", "old"], N)})
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    return x, y, groups, model


def expected(data, metric, **kwargs):
    x, y, groups, model = data
    return bias_report(y, model.predict(x, verbose=0), groups, metric=metric, min_count=1,
                       **kwargs)


def assert_close(report, other):
    assert report.n == other.n and report.overall == pytest.approx(other.overall, rel=1e-5)
    assert list(report.attributes) == list(other.attributes)
    for name, bias in other.attributes.items():
        np.testing.assert_allclose(report[name].values, bias.values, rtol=1e-5)
        np.testing.assert_array_equal(report[name].counts, bias.counts)
        assert report[name].pairwise == pytest.approx(bias.pairwise, rel=1e-5, abs=1e-7)


def test_pydataset_carrying_codes_equals_predict_and_bias_report(data):
    x, y, groups, model = data
    for codes in (groups.codes, groups.attribute_codes):
        acc = evaluate(model, Batches(x, y, codes), groups=groups,
                       metrics=["accuracy", "recall"])
        assert acc.n_classes == 3  # from the model's three outputs
        for metric in ("accuracy", "recall"):
            assert_close(acc.result(metric, min_count=1), expected(data, metric))


def test_shuffled_pydataset_carrying_indices(data):
    x, y, groups, model = data
    perm = np.random.default_rng(1).permutation(N)
    acc = evaluate(model, Batches(x[perm], y[perm], perm), groups=groups,
                   metrics="precision", carries="index")
    assert_close(acc.result(min_count=1), expected(data, "precision"))


def test_unshuffled_dataset_in_order_with_weights(data):
    x, y, groups, model = data
    w = np.linspace(0.5, 2, N)
    acc = evaluate(model, Batches(x, y, w, batch_size=7), groups=groups,
                   metrics="accuracy", carries="order")
    assert_close(acc.result(min_count=1), expected(data, "accuracy", sample_weight=w))


@pytest.mark.parametrize("carries", ["order", "index", "codes"])
def test_column_weights_as_keras_takes_them_equal_flat_weights(data, carries):
    # Keras' fit and BiasMonitor's in-memory path take sample weights of shape (b, 1)
    x, y, groups, model = data
    w = np.linspace(0.5, 2, N)
    third = {"order": (), "index": (np.arange(N),), "codes": (groups.attribute_codes,)}
    acc = evaluate(model, Batches(x, y, *third[carries], w[:, None], batch_size=7),
                   groups=groups, metrics="accuracy", carries=carries)
    assert_close(acc.result(min_count=1), expected(data, "accuracy", sample_weight=w))


def test_plain_list_of_batches_and_a_spec_and_steps(data):
    x, y, groups, model = data
    batches = [(x[i:i + 30], y[i:i + 30], groups.codes[i:i + 30]) for i in range(0, N, 30)]
    spec = GroupSpec.from_groups(groups)
    acc = evaluate(model, batches, groups=spec, metrics="accuracy", steps=2)
    assert acc.n == 60
    part = bias_report(y[:60], model.predict(x[:60], verbose=0), groups.take(np.arange(60)),
                       metric="accuracy", min_count=1)
    assert_close(acc.result(min_count=1), part)


def test_evaluate_takes_a_spec_as_sensitive_features_too(data):
    # review 4: groups=spec worked, the alias sensitive_features=spec was refused
    x, y, groups, model = data
    spec = GroupSpec.from_groups(groups)
    acc = evaluate(model, Batches(x, y, groups.codes), sensitive_features=spec,
                   metrics="accuracy")
    assert_close(acc.result(min_count=1), expected(data, "accuracy"))
    with pytest.raises(TypeError, match="not both"):
        evaluate(model, Batches(x, y, groups.codes), groups=spec, sensitive_features=spec,
                 metrics="accuracy")
    with pytest.raises(TypeError, match=r"`sensitive_features`.*carries=.codes."):
        evaluate(model, Batches(x, y), sensitive_features=spec, metrics="accuracy",
                 carries="order")


def test_regression_through_a_transform():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 2)).astype("float32")
    y = rng.normal(size=40)
    groups = ft.Groups.from_columns({"g": np.tile(["a", "b"], 20)})
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    acc = evaluate(model, Batches(x, y, groups.codes), groups=groups, metrics="mae",
                   transform=lambda p: p * 10)
    want = bias_report(y, model.predict(x, verbose=0) * 10, groups, metric="mae",
                       min_count=1)
    assert_close(acc.result(min_count=1), want)


def test_tf_data_carrying_codes(data):
    tf = pytest.importorskip("tensorflow")
    x, y, groups, model = data
    ds = tf.data.Dataset.from_tensor_slices((x, y, groups.attribute_codes)).batch(32)
    acc = evaluate(model, ds, groups=groups, metrics="accuracy")
    assert_close(acc.result(min_count=1), expected(data, "accuracy"))
    with pytest.raises(ValueError, match="repeats forever"):
        evaluate(model, ds.repeat(), groups=groups, metrics="accuracy")
    endless = evaluate(model, ds.repeat(), groups=groups, metrics="accuracy", steps=5)
    assert endless.n == N + 64  # batches of 32, 32, 26, then 32, 32


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [(lambda x, y, g: Batches(x, y), {}, "carries='order'"),
     (lambda x, y, g: Batches(x[:-3], y[:-3]), {"carries": "order"}, "yielded 87 examples"),
     (lambda x, y, g: Batches(np.r_[x, x], np.r_[y, y]), {"carries": "order"},
      "at least 96"),
     (lambda x, y, g: Batches(x, y, np.arange(N) + 1), {"carries": "index"}, "index 90"),
     (lambda x, y, g: [], {}, "no batch"),
     (lambda x, y, g: Batches(x, y, g.codes), {"carries": "rows"}, "carries"),
     (lambda x, y, g: [(x[:2], y[:2], g.codes[:2]), (x[2:4], y[2:4], g.codes[2:4],
                                                     np.ones(2))], {}, "some batches carry")],
    ids=["codes-missing", "too-few", "too-many", "bad-index", "empty",
         "bad-carries", "mixed-weights"],
)
def test_dataset_errors_say_what_to_fix(data, make, kwargs, match):
    x, y, groups, model = data
    with pytest.raises(ValueError, match=match):
        evaluate(model, make(x, y, groups), groups=groups, metrics="accuracy", **kwargs)


def test_not_a_model_or_not_a_dataset_or_several_outputs(data):
    x, y, groups, model = data
    with pytest.raises(TypeError, match="predict_on_batch"):
        evaluate(object(), Batches(x, y, groups.codes), groups=groups)
    with pytest.raises(TypeError, match="not an array"):
        evaluate(model, x, groups=groups)
    with pytest.raises(TypeError, match="integers"):  # Keras' (x, y, sample_weight)
        evaluate(model, Batches(x, y, np.ones(N)), groups=groups, metrics="accuracy")
    inputs = keras.Input((4,))
    two = keras.Model(inputs, [keras.layers.Dense(1)(inputs), keras.layers.Dense(1)(inputs)])
    with pytest.raises(ValueError, match="transform"):
        evaluate(two, Batches(x, y, groups.codes), groups=groups, metrics="mae")
    acc = evaluate(two, Batches(x, y.astype(float), groups.codes), groups=groups,
                   metrics="mae", transform=lambda outputs: outputs[1])
    assert acc.n == N


# --------------------------------------------------------------------------- BiasMonitor
def test_bias_monitor_streams_a_dataset_carrying_codes(data):
    x, y, groups, model = data
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    arrays = BiasMonitor(x, y, groups, metric="recall", min_count=1)
    streamed = BiasMonitor(Batches(x, y, groups.attribute_codes), None,
                           GroupSpec.from_groups(groups), metric="recall", min_count=1,
                           carries="codes")
    in_order = BiasMonitor(Batches(x, y), None, groups, metric="recall", min_count=1)
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[arrays, streamed, in_order])
    assert streamed.keys == arrays.keys == in_order.keys
    for monitor in (streamed, in_order):
        for epoch in (0, 1):
            assert_close(monitor.reports[epoch], arrays.reports[epoch])
    assert all(np.isfinite(history.history[k]).all() for k in arrays.keys)
    assert streamed.get_config()["carries"] == "codes"


def test_bias_monitor_refuses_codes_without_a_streamable_metric(data):
    x, y, groups, _ = data

    def my_metric(y_true, y_pred):
        return 0.0

    with pytest.raises(ValueError, match="streamable metric"):
        BiasMonitor(Batches(x, y, groups.codes), None, groups, metric=my_metric,
                    greater_is_better=True, carries="codes")
    with pytest.raises(ValueError, match="carries"):
        BiasMonitor(Batches(x, y), None, groups, carries="rows")
