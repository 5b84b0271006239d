r"""R7: the shuffle law, loss after shuffling :math:`W_0` under the learned :math:`\Delta W`.

Sherman–Morrison (verified with non-commutative symbols) plus freeness of the shuffled
:math:`W_0'` and the converged first-order :math:`\Delta W` give
:math:`z' = \hat z(1-g^2)^2` and :math:`L'/L_0 = g^4(2-g^2)^2`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .. import random_matrix as rm
from ..backends import numpy_function
from ..derivation import Check, Derivation
from ..errors import check_gain
from .first_order import first_order_solution
from .symbols import _BETA_OF_G, beta, g, p_m, p_w, tau, z0, zhat

__all__ = ["shuffle_derivation", "shuffle_loss_ratio"]


@lru_cache(maxsize=None)
def shuffle_derivation() -> dict:
    r"""Shuffle law via Sherman–Morrison with scalar overlaps (R7).

    :math:`(A - \kappa a b^\top)^{-1} = A^{-1} + \kappa A^{-1}ab^\top A^{-1}/(1-\kappa b^\top A^{-1}a)`
    is verified with non-commutative symbols; then
    :math:`z' = w^\top B'm + \kappa (w^\top B'u_0)(v_0^\top B'm)/(1-\kappa v_0^\top B'u_0)` with
    :math:`\kappa = \hat z/\beta^2` (converged first-order :math:`\Delta W`) and the large-N
    overlaps :math:`w^\top B'u_0 \to \|w\|^2\varphi(B'B^\top) = \|w\|^2`,
    :math:`v_0^\top B'm \to \|m\|^2`, :math:`v_0^\top B'u_0 \to 0`, :math:`w^\top B'm \to 0`.
    """
    # Sherman-Morrison with non-commutative symbols: A, Ai (= A^-1), column a, row bt
    A, Ai, a, bt = sp.symbols("A A_inv a b^T", commutative=False)
    kappa, sdot = sp.symbols("kappa s")  # s = b^T A^-1 a (scalar)
    inv = Ai + kappa * Ai * a * bt * Ai / (1 - kappa * sdot)
    prod = sp.expand((A - kappa * a * bt) * inv)
    prod = _nc_reduce(prod, {(A, Ai): 1, (bt, Ai, a): sdot})
    sm_ok = sp.simplify(prod - 1) == 0
    # scalar overlaps in the large-N limit
    kappa_v = sp.limit(first_order_solution()["int_eps"].subs(z0, 0), tau, sp.oo)  # zhat / beta^2
    phi_free = rm.phi("B") * rm.phi("T")  # freeness: phi(B' B^T) = phi(B') phi(B^T)
    wBu = p_w * phi_free
    vBm = p_m * phi_free
    vBu = 0  # mixes w and m: O(N^-1/2)
    wBm = 0  # finite-N offset, subtracted in the numerics
    z_shuf = sp.simplify((wBm + kappa_v * wBu * vBm / (1 - kappa_v * vBu)).subs(p_m, 1 / p_w))
    z_shuf_g = z_shuf.subs(beta, _BETA_OF_G)
    ratio = sp.factor(sp.expand(((zhat - z_shuf_g) / zhat) ** 2))
    return {"sherman_morrison_ok": sm_ok, "kappa": kappa_v, "z_shuffle": z_shuf,
            "z_shuffle_g": sp.factor(z_shuf_g), "ratio": ratio}


def _nc_reduce(expr, rules):
    """Rewrite products of non-commutative symbols with ``rules`` (tuple of factors -> value)."""
    expr = sp.expand(expr)
    changed = True
    while changed:
        changed = False
        terms = []
        for term in sp.Add.make_args(expr):
            c, nc = term.args_cnc()
            new_nc = list(nc)
            # expand powers of nc symbols
            flat = []
            for f in new_nc:
                if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp > 0:
                    flat.extend([f.base] * int(f.exp))
                else:
                    flat.append(f)
            done = False
            for pat, val in rules.items():
                L = len(pat)
                for i in range(len(flat) - L + 1):
                    if tuple(flat[i:i + L]) == pat:
                        flat = flat[:i] + ([val] if val != 1 else []) + flat[i + L:]
                        done = True
                        break
                if done:
                    break
            changed = changed or done
            cpart = sp.Mul(*c)
            ncp = [f for f in flat if not f.is_commutative]
            cp = [f for f in flat if f.is_commutative]
            terms.append(cpart * sp.Mul(*cp) * (sp.Mul(*ncp) if ncp else 1))
        expr = sp.expand(sp.Add(*terms))
    return expr


@lru_cache(maxsize=None)
def _shuffle_numpy():
    return numpy_function([g], shuffle_derivation()["ratio"])


def shuffle_loss_ratio(gv):
    r""":math:`L_\text{shuffle}/L_0 = (1-(1-g^2)^2)^2 = g^4(2-g^2)^2` (R7), derived by :func:`shuffle_derivation`.

    >>> shuffle_loss_ratio(0.5)
    0.19140625
    >>> shuffle_loss_ratio(sp.Symbol("g"))
    g**4*(g**2 - 2)**2
    """
    expr = shuffle_derivation()["ratio"]
    if isinstance(gv, sp.Basic) and not gv.is_number:
        return expr.subs(g, gv)
    if np.ndim(gv) == 0:
        check_gain(gv)
    arr = np.asarray(gv if not isinstance(gv, sp.Basic) else float(gv), dtype=float)
    for v in np.ravel(arr):
        check_gain(float(v))
    out = _shuffle_numpy()(arr)
    return float(out) if np.ndim(out) == 0 else np.asarray(out, dtype=float)


def shuffle_derivations() -> list:
    """R7 derivation with its symbolic checks."""
    sh = shuffle_derivation()
    return [Derivation(
        "R7.shuffle", "shuffled W0' + converged first-order dW: Sherman-Morrison + freeness -> "
        "z' = zhat (1-g^2)^2, L'/L0 = g^4 (2-g^2)^2", sh["ratio"],
        [Check("Sherman-Morrison identity (non-commutative symbols)", sh["sherman_morrison_ok"]),
         Check("kappa = zhat/beta^2", sp.simplify(sh["kappa"] - zhat / beta**2) == 0),
         Check("z' = zhat (1-g^2)^2", sp.simplify(sh["z_shuffle_g"] - zhat * (1 - g**2) ** 2) == 0),
         Check("ratio = (1 - (1-g^2)^2)^2 = g^4 (2-g^2)^2",
               sp.expand(sh["ratio"] - g**4 * (2 - g**2) ** 2) == 0
               and sp.expand(sh["ratio"] - (1 - (1 - g**2) ** 2) ** 2) == 0)])]
