"""A fresh environment with NumPy and Keras but no backend: `pip install fairtrain` alone."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# builds a bare virtual environment and starts Python in it
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
UV = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))

SCRIPT = """
import fairtrain as ft
g = ft.Groups.from_columns({"g": ["a", "b", "a"]})   # NumPy-only parts work
print(ft.weighting.sample_weights(g).round(3).tolist())
for name in ("StepDecay", "BiasMonitor"):
    try:
        getattr(ft, name)
    except ImportError as exc:
        print("ImportError:", exc)
    else:
        raise SystemExit(name + " imported without a backend")
"""


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    if not Path(UV).exists():
        pytest.skip("uv is not installed")
    venv = tmp_path_factory.mktemp("bare") / "venv"
    env = {**os.environ, "UV_OFFLINE": "1"}
    subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(venv)], check=True,
                   env=env)
    python = venv / "bin" / "python"
    # the versions of this environment, so that everything comes from uv's cache
    pins = venv.parent / "constraints.txt"
    pins.write_text("".join(
        f"{d.metadata['Name']}=={d.version}\n" for d in importlib.metadata.distributions()
        if d.metadata["Name"] and d.metadata["Name"].lower() != "fairtrain"
    ))
    done = subprocess.run(
        [UV, "pip", "install", "-q", "--python", str(python), "--offline", "-c", str(pins),
         "numpy", "keras"],
        env=env, capture_output=True, text=True,
    )
    if done.returncode:
        pytest.skip(f"numpy and keras are not in the uv cache: {done.stderr[-300:]}")
    return python


def test_first_keras_facing_name_says_which_extra_to_install(bare_python):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run([str(bare_python), "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "[0.75, 1.5, 0.75]"
    errors = [line for line in lines if line.startswith("ImportError")]
    assert len(errors) == 2
    for line in errors:
        assert "'tensorflow' is not installed" in line
        assert 'pip install "fairtrain[tensorflow]"' in line
        assert '"fairtrain[jax]" or "fairtrain[torch]"' in line


def test_named_backend_is_named(bare_python):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KERAS_BACKEND": "jax"}
    done = subprocess.run(
        [str(bare_python), "-c", "import fairtrain as ft; ft.callbacks"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode != 0
    assert "ImportError: fairtrain.callbacks needs Keras and a Keras backend" in done.stderr
    assert "KERAS_BACKEND='jax'" in done.stderr


@pytest.mark.parametrize(
    "statement, what",
    [
        ("from fairtrain.schedules import StepDecay", "fairtrain.schedules"),
        ("from fairtrain.data import SampledPyDataset", "fairtrain.data.SampledPyDataset"),
        ("from fairtrain.data import EpochSync", "fairtrain.data.EpochSync"),
        ("from fairtrain.callbacks import EpochSync", "fairtrain.callbacks"),
    ],
)
def test_direct_imports_name_the_extra_too(bare_python, statement, what):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run([str(bare_python), "-c", statement], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode != 0
    assert f"ImportError: {what} needs Keras and a Keras backend" in done.stderr
    assert 'pip install "fairtrain[tensorflow]"' in done.stderr
