r"""Check 7 (beyond the paper): the outlier eigenvalue of :math:`W = W_0 + \Delta W` vs :func:`rnn_theory.theory.outlier.top_eigenvalue`.

Simulations: the paper's network trained by GD (:math:`\eta = \mathrm{lr}_0(1-g^2)^2`), the
top real eigenvalue of W above the bulk found exactly from the low-rank :math:`\Delta W`
(:func:`rnn_theory.numerics.linear.outlier.finite_n_outlier`).  Theory: the largest real root
:math:`\lambda > g` of the large-N outlier equation with the order-5 series of
:math:`\Delta W`.  The big-N table (N = 2048) is ``docs/data/outlier_n2048.csv``
(:mod:`rnn_theory.numerics.checks.outlier_table`).
"""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.checks.parallel import _pmap
from rnn_theory.numerics.checks.report import Settings, _mean_sem, _row, _tcrit

__all__ = ["check_outlier", "OUTLIER_CASES"]

#: judged points: (g, zhat, lr0, steps); tau~ = lr0 * steps
OUTLIER_CASES = ((0.3, 2.0, 0.003, 80), (0.6, 2.0, 0.003, 80), (0.3, 0.5, 0.015, 40), (0.6, 0.5, 0.015, 40))
ORDER = 5


def _outlier_run(cfg):
    from rnn_theory.numerics.linear.outlier import outlier_trajectory

    r = outlier_trajectory(cfg["n"], cfg["g"], cfg["zhat"], cfg["lr0"], [cfg["steps"]], cfg["seed"])
    return float(r["outlier"][0])


def _theory(g, zhat, tt):
    """Order-5 value, the size of the last retained order |lam5 - lam4|, and d lam / d tau~."""
    from rnn_theory.theory.outlier import top_eigenvalue

    b2 = 1.0 / (1 - g * g) ** 2
    h = 1e-3
    lam5 = top_eigenvalue(g, zhat, np.array([tt - h, tt, tt + h]) / b2, order=ORDER)
    lam4 = top_eigenvalue(g, zhat, np.array([tt]) / b2, order=ORDER - 1)[0]
    return float(lam5[1]), float(abs(lam5[1] - lam4)), float((lam5[2] - lam5[0]) / (2 * h))


def check_outlier(settings: Settings) -> list:
    r"""Outlier of W during learning: value at ẑ = 2 (g = 0.3, 0.6, τ̃ = 0.24), absence at ẑ = 0.5 (τ̃ = 0.6).

    Tolerance of a value: Student-t bound over seeds (the finite-N scatter of the outlier,
    :math:`O(N^{-1/2})`) plus two named systematic terms: the series truncation, estimated by
    the effect of the last retained order :math:`|\lambda_5 - \lambda_4|`, and the GD
    discretisation, one step's change :math:`\mathrm{lr}_0|d\lambda/d\tilde\tau|`.  Absence: the
    theory has no root :math:`\lambda > g`; a seed counts as having an outlier when its top real
    eigenvalue exceeds :math:`g(1 + 4/\sqrt N)` (4 × the :math:`O(g/\sqrt N)` bulk-edge scale);
    the row passes when no seed has one.  τ̃ = 0.6 at ẑ = 0.5 because beyond τ̃ ≈ 0.9 the
    series orders 4–6 of :math:`f(g;\tilde\tau)` disagree by more than 0.1 (the series cannot
    decide the absence there).
    """
    n = 512 if settings.quick else 1024
    seeds = 6
    cfgs = [dict(n=n, g=g, zhat=z, lr0=lr0, steps=st, seed=s) for g, z, lr0, st in OUTLIER_CASES for s in range(seeds)]
    vals = _pmap(_outlier_run, cfgs, settings, "outlier runs")
    rows = []
    for g, z, lr0, st in OUTLIER_CASES:
        sim = np.array([v for c, v in zip(cfgs, vals) if (c["g"], c["zhat"]) == (g, z)])
        tt = lr0 * st
        th, trunc, slope = _theory(g, z, tt)
        if np.isfinite(th):
            mean, sem = _mean_sem(sim)
            rows.append(_row("outlier of W (beyond paper)", f"lambda_out, g={g}, zhat={z}, tau~={tt:.2f}", th, mean,
                             stat=_tcrit(seeds) * sem, sys_=trunc + lr0 * abs(slope), n=seeds,
                             note=f"N={n}; truncation |lam5-lam4| = {trunc:.3g}, GD step {lr0 * abs(slope):.2g}"))
        else:
            margin = g * (1 + 4 / np.sqrt(n))
            count = int(np.sum(np.nan_to_num(sim, nan=-np.inf) > margin))
            rows.append(_row("outlier of W (beyond paper)", f"# seeds with outlier, g={g}, zhat={z}, tau~={tt:.2f}",
                             0.0, float(count), tol=0.0, n=seeds,
                             note=f"theory: no root lambda > g (order {ORDER}); sim top real eig "
                                  f"max {np.nanmax(np.append(sim, -np.inf)):.3g} vs g(1+4/sqrt N) = {margin:.3g}"))
    return rows
