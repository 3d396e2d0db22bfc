"""`fairtrain.metrics` stays NumPy-only at import time."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = {"keras", "tensorflow", "jax", "torch", "pandas", "fairlearn", "matplotlib", "sklearn",
         "scipy"}


def test_metrics_import_report_and_streaming_load_nothing_heavy():
    code = (
        "import fairtrain as ft, json, sys\n"
        "ft.bias_report([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], {'g': ['a', 'b', 'b']}, min_count=1)\n"
        "ft.metrics.by_group([0, 1], [0, 1], [0, 1], metric='recall')\n"
        "class Model:\n"
        "    def predict_on_batch(self, x):\n"
        "        return x\n"
        "import numpy as np\n"
        "batch = (np.array([0, 1]), np.array([0, 1]), np.array([0, 1]))\n"
        "acc = ft.metrics.evaluate(Model(), [batch], groups=ft.metrics."
        "GroupSpec.from_levels({'g': ['a', 'b']}), metrics='accuracy', n_classes=2)\n"
        "acc.result(min_count=1)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    modules = set(json.loads(out.splitlines()[-1]))
    assert "fairtrain.metrics" in modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
