r"""The stable fixed point the dynamics reach: the default solver's algorithm.

:func:`solve_reached` solves :math:`r = \tanh(Wr + h)` for every row of ``h`` by
returning the fixed point that the network dynamics
:math:`\tau\dot r = -r + \tanh(Wr + h)` settle to from the stated initial state
``r0`` (default the state at rest, :math:`r = 0`), verified stable:

1. **Fast path** — the undamped map :math:`r \leftarrow \tanh(Wr + h)` from ``r0``
   (one GEMM, :math:`O(BN^2)` per iteration) while it contracts.  A row the map drives
   below ``tol`` is an *attracting* fixed point of the map, whose Jacobian at the point
   is :math:`GW`: hence :math:`\rho(GW) \le 1` and every eigenvalue has
   :math:`\mathrm{Re}\,\lambda(GW) < 1` — the point is stable for the dynamics, at no
   extra cost (certificate ``"contraction"``).  A row that already meets ``tol`` at
   ``r0`` gives no such evidence and is checked like the rows of step 2.  A row the map
   brought within 1e-8 before round-off stalled it is polished there by Newton.
2. **Rows where the map stalls** — relaxation along the dynamics themselves from
   ``r0`` (forward Euler, :math:`dt/\tau = 0.2`, :math:`O(N^2)` per row and step) until
   the residual falls below a threshold, then a Newton polish (:math:`O(N^3)` with LU
   or :math:`O(kN^2)` with GMRES per iteration) and an eigenvalue check of
   :math:`G_iW` (:math:`O(N^3)` per row, certificate ``"eigenvalues"``).  A polish that
   lands on an *unstable* point (the trajectory passing near a saddle) is discarded and
   the relaxation continues with a 100× tighter threshold (1e-2, 1e-4, 1e-6, 1e-8).
3. A row whose trajectory has not settled after ``t_max`` (in units of :math:`\tau`)
   raises :class:`~rnn_theory.theory.errors.NoStableFixedPoint`: the dynamics did not
   converge to a fixed point (oscillation, chaos, or a relaxation slower than
   ``t_max``).  A row whose trajectory *stays* on an unstable fixed point (``r0`` is
   one, e.g. :math:`r_0 = 0` with :math:`h = 0`) is handled by ``stability``.
"""
from __future__ import annotations

import warnings

import numpy as np

from rnn_theory.numerics.fixed_point.kernels import _newton, _picard
from rnn_theory.numerics.fixed_point.stability import leading_eigenvalues
from rnn_theory.theory.errors import FixedPointNotConverged, NoStableFixedPoint

__all__ = ["solve_reached"]

_THRESHOLDS = (1e-2, 1e-4, 1e-6, 1e-8)
DT_OVER_TAU = 0.2
_CHUNK = 25  # Euler steps between residual checks


def _relax_polish(W, h, r0, tol, ls, t_max):
    """Step 2 for the rows of ``h``: returns ``(r, res, lam, settled, failed, euler_steps, newton_its)``.

    ``lam`` is :math:`\\max\\mathrm{Re}\\,\\lambda(G_iW)` at the returned point (NaN where
    the trajectory did not settle); ``settled`` marks rows whose relaxation converged.
    """
    B = h.shape[0]
    r = r0.copy()
    out_r, out_res = r.copy(), np.full(B, np.inf)
    lam, settled, failed = np.full(B, np.nan), np.zeros(B, dtype=bool), np.zeros(B, dtype=bool)
    level = np.zeros(B, dtype=int)
    pending = np.arange(B)
    steps, its, max_steps = 0, 0, int(np.ceil(t_max / DT_OVER_TAU))
    while pending.size:
        rp, hp = r[pending], h[pending]
        res = np.abs(rp - np.tanh(rp @ W.T + hp)).max(axis=1)
        ready = np.flatnonzero(res <= np.take(_THRESHOLDS, level[pending]))
        if ready.size:
            its += _polish(W, h, r, tol, ls, pending[ready], level, (out_r, out_res, lam, settled, failed))
            pending = np.flatnonzero(~settled & ~failed)
        if not pending.size or steps >= max_steps:
            break
        rp, hp = r[pending], h[pending]
        for _ in range(_CHUNK):
            rp += DT_OVER_TAU * (np.tanh(rp @ W.T + hp) - rp)
        steps += _CHUNK
        r[pending] = rp
    rest = np.flatnonzero(~settled)
    out_r[rest] = r[rest]
    out_res[rest] = np.abs(r[rest] - np.tanh(r[rest] @ W.T + h[rest])).max(axis=1)
    return out_r, out_res, lam, settled, failed, steps, its


