"""
Group weights under each scheme
===============================

The weight every example of a group gets under each built-in scheme, for the VGGFace2
population (6/8/80/6 %), normalised so that the mean weight over the examples is 1.
With ``n`` examples, ``k`` groups and ``n_g`` examples in group ``g``: ``balanced`` is
``n / (k n_g)``, ``inverse`` is ``c / n_g``, ``sqrt_inverse`` is ``c / sqrt(n_g)`` and
``effective_number`` is ``(1 - beta) / (1 - beta ** n_g)``.
"""

import matplotlib.pyplot as plt
import numpy as np

import fairtrain as ft

names = ["African", "Asian", "Latin/Caucasian", "Indian"]
codes = np.repeat(np.arange(4), [600, 800, 8000, 600])
groups = ft.Groups.from_codes(codes, names=names)

schemes = {"balanced": {}, "inverse": {}, "sqrt_inverse": {},
           "effective_number": {"beta": 0.999}}
table = {s: ft.group_weights(groups, scheme=s, normalize=True, **p) for s, p in schemes.items()}
for scheme, weights in table.items():
    print(scheme, {k: round(v, 3) for k, v in weights.items()})

fig, ax = plt.subplots(figsize=(9, 4))
width = 0.2
for i, (scheme, weights) in enumerate(table.items()):
    ax.bar(np.arange(4) + (i - 1.5) * width, [weights[n] for n in names], width, label=scheme)
ax.set_xticks(np.arange(4), [f"{n}\n({c} examples)" for n, c in zip(names, groups.counts)])
ax.set_yscale("log")
ax.set_ylabel("weight per example (mean 1)")
ax.axhline(1, color="k", lw=0.8)
ax.legend()
fig.tight_layout()
plt.show()
