"""Every Keras callback fairtrain has, in one place.

- :class:`EpochSync` keeps fairtrain feeds on the epoch Keras runs (epoch ``e`` serves
  ``sampler.plan(e)``).
- :class:`StepDecayCallback` sets a step-decay learning rate from the global epoch.
- :class:`BiasMonitor` writes per-group metrics and bias into the epoch logs.
- :class:`GroupLossProbe` measures per-group losses and feeds them to adaptive samplers
  and weightings (:class:`~fairtrain.sampling.Adaptive`,
  :class:`~fairtrain.weighting.GroupDRO`).

Imports Keras (any backend), never TensorFlow directly.
"""

from __future__ import annotations

from fairtrain._lazy import import_keras

# a missing Keras backend is named here (which extra, or KERAS_BACKEND), not deep in Keras
import_keras("fairtrain.callbacks")

from fairtrain.callbacks.bias_monitor import BiasMonitor  # noqa: E402
from fairtrain.callbacks.epoch_sync import EpochSync  # noqa: E402
from fairtrain.callbacks.probe import GroupLossProbe, stratified_indices  # noqa: E402
from fairtrain.callbacks.step_decay import StepDecayCallback  # noqa: E402

__all__ = ["BiasMonitor", "EpochSync", "GroupLossProbe", "StepDecayCallback", "stratified_indices"]
