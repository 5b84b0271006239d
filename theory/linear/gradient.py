r"""R1: the readout gradient of a linear RNN at its fixed point is rank one.

For :math:`z = w^\top (I-W)^{-1} m = w^\top B_W m` and :math:`L = \tfrac12(\hat z - z)^2`,
:math:`\partial z/\partial W = B_W^\top w\,(B_W m)^\top = u_W v_W^\top`, hence
:math:`\partial L/\partial W = -\varepsilon\,u_W v_W^\top` for any N and :math:`W_0`.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.polys.domains import ZZ
from sympy.polys.rings import ring

from ..derivation import Check, Derivation

__all__ = ["readout_gradient", "gradient_derivation"]

_N3 = 3  # size of the explicit symbolic matrix


@lru_cache(maxsize=None)
def readout_gradient():
    r"""sympy matrix calculus: :math:`\partial z/\partial W` for :math:`z = w^\top (I-W)^{-1} m`.

    Returns ``(N, W, w, m, dz)`` with ``W``, ``w``, ``m`` sympy ``MatrixSymbol``-s of size N;
    ``sp.lambdify((W, w, m), dz)`` evaluates it for concrete numpy arrays.

    >>> readout_gradient()[-1]
    (I - W.T)**(-1)*w*m.T*(I - W.T)**(-1)
    """
    Nn = sp.Symbol("N", integer=True, positive=True)
    Wm = sp.MatrixSymbol("W", Nn, Nn)
    wv = sp.MatrixSymbol("w", Nn, 1)
    mv = sp.MatrixSymbol("m", Nn, 1)
    zexpr = wv.T * (sp.Identity(Nn) - Wm).I * mv
    return Nn, Wm, wv, mv, zexpr.diff(Wm)


def _explicit_system():
    """Symbolic 3x3 ``W``, 3-vectors ``w``, ``m`` (15 symbols), their generators, ``I - W`` and its adjugate."""
    Wx = sp.Matrix(_N3, _N3, lambda i, j: sp.Symbol(f"W_{i}{j}"))
    wx = sp.Matrix(_N3, 1, lambda i, _: sp.Symbol(f"w_{i}"))
    mx = sp.Matrix(_N3, 1, lambda i, _: sp.Symbol(f"m_{i}"))
    Mx = sp.eye(_N3) - Wx
    return Wx, wx, mx, list(Wx) + list(wx) + list(mx), Mx, Mx.adjugate()


def _explicit_gradient_checks(Wx, wx, mx, gens, Mx, adj):
    r"""Entrywise :math:`\partial z/\partial W_{ij}` of :math:`z = w^\top\operatorname{adj}(I-W)m/\det(I-W)`.

    Returns ``(equals u v^T, list of the 2x2 minors)`` of the derived gradient, compared as
    sparse integer polynomials (no symbolic inverse).  Cost: a few hundred polynomial products.
    """
    n3 = _N3
    Rg, *_ = ring(gens, ZZ)  # sparse multivariate polynomials (fast, exact)
    Dp = Rg(sp.expand(Mx.det()))
    Pp = Rg(sp.expand((wx.T * adj * mx)[0, 0]))
    Up = [Rg(sp.expand(e)) for e in adj.T * wx]  # det * u
    Vp = [Rg(sp.expand(e)) for e in adj * mx]    # det * v
    gi = {gsym: k for k, gsym in enumerate(gens)}
    num = [[Pp.diff(Rg.gens[gi[Wx[i, j]]]) * Dp - Pp * Dp.diff(Rg.gens[gi[Wx[i, j]]]) for j in range(n3)]
           for i in range(n3)]
    eq_outer = all(not (num[i][j] - Up[i] * Vp[j]) for i in range(n3) for j in range(n3))
    minors = [num[i][j] * num[k][l] - num[i][l] * num[k][j]
              for i in range(n3) for k in range(i + 1, n3) for j in range(n3) for l in range(j + 1, n3)]
    return eq_outer, minors


def _explicit_loss_coefficient(Wx, wx, mx, gens, Mx, adj):
    r"""Derive :math:`c` in :math:`\partial L/\partial W_{ij} = c\,\varepsilon\,u_i v_j` on the explicit 3×3.

    :math:`2L = (\hat z - P/D)^2 = Q/D^2` with :math:`Q = (\hat z D - P)^2`, so
    :math:`2D^3\,\partial L/\partial W_{ij} = Q_{,ij}D - 2QD_{,ij}`; each entry is divided exactly
    by :math:`2(\hat z D - P)(Du_i)(Dv_j) = 2D^3\varepsilon u_i v_j` (sparse polynomial division).
    Returns the sympy coefficient ``c`` if all nine quotients are the same constant with zero
    remainder, else ``None``.  Cost: about a second (the square ``Q`` has ~1000 terms).
    """
    zh = sp.Symbol("zhat")
    gens_z = gens + [zh]
    Rg, *_ = ring(gens_z, ZZ)
    gi = {gsym: k for k, gsym in enumerate(gens_z)}
    Dp = Rg(sp.expand(Mx.det()))
    Ep = Rg.gens[-1] * Dp - Rg(sp.expand((wx.T * adj * mx)[0, 0]))  # D * eps
    Up = [Rg(sp.expand(e)) for e in adj.T * wx]
    Vp = [Rg(sp.expand(e)) for e in adj * mx]
    Q = Ep**2
    quotients = set()
    for i in range(_N3):
        for j in range(_N3):
            x = Rg.gens[gi[Wx[i, j]]]
            q, r = (Q.diff(x) * Dp - 2 * Q * Dp.diff(x)).div(2 * Ep * Up[i] * Vp[j])
            quotients.add((q.as_expr(), r.as_expr()))
    if len(quotients) != 1:
        return None
    (c, rem), = quotients
    return c if rem == 0 and c.is_number else None


def _explicit_resolvent_derivative_ok(Wx, gens, Mx, adj):
    r""":math:`d(B) = B\,dW\,B` for :math:`B = \operatorname{adj}/\det` on the explicit 3×3:
    :math:`d(\operatorname{adj})\det - \operatorname{adj}\,d(\det) = \operatorname{adj}\,dW\,\operatorname{adj}`."""
    n3 = _N3
    Ex = sp.Matrix(n3, n3, lambda i, j: sp.Symbol(f"dW_{i}{j}"))
    gens_e = gens + list(Ex)
    Re, *_ = ring(gens_e, ZZ)
    ge = {gsym: k for k, gsym in enumerate(gens_e)}
    adj_r = [[Re(sp.expand(adj[i, j])) for j in range(n3)] for i in range(n3)]
    E_r = [[Re.gens[ge[Ex[i, j]]] for j in range(n3)] for i in range(n3)]
    D_r = Re(sp.expand(Mx.det()))

    def ddir(p):  # directional derivative sum_ij dW_ij d/dW_ij
        return sum((p.diff(Re.gens[ge[Wx[i, j]]]) * E_r[i][j] for i in range(n3) for j in range(n3)), Re.zero)

    dD = ddir(D_r)
    return all(
        not (ddir(adj_r[i][j]) * D_r - adj_r[i][j] * dD
             - sum((adj_r[i][k] * E_r[k][l] * adj_r[l][j] for k in range(n3) for l in range(n3)), Re.zero))
        for i in range(n3) for j in range(n3))


@lru_cache(maxsize=None)
def gradient_derivation() -> list:
    r"""R1: :math:`\partial z/\partial W = B_W^\top w\,(B_W m)^\top`, hence
    :math:`\partial L/\partial W = -\varepsilon\,u_W v_W^\top` (rank one, any N and W0).

    Two routes: (i) sympy matrix-expression calculus on :math:`w^\top (I-W)^{-1} m`
    (:math:`d(B) = B\,dW\,B`); (ii) an explicit symbolic 3×3 :math:`W` (15 symbols), where the
    entrywise derivative of :math:`z = w^\top\operatorname{adj}(I-W)m/\det(I-W)` is compared
    with :math:`u v^\top` as polynomials and all nine 2×2 minors of the derived gradient are
    shown to vanish (sparse ``Poly`` arithmetic; no symbolic inverse or ``simplify``).  The
    factor :math:`-1` in :math:`\partial L/\partial W = -\varepsilon\,\partial z/\partial W` is
    itself derived on the explicit 3×3 by differentiating :math:`(\hat z - z)^2/2`
    (:func:`_explicit_loss_coefficient`), so the sign of the result is checked, not typed.
    Cost: a few seconds (cached).
    """
    Nn, Wm, wv, mv, dz = readout_gradient()
    Id = sp.Identity(Nn)
    BWs = (Id - Wm).I
    outer = (BWs.T * wv) * (BWs * mv).T
    eps_s = sp.Symbol("epsilon")
    route1 = dz == outer or sp.simplify(dz - outer) == 0

    Wx, wx, mx, gens, Mx, adj = _explicit_system()
    # the sign/factor of dL/dW = c eps dz/dW is derived from L = (zhat - z)^2/2, not typed in
    c_loss = _explicit_loss_coefficient(Wx, wx, mx, gens, Mx, adj)
    dL = (c_loss if c_loss is not None else sp.nan) * eps_s * dz
    eq_outer, minors = _explicit_gradient_checks(Wx, wx, mx, gens, Mx, adj)
    minors_ok = all(not mm for mm in minors)
    dB_ok = _explicit_resolvent_derivative_ok(Wx, gens, Mx, adj)
    return [
        Derivation("R1.gradient", "dz = w^T B_W dW B_W m  =>  dL/dW = -eps (B_W^T w)(B_W m)^T = -eps u v^T "
                   "(any N, any W0; rank one)", dL,
                   [Check("explicit symbolic 3x3: d(B) = B dW B for B = (I-W)^-1 (adjugate form)", dB_ok),
                    Check("matrix calculus: d/dW w^T (I-W)^-1 m = (I-W)^-T w m^T (I-W)^-T = u v^T", route1),
                    Check("explicit symbolic 3x3: entrywise derivative equals u v^T", eq_outer),
                    Check("explicit symbolic 3x3: d/dW_ij of (zhat - z)^2/2 is c eps u_i v_j with one constant "
                          "c (exact polynomial division), and c = -1", c_loss == -1),
                    Check("explicit symbolic 3x3: all nine 2x2 minors of the gradient vanish", minors_ok and len(minors) == 9)]),
    ]
