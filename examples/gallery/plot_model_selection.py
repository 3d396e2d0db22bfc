"""
Choose on validation, never on test
===================================

Forty candidate age regressors of about equal quality (ridge regressions on random
subsets of noisy features). Picking the one with the lowest **test** MAE and reporting
that MAE is optimistic: on fresh data the same model does worse. Picking on
**validation** and scoring on test once gives an honest number.
"""

import matplotlib.pyplot as plt
import numpy as np

import fairtrain as ft

rng = np.random.default_rng(0)


def make(n):
    age = rng.uniform(1, 90, n)
    features = age[:, None] * rng.uniform(0.2, 1.0, 30) + rng.normal(0, 25, (n, 30))
    return features, age


(x_tr, y_tr), (x_val, y_val), (x_te, y_te), (x_new, y_new) = (make(n) for n in
                                                             (600, 200, 200, 20000))
mae = ft.registry.get("metrics", "mae")
scores = []
for _ in range(40):
    cols = rng.choice(30, size=8, replace=False)

    def design(x, cols=cols):
        return np.c_[np.ones(len(x)), x[:, cols]]

    coef = np.linalg.solve(design(x_tr).T @ design(x_tr) + 10 * np.eye(9), design(x_tr).T @ y_tr)
    scores.append([mae(y, design(x) @ coef) for x, y in
                   ((x_val, y_val), (x_te, y_te), (x_new, y_new))])
scores = np.array(scores)
on_val, on_test = scores[:, 0].argmin(), scores[:, 1].argmin()
for label, i in [("validation", on_val), ("test", on_test)]:
    print(f"chosen on {label}: test MAE {scores[i, 1]:.2f}, fresh data {scores[i, 2]:.2f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.scatter(scores[:, 0], scores[:, 1], c="0.6")
left.scatter(*scores[on_val, :2], c="tab:green", s=80, label="lowest validation MAE")
left.scatter(*scores[on_test, :2], c="tab:red", s=80, label="lowest test MAE")
left.set_xlabel("validation MAE")
left.set_ylabel("test MAE")
left.legend()
left.set_title("40 candidates")
labels = ["chosen on validation", "chosen on test"]
x = np.arange(2)
right.bar(x - 0.2, scores[[on_val, on_test], 1], 0.4, label="reported (test MAE)")
right.bar(x + 0.2, scores[[on_val, on_test], 2], 0.4, label="on fresh data")
right.set_xticks(x, labels)
right.set_ylim(scores[:, 1:].min() * 0.95, scores[:, 1:].max() * 1.02)
right.set_ylabel("MAE")
right.legend()
right.set_title("what was reported vs what you get")
fig.tight_layout()
plt.show()
