r"""The scaling conjecture tested to higher order: g > 0 learning vs the mapped g = 0 solution.

**Beyond the paper.**  Through third order in :math:`\tilde\tau` every large-N curve at gain
g equals the g = 0 curve under the map (:math:`\beta = 1/(1-g^2)`)

.. math::

    \tau \to \tilde\tau = \beta^2\tau,\quad \hat z \to \hat z\sqrt\beta,\quad
    q_g(\tilde\tau;\hat z) = \beta^{p_q}\,q_0(\tilde\tau;\hat z\sqrt\beta),

with :math:`p_z = -\tfrac12`, :math:`p_{s_1} = p_{s_2} = -\tfrac32`,
:math:`p_{\|\Delta W\|^2} = -3`, :math:`p_G = 2`, :math:`p_{\mathrm{tr}} = -2` (the exponents
are *derived* here from the leading terms, not assumed).  :func:`defect_series` subtracts the
mapped Taylor series of the exact g = 0 solution (:func:`rnn_theory.theory.exact_g0.taylor_series`,
the 2×2 route) from the general-g series of :func:`rnn_theory.theory.linear.series_solution`
(the Picard route in words of :math:`B, B^\top` with moments from
:func:`rnn_theory.theory.random_matrix.phi`).  **Verdict: the map fails at fifth order**;
the first non-zero term is

.. math::

    z_g - z_0(\tilde\tau;\hat z\sqrt\beta)/\sqrt\beta
      = \tfrac{8}{15}\,\beta(\beta-1)\,\hat z^5\tilde\tau^5 + O(\tilde\tau^6)
      = \tfrac{8}{15}\,g^2\beta^2\hat z^5\tilde\tau^5 + \dots,

i.e. learning at g > 0 is faster than the mapped curve, by a relative
:math:`\tfrac{8}{15}g^2\beta^2\hat z^4\tilde\tau^4` (from
:math:`G_g - \beta^2 G_0 = \tfrac83\beta^3(\beta-1)\hat z^4\tilde\tau^4 + \dots`).

:func:`solve` gives the mapped exact curves (the exact g = 0 solution of
:mod:`rnn_theory.theory.exact_g0` carried over by the map) with the leading defect and the
:math:`\tilde\tau` up to which they can be trusted to a given relative accuracy.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .derivation import Check, Derivation
from .errors import DomainError, check_real

__all__ = ["mapped_series", "defect_series", "trust_tau_tilde", "solve", "derivations"]

QUANTITIES = ("z", "G", "dw_norm2", "s1", "s2", "trace_dw")
_CONJECTURE = {"z": sp.Rational(-1, 2), "s1": sp.Rational(-3, 2), "s2": sp.Rational(-3, 2)}  # issue 12


def _symbols():
    from .linear import beta, g, tau, tau_t, zhat

    return beta, g, tau, tau_t, zhat


def _coeffs(expr, var, upto):
    e = sp.expand(expr)
    return [sp.factor(e.coeff(var, j)) for j in range(upto + 1)]


def _trunc(expr, var, k):
    e = sp.expand(expr)
    return sp.expand(sum(e.coeff(var, j) * var**j for j in range(k + 1)))


def _lowest(expr, var, upto):
    """``(k, c_k)``: the lowest non-zero power of ``var`` in ``expr`` (through ``upto``)."""
    for j, c in enumerate(_coeffs(expr, var, upto)):
        if sp.simplify(c) != 0:
            return j, c
    return None, sp.Integer(0)


def _exactness(order):
    """Power of tau_tilde through which each series of ``series_solution(order)`` is exact."""
    return {q: (order + 1 if q == "dw_norm2" else order) for q in QUANTITIES}


@lru_cache(maxsize=None)
def mapped_series(order: int = 5) -> dict:
    r"""The exact g = 0 Taylor series carried to gain g by the map, with derived exponents.

    For each quantity q the exponent :math:`p_q` is derived from the lowest-order terms:
    :math:`p_q = \log(c_g/c_0(\hat z\sqrt\beta))/\log\beta` (checked to be a pure power of
    :math:`\beta`).  Returns ``{"series": {q: mapped series in tau_tilde}, "exponents": {q: p_q}}``.
    Cost: the g = 0 Taylor series to ``order + 1`` (Picard iteration of the scalar ODE,
    well under a second at 5) plus :func:`rnn_theory.theory.linear.series_solution`.
    """
    from . import exact_g0
    from .linear import series_solution

    beta, _, tau, tau_t, zhat = _symbols()
    K = int(order)
    hi = series_solution(K)
    ex = exact_g0.taylor_series(K + 1)  # s1, s2 there are exact through tau^K
    out, exps = {}, {}
    for q in QUANTITIES:
        q0 = sp.expand(ex[q].subs(tau, tau_t))
        q0m = sp.expand(q0.subs(zhat, zhat * sp.sqrt(beta)))
        k, cg = _lowest(hi[q], tau_t, K)
        c0 = sp.expand(q0m).coeff(tau_t, k)
        ratio = sp.powsimp(sp.factor(cg / c0), force=True)
        p = sp.simplify(sp.expand_log(sp.log(ratio), force=True) / sp.log(beta))
        if not p.is_Rational or sp.simplify(ratio - beta**p) != 0:  # pragma: no cover - would refute the map
            raise ArithmeticError(f"{q}: leading ratio {ratio} is not a power of beta")
        exps[q] = p
        out[q] = sp.expand(beta**p * q0m)
    return {"series": out, "exponents": exps}


@lru_cache(maxsize=None)
def defect_series(order: int = 5) -> dict:
    r"""Series of the defect :math:`q_g - \beta^{p_q} q_0(\tilde\tau;\hat z\sqrt\beta)` through the exact order.

    Returns ``{"defect": {q: series}, "first": {q: (power, coefficient)}, "exponents": ...}``;
    ``first[q]`` is the lowest non-zero term (``(None, 0)`` if the defect vanishes to the
    computed order).  Cost: :func:`mapped_series` plus expansions (about a second at
    ``order = 5``, a few seconds at 7, under load).

    >>> d = defect_series(5)
    >>> d["first"]["z"]
    (5, 8*beta*zhat**5*(beta - 1)/15)
    """
    _, _, _, tau_t, _ = _symbols()
    from .linear import series_solution

    K = int(order)
    hi = series_solution(K)
    mp = mapped_series(K)
    upto = _exactness(K)
    defect, first = {}, {}
    for q in QUANTITIES:
        d = _trunc(hi[q] - mp["series"][q], tau_t, upto[q])
        defect[q] = d
        first[q] = _lowest(d, tau_t, upto[q])
    return {"defect": defect, "first": first, "exponents": mp["exponents"], "order": K}


def _relative_z_defect():
    r""":math:`(z_g - z_{map})/(\hat z\tilde\tau)` at leading order, in terms of g."""
    beta, g, _, tau_t, zhat = _symbols()
    k, c = defect_series(5)["first"]["z"]
    return sp.factor((c * tau_t**k / (zhat * tau_t)).subs(beta, 1 / (1 - g**2)))


@lru_cache(maxsize=None)
def _trust_expr():
    """tau_tilde at which the leading relative z defect equals ``r`` (sympy solve)."""
    _, g, _, tau_t, zhat = _symbols()
    r = sp.Symbol("r", positive=True)
    rel = _relative_z_defect()
    coeff = sp.factor(rel / tau_t**4)  # the relative defect is C tau_tilde^4
    if coeff.has(tau_t):  # pragma: no cover - would contradict B2
        raise ArithmeticError("the relative z defect is not proportional to tau_tilde^4")
    sol = (r / coeff) ** sp.Rational(1, 4)  # the non-negative root of coeff tt^4 = r (coeff > 0)
    if sp.simplify(coeff * sol**4 - r) != 0:  # pragma: no cover
        raise ArithmeticError("trust time does not solve C tt^4 = r")
    return r, sol


def trust_tau_tilde(gv, zhat_value, rel: float = 0.01) -> float:
    r"""Largest :math:`\tilde\tau` at which the mapped curve's leading z defect stays below ``rel``.

    From the derived leading term,
    :math:`\tilde\tau_{rel} = (15\,rel/(8 g^2\beta^2\hat z^4))^{1/4}` (``inf`` at g = 0 or
    ẑ = 0, where the map is exact).  A leading-order estimate: the next terms change it
    where :math:`\tilde\tau \gtrsim 0.2` (see ``docs/beyond_the_paper.md``).  Cost O(1).

    >>> round(trust_tau_tilde(0.6, 2.0, 0.01), 4)
    0.1911
    """
    from .errors import check_gain

    check_gain(gv)
    zf = abs(check_real("zhat", zhat_value))
    rel = check_real("rel", rel)
    if rel <= 0:
        raise DomainError(f"rel must be > 0, got {rel}")
    if gv == 0 or zf == 0:
        return float("inf")
    r, sol = _trust_expr()
    _, g, _, _, zhat = _symbols()
    return float(sol.subs({g: float(gv), zhat: zf, r: rel}))


@lru_cache(maxsize=None)
def _z_defect_numpy():
    """The derived leading z defect as a numpy function of (tau_tilde, zhat, beta)."""
    from .backends import numpy_function

    beta, _, _, tau_t, zhat = _symbols()
    k, c = defect_series(5)["first"]["z"]
    return numpy_function([tau_t, zhat, beta], c * tau_t**k)


def solve(gv, zhat_value, tau_values, *, tilde: bool = False) -> dict:
    r"""Mapped exact curves at gain g (N → ∞): the exact g = 0 solution under the scaling map.

    :math:`z = z_0(\tilde\tau;\hat z\sqrt\beta)/\sqrt\beta`, :math:`s_{1,2}` and
    :math:`\|\Delta W\|_F` scaled by :math:`\beta^{-3/2}`, :math:`G` by :math:`\beta^2`,
    :math:`\mathrm{tr}\,\Delta W` by :math:`\beta^{-2}` (exponents of :func:`mapped_series`).
    **Not exact at g > 0**: the map fails at :math:`O(\tilde\tau^5)` in z; ``z_defect``
    holds the leading correction :math:`\tfrac{8}{15}\beta(\beta-1)\hat z^5\tilde\tau^5`
    (valid for small :math:`\tilde\tau`, reported separately, not added) and
    ``trust_tau_tilde`` the :math:`\tilde\tau` below which its relative size is < 1 %.
    Cost: one :func:`rnn_theory.theory.exact_g0.solve` (adaptive ODE, ~10²–10³ steps).

    >>> out = solve(0.6, 2.0, [0.1], tilde=True)
    >>> round(float(out["z"][0]), 4)  # R6: 2 (0.1 - 0.005 + 0.001 (1 + 50)/6) = 0.207
    0.2062
    """
    from . import exact_g0
    from .errors import check_gain

    check_gain(gv)
    zf = check_real("zhat", zhat_value)
    t = np.asarray(tau_values, dtype=float)
    b = 1.0 / (1.0 - float(gv) ** 2)
    tt = t if tilde else b**2 * t
    ex = exact_g0.solve(zf * np.sqrt(b), tt)  # validates tau (finite, >= 0)
    p = {q: float(v) for q, v in mapped_series(5)["exponents"].items()}
    out = {"tau": tt / b**2, "tau_tilde": tt, "z": ex["z"] * b ** p["z"], "G": ex["G"] * b ** p["G"],
           "dw_norm": ex["dw_norm"] * b ** (p["dw_norm2"] / 2), "s1": ex["s1"] * b ** p["s1"],
           "s2": ex["s2"] * b ** p["s2"], "trace_dw": 2 * ex["a"] * b ** p["trace_dw"],
           "tau_tilde_c": ex["tau_c"], "tau_c": ex["tau_c"] / b**2}
    out["loss"] = 0.5 * (zf - out["z"]) ** 2
    out["z_defect"] = np.sign(zf) * _z_defect_numpy()(tt, abs(zf), b) * np.ones_like(tt)
    out["trust_tau_tilde"] = trust_tau_tilde(gv, zf, 0.01)
    return out


# ============================================================================ derive entries
def _series_derivation(K: int) -> Derivation:
    """B1: the general-g series to order K, checked against the exact g = 0 Taylor series."""
    from . import exact_g0
    from .linear import series_solution, third_order_series

    beta, _, tau, tau_t, _ = _symbols()
    hi = series_solution(K)
    ex = exact_g0.taylor_series(K + 1)
    upto = _exactness(K)
    r6 = third_order_series()
    at_g0 = all(sp.expand(_trunc(hi[q].subs(beta, 1), tau_t, upto[q]) - _trunc(ex[q].subs(tau, tau_t), tau_t, upto[q])) == 0
                for q in QUANTITIES)
    r6_ok = all(sp.expand(_trunc(hi[q], tau_t, n) - _trunc(r6[q], tau_t, n)) == 0
                for q, n in (("z", 3), ("s1", 3), ("s2", 3), ("trace_dw", 3), ("dw_norm2", 4), ("G", 2)))
    n_free = all(not hi[q].free_symbols - {beta, tau_t, _symbols()[4]} for q in QUANTITIES)
    return Derivation(
        f"B1.series_order{K}", f"[beyond the paper] large-N series at every g through tt^{K} "
        "(|dW|^2 through tt^%d) for z, G, |dW|^2, s1, s2, tr dW; every longer-word moment from "
        "random_matrix.phi" % (K + 1),
        {q: hi[q] for q in QUANTITIES},
        [Check("depends only on (tt, zhat, beta): N-independent, |w||m| = 1", n_free),
         Check("truncated at tt^3 it is R6 (third_order_series)", r6_ok),
         Check(f"at beta = 1 (g = 0) equal term by term to the Taylor series of the exact g = 0 "
               f"solution (exact_g0.taylor_series, 2x2 route) for all six quantities", at_g0)])


def _scaling_derivation(K: int) -> Derivation:
    """B2: the defect of the scaling map, its first non-zero terms and consistency checks."""
    beta, g, _, tau_t, zhat = _symbols()
    d = defect_series(K)
    first = d["first"]
    kz, cz = first["z"]
    kG, cG = first["G"]
    k1, c1 = first["s1"]
    kn, cn = first["dw_norm2"]
    vanish_g0 = all(sp.expand(v.subs(beta, 1)) == 0 for v in d["defect"].values())
    lead = {q: (sp.factor(c * tau_t**k) if k is not None else 0) for q, (k, c) in first.items()}
    # dz/dtt = eps G / beta^2 with eps = zhat + O(tt): the leading defects must match
    flow_ok = kz is not None and sp.simplify(sp.diff(cz * tau_t**kz, tau_t) - zhat * cG * tau_t**kG / beta**2) == 0
    # |dW|^2 = s1^2 + O(tt^6) with s1 = zhat tt/beta + ...: d|dW|^2 = 2 (zhat tt/beta) ds1
    norm_ok = sp.simplify(cn * tau_t**kn - 2 * zhat * tau_t / beta * c1 * tau_t**k1) == 0
    rel = _relative_z_defect()
    return Derivation(
        f"B2.scaling_defect_order{K}", "[beyond the paper] q_g - beta^p q_0(tt; zhat sqrt(beta)) with the exact "
        "g = 0 Taylor series: the scaling map FAILS; first non-zero terms (z at tt^%s, G at tt^%s)" % (kz, kG),
        {**{f"defect {q}": lead[q] for q in QUANTITIES}, "exponents p_q": d["exponents"],
         "relative z defect (in g)": rel},
        [Check("derived exponents: z -> beta^(-1/2), s1, s2 -> beta^(-3/2) (issue 12's conjecture)",
               all(d["exponents"][q] == v for q, v in _CONJECTURE.items())),
         Check("the map holds through tt^4 for z, s1, s2 and tt^3 for G, tt^5 for |dW|^2 (no lower defect)",
               (kz, first["s1"][0], first["s2"][0], kG, kn) == (5, 5, 5, 4, 6)),
         Check("tr dW: the map holds through tt^3, first defect at tt^4", first["trace_dw"][0] == 4),
         Check("every defect coefficient vanishes at beta = 1 (g = 0)", vanish_g0),
         Check("leading defects obey dz/dtt = eps G/beta^2 (z and G defects consistent)", flow_ok),
         Check("leading defects obey |dW|^2 = s1^2 + ... (|dW|^2 and s1 defects consistent)", norm_ok),
         Check("learning at g > 0 is faster than the mapped curve (z defect > 0 for g in (0, 1))",
               bool(sp.simplify(rel.subs({g: sp.Rational(1, 2), zhat: 1, tau_t: 1})) > 0))])


def derivations(order: int = 5) -> list:
    """B1 (series at every g to ``order``) and B2 (the scaling defect) with their checks.

    ``rnn-theory derive`` runs ``order = 5``; ``derive --module rnn_theory.theory.scaling_order7``
    adds order 7 (slower: see ``docs/beyond_the_paper.md``).
    """
    return [_series_derivation(order), _scaling_derivation(order)]
