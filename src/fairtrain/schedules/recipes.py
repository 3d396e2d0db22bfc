"""The reference recipes of staged fine-tuning: `one_stage`, `two_stage`, `three_stage`.

Registry contract (kind ``recipes``, entry-point group ``fairtrain.recipes``)
-----------------------------------------------------------------------------
A recipe plugin is a callable ``recipe(epochs, **options) -> list[Stage]``:

* ``epochs`` (first positional argument) is a positive int, or one int per stage;
* it returns a non-empty ``list`` of :class:`~fairtrain.schedules.Stage` with distinct
  names, which :func:`~fairtrain.schedules.fit_staged` runs in order;
* calling it has no side effect (no model is touched; nothing is trained);
* it has a numpydoc docstring.

fairtrain calls nothing else on it. :func:`fairtrain.testing.check_recipe` checks all
of this. Built-ins: ``one_stage``, ``two_stage``, ``three_stage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fairtrain._validation import param_error
from fairtrain.schedules.stage import Stage

__all__ = ["one_stage", "three_stage", "two_stage"]


def _per_stage(name: str, value: Any, n: int) -> tuple[Any, ...]:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * n
    if len(values) != n:
        raise param_error(name, value, f"one value or {n} values (one per stage)")
    return values


def one_stage(epochs: int, *, learning_rate: float = 1e-5) -> list[Stage]:
    """The 1-stage recipe of the apparent-age experiment: the whole model at 1e-5.

    Parameters
    ----------
    epochs : int
        Epochs of the stage.
    learning_rate : float, default 1e-5

    Returns
    -------
    list of Stage
        ``[Stage("all", trainable="all", ...)]``.

    Examples
    --------
    >>> from fairtrain.schedules import one_stage
    >>> one_stage(50)
    [Stage('all', trainable='all', epochs=50, learning_rate=1e-05)]
    """
    return [Stage("all", trainable="all", epochs=epochs, learning_rate=learning_rate)]


def two_stage(
    epochs: int | Sequence[int],
    *,
    learning_rates: Sequence[float] = (1e-4, 1e-5),
    backbone: str = "backbone",
) -> list[Stage]:
    """The 2-stage recipe: backbone frozen at 1e-4, then the whole model at 1e-5.

    Parameters
    ----------
    epochs : int or sequence of 2 int
        Epochs per stage (one value for both).
    learning_rates : sequence of 2 float, default (1e-4, 1e-5)
    backbone : str, default "backbone"
        Name (or pattern) of the backbone sub-model.

    Returns
    -------
    list of Stage
        ``head`` (everything but the backbone), then ``all``. With the default
        ``batchnorm="auto"`` the backbone's BatchNormalization layers stay in inference
        mode in the second stage.

    Examples
    --------
    >>> from fairtrain.schedules import two_stage
    >>> for stage in two_stage((5, 20)):
    ...     print(stage)
    Stage('head', trainable='all', frozen='backbone', epochs=5, learning_rate=0.0001)
    Stage('all', trainable='all', epochs=20, learning_rate=1e-05)
    """
    e = _per_stage("epochs", epochs, 2)
    lr = _per_stage("learning_rates", learning_rates, 2)
    return [
        Stage("head", trainable="all", frozen=backbone, epochs=e[0], learning_rate=lr[0]),
        Stage("all", trainable="all", epochs=e[1], learning_rate=lr[1]),
    ]


def three_stage(
    epochs: int | Sequence[int],
    *,
    learning_rates: Sequence[float] = (1e-4, 1e-5, 1e-5),
    backbone: str = "backbone",
    head: str = "head",
) -> list[Stage]:
    """The 3-stage recipe: head at 1e-4, then backbone at 1e-5, then all at 1e-5.

    Parameters
    ----------
    epochs : int or sequence of 3 int
        Epochs per stage (one value for all three).
    learning_rates : sequence of 3 float, default (1e-4, 1e-5, 1e-5)
    backbone : str, default "backbone"
        Name (or pattern) of the backbone sub-model.
    head : str, default "head"
        Name (or pattern) of the head sub-model.

    Returns
    -------
    list of Stage
        ``head`` (backbone frozen), ``backbone`` (head frozen), ``all``.

    Examples
    --------
    >>> from fairtrain.schedules import three_stage
    >>> [(s.name, s.frozen, s.learning_rate) for s in three_stage(10)]
    [('head', 'backbone', 0.0001), ('backbone', 'head', 1e-05), ('all', (), 1e-05)]
    """
    e = _per_stage("epochs", epochs, 3)
    lr = _per_stage("learning_rates", learning_rates, 3)
    return [
        Stage("head", trainable="all", frozen=backbone, epochs=e[0], learning_rate=lr[0]),
        Stage("backbone", trainable="all", frozen=head, epochs=e[1], learning_rate=lr[1]),
        Stage("all", trainable="all", epochs=e[2], learning_rate=lr[2]),
    ]
