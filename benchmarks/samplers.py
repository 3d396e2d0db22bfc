"""Suite ``samplers``: exact group batches through tf.data, against the usual ways.

On ``n`` examples in 6/8/80/6 shares, batch 64, for the proportional and the
homogeneous target, each method yields ``(x, group)`` batches:

* ``ceiling, no map``: ``from_tensor_slices(idx).shuffle(n).repeat().batch(64)`` then
  one vectorised load per batch: unbalanced, the speed ceiling without per-example work;
* ``ceiling, with map``: ``...shuffle(n).repeat().map(load).batch(64)``: the ceiling of
  a per-example ``load``;
* ``fairtrain vectorized``: ``to_tf_dataset(sampler, load_batch, vectorized=True)``;
* ``fairtrain per-example``: ``to_tf_dataset(sampler, load, vectorized=False)``;
* ``fairtrain auto``: ``to_tf_dataset(sampler, load, vectorized="auto")``: the
  per-example ``load``, run batched where that keeps its values (the index load: it only
  gathers), else per example (the JPEG load: ``decode_jpeg``);
* ``choose_from_datasets``: one shuffled stream per group, a hand-built fixed per-batch
  quota pattern (the target counts rounded once);
* ``sample_from_datasets``: the same streams drawn at random with the target weights;
* ``rejection_resample``: ``Dataset.rejection_resample`` on the shuffled stream;
* ``imblearn``: imbalanced-learn's ``balanced_batch_generator`` (balanced over the
  epoch only), if installed.

The proportional sampler is the default one (a partial last batch each epoch, as a new
user gets it). Two loads: ``indices`` (the index and its group, no decode) and ``jpeg`` (decode a
96x96 JPEG and resize it to 64x64; the vectorised form maps the decode over the batch).
Speeds are ratios to the ceilings of the same run; CPU per example is the process's
CPU time (all threads) over the examples.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np

from benchmarks import pipelines
from benchmarks._common import Table, cpu_seconds, fmt_range, interleaved, summary

SHARES = np.array([0.06, 0.08, 0.80, 0.06])
NAMES = ["African", "Asian", "Latin/Caucasian", "Indian"]
BATCH = 64
SIZES = {
    # n examples, timed batches for indices / jpeg, repetitions, chunk
    "tiny": dict(n=4_000, index_batches=20, jpeg_batches=10, repeats=1, chunk=5),
    "quick": dict(n=50_000, index_batches=200, jpeg_batches=60, repeats=3, chunk=20),
    "full": dict(n=200_000, index_batches=1_000, jpeg_batches=400, repeats=5, chunk=25),
}
CEIL_NOMAP, CEIL_MAP = "ceiling, no map", "ceiling, with map"


def make_codes(n: int, seed: int = 0) -> np.ndarray:
    """Group codes of ``n`` examples in the 6/8/80/6 shares, shuffled with ``seed``."""
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


def build_methods(tf: Any, codes: np.ndarray, target_name: str, load: Any, load_batch: Any,
                  *, with_imblearn: bool, seed: int = 0) -> tuple[dict[str, Any], np.ndarray]:
    """name -> zero-argument function returning a dataset of (x, group) batches."""
    import fairtrain as ft

    groups = ft.Groups.from_codes(codes, NAMES)
    target = SHARES if target_name == "proportional" else np.full(4, 0.25)
    members = groups.members()
    if target_name == "proportional":
        sampler = ft.sampling.Proportional(groups, batch_size=BATCH, seed=seed)
    else:
        sampler = ft.sampling.Homogeneous(groups, batch_size=BATCH, seed=seed)
    methods = {
        **_ceilings(tf, codes.size, load, load_batch, seed),
        **_fairtrain_methods(sampler, load, load_batch),
        **_tf_methods(tf, codes.size, members, target, load, seed),
    }
    if with_imblearn:
        methods["imblearn"] = _imblearn_method(tf, codes, members, target_name, load, seed)
    return methods, target


def _ceilings(tf: Any, n: int, load: Any, load_batch: Any, seed: int) -> dict[str, Any]:
    """The two speed ceilings: shuffled, unbalanced batches, loaded batched or per example."""
    autotune = tf.data.AUTOTUNE
    idx = np.arange(n, dtype=np.int64)

    def ceiling_nomap():
        return (tf.data.Dataset.from_tensor_slices(idx).shuffle(n, seed=seed).repeat()
                .batch(BATCH).map(load_batch, num_parallel_calls=autotune)
                .prefetch(autotune))

    def ceiling_map():
        return (tf.data.Dataset.from_tensor_slices(idx).shuffle(n, seed=seed).repeat()
                .map(load, num_parallel_calls=autotune).batch(BATCH).prefetch(autotune))

    return {CEIL_NOMAP: ceiling_nomap, CEIL_MAP: ceiling_map}


def _fairtrain_methods(sampler: Any, load: Any, load_batch: Any) -> dict[str, Any]:
    """fairtrain's feed of ``sampler``: vectorized, per example, and "auto"."""

    def fairtrain_vectorized():
        return pipelines.make_tf_feed(sampler, load_batch, vectorized=True)

    def fairtrain_per_example():
        return pipelines.make_tf_feed(sampler, load)

    def fairtrain_auto():
        return pipelines.make_tf_feed(sampler, load, vectorized="auto")

    return {"fairtrain vectorized": fairtrain_vectorized,
            "fairtrain per-example": fairtrain_per_example,
            "fairtrain auto": fairtrain_auto}


