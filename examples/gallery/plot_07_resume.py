"""
Resuming training on the exact next batch
=========================================

A sampler's state is its position (epoch, step); every plan is a pure function of the
configuration and the epoch. Stopping in the middle of epoch 1 and resuming from the
saved config and state gives exactly the batches of an uninterrupted run. Restarting
from scratch with the same seed replays epoch 0 instead: examples of the largest group
are then drawn twice in four epochs while others are never drawn.
"""

import matplotlib.pyplot as plt
import numpy as np

import fairtrain as ft

codes = np.repeat(np.arange(4), [60, 80, 800, 60])
groups = ft.Groups.from_codes(codes, names=["African", "Asian", "Latin/Caucasian", "Indian"])
total_epochs, stop = 4, {"epoch": 1, "step": 5}


def run(sampler, n_batches):
    return [sampler.next_batch() for _ in range(n_batches)]


sampler = ft.sampling.Homogeneous(groups, batch_size=32, seed=7)
steps = sampler.steps_per_epoch
uninterrupted = run(sampler, total_epochs * steps)

first = ft.sampling.Homogeneous(groups, batch_size=32, seed=7)
done = stop["epoch"] * steps + stop["step"]
before = run(first, done)
config, state = first.get_config(), first.get_state()
resumed_sampler = ft.sampling.Homogeneous.from_config(config)
resumed_sampler.set_state(state)
resumed = before + run(resumed_sampler, total_epochs * steps - done)
restarted = before + run(ft.sampling.Homogeneous.from_config(config), total_epochs * steps - done)

same = all(np.array_equal(a, b) for a, b in zip(uninterrupted, resumed))
print(f"state saved: {state}; resumed run identical to uninterrupted: {same}")


def draws(batches):
    flat = np.concatenate(batches)
    return np.bincount(flat[flat >= 0], minlength=len(codes))


fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
largest = np.flatnonzero(codes == 2)
for ax, (label, batches) in zip(axes, [("uninterrupted", uninterrupted),
                                       ("resumed with set_state", resumed),
                                       ("restarted from epoch 0", restarted)]):
    counts = draws(batches)[largest]
    times = np.arange(counts.max() + 1)
    ax.bar(times, np.bincount(counts, minlength=len(times)), color="tab:blue")
    ax.set_xticks(times)
    ax.set_title(f"{label}\ndrawn {counts.min()} to {counts.max()} times")
    ax.set_xlabel("times drawn in 4 epochs")
axes[0].set_ylabel("examples of the largest group")
fig.tight_layout()
plt.show()
