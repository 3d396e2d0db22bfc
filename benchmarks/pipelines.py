"""Every use of fairtrain's data adapters by the benchmarks, in one place.

The suites never call :func:`fairtrain.data.to_tf_dataset` or
:class:`fairtrain.data.SampledPyDataset` themselves: they call :func:`make_tf_feed`,
:func:`make_py_feed` and :func:`fit_callbacks`, so that a change of the adapters' API is
one edit here. TensorFlow is imported only by :func:`make_tf_feed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def make_tf_feed(sampler: Any, load: Callable[[Any], Any], *,
                 vectorized: bool | str = False, steps_per_epoch: int | None = None) -> Any:
    """An endless ``tf.data.Dataset`` of the sampler's batches, epoch after epoch.

    ``load`` takes one index (or, with ``vectorized=True``, a batch of indices; with
    ``vectorized="auto"`` one index, run batched when that keeps its values). Iterated
    directly it serves ``plan(0)``, ``plan(1)``, ...; in ``fit`` pass
    ``steps_per_epoch`` (the same value) and :func:`fit_callbacks`.
    """
    import fairtrain as ft

    return ft.data.to_tf_dataset(sampler, load, vectorized=vectorized, repeat=True,
                                 steps_per_epoch=steps_per_epoch)


def make_py_feed(sampler: Any, load_batch: Callable[[Any], Any], *,
                 steps_per_epoch: int | None = None, workers: int = 1) -> Any:
    """A Keras ``PyDataset`` of the sampler's batches (any backend, no TensorFlow)."""
    import fairtrain as ft

    return ft.data.SampledPyDataset(sampler, load_batch, steps_per_epoch=steps_per_epoch,
                                    workers=workers)


def fit_callbacks(feed: Any, sampler: Any) -> list[Any]:
    """Callbacks ``model.fit`` needs to keep ``feed`` on the epoch Keras runs.

    :class:`fairtrain.data.EpochSync` for a fairtrain feed, so that
    ``fit(initial_epoch=e, epochs=e + 1)`` serves ``plan(e)``; none for a baseline feed.
    """
    import fairtrain as ft

    try:
        return [ft.data.EpochSync(feed)]
    except TypeError:  # a baseline feed: it does not plan epochs
        return []
