r"""The authors' dW1 in the digits benchmark: backpropagation through the Euler trajectory.

Zhu & Rosenbaum's code does not solve for the fixed point: it runs
:math:`K = 500` forward-Euler steps with :math:`\alpha = dt/\tau = 0.01` from :math:`r_0 = 0`,

.. math:: r_{k+1} = (1-\alpha)\,r_k + \alpha\tanh(W r_k + h),\qquad h = W_x x,

takes :math:`r_K` as "the fixed point" and differentiates the loss through this truncated
trajectory (BPTT).  With :math:`\lambda_K = \partial L/\partial r_K` and
:math:`s_k = 1 - \tanh^2(W r_k + h)`, the backward pass is

.. math:: \mu_k = \alpha\,\lambda_{k+1}\odot s_k,\qquad
          \nabla_W L = \sum_{k=0}^{K-1} \mu_k r_k^\top,\qquad
          \lambda_k = (1-\alpha)\lambda_{k+1} + W^\top\mu_k .

As :math:`K\alpha \to \infty` (with a stable fixed point) this tends to the implicit
gradient :math:`G(I - W^\top G)^{-1}\delta\,r^{*\top}`; at :math:`K\alpha = 5` it is far
from it (37–59 % on MNIST, issue 16).  Cost: :math:`O(K B N^2)` time and
:math:`O(K B N)` memory (the trajectory is stored).

>>> rng = np.random.default_rng(0)
>>> W = 0.5 * rng.standard_normal((4, 4)) / 2; h = rng.standard_normal((3, 4))
>>> r, traj = euler_trajectory(W, h, 10, 0.1)
>>> traj.shape, bool(np.allclose(r, traj[-1]))
((11, 3, 4), True)
"""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import DomainError

__all__ = ["euler_trajectory", "euler_bptt_factors"]


def euler_trajectory(W, h, n_steps: int = 500, dt_over_tau: float = 0.01):
    """Forward Euler from :math:`r = 0`; returns ``(r_K, trajectory (K+1, B, N))``.
    :math:`O(KBN^2)`.  The same states as
    :func:`rnn_theory.numerics.fixed_point.solver.euler_fixed_point`."""
    if n_steps < 1 or not dt_over_tau > 0:
        raise DomainError(f"need n_steps >= 1 and dt_over_tau > 0, got {n_steps}, {dt_over_tau}")
    traj = np.empty((n_steps + 1,) + h.shape, dtype=np.result_type(W, h))
    traj[0] = 0.0
    r = traj[0]
    for k in range(n_steps):
        r = r + dt_over_tau * (-r + np.tanh(r @ W.T + h))
        traj[k + 1] = r
    return r, traj


def euler_bptt_factors(W, h, delta, n_steps: int = 500, dt_over_tau: float = 0.01):
    r"""BPTT through the Euler trajectory: ``(grad_W, lambda_0)`` where ``grad_W`` is the
    batch *sum* :math:`\sum_b \nabla_W L_b` (divide by :math:`B` for the mean) and
    ``delta`` (B, N) is :math:`\partial L_b/\partial r_K` per sample.  :math:`O(KBN^2)`."""
    alpha = dt_over_tau
    _, traj = euler_trajectory(W, h, n_steps, dt_over_tau)
    lam = np.array(delta, dtype=traj.dtype)
    grad = np.zeros_like(W, dtype=traj.dtype)
    for k in range(n_steps - 1, -1, -1):
        rk = traj[k]
        t = np.tanh(rk @ W.T + h)
        mu = alpha * lam * (1.0 - t * t)
        grad += mu.T @ rk
        lam = (1.0 - alpha) * lam + mu @ W
    return grad, lam
