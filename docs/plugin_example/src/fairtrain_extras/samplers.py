"""A sampler plugin: batch shares proportional to the square root of the group sizes."""

from __future__ import annotations

import numpy as np

from fairtrain.sampling import GroupBatchSampler


class SqrtProportional(GroupBatchSampler):
    """Every batch gives group ``g`` the share ``sqrt(n_g) / sum_h sqrt(n_h)``.

    Halfway (on a log scale) between :class:`~fairtrain.sampling.Proportional` and
    :class:`~fairtrain.sampling.Homogeneous`: a group 100 times larger gets 10 times
    more places. Everything else (exact quotas, epochs, state, config) comes from
    :class:`~fairtrain.sampling.GroupBatchSampler`.

    Parameters
    ----------
    groups : fairtrain.Groups
        The groups.
    batch_size : int
        Examples per batch.
    seed : int, default 0
        Seed of the plans.
    steps_per_epoch : int, optional
        Default ``ceil(n / batch_size)``.
    """

    def target_shares(self) -> np.ndarray:
        """``sqrt(n_g)`` normalised to sum to 1 (0 for an empty group)."""
        root = np.sqrt(self.groups.counts.astype(np.float64))
        return root / root.sum()
