r"""Learning curves at several N and their extrapolation to N → ∞ (beyond the paper).

:func:`curve_observables` trains one network (:func:`rnn_theory.numerics.linear.train_linear`,
the :math:`O(N^2)`-per-step Sherman–Morrison trainer) and returns the offset-corrected
observables the large-N theory predicts (:math:`z - z_0`, :math:`G`, :math:`\|\Delta W\|_F`,
:math:`s_1`, :math:`s_2`) on a grid of :math:`\tilde\tau`.  :func:`extrapolate_inverse_n`
fits seed means at several N with :math:`x(N) = x_\infty + a/N` (weighted least squares).
"""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import DomainError

__all__ = ["curve_observables", "extrapolate_inverse_n", "extrapolate_pooled", "OBSERVABLES"]

OBSERVABLES = ("z", "G", "dw_norm", "s1", "s2")


def curve_observables(n: int, g: float, zhat: float, lr0: float, steps: int, seed, *, every: int = 10) -> dict:
    r"""One training run, observables every ``every`` steps (and at the last).

    ``z`` is :math:`z - z_0` (the finite-N offset removed), ``G`` is
    :math:`(\|\partial L/\partial W\|_F/|\varepsilon|)^2 = \|u_W\|^2\|v_W\|^2`, ``dw_norm`` the
    Frobenius norm of :math:`\Delta W`, ``s1``, ``s2`` its top singular values.  ``seed`` is
    anything :func:`numpy.random.default_rng` accepts.  Cost: :math:`O(N^3)` once (LU and
    inverse of :math:`I - W_0`) plus :math:`O(N^2)` per step.

    >>> out = curve_observables(64, 0.3, 1.0, 0.01, 20, 0, every=10)
    >>> out["tau_tilde"].tolist(), sorted(out)
    ([0.0, 0.1, 0.2], ['G', 'dw_norm', 'n', 's1', 's2', 'tau_tilde', 'z', 'z0'])
    """
    from rnn_theory.numerics.linear import train_linear

    if every < 1:
        raise DomainError(f"every must be >= 1, got {every!r}")
    r = train_linear(n, g, zhat, lr0, steps, np.random.default_rng(seed), check_stability=False,
                     sv_every=every, n_sv=3)
    idx = np.unique(np.r_[np.arange(0, steps + 1, every), steps])
    eps = zhat - r.z[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(eps != 0, (r.grad_norm[idx] / np.abs(eps)) ** 2, np.nan)
    return {"n": n, "tau_tilde": r.tau_tilde[idx], "z": r.z[idx] - r.z0, "z0": float(r.z0), "G": G,
            "dw_norm": r.dw_norm[idx], "s1": r.sv[idx, 0], "s2": r.sv[idx, 1]}


def extrapolate_inverse_n(ns, means, sems) -> dict:
    r"""Weighted least-squares fit :math:`\bar x(N) = x_\infty + a/N` to seed means.

    Parameters
    ----------
    ns, means, sems : sequences of equal length (at least 2)
        System sizes, seed means and their standard errors (all > 0).

    Returns
    -------
    dict
        ``x_inf`` and its standard error ``err`` (from the covariance of the weighted fit,
        :math:`(X^\top \Sigma^{-1} X)^{-1}`), ``slope`` ``a``, ``chi2`` and ``dof``
        (goodness of the 1/N form; with ``dof = 0`` the fit is exact and ``chi2 = 0``).
        Cost :math:`O(K)` for K sizes.

    >>> out = extrapolate_inverse_n([1000, 2000, 4000], [1.1, 1.05, 1.025], [0.01, 0.01, 0.01])
    >>> round(out["x_inf"], 10), round(out["slope"], 6)
    (1.0, 100.0)
    """
    ns = np.asarray(ns, dtype=float)
    y = np.asarray(means, dtype=float)
    s = np.asarray(sems, dtype=float)
    if not (ns.shape == y.shape == s.shape) or ns.ndim != 1 or ns.size < 2:
        raise DomainError("ns, means and sems must be 1-d sequences of equal length >= 2")
    if np.any(ns <= 0) or np.any(s <= 0) or not np.all(np.isfinite(np.r_[ns, y, s])):
        raise DomainError("ns and sems must be finite and > 0, means finite")
    X = np.column_stack([np.ones_like(ns), 1.0 / ns])
    Wt = 1.0 / s**2
    A = X.T @ (X * Wt[:, None])
    cov = np.linalg.inv(A)
    beta = cov @ (X.T @ (Wt * y))
    resid = y - X @ beta
    return {"x_inf": float(beta[0]), "err": float(np.sqrt(cov[0, 0])), "slope": float(beta[1]),
            "chi2": float(np.sum(Wt * resid**2)), "dof": int(ns.size - 2)}


def extrapolate_pooled(ns, x, G0, z0, beta) -> dict:
    r"""Per-draw fit :math:`x_i = x_\infty + a/N_i + c_1(G_i(0) - \beta^2) + c_2 z_{0,i}` over all N.

    The draw's initial gain :math:`G(0) = \|B^\top w\|^2\|Bm\|^2` and offset
    :math:`z_0 = w^\top B m` are control variates: their large-N means are :math:`\beta^2`
    and 0 and their finite-N fluctuations, O(:math:`N^{-1/2}`), drive most of the
    seed-to-seed spread of a learning curve (the learning speed of a draw is set by its
    :math:`G(0)`).  Their sensitivities :math:`c_1, c_2` are shared by all N (a property of
    the large-N response).  Weighted least squares with weights :math:`N_i` (variance
    :math:`\propto 1/N`); the standard error of :math:`x_\infty` uses the residual variance
    (``chi2`` is the weighted residual sum over ``dof`` degrees of freedom, in units of
    that variance, i.e. ``dof`` by construction; ``s`` is the residual scale at N = 1).
    Cost :math:`O(M)` for M draws.

    >>> rng = np.random.default_rng(1); ns = np.repeat([1000, 2000, 4000], 6)
    >>> G = 4 + rng.normal(size=18) / np.sqrt(ns); z0 = rng.normal(size=18) / np.sqrt(ns)
    >>> out = extrapolate_pooled(ns, 0.7 + 30 / ns + 2 * (G - 4) - z0, G, z0, 2.0)
    >>> round(out["x_inf"], 10), round(out["slope"], 6)
    (0.7, 30.0)
    """
    ns, x, G0, z0 = (np.asarray(v, dtype=float) for v in (ns, x, G0, z0))
    if not (ns.shape == x.shape == G0.shape == z0.shape) or ns.ndim != 1:
        raise DomainError("ns, x, G0 and z0 must be 1-d sequences of equal length")
    if len(set(ns.tolist())) < 2 or ns.size < 6 or np.any(ns <= 0):
        raise DomainError("need at least two distinct N > 0 and 6 draws")
    if not np.all(np.isfinite(np.r_[x, G0, z0])):
        raise DomainError("x, G0 and z0 must be finite")
    X = np.column_stack([np.ones_like(ns), 1.0 / ns, G0 - beta**2, z0])
    sw = np.sqrt(ns)
    coef, *_ = np.linalg.lstsq(X * sw[:, None], x * sw, rcond=None)
    resid = (x - X @ coef) * sw
    dof = int(ns.size - X.shape[1])
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv((X * ns[:, None]).T @ X)
    return {"x_inf": float(coef[0]), "err": float(np.sqrt(cov[0, 0])), "slope": float(coef[1]),
            "c_G0": float(coef[2]), "c_z0": float(coef[3]), "s": float(np.sqrt(s2)), "dof": dof}
