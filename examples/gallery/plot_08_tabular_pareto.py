"""
Accuracy against disparity on Adult: the Pareto front
=====================================================

The numbers that ``examples/tabular_fairness.py`` measured on UCI Adult (sex; test
split; mean and standard deviation over three seeds; see Reproducing > Fair classifiers
on tabular data), typed in here so that the picture is drawn when the documentation is
built. A method is on the Pareto front when no other method has both a smaller
disparity and a higher accuracy. Read every disparity next to the accuracy: the methods
with the smallest equal-opportunity difference are not the most accurate.
"""

import matplotlib.pyplot as plt

# method: accuracy, its sd, EO difference, its sd, DP difference, its sd
MEASURED = {
    "proportional": (0.85, 0.0007, 0.0891, 0.02, 0.1914, 0.0025),
    "inverse_weights": (0.8041, 0.006, 0.0138, 0.01, 0.2034, 0.0114),
    "homogeneous": (0.8106, 0.0084, 0.0109, 0.0055, 0.2049, 0.0184),
    "adaptive": (0.8063, 0.0111, 0.0354, 0.0117, 0.1738, 0.0113),
    "fairbatch_eo": (0.8489, 0.0008, 0.0225, 0.0167, 0.1536, 0.0154),
    "fairbatch_eqodds": (0.8458, 0.0022, 0.0943, 0.0281, 0.1068, 0.0162),
    "fairbatch_dp": (0.8169, 0.0024, 0.3027, 0.0157, 0.0303, 0.012),
    "group_dro": (0.8118, 0.0053, 0.0312, 0.0035, 0.1835, 0.0065),
    "logistic": (0.8471, 0.0, 0.097, 0.0, 0.1846, 0.0),
    "expgrad_eo": (0.8464, 0.0005, 0.0193, 0.0034, 0.1563, 0.0004),
    "expgrad_dp": (0.8274, 0.0002, 0.2859, 0.0017, 0.0105, 0.001),
    "threshold_eo": (0.845, 0.0004, 0.0046, 0.0039, 0.1506, 0.0008),
    "threshold_dp": (0.8269, 0.0004, 0.2772, 0.0011, 0.0095, 0.0017),
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
    ax.set_xlabel(f"{name} (test, mean ± sd over 3 seeds)")
    ax.grid(alpha=0.3)
    print(name, "Pareto front:", [list(MEASURED)[i] for i in front])
axes[0].set_ylabel("accuracy (test)")
axes[0].plot([], [], "o", color="C0", label="fairtrain (Keras MLP)")
axes[0].plot([], [], "s", color="C1", label="scikit-learn / fairlearn")
axes[0].legend(fontsize=8, loc="lower right")
plt.show()
