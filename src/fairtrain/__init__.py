"""fairtrain: fairness-aware training for Keras.

``import fairtrain`` imports NumPy only. Keras-facing names (schedules, callbacks, the
data adapters) are imported on first use (PEP 562), and TensorFlow only by the
``tf.data`` adapter, so the core works under any Keras backend.
"""

from __future__ import annotations

from typing import Any

from fairtrain import registry
from fairtrain.groups import Binned, GroupPolicyWarning, Groups, PolicyAction, bins
from fairtrain.registry import PluginError

__version__ = "0.1.0"

# Submodules imported on first attribute access.
_SUBMODULES = frozenset(
    {"sampling", "data", "weighting", "schedules", "metrics", "callbacks", "datasets", "testing"}
)
# Public names re-exported lazily: name -> module that defines it.
_LAZY = {
    "CompositionLog": "fairtrain.sampling",
    "group_weights": "fairtrain.weighting",
    "sample_weights": "fairtrain.weighting",
    "class_weight": "fairtrain.weighting",
    "GroupDRO": "fairtrain.weighting",
    "StepDecay": "fairtrain.schedules",
    "Stage": "fairtrain.schedules",
    "StagedTraining": "fairtrain.schedules",
    "fit_staged": "fairtrain.schedules",
    "bias_report": "fairtrain.metrics",
    "BiasReport": "fairtrain.metrics",
    "BiasMonitor": "fairtrain.callbacks",
    "EpochSync": "fairtrain.callbacks",
    "GroupLossProbe": "fairtrain.callbacks",
    "StepDecayCallback": "fairtrain.callbacks",
}

__all__ = [
    "Binned",
    "GroupPolicyWarning",
    "Groups",
    "PluginError",
    "PolicyAction",
    "__version__",
    "bins",
    "registry",
    *sorted(_LAZY),
    *sorted(_SUBMODULES),
]


def __getattr__(name: str) -> Any:
    # a missing Keras backend is reported at this first use, naming the extra to install
    from fairtrain._lazy import import_module

    if name in _SUBMODULES:
        module = import_module(f"fairtrain.{name}", f"fairtrain.{name}")
        globals()[name] = module
        return module
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], f"fairtrain.{name}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fairtrain' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
