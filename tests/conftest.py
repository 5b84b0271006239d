"""Shared pytest/hypothesis configuration.

Hypothesis runs *derandomized* (a fixed example sequence), with no deadline, so the
numerical property tests are reproducible and never flaky; set
``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, max_examples=500, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
