"""Group batch samplers: exact per-batch quotas planned on example indices, in NumPy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from fairtrain._validation import (
    Interval,
    Options,
    check,
    check_shares,
    param_error,
    share_spec_config,
    validate_params,
)
from fairtrain.groups import as_sampler_groups, groups_from_config
from fairtrain.sampling.quotas import as_fractions, largest_remainder, quota_table

__all__ = ["GroupBatchSampler", "Homogeneous", "InverseFrequency", "Proportional", "TargetShares"]

PAD = -1
#: Periodic quota tables up to this many rows are used across epochs (exact carry over
#: the whole of training); longer periods fall back to one table per epoch.
_MAX_PERIOD = 1 << 10
#: Each group's stream draws permutations in blocks of about this many indices.
_BLOCK = 1 << 12
#: Least slots+draws of a chunk of groups whose plan positions are built together.
_CHUNK_SLOTS = 1 << 16

#: The parameters every sampler shares, declared once (subclasses add their own).
SAMPLER_PARAMS: dict[str, Any] = {
    "batch_size": [Interval(Integral, 1, None)],
    "seed": [Interval(Integral, 0, None)],
    "steps_per_epoch": [Interval(Integral, 1, None), None],
}
_EPOCH = {"epoch": [Interval(Integral, 0, None)]}


def read_only_shares(spec: Any) -> Any:
    """A share specification as given, read-only: a name, a tuple or a read-only mapping.

    ``spec`` is what :func:`~fairtrain._validation.share_spec_config` returns (a
    ``str``, a ``list`` or a ``dict``). An attribute that hands out the container its
    ``get_config`` reads would let a change to it reach the config but not the quotas
    or weights built from it; a read-only view refuses the change with ``TypeError``.
    """
    if isinstance(spec, Mapping):
        return MappingProxyType(spec)
    return spec if isinstance(spec, str) else tuple(spec)


class GroupBatchSampler:
    """Base of the group batch samplers: quotas per batch plus a draw policy.

    A subclass says which share of every batch each group should get
    (:meth:`target_shares`); this class turns the shares into exact per-batch quotas and
    the quotas into example indices. Nothing is read: a plan is a matrix of indices that
    a data pipeline then loads (:func:`fairtrain.data.to_tf_dataset`,
    :class:`fairtrain.data.SampledPyDataset`).

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        Group of every example (anything :func:`fairtrain.groups.as_groups` takes);
        examples with code ``-1`` are never sampled.
    batch_size : int
        Examples per batch (the global batch under ``tf.distribute``), >= 1.
    seed : int, default 0
        Non-negative seed. Same seed, same epoch: same plan, on any machine.
    steps_per_epoch : int, optional
        Batches per epoch, >= 1. Default ``ceil(n / batch_size)`` with ``n`` the number
        of included examples (the ordinary epoch length).
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``batch_size=2.0``, ``seed="3"``,
        ``seed=True``).
    ValueError
        If an argument is out of range (``seed=-1``), ``batch_size`` is smaller than the
        number of groups with a positive share, or a positive share targets an empty
        group.

    Notes
    -----
    **Parameters are fixed once built.** A sampler caches its quota table and its
    last plan, so its parameters cannot change underneath: assigning ``groups``,
    ``batch_size``, ``seed`` or any other public attribute raises ``AttributeError``.
    Build a new sampler instead, e.g. ``type(s).from_config({**s.get_config(),
    "seed": 1})``. A subclass sets its own parameters before calling
    ``super().__init__``.

    **Quotas.** With ``s_g`` the target share of group ``g`` and ``B`` the batch size,
    batch ``t`` holds ``q_tg`` examples of group ``g``, where ``q_tg`` is
    ``floor(B s_g)`` or ``ceil(B s_g)`` and the running total never drifts a whole
    example: ``|sum_{u<=t} q_ug - (t + 1) B s_g| < 1`` for every ``t``
    (largest-remainder rounding with the remainders carried; see
    :func:`fairtrain.sampling.quota_table`). The carry runs over the whole of training
    when the shares are simple fractions (denominator of ``B s_g`` at most
    ``max(1024, steps_per_epoch)``, e.g. equal shares, ``0.06``, ``1/3``); otherwise
    each epoch first rounds its totals ``steps_per_epoch * B * s_g`` by largest
    remainder and the carry restarts at each epoch, so the bound holds within each
    epoch against those totals.
    :meth:`targets` gives the exact real-valued counts the bound refers to.

    **Draws.** Group ``g`` owns an endless stream: the concatenation of random
    permutations of its members, cycle after cycle, drawn from PCG64 streams keyed on
    ``SeedSequence([seed, g, block])`` (a block is one cycle, or about 4096 indices'
    worth of cycles of a small group). The batches take the stream in order, so within a group the
    number of times any two examples were drawn since epoch 0 differs by at most one; a
    group drawn more often than it has examples cycles through fresh permutations, and
    a group drawn less often continues its permutation in the next epoch instead of
    starting over. Epoch ``e`` starts at stream offset ``sum_{u < e S} q_ug``, a closed
    form, so planning epoch ``e`` never plans epochs ``0..e-1``.

    **Layout.** Within a batch the examples are ordered by group code (a mean loss does
    not depend on the order). Splitting a batch with stride ``R`` (``plan[:, r::R]``)
    gives replica ``r`` of ``R`` ``floor(q_tg / R)`` or ``ceil(q_tg / R)`` examples of
    every group, which is how the ``tf.distribute`` adapter shares each quota.
    """

    #: Whether every group with a positive share needs a place in every batch.
    _every_batch_needs_each_group = True

    @validate_params(SAMPLER_PARAMS)
    def __init__(
        self,
        groups: Any = None,
        *,
        batch_size: int,
        seed: int = 0,
        steps_per_epoch: int | None = None,
        sensitive_features: Any = None,
    ) -> None:
        # the one rule on groups: a Groups, or attribute columns made into one
        self.groups = as_sampler_groups(groups, sensitive_features=sensitive_features)
        self.batch_size = batch_size
        self.seed = seed
        self._steps_per_epoch_arg = steps_per_epoch
        self._validate()
        self._position = (0, 0)
        self._schedule: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._plan_cache: tuple[int, np.ndarray] | None = None
        self._blocks: dict[int, tuple] = {}
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and self.__dict__.get("_frozen", False):
            cls = type(self).__name__
            raise AttributeError(
                f"{cls}.{name} cannot be changed: a sampler's parameters are fixed once "
                f"it is built (its plans are cached). Build a new sampler instead: "
                f"{cls}.from_config({{**sampler.get_config(), {name!r}: ...}})."
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if not name.startswith("_") and self.__dict__.get("_frozen", False):
            raise AttributeError(
                f"{type(self).__name__}.{name} cannot be deleted: a sampler's parameters "
                "are fixed once it is built."
            )
        object.__delattr__(self, name)

    # ------------------------------------------------------------------ subclass API
    def target_shares(self) -> np.ndarray:
        """Target share of every group in a batch, shape (n_groups,), summing to 1."""
        raise NotImplementedError

    def _exact_shares(self) -> list[Fraction]:
        fractions = as_fractions(self.target_shares())
        total = sum(fractions)
        return [f / total for f in fractions]

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as plain JSON values.

        ``from_config(json.loads(json.dumps(get_config())))`` plans the same batches.
        The ``groups`` entry is :meth:`Groups.get_config() <fairtrain.Groups.get_config>`
        (the per-example codes as a list, names, attributes, levels).
        """
        config: dict[str, Any] = {
            "groups": self.groups.get_config(),
            "batch_size": self.batch_size,
            "seed": self.seed,
        }
        if self._steps_per_epoch_arg is not None:
            config["steps_per_epoch"] = self._steps_per_epoch_arg
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GroupBatchSampler:
        """A sampler from :meth:`get_config`'s output: ``cls(**config)``, groups rebuilt."""
        return cls(**groups_from_config(config))

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        shares = np.asarray(self.target_shares(), dtype=float)
        counts = self.groups.counts
        empty = (shares > 0) & (counts == 0)
        if empty.any():
            names = [self.groups.names[g] for g in np.flatnonzero(empty)]
            raise ValueError(
                f"The target gives a positive share to group(s) with no examples: {names}. "
                "Give them share 0 or drop them from the groups."
            )
        needed = int(np.count_nonzero(shares > 0))
        if self._every_batch_needs_each_group and self.batch_size < needed:
            raise param_error(
                "batch_size",
                self.batch_size,
                f"at least the number of groups with a positive share ({needed})",
                hint="Increase batch_size or drop a group from the target.",
            )

    # ------------------------------------------------------------------ schedule
    @property
    def n_examples(self) -> int:
        """Number of included (samplable) examples."""
        return int(self.groups.counts.sum())

    @property
    def steps_per_epoch(self) -> int:
        """Batches per epoch (the number of rows of :meth:`plan`)."""
        if self._steps_per_epoch_arg is not None:
            return int(self._steps_per_epoch_arg)
        return math.ceil(self.n_examples / self.batch_size)

    def _build_schedule(self) -> tuple[np.ndarray, np.ndarray]:
        """(quota table of P rows, exact targets of the same shape); row u mod P."""
        b = self.batch_size
        steps = self.steps_per_epoch
        fractions = self._exact_shares()
        den = 1
        for f in fractions:
            den = math.lcm(den, (f * b).denominator)
        numerators = [int(f * b * den) for f in fractions]
        if den <= max(steps, _MAX_PERIOD):
            table = quota_table(numerators, den, den)
            targets = np.broadcast_to(np.asarray(numerators, float) / den, table.shape)
            return table, targets  # a read-only view: one row in memory
        # Long period: round the epoch's totals, then spread them over its batches.
        totals = largest_remainder([a * steps for a in numerators], den, b * steps)
        table = quota_table(totals.tolist(), steps, steps)
        targets = np.broadcast_to(totals / steps, table.shape)
        return table, targets

    def _schedule_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._schedule is None:
            table, targets = self._build_schedule()
            self._schedule = (table, targets, table.sum(axis=0))
        return self._schedule

    def _drawn_before(self, step: int) -> np.ndarray:
        """Draws of every group in global steps ``[0, step)``, shape (n_groups,)."""
        table, _, totals = self._schedule_arrays()
        period = table.shape[0]
        # A running total of the table would cost as much memory as the table itself.
        return (step // period) * totals + table[: step % period].sum(axis=0)

    def _rows(self, epoch: int) -> np.ndarray:
        table, _, _ = self._schedule_arrays()
        steps, period = self.steps_per_epoch, table.shape[0]
        if period == steps:
            return table
        return table[(epoch * steps + np.arange(steps)) % period]

    @validate_params(_EPOCH)
    def quotas(self, epoch: int) -> np.ndarray:
        """Examples of every group in every batch of ``epoch``.

        Returns
        -------
        ndarray of int64, shape (steps_per_epoch, n_groups)
        """
        return self._rows(epoch).copy()

    @validate_params(_EPOCH)
    def targets(self, epoch: int) -> np.ndarray:
        """Exact real-valued counts the quotas of ``epoch`` round, same shape as quotas.

        ``|quotas - targets| < 1`` elementwise, and the cumulative sums from epoch 0 on
        differ by less than one (see the class Notes).
        """
        table, targets, _ = self._schedule_arrays()
        steps, period = self.steps_per_epoch, table.shape[0]
        if period == steps:
            return targets.copy()
        return targets[(epoch * steps + np.arange(steps)) % period]

    # ------------------------------------------------------------------ draws
    def _stream(self, g: int, start: int, count: int) -> np.ndarray:
        """Positions ``[start, start + count)`` of group ``g``'s stream (member indices).

        May return a read-only view of a cached block; callers copy what they keep.
        """
        members = self.groups.members()[g]
        n = members.size
        if count == 0:
            return np.empty(0, dtype=np.int64)
        if n == 1:
            return np.full(count, members[0], dtype=np.int64)
        per_block = max(1, _BLOCK // n)
        first, last = start // n, (start + count - 1) // n
        offset = start - first * n
        if per_block == 1:
            # One block is one cycle, already drawn as member indices (see _block).
            cycles = [self._block(g, c, n, 1)[0] for c in range(first, last + 1)]
            drawn = np.concatenate(cycles) if len(cycles) > 1 else cycles[0]
            return drawn[offset : offset + count]
        parts = []
        for block in range(first // per_block, last // per_block + 1):
            lo = max(first, block * per_block) - block * per_block
            hi = min(last, (block + 1) * per_block - 1) - block * per_block
            parts.append(self._block_rows(g, block, n, lo, hi).reshape(-1))
        local = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return members[local[offset : offset + count]]

    def _block(self, g: int, block: int, n: int, per_block: int) -> np.ndarray:
        """Member indices of group ``g`` in the order of cycle ``block``, shape (1, n).

        For groups of more than 4096 examples (``per_block == 1``: one block is one
        cycle) the block holds the member indices in permuted order rather than
        positions among the members: ``Generator.shuffle`` makes the same swaps
        whatever the array holds, so shuffling a copy of the members equals
        ``members[rng.permutation(n)]`` without the random-access gather. Smaller
        groups draw rows of positions (:meth:`_block_rows`).

        The last block of every group is cached: a large group drawn less than once
        per epoch reuses its permutation in the next epochs instead of redrawing it.
        """
        cached = self._blocks.get(g)
        if cached is not None and cached[0] == block:
            return cached[1]
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, g, block]))
        perms = np.array(self.groups.members()[g], dtype=np.int64)
        rng.shuffle(perms)
        perms.setflags(write=False)
        perms = perms[None, :]
        self._blocks[g] = (block, perms)
        return perms

    def _block_rows(self, g: int, block: int, n: int, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo..hi`` of block ``block`` of a small group ``g``: positions, (rows, n).

        Row ``i`` of a block is ``argsort`` of the ``i``-th ``n`` uniforms of the block's
        PCG64 stream, so only the rows a plan needs are drawn: the stream is advanced
        past the rows before ``lo`` (one 64-bit output per uniform), and the rows
        drawn last are cached with the generator positioned after them, so that the
        next epoch continues where this one stopped.

        A call takes the group's entry out of the cache while it uses it, so no other
        plan (another thread, a shallow copy of the sampler) can move its generator
        meanwhile: that plan misses the cache and draws from a fresh generator.
        """
        cached = self._blocks.pop(g, None)  # atomic: this call owns the entry
        if cached is not None and cached[0] == block:
            _, row0, rows, rng = cached
            end = row0 + rows.shape[0]  # the generator stands at row `end`
            if row0 <= lo and hi < end:
                self._blocks.setdefault(g, cached)  # back, unless a newer one came
                return rows[lo - row0 : hi - row0 + 1]
            if row0 <= lo <= end:
                more = np.argsort(rng.random((hi + 1 - end, n)), axis=1, kind="stable")
                rows = np.concatenate([rows[lo - row0 :], more]) if lo < end else more
                rows.setflags(write=False)
                self._blocks[g] = (block, lo, rows, rng)
                return rows
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, g, block]))
        if lo:
            rng.bit_generator.advance(lo * n)
        rows = np.argsort(rng.random((hi + 1 - lo, n)), axis=1, kind="stable")
        rows.setflags(write=False)
        self._blocks[g] = (block, lo, rows, rng)
        return rows

    @validate_params(_EPOCH)
    def plan(self, epoch: int) -> np.ndarray:
        """The example indices of every batch of ``epoch``.

        Parameters
        ----------
        epoch : int
            Non-negative epoch number; any epoch can be planned first.

        Returns
        -------
        ndarray of int64, shape (steps_per_epoch, batch_size)
            Row ``t`` is batch ``t``, ordered by group code. A batch shorter than
            ``batch_size`` (only :class:`Proportional` with ``last_batch="partial"``)
            is padded at its end with ``-1``. The array is read-only (the last plan is
            cached); copy it to modify it.
        """
        if self._plan_cache is not None and self._plan_cache[0] == epoch:
            return self._plan_cache[1]
        steps, b = self.steps_per_epoch, self.batch_size
        rows = self._rows(epoch)
        first = self._drawn_before(epoch * steps)
        sizes = rows.sum(axis=1)
        full = bool(np.all(sizes == b))
        out = np.empty((steps, b), dtype=np.int64) if full else np.full((steps, b), PAD)
        flat = out.reshape(-1)
        offsets = np.cumsum(rows, axis=1) - rows  # first column of each group in a row
        k = rows.shape[1]
        # Per-group figures in one pass each rather than one NumPy call per group.
        drawn_all = rows.sum(axis=0).tolist()
        starts = first.tolist()
        fixed = [False] * k
        if full and steps:  # groups with the same columns in every row
            same = (rows.min(axis=0) == rows.max(axis=0)) & (
                offsets.min(axis=0) == offsets.max(axis=0)
            )
            fixed = same.tolist()
        # A group drawn in more than an eighth of the slots is written through a mask of
        # its slots (one byte per slot for all such groups) rather than through int64
        # positions (eight bytes per draw): less memory to allocate and to fault in.
        big = {g for g in range(k) if not fixed[g] and 8 * drawn_all[g] > out.size}
        slot_group = self._slot_groups(rows, sizes, b) if big and k < 255 else None
        scattered = []
        for g in range(k):
            drawn = drawn_all[g]
            if drawn == 0:
                continue
            if not fixed[g] and not (slot_group is not None and g in big):
                scattered.append(g)
                continue
            idx = self._stream(g, starts[g], drawn)
            if fixed[g]:  # the same columns in every row: one 2-D copy
                width = int(rows[0, g])
                col = int(offsets[0, g])
                out[:, col : col + width] = idx.reshape(steps, width)
            else:
                out[slot_group == g] = idx  # row-major order: draw j to the j-th slot
        self._place_scattered(flat, rows, offsets, scattered, starts, drawn_all)
        out.setflags(write=False)
        self._plan_cache = (epoch, out)
        return out

    def _place_scattered(self, flat: np.ndarray, rows: np.ndarray, offsets: np.ndarray,
                         scattered: list[int], starts: list[int],
                         drawn_all: list[int]) -> None:
        """Write the draws of the ``scattered`` groups into the flat plan ``flat``.

        By chunks of groups (a few NumPy calls per chunk, not per group): draw ``j`` of
        a group goes to its row's first slot for the group plus its rank within the
        row; the positions are built as a running sum in place. A chunk holds about an
        eighth of the slots, so that its arrays stay small.
        """
        steps, b = rows.shape[0], self.batch_size
        row_start = np.arange(steps, dtype=np.int64) * b
        limit = max(_CHUNK_SLOTS, flat.size // 8)
        chunks: list[list[int]] = []
        size = limit
        for g in scattered:
            if size + drawn_all[g] + steps > limit:
                chunks.append([])
                size = 0
            chunks[-1].append(g)
            size += drawn_all[g] + steps
        for chunk in chunks:
            lengths = rows[:, chunk].T.reshape(-1)
            nz = np.flatnonzero(lengths)
            lengths = lengths[nz]
            seg_start = (row_start[None, :] + offsets[:, chunk].T).reshape(-1)[nz]
            del nz
            pos = np.ones(int(lengths.sum()), dtype=np.int64)
            pos[0] = seg_start[0]
            before = np.cumsum(lengths[:-1])
            pos[before] = seg_start[1:] - seg_start[:-1] - lengths[:-1] + 1
            del before, seg_start, lengths
            np.cumsum(pos, out=pos)
            parts = [self._stream(g, starts[g], drawn_all[g]) for g in chunk]
            flat[pos] = np.concatenate(parts) if len(parts) > 1 else parts[0]
            del pos, parts

    @staticmethod
    def _slot_groups(rows: np.ndarray, sizes: np.ndarray, b: int) -> np.ndarray | None:
        """The group of every slot of a plan, uint8 (steps, b), 255 for padding.

        Only for plans whose rows are all full but possibly the last (else None).
        """
        steps, k = rows.shape
        if steps == 0 or np.any(sizes[:-1] != b):
            return None
        out = np.full((steps, b), 255, dtype=np.uint8)
        codes = np.arange(k, dtype=np.uint8)
        body = out[:-1].reshape(-1)
        body[:] = np.repeat(np.tile(codes, steps - 1), rows[:-1].reshape(-1))
        out[-1, : int(sizes[-1])] = np.repeat(codes, rows[-1])
        return out

    def batch(self, epoch: int, step: int) -> np.ndarray:
        """The indices of one batch, shape (q,), without padding."""
        step = self._check_step(step)
        row = self.plan(epoch)[step]
        return row[row != PAD]

    # ------------------------------------------------------------------ position
    def _check_step(self, step: Any) -> int:
        steps = self.steps_per_epoch
        return check(
            "step",
            step,
            Interval(Integral, 0, steps, closed="left"),
            hint=f"An epoch of this sampler has steps_per_epoch={steps} batches.",
        )

    def get_state(self) -> dict[str, int]:
        """The position: the epoch and step of the next batch :meth:`next_batch` gives."""
        return {"epoch": self._position[0], "step": self._position[1]}

    def set_state(self, state: Mapping[str, int]) -> None:
        """Move to a position returned by :meth:`get_state`.

        Raises
        ------
        ValueError
            If a key is missing, the epoch is negative or the step is outside
            ``[0, steps_per_epoch)``.
        """
        missing = [key for key in ("epoch", "step") if key not in state]
        if missing:
            raise ValueError(
                f"The sampler state lacks {missing}; pass what get_state() returned "
                f"({{'epoch': ..., 'step': ...}}); got {dict(state)!r}."
            )
        epoch = check("epoch", state["epoch"], _EPOCH["epoch"])
        step = self._check_step(state["step"])
        self._position = (epoch, step)

    def next_batch(self) -> np.ndarray:
        """The batch at the current position, then advance by one step.

        Returns
        -------
        ndarray of int64, shape (q,)
            The batch's indices (``q == batch_size`` except for a partial last batch).
        """
        epoch, step = self._position
        out = self.batch(epoch, step)
        step += 1
        self._position = (epoch + 1, 0) if step == self.steps_per_epoch else (epoch, step)
        return out

    def __iter__(self):
        """Batches from the current position to the end of its epoch."""
        epoch = self._position[0]
        while self._position[0] == epoch:
            yield self.next_batch()

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items() if k != "groups"
        )
        return f"{type(self).__name__}(<{self.groups.n_groups} groups>, {args})"


class Proportional(GroupBatchSampler):
    """Batches that keep the population shares; every example once per epoch.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        Group of every example; examples with code ``-1`` are never sampled.
    batch_size : int
        Examples per batch.
    seed : int, default 0
        Non-negative seed.
    last_batch : {"partial", "drop"}, default "partial"
        With ``n`` included examples, ``n % batch_size`` of them do not fill a batch.
        ``"partial"``: they form a shorter last batch (padded with ``-1`` in
        :meth:`plan`), so the epoch has ``ceil(n / batch_size)`` steps and visits every
        example exactly once. ``"drop"``: the epoch has ``floor(n / batch_size)`` full
        steps; each group's leftover examples come first in the next epoch (its stream
        continues), so none is starved, and the quotas carry over epochs as described
        in :class:`GroupBatchSampler`.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Notes
    -----
    Shares ``s_g = n_g / n``; full batches hold ``floor`` or ``ceil`` of
    ``batch_size * n_g / n`` of each group with cumulative drift below one; the partial
    last batch holds the rest, ``n_g - sum`` of the full batches' quotas, which is
    within one of ``(n % batch_size) * n_g / n``. Each epoch is one fresh permutation
    of every group.

    Examples
    --------
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes([0] * 6 + [1] * 3)
    >>> sampler = ft.sampling.Proportional(groups, batch_size=4, seed=0)
    >>> sampler.steps_per_epoch
    3
    >>> sampler.quotas(0).tolist()
    [[3, 1], [3, 1], [0, 1]]
    >>> plan = sampler.plan(0)
    >>> sorted(plan[plan >= 0].tolist())
    [0, 1, 2, 3, 4, 5, 6, 7, 8]
    """

    _every_batch_needs_each_group = False

    @validate_params(
        {
            "batch_size": SAMPLER_PARAMS["batch_size"],
            "seed": SAMPLER_PARAMS["seed"],
            "last_batch": [Options(str, ("partial", "drop"))],
        }
    )
    def __init__(
        self,
        groups: Any = None,
        *,
        batch_size: int,
        seed: int = 0,
        last_batch: Literal["partial", "drop"] = "partial",
        sensitive_features: Any = None,
    ) -> None:
        self.last_batch = last_batch
        super().__init__(
            groups, batch_size=batch_size, seed=seed, sensitive_features=sensitive_features
        )
        if last_batch == "drop" and self.n_examples < batch_size:
            raise param_error(
                "batch_size",
                batch_size,
                f'at most the number of examples ({self.n_examples}) with last_batch="drop" '
                "(one full batch at least)",
                hint='Use last_batch="partial" or a smaller batch_size.',
            )

    def target_shares(self) -> np.ndarray:
        """Population shares ``n_g / n``, shape (n_groups,)."""
        return self.groups.shares

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (see :meth:`GroupBatchSampler.get_config`)."""
        return {**super().get_config(), "last_batch": self.last_batch}

    @property
    def steps_per_epoch(self) -> int:
        """``ceil(n / batch_size)`` ("partial") or ``floor(n / batch_size)`` ("drop")."""
        n, b = self.n_examples, self.batch_size
        return n // b if self.last_batch == "drop" else math.ceil(n / b)

    def _exact_shares(self) -> list[Fraction]:
        n = self.n_examples
        return [Fraction(int(c), n) for c in self.groups.counts]

    def _build_schedule(self) -> tuple[np.ndarray, np.ndarray]:
        if self.last_batch == "drop":  # endless streams: carry over epochs as usual
            return super()._build_schedule()
        n, b = self.n_examples, self.batch_size
        counts = [int(c) for c in self.groups.counts]
        full = n // b
        table = quota_table([b * c for c in counts], n, full)
        targets = np.broadcast_to(np.asarray(counts, float) * b / n, table.shape)
        if self.last_batch == "partial" and n % b:
            rest = np.asarray(counts, dtype=np.int64) - table.sum(axis=0)
            table = np.vstack([table, rest[None, :]])
            last = np.asarray(counts, float) * (n % b) / n
            targets = np.vstack([targets, last[None, :]])
        return table, targets  # a read-only view of one row when every batch is full


