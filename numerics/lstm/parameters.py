r"""LSTM parameters: PyTorch-style initialisation (:func:`init_lstm`), the layer count and
shape check (:func:`n_layers`) and inverted-dropout masks (:func:`dropout_masks`).

Part of :mod:`rnn_theory.numerics.lstm.model` (which re-exports every name and documents the
conventions: gate order ``i, f, g, o``, stacked :math:`4N \times N` weights).
Initialisation costs :math:`O(L N (N + n_\text{in}))`, the masks :math:`O(LBTN)`.
"""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError, check_positive

__all__ = ["GATES", "init_lstm", "n_layers", "dropout_masks"]

GATES = ("i", "f", "g", "o")


def init_lstm(n_in: int, hidden: int, rng: np.random.Generator, *, layers: int = 2,
              dtype=np.float64, gain: float = 1.0) -> dict:
    r"""PyTorch-style initial parameters: every entry :math:`\sim U(-1/\sqrt N, 1/\sqrt N)`.

    Returns a dict with ``W_ih{l}`` (4N x n_in for l = 1, 4N x N above), ``W_hh{l}``
    (4N x N), ``b{l}`` (4N), ``W_out`` (1 x N) and ``b_out`` (1,).  ``gain`` :math:`g`
    scales the initial weight matrices ``W_ih{l}``, ``W_hh{l}`` to
    :math:`U(-g/\sqrt N, g/\sqrt N)` (the random initial connectivity :math:`W_0` of
    Schuessler et al.; biases and decoder keep the PyTorch scale); ``gain = 1`` is PyTorch.
    """
    for name, v in (("n_in", n_in), ("hidden", hidden), ("layers", layers)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise DomainError(f"{name} must be a positive integer, got {v!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise DomainError(f"dtype must be float32 or float64, got {dtype}")
    check_positive("gain", gain, allow_zero=True)
    k = 1.0 / np.sqrt(hidden)
    u = lambda *shape: rng.uniform(-k, k, size=shape).astype(dtype)  # noqa: E731
    p = {}
    for l in range(1, layers + 1):
        p[f"W_ih{l}"] = (gain * u(4 * hidden, n_in if l == 1 else hidden)).astype(dtype)
        p[f"W_hh{l}"] = (gain * u(4 * hidden, hidden)).astype(dtype)
        p[f"b{l}"] = u(4 * hidden)
    p["W_out"] = u(1, hidden)
    p["b_out"] = u(1)
    return p


def n_layers(params: dict) -> int:
    """Number of LSTM layers in ``params`` (checks that the shapes fit together)."""
    L = 0
    while f"W_hh{L + 1}" in params:
        L += 1
    if L == 0:
        raise ShapeError("params hold no LSTM layer (expected keys W_ih1, W_hh1, b1, ...)")
    N = params["W_hh1"].shape[1]
    for l in range(1, L + 1):
        for key, shape in ((f"W_hh{l}", (4 * N, N)), (f"b{l}", (4 * N,))):
            if key not in params or params[key].shape != shape:
                got = params[key].shape if key in params else "missing"
                raise ShapeError(f"{key} has shape {got}; expected {shape}")
        wih = params.get(f"W_ih{l}")
        if wih is None or wih.ndim != 2 or wih.shape[0] != 4 * N or (l > 1 and wih.shape[1] != N):
            raise ShapeError(f"W_ih{l} has shape {None if wih is None else wih.shape}; "
                             f"expected (4N, {'n_in' if l == 1 else N}) with N = {N}")
    if params.get("W_out", np.empty(0)).shape != (1, N) or params.get("b_out", np.empty(0)).shape != (1,):
        raise ShapeError(f"decoder must be W_out (1, {N}) and b_out (1,)")
    return L


def dropout_masks(rng: np.random.Generator, batch: int, time: int, hidden: int, layers: int,
                  p: float, dtype=np.float64) -> dict:
    r"""Inverted-dropout masks: entries 0 (prob. ``p``) or :math:`1/(1-p)`.

    Returns ``{"between": [(B, T, N)] * (layers - 1), "out": (B, N)}``: one mask per
    element and time step on each layer's output sequence before the next layer
    (PyTorch's ``nn.LSTM(dropout=p)``), and one on the final hidden state before the decoder.
    """
    if not 0 <= p < 1:
        raise DomainError(f"dropout probability must be in [0, 1), got {p!r}")
    scale = 1.0 / (1.0 - p)

    def draw(*shape):
        return ((rng.random(shape) >= p) * scale).astype(dtype)

    return {"between": [draw(batch, time, hidden) for _ in range(layers - 1)], "out": draw(batch, hidden)}
