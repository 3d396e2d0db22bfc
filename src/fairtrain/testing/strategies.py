"""Hypothesis strategies for fairtrain objects, for plugin authors and fairtrain's own tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from fairtrain.groups import Groups

__all__ = ["group_columns", "group_counts", "groups"]


@st.composite
def group_counts(
    draw: st.DrawFn, *, min_groups: int = 1, max_groups: int = 6, max_count: int = 50
) -> list[int]:
    """Positive example counts for between ``min_groups`` and ``max_groups`` groups."""
    return draw(
        st.lists(
            st.integers(min_value=1, max_value=max_count),
            min_size=min_groups,
            max_size=max_groups,
        )
    )


@st.composite
def groups(
    draw: st.DrawFn, *, min_groups: int = 1, max_groups: int = 6, max_count: int = 50
) -> Groups:
    """A :class:`~fairtrain.Groups` with every group non-empty, rows in random order."""
    counts = draw(group_counts(min_groups=min_groups, max_groups=max_groups, max_count=max_count))
    codes = np.repeat(np.arange(len(counts)), counts)
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    np.random.default_rng(seed).shuffle(codes)
    return Groups.from_codes(codes, [f"g{i}" for i in range(len(counts))])


@st.composite
def group_columns(
    draw: st.DrawFn, *, max_attributes: int = 3, max_levels: int = 4, max_rows: int = 80
) -> dict[str, Any]:
    """A dict of 1 to ``max_attributes`` categorical columns of one common length."""
    n_rows = draw(st.integers(min_value=1, max_value=max_rows))
    n_attributes = draw(st.integers(min_value=1, max_value=max_attributes))
    columns: dict[str, Any] = {}
    for j in range(n_attributes):
        n_levels = draw(st.integers(min_value=1, max_value=max_levels))
        labels = [f"a{j}v{k}" for k in range(n_levels)]
        columns[f"attr{j}"] = np.array(
            draw(st.lists(st.sampled_from(labels), min_size=n_rows, max_size=n_rows))
        )
    return columns
