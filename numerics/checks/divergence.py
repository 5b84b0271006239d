r"""The divergence scenario (spec R9): at :math:`\hat z = 4`, :math:`g = 0.8` the top eigenvalue of W
crosses 1; the run stops with a message and keeps its last good state.

Theory: the trained network has a fixed point only while every eigenvalue of
:math:`W = W_0 + \Delta W` has real part below 1 (:math:`B = (I - W)^{-1}` exists and the
dynamics :math:`\dot x = -x + Wx + m` are stable); large outputs need an eigenvalue near 1
(:math:`\hat z \to \infty \Rightarrow \lambda_1 \to 1` at g = 0, spec §R8).  The threshold the
row judges is therefore :math:`\lambda_1 = 1`.

How the row can fail, by an independent route: the trainer detects the crossing from the sign
of :math:`\det(I - W)` updated by the matrix determinant lemma (:math:`O(N)` per step, no
eigenvalues).  The row recomputes, densely and from scratch, (a) the largest real part of
the eigenvalues of the *kept* state :math:`W_0 + \Delta W` (must be < 1: the last good state)
and (b) the state after the refused update, built from the kept state by the textbook
gradient :math:`\Delta W \mathrel{+}= \eta\,\epsilon\,B^\top w\,(Bm)^\top` with
:math:`B = (I - W)^{-1}` from a dense LU factorisation (must have an eigenvalue with real part ≥ 1:
the update really crossed).  A trainer that stopped one step early or late, kept the
refused update, or never stopped fails it.

Sizes: the spec's N = 256 and 200 steps, lr0 = 0.003 (at the spec's lr0 = 0.001 the package's
runs do not diverge within 200 steps, see docs/check.md; an info row reports how many do).
Cost: 200 :math:`O(N^2)` steps and two dense :math:`O(N^3)` eigenvalue problems per seed.
"""
from __future__ import annotations

from rnn_theory.numerics.checks.report import CheckRow, Settings, _rng

__all__ = ["check_divergence"]

ZHAT, G, N, STEPS = 4.0, 0.8, 256, 200
LR0_DIVERGE, LR0_SPEC = 0.003, 0.001


def _refused_state(r) -> tuple[float, float]:
    """(λ1 of the kept W, λ1 after the next GD step), both from dense linear algebra.

    The next step uses the dense R1 gradient (:func:`~rnn_theory.numerics.linear.fixed_point_gradient`,
    an LU factorisation of :math:`I - W`), not the trainer's rank-one bookkeeping.
    """
    from rnn_theory.numerics.linear import fixed_point_gradient, max_real_eig

    W = r.W0 + r.dW
    _, grad, _, _, _ = fixed_point_gradient(W, r.m, r.w, r.zhat, check_stability=False)
    return float(max_real_eig(W)), float(max_real_eig(W - r.lr * grad))


def check_divergence(settings: Settings) -> list:
    """Rows: the stop at the crossing (pass/fail) and the count of diverged runs at the spec's rate (info)."""
    from rnn_theory.numerics.linear import max_real_eig, train_linear

    seeds = range(3 if settings.quick else 5)
    kept, refused, steps = [], [], []
    for s in seeds:
        r = train_linear(N, G, ZHAT, LR0_DIVERGE, STEPS, _rng(90, s), check_stability=False,
                         on_divergence="stop", sv_every=STEPS)
        if not r.diverged:
            continue
        a, b = _refused_state(r)
        kept.append(a)
        refused.append(b)
        steps.append(r.tau.size)
    check = f"Divergence (zhat={ZHAT:g}, g={G:g})"
    ok = bool(kept) and max(kept) < 1.0 <= min(refused)
    sim = min(refused) if refused else float("nan")
    rows = [CheckRow(check, f"stop at lambda1(W) = 1, lr0 = {LR0_DIVERGE:g}", 1.0, sim, 0.0, ok,
                     f"{len(kept)}/{len(seeds)} runs stopped (at steps {steps}); kept state lambda1 = "
                     f"{', '.join(f'{x:.4f}' for x in kept) or '-'} (< 1), refused update lambda1 = "
                     f"{', '.join(f'{x:.4f}' for x in refused) or '-'} (>= 1), both by dense "
                     f"eigenvalues; pass iff some run stopped and every one stopped exactly at the crossing; "
                     f"N = {N}, {STEPS} steps")]
    n_div, top = 0, []
    for s in seeds:
        r = train_linear(N, G, ZHAT, LR0_SPEC, STEPS, _rng(91, s), check_stability=False,
                         on_divergence="stop", sv_every=STEPS)
        n_div += bool(r.diverged)
        top.append(max_real_eig(r.W0 + r.dW))
    rows.append(CheckRow(check, f"runs diverged at the spec's lr0 = {LR0_SPEC:g} (info)", float("nan"),
                         float(n_div), float("nan"), None,
                         f"{n_div}/{len(seeds)} diverged in {STEPS} steps; final lambda1 = "
                         f"{', '.join(f'{x:.4f}' for x in top)}; the spec reads divergence near epoch 50 "
                         "off a figure (docs/check.md)"))
    return rows
