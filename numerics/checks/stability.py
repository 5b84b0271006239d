r"""GD stability threshold at g = 0: :math:`\mathrm{lr}_0^c = 2/G^*` from the exact solution.

At a minimum (ε = 0) the Hessian of :math:`L = \tfrac12(\hat z - z)^2` is
:math:`\nabla z\nabla z^\top`, whose one non-zero eigenvalue is
:math:`\|u\|^2\|v\|^2 = G`; gradient descent with step η is linearly stable there iff
:math:`\eta G < 2`.  At g = 0 the flow ends at :math:`G^* = 1/D(b^*)^4`
(:func:`rnn_theory.theory.exact_g0.final_state`), so

* below :math:`\eta_c = 2/G^*` GD follows the flow to its end state: :math:`G_\text{end} = G^*`
  up to the GD error (Richardson extrapolation from η and η/2; the removed :math:`O(\eta)`
  term bounds the rest);
* above it the flow's end state is unstable, so a converged GD run must end at a flatter
  minimum: :math:`\eta G_\text{end} \le 2` — and :math:`G_\text{end} < G^*` (it does not
  diverge: it self-stabilises at the edge of stability; see docs/check.md).

W0 = 0 and w ⊥ m exactly: ΔW stays in span{w, m} ⊗ span{w, m}, so the run is exact at any
N (N = 32 here).  Cost: a few thousand :math:`O(N^2)` steps, well under a second.
"""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.checks.report import CheckRow, Settings, _row, _rng

__all__ = ["check_stability_threshold"]

N, ZHAT = 32, 2.0


def _end_gain(m, w, lr, tau_end):
    from rnn_theory.numerics.linear import train_fixed_point

    steps = int(np.ceil(tau_end / lr))
    r = train_fixed_point(np.zeros((N, N)), m, w, ZHAT, lr, steps, check_stability=False,
                          on_divergence="stop", sv_every=steps)
    return float(r.G[-1]), float(r.loss[-1] / (0.5 * ZHAT**2)), bool(r.diverged)


def check_stability_threshold(settings: Settings) -> list:
    """Rows: G_end/G* below the threshold; eta G_end <= 2 and convergence above it."""
    from rnn_theory.theory import exact_g0

    from rnn_theory.numerics.linear import normalise_inputs

    rng = _rng(80)
    m, w = rng.standard_normal(N), rng.standard_normal(N)
    w -= (w @ m) / (m @ m) * m
    m, w = normalise_inputs(m, w)
    tau_end = 10.0  # 27 tau_c of the flow: long after convergence
    G_star = float(exact_g0.solve(ZHAT, [tau_end])["G"][0])  # the flow's end state (G = 1/D(b*)^4)
    lr_c = 2 / G_star
    lo = 0.25 * lr_c
    g1, _, _ = _end_gain(m, w, lo, tau_end)
    g2, _, _ = _end_gain(m, w, lo / 2, tau_end)
    rich = 2 * g2 - g1  # Richardson: removes the O(lr) GD error
    rows = [_row("GD stability (g=0, zhat=2)", "G_end / G* at lr <= lr_c/4 (Richardson)", 1.0, rich / G_star,
                 sys_=abs(g1 - g2) / G_star + 1e-9,
                 note=f"lr_c = 2/G* = {lr_c:.4g}, G* = 1/D(b*)^4 = {G_star:.4g} (exact g=0); simulated = "
                      f"2G(lr/2) - G(lr) = {rich:.4g} (G(lr) = {g1:.4g}); sys = |G(lr) - G(lr/2)|/G*, the removed O(lr) "
                      f"term as a bound on the O(lr^2) rest; W0 = 0, w perp m, N = {N} (exact at any N)")]
    hi = 1.1 * lr_c
    g3, loss3, div3 = _end_gain(m, w, hi, tau_end)
    ok = (not div3) and loss3 < 1e-3 and hi * g3 <= 2 * (1 + 1e-6)
    rows.append(CheckRow("GD stability (g=0, zhat=2)", "lr G_end <= 2 at lr = 1.1 lr_c (flow's end unstable)", 2.0,
                         hi * g3, 0.0, bool(ok),
                         f"converged (L/L0 = {loss3:.2g}) at G_end = {g3:.4g} < G* = {G_star:.4g}: "
                         "a flatter minimum, not the flow's; pass iff converged and lr G_end <= 2"))
    return rows
