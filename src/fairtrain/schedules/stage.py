"""`Stage`: one stage of staged fine-tuning (which layers train, how long, at which rate)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import keras
import numpy as np

__all__ = ["BatchNormMode", "Selector", "Stage"]

Selector = str | Sequence[str] | Callable[[keras.layers.Layer], bool]
BatchNormMode = Literal["auto", "inference", "train"]
_BN_MODES = ("auto", "inference", "train")

def _check_selector(name: str, value: Any) -> Any:
    if callable(value) and not isinstance(value, str):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError(
        f"`{name}` must be 'all', a layer name or name pattern, a sequence of them, or a "
        f"predicate layer -> bool; got {name}={value!r}."
    )


def check_keras_name(what: str, spec: Any, get: Callable[[Any], Any], examples: str) -> None:
    """Refuse, before any stage runs, an optimizer or loss name that Keras does not know."""
    if not isinstance(spec, str):
        return
    try:
        get(spec)
    except ValueError:
        module = {"optimizer": "keras.optimizers", "loss": "keras.losses"}.get(what, "keras")
        raise ValueError(
            f"`{what}`={spec!r} is not a Keras {what} name; use one such as {examples} "
            f"(see {module}), or pass an object."
        ) from None


class Stage:
    """One stage of staged training: which layers train, for how long, at which rate.

    Parameters
    ----------
    name : str
        The stage's name, recorded for every epoch in the history.
    trainable : "all", str, sequence of str, or callable, default "all"
        The layers that train. A string selects every layer (at any depth) whose name
        matches it as a :mod:`fnmatch` pattern: an exact name (``"dense_1"``), the name
        of a sub-model (``"backbone"``, ``"head"``: all its layers), or a prefix
        (``"block5_*"``). A callable is a predicate ``layer -> bool`` over every layer.
        Selecting a layer selects all its sub-layers. ``"all"`` is the whole model.
    epochs : int
        Number of epochs (fewer if a callback stops the stage early).
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule
        The optimizer's learning rate in this stage (an int or a NumPy number is
        converted to a Python float). A schedule counts this stage's
        optimizer steps (the optimizer is new in every stage).
    optimizer : str, dict or keras.optimizers.Optimizer, optional
        This stage's optimizer; default: the one given to :class:`StagedTraining`. A
        fresh copy is made with ``learning_rate``.
    callbacks : sequence of keras.callbacks.Callback, default ()
        Callbacks for this stage only: an ``EarlyStopping`` here ends the stage, and
        the next stage starts.
    frozen : str, sequence of str, or callable, default ()
        Layers removed from ``trainable`` (same forms), e.g. ``trainable="all",
        frozen="backbone"``.
    batchnorm : {"auto", "inference", "train"}, default "auto"
        BatchNormalization layers. ``"auto"``: a BN layer frozen in an earlier stage
        stays frozen, in inference mode, even when its parent trains (the Keras
        fine-tuning rule); ``"inference"``: every BN layer is frozen; ``"train"``: BN
        layers follow ``trainable``.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or range.

    Notes
    -----
    In Keras 3 a BatchNormalization layer with ``trainable=False`` runs in inference
    mode: it normalises with its moving statistics, does not update them, and its
    ``gamma`` / ``beta`` do not train. Keeping BN "in inference mode" therefore means
    keeping it non-trainable while the rest of its parent trains.

    Examples
    --------
    >>> from fairtrain.schedules import Stage
    >>> Stage("head", trainable="all", frozen="backbone", epochs=5, learning_rate=1e-4)
    Stage('head', trainable='all', frozen='backbone', epochs=5, learning_rate=0.0001)
    """

    def __init__(
        self,
        name: str,
        *,
        trainable: Selector = "all",
        epochs: int,
        learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
        optimizer: str | dict[str, Any] | keras.optimizers.Optimizer | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        frozen: Selector = (),
        batchnorm: BatchNormMode = "auto",
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"`name` must be a non-empty string; got name={name!r}.")
        _check_selector("trainable", trainable)
        _check_selector("frozen", frozen)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"`epochs` must be a positive integer; got epochs={epochs!r}.")
        if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            if isinstance(learning_rate, bool) or not isinstance(
                learning_rate, (int, float, np.number)
            ):
                raise TypeError(
                    "`learning_rate` must be a positive number or a Keras "
                    f"LearningRateSchedule; got learning_rate={learning_rate!r}."
                )
            if not math.isfinite(learning_rate) or learning_rate <= 0:
                raise ValueError(
                    "`learning_rate` must be positive and finite; got "
                    f"learning_rate={learning_rate!r}."
                )
            # NumPy scalars and ints become a Python float here, at the call: Keras
            # optimizers built from a config want a float.
            learning_rate = float(learning_rate)
        if optimizer is not None and not isinstance(
            optimizer, (str, dict, keras.optimizers.Optimizer)
        ):
            raise TypeError(
                "`optimizer` must be a name, a config dict or a keras Optimizer; got "
                f"optimizer={optimizer!r}."
            )
        check_keras_name("optimizer", optimizer, keras.optimizers.get, "'adam', 'sgd'")
        if isinstance(callbacks, keras.callbacks.Callback) or not all(
            isinstance(cb, keras.callbacks.Callback) for cb in callbacks
        ):
            raise TypeError(
                "`callbacks` must be a sequence of keras.callbacks.Callback; got "
                f"callbacks={callbacks!r}. Wrap a single callback in a list."
            )
        if batchnorm not in _BN_MODES:
            raise ValueError(
                f"`batchnorm` must be one of {list(_BN_MODES)}; got batchnorm={batchnorm!r}."
            )
        self.name = name
        self.trainable = trainable
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.callbacks = callbacks
        self.frozen = frozen
        self.batchnorm = batchnorm

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "optimizer": self.optimizer,
            "callbacks": self.callbacks,
            "frozen": self.frozen,
            "batchnorm": self.batchnorm,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Stage:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        parts = [repr(self.name), f"trainable={self.trainable!r}"]
        if self.frozen != ():
            parts.append(f"frozen={self.frozen!r}")
        parts += [f"epochs={self.epochs}", f"learning_rate={self.learning_rate!r}"]
        if self.batchnorm != "auto":
            parts.append(f"batchnorm={self.batchnorm!r}")
        return f"Stage({', '.join(parts)})"
