"""
Choose on validation, never on test
===================================

Forty candidate age regressors of about equal quality (ridge regressions on random
subsets of noisy features). Picking the one with the lowest **test** MAE and reporting
that MAE is optimistic: on fresh data the chosen model does worse than reported.
Picking on **validation** and scoring on test once gives an honest number. The right
panel repeats the whole selection 300 times with new validation and test sets.
"""

import matplotlib.pyplot as plt
import numpy as np

import fairtrain as ft

rng = np.random.default_rng(0)
mae = ft.registry.get("metrics", "mae")


def make(n):
    age = rng.uniform(1, 90, n)
    return 0.5 * age[:, None] + rng.normal(0, 25, (n, 30)), age


(x_tr, y_tr), (x_new, y_new) = make(600), make(20000)
models = []
for _ in range(40):
    cols = rng.choice(30, size=8, replace=False)
    design = np.c_[np.ones(len(x_tr)), x_tr[:, cols]]
    coef = np.linalg.solve(design.T @ design + 10 * np.eye(9), design.T @ y_tr)
    models.append((cols, coef))


def scores(x, y):
    return np.array([mae(y, coef[0] + x[:, cols] @ coef[1:]) for cols, coef in models])


fresh = scores(x_new, y_new)  # what every model really does on new data
optimism = {"chosen on validation": [], "chosen on test": []}
for repeat in range(300):
    val, test = scores(*make(150)), scores(*make(150))
    on_val, on_test = val.argmin(), test.argmin()
    optimism["chosen on validation"].append(test[on_val] - fresh[on_val])
    optimism["chosen on test"].append(test[on_test] - fresh[on_test])
    if repeat == 0:
        first = (val, test, on_val, on_test)
for label, gaps in optimism.items():
    print(f"{label}: reported minus real MAE, mean {np.mean(gaps):+.2f}")

val, test, on_val, on_test = first
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.scatter(val, test, c="0.6")
left.scatter(val[on_val], test[on_val], c="tab:green", s=80, label="lowest validation MAE")
left.scatter(val[on_test], test[on_test], c="tab:red", s=80, label="lowest test MAE")
left.set_xlabel("validation MAE")
left.set_ylabel("test MAE")
left.legend()
left.set_title("40 candidates, one draw of the validation and test sets")
bins = np.linspace(-2.5, 2.0, 31)
for (label, gaps), color in zip(optimism.items(), ["tab:green", "tab:red"]):
    right.hist(gaps, bins=bins, alpha=0.6, color=color,
               label=f"{label} (mean {np.mean(gaps):+.2f})")
right.axvline(0, color="k", lw=0.8)
right.set_xlabel("reported test MAE minus MAE on fresh data")
right.set_ylabel("selections out of 300")
right.legend()
right.set_title("below 0: the report flatters the model")
fig.tight_layout()
plt.show()
