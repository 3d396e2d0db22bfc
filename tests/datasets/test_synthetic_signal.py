"""The synthetic ethnicity signal: a tiny CNN learns it, minorities are harder, and
homogeneous batches raise the worst group's recall over proportional batches."""

from __future__ import annotations

import numpy as np
import pytest

import fairtrain as ft
from fairtrain.datasets import ETHNICITIES, load_images, load_vggface2, split, synthetic

pytest.importorskip("PIL")
keras = pytest.importorskip("keras")


def train_and_recall(train_x, train_y, groups, test_x, test_y, sampler_cls, seed, epochs=8):
    """Per-class test recall of a tiny CNN trained on the sampler's batches."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(4, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    sampler = sampler_cls(groups, batch_size=32, seed=seed)
    feed = ft.data.SampledPyDataset(sampler, lambda i: (train_x[i], train_y[i]))
    # EpochSync hands Keras' epoch to the feed: epoch e trains on plan(e)
    model.fit(feed, epochs=epochs, verbose=0, callbacks=[ft.data.EpochSync(feed)])
    pred = model.predict(test_x, verbose=0).argmax(1)
    return np.array([(pred[test_y == k] == k).mean() for k in range(4)])


@pytest.mark.slow
def test_tiny_cnn_learns_the_signal_and_batch_composition_matters(tmp_path):
    seed = 0
    out = synthetic.write_vggface2(tmp_path, seed=seed)  # 200 identities x 10 images
    ds = load_vggface2(out["root"], out["ethnicity_csv"])
    train, _, test = split(ds, by="identity", stratify="ethnicity", seed=seed)
    code = {e: i for i, e in enumerate(ETHNICITIES)}
    train_y = np.array([code[e] for e in train.columns["ethnicity"]])
    test_y = np.array([code[e] for e in test.columns["ethnicity"]])
    train_x, test_x = load_images(train.paths), load_images(test.paths)
    groups = train.groups("ethnicity")
    proportional = train_and_recall(train_x, train_y, groups, test_x, test_y,
                                    ft.sampling.Proportional, seed)
    homogeneous = train_and_recall(train_x, train_y, groups, test_x, test_y,
                                   ft.sampling.Homogeneous, seed)
    majority = ETHNICITIES.index("Latin/Caucasian")
    minorities = [k for k in range(4) if k != majority]
    # learnable: the majority is recognised, and balanced training finds the minorities
    assert proportional[majority] >= 0.9 and homogeneous[majority] >= 0.9
    assert homogeneous[minorities].mean() >= 0.5
    # harder for minorities: each run recalls them worse than the majority
    assert proportional[minorities].max() < proportional[majority]
    assert homogeneous[minorities].min() < homogeneous[majority]
    # batch composition shows: the worst group gains clearly
    assert homogeneous.min() >= proportional.min() + 0.2, (proportional, homogeneous)
