"""Training schedules for Keras: step decay of the learning rate and staged freeze/unfreeze.

Two kinds of plugins live here, each with its own registry kind: learning-rate
schedules (kind ``schedules``: :class:`StepDecay`, see :mod:`fairtrain.schedules.decay`)
and staged-training recipes (kind ``recipes``: :func:`one_stage`, :func:`two_stage`,
:func:`three_stage`, see :mod:`fairtrain.schedules.recipes`).

Imports Keras (any backend), never TensorFlow directly.
"""

from __future__ import annotations

from fairtrain._lazy import import_keras

# a missing Keras backend is named here (which extra, or KERAS_BACKEND), not deep in Keras
import_keras("fairtrain.schedules")

from fairtrain.schedules.decay import StepDecay  # noqa: E402
from fairtrain.schedules.history import StagedHistory  # noqa: E402
from fairtrain.schedules.recipes import one_stage, three_stage, two_stage  # noqa: E402
from fairtrain.schedules.stage import Stage  # noqa: E402
from fairtrain.schedules.staged import StagedTraining, fit_staged  # noqa: E402

__all__ = [
    "Stage",
    "StagedHistory",
    "StagedTraining",
    "StepDecay",
    "fit_staged",
    "one_stage",
    "three_stage",
    "two_stage",
]
