"""Group batch samplers vs the usual tf.data ways to balance batches: speed and exactness.

One run measures, on the same machine and in the same process:

* ``plain``: ``from_tensor_slices(indices).shuffle(n).map(load).batch(64)``, unbalanced:
  the speed ceiling;
* ``fairtrain``: :class:`~fairtrain.sampling.Proportional` /
  :class:`~fairtrain.sampling.Homogeneous` through :func:`fairtrain.data.to_tf_dataset`;
* ``rejection_resample``: ``tf.data.Dataset.rejection_resample`` on the loaded stream;
* ``sample_from_datasets``: one shuffled, repeated stream per group, drawn at random
  with the target weights;
* ``choose_from_datasets``: the same streams in a fixed per-batch pattern (the target
  counts rounded once);
* ``imblearn``: imbalanced-learn's ``balanced_batch_generator`` (its TensorFlow
  variant; batches balanced over the epoch only), loaded through tf.data;

on 200,000 examples in 6/8/80/6 shares, batch 64, for the proportional and the
homogeneous target, once with ``load`` returning the index (indices only) and once with
a JPEG decode + resize per example. Reported: examples per second, the ratio to the
``plain`` pipeline of the same run, and the mean per-batch composition error. It also
times planning one epoch of 10,000,000 examples.

Run ``python benchmarks/bench_samplers.py`` (a few minutes on 2 cores) or with
``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import fairtrain as ft  # noqa: E402

SHARES = np.array([0.06, 0.08, 0.80, 0.06])
NAMES = ["African", "Asian", "Latin/Caucasian", "Indian"]
BATCH = 64


def make_codes(n: int, seed: int = 0) -> np.ndarray:
    counts = np.floor(SHARES * n).astype(int)
    counts[2] += n - counts.sum()
    codes = np.repeat(np.arange(4), counts).astype(np.int32)
    np.random.default_rng(seed).shuffle(codes)
    return codes


def composition_error(counts: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(mean examples misplaced per batch, mean examples outside floor/ceil per batch)."""
    exact = counts.sum(axis=1, keepdims=True) * target[None, :]
    misplaced = np.abs(counts - exact).sum(axis=1) / 2
    outside = (np.maximum(counts - np.ceil(exact - 1e-9), 0)
               + np.maximum(np.floor(exact + 1e-9) - counts, 0)).sum(axis=1) / 2
    return float(misplaced.mean()), float(outside.mean())


