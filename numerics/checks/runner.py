"""The registry of checks and :func:`run_checks`, which runs them into a :class:`CheckReport`."""
from __future__ import annotations

import os
import time
from typing import Callable

from rnn_theory.numerics.checks.absolute import check_absolute
from rnn_theory.numerics.checks.beyond import check_beyond
from rnn_theory.numerics.checks.collapse import check_collapse
from rnn_theory.numerics.checks.divergence import check_divergence
from rnn_theory.numerics.checks.early import check_early
from rnn_theory.numerics.checks.g0 import check_g0
from rnn_theory.numerics.checks.gradients import check_gradients
from rnn_theory.numerics.checks.identities import check_identities
from rnn_theory.numerics.checks.moments import check_moments
from rnn_theory.numerics.checks.outlier import check_outlier
from rnn_theory.numerics.checks.report import CheckReport, CheckRow, Settings
from rnn_theory.numerics.checks.stability import check_stability_threshold
from rnn_theory.numerics.checks.sweep import check_sweep
from rnn_theory.numerics.checks.user import user_rows

__all__ = ["CHECKS", "run_checks"]


CHECKS: dict[str, Callable] = {
    "gradient": check_gradients,
    "identities": check_identities,
    "moments": check_moments,
    "early": check_early,
    "sweep": check_sweep,
    "absolute": check_absolute,
    "g0": check_g0,
    "stability": check_stability_threshold,
    "divergence": check_divergence,
    "collapse": check_collapse,
    "beyond": check_beyond,
    "outlier": check_outlier,
}


def run_checks(quick: bool = False, *, only=None, workers: int | None = None, show_progress: bool = True,
               echo: Callable[[str], None] | None = None, user_modules=()) -> CheckReport:
    """Run the checks (all, or the names in ``only``) and return a :class:`CheckReport`.

    ``workers``: processes for the multi-run checks (default: 1 in quick mode, else the CPU
    count, at most 4).  A check that raises is reported as a failed row with the message.
    ``user_modules``: ``(name, module)`` pairs of a user's own checks, run after the
    package's (see :mod:`rnn_theory.numerics.checks.user`).
    """
    if workers is None:
        workers = min(2 if quick else 4, os.cpu_count() or 1)
    settings = Settings(quick=quick, workers=max(1, int(workers)), show_progress=show_progress)
    names = list(CHECKS) if only is None else list(only)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        from rnn_theory.theory.errors import DomainError

        raise DomainError(f"unknown check(s) {unknown}; choose from {sorted(CHECKS)}")
    report = CheckReport([], {}, quick)
    cache: dict = {}
    for name in names:
        t0 = time.perf_counter()
        fn = CHECKS[name]
        try:
            rows = fn(settings, cache) if name in ("sweep", "collapse") else fn(settings)
        except Exception as exc:  # reported as a failure, never hidden
            rows = [CheckRow(name, "check raised an exception", float("nan"), float("nan"), float("nan"), False,
                             f"{type(exc).__name__}: {exc}")]
        dt = time.perf_counter() - t0
        if rows:
            report.seconds[rows[0].check] = report.seconds.get(rows[0].check, 0.0) + dt
        report.rows.extend(rows)
        if echo is not None:
            echo(f"{name}: {len(rows)} rows in {dt:.1f} s")
    for name, module in user_modules:
        t0 = time.perf_counter()
        rows = user_rows(name, module, quick)
        report.seconds[name] = report.seconds.get(name, 0.0) + time.perf_counter() - t0
        report.rows.extend(rows)
        if echo is not None:
            echo(f"{name}: {len(rows)} rows in {report.seconds[name]:.1f} s")
    return report
