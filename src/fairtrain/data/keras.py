"""`SampledPyDataset`: a sampler's batches as a Keras 3 ``PyDataset``, for any backend."""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import sys
import threading
import weakref
from collections.abc import Callable
from numbers import Integral
from typing import Any

import keras
import numpy as np

from fairtrain._validation import (
    InstanceOf,
    Interval,
    Options,
    check,
    param_error,
    validate_params,
)
from fairtrain.data._common import (
    ADAPTER_PARAMS,
    check_sample_weight,
    check_split,
    check_steps,
    local_indices,
    split_loaded,
)
from fairtrain.data.clock import FeedInfo
from fairtrain.sampling.composition import CompositionLog
from fairtrain.sampling.samplers import GroupBatchSampler

__all__ = ["SampledPyDataset"]

#: An epoch asked for by the caller (None: the current one, from the clock).
_EPOCH = {"epoch": [Interval(Integral, 0, None), None]}

# Worker processes find their dataset here (inherited through fork), so `load_batch`
# need not pickle; only (token, indices) crosses the process boundary. Weak, so the
# registry does not keep a dataset (and its worker processes) alive; each worker pins
# its own copy as it starts (`_pin_in_process`).
_PROCESS_DATASETS: weakref.WeakValueDictionary[int, SampledPyDataset] = (
    weakref.WeakValueDictionary()
)
_PINNED: dict[int, SampledPyDataset] = {}  # filled in worker processes only


def _pin_in_process(token: int) -> None:
    _PINNED[token] = _PROCESS_DATASETS[token]


def _load_in_process(token: int, idx: np.ndarray) -> Any:
    return idx, _PINNED[token]._load(idx)


def _auto_shard() -> tuple[int, int]:
    """(shards, this process's shard) as Keras shards a tf.data dataset across processes.

    From the active Keras distribution (``keras.distribution.set_distribution``): one
    shard per process when every process holds whole model replicas, else one shard
    per model replica (the processes of one replica serve the same slice). Without a
    distribution: one shard, refused when there are several JAX processes (Keras then
    assembles no global batch).
    """
    dist = keras.distribution.distribution()
    if dist is not None:
        processes = int(dist.num_processes)
        replicas = int(dist.num_model_replicas)
        if replicas >= processes:
            return processes, int(dist.data_shard_id)
        return replicas, int(dist.data_shard_id)
    if keras.backend.backend() == "jax":
        import jax

        if jax.process_count() > 1:
            # Without a distribution Keras trains each process's model on its own
            # batches: a slice would be trained alone, not as part of the planned batch.
            raise ValueError(
                f"num_shards='auto' found {jax.process_count()} JAX processes but no Keras "
                "distribution: call keras.distribution.set_distribution(...) before "
                "building the dataset, or pass num_shards and shard_index yourself if "
                "your own loop assembles the global batch."
            )
    return 1, 0


def _check_shards(num_shards: int | str, shard_index: int | None) -> tuple[int, int]:
    """(shards, this shard) from the checked arguments (see validate_params below)."""
    if num_shards == "auto":
        if shard_index is not None:
            raise param_error(
                "shard_index", shard_index, "None with num_shards='auto'",
                hint="The shard index then comes from the Keras distribution.",
            )
        return _auto_shard()
    if shard_index is None:
        if num_shards > 1:
            raise param_error(
                "shard_index", shard_index, f"an int in [0, {num_shards}) with "
                f"num_shards={num_shards}", hint="Pass this process's slice.",
            )
        return 1, 0
    shard_index = check("shard_index", shard_index, Interval(Integral, 0, num_shards,
                                                             closed="left"))
    return int(num_shards), shard_index


