r"""R6: the τ̃-series of the large-N flow through third order, with its checkpoints and targets.

:math:`\Delta W = \tau X_1 + \tau^2 X_2 + \tau^3 X_3` by Picard iteration
(:mod:`rnn_theory.theory.linear.picard`); the readout, learning gain, weight-change norm,
singular values and trace follow as series in :math:`\tilde\tau = \beta^2\tau`, each
checked against the spec's target formula.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..derivation import Check, Derivation
from .picard import _series_polys
from .symbols import beta, p_m, p_w, tau, tau_t, zhat
from .word_algebra import _BE, _PM, _PW, _R, _ZH, _add_into, _atom_matrix_expr, _inner, _order, _to_expr

__all__ = ["third_order_series"]

_U0, _V0 = ("w", "T"), ("m", "B")        # u0 = B^T w, v0 = B m
_BTBM, _BBTW = ("m", "TB"), ("w", "BT")  # B^T B m, B B^T w


def _large_n(expr):
    """p_m -> 1/p_w (|w||m| = 1), tau -> tau_tilde/beta^2; returns (expr, N-independent?)."""
    e = sp.expand(sp.sympify(expr).subs(p_m, 1 / p_w))
    indep = not e.has(p_w)
    e = e.subs(tau, tau_t / beta**2)
    return sp.expand(e), indep


def _truncate_tt(e, k):
    """Terms of ``e`` through :math:`\\tilde\\tau^k`."""
    return sp.expand(sum(sp.expand(e).coeff(tau_t, j) * tau_t**j for j in range(k + 1)))


def _leading_singular_values(n2_e, e2_e):
    r"""``(s1, s2, low coefficients of e2)`` from :math:`\|\Delta W\|^2` and :math:`e_2` in :math:`\tilde\tau`.

    :math:`s_2^2 = e_2/s_1^2` at leading order (:math:`e_2 = O(\tilde\tau^8)`,
    :math:`s_1^2 = O(\tilde\tau^2)`); :math:`s_1 = \sqrt{\|\Delta W\|^2} + O(\tilde\tau^5)`
    as the series of the square root, kept through :math:`\tilde\tau^3`.
    """
    lead_n2 = sp.Poly(n2_e, tau_t).coeff_monomial(tau_t**2)
    e2_8 = sp.Poly(e2_e, tau_t).coeff_monomial(tau_t**8)
    e2_low = [sp.Poly(e2_e, tau_t).coeff_monomial(tau_t**k) for k in range(8)]
    s2_e = sp.sqrt(sp.factor(e2_8 / lead_n2)) * tau_t**3
    h = sp.expand(n2_e / (lead_n2 * tau_t**2) - 1)
    s1_e = sp.expand(sp.sqrt(lead_n2) * tau_t * sp.series(sp.sqrt(1 + h), tau_t, 0, 3).removeO())
    s1_e = sp.expand(sum(s1_e.coeff(tau_t, k) * tau_t**k for k in range(1, 4)))
    return s1_e, s2_e, e2_low


def _r6_targets() -> dict:
    """The spec's R6 target series in :math:`\\tilde\\tau` (used only in the checks)."""
    zt, b_, T = zhat, beta, tau_t
    return {
        "z": zt * (T - T**2 / 2 + T**3 / 6 * (1 + 8 * zt**2 * b_)),
        "G": b_**2 * (1 + 4 * zt**2 * b_ * T**2),
        "dw_norm2": (zt / b_) ** 2 * (T**2 - T**3 + T**4 * (sp.Rational(7, 12) + sp.Rational(7, 6) * zt**2 * b_)),
        "s1": (zt / b_) * (T - T**2 / 2 + T**3 / 6 * (1 + sp.Rational(7, 2) * zt**2 * b_)),
        "s2": zt**3 * T**3 / 12,
        "trace_dw": zt**2 * T**2 / b_,
    }


