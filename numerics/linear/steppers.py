r"""One gradient-descent step on W, three ways: Sherman–Morrison, fresh LU solve, BPTT.

Each stepper has the same two methods, called by the training loop of
:mod:`rnn_theory.numerics.linear.training`:

* ``evaluate(k)`` → :class:`Evaluation` (loss, readout, error :math:`\varepsilon`, gradient
  norm and the rank-one factors :math:`u_W = B_W^\top w`, :math:`v_W = B_W m` at the current
  W), or a message string when the fixed point is already lost;
* ``apply(k, c, ev)`` → None after :math:`W \leftarrow W + c\,u v^\top` (or, for BPTT,
  :math:`W \leftarrow W - \eta\,\partial L/\partial W`), or a message string when that step
  would move a real eigenvalue of W across 1 (detected by the sign of :math:`\det(I - W)`).

Costs per step: Sherman–Morrison :math:`O(N^2)`; solve :math:`O(N^3)`; BPTT :math:`O(TN^2)`
plus one :math:`O(N^3)` LU for the rank-one factors.  ``W`` is the current matrix, or None
for Sherman–Morrison (which never forms it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from rnn_theory.numerics.linear.euler import bptt_gradient, euler_readout
from rnn_theory.numerics.linear.history import TrainingHistory
from rnn_theory.numerics.linear.sherman_morrison import ShermanMorrisonInverse, _det_sign
from rnn_theory.numerics.linear.task import EulerTask

__all__ = ["Evaluation", "ShermanMorrisonStepper", "SolveStepper", "BPTTStepper", "make_stepper"]


@dataclass
class Evaluation:
    """Loss, readout, error ``eps = zhat - z``, gradient norm and factors ``u``, ``v`` at one W."""

    loss: float
    z: float
    eps: float
    grad_norm: float
    u: np.ndarray
    v: np.ndarray


def _at_fixed_point(w, zhat, u, v) -> Evaluation:
    r"""Evaluation from :math:`u_W, v_W`: :math:`z = w^\top v_W`, :math:`\|\nabla L\|_F = |\varepsilon|\|u\|\|v\|`, :math:`O(N)`."""
    z = float(w @ v)
    eps = zhat - z
    return Evaluation(0.5 * eps * eps, z, eps, abs(eps) * np.linalg.norm(u) * np.linalg.norm(v), u, v)


class ShermanMorrisonStepper:
    """Explicit :math:`B_W` updated by Sherman–Morrison, refreshed every ``refresh_every`` steps."""

    W = None

    def __init__(self, W0, m, w, zhat, lu, *, lr, history: TrainingHistory, flush_every: int,
                 refresh_every: int | None):
        self.W0, self.w, self.zhat, self.lr = W0, w, zhat, lr
        self.history, self.refresh_every = history, refresh_every
        # B^T = (I - W0)^-T, C-contiguous, from the LU already computed: O(N^3) once
        self.inverse = ShermanMorrisonInverse(lu, m, w, flush_every)

    def evaluate(self, k):
        return _at_fixed_point(self.w, self.zhat, self.inverse.u, self.inverse.v)

    def apply(self, k, c, ev):
        if not self.inverse.add_rank_one(c, ev.u, ev.v):
            return (f"det(I - W) changed sign at step {k + 1} (tau = {(k + 1) * self.lr:.4g}): a real "
                    f"eigenvalue of W crossed 1 and the fixed point is lost; history kept up to step {k}")
        if self.refresh_every is not None and (k + 1) % self.refresh_every == 0:
            self.inverse.refresh(self.W0 + self.history.dense_dW(k + 1))
        return None


class SolveStepper:
    """A fresh LU factorisation of :math:`I - W` per step (the reference), :math:`O(N^3)`."""

    def __init__(self, W0, m, w, zhat, lu):
        self.W = W0.copy()
        self.m, self.w, self.zhat, self.lu = m, w, zhat, lu
        self.eye = np.eye(W0.shape[0])

    def evaluate(self, k):
        v = sla.lu_solve(self.lu, self.m, check_finite=False)
        u = sla.lu_solve(self.lu, self.w, trans=1, check_finite=False)
        return _at_fixed_point(self.w, self.zhat, u, v)

    def apply(self, k, c, ev):
        self.W += c * np.outer(ev.u, ev.v)
        lu_new = sla.lu_factor(self.eye - self.W, check_finite=False)
        if _det_sign(lu_new) <= 0:
            self.W -= c * np.outer(ev.u, ev.v)
            return (f"det(I - W) changed sign at step {k + 1}: a real eigenvalue of W crossed 1 "
                    f"and the fixed point is lost; history kept up to step {k}")
        self.lu = lu_new
        return None


class BPTTStepper:
    r"""The Euler network trained with its BPTT gradient, :math:`O(TN^2)` per step.

    The readout is the Euler readout averaged over the masked steps; the fixed-point factors
    (one LU, :math:`O(N^3)`) give G and the rank-one direction that the low-rank bookkeeping
    records.
    """

    rank_one_updates = False  # W moves by the full BPTT gradient: record sv, dw_norm densely

    def __init__(self, W0, m, w, zhat, *, lr, task: EulerTask):
        self.W = W0.copy()
        self.m, self.w, self.zhat, self.lr, self.task = m, w, zhat, lr, task
        self.eye = np.eye(W0.shape[0])
        self._grad = None
        self.W_prev, self.applied = None, 0  # W before the last update, number of updates applied

    def evaluate(self, k):
        W, m, w, zhat, task = self.W, self.m, self.w, self.zhat, self.task
        # stability: guarded below by the sign of det(I - W) (and by record_eig), not per call
        Lk, grad = bptt_gradient(W, m, w, zhat, task, check_stability=False)
        zt = euler_readout(W, m, w, task, check_stability=False)[task.mask().astype(bool)]
        z = float(np.mean(zt))
        eps = zhat - z
        gn = float(np.linalg.norm(grad))
        lu_k = sla.lu_factor(self.eye - W, check_finite=False)
        if _det_sign(lu_k) <= 0:
            return (f"det(I - W) <= 0 at step {k}: a real eigenvalue of W crossed 1 and the fixed "
                    f"point is lost; history kept up to step {k - 1}")
        v = sla.lu_solve(lu_k, m, check_finite=False)
        u = sla.lu_solve(lu_k, w, trans=1, check_finite=False)
        self._grad = grad
        return Evaluation(Lk, z, eps, gn, u, v)

    def apply(self, k, c, ev):
        # apply the BPTT gradient itself; it equals -eps u v^T up to the transient r^T,
        # which is what the low-rank bookkeeping records
        self.W_prev, self.applied = self.W, k + 1
        self.W = self.W - self.lr * self._grad
        return None

    def W_after(self, k):
        """:math:`W_k` for ``k`` = the number of updates applied or one fewer (a stopped run)."""
        return self.W if k == self.applied else self.W_prev


def make_stepper(method, W0, m, w, zhat, lu, *, lr, history, flush_every, refresh_every, task):
    """The stepper for ``method`` ("sherman_morrison", "solve" or "bptt"), started at ``W0``."""
    if method == "sherman_morrison":
        return ShermanMorrisonStepper(W0, m, w, zhat, lu, lr=lr, history=history, flush_every=flush_every,
                                      refresh_every=refresh_every)
    if method == "solve":
        return SolveStepper(W0, m, w, zhat, lu)
    return BPTTStepper(W0, m, w, zhat, lr=lr, task=task)
