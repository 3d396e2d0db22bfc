"""``import fairtrain.data`` imports neither TensorFlow nor Keras."""

from __future__ import annotations

import subprocess
import sys


def test_importing_fairtrain_data_and_sampling_loads_no_framework():
    code = (
        "import sys, fairtrain, fairtrain.data, fairtrain.sampling;"
        "fairtrain.CompositionLog;"
        "bad = [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules];"
        "assert not bad, bad;"
        "assert callable(fairtrain.data.__getattr__)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
