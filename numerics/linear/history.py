r"""Per-step records of a linear training run, and the accumulated :math:`\Delta W`.

:class:`TrainingHistory` holds the arrays of :class:`~rnn_theory.numerics.linear.result.LinearTrainingResult`
while the run is in progress, the rank-one updates :math:`c_k u_k v_k^\top` (as columns, so
that :math:`\Delta W` is formed densely only when needed, :math:`O(N^2 k)`) and a
:class:`~rnn_theory.numerics.linear.lowrank.LowRankSum` of the same updates for the
singular values (:math:`O(Nk)` per update, :math:`O(k^3)` per record).
"""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.linear.lowrank import LowRankSum

__all__ = ["TrainingHistory"]

_SCALARS = ("loss", "z", "G", "grad_norm", "dw_norm", "top_eig")


class TrainingHistory:
    r"""Records of a run of at most ``steps`` GD steps on an ``n``-neuron network.

    >>> h = TrainingHistory(n=5, steps=2, n_sv=3)
    >>> u, v = np.eye(5)[0], np.eye(5)[1]
    >>> h.record(0, 0.5, 0.0, u, v, 1.0, with_sv=True)
    >>> h.add_update(0, 2.0, u, v)
    >>> float(h.dense_dW(1)[0, 1]), h.lowrank.singular_values().tolist()
    (2.0, [2.0])
    """

    def __init__(self, n: int, steps: int, n_sv: int):
        total = steps + 1
        self.n_sv = n_sv
        self.rec = {k: np.full(total, np.nan) for k in _SCALARS}
        self.sv = np.zeros((total, n_sv))
        self.lowrank = LowRankSum(n)
        self.U = np.zeros((n, steps), order="F")  # column k = u_k (contiguous)
        self.V = np.zeros((n, steps), order="F")
        self.C = np.zeros(steps)

    def record(self, k: int, loss, z, u, v, grad_norm, with_sv: bool) -> None:
        r"""Store the state after ``k`` steps: loss, readout, :math:`G = \|u\|^2\|v\|^2`, gradient
        norm, :math:`\|\Delta W\|_F` and (``with_sv``) the leading singular values of :math:`\Delta W`."""
        rec, S = self.rec, self.lowrank
        rec["loss"][k] = loss
        rec["z"][k] = z
        rec["G"][k] = (u @ u) * (v @ v)
        rec["grad_norm"][k] = grad_norm
        if with_sv:
            s = S.singular_values()[: self.n_sv]
            self.sv[k, : s.size] = s
        else:
            self.sv[k] = np.nan
        rec["dw_norm"][k] = np.linalg.norm(S.core) if S.ku and S.kv else 0.0

    def record_dense(self, k: int, dW, with_sv: bool) -> None:
        r"""Overwrite :math:`\|\Delta W\|_F` and the singular values of step ``k`` with those of
        the actual ``dW`` (for steppers whose update is not the recorded rank-one term, e.g.
        BPTT); :math:`O(N^2)`, plus a dense SVD :math:`O(N^3)` when ``with_sv``."""
        self.rec["dw_norm"][k] = np.linalg.norm(dW)
        if with_sv:
            s = np.linalg.svd(dW, compute_uv=False)[: self.n_sv]
            self.sv[k] = np.nan
            self.sv[k, : s.size] = s

    def add_update(self, k: int, c: float, u, v) -> None:
        """Append the ``k``-th update ``c * outer(u, v)``; :math:`O(Nk)`."""
        self.U[:, k], self.V[:, k], self.C[k] = u, v, c
        self.lowrank.add(c, u, v)

    def dense_dW(self, k: int) -> np.ndarray:
        r"""The sum of the first ``k`` updates as an ``(N, N)`` array, :math:`O(N^2 k)`."""
        return (self.U[:, :k] * self.C[:k]) @ self.V[:, :k].T

    def arrays(self, last: int) -> dict:
        """The records of steps ``0 .. last - 1`` (``sv`` included)."""
        out = {k: v[:last] for k, v in self.rec.items()}
        out["sv"] = self.sv[:last]
        return out