def _checkpoint_derivation(X: dict, X_exprs: dict):
    """R6.checkpoints: the coefficient matrices X1, X2, X3 of dW against their targets.

    Returns ``(derivation, u0^T X3 v0)``.
    """
    nu0, nv0 = _inner(_U0, _U0), _inner(_V0, _V0)
    X1_target = {(_U0, _V0): _ZH}
    X2_target = {}
    _add_into(X2_target, (_U0, _V0), -_ZH * _BE**2 * _PW * _PM / 2)  # |w|^2|m|^2 = 1
    _add_into(X2_target, (_BTBM, _V0), _ZH**2 * nu0 / 2)
    _add_into(X2_target, (_U0, _BBTW), _ZH**2 * nv0 / 2)
    x3_term = X[3].get((_BTBM, _BBTW), _R.zero)
    u0X3v0 = _R.zero
    for (a, b), c in X[3].items():
        u0X3v0 += c * _inner(_U0, a) * _inner(b, _V0)
    u0X3v0_e = sp.expand(_to_expr(u0X3v0).subs(p_m, 1 / p_w))
    der = Derivation(
        "R6.checkpoints", "dW = tau X1 + tau^2 X2 + tau^3 X3 by Picard iteration of the flow "
        "with B_W = B + B dW B + ... and the moment rules (large N, z0 -> 0)",
        {"X1": X_exprs["X1"], "X2": X_exprs["X2"]},
        [Check("X1 = zhat u0 v0^T", X[1] == X1_target),
         Check("X2 = [-zhat beta^2 u0v0^T + zhat^2|u0|^2 (B^TBm) v0^T + zhat^2|v0|^2 u0 (BB^Tw)^T]/2",
               X[2] == X2_target),
         Check("X3 contains (1/3) zhat^3 |u0|^2|v0|^2 (B^TBm)(BB^Tw)^T",
               x3_term == _ZH**3 * nu0 * nv0 / 3),
         Check("u0^T X3 v0 = (zhat beta^6/2 + zhat^3 beta^7)/3",
               sp.expand(u0X3v0_e - (zhat * beta**6 / 2 + zhat**3 * beta**7) / 3) == 0)])
    return der, u0X3v0_e


def _readout_derivations(res: dict, indep: dict) -> list:
    """R6.z and R6.G (readout and learning gain) against their targets."""
    targets = _r6_targets()
    z_e, G_e = res["z"], res["G"]
    return [
        Derivation("R6.z", "z(tau_tilde) to O(tau_tilde^4), large N, z0 -> 0", z_e,
                   [Check("independent of N (|w||m| = 1)", indep["z"]),
                    Check("target zhat[tt - tt^2/2 + tt^3/6 (1 + 8 zhat^2 beta)]",
                          sp.expand(z_e - targets["z"]) == 0)]),
        Derivation("R6.G", "learning gain G = |u_W|^2 |v_W|^2 to O(tau_tilde^3)", _truncate_tt(G_e, 2),
                   [Check("independent of N", indep["G"]),
                    Check("|u_W|^2/|v_W|^2 = |w|^2/|m|^2 is conserved along the series",
                          res["ratio_u_v"] == p_w / p_m),
                    Check("target beta^2[1 + 4 zhat^2 beta tt^2] + O(tt^3)",
                          sp.expand(_truncate_tt(G_e, 2) - targets["G"]) == 0)]),
    ]


