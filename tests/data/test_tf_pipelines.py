"""to_tf_dataset's pipelines: every mode serves exactly the planned batches.

Each branch of the pipeline construction (per-example with whole batches, per-example
with a partial last batch, vectorised) under repeat False/True, deterministic
True/False, a partial last batch and a two-replica input context.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

tf = pytest.importorskip("tensorflow")

import fairtrain as ft  # noqa: E402
from fairtrain.data import EpochSync, to_tf_dataset  # noqa: E402

CODES = np.repeat(np.arange(4), [6, 8, 80, 6])
np.random.default_rng(0).shuffle(CODES)
GROUPS = ft.Groups.from_codes(CODES, ["African", "Asian", "Latin/Caucasian", "Indian"])
CODES_T = tf.constant(CODES)


def index_and_group(i):
    return i, tf.gather(CODES_T, i)


def rows(sampler, epoch, steps=None):
    plan = sampler.plan(epoch)[:steps]
    return [r[r >= 0] for r in plan]


def served(ds, first_epoch, steps, n_epochs, repeat):
    """The x of every batch of ``n_epochs`` epochs from ``first_epoch`` on."""
    sync = EpochSync(ds)
    if repeat:
        sync.on_epoch_begin(first_epoch)
        return [x.numpy() for x, _ in ds.take(steps * n_epochs)]
    out = []
    for e in range(first_epoch, first_epoch + n_epochs):
        sync.on_epoch_begin(e)
        out += [x.numpy() for x, _ in ds]
    return out


def assert_exact(got, want, ordered):
    assert [len(x) for x in got] == [len(x) for x in want] or not ordered
    if ordered:
        for x, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(x, w)
    else:
        assert sorted(tuple(x.tolist()) for x in got) == sorted(tuple(w.tolist()) for w in want)


MODES = pytest.mark.parametrize("vectorized", [False, True, "auto"],
                                ids=["per-example", "vectorized", "auto"])


@pytest.mark.parametrize("repeat", [False, True], ids=["once", "repeat"])
@pytest.mark.parametrize("deterministic", [True, False], ids=["det", "nondet"])
@MODES
def test_a_partial_last_batch_stays_by_itself_in_every_epoch(vectorized, deterministic,
                                                              repeat):
    sampler = ft.sampling.Proportional(GROUPS, batch_size=32, seed=0)  # 100 = 3*32 + 4
    ds = to_tf_dataset(sampler, index_and_group, vectorized=vectorized,
                       deterministic=deterministic, repeat=repeat, num_parallel_calls=4)
    got = served(ds, 2, 4, 3, repeat)
    want = [r for e in (2, 3, 4) for r in rows(sampler, e)]
    if not deterministic:
        # Out of order within an epoch, never across the epochs' boundaries.
        for k, e in enumerate((2, 3, 4)):
            assert_exact(got[4 * k:4 * (k + 1)], rows(sampler, e), ordered=False)
        return
    assert_exact(got, want, ordered=deterministic)
    if deterministic:
        assert [len(x) for x in got] == [32, 32, 32, 4] * 3


@MODES
def test_composition_log_counts_the_partial_last_batch(vectorized):
    sampler = ft.sampling.Proportional(GROUPS, batch_size=32, seed=0)
    log = ft.CompositionLog(GROUPS)
    ds = to_tf_dataset(sampler, index_and_group, vectorized=vectorized, composition_log=log)
    served(ds, 0, 4, 2, False)
    np.testing.assert_array_equal(log.counts, np.concatenate([sampler.quotas(0),
                                                              sampler.quotas(1)]))


@pytest.mark.parametrize("repeat", [False, True], ids=["once", "repeat"])
@pytest.mark.parametrize("deterministic", [True, False], ids=["det", "nondet"])
@MODES
def test_two_replicas_each_get_their_stride_of_every_row(vectorized, deterministic, repeat):
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=16, seed=2)
    ctx = tf.distribute.InputContext(num_input_pipelines=1, input_pipeline_id=0,
                                     num_replicas_in_sync=2)
    ds = to_tf_dataset(sampler, index_and_group, vectorized=vectorized, input_context=ctx,
                       deterministic=deterministic, repeat=repeat, num_parallel_calls=4)
    steps = sampler.steps_per_epoch
    got = served(ds, 1, 2 * steps, 2, repeat)  # one pipeline feeds both replicas
    want = [p for e in (1, 2) for row in sampler.plan(e) for p in (row[0::2], row[1::2])]
    assert all(len(x) == 8 for x in got)
    # In order even with deterministic=False: the replicas take consecutive batches.
    assert_exact(got, want, ordered=True)


def test_two_pipelines_each_feed_their_own_replica():
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=16, seed=2)
    parts = []
    for pipeline in (0, 1):
        ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline,
                                         num_replicas_in_sync=2)
        ds = to_tf_dataset(sampler, index_and_group, vectorized=True, input_context=ctx)
        parts.append(served(ds, 0, sampler.steps_per_epoch, 1, False))
    for t, row in enumerate(sampler.plan(0)):
        np.testing.assert_array_equal(parts[0][t], row[0::2])
        np.testing.assert_array_equal(parts[1][t], row[1::2])


SAMPLERS = {
    "homogeneous": lambda g, b, s: ft.sampling.Homogeneous(g, batch_size=b, seed=s),
    "proportional": lambda g, b, s: ft.sampling.Proportional(g, batch_size=b, seed=s),
    "proportional-drop": lambda g, b, s: ft.sampling.Proportional(g, batch_size=b, seed=s,
                                                                  last_batch="drop"),
}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(counts=st.lists(st.integers(1, 40), min_size=2, max_size=4),
       batch_size=st.integers(2, 24), kind=st.sampled_from(sorted(SAMPLERS)),
       seed=st.integers(0, 2**16), vectorized=st.sampled_from([False, True, "auto"]),
       repeat=st.booleans(),
       first=st.integers(0, 5), short=st.booleans())
def test_every_mode_serves_the_plan_rows_in_order(counts, batch_size, kind, seed,
                                                  vectorized, repeat, first, short):
    codes = np.repeat(np.arange(len(counts)), counts)
    groups = ft.Groups.from_codes(codes)
    try:
        sampler = SAMPLERS[kind](groups, batch_size, seed)
    except ValueError:
        assume(False)
    steps = max(1, sampler.steps_per_epoch - 1) if short else sampler.steps_per_epoch
    codes_t = tf.constant(codes)
    ds = to_tf_dataset(sampler, lambda i: (i, tf.gather(codes_t, i)), vectorized=vectorized,
                       repeat=repeat, steps_per_epoch=steps)
    got = served(ds, first, steps, 2, repeat)
    want = [r for e in (first, first + 1) for r in rows(sampler, e, steps)]
    assert_exact(got, want, ordered=True)


def slow_on(slow, vectorized):
    """A load that sleeps on the indices ``slow``, so that later batches overtake them."""
    slow = np.asarray(sorted(slow), np.int64)

    def wait(a):
        if np.isin(a, slow).any():
            import time

            time.sleep(0.3)
        return a

    def load(i):
        x = tf.numpy_function(wait, [i], tf.int64, stateful=False)
        x.set_shape(i.shape)
        return x, tf.gather(CODES_T, i)

    return load


@pytest.mark.parametrize("vectorized", [False, True], ids=["per-example", "vectorized"])
def test_nondeterministic_repeat_never_moves_a_batch_to_another_epoch(vectorized):
    # deterministic=False lets batches of one epoch overtake each other, never a batch
    # of the next epoch overtake one of this epoch: fit(steps_per_epoch) counts epochs.
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=16, seed=3)
    steps = 3
    last = sampler.plan(0)[steps - 1]
    ds = to_tf_dataset(sampler, slow_on(last, vectorized), vectorized=vectorized,
                       deterministic=False, repeat=True, steps_per_epoch=steps,
                       num_parallel_calls=4)
    got = served(ds, 0, steps, 2, True)
    for e in (0, 1):
        assert_exact(got[e * steps:(e + 1) * steps], rows(sampler, e, steps), ordered=False)


@pytest.mark.parametrize("vectorized", [False, True], ids=["per-example", "vectorized"])
def test_nondeterministic_keeps_the_replica_slices_of_a_step_together(vectorized):
    # One pipeline feeding two replicas hands them consecutive elements: slices of two
    # planned batches side by side would make a global batch nobody planned.
    sampler = ft.sampling.Homogeneous(GROUPS, batch_size=16, seed=2)
    ctx = tf.distribute.InputContext(num_input_pipelines=1, input_pipeline_id=0,
                                     num_replicas_in_sync=2)
    first = sampler.plan(0)[0]
    ds = to_tf_dataset(sampler, slow_on(first[0::2], vectorized), vectorized=vectorized,
                       input_context=ctx, deterministic=False, num_parallel_calls=4)
    got = served(ds, 0, 2 * sampler.steps_per_epoch, 1, False)
    steps = {(tuple(r[0::2].tolist()), tuple(r[1::2].tolist())) for r in sampler.plan(0)}
    pairs = {(tuple(a.tolist()), tuple(b.tolist())) for a, b in zip(got[::2], got[1::2])}
    assert pairs == steps
