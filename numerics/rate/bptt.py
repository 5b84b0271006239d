r"""Exact backpropagation through time for the rate RNN (:func:`backward`).

See :mod:`rnn_theory.numerics.rate.model` for the model.  Cost :math:`O(BTN^2)` flops:
T matrix products (B×N)·(N×N) in the adjoint recursion plus one product over all
(batch, time) pairs per weight gradient; memory :math:`O(BTN)` for the adjoints.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from rnn_theory.theory.errors import RNNTheoryError, ShapeError

from rnn_theory.numerics.rate.dynamics import Trajectory, _buffer
from rnn_theory.numerics.rate.network import PARAM_NAMES, RateRNN

__all__ = ["backward"]


def _check_backward(net: RateRNN, traj: Trajectory, dz, params: tuple) -> None:
    """Validate the requested parameters, that ``traj`` came from ``net`` and the shape of ``dz``."""
    bad = set(params) - set(PARAM_NAMES) - {"x0"}
    if bad:
        raise RNNTheoryError(f"unknown parameter(s) {sorted(bad)}; choose from {PARAM_NAMES + ('x0',)}")
    T, B = traj.X.shape[0] - 1, traj.X.shape[1]
    if traj.X.shape[2] != net.n or traj.Z.shape[2] != net.n_out or traj.phi != net.phi or traj.dt != net.dt:
        raise ShapeError("trajectory was not produced by this network (N, n_out, phi or dt differ)")
    if dz.shape != (B, T, net.n_out):
        raise ShapeError(f"dz must have the shape of z, (B, T, n_out) = {(B, T, net.n_out)}, got {dz.shape}")


def _dphi(traj: Trajectory, workspace, dtype):
    r""":math:`D_t = \phi'(x_t)\odot m_t/(1-p)`, t = 0..T, (T+1, B, N); None when it is all ones."""
    if traj.phi == "tanh":
        D = _buffer(workspace, "D", traj.H.shape, dtype)
        np.multiply(traj.H, traj.H, out=D)
        np.subtract(1.0, D, out=D)
        if traj.scale is not None:
            D *= traj.scale
        return D
    return traj.scale if traj.scale is not None else None


def _adjoints(G: np.ndarray, D, dW: np.ndarray, leak: float, workspace, dtype) -> np.ndarray:
    r"""Adjoint recursion: ``A[t]`` = :math:`a_{t+1}`, (T, B, N), from the readout
    gradients ``G[t]`` = :math:`W_{\rm out}^\top\delta z_t` and ``dW`` = :math:`\Delta t\,W`.

    T - 1 products (B×N)·(N×N): cost :math:`O(BTN^2)`.
    """
    T, B, N = G.shape
    A = _buffer(workspace, "A", (T, B, N), dtype)  # A[t] = a_{t+1}
    if D is not None:
        np.multiply(G[T - 1], D[T], out=A[T - 1])
    else:
        A[T - 1] = G[T - 1]
    tmp = _buffer(workspace, "tmp", (B, N), dtype)
    for t in range(T - 1, 0, -1):  # one GEMM and four in-place passes over (B, N)
        a, an = A[t], A[t - 1]
        np.matmul(a, dW, out=an)
        an += G[t - 1]
        if D is not None:
            an *= D[t]
        if leak:
            np.multiply(a, leak, out=tmp)
            an += tmp
    return A


def backward(net: RateRNN, traj: Trajectory, dz, *,
             params: Iterable[str] = ("W_in", "W", "W_out"), workspace: dict | None = None) -> dict:
    r"""Exact BPTT gradients of a loss :math:`L` given :math:`\partial L/\partial z` = ``dz``.

    With adjoints :math:`a_t = \partial L/\partial x_t` and
    :math:`D_t = \phi'(x_t)\odot m_t/(1-p)` (noise enters additively, so it does not
    change :math:`\partial r_t/\partial x_t`):

    .. math::
        \frac{\partial L}{\partial r_t} &= \Delta t\, W^\top a_{t+1}\,[t<T]
            + W_{\rm out}^\top \delta z_{t-1}\,[t\ge 1],\qquad
        a_t = (1-\Delta t)\,a_{t+1}\,[t<T] + D_t \odot \frac{\partial L}{\partial r_t},\\
        \nabla_W L &= \Delta t\sum_{t=0}^{T-1} a_{t+1} r_t^\top,\quad
        \nabla_{W_{\rm in}} L = \Delta t\sum_t a_{t+1} u_t^\top,\quad
        \nabla_b L = \Delta t\sum_t a_{t+1},\\
        \nabla_{W_{\rm out}} L &= \sum_t \delta z_t\, r_{t+1}^\top,\quad
        \nabla_{b_{\rm out}} L = \sum_t \delta z_t,

    all sums also over the batch.  Only the adjoint recursion loops over time (T products
    (B×N)·(N×N)); each weight gradient is a single matrix product over all B·T pairs.

    Parameters
    ----------
    net : RateRNN
        The network that produced ``traj``.
    traj : Trajectory
        From :func:`forward`.
    dz : (B, T, n_out) array
        :math:`\partial L/\partial z_t`, e.g. the second output of
        :func:`rnn_theory.numerics.rate.losses.masked_mse`.
    params : iterable of str
        Which gradients to return, from ``W``, ``W_in``, ``W_out``, ``b``, ``b_out``, ``x0``
        (``b``/``b_out`` are returned even if the network has none: the gradient at a
        zero bias; ``x0`` is per trial, shape (B, N)).
    workspace : dict, optional
        Reuse the :math:`O(BTN)` adjoint buffers across calls (see :func:`forward`).

    Returns
    -------
    dict name -> array with the parameter's shape.
    """
    params = tuple(params)
    dz = np.asarray(dz)
    _check_backward(net, traj, dz, params)
    T, B, N = traj.X.shape[0] - 1, traj.X.shape[1], traj.X.shape[2]
    dtype, dt = net.dtype, net.dt
    dZ = np.ascontiguousarray(dz.transpose(1, 0, 2), dtype=dtype)  # (T, B, n_out)
    out: dict = {}
    if "W_out" in params:
        out["W_out"] = dZ.reshape(T * B, -1).T @ traj.R[1:].reshape(T * B, N)
    if "b_out" in params:
        out["b_out"] = dZ.sum(axis=(0, 1))
    rec = [p for p in params if p in ("W", "W_in", "b", "x0")]
    if not rec:
        return {p: out[p] for p in params}
    D = _dphi(traj, workspace, dtype)  # phi'(x_t) * dropout scale, t = 0..T
    # readout contribution to dL/dr_{t+1}: one GEMM
    G = _buffer(workspace, "G", (T, B, N), dtype)
    np.matmul(dZ.reshape(T * B, -1), net.W_out, out=G.reshape(T * B, N))
    leak = 1.0 - dt
    dW = dt * net.W  # a @ (dt W) = dt (W^T a)^T
    A = _adjoints(G, D, dW, leak, workspace, dtype)
    a = A[0]
    Af = A.reshape(T * B, N)
    if "W" in params:
        out["W"] = dt * (Af.T @ traj.R[:T].reshape(T * B, N))
    if "W_in" in params:
        out["W_in"] = dt * (Af.T @ traj.U.reshape(T * B, -1))
    if "b" in params:
        out["b"] = dt * Af.sum(axis=0)
    if "x0" in params:
        a0 = a @ dW
        if D is not None:
            a0 *= D[0]
        if leak:
            a0 += leak * a
        out["x0"] = a0
    return {p: out[p] for p in params}
