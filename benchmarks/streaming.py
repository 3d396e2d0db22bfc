"""Suite ``streaming``: a model's bias report over N examples, streamed or in memory.

A small dense classifier (16 inputs, 32 ReLU units, 3-way softmax, random weights) is
evaluated on N synthetic validation examples served by a ``keras.utils.PyDataset``
(batch ``i`` generated from ``numpy.random.default_rng([0, i])``: features, a label and
two attributes, 4 ethnicities in 6/8/80/6 shares × 2 genders), on the backend
``KERAS_BACKEND`` names. The metric is accuracy, per ethnicity, gender and their 8
cells, with the bias per attribute.

* **evaluate (streamed)**: ``fairtrain.metrics.evaluate(model, dataset, groups=spec,
  metrics="accuracy").result()``: each batch predicted (``predict_on_batch``), added
  to a ``GroupAccumulator`` and dropped.
* **predict + bias_report**: what a user does without streaming: ``model.predict`` of
  the whole set, then ``bias_report`` on the labels and a prebuilt ``Groups``.
* **predict + MetricFrame**: the baseline without fairtrain: ``model.predict``, then
  three fairlearn ``MetricFrame``s (ethnicity, gender, both) with scikit-learn's
  ``accuracy_score`` on the labels and the plain attribute codes (no fairtrain object
  built); only up to ``fairlearn_max`` rows (it takes over a minute per million rows on
  2 CPUs).

Times are medians over interleaved repetitions (labels, groups and model built outside
the timing). Memory is measured in a separate run of each method, from before it
materialises anything: ``tracemalloc``'s peak (every NumPy and Python allocation:
the predictions, labels, group codes and, for ``bias_report``, the ``Groups`` the
in-memory methods need) and,
on Linux, the growth of the peak resident set (``VmHWM``, reset through
``/proc/self/clear_refs``), which also sees the backend's own buffers. The values of
the three methods are checked to agree before any figure is kept.
"""

from __future__ import annotations

import os
import tracemalloc
from typing import Any

import numpy as np

from benchmarks._common import Table, fitted_exponent, fmt_range, interleaved, summary, timed

FEATURES, CLASSES = 16, 3
SHARES = [0.06, 0.08, 0.80, 0.06]
ETHNICITY = ["African", "Asian", "Latin/Caucasian", "Indian"]
GENDER = ["female", "male"]
SIZES = {
    "tiny": dict(rows=[3_000, 6_000], batch=512, repeats=1, fairlearn_max=6_000),
    "quick": dict(rows=[100_000, 1_000_000], batch=8192, repeats=3, fairlearn_max=1_000_000),
    "full": dict(rows=[100_000, 1_000_000, 10_000_000], batch=8192, repeats=3,
                 fairlearn_max=1_000_000),
}
#: Rows per method and row count: fewer repetitions for the largest sets.
ROW_BUDGET = 3_000_000
#: fairlearn takes over a minute per million rows: one repetition at a million.
FAIRLEARN_ROW_BUDGET = 1_000_000


def make_dataset(n: int, batch_size: int, parts: str) -> Any:
    """A PyDataset of ``n`` synthetic examples: ``(x,)`` or ``(x, y, attribute_codes)``."""
    import keras

    class Synthetic(keras.utils.PyDataset):
        def __len__(self) -> int:
            return -(-n // batch_size)

        def __getitem__(self, i: int) -> tuple:
            x, y, codes = batch_arrays(i, n, batch_size)
            return (x,) if parts == "x" else (x, y, codes)

    return Synthetic()


def batch_arrays(i: int, n: int, batch_size: int) -> tuple[np.ndarray, ...]:
    b = min(batch_size, n - i * batch_size)
    rng = np.random.default_rng([0, i])
    x = rng.standard_normal((b, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, b)
    codes = np.column_stack([rng.choice(4, b, p=SHARES), rng.integers(0, 2, b)])
    return x, y, codes.astype(np.int32)


def make_model() -> Any:
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((FEATURES,)),
                             keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(CLASSES, activation="softmax")])


