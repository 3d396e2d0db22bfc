"""Imports of Keras (and so of a Keras backend) that say which extra to install."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

#: What each Keras backend is installed by.
EXTRAS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
_BACKEND_MODULES = frozenset({"keras", "tensorflow", "jax", "jaxlib", "torch"})


def _message(what: str, missing: str) -> str:
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return (
        f"{what} needs Keras and a Keras backend, but {missing!r} is not installed "
        f"(KERAS_BACKEND={backend!r}"
        + ("" if "KERAS_BACKEND" in os.environ else ", Keras' default")
        + '). Install one: pip install "fairtrain[tensorflow]" (TensorFlow, Keras\' '
        'default backend), "fairtrain[jax]" or "fairtrain[torch]" and set '
        "KERAS_BACKEND=jax or KERAS_BACKEND=torch. NumPy-only parts (Groups, samplers, "
        "weights, metrics) need none."
    )


def import_module(name: str, what: str | None = None) -> ModuleType:
    """``importlib.import_module(name)``, with a missing Keras backend named.

    A ``ModuleNotFoundError`` for Keras or a backend becomes an ``ImportError`` that
    says which extra to install or which ``KERAS_BACKEND`` to set; any other error
    passes through unchanged.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        if root not in _BACKEND_MODULES:
            raise
        raise ImportError(_message(what or name, root)) from exc


def import_keras(what: str = "fairtrain") -> ModuleType:
    """``import keras``, with a missing backend named (see :func:`import_module`)."""
    return import_module("keras", what)
