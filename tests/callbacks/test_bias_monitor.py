"""BiasMonitor: bias keys in the Keras logs every epoch, under every Keras backend."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import fairtrain as ft  # noqa: E402
from fairtrain.callbacks import BiasMonitor  # noqa: E402
from fairtrain.metrics import GroupSpec, bias_report  # noqa: E402

pytestmark = pytest.mark.keras_backend


def _regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 3.0).astype("float32")
    groups = ft.Groups.from_columns(
        {"sex": np.tile(["f", "m"], n // 2), "age": np.repeat(["young", "old"], n // 2)}
    )
    return x, y, groups


def _model(n_in=3, n_out=1, activation=None):
    model = keras.Sequential(
        [keras.Input((n_in,)), keras.layers.Dense(n_out, activation=activation)]
    )
    return model


def test_early_stopping_monitors_a_bias_key_present_every_epoch():
    keras.utils.set_random_seed(0)
    x, y, groups = _regression_data()
    model = _model()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    monitor = BiasMonitor(x, y, groups, metric="mae", min_count=1)
    stop = keras.callbacks.EarlyStopping(monitor="val_mae_sex_bias", mode="min", patience=1)
    history = model.fit(x, y, epochs=6, batch_size=16, callbacks=[monitor, stop], verbose=0)
    epochs = len(history.epoch)
    for key in ("val_mae_sex_bias", "val_mae_age_bias", "val_mae_intersection_bias",
                "val_mae_overall", "val_mae_sex_worst", "val_mae_sex_f",
                "val_mae_intersection_sex=f_age=old"):
        assert key in history.history, key
        assert len(history.history[key]) == epochs
        assert all(np.isfinite(history.history[key]))
    assert sorted(monitor.reports) == list(range(epochs))
    # the logged numbers are the report of the final weights, recomputed independently
    final = bias_report(y, model.predict(x, verbose=0), groups, metric="mae")
    assert history.history["val_mae_sex_bias"][-1] == pytest.approx(final["sex"].pairwise)
    assert history.history["val_mae_overall"][-1] == pytest.approx(final.overall)
    worst = final["age"].worst
    assert history.history["val_mae_age_worst"][-1] == pytest.approx(final["age"].value(worst))
    assert monitor.reports[epochs - 1]["age"].worst == worst


def test_every_n_epochs_repeats_the_last_values_and_csvlogger_records_them(tmp_path):
    keras.utils.set_random_seed(1)
    x, y, groups = _regression_data()
    model = _model()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    monitor = BiasMonitor(x, y, groups.attribute("sex"), metric="mse", every=2,
                          log_groups=False, min_count=1)
    log = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0,
                        callbacks=[monitor, keras.callbacks.CSVLogger(str(log))])
    assert sorted(monitor.reports) == [0, 2, 4]
    bias = history.history["val_mse_sex_bias"]
    assert bias[1] == bias[0] and bias[3] == bias[2]
    assert "val_mse_sex_f" not in history.history
    with open(log, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["val_mse_sex_bias"]) for r in rows] == pytest.approx(bias)


def test_classifier_with_softmax_outputs_and_recall():
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = rng.integers(0, 3, 60)
    eth = np.array(["African", "Asian", "Indian"])[y]
    model = _model(4, 3, "softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    monitor = BiasMonitor(x, y, {"ethnicity": eth}, metric="recall", min_count=1)
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    report = monitor.reports[1]
    expected = np.diagonal(ft.metrics.normalize_confusion(
        ft.metrics.confusion_by_group(y, model.predict(x, verbose=0), eth).overall))
    np.testing.assert_allclose(report["ethnicity"].values, expected)
    assert history.history["val_recall_ethnicity_Asian"][-1] == pytest.approx(expected[1])


def test_config_round_trip_and_validation():
    x, y, groups = _regression_data(8)
    monitor = BiasMonitor(x, y, groups, metric="accuracy", every=3, min_count=2)
    config = monitor.get_config()
    assert config["every"] == 3 and config["metric"] == "accuracy"
    # the config is plain JSON; the data are the one thing not in it (as in Keras)
    config = json.loads(json.dumps(config))
    clone = BiasMonitor.from_config({**config, "x": x, "y": y, "groups": groups})
    assert clone.get_config() == config and clone.keys == monitor.keys
    with pytest.raises(ValueError, match=r"needs the validation data.*\['x', 'y', 'groups'\]"):
        BiasMonitor.from_config(config)
    with pytest.raises(ValueError, match="x=8, y=7"):
        BiasMonitor(x, y[:7], groups)
    with pytest.raises(ValueError, match="every"):
        BiasMonitor(x, y, groups, every=0)
    with pytest.raises(ValueError, match="Did you mean"):
        BiasMonitor(x, y, groups, metric="accurasy")
    with pytest.raises(ValueError, match="greater_is_better"):
        BiasMonitor(x, y, groups, metric=lambda a, b: 0.0)


def test_top_level_name():
    assert ft.BiasMonitor is BiasMonitor


# ---------------------------------------------------------------- core hardening (issue 9)
@pytest.mark.parametrize("name", ["bias", "gap", "worst"])
def test_a_group_named_like_an_aggregate_is_refused(name):
    x, y, _ = _regression_data(n=8)
    groups = {"sex": np.array(["f", name] * 4)}
    with pytest.raises(ValueError, match="would both be logged as 'val_mae_sex_" + name):
        BiasMonitor(x, y, groups, metric="mae")
    BiasMonitor(x, y, groups, metric="mae", log_groups=False)  # no per-group keys: fine


def test_reports_keep_summaries_not_predictions():
    x, y, groups = _regression_data(n=16)
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    monitor = BiasMonitor(x, y, groups, metric="mae", min_count=1)
    model.fit(x, y, epochs=3, callbacks=[monitor], verbose=0)
    for report in monitor.reports.values():
        with pytest.raises(ValueError, match="without its data"):
            report.to_metricframe()


class _Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]


class _CodesBatches(_Batches):
    """Batches (x, y, group codes), as carries="codes" reads them."""

    def __init__(self, x, y, codes, batch_size):
        super().__init__(x, y, batch_size)
        self.codes = codes

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s], self.codes[s]


def test_bias_monitor_refuses_groups_and_sensitive_features_together_with_a_spec():
    # review 4: with a GroupSpec as groups and carries="codes", sensitive_features was
    # dropped without a word (every other callable refuses both)
    x, y, groups = _regression_data(n=20)
    spec = GroupSpec.from_groups(groups)
    other = {"eth": np.repeat(["a", "b"], 10)}
    with pytest.raises(TypeError, match="not both"):
        BiasMonitor(_CodesBatches(x, y, groups.codes, 6), None, spec,
                    sensitive_features=other, metric="mae", carries="codes", min_count=1)


def test_bias_monitor_takes_a_spec_as_sensitive_features_too():
    # review 4: groups=spec worked with carries="codes", the alias was refused ("a scalar")
    x, y, groups = _regression_data(n=20)
    spec = GroupSpec.from_groups(groups)
    by_name = BiasMonitor(_CodesBatches(x, y, groups.codes, 6), None, spec, metric="mae",
                          carries="codes", min_count=1)
    alias = BiasMonitor(_CodesBatches(x, y, groups.codes, 6), None, sensitive_features=spec,
                        metric="mae", carries="codes", min_count=1)
    arrays = BiasMonitor(x, y, groups, metric="mae", min_count=1)
    assert alias.keys == by_name.keys == arrays.keys
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, callbacks=[arrays, alias], verbose=0)
    for name in arrays.reports[0].attributes:
        np.testing.assert_allclose(alias.reports[0][name].values,
                                   arrays.reports[0][name].values, rtol=1e-6)


def test_a_spec_without_carried_codes_is_refused_by_name():
    # a GroupSpec holds no per-example codes: only batches carrying them can use it
    x, y, groups = _regression_data(n=20)
    spec = GroupSpec.from_groups(groups)
    for kwargs in ({"groups": spec}, {"sensitive_features": spec}):
        name = next(iter(kwargs))
        with pytest.raises(TypeError, match=rf"`{name}`.*carries=.codes."):
            BiasMonitor(_Batches(x, y, 6), None, metric="mae", carries="order", **kwargs)


def test_validation_data_as_pydataset_equals_arrays():
    x, y, groups = _regression_data(n=20)
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    arrays = BiasMonitor(x, y, groups, metric="mae", min_count=1)
    dataset = BiasMonitor(_Batches(x, y, 6), None, groups, metric="mae", min_count=1)
    model.fit(x, y, epochs=1, callbacks=[arrays, dataset], verbose=0)
    a, b = arrays.reports[0], dataset.reports[0]
    assert b.overall == pytest.approx(a.overall, rel=1e-6)
    for name in a.attributes:
        np.testing.assert_allclose(b[name].values, a[name].values, rtol=1e-6)
    short = BiasMonitor(_Batches(x[:-2], y[:-2], 6), None, groups, metric="mae")
    with pytest.raises(ValueError, match=r"yielded 18 examples but `?groups`? has 20"):
        model.fit(x, y, epochs=1, callbacks=[short], verbose=0)
    with pytest.raises(ValueError, match="`y` must be None when `x` is a dataset"):
        BiasMonitor(_Batches(x, y, 6), y, groups)


def test_validation_data_as_tf_dataset():
    tf = pytest.importorskip("tensorflow")
    x, y, groups = _regression_data(n=20)
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    arrays = BiasMonitor(x, y, groups, metric="mae", min_count=1)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(7)
    dataset = BiasMonitor(ds, None, groups, metric="mae", min_count=1)
    model.fit(x, y, epochs=1, callbacks=[arrays, dataset], verbose=0)
    assert dataset.reports[0].overall == pytest.approx(arrays.reports[0].overall, rel=1e-6)


class _SometimesWeighted(_Batches):
    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        return (x, y, np.ones(len(x), "float32")) if i == 0 else (x, y)


def test_a_dataset_weighting_only_some_batches_is_refused_by_name():
    # before: a bare "sample_weight must have one weight per example" from deep inside
    x, y, groups = _regression_data(n=20)
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    monitor = BiasMonitor(_SometimesWeighted(x, y, 6), None, groups, metric="mae")
    with pytest.raises(ValueError, match="some batches carry sample weights"):
        model.fit(x, y, epochs=1, callbacks=[monitor], verbose=0)


def test_integer_label_columns_that_are_not_one_hot_are_refused():
    # issue 19 §3: integer labels of shape (n, 2) (two label columns, not one-hot) were
    # arg-maxed as if they were one-hot rows
    x, _, groups = _regression_data(n=8)
    y = np.tile([[3, 7], [7, 3]], (4, 1))
    model = _model(n_out=2, activation="softmax")
    monitor = BiasMonitor(x, y, groups, metric="accuracy", min_count=1)
    monitor.set_model(model)
    with pytest.raises(ValueError, match=r"not one-hot.*\[3, 7\]"):
        monitor.evaluate()
    # one-hot integer rows still read as their class
    one_hot = np.eye(2, dtype=np.int64)[np.arange(8) % 2]
    report = BiasMonitor(x, one_hot, groups, metric="accuracy", min_count=1)
    report.set_model(model)
    pred = model.predict(x, verbose=0).argmax(axis=1)
    assert report.evaluate().overall == pytest.approx(np.mean(pred == np.arange(8) % 2))
