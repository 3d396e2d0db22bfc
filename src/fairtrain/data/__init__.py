"""Adapters from a sampler's plan to a data pipeline: tf.data and Keras ``PyDataset``.

Importing this package imports neither TensorFlow nor Keras: :func:`to_tf_dataset` and
:func:`from_group_datasets` (TensorFlow) and :class:`SampledPyDataset` (Keras, any
backend) are loaded on first use. :class:`~fairtrain.callbacks.EpochSync`, the Keras
callback that tells every feed the global epoch (epoch ``e`` of ``fit`` serves
``sampler.plan(e)``), lives in :mod:`fairtrain.callbacks` and is named here too, where
feeds are made. The epoch clock the feeds and the callback share is
:mod:`fairtrain.data.clock`.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["EpochSync", "SampledPyDataset", "from_group_datasets", "to_tf_dataset"]

_LAZY = {
    "to_tf_dataset": "fairtrain.data.tf",
    "from_group_datasets": "fairtrain.data.tf",
    "SampledPyDataset": "fairtrain.data.keras",
    # the callback lives in fairtrain.callbacks; named here too, where feeds are made
    "EpochSync": "fairtrain.callbacks.epoch_sync",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        if _LAZY[name] != "fairtrain.data.tf":  # the tf.data adapter names its own extra
            from fairtrain._lazy import import_keras

            import_keras(f"fairtrain.data.{name}")
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fairtrain.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
