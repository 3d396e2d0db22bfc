"""Suite ``metrics``: bias_report against fairlearn, and building Groups against pandas.

Regression predictions with two attributes (4 ethnicities in 6/8/80/6 shares × 2
genders, string columns). fairtrain's ``bias_report`` gives the overall MAE, the
per-group MAE of each attribute and of the 8 intersectional cells, and the bias per
attribute in one call; fairlearn needs three ``MetricFrame``s (ethnicity, gender, both)
with scikit-learn's ``mean_absolute_error``, the bias worked out from ``by_group``. The
values are checked to agree (relative difference at most 1e-9) before any time is
kept.

The second table times ``Groups.from_columns`` on the two columns against pandas doing
the same job (one code per intersectional cell): ``pandas.factorize`` of each column
then of the combined codes, and ``DataFrame.groupby([...]).ngroup()``; with NumPy
string arrays as input, then with the columns a DataFrame (e.g. from a CSV) holds:
pandas' default string dtype (``str``, pyarrow-backed, from pandas 3; ``object``
before), ``object`` (pandas < 3, or ``dtype=object``), and ``category``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from benchmarks._common import Table, fmt_range, interleaved, summary, timed

ETHNICITY = np.array(["African", "Asian", "Latin/Caucasian", "Indian"])
GENDER = np.array(["female", "male"])
SIZES = {
    "tiny": dict(report_rows=[20_000], groups_rows=[20_000], repeats=1),
    "quick": dict(report_rows=[100_000, 1_000_000], groups_rows=[1_000_000, 10_000_000],
                  repeats=3),
    "full": dict(report_rows=[100_000, 1_000_000, 10_000_000],
                 groups_rows=[1_000_000, 10_000_000], repeats=3),
}
#: fairlearn takes ~15 s per million rows: fewer repetitions above a million.
FAIRLEARN_ROW_BUDGET = 3_000_000


def make_data(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    eth = ETHNICITY[rng.choice(4, size=n, p=[0.06, 0.08, 0.80, 0.06])]
    sex = GENDER[rng.integers(0, 2, n)]
    y_true = rng.uniform(1, 90, n)
    y_pred = y_true + rng.normal(0, 6, n) * np.where(eth == "Indian", 1.4, 1.0)
    return {"y_true": y_true, "y_pred": y_pred, "ethnicity": eth, "gender": sex}


def fairtrain_values(data: dict[str, np.ndarray], groups: Any) -> dict[str, float]:
    import fairtrain as ft

    report = ft.bias_report(data["y_true"], data["y_pred"], groups, metric="mae")
    out = {"overall": report.overall}
    for attribute, bias in report.attributes.items():
        for name, value in zip(bias.groups, bias.values):
            out[f"{attribute}/{name}"] = float(value)
        out[f"{attribute}/pairwise_bias"] = bias.pairwise
        out[f"{attribute}/max_gap"] = bias.gap
    return out


def fairlearn_values(data: dict[str, np.ndarray]) -> dict[str, float]:
    import pandas as pd
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import mean_absolute_error

    def bias(values):
        pairs = [abs(a - b) for a, b in itertools.combinations(values, 2)]
        return sum(pairs) / len(pairs), max(values) - min(values)

    out: dict[str, float] = {}
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


def max_relative_difference(ours: dict[str, float], theirs: dict[str, float]) -> float:
    if set(ours) != set(theirs):
        raise RuntimeError(f"different keys: {sorted(set(ours) ^ set(theirs))}")
    scale = abs(theirs["overall"])  # a bias is a difference of near-equal numbers
    return max(abs(ours[k] - theirs[k]) / max(abs(theirs[k]), scale) for k in ours)


def _report_row(n: int, repeats: int) -> tuple[list[str], dict[str, Any]]:
    import fairtrain as ft

    data = make_data(n)
    columns = {"ethnicity": data["ethnicity"], "gender": data["gender"]}
    groups = ft.Groups.from_columns(columns)
    diffs: list[float] = []
    fl_reps = max(1, min(repeats, FAIRLEARN_ROW_BUDGET // n))

    def ours():
        return timed(lambda: fairtrain_values(data, groups))[0]

    def ours_with_groups():
        return timed(lambda: fairtrain_values(data, ft.Groups.from_columns(columns)))[0]

    def theirs():
        t, values = timed(lambda: fairlearn_values(data))
        diffs.append(max_relative_difference(fairtrain_values(data, groups), values))
        return t

    fairtrain_values(data, groups)  # warm-up: first calls load modules
    fairlearn_values({k: v[:1000] for k, v in data.items()})  # fairlearn's, sklearn's too

    def theirs_capped():  # fairlearn in the first fl_reps rounds only (it is slow)
        return theirs() if len(diffs) < fl_reps else None

    res = interleaved({"fairtrain": ours, "fairtrain + Groups": ours_with_groups,
                       "fairlearn": theirs_capped}, repeats)
    res["fairlearn"] = [t for t in res["fairlearn"] if t is not None]
    if max(diffs) > 1e-9:
        raise RuntimeError(f"values disagree at {n} rows: max relative difference "
                           f"{max(diffs):.3g}")
    s = {k: summary(v) for k, v in res.items()}
    fl = s["fairlearn"]["median"]
    speedup = summary([fl / t for t in res["fairtrain"]])
    speedup_g = summary([fl / t for t in res["fairtrain + Groups"]])
    row = [f"{n:,}", fmt_range(s["fairtrain"], ".3f"), fmt_range(s["fairtrain + Groups"], ".3f"),
           fmt_range(s["fairlearn"], ".2f") + f" ×{fl_reps}", fmt_range(speedup, ".0f"),
           fmt_range(speedup_g, ".0f"), f"{max(diffs):.1e}"]
    return row, {"rows": n, "seconds": s, "speedup": speedup,
                 "speedup_incl_groups": speedup_g, "max_rel_diff": max(diffs)}


def _groups_rows(n: int, repeats: int) -> tuple[list[list[str]], list[dict[str, Any]]]:
    import pandas as pd

    import fairtrain as ft

    data = make_data(n)
    eth, sex = data["ethnicity"], data["gender"]
    frame = pd.DataFrame({"ethnicity": eth, "gender": sex})  # pandas' default dtype
    inputs = {"NumPy str arrays": {"ethnicity": eth, "gender": sex},
              f"pandas {_dtype_name(frame['ethnicity'].dtype)} columns": frame,
              "pandas object columns": frame.astype(object),
              "pandas category columns": frame.astype("category")}
    out_rows, raw = [], []
    for kind, cols in inputs.items():
        a, b = cols["ethnicity"], cols["gender"]

        def groups(cols=cols):
            return timed(lambda: ft.Groups.from_columns(cols))[0]

        def factorize(a=a, b=b):
            def job():
                ca, ua = pd.factorize(a)
                cb, ub = pd.factorize(b)
                return pd.factorize(ca.astype(np.int64) * len(ub) + cb)
            return timed(job)[0]

        def ngroup(a=a, b=b, cols=cols):
            if isinstance(cols, dict):  # the DataFrame is pandas' way in: count it
                return timed(lambda: pd.DataFrame({"e": a, "s": b}).groupby(
                    ["e", "s"], observed=True).ngroup())[0]
            return timed(lambda: cols.groupby(["ethnicity", "gender"],
                                              observed=True).ngroup())[0]

        check_same_cells(ft.Groups.from_columns(cols), a, b, kind)
        res = interleaved({"Groups.from_columns": groups, "pandas.factorize": factorize,
                           "groupby().ngroup()": ngroup}, repeats)
        base = res["pandas.factorize"]
        for name, times in res.items():
            s = summary(times)
            r = summary([t / u for t, u in zip(times, base)])
            out_rows.append([f"{n:,}", kind, name, fmt_range(s, ".3f"), fmt_range(r)])
            raw.append({"rows": n, "input": kind, "method": name, "seconds": s,
                        "x_pandas_factorize": r})
            print(f"  groups {n:>11,} {kind:22s} {name:20s} {s['median']:.3f} s "
                  f"{r['median']:.2f}x pandas.factorize", flush=True)
    return out_rows, raw


def check_same_cells(groups: Any, a: Any, b: Any, kind: str) -> None:
    """Refuse to time a ``Groups`` whose cells are not pandas' (the same partition)."""
    import pandas as pd

    ca, ua = pd.factorize(a)
    cb, ub = pd.factorize(b)
    theirs = ca.astype(np.int64) * len(ub) + cb
    pairs = groups.codes.astype(np.int64) * (len(ua) * len(ub)) + theirs
    n_pairs = np.count_nonzero(np.bincount(pairs))
    n_theirs = np.count_nonzero(np.bincount(theirs))
    if not n_pairs == n_theirs == groups.n_groups:
        raise RuntimeError(f"{kind}: Groups has {groups.n_groups} cells, pandas "
                           f"{n_theirs}, {n_pairs} pairs of them: not the same cells")


