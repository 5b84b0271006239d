r"""Shuffle test (R7): does :math:`\Delta W` still work on a permuted :math:`W_0`?

All :math:`N^2` entries of :math:`W_0` are permuted, :math:`\Delta W` is added and the loss of
the resulting network is compared with :math:`L_0 = \hat z^2/2` (:math:`O(N^3)`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from rnn_theory.numerics.linear.euler import euler_readout
from rnn_theory.numerics.linear.network import _check_real, _check_rng, _check_system
from rnn_theory.numerics.linear.task import DEFAULT_TASK, EulerTask
from rnn_theory.theory.errors import DomainError, ShapeError, check_finite

__all__ = ["ShuffleResult", "shuffle_test"]


@dataclass
class ShuffleResult:
    r"""Shuffle test: loss of :math:`\mathrm{perm}(W_0) + \Delta W`.

    ``loss_ratio`` is :math:`L_{shuffle}/L_0` with :math:`L_0 = \hat z^2/2`; ``z`` the
    shuffled readout, ``z_offset`` :math:`= w^\top B' m` (readout of the shuffled W0 alone,
    the finite-N offset to subtract before comparing with R7); ``W_shuffled`` the permuted
    :math:`W_0` that was actually used (before adding :math:`\Delta W`).
    """

    loss_ratio: float
    z: float
    z_offset: float
    W_shuffled: np.ndarray = field(default=None, repr=False)


def shuffle_test(W0, dW, m, w, zhat, rng: np.random.Generator, *, readout: str = "fixed_point",
                 task: EulerTask = DEFAULT_TASK) -> ShuffleResult:
    r"""Permute all :math:`N^2` entries of ``W0``, add ``dW`` and evaluate the loss.

    ``readout="fixed_point"`` uses :math:`z' = w^\top(I - W')^{-1}m` (raises
    :class:`~rnn_theory.theory.errors.UnstableError` if :math:`W'` has an eigenvalue with real part
    ≥ 1, detected by the sign of :math:`\det(I - W')`); ``"euler"`` simulates the Euler
    network (:math:`O(TN^2)`).  Cost :math:`O(N^3)`.

    >>> from rnn_theory.numerics.linear import draw_network
    >>> rng = np.random.default_rng(0)
    >>> W0, m, w = draw_network(40, 0.5, rng)
    >>> r = shuffle_test(W0, np.zeros((40, 40)), m, w, 1.0, rng)
    >>> 0 < r.loss_ratio < 2
    True
    """
    W0, m, w = _check_system(W0, m, w)
    dW = check_finite("dW", np.asarray(dW, dtype=float))
    zhat = _check_real("zhat", zhat)
    if dW.shape != W0.shape:
        raise ShapeError(f"dW has shape {dW.shape}; expected {W0.shape}")
    rng = _check_rng(rng)
    n = W0.shape[0]
    Ws = rng.permutation(W0.ravel()).reshape(n, n)
    lu0 = sla.lu_factor(np.eye(n) - Ws, check_finite=False)
    z_off = float(w @ sla.lu_solve(lu0, m, check_finite=False))
    Wp = Ws + dW
    if readout == "euler":
        z_t = euler_readout(Wp, m, w, task)
        z = float(np.mean(z_t[task.mask().astype(bool)]))
        eps2 = float(np.mean((zhat - z_t[task.mask().astype(bool)]) ** 2))
    elif readout == "fixed_point":
        lu = sla.lu_factor(np.eye(n) - Wp, check_finite=False)
        z = float(w @ sla.lu_solve(lu, m, check_finite=False))
        eps2 = (zhat - z) ** 2
    else:
        raise DomainError(f"readout must be 'fixed_point' or 'euler', got {readout!r}")
    L0 = 0.5 * zhat * zhat
    if L0 == 0:
        raise DomainError("zhat = 0 gives L0 = 0; the shuffle loss ratio L/L0 is undefined")
    return ShuffleResult(0.5 * eps2 / L0, z, z_off, Ws)
