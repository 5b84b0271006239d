r"""Rows, report and settings of ``rnn-theory check``, and the statistics every check shares.

:class:`CheckRow` is one table row (theory, simulated value, tolerance split into its
statistical and systematic parts); :func:`_row` builds one and decides the verdict;
:class:`CheckReport` prints the table and the JSON; :class:`Settings` holds the run sizes
(``quick`` selects the small set).  Statistics: :func:`_mean_sem` (mean and standard error),
:func:`_ratio_stats` (ratio of means, delta-method error), :func:`_tcrit` (two-sided
Student-t quantile at :data:`ALPHA`); :func:`_rng` gives the fixed seeds.  All :math:`O(n)`.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from rnn_theory.numerics.testing import DEFAULT_ALPHA, t_critical

__all__ = ["CheckRow", "CheckReport", "Settings", "ALPHA", "GAINS"]

#: two-sided false-alarm probability of each statistical row
ALPHA = DEFAULT_ALPHA

#: gains of the full g sweep (checks 4 and 6)
GAINS = tuple(round(0.1 * k, 1) for k in range(10))


@dataclass
class CheckRow:
    """One row of the table; ``passed`` is None for rows that only report a number."""

    check: str
    name: str
    theory: float
    simulated: float
    tolerance: float
    passed: bool | None
    note: str = ""
    statistical: float = 0.0
    systematic: float = 0.0
    n_samples: int = 1

    @property
    def verdict(self) -> str:
        return "info" if self.passed is None else ("PASS" if self.passed else "FAIL")


def _row(check, name, theory, sim, stat=0.0, sys_=0.0, n=1, note="", info=False, tol=None):
    tol = float(stat + sys_) if tol is None else float(tol)
    dev = abs(sim - theory)
    passed = None if info else bool(np.isfinite(sim) and dev <= tol)
    return CheckRow(check, name, float(theory), float(sim), tol, passed, note, float(stat), float(sys_), int(n))


@dataclass(frozen=True)
class Settings:
    """Sizes of the check runs (``quick`` selects the small set)."""

    quick: bool = False
    workers: int = 1
    show_progress: bool = True

    # check 2: moment rule
    @property
    def moment_n(self):
        return 2000

    @property
    def moment_draws(self):
        return 1 if self.quick else 3

    # check 3: early curves
    @property
    def early_n(self):
        return 1024 if self.quick else 2048

    @property
    def early_seeds(self):
        return 10

    # check 4 / 6: g sweep
    @property
    def sweep_n(self):
        return 512 if self.quick else 1024

    @property
    def sweep_seeds(self):
        return 10

    @property
    def sweep_gains(self):
        return (0.0, 0.2, 0.4, 0.6, 0.8) if self.quick else GAINS

    # check 5: g = 0
    @property
    def g0_n(self):
        return 512 if self.quick else 1024

    @property
    def g0_seeds(self):
        return 12 if self.quick else 16


@dataclass
class CheckReport:
    """Rows of all checks, with timings."""

    rows: list
    seconds: dict = field(default_factory=dict)
    quick: bool = False

    @property
    def passed(self) -> bool:
        return all(r.passed is not False for r in self.rows)

    @property
    def n_failed(self) -> int:
        return sum(r.passed is False for r in self.rows)

    def table(self, notes: bool = True) -> str:
        """Fixed-width text table (one line per row; notes under their check)."""
        head = f"{'check':<46} {'theory':>11} {'simulated':>11} {'|dev|':>9} {'tolerance':>9}  verdict"
        lines = [head, "-" * len(head)]
        current = None
        for r in self.rows:
            if r.check != current:
                current = r.check
                secs = self.seconds.get(current)
                lines.append(f"[{current}]" + (f"  ({secs:.1f} s)" if secs is not None else ""))
            dev = abs(r.simulated - r.theory)
            tol = f"{r.tolerance:>9.2g}" if math.isfinite(r.tolerance) else f"{'sign':>9}"
            lines.append(f"  {r.name:<44} {r.theory:>11.5g} {r.simulated:>11.5g} {dev:>9.2g} {tol}  {r.verdict}")
            if notes and r.note:
                lines.append(f"      {r.note}")
        n_pass = sum(r.passed is True for r in self.rows)
        n_info = sum(r.passed is None for r in self.rows)
        lines.append("-" * len(head))
        lines.append(f"{n_pass} passed, {self.n_failed} failed, {n_info} reported "
                     f"({'quick' if self.quick else 'full'} mode, {sum(self.seconds.values()):.1f} s)")
        return "\n".join(lines)

    def to_json(self) -> str:
        rows = []
        for r in self.rows:
            d = asdict(r)
            d["verdict"] = r.verdict
            d["deviation"] = abs(r.simulated - r.theory)
            rows.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()})
        return json.dumps({"passed": self.passed, "quick": self.quick, "alpha": ALPHA,
                           "seconds": self.seconds, "rows": rows}, indent=2)


# ======================================================================================
# statistics and seeds
# ======================================================================================
def _rng(*key):
    return np.random.default_rng([20200611, *key])


def _tcrit(n):
    return t_critical(n, ALPHA)


def _mean_sem(x):
    x = np.asarray(x, dtype=float)
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(x.size))


def _ratio_stats(num, den):
    """Mean of num / mean of den and its delta-method standard error."""
    a, sa = _mean_sem(num)
    b, sb = _mean_sem(den)
    R = a / b
    return R, abs(R) * math.sqrt((sa / a) ** 2 + (sb / b) ** 2)
