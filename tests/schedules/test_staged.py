"""Tests for Stage, fit_staged and the reference recipes (any Keras backend)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import keras
import numpy as np
import pytest

import fairtrain as ft
from fairtrain import registry
from fairtrain.callbacks import StepDecayCallback
from fairtrain.schedules import (
    Stage,
    StagedTraining,
    fit_staged,
    one_stage,
    three_stage,
    two_stage,
)

pytestmark = pytest.mark.keras_backend

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 4)).astype("float32")
Y = (X @ np.array([[0.5], [-1.0], [0.3], [2.0]]) + 3.0).astype("float32")
VAL = (X[:16], Y[:16])


def make_model(seed: int = 0) -> keras.Model:
    """A tiny backbone sub-model with BatchNormalization, and a head sub-model."""
    keras.utils.set_random_seed(seed)
    backbone = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, name="bb_dense"),
            keras.layers.BatchNormalization(name="bb_bn"),
            keras.layers.Activation("relu"),
        ],
        name="backbone",
    )
    head = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(3, activation="relu", name="head_hidden"),
         keras.layers.Dense(1, name="head_out")],
        name="head",
    )
    inputs = keras.Input((4,))
    return keras.Model(inputs, head(backbone(inputs)), name="staged_model")


def snapshot(model: keras.Model) -> dict[str, np.ndarray]:
    return {v.path: keras.ops.convert_to_numpy(v).copy() for v in model.weights}


class StageSnapshots(keras.callbacks.Callback):
    """Weights at the start and the end of every stage (a per-stage callback)."""

    def __init__(self) -> None:
        super().__init__()
        self.begin: list[dict[str, np.ndarray]] = []
        self.end: list[dict[str, np.ndarray]] = []

    def on_train_begin(self, logs: Any = None) -> None:
        self.begin.append(snapshot(self.model))

    def on_train_end(self, logs: Any = None) -> None:
        self.end.append(snapshot(self.model))


def changed(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> set[str]:
    """The short names ("bb_dense/kernel", ...) of the variables that moved."""
    out = set()
    for path, value in before.items():
        if not np.array_equal(value, after[path]):
            out.add("/".join(path.split("/")[-2:]))
    return out


BB_DENSE = {"bb_dense/kernel", "bb_dense/bias"}
BN_AFFINE = {"bb_bn/gamma", "bb_bn/beta"}
BN_STATS = {"bb_bn/moving_mean", "bb_bn/moving_variance"}
HEAD = {"head_hidden/kernel", "head_hidden/bias", "head_out/kernel", "head_out/bias"}

# recipe -> per stage: (name, variables that must change, learning rate)
RECIPES = {
    "one_stage": (one_stage(2), [("all", BB_DENSE | BN_AFFINE | BN_STATS | HEAD, 1e-5)]),
    "two_stage": (
        two_stage((2, 2)),
        [("head", HEAD, 1e-4), ("all", BB_DENSE | HEAD, 1e-5)],
    ),
    "three_stage": (
        three_stage((1, 2, 2)),
        [("head", HEAD, 1e-4), ("backbone", BB_DENSE, 1e-5), ("all", BB_DENSE | HEAD, 1e-5)],
    ),
}
ALL = BB_DENSE | BN_AFFINE | BN_STATS | HEAD


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_reference_recipes_train_what_they_should(recipe: str) -> None:
    stages, expected = RECIPES[recipe]
    snaps = StageSnapshots()
    stages = [Stage.from_config({**s.get_config(), "callbacks": [snaps]}) for s in stages]
    model = make_model()
    history = fit_staged(model, stages, X, Y, validation_data=VAL, optimizer="adam",
                         loss="mse", metrics=["mae"], batch_size=16, verbose=0)
    assert len(snaps.begin) == len(expected)
    for i, (name, moves, lr) in enumerate(expected):
        moved = changed(snaps.begin[i], snaps.end[i])
        assert moved == moves, f"stage {name!r}: moved {sorted(moved)}"
        # BN moving statistics only move when BN trains (the one-stage recipe)
        assert bool(moved & BN_STATS) == (recipe == "one_stage")
        epochs = history.stage_epochs(name)
        assert len(epochs) == stages[i].epochs
        lrs = [history.history["learning_rate"][e] for e in epochs]
        np.testing.assert_allclose(lrs, lr, rtol=1e-6)
        # the next stage starts from where this one ended
        if i + 1 < len(expected):
            assert changed(snaps.end[i], snaps.begin[i + 1]) == set()
    total = sum(s.epochs for s in stages)
    assert history.epoch == list(range(total))
    assert history.stage == [s.name for s in stages for _ in range(s.epochs)]
    for key in ("loss", "val_loss", "mae", "val_mae", "learning_rate"):
        assert len(history.history[key]) == total
        assert np.all(np.isfinite(history.history[key]))
    assert model.history is history


def test_batchnorm_train_overrides_the_inference_rule() -> None:
    stages = two_stage((1, 1))
    snaps = StageSnapshots()
    stages = [
        Stage.from_config({**stages[0].get_config(), "callbacks": [snaps]}),
        Stage.from_config({**stages[1].get_config(), "callbacks": [snaps], "batchnorm": "train"}),
    ]
    fit_staged(make_model(), stages, X, Y, loss="mse", batch_size=16, verbose=0)
    assert changed(snaps.begin[0], snaps.end[0]) == HEAD
    assert changed(snaps.begin[1], snaps.end[1]) == ALL


def test_batchnorm_inference_freezes_bn_even_in_a_first_stage() -> None:
    snaps = StageSnapshots()
    stages = [Stage("all", epochs=1, learning_rate=1e-3, batchnorm="inference",
                    callbacks=[snaps])]
    fit_staged(make_model(), stages, X, Y, loss="mse", batch_size=16, verbose=0)
    assert changed(snaps.begin[0], snaps.end[0]) == BB_DENSE | HEAD


def test_layer_names_prefixes_and_predicates_select_layers() -> None:
    model = make_model()
    for trainable, moves in [
        (["head_out"], {"head_out/kernel", "head_out/bias"}),
        ("head_*", HEAD),
        (lambda layer: layer.name == "bb_dense", BB_DENSE),
    ]:
        snaps = StageSnapshots()
        fit_staged(model, [Stage("s", trainable=trainable, epochs=1, learning_rate=1e-2,
                                 callbacks=[snaps])], X, Y, loss="mse", batch_size=16,
                   verbose=0)
        assert changed(snaps.begin[0], snaps.end[0]) == moves


@pytest.mark.parametrize("crash_at", [2, 3], ids=["mid-stage", "stage-start"])
def test_resume_continues_where_it_stopped(tmp_path: Any, crash_at: int) -> None:
    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if epoch == crash_at:
                raise RuntimeError("power cut")

    class Seen(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epochs: list[int] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epochs.append(epoch)

    stages = three_stage((1, 2, 2))  # "backbone" runs epochs 1 and 2, "all" 3 and 4
    kwargs = dict(loss="mse", batch_size=16, shuffle=False, verbose=0)
    reference = make_model(seed=1)
    initial = reference.get_weights()
    ref_history = fit_staged(reference, stages, X, Y, **kwargs)

    backup = tmp_path / "backup"
    crashed = make_model(seed=1)
    with pytest.raises(RuntimeError, match="power cut"):
        fit_staged(crashed, stages, X, Y, callbacks=[Crash()], backup_dir=backup, **kwargs)
    assert (backup / "fairtrain-staged.json").exists()

    resumed = make_model(seed=2)  # a new process: fresh weights, restored from the backup
    assert not all(np.array_equal(a, b) for a, b in zip(resumed.get_weights(), initial))
    seen = Seen()
    history = fit_staged(resumed, stages, X, Y, callbacks=[seen], backup_dir=backup, **kwargs)
    assert seen.epochs == list(range(crash_at, 5))
    assert history.epoch == [0, 1, 2, 3, 4]
    assert history.stage == ["head", "backbone", "backbone", "all", "all"]
    np.testing.assert_allclose(history.history["loss"], ref_history.history["loss"],
                               rtol=1e-4)
    for got, want in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not backup.exists()  # deleted once the run completed


def test_a_backup_of_other_stages_is_refused(tmp_path: Any) -> None:
    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if epoch == 1:
                raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        fit_staged(make_model(), one_stage(2), X, Y, loss="mse", callbacks=[Crash()],
                   backup_dir=tmp_path, verbose=0)
    with pytest.raises(ValueError, match=r"belongs to the stages \['all'\]"):
        fit_staged(make_model(), two_stage(1), X, Y, loss="mse", backup_dir=tmp_path,
                   verbose=0)


class StopAt(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch
        self.begins = 0
        self.ends = 0

    def on_train_begin(self, logs: Any = None) -> None:
        self.begins += 1

    def on_train_end(self, logs: Any = None) -> None:
        self.ends += 1

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.epoch:
            self.model.stop_training = True


def _two_stages(**first: Any) -> list[Stage]:
    return [Stage("a", trainable="head", epochs=3, learning_rate=1e-3, **first),
            Stage("b", trainable="all", epochs=2, learning_rate=1e-4)]


def test_a_stage_callback_that_stops_ends_only_its_stage() -> None:
    stop = StopAt(1)
    history = fit_staged(make_model(), _two_stages(callbacks=[stop]), X, Y, loss="mse",
                         batch_size=16, verbose=0)
    assert history.epoch == [0, 1, 2, 3]
    assert history.stage == ["a", "a", "b", "b"]
    assert not history.stopped_early


def test_a_run_callback_that_stops_ends_the_run_and_sees_one_begin_and_end() -> None:
    stop = StopAt(1)
    history = fit_staged(make_model(), _two_stages(), X, Y, loss="mse", callbacks=[stop],
                         batch_size=16, verbose=0)
    assert history.epoch == [0, 1]
    assert history.stopped_early
    assert (stop.begins, stop.ends) == (1, 1)
    never = StopAt(99)
    fit_staged(make_model(), _two_stages(), X, Y, loss="mse", callbacks=[never],
               batch_size=16, verbose=0)
    assert (never.begins, never.ends) == (1, 1)


def test_global_early_stopping_counts_patience_across_stages() -> None:
    # val_loss cannot improve at a learning rate this small: patience 2 runs out at
    # global epoch 2, inside stage "b", only if the count carries over from stage "a".
    stages = [Stage("a", epochs=2, learning_rate=1e-12),
              Stage("b", epochs=3, learning_rate=1e-12)]
    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, min_delta=1.0)
    history = fit_staged(make_model(), stages, X, Y, validation_data=VAL, loss="mse",
                         callbacks=[early], batch_size=16, verbose=0)
    assert history.epoch == [0, 1, 2]
    assert history.stopped_early


def test_checkpoints_and_step_decay_use_the_global_epoch(tmp_path: Any) -> None:
    ckpt = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "ep{epoch}.weights.h5"), save_weights_only=True
    )
    stages = [Stage("a", trainable="head", epochs=2, learning_rate=1.0),
              Stage("b", epochs=3, learning_rate=1.0)]
    history = fit_staged(make_model(), stages, X, Y, loss="mse", optimizer="sgd",
                         callbacks=[ckpt, StepDecayCallback(0.1, factor=0.5, every=2)],
                         batch_size=16, verbose=0)
    assert sorted(os.listdir(tmp_path)) == [f"ep{e}.weights.h5" for e in range(1, 6)]
    np.testing.assert_allclose(history.history["learning_rate"],
                               [0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-6)


def test_recipes_are_registered_and_a_plugin_can_add_one() -> None:
    assert registry.get("recipes", "one_stage") is one_stage
    assert registry.get("recipes", "two_stage") is two_stage
    assert registry.get("recipes", "three_stage") is three_stage
    # the schedules kind holds learning-rate schedules only
    assert set(registry.available("schedules")) >= {"step_decay"}
    assert not {"one_stage", "two_stage", "three_stage"} & set(registry.available("schedules"))
    assert ft.fit_staged is fit_staged and ft.Stage is Stage
    assert ft.StagedTraining is StagedTraining

    @registry.register("recipes", "test_head_then_all")
    def head_then_all(epochs: int) -> list[Stage]:
        return [Stage("head", trainable="head", epochs=epochs, learning_rate=1e-3),
                Stage("all", epochs=epochs, learning_rate=1e-4)]

    try:
        stages = registry.get("recipes", "test_head_then_all")(1)
        history = fit_staged(make_model(), stages, X, Y, loss="mse", batch_size=16,
                             verbose=0)
        assert history.stage == ["head", "all"]
    finally:
        registry.unregister("recipes", "test_head_then_all")


def test_a_data_factory_is_called_with_each_stage_s_global_epoch() -> None:
    from fairtrain.data import SampledPyDataset

    groups = ft.Groups.from_codes(np.repeat([0, 1], [36, 12]))
    sampler = ft.sampling.Homogeneous(groups, batch_size=12, seed=0)
    made: list[int] = []
    last: list[int | None] = []

    class LastEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            last.append(feeds[-1].epoch)

    feeds: list[SampledPyDataset] = []

    def train(initial_epoch: int) -> SampledPyDataset:
        made.append(initial_epoch)
        feeds.append(SampledPyDataset(sampler, lambda i: (X[i], Y[i])))
        return feeds[-1]

    stages = [Stage("a", trainable="head", epochs=2, learning_rate=1e-3),
              Stage("b", epochs=3, learning_rate=1e-4)]
    history = fit_staged(make_model(), stages, train, loss="mse", verbose=0,
                         callbacks=[LastEpoch()])
    assert history.epoch == [0, 1, 2, 3, 4]
    assert made == [0, 2]  # called with each stage's first global epoch
    assert last == [0, 1, 2, 3, 4]  # and each feed was kept on the global epoch


def test_history_round_trips_through_json_dict() -> None:
    history = fit_staged(make_model(), one_stage(2), X, Y, loss="mse", batch_size=16,
                         verbose=0)
    again = ft.schedules.StagedHistory.from_dict(history.to_dict())
    assert (again.epoch, again.stage, again.history) == (
        history.epoch, history.stage, history.history
    )


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": ""}, ValueError, "`name` must be a non-empty str; got name=''"),
        ({"name": 3}, TypeError, "`name` must be a non-empty str; got name=3"),
        ({"epochs": 0}, ValueError, "`epochs` must be an int >= 1; got epochs=0"),
        ({"learning_rate": -1.0}, ValueError, "`learning_rate` must be a finite number > 0"),
        ({"learning_rate": "fast"}, TypeError, "`learning_rate` must be a finite number > 0"),
        ({"trainable": 3}, TypeError, "`trainable` must be 'all'"),
        ({"batchnorm": "freeze"}, ValueError, "`batchnorm` must be one of"),
        ({"callbacks": keras.callbacks.History()}, TypeError, "Wrap a single callback"),
        ({"optimizer": 3}, TypeError, r"`optimizer` must be an optimizer \(a name"),
    ],
    ids=["name", "name-type", "epochs", "lr-negative", "lr-str", "trainable", "batchnorm",
         "callbacks", "optimizer"],
)
def test_stage_rejects_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    args = {"name": "s", "epochs": 1, "learning_rate": 1e-3, **kwargs}
    with pytest.raises(error, match=match):
        Stage(**args)


def test_staged_training_rejects_bad_arguments(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="`stages` must be a non-empty list of Stage"):
        StagedTraining([])
    with pytest.raises(TypeError, match="`stages` must be a non-empty list of Stage"):
        StagedTraining(Stage("a", epochs=1, learning_rate=1.0))
    with pytest.raises(ValueError, match="`stages` must be stages with distinct names"):
        StagedTraining([Stage("a", epochs=1, learning_rate=1.0)] * 2)
    with pytest.raises(ValueError, match="Pass backup_dir"):
        StagedTraining(one_stage(1), callbacks=[keras.callbacks.BackupAndRestore(
            str(tmp_path))])
    with pytest.raises(ValueError, match="are set by the stages"):
        fit_staged(make_model(), one_stage(1), X, Y, loss="mse", epochs=3)


def test_unknown_layer_names_and_empty_stages_are_errors() -> None:
    with pytest.raises(ValueError, match="Did you mean 'backbone'"):
        fit_staged(make_model(), [Stage("s", trainable="backbon", epochs=1,
                                        learning_rate=1.0)], X, Y, loss="mse")
    with pytest.raises(ValueError, match="leaves no weight .* trainable"):
        fit_staged(make_model(), [Stage("s", trainable="all", frozen=["backbone", "head"],
                                        epochs=1, learning_rate=1.0)], X, Y, loss="mse")


def test_schedules_do_not_import_tensorflow_under_jax() -> None:
    code = (
        "import sys, numpy as np, fairtrain as ft\n"
        "from fairtrain.schedules import Stage, fit_staged, StepDecay\n"
        "import keras\n"
        "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name='d')])\n"
        "fit_staged(m, [Stage('s', epochs=1, learning_rate=0.1)], np.ones((4, 2)),\n"
        "           np.ones((4, 1)), loss='mse', verbose=0)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_tf_dataset_needs_no_shuffle_argument() -> None:
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data input is for the TensorFlow backend")
    tf = pytest.importorskip("tensorflow")
    train = tf.data.Dataset.from_tensor_slices((X, Y)).batch(16)
    stages = [Stage("a", trainable="head", epochs=1, learning_rate=1e-3),
              Stage("b", epochs=1, learning_rate=1e-4)]
    # Keras warns "`shuffle=True` was passed, but will be ignored" unless fit_staged
    # passes shuffle=False for datasets; filterwarnings=error turns that into a failure.
    history = fit_staged(make_model(), stages, train, loss="mse", verbose=0)
    assert history.epoch == [0, 1]


# ---------------------------------------------------------------------- issue 9
@pytest.mark.parametrize("rate", [np.float32(0.01), np.float64(0.01), 1], ids=str)
def test_stage_learning_rate_accepts_numpy_numbers_and_ints(rate: Any) -> None:
    # Before: accepted by Stage, then failed inside fit.
    stage = Stage("s", epochs=1, learning_rate=rate)
    assert type(stage.learning_rate) is float and stage.learning_rate == float(rate)
    history = fit_staged(make_model(), [stage], X, Y, loss="mse", optimizer="sgd",
                         batch_size=16, verbose=0)
    np.testing.assert_allclose(history.history["learning_rate"], [float(rate)], rtol=1e-6)


def test_backup_dir_keeps_the_user_s_files(tmp_path: Any) -> None:
    # Before: the run ended with shutil.rmtree(backup_dir), user files included.
    folder = tmp_path / "runs" / "resnet50"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("my notes")
    (folder / "ckpt").mkdir()
    (folder / "ckpt" / "best.weights.h5").write_bytes(b"weights")

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if epoch == 1:
                raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        fit_staged(make_model(), two_stage((1, 1)), X, Y, loss="mse", callbacks=[Crash()],
                   backup_dir=folder, verbose=0)
    assert (folder / "fairtrain-staged.json").exists()
    fit_staged(make_model(), two_stage((1, 1)), X, Y, loss="mse", backup_dir=folder,
               verbose=0)
    assert sorted(p.name for p in folder.iterdir()) == ["ckpt", "notes.txt"]
    assert (folder / "notes.txt").read_text() == "my notes"
    assert (folder / "ckpt" / "best.weights.h5").read_bytes() == b"weights"
    # a folder fairtrain alone used is removed once empty
    alone = tmp_path / "alone"
    fit_staged(make_model(), one_stage(1), X, Y, loss="mse", backup_dir=alone, verbose=0)
    assert not alone.exists()


def test_backup_dir_never_overwrites_a_file_fairtrain_did_not_write(tmp_path: Any) -> None:
    (tmp_path / "fairtrain-staged.json").write_text('{"mine": true}')
    with pytest.raises(ValueError, match="not written by fairtrain"):
        fit_staged(make_model(), one_stage(1), X, Y, loss="mse", backup_dir=tmp_path,
                   verbose=0)
    assert (tmp_path / "fairtrain-staged.json").read_text() == '{"mine": true}'
    (tmp_path / "fairtrain-staged.json").unlink()
    (tmp_path / "fairtrain-staged.npz").write_bytes(b"mine")
    with pytest.raises(ValueError, match="did not write it"):
        fit_staged(make_model(), one_stage(1), X, Y, loss="mse", backup_dir=tmp_path,
                   verbose=0)
    assert (tmp_path / "fairtrain-staged.npz").read_bytes() == b"mine"


def test_fit_staged_adds_one_epoch_sync_per_feed_and_keeps_the_user_s() -> None:
    from fairtrain.data import EpochSync, SampledPyDataset

    groups = ft.Groups.from_codes(np.repeat([0, 1], [36, 12]))
    sampler = ft.sampling.Homogeneous(groups, batch_size=12, seed=0)
    feed = SampledPyDataset(sampler, lambda i: (X[i], Y[i]))
    class Spy(EpochSync):
        calls = 0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            Spy.calls += 1
            super().on_epoch_begin(epoch, logs)

    history = fit_staged(make_model(), two_stage((1, 1)), feed, loss="mse", verbose=0,
                         callbacks=[Spy(feed)])
    assert history.epoch == [0, 1]
    assert Spy.calls == 2  # the user's sync ran every epoch ...
    from fairtrain.schedules.staged import _epoch_syncs

    assert _epoch_syncs(feed, None, [Spy(feed)]) == []  # ... and none was added
    added = _epoch_syncs(feed, feed, [])
    assert [s.validation for s in added] == [False, True]


@pytest.mark.parametrize(
    "edit",
    [{"stage": 7, "epoch": -3}, {"stage": 0, "epoch": -3}, {"stage": "0"},
     {"epoch": 5}, {"stage_start": 2}, {"stage": True}],
    ids=["stage-7-epoch--3", "negative-epoch", "stage-a-string", "epoch-past-the-stage",
         "start-after-epoch", "stage-a-bool"],
)
def test_a_corrupt_backup_state_is_refused_and_kept(tmp_path: Any, edit: dict) -> None:
    # issue 19 §3: stage=7, epoch=-3 skipped every stage, returned "complete" and
    # deleted the backup
    import json

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if epoch == 1:
                raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        fit_staged(make_model(), one_stage(2), X, Y, loss="mse", callbacks=[Crash()],
                   backup_dir=tmp_path, verbose=0)
    state_file = tmp_path / "fairtrain-staged.json"
    state = json.loads(state_file.read_text())
    assert (state["stage"], state["stage_start"], state["epoch"]) == (0, 0, 1)
    state_file.write_text(json.dumps({**state, **edit}))
    with pytest.raises(ValueError, match="corrupt"):
        fit_staged(make_model(), one_stage(2), X, Y, loss="mse", backup_dir=tmp_path,
                   verbose=0)
    assert state_file.exists() and (tmp_path / "fairtrain-staged.npz").exists()
