"""Accumulators across processes: to_array / from_array / allreduce and evaluate(reduce=...).

One process here; a stand-in collective sums the vectors of several shards. The oracle is
``merge`` (tested against ``bias_report`` in test_streaming.py) and ``bias_report`` on all
the examples at once. The two-JAX-process run is tests/data/test_jax_multiprocess_metrics.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain.metrics import GroupAccumulator, GroupSpec, bias_report, evaluate
from fairtrain.metrics.streaming import sum_across_processes

_RNG = np.random.default_rng(7)
GROUPS = ft.Groups.from_columns({"sex": _RNG.choice(["f", "m"], 400),
                                 "age": _RNG.choice(["young", "old"], 400)})
SPEC = GroupSpec.from_groups(GROUPS)
METRICS = ["mae", "mse"]
CLASS_METRICS = ["accuracy", "recall", "true_positive_rate"]


def _shard_data(rng, n, classify):
    codes = GROUPS.codes[rng.integers(0, len(GROUPS), size=n)]
    if classify:
        return rng.integers(0, 3, size=n), rng.integers(0, 3, size=n), codes
    return rng.normal(size=n), rng.normal(size=n), codes


def _acc(classify):
    if classify:
        return GroupAccumulator(SPEC, metrics=CLASS_METRICS, n_classes=3)
    return GroupAccumulator(SPEC, metrics=METRICS)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), sizes=st.lists(st.integers(0, 30), min_size=1,
                                                     max_size=4), classify=st.booleans())
def test_summed_vectors_equal_the_merge_of_the_shards(seed, sizes, classify):
    rng = np.random.default_rng(seed)
    shards = []
    for n in sizes:
        y, p, c = _shard_data(rng, n, classify)
        shards.append(_acc(classify).update(y, p, c) if n else _acc(classify))
    merged = shards[0]
    for other in shards[1:]:
        merged = merged + other
    vectors = [a.to_array() for a in shards]
    for a in shards:  # every "process" gets the same accumulator: the merge of all
        reduced = a.allreduce(lambda v: np.sum(vectors, axis=0))
        assert reduced.n == merged.n == sum(sizes)
        np.testing.assert_array_equal(reduced.to_array(), merged.to_array())
        for name, s in merged.statistics().items():
            np.testing.assert_array_equal(reduced.statistics()[name], s)


def test_two_shards_reduced_give_the_report_of_the_whole():
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 3, size=400), rng.integers(0, 3, size=400)
    c = GROUPS.codes
    half = [slice(0, 90), slice(90, 400)]
    parts = [_acc(True).update(y[s], p[s], c[s]) for s in half]
    total = parts[0].to_array() + parts[1].to_array()
    reduced = [a.allreduce(lambda v: total) for a in parts]
    oracle = bias_report(y, p, GROUPS, metric="recall", min_count=1)
    for a in reduced:
        got = a.result("recall", min_count=1)
        for attribute in ("sex", "age", "intersection"):
            np.testing.assert_allclose(got[attribute].values, oracle[attribute].values)


def test_from_array_refuses_a_wrong_vector():
    acc = _acc(False).update([1.0, 2.0], [0.0, 2.0], [0, 3])
    v = acc.to_array()
    with pytest.raises(ValueError, match="vector of"):
        acc.from_array(v[:-1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        acc.from_array(np.where(np.arange(v.size) == 1, np.nan, v))
    with pytest.raises(ValueError, match="non-negative integers"):
        acc.from_array(v * 0.5)  # counts halved: not a sum of vectors
    assert acc.from_array(v).to_array().tolist() == v.tolist()
    assert acc.to_array().tolist() == v.tolist()  # unchanged


def test_sum_across_processes_is_the_identity_in_one_process():
    v = np.array([1.0, 2.5, 1e300])
    np.testing.assert_array_equal(sum_across_processes(v), v)


def _model():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_evaluate_reduce_sums_every_shard():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2)).astype("float32")
    y = rng.normal(size=60).astype("float32")
    c = GROUPS.codes[:60]
    model = _model()
    whole = evaluate(model, [(x, y, c)], groups=SPEC, metrics="mae")
    halves = [[(x[s], y[s], c[s])] for s in (slice(0, 25), slice(25, 60))]
    vectors = [evaluate(model, b, groups=SPEC, metrics="mae").to_array() for b in halves]
    for batches in halves:
        got = evaluate(model, batches, groups=SPEC, metrics="mae",
                       reduce=lambda v: np.sum(vectors, axis=0))
        np.testing.assert_allclose(got.to_array(), whole.to_array(), rtol=1e-12)
    # an empty shard takes part in the sum instead of raising
    empty = evaluate(model, [], groups=SPEC, metrics="mae", reduce=lambda v: v + whole.to_array())
    np.testing.assert_array_equal(empty.to_array(), whole.to_array())
    # one process: "auto" and True change nothing
    for reduce in ("auto", True):
        got = evaluate(model, [(x, y, c)], groups=SPEC, metrics="mae", reduce=reduce)
        np.testing.assert_array_equal(got.to_array(), whole.to_array())
    with pytest.raises(ValueError, match="`reduce` must be"):
        evaluate(model, [(x, y, c)], groups=SPEC, metrics="mae", reduce="always")
