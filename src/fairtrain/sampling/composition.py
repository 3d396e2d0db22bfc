"""`CompositionLog`: per-batch group counts of what a pipeline actually yielded, for audits."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from fairtrain.groups import as_groups

__all__ = ["CompositionLog"]


class CompositionLog:
    """Per-batch group counts of the batches a pipeline yielded.

    Pass one to :func:`fairtrain.data.to_tf_dataset` or
    :class:`fairtrain.data.SampledPyDataset` (``composition_log=...``), or call
    :meth:`record` yourself with each batch's indices. Recording is thread-safe.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        The groups the indices refer to (anything :func:`fairtrain.groups.as_groups`
        takes).
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Attributes
    ----------
    groups : Groups

    Examples
    --------
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes([0, 0, 1, 1, 1], ["a", "b"])
    >>> log = ft.CompositionLog(groups)
    >>> log.record([0, 2, 3]).tolist()
    [1, 2]
    >>> log.record([1, 4]).tolist()
    [1, 1]
    >>> log.counts.tolist()
    [[1, 2], [1, 1]]
    >>> log.totals.tolist()
    [2, 3]
    """

    def __init__(self, groups: Any = None, *, sensitive_features: Any = None) -> None:
        self.groups = as_groups(groups, sensitive_features=sensitive_features)
        self._rows: list[np.ndarray] = []
        self._keys: dict[Any, int] = {}
        self._lock = threading.Lock()

    def record(self, indices: Any, *, key: Any = None) -> np.ndarray:
        """Count one batch's examples per group and append the counts.

        Parameters
        ----------
        indices : array-like of int, shape (q,)
            The batch's example indices; ``-1`` entries (padding) are ignored.
        key : hashable, optional
            Identifies the batch, e.g. ``(epoch, step)``. Recording a key again replaces
            that batch's row instead of appending one, so a batch a pipeline builds twice
            (Keras builds a batch to peek at the model's input before training, then
            serves it again) is counted once.

        Returns
        -------
        ndarray of int64, shape (n_groups,)

        Raises
        ------
        ValueError
            If an index is out of range or refers to an excluded example.
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        idx = idx[idx != -1]
        n = len(self.groups)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"Batch indices must lie in [0, {n}); got {idx.min()}..{idx.max()}.")
        codes = self.groups.codes[idx]
        if np.any(codes < 0):
            raise ValueError(
                f"The batch holds {int(np.count_nonzero(codes < 0))} excluded example(s) "
                "(group code -1); a sampler must never draw them."
            )
        row = np.bincount(codes, minlength=self.groups.n_groups).astype(np.int64)
        with self._lock:
            if key is not None and key in self._keys:
                self._rows[self._keys[key]] = row
            else:
                if key is not None:
                    self._keys[key] = len(self._rows)
                self._rows.append(row)
        return row

    @property
    def counts(self) -> np.ndarray:
        """Counts of every recorded batch, shape (n_batches, n_groups), int64."""
        with self._lock:
            rows = list(self._rows)
        if not rows:
            return np.zeros((0, self.groups.n_groups), dtype=np.int64)
        return np.stack(rows)

    @property
    def totals(self) -> np.ndarray:
        """Examples yielded per group over all recorded batches, shape (n_groups,)."""
        return self.counts.sum(axis=0)

    def error(self, targets: Any) -> float:
        """Mean absolute per-batch composition error against exact targets.

        Parameters
        ----------
        targets : array-like of float, shape (n_groups,) or (n_batches, n_groups)
            Exact expected counts per batch, e.g. ``batch_size * shares`` or a
            sampler's :meth:`~fairtrain.sampling.GroupBatchSampler.targets`.

        Returns
        -------
        float
            ``mean_t sum_g |counts[t, g] - targets[t, g]| / 2`` (examples misplaced per
            batch; 0 when every batch holds its exact share).
        """
        counts = self.counts.astype(float)
        if counts.shape[0] == 0:
            return 0.0
        diff = np.abs(counts - np.broadcast_to(np.asarray(targets, float), counts.shape))
        return float(diff.sum(axis=1).mean() / 2)

    def discard(self, key: Any) -> bool:
        """Forget the batch recorded under ``key`` (a batch built but never trained on).

        Returns
        -------
        bool
            Whether a batch was recorded under ``key``.
        """
        with self._lock:
            row = self._keys.pop(key, None)
            if row is None:
                return False
            del self._rows[row]
            for k, j in self._keys.items():
                if j > row:
                    self._keys[k] = j - 1
        return True

    def clear(self) -> None:
        """Forget every recorded batch."""
        with self._lock:
            self._rows.clear()
            self._keys.clear()

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"CompositionLog({len(self)} batches, {self.groups.n_groups} groups)"
