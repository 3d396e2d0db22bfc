"""Tests of fairtrain.registry: entry points, in-process registration, broken plugins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fairtrain as ft
from fairtrain import registry

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """Install the test plugin packages (really: pip, no network) into a private folder."""
    targets = {}
    for name in ("example", "broken"):
        target = tmp_path_factory.mktemp(f"site-{name}")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
             "--no-build-isolation", "--target", str(target), str(PLUGINS / name)],
            check=True,
            capture_output=True,
        )
        targets[name] = target
    return targets


@pytest.fixture
def with_plugins(installed, monkeypatch):
    def use(*names):
        for name in names:
            monkeypatch.syspath_prepend(str(installed[name]))
        registry.refresh()

    yield use
    registry.refresh()
    for mod in [m for m in sys.modules if m.startswith("fairtrain_example_plugin")]:
        del sys.modules[mod]


def test_builtins_are_registered_in_process():
    table = registry.available("samplers")
    for name in ("proportional", "homogeneous", "balanced", "inverse_frequency", "target"):
        assert table[name] == "fairtrain"
    assert {p.target for p in registry.plugins("metrics") if p.name == "mae"} == {
        "fairtrain.metrics.functions:mae"
    }
    from fairtrain.sampling import Homogeneous

    assert registry.get("samplers", "homogeneous") is Homogeneous


def test_builtins_need_no_installed_metadata(monkeypatch):
    """A copy of the code that is not installed (no dist-info) still has every built-in."""
    monkeypatch.setattr(registry.metadata, "distributions", lambda: iter(()))
    registry.refresh()
    try:
        from fairtrain.metrics.functions import mae

        assert registry.get("metrics", "mae") is mae
        assert "reweighing" in registry.available("weights")
    finally:
        monkeypatch.undo()
        registry.refresh()


def _write_distribution(site: Path, name: str, entry_points: str) -> None:
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_a_malformed_distribution_never_breaks_the_builtins(tmp_path, monkeypatch):
    """Another distribution's unreadable entry_points.txt is skipped with a warning naming it."""
    _write_distribution(tmp_path, "badly-packaged",
                        "[fairtrain.metrics]\nthis line has no equals\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh()
    try:
        with pytest.warns(RuntimeWarning, match="badly-packaged"):
            table = registry.available("metrics")
        assert table["mae"] == "fairtrain"
        assert registry.get("metrics", "mae")([1.0, 3.0], [1.0, 1.0]) == 1.0
    finally:
        monkeypatch.undo()
        registry.refresh()


def test_a_plugin_that_exits_on_import_is_a_plugin_error(tmp_path, monkeypatch):
    (tmp_path / "exiting_plugin.py").write_text("import sys\nsys.exit(3)\n")
    _write_distribution(tmp_path, "exiting-plugin",
                        "[fairtrain.metrics]\nexiting = exiting_plugin:metric\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh()
    try:
        with pytest.raises(ft.PluginError, match="exiting.*exiting-plugin.*SystemExit"):
            registry.get("metrics", "exiting")
        assert registry.get("metrics", "mse")([2.0], [0.0]) == 4.0
    finally:
        monkeypatch.undo()
        registry.refresh()
        sys.modules.pop("exiting_plugin", None)


def test_third_party_plugin_found_through_its_entry_point(with_plugins):
    assert "median_absolute_error" not in registry.available("metrics")
    with_plugins("example")
    assert registry.available("metrics")["median_absolute_error"] == "fairtrain-example-plugin"
    # lazy: listing did not import the plugin
    assert "fairtrain_example_plugin" not in sys.modules
    metric = registry.get("metrics", "median_absolute_error")
    assert metric([1, 2, 3], [1, 2, 7]) == 0.0
    assert "fairtrain_example_plugin" in sys.modules


def test_broken_plugin_is_reported_and_the_rest_still_work(with_plugins):
    with_plugins("example", "broken")
    with pytest.raises(ft.PluginError) as info:
        registry.get("metrics", "broken_metric")
    message = str(info.value)
    assert "broken_metric" in message
    assert "fairtrain-broken-plugin" in message
    assert "fairtrain_dependency_that_does_not_exist" in message
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    # other plugins of the same kind and of other kinds are unaffected
    assert registry.get("weights", "uniform")([3, 4]).tolist() == [1.0, 1.0]
    assert "broken_metric" in registry.available("metrics")


def test_two_plugins_with_one_name_is_an_error_naming_both(with_plugins):
    with_plugins("example", "broken")
    assert registry.available("metrics")["median_absolute_error"].startswith("conflict: ")
    with pytest.raises(ft.PluginError, match="fairtrain-example-plugin.*fairtrain-broken-plugin|"
                       "fairtrain-broken-plugin.*fairtrain-example-plugin"):
        registry.get("metrics", "median_absolute_error")


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"Did you mean 'homogeneous'\?.*Known samplers"):
        registry.get("samplers", "homogenous")


def test_unknown_kind():
    with pytest.raises(ValueError, match="kinds are"):
        registry.available("losses")


def test_register_in_process_and_refuse_a_taken_name():
    @registry.register("metrics", "always_one")
    def always_one(y_true, y_pred):
        return 1.0

    try:
        assert registry.get("metrics", "always_one") is always_one
        assert registry.available("metrics")["always_one"] == "<in-process>"
        registry.register("metrics", "always_one")(always_one)  # same object: fine
        with pytest.raises(ft.PluginError, match="already taken"):
            registry.register("metrics", "always_one")(lambda y_true, y_pred: 2.0)
        with pytest.raises(ft.PluginError, match="already taken.*fairtrain"):
            registry.register("samplers", "homogeneous")(object)
    finally:
        registry.unregister("metrics", "always_one")
    assert "always_one" not in registry.available("metrics")


def test_cli_prints_the_plugin_table(capsys):
    from fairtrain.cli import main

    assert main(["plugins", "--kind", "samplers"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["kind", "name", "distribution", "target"]
    assert any(line.split()[:3] == ["samplers", "homogeneous", "fairtrain"] for line in out)
