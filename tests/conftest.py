"""Shared pytest/hypothesis configuration.

Profiles (``HYPOTHESIS_PROFILE``):

- ``default`` — *derandomized* (a fixed example sequence per test), no deadline: local runs
  are reproducible and never flaky;
- ``random`` — fresh random examples from the seed given by ``--hypothesis-seed=SEED``
  (``.ci/run`` draws one, prints it, and a failure replays with
  ``HYPOTHESIS_PROFILE=random python -m pytest -m hypothesis --hypothesis-seed=SEED``);
- ``explore`` — like ``random`` with 500 examples per test, for a longer local search;
- ``mutation`` — derandomized, 10 examples, no shrinking: a failing mutant is reported fast
  (used by the mutation-testing runs of ``docs/check.md``).

Found counterexamples are pinned in the tests with ``@example``.
"""
import os

from hypothesis import HealthCheck, Phase, settings

_common = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("default", derandomize=True, **_common)
settings.register_profile("random", derandomize=False, **_common)
settings.register_profile("explore", derandomize=False, max_examples=500, **_common)
settings.register_profile("mutation", derandomize=True, max_examples=10,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate], **_common)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(_PROFILE)


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed", default=None)
    how = "derandomized" if settings().derandomize else f"seed {seed if seed is not None else 'random, unprinted'}"
    return f"rnn-theory: hypothesis profile {_PROFILE!r} ({how})"


def pytest_runtest_logreport(report):
    """With ``RNN_THEORY_SKIPPED_FILE`` set, append the id of every skipped test to that file.

    ``.ci/run`` runs the README's test command literally (``pip install ".[test]"``, no
    optional extras), then installs the extras and reruns exactly the tests that were
    skipped, so both the bare install and the optional paths are tested.
    """
    path = os.environ.get("RNN_THEORY_SKIPPED_FILE")
    if path and report.skipped and report.when in ("setup", "call"):
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(report.nodeid + "\n")
