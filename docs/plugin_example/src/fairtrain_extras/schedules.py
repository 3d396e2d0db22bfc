"""A schedule plugin: a linear warm-up to a constant learning rate."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="fairtrain_extras")
class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """Rise linearly from 0 to ``initial`` over ``warmup_steps`` optimizer steps, then stay.

    Parameters
    ----------
    initial : float
        The learning rate after the warm-up.
    warmup_steps : int, default 100
        Optimizer steps of the warm-up.
    """

    def __init__(self, initial: float, warmup_steps: int = 100):
        if not initial > 0:
            raise ValueError(f"`initial` must be positive; got initial={initial!r}.")
        if int(warmup_steps) != warmup_steps or warmup_steps < 1:
            raise ValueError(f"`warmup_steps` must be a positive int; got {warmup_steps!r}.")
        self.initial = float(initial)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        fraction = keras.ops.minimum((step + 1.0) / self.warmup_steps, 1.0)
        return self.initial * fraction

    def get_config(self) -> dict:
        """The constructor arguments."""
        return {"initial": self.initial, "warmup_steps": self.warmup_steps}

    @classmethod
    def from_config(cls, config: dict) -> LinearWarmup:
        """``cls(**config)``."""
        return cls(**config)
