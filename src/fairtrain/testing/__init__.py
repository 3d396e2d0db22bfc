"""Conformance kit for plugin authors: check functions and Hypothesis strategies.

Test a third-party sampler, weight scheme, metric, schedule or recipe the way fairtrain
tests its built-ins::

    from fairtrain.testing import (check_metric, check_recipe, check_sampler,
                                   check_schedule, check_weight_scheme)

Requires Hypothesis (``pip install "fairtrain[test]"``).
"""

from __future__ import annotations

import importlib
from typing import Any

from fairtrain.testing.strategies import group_columns, group_counts, groups

__all__ = [
    "check_metric",
    "check_recipe",
    "check_sampler",
    "check_schedule",
    "check_weight_scheme",
    "group_columns",
    "group_counts",
    "groups",
]

_LAZY = {
    "check_sampler": "fairtrain.testing.samplers",
    "check_metric": "fairtrain.testing.metrics",
    "check_schedule": "fairtrain.testing.schedules",
    "check_recipe": "fairtrain.testing.schedules",
    "check_weight_scheme": "fairtrain.testing.weights",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fairtrain.testing' has no attribute {name!r}")