def _tf_methods(tf: Any, n: int, members: list[np.ndarray], target: np.ndarray, load: Any,
                seed: int) -> dict[str, Any]:
    """tf.data's own ways: a fixed quota pattern, weighted sampling, rejection resampling."""
    autotune = tf.data.AUTOTUNE
    idx = np.arange(n, dtype=np.int64)

    def streams():
        return [tf.data.Dataset.from_tensor_slices(m).shuffle(m.size, seed=seed + g).repeat()
                for g, m in enumerate(members)]

    pattern_counts = np.round(target * BATCH).astype(int)
    pattern_counts[np.argmax(pattern_counts)] += BATCH - pattern_counts.sum()
    pattern = np.repeat(np.arange(4, dtype=np.int64), pattern_counts)

    def choose_from():
        choice = tf.data.Dataset.from_tensor_slices(pattern).repeat()
        ds = tf.data.Dataset.choose_from_datasets(streams(), choice)
        return ds.map(load, num_parallel_calls=autotune).batch(BATCH).prefetch(autotune)

    def sample_from():
        ds = tf.data.Dataset.sample_from_datasets(streams(), weights=target.tolist(),
                                                  seed=seed)
        return ds.map(load, num_parallel_calls=autotune).batch(BATCH).prefetch(autotune)

    def rejection():
        ds = (tf.data.Dataset.from_tensor_slices(idx).shuffle(n, seed=seed).repeat()
              .map(load, num_parallel_calls=autotune))
        ds = ds.rejection_resample(lambda x, g: tf.cast(g, tf.int32),
                                   target_dist=target.astype(np.float32),
                                   initial_dist=SHARES.astype(np.float32), seed=seed)
        return ds.map(lambda _, xy: xy).batch(BATCH).prefetch(autotune)

    return {"choose_from_datasets": choose_from, "sample_from_datasets": sample_from,
            "rejection_resample": rejection}


