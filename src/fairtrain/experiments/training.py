"""Training helpers of the demo and the examples: sampled fits, predictions, histories."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "fit_sampled",
    "fit_staged_sampled",
    "history_to_dict",
    "lowest_val_loss_epoch",
    "predict",
]

def fit_sampled(
    model: Any,
    sampler: Any,
    load: Callable[[Any], Any],
    *,
    epochs: int,
    validation_data: Any = None,
    callbacks: Sequence[Any] = (),
    sample_weight: Any = None,
    vectorized: bool = False,
    verbose: Any = "auto",
) -> Any:
    """Train ``model`` on the batches ``sampler`` plans, loading only what it planned.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    sampler : fairtrain.sampling.GroupBatchSampler
        Plans every epoch's batches.
    load : callable
        ``load(index) -> (x, y)`` (or ``load(indices)`` with ``vectorized=True``), as
        for :func:`fairtrain.data.to_tf_dataset`.
    epochs : int
        Number of epochs.
    validation_data, callbacks, verbose
        Passed to ``model.fit``.
    sample_weight : ndarray of shape (n,), optional
        Per-example loss weights, gathered at the planned indices.
    vectorized : bool, default False
        Whether ``load`` takes a batch of indices.

    Returns
    -------
    keras.callbacks.History
    """
    from fairtrain.data import EpochSync, to_tf_dataset

    dataset = to_tf_dataset(sampler, load, sample_weight=sample_weight, vectorized=vectorized)
    return model.fit(
        dataset,
        epochs=epochs,
        validation_data=validation_data,
        # EpochSync hands Keras' epoch number to the dataset: epoch e serves plan(e)
        callbacks=[EpochSync(dataset), *callbacks],
        verbose=verbose,
        shuffle=False,  # the sampler's plan is the order
    )


def fit_staged_sampled(
    model: Any,
    stages: Sequence[Any],
    sampler: Any,
    load: Callable[[Any], Any],
    *,
    loss: Any,
    metrics: Any = None,
    optimizer: Any = "adam",
    validation_data: Any = None,
    callbacks: Sequence[Any] = (),
    sample_weight: Any = None,
    vectorized: bool = False,
    verbose: Any = "auto",
) -> Any:
    """:func:`fairtrain.fit_staged` on the batches ``sampler`` plans.

    One ``tf.data`` pipeline serves every stage; :func:`fairtrain.fit_staged` keeps it on
    the global epoch, so each global epoch gets its own plan across stages. Arguments as
    for :func:`fit_sampled` and :func:`fairtrain.fit_staged`.

    Returns
    -------
    fairtrain.schedules.StagedHistory
    """
    from fairtrain.data import to_tf_dataset
    from fairtrain.schedules import fit_staged

    # fit_staged adds EpochSync for the dataset: every global epoch gets its own plan
    dataset = to_tf_dataset(sampler, load, sample_weight=sample_weight, vectorized=vectorized)
    return fit_staged(
        model, stages, dataset, validation_data=validation_data, optimizer=optimizer,
        loss=loss, metrics=metrics, callbacks=list(callbacks), verbose=verbose,
    )


def predict(model: Any, x: Any, *, batch_size: int = 256) -> tuple[np.ndarray, float]:
    """``model.predict(x)`` and its wall time in seconds (no progress bar)."""
    start = time.perf_counter()
    y = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    return y, time.perf_counter() - start


def history_to_dict(history: Any) -> dict[str, list[float]]:
    """The per-epoch values of a Keras History (or a mapping) as plain floats."""
    data = getattr(history, "history", history)
    return {k: [float(v) for v in values] for k, values in data.items()}


def lowest_val_loss_epoch(history: Any) -> int:
    """Index (0-based) of the epoch with the lowest ``val_loss``.

    Raises
    ------
    ValueError
        If the history has no ``val_loss``.
    """
    data = getattr(history, "history", history)
    if "val_loss" not in data or not len(data["val_loss"]):
        raise ValueError("The history has no val_loss: train with validation_data.")
    return int(np.nanargmin(np.asarray(data["val_loss"], dtype=float)))


