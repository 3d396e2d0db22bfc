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
