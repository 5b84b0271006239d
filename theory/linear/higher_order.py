r"""The τ̃-series of the large-N flow carried beyond third order (extends R6).

The scalar series of :mod:`rnn_theory.theory.linear.picard` are moved to
:math:`\mathbb{Q}(\hat z, \beta)[\tilde\tau]` (truncated power series), where the singular
values come from :math:`s_2^2 = e_2/s_1^2` and :math:`s_1^2 = \|\Delta W\|^2 - s_2^2` through
series division and square roots.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from ..derivation import Check, Derivation
from ..errors import DomainError
from .picard import _series_polys
from .symbols import beta, tau_t, zhat
from .third_order import third_order_series

__all__ = ["series_solution"]


# ============================================================================ truncated series in tau_tilde
@lru_cache(maxsize=None)
def _tt_ring():
    r"""``(Fd, F_zh, F_be, Rt, T)``: the field :math:`\mathbb{Q}(\hat z, \beta)` and :math:`Fd[\tilde\tau]`."""
    from sympy.polys.fields import field

    Fd, F_zh, F_be = field([zhat, beta], QQ)
    Rt, T = ring([tau_t], Fd)
    return Fd, F_zh, F_be, Rt, T


def _to_tt(poly):
    r"""A series in :math:`\tau` over atoms' ring as a series in :math:`\tilde\tau = \beta^2\tau`.

    :math:`p_w^a p_m^b \to 1` (``a == b`` is checked: :math:`\|w\|\|m\| = 1`).
    """
    Fd, F_zh, F_be, Rt, T = _tt_ring()
    out = Rt.zero
    for (i, jz, kb, a, b), c in poly.items():
        if a != b:  # pragma: no cover - would be a bug in the atom algebra
            raise ArithmeticError("series depends on N")
        out += Rt(Fd(c) * F_zh**jz * F_be ** (kb - 2 * i)) * T**i
    return out


def _trunc_tt(p, k):
    """Terms through :math:`\\tilde\\tau^k`."""
    return _tt_ring()[3].from_dict({m: c for m, c in p.items() if m[0] <= k})


def _shift_tt(p, k):
    """``p / T^k`` for a polynomial divisible by ``T^k``."""
    return _tt_ring()[3].from_dict({(m[0] - k,): c for m, c in p.items()})


def _compose_tt(coeffs, h, k):
    """``sum_j coeffs[j] h^j``, truncated at ``T^k`` (``h = O(T)``)."""
    Fd, _, _, Rt, _ = _tt_ring()
    out, pw = Rt.zero, Rt.one
    for cj in coeffs:
        out += Rt(Fd(cj)) * pw
        pw = _trunc_tt(pw * h, k)
    return _trunc_tt(out, k)


@lru_cache(maxsize=None)
def _sqrt_coeffs(n):
    r"""First ``n`` Taylor coefficients of :math:`\sqrt{1+y}`."""
    y = sp.Symbol("y")
    ser = sp.series(sp.sqrt(1 + y), y, 0, n).removeO()
    return tuple(ser.coeff(y, j) for j in range(n))


def _sqrt_series(p, lead, rel):
    r""":math:`\sqrt{\tilde\tau^{lead}(c_0 + \dots)}` to relative order ``rel`` (a sympy expression); :math:`c_0` is a square."""
    Fd, _, _, Rt, _ = _tt_ring()
    q = _shift_tt(p, lead)
    c0 = dict(q.items()).get((0,), Fd.zero)
    h = _trunc_tt(q * Rt(1 / c0) - 1, rel)
    root = sp.sqrt(sp.factor(c0.as_expr()))
    return _trunc_tt(_compose_tt(_sqrt_coeffs(rel + 1), h, rel), rel).as_expr() * root * tau_t ** sp.Rational(lead, 2)


def _ratio_series(pn, ln, pd, ld, rel):
    r""":math:`(\tilde\tau^{ln} N)/(\tilde\tau^{ld} D)` as :math:`\tilde\tau^{ln-ld}` times a series to relative order ``rel``."""
    _, _, _, Rt, T = _tt_ring()
    qn, qd = _shift_tt(pn, ln), _shift_tt(pd, ld)
    d0 = dict(qd.items())[(0,)]
    k = _trunc_tt(qd * Rt(1 / d0) - 1, rel)
    inv_c = [(-1) ** j for j in range(rel + 1)]  # 1/(1+y) (geometric series)
    inv = _compose_tt(inv_c, k, rel) * Rt(1 / d0)
    return _trunc_tt(_trunc_tt(qn, rel) * inv, rel) * T ** (ln - ld)


# ============================================================================ the series solution
@lru_cache(maxsize=None)
def series_solution(order: int = 5) -> dict:
    r"""Series solution of the large-N flow through :math:`O(\tilde\tau^{\,order})` (extends R6).

    Same route as :func:`third_order_series` (Picard iteration over atoms with the moment
    rules) carried to ``order``; every returned series is exact through
    :math:`\tilde\tau^{\,order}` (``dw_norm2`` through :math:`\tilde\tau^{\,order+1}`):
    ``s2`` comes from :math:`e_2/s_1^2` (exact to relative order ``order - 3``) and ``s1``
    from :math:`s_1^2 = \|\Delta W\|^2 - e_2/\|\Delta W\|^2`.  With ``order = 3`` this is R6;
    ``order = 5`` removes the O(τ̃) relative error of the leading-order ``s2``.
    Cost grows quickly with ``order`` (about 0.1 s at 5, a few s at 7).

    >>> ser = series_solution(4)
    >>> sp.expand(ser["s2"] - third_order_series()["s2"])
    -tautilde**4*zhat**3/8
    """
    K = int(order)
    if K < 3:
        raise DomainError(f"order must be >= 3 (s2 first appears at tau^3), got {order!r}")
    pol = _series_polys(K, K + 5)
    z_t, G_t, n2_t, tr_t, e2_t = (_to_tt(pol[k]) for k in ("z", "G", "norm2", "trace", "e2"))
    s2sq = _ratio_series(e2_t, 8, n2_t, 2, K - 3)  # s2^2 = e2 / s1^2 (+ O(s3^2))
    s2_e = sp.expand(_sqrt_series(s2sq, 6, K - 3))
    s1sq = _trunc_tt(n2_t - s2sq, K + 1)  # s1^2 = |dW|^2 - s2^2 - ...
    s1_e = sp.expand(_sqrt_series(s1sq, 2, K - 1))
    z_e = sp.expand(_trunc_tt(z_t, K).as_expr())
    return {"order": K, "z": z_e, "G": sp.expand(_trunc_tt(G_t, K).as_expr()),
            "dw_norm2": sp.expand(_trunc_tt(n2_t, K + 1).as_expr()),
            "trace_dw": sp.expand(_trunc_tt(tr_t, K).as_expr()), "s1": s1_e, "s2": s2_e,
            "loss": sp.expand((zhat - z_e) ** 2 / 2)}


def fifth_order_derivations() -> list:
    """R6.fifth_order: the order-5 series reduces to R6 and corrects the leading ``s2``."""
    hi = series_solution(5)
    r6 = third_order_series()

    def low(e, k):
        e = sp.expand(e)
        return sp.expand(sum(e.coeff(tau_t, j) * tau_t**j for j in range(k + 1)))

    return [Derivation(
        "R6.fifth_order", "the same series carried to O(tt^5): s2 = zhat^3 tt^3/12 - zhat^3 tt^4/8 + ... "
        "(the leading s2 of R6 has an O(tt) relative error)",
        {"z": hi["z"], "s2": hi["s2"]},
        [Check("independent route: at beta = 1 it equals the Taylor series of the exact g = 0 "
               "solution (exact_g0: 2x2 reduction, Picard in b) for z, G, tr dW, s1, s2 through tt^5",
               _matches_exact_g0(hi, low)),
         Check("bookkeeping (same Picard engine, not a verification): truncated at tt^3 it is R6 "
               "(z, s1, s2, trace) and tt^4 for |dW|^2",
               all(sp.expand(low(hi[k], n) - low(r6[k], n)) == 0
                   for k, n in (("z", 3), ("s1", 3), ("s2", 3), ("trace_dw", 3), ("dw_norm2", 4)))),
         Check("s2 tt^4 coefficient = -zhat^3/8 (independent of beta)",
               sp.expand(hi["s2"]).coeff(tau_t, 4) == -zhat**3 / 8)])]


def _matches_exact_g0(hi, low) -> bool:
    """``series_solution`` at beta = 1 vs :func:`rnn_theory.theory.exact_g0.taylor_series`
    (written in ``exact_g0.tau``, ``exact_g0.zhat``; mapped to ``tau_t``, ``zhat`` here)."""
    from .. import exact_g0

    ex = exact_g0.taylor_series(6)
    to_here = {exact_g0.tau: tau_t, exact_g0.zhat: zhat}
    return all(sp.expand(low(ex[k].subs(to_here), 5) - low(hi[k].subs(beta, 1), 5)) == 0
               for k in ("z", "G", "trace_dw", "s1", "s2"))
