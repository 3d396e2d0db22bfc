"""to_tf_dataset(vectorized="auto"), the default: a per-example load run batched, same values.

"auto" batches only ops that are exact by construction; and with vectorized=None, the
hint, once per process, that a per-example ``load`` could run batched.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
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


# Every float32 class: NaN, infinities, signed zeros, subnormals, the extremes; and
# int32 values at and around the ends of the range, where integer arithmetic wraps.
EDGE_FLOATS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-45, 3.4e38, -3.4e38,
                        0.5, 1.0, -1.0], np.float32)
EDGE_INTS = np.array([-(2**31), 2**31 - 1, -(2**31) + 1, 2**30, 0, -1, 1, 255, 256, -129,
                      2**24 + 1, -(2**24) - 1], np.int32)


def _sprinkled(table, edges, seed):
    # Half the entries replaced by edge values, at random.
    rng = np.random.default_rng(seed)
    out = table.copy()
    where = rng.random(out.shape) < 0.5
    out[where] = rng.choice(edges, size=int(where.sum()))
    return out


FLOATS = tf.constant(_sprinkled(FEATURES.numpy(), EDGE_FLOATS, 2))
INTS = tf.constant(_sprinkled(np.random.default_rng(3).integers(
    -(2**31), 2**31, size=(100, 6)).astype(np.int32), EDGE_INTS, 4))

# Steps of a per-example load, float32 (6,) -> float32 (6,) and int32 (6,) -> int32 (6,).
# "auto" batches the exact ones: they move, select or compare values, cast exactly, or
# do integer arithmetic (which wraps the same way in every kernel).
EXACT_FLOAT_STEPS = {
    "slice": lambda x: tf.concat([x[::2], x[1::2]], axis=0),
    "reverse": lambda x: tf.reverse(x, [0]),
    "positive": lambda x: tf.where(x > 0.0, x, tf.zeros_like(x)),
    "nan-to-inf": lambda x: tf.where(tf.math.is_nan(x), np.float32(np.inf), x),
    "as-bool": lambda x: tf.cast(tf.cast(x, tf.bool), tf.float32),
    "f64-compare": lambda x: tf.where(tf.cast(x, tf.float64) >= 0.5, x, x[::-1]),
    "tile": lambda x: tf.tile(x[:3], [2]),
}
EXACT_INT_STEPS = {
    "wrap-add": lambda k: k + 2**30,
    "times": lambda k: k * 3,
    "floordiv": lambda k: k // 7,
    "mod": lambda k: k % 5,
    "negate": lambda k: -k,
    "abs": tf.abs,
    "max": lambda k: tf.maximum(k, -5),
    "shift": lambda k: tf.bitwise.right_shift(k, 3),
    "xor": lambda k: tf.bitwise.bitwise_xor(k, 0x5A5A),
    "int8": lambda k: tf.cast(tf.cast(k, tf.int8), tf.int32),
    "uint16": lambda k: tf.cast(tf.cast(k, tf.uint16), tf.int32),
    "int64": lambda k: tf.cast(tf.cast(k, tf.int64) * 3 + 1, tf.int32),
    "int16-float": lambda k: tf.cast(tf.cast(tf.cast(k, tf.int16), tf.float32) > 3.0,
                                     tf.int32),
}
# ... and never these: float arithmetic (TensorFlow may rewrite a chain differently in
# the per-example and the batched graph: x * 1.7 * 1.7 became x * 2.89 in one of them)
# and casts that round (int32 to float32 above 2**24, float32 to float16).
ROUNDING_FLOAT_STEPS = {
    "scale": lambda x: x * 1.7,
    "shift": lambda x: x - 0.3,
    "divide": lambda x: x / 7.0,
    "clip": lambda x: tf.minimum(tf.maximum(x, -500.0), 800.0),
    "floor": tf.floor,
    "half": lambda x: tf.cast(tf.cast(x, tf.float16), tf.float32),
    "square": tf.square,
    "negate": lambda x: -x,
    "f64-scale": lambda x: tf.cast(tf.cast(x, tf.float64) * 1.1, tf.float32),
}
ROUNDING_INT_STEPS = {
    "int32-float": lambda k: tf.where(tf.cast(k, tf.float32) > 16777216.0, k, 0),
    "int64-double": lambda k: tf.where(tf.cast(tf.cast(k, tf.int64) * 3, tf.float64) > 0.5,
                                       k, 1),
}


@st.composite
def chains(draw):
    """(float steps, int steps): exact steps only, or one rounding step among them."""
    floats = draw(st.lists(st.sampled_from(sorted(EXACT_FLOAT_STEPS)), max_size=4))
    ints = draw(st.lists(st.sampled_from(sorted(EXACT_INT_STEPS)), max_size=4))
    if draw(st.booleans()):
        chain, table = draw(st.sampled_from([(floats, ROUNDING_FLOAT_STEPS),
                                             (ints, ROUNDING_INT_STEPS)]))
        chain.insert(draw(st.integers(0, len(chain))), draw(st.sampled_from(sorted(table))))
    return floats, ints


def chained_load(float_steps, int_steps):
    floats = {**EXACT_FLOAT_STEPS, **ROUNDING_FLOAT_STEPS}
    ints = {**EXACT_INT_STEPS, **ROUNDING_INT_STEPS}

    def load(i):
        x, k = tf.gather(FLOATS, i), tf.gather(INTS, i)
        for s in float_steps:
            x = floats[s](x)
        for s in int_steps:
            k = ints[s](k)
        return {"x": x, "k": k, "i": tf.cast(i, tf.int32)}, tf.one_hot(tf.gather(CODES_T, i), 4)

    return load


# The per-example path draws an example once per call of Hypothesis (tracing, two
# datasets, two epochs each: about a second), so shrinking a failure ran past Hypothesis's
# own five-minute cap. No shrinking: the failing example is reported as drawn (a few short
# step lists), and the run takes at most max_examples examples.
TF_SETTINGS = settings(max_examples=20, deadline=None,
                       phases=[Phase.explicit, Phase.reuse, Phase.generate],
                       suppress_health_check=[HealthCheck.too_slow])


@TF_SETTINGS
@given(steps=chains(), kind=st.sampled_from(["homogeneous", "proportional"]),
       batch_size=st.integers(4, 20), seed=st.integers(0, 1000), weighted=st.booleans())
# Found by Hypothesis: batched, x * 1.7 * 1.7 differed by one ulp in 8 of 24 values.
@example(steps=(["slice", "scale", "scale"], []), kind="homogeneous", batch_size=4, seed=0,
         weighted=False)
def test_auto_gives_exactly_the_per_example_batches(steps, kind, batch_size, seed,
                                                    weighted):
    sampler = ft.registry.get("samplers", kind)(GROUPS, batch_size=batch_size, seed=seed)
    load = chained_load(*steps)
    w = np.linspace(0.5, 2.0, CODES.size) if weighted else None
    per_example = two_epochs(to_tf_dataset(sampler, load, vectorized=False, sample_weight=w))
    auto = two_epochs(to_tf_dataset(sampler, load, vectorized="auto", sample_weight=w))
    assert_same_batches(auto, per_example)


@TF_SETTINGS
@given(steps=chains())
def test_auto_batches_a_chain_exactly_when_every_step_is_exact(steps):
    exact = not any(s in ROUNDING_FLOAT_STEPS for s in steps[0]) and not any(
        s in ROUNDING_INT_STEPS for s in steps[1])
    assert (tfmod._batched(chained_load(*steps))[0] is not None) == exact


@pytest.mark.parametrize("load, why", [
    (lambda i: tf.exp(tf.gather(FEATURES, i)), "Exp"),
    (lambda i: tf.reduce_sum(tf.gather(FEATURES, i)), "Sum"),
    (lambda i: tf.random.uniform([2]) + tf.cast(i, tf.float32), "RandomUniform"),
    (lambda i: tf.numpy_function(lambda a: a, [i], tf.int64, stateful=False), "PyFunc"),
    (lambda i: tf.gather(FEATURES, i)[: tf.cast(i % 3, tf.int32) + 1], "depends on the index"),
    (lambda i: tf.gather(FEATURES, i) * 1.7, "Mul on float32"),
    (lambda i: tf.gather(FEATURES, i) + tf.cast(i, tf.float32), "int64 to float32"),
], ids=["transcendental", "reduction", "random", "python", "dynamic-shape", "float-mul",
        "inexact-cast"])
def test_auto_runs_per_example_and_logs_why_when_batching_could_change_values(load, why,
                                                                               caplog):
    with caplog.at_level(logging.INFO, logger="fairtrain.data"):
        assert tfmod._batched(load)[0] is None
        to_tf_dataset(ft.sampling.Homogeneous(GROUPS, batch_size=8), load, vectorized="auto")
    assert any(why in r.getMessage() and "one example at a time" in r.getMessage()
               for r in caplog.records)


def test_auto_with_a_transcendental_load_gives_the_per_example_values(caplog):
    sampler = ft.sampling.Proportional(GROUPS, batch_size=16, seed=0)

    def load(i):
        return tf.exp(tf.gather(FEATURES, i) / 1e3), tf.gather(CODES_T, i)

    with caplog.at_level(logging.INFO, logger="fairtrain.data"):
        auto = two_epochs(to_tf_dataset(sampler, load, vectorized="auto"))
    assert_same_batches(auto, two_epochs(to_tf_dataset(sampler, load, vectorized=False)))


def test_auto_batches_a_load_from_tensors_in_memory(caplog):
    with caplog.at_level(logging.INFO, logger="fairtrain.data"):
        to_tf_dataset(ft.sampling.Homogeneous(GROUPS, batch_size=8), index_and_group,
                      vectorized="auto", deterministic=False)
    assert not caplog.records
    assert tfmod._batched(index_and_group)[0] is not None


def test_auto_is_the_default(caplog, monkeypatch):
    analysed = []
    batched = tfmod._batched
    monkeypatch.setattr(tfmod, "_batched", lambda f: analysed.append(f) or batched(f))
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with caplog.at_level(logging.INFO, logger="fairtrain.data"):
        to_tf_dataset(sampler, index_and_group)
        assert len(analysed) == 1 and not caplog.records  # batched
        to_tf_dataset(sampler, lambda i: tf.gather(FEATURES, i) * 2.0)
    assert len(analysed) == 2
    assert ["Mul on float32" in r.getMessage() for r in caplog.records] == [True]


def test_none_hints_once_that_a_cheap_load_could_run_batched(caplog, monkeypatch):
    monkeypatch.setattr(tfmod, "_hinted", False)
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=8)
    with caplog.at_level(logging.WARNING, logger="fairtrain.data"):
        to_tf_dataset(sampler, index_and_group, vectorized=False)  # explicit: no hint
        assert not caplog.records
        to_tf_dataset(sampler, lambda i: tf.exp(tf.cast(i, tf.float32)), vectorized=None)
        assert not caplog.records  # cannot batch
        to_tf_dataset(sampler, index_and_group, vectorized=None)
        to_tf_dataset(sampler, index_and_group, vectorized=None)
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


@settings(TF_SETTINGS, max_examples=10)
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
    (lambda i: tf.cast(tf.gather(tf.cast(FEATURES, tf.float64), i), tf.int64),
     "float64 to int64"),
    (lambda i: tf.gather(tf.cast(FEATURES, tf.complex64), i) * (3.0 + 1.0j), "complex64"),
], ids=["f32-u8", "f32-i32", "f64-i64", "complex"])
def test_auto_refuses_casts_of_floats_to_integers_and_complex_arithmetic(load, why):
    rows, reason = tfmod._batched(load)
    assert rows is None and why in reason


# (source, target, exact), by hand: an integer type converts exactly to a float whose
# significand (float16 11 bits, bfloat16 8, float32 24, float64 53) holds its value bits
# (its bits less the sign bit); a float to a wider float; integers to integers keep
# their low bits (the same in every kernel); nothing from a float to an integer.
CASTS = [
    ("bool", "float32", True), ("float32", "bool", True), ("int64", "uint8", True),
    ("uint64", "int32", True), ("int8", "int64", True), ("int8", "bfloat16", True),
    ("uint8", "bfloat16", True), ("int16", "bfloat16", False), ("uint8", "float16", True),
    ("int16", "float16", False), ("int16", "float32", True), ("uint16", "float32", True),
    ("int32", "float32", False), ("int64", "float32", False), ("uint32", "float64", True),
    ("int32", "float64", True), ("int64", "float64", False), ("float16", "float32", True),
    ("bfloat16", "float32", True), ("float32", "float64", True), ("float16", "float64", True),
    ("float64", "float32", False), ("float32", "float16", False),
    ("float32", "bfloat16", False), ("float16", "bfloat16", False),
    ("bfloat16", "float16", False), ("float16", "uint8", False),
]


@pytest.mark.parametrize("src, dst, exact", CASTS, ids=[f"{a}-{b}" for a, b, _ in CASTS])
def test_auto_batches_a_cast_exactly_when_it_is_exact(src, dst, exact):
    table = tf.zeros([CODES.size, 3], src)
    rows, why = tfmod._batched(lambda i: tf.cast(tf.gather(table, i), dst))
    assert (rows is not None) == exact
    assert exact or f"{src} to {dst}" in why


@pytest.mark.parametrize("batch_size", [2, 16])
def test_auto_with_a_list_output_gives_the_per_example_batches(batch_size, caplog):
    # tf.data stacks a returned list into one tensor: (B, 2) one example at a time, but
    # (2, B) from a list of batched tensors; B = 2 even keeps the shape.
    sampler = ft.sampling.Proportional(GROUPS, batch_size=batch_size, seed=0)

    def load(i):
        return [i * 2, i + 1], {"g": [tf.gather(CODES_T, i)]}

    with caplog.at_level(logging.INFO, logger="fairtrain.data"):
        auto = two_epochs(to_tf_dataset(sampler, load, vectorized="auto"))
    assert_same_batches(auto, two_epochs(to_tf_dataset(sampler, load, vectorized=False)))
    assert any("list" in r.getMessage() for r in caplog.records)
