"""`SampledPyDataset`: a sampler's batches as a Keras 3 ``PyDataset``, for any backend."""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from fairtrain.data._common import check_sample_weight, check_sampler, split_loaded
from fairtrain.sampling.composition import CompositionLog
from fairtrain.sampling.samplers import PAD, GroupBatchSampler

__all__ = ["SampledPyDataset"]

# Keras versions that call ``PyDataset.on_epoch_begin`` pair it with ``on_epoch_end``;
# older ones only call ``on_epoch_end``, once per epoch.
_KERAS_CALLS_EPOCH_BEGIN = hasattr(keras.utils.PyDataset, "on_epoch_begin")


def _called_by_keras_reset() -> bool:
    """Whether the current call comes from Keras' ``EpochIterator.reset``."""
    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return False
        if frame.f_code.co_name == "reset" and frame.f_globals.get("__name__", "").startswith(
            "keras."
        ):
            return True
        frame = frame.f_back
    return False


def _discard_drained_batches(dataset: Any) -> int:
    """Empty the ready queue of the Keras enqueuer serving ``dataset``; return how many.

    When Keras stops a multi-worker enqueuer (at an epoch's end, or when ``fit`` resets
    its iterator after building a batch to peek at the model's input) it drains the
    batches still in flight into a queue "for the next run". Those batches were built
    from the previous plan; serving them first would put stale batches into the next
    epoch and push as many planned ones out of it. Found through the calling adapter
    (Keras internals, so every step is optional).
    """
    frame = sys._getframe(1)
    for _ in range(6):
        if frame is None:
            return 0
        adapter = frame.f_locals.get("self")
        if getattr(adapter, "py_dataset", None) is dataset:
            ready = getattr(getattr(adapter, "enqueuer", None), "ready_queue", None)
            discarded = 0
            while ready is not None:
                try:
                    ready.get_nowait()
                except queue.Empty:
                    break
                discarded += 1
            return discarded
        frame = frame.f_back
    return 0


class SampledPyDataset(keras.utils.PyDataset):
    """A Keras ``PyDataset`` whose batch ``t`` is row ``t`` of the sampler's plan.

    Works under the TensorFlow, JAX and PyTorch backends. ``load_batch`` runs on the
    planned indices of one batch only; the epoch advances in ``on_epoch_end``, which
    Keras calls after every epoch (after its workers stopped), so epoch ``e`` of
    ``fit`` yields ``plan(initial_epoch + e)``. Keras may visit the batches of an
    epoch in any order (``fit(shuffle=True)``); each batch is still its planned batch.

    Parameters
    ----------
    sampler : GroupBatchSampler
        Plans the batches.
    load_batch : callable
        ``load_batch(indices)`` with ``indices`` an int64 NumPy array of shape (q,);
        returns ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` as NumPy arrays (or
        nested structures of them).
    sample_weight : ndarray of shape (n,) or dict of str to ndarray (n,), optional
        Per-example weights gathered at the planned indices; batches are then
        ``(x, y, w)`` (a dict: one weight array per named output).
    initial_epoch : int, default 0
        The epoch the first ``fit`` epoch corresponds to (pass the same value as
        ``fit(initial_epoch=...)`` when resuming).
    composition_log : CompositionLog, optional
        Records the group counts of every batch served for training, keyed by
        ``(epoch, batch index)``: a batch Keras builds to peek at the model's input
        before training and then serves again is counted once. Not
        available with ``use_multiprocessing=True`` (batches are built in other
        processes).
    workers : int, default 1
        Passed to ``keras.utils.PyDataset``.
    use_multiprocessing : bool, default False
        Passed to ``keras.utils.PyDataset``.
    max_queue_size : int, default 10
        Passed to ``keras.utils.PyDataset``.

    Raises
    ------
    TypeError
        If ``sampler`` is not a sampler or ``load_batch`` not callable.
    ValueError
        If the weights have the wrong shape or values, ``initial_epoch`` is negative,
        or a composition log is combined with multiprocessing.

    Examples
    --------
    >>> import numpy as np
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes(np.array([0] * 6 + [1] * 2))
    >>> sampler = ft.sampling.Homogeneous(groups, batch_size=4, seed=0)
    >>> ds = ft.data.SampledPyDataset(sampler, lambda i: (i, groups.codes[i]))
    >>> len(ds)
    2
    >>> np.bincount(ds[0][1], minlength=2).tolist()
    [2, 2]
    """

    def __init__(
        self,
        sampler: GroupBatchSampler,
        load_batch: Callable[[np.ndarray], Any],
        *,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        composition_log: CompositionLog | None = None,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        super().__init__(
            workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size
        )
        self.sampler = check_sampler(sampler)
        if not callable(load_batch):
            raise TypeError(f"`load_batch` must be callable; got {type(load_batch).__name__}.")
        self.load_batch = load_batch
        self._weights = check_sample_weight(sample_weight, len(sampler.groups))
        if isinstance(initial_epoch, bool) or int(initial_epoch) < 0:
            raise ValueError(
                f"`initial_epoch` must be a non-negative integer; got {initial_epoch}."
            )
        if composition_log is not None and use_multiprocessing:
            raise ValueError(
                "`composition_log` cannot record batches built in worker processes; use "
                "use_multiprocessing=False (threads) or record in your own callback."
            )
        self.composition_log = composition_log
        self.epoch = int(initial_epoch)
        self._lock = threading.Lock()
        self._in_epoch = False

    def __len__(self) -> int:
        return self.sampler.steps_per_epoch

    def indices(self, index: int) -> np.ndarray:
        """The planned indices of batch ``index`` of the current epoch, shape (q,)."""
        return self._planned(index)[1]

    def _planned(self, index: int) -> tuple[int, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range [0, {len(self)}).")
        with self._lock:  # the sampler caches one plan; workers share it
            epoch = self.epoch
            row = self.sampler.plan(epoch)[index]
        return epoch, (row[row != PAD] if row.size and row[-1] == PAD else row.copy())

    def __getitem__(self, index: int) -> Any:
        epoch, idx = self._planned(index)
        out = self.load_batch(idx)
        if self.composition_log is not None:
            # Keyed, so the batches Keras builds to peek at the model's input before
            # training, and serves again in the first epoch, are counted once.
            self.composition_log.record(idx, key=(epoch, index))
        if self._weights is None:
            return out
        x, y, _, arity = split_loaded(out, "load_batch")
        if arity == 3:
            raise ValueError(
                "`load_batch` already returns sample weights; do not pass `sample_weight`."
            )
        if arity == 1:
            raise ValueError("With `sample_weight`, `load_batch` must return (x, y).")
        if isinstance(self._weights, dict):
            w: Any = {k: v[idx] for k, v in self._weights.items()}
        else:
            w = self._weights[idx]
        return x, y, w

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)  # locks do not pickle (multiprocessing workers)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def on_epoch_begin(self) -> None:
        """Start an epoch (Keras calls this before every epoch)."""
        self._in_epoch = True

    def on_epoch_end(self) -> None:
        """Advance to the next epoch (Keras calls this after every epoch).

        Keras also calls it when ``fit`` resets its epoch iterator before training
        (after peeking at a batch to build the model); that call does not advance.
        """
        _discard_drained_batches(self)
        if _called_by_keras_reset():
            self._in_epoch = False
            return
        if self._in_epoch or not _KERAS_CALLS_EPOCH_BEGIN:
            self.epoch += 1
        self._in_epoch = False
