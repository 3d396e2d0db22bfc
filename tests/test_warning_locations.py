"""fairtrain's warnings point at the caller's line, however deep inside fairtrain they
are raised (``_validation.caller_stacklevel``): a fixed stacklevel breaks whenever a
helper or a ``validate_params`` wrapper adds a frame."""

from __future__ import annotations

import numpy as np
import pytest

import fairtrain as ft


def _where(caught):
    return {w.filename for w in caught}


def test_the_tiny_cell_policy_warning_points_at_from_columns_caller():
    with pytest.warns(ft.GroupPolicyWarning) as caught:
        ft.Groups.from_columns({"a": ["x"] * 9 + ["y"]}, min_count=2)
    assert _where(caught) == {__file__}


@pytest.mark.parametrize("make", [
    lambda g: ft.sampling.Adaptive(g, batch_size=8, step_size=1.0),
    lambda g: ft.sampling.FairBatch(
        ft.Groups.from_columns({"label": np.repeat([0, 1], 40),
                                "z": np.tile([0, 1], 40)}),
        batch_size=8, objective="equal_opportunity", positive=1, alpha=0.1),
], ids=["Adaptive", "FairBatch"])
def test_a_late_update_warning_points_at_update_s_caller(make):
    sampler = make(ft.Groups.from_codes([0] * 40 + [1] * 40))
    sampler.plan(1)  # the pipeline planned ahead
    losses = np.linspace(0.1, 0.9, sampler.groups.n_groups)
    with pytest.warns(RuntimeWarning, match="apply from epoch 2") as caught:
        sampler.update(losses, epoch=0)
    assert _where(caught) == {__file__}


def test_the_probe_s_warning_points_at_its_constructor_s_caller():
    pytest.importorskip("keras")
    sampler = ft.sampling.Adaptive(ft.Groups.from_codes([0] * 4 + [1] * 4), batch_size=2)
    x, y = np.zeros((4, 2), np.float32), np.zeros(4, np.float32)
    with pytest.warns(UserWarning, match="no example of group") as caught:
        ft.GroupLossProbe(x, y, np.zeros(4, dtype=np.int64), consumers=[sampler])
    assert _where(caught) == {__file__}
