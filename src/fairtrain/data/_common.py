"""Backend-free helpers shared by the data adapters: checking and gathering sample weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fairtrain._validation import as_sample_weight
from fairtrain.sampling.samplers import GroupBatchSampler


def check_sampler(sampler: Any) -> GroupBatchSampler:
    """Raise TypeError unless ``sampler`` plans batches like a fairtrain sampler."""
    missing = [a for a in ("plan", "steps_per_epoch", "batch_size", "groups")
               if not hasattr(sampler, a)]
    if missing:
        raise TypeError(
            f"`sampler` must be a fairtrain sampler (e.g. fairtrain.sampling.Homogeneous); "
            f"{type(sampler).__name__} lacks {missing}."
        )
    return sampler


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | dict[str, np.ndarray] | None:
    """Validate per-example weights: an array (n,) or a mapping {output: array (n,)}."""
    if sample_weight is None:
        return None

    def one(name: str, value: Any) -> np.ndarray:
        return as_sample_weight(value, n, name=name, dtype=np.float32)

    if isinstance(sample_weight, Mapping):
        if not sample_weight:
            raise ValueError("`sample_weight` is an empty mapping; pass None for no weights.")
        return {str(k): one(f"sample_weight[{k!r}]", v) for k, v in sample_weight.items()}
    return one("sample_weight", sample_weight)


def split_loaded(out: Any, where: str) -> tuple[Any, Any, Any, int]:
    """Split what ``load`` returned into (x, y, w, arity)."""
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
