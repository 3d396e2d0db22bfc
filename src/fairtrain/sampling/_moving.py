"""`MovingShares`: the base of the samplers whose group shares change between epochs."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from fractions import Fraction
from numbers import Integral
from typing import Any

import numpy as np

from fairtrain._validation import Interval, caller_stacklevel, check
from fairtrain.groups import Groups
from fairtrain.sampling.quotas import largest_remainder, quota_table
from fairtrain.sampling.samplers import GroupBatchSampler

__all__ = ["MovingShares"]

_EPOCH = Interval(Integral, 0, None)


class MovingShares(GroupBatchSampler):
    """Exact quotas of shares that a subclass's ``update`` changes between epochs.

    Holds the share history as ``(first epoch, shares)`` segments: segment ``i`` covers
    epochs ``[first_i, first_{i+1})``. An epoch once planned is frozen; a change that
    would reach it applies from the first epoch not planned yet instead, with a
    ``RuntimeWarning``. Epoch ``e`` with shares ``s`` holds the largest-remainder
    rounding of ``steps_per_epoch * batch_size * s_g`` examples of group ``g``, spread
    over its batches with the remainders carried (:func:`fairtrain.sampling.quota_table`);
    the group streams continue across epochs as in :class:`GroupBatchSampler`.

    Subclasses call ``super().__init__(..., initial=shares)``, change the shares with
    :meth:`_set_from`, and may check a restored history (``_check_history_shares``)
    and keep more state (``_extra_state``, ``_parse_extra_state``,
    ``_apply_extra_state``).
    """

    _every_batch_needs_each_group = False

    def __init__(
        self,
        groups: Groups,
        *,
        batch_size: int,
        seed: int,
        steps_per_epoch: int | None,
        initial: np.ndarray,
    ) -> None:
        self._segments: list[tuple[int, np.ndarray]] = [(0, np.asarray(initial, dtype=float))]
        self._planned = 0  # epochs [0, _planned) may have been served: frozen
        self._tables: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # Epoch totals of every shares vector tabled, never evicted (k ints each): the
        # stream positions of a late epoch sum them over all earlier segments.
        self._totals: dict[bytes, np.ndarray] = {}
        super().__init__(groups, batch_size=batch_size, seed=seed, steps_per_epoch=steps_per_epoch)

    # ------------------------------------------------------------------ shares
    @property
    def shares(self) -> np.ndarray:
        """The current shares (after every update so far), shape (n_groups,)."""
        return self._segments[-1][1].copy()

    def shares_for(self, epoch: int) -> np.ndarray:
        """The shares epoch ``epoch`` is (or will be, barring updates) planned with."""
        epoch = check("epoch", epoch, _EPOCH)
        return self._segment_shares(epoch).copy()

    @property
    def history(self) -> list[tuple[int, np.ndarray]]:
        """``(first epoch, shares)`` of every change of shares, oldest first.

        ``first epoch`` is the first epoch planned with those shares: the initial
        shares come first, at epoch 0, and ``update(losses, epoch=e)`` is recorded at
        ``e + 1`` (later if that epoch was planned already, with a warning).
        :attr:`GroupDRO.history <fairtrain.weighting.GroupDRO.history>` numbers its
        weights the same way.
        """
        return [(e, s.copy()) for e, s in self._segments]

    def _segment_shares(self, epoch: int) -> np.ndarray:
        shares = self._segments[0][1]
        for first, s in self._segments:
            if first > epoch:
                break
            shares = s
        return shares

    def target_shares(self) -> np.ndarray:
        """The current shares (see :attr:`shares`), shape (n_groups,)."""
        return self.shares

    @staticmethod
    def _check_epoch(epoch: Any) -> None:
        """Raise on an ``epoch`` that :meth:`_set_from` would refuse (None passes)."""
        if epoch is not None:
            check("epoch", epoch, _EPOCH)

    def _set_from(self, shares: np.ndarray, epoch: int | None) -> None:
        """Use ``shares`` from epoch ``epoch + 1`` (None: the first epoch not planned)."""
        last_first = self._segments[-1][0]
        wanted = self._planned if epoch is None else check("epoch", epoch, _EPOCH) + 1
        first = max(wanted, self._planned, last_first)
        if epoch is not None and first > wanted:
            if self._planned >= last_first:
                why = (f"epochs up to {first - 1} were planned already (the data pipeline "
                       "planned ahead, or read their quotas)")
            else:
                why = (f"an update for epoch {last_first - 1} came first and set the "
                       f"shares from epoch {last_first} on, and the shares only change "
                       "forward in epochs")
            warnings.warn(
                f"{type(self).__name__}: the shares measured after epoch {epoch} apply from "
                f"epoch {first}, not {wanted}: {why}.",
                RuntimeWarning,
                stacklevel=caller_stacklevel(),
            )
        if first == last_first:
            self._segments[-1] = (first, shares)
        else:
            self._segments.append((first, shares))

    # ------------------------------------------------------------------ schedule
    def _table(self, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(quotas (steps, k), targets (steps, k), epoch totals (k,)) for ``shares``."""
        key = shares.tobytes()
        cached = self._tables.get(key)
        if cached is not None:
            return cached
        steps, b = self.steps_per_epoch, self.batch_size
        fractions = [Fraction(float(s)) for s in shares]
        total = sum(fractions)
        fractions = [f / total for f in fractions]
        den = 1
        for f in fractions:
            den = math.lcm(den, f.denominator)
        numerators = [int(f * den) * b * steps for f in fractions]
        totals = largest_remainder(numerators, den, b * steps)
        table = quota_table(totals.tolist(), steps, steps)
        targets = np.broadcast_to(totals / steps, table.shape).copy()
        if len(self._tables) > 64:
            self._tables.clear()
        self._tables[key] = (table, targets, totals)
        self._totals[key] = totals
        return self._tables[key]

    def _epoch_totals(self, shares: np.ndarray) -> np.ndarray:
        totals = self._totals.get(shares.tobytes())
        return totals if totals is not None else self._table(shares)[2]

    def _rows(self, epoch: int) -> np.ndarray:
        return self._table(self._segment_shares(epoch))[0]

    def targets(self, epoch: int) -> np.ndarray:
        """Exact real-valued counts the quotas of ``epoch`` round (see the Notes)."""
        epoch = check("epoch", epoch, _EPOCH)
        return self._table(self._segment_shares(epoch))[1].copy()

    def _drawn_before(self, step: int) -> np.ndarray:
        steps = self.steps_per_epoch
        epoch, within = divmod(step, steps)
        out = np.zeros(self.groups.n_groups, dtype=np.int64)
        bounds = [first for first, _ in self._segments[1:]] + [None]
        for (first, shares), end in zip(self._segments, bounds):
            stop = epoch if end is None else min(end, epoch)
            if stop > first:
                out += (stop - first) * self._epoch_totals(shares)
        if within:
            out += self._rows(epoch)[:within].sum(axis=0)
        return out

    def plan(self, epoch: int) -> np.ndarray:  # noqa: D102 - documented in the base class
        epoch = check("epoch", epoch, _EPOCH)
        out = super().plan(epoch)
        self._planned = max(self._planned, epoch + 1)
        return out

    plan.__doc__ = GroupBatchSampler.plan.__doc__

    def quotas(self, epoch: int) -> np.ndarray:  # noqa: D102 - documented in the base class
        # A pipeline may serve quotas rather than plans (from_group_datasets): reading
        # them freezes the epoch as planning it does.
        epoch = check("epoch", epoch, _EPOCH)
        out = super().quotas(epoch)
        self._planned = max(self._planned, epoch + 1)
        return out

    quotas.__doc__ = GroupBatchSampler.quotas.__doc__

    # ------------------------------------------------------------------ state
    def _check_history_shares(self, shares: np.ndarray) -> str | None:
        """Why ``shares`` cannot be in a restored history, or None if it can."""
        return None

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _parse_extra_state(self, state: Mapping[str, Any]) -> Any:
        """Check the subclass's part of ``state``; raise ``ValueError`` if it is wrong."""
        return None

    def _apply_extra_state(self, parsed: Any) -> None:
        pass

    def get_state(self) -> dict[str, Any]:
        """Position, share history and the first epoch not planned yet (and more).

        Plain Python types (JSON-serialisable), so it can be saved next to a
        checkpoint; :meth:`set_state` restores it exactly.
        """
        return {
            **super().get_state(),
            "history": [[int(e), [float(x) for x in s]] for e, s in self._segments],
            "planned": int(self._planned),
            **self._extra_state(),
        }

    def _parse_history(self, history: Any) -> list[tuple[int, np.ndarray]]:
        k = self.groups.n_groups
        empty = self.groups.counts == 0
        segments: list[tuple[int, np.ndarray]] = []
        for item in history:
            first, shares = int(item[0]), np.asarray(item[1], dtype=float)
            if shares.shape != (k,) or not np.all(np.isfinite(shares)):
                raise ValueError(
                    f"The state's history holds shares of shape {shares.shape}; "
                    f"expected ({k},) finite values."
                )
            why = self._check_history_shares(shares)
            if why is None and (
                abs(shares.sum() - 1.0) > 1e-9 or np.any(shares < 0) or np.any(shares[empty] != 0)
            ):
                why = "not a distribution with share 0 on the empty groups"
            if why is not None:
                raise ValueError(f"The state's history holds shares {shares.tolist()}: {why}.")
            if segments and first <= segments[-1][0] or not segments and first != 0:
                raise ValueError(
                    "The state's history must start at epoch 0 with increasing epochs; got "
                    f"{[int(i[0]) for i in history]}."
                )
            segments.append((first, shares))
        if not segments:
            raise ValueError("The state's history is empty.")
        return segments

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`get_state` (a bare position keeps the shares).

        Raises
        ------
        ValueError
            On a position out of range, or a history that is not a list of
            ``[first epoch, shares]`` with increasing epochs starting at 0 and shares
            the sampler could have reached.
        """
        if "history" not in state:
            super().set_state(state)
            return
        segments = self._parse_history(state["history"])
        planned = check("planned", state.get("planned", 0), _EPOCH)
        extra = self._parse_extra_state(state)
        # Everything checked before anything changes: a refused state leaves no trace.
        super().set_state(state)
        self._segments = segments
        self._planned = planned
        self._plan_cache = None
        self._apply_extra_state(extra)
