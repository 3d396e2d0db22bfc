"""check_weight_scheme: the built-in schemes pass; broken schemes fail by name."""

from __future__ import annotations

import numpy as np
import pytest

from fairtrain import registry
from fairtrain.testing import check_weight_scheme

BUILTINS = {"balanced": False, "inverse": False, "sqrt_inverse": False,
            "effective_number": False, "reweighing": True}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtins_keep_the_contract(name):
    assert name in registry.available("weights")
    check_weight_scheme(name, needs_labels=BUILTINS[name])


def _wrong_shape(counts):
    return np.ones(len(counts) + 1)


def _negative(counts):
    return -np.ones(np.shape(counts))


def _in_place(counts):
    counts[...] = 1
    return np.ones(np.shape(counts))


def _positional(counts):
    return np.arange(1, len(counts) + 1, dtype=float)


def _random(counts, _rng=np.random.default_rng(0)):  # noqa: B008
    return _rng.random(np.shape(counts))


@pytest.mark.parametrize(
    ("scheme", "check"),
    [
        (_wrong_shape, "one weight per cell"),
        (_negative, "finite, non-negative"),
        (_in_place, "leaves counts unchanged"),
        (_random, "deterministic"),
        (_positional, "not the cell's position"),
    ],
    ids=["shape", "negative", "in-place", "random", "positional"],
)
def test_broken_schemes_fail_with_the_check_named(scheme, check):
    with pytest.raises(AssertionError, match=check):
        check_weight_scheme(scheme)
