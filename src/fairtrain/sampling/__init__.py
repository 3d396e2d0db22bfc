"""Group batch samplers: exact per-batch quotas planned on indices, before any data is read.

A sampler decides which example indices form every batch (in NumPy); a data adapter in
:mod:`fairtrain.data` then loads only those examples.
"""

from __future__ import annotations

from fairtrain.sampling.adaptive import Adaptive
from fairtrain.sampling.composition import CompositionLog
from fairtrain.sampling.fairbatch import FairBatch
from fairtrain.sampling.quotas import largest_remainder, quota_table
from fairtrain.sampling.samplers import (
    GroupBatchSampler,
    Homogeneous,
    InverseFrequency,
    Proportional,
    TargetShares,
)

__all__ = [
    "Adaptive",
    "CompositionLog",
    "FairBatch",
    "GroupBatchSampler",
    "Homogeneous",
    "InverseFrequency",
    "Proportional",
    "TargetShares",
    "largest_remainder",
    "quota_table",
]
