"""Choosing the epoch on a streamed validation worst-group metric with Keras' own callbacks.

The recipe of docs/guide/selection.rst ("Choosing the epoch on the worst group"):
``BiasMonitor`` first, then ``ModelCheckpoint``/``EarlyStopping`` on its
``val_recall_ethnicity_worst`` key, and on resume a ``ModelCheckpoint`` whose
``initial_value_threshold`` is the best value logged (by ``CSVLogger``) before the
interruption.
"""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import fairtrain as ft  # noqa: E402
from fairtrain.metrics import bias_report  # noqa: E402

pytestmark = pytest.mark.keras_backend

KEY = "val_recall_ethnicity_worst"
EPOCHS = 6


def _data(n, seed):
    rng = np.random.default_rng(seed)
    ethnicity = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    shift = {"a": 0.0, "b": 0.8, "c": -0.8}
    x = rng.normal(size=(n, 2)).astype("float32")
    score = x[:, 0] + np.array([shift[e] for e in ethnicity]) * x[:, 1]
    y = (score > 0.3).astype("float32")
    return x, y, ft.Groups.from_columns({"ethnicity": ethnicity})


def _setup():
    keras.utils.set_random_seed(0)
    x, y, _ = _data(96, 0)
    x_val, y_val, g_val = _data(60, 1)
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(16)  # streamed
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.3), loss="binary_crossentropy")
    monitor = ft.BiasMonitor(val, None, g_val, metric="recall", min_count=1)
    return model, (x, y), (x_val, y_val, g_val), monitor


def _worst_recall(model, x_val, y_val, g_val):
    pred = (model.predict(x_val, verbose=0)[:, 0] > 0.5).astype(int)
    report = bias_report(y_val.astype(int), pred, g_val, metric="recall", min_count=1)
    return report["ethnicity"].value(report["ethnicity"].worst)


def _fit(model, train, callbacks, epochs=EPOCHS):
    x, y = train
    return model.fit(x, y, epochs=epochs, batch_size=16, shuffle=False,
                     callbacks=callbacks, verbose=0)


def test_checkpoint_and_early_stopping_read_the_worst_group_key(tmp_path):
    model, train, (x_val, y_val, g_val), monitor = _setup()
    path = str(tmp_path / "best.weights.h5")
    best = keras.callbacks.ModelCheckpoint(path, monitor=KEY, mode="max",
                                           save_best_only=True, save_weights_only=True)
    stop = keras.callbacks.EarlyStopping(monitor=KEY, mode="max", patience=EPOCHS,
                                         restore_best_weights=True)
    history = _fit(model, train, [monitor, best, stop])
    logged = np.asarray(history.history[KEY])
    assert len(logged) == EPOCHS and np.all(np.isfinite(logged))
    assert best.best == pytest.approx(logged.max())
    first_best = int(np.argmax(logged))  # Keras keeps the first of equal values
    assert stop.best_epoch == first_best
    # the restored weights are the best epoch's: recompute its worst-group recall
    assert _worst_recall(model, x_val, y_val, g_val) == pytest.approx(logged[first_best])
    # so are the checkpointed ones
    again, *_ = _setup()
    again.load_weights(path)
    assert _worst_recall(again, x_val, y_val, g_val) == pytest.approx(logged[first_best])


@pytest.mark.parametrize("reader", ["checkpoint", "early_stopping"])
def test_a_reader_placed_before_the_monitor_warns_and_never_sees_the_key(tmp_path, reader):
    model, train, _, monitor = _setup()
    if reader == "checkpoint":
        callback = keras.callbacks.ModelCheckpoint(
            str(tmp_path / "b.weights.h5"), monitor=KEY, mode="max",
            save_best_only=True, save_weights_only=True)
        message = "Can save best model only with"
    else:
        callback = keras.callbacks.EarlyStopping(monitor=KEY, mode="max", patience=1)
        message = "Early stopping conditioned on metric"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit(model, train, [callback, monitor], epochs=2)
    assert any(message in str(w.message) and KEY in str(w.message) for w in caught)
    # it never saw a value: no best (and ModelCheckpoint saved every epoch instead)
    assert callback.best is None


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def _best_logged(csv_path, key):
    with open(csv_path, newline="") as f:
        return max(float(row[key]) for row in csv.DictReader(f))


def _run(tmp_path, tag, interrupt_at=None):
    """Fit with the recipe's callbacks; interrupted at ``interrupt_at`` then resumed."""
    backup = str(tmp_path / f"{tag}_backup")
    log = tmp_path / f"{tag}.csv"
    saved = str(tmp_path / f"{tag}_{{epoch}}.weights.h5")

    def callbacks(threshold=None):
        loggers.append(keras.callbacks.CSVLogger(str(log), append=True))
        return [
            monitor,
            keras.callbacks.BackupAndRestore(backup),
            loggers[-1],
            keras.callbacks.ModelCheckpoint(saved, monitor=KEY, mode="max",
                                            save_best_only=True, save_weights_only=True,
                                            initial_value_threshold=threshold),
        ]

    loggers = []
    model, train, _, monitor = _setup()
    if interrupt_at is not None:
        with pytest.raises(RuntimeError, match="interrupted"):
            _fit(model, train, [*callbacks(), _Interrupt(interrupt_at)])
        loggers[-1].csv_file.close()  # a killed process would have closed it
        model, train, _, monitor = _setup()  # a fresh process: nothing kept in memory
        threshold = _best_logged(log, KEY)
    else:
        threshold = None
    _fit(model, train, callbacks(threshold))
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    files = sorted(int(p.name.split("_")[1].split(".")[0])
                   for p in tmp_path.glob(f"{tag}_*.weights.h5"))
    return rows, files


def test_resume_keeps_the_best_epoch_and_checkpoint(tmp_path):
    whole_rows, whole_files = _run(tmp_path, "whole")
    resumed_rows, resumed_files = _run(tmp_path, "resumed", interrupt_at=3)
    assert [int(r["epoch"]) for r in resumed_rows] == list(range(EPOCHS))
    whole = np.array([float(r[KEY]) for r in whole_rows])
    resumed = np.array([float(r[KEY]) for r in resumed_rows])
    np.testing.assert_allclose(resumed, whole, rtol=1e-6)
    # the improving epochs (1-based in the file names) are saved in both runs, no others
    improving = [e + 1 for e in range(EPOCHS) if whole[e] > np.max(whole[:e], initial=-np.inf)]
    assert whole_files == improving
    assert resumed_files == improving
    best = max(improving)
    a, *_ = _setup()
    b, *_ = _setup()
    a.load_weights(str(tmp_path / f"whole_{best}.weights.h5"))
    b.load_weights(str(tmp_path / f"resumed_{best}.weights.h5"))
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(u, v, rtol=1e-6)
