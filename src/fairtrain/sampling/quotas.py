"""Per-batch group quotas: largest-remainder rounding with the remainders carried over."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from numbers import Integral

import numpy as np

from fairtrain._validation import Interval, check

__all__ = ["largest_remainder", "quota_table"]


def largest_remainder(numerators: Sequence[int], denominator: int, total: int) -> np.ndarray:
    """Round ``numerators / denominator`` to integers summing to ``total``.

    Parameters
    ----------
    numerators : sequence of int, length k
        Non-negative exact targets times ``denominator``; they must sum to
        ``total * denominator``.
    denominator : int
        Positive common denominator.
    total : int
        The sum of the result.

    Returns
    -------
    ndarray of int64, shape (k,)
        ``floor(numerators / denominator)`` plus one for the groups with the largest
        remainders (ties go to the lower index).

    Raises
    ------
    ValueError
        If the numerators do not sum to ``total * denominator``.

    Examples
    --------
    >>> largest_remainder([1, 1, 1], 3, 1).tolist()  # three thirds of one example
    [1, 0, 0]
    >>> largest_remainder([64 * 6, 64 * 8, 64 * 80, 64 * 6], 100, 64).tolist()
    [4, 5, 51, 4]
    """
    nums = [int(a) for a in numerators]
    den = int(denominator)
    if sum(nums) != total * den:
        raise ValueError(
            f"The numerators must sum to total * denominator ({total * den}); "
            f"got {sum(nums)}."
        )
    base = [a // den for a in nums]
    rest = total - sum(base)
    order = sorted(range(len(nums)), key=lambda g: (-(nums[g] % den), g))
    for g in order[:rest]:
        base[g] += 1
    return np.asarray(base, dtype=np.int64)


#: Active tasks from which PD² runs one NumPy pass per slot instead of a Python loop.
_VECTORIZE_FROM = 24


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _pfair_extras(fracs: Sequence[int], q: int, steps: int) -> np.ndarray:
    """A Pfair schedule (PD² priorities) of the fractional parts over ``steps`` slots.

    Task ``g`` has weight ``fracs[g] / q < 1``; the weights sum to an integer ``r``, the
    number of slots (extra examples) per step. Returns a 0/1 array (steps, k): whether
    group ``g`` gets its extra example at step ``t`` (uint8). PD² is optimal for such task
    systems, so after every step ``t`` the cumulative extras of each group differ from
    ``t * fracs[g] / q`` by less than one (Srinivasan and Anderson, 2002).
    """
    k = len(fracs)
    out = np.zeros((steps, k), dtype=np.uint8)
    r = sum(fracs) // q
    active = [g for g in range(k) if fracs[g]]
    if r == 0 or not active or steps == 0:
        return out
    if len(active) == r:  # every active group gets one each step
        out[:, active] = 1
        return out
    if len(set(fracs[g] for g in active)) == 1:  # equal weights: round robin is Pfair
        slots = (np.arange(steps, dtype=np.int64)[:, None] * r + np.arange(r)) % len(active)
        out[np.arange(steps)[:, None], np.asarray(active)[slots]] = 1
        return out
    # One NumPy pass over the tasks per slot beats a Python pass from a few dozen tasks.
    tasks = None
    if len(active) >= _VECTORIZE_FROM:
        tasks = _subtask_keys([fracs[g] for g in active], q, steps)
    if tasks is not None:
        chosen = _pd2_vectorized(*tasks, r, steps)
        if chosen is not None:
            out[np.arange(steps)[:, None], np.asarray(active)[chosen]] = 1
            return out
    return _pd2_loop(fracs, active, q, r, steps, out)


def _subtask_keys(
    fracs: Sequence[int], q: int, steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Releases and unique PD² keys of every task's subtasks, all tasks concatenated.

    Task ``i`` (weight ``fracs[i] / q``) owns the ``n_i = steps * fracs[i] // q + 3``
    entries from ``start[i]`` on: the subtasks that fit in ``steps`` slots plus
    sentinels. A key orders by PD² priority, then by task (the loop's tie-break), and
    is unique. Returns ``(release, key, start)``, or None when the keys do not fit in
    int64 (then the loop over Python integers runs instead).
    """
    # (steps * f in Python integers: in int64 it can wrap and give wrong counts)
    if q * (steps * max(fracs) // q + 3) > 2**62:
        return None
    f = np.asarray(fracs, dtype=np.int64)
    m = f.size
    n = (steps * f) // q + 3
    start = np.zeros(m, dtype=np.int64)
    np.cumsum(n[:-1], out=start[1:])
    total = int(start[-1] + n[-1])
    # Arrays of one entry per subtask, freed as soon as they are used: the peak is
    # a few of them at a time.
    task = np.repeat(np.arange(m, dtype=np.int64), n)
    jq = np.arange(1, total + 1, dtype=np.int64)
    jq -= start[task]
    jq *= q  # j * q for the 1-based subtask number j
    fj = f[task]
    release = jq - q
    release //= fj
    deadline = -((-jq) // fj)
    bbit = (jq % fj) != 0
    del jq, fj
    # Bits of the PD² priority (deadline, b-bit, group deadline) plus the task number.
    span = 1 << max(1, (m - 1).bit_length())
    if (int(deadline.max()) * 2 + 2) * 2**30 * span >= 2**63:
        return None
    group = None
    heavy = 2 * f >= q
    if heavy.any():
        # Group deadline: the first t >= d_j with t = d_k and b_k = 0, or t + 1 = d_k
        # and |window_k| = 3, over k >= j of the same task: a suffix minimum per task.
        cap = np.int64(2**30 - 1)
        both = np.where(bbit, cap, np.minimum(deadline, cap))
        three = (deadline[1:] - release[1:]) == 3
        three[start[1:] - 1] = False  # the last subtask of a task looks at its own task only
        nxt3 = np.where(three, np.minimum(deadline[1:] - 1, cap), cap)
        del three
        np.minimum(both[:-1], nxt3, out=both[:-1])
        del nxt3
        # Suffix minimum within each task: reversed, offset so tasks cannot mix.
        if m > 1:
            both += task << 31
        both = np.minimum.accumulate(both[::-1])[::-1]
        if m > 1:
            both -= task << 31
        group = np.where(heavy[task], both, 0)
        del both
    prio = deadline
    prio *= 2
    prio += ~bbit
    del bbit
    prio <<= 30
    prio += 2**30 - 1
    if group is not None:
        prio -= group
        del group
    prio *= span
    prio += task
    return release, prio, start


def _pd2_vectorized(
    release: np.ndarray, key: np.ndarray, start: np.ndarray, r: int, steps: int
) -> np.ndarray | None:
    """PD² over ``steps`` slots, one NumPy pass over the tasks per slot.

    Each slot takes the ``r`` ready subtasks with the smallest keys (a subtask is ready
    when released and its predecessor is done), exactly as :func:`_pd2_loop`. Returns
    the flat subtask number scheduled in each slot, shape (steps, r), or None when a
    slot had fewer than ``r`` ready subtasks (never for the systems quota_table
    builds; the loop then handles it as before).
    """
    pos = start.copy()  # the next subtask of every task
    nrel = release[pos]
    nkey = key[pos]
    unready = np.iinfo(np.int64).max
    chosen = np.empty((steps, r), dtype=np.int64)
    for t in range(steps):
        sel = np.argpartition(np.where(nrel <= t, nkey, unready), r - 1)[:r]
        if nrel[sel].max() > t:  # fewer than r ready: stop before running off a task
            return None
        p = pos[sel]
        chosen[t] = p
        p += 1
        pos[sel] = p
        nrel[sel] = release[p]
        nkey[sel] = key[p]
    # The subtask's task is its key modulo the power of two above the task count.
    span = 1 << max(1, (start.size - 1).bit_length())
    return key[chosen] & (span - 1)


def _pd2_loop(
    fracs: Sequence[int], active: list[int], q: int, r: int, steps: int, out: np.ndarray
) -> np.ndarray:
    """PD² slot by slot over Python integers (any size of numbers)."""
    # Every subtask's release and PD² priority, precomputed per group, so that the
    # loop over steps only compares integers.
    releases: list[list[int]] = []
    priorities: list[list[int]] = []
    for g in active:
        rel, prio = _subtasks(fracs[g], q, steps)
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


def _subtasks(f: int, q: int, steps: int) -> tuple[list[int], list[int]]:
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


def quota_table(numerators: Sequence[int], denominator: int, steps: int) -> np.ndarray:
    """Per-batch quotas of every group for ``steps`` consecutive batches.

    Batch ``t`` must hold ``numerators[g] / denominator`` examples of group ``g`` on
    average; the quotas are that number rounded down or up, chosen so that the
    remainders are carried from batch to batch.

    Parameters
    ----------
    numerators : sequence of int, length k
        Exact per-batch counts times ``denominator``; their sum must be a multiple of
        ``denominator`` (the batch size times ``denominator``).
    denominator : int
        Positive common denominator.
    steps : int
        Number of batches.

    Returns
    -------
    ndarray of int64, shape (steps, k)
        Row ``t`` holds the quotas of batch ``t``; every row sums to the batch size.

    Notes
    -----
    With ``c_g = numerators[g] / denominator`` and ``C_g(t)`` the sum of the first
    ``t`` quotas of group ``g``:

    * every quota is ``floor(c_g)`` or ``ceil(c_g)``, i.e. ``|q_tg - c_g| < 1``;
    * ``|C_g(t) - t * c_g| < 1`` for every ``t`` (the carried remainder never reaches a
      whole example), so ``C_g(t)`` is ``floor(t c_g)`` or ``ceil(t c_g)``;
    * the table is periodic: row ``t + denominator`` equals row ``t``.

    Each batch first gets ``floor(c_g)`` of every group; the ``r = batch - sum floor(c)``
    remaining places go to the groups whose fractional parts are due. That is
    largest-remainder rounding with carry, scheduled as a Pfair task system with the
    PD² priority rule (earliest pseudo-deadline; ties by the overlap bit, then the
    group deadline), which keeps the carried remainders strictly within (-1, 1)
    [1]_.

    References
    ----------
    .. [1] A. Srinivasan and J. H. Anderson, "Optimal rate-based scheduling on
       multiprocessors", STOC 2002.

    Examples
    --------
    >>> quota_table([1, 1, 1], 3, 4).tolist()  # one place shared by three groups
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    >>> quota_table([5, 3], 4, 4).tolist()     # 1.25 and 0.75 per batch of 2
    [[1, 1], [1, 1], [1, 1], [2, 0]]
    """
    nums = [int(a) for a in numerators]
    q = check("denominator", denominator, Interval(Integral, 1, None))
    if any(a < 0 for a in nums):
        raise ValueError(f"`numerators` must be non-negative; got {nums}.")
    if sum(nums) % q:
        raise ValueError(
            f"The numerators must sum to a multiple of the denominator ({q}); got "
            f"{sum(nums)}."
        )
    steps = check("steps", steps, Interval(Integral, 0, None))
    # Reduce the fraction: a smaller denominator is a shorter period and cheaper PD².
    g = q
    for a in nums:
        g = np.gcd(g, a)
    g = int(g) or 1
    nums = [a // g for a in nums]
    q //= g
    base = np.asarray([a // q for a in nums], dtype=np.int64)
    fracs = [a % q for a in nums]
    period = min(steps, q)
    extras = _pfair_extras(fracs, q, period)
    table = base[None, :] + extras
    if period < steps:
        table = np.tile(table, (_ceil_div(steps, period), 1))[:steps]
    return np.ascontiguousarray(table)


def as_fractions(shares: Sequence[float], *, max_denominator: int = 10_000) -> list[Fraction]:
    """Exact fractions for ``shares`` when each is a simple ratio, else float fractions.

    ``0.25`` gives ``1/4`` and ``1/3`` (as a float) gives ``1/3``, so targets such as
    equal thirds are met exactly over any number of batches.
    """
    out = []
    for s in shares:
        simple = Fraction(float(s)).limit_denominator(max_denominator)
        out.append(simple if abs(float(simple) - float(s)) <= 1e-12 else Fraction(float(s)))
    return out
