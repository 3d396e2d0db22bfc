"""Shared test configuration: Hypothesis profiles selected by the CI variable."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The plugin packages under tests/plugins are installed by the registry tests, never
# imported by collection (which would defeat the laziness and import-failure checks).
collect_ignore_glob = ["plugins/*"]
