"""The root conftest: fairtrain's modules imported once before src's doctests are collected."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package(tmp_path, name, **modules):
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    for module, text in modules.items():
        (tmp_path / name / f"{module}.py").write_text(text)


def test_a_missing_optional_dependency_is_skipped_but_a_broken_own_import_raises(
        conftest, tmp_path, monkeypatch):
    name = "ft_conftest_probe"
    _package(tmp_path, name, optional="import ft_conftest_not_installed\n",
             helpers="def present():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert conftest.import_every_module(name) == [f"{name}.optional"]
    (tmp_path / name / "broken.py").write_text(f"from {name}.helpers import renamed\n")
    with pytest.raises(ImportError, match="renamed"):
        conftest.import_every_module(name)
    (tmp_path / name / "broken.py").write_text(f"import {name}.gone\n")
    with pytest.raises(ModuleNotFoundError, match="gone"):
        conftest.import_every_module(name)


@pytest.mark.parametrize("args, imports", [
    (["tests/test_groups.py"], False),
    (["tests/metrics"], False),
    (["tests", "src/fairtrain"], True),
    (["src/fairtrain/groups.py::fairtrain.groups.bins"], True),
    (["src"], True),
])
def test_modules_are_imported_only_when_src_is_collected(conftest, monkeypatch, args,
                                                         imports):
    calls = []
    monkeypatch.setattr(conftest, "import_every_module", lambda: calls.append(1))
    conftest.pytest_configure(SimpleNamespace(args=args, rootpath=ROOT))
    assert bool(calls) is imports


@pytest.mark.slow
def test_doctests_of_groups_then_its_tests_keep_the_bin_order():
    # fails without the conftest: pytest executed groups.py a second time and ft.bins and
    # by_group used two different Binned classes
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-x",
         "src/fairtrain/groups.py", "tests/test_groups.py::"
         "test_binned_column_straight_to_a_metric_keeps_bin_order"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert np.any([" passed" in line for line in run.stdout.splitlines()])
