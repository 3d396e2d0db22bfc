"""The written contracts of the ``schedules`` and ``recipes`` registry kinds."""

from __future__ import annotations

import keras
import pytest

from fairtrain import registry
from fairtrain.schedules import Stage, StepDecay
from fairtrain.testing import check_recipe, check_schedule

pytestmark = pytest.mark.keras_backend


def test_builtin_schedules_and_recipes_keep_their_contracts():
    assert registry.available("schedules")["step_decay"] == "fairtrain"
    check_schedule(registry.get("schedules", "step_decay"),
                   {"initial": 0.1, "steps_per_epoch": 10})
    model = keras.Model(
        inp := keras.Input((3,)),
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)], name="head")(
            keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="backbone")(inp)
        ),
    )
    for name in ("one_stage", "two_stage", "three_stage"):
        check_recipe(registry.get("recipes", name), model=model)


class GoodWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``steps`` steps, then constant."""

    def __init__(self, peak=0.1, steps=10):
        self.peak, self.steps = peak, steps

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        return self.peak * keras.ops.minimum(1.0, (step + 1.0) / self.steps)

    def get_config(self):
        return {"peak": self.peak, "steps": self.steps}


class ZeroAtStart(GoodWarmup):
    """Broken: a warm-up from zero gives learning rate 0 at step 0... and below."""

    def __call__(self, step):
        return self.peak * keras.ops.cast(step, "float32") / self.steps - self.peak


class ForgetsConfig(GoodWarmup):
    """Broken: get_config loses the peak."""

    def get_config(self):
        return {"steps": self.steps}


def test_check_schedule_passes_a_good_plugin_and_names_what_a_bad_one_breaks():
    check_schedule(GoodWarmup)
    check_schedule(StepDecay, {"initial": 0.5, "every": 2, "steps_per_epoch": 3})
    with pytest.raises(AssertionError, match="never negative"):
        check_schedule(ZeroAtStart)
    with pytest.raises(AssertionError, match="from_config"):
        check_schedule(ForgetsConfig, {"peak": 0.3})
    with pytest.raises(AssertionError, match="LearningRateSchedule"):
        check_schedule(lambda step: 0.1)


def good_recipe(epochs):
    """Head first, then everything.

    Parameters
    ----------
    epochs : int
    """
    return [Stage("head", trainable="head", epochs=epochs, learning_rate=1e-3),
            Stage("all", epochs=epochs, learning_rate=1e-4)]


def repeats_a_name(epochs):
    """Broken: two stages called "all"."""
    return [Stage("all", epochs=epochs, learning_rate=1e-3)] * 2


def one_stage_only_returns_a_stage(epochs):
    """Broken: a Stage, not a list."""
    return Stage("all", epochs=epochs, learning_rate=1e-3)


def test_check_recipe_passes_a_good_plugin_and_names_what_a_bad_one_breaks():
    check_recipe(good_recipe)
    with pytest.raises(AssertionError, match="repeats stage names"):
        check_recipe(repeats_a_name)
    with pytest.raises(AssertionError, match="non-empty list of Stage"):
        check_recipe(one_stage_only_returns_a_stage)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="out")])
    with pytest.raises(AssertionError, match="does not fit model"):
        check_recipe(good_recipe, model=model)  # it has no layer called "head"
