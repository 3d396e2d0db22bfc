"""`StepDecayCallback`: the step-decay learning rate keyed to the global epoch Keras runs."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import keras

from fairtrain._validation import Interval, validate_params

__all__ = ["StepDecayCallback"]

#: The step-decay parameters, declared once for this callback and
#: :class:`fairtrain.schedules.StepDecay`.
STEP_DECAY_PARAMS: dict[str, Any] = {
    "initial": [Interval(Real, 0, None, closed="neither")],
    "factor": [Interval(Real, 0, 1, closed="right")],
    "every": [Interval(Integral, 1, None)],
}
STEP_DECAY_HINTS = {
    "initial": "It is the learning rate of the first `every` epochs.",
    "factor": "Use 0.5 to halve the learning rate at every step.",
    "every": "It counts epochs between two steps.",
}


@keras.saving.register_keras_serializable(package="fairtrain")
class StepDecayCallback(keras.callbacks.Callback):
    """Set the learning rate from the global epoch at the start of every epoch.

    Keyed to the epoch number Keras passes to callbacks, which counts from
    ``initial_epoch``: ``fit(initial_epoch=k)`` after a restart, and the stages of
    :func:`~fairtrain.schedules.fit_staged`, continue the same curve. The rate in force
    is written to the logs as ``"learning_rate"``.

    Parameters
    ----------
    initial : float
        The learning rate of epochs ``0 .. every - 1``; positive and finite.
    factor : float, default 0.5
        In ``(0, 1]``.
    every : int, default 6
        Epochs between two steps (>= 1); ``every`` counts epochs wherever fairtrain
        takes it.
    verbose : int, default 0
        1 prints the rate when it changes.

    Raises
    ------
    TypeError
        If an argument has the wrong type; during training, if the optimizer's learning
        rate is itself a schedule.
    ValueError
        If an argument is out of range.

    Notes
    -----
    During global epoch ``e`` (0-based) the rate is ``initial · factor ** (e // every)``.
    It overrides the learning rate the model was compiled with (and a stage's
    ``learning_rate`` in staged training).

    Examples
    --------
    >>> import keras, numpy as np
    >>> from fairtrain.callbacks import StepDecayCallback
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.zeros((4, 2)), np.zeros((4, 1))
    >>> cb = StepDecayCallback(0.005, factor=0.5, every=2)
    >>> history = model.fit(x, y, epochs=5, initial_epoch=2, callbacks=[cb], verbose=0)
    >>> [round(lr, 6) for lr in history.history["learning_rate"]]
    [0.0025, 0.0025, 0.00125]
    """

    @validate_params(
        {**STEP_DECAY_PARAMS, "verbose": [Interval(Integral, 0, None)]}, hints=STEP_DECAY_HINTS
    )
    def __init__(
        self, initial: float, factor: float = 0.5, every: int = 6, verbose: int = 0
    ) -> None:
        super().__init__()
        self.initial = initial
        self.factor = factor
        self.every = every
        self.verbose = verbose

    @validate_params({"epoch": [Interval(Integral, 0, None)]})
    def at_epoch(self, epoch: int) -> float:
        """Return ``initial · factor ** (epoch // every)``."""
        return float(self.initial * self.factor ** (int(epoch) // self.every))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Set the optimizer's learning rate for global epoch ``epoch``."""
        value = self.at_epoch(epoch)
        try:
            self.model.optimizer.learning_rate = value
        except TypeError as exc:
            raise TypeError(
                "StepDecayCallback sets the learning rate itself, so the optimizer's "
                "`learning_rate` must be a number, not a schedule; compile with a float."
            ) from exc
        if self.verbose and epoch % self.every == 0:
            print(f"\nEpoch {epoch + 1}: StepDecayCallback sets the learning rate to {value}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write the rate in force to ``logs["learning_rate"]``."""
        if logs is not None:
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            )

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (plain JSON values)."""
        return {
            "initial": self.initial,
            "factor": self.factor,
            "every": self.every,
            "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StepDecayCallback:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)
