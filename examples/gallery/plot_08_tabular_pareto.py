"""
Accuracy against disparity on Adult: the Pareto front
=====================================================

The numbers that ``examples/tabular_fairness.py`` measured on UCI Adult (sex; test
split; mean and standard deviation over five seeds; each Keras run's checkpoint chosen
on the validation split; see Reproducing > Fair classifiers on tabular data), typed in
here so that the picture is drawn when the documentation is
built. A method is on the Pareto front when no other method has both a smaller
disparity and a higher accuracy. Read every disparity next to the accuracy: the methods
with the smallest equal-opportunity difference are not the most accurate.
"""

import matplotlib.pyplot as plt

# method: accuracy, its sd, EO difference, its sd, DP difference, its sd
MEASURED = {
    "proportional": (0.8507, 0.001, 0.1039, 0.0129, 0.1848, 0.0058),
    "inverse_weights": (0.8195, 0.0037, 0.022, 0.0188, 0.1893, 0.0129),
    "homogeneous": (0.8183, 0.0027, 0.0172, 0.0147, 0.1912, 0.0102),
    "adaptive": (0.8252, 0.0017, 0.0546, 0.0131, 0.1582, 0.0093),
    "fairbatch_eo": (0.8491, 0.0015, 0.008, 0.0055, 0.1516, 0.0101),
    "fairbatch_eqodds": (0.8486, 0.0011, 0.0395, 0.0112, 0.1302, 0.0049),
    "fairbatch_dp": (0.8453, 0.0019, 0.1108, 0.0164, 0.1002, 0.0091),
    "group_dro": (0.8212, 0.0026, 0.0365, 0.0178, 0.1804, 0.011),
    "logistic": (0.8471, 0.0, 0.097, 0.0, 0.1846, 0.0),
    "expgrad_eo": (0.8462, 0.0005, 0.0202, 0.0037, 0.1564, 0.0004),
    "expgrad_dp": (0.8275, 0.0002, 0.2859, 0.0013, 0.0103, 0.001),
    "threshold_eo": (0.845, 0.0009, 0.0071, 0.008, 0.1508, 0.0011),
    "threshold_dp": (0.8268, 0.0007, 0.2777, 0.0022, 0.009, 0.0017),
}
FAIRTRAIN = {"proportional", "inverse_weights", "homogeneous", "adaptive", "fairbatch_eo",
             "fairbatch_eqodds", "fairbatch_dp", "group_dro"}


def pareto_front(points):
    """Indices of the (gap, accuracy) points no other point beats, by increasing gap."""
    front = [i for i, (gap, acc) in enumerate(points)
             if not any(g <= gap and a >= acc and (g < gap or a > acc) for g, a in points)]
    return sorted(front, key=lambda i: points[i][0])


fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True, layout="constrained")
floor = MEASURED["proportional"][0] - 0.01
for ax, column, name in ((axes[0], 2, "equal-opportunity difference"),
                         (axes[1], 4, "demographic-parity difference")):
    points = [(v[column], v[0]) for v in MEASURED.values()]
    for method, v in MEASURED.items():
        ours = method in FAIRTRAIN
        ax.errorbar(v[column], v[0], xerr=v[column + 1], yerr=v[1], fmt="o" if ours else "s",
                    color="C0" if ours else "C1", ms=5, capsize=2, lw=0.8)
        ax.annotate(method, (v[column], v[0]), textcoords="offset points", xytext=(4, 3),
                    fontsize=7)
    front = pareto_front(points)
    ax.step([points[i][0] for i in front], [points[i][1] for i in front], where="post",
            color="C3", lw=2, alpha=0.6, label="Pareto front")
    ax.axvspan(0, 0.02, color="C2", alpha=0.08)
    ax.axhline(floor, color="C2", lw=0.8, ls="--",
               label="goal: gap <= 0.02, accuracy >= unconstrained MLP - 1 point")
    ax.set_xlabel(f"{name} (test, mean ± sd over 5 seeds)")
    ax.grid(alpha=0.3)
    print(name, "Pareto front:", [list(MEASURED)[i] for i in front])
axes[0].set_ylabel("accuracy (test)")
axes[0].plot([], [], "o", color="C0", label="fairtrain (Keras MLP)")
axes[0].plot([], [], "s", color="C1", label="scikit-learn / fairlearn")
axes[0].legend(fontsize=8, loc="lower right")
plt.show()
