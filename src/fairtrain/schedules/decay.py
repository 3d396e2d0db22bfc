"""Step decay of the learning rate as a Keras schedule, `StepDecay`.

Its epoch-keyed twin is :class:`fairtrain.callbacks.StepDecayCallback`.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import keras
from keras import ops

from fairtrain._validation import Interval, validate_params
from fairtrain.callbacks.step_decay import STEP_DECAY_HINTS, STEP_DECAY_PARAMS

__all__ = ["StepDecay"]


@keras.saving.register_keras_serializable(package="fairtrain")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate multiplied by ``factor`` every ``every`` epochs, as an optimizer schedule.

    Parameters
    ----------
    initial : float
        The learning rate of the first ``every`` epochs.
    factor : float, default 0.5
        In ``(0, 1]``; 0.5 halves the rate at every step.
    every : int, default 6
        Epochs between two steps.
    steps_per_epoch : int, optional
        Optimizer steps per epoch (e.g. ``sampler.steps_per_epoch``). Required to use
        the schedule as an optimizer's ``learning_rate``, which counts optimizer steps;
        without it use :class:`~fairtrain.callbacks.StepDecayCallback`, which counts
        epochs.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range, or when the schedule is called with
        ``steps_per_epoch=None``.

    Notes
    -----
    ``lr(step) = initial · factor ** (step // (every · steps_per_epoch))``: the value of
    Keras' ``ExponentialDecay(initial, decay_steps=every * steps_per_epoch,
    decay_rate=factor, staircase=True)``. The exponent is an integer division, so the
    step happens exactly at the epoch boundary on every backend (Keras' float32
    ``floor(step / decay_steps)`` can, under JAX, give 0 for ``41 / 41`` in a batch of
    steps). The optimizer's step counter restarts with
    a new optimizer, so after recompiling (a new stage) or on ``fit(initial_epoch=k)``
    with a fresh optimizer, use :class:`~fairtrain.callbacks.StepDecayCallback`, which
    is keyed to the global epoch.

    Examples
    --------
    >>> import keras
    >>> from fairtrain.schedules import StepDecay
    >>> lr = StepDecay(0.005, factor=0.5, every=6, steps_per_epoch=100)
    >>> [round(float(lr(step)), 6) for step in (0, 599, 600, 1200)]
    [0.005, 0.005, 0.0025, 0.00125]
    >>> optimizer = keras.optimizers.Adam(learning_rate=lr)
    >>> StepDecay.from_config(lr.get_config()).get_config() == lr.get_config()
    True
    """

    @validate_params(
        {**STEP_DECAY_PARAMS, "steps_per_epoch": [Interval(Integral, 1, None), None]},
        hints=STEP_DECAY_HINTS,
    )
    def __init__(
        self,
        initial: float,
        factor: float = 0.5,
        every: int = 6,
        steps_per_epoch: int | None = None,
    ) -> None:
        super().__init__()
        self.initial = initial
        self.factor = factor
        self.every = every
        self.steps_per_epoch = steps_per_epoch

    def __call__(self, step: Any) -> Any:
        """Return the learning rate at optimizer step ``step``."""
        if self.steps_per_epoch is None:
            raise ValueError(
                "`steps_per_epoch` must be given to use StepDecay as an optimizer "
                "learning rate (it counts optimizer steps); got steps_per_epoch=None. "
                "Pass steps_per_epoch=sampler.steps_per_epoch, or use "
                "StepDecayCallback, which counts epochs."
            )
        initial = ops.convert_to_tensor(self.initial)
        dtype = initial.dtype
        # Integer division: a float32 step / decay_steps can land just below an integer
        # (XLA divides by multiplying with the reciprocal) and delay the step.
        p = ops.floor_divide(ops.cast(step, "int32"), self.every * self.steps_per_epoch)
        return ops.multiply(initial, ops.power(ops.cast(self.factor, dtype), ops.cast(p, dtype)))

    @validate_params({"epoch": [Interval(Integral, 0, None)]})
    def at_epoch(self, epoch: int) -> float:
        """Return ``initial · factor ** (epoch // every)``, the rate during ``epoch``.

        Examples
        --------
        >>> from fairtrain.schedules import StepDecay
        >>> [StepDecay(0.005).at_epoch(e) for e in (0, 5, 6, 12)]
        [0.005, 0.005, 0.0025, 0.00125]
        """
        return float(self.initial * self.factor ** (int(epoch) // self.every))

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (plain JSON values)."""
        return {
            "initial": self.initial,
            "factor": self.factor,
            "every": self.every,
            "steps_per_epoch": self.steps_per_epoch,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StepDecay:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)
