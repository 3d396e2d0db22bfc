"""Backend-free helpers shared by the data adapters: checks, sample weights, batch slices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from fairtrain._validation import Constraint, Interval, as_sample_weight, check
from fairtrain.sampling.samplers import PAD, GroupBatchSampler


class SamplerLike(Constraint):
    """An object that plans batches like a fairtrain sampler (duck-typed)."""

    description = "a fairtrain sampler (e.g. fairtrain.sampling.Homogeneous)"

    def ok(self, value: Any) -> bool:
        return all(hasattr(value, a) for a in ("plan", "steps_per_epoch", "batch_size", "groups"))


#: The parameters every adapter shares, declared once. Every adapter takes the sampler
#: first, then where the data come from, then keyword-only options.
ADAPTER_PARAMS: dict[str, Any] = {
    "sampler": [SamplerLike()],
    "steps_per_epoch": [Interval(Integral, 1, None), None],
}


def check_steps(sampler: GroupBatchSampler, steps_per_epoch: Any) -> int:
    """The batches per epoch a feed serves: ``steps_per_epoch`` within the sampler's epoch."""
    full = int(sampler.steps_per_epoch)
    if steps_per_epoch is None:
        return full
    return check(
        "steps_per_epoch",
        steps_per_epoch,
        Interval(Integral, 1, full),
        hint=f"The sampler's epoch has {full} batches; a feed serves the first ones.",
    )


def check_sample_weight(
    sample_weight: Any, n: int, *, codes: np.ndarray | None = None
) -> np.ndarray | dict[str, np.ndarray] | None:
    """Validate per-example weights: an array (n,) or a mapping {output: array (n,)}.

    With ``codes`` (the sampler's group codes), weights that are 0 for every example the
    sampler can draw (code >= 0), in every output, are refused: each batch's weighted
    loss would be 0 and training would learn nothing without a word.
    """
    if sample_weight is None:
        return None

    def one(name: str, value: Any) -> np.ndarray:
        return as_sample_weight(value, n, name=name, dtype=np.float32)

    if isinstance(sample_weight, Mapping):
        if not sample_weight:
            raise ValueError("`sample_weight` is an empty mapping; pass None for no weights.")
        weights: Any = {str(k): one(f"sample_weight[{k!r}]", v) for k, v in sample_weight.items()}
        arrays = list(weights.values())
    else:
        weights = one("sample_weight", sample_weight)
        arrays = [weights]
    drawn = slice(None) if codes is None else np.asarray(codes) >= 0
    if not any(np.any(w[drawn] > 0) for w in arrays):
        raise ValueError(
            "`sample_weight` is 0 for every example the sampler draws"
            + ("" if len(arrays) == 1 else ", in every output")
            + ": every batch's weighted loss would be 0 and nothing would be learned. "
            "Give the examples positive weights, or pass sample_weight=None."
        )
    return weights


def split_loaded(out: Any, where: str) -> tuple[Any, Any, Any, int]:
    """Split what ``load`` returned into (x, y, w, arity).

    Raises
    ------
    TypeError
        If ``load`` returned None (a function that forgot its ``return``).
    ValueError
        If it returned a tuple of another length.
    """
    if out is None:
        raise TypeError(
            f"`{where}` returned None; it must return x, (x, y) or (x, y, sample_weight) "
            "for the indices it is given (a `return` missing?)."
        )
    if isinstance(out, tuple):
        if len(out) == 2:
            return out[0], out[1], None, 2
        if len(out) == 3:
            return out[0], out[1], out[2], 3
        if len(out) == 1:
            return out[0], None, None, 1
        raise ValueError(
            f"`{where}` must return x, (x, y) or (x, y, sample_weight); got a tuple of "
            f"{len(out)} elements. Wrap several inputs in a dict or a list."
        )
    return out, None, None, 1


# ---------------------------------------------------------------------- splitting batches
def has_partial_batch(sampler: GroupBatchSampler) -> bool:
    """Whether some batch of the sampler's plans is shorter than ``batch_size``."""
    if getattr(sampler, "quotas", None) is None:
        return bool(np.any(sampler.plan(0) == PAD))
    return bool(np.any(sampler.quotas(0).sum(axis=1) != sampler.batch_size))


def check_split(sampler: GroupBatchSampler, parts: int, noun: str) -> None:
    """Refuse, before training, a global batch that ``parts`` slices cannot share exactly.

    ``noun`` names the slices in the messages ("replicas", "shards").
    """
    if parts == 1:
        return
    if sampler.batch_size % parts:
        raise ValueError(
            f"The sampler's batch_size ({sampler.batch_size}) is the global batch; it must "
            f"be a multiple of the number of {noun} ({parts}). Choose batch_size="
            f"{(sampler.batch_size // parts + 1) * parts}, for instance."
        )
    if has_partial_batch(sampler):
        raise ValueError(
            "The sampler plans a partial last batch, which cannot be split exactly over "
            f"{parts} {noun}. Use Proportional(..., last_batch='drop')."
        )


def stride_split(rows: np.ndarray, parts: int, which: Sequence[int]) -> np.ndarray:
    """Slices ``which`` of every planned batch split into ``parts``, by stride.

    Parameters
    ----------
    rows : ndarray of int64, shape (steps, batch_size)
        Planned batches, each ordered by group code (as :meth:`GroupBatchSampler.plan`
        returns them), without padding; ``batch_size`` a multiple of ``parts``.
    parts : int
        Slices per batch.
    which : sequence of int
        The slices wanted, each in ``[0, parts)``.

    Returns
    -------
    ndarray of int64, shape (steps, len(which), batch_size // parts)
        Slice ``p`` of batch ``t`` is ``rows[t, p::parts]``: since a batch is ordered by
        group, a group with quota ``q`` fills ``q`` consecutive columns, and every slice
        takes ``floor(q / parts)`` or ``ceil(q / parts)`` of them. The slices of one batch
        are disjoint and together are the batch.
    """
    return np.stack([rows[:, p::parts] for p in which], axis=1)


def local_indices(rows: np.ndarray, parts: int = 1, which: Sequence[int] = (0,)) -> np.ndarray:
    """The indices one consumer serves from planned ``rows``, flat and without padding.

    With ``parts > 1`` the slices ``which`` of every row (:func:`stride_split`; rows
    have no padding then, :func:`check_split` refused partial batches), in row order;
    else the rows with ``PAD`` removed. Never a view of ``rows`` (a sampler's cached
    plan).
    """
    if parts > 1:
        return stride_split(rows, parts, which).reshape(-1)
    if rows.size and rows[-1, -1] == PAD:
        return rows[rows != PAD]
    return rows.reshape(-1).copy()
