"""The epoch clock a feed reads and :class:`~fairtrain.data.EpochSync` sets.

Backend-free and import-light: no Keras, no TensorFlow. A feed (a dataset made by
:func:`~fairtrain.data.to_tf_dataset` or :func:`~fairtrain.data.from_group_datasets`, or a
:class:`~fairtrain.data.SampledPyDataset`) carries a :class:`FeedInfo` in its
``_fairtrain_feed`` attribute; the callback finds the clock there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

from fairtrain._validation import Interval, check

UNSYNCED_MESSAGE = (
    "{name} was asked for a further epoch, but no epoch number reached it: without "
    "ft.data.EpochSync a feed serves plan(0) for one pass only (it cannot know which "
    "epoch Keras is in). Add ft.data.EpochSync({var}) to fit's callbacks "
    "(fit_staged adds it itself); it also serves the right epoch after "
    "fit(initial_epoch=...) and BackupAndRestore."
)


class EpochClock:
    """The global epoch a feed serves, shared by the feed and its :class:`EpochSync`.

    ``epoch`` is None until a callback sets it. Thread-safe; pickles as its value
    (worker processes get a snapshot; the epoch is passed to them explicitly).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch: int | None = None
        self._unsynced_passes = 0

    @property
    def epoch(self) -> int | None:
        """The epoch set by the last ``set``, or None if never set."""
        with self._lock:
            return self._epoch

    def set(self, epoch: int) -> None:
        """Set the epoch (called by :class:`EpochSync` in ``on_epoch_begin``)."""
        epoch = check("epoch", epoch, Interval(Integral, 0, None))
        with self._lock:
            self._epoch = epoch

    def reset(self) -> None:
        """Forget the epoch: the feed behaves as new (EpochSync calls this at train end)."""
        with self._lock:
            self._epoch = None
            self._unsynced_passes = 0

    def current(self, name: str, var: str) -> int:
        """The epoch to serve now (read as a pass, or a batch, starts).

        The clock's epoch once set; otherwise 0 until :meth:`finish_pass` was called,
        and a RuntimeError after (serving plan(0) again would be silently wrong). Only
        finished passes count: a pass left before its end was no epoch.
        """
        with self._lock:
            if self._epoch is not None:
                return self._epoch
            if self._unsynced_passes:
                raise RuntimeError(UNSYNCED_MESSAGE.format(name=name, var=var))
            return 0

    def finish_pass(self) -> None:
        """Count a completed pass of epoch 0 served without an epoch number."""
        with self._lock:
            if self._epoch is None:
                self._unsynced_passes += 1

    def __getstate__(self) -> dict[str, Any]:
        return {"epoch": self._epoch, "passes": self._unsynced_passes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._epoch = state["epoch"]
        self._unsynced_passes = state["passes"]


@dataclass
class FeedInfo:
    """What :class:`EpochSync` needs to know about a feed.

    Attributes
    ----------
    name : str
        How error messages name the feed.
    steps : int
        Batches the feed serves per epoch.
    repeat : bool
        Whether one pass holds every following epoch too (an infinite dataset).
    clock : EpochClock
    """

    name: str
    steps: int
    repeat: bool
    clock: EpochClock = field(default_factory=EpochClock)


def feed_info(feed: Any) -> FeedInfo | None:
    """The :class:`FeedInfo` of a fairtrain feed, or None for anything else."""
    info = getattr(feed, "_fairtrain_feed", None)
    return info if isinstance(info, FeedInfo) else None