def build_pipelines(tf, codes, target_name, load, *, seed=0):
    """name -> zero-argument function returning a dataset of (x, group) batches."""
    n = codes.size
    groups = ft.Groups.from_codes(codes, NAMES)
    target = SHARES if target_name == "proportional" else np.full(4, 0.25)
    members = [np.flatnonzero(codes == g) for g in range(4)]
    autotune = tf.data.AUTOTUNE

    def plain():
        return (tf.data.Dataset.from_tensor_slices(np.arange(n, dtype=np.int64))
                .shuffle(n, seed=seed).repeat()
                .map(load, num_parallel_calls=autotune).batch(BATCH).prefetch(autotune))

    sampler_cls = ft.sampling.Proportional if target_name == "proportional" else (
        ft.sampling.Homogeneous)
    kwargs = {"last_batch": "drop"} if target_name == "proportional" else {}
    sampler = sampler_cls(groups, batch_size=BATCH, seed=seed, **kwargs)

    def fairtrain_ds():
        return ft.data.to_tf_dataset(sampler, load, repeat=True)

    def rejection():
        ds = (tf.data.Dataset.from_tensor_slices(np.arange(n, dtype=np.int64))
              .shuffle(n, seed=seed).repeat().map(load, num_parallel_calls=autotune))
        ds = ds.rejection_resample(
            lambda x, g: tf.cast(g, tf.int32),
            target_dist=target.astype(np.float32),
            initial_dist=SHARES.astype(np.float32),
            seed=seed,
        )
        return ds.map(lambda _, xy: xy).batch(BATCH).prefetch(autotune)

    def streams():
        return [tf.data.Dataset.from_tensor_slices(m.astype(np.int64))
                .shuffle(m.size, seed=seed + g).repeat() for g, m in enumerate(members)]

    def sample_from():
        ds = tf.data.Dataset.sample_from_datasets(streams(), weights=target.tolist(),
                                                  seed=seed)
        return ds.map(load, num_parallel_calls=autotune).batch(BATCH).prefetch(autotune)

    pattern_counts = np.round(target * BATCH).astype(int)
    pattern_counts[np.argmax(pattern_counts)] += BATCH - pattern_counts.sum()
    pattern = np.repeat(np.arange(4, dtype=np.int64), pattern_counts)

    def choose_from():
        choice = tf.data.Dataset.from_tensor_slices(pattern).repeat()
        ds = tf.data.Dataset.choose_from_datasets(streams(), choice)
        return ds.map(load, num_parallel_calls=autotune).batch(BATCH).prefetch(autotune)

    def imblearn():
        from imblearn.tensorflow import balanced_batch_generator
        from imblearn.under_sampling import RandomUnderSampler

        strategy = "all" if target_name == "homogeneous" else {
            g: int(m.size) for g, m in enumerate(members)}
        x_idx = np.arange(n, dtype=np.int64).reshape(-1, 1)

        def gen():
            rs = seed
            while True:
                g, steps = balanced_batch_generator(
                    x_idx, codes, batch_size=BATCH, random_state=rs,
                    sampler=RandomUnderSampler(sampling_strategy=strategy, random_state=rs))
                for _ in range(steps):
                    xb, _ = next(g)
                    yield xb[:, 0]
                rs += 1

        ds = tf.data.Dataset.from_generator(
            gen, output_signature=tf.TensorSpec([None], tf.int64))
        return (ds.unbatch().map(load, num_parallel_calls=autotune).batch(BATCH)
                .prefetch(autotune))

    return {
        "plain (ceiling)": plain,
        "fairtrain": fairtrain_ds,
        "rejection_resample": rejection,
        "sample_from_datasets": sample_from,
        "choose_from_datasets": choose_from,
        "imblearn": imblearn,
    }, target


