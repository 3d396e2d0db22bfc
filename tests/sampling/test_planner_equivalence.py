"""The faster planner gives bit-identical plans to the original algorithm.

``reference_plan`` is the planner as it was before the draws were made on member
indices directly (no gather) and the scatter positions became int32: it is kept here,
verbatim in substance, as the specification the optimised code must reproduce.
``reference_pfair_extras`` is the quota scheduler (PD², one Python pass over the tasks
per slot) as it was before it ran one NumPy pass per slot; the same holds for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import fairtrain as ft
from fairtrain.sampling import quotas as quotas_module
from fairtrain.sampling import samplers as samplers_module
from fairtrain.sampling.samplers import PAD

BLOCK = samplers_module._BLOCK


def _reference_block(sampler, cache, g, block, n, per_block):
    cached = cache.get(g)
    if cached is not None and cached[0] == block:
        return cached[1]
    rng = np.random.default_rng(np.random.SeedSequence([sampler.seed, g, block]))
    if per_block == 1:
        perms = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        rng.shuffle(perms)
        perms = perms[None, :]
    else:
        perms = np.argsort(rng.random((per_block, n)), axis=1, kind="stable")
    cache[g] = (block, perms)
    return perms


def _reference_stream(sampler, cache, g, start, count):
    members = sampler.groups.members()[g]
    n = members.size
    if count == 0:
        return np.empty(0, dtype=np.int64)
    if n == 1:
        return np.full(count, members[0], dtype=np.int64)
    per_block = max(1, BLOCK // n)
    first, last = start // n, (start + count - 1) // n
    parts = []
    for block in range(first // per_block, last // per_block + 1):
        perms = _reference_block(sampler, cache, g, block, n, per_block)
        lo = max(first, block * per_block) - block * per_block
        hi = min(last, (block + 1) * per_block - 1) - block * per_block
        parts.append(perms[lo : hi + 1].reshape(-1))
    local = np.concatenate(parts) if len(parts) > 1 else parts[0]
    offset = start - first * n
    return members[local[offset : offset + count]]


def reference_plan(sampler, epoch, cache):
    """The original ``GroupBatchSampler.plan`` (one shared block cache per sampler).

    Its inputs are the public quotas (checked against hand-computed targets in
    test_quotas and by ``check_sampler``), not the planner's own shortcuts: each
    group's stream starts after every draw of the epochs before, summed here epoch by
    epoch instead of by the planner's period arithmetic.
    """
    steps, b = sampler.steps_per_epoch, sampler.batch_size
    rows = sampler.quotas(epoch)
    first = np.zeros(rows.shape[1], dtype=np.int64)
    for earlier in range(epoch):
        first += sampler.quotas(earlier).sum(axis=0)
    sizes = rows.sum(axis=1)
    full = bool(np.all(sizes == b))
    out = np.empty((steps, b), dtype=np.int64) if full else np.full((steps, b), PAD)
    flat = out.reshape(-1)
    row_start = np.arange(steps, dtype=np.int64) * b
    offsets = np.cumsum(rows, axis=1) - rows
    for g in range(rows.shape[1]):
        q = rows[:, g]
        drawn = int(q.sum())
        if drawn == 0:
            continue
        idx = _reference_stream(sampler, cache, g, int(first[g]), drawn)
        if full and q.min() == q.max() and offsets[:, g].min() == offsets[:, g].max():
            col = int(offsets[0, g])
            out[:, col : col + int(q[0])] = idx.reshape(steps, int(q[0]))
            continue
        before = np.cumsum(q) - q
        pos = np.repeat(row_start + offsets[:, g] - before, q)
        pos += np.arange(drawn)
        flat[pos] = idx
    return out


@st.composite
def planner_cases(draw):
    # Groups on both sides of the 4096-member block size (the two draw paths).
    counts = draw(
        st.lists(
            st.one_of(st.integers(1, 60), st.integers(BLOCK - 3, 3 * BLOCK)),
            min_size=1,
            max_size=5,
        )
    )
    codes = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(draw(st.integers(0, 2**32 - 1))).shuffle(codes)
    groups = ft.Groups.from_codes(codes)
    kind = draw(st.sampled_from(["partial", "drop", "homogeneous", "inverse", "target"]))
    seed = draw(st.integers(0, 2**32 - 1))
    k = len(counts)
    batch = draw(st.integers(k, 300))
    steps = draw(st.one_of(st.none(), st.integers(1, 200)))
    if kind == "drop":
        batch = min(batch, codes.size)  # at least one full batch
    if kind in ("partial", "drop"):
        sampler = ft.sampling.Proportional(groups, batch_size=batch, seed=seed, last_batch=kind)
    elif kind == "homogeneous":
        sampler = ft.sampling.Homogeneous(
            groups, batch_size=batch, seed=seed, steps_per_epoch=steps
        )
    elif kind == "inverse":
        sampler = ft.sampling.InverseFrequency(
            groups, batch_size=batch, seed=seed, power=0.5, steps_per_epoch=steps
        )
    else:
        weights = np.asarray(draw(st.lists(st.integers(1, 9), min_size=k, max_size=k)), float)
        sampler = ft.sampling.TargetShares(
            groups, shares=weights / weights.sum(), batch_size=batch, seed=seed,
            steps_per_epoch=steps,
        )
    epochs = draw(st.lists(st.integers(0, 6), min_size=1, max_size=4))
    return sampler, epochs


@settings(max_examples=60, deadline=None)
@given(planner_cases())
def test_new_planner_is_bit_identical_to_the_reference(case):
    sampler, epochs = case
    cache: dict = {}
    for epoch in epochs:  # any order, repeats included: the block caches must agree
        expected = reference_plan(sampler, epoch, cache)
        got = sampler.plan(epoch)
        assert got.dtype == expected.dtype == np.int64
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=25, deadline=None)
@given(planner_cases())
def test_groups_scattered_one_chunk_at_a_time_give_the_same_plans(case):
    # Chunks of one group each (the positions of several groups are built together
    # only up to _CHUNK_SLOTS slots and draws).
    sampler, epochs = case
    cache: dict = {}
    with mock.patch.object(samplers_module, "_CHUNK_SLOTS", 1):
        for epoch in epochs:
            sampler._plan_cache = None
            expected = reference_plan(sampler, epoch, cache)
            np.testing.assert_array_equal(sampler.plan(epoch), expected)


def test_a_large_group_takes_the_member_shuffle_path():
    # 10,000 members > the block size: the draw is the shuffled member array itself.
    codes = np.repeat([0, 1], [10_000, 50])
    groups = ft.Groups.from_codes(codes)
    sampler = ft.sampling.Homogeneous(groups, batch_size=32, seed=3)
    np.testing.assert_array_equal(sampler.plan(2), reference_plan(sampler, 2, {}))
    block, perm = sampler._blocks[0]
    assert perm.shape == (1, 10_000) and not perm.flags.writeable
    assert sorted(perm[0].tolist()) == list(range(10_000))


# --------------------------------------------------------------------- quota scheduler
def reference_pfair_extras(fracs: Sequence[int], q: int, steps: int) -> np.ndarray:
    """A Pfair schedule (PD² priorities) of the fractional parts over ``steps`` slots.

    Task ``g`` has weight ``fracs[g] / q < 1``; the weights sum to an integer ``r``, the
    number of slots (extra examples) per step. Returns a 0/1 array (steps, k): whether
    group ``g`` gets its extra example at step ``t``. PD² is optimal for such task
    systems, so after every step ``t`` the cumulative extras of each group differ from
    ``t * fracs[g] / q`` by less than one (Srinivasan and Anderson, 2002).
    """
    k = len(fracs)
    out = np.zeros((steps, k), dtype=np.int64)
    r = sum(fracs) // q
    active = [g for g in range(k) if fracs[g]]
    if r == 0 or not active:
        return out
    if len(active) == r:  # every active group gets one each step
        out[:, active] = 1
        return out
    if len(set(fracs[g] for g in active)) == 1:  # equal weights: round robin is Pfair
        slots = (np.arange(steps, dtype=np.int64)[:, None] * r + np.arange(r)) % len(active)
        out[np.arange(steps)[:, None], np.asarray(active)[slots]] = 1
        return out
    # Every subtask's release and PD² priority, precomputed per group, so that the
    # loop over steps only compares integers.
    releases: list[list[int]] = []
    priorities: list[list[int]] = []
    for g in active:
        rel, prio = _reference_subtasks(fracs[g], q, steps)
        releases.append(rel)
        priorities.append(prio)
    m = len(active)
    ptr = [0] * m
    times: list[list[int]] = [[] for _ in range(m)]
    members = range(m)
    for t in range(steps):
        ready = [(priorities[i][ptr[i]], i) for i in members if releases[i][ptr[i]] <= t]
        if len(ready) > r:
            ready.sort()
            del ready[r:]
        for _, i in ready:
            ptr[i] += 1
            times[i].append(t)
    for i, g in enumerate(active):
        out[np.asarray(times[i], dtype=np.int64), g] = 1
    return out


def _reference_subtasks(f: int, q: int, steps: int) -> tuple[list[int], list[int]]:
    """Releases and PD² priorities (smaller first) of the subtasks of weight ``f / q``.

    Covers every subtask that can be scheduled in ``steps`` slots, plus one sentinel.
    """
    n = (steps * f) // q + 3
    j = np.arange(1, n + 1, dtype=object if q * n > 2**62 else np.int64)
    release = ((j - 1) * q) // f
    deadline = -((-j * q) // f)
    bbit = ((j * q) % f != 0).astype(np.int64)
    if 2 * f >= q:
        # Group deadline: the first t >= d_j with t = d_k and b_k = 0, or
        # t + 1 = d_k and |window_k| = 3, over k >= j (found by a reverse scan).
        window = deadline - release
        cand = np.where(bbit == 0, deadline, np.iinfo(np.int64).max).astype(np.int64)
        nxt3 = np.zeros_like(cand)
        nxt3[:-1] = np.where(window[1:] == 3, deadline[1:] - 1, np.iinfo(np.int64).max)
        nxt3[-1] = np.iinfo(np.int64).max
        both = np.minimum(cand, nxt3)
        group = np.minimum.accumulate(both[::-1])[::-1]
        group = np.minimum(group, np.int64(2**30 - 1))
    else:
        group = np.zeros(n, dtype=np.int64)
    deadline = np.asarray(deadline, dtype=np.int64)
    release = np.asarray(release, dtype=np.int64)
    # Earlier deadline first; then b-bit 1 first; then later group deadline first.
    prio = (deadline * 2 + (1 - bbit)) * 2**30 + (2**30 - 1 - group)
    return release.tolist(), prio.tolist()


@st.composite
def pfair_systems(draw):
    """Fractional parts ``fracs`` (each in [0, q)) summing to a multiple of ``q``."""
    q = draw(st.one_of(st.integers(2, 60), st.integers(61, 5000), st.integers(10**5, 10**7)))
    shape = draw(
        st.sampled_from(["random", "equal", "heavy", "zero", "many-equal-heavy", "all-heavy"])
    )
    k = draw(st.integers(2, 60))
    if shape == "zero":
        fracs = [0] * k
    elif shape == "equal":
        f = draw(st.integers(1, q - 1))
        # k tasks of weight f / q sum to an integer when k * f is a multiple of q
        k = q // np.gcd(q, f)
        fracs = [f] * int(min(k, 200)) if k <= 200 else [q - 1, 1]
    elif shape == "heavy":  # one heavy task, the rest light
        fracs = [q - 1] + draw(st.lists(st.integers(0, max(1, q // 50)), min_size=k - 2,
                                        max_size=k - 2))
        fracs.append((-sum(fracs)) % q)
    elif shape == "many-equal-heavy":  # ties everywhere but one task
        f = draw(st.integers(q // 2, q - 1))
        fracs = [f] * (k - 1)
        fracs.append((-sum(fracs)) % q)
    else:  # "random", or weights in [1/3, 1) where the group deadlines break ties
        low = q // 3 if shape == "all-heavy" else 0
        fracs = draw(st.lists(st.integers(low, q - 1), min_size=k - 1, max_size=k - 1))
        fracs.append((-sum(fracs)) % q)
    order = draw(st.permutations(range(len(fracs))))
    fracs = [fracs[i] for i in order]
    steps = draw(st.one_of(st.integers(0, 3), st.integers(1, min(q, 400))))
    return fracs, q, steps


@settings(max_examples=150, deadline=None)
@given(pfair_systems(), st.sampled_from([1, 24]))
def test_vectorized_pd2_is_bit_identical_to_the_python_loop(system, vectorize_from):
    fracs, q, steps = system
    assert sum(fracs) % q == 0
    expected = reference_pfair_extras(fracs, q, steps)
    with mock.patch.object(quotas_module, "_VECTORIZE_FROM", vectorize_from):
        got = quotas_module._pfair_extras(fracs, q, steps)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    r = sum(fracs) // q
    assert np.all(got.sum(axis=1) == r)


@settings(max_examples=20, deadline=None)
@given(pfair_systems())
def test_the_loop_fallback_is_the_reference(system):
    # Keys beyond int64 (huge denominators) take the loop over Python integers.
    fracs, q, steps = system
    with mock.patch.object(quotas_module, "_subtask_keys", lambda *a: None):
        got = quotas_module._pfair_extras(fracs, q, steps)
    np.testing.assert_array_equal(got, reference_pfair_extras(fracs, q, steps))


def test_a_thousand_zipf_groups_schedule_as_the_reference():
    # The scaling benchmark's shape: 1,000 groups with 1/rank shares, batch 1,000.
    shares = 1 / np.arange(1, 1001)
    counts = np.floor(shares / shares.sum() * 200_000).astype(int)
    counts[0] += 200_000 - counts.sum()
    q = 200  # 200 full batches of 1,000 out of 200,000 examples
    fracs = [int(c) % q for c in counts]
    expected = reference_pfair_extras(fracs, q, q)
    got = quotas_module._pfair_extras(fracs, q, q)
    np.testing.assert_array_equal(got, expected)
    assert sum(f > 0 for f in fracs) >= quotas_module._VECTORIZE_FROM  # the NumPy path


def test_the_vectorized_scheduler_gives_up_on_a_slot_short_of_ready_subtasks():
    # Nothing is released at slot 0: the NumPy pass must not pick unready subtasks.
    release = np.array([1, 2, 3, 1, 2, 3], dtype=np.int64)
    key = np.array([0, 2, 4, 1, 3, 5], dtype=np.int64) * 2 + np.array([0, 0, 0, 1, 1, 1])
    start = np.array([0, 3], dtype=np.int64)
    assert quotas_module._pd2_vectorized(release, key, start, 1, 2) is None