def _dtype_name(dtype: Any) -> str:
    """``str (pyarrow)`` for pandas' string dtypes, else the dtype's name."""
    storage = getattr(dtype, "storage", None)
    return f"{dtype} ({storage})" if storage else str(dtype)


def run(mode: str) -> tuple[list[Table], dict]:
    size = SIZES[mode]
    report = Table(
        title=("bias_report vs fairlearn MetricFrame (MAE; overall, 4 + 2 + 8 groups, bias "
               f"per attribute); median (min–max) of {size['repeats']} repetitions"),
        columns=["rows", "fairtrain (s)", "+ Groups (s)", "fairlearn (s) × reps",
                 "speed-up", "speed-up incl. Groups", "max rel. diff"],
        note=("fairtrain: bias_report on a prebuilt Groups; '+ Groups' builds it from the "
              "two string columns inside the timing. fairlearn: three MetricFrames "
              "(ethnicity, gender, both) with sklearn's mean_absolute_error. speed-up: "
              "fairlearn's median over each fairtrain repetition. max rel. diff: largest "
              "difference of any value, relative to the larger of it and the overall MAE."),
    )
    raw_report = []
    for n in size["report_rows"]:
        row, raw = _report_row(n, size["repeats"])
        report.rows.append(row)
        raw_report.append(raw)
        print(f"  bias_report {n:>11,}: {row}", flush=True)
    build = Table(
        title=("Building the groups (8 cells from 2 string columns) vs pandas; median "
               f"(min–max) of {size['repeats']} interleaved repetitions"),
        columns=["rows", "input", "method", "seconds", "× pandas.factorize"],
        align="llrrr",
        note=("pandas.factorize: each column, then the combined codes (one code per "
              "cell, as Groups; pandas' codes are in first-seen order, Groups' sorted). "
              "groupby().ngroup(): from NumPy arrays it includes building the DataFrame. "
              "× pandas.factorize: per repetition, the time over pandas.factorize's in "
              "the same round (below 1 is faster)."),
    )
    raw_groups = []
    for n in size["groups_rows"]:
        rows, raw = _groups_rows(n, size["repeats"])
        build.rows += rows
        raw_groups += raw
    return [report, build], {"bias_report": raw_report, "groups": raw_groups, "sizes": size}