def _imblearn_method(tf: Any, codes: np.ndarray, members: list[np.ndarray], target_name: str,
                     load: Any, seed: int) -> Any:
    """imbalanced-learn's balanced_batch_generator, restarted each epoch with a new seed."""
    autotune = tf.data.AUTOTUNE
    idx = np.arange(codes.size, dtype=np.int64)

    def imblearn():
        from imblearn.tensorflow import balanced_batch_generator
        from imblearn.under_sampling import RandomUnderSampler

        strategy = "all" if target_name == "homogeneous" else {
            g: int(m.size) for g, m in enumerate(members)}
        x_idx = idx.reshape(-1, 1)

        def gen():
            rs = seed
            while True:
                g, steps = balanced_batch_generator(
                    x_idx, codes, batch_size=BATCH, random_state=rs,
                    sampler=RandomUnderSampler(sampling_strategy=strategy, random_state=rs))
                for _ in range(steps):
                    yield next(g)[0][:, 0]
                rs += 1

        ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec([None],
                                                                                 tf.int64))
        return (ds.unbatch().map(load, num_parallel_calls=autotune).batch(BATCH)
                .prefetch(autotune))

    return imblearn


def _measure(tf: Any, make: Any, n_batches: int, chunk: int) -> dict[str, Any]:
    """Examples/s and CPU s/example over ``n_batches`` after a one-chunk warm-up.

    Batches are consumed inside TensorFlow (each reduced to its group counts, ``chunk``
    at a time), so Python's per-batch cost is not measured.
    """
    counted = make().map(
        lambda x, g: tf.math.bincount(tf.cast(g, tf.int32), minlength=4, maxlength=4))
    it = iter(counted.batch(chunk))
    next(it)
    parts = []
    cpu0, start = cpu_seconds(), time.perf_counter()
    for _ in range(max(1, n_batches // chunk)):
        parts.append(next(it))
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
    counts = np.concatenate([p.numpy() for p in parts])
    examples = counts.sum()
    return {"speed": examples / elapsed, "cpu_us": 1e6 * cpu / examples, "counts": counts}


#: The note under the table: how to read each column.
_NOTE = (
    "× ceiling: per repetition, the method's speed over the ceiling's measured in the "
    "same round; the vectorised fairtrain mode is to be read against the no-map "
    "ceiling, the per-example one against the with-map ceiling; auto is the "
    "per-example load run batched (indices: it only gathers) or per example (jpeg: "
    "decode_jpeg cannot be batched with the same values), so read it against the "
    "no-map ceiling for indices and the with-map one for jpeg. CPU µs/example: "
    "process CPU time (all threads) over the examples. composition error: mean over "
    "batches of Σ_g |count_g − 64·share_g| / 2; outside floor/ceil: examples per "
    "batch beyond floor/ceil(64·share_g), 0 for an exact sampler.")


def run(mode: str, *, with_imblearn: bool | None = None) -> tuple[list[Table], dict]:
    """Time every method on both loads and both targets, interleaved; (tables, raw)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    # "auto" logs why it leaves the JPEG load per example at every build; said once here.
    logging.getLogger("fairtrain.data").setLevel(logging.ERROR)

    size = SIZES[mode]
    if with_imblearn is None:
        with_imblearn = _imblearn_by_default(mode)
    codes = make_codes(size["n"])
    load_index, load_jpeg, load_jpeg_batch = _loads(tf, codes)
    table = Table(
        title=(f"Pipelines: n={size['n']:,}, batch {BATCH}, shares 6/8/80/6; median "
               f"(min–max) of {size['repeats']} interleaved repetitions"),
        columns=["load", "target", "method", "examples/s", "× no-map ceiling",
                 "× with-map ceiling", "CPU µs/example", "CPU × with-map ceiling",
                 "composition error", "outside floor/ceil"],
        align="lllrrrrrrr",
    )
    raw: list[dict[str, Any]] = []
    for scenario, load, load_batch, n_batches in (
            ("indices", load_index, load_index, size["index_batches"]),
            ("jpeg", load_jpeg, load_jpeg_batch, size["jpeg_batches"])):
        for target_name in ("proportional", "homogeneous"):
            methods, target = build_methods(tf, codes, target_name, load, load_batch,
                                            with_imblearn=with_imblearn)

            def runner(name, make, n_batches=n_batches):
                # rejection_resample is 10-20x slower at the homogeneous target
                k = n_batches // 4 if name == "rejection_resample" else n_batches
                return lambda: _measure(tf, make, max(k, size["chunk"]), size["chunk"])

            res = interleaved({name: runner(name, make) for name, make in methods.items()},
                              size["repeats"])
            _add_rows(table, raw, scenario, target_name, res, target)
    table.note = _NOTE
    return [table], {"results": raw, "sizes": size, "with_imblearn": with_imblearn}


def _imblearn_by_default(mode: str) -> bool:
    """Whether to time imbalanced-learn: when installed, outside the tiny mode."""
    try:
        import imblearn  # noqa: F401
        return mode != "tiny"
    except ImportError:
        return False


def _loads(tf: Any, codes: np.ndarray) -> tuple[Any, Any, Any]:
    """The index load, and the JPEG load per example and per batch (256 fixed images)."""
    codes_t = tf.constant(codes)
    rng = np.random.default_rng(0)
    low = rng.integers(0, 255, size=(256, 12, 12, 3)).astype(np.uint8)
    images = tf.cast(tf.image.resize(low, (96, 96), method="bilinear"), tf.uint8)
    jpegs = tf.stack([tf.io.encode_jpeg(im, quality=90) for im in images])

    def load_index(i):
        return i, tf.gather(codes_t, i)

    def decode(i):
        img = tf.image.decode_jpeg(tf.gather(jpegs, i % 256), channels=3)
        return tf.image.resize(img, (64, 64))

    def load_jpeg(i):
        return decode(i), tf.gather(codes_t, i)

    def load_jpeg_batch(ib):
        imgs = tf.map_fn(decode, ib, fn_output_signature=tf.TensorSpec([64, 64, 3],
                                                                        tf.float32))
        return imgs, tf.gather(codes_t, ib)

    return load_index, load_jpeg, load_jpeg_batch


def _add_rows(table: Table, raw: list[dict[str, Any]], scenario: str, target_name: str,
              res: dict[str, list[dict[str, Any]]], target: np.ndarray) -> None:
    """One row per method (speeds over the same round's ceilings), to the table and raw."""
    nomap = [r["speed"] for r in res[CEIL_NOMAP]]
    withmap = [r["speed"] for r in res[CEIL_MAP]]
    cpu_map = [r["cpu_us"] for r in res[CEIL_MAP]]
    for name, reps in res.items():
        speeds = [r["speed"] for r in reps]
        cpus = [r["cpu_us"] for r in reps]
        counts = np.concatenate([r["counts"] for r in reps])
        err, outside = composition_error(counts, target)
        s = summary(speeds)
        r_nomap = summary([a / b for a, b in zip(speeds, nomap)])
        r_map = summary([a / b for a, b in zip(speeds, withmap)])
        c = summary(cpus)
        c_ratio = summary([a / b for a, b in zip(cpus, cpu_map)])
        table.rows.append([scenario, target_name, name, fmt_range(s, ",.0f"),
                           fmt_range(r_nomap), fmt_range(r_map), fmt_range(c, ".1f"),
                           fmt_range(c_ratio), f"{err:.2f}", f"{outside:.2f}"])
        raw.append({"load": scenario, "target": target_name, "method": name,
                    "examples_per_s": s, "x_nomap_ceiling": r_nomap,
                    "x_map_ceiling": r_map, "cpu_us_per_example": c,
                    "cpu_x_map_ceiling": c_ratio, "composition_error": err,
                    "outside_floor_ceil": outside})
        print(f"  {scenario:7s} {target_name:12s} {name:22s} "
              f"{s['median']:>10,.0f} ex/s  {r_nomap['median']:.2f}x no-map  "
              f"{r_map['median']:.2f}x map  outside {outside:.2f}", flush=True)
