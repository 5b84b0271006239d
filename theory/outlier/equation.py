r"""The large-N outlier equation of :math:`W = W_0 + \Delta W` along the learning flow (beyond the paper).

:math:`\Delta W` is low rank: the series solution of the flow
(:mod:`rnn_theory.theory.linear.picard`) writes it as :math:`\Delta W = \sum_{ij} C_{ij}\,a_i b_j^\top`
over "atoms" :math:`a_i, b_j` (words in :math:`B, B^\top` applied to :math:`w` or :math:`m`).
With :math:`U = [a_i]`, :math:`V = [b_j]` and :math:`R(\lambda) = (\lambda - W_0)^{-1}`,

.. math:: \det(\lambda - W_0 - UCV^\top) = \det(\lambda - W_0)\,\det(I - C\,V^\top R(\lambda) U),

so :math:`\lambda` outside the spectrum of :math:`W_0` is an eigenvalue of :math:`W` iff
:math:`f(\lambda) = \det(I - CM(\lambda)) = 0`, :math:`M_{ji} = b_j^\top R(\lambda) a_i`.  At
large N the overlaps concentrate: :math:`M_{ji} \to \|base\|^2\,\varphi(\bar b_j R\, a_i)`
when both atoms are built on the same vector (w or m) and 0 otherwise; the mixed moments
come from :mod:`rnn_theory.theory.outlier.moments`.  Valid for :math:`|\lambda| > g`
(outside the bulk, where :math:`R(\lambda) = \sum_k W_0^k\lambda^{-k-1}` converges).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ..backends import numpy_function
from ..linear.picard import _flow_series
from ..linear.symbols import beta, p_m, p_w, tau, tau_t, zhat
from .moments import lam, phi_mixed_field, transpose_word, xg

__all__ = ["outlier_system", "outlier_determinant", "numeric_system"]


def _overlap(r, a):
    r"""Large-N :math:`r^\top R(\lambda) a` of two atoms, as sympy (with :math:`\|w\|^2 = p_w`, :math:`\|m\|^2 = p_m`)."""
    (br, wr), (ba, wa) = r, a
    if br != ba:
        return sp.Integer(0)
    return (p_w if br == "w" else p_m) * phi_mixed_field(transpose_word(wr) + "R" + wa).as_expr()


def _large_n(expr):
    r""":math:`\tau \to \tilde\tau/\beta^2`, :math:`\beta \to 1/(1-x)`, :math:`p_m \to 1/p_w`."""
    e = sp.sympify(expr).subs({tau: tau_t / beta**2, p_m: 1 / p_w}).subs(beta, 1 / (1 - xg))
    return sp.expand(e)


@lru_cache(maxsize=None)
def outlier_system(order: int = 5) -> dict:
    r"""The coefficient matrix :math:`C(\tilde\tau)` of the order-``order`` series of :math:`\Delta W` and :math:`M(\lambda)`.

    Returns a dict: ``left``, ``right`` (atoms), ``C`` (sympy Matrix, polynomials in
    :math:`\tilde\tau, \hat z` with coefficients rational in :math:`x = g^2`, and :math:`p_w`),
    ``M`` (sympy Matrix, rational in :math:`x, \lambda`, times :math:`p_w^{\pm1}`).  Cost: the
    Picard series (0.05 s at order 5) plus one mixed moment per pair of atoms.
    """
    dW = _flow_series(int(order))
    left = sorted({k[0] for k in dW})
    right = sorted({k[1] for k in dW})
    C = sp.zeros(len(left), len(right))
    for (a, b), c in dW.items():
        e = _large_n(c.as_expr())
        C[left.index(a), right.index(b)] = sp.collect(e, [tau_t, zhat], sp.factor)
    M = sp.Matrix(len(right), len(left), lambda j, i: sp.factor(_overlap(right[j], left[i]).subs(p_m, 1 / p_w)))
    return {"left": left, "right": right, "C": C, "M": M, "order": int(order)}


@lru_cache(maxsize=None)
def outlier_determinant(order: int = 3):
    r""":math:`f(\lambda) = \det(I - C M(\lambda))` as one sympy expression (symbolic determinant).

    Cost grows fast with the number of atoms (``order`` atoms on each side): about a second
    at order 3; use :func:`numeric_system` for higher orders.
    """
    sysm = outlier_system(order)
    CM = (sysm["C"] * sysm["M"]).applyfunc(sp.cancel)
    det = (sp.eye(CM.shape[0]) - CM).det(method="berkowitz")
    return sp.cancel(sp.together(det))


@lru_cache(maxsize=None)
def numeric_system(order: int = 5):
    r"""``(C, M, shape)``: ``C(tt, zhat, x)`` -> (p, q) array; ``M(x, lams)`` -> (len(lams), q, p) array (:math:`p_w = 1`).

    Every entry is a lambdified derived expression; ``M`` is vectorised over λ (O(pq) per λ).
    """
    sysm = outlier_system(order)
    C = sysm["C"].subs(p_w, 1)
    M = sysm["M"].subs(p_w, 1)
    fC = numpy_function([tau_t, zhat, xg], C)
    entries = [[numpy_function([xg, lam], M[j, i]) for i in range(M.shape[1])] for j in range(M.shape[0])]

    def fM(x, lams):
        lams = np.atleast_1d(np.asarray(lams, dtype=float))
        out = np.empty((lams.size, M.shape[0], M.shape[1]))
        for j, row in enumerate(entries):
            for i, fn in enumerate(row):
                out[:, j, i] = fn(x, lams)
        return out

    return fC, fM, C.shape
