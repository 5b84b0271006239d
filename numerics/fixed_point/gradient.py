r"""Loss at the readout and the exact gradient through a fixed point (spec §4).

With :math:`z_i = Rr_i`, :math:`\delta_i = R^\top(\mathrm{softmax}(z_i) - e_{y_i})` and
:math:`G_i = \operatorname{diag}(1 - r_i^2)`, the implicit gradient is
:math:`\nabla_W L_i = G_i(I - W^\top G_i)^{-1}\delta_i r_i^\top` (one linear solve per
sample, :math:`O(N^3)`).
"""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError
from rnn_theory.numerics.fixed_point._validation import _as_batch, _as_weights
from rnn_theory.numerics.fixed_point.kernels import _gmres, _lu_solve

__all__ = ["softmax", "cross_entropy", "output_error", "backprop_fixed_point", "implicit_gradient"]


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(z: np.ndarray, y: np.ndarray) -> float:
    """Batch-mean cross-entropy :math:`-\\log\\mathrm{softmax}(z)_y`.

    >>> bool(np.isclose(cross_entropy(np.zeros((2, 4)), np.array([0, 3])), np.log(4)))
    True
    """
    z = np.asarray(z, dtype=float)
    y = np.asarray(y)
    zm = z.max(axis=1, keepdims=True)
    lse = (zm + np.log(np.exp(z - zm).sum(axis=1, keepdims=True)))[:, 0]
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def output_error(R: np.ndarray, r: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logit error :math:`e = \\mathrm{softmax}(Rr) - \\mathrm{onehot}(y)` (B, C) and
    :math:`\\delta = R^\\top e` as rows (B, N)."""
    p = softmax(r @ R.T)
    p[np.arange(len(y)), y] -= 1.0
    return p, p @ R


# --------------------------------------------------------------------------- gradient and rules
def backprop_fixed_point(W, r, delta, *, solver: str = "lu") -> np.ndarray:
    r"""Adjoint :math:`v_i = G_i(I - W^\top G_i)^{-1}\delta_i` per row (B, N).

    ``solver="lu"``: exact batched LU, :math:`O(N^3)` per sample (no :math:`G^{-1}`, so
    safe when :math:`g` has zeros); ``"gmres"``: matrix-free, :math:`O(kN^2)`.
    """
    W = _as_weights(W)
    r, _ = _as_batch("r", r, W.shape[0])
    delta, _ = _as_batch("delta", delta, W.shape[0])
    if r.shape != delta.shape:
        raise ShapeError(f"r {r.shape} and delta {delta.shape} must have the same shape")
    g = 1.0 - r ** 2
    if solver == "lu":
        u = _lu_solve(g, W, delta, transpose=True)
    elif solver == "gmres":
        atol = 1e-14 * np.maximum(np.linalg.norm(delta, axis=1), 1e-300)
        u = _gmres(lambda v: v - (g * v) @ W, delta, atol, m=min(60, W.shape[0]))
    else:
        raise DomainError(f"solver must be 'lu' or 'gmres', got {solver!r}")
    return g * u


def implicit_gradient(W, r, delta, *, per_sample: bool = False, solver: str = "lu") -> np.ndarray:
    r"""Exact gradient through the fixed point, :math:`\nabla_W L_i = G(I-W^\top G)^{-1}\delta r^\top`.

    Returns the batch mean :math:`\frac1B\sum_i\nabla_W L_i` (N, N), or the stack (B, N, N)
    with ``per_sample=True``.  ``r`` must be solved fixed points and ``delta`` the rows
    :math:`\delta_i = \partial L_i/\partial r_i`.  Cost :math:`O(BN^3)` (one solve per sample).
    """
    r2, _ = _as_batch("r", r, np.shape(W)[0])
    v = backprop_fixed_point(W, r2, delta, solver=solver)
    if per_sample:
        return v[:, :, None] * r2[:, None, :]
    return v.T @ r2 / len(r2)
