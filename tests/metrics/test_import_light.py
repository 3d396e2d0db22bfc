"""`fairtrain.metrics` stays NumPy-only at import time."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = {"keras", "tensorflow", "jax", "torch", "pandas", "fairlearn", "matplotlib", "sklearn",
         "scipy"}


def test_metrics_import_and_report_load_nothing_heavy():
    code = (
        "import fairtrain as ft, json, sys\n"
        "ft.bias_report([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], {'g': ['a', 'b', 'b']}, min_count=1)\n"
        "ft.metrics.by_group([0, 1], [0, 1], [0, 1], metric='recall')\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    modules = set(json.loads(out.splitlines()[-1]))
    assert "fairtrain.metrics" in modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
