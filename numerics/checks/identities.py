r"""Check 1b (R2): the derived identities along the gradient flow vs a numerically integrated flow.

The sympy result ``R2.identities`` (non-commutative words in :math:`B_W, B_W^\top, w, m` with
scalar overlaps such as ``(wt B Bt w)``) is evaluated on concrete matrices by
:func:`evaluate_words` and compared with central differences in :math:`\tau` of the flow
:math:`dW/d\tau = \varepsilon u v^\top` integrated by one RK4 step of :math:`\pm h`.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from rnn_theory.numerics.checks.report import Settings, _row, _rng

__all__ = ["check_identities", "evaluate_words"]

_EPS = np.finfo(float).eps


def evaluate_words(expr, mats: dict, scalars: dict):
    r"""Numeric value of a sum of non-commutative words with commutative overlap factors.

    ``mats`` maps token names (``B``, ``Bt``, ``w``, ``m``, ``wt``, ``mt``) to arrays (column
    vectors ``(N, 1)``, row vectors ``(1, N)``); an overlap symbol named ``"(wt B Bt w)"`` is
    the product of its tokens (a 1×1 array); ``scalars`` gives other symbols (``epsilon``).
    Cost: one matrix product per token, :math:`O(N^2)` each for vectors.
    """
    def word(tokens):
        out = mats[tokens[-1]]
        for t in reversed(tokens[:-1]):  # right to left: matrix-vector products only
            out = mats[t] @ out
        return out

    total = 0.0
    for term in sp.Add.make_args(sp.expand(expr)):
        cpart, ncpart = term.args_cnc()
        coef = 1.0
        for f in cpart:
            if f.is_Number:
                coef *= float(f)
            elif f.name.startswith("("):
                coef *= float(word(f.name.strip("()").split()).item())
            else:
                coef *= float(scalars[f.name])
        toks = []
        for f in ncpart:
            toks.extend([f.base.name] * int(f.exp) if isinstance(f, sp.Pow) else [f.name])
        total = total + coef * (word(toks) if toks else 1.0)
    return total


def check_identities(settings: Settings) -> list:
    r"""R2 rows: :math:`dz/d\tau`, :math:`dG/d\tau`, :math:`du/d\tau`, :math:`dv/d\tau` from the
    derivation vs central differences along the flow (N = 200, g = 0.6, ẑ = 1, at a generic
    :math:`W = W_0 + 0.05E`).

    Tolerance: 10× the Richardson estimate :math:`|D(h) - D(2h)|/3` of the :math:`O(h^2)`
    truncation of the central difference (the RK4 local error, :math:`O(h^5)`, is below it)
    plus the round-off :math:`100\,\epsilon\,|q|/h` of the difference quotient of :math:`q`.
    """
    from rnn_theory.numerics.linear import draw_network
    from rnn_theory.theory.linear import identities_derivation

    n, g, zhat = 200, 0.6, 1.0
    W0, m, w = draw_network(n, g, _rng(5))
    W = W0 + 0.05 * _rng(6).standard_normal((n, n)) / n
    d = next(x for x in identities_derivation() if x.key == "R2.identities")

    def parts(Wc):
        B = np.linalg.inv(np.eye(n) - Wc)
        u, v = B.T @ w, B @ m
        return B, u, v, zhat - w @ v

    def rhs(Wc):
        _, u, v, e = parts(Wc)
        return e * np.outer(u, v)

    def rk4(Wc, h):
        k1 = rhs(Wc)
        k2 = rhs(Wc + h / 2 * k1)
        k3 = rhs(Wc + h / 2 * k2)
        return Wc + h / 6 * (k1 + 2 * k2 + 2 * k3 + rhs(Wc + h * k3))

    def quantities(Wc):
        _, u, v, e = parts(Wc)
        return {"dz/dtau": zhat - e, "dG/dtau": (u @ u) * (v @ v), "du/dtau": u, "dv/dtau": v}

    def D(h):
        qp, qm = quantities(rk4(W, h)), quantities(rk4(W, -h))
        return {k: (qp[k] - qm[k]) / (2 * h) for k in qp}

    B, u, v, e = parts(W)
    mats = {"B": B, "Bt": B.T, "w": w[:, None], "m": m[:, None], "wt": w[None, :], "mt": m[None, :]}
    h = 1e-4
    d1, d2 = D(h), D(2 * h)
    q0 = quantities(W)
    rows = []
    for key in ("dz/dtau", "dG/dtau", "du/dtau", "dv/dtau"):
        th = np.ravel(evaluate_words(d.expr[key], mats, {"epsilon": e}))
        fd, fd2 = np.ravel(d1[key]), np.ravel(d2[key])
        trunc = float(np.linalg.norm(fd - fd2)) / 3
        tol = 10 * trunc + 100 * _EPS * float(np.linalg.norm(q0[key])) / h
        dev = float(np.linalg.norm(fd - th))
        rows.append(_row("R2 identities", f"{key}: derived R2 expression vs flow (|diff|)", 0.0, dev, tol=tol,
                         note=f"N={n}, g={g}; |{key}| = {np.linalg.norm(th):.3g}; RK4 +-h, h={h}; "
                              f"tol = 10 x Richardson {trunc:.1e} + 100 eps |q|/h"))
    return rows
