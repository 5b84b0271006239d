r"""Numeric outlier of :math:`W = W_0 + \Delta W` along learning: :func:`top_eigenvalue`, :func:`emergence_time`.

For g > 0, :math:`\Delta W` is the order-``order`` τ̃-series of the flow (its coefficient
matrix over atoms, :func:`rnn_theory.theory.outlier.equation.outlier_system`) and the
outlier is the largest real root :math:`\lambda > g` of
:math:`f(\lambda) = \det(I - C(\tilde\tau)M(\lambda))` (large N).  At g = 0 the bulk is the
point 0, and :math:`\Delta W` is the exact 2×2 solution :math:`A = [[a, b], [c, a]]` of
:mod:`rnn_theory.theory.exact_g0` (or its series with ``method="series"``); the same
equation with :math:`M(\lambda) = I/\lambda` is solved.
"""
from __future__ import annotations

import numpy as np

from ..errors import DomainError, check_finite, check_gain, check_real

__all__ = ["top_eigenvalue", "emergence_time", "outlier_function"]

_N_GRID = 400


def _checked(g, zhat, tau, order, method):
    gf = float(check_gain(g))
    zf = check_real("zhat", zhat)
    t = check_finite("tau", np.asarray(tau, dtype=float))
    if np.any(t < 0):
        raise DomainError(f"tau must be >= 0 (learning time starts at 0); got min {t.min()!r}")
    if order not in (3, 4, 5, 6, 7):
        raise DomainError(f"order must be one of 3, 4, 5, 6, 7 (the series of Delta W), got {order!r}")
    if method not in ("auto", "series", "exact"):
        raise DomainError(f"method must be 'auto', 'series' or 'exact', got {method!r}")
    if method == "exact" and gf != 0:
        raise DomainError(f"method='exact' needs g = 0 (the exact solution is the g = 0 one), got g = {gf}")
    return gf, zf, t


def outlier_function(g, zhat, tau, *, order: int = 5):
    r"""``(f, bound)``: :math:`f(\lambda)` = det(I − C M(λ)) vectorised over λ for one (g, ẑ, τ), and an upper bound on :math:`|\lambda|`.

    ``tau`` is gradient-flow time τ (converted to :math:`\tilde\tau = \tau/(1-g^2)^2`).
    The bound is :math:`\|W_0\| + \|\Delta W\| \le 2g + \sum|C_{ij}|\,\|a_i\|\|b_j\|`.
    """
    from .equation import numeric_system, outlier_system

    fC, fM, _ = numeric_system(order)
    x = g * g
    tt = tau / (1 - x) ** 2
    C = np.asarray(fC(tt, zhat, x), dtype=float)
    sysm = outlier_system(order)
    norms_l = np.array([_atom_norm(a, g) for a in sysm["left"]])
    norms_r = np.array([_atom_norm(b, g) for b in sysm["right"]])
    bound = 2 * g + float(np.sum(np.abs(C) * np.outer(norms_l, norms_r)))
    eye = np.eye(C.shape[0])

    def f(lams):
        lams = np.atleast_1d(np.asarray(lams, dtype=float))
        return np.linalg.det(eye[None] - C[None] @ fM(x, lams))

    return f, bound


def _atom_norm(atom, g):
    from .. import random_matrix as rm

    base, word = atom
    coeffs = rm.phi_beta_coeffs(rm._transpose(word) + word) if word else (1,)
    b = 1.0 / (1.0 - g * g)
    return float(np.sqrt(sum(c * b**k for k, c in enumerate(coeffs))))


def _top_root(f, lo, hi):
    """Largest root of f in (lo, hi] by a grid dense near lo, then brentq; NaN if none."""
    from scipy.optimize import brentq

    s = np.linspace(0.0, 1.0, _N_GRID + 1)[1:]
    grid = lo + (hi - lo) * s**2
    vals = f(grid)
    sign = np.sign(vals)
    idx = np.nonzero(sign[:-1] * sign[1:] <= 0)[0]
    if idx.size == 0:
        return float("nan")
    k = idx[-1]
    if vals[k + 1] == 0:
        return float(grid[k + 1])
    return float(brentq(lambda lv: float(f([lv])[0]), grid[k], grid[k + 1], xtol=1e-13, rtol=1e-12))


