"""Benchmark: fairtrain's bias_report against fairlearn's MetricFrame, same numbers.

Two attributes (ethnicity with 4 groups, gender with 2: 8 intersectional cells), MAE.
fairlearn needs one MetricFrame per attribute plus one for the intersection, and the
bias scores computed from their ``by_group``; fairtrain's ``bias_report`` gives all of
it in one call. The values are checked to agree (relative difference <= 1e-9) before any
timing is printed (differences are relative to the larger of the value and the overall
MAE, since a bias is a difference of nearly equal numbers).

    python benchmarks/bench_bias_report.py                 # 1,000,000 and 10,000,000 rows
    python benchmarks/bench_bias_report.py --rows 200000   # a quick run
"""

from __future__ import annotations

import argparse
import functools
import itertools
import time

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from sklearn.metrics import mean_absolute_error

import fairtrain as ft

ETHNICITY = np.array(["African", "Asian", "Latin/Caucasian", "Indian"])
GENDER = np.array(["female", "male"])


def make_data(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    eth = ETHNICITY[rng.choice(4, size=n, p=[0.06, 0.08, 0.80, 0.06])]
    sex = GENDER[rng.integers(0, 2, n)]
    y_true = rng.uniform(1, 90, n)
    y_pred = y_true + rng.normal(0, 6, n) * np.where(eth == "Indian", 1.4, 1.0)
    return {"y_true": y_true, "y_pred": y_pred, "ethnicity": eth, "gender": sex}


def best_of(repeat: int, func):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def fairtrain_values(data, groups=None):
    if groups is None:
        groups = ft.Groups.from_columns({"ethnicity": data["ethnicity"],
                                         "gender": data["gender"]})
    report = ft.bias_report(data["y_true"], data["y_pred"], groups, metric="mae")
    out = {"overall": report.overall}
    for attribute, bias in report.attributes.items():
        for name, value in zip(bias.groups, bias.values):
            out[f"{attribute}/{name}"] = float(value)
        out[f"{attribute}/pairwise_bias"] = bias.pairwise
        out[f"{attribute}/max_gap"] = bias.gap
    return out


def fairlearn_values(data):
    def bias(values):
        pairs = [abs(a - b) for a, b in itertools.combinations(values, 2)]
        return sum(pairs) / len(pairs), max(values) - min(values)

    out = {}
    features = {
        "ethnicity": data["ethnicity"],
        "gender": data["gender"],
        "intersection": pd.DataFrame({"ethnicity": data["ethnicity"],
                                      "gender": data["gender"]}),
    }
    for attribute, feature in features.items():
        frame = MetricFrame(metrics=mean_absolute_error, y_true=data["y_true"],
                            y_pred=data["y_pred"], sensitive_features=feature)
        out["overall"] = float(frame.overall)
        for key, value in frame.by_group.items():
            name = key if isinstance(key, str) else f"ethnicity={key[0]}|gender={key[1]}"
            out[f"{attribute}/{name}"] = float(value)
        out[f"{attribute}/pairwise_bias"], out[f"{attribute}/max_gap"] = bias(
            list(frame.by_group.values))
    return out


def compare(ours, theirs):
    if set(ours) != set(theirs):
        raise SystemExit(f"different keys: {sorted(set(ours) ^ set(theirs))}")
    # relative to the metric's scale: a bias is a difference of near-equal numbers
    scale = abs(theirs["overall"])
    return max(abs(ours[k] - theirs[k]) / max(abs(theirs[k]), scale) for k in ours)


def run(n, repeat, repeat_fairlearn):
    data = make_data(n)
    columns = {"ethnicity": data["ethnicity"], "gender": data["gender"]}
    t_groups, groups = best_of(repeat, functools.partial(ft.Groups.from_columns, columns))
    t_ours, ours = best_of(repeat, functools.partial(fairtrain_values, data, groups))
    t_theirs, theirs = best_of(repeat_fairlearn, functools.partial(fairlearn_values, data))
    diff = compare(ours, theirs)
    if diff > 1e-9:
        raise SystemExit(f"values disagree at {n} rows: max relative difference {diff:.3g}")
    return (f"{n:,}", f"{t_ours:.3f}", f"{t_ours + t_groups:.3f}", f"{t_theirs:.3f}",
            f"{t_theirs / t_ours:.1f}x", f"{t_theirs / (t_ours + t_groups):.1f}x", f"{diff:.1e}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="best of N (fairtrain)")
    parser.add_argument("--repeat-fairlearn", type=int, default=1, help="best of N (fairlearn)")
    args = parser.parse_args(argv)

    header = ("rows", "fairtrain (s)", "+ Groups (s)", "fairlearn (s)", "speed-up",
              "speed-up incl. Groups", "max rel. diff")
    rows = [run(n, args.repeat, args.repeat_fairlearn) for n in args.rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |")
    print("\nfairtrain: bias_report (overall, 4 + 2 + 8 groups, bias per attribute) on a "
          "prebuilt Groups;\n'+ Groups' adds Groups.from_columns on the two string columns. "
          "fairlearn: 3 MetricFrames\n(ethnicity, gender, both) with sklearn's "
          "mean_absolute_error, bias from by_group.")


if __name__ == "__main__":
    main()
