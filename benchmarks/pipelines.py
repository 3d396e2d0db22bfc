"""Every use of fairtrain's data adapters by the benchmarks, in one place.

The suites never call :func:`fairtrain.data.to_tf_dataset` or
:class:`fairtrain.data.SampledPyDataset` themselves: they call :func:`make_tf_feed`,
:func:`make_py_feed` and :func:`fit_callbacks`, so that a change of the adapters' API is
one edit here. TensorFlow is imported only by :func:`make_tf_feed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def make_tf_feed(sampler: Any, load: Callable[[Any], Any], *, vectorized: bool = False,
                 epochs: int | None = None) -> Any:
    """An endless (or ``epochs``-long) ``tf.data.Dataset`` of the sampler's batches.

    ``load`` takes one index (or, with ``vectorized=True``, a batch of indices).
    ``fit`` needs ``steps_per_epoch=sampler.steps_per_epoch`` (or fewer) with an
    endless feed.
    """
    import fairtrain as ft

    return ft.data.to_tf_dataset(sampler, load, vectorized=vectorized, epochs=epochs)


def make_py_feed(sampler: Any, load_batch: Callable[[Any], Any], *, initial_epoch: int = 0,
                 workers: int = 1) -> Any:
    """A Keras ``PyDataset`` of the sampler's batches (any backend, no TensorFlow)."""
    import fairtrain as ft

    return ft.data.SampledPyDataset(sampler, load_batch, initial_epoch=initial_epoch,
                                    workers=workers)


def fit_callbacks(feed: Any, sampler: Any) -> list[Any]:
    """Callbacks ``model.fit`` needs to keep ``feed`` on the sampler's epochs.

    None today: the tf.data feed plans epoch after epoch by itself and the PyDataset
    advances in ``on_epoch_end``.
    """
    return []