def raw_inputs(n: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The labels and attribute codes (n, 2) of all ``n`` examples: what a user holds."""
    parts = [batch_arrays(i, n, batch_size)[1:] for i in range(-(-n // batch_size))]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def as_groups(codes: np.ndarray) -> Any:
    """fairtrain's Groups of the attribute codes, as ``bias_report`` takes them."""
    import fairtrain as ft

    return ft.Groups.from_columns({"ethnicity": codes[:, 0], "gender": codes[:, 1]},
                                  levels={"ethnicity": range(4), "gender": range(2)})


def values_of(report: Any) -> dict[str, float]:
    out = {"overall": report.overall}
    for attribute, bias in report.attributes.items():
        for name, value in zip(bias.groups, bias.values):
            out[f"{attribute}/{name}"] = float(value)
        out[f"{attribute}/pairwise_bias"] = bias.pairwise
    return out


def fairlearn_values(y: np.ndarray, y_pred: np.ndarray,
                     codes: np.ndarray) -> dict[str, float]:
    """The same values with fairlearn alone, from the plain attribute codes (no fairtrain)."""
    import itertools

    import pandas as pd
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import accuracy_score

    labels = y_pred.argmax(axis=1)
    eth, sex = codes[:, 0], codes[:, 1]
    out: dict[str, float] = {}
    for attribute, feature in (("ethnicity", eth), ("gender", sex),
                               ("intersection", pd.DataFrame({"e": eth, "g": sex}))):
        frame = MetricFrame(metrics=accuracy_score, y_true=y, y_pred=labels,
                            sensitive_features=feature)
        out["overall"] = float(frame.overall)
        for key, value in frame.by_group.items():
            name = (f"ethnicity={key[0]}|gender={key[1]}" if isinstance(key, tuple)
                    else str(key))
            out[f"{attribute}/{name}"] = float(value)
        pairs = [abs(a - b) for a, b in itertools.combinations(frame.by_group.values, 2)]
        out[f"{attribute}/pairwise_bias"] = sum(pairs) / len(pairs)
    return out


def _methods(n: int, size: dict, model: Any, spec: Any,
             inputs: tuple[np.ndarray, np.ndarray, Any] | None) -> dict[str, Any]:
    """Every method as a function returning its values (inputs: labels, attribute codes
    and their Groups, or None: build inside what each method needs, as the memory run
    must; the fairlearn baseline never builds fairtrain's Groups)."""
    from fairtrain.metrics import bias_report, evaluate

    batch = size["batch"]

    def streamed():
        acc = evaluate(model, make_dataset(n, batch, "all"), groups=spec, metrics="accuracy")
        return values_of(acc.result())

    def predicted() -> np.ndarray:
        return model.predict(make_dataset(n, batch, "x"), verbose=0)

    def in_memory():
        y, codes, groups = inputs if inputs is not None else (*raw_inputs(n, batch), None)
        groups = as_groups(codes) if groups is None else groups
        return values_of(bias_report(y, predicted(), groups, metric="accuracy"))

    def metricframe():
        y, codes = inputs[:2] if inputs is not None else raw_inputs(n, batch)
        return fairlearn_values(y, predicted(), codes)

    methods = {"evaluate (streamed)": streamed, "predict + bias_report": in_memory}
    if n <= size["fairlearn_max"]:
        methods["predict + MetricFrame"] = metricframe
    return methods


def _rss_reset() -> int | None:
    """Reset the peak resident set to the current one; the current RSS in bytes."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_bytes("VmRSS")
    except OSError:
        return None


def _status_bytes(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def measure_memory(fn: Any) -> tuple[int, int | None]:
    """tracemalloc's peak over ``fn()`` and the growth of the peak RSS (bytes)."""
    import gc

    gc.collect()
    rss0 = _rss_reset()
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    hwm = _status_bytes("VmHWM")
    return peak, None if rss0 is None or hwm is None else hwm - rss0


def _row(n: int, size: dict, model: Any, spec: Any) -> tuple[list[list[str]], list[dict]]:
    warm = min(n, 20_000)  # first calls pay imports, tracing and compilation
    for fn in _methods(warm, {**size, "fairlearn_max": warm}, model, spec, None).values():
        fn()
    y, codes = raw_inputs(n, size["batch"])
    inputs = (y, codes, as_groups(codes))
    methods = _methods(n, size, model, spec, inputs)
    values: dict[str, dict[str, float]] = {}

    repeats = max(1, min(size["repeats"], ROW_BUDGET // n))
    capped = {"predict + MetricFrame": max(1, min(repeats, FAIRLEARN_ROW_BUDGET // n))}

    def timing(name: str, fn: Any) -> Any:
        done: list[float] = []

        def run_once() -> float | None:
            if len(done) >= capped.get(name, repeats):
                return None
            seconds, values[name] = timed(fn)
            done.append(seconds)
            return seconds
        return run_once

    times = interleaved({k: timing(k, fn) for k, fn in methods.items()}, repeats)
    times = {k: [t for t in v if t is not None] for k, v in times.items()}
    reference = values["evaluate (streamed)"]
    diffs = {k: max(abs(v[key] - reference[key]) for key in reference)
             for k, v in values.items()}
    if max(diffs.values()) > 1e-9:
        raise RuntimeError(f"values disagree at {n} rows: {diffs}")
    del inputs, methods, y, codes
    memory = {k: measure_memory(fn) for k, fn in
              _methods(n, size, model, spec, None).items()}
    base = times["evaluate (streamed)"]
    rows, raw = [], []
    for name, t in times.items():
        s = summary(t)
        ratio = summary([a / b for a, b in zip(t, base)])
        peak, rss = memory[name]
        rows.append([f"{n:,}", name, fmt_range(s, ".2f"), fmt_range(ratio), f"{peak:,}",
                     f"{peak / n:.1f}", "n/a" if rss is None else f"{rss / 2**20:,.0f}"])
        raw.append({"rows": n, "method": name, "seconds": s, "x_streamed": ratio,
                    "peak_traced_bytes": peak, "peak_rss_growth_bytes": rss,
                    "max_abs_diff": diffs[name], "repeats": len(t)})
        print(f"  streaming {n:>11,} {name:22s} {s['median']:.2f} s "
              f"{ratio['median']:.2f}x streamed, peak {peak:,} B", flush=True)
    return rows, raw


def run(mode: str) -> tuple[list[Table], dict]:
    from fairtrain.metrics import GroupSpec

    size = SIZES[mode]
    model = make_model()
    spec = GroupSpec.from_levels({"ethnicity": range(4), "gender": range(2)})
    table = Table(
        title=("Bias report of a small classifier over N validation examples: streamed "
               "vs in memory (accuracy; overall, 4 + 2 + 8 groups, bias per attribute)"),
        columns=["rows", "method", "seconds", "× streamed", "peak traced bytes",
                 "traced bytes / row", "peak RSS growth (MiB)"],
        align="llrrrrr",
    )
    raw: list[dict] = []
    for n in size["rows"]:
        rows, r = _row(n, size, model, spec)
        table.rows += rows
        raw += r
    streamed = [r for r in raw if r["method"] == "evaluate (streamed)"]
    slope = fitted_exponent([r["rows"] for r in streamed],
                            [r["peak_traced_bytes"] for r in streamed])
    table.note = (
        f"Batch {size['batch']}; median (min–max) of up to {size['repeats']} interleaved "
        f"repetitions ({ROW_BUDGET:,} rows per method at most). × streamed: per "
        "repetition, the time over the streamed evaluation's in the same round. Peak "
        "traced bytes: tracemalloc's peak from before the method materialises its inputs "
        "(labels, group codes, predictions, and Groups for bias_report) to its report, in "
        "a separate run. "
        f"Streamed peak ~ N^{slope:.2f} (fitted exponent; 0 is flat). MetricFrame only up "
        f"to {size['fairlearn_max']:,} rows, {FAIRLEARN_ROW_BUDGET:,} rows of repetitions "
        "(interleaved with the first rounds). Backend "
        f"{os.environ.get('KERAS_BACKEND', 'tensorflow')}."
    )
    return [table], {"results": raw, "streamed_peak_exponent": slope, "sizes": size}
