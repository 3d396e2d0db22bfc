"""Tests for StepDecay and StepDecayCallback (any Keras backend; never imports tensorflow)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain import registry
from fairtrain.callbacks import StepDecayCallback
from fairtrain.schedules import StepDecay

pytestmark = pytest.mark.keras_backend

factors = st.sampled_from([0.1, 0.25, 0.5, 0.9, 1.0])


def test_registered_and_top_level() -> None:
    assert registry.get("schedules", "step_decay") is StepDecay
    assert ft.StepDecay is StepDecay
    assert ft.StepDecayCallback is StepDecayCallback


@given(
    initial=st.sampled_from([0.5, 0.005, 0.0005, 1e-5]),
    factor=factors,
    every=st.integers(1, 10),
    steps_per_epoch=st.integers(1, 50),
    steps=st.lists(st.integers(0, 5000), min_size=1, max_size=20),
)
def test_step_decay_equals_exponential_decay_staircase(
    initial: float, factor: float, every: int, steps_per_epoch: int, steps: list[int]
) -> None:
    ours = StepDecay(initial, factor=factor, every=every, steps_per_epoch=steps_per_epoch)
    keras_ = keras.optimizers.schedules.ExponentialDecay(
        initial, decay_steps=every * steps_per_epoch, decay_rate=factor, staircase=True
    )
    step = np.array(steps)
    got = keras.ops.convert_to_numpy(ours(step))
    want = keras.ops.convert_to_numpy(keras_(step))
    exact_p = step // (every * steps_per_epoch)
    # Keras floors a float32 quotient; under JAX 41/41 can floor to 0. Compare where
    # Keras' exponent is the exact one, and require the exact formula everywhere.
    keras_p = np.floor(step.astype(np.float32) / np.float32(every * steps_per_epoch))
    agree = keras_p == exact_p
    if keras.backend.backend() == "tensorflow":
        assert agree.all()
    np.testing.assert_array_equal(got[agree], want[agree])
    # float32 power: relative error grows with the exponent; below ~1e-38 flushes to 0
    np.testing.assert_allclose(got, initial * factor**exact_p, rtol=1e-4, atol=1e-37)


@pytest.mark.parametrize("steps_per_epoch", [7, 41, 100])
def test_step_decay_steps_exactly_at_the_boundary(steps_per_epoch: int) -> None:
    lr = StepDecay(0.5, factor=0.1, every=1, steps_per_epoch=steps_per_epoch)
    spe = steps_per_epoch
    got = keras.ops.convert_to_numpy(lr(np.array([0, spe - 1, spe, 2 * spe - 1, 2 * spe])))
    np.testing.assert_allclose(got, [0.5, 0.5, 0.05, 0.05, 0.005], rtol=1e-6)


def test_step_decay_reference_values() -> None:
    lr = StepDecay(0.005, steps_per_epoch=10)  # 0.005 halved every 6 epochs
    got = [float(lr(e * 10)) for e in range(19)]
    assert got == pytest.approx([0.005] * 6 + [0.0025] * 6 + [0.00125] * 6 + [0.000625])


def test_step_decay_serialises_inside_an_optimizer() -> None:
    lr = StepDecay(0.005, factor=0.5, every=6, steps_per_epoch=100)
    assert StepDecay.from_config(lr.get_config()).get_config() == lr.get_config()
    restored = keras.optimizers.deserialize(
        keras.optimizers.serialize(keras.optimizers.Adam(learning_rate=lr))
    )
    assert isinstance(restored._learning_rate, StepDecay)
    assert restored._learning_rate.get_config() == lr.get_config()
    cb = StepDecayCallback(0.01, factor=0.1, every=3)
    assert StepDecayCallback.from_config(cb.get_config()).get_config() == cb.get_config()


def test_step_decay_without_steps_per_epoch_refuses_to_count_steps() -> None:
    lr = StepDecay(0.005)
    assert lr.at_epoch(13) == pytest.approx(0.00125)
    with pytest.raises(ValueError, match="`steps_per_epoch` must be given"):
        lr(0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"initial": 0.0}, ValueError, r"`initial` must be a finite number > 0; got initial=0"),
        ({"initial": "0.1"}, TypeError, r"`initial` must be a finite number > 0; got initial="),
        ({"initial": 0.1, "factor": 1.5}, ValueError,
         r"`factor` must be a finite number in \(0, 1\]; got factor=1.5 \(float\). Use 0.5"),
        ({"initial": 0.1, "factor": 0.0}, ValueError, r"`factor` must be a finite number in \(0"),
        ({"initial": 0.1, "every": 0}, ValueError, "`every` must be an int >= 1; got every=0"),
        # a float where an int goes is a type mistake: TypeError, as everywhere
        ({"initial": 0.1, "every": 2.5}, TypeError, "`every` must be an int >= 1; got every=2.5"),
        ({"initial": 0.1, "steps_per_epoch": 0}, ValueError,
         "`steps_per_epoch` must be an int >= 1 or None"),
    ],
    ids=["initial0", "initial-str", "factor-big", "factor0", "every0", "every-float", "spe0"],
)
def test_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        StepDecay(**kwargs)
    kwargs.pop("steps_per_epoch", None)
    if "steps_per_epoch" not in match:
        with pytest.raises(error, match=match):
            StepDecayCallback(**kwargs)


def _compiled_model(optimizer: keras.optimizers.Optimizer | str = "sgd") -> keras.Model:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


@given(
    initial=st.sampled_from([0.5, 0.005, 1e-4]),
    factor=factors,
    every=st.integers(1, 8),
    epochs=st.lists(st.integers(0, 60), min_size=1, max_size=10),
)
def test_callback_sets_initial_times_factor_power_epoch_div_every(
    initial: float, factor: float, every: int, epochs: list[int]
) -> None:
    model = _MODEL
    cb = StepDecayCallback(initial, factor=factor, every=every)
    cb.set_model(model)
    for e in epochs:  # any order: the value depends on the epoch alone
        cb.on_epoch_begin(e)
        got = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        assert got == pytest.approx(initial * factor ** (e // every), rel=1e-6)


_MODEL = _compiled_model()


@pytest.mark.parametrize("k", [3, 6, 7])
def test_callback_continues_the_curve_after_a_restart(k: int) -> None:
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    initial, factor, every, total = 0.04, 0.5, 3, 10
    first = _compiled_model()
    h1 = first.fit(x, y, epochs=k, callbacks=[StepDecayCallback(initial, factor, every)],
                   verbose=0)
    # the restart: a new process rebuilds the model, optimizer and callback from config
    second = _compiled_model()
    second.set_weights(first.get_weights())
    cb = StepDecayCallback.from_config(StepDecayCallback(initial, factor, every).get_config())
    h2 = second.fit(x, y, epochs=total, initial_epoch=k, callbacks=[cb], verbose=0)
    assert h2.epoch == list(range(k, total))
    logged = h1.history["learning_rate"] + h2.history["learning_rate"]
    expected = [initial * factor ** (e // every) for e in range(total)]
    np.testing.assert_allclose(logged, expected, rtol=1e-6)


def test_callback_refuses_an_optimizer_with_a_schedule() -> None:
    model = _compiled_model(keras.optimizers.SGD(StepDecay(0.1, steps_per_epoch=1)))
    cb = StepDecayCallback(0.1)
    cb.set_model(model)
    with pytest.raises(TypeError, match="must be a number, not a schedule"):
        cb.on_epoch_begin(0)


def test_a_saved_model_restores_its_step_decay_schedule(tmp_path) -> None:
    lr = StepDecay(0.005, factor=0.5, every=6, steps_per_epoch=10)
    model = _compiled_model(keras.optimizers.Adam(learning_rate=lr))
    model.fit(np.ones((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    schedule = restored.optimizer._learning_rate
    assert isinstance(schedule, StepDecay)
    assert schedule.get_config() == lr.get_config()