class Homogeneous(GroupBatchSampler):
    """Batches with the same number of examples of every group (registered as ``balanced`` too).

    Every non-empty group gets share ``1 / k`` (``k`` non-empty groups): with the
    6/8/80/6 VGGFace2 shares and ``batch_size=64``, every batch holds 16 examples of
    each group. Epochs keep the ordinary length ``ceil(n / batch_size)`` unless
    ``steps_per_epoch`` says otherwise; minority groups cycle through fresh
    permutations of themselves, the majority continues its permutation across epochs.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        Group of every example; examples with code ``-1`` are never sampled. Empty
        groups get share 0.
    batch_size : int
        Examples per batch; at least the number of non-empty groups.
    seed : int, default 0
        Non-negative seed.
    steps_per_epoch : int, optional
        Default ``ceil(n / batch_size)``.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Notes
    -----
    ``s_g = 1 / k`` for the ``k`` non-empty groups; the quotas are ``floor(B / k)`` or
    ``ceil(B / k)`` and the ``B mod k`` extra places go round robin, carried over epochs.

    Examples
    --------
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes([0] * 8 + [1] * 2 + [2] * 2)
    >>> sampler = ft.sampling.Homogeneous(groups, batch_size=4, seed=0)
    >>> sampler.quotas(0).tolist()
    [[2, 1, 1], [1, 2, 1], [1, 1, 2]]
    """

    def target_shares(self) -> np.ndarray:
        """``1 / k`` for each of the ``k`` non-empty groups, 0 for empty ones."""
        present = self.groups.counts > 0
        return present / present.sum()

    def _exact_shares(self) -> list[Fraction]:
        present = self.groups.counts > 0
        k = int(present.sum())
        return [Fraction(1, k) if p else Fraction(0) for p in present]


