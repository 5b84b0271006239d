r"""Euler simulation of the linear network and its exact BPTT gradient.

.. math::
    x_{t+1} = (1 - \Delta t)\,x_t + \Delta t\,(W x_t + m\,u_t), \qquad x_0 = 0,
    \qquad z_t = w^\top x_{t+1}.

The forward pass costs :math:`O(TN^2)` (``T`` matrix–vector products); :func:`bptt_gradient`
adds the adjoint recursion (``T`` more) and one GEMM over all time steps.
"""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.linear.network import _check_real, _check_system, _require_stable
from rnn_theory.numerics.linear.task import DEFAULT_TASK, EulerTask
from rnn_theory.theory.errors import NonFiniteError

__all__ = ["euler_readout", "euler_loss", "bptt_gradient"]


def _trajectory(W, m, task):
    """States x_0..x_T as a (T+1, N) array; O(T N^2)."""
    dt = task.dt
    u = task.inputs()
    T, n = task.n_steps, W.shape[0]
    X = np.zeros((T + 1, n))
    x = X[0]
    for t in range(T):
        x = (1 - dt) * x + dt * (W @ x + m * u[t])
        X[t + 1] = x
    return X


def euler_readout(W, m, w, task: EulerTask = DEFAULT_TASK, *, check_stability: bool = True) -> np.ndarray:
    r"""Readouts :math:`z_t = w^\top x_{t+1}` for every step (length ``T``); :math:`O(TN^2)`.

    The Euler network stands for the relaxation to the fixed point :math:`(I-W)^{-1}m`; with
    ``check_stability`` a ``W`` without a stable fixed point (an eigenvalue with real part
    :math:`\ge 1`) is refused with :class:`~rnn_theory.theory.errors.UnstableError` (dense
    eigenvalues, :math:`O(N^3)`).

    >>> from rnn_theory.numerics.linear import draw_network, fixed_point_readout
    >>> W0, m, w = draw_network(30, 0.3, np.random.default_rng(0))
    >>> z = euler_readout(W0, m, w)
    >>> bool(abs(z[-1] - fixed_point_readout(W0, m, w)) < 1e-12)
    True
    """
    W, m, w = _check_system(W, m, w)
    if check_stability:
        _require_stable(W, "W")
    X = _trajectory(W, m, task)
    z = X[1:] @ w
    if not np.all(np.isfinite(z)):
        raise NonFiniteError("the Euler trajectory overflowed: W is far from stable (|1 + lambda| >= 2)")
    return z


def euler_loss(W, m, w, zhat, task: EulerTask = DEFAULT_TASK, *, check_stability: bool = True) -> float:
    r"""Loss :math:`\tfrac12\,\mathrm{mean}_{t\in\text{mask}}(\hat z - z_t)^2` of the Euler network
    (``check_stability`` as in :func:`euler_readout`)."""
    zhat = _check_real("zhat", zhat)
    z = euler_readout(W, m, w, task, check_stability=check_stability)
    mk = task.mask().astype(bool)
    return float(0.5 * np.mean((zhat - z[mk]) ** 2))


def bptt_gradient(W, m, w, zhat, task: EulerTask = DEFAULT_TASK, *, check_stability: bool = True):
    r"""Loss and :math:`\partial L/\partial W` by backpropagation through the Euler trajectory.

    Adjoint recursion :math:`a_{t+1} = A^\top a_{t+2} + \partial L/\partial z_t\, w` with
    :math:`A = (1-\Delta t)I + \Delta t W`, then one GEMM over all steps:
    :math:`\partial L/\partial W = \Delta t \sum_t a_{t+1} x_t^\top = \Delta t\, \mathcal A^\top X`.
    Cost :math:`O(T N^2)` time, :math:`O(T N)` memory, plus :math:`O(N^3)` for
    ``check_stability`` (as in :func:`euler_readout`: a ``W`` without a stable fixed point
    raises :class:`~rnn_theory.theory.errors.UnstableError`).

    Returns
    -------
    loss : float
    grad : ndarray (N, N)

    >>> from rnn_theory.numerics.linear import draw_network, fixed_point_gradient
    >>> W0, m, w = draw_network(20, 0.5, np.random.default_rng(0))
    >>> L1, G1 = bptt_gradient(W0, m, w, 1.0)
    >>> L2, G2, *_ = fixed_point_gradient(W0, m, w, 1.0)
    >>> bool(np.linalg.norm(G1 - G2) < 1e-12 * np.linalg.norm(G2))
    True
    """
    W, m, w = _check_system(W, m, w)
    zhat = _check_real("zhat", zhat)
    if check_stability:
        _require_stable(W, "W")
    dt = task.dt
    X = _trajectory(W, m, task)
    if not np.all(np.isfinite(X)):
        raise NonFiniteError("the Euler trajectory overflowed: W is far from stable (|1 + lambda| >= 2)")
    z = X[1:] @ w
    mk = task.mask()
    nm = mk.sum()
    err = mk * (zhat - z)
    loss = float(0.5 * np.sum(err**2) / nm)
    dLdz = -err / nm  # dL/dz_t
    T, n = task.n_steps, W.shape[0]
    Adj = np.zeros((T, n))  # Adj[t] = dL/dx_{t+1}
    a = np.zeros(n)
    WT = W.T
    for t in range(T - 1, -1, -1):
        # a_{t+1} = A^T a_{t+2} + dL/dz_t w
        a = (1 - dt) * a + dt * (WT @ a) + dLdz[t] * w
        Adj[t] = a
    grad = dt * (Adj.T @ X[:-1])  # sum_t a_{t+1} x_t^T : one GEMM over all time steps
    return loss, grad