class SampledPyDataset(keras.utils.PyDataset):
    """A Keras ``PyDataset`` whose batch ``t`` of epoch ``e`` is row ``t`` of ``plan(e)``.

    Works under the TensorFlow, JAX and PyTorch backends. ``load_batch`` runs on the
    planned indices of one batch only. The epoch comes from the training loop: add
    :class:`~fairtrain.data.EpochSync` to ``fit``'s callbacks (:func:`fairtrain.fit_staged`
    does it for you), and epoch ``e`` of ``fit`` (``initial_epoch``, resumed by
    ``BackupAndRestore``, or a stage's) serves the first ``steps_per_epoch`` rows of
    ``sampler.plan(e)``. Without it the dataset serves ``plan(0)`` for one pass (enough
    for ``fit(epochs=1)``) and refuses a second pass with a RuntimeError rather than
    replaying ``plan(0)``.

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
        Weights that are 0 for every example the sampler draws (in every output) are
        refused: the loss would be 0.
    steps_per_epoch : int, optional
        Batches per epoch: the first ``steps_per_epoch`` rows of each epoch's plan.
        Default: ``sampler.steps_per_epoch``. Use it with ``fit(steps_per_epoch=...)``
        for short epochs.
    composition_log : CompositionLog, optional
        Records the group counts of every batch served, keyed by ``(epoch, batch
        index)``: a batch Keras builds to peek at the model's input and serves again is
        counted once. Not available with ``use_multiprocessing=True``.
    workers : int, default 1
        Threads (or processes) that build upcoming batches of the current epoch ahead
        of time. fairtrain runs this pool itself, keyed by ``(epoch, index)``, and lets
        Keras read batches in order: Keras' own enqueuer would build batches of the
        next epoch before the epoch number reaches the dataset.
    use_multiprocessing : bool, default False
        Build batches in ``workers`` forked processes instead of threads (POSIX only;
        ``load_batch`` need not pickle, its results must). Under JAX, ``load_batch``
        must not call JAX in those processes (JAX warns at the fork).
    max_queue_size : int, default 10
        Batches built ahead at most.
    num_shards : int or "auto", default 1
        Slices every planned (global) batch is split into, one per process of a
        multi-process run (the Keras distribution API on JAX). Each batch this dataset
        serves is then its slice of ``sampler.batch_size / num_shards`` examples, which
        holds ``floor`` or ``ceil`` of ``quota / num_shards`` examples of every group;
        the slices of one batch are disjoint and together are exactly the planned
        batch. ``"auto"`` reads the shards from the active Keras distribution
        (``keras.distribution.set_distribution`` must come first), as Keras shards a
        ``tf.data`` dataset: one shard per process under ``DataParallel``.
    shard_index : int, optional
        This process's slice, in ``[0, num_shards)``; required when ``num_shards > 1``
        is an integer (e.g. ``jax.process_index()``).

    Attributes
    ----------
    prefetch_workers : int
        The ``workers`` passed: the size of the pool fairtrain builds batches in.
    prefetch_processes : bool
        The ``use_multiprocessing`` passed: whether that pool is of processes.
    workers, use_multiprocessing : int, bool
        What Keras' own enqueuer runs: always 1 and False (read-only), so that Keras
        reads batches in order in its thread while fairtrain's pool builds ahead.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``sampler`` not a sampler, ``load_batch`` not
        callable, ``steps_per_epoch=2.0``, ``workers="3"``).
    ValueError
        If the weights have the wrong shape or values, ``steps_per_epoch`` is out of
        range, a composition log is combined with multiprocessing, or the batches cannot
        be split exactly over ``num_shards`` (``batch_size`` not a multiple of it, or a
        partial last batch), or ``num_shards="auto"`` finds several JAX processes but
        no Keras distribution.
    RuntimeError
        When a second pass is asked for without :class:`~fairtrain.data.EpochSync`.

    Notes
    -----
    With several shards, every process must build the same sampler (same groups,
    ``batch_size``, ``seed`` and ``steps_per_epoch``) and the same ``EpochSync``: the
    plans are then identical everywhere, and the processes agree on every global batch
    without talking to each other. :meth:`plan_fingerprint` lets you check it. Under
    ``keras.distribution.DataParallel`` across processes, construct the distribution
    with ``auto_shard_dataset=False``: the dataset is already sharded.

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

    Process 0 of 2 serves half of every batch, one example of each group:

    >>> half = ft.data.SampledPyDataset(sampler, lambda i: i, num_shards=2, shard_index=0)
    >>> np.bincount(groups.codes[half[0]], minlength=2).tolist()
    [1, 1]
    """

    @validate_params(
        {
            **ADAPTER_PARAMS,
            "load_batch": ["callable"],
            "composition_log": [InstanceOf(CompositionLog, "a CompositionLog"), None],
            "workers": [Interval(Integral, 1, None)],
            "use_multiprocessing": ["boolean"],
            "max_queue_size": [Interval(Integral, 1, None)],
            "num_shards": [Interval(Integral, 1, None), Options(str, ("auto",))],
            "shard_index": [Interval(Integral, 0, None), None],
        }
    )
    def __init__(
        self,
        sampler: GroupBatchSampler,
        load_batch: Callable[[np.ndarray], Any],
        *,
        sample_weight: Any = None,
        steps_per_epoch: int | None = None,
        composition_log: CompositionLog | None = None,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
        num_shards: int | str = 1,
        shard_index: int | None = None,
    ) -> None:
        # Keras reads batches in order, in this process; the pool below builds ahead.
        super().__init__(workers=1, use_multiprocessing=False, max_queue_size=max_queue_size)
        self.sampler = sampler
        self.load_batch = load_batch
        self._weights = check_sample_weight(sample_weight, len(sampler.groups),
                                            codes=sampler.groups.codes)
        steps_per_epoch = check_steps(sampler, steps_per_epoch)
        if use_multiprocessing and composition_log is not None:
            raise param_error(
                "composition_log", composition_log, "None with use_multiprocessing=True",
                hint="It cannot record batches built in worker processes; use "
                "use_multiprocessing=False (threads) or record in your own callback.",
            )
        if use_multiprocessing and "fork" not in multiprocessing.get_all_start_methods():
            raise param_error(
                "use_multiprocessing", use_multiprocessing,
                "False where the 'fork' start method is missing",
                hint=f"{sys.platform} lacks it (Linux and macOS have it). Use threads.",
            )
        self.num_shards, self.shard_index = _check_shards(num_shards, shard_index)
        check_split(sampler, self.num_shards, "shards")
        self.composition_log = composition_log
        self.prefetch_workers = workers
        self.prefetch_processes = use_multiprocessing
        self._fairtrain_feed = FeedInfo("This SampledPyDataset", steps_per_epoch, False)
        self._lock = threading.Lock()
        self._served: set[int] = set()
        # Composition-log keys logged before EpochSync set the epoch and not confirmed
        # by a whole pass (Keras' peek, under TF outside a pass, under JAX in a pass
        # of its own), and keys logged for good.
        self._peeked: set[tuple[int, int]] = set()
        self._logged: set[tuple[int, int]] = set()
        self._in_pass = False
        self._pool: cf.Executor | None = None
        self._futures: dict[tuple[int, int], cf.Future] = {}
        self._last_index = -1

    # ------------------------------------------------------------------ pool
    # Keras reads `workers` and `use_multiprocessing` to decide whether to run its own
    # enqueuer, which would build batches of the next epoch before the epoch number
    # reaches the dataset: they stay 1 and False, and cannot be set.
    @property
    def workers(self) -> int:
        """Workers of Keras' own enqueuer: always 1 (fairtrain's are :attr:`prefetch_workers`)."""
        return 1

    @workers.setter
    def workers(self, value: Any) -> None:
        self._refuse_pool_setting("workers", value)

    @property
    def use_multiprocessing(self) -> bool:
        """Whether Keras' own enqueuer forks: always False (see :attr:`prefetch_processes`)."""
        return False

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: Any) -> None:
        self._refuse_pool_setting("use_multiprocessing", value)

    @staticmethod
    def _refuse_pool_setting(name: str, value: Any) -> None:
        raise AttributeError(
            f"SampledPyDataset.{name} cannot be set (got {value!r}): Keras' enqueuer stays "
            "off and fairtrain builds batches ahead in its own pool, whose size and kind "
            "are `prefetch_workers` and `prefetch_processes`. Pass workers= and "
            "use_multiprocessing= to SampledPyDataset(...) instead."
        )

    # ------------------------------------------------------------------ epoch
    @property
    def epoch_clock(self) -> Any:
        """The :class:`~fairtrain.data.clock.EpochClock` :class:`EpochSync` sets."""
        return self._fairtrain_feed.clock

    @property
    def epoch(self) -> int | None:
        """The global epoch last set by :class:`EpochSync` (None if never set)."""
        return self._fairtrain_feed.clock.epoch

    def _current_epoch(self) -> int:
        return self._fairtrain_feed.clock.current("This SampledPyDataset", "dataset")

    def __len__(self) -> int:
        return self._fairtrain_feed.steps

    @validate_params(_EPOCH)
    def indices(self, index: int, epoch: int | None = None) -> np.ndarray:
        """The indices batch ``index`` of ``epoch`` (default: the current) serves.

        With several shards, this shard's slice of the planned batch
        (``sampler.plan(epoch)[index]`` is the whole global batch).

        Raises
        ------
        TypeError
            If ``epoch`` is not an int (``1.9`` is not truncated to epoch 1).
        ValueError
            If ``epoch`` is negative.
        """
        self._check_index(index)
        return self._planned(self._current_epoch() if epoch is None else epoch, index)

    @validate_params(_EPOCH)
    def plan_fingerprint(self, epoch: int | None = None) -> str:
        """A digest of the global batches of ``epoch`` (default: the current) this feed serves.

        The same on every process that plans the same batches, whatever its shard:
        compare it across processes (e.g. with
        ``jax.experimental.multihost_utils.assert_equal``) to check that they agree.
        It covers one epoch: an :class:`~fairtrain.sampling.Adaptive` sampler's later
        plans follow its learned shares, so compare each epoch's at its start (and
        planning an epoch ahead fixes that sampler's shares up to it).

        Returns
        -------
        str
            16 hexadecimal digits.

        Raises
        ------
        TypeError
            If ``epoch`` is not an int (``1.9`` is not truncated to epoch 1).
        ValueError
            If ``epoch`` is negative.
        """
        epoch = self._current_epoch() if epoch is None else epoch
        with self._lock:
            rows = np.ascontiguousarray(self.sampler.plan(epoch)[: len(self)], dtype=np.int64)
        digest = hashlib.sha256(np.asarray([self.num_shards, *rows.shape], np.int64).tobytes())
        digest.update(rows.tobytes())
        return digest.hexdigest()[:16]

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range [0, {len(self)}).")

    def _planned(self, epoch: int, index: int) -> np.ndarray:
        with self._lock:  # the sampler caches one plan; workers share it
            row = self.sampler.plan(epoch)[index]
        return local_indices(row[None, :], self.num_shards, [self.shard_index])

    # ------------------------------------------------------------------ batches
    def _build(self, epoch: int, index: int) -> Any:
        idx = self._planned(epoch, index)
        return idx, self._load(idx)

    def _load(self, idx: np.ndarray) -> Any:
        out = self.load_batch(idx)
        x, y, _, arity = split_loaded(out, "load_batch")  # refuses None, before Keras does
        if self._weights is not None:
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
            out = (x, y, w)
        return out

    def _executor(self) -> cf.Executor:
        if self._pool is None:
            if self.prefetch_processes:
                token = id(self)
                _PROCESS_DATASETS[token] = self
                self._pool = cf.ProcessPoolExecutor(
                    self.prefetch_workers, mp_context=multiprocessing.get_context("fork"),
                    initializer=_pin_in_process, initargs=(token,),
                )
            else:
                self._pool = cf.ThreadPoolExecutor(
                    self.prefetch_workers, thread_name_prefix="fairtrain-batches"
                )
        return self._pool

    def _submit(self, epoch: int, index: int) -> cf.Future:
        key = (epoch, index)
        future = self._futures.get(key)
        if future is None:
            if self.prefetch_processes:
                # Plan here, load there: a forked worker holds a snapshot of the sampler
                # taken at the fork, which misses later updates (e.g. Adaptive shares).
                idx = self._planned(epoch, index)
                future = self._executor().submit(_load_in_process, id(self), idx)
            else:
                future = self._executor().submit(self._build, epoch, index)
            self._futures[key] = future
        return future

    def _fetch(self, epoch: int, index: int) -> tuple[np.ndarray, Any]:
        if self.prefetch_workers == 1:
            return self._build(epoch, index)
        # Forget batches of other epochs (never served: the epoch has moved on).
        for key in [k for k in self._futures if k[0] != epoch]:
            self._futures.pop(key).cancel()
        future = self._submit(epoch, index)
        # Build ahead only while Keras reads in order (fit(shuffle=True) does not).
        if index == 0 or index == self._last_index + 1:
            for ahead in range(index + 1, min(len(self), index + 1 + self.max_queue_size)):
                self._submit(epoch, ahead)
        self._last_index = index
        self._futures.pop((epoch, index), None)
        return future.result()

    def __getitem__(self, index: int) -> Any:
        self._check_index(index)
        epoch = self._current_epoch()
        idx, out = self._fetch(epoch, index)
        if self.composition_log is not None:
            # Keyed, so the batches Keras builds to peek at the model's input before
            # training, and serves again in the first epoch, are counted once.
            key = (epoch, index)
            self.composition_log.record(idx, key=key)
            if self.epoch is not None:
                self._logged.add(key)
                self._peeked.discard(key)
            elif key not in self._logged:  # a peek, a pass without EpochSync, by hand
                self._peeked.add(key)
        self._served.add(index)
        return out

    # ------------------------------------------------------------------ Keras hooks
    def on_epoch_begin(self) -> None:
        """Open a pass (Keras calls this before every epoch).

        Raises the RuntimeError of a refused second pass here, in Keras' own thread,
        before any batch is built.
        """
        epoch = self._current_epoch()
        # Batches built before the pass for another epoch (Keras' peek before a fit
        # resumed with initial_epoch, when EpochSync had not set the epoch yet) are
        # never trained on: drop them from the composition log.
        if self.epoch is not None:
            for key in [k for k in self._peeked if k[0] != epoch]:
                self._peeked.discard(key)
                if self.composition_log is not None:
                    self.composition_log.discard(key)
        self._in_pass = True
        self._served = set()

    def on_epoch_end(self) -> None:
        """Close a pass (Keras calls this after every epoch and after peeking).

        Without :class:`EpochSync`, a pass that served every batch counts as epoch 0
        done, and the next pass is refused; a peek (a few batches built to learn the
        model's input) does not count.
        """
        if self._in_pass and len(self._served) == len(self):
            self._fairtrain_feed.clock.finish_pass()
            self._logged |= self._peeked  # a whole pass: its batches were trained on
            self._peeked = set()
        self._in_pass = False
        self._served = set()

    def close(self) -> None:
        """Stop the worker pool (also done when the dataset is garbage-collected)."""
        pool, self._pool = self._pool, None
        self._futures = {}
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        _PROCESS_DATASETS.pop(id(self), None)

    def __del__(self) -> None:
        # At interpreter shutdown module globals (contextlib included) may already be
        # None, so no helper from a module here: a bare try.
        try:  # noqa: SIM105 - contextlib may be gone
            self.close()
        except Exception:  # a finaliser must not raise
            pass

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_lock", "_pool", "_futures"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._pool = None
        self._futures = {}
