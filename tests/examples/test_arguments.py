"""The example scripts refuse impossible options while parsing, before TensorFlow loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("*.py"))

# Runs every script's main(argv) in one fresh interpreter and reports, per script, the
# exit status, the message and whether TensorFlow or Keras was imported by then.
_PROBE = """
import contextlib, importlib.util, io, json, sys
out = {}
for name, argv in json.loads(sys.argv[1]).items():
    path = sys.argv[2] + "/" + name + ".py"
    spec = importlib.util.spec_from_file_location("example_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            module.main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    heavy = [m for m in ("tensorflow", "keras") if m in sys.modules]
    out[name] = {"code": code, "err": err.getvalue(), "heavy": heavy}
print(json.dumps(out))
"""


@pytest.mark.parametrize("option", ["--epochs", "--batch-size"])
@pytest.mark.parametrize("value", ["0", "-3"])
def test_a_non_positive_count_is_refused_before_training(tmp_path, option, value):
    # issue 19 §3: `--epochs 0` trained anyway and exited 0
    argv = {}
    for name in SCRIPTS:
        common = [] if name == "adaptive_comparison" else [
            "--smoke", "--quiet", "--out", str(tmp_path / name)]
        argv[name] = [*common, option, value]
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv), str(EXAMPLES)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(results) == SCRIPTS
    for name, result in results.items():
        assert result["code"] == 2, (name, result)
        assert option in result["err"] and "positive" in result["err"], (name, result)
        assert result["heavy"] == [], name
    assert list(tmp_path.iterdir()) == []   # no results folder was even created