class InverseFrequency(GroupBatchSampler):
    """Batches where a group's share is proportional to ``n_g ** -power``.

    ``p = 1`` makes shares inversely proportional to group size, ``p = 0.5`` is the
    usual square-root compromise, ``p = 0`` gives :class:`Homogeneous`'s equal shares
    and ``p = -1`` :class:`Proportional`'s population shares (drawn from endless
    streams, not once per example per epoch).

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        Group of every example; empty groups get share 0.
    batch_size : int
        Examples per batch; at least the number of non-empty groups.
    seed : int, default 0
        Non-negative seed.
    power : float, default 1.0
        Finite exponent ``p``.
    steps_per_epoch : int, optional
        Default ``ceil(n / batch_size)``.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Raises
    ------
    ValueError
        If ``power`` is not a finite number (in addition to the base class's errors).

    Notes
    -----
    ``s_g = n_g ** -power / sum_{h: n_h > 0} n_h ** -power`` for ``n_g > 0``, else 0.

    Examples
    --------
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes([0] * 30 + [1] * 10)
    >>> ft.sampling.InverseFrequency(groups, batch_size=8, power=1.0).target_shares()
    array([0.25, 0.75])
    """

    @validate_params(
        {**SAMPLER_PARAMS, "power": [Interval(Real, None, None)]},
        hints={
            "power": "Use 1.0 for inverse frequency, 0.5 for its square root, 0.0 for "
            "equal shares."
        },
    )
    def __init__(
        self,
        groups: Any = None,
        *,
        batch_size: int,
        seed: int = 0,
        power: float = 1.0,
        steps_per_epoch: int | None = None,
        sensitive_features: Any = None,
    ) -> None:
        self.power = float(power)
        super().__init__(
            groups,
            batch_size=batch_size,
            seed=seed,
            steps_per_epoch=steps_per_epoch,
            sensitive_features=sensitive_features,
        )

    def target_shares(self) -> np.ndarray:
        """``n_g ** -power`` normalised over the non-empty groups, shape (n_groups,)."""
        counts = self.groups.counts.astype(float)
        present = counts > 0
        logw = np.where(present, -self.power * np.log(np.where(present, counts, 1.0)), -np.inf)
        w = np.exp(logw - logw[present].max())
        return w / w.sum()

    def _exact_shares(self) -> list[Fraction]:
        if self.power in (0.0, 1.0):  # rational: exact fractions of the counts
            counts = [int(c) for c in self.groups.counts]
            w = [
                Fraction(0) if c == 0 else (Fraction(1, c) if self.power == 1.0 else Fraction(1))
                for c in counts
            ]
            total = sum(w)
            return [x / total for x in w]
        return super()._exact_shares()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (see :meth:`GroupBatchSampler.get_config`)."""
        return {**super().get_config(), "power": self.power}


class TargetShares(GroupBatchSampler):
    """Batches with any given share per group.

    Parameters
    ----------
    groups : Groups, mapping of str to array-like, or array-like of shape (n,)
        Group of every example.
    shares : sequence of float, length n_groups, or mapping of group name to float
        Non-negative target shares summing to 1 (within 1e-6; they are then
        normalised). A mapping may leave groups out; they get share 0.
    batch_size : int
        Examples per batch; at least the number of groups with a positive share.
    seed : int, default 0
        Non-negative seed.
    steps_per_epoch : int, optional
        Default ``ceil(n / batch_size)``.
    sensitive_features : optional
        fairlearn's name for ``groups``; give exactly one of the two.

    Raises
    ------
    ValueError
        If a share is negative or not finite, the shares do not sum to 1, their number
        differs from the number of groups, a name is unknown, or a positive share
        targets an empty group.

    Notes
    -----
    Quotas round ``batch_size * s_g`` as described in :class:`GroupBatchSampler`.

    Examples
    --------
    >>> import fairtrain as ft
    >>> groups = ft.Groups.from_codes([0] * 10 + [1] * 10 + [2] * 10)
    >>> sampler = ft.sampling.TargetShares(groups, shares=[0.5, 0.25, 0.25], batch_size=6)
    >>> sampler.quotas(0)[:2].tolist()
    [[3, 2, 1], [3, 1, 2]]
    """

    @validate_params(SAMPLER_PARAMS)
    def __init__(
        self,
        groups: Any = None,
        *,
        shares: Sequence[float] | Mapping[str, float],
        batch_size: int,
        seed: int = 0,
        steps_per_epoch: int | None = None,
        sensitive_features: Any = None,
    ) -> None:
        groups = as_sampler_groups(groups, sensitive_features=sensitive_features)
        self._shares = check_shares(shares, groups.names)
        self._shares_spec = share_spec_config(shares)  # what get_config gives back
        super().__init__(
            groups, batch_size=batch_size, seed=seed, steps_per_epoch=steps_per_epoch
        )

    @property
    def shares(self) -> tuple[float, ...] | Mapping[str, float]:
        """The shares as given, read-only: a tuple of floats or a mapping ``{name: share}``.

        Fixed once the sampler is built (its quotas are cached): build another with
        ``TargetShares.from_config({**sampler.get_config(), "shares": ...})``.
        """
        return read_only_shares(self._shares_spec)

    def target_shares(self) -> np.ndarray:
        """The given shares, normalised to sum to 1, shape (n_groups,)."""
        return self._shares.copy()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (see :meth:`GroupBatchSampler.get_config`)."""
        return {**super().get_config(), "shares": share_spec_config(self._shares_spec)}