def top_eigenvalue(g, zhat, tau, *, order: int = 5, method: str = "auto"):
    r"""Top real eigenvalue of :math:`W = W_0 + \Delta W` outside the bulk (N → ∞), NaN where there is none.

    Parameters
    ----------
    g : float
        Gain, :math:`0 \le g < 1` (the bulk of :math:`W_0` fills the disc of radius g).
    zhat : float
        Target; the outlier is even in :math:`\hat z`.
    tau : array_like
        Gradient-flow times :math:`\tau = \eta\cdot\text{steps}` (:math:`\tilde\tau = \beta^2\tau`), ≥ 0.
    order : int
        Order of the τ̃-series of :math:`\Delta W` (3 to 7; default 5) used for g > 0.
    method : {"auto", "series", "exact"}
        ``auto``: exact 2×2 solution at g = 0, series for g > 0.

    Returns
    -------
    ndarray
        :math:`\lambda_{\rm out}(\tau)`, the largest real root :math:`\lambda > g` of
        :math:`\det(I - C M(\lambda)) = 0`; NaN where no real eigenvalue lies outside the bulk
        (always at τ = 0).  Cost: one-off derivation (~1–3 s at order 5), then
        :math:`O(400\,k^3)` per τ for a k-atom series (k = ``order``).

    >>> lam = top_eigenvalue(0.0, 1.0, [0.0, 0.5])
    >>> bool(np.isnan(lam[0])), round(float(lam[1]), 6)
    (True, 0.184538)
    """
    gf, zf, t = _checked(g, zhat, tau, order, method)
    flat = np.ravel(t)
    out = np.full(flat.shape, np.nan)
    if gf == 0 and method in ("auto", "exact"):
        from ..exact_g0 import solve

        sol = solve(abs(zf), flat)
        for i, (a_, b_, c_) in enumerate(zip(sol["a"], sol["b"], sol["c"])):
            A = np.array([[a_, b_], [c_, a_]])
            if not np.any(A):
                continue

            def f(lams, A=A):  # det(I - A/lambda), M(lambda) = I/lambda at g = 0
                lams = np.atleast_1d(np.asarray(lams, dtype=float))
                return np.array([np.linalg.det(np.eye(2) - A / lv) for lv in lams])

            out[i] = _top_root(f, 1e-300 + 1e-12 * np.abs(A).max(), 2 * np.abs(A).sum() + 1e-300)
        return out.reshape(t.shape)
    for i, tv in enumerate(flat):
        if tv == 0 or zf == 0:
            continue
        f, bound = outlier_function(gf, abs(zf), tv, order=order)
        lo = gf * (1 + 1e-9) if gf > 0 else 1e-12
        out[i] = _top_root(f, lo, max(bound, lo * 2))
    return out.reshape(t.shape)


def emergence_time(g, zhat, *, order: int = 5, tau_max=None):
    r"""Learning time τ at which the outlier leaves the bulk: the first root of :math:`f(\lambda = g; \tau) = 0`.

    Returns ``(tau, tau_tilde)``; NaN if it does not happen before ``tau_max`` (default
    :math:`\tilde\tau = 0.6`: at ẑ = 0.5 the orders 4–6 of :math:`f(g;\tilde\tau)` agree within
    0.05 up to there and disagree by more than 0.1 beyond τ̃ ≈ 0.9; at ẑ = 2 the series
    breaks down beyond τ̃ ≈ 0.3, after the outlier has left the bulk at τ̃ ≈ 0.2).  At g = 0
    the outlier exists for every τ > 0, so the answer is 0.  Cost: a scan of 300 values
    of τ, then ``brentq``.
    """
    from scipy.optimize import brentq

    gf, zf, _ = _checked(g, zhat, 0.0, order, "auto")
    if gf == 0:
        return 0.0, 0.0
    beta2 = 1.0 / (1 - gf * gf) ** 2
    tmax = 0.6 / beta2 if tau_max is None else float(tau_max)

    from .equation import numeric_system

    fC, fM, shape = numeric_system(order)
    Mg = fM(gf * gf, [gf])[0]  # M(lambda = g): the edge of the bulk
    eye = np.eye(shape[0])

    def h(tv):
        C = np.asarray(fC(tv * beta2, abs(zf), gf * gf), dtype=float)
        return float(np.linalg.det(eye - C @ Mg))

    grid = np.linspace(0, tmax, 301)
    vals = np.array([h(tv) for tv in grid])
    idx = np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) <= 0)[0]
    if idx.size == 0:
        return float("nan"), float("nan")
    k = idx[0]
    tc = float(brentq(h, grid[k], grid[k + 1], xtol=1e-14, rtol=1e-12))
    return tc, tc * beta2
