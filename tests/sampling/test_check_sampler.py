"""The public conformance kit catches samplers that break the contract."""

from __future__ import annotations

import numpy as np
import pytest

from fairtrain.sampling import Homogeneous, Proportional
from fairtrain.testing.samplers import check_sampler


class GlobalStateSampler(Homogeneous):
    """Draws from NumPy's global random state: plans are not reproducible."""

    def plan(self, epoch):
        plan = super().plan(epoch).copy()
        np.random.shuffle(plan)
        return plan


class OffByOneQuota(Homogeneous):
    """Swaps one example of the first batch for another group's: quotas break."""

    def plan(self, epoch):
        plan = super().plan(epoch).copy()
        plan[0, 0] = plan[0, -1]
        return plan


class LosesItsPosition(Homogeneous):
    """set_state is ignored: resume does not land on the next batch."""

    def set_state(self, state):
        pass


class UnbalancedDraws(Homogeneous):
    """Always takes the same members of a group first in every epoch."""

    def _stream(self, g, start, count):
        return super()._stream(g, 0, count)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (GlobalStateSampler, "differs"),
        (OffByOneQuota, "quotas"),
        (LosesItsPosition, "set_state"),
        (UnbalancedDraws, "at most one"),
    ],
    ids=["global-state", "broken-quota", "lost-position", "unbalanced-draws"],
)
def test_check_sampler_fails_on_a_broken_sampler(cls, message):
    with pytest.raises(AssertionError, match=message):
        check_sampler(cls, batch_sizes=[5], seeds=[1])


def test_check_sampler_passes_the_builtins_and_checks_registration():
    check_sampler(Proportional, registered_as="proportional")
    with pytest.raises(AssertionError, match="not"):
        check_sampler(Homogeneous, batch_sizes=[5], registered_as="proportional")


def test_check_sampler_says_when_nothing_could_be_built():
    with pytest.raises(ValueError, match="could not be built"):
        check_sampler(Homogeneous, batch_sizes=[1])
