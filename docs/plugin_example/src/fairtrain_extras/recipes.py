"""A recipe plugin: a function returning the list of stages of a staged training."""

from __future__ import annotations

import fairtrain as ft


def head_then_all(epochs, *, learning_rates=(1e-3, 1e-5), backbone: str = "backbone"):
    """Train the head with the backbone frozen, then everything at a lower rate.

    Parameters
    ----------
    epochs : int or sequence of 2 int
        Epochs per stage (one value for both).
    learning_rates : sequence of 2 float, default (1e-3, 1e-5)
    backbone : str, default "backbone"
        Name (or pattern) of the backbone sub-model.

    Returns
    -------
    list of fairtrain.Stage
    """
    first, second = (epochs, epochs) if isinstance(epochs, int) else epochs
    return [
        ft.Stage("head", trainable="all", frozen=backbone, epochs=first,
                 learning_rate=learning_rates[0]),
        ft.Stage("all", trainable="all", epochs=second, learning_rate=learning_rates[1]),
    ]
