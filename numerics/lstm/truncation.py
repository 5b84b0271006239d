r"""Low-rank analysis of a trained LSTM: singular values and rank truncation of ΔW versus W.

For a recurrent weight :math:`W = W_0 + \Delta W` (a stacked :math:`4N \times N` matrix,
see :mod:`rnn_theory.numerics.lstm.model`) with SVDs :math:`\Delta W = \sum_k s_k u_k v_k^\top` and
:math:`W = \sum_k \sigma_k a_k b_k^\top`, the two truncations at rank :math:`R` are

.. math::
    W^{(\Delta, R)} = W_0 + \sum_{k \le R} s_k u_k v_k^\top \quad(\text{mode } ``dW``),\qquad
    W^{(R)} = \sum_{k \le R} \sigma_k a_k b_k^\top \quad(\text{mode } ``W``).

Rank 0 is :math:`W_0` (``dW``) or the zero matrix (``W``); full rank gives back the
trained :math:`W` in both modes.  Schuessler et al. (2020) report for a two-layer LSTM on
SST that truncating :math:`\Delta W` to a small rank keeps the validation accuracy while
truncating :math:`W` needs nearly full rank.  Following the paper, the analysed weights
are ``W_hh1``, ``W_ih2`` and ``W_hh2``; ``"all"`` truncates the three at once.  Only the
named weight is replaced; every other parameter keeps its trained value.

Cost: one thin SVD per weight, :math:`O(4N \cdot N^2)`, then one evaluation pass per
(weight, mode, rank).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W0 = rng.normal(size=(8, 4)); dW = np.outer(rng.normal(size=8), rng.normal(size=4))
>>> bool(np.allclose(truncate(dW, 1), dW)), float(np.abs(truncate(W0, 0)).max())
(True, 0.0)
>>> rank_grid(64)
[0, 1, 2, 3, 4, 5, 6, 8, 12, 17, 24, 34, 48, 64]
"""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError

from rnn_theory.numerics.lstm.model import Sequences, accuracy

__all__ = ["WEIGHTS", "svd", "truncate", "rank_grid", "singular_values", "truncation_curves"]

WEIGHTS = ("W_hh1", "W_ih2", "W_hh2")


def svd(M: np.ndarray):
    """Thin SVD ``(U, s, Vt)`` of a 2-d array, singular values descending."""
    M = np.asarray(M, dtype=float)
    if M.ndim != 2:
        raise ShapeError(f"expected a matrix, got shape {M.shape}")
    return np.linalg.svd(M, full_matrices=False)


def _from_svd(U, s, Vt, rank):
    return (U[:, :rank] * s[:rank]) @ Vt[:rank]


def truncate(M: np.ndarray, rank: int) -> np.ndarray:
    """Best rank-``rank`` approximation of ``M`` (Eckart-Young), ``0 <= rank <= min(M.shape)``."""
    M = np.asarray(M)
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank <= min(M.shape):
        raise DomainError(f"rank must be an integer in [0, {min(M.shape)}], got {rank!r}")
    return _from_svd(*svd(M), rank).astype(M.dtype, copy=False)


def rank_grid(full: int, *, dense: int = 6, per_octave: int = 2) -> list:
    """Ranks ``0..dense``, then about ``per_octave`` geometric steps per doubling, up to ``full``."""
    if full < 0:
        raise DomainError(f"full rank must be >= 0, got {full}")
    ranks = set(range(min(dense, full) + 1))
    r = float(max(dense, 1))
    while r < full:
        ranks.add(int(round(r)))
        r *= 2 ** (1 / per_octave)
    ranks.add(full)
    return sorted(k for k in ranks if k <= full)


def _check_pair(params, params0, weights):
    for w in weights:
        if w not in params or w not in params0:
            raise DomainError(f"weight {w!r} is not a parameter of the network; choose from {sorted(params)}")
        if params[w].shape != params0[w].shape:
            raise ShapeError(f"{w}: trained shape {params[w].shape} differs from initial {params0[w].shape}")


def singular_values(params: dict, params0: dict, weights=WEIGHTS) -> dict:
    """``{weight: {"dW": s, "W": s, "W0": s}}``: singular values (descending) of ΔW, W and W_0."""
    _check_pair(params, params0, weights)
    out = {}
    for w in weights:
        W, W0 = np.asarray(params[w], float), np.asarray(params0[w], float)
        out[w] = {"dW": svd(W - W0)[1], "W": svd(W)[1], "W0": svd(W0)[1]}
    return out


def truncation_curves(params: dict, params0: dict, embedding: np.ndarray, data: Sequences, *,
                      weights=WEIGHTS, ranks=None, include_all: bool = True) -> dict:
    """Held-out accuracy with one weight (or all, ``"all"``) truncated, in both modes.

    Returns columns ``{"weight", "mode", "rank", "accuracy"}`` (long format), ``mode`` being
    ``"dW"`` (:math:`W_0` + rank-R ΔW) or ``"W"`` (rank-R W).  ``ranks`` defaults to
    :func:`rank_grid` of the full rank of each weight.
    """
    weights = tuple(weights)
    _check_pair(params, params0, weights)
    fulls = {w: min(params[w].shape) for w in weights}
    factors = {}
    for w in weights:
        W, W0 = np.asarray(params[w], float), np.asarray(params0[w], float)
        factors[w] = {"dW": (W0, svd(W - W0)), "W": (np.zeros_like(W), svd(W))}
    rows = {"weight": [], "mode": [], "rank": [], "accuracy": []}

    def grid(full):
        r = rank_grid(full) if ranks is None else sorted({int(k) for k in ranks if 0 <= k <= full})
        return r

    groups = [(w, (w,)) for w in weights]
    if include_all and len(weights) > 1:
        groups.append(("all", weights))
    for name, members in groups:
        full = min(fulls[w] for w in members)
        for mode in ("dW", "W"):
            for R in grid(full):
                p = dict(params)
                for w in members:
                    base, (U, s, Vt) = factors[w][mode]
                    p[w] = (base + _from_svd(U, s, Vt, R)).astype(params[w].dtype)
                rows["weight"].append(name)
                rows["mode"].append(mode)
                rows["rank"].append(R)
                rows["accuracy"].append(accuracy(p, embedding, data))
    return rows
