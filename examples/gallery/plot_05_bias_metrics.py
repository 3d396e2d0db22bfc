"""
Reading a bias report: bias next to error
=========================================

Three made-up age regressors scored with the apparent-age challenge's bias score (the
mean absolute difference of per-group MAE over all pairs of age groups). Model C has
the lowest bias, and it is the worst model: it is equally bad for everyone. Read every
bias next to the overall error.
"""

import matplotlib.pyplot as plt
import numpy as np

import fairtrain as ft
from fairtrain.metrics.plots import plot_by_group

rng = np.random.default_rng(0)
n = 4000
age = rng.uniform(1, 90, n)
groups = ft.Groups.from_columns({"age": ft.bins(age, [0, 20, 40, 60, 100])})
noise = rng.normal(size=n)
predictions = {
    "A: accurate, some bias": age + noise * np.where(age > 60, 9.0, 5.0),
    "B: accurate, biased": age + noise * np.where(age > 60, 16.0, 3.0),
    "C: fair but useless": age + rng.choice([-16.0, 16.0], n) + noise,
}
reports = {name: ft.bias_report(age, y_pred, groups, metric="mae")
           for name, y_pred in predictions.items()}
for name, report in reports.items():
    print(name, f"MAE {report.overall:.2f}", f"age bias {report['age'].pairwise:.2f}")

fig, axes = plt.subplots(1, 4, figsize=(14, 3.8), gridspec_kw={"width_ratios": [1.3, 1, 1, 1]})
for name, report in reports.items():
    axes[0].scatter(report.overall, report["age"].pairwise, s=60)
    axes[0].annotate(name.split(":")[0], (report.overall, report["age"].pairwise),
                     xytext=(6, 4), textcoords="offset points")
axes[0].set_xlabel("overall MAE (lower is better)")
axes[0].set_ylabel("age bias (lower is better)")
axes[0].set_title("bias next to error")
axes[0].margins(x=0.15, y=0.1)
top = max(r["age"].values.max() for r in reports.values()) * 1.1
for ax, (name, report) in zip(axes[1:], reports.items()):
    plot_by_group(report, "age", ax=ax, title=name)
    ax.set_ylim(0, top)
fig.tight_layout()
plt.show()
