"""The example scripts' command lines, without training (issue 19 §5)."""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("*.py"))
ROOT = EXAMPLES.parent


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_experiment_has_its_script():
    assert SCRIPTS == ["adaptive_comparison", "age_bias", "celeba_gender",
                       "fairbatch_synthetic", "tabular_fairness", "utkface_race",
                       "vggface2_ethnicity"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_imports_neither_keras_nor_tensorflow(name):
    # `--help` took 12-17 s where a script imported Keras (and so TensorFlow) at the top
    probe = (
        "import runpy, sys\n"
        f"sys.argv = [{str(EXAMPLES / name)!r} + '.py', '--help']\n"
        "try:\n"
        f"    runpy.run_path({str(EXAMPLES / name)!r} + '.py', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch', 'sklearn')"
        " if m in sys.modules))\n"
    )
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--smoke" in done.stdout and "--out" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []"


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_has_smoke_and_an_out_folder(name, tmp_path):
    # the README promises --smoke for every example; --out is a folder for all of them
    for needed in ("tensorflow", "PIL", "matplotlib", "sklearn"):
        if importlib.util.find_spec(needed) is None:  # parse() checks them, and exits
            pytest.skip(f"{needed} is not installed")
    module = load(name)
    args = module.parse(["--smoke", "--out", str(tmp_path / "out")])
    assert args.smoke and args.out == str(tmp_path / "out")


def test_a_missing_optional_module_is_named_before_any_work(tmp_path, monkeypatch):
    # utkface_race.py --smoke failed after 26 s of training: No module named 'sklearn'
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sklearn" else real(name, *a))
    module = load("utkface_race")
    with pytest.raises(SystemExit) as exc:
        module.main(["--smoke", "--out", str(tmp_path / "out")])
    message = str(exc.value)
    assert "scikit-learn (module sklearn)" in message
    assert 'fairtrain[examples]' in message and '.[examples]' in message
    assert not (tmp_path / "out").exists()  # refused before the output folder, too


def test_adaptive_comparison_refuses_a_file_as_out(tmp_path, capsys):
    mine = tmp_path / "results.json"
    mine.write_text("user data")
    with pytest.raises(SystemExit, match="is a file"):
        load("adaptive_comparison").main(["--smoke", "--out", str(mine)])
    assert mine.read_text() == "user data"


def test_the_examples_extra_brings_every_module_the_scripts_need():
    # one extra is enough for every example, and the README names it
    tomllib = pytest.importorskip("tomllib")
    from fairtrain.experiments.arguments import OPTIONAL_MODULES

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    names = {re.split(r"[<>=;\[ ]", d)[0] for d in extras["demo"] + extras["examples"]}
    assert "fairtrain[demo]" in extras["examples"]
    assert {"pillow", "matplotlib", "tensorflow-cpu", "tensorflow"} <= names
    for script in EXAMPLES.glob("*.py"):
        text = script.read_text()
        for module, dist in OPTIONAL_MODULES.items():
            if re.search(rf"^\s*(import|from) {module}\b", text, re.M):
                assert dist in names, (script.name, module)
                assert f'"{module}"' in text, f"{script.name} does not check {module} first"
    assert ".[examples]" in (ROOT / "README.md").read_text()


def test_summary_settings_hold_no_internals():
    from argparse import ArgumentParser

    from fairtrain import experiments

    parser = experiments.add_example_arguments(ArgumentParser(), backbones=["tiny"],
                                               epochs=3, batch_size=8, image_size=32)
    args = experiments.resolve_example_arguments(parser.parse_args(["--smoke", "--out", "x"]))
    settings = experiments.example_settings(args)
    assert "_defaults" not in settings and "verbose" not in settings
    assert settings["epochs"] == 1 and settings["quiet"] is False
    json.dumps(settings)
