"""Fixtures of the data tests: local processes for the multi-process tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import SimpleNamespace

import pytest


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (held together while chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def run_all(
    argvs: Sequence[Sequence[str]],
    envs: Sequence[Mapping[str, str]],
    *,
    what: str,
    timeout: float,
) -> list[str]:
    """Run ``python argv`` once per argv, together; fail past ``timeout`` or on an error.

    Every process is ended before this returns, whatever happened. Returns their
    outputs (stdout and stderr together).
    """
    procs = []
    try:
        for argv, env in zip(argvs, envs):
            procs.append(subprocess.Popen(
                [sys.executable, *argv], env=dict(env), stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True,
            ))
        deadline = time.monotonic() + timeout
        outputs = []
        for proc in procs:
            try:
                out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"{what} ran past {timeout:.0f} s")
            outputs.append(out)
        for proc, out in zip(procs, outputs):
            assert proc.returncode == 0, out[-4000:]
        return outputs
    finally:
        for proc in procs:  # every process ends with the test
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture
def local_processes() -> SimpleNamespace:
    """``free_ports(n)`` and ``run_all(argvs, envs, what=, timeout=)``."""
    return SimpleNamespace(free_ports=free_ports, run_all=run_all)
