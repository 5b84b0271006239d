r"""Eigenvalues of :math:`\Delta W` in exact g = 0 learning (R8.top_eigenvalue), next to its trace.

At :math:`g = 0` (:mod:`rnn_theory.theory.exact_g0`), :math:`\Delta W` acts on
:math:`\mathrm{span}\{\hat w, \hat m\}` as :math:`A = [[a, b], [c, a]]` and vanishes elsewhere.
sympy derives its two non-zero eigenvalues from the characteristic polynomial,
:math:`\lambda_\pm = a \pm \sqrt{bc}`, and, on the invariant surface
:math:`a = 1 - \sqrt{1 - b^2}`, :math:`c = \operatorname{artanh} b - b`, their series in
:math:`b` and then in :math:`\tau` (composing with the Taylor series of :math:`b(\tau)`).

The trace :math:`\operatorname{tr}\Delta W = 2a = \lambda_+ + \lambda_-` is *not* an
eigenvalue: at leading order :math:`\lambda_\pm = (\tfrac12 \pm \tfrac1{\sqrt3})\hat z^2\tau^2`
while :math:`\operatorname{tr}\Delta W = \hat z^2\tau^2`, so the top eigenvalue is
:math:`\tfrac12 + \tfrac1{\sqrt 3} \approx 1.077` times the trace (at :math:`\beta = 1`,
:math:`\tilde\tau = \tau`).  (Schuessler et al.'s notebook uses
:math:`\hat z^2\tilde\tau^2/\beta\,(1 - \tfrac34\tilde\tau)`, which is neither.)

Cost: sympy series of a few terms, well under a second after
:func:`rnn_theory.theory.exact_g0.taylor_series` (a few seconds, cached).

>>> ser = top_eigenvalue_series(4)
>>> sp.nsimplify(ser["ratio_leading"])
1/2 + sqrt(3)/3
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .derivation import Check, Derivation
from .exact_g0 import a, b, c, reduction, tau, taylor_series, zhat

__all__ = ["eigenvalues", "top_eigenvalue_series", "derivations"]

_lam = sp.Symbol("lambda")
_bp = sp.Symbol("b_pos", positive=True)


@lru_cache(maxsize=None)
def eigenvalues() -> dict:
    r"""The non-zero eigenvalues of :math:`A = [[a, b], [c, a]]` by ``sympy.roots`` of its
    characteristic polynomial, and the top one as a function of :math:`b` on the invariant
    surface (``top_of_b``), with its series in :math:`b` through :math:`b^6` (``top_b_series``)."""
    A = sp.Matrix([[a, b], [c, a]])
    roots = sp.roots(sp.Poly(A.charpoly(_lam).as_expr(), _lam))
    pt = {a: 0, b: 1, c: 4}     # a generic point with bc > 0 tells the two roots apart
    lam_p, lam_m = sorted(roots, key=lambda r: -float(r.subs(pt)))
    red = reduction()
    top_of_b = (lam_p.subs({a: red["a_of_b"], c: red["c_of_b"]}))
    top_b = sp.expand(sp.series(top_of_b.subs(b, _bp), _bp, 0, 8).removeO().subs(_bp, b))
    return {"lambda_plus": lam_p, "lambda_minus": lam_m, "A": A, "top_of_b": top_of_b,
            "top_b_series": top_b}


def _trunc(e, k):
    e = sp.expand(e)
    return sp.expand(sum(e.coeff(tau, j) * tau**j for j in range(k + 1)))


def _compose_trunc(series_in_b, bt, k):
    """``series_in_b`` at ``b = bt`` truncated at :math:`\tau^k`, by Horner's rule with a
    truncation after every product (the plain substitution expands every power in full)."""
    poly = sp.Poly(series_in_b, b)
    out = sp.Integer(0)
    for coeff in poly.all_coeffs():
        out = _trunc(out * bt + coeff, k)
    return out


@lru_cache(maxsize=None)
def top_eigenvalue_series(order: int = 6) -> dict:
    r"""Series in :math:`\tau` (through :math:`\tau^{order}`, ``order <= 6``) of the top
    eigenvalue ``top_eig`` of :math:`\Delta W` at g = 0, the trace ``trace_dw`` and the
    leading ratio ``ratio_leading`` (top / trace as :math:`\tau \to 0`)."""
    K = int(order)
    ser = taylor_series()
    bt = _trunc(ser["b"], K)
    top = _compose_trunc(eigenvalues()["top_b_series"], bt, K)
    tr = _trunc(ser["trace_dw"], K)
    ratio = sp.nsimplify(sp.simplify(top.coeff(tau, 2) / tr.coeff(tau, 2)))
    return {"top_eig": top, "trace_dw": tr, "ratio_leading": ratio}


@lru_cache(maxsize=None)
def derivations() -> list:
    """R8.top_eigenvalue: a ± sqrt(bc), its b- and tau-series, and the trace beside it."""
    ev = eigenvalues()
    lp, lm, A = ev["lambda_plus"], ev["lambda_minus"], ev["A"]
    ser = top_eigenvalue_series(5)
    top, tr = ser["top_eig"], ser["trace_dw"]
    lead = sp.Rational(1, 2) + 1 / sp.sqrt(3)
    notebook = zhat**2 * tau**2 * (1 - sp.Rational(3, 4) * tau)
    checks = [
        Check("lambda_+ + lambda_- = tr A = 2a (Vieta)", sp.expand(lp + lm - A.trace()) == 0),
        Check("lambda_+ lambda_- = det A = a^2 - bc (Vieta)", sp.expand(lp * lm - A.det()) == 0),
        Check("lambda_+ = a + sqrt(bc)", sp.simplify(lp - (a + sp.sqrt(b * c))) == 0),
        Check("top eigenvalue = (1/2 + 1/sqrt3) b^2 + O(b^4)",
              sp.simplify(ev["top_b_series"].coeff(b, 2) - lead) == 0),
        Check("top eigenvalue = (1/2 + 1/sqrt3) zhat^2 tau^2 (1 - tau) + O(tau^4)",
              sp.simplify(_trunc(top, 3) - lead * zhat**2 * tau**2 * (1 - tau)) == 0),
        Check("trace = zhat^2 tau^2 (1 - tau) + O(tau^4): top/trace -> 1/2 + 1/sqrt3 ~ 1.077",
              sp.expand(_trunc(tr, 3) - zhat**2 * tau**2 * (1 - tau)) == 0
              and sp.simplify(ser["ratio_leading"] - lead) == 0),
        Check("the notebook's zhat^2 tau^2 (1 - 3 tau/4) (beta = 1) is the trace at O(tau^2) but neither the trace "
              "nor the top eigenvalue at O(tau^3)",
              sp.expand(_trunc(tr, 2) - _trunc(notebook, 2)) == 0
              and sp.simplify(_trunc(tr, 3) - notebook) != 0 and sp.simplify(_trunc(top, 3) - notebook) != 0),
    ]
    return [Derivation("R8.top_eigenvalue",
                       "g = 0: eigenvalues of dW are a +- sqrt(bc); top one vs the trace 2a (beta = 1)",
                       {"lambda_+": lp, "lambda_-": lm, "top(b)": ev["top_b_series"], "top(tau)": top, "trace(tau)": tr},
                       checks)]
