r"""Check 2: the moment rule :math:`\|Bm\|^2/\|m\|^2 \to \beta` (R3) and the speed-up :math:`G(0) \to \beta^2` (R4)."""
from __future__ import annotations

import math

import numpy as np

from rnn_theory.numerics.checks.report import ALPHA, Settings, _mean_sem, _row, _rng, _tcrit

__all__ = ["check_moments"]


def check_moments(settings: Settings) -> list:
    r""":math:`\|Bm\|^2/\|m\|^2 \to \varphi(BB^\top) = \beta` and :math:`G(0) \to \beta^2` at N = 2000.

    For ``K`` = 32 exactly normalised m per W0 (and ``draws`` W0), the per-vector standard
    deviation of :math:`m^\top B^\top B m/N` is :math:`\sigma = \sqrt{2(\varphi(BB^\top BB^\top)
    - \varphi(BB^\top)^2)/N}` (Gaussian quadratic form, both moments derived in
    :mod:`rnn_theory.theory.random_matrix`); tolerance :math:`z_{1-\alpha/2}\sigma/\sqrt{K\cdot draws}`.
    The finite-N bias of the trace is O(1/N) (measured < 0.2 % at N = 2000) and is not
    added.  :math:`G(0)` uses the spread of the K·draws samples (Student t).
    """
    import scipy.linalg as sla
    import sympy as sp

    from rnn_theory.theory import random_matrix as rm
    from rnn_theory.theory.linear import speedup

    from rnn_theory.numerics.linear import normalise_inputs

    n, K = settings.moment_n, 32
    rows, rows_g0 = [], []
    for g in (0.3, 0.6, 0.8):
        beta = float(rm.phi("BT").subs(rm.g, sp.nsimplify(g)))  # the derived phi(B B^T), exact rational g
        phi4 = float(rm.phi("BTBT").subs(rm.g, sp.nsimplify(g)))
        sigma = math.sqrt(2 * (phi4 - beta**2) / n)
        ratios, G0 = [], []
        for d in range(settings.moment_draws):
            rng = _rng(20, int(round(g * 10)), d)
            W0 = g * rng.standard_normal((n, n)) / math.sqrt(n)
            lu = sla.lu_factor(np.eye(n) - W0, check_finite=False)
            M = rng.standard_normal((n, K))
            Wv = rng.standard_normal((n, K))
            for j in range(K):
                M[:, j], Wv[:, j] = normalise_inputs(M[:, j], Wv[:, j])
            V = sla.lu_solve(lu, M, check_finite=False)
            U = sla.lu_solve(lu, Wv, trans=1, check_finite=False)
            bm = np.sum(V * V, axis=0) / n
            ratios.extend(bm)
            G0.extend(np.sum(U * U, axis=0) * np.sum(V * V, axis=0))
        from scipy.special import ndtri

        stat = ndtri(1 - ALPHA / 2) * sigma / math.sqrt(len(ratios))
        rows.append(_row("R3 moment rule", f"|Bm|^2/|m|^2, g={g}", beta, float(np.mean(ratios)), stat=stat,
                         n=len(ratios),
                         note=f"N={n}, {settings.moment_draws} W0 x {K} m; theory = derived phi(BB') at g={g}; "
                              f"sigma=sqrt(2(phi(BB'BB')-beta^2)/N)={sigma:.3f}"))
        mu, sem = _mean_sem(G0)
        rows_g0.append(_row("R4 speed-up", f"G(0) = |B'w|^2 |Bm|^2, g={g}", speedup(g), mu,
                         stat=_tcrit(len(G0)) * sem, n=len(G0), note="1/(1-g^2)^2; Student-t bound over the draws"))
    return rows + rows_g0