def measure(tf, make, n_batches, chunk=25):
    """(examples per second over n_batches after a warm-up, group counts per batch).

    The batches are consumed inside TensorFlow: each is reduced to its group counts and
    ``chunk`` of those are stacked into one tensor, so Python's per-batch overhead is
    not measured. The first chunk (start-up: tracing, shuffle buffer fill, first plan)
    is a warm-up and is not timed.
    """
    counted = make().map(
        lambda x, g: tf.math.bincount(tf.cast(g, tf.int32), minlength=4, maxlength=4))
    it = iter(counted.batch(chunk))
    next(it)
    parts = []
    start = time.perf_counter()
    for _ in range(max(1, n_batches // chunk)):
        parts.append(next(it))
    elapsed = time.perf_counter() - start
    counts = np.concatenate([p.numpy() for p in parts])
    return counts.sum() / elapsed, counts


def bench_pipelines(args):
    import tensorflow as tf

    codes = make_codes(args.n)
    codes_t = tf.constant(codes)
    rng = np.random.default_rng(0)
    # 256 distinct 96x96 JPEGs (smooth noise, so they compress like photos); example i
    # decodes image i % 256 and resizes it to 64x64.
    low = rng.integers(0, 255, size=(256, 12, 12, 3)).astype(np.uint8)
    images = tf.image.resize(low, (96, 96), method="bilinear")
    jpegs = tf.stack([tf.io.encode_jpeg(tf.cast(im, tf.uint8), quality=90)
                      for im in images])

    def load_index(i):
        return i, tf.gather(codes_t, i)

    def load_jpeg(i):
        raw = tf.gather(jpegs, i % 256)
        img = tf.image.decode_jpeg(raw, channels=3)
        img = tf.image.resize(img, (64, 64))
        return img, tf.gather(codes_t, i)

    rows = []
    for scenario, load, n_batches in (("indices", load_index, args.index_batches),
                                      ("jpeg", load_jpeg, args.jpeg_batches)):
        for target_name in ("proportional", "homogeneous"):
            pipes, target = build_pipelines(tf, codes, target_name, load)
            names = [n for n in pipes if not (n == "imblearn" and args.skip_imblearn)]
            speeds = {n: [] for n in names}
            counts = {}
            # Round robin over the methods, so that a busy machine slows all alike.
            for _ in range(args.repeats):
                for name in names:
                    # rejection_resample is 10-20x slower at the homogeneous target: a
                    # quarter of the batches is enough to measure it.
                    k = max(25, n_batches // 4) if name == "rejection_resample" else n_batches
                    speed, counts[name] = measure(tf, pipes[name], k)
                    speeds[name].append(speed)
            results = {n: (statistics.median(speeds[n]), counts[n]) for n in names}
            ceiling = results["plain (ceiling)"][0]
            for name, (speed, counts) in results.items():
                err, outside = composition_error(counts, target)
                rows.append((scenario, target_name, name, speed, speed / ceiling, err,
                             outside))
                print(f"  {scenario:8s} {target_name:12s} {name:22s} {speed:11,.0f} ex/s "
                      f"{speed / ceiling:5.2f}x  err {err:6.2f}  outside {outside:5.2f}",
                      flush=True)
    return rows


def bench_planning(n: int) -> list[tuple[str, float, float, float]]:
    codes = make_codes(n)
    out = []
    groups = ft.Groups.from_codes(codes, NAMES)
    start = time.perf_counter()
    groups.members()
    members_s = time.perf_counter() - start
    for cls in (ft.sampling.Proportional, ft.sampling.Homogeneous):
        sampler = cls(groups, batch_size=BATCH, seed=0)
        start = time.perf_counter()
        sampler.plan(0)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        sampler.plan(7)
        warm = time.perf_counter() - start
        fresh = cls(groups, batch_size=BATCH, seed=1)
        tracemalloc.start()
        fresh.plan(3)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.append((cls.__name__, cold, warm, peak / n))
    print(f"  Groups.members() for n={n:,}: {members_s:.2f} s (cached by Groups, once)")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--skip-imblearn", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.index_batches, args.jpeg_batches, args.plan_n = 20_000, 200, 60, 1_000_000
        args.repeats = args.repeats or 1
    else:
        args.n, args.index_batches, args.jpeg_batches, args.plan_n = (
            200_000, 1_000, 400, 10_000_000)
        args.repeats = args.repeats or 3
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load_avg:.2f}")
    print(f"fairtrain {ft.__version__} on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; n={args.n:,}, batch {BATCH}, shares 6/8/80/6; "
          f"{args.index_batches} batches (indices) and {args.jpeg_batches} batches (JPEG) "
          f"per method (a quarter of that for rejection_resample) after a 25-batch warm-up, "
          f"median of {args.repeats}")
    plans = bench_planning(args.plan_n)
    rows = bench_pipelines(args)

    print(f"\nPlanning one epoch of {args.plan_n:,} examples (batch {BATCH}):")
    print("first epoch: includes building the quota table and the process's first touch "
          "of ~0.5 GB of fresh memory (page faults); later epoch: another epoch, same "
          "sampler; peak bytes: allocated while planning, tracemalloc")
    print("| sampler | first epoch (s) | later epoch (s) | peak bytes / example |")
    print("|---|---:|---:|---:|")
    for name, cold, warm, per in plans:
        print(f"| {name} | {cold:.2f} | {warm:.2f} | {per:.1f} |")
    print("\n| load | target | method | examples/s | × ceiling | composition error | "
          "outside floor/ceil |")
    print("|---|---|---|---:|---:|---:|---:|")
    for scenario, target, name, speed, ratio, err, outside in rows:
        print(f"| {scenario} | {target} | {name} | {speed:,.0f} | {ratio:.2f} | "
              f"{err:.2f} | {outside:.2f} |")
    print("\ncomposition error: mean over batches of sum_g |count_g - 64 * share_g| / 2 "
          "(examples misplaced; a batch of 64 cannot hold 3.84 examples, so exact "
          "proportional batches still score about 0.5);\noutside floor/ceil: examples per "
          "batch beyond floor/ceil(64 * share_g), 0 for an exact sampler.")


if __name__ == "__main__":
    main()
