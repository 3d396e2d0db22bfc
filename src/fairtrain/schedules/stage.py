"""`Stage`: one stage of staged fine-tuning (which layers train, how long, at which rate)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, Literal

import keras

from fairtrain._validation import Constraint, InstanceOf, Interval, Options, validate_params

__all__ = ["BatchNormMode", "Selector", "Stage"]

Selector = str | Sequence[str] | Callable[[keras.layers.Layer], bool]
BatchNormMode = Literal["auto", "inference", "train"]
_BN_MODES = ("auto", "inference", "train")


class LayerSelector(Constraint):
    """Which layers: a name or pattern, a sequence of them, or a predicate."""

    description = (
        "'all', a layer name or name pattern, a sequence of them, or a predicate "
        "layer -> bool"
    )

    def ok(self, value: Any) -> bool:
        if isinstance(value, str) or callable(value):
            return True
        return isinstance(value, Sequence) and all(isinstance(v, str) for v in value)


class CallbackList(Constraint):
    """A sequence of Keras callbacks (never a single callback)."""

    description = "a sequence of keras.callbacks.Callback"

    def ok(self, value: Any) -> bool:
        return (
            isinstance(value, Sequence)
            and not isinstance(value, (str, keras.callbacks.Callback))
            and all(isinstance(cb, keras.callbacks.Callback) for cb in value)
        )


#: An optimizer as Stage and StagedTraining take it.
OPTIMIZER = InstanceOf(
    (str, dict, keras.optimizers.Optimizer),
    "an optimizer (a name, a config dict or a keras Optimizer)",
)


def serialize_optimizer(optimizer: Any) -> Any:
    """An optimizer spec as plain JSON values (``keras.optimizers.get`` reads it back).

    A name or a config dict stays as it is; an optimizer object is serialised.
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return keras.optimizers.serialize(optimizer)
    return optimizer


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
    TypeError
        If an argument has the wrong type (``epochs=2.0``, a single callback).
    ValueError
        If an argument is out of range (``epochs=0``, ``learning_rate=nan``).

    Notes
    -----
    In Keras 3 a BatchNormalization layer with ``trainable=False`` runs in inference
    mode: it normalises with its moving statistics, does not update them, and its
    ``gamma`` / ``beta`` do not train. Keeping BN "in inference mode" therefore means
    keeping it non-trainable while the rest of its parent trains.

    :meth:`get_config` is plain JSON when the selectors are names (a predicate is kept
    as that callable); the per-stage ``callbacks`` are the one thing not in it (Keras
    callbacks have no config): ``Stage.from_config({**config, "callbacks": [...]})``.

    Examples
    --------
    >>> from fairtrain.schedules import Stage
    >>> Stage("head", trainable="all", frozen="backbone", epochs=5, learning_rate=1e-4)
    Stage('head', trainable='all', frozen='backbone', epochs=5, learning_rate=0.0001)
    """

    @validate_params(
        {
            "name": ["name"],
            "trainable": [LayerSelector()],
            "epochs": [Interval(Integral, 1, None)],
            "learning_rate": [
                Interval(Real, 0, None, closed="neither"),
                InstanceOf(keras.optimizers.schedules.LearningRateSchedule,
                           "a keras LearningRateSchedule"),
            ],
            "optimizer": [OPTIMIZER, None],
            "callbacks": [CallbackList()],
            "frozen": [LayerSelector()],
            "batchnorm": [Options(str, _BN_MODES)],
        },
        hints={"callbacks": "Wrap a single callback in a list."},
    )
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
        # (NumPy scalars and ints became a Python float in validate_params: Keras
        # optimizers built from a config want a float.)
        check_keras_name("optimizer", optimizer, keras.optimizers.get, "'adam', 'sgd'")
        self.name = name
        self.trainable = trainable
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.callbacks = callbacks
        self.frozen = frozen
        self.batchnorm = batchnorm

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as plain JSON values, all but ``callbacks``.

        A learning-rate schedule and an optimizer object are serialised with Keras
        (``keras.saving.serialize_keras_object``, ``keras.optimizers.serialize``).
        """

        def selector(value: Any) -> Any:
            return value if isinstance(value, str) or callable(value) else list(value)

        learning_rate = self.learning_rate
        if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            learning_rate = keras.saving.serialize_keras_object(learning_rate)
        return {
            "name": self.name,
            "trainable": selector(self.trainable),
            "epochs": self.epochs,
            "learning_rate": learning_rate,
            "optimizer": serialize_optimizer(self.optimizer),
            "frozen": selector(self.frozen),
            "batchnorm": self.batchnorm,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Stage:
        """Rebuild from :meth:`get_config`, plus ``callbacks`` if the stage had any."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), Mapping):
            config["learning_rate"] = keras.saving.deserialize_keras_object(
                config["learning_rate"]
            )
        return cls(**config)

    def __repr__(self) -> str:
        parts = [repr(self.name), f"trainable={self.trainable!r}"]
        if self.frozen != ():
            parts.append(f"frozen={self.frozen!r}")
        parts += [f"epochs={self.epochs}", f"learning_rate={self.learning_rate!r}"]
        if self.batchnorm != "auto":
            parts.append(f"batchnorm={self.batchnorm!r}")
        return f"Stage({', '.join(parts)})"
