r"""Readout and gradient of the linear network at its fixed point :math:`x^* = (I-W)^{-1} m`.

:math:`z = w^\top B_W m` and :math:`\partial L/\partial W = -\varepsilon\,u_W v_W^\top` with
:math:`u_W = B_W^\top w`, :math:`v_W = B_W m` (R1); one LU factorisation, :math:`O(N^3)`.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from rnn_theory.numerics.linear.network import _check_real, _check_system

__all__ = ["fixed_point_readout", "fixed_point_gradient"]


def fixed_point_readout(W, m, w) -> float:
    r""":math:`z = w^\top (I-W)^{-1} m` (one LU solve, :math:`O(N^3)`)."""
    W, m, w = _check_system(W, m, w)
    n = W.shape[0]
    v = np.linalg.solve(np.eye(n) - W, m)
    return float(w @ v)


def fixed_point_gradient(W, m, w, zhat):
    r"""Loss and the rank-one fixed-point gradient :math:`-\varepsilon\,u_W v_W^\top` (R1).

    :math:`u_W = B_W^\top w`, :math:`v_W = B_W m`, :math:`\varepsilon = \hat z - w^\top v_W`.
    One LU factorisation and two triangular solves: :math:`O(N^3)`.

    Returns
    -------
    loss, grad, u, v, z
    """
    W, m, w = _check_system(W, m, w)
    zhat = _check_real("zhat", zhat)
    n = W.shape[0]
    lu = sla.lu_factor(np.eye(n) - W, check_finite=False)
    v = sla.lu_solve(lu, m, check_finite=False)
    u = sla.lu_solve(lu, w, trans=1, check_finite=False)
    z = float(w @ v)
    eps = zhat - z
    return 0.5 * eps * eps, -eps * np.outer(u, v), u, v, z
