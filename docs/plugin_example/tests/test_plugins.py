"""Run fairtrain's conformance checks on every plugin of this package.

Install the package first (``pip install -e .``) so that the entry points exist; the
checks then find every plugin through fairtrain's registry, as users will.
"""

import fairtrain as ft
from fairtrain import testing


def test_sampler():
    testing.check_sampler(ft.registry.get("samplers", "sqrt_proportional"),
                          registered_as="sqrt_proportional")


def test_metric():
    testing.check_metric("median_absolute_error")


def test_weight_scheme():
    testing.check_weight_scheme("capped_inverse")


def test_schedule():
    testing.check_schedule("linear_warmup", {"initial": 0.01})


def test_recipe():
    testing.check_recipe("head_then_all")
