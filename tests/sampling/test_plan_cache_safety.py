"""The small-group block cache never makes a plan depend on other calls (rev-plan).

A small group's cached rows keep the position of the block's generator so that the
next epoch continues it. A plan that read that entry must get the same rows even if
another plan (another adapter, another thread) continued the block in between.
"""

from __future__ import annotations

import copy
import pickle
import threading

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import fairtrain as ft


def _sampler(seed: int = 1) -> ft.sampling.Homogeneous:
    # 40 and 60 members: 102 and 68 permutations per 4096-index block; 52 draws of
    # each group per epoch, so epoch e + 1 continues the block epoch e drew from.
    codes = np.repeat([0, 1], [40, 60])
    np.random.default_rng(0).shuffle(codes)
    return ft.sampling.Homogeneous(ft.Groups.from_codes(codes), batch_size=8, seed=seed)


def test_a_plan_that_runs_while_another_is_drawing_gets_its_own_rows():
    # A deterministic interleaving of two threads: while plan(1) of the sampler is
    # between its draw and its argsort, a plan of epoch 2 runs on a shallow copy (the
    # same block cache). Neither may continue a generator the other has moved.
    from unittest import mock

    sampler, fresh = _sampler(), _sampler()
    sampler.plan(0)
    twin = copy.copy(sampler)
    real_argsort = np.argsort
    inside: list[np.ndarray] = []
    started: list[bool] = []

    def argsort(*args, **kwargs):
        if not started:
            started.append(True)
            inside.append(twin.plan(2).copy())  # the other thread, mid-draw
        return real_argsort(*args, **kwargs)

    with mock.patch.object(np, "argsort", argsort):
        got = sampler.plan(1).copy()
    np.testing.assert_array_equal(inside[0], fresh.plan(2))
    np.testing.assert_array_equal(got, fresh.plan(1))
    sampler._plan_cache = twin._plan_cache = None
    np.testing.assert_array_equal(sampler.plan(3), fresh.plan(3))


def test_copies_and_pickles_of_a_planning_sampler_plan_alike():
    sampler, fresh = _sampler(), _sampler()
    sampler.plan(0)
    twins = [copy.copy(sampler), copy.deepcopy(sampler), pickle.loads(pickle.dumps(sampler))]
    for twin in twins:  # each continues the cache it got, in turn with the original
        for epoch in (1, 2, 1, 5):
            twin._plan_cache = sampler._plan_cache = None
            np.testing.assert_array_equal(twin.plan(epoch), fresh.plan(epoch))
            np.testing.assert_array_equal(sampler.plan(epoch), fresh.plan(epoch))


def test_threads_planning_one_sampler_get_the_plans_of_a_fresh_sampler():
    epochs = [e for _ in range(6) for e in range(8)]
    expected = {e: _sampler().plan(e).copy() for e in range(8)}
    for _ in range(5):
        sampler = _sampler()
        barrier = threading.Barrier(4)
        got: list[tuple[int, np.ndarray]] = []
        errors: list[BaseException] = []

        def work(part: list[int], sampler=sampler, barrier=barrier, got=got, errors=errors) -> None:
            try:
                barrier.wait()
                for epoch in part:
                    # a plan per call (no plan cache), as two adapters planning apart
                    copy.copy(sampler).plan(epoch)
                    twin = copy.copy(sampler)
                    twin._plan_cache = None
                    got.append((epoch, twin.plan(epoch).copy()))
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(epochs[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        for epoch, plan in got:
            np.testing.assert_array_equal(plan, expected[epoch])


def test_the_vectorized_scheduler_gives_up_when_short_of_ready_subtasks_for_long():
    # Nothing is ready for ten slots: it must answer None (the loop then decides),
    # not run past the last subtask of a task (an IndexError before rev-plan).
    from fairtrain.sampling import quotas

    release = np.array([5, 6, 7], dtype=np.int64)
    key = np.array([0, 4, 8], dtype=np.int64)
    assert quotas._pd2_vectorized(release, key, np.array([0], dtype=np.int64), 1, 10) is None


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 70),
    st.lists(st.tuples(st.integers(0, 80), st.integers(0, 6)), min_size=1, max_size=8),
    st.integers(0, 2**32 - 1),
)
def test_lazily_drawn_rows_equal_the_whole_block_for_any_sequence_of_requests(n, asks, seed):
    # Row i of a block is argsort of the block's i-th n uniforms, whatever rows were
    # asked for before (forwards, backwards, overlapping, past the cached ones).
    codes = np.repeat([0, 1], [n, 3])
    sampler = ft.sampling.Homogeneous(ft.Groups.from_codes(codes), batch_size=2, seed=seed)
    per_block = 4096 // n
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, 1]))
    whole = np.argsort(rng.random((per_block, n)), axis=1, kind="stable")
    for lo, extra in asks:
        lo = min(lo, per_block - 1)
        hi = min(lo + extra, per_block - 1)
        got = sampler._block_rows(0, 1, n, lo, hi)
        np.testing.assert_array_equal(got, whole[lo : hi + 1])
        assert not got.flags.writeable  # shared with the cache


def test_pd2_with_products_beyond_int64_matches_the_python_loop():
    # steps * fracs[g] wraps in int64 (2**14 * 2**50 = 2**64): the subtask counts
    # must come from exact integers, else the NumPy pass runs off its subtasks.
    from unittest import mock

    from fairtrain.sampling import quotas

    q = 2**51 + 1
    fracs = [2**50 + (1 if i < 15 else 0) for i in range(30)]  # sum = 15 q
    steps = 2**14
    got = quotas._pfair_extras(fracs, q, steps)
    with mock.patch.object(quotas, "_VECTORIZE_FROM", 10**9):
        expected = quotas._pfair_extras(fracs, q, steps)
    np.testing.assert_array_equal(got, expected)
    assert np.all(got.sum(axis=1) == 15)
