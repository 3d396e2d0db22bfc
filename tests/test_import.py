"""`import fairtrain` stays light: NumPy only, no Keras, no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.keras_backend
def test_import_fairtrain_imports_neither_tensorflow_nor_keras():
    modules = _modules_after("import fairtrain\nfairtrain.Groups.from_codes([0, 1])")
    assert "numpy" in modules
    assert not {m for m in modules if m.split(".")[0] in {"tensorflow", "keras", "jax", "torch"}}


def test_version_and_public_names():
    import fairtrain

    assert fairtrain.__version__.count(".") == 2
    for name in ("Groups", "bins", "registry", "PluginError"):
        assert name in fairtrain.__all__ and hasattr(fairtrain, name)
    with pytest.raises(AttributeError):
        fairtrain.no_such_name  # noqa: B018
