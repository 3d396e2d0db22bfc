"""Training schedules for Keras: step decay of the learning rate and staged freeze/unfreeze.

Imports Keras (any backend), never TensorFlow directly.
"""

from __future__ import annotations

from fairtrain.schedules.decay import StepDecay, StepDecayCallback
from fairtrain.schedules.staged import (
    Stage,
    StagedHistory,
    StagedTraining,
    fit_staged,
    one_stage,
    three_stage,
    two_stage,
)

__all__ = [
    "Stage",
    "StagedHistory",
    "StagedTraining",
    "StepDecay",
    "StepDecayCallback",
    "fit_staged",
    "one_stage",
    "three_stage",
    "two_stage",
]
