r"""R2: exact identities along the gradient flow, for any N and :math:`W_0`.

The flow :math:`dW/d\tau = \varepsilon\,u_W v_W^\top` is differentiated with non-commutative
sympy symbols for :math:`B_W, B_W^\top, w, m, w^\top, m^\top` (a small word algebra: tokens,
product rule for :math:`d(B_W) = B_W\,dW\,B_W`, and scalar overlaps pulled out as
commutative symbols).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..derivation import Check, Derivation

__all__ = ["identities_derivation"]

_NC = {name: sp.Symbol(name, commutative=False) for name in ("B", "Bt", "w", "m", "wt", "mt")}
_ROW, _COL = ("wt", "mt"), ("w", "m")
_TRANSPOSE = {"B": "Bt", "Bt": "B", "w": "wt", "wt": "w", "m": "mt", "mt": "m"}


def _nc_terms(expr):
    """Yield (commutative coefficient, tuple of nc token names) of an expanded nc expression."""
    for term in sp.Add.make_args(sp.expand(expr)):
        cpart, ncpart = term.args_cnc()
        toks = []
        for f in ncpart:
            if isinstance(f, sp.Pow):
                toks.extend([f.base.name] * int(f.exp))
            else:
                toks.append(f.name)
        yield sp.Mul(*cpart), tuple(toks)


def _nc_word(toks):
    """The non-commutative product of the named tokens (1 for the empty word)."""
    return sp.Mul(*[_NC[t] for t in toks]) if toks else sp.Integer(1)


def _nc_dtau(expr):
    r"""d/dtau on the flow: d(B_W) = B_W dW B_W with dW = eps u v^T = eps B_W^T w m^T B_W^T."""
    eps_s = sp.Symbol("epsilon")
    dB = ("B", "Bt", "w", "mt", "Bt", "B")      # B (Bt w mt Bt) B
    dBt = ("Bt", "B", "m", "wt", "B", "Bt")     # Bt (B m wt B) Bt
    out = sp.Integer(0)
    for coef, toks in _nc_terms(expr):
        for i, t in enumerate(toks):
            if t == "B":
                out += eps_s * coef * _nc_word(toks[:i] + dB + toks[i + 1:])
            elif t == "Bt":
                out += eps_s * coef * _nc_word(toks[:i] + dBt + toks[i + 1:])
    return out


_TEX = {"B": "B", "Bt": r"B^{\top}", "w": "w", "m": "m", "wt": r"w^{\top}", "mt": r"m^{\top}"}


def _overlap(tokens) -> sp.Symbol:
    """The scalar overlap of a row ... column word, e.g. ``(wt B Bt w)``."""
    return sp.Symbol("(" + " ".join(tokens) + ")")


def _overlap_latex(expr) -> dict:
    """LaTeX names of the overlap symbols in ``expr``: ``(wt B Bt w)`` -> ``(w^\top B B^\top w)``."""
    names = {_NC[k]: tex for k, tex in _TEX.items()}
    names.update({s: r"\left(" + " ".join(_TEX[t] for t in s.name[1:-1].split()) + r"\right)"
                  for s in expr.free_symbols if s.name.startswith("(")})
    return names


def _nc_scalars(expr):
    """Pull out scalar overlaps (row ... column) as commutative symbols named canonically."""
    out = sp.Integer(0)
    for coef, toks in _nc_terms(expr):
        rest, scal = [], []
        i = 0
        while i < len(toks):
            if toks[i] in _ROW:
                j = i + 1
                while toks[j] not in _COL:
                    j += 1
                blk = toks[i:j + 1]
                tb = tuple(_TRANSPOSE[t] for t in reversed(blk))
                scal.append(_overlap(min(blk, tb)))
                i = j + 1
            else:
                rest.append(toks[i])
                i += 1
        out += coef * sp.Mul(*scal) * _nc_word(tuple(rest))
    return sp.expand(out)


@lru_cache(maxsize=None)
def identities_derivation() -> list:
    r"""R2: exact identities along the gradient flow, for any N and :math:`W_0`.

    Non-commutative symbols for :math:`B_W, B_W^\top, w, m, w^\top, m^\top`; the
    :math:`\tau`-derivative applies :math:`d(B_W) = B_W\,dW\,B_W` with
    :math:`dW = \varepsilon u v^\top d\tau` by the product rule; scalar overlaps are then
    collected (a scalar equals its transpose) and compared with the targets.
    """
    B, Bt, w_, m_, wt, mt = (_NC[k] for k in ("B", "Bt", "w", "m", "wt", "mt"))
    eps_s = sp.Symbol("epsilon")
    u = Bt * w_
    v = B * m_
    z = wt * B * m_
    U = wt * B * Bt * w_          # |u|^2
    V = mt * Bt * B * m_          # |v|^2
    cc = wt * B * Bt * B * m_     # c = w^T B B^T B m
    S = _nc_scalars
    Us, Vs, cs = S(U), S(V), S(cc)
    du, dv, dz = S(_nc_dtau(u)), S(_nc_dtau(v)), S(_nc_dtau(z))
    dU, dV = S(_nc_dtau(U)), S(_nc_dtau(V))
    G = U * V
    dG = S(_nc_dtau(G))
    Gs = S(G)
    ratio_rate = sp.cancel((dU * Vs - Us * dV) / Vs**2)
    checks = [
        Check("du/dtau = eps |u|^2 B_W^T v", sp.expand(du - S(eps_s * Bt * B * m_ * U)) == 0),
        Check("dv/dtau = eps |v|^2 B_W u", sp.expand(dv - S(eps_s * B * Bt * w_ * V)) == 0),
        Check("dz/dtau = eps G", sp.expand(dz - eps_s * Us * Vs) == 0),
        Check("d|u|^2/dtau = 2 eps c |u|^2 and d|v|^2/dtau = 2 eps c |v|^2",
              sp.expand(dU - 2 * eps_s * cs * Us) == 0 and sp.expand(dV - 2 * eps_s * cs * Vs) == 0),
        Check("dG/dtau = 4 eps c G", sp.expand(dG - 4 * eps_s * cs * Gs) == 0),
        Check("d/dtau (|u|^2/|v|^2) = 0 (conserved ratio)", ratio_rate == 0),
    ]
    return [Derivation("R2.identities", "gradient flow dW/dtau = eps u v^T (any N, W0): du, dv, dz = eps G, "
                       "dG = 4 eps c G, |u|^2/|v|^2 conserved",
                       {"du/dtau": du, "dv/dtau": dv, "dz/dtau": dz, "dG/dtau": dG}, checks,
                       latex_names=_overlap_latex(du + dv + dz + dG))]
