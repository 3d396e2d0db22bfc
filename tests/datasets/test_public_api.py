"""The public names: the contract other modules rely on, documented, light to import."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api" / "datasets.rst"
CONTRACT = ["FaceDataset", "Rejected", "load_utkface", "load_vggface2", "load_celeba", "split",
            "load_images", "tf_image_loader", "write_tfrecords", "read_tfrecords", "synthetic"]


def test_contract_names_are_exported():
    datasets = importlib.import_module("fairtrain.datasets")
    assert set(CONTRACT) <= set(datasets.__all__)
    for name in ("write_vggface2", "write_utkface", "write_celeba"):
        assert name in datasets.synthetic.__all__


@pytest.mark.parametrize("module_name", ["fairtrain.datasets", "fairtrain.datasets.synthetic",
                                         "fairtrain.datasets.tfds_builders"])
def test_every_exported_name_is_documented(module_name):
    if module_name.endswith("tfds_builders"):
        pytest.importorskip("tensorflow_datasets")
    module = importlib.import_module(module_name)
    documented = set(re.findall(r"^\.\. auto\w+:: ([\w.]+)", DOCS.read_text(), flags=re.M))
    missing = [n for n in module.__all__
               if n != "synthetic" and f"{module_name}.{n}" not in documented]
    assert not missing


def test_importing_datasets_imports_neither_tensorflow_nor_pillow():
    code = ("import sys, fairtrain.datasets\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    loaded = set(eval(out))  # a printed list of module names
    assert not loaded & {"tensorflow", "PIL", "keras", "tensorflow_datasets", "jax"}
    assert "numpy" in loaded


def test_star_import_names_datasets():
    namespace: dict = {}
    exec("from fairtrain import *", namespace)
    assert namespace["datasets"].__name__ == "fairtrain.datasets"
