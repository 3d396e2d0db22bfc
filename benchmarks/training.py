"""Suite ``training``: ``model.fit`` throughput, unsampled feed vs fairtrain's sampler.

Real Keras applications with random weights (``weights=None``), trained on synthetic
JPEGs decoded in the input pipeline (a pool of distinct smooth-noise JPEGs; example
``i`` decodes image ``i % pool``), 10 classes, batch 64 (smaller in ``--tiny``), on the
backend ``KERAS_BACKEND`` names. Two feeds per adapter:

* (a) unsampled: every example once per epoch in a fresh random order;
* (b) fairtrain: ``Homogeneous`` batches (16 of each of 4 groups in 6/8/80/6 shares).

Adapters: ``PyDataset`` (any backend; (a) is a plain ``keras.utils.PyDataset``, (b)
``fairtrain.data.SampledPyDataset``; decoding with Pillow, no TensorFlow) and, on the
TensorFlow backend only, ``tf.data`` ((a) ``from_tensor_slices(idx).shuffle(n).repeat()
.map(load).batch``, (b) ``fairtrain.data.to_tf_dataset``). Each measurement is one
``fit`` epoch of ``steps`` batches after a compiled warm-up; examples/s counts the
batches after the first of the epoch. Target: (b) at least 0.97 × (a).
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import Any

import numpy as np

from benchmarks import pipelines
from benchmarks._common import Table, fmt_range, interleaved, summary

SHARES = np.array([0.06, 0.08, 0.80, 0.06])
CLASSES = 10
SIZES = {
    # (application, image side) pairs, batch, steps per measurement, examples, repeats
    "tiny": dict(models=[("MobileNetV2", 32)], batch=8, steps=3, n=512, repeats=1,
                 pool=16, workers=2),
    "quick": dict(models=[("MobileNetV2", 64)], batch=32, steps=6, n=4_096, repeats=3,
                  pool=64, workers=2),
    "full": dict(models=[("MobileNetV2", 128), ("ResNet50", 224)], batch=64, steps=50,
                 n=65_536, repeats=3, pool=256, workers=4),
}


def _jpegs(pool: int, side: int, seed: int = 0) -> list[bytes]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(pool):
        low = rng.integers(0, 255, size=(max(2, side // 8), max(2, side // 8), 3),
                           dtype=np.uint8)
        img = Image.fromarray(low).resize((side, side), Image.BILINEAR)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


class _Decoder:
    """``load_batch(indices) -> (images float32 in [0, 1], labels)`` with Pillow."""

    def __init__(self, jpegs: list[bytes], labels: np.ndarray, side: int) -> None:
        self.jpegs, self.labels, self.side = jpegs, labels, side

    def __call__(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from PIL import Image

        out = np.empty((idx.size, self.side, self.side, 3), dtype=np.float32)
        for j, i in enumerate(idx):
            with Image.open(io.BytesIO(self.jpegs[int(i) % len(self.jpegs)])) as im:
                out[j] = np.asarray(im.convert("RGB"), dtype=np.float32)
        out *= 1.0 / 255.0
        return out, self.labels[idx]


def _plain_pydataset(n: int, batch: int, load_batch: Any, workers: int, seed: int) -> Any:
    import keras

    class Plain(keras.utils.PyDataset):
        """Every example once per epoch, in a fresh random order each epoch."""

        def __init__(self):
            super().__init__(workers=workers)
            self.epoch = 0
            self.order = np.random.default_rng([seed, 0]).permutation(n)

        def __len__(self):
            return n // batch

        def __getitem__(self, t):
            return load_batch(self.order[t * batch:(t + 1) * batch])

        def on_epoch_end(self):
            self.epoch += 1
            self.order = np.random.default_rng([seed, self.epoch]).permutation(n)

    return Plain()


class _Clock:
    """A Keras callback recording the time at the end of every training batch."""

    def __new__(cls):
        import keras

        class Clock(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.times = []

            def on_train_batch_end(self, batch, logs=None):
                self.times.append(time.perf_counter())

        return Clock()


def _one_model(app: str, side: int, size: dict[str, Any], groups: Any, labels: np.ndarray,
               backend: str, table: Table, raw: list[dict[str, Any]]) -> None:
    import keras

    import fairtrain as ft

    n, batch, steps = size["n"], size["batch"], size["steps"]
    jpegs = _jpegs(size["pool"], side)
    decode = _Decoder(jpegs, labels, side)
    if backend == "tensorflow":  # (set_random_seed imports TensorFlow when installed)
        keras.utils.set_random_seed(0)
    model = getattr(keras.applications, app)(weights=None, input_shape=(side, side, 3),
                                             classes=CLASSES)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    sampler = ft.sampling.Homogeneous(groups, batch_size=batch, seed=0)
    epoch = {"e": 0}
    feeds: dict[str, dict[str, Any]] = {"PyDataset": {
        "unsampled": lambda: _plain_pydataset(n, batch, decode, size["workers"],
                                              epoch["e"]),
        "fairtrain": lambda: pipelines.make_py_feed(sampler, decode,
                                                    steps_per_epoch=steps,
                                                    workers=size["workers"]),
    }}
    if backend == "tensorflow":
        import tensorflow as tf

        jp = tf.constant(jpegs)
        lab = tf.constant(labels)

        def load(i):
            img = tf.io.decode_jpeg(tf.gather(jp, i % len(jpegs)), channels=3)
            img = tf.cast(img, tf.float32) / 255.0
            img.set_shape((side, side, 3))
            return img, tf.gather(lab, i)

        def plain_tf():
            return (tf.data.Dataset.range(n).shuffle(n, seed=epoch["e"]).repeat()
                    .map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch)
                    .prefetch(tf.data.AUTOTUNE))

        feeds["tf.data"] = {"unsampled": plain_tf,
                            "fairtrain": lambda: pipelines.make_tf_feed(
                                sampler, load, steps_per_epoch=steps)}

    def fit_once(make):
        feed = make()
        clock = _Clock()
        model.fit(feed, initial_epoch=epoch["e"], epochs=epoch["e"] + 1, steps_per_epoch=steps,
                  verbose=0, shuffle=False,
                  callbacks=[clock, *pipelines.fit_callbacks(feed, sampler)])
        epoch["e"] += 1
        t = clock.times
        return (len(t) - 1) * batch / (t[-1] - t[0])

    fit_once(feeds["PyDataset"]["unsampled"])  # compile and warm up
    methods = {f"{a}|{f}": (lambda m=m: fit_once(m))
               for a, fs in feeds.items() for f, m in fs.items()}
    res = interleaved(methods, size["repeats"])
    for adapter in feeds:
        base = res[f"{adapter}|unsampled"]
        for feed_name in ("unsampled", "fairtrain"):
            v = res[f"{adapter}|{feed_name}"]
            s = summary(v)
            r = summary([a / b for a, b in zip(v, base)])
            table.rows.append([app, f"{side}×{side}", adapter, feed_name,
                               fmt_range(s, ",.1f"), fmt_range(r)])
            raw.append({"model": app, "side": side, "adapter": adapter,
                        "feed": feed_name, "examples_per_s": s, "x_unsampled": r})
            print(f"  {app} {side} {adapter:9s} {feed_name:9s} "
                  f"{s['median']:,.1f} ex/s {r['median']:.2f}x", flush=True)
    keras.backend.clear_session()


def run(mode: str) -> tuple[list[Table], dict]:
    import keras

    import fairtrain as ft

    size = SIZES[mode]
    backend = keras.backend.backend()
    n, batch, steps = size["n"], size["batch"], size["steps"]
    counts = np.floor(SHARES * n).astype(int)
    counts[2] += n - counts.sum()
    codes = np.repeat(np.arange(4), counts)
    np.random.default_rng(0).shuffle(codes)
    groups = ft.Groups.from_codes(codes, ["African", "Asian", "Latin/Caucasian", "Indian"])
    labels = np.random.default_rng(1).integers(0, CLASSES, n).astype(np.int32)
    table = Table(
        title=(f"model.fit throughput, backend {backend}, batch {batch}, {steps} steps per "
               f"measurement; median (min–max) of {size['repeats']} interleaved "
               "repetitions"),
        columns=["model", "image", "adapter", "feed", "examples/s", "× unsampled"],
        align="lrllrr",
        note=("× unsampled: per repetition, over the unsampled feed of the same adapter in "
              "the same round (target ≥ 0.97). Images are JPEGs decoded in the feed; "
              "weights are random."),
    )
    raw: list[dict[str, Any]] = []
    for app, side in size["models"]:
        _one_model(app, side, size, groups, labels, backend, table, raw)
    return [table], {"results": raw, "backend": backend, "sizes": size,
                     "tensorflow_imported": "tensorflow" in sys.modules,
                     "env_keras_backend": os.environ.get("KERAS_BACKEND")}
