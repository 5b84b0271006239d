r"""The reparameterised update rules dW1, dW3, dW4 of Zhu & Rosenbaum (2024) (spec §5)
and their metric forms.

* dW1 :math:`= G(I - W^\top G)^{-1}\delta r^\top` (the exact gradient, :math:`O(N^3)`),
* dW3 :math:`= [(I-WG)G\delta][(I-GW)^\top(I-GW) r]^\top`,
* dW4 :math:`= [(I-WG)\delta][(I-WG)^\top(I-WG) r]^\top`,

dW3/dW4 by matrix–vector products only (:math:`O(N^2)` per sample), formed as
:math:`\frac1B U^\top V`.  The explicit metric factors :math:`P\nabla Q`
(:func:`preconditioners`, :math:`O(N^3)`) are for checks.
"""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import DomainError
from rnn_theory.numerics.fixed_point._validation import _as_batch, _as_weights
from rnn_theory.numerics.fixed_point.gradient import backprop_fixed_point

__all__ = ["RULES", "rule_factors", "update_direction", "preconditioners", "metric_inner"]

RULES = ("dW1", "dW3", "dW4")


def rule_factors(rule: str, W, r, delta, *, solver: str = "lu") -> tuple[np.ndarray, np.ndarray]:
    r"""Per-sample factors ``U, V`` (B, N) with direction :math:`dW = \frac1B U^\top V`.

    * dW1: :math:`u = G(I - W^\top G)^{-1}\delta`, :math:`v = r` (one solve, :math:`O(N^3)`),
    * dW3: :math:`u = (I-WG)G\delta`, :math:`v = (I-GW)^\top(I-GW)r` (:math:`O(N^2)`),
    * dW4: :math:`u = (I-WG)\delta`, :math:`v = (I-WG)^\top(I-WG)r` (:math:`O(N^2)`).

    All products are matrix–vector products done as GEMMs over the batch (rows).
    """
    W = _as_weights(W)
    r, _ = _as_batch("r", r, W.shape[0])
    delta, _ = _as_batch("delta", delta, W.shape[0])
    g = 1.0 - r ** 2
    if rule == "dW1":
        return backprop_fixed_point(W, r, delta, solver=solver), r
    if rule == "dW3":
        gd = g * delta
        u = gd - (g * gd) @ W.T              # (I - W G) G delta
        s = r - g * (r @ W.T)                # (I - G W) r
        v = s - (g * s) @ W                  # (I - G W)^T s = s - W^T G s
        return u, v
    if rule == "dW4":
        u = delta - (g * delta) @ W.T        # (I - W G) delta
        s = r - (g * r) @ W.T                # (I - W G) r
        v = s - g * (s @ W)                  # (I - W G)^T s = s - G W^T s
        return u, v
    raise DomainError(f"rule must be one of {RULES}, got {rule!r}")


def update_direction(rule: str, W, r, delta, *, solver: str = "lu") -> np.ndarray:
    r"""Batch-mean update direction (SGD: :math:`W \leftarrow W - \eta\,dW`).

    dW3/dW4: :math:`O(BN^2)`, no inverse; dW1: :math:`O(BN^3)`.

    >>> rng = np.random.default_rng(1)
    >>> W = 0.3 * rng.standard_normal((5, 5)); r = np.tanh(rng.standard_normal((3, 5)))
    >>> d = rng.standard_normal((3, 5))
    >>> [update_direction(k, W, r, d).shape for k in RULES]
    [(5, 5), (5, 5), (5, 5)]
    """
    u, v = rule_factors(rule, W, r, delta, solver=solver)
    return u.T @ v / len(u)


def preconditioners(rule: str, W, r) -> tuple[np.ndarray, np.ndarray]:
    r"""Explicit metric factors :math:`(P_i, Q_i)` (B, N, N) with :math:`dW_i = P_i\nabla_i Q_i`.

    * dW3: :math:`P = (I-WG)(I-WG)^\top`, :math:`Q = (I-GW)^\top(I-GW)`,
    * dW4: :math:`P_4 = (I-WG)G^{-1}(I-WG)^\top`, :math:`Q_4 = (I-WG)^\top(I-WG)` (needs
      :math:`g > 0`).

    For checks only: :math:`O(BN^3)`.
    """
    W = _as_weights(W)
    r, _ = _as_batch("r", r, W.shape[0])
    N = W.shape[0]
    g = 1.0 - r ** 2
    I = np.eye(N)[None]
    WG = W[None] * g[:, None, :]             # W G
    GW = g[:, :, None] * W[None]             # G W
    if rule == "dW3":
        L = I - WG
        M = I - GW
        return L @ L.transpose(0, 2, 1), M.transpose(0, 2, 1) @ M
    if rule == "dW4":
        if np.any(g <= 0):
            raise DomainError("the dW4 metric form needs g = 1 - r^2 > 0 (|r| < 1); the rule itself does not")
        L = I - WG
        return (L / g[:, None, :]) @ L.transpose(0, 2, 1), L.transpose(0, 2, 1) @ L
    raise DomainError(f"preconditioners exist for 'dW3' and 'dW4', got {rule!r}")


def metric_inner(rule: str, W, r, U, V) -> np.ndarray:
    r"""Per-sample metric :math:`\langle U, V\rangle_{W} = \mathrm{tr}(P^{-1}UQ^{-1}V^\top)`
    under which ``rule`` is gradient descent (for dW3 equal to
    :math:`\langle (I-WG)^{-1}U(I-GW)^{-1}, (I-WG)^{-1}V(I-GW)^{-1}\rangle_F`).  :math:`O(BN^3)`.
    """
    P, Q = preconditioners(rule, W, r)
    U = np.asarray(U, dtype=float)
    V = np.asarray(V, dtype=float)
    PU = np.linalg.solve(P, np.broadcast_to(U, P.shape))
    QV = np.linalg.solve(Q, np.broadcast_to(V, P.shape).transpose(0, 2, 1))  # Q^{-1} V^T
    return np.einsum("bij,bji->b", PU, QV)
