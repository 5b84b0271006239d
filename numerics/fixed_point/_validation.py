"""Argument checks shared by the fixed-point modules (shapes and finiteness)."""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import ShapeError, check_finite


def _as_weights(W) -> np.ndarray:
    W = check_finite("W", np.asarray(W, dtype=float))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ShapeError(f"W has shape {W.shape}; the recurrent weights must be a square N x N matrix")
    return W


def _as_batch(name: str, a, n: int) -> tuple[np.ndarray, bool]:
    """Return ``a`` as a (B, n) float array and whether it was a single vector."""
    a = check_finite(name, np.asarray(a, dtype=float))
    single = a.ndim == 1
    if single:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != n:
        raise ShapeError(f"{name} has shape {a.shape[1:] if single else a.shape}; expected (batch, {n}) "
                         f"or ({n},) to match W's {n} neurons")
    return a, single
