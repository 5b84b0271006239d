r"""Check 1 (R1): BPTT gradient = fixed-point gradient = finite differences = complex step; rank one."""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.checks.report import Settings, _row, _rng

__all__ = ["check_gradients"]

_EPS = np.finfo(float).eps


def check_gradients(settings: Settings) -> list:
    r"""BPTT vs fixed-point gradient, finite differences, complex step, rank one (R1).

    N = 256, g = 0.6, ẑ = 2, t_max = 101 (spec §8.1).  Tolerances:

    * BPTT vs :math:`-\varepsilon uv^\top`: 1e-10 relative (the issue's bound; the
      Euler transient is :math:`r^T`, :math:`r = \max_\lambda|1+\lambda|/2`, reported, plus
      round-off ~ T·ε);
    * central finite differences of the Euler loss along a random unit direction: the
      Richardson estimate of the truncation error, :math:`|D(h) - D(2h)|/3`, times 10, plus
      the round-off bound :math:`10\,\epsilon\,|L|/h`;
    * complex step :math:`\mathrm{Im}\,L(W + ihE)/h` of the fixed-point loss (no
      cancellation): 1e-12 relative;
    * rank one: :math:`s_2/s_1` of the BPTT gradient below 1e-12.
    """
    from rnn_theory.numerics.linear import bptt_gradient, draw_network, euler_loss, fixed_point_gradient

    n, g, zhat = 256, 0.6, 2.0
    W0, m, w = draw_network(n, g, _rng(1))
    # train a few steps away from W0 so that the gradient is taken at a generic W
    E0 = _rng(2).standard_normal((n, n)) / n
    W = W0 + 0.05 * E0
    lam = np.linalg.eigvals(W)
    r = float(np.max(np.abs(1 + lam)) / 2)
    L_b, G_b = bptt_gradient(W, m, w, zhat)
    L_f, G_f, u, v, z = fixed_point_gradient(W, m, w, zhat)
    rel = float(np.linalg.norm(G_b - G_f) / np.linalg.norm(G_f))
    rows = [_row("R1 gradient", "BPTT vs -eps u v^T (rel. Frobenius)", 0.0, rel, tol=1e-10,
                 note=f"N={n}, g={g}, T=202 Euler steps; transient r^T = {r:.3f}^200 = {r**200:.1e}")]
    # finite differences along a random unit direction
    E = _rng(3).standard_normal((n, n))
    E /= np.linalg.norm(E)
    exact = float(np.sum(G_b * E))

    def D(h):
        return (euler_loss(W + h * E, m, w, zhat) - euler_loss(W - h * E, m, w, zhat)) / (2 * h)

    h = 1e-4
    d1, d2 = D(h), D(2 * h)
    trunc = abs(d1 - d2) / 3
    tol = 10 * trunc + 10 * _EPS * abs(L_b) / h
    rows.append(_row("R1 gradient", "central finite difference <dL/dW, E>", exact, d1, tol=tol,
                     note=f"h={h}; tol = 10 x Richardson estimate {trunc:.1e} + 10 eps |L|/h"))
    # complex step on the fixed-point loss
    hc = 1e-30
    Wc = W.astype(complex) + 1j * hc * E
    zc = w @ np.linalg.solve(np.eye(n) - Wc, m.astype(complex))
    Lc = 0.5 * (zhat - zc) ** 2
    cs = float(Lc.imag / hc)
    exact_f = float(np.sum(G_f * E))
    rows.append(_row("R1 gradient", "complex-step derivative (fixed point)", exact_f, cs,
                     tol=1e-12 * max(abs(exact_f), 1e-300) + 1e-14 * np.linalg.norm(G_f),
                     note="Im L(W + i h E)/h, h = 1e-30: exact to round-off; tol 1e-12 relative"))
    rows.append(_sympy_gradient_row(W, m, w, zhat, G_b))
    s = np.linalg.svd(G_b, compute_uv=False)
    rows.append(_row("R1 gradient", "BPTT gradient rank one: s2/s1", 0.0, float(s[1] / s[0]), tol=1e-12,
                     note="one input, one readout, one scalar error"))
    return rows


def _sympy_gradient_row(W, m, w, zhat, G_b):
    r"""The derived R1 result itself (``R1.gradient``: :math:`c\,\varepsilon\,\partial z/\partial W`
    with the factor :math:`c = -1` derived by sympy) lambdified at this N and evaluated with
    :math:`\varepsilon = \hat z - z_T` from the Euler readout, vs the BPTT gradient of the
    Euler loss.  A wrong sign, transpose or factor in the derivation is an O(1) relative
    error; the tolerance 1e-10 relative is the Euler transient (:math:`r^{200}`) plus round-off
    of two :math:`O(N^3)` solves."""
    import sympy as sp

    from rnn_theory.numerics.linear import euler_readout
    from rnn_theory.theory.linear import gradient_derivation, readout_gradient

    n = W.shape[0]
    Nn, Wm, wv, mv, _ = readout_gradient()
    d = next(x for x in gradient_derivation() if x.key == "R1.gradient")
    eps = sp.Symbol("epsilon")
    f = sp.lambdify((Wm.subs(Nn, n), wv.subs(Nn, n), mv.subs(Nn, n), eps), d.expr.subs(Nn, n), "numpy")
    zT = float(euler_readout(W, m, w)[-1])
    G_s = np.asarray(f(W, w[:, None], m[:, None], zhat - zT), dtype=float)
    rel = float(np.linalg.norm(G_s - G_b) / np.linalg.norm(G_b))
    return _row("R1 gradient", "sympy-derived dL/dW (lambdified R1.gradient) vs BPTT (rel.)", 0.0, rel,
                tol=1e-10, note="the derivation's expression, sign included; eps = zhat - z_T (Euler)")
