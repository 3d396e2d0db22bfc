"""Shared test configuration: Hypothesis profiles selected by the CI variable."""

from __future__ import annotations

import os

import pytest
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

#: Markers of tests that are not unit-level (docs build, --smoke examples, processes
#: started, a wheel downloaded, a model trained for more than a few seconds): each is
#: also marked ``integration``, which the README's test command leaves out and
#: ``.ci/run`` runs after it.
INTEGRATION = ("slow", "examples", "realdata")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.get_closest_marker(name) for name in INTEGRATION):
            item.add_marker(pytest.mark.integration)


# The plugin packages under tests/plugins are installed by the registry tests, never
# imported by collection (which would defeat the laziness and import-failure checks).
collect_ignore_glob = ["plugins/*"]
