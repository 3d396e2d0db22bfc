"""Suite ``scaling``: planning time and peak memory in N and in the number of groups.

Every point times ``plan`` of one epoch (batch 64) with ``Proportional`` (every example
once per epoch) and ``Homogeneous``, against ``numpy.random.default_rng().permutation``
of the same N in the same round (the cost of shuffling the dataset once, the least any
sampler must do). Group shares are 6/8/80/6 for 4 groups and Zipf-like (``1 / rank``)
for more (intersectional cells). ``first epoch`` is a new sampler on the same Groups
(builds the quota table), ``later epoch`` the next epoch of that sampler; peak memory is
``tracemalloc``'s peak while a new sampler plans its first epoch, per example. The
fitted exponent is the least-squares slope of log time on log N (4 groups) and on log
groups (fixed N). A last table runs the first epoch in fresh processes (sampler built,
``Groups.members()`` and the quota table computed, pages of fresh memory touched) against
a fresh process's first permutation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
from typing import Any

import numpy as np

from benchmarks._common import (
    Table,
    fitted_exponent,
    fmt_range,
    interleaved,
    mem_available_bytes,
    summary,
    timed,
)

BATCH = 64
SIZES = {
    "tiny": dict(ns=[10_000, 100_000], ks=[4, 100], k_at=100_000, repeats=1,
                 fresh_n=100_000, fresh_repeats=1),
    "quick": dict(ns=[100_000, 1_000_000, 10_000_000], ks=[4, 16, 100, 1000],
                  k_at=1_000_000, repeats=3, fresh_n=10_000_000, fresh_repeats=3),
    "full": dict(ns=[100_000, 1_000_000, 10_000_000, 100_000_000], ks=[4, 16, 100, 1000],
                 k_at=10_000_000, repeats=5, fresh_n=10_000_000, fresh_repeats=5),
}
#: Bytes per example a point needs at peak (codes, members, plan, scratch), with margin.
BYTES_PER_EXAMPLE = 64


def make_codes(n: int, k: int, seed: int = 0) -> np.ndarray:
    shares = np.array([0.06, 0.08, 0.80, 0.06]) if k == 4 else 1 / np.arange(1, k + 1)
    shares = shares / shares.sum()
    counts = np.maximum(1, np.floor(shares * n)).astype(np.int64)
    counts[np.argmax(counts)] += n - counts.sum()
    codes = np.repeat(np.arange(k, dtype=np.int32), counts)
    np.random.default_rng(seed).shuffle(codes)
    return codes


def batch_for(k: int) -> int:
    """64, or the number of groups when larger (every batch holds every group)."""
    return max(BATCH, k)


def _samplers(groups: Any, seed: int) -> dict[str, Any]:
    import fairtrain as ft

    b = batch_for(groups.n_groups)
    return {
        "Proportional": ft.sampling.Proportional(groups, batch_size=b, seed=seed),
        "Homogeneous": ft.sampling.Homogeneous(groups, batch_size=b, seed=seed),
    }


def _point(n: int, k: int, repeats: int) -> dict[str, Any]:
    import fairtrain as ft

    groups = ft.Groups.from_codes(make_codes(n, k))
    members_s, _ = timed(groups.members)
    rounds = {"seed": 0}

    def perm():
        return timed(lambda: np.random.default_rng(rounds["seed"]).permutation(n))[0]

    def sampler_fn(name):
        def go():
            rounds["seed"] += 1
            s = _samplers(groups, rounds["seed"])[name]
            first, _ = timed(lambda: s.plan(0))
            later, _ = timed(lambda: s.plan(1))
            return first, later
        return go

    res = interleaved({"permutation": perm, "Proportional": sampler_fn("Proportional"),
                       "Homogeneous": sampler_fn("Homogeneous")}, repeats)
    out: dict[str, Any] = {"n": n, "groups": k, "members_s": members_s,
                           "permutation_s": summary(res["permutation"])}
    for name in ("Proportional", "Homogeneous"):
        firsts = [f for f, _ in res[name]]
        laters = [w for _, w in res[name]]
        tracemalloc.start()
        _samplers(groups, 10_000)[name].plan(0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[name] = {
            "first_s": summary(firsts), "later_s": summary(laters),
            "first_x_perm": summary([a / b for a, b in zip(firsts, res["permutation"])]),
            "later_x_perm": summary([a / b for a, b in zip(laters, res["permutation"])]),
            "peak_bytes_per_example": peak / n,
        }
    return out


FRESH = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from benchmarks.scaling import make_codes
    n, what = int(sys.argv[1]), sys.argv[2]
    codes = make_codes(n, 4)
    import fairtrain as ft
    groups = ft.Groups.from_codes(codes)
    t0 = time.perf_counter()
    if what == "permutation":
        np.random.default_rng(1).permutation(n)
        out = {"total": time.perf_counter() - t0}
    else:
        cls = getattr(ft.sampling, what)
        sampler = cls(groups, batch_size=64, seed=1)
        groups.members()
        t1 = time.perf_counter()
        sampler.plan(0)
        t2 = time.perf_counter()
        sampler.plan(1)
        out = {"total": t2 - t0, "members": t1 - t0, "plan": t2 - t1,
               "later": time.perf_counter() - t2}
    print(json.dumps(out))
""")


