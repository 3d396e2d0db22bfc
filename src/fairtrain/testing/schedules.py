"""`check_schedule` and `check_recipe`: the registry contracts of schedules and recipes."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["check_recipe", "check_schedule"]


def _fail(obj: Any, what: str) -> None:
    raise AssertionError(f"{getattr(obj, '__name__', type(obj).__name__)}: {what}")


def _check_doc(obj: Any) -> None:
    if not inspect.getdoc(obj):
        _fail(obj, "has no docstring; plugins document their parameters (numpydoc).")


def check_schedule(
    cls: Any,
    options: Mapping[str, Any] | None = None,
    *,
    steps: Iterable[int] = (0, 1, 7, 100, 10_000),
) -> None:
    """Check that ``cls`` keeps the contract of a ``schedules`` plugin.

    The contract (see :mod:`fairtrain.schedules.decay`): a
    ``keras.optimizers.schedules.LearningRateSchedule`` subclass, built with keyword
    arguments, whose instances return a finite learning rate at every optimizer step
    (positive at step 0, never negative: a decay may underflow to 0), rebuild equal
    from ``get_config`` passed through JSON, and drive a Keras optimizer.

    Parameters
    ----------
    cls : type or str
        The plugin class, or the name it is registered under (kind ``schedules``).
    options : mapping, optional
        Keyword arguments to build it with (default: none).
    steps : iterable of int
        Optimizer steps the learning rate is checked at.

    Raises
    ------
    AssertionError
        Naming the broken rule.

    Examples
    --------
    >>> from fairtrain.schedules import StepDecay
    >>> from fairtrain.testing import check_schedule
    >>> check_schedule(StepDecay, {"initial": 0.1, "steps_per_epoch": 10})
    """
    import keras

    if isinstance(cls, str):  # a registered name
        from fairtrain import registry

        cls = registry.get("schedules", cls)
    if not (isinstance(cls, type)
            and issubclass(cls, keras.optimizers.schedules.LearningRateSchedule)):
        _fail(cls, "must be a subclass of keras.optimizers.schedules.LearningRateSchedule.")
    _check_doc(cls)
    try:
        schedule = cls(**dict(options or {}))
    except Exception as exc:  # noqa: BLE001 - reported with the plugin's name
        _fail(cls, f"cls(**{dict(options or {})!r}) raised {type(exc).__name__}: {exc}")
    try:
        again = cls.from_config(json.loads(json.dumps(schedule.get_config())))
    except Exception as exc:  # noqa: BLE001
        _fail(cls, f"from_config(get_config()) through JSON raised {type(exc).__name__}: {exc}")
    for step in steps:
        try:
            value = float(keras.ops.convert_to_numpy(schedule(step)))
        except Exception as exc:  # noqa: BLE001
            _fail(cls, f"schedule({step}) raised {type(exc).__name__}: {exc}")
        if not math.isfinite(value) or value < 0 or (step == 0 and value == 0):
            _fail(cls, f"schedule({step}) is {value}; a learning rate is finite, never "
                       "negative, and positive at step 0.")
        rebuilt = float(keras.ops.convert_to_numpy(again(step)))
        if not math.isclose(value, rebuilt, rel_tol=1e-6):
            _fail(cls, f"from_config(get_config()) gives {rebuilt} at step {step}, not {value}.")
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    first = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    expected = float(keras.ops.convert_to_numpy(schedule(0)))
    if not math.isclose(first, expected, rel_tol=1e-6):
        _fail(cls, f"an optimizer driven by it reads {first} at step 0, not {expected}.")


def check_recipe(
    fn: Any,
    *,
    epochs: Iterable[int] = (1, 3),
    model: Any = None,
) -> None:
    """Check that ``fn`` keeps the contract of a ``recipes`` plugin.

    The contract (see :mod:`fairtrain.schedules.recipes`): ``fn(epochs, **options)``
    returns a non-empty list of :class:`~fairtrain.schedules.Stage` with distinct names
    and no side effect; with an int ``epochs`` every stage runs that many epochs.

    Parameters
    ----------
    fn : callable or str
        The plugin function, or the name it is registered under (kind ``recipes``).
    epochs : iterable of int, default (1, 3)
        Values of ``epochs`` to call it with.
    model : keras.Model, optional
        A model the recipe is meant for: every stage's ``trainable`` and ``frozen``
        patterns must then select layers of it and leave some weight trainable (no
        training is run).

    Raises
    ------
    AssertionError
        Naming the broken rule.

    Examples
    --------
    >>> from fairtrain.schedules import two_stage
    >>> from fairtrain.testing import check_recipe
    >>> check_recipe(two_stage)
    """
    from fairtrain.schedules.stage import Stage

    if isinstance(fn, str):  # a registered name
        from fairtrain import registry

        fn = registry.get("recipes", fn)
    if not callable(fn) or isinstance(fn, type):
        _fail(fn, "must be a function epochs -> list of Stage.")
    _check_doc(fn)
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not params:
        _fail(fn, "must take `epochs` as its first positional argument.")
    for e in epochs:
        try:
            stages = fn(e)
            twice = fn(e)
        except Exception as exc:  # noqa: BLE001
            _fail(fn, f"fn({e}) raised {type(exc).__name__}: {exc}")
        if not isinstance(stages, list) or not stages:
            _fail(fn, f"fn({e}) returned {stages!r}; expected a non-empty list of Stage.")
        bad = [s for s in stages if not isinstance(s, Stage)]
        if bad:
            _fail(fn, f"fn({e}) holds {bad[0]!r}, not a Stage.")
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            _fail(fn, f"fn({e}) repeats stage names {names}; they label the history.")
        if [s.epochs for s in stages] != [e] * len(stages):
            _fail(fn, f"fn({e}) gives stage epochs {[s.epochs for s in stages]}; with an "
                      f"int, every stage runs {e} epochs.")
        if [repr(s) for s in twice] != [repr(s) for s in stages]:
            _fail(fn, f"fn({e}) returns different stages on a second call.")
        if model is not None:
            from fairtrain.schedules.freezing import apply_stage, layer_tree

            layers = [model] + [layer for layer, _ in layer_tree(model)]
            flags = [layer.trainable for layer in layers]
            frozen: set[int] = set()
            try:
                for stage in stages:
                    frozen |= apply_stage(model, stage, frozen)[0]
            except ValueError as exc:
                _fail(fn, f"does not fit model {model.name!r}: {exc}")
            finally:  # leave the model as it was
                for layer, flag in zip(layers, flags):
                    layer.trainable = flag
