"""Helpers the callbacks share: log-key names, dataset detection, row counts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fairtrain._lazy import import_keras

keras = import_keras("fairtrain.callbacks")

__all__ = ["batches", "is_dataset", "key_part", "n_rows"]


def key_part(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.=\-]+", "_", text).strip("_") or "_"


def is_dataset(x: Any) -> bool:
    """Whether ``x`` is a batched dataset (``tf.data.Dataset`` or Keras ``PyDataset``)."""
    if isinstance(x, keras.utils.PyDataset):
        return True
    # tf.data without importing TensorFlow: its datasets live in tensorflow's modules
    module = type(x).__module__ or ""
    return module.startswith("tensorflow") and hasattr(x, "as_numpy_iterator")


def batches(data: Any) -> Any:
    """The batches of one pass over a tf.data.Dataset or a PyDataset."""
    if isinstance(data, keras.utils.PyDataset):
        n = data.num_batches
        if n is None:
            raise ValueError(
                "BiasMonitor needs a finite validation PyDataset (num_batches is None)."
            )
        for i in range(n):
            yield data[i]
    else:
        # NumPy batches: every backend's predict_on_batch takes them (JAX refuses tf tensors)
        yield from data.as_numpy_iterator()


def n_rows(x: Any, name: str) -> int:
    """Rows of ``x`` (an array, or a list or dict of arrays), the argument called ``name``."""
    if isinstance(x, Mapping):
        x = next(iter(x.values()))
    elif isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        x = x[0]
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) == 0:
        raise TypeError(
            f"`{name}` must be an array (or a list or dict of arrays) with one row per "
            f"example; got {type(x).__name__}."
        )
    return int(shape[0])