def _fresh(n: int, what: str) -> dict[str, float]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", FRESH, str(n), what], capture_output=True,
                          text=True, check=True, cwd=root)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(mode: str) -> tuple[list[Table], dict]:
    """Time planning over the grid of N and groups, then in fresh processes."""
    size = SIZES[mode]
    points, skipped = _grid(size)
    table = _points_table(points, size)
    exps, perm_exp = _exponents(points, size)
    table.note = (
        "Fitted exponents of the later-epoch time: "
        + "; ".join(f"{s} ∝ N^{e['N']:.2f} and groups^{e['groups']:.2f} (at N="
                    f"{size['k_at']:,})" for s, e in exps.items())
        + f"; permutation ∝ N^{perm_exp:.2f}. "
        "× permutation: per repetition, over numpy's permutation of the same N in the same "
        "round. Peak bytes: tracemalloc's peak while a new sampler plans its first epoch "
        "(the plan itself is 8 bytes per example)."
        + (" Skipped: " + "; ".join(skipped) + "." if skipped else ""))
    fresh, fresh_table = _fresh_runs(size)
    return [table, fresh_table], {"points": points, "exponents": exps,
                                  "permutation_exponent": perm_exp, "fresh": fresh,
                                  "skipped": skipped, "sizes": size}


def _grid(size: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every point of the grid that fits in the available memory; (points, skipped)."""
    points: list[dict[str, Any]] = []
    skipped: list[str] = []
    grid = [(n, 4) for n in size["ns"]] + [(size["k_at"], k) for k in size["ks"] if k != 4]
    for n, k in grid:
        avail = mem_available_bytes()
        if avail is not None and n * BYTES_PER_EXAMPLE > avail:
            skipped.append(f"N={n:,}, {k} groups: needs about "
                           f"{n * BYTES_PER_EXAMPLE / 2**30:.1f} GiB, "
                           f"{avail / 2**30:.1f} GiB available")
            print("  skipped", skipped[-1], flush=True)
            continue
        p = _point(n, k, size["repeats"] if n <= 10_000_000 else 1)
        points.append(p)
        print(f"  N={n:>12,} groups={k:>5}: perm {p['permutation_s']['median']:.3f} s; "
              + "; ".join(f"{s} later {p[s]['later_s']['median']:.3f} s "
                          f"({p[s]['later_x_perm']['median']:.2f}x)"
                          for s in ("Proportional", "Homogeneous")), flush=True)
    return points, skipped


def _points_table(points: list[dict[str, Any]], size: dict[str, Any]) -> Table:
    """The table of every point and sampler (its note is added by :func:`run`)."""
    table = Table(
        title=(f"Planning one epoch (batch {BATCH}, or the number of groups when larger); "
               f"median (min–max) over {size['repeats']} interleaved repetitions"),
        columns=["N", "groups", "batch", "sampler", "first epoch (s)", "later epoch (s)",
                 "permutation (s)", "later × permutation", "first × permutation",
                 "peak bytes / example"],
        align="rrrlrrrrrr",
    )
    for p in points:
        for s in ("Proportional", "Homogeneous"):
            q = p[s]
            table.rows.append([f"{p['n']:,}", str(p["groups"]), str(batch_for(p["groups"])), s,
                               fmt_range(q["first_s"], ".3f"),
                               fmt_range(q["later_s"], ".3f"),
                               fmt_range(p["permutation_s"], ".3f"),
                               fmt_range(q["later_x_perm"]), fmt_range(q["first_x_perm"]),
                               f"{q['peak_bytes_per_example']:.1f}"])
    return table


def _exponents(points: list[dict[str, Any]],
               size: dict[str, Any]) -> tuple[dict[str, dict[str, float]], float]:
    """Fitted exponents of the later-epoch time in N and groups, and of the permutation."""
    exps = {}
    for s in ("Proportional", "Homogeneous"):
        by_n = [p for p in points if p["groups"] == 4]
        by_k = [p for p in points if p["n"] == size["k_at"]]
        exps[s] = {
            "N": fitted_exponent([p["n"] for p in by_n],
                                 [p[s]["later_s"]["median"] for p in by_n]),
            "groups": fitted_exponent([p["groups"] for p in by_k],
                                      [p[s]["later_s"]["median"] for p in by_k]),
        }
    perm_exp = fitted_exponent([p["n"] for p in points if p["groups"] == 4],
                               [p["permutation_s"]["median"] for p in points
                                if p["groups"] == 4])
    return exps, perm_exp


def _fresh_runs(size: dict[str, Any]) -> tuple[dict[str, list[dict[str, float]]], Table]:
    """The first epoch in fresh processes against a fresh permutation; (raw, table)."""
    fn = size["fresh_n"]
    fresh = interleaved({w: (lambda w=w: _fresh(fn, w))
                         for w in ("permutation", "Proportional", "Homogeneous")},
                        size["fresh_repeats"])
    fresh_table = Table(
        title=(f"First epoch of N={fn:,} (4 groups) in a fresh process; median (min–max) "
               f"of {size['fresh_repeats']} processes per row, interleaved"),
        columns=["what", "total (s)", "of which members() (s)", "of which plan(0) (s)",
                 "later epoch (s)", "total × permutation"],
        note=("total: from the sampler's construction to the first epoch's plan, with "
              "Groups.members() (computed once and cached by Groups) and the quota table; "
              "permutation: a fresh process's first numpy permutation of N (same page "
              "faults on fresh memory)."),
    )
    perm_t = [r["total"] for r in fresh["permutation"]]
    fresh_table.rows.append(["numpy permutation", fmt_range(summary(perm_t), ".3f"), "", "",
                             "", "1.00"])
    for s in ("Proportional", "Homogeneous"):
        rs = fresh[s]
        fresh_table.rows.append([
            s, fmt_range(summary([r["total"] for r in rs]), ".3f"),
            fmt_range(summary([r["members"] for r in rs]), ".3f"),
            fmt_range(summary([r["plan"] for r in rs]), ".3f"),
            fmt_range(summary([r["later"] for r in rs]), ".3f"),
            fmt_range(summary([r["total"] / p for r, p in zip(rs, perm_t)]))])
        print(f"  fresh {s}: {fresh_table.rows[-1]}", flush=True)
    return fresh, fresh_table