def _weight_change_derivations(res: dict, indep: dict, e2_low: list) -> list:
    """R6.dw_norm2, R6.s1, R6.s2 and R6.trace_dw against their targets."""
    targets = _r6_targets()
    n2_e, s1_e, s2_e, tr_e = res["dw_norm2"], res["s1"], res["s2"], res["trace_dw"]
    return [
        Derivation("R6.dw_norm2", "|dW|_F^2 to O(tau_tilde^5)", n2_e,
                   [Check("independent of N", indep["dw_norm2"]),
                    Check("target (zhat/beta)^2[tt^2 - tt^3 + tt^4(7/12 + 7/6 zhat^2 beta)]",
                          sp.expand(n2_e - targets["dw_norm2"]) == 0)]),
        Derivation("R6.s1", "top singular value s1 = sqrt(|dW|^2) + O(tt^5), to O(tt^4)", s1_e,
                   [Check("target (zhat/beta)[tt - tt^2/2 + tt^3/6 (1 + 7/2 zhat^2 beta)]",
                          sp.expand(s1_e - targets["s1"]) == 0)]),
        Derivation("R6.s2", "second singular value s2 = sqrt(e2/s1^2), first non-zero order", s2_e,
                   [Check("e2 = sum of squared 2x2 minors starts at tau^8", all(sp.simplify(c) == 0 for c in e2_low)),
                    Check("independent of N", indep["e2"]),
                    Check("target zhat^3 tt^3/12", sp.simplify(s2_e - targets["s2"]) == 0)]),
        Derivation("R6.trace_dw", "tr dW (the trace: the sum of dW's two non-zero eigenvalues, not an eigenvalue; "
                   "the top eigenvalue is R8.top_eigenvalue) to O(tt^4)", tr_e,
                   [Check("independent of N", indep["trace_dw"]),
                    Check("leading term zhat^2 tt^2/beta = zhat^2 beta^3 tau^2",
                          sp.expand(_truncate_tt(tr_e, 2) - targets["trace_dw"]) == 0)]),
    ]


@lru_cache(maxsize=None)
def third_order_series() -> dict:
    r"""Series solution of the flow through :math:`O(\tau^3)` using the moment rules (R6).

    Route: :math:`\Delta W = \tau X_1 + \tau^2 X_2 + \tau^3 X_3`, obtained by Picard iteration
    of :math:`\Delta W = \int_0^\tau \varepsilon\,u_W v_W^\top` with
    :math:`B_W = B + B\Delta W B + B\Delta W B\Delta W B + \dots`; every scalar is reduced with
    the large-N rules (:mod:`rnn_theory.theory.random_matrix`), :math:`z_0 \to 0`.  The second singular
    value comes from :math:`e_2 = s_1^2 s_2^2 + \dots` (sum of squared 2×2 minors, computed
    with second compounds of the Gram matrices, exact at :math:`O(\tau^8)` from
    :math:`X_1..X_3`).  Cost: polynomial arithmetic on ~10 atoms, well under a second.

    Returns a dict with sympy series in :data:`tau_t` (``z``, ``G``, ``dw_norm2``, ``s1``,
    ``s2``, ``trace_dw``, ``loss``), the checkpoints ``X1``, ``X2``, ``X3`` (as sympy
    expressions over atoms) and ``derivations``.
    """
    K = 3
    pol = _series_polys(K, 8)
    ratio_uv = sp.simplify(_to_expr(pol["nu"]) / _to_expr(pol["nv"]))
    ser, indep = {}, {}
    for key, name in (("z", "z"), ("G", "G"), ("dw_norm2", "norm2"), ("trace_dw", "trace"), ("e2", "e2")):
        ser[key], indep[key] = _large_n(_to_expr(pol[name]))
    s1_e, s2_e, e2_low = _leading_singular_values(ser["dw_norm2"], ser["e2"])
    X = {k: _order(pol["dW"], k) for k in (1, 2, 3)}
    X_exprs = {f"X{k}": _atom_matrix_expr(X[k]) for k in (1, 2, 3)}
    checkpoints, u0X3v0_e = _checkpoint_derivation(X, X_exprs)
    res = {"z": ser["z"], "G": ser["G"], "dw_norm2": ser["dw_norm2"], "s1": s1_e, "s2": s2_e,
           "trace_dw": ser["trace_dw"], "loss": sp.expand((zhat - ser["z"]) ** 2 / 2),
           **X_exprs, "u0_X3_v0": u0X3v0_e, "ratio_u_v": ratio_uv}
    ders = [checkpoints] + _readout_derivations(res, indep) + _weight_change_derivations(res, indep, e2_low)
    res["derivations"] = ders
    res["targets_ok"] = all(d.ok for d in ders)
    return res