def _polish(W, h, r, tol, ls, rows, level, out) -> int:
    """Newton polish of the relaxed states ``r[rows]`` and an eigenvalue check; writes the
    accepted rows into ``out = (out_r, out_res, lam, settled)``, raises the threshold
    level of the others; returns the Newton iterations."""
    out_r, out_res, lam, settled, failed = out
    rn, resn, itn = _newton(W, h[rows], r[rows].copy(), tol, 50, ls)
    ok = resn <= tol
    lam_rows = np.full(rows.size, np.nan)
    if ok.any():
        lam_rows[ok] = leading_eigenvalues(W, rn[ok]).real
    # accept a stable polish; on the last threshold accept what the trajectory sits on
    last = level[rows] == len(_THRESHOLDS) - 1
    done = ok & ((lam_rows < 1.0) | last)
    failed[rows[~ok & last]] = True          # settled to 1e-8 but Newton cannot reach tol
    acc = rows[done]
    out_r[acc], out_res[acc], lam[acc], settled[acc] = rn[done], resn[done], lam_rows[done], True
    level[rows[~done]] = np.minimum(level[rows[~done]] + 1, len(_THRESHOLDS) - 1)
    return itn


def solve_reached(W, h, r0, tol, ls, t_max, stability, max_picard=200):
    """Steps 1–3 of the module docstring; returns ``(r, res, iterations, label, stable, certificate)``.

    ``stable`` is True when every row is verified stable; ``stability`` (``"raise"``,
    ``"warn"`` or ``"ignore"``) decides what happens to rows whose trajectory stays on an
    unstable fixed point (raise :class:`NoStableFixedPoint`, warn, or return them with
    ``stable=False``).  Rows whose dynamics do not settle within ``t_max`` always raise.
    """
    B = h.shape[0]
    res0 = np.abs(r0 - np.tanh(r0 @ W.T + h)).max(axis=1)
    # first map step unconditionally (from rest its residual ratio is not a contraction test)
    if np.all(res0 <= tol):   # r0 already solves every row: nothing to iterate, only to check
        r, res, it = r0.copy(), res0, 0
    else:
        r, res, it = _picard(W, h, np.tanh(r0 @ W.T + h), tol, max_picard)
        it += 1
    near = np.flatnonzero(~(res <= tol) & (res <= _THRESHOLDS[-1]) & (res0 > tol))
    if near.size:   # contracted to within 1e-8, then stalled on round-off: polish in place
        r[near], res[near], itn = _newton(W, h[near], r[near], tol, 50, ls)
        it += itn
    hard = np.flatnonzero(~(res <= tol) | (res0 <= tol))   # stalled, or no contraction evidence
    label, cert = "picard", f"contraction of the map for {B - hard.size} of {B} samples"
    stable = True
    if hard.size:
        rh, resh, lam, settled, failed, steps, its = _relax_polish(W, h[hard], r0[hard], tol, ls, t_max)
        r[hard], res[hard] = rh, resh
        it += steps + its
        label = "picard+relax+newton"
        if failed.any():
            raise FixedPointNotConverged(
                f"the dynamics settled (residual <= 1e-8) for samples {hard[failed][:5].tolist()} but Newton "
                f"could not polish them to tol = {tol:g} (residual {float(resh[failed].max()):.3g}); tol is "
                "probably below round-off: raise tol", residual=float(resh[failed].max()), failing=hard[failed])
        if not settled.all():
            bad = hard[~settled]
            raise NoStableFixedPoint(
                f"no stable fixed point reached: the dynamics from r0 did not settle within t_max = "
                f"{t_max:g} tau for {bad.size} of {B} samples (first {bad[:5].tolist()}; residual "
                f"{float(resh[~settled].max()):.3g} after relaxation), so they oscillate, are chaotic or "
                "relax more slowly; raise t_max, or use method='newton' for an unstable fixed point",
                residual=float(resh[~settled].max()), failing=bad)
        unstable = hard[~(lam < 1.0)]
        cert += f"; eigenvalues of G W for {hard.size} (max Re {float(np.max(lam)):.4g})"
        if unstable.size:
            stable = False
            msg = (f"{unstable.size} of {B} samples: the dynamics from r0 stay on an unstable fixed point "
                   f"(max Re eig(G W) = {float(np.max(lam)):.4g} >= 1; r0 is itself that fixed point), "
                   "so no stable fixed point is reached; perturb r0")
            if stability == "raise":
                raise NoStableFixedPoint(msg, residual=float(res.max()), failing=unstable)
            if stability == "warn":
                warnings.warn(msg, RuntimeWarning, stacklevel=4)
    return r, res, it, label, stable, cert
