"""
Intersectional cells and the tiny-cell policy
=============================================

Three attributes (ethnicity, gender, age band) give one cell per observed combination.
Cells get small fast; ``min_count`` with ``policy="merge"`` folds the age band of a tiny
cell into ``"other"`` and reports every merge.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

import fairtrain as ft

rng = np.random.default_rng(0)
n = 3000
eth = rng.choice(["African", "Asian", "Latin/Caucasian", "Indian"], n, p=[0.06, 0.08, 0.8, 0.06])
sex = rng.choice(["female", "male"], n)
age = rng.gamma(4.0, 9.0, n).clip(0, 99)
columns = {"ethnicity": eth, "gender": sex, "age": ft.bins(age, [0, 20, 40, 60, 100])}
levels = {"ethnicity": ["African", "Asian", "Latin/Caucasian", "Indian"]}

raw = ft.Groups.from_columns(columns, levels=levels)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    merged = ft.Groups.from_columns(columns, levels=levels, min_count=25, policy="merge")

print(f"{len(raw.names)} cells before, {len(merged.names)} after merging cells under 25")
for action in merged.report:
    print(action)


def short(name):
    """'ethnicity=Latin/Caucasian|gender=female|age=20-40' -> 'Latin f 20-40'."""
    eth, sex, age = (part.split("=")[1] for part in name.split("|"))
    return f"{eth[:5]} {sex[0]} {age}"


fig, axes = plt.subplots(1, 2, figsize=(11, 6), sharex=True)
for ax, g, title in [(axes[0], raw, "every cell"), (axes[1], merged, "min_count=25, merge")]:
    order = np.argsort(g.counts)
    colors = ["tab:red" if c < 25 else "tab:blue" for c in g.counts[order]]
    ax.barh(np.arange(len(order)), g.counts[order], color=colors)
    ax.set_yticks(np.arange(len(order)), [short(g.names[i]) for i in order], fontsize=6)
    ax.axvline(25, color="k", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("examples in the cell")
    ax.set_title(f"{title}: {len(g.names)} cells")
fig.suptitle("ethnicity x gender x age band (red: under min_count)")
fig.tight_layout()
plt.show()
