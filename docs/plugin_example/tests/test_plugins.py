"""Run fairtrain's conformance checks on every plugin of this package.

Install the package first (``pip install -e .``) so that the entry points exist; the
checks then find every plugin through fairtrain's registry, as users will.
"""

import pytest

import fairtrain as ft
from fairtrain import testing


def test_sampler():
    testing.check_sampler(ft.registry.get("samplers", "sqrt_proportional"),
                          registered_as="sqrt_proportional")


def test_metric():
    testing.check_metric("median_absolute_error")


def test_weight_scheme():
    check = getattr(testing, "check_weight_scheme", None)
    if check is None:
        pytest.skip("this fairtrain has no check_weight_scheme")
    check("capped_inverse")


def test_schedule():
    check = getattr(testing, "check_schedule", None)
    if check is None:
        pytest.skip("this fairtrain has no check_schedule")
    check("linear_warmup")


def test_recipe():
    check = getattr(testing, "check_recipe", None)
    if check is None:
        pytest.skip("this fairtrain has no check_recipe")
    check("head_then_all")
