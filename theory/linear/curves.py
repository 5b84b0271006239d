r"""Numeric learning curves from the τ̃-series (R6 and higher) and any derived curve as a function.

:func:`third_order` and :func:`series_curves` evaluate the series of
:mod:`rnn_theory.theory.linear.third_order` / :mod:`~rnn_theory.theory.linear.higher_order`
on float64 arrays (validated inputs, optional clipping at :math:`z = \hat z`);
:func:`curve_function` returns any derived curve as an unvalidated numpy or mpmath function
of :math:`(\tilde\tau, \hat z, \beta)`.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import sympy as sp

from ..backends import numpy_function
from ..errors import DomainError
from .first_order import first_order_solution
from .higher_order import series_solution
from .symbols import _gain, _tau, _zhat, beta, tau, tau_t, z0, zhat
from .third_order import third_order_series

__all__ = ["third_order", "series_curves", "curve_function", "validity_limit"]


def third_order(gv, zhat_value, tau_values, *, tilde: bool = False, clip: bool = False,
                beyond: str = "raise", order: int = 3) -> dict:
    r"""Third-order series in :math:`\tilde\tau` (R6): ``z``, ``G``, ``s1``, ``s2``, ``trace_dw``,
    ``dw_norm2``, ``loss`` (N → ∞, :math:`z_0 = 0`).  Cost :math:`O(T)`.

    Error :math:`O(\tilde\tau^4)`; use for :math:`\tilde\tau \lesssim 0.5`, or with ``clip=True``
    (the spec's Fig 3 convention): once :math:`z` first exceeds :math:`\hat z`, set
    :math:`z = \hat z`, :math:`L = 0` and freeze ``s1``, ``s2``, ``dw_norm2``, ``trace_dw``, ``G``.

    ``s2`` is the leading term :math:`\hat z^3\tilde\tau^3/12` only; its relative error is
    :math:`O(\tilde\tau)` (about -13 % at :math:`\tilde\tau = 0.1`, -22 % at 0.2 against the
    exact g = 0 solution).  :func:`series_curves` with ``order=5`` cuts that to -0.6 % / -4 %.

    Parameters are as in :func:`first_order` (``tau`` is :math:`\eta\cdot`steps, or
    :math:`\tilde\tau` with ``tilde=True``).  Times beyond :func:`validity_limit` raise
    :class:`~rnn_theory.theory.errors.DomainError` naming the valid range (``beyond``: see
    :func:`series_curves`).  ``order`` (default 3, R6) selects a higher order of
    :func:`series_solution` (same as :func:`series_curves`; beyond the paper).

    >>> out = third_order(0.0, 1.0, [0.0, 0.1])
    >>> [round(float(v), 8) for v in out["z"]]  # 0.1 - 0.1**2/2 + 0.1**3 (1 + 8)/6
    [0.0, 0.0965]
    >>> float(out["s2"][1]) * 12 / 0.1**3
    1.0
    """
    return series_curves(gv, zhat_value, tau_values, order=order, tilde=tilde, clip=clip, beyond=beyond)


@lru_cache(maxsize=None)
def _series_numpy(order):
    """The series of ``order`` and numpy functions ``f(tau_tilde, zhat, beta)`` of its curves."""
    ser = third_order_series() if order == 3 else series_solution(order)
    args = [tau_t, zhat, beta]
    return ser, {k: numpy_function(args, ser[k]) for k in ("z", "G", "dw_norm2", "s1", "s2", "trace_dw")}


VALIDITY_RATIO = 0.1


def validity_limit(gv, zhat_value, *, order: int = 3, ratio: float = VALIDITY_RATIO) -> float:
    r"""Largest :math:`\tilde\tau` where the series of ``order`` is trusted (:math:`+\infty` if all).

    Criterion: the highest kept term :math:`c_K\tilde\tau^K` of :math:`z(\tilde\tau)` (the
    size of the truncation error, to leading order) stays below ``ratio`` (default 10 %)
    of the lower orders :math:`|\sum_{j<K} c_j\tilde\tau^j|`.  The coefficients come from
    the derived series at the given :math:`\hat z`, :math:`\beta = 1/(1-g^2)`; the limit is the
    smallest positive root of :math:`|c_K|\tilde\tau^K = \mathrm{ratio}\,|\sum_{j<K} c_j\tilde\tau^j|`.
    With ``ratio=1`` it is where the last term overtakes the lower orders: beyond it the
    truncated series is no approximation at all.

    >>> round(validity_limit(0.0, 1.0), 4)   # z = t - t^2/2 + 3t^3/2: 15 t^2 + t/2 - 1 = 0
    0.2421
    """
    za, b = abs(_zhat(zhat_value)), 1.0 / (1.0 - _gain(gv) ** 2)
    ser, _ = _series_numpy(int(order))
    if za == 0:
        return float("inf")
    c = sp.Poly(sp.expand(ser["z"]).subs({zhat: sp.nsimplify(za), beta: sp.nsimplify(b)}), tau_t).all_coeffs()
    c = [float(v) for v in c]                 # highest power first; z has no constant term
    top, rest = c[0], np.array([0.0] + c[1:])
    roots = [np.roots(np.array([abs(top)] + [0.0] * (len(c) - 1)) - sgn * ratio * rest)
             for sgn in (1.0, -1.0)]
    pos = [r.real for rr in roots for r in rr if abs(r.imag) < 1e-12 and r.real > 0]
    return float(min(pos)) if pos else float("inf")


def series_curves(gv, zhat_value, tau_values, *, order: int = 5, tilde: bool = False, clip: bool = False,
                  beyond: str = "raise") -> dict:
    r"""Learning curves from :func:`series_solution` of the given ``order`` (N → ∞, :math:`z_0 = 0`).

    Same keys and conventions as :func:`third_order` (which is ``order=3``).  Times beyond
    :func:`validity_limit` (where the series is no longer trusted; after the clip point
    with ``clip=True`` the frozen values are used, so only times up to it count) warn
    (:class:`RuntimeWarning`, stating the range); times beyond ``validity_limit(...,
    ratio=1)``, where the last term exceeds the lower orders, raise
    :class:`~rnn_theory.theory.errors.DomainError` (``beyond="raise"``, the default), or only
    warn (``"warn"``); ``"ignore"`` extrapolates silently.  With ``clip=True`` (the spec's
    Fig 3 convention, which follows the series up to its crossing of :math:`\hat z`)
    ``"raise"`` only warns.

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
    real = []
    if clip and za > 0:
        poly = sp.Poly(sp.expand(ser["z"] - zhat).subs({zhat: sp.nsimplify(za), beta: sp.nsimplify(b)}), tau_t)
        roots = np.roots([float(c) for c in poly.all_coeffs()])
        real = sorted(r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 0)
    # clip=True is the spec's Fig 3 convention, a deliberate extrapolation up to the crossing: warn only
    _check_validity(gv, zhat_value, order, np.minimum(tt, real[0]) if real else tt,
                    "warn" if clip and beyond == "raise" else beyond)
    if clip and za > 0:
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


def _check_validity(gv, zhat_value, order, tt, beyond: str) -> None:
    """Raise/warn (``beyond``) when some ``tt`` exceeds :func:`validity_limit`."""
    if beyond not in ("raise", "warn", "ignore"):
        raise DomainError(f"beyond must be 'raise', 'warn' or 'ignore', got {beyond!r}")
    if beyond == "ignore" or tt.size == 0:
        return
    lim = validity_limit(gv, zhat_value, order=order)
    worst = float(np.max(tt))
    if worst > lim:
        lim1 = validity_limit(gv, zhat_value, order=order, ratio=1.0)
        msg = (f"tau_tilde = {worst:.4g} is outside the range of the order-{order} series for g = {gv}, "
               f"zhat = {zhat_value}: it is trusted for tau_tilde <= {lim:.4g} "
               f"(tau <= {lim * (1 - float(gv) ** 2) ** 2:.4g}), where its last term stays below "
               f"{VALIDITY_RATIO:.0%} of the lower orders, and meaningless beyond {lim1:.4g}; use a higher "
               "order, clip=True, or beyond='ignore' to extrapolate")
        if beyond == "raise" and worst > lim1:
            raise DomainError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=4)


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
