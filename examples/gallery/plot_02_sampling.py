"""
Per-batch composition under each sampler
========================================

What every batch of 64 holds when the population is 6/8/80/6 % (the VGGFace2
ethnicity shares), under each fairtrain sampler and under ``tf.data``'s
``sample_from_datasets`` with equal weights. The fairtrain samplers give every batch an
exact quota (within one example of its share) and the running totals never drift a
whole example from the target; ``sample_from_datasets`` draws each example's group at
random, so batches and running totals wander.
"""

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import fairtrain as ft

names = ["African", "Asian", "Latin/Caucasian", "Indian"]
sizes = [120, 160, 1600, 120]
codes = np.repeat(np.arange(4), sizes)
groups = ft.Groups.from_codes(codes, names=names)
B, steps = 64, 30

samplers = {
    "Proportional": ft.sampling.Proportional(groups, batch_size=B, seed=0),
    "Homogeneous": ft.sampling.Homogeneous(groups, batch_size=B, seed=0),
    "InverseFrequency(power=0.5)": ft.sampling.InverseFrequency(
        groups, batch_size=B, power=0.5, seed=0),
}
counts = {}
for label, sampler in samplers.items():
    plan = sampler.plan(0)[:steps]
    counts[label] = np.stack([np.bincount(codes[row[row >= 0]], minlength=4) for row in plan])
    print(f"{label}: {sampler.steps_per_epoch} steps per epoch")

# tf.data: one stream per group, each example's group drawn with probability 1/4.
streams = [tf.data.Dataset.from_tensor_slices(np.flatnonzero(codes == g)).shuffle(2000, seed=g)
           .repeat() for g in range(4)]
mixed = tf.data.Dataset.sample_from_datasets(streams, weights=[0.25] * 4, seed=0).batch(B)
tf_batches = [codes[b.numpy()] for b in mixed.take(steps)]
counts["tf.data sample_from_datasets"] = np.stack([np.bincount(b, minlength=4) for b in tf_batches])

colors = ["tab:brown", "tab:orange", "tab:blue", "tab:green"]
fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True, sharey=True)
for ax, (label, table) in zip(axes.flat, counts.items()):
    bottom = np.zeros(steps)
    for g in range(4):
        ax.bar(np.arange(steps), table[:, g], bottom=bottom, color=colors[g], width=0.9,
               label=names[g])
        bottom += table[:, g]
    ax.set_title(label)
axes[0, 0].legend(loc="lower left", fontsize=8)
for ax in axes[1]:
    ax.set_xlabel("batch")
for ax in axes[:, 0]:
    ax.set_ylabel("examples in the batch")
fig.suptitle(f"group composition of the first {steps} batches (batch size {B})")
fig.tight_layout()

# %%
# Drift of the running totals from the exact target (equal shares: 16 per batch).

target = np.cumsum(np.full((steps, 4), B / 4), axis=0)
fig, ax = plt.subplots(figsize=(8, 4))
for label, style in [("Homogeneous", "-"), ("tf.data sample_from_datasets", "--")]:
    drift = np.abs(np.cumsum(counts[label], axis=0) - target).max(axis=1)
    ax.plot(np.arange(steps), drift, style, label=label)
ax.axhline(1, color="k", lw=0.8)
ax.set_xlabel("batch")
ax.set_ylabel("largest |running count - target|")
ax.legend()
fig.tight_layout()
plt.show()
