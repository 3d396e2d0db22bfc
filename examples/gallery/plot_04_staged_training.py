"""
Step decay and staged training
==============================

Left: :class:`~fairtrain.schedules.StepDecay` with the VGGFace2 settings (0.005, halved
every 6 epochs). Right: the 3-stage recipe of the apparent-age challenge run with
:func:`~fairtrain.fit_staged` on a tiny model: the head alone at 1e-4, then the backbone
alone at 1e-5, then everything at 1e-5. The bars count the weights that train in each
epoch; the line is the learning rate the optimizer used.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

import fairtrain as ft

decay = ft.StepDecay(0.005, factor=0.5, every=6)
epochs = np.arange(20)
rates = [decay.at_epoch(int(e)) for e in epochs]

keras.utils.set_random_seed(0)
backbone = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(16, activation="relu")], name="backbone")
head = keras.Sequential([keras.Input((16,)), keras.layers.Dense(4, activation="relu"),
                         keras.layers.Dense(1)], name="head")
model = keras.Sequential([keras.Input((8,)), backbone, head])


class CountTrainable(keras.callbacks.Callback):
    """Record how many weights train in every epoch."""

    def __init__(self):
        super().__init__()
        self.trainable = []

    def on_epoch_begin(self, epoch, logs=None):
        self.trainable.append(sum(int(np.prod(w.shape)) for w in self.model.trainable_weights))


rng = np.random.default_rng(0)
x = rng.normal(size=(256, 8)).astype("float32")
y = (x[:, :1] * 0.5 + 0.1 * rng.normal(size=(256, 1))).astype("float32")
counter = CountTrainable()
history = ft.fit_staged(model, ft.schedules.three_stage([3, 3, 4]), x, y,
                        optimizer="adam", loss="mse", callbacks=[counter], verbose=0,
                        batch_size=64)
print(list(zip(history.epoch, history.stage, counter.trainable)))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.step(epochs, rates, where="post")
left.set_xlabel("epoch")
left.set_ylabel("learning rate")
left.set_title("StepDecay(0.005, factor=0.5, every=6)")

colors = {"head": "tab:orange", "backbone": "tab:blue", "all": "tab:green"}
right.bar(history.epoch, counter.trainable, color=[colors[s] for s in history.stage])
right.set_xlabel("epoch")
right.set_ylabel("trainable weights (bars)")
right.legend(handles=[Patch(color=c, label=f"stage {s!r}") for s, c in colors.items()],
             loc="upper left", fontsize=8)
lr_axis = right.twinx()
lr_axis.step(history.epoch, history.history["learning_rate"], "k", where="mid")
lr_axis.set_yscale("log")
lr_axis.set_ylabel("learning rate (line)")
right.set_title("three_stage([3, 3, 4]) with fit_staged")
fig.tight_layout()
plt.show()
