"""Guards for the private Keras attributes fairtrain relies on (fail loudly on change)."""

from __future__ import annotations

import keras
import pytest

from fairtrain.schedules.freezing import _sublayers, layer_tree

pytestmark = pytest.mark.keras_backend


class Block(keras.layers.Layer):
    """A custom layer holding two sub-layers: not a Model, so no public `.layers`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = keras.layers.Dense(2, name="first")
        self.second = keras.layers.Dense(2, name="second")

    def call(self, x):
        return self.second(self.first(x))


def test_layer_underscore_layers_lists_direct_sub_layers():
    # fairtrain.schedules.freezing reads Layer._layers: Keras 3 has no public way to
    # list the children of an arbitrary layer. If this fails, Keras changed it.
    block = Block(name="block")
    assert hasattr(block, "_layers"), "keras.layers.Layer._layers is gone"
    assert [layer.name for layer in block._layers] == ["first", "second"]
    model = keras.Sequential([keras.Input((3,)), block, keras.layers.Dense(1, name="out")])
    def named(layers):
        return [layer.name for layer in layers if not isinstance(layer, keras.layers.InputLayer)]

    assert named(_sublayers(model)) == ["block", "out"]
    assert named(layer for layer, _ in layer_tree(model)) == ["block", "first", "second", "out"]
