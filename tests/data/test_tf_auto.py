"""to_tf_dataset(vectorized="auto"): a per-example load run batched, with the same values.

And the hint, once per process, that a per-example ``load`` could run batched.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

tf = pytest.importorskip("tensorflow")

import fairtrain as ft  # noqa: E402
import fairtrain.data.tf as tfmod  # noqa: E402
from fairtrain.data import EpochSync, to_tf_dataset  # noqa: E402

CODES = np.repeat(np.arange(4), [6, 8, 80, 6])
np.random.default_rng(0).shuffle(CODES)
GROUPS = ft.Groups.from_codes(CODES, ["African", "Asian", "Latin/Caucasian", "Indian"])
CODES_T = tf.constant(CODES)
FEATURES = tf.constant(
    np.random.default_rng(1).normal(scale=1e3, size=(100, 6)).astype(np.float32))


def index_and_group(i):
    return i, tf.gather(CODES_T, i)


def two_epochs(ds):
    sync, out = EpochSync(ds), []
    for e in (0, 1):
        sync.on_epoch_begin(e)
        out += [tf.nest.map_structure(np.asarray, b) for b in ds]
    return out


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        tf.nest.assert_same_structure(x, y)
        for u, v in zip(tf.nest.flatten(x), tf.nest.flatten(y)):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_array_equal(u, v)  # bit for bit (NaN where NaN)


# Steps of a load built from ops "auto" batches: each maps the float features.
STEPS = {
    "scale": lambda x: x * 1.7,
    "shift": lambda x: x - 0.3,
    "divide": lambda x: x / 7.0,
    "clip": lambda x: tf.minimum(tf.maximum(x, -500.0), 800.0),
    "floor": lambda x: tf.floor(x / 10.0),
    "half": lambda x: tf.cast(tf.cast(x, tf.float16), tf.float32),
    "slice": lambda x: tf.concat([x[::2], x[1::2]], axis=0),
    "square": tf.square,
    "select": lambda x: tf.where(x > 0.0, x, -x),
}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.sampled_from(sorted(STEPS)), max_size=5),
       kind=st.sampled_from(["homogeneous", "proportional"]), batch_size=st.integers(4, 20),
       seed=st.integers(0, 1000), weighted=st.booleans())
def test_auto_gives_exactly_the_per_example_batches(steps, kind, batch_size, seed,
                                                    weighted):
    sampler = ft.registry.get("samplers", kind)(GROUPS, batch_size=batch_size, seed=seed)

    def load(i):
        x = tf.gather(FEATURES, i)
        for s in steps:
            x = STEPS[s](x)
        return {"x": x, "i": tf.cast(i, tf.int32)}, tf.one_hot(tf.gather(CODES_T, i), 4)

    assert tfmod._batched(load)[0] is not None  # "auto" does batch this load
    w = np.linspace(0.5, 2.0, CODES.size) if weighted else None
    per_example = two_epochs(to_tf_dataset(sampler, load, vectorized=False, sample_weight=w))
    auto = two_epochs(to_tf_dataset(sampler, load, vectorized="auto", sample_weight=w))
    assert_same_batches(auto, per_example)


@pytest.mark.parametrize("load, why", [
    (lambda i: tf.exp(tf.gather(FEATURES, i)), "Exp"),
    (lambda i: tf.reduce_sum(tf.gather(FEATURES, i)), "Sum"),
    (lambda i: tf.random.uniform([2]) + tf.cast(i, tf.float32), "RandomUniform"),
    (lambda i: tf.numpy_function(lambda a: a, [i], tf.int64, stateful=False), "PyFunc"),
    (lambda i: tf.gather(FEATURES, i)[: tf.cast(i % 3, tf.int32) + 1], "depends on the index"),
], ids=["transcendental", "reduction", "random", "python", "dynamic-shape"])
def test_auto_runs_per_example_and_logs_why_when_batching_could_change_values(load, why,
                                                                               caplog):
    with caplog.at_level(logging.WARNING, logger="fairtrain.data"):
        assert tfmod._batched(load)[0] is None
        to_tf_dataset(ft.sampling.Homogeneous(GROUPS, batch_size=8), load, vectorized="auto")
    assert any(why in r.getMessage() and "one example at a time" in r.getMessage()
               for r in caplog.records)


def test_auto_with_a_transcendental_load_gives_the_per_example_values(caplog):
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=0)

    def load(i):
        return tf.exp(tf.gather(FEATURES, i) / 1e3), tf.gather(CODES_T, i)

    with caplog.at_level(logging.WARNING, logger="fairtrain.data"):
        auto = two_epochs(to_tf_dataset(sampler, load, vectorized="auto"))
    assert_same_batches(auto, two_epochs(to_tf_dataset(sampler, load, vectorized=False)))


def test_auto_batches_a_load_from_tensors_in_memory(caplog):
    with caplog.at_level(logging.INFO, logger="fairtrain.data"):
        to_tf_dataset(ft.sampling.Homogeneous(GROUPS, batch_size=8), index_and_group,
                      vectorized="auto", deterministic=False)
    assert not caplog.records
    assert tfmod._batched(index_and_group)[0] is not None


def test_default_hints_once_that_a_cheap_load_could_run_batched(caplog, monkeypatch):
    monkeypatch.setattr(tfmod, "_hinted", False)
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with caplog.at_level(logging.WARNING, logger="fairtrain.data"):
        to_tf_dataset(sampler, index_and_group, vectorized=False)  # explicit: no hint
        assert not caplog.records
        to_tf_dataset(sampler, lambda i: tf.exp(tf.cast(i, tf.float32)))  # cannot batch
        assert not caplog.records
        to_tf_dataset(sampler, index_and_group)
        to_tf_dataset(sampler, index_and_group)
    hints = [r.getMessage() for r in caplog.records]
    assert len(hints) == 1 and "vectorized='auto'" in hints[0]


@pytest.mark.parametrize(("value", "error"), [("yes", ValueError), (2, TypeError),
                                              ("Auto", ValueError)])
def test_vectorized_must_be_a_known_value(value, error):
    with pytest.raises(error, match='`vectorized` must be True or False, "auto" or None'):
        to_tf_dataset(ft.sampling.Homogeneous(GROUPS, batch_size=8), index_and_group,
                      vectorized=value)


# Floats out of an integer type's range (NaN, inf, 300 for uint8...): C++ leaves the
# conversion undefined, and the scalar and SIMD kernels differ (300 -> 44 one example at
# a time, 255 batched), so "auto" must not batch a float-to-integer cast.
EDGE = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 300.0, -1.0, 1e10, 2.5, -2.5, 7e4,
                 -3e9, 5e9, 1e-40, 1e38, -1e38], np.float32)
INT_TYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.sampled_from(EDGE.tolist()) | st.floats(width=32), min_size=6,
                       max_size=6),
       dtype=st.sampled_from(INT_TYPES), seed=st.integers(0, 100))
def test_auto_float_to_integer_casts_give_the_per_example_values(values, dtype, seed):
    table = tf.constant(np.tile(np.asarray(values, np.float32), (CODES.size, 1)))
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=seed)

    def load(i):
        return tf.cast(tf.gather(table, i), dtype), tf.gather(CODES_T, i)

    auto = two_epochs(to_tf_dataset(sampler, load, vectorized="auto"))
    assert_same_batches(auto, two_epochs(to_tf_dataset(sampler, load, vectorized=False)))


@pytest.mark.parametrize("load, why", [
    (lambda i: tf.cast(tf.gather(FEATURES, i), tf.uint8), "float32 to uint8"),
    (lambda i: tf.cast(tf.gather(FEATURES, i), tf.int32), "float32 to int32"),
    (lambda i: tf.cast(tf.cast(i, tf.float64) * 0.5, tf.int64), "float64 to int64"),
    (lambda i: tf.gather(tf.cast(FEATURES, tf.complex64), i) * (3.0 + 1.0j), "complex64"),
], ids=["f32-u8", "f32-i32", "f64-i64", "complex"])
def test_auto_refuses_casts_of_floats_to_integers_and_complex_arithmetic(load, why):
    rows, reason = tfmod._batched(load)
    assert rows is None and why in reason


def test_auto_still_batches_integer_and_float_widening_casts():
    def load(i):
        return (tf.cast(tf.gather(CODES_T, i), tf.uint8), tf.cast(i, tf.float32),
                tf.cast(tf.gather(FEATURES, i), tf.float64))

    assert tfmod._batched(load)[0] is not None


@pytest.mark.parametrize("batch_size", [2, 16])
def test_auto_with_a_list_output_gives_the_per_example_batches(batch_size, caplog):
    # tf.data stacks a returned list into one tensor: (B, 2) one example at a time, but
    # (2, B) from a list of batched tensors; B = 2 even keeps the shape.
    sampler = ft.sampling.Proportional(GROUPS, batch_size=batch_size, seed=0)

    def load(i):
        return [i * 2, i + 1], {"g": [tf.gather(CODES_T, i)]}

    with caplog.at_level(logging.WARNING, logger="fairtrain.data"):
        auto = two_epochs(to_tf_dataset(sampler, load, vectorized="auto"))
    assert_same_batches(auto, two_epochs(to_tf_dataset(sampler, load, vectorized=False)))
    assert any("list" in r.getMessage() for r in caplog.records)
