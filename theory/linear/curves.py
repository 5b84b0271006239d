r"""Numeric learning curves from the τ̃-series (R6 and higher) and any derived curve as a function.

:func:`third_order` and :func:`series_curves` evaluate the series of
:mod:`rnn_theory.theory.linear.third_order` / :mod:`~rnn_theory.theory.linear.higher_order`
on float64 arrays (validated inputs, optional clipping at :math:`z = \hat z`);
:func:`curve_function` returns any derived curve as an unvalidated numpy or mpmath function
of :math:`(\tilde\tau, \hat z, \beta)`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ..backends import numpy_function
from ..errors import DomainError
from .first_order import first_order_solution
from .higher_order import series_solution
from .symbols import _gain, _tau, _zhat, beta, tau, tau_t, z0, zhat
from .third_order import third_order_series

__all__ = ["third_order", "series_curves", "curve_function"]


def third_order(gv, zhat_value, tau_values, *, tilde: bool = False, clip: bool = False, order: int = 3) -> dict:
    r"""Third-order series in :math:`\tilde\tau` (R6): ``z``, ``G``, ``s1``, ``s2``, ``trace_dw``,
    ``dw_norm2``, ``loss`` (N → ∞, :math:`z_0 = 0`).  Cost :math:`O(T)`.

    Error :math:`O(\tilde\tau^4)`; use for :math:`\tilde\tau \lesssim 0.5`, or with ``clip=True``
    (the spec's Fig 3 convention): once :math:`z` first exceeds :math:`\hat z`, set
    :math:`z = \hat z`, :math:`L = 0` and freeze ``s1``, ``s2``, ``dw_norm2``, ``trace_dw``, ``G``.

    ``s2`` is the leading term :math:`\hat z^3\tilde\tau^3/12` only; its relative error is
    :math:`O(\tilde\tau)` (about -13 % at :math:`\tilde\tau = 0.1`, -22 % at 0.2 against the
    exact g = 0 solution).  :func:`series_curves` with ``order=5`` cuts that to -0.6 % / -4 %.

    Parameters are as in :func:`first_order` (``tau`` is :math:`\eta\cdot`steps, or
    :math:`\tilde\tau` with ``tilde=True``).  ``order`` (default 3, R6) selects a higher
    order of :func:`series_solution` (same as :func:`series_curves`; beyond the paper).

    >>> out = third_order(0.0, 1.0, [0.0, 0.1])
    >>> [round(float(v), 8) for v in out["z"]]  # 0.1 - 0.1**2/2 + 0.1**3 (1 + 8)/6
    [0.0, 0.0965]
    >>> float(out["s2"][1]) * 12 / 0.1**3
    1.0
    """
    return series_curves(gv, zhat_value, tau_values, order=order, tilde=tilde, clip=clip)


@lru_cache(maxsize=None)
def _series_numpy(order):
    """The series of ``order`` and numpy functions ``f(tau_tilde, zhat, beta)`` of its curves."""
    ser = third_order_series() if order == 3 else series_solution(order)
    args = [tau_t, zhat, beta]
    return ser, {k: numpy_function(args, ser[k]) for k in ("z", "G", "dw_norm2", "s1", "s2", "trace_dw")}


def series_curves(gv, zhat_value, tau_values, *, order: int = 5, tilde: bool = False, clip: bool = False) -> dict:
    r"""Learning curves from :func:`series_solution` of the given ``order`` (N → ∞, :math:`z_0 = 0`).

    Same keys and conventions as :func:`third_order` (which is ``order=3``).

    >>> out = series_curves(0.0, 1.0, [0.2], tilde=True)
    >>> round(float(out["s2"][0]), 6)  # exact g = 0: 0.000521; leading order 0.2**3/12 = 0.000667
    0.000544
    """
    gf = _gain(gv)
    zf = _zhat(zhat_value)
    t = _tau(tau_values, "tau_tilde" if tilde else "tau")
    b = 1.0 / (1.0 - gf**2)
    tt = t if tilde else b**2 * t
    ser, fns = _series_numpy(int(order))
    za = abs(zf)
    one = np.ones_like(tt)
    out = {k: fn(tt, za, b) * one for k, fn in fns.items()}
    if clip and za > 0:
        poly = sp.Poly(sp.expand(ser["z"] - zhat).subs({zhat: sp.nsimplify(za), beta: sp.nsimplify(b)}), tau_t)
        roots = np.roots([float(c) for c in poly.all_coeffs()])
        real = sorted(r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 0)
        if real:
            tc = real[0]
            after = tt >= tc
            frozen = {k: fn(np.asarray(tc), za, b) for k, fn in fns.items()}
            for k in ("s1", "s2", "dw_norm2", "trace_dw", "G"):
                out[k] = np.where(after, frozen[k], out[k])
            out["z"] = np.where(after, za, out["z"])
    out["z"] = np.sign(zf) * out["z"] if zf != 0 else out["z"] * 0
    out["loss"] = 0.5 * (zf - out["z"]) ** 2
    out["tau"] = tt / b**2
    out["tau_tilde"] = tt
    return out


def curve_function(quantity: str, *, order: int = 3, backend: str = "numpy"):
    r"""The derived curve ``quantity`` as a function ``f(tau_tilde, zhat, beta)``.

    ``order=1``: first-order (frozen-B) closed forms ``z``, ``loss``, ``dw_norm`` (z0 = 0);
    ``order >= 3``: the series of :func:`series_solution` (``z``, ``G``, ``dw_norm2``, ``s1``,
    ``s2``, ``trace_dw``, ``loss``).  ``backend="mpmath"`` evaluates at the working precision
    of ``mpmath.mp`` (the expression is lambdified on exact rationals).  No input checks:
    use :func:`first_order` / :func:`series_curves` for validated float64 curves.

    >>> import mpmath
    >>> f = curve_function("s2", order=3, backend="mpmath")
    >>> with mpmath.workdps(30):
    ...     print(f(mpmath.mpf("0.1"), 1, 2))
    0.0000833333333333333333333333333333
    """
    from ..backends import mpmath_function

    if order == 1:
        sol = first_order_solution()
        exprs = {k: sol[k].subs(z0, 0).subs(tau, tau_t / beta**2) for k in ("z", "loss", "dw_norm")}
    else:
        exprs = third_order_series() if order == 3 else series_solution(order)
    if quantity not in exprs or quantity in ("order", "derivations"):
        raise DomainError(f"unknown quantity {quantity!r} for order {order}; choose from "
                          f"{sorted(k for k in exprs if isinstance(exprs[k], sp.Expr) and exprs[k].has(tau_t))}")
    make = {"numpy": numpy_function, "mpmath": mpmath_function}.get(backend)
    if make is None:
        raise DomainError(f"backend must be 'numpy' or 'mpmath', got {backend!r}")
    return make([tau_t, zhat, beta], exprs[quantity])
