"""GroupLossProbe: what it measures, what it refuses to feed its consumers, its errors."""

from __future__ import annotations

import numpy as np
import pytest

from fairtrain import Groups
from fairtrain.weighting.dro import GroupDRO


def _nan_model(keras):
    """A model whose every output is NaN, as after a diverged training step."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    kernel, bias = model.layers[0].get_weights()
    model.layers[0].set_weights([np.full_like(kernel, np.nan), bias])
    return model


def test_nan_losses_of_probed_groups_stop_training_with_a_clear_error():
    # issue 19 §3: NaN losses were taken for "not measured", so the Adaptive shares and
    # the GroupDRO weights froze without a word while training went on
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks.probe import GroupLossProbe
    from fairtrain.sampling import Adaptive

    rng = np.random.default_rng(0)
    groups = Groups.from_codes(np.repeat([0, 1], 20), ["a", "b"])
    x = rng.normal(size=(40, 3)).astype("float32")
    y = rng.normal(size=40).astype("float32")
    sampler = Adaptive(groups, batch_size=8, seed=0)
    dro = GroupDRO(groups, batch_shares="batch")
    probe = GroupLossProbe(x, y, groups, consumers=[sampler, dro], size=20)
    probe.set_model(_nan_model(keras))
    shares, weights = sampler.shares.copy(), dro.group_weights.copy()
    with pytest.raises(FloatingPointError, match=r"\['a', 'b'\].*diverged"):
        probe.on_epoch_end(0, {})
    np.testing.assert_array_equal(sampler.shares, shares)     # nothing fed to them
    np.testing.assert_array_equal(dro.group_weights, weights)
    with pytest.raises(FloatingPointError, match="diverged"):
        probe.measure()


import fairtrain as ft  # noqa: E402


@pytest.mark.parametrize("x", [5, "abc", None], ids=["int", "str", "none"])
def test_an_x_without_rows_is_named_x(x):
    # Before: "`x_val` must be an array", BiasMonitor's argument name.
    groups = ft.Groups.from_codes([0, 0, 1, 1])
    sampler = ft.sampling.Adaptive(groups, batch_size=2)
    pytest.importorskip("keras")
    from fairtrain.callbacks import GroupLossProbe

    with pytest.raises(TypeError, match=r"^`x` must be an array") as info:
        GroupLossProbe(x, np.zeros(4), groups, consumers=[sampler])
    assert "x_val" not in str(info.value)


def test_group_loss_probe_checks_its_loss_when_built():
    # review 4: `loss` was in no table: "not_a_loss", 5 or True were taken and failed
    # only after the first training epoch (StagedTraining refuses an unknown name at once)
    keras = pytest.importorskip("keras")
    from fairtrain.callbacks import GroupLossProbe

    groups = Groups.from_codes(np.repeat([0, 1], 5), ["a", "b"])
    x, y = np.zeros((10, 1), "float32"), np.zeros(10, "float32")
    dro = GroupDRO(groups)
    with pytest.raises(ValueError, match=r"`loss`='not_a_loss' is not a Keras loss name"):
        GroupLossProbe(x, y, groups, consumers=[dro], loss="not_a_loss")
    with pytest.raises(ValueError, match="`loss`"):
        GroupLossProbe(x, y, groups, consumers=[dro], loss={"class_name": "Nope", "config": {}})
    for bad in (5, True, 0.5):
        with pytest.raises(TypeError, match="`loss` must be"):
            GroupLossProbe(x, y, groups, consumers=[dro], loss=bad)
    for good in ("mse", keras.losses.MeanSquaredError(), keras.losses.mean_squared_error,
                 keras.losses.serialize(keras.losses.MeanSquaredError()), None):
        GroupLossProbe(x, y, groups, consumers=[dro], loss=good)
