r"""Readout and gradient of the linear network at its fixed point :math:`x^* = (I-W)^{-1} m`.

:math:`z = w^\top B_W m` and :math:`\partial L/\partial W = -\varepsilon\,u_W v_W^\top` with
:math:`u_W = B_W^\top w`, :math:`v_W = B_W m` (R1); one LU factorisation, :math:`O(N^3)`.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla

from rnn_theory.numerics.linear.network import _check_real, _check_system, _require_stable
from rnn_theory.theory.errors import DomainError

__all__ = ["fixed_point_readout", "fixed_point_gradient"]


def _factor(W, check_stability: bool):
    r"""LU factors of :math:`I - W` (after the eigenvalue check if asked); a pivot below
    :math:`N\epsilon\max|U_{ii}|` (or a non-finite one) means :math:`I - W` is singular."""
    if check_stability:
        _require_stable(W, "W")
    n = W.shape[0]
    with warnings.catch_warnings():  # scipy's LinAlgWarning on an exact zero pivot: refused below
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        lu = sla.lu_factor(np.eye(n) - W, check_finite=False)
    piv = np.abs(np.diag(lu[0]))
    if not np.all(np.isfinite(piv)) or piv.min() <= n * np.finfo(float).eps * max(piv.max(), 1.0):
        raise DomainError(
            f"I - W is singular (smallest LU pivot {piv.min():.3g}): W has an eigenvalue 1, so the fixed "
            "point (I - W)^-1 m does not exist; move W away from the stability boundary")
    return lu


def fixed_point_readout(W, m, w, *, check_stability: bool = True) -> float:
    r""":math:`z = w^\top (I-W)^{-1} m` (one LU solve, :math:`O(N^3)`).

    Parameters
    ----------
    W, m, w : arrays
        Connectivity (N×N), input and readout vectors.
    check_stability : bool
        Refuse a ``W`` without a stable fixed point (an eigenvalue with real part
        :math:`\ge 1`) with :class:`~rnn_theory.theory.errors.UnstableError` (dense
        eigenvalues, :math:`O(N^3)`, about ten LU factorisations).  A singular
        :math:`I - W` is always refused (:class:`~rnn_theory.theory.errors.DomainError`).

    >>> fixed_point_readout(0.5 * np.eye(2), np.ones(2), np.ones(2))
    4.0
    >>> fixed_point_readout(1.5 * np.eye(2), np.ones(2), np.ones(2))
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.UnstableError: W has an eigenvalue with real part 1.5 >= 1, so (I - W)^-1 m is not a stable fixed point; use a smaller gain g (or draw another seed for small N)
    """
    W, m, w = _check_system(W, m, w)
    lu = _factor(W, check_stability)
    return float(w @ sla.lu_solve(lu, m, check_finite=False))


def fixed_point_gradient(W, m, w, zhat, *, check_stability: bool = True):
    r"""Loss and the rank-one fixed-point gradient :math:`-\varepsilon\,u_W v_W^\top` (R1).

    :math:`u_W = B_W^\top w`, :math:`v_W = B_W m`, :math:`\varepsilon = \hat z - w^\top v_W`.
    One LU factorisation and two triangular solves: :math:`O(N^3)`.

    Parameters
    ----------
    W, m, w : arrays
        Connectivity (N×N), input and readout vectors.
    zhat : float
        Target.
    check_stability : bool
        Refuse a ``W`` without a stable fixed point (an eigenvalue with real part
        :math:`\ge 1`) with :class:`~rnn_theory.theory.errors.UnstableError` (dense
        eigenvalues, :math:`O(N^3)`, about ten LU factorisations).  A singular
        :math:`I - W` is always refused (:class:`~rnn_theory.theory.errors.DomainError`).

    Returns
    -------
    loss, grad, u, v, z
    """
    W, m, w = _check_system(W, m, w)
    zhat = _check_real("zhat", zhat)
    lu = _factor(W, check_stability)
    v = sla.lu_solve(lu, m, check_finite=False)
    u = sla.lu_solve(lu, w, trans=1, check_finite=False)
    z = float(w @ v)
    eps = zhat - z
    return 0.5 * eps * eps, -eps * np.outer(u, v), u, v, z
