r"""The outlier eigenvalue of :math:`W = W_0 + \Delta W` during learning (beyond the paper).

The bulk of :math:`W_0 = gJ` fills the disc of radius g at large N.  Learning adds a
low-rank :math:`\Delta W` built from :math:`w, m` filtered by :math:`B = (I-W_0)^{-1}`, and
can push an eigenvalue of :math:`W` out of the disc: the learned structure becomes visible in
the spectrum.  With :math:`\Delta W = UCV^\top` over the atoms of the τ̃-series, an outlier
:math:`\lambda` (:math:`|\lambda| > g`) solves

.. math:: \det\bigl(I - C(\tilde\tau)\,M(\lambda)\bigr) = 0,\qquad
          M_{ji} = \lim_N b_j^\top(\lambda - W_0)^{-1}a_i,

whose entries are large-N moments of words mixing :math:`B, B^\top` and the resolvent,
derived by a Schwinger–Dyson recursion (:mod:`~rnn_theory.theory.outlier.moments`) and checked
against counted non-crossing pairings.  Modules:

- :mod:`~rnn_theory.theory.outlier.moments` — mixed moments :math:`\varphi(\dots R(\lambda)\dots)`;
- :mod:`~rnn_theory.theory.outlier.equation` — :math:`C`, :math:`M` and the determinant;
- :mod:`~rnn_theory.theory.outlier.spectrum` — :func:`top_eigenvalue`, :func:`emergence_time`.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..derivation import Check, Derivation
from .equation import numeric_system, outlier_system
from .moments import lam, phi_mixed, phi_mixed_field, sd_series, series_route, transpose_word, xg
from .spectrum import emergence_time, outlier_function, top_eigenvalue

__all__ = ["top_eigenvalue", "emergence_time", "outlier_function", "outlier_system", "numeric_system",
           "phi_mixed", "edge_condition", "derivations"]

_ORDER = 3  # the symbolic derivations use the third-order series (cheap); numerics default to 5


def _words(order):
    sysm = outlier_system(order)
    return sorted({transpose_word(b[1]) + "R" + a[1] for a in sysm["left"] for b in sysm["right"] if a[0] == b[0]})


def _det(Mat):
    from sympy.polys.matrices import DomainMatrix

    dM = DomainMatrix.from_Matrix(Mat)
    return sp.factor(dM.domain.to_sympy(dM.det()))


@lru_cache(maxsize=None)
def edge_condition(order: int = _ORDER):
    r""":math:`f(\lambda = g;\tilde\tau) = \det(I - C(\tilde\tau)M(g))` (sympy, in g, τ̃, ẑ): the outlier leaves the bulk where it vanishes.

    Cost: a symbolic determinant over :math:`\mathbb{Z}(g, \tilde\tau, \hat z)`, about 1 s at order 3.
    """
    from ..linear.symbols import g, p_w

    sysm = outlier_system(order)
    A = (sp.eye(len(sysm["left"])) - sysm["C"] * sysm["M"]).subs({p_w: 1, lam: g, xg: g**2})
    return _det(A)


def _moment_derivation():
    from .. import random_matrix as rm

    words = _words(_ORDER)
    series_ok = all(series_route(wd, 2) == sd_series(wd, 2) for wd in words)
    at_one = all(sp.cancel(phi_mixed_field(wd).as_expr().subs(lam, 1)
                           - rm.phi(wd.replace("R", "B"), in_beta=True).subs(rm.beta_sym, 1 / (1 - xg))) == 0
                 for wd in words)
    table = {f"phi({wd})": phi_mixed(wd) for wd in words[:4]}
    return Derivation(
        "O.moments", "large-N phi of words in B, B^T with one resolvent R(lambda) = (lambda - W0)^-1, |lambda| > g "
        f"(Schwinger-Dyson; x = g^2); the {len(words)} words of the order-3 outlier equation", table,
        [Check(f"Schwinger-Dyson Taylor coefficients in x equal counted non-crossing pairings (n <= 2) "
               f"for all {len(words)} words, as polynomials in 1/lambda", series_ok),
         Check("at lambda = 1 (R -> B) every word reduces to the B/B^T moment rule (random_matrix.phi)", at_one),
         Check("phi(R) = 1/lambda and phi(R B^T) = 1/(lambda - g^2)",
               sp.cancel(phi_mixed("R") - 1 / lam) == 0 and sp.cancel(phi_mixed("RT") - 1 / (lam - xg)) == 0)])


def _g0_derivation():
    from .. import exact_g0
    from ..linear.symbols import p_w, tau_t, zhat

    sysm = outlier_system(_ORDER)
    f0 = (sp.eye(len(sysm["left"])) - sysm["C"] * sysm["M"]).subs({p_w: 1, xg: 0})
    f0 = sp.cancel(_det(f0))
    ser = exact_g0.taylor_series()  # the same (cached) call as R8.series

    def tr(e):
        e = sp.expand(e.subs(exact_g0.tau, tau_t))
        return sum(e.coeff(tau_t, k) * tau_t**k for k in range(_ORDER + 1))

    a3, b3, c3 = tr(ser["a"]), tr(ser["b"]), tr(ser["c"])
    A3 = sp.Matrix([[a3, b3], [c3, a3]]).subs(exact_g0.zhat, zhat)
    f_exact = sp.cancel((sp.eye(2) - A3 / lam).det())
    kappa = sp.Symbol("kappa", positive=True)
    num = sp.expand(sp.numer(sp.together(f0)).subs(lam, kappa * tau_t**2))
    lowest = min(sp.Poly(num, tau_t).monoms())[0]
    kap = [r for r in sp.solve(sp.expand(num).coeff(tau_t, lowest), kappa) if r.is_positive]
    bc = sp.Poly(sp.expand(ser["b"] * ser["c"]), exact_g0.tau)
    a_ = sp.Poly(ser["a"], exact_g0.tau)
    low_ok = all(bc.coeff_monomial(exact_g0.tau**k) == 0 for k in range(4)) and all(
        a_.coeff_monomial(exact_g0.tau**k) == 0 for k in range(2))
    # a = a2 tau^2 + ..., bc = bc4 tau^4 + ...  =>  a + sqrt(bc) = (a2 + sqrt(bc4)) tau^2 + O(tau^3)
    lead_exact = a_.coeff_monomial(exact_g0.tau**2) + sp.sqrt(bc.coeff_monomial(exact_g0.tau**4))
    lead = kap[0] if kap else sp.nan  # kappa = lambda / tau^2 (it carries zhat^2)
    return Derivation(
        "O.g0", "g = 0: the outlier equation of the series is det(I - A/lambda) = 0 for the 2x2 A = [[a,b],[c,a]] "
        "of the exact solution (roots a +- sqrt(bc)); top eigenvalue = (1/2 + 1/sqrt 3) zhat^2 tau^2 + O(tau^3)",
        {"lambda_top": lead * tau_t**2},
        [Check("at g = 0 det(I - C M(lambda)) equals det(I - A_3/lambda) with A_3 the exact g = 0 Taylor series "
               "through tau^3", sp.cancel(f0 - f_exact.subs(exact_g0.zhat, zhat)) == 0),
         Check("leading top eigenvalue equals the tau^2 coefficient of a + sqrt(bc) (exact solution)",
               bool(kap) and low_ok and sp.simplify(lead - lead_exact.subs(exact_g0.zhat, zhat)) == 0)])


def _low(expr, k):
    """Terms of a polynomial in tau~ through tau~^k."""
    from ..linear.symbols import tau_t

    e = sp.expand(expr)
    return sp.expand(sum(e.coeff(tau_t, j) * tau_t**j for j in range(k + 1)))


def _edge_derivation():
    from ..linear.symbols import g, tau_t, zhat

    f = edge_condition(_ORDER)
    num = sp.factor(sp.numer(sp.together(f)))
    return Derivation(
        "O.edge", "the outlier leaves the bulk (lambda = g) at the first root tau~* of det(I - C(tau~) M(g)) = 0 "
        "(order-3 series; numerics use order 5: tau~* ~ 0.197 at g = 0.3, 0.181 at g = 0.6, zhat = 2)",
        {"det(I - C M(g))": f},
        [Check("no outlier at tau~ = 0: f(g; 0) = 1", sp.simplify(f.subs(tau_t, 0) - 1) == 0),
         Check("independent of N (|w||m| = 1: p_w cancels)", not f.has(sp.Symbol("p_w", positive=True))),
         Check("g -> 0: g^2 f(g) -> det A_3 = -zhat^4 tau~^4/12 + O(tau~^5) (R8)",
               _low(sp.cancel(g**2 * f).subs(g, 0), 4) == -zhat**4 * tau_t**4 / 12),
         Check("the numerator is a polynomial in tau~ of degree 6", sp.Poly(num, tau_t).degree() == 6)])


@lru_cache(maxsize=None)
def derivations() -> list:
    """O.moments, O.g0, O.edge with their symbolic checks (order-3 series; about 3 s cold)."""
    return [_moment_derivation(), _g0_derivation(), _edge_derivation()]
