r"""Theory-vs-simulation checks of the linear theory: the table printed by ``rnn-theory check``.

Every row compares a closed form from :mod:`theory` (derived by sympy) with an
independent simulation from :mod:`rnn_theory.numerics.linear`, with a tolerance that is stated and
justified.  Tolerances are of three kinds, reported separately in the JSON output:

* **round-off** for exact identities (gradients, rank): a fixed multiple of machine
  precision times the condition of the problem;
* **statistical**: the two-sided Student-t bound :math:`t_{1-\alpha/2,n-1}\,s/\sqrt n`
  on a mean over ``n`` independent draws (seeds), or :math:`z_{1-\alpha/2}\sigma/\sqrt n`
  when the per-draw spread :math:`\sigma` is itself a derived moment (R3), with
  :math:`\alpha = 10^{-3}` (:data:`ALPHA`);
* **systematic**: a *named* allowance for a known, neglected effect — the gradient-descent
  discretisation (measured by halving the step), the truncation of a series in
  :math:`\tilde\tau` (the size of the next order, estimated by the last retained order times
  :math:`\tilde\tau`), or the :math:`O(\hat z^2(\beta - 1))` correction that the first-order
  theory neglects.

All draws use fixed seeds, so the table is deterministic.  The checks (spec section 8):

1. **R1** BPTT = fixed-point gradient = finite differences (and a complex-step
   derivative); the BPTT gradient is rank one.
2. **R3/R4** moment rule :math:`\|Bm\|^2/\|m\|^2 \to \beta` at N = 2000, and the speed-up
   :math:`G(0)\to\beta^2`.
3. **R6** early learning: Taylor coefficients and values of :math:`z - z_0`, :math:`s_1`,
   :math:`s_2` vs the third-order series at :math:`\tilde\tau \le 0.2`, N ≥ 1024.
4. **R5/R7** over g = 0…0.9 at ẑ = 0.5: normalised :math:`\tau_c`, :math:`\|\Delta W\|`, mean
   gradient vs :math:`(1-g^2)^2`, :math:`1-g^2`, :math:`1/(1-g^2)`; the shuffle law for the
   first-order construction; the measured shuffle loss of trained networks (reported) and
   the drift at ẑ = 2 (reported).  **R5 absolute** (:mod:`~rnn_theory.numerics.checks.absolute`):
   the same observables at ẑ = 0.2, not normalised, vs the derived first-order solution.
5. **R8** g = 0: learning curve, :math:`\tau_c`, final :math:`\|\Delta W\|`, :math:`s_2`, top
   eigenvalue vs the exact solution; exact rank 2.
6. **Collapse**: the time to a quarter of the way, in :math:`\tilde\tau`, vs g.
7. **Outlier** (beyond the paper): the top real eigenvalue of :math:`W` outside the bulk vs
   :func:`rnn_theory.theory.outlier.top_eigenvalue` (:mod:`~rnn_theory.numerics.checks.outlier`).

Public API: :func:`run_checks` → :class:`CheckReport` (``.rows``, ``.passed``,
``.table()``, ``.to_json()``), :data:`CHECKS`.

Modules: :mod:`~rnn_theory.numerics.checks.report` (rows, report, settings, statistics),
:mod:`~rnn_theory.numerics.checks.parallel` (process-pool map), one module per check —
:mod:`~rnn_theory.numerics.checks.gradients`, :mod:`~rnn_theory.numerics.checks.moments`,
:mod:`~rnn_theory.numerics.checks.early`, :mod:`~rnn_theory.numerics.checks.sweep`,
:mod:`~rnn_theory.numerics.checks.g0`, :mod:`~rnn_theory.numerics.checks.collapse` — and
:mod:`~rnn_theory.numerics.checks.runner` (:data:`CHECKS`, :func:`run_checks`).  Every name
is importable from this package.
"""
from __future__ import annotations

# private helpers are re-exported so that ``checks._row`` etc. keep working
from rnn_theory.numerics.checks.absolute import check_absolute  # noqa: F401
from rnn_theory.numerics.checks.collapse import check_collapse  # noqa: F401
from rnn_theory.numerics.checks.early import _early_run, _poly_coeffs, check_early  # noqa: F401
from rnn_theory.numerics.checks.g0 import _g0_run, _top_eig_lowrank, check_g0  # noqa: F401
from rnn_theory.numerics.checks.gradients import _EPS, check_gradients  # noqa: F401
from rnn_theory.numerics.checks.moments import check_moments  # noqa: F401
from rnn_theory.numerics.checks.outlier import check_outlier  # noqa: F401
from rnn_theory.numerics.checks.parallel import _pmap  # noqa: F401
from rnn_theory.numerics.checks.report import (  # noqa: F401
    ALPHA,
    GAINS,
    CheckReport,
    CheckRow,
    Settings,
    _mean_sem,
    _ratio_stats,
    _rng,
    _row,
    _tcrit,
)
from rnn_theory.numerics.checks.runner import CHECKS, run_checks
from rnn_theory.numerics.checks.stability import check_stability_threshold  # noqa: F401
from rnn_theory.numerics.checks.sweep import (  # noqa: F401
    _drift,
    _shuffle_construction,
    _sweep_configs,
    _sweep_run,
    check_sweep,
)

__all__ = ["CheckRow", "CheckReport", "Settings", "CHECKS", "run_checks", "ALPHA"]
