"""`.ci/run` runs the README's test command verbatim and fails when any step of it fails."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".ci" / "run"


def _readme_test_command() -> str:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert len(blocks) >= 2, "the README's set-up has two commands"
    return blocks[1].strip()


def test_ci_runs_the_readme_test_command_verbatim():
    command = _readme_test_command()
    lines = RUN.read_text().splitlines()
    assert sum(command in line for line in lines) == 1
    assert any(line.startswith(command) for line in lines)


def _run_with(tmp_path: Path, command: str) -> subprocess.CompletedProcess:
    script = RUN.read_text().replace(_readme_test_command(), command)
    # the integration runs after it need the project's .venv: stub them out here
    script = script.replace('integration() { .venv/bin/python -m pytest', 'integration() { true')
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_text(script)
    return subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True,
                          text=True, timeout=60)


def test_a_failing_step_in_the_middle_fails_ci(tmp_path):
    # Before: `set -e` ignored the failure inside the && chain and CI exited 0.
    done = _run_with(tmp_path, "true && false && true")
    assert done.returncode != 0
    assert "exit status 1" in done.stdout


def test_a_passing_command_passes_ci(tmp_path):
    done = _run_with(tmp_path, "true && true")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_the_integration_tests_the_readme_command_leaves_out():
    text = RUN.read_text()
    assert '-m "not integration"' in _readme_test_command()
    assert 'integration() { .venv/bin/python -m pytest -n 2 -m "$@"' in text
    for backend in ("tensorflow", "jax", "torch"):
        assert backend in text.split("for backend in", 1)[1].splitlines()[0]


def test_a_failing_integration_run_fails_ci(tmp_path):
    script = RUN.read_text().replace(_readme_test_command(), "true")
    script = script.replace('integration() { .venv/bin/python -m pytest -n 2 -m "$@";',
                            'integration() { false;')
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_text(script)
    done = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
