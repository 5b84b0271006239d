r"""LSTM forward pass and exact BPTT: one layer at a time (``_layer_forward`` /
``_layer_backward``), the stacked network with its decoder (:func:`forward`) and the
binary cross-entropy loss with all gradients (:func:`loss_and_grads`).

Part of :mod:`rnn_theory.numerics.lstm.model`, which states the equations.  Cost
:math:`O(L\,T\,B\,N(N + n_\text{in}))` flops for the forward pass, about three times
that for :func:`loss_and_grads`; memory :math:`O(L\,T\,B\,N)`.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from rnn_theory.theory.errors import NonFiniteError, ShapeError

from rnn_theory.numerics.infra.fastmath import tanh_into

from rnn_theory.numerics.lstm.parameters import n_layers
from rnn_theory.numerics.lstm.sequences import check_lengths

__all__ = ["forward", "bce_with_logits", "loss_and_grads"]


def _prepare(params, x, lengths):
    L = n_layers(params)
    dtype = params["W_hh1"].dtype
    x = np.asarray(x)
    if x.ndim != 3:
        raise ShapeError(f"inputs must be (batch, time, features); got shape {x.shape}")
    n_in = params["W_ih1"].shape[1]
    if x.shape[2] != n_in:
        raise ShapeError(
            f"input/embedding size {x.shape[2]} does not match the LSTM's input size {n_in} "
            f"(W_ih1 is {params['W_ih1'].shape}); build the LSTM with n_in={x.shape[2]} or use "
            f"{n_in}-dimensional word vectors")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise NonFiniteError("inputs contain NaN or infinity; pass finite word vectors")
    B, T, _ = x.shape
    lengths = check_lengths(lengths, B, T)
    mask = (np.arange(T)[:, None] < lengths[None, :]).astype(dtype)[:, :, None]  # (T, B, 1)
    xt = np.ascontiguousarray(np.swapaxes(x, 0, 1), dtype=dtype)  # (T, B, n_in)
    return L, xt, mask, int(lengths.min())


def _layer_forward(W_ih, W_hh, b, xt, mask, n_full, keep):
    """One layer over time; returns the states h (T+1, B, N) and (if keep) the cache.

    ``n_full`` = the shortest length: steps before it need no masking.
    """
    T, B, _ = xt.shape
    N = W_hh.shape[1]
    dtype = W_hh.dtype
    zx = (xt.reshape(T * B, -1) @ W_ih.T + b).reshape(T, B, 4 * N)  # one GEMM for all t
    h = np.zeros((T + 1, B, N), dtype)
    c = np.zeros((T + 1, B, N), dtype)
    gates = np.empty((T, B, 4 * N), dtype) if keep else np.empty((1, B, 4 * N), dtype)
    tc = np.empty((T, B, N), dtype) if keep else np.empty((1, B, N), dtype)
    W_hhT = np.ascontiguousarray(W_hh.T)
    # sigma(z) = (1 + tanh(z/2)) / 2: one tanh over all four gates (much faster than expit)
    half = np.full(4 * N, 0.5, dtype)
    half[2 * N:3 * N] = 1.0
    off = np.full(4 * N, 0.5, dtype)
    off[2 * N:3 * N] = 0.0
    work_g: dict = {}  # scratch buffers of tanh_into (float64), one per shape
    work_c: dict = {}
    cbuf, tmp = np.empty((B, N), dtype), np.empty((B, N), dtype)
    for t in range(T):
        k = t if keep else 0
        a = gates[k]
        np.matmul(h[t], W_hhT, out=a)
        a += zx[t]
        a *= half
        tanh_into(a, a, work_g)
        a *= half
        a += off
        cn = c[t + 1] if t < n_full else cbuf
        np.multiply(a[:, N:2 * N], c[t], out=cn)
        np.multiply(a[:, :N], a[:, 2 * N:3 * N], out=tmp)
        cn += tmp
        tcn = tanh_into(cn, tc[k], work_c)
        if t < n_full:
            np.multiply(a[:, 3 * N:], tcn, out=h[t + 1])
        else:
            m = mask[t]
            c[t + 1] = c[t] + m * (cn - c[t])
            h[t + 1] = h[t] + m * (a[:, 3 * N:] * tcn - h[t])
    cache = (xt, h, c, gates, tc) if keep else None
    return h, cache


def _layer_backward(W_ih, W_hh, cache, mask, n_full, dh_seq, dh_last, need_dx=True):
    """BPTT through one layer.

    ``dh_seq`` (T, B, N) is the gradient arriving at every output h_t from above (or None),
    ``dh_last`` (B, N) the gradient at the final state h_T (or None).  Returns the weight
    gradients and the gradient with respect to the layer's inputs, (T, B, n_in), or None if not
    ``need_dx`` (the first layer's inputs are frozen embeddings).
    """
    xt, h, c, gates, tc = cache
    T, B, _ = xt.shape
    N = W_hh.shape[1]
    dtype = W_hh.dtype
    # local derivatives of all steps at once (vectorised over time):
    # dz = [dct*g*i(1-i), dct*c_prev*f(1-f), dct*i*(1-g^2), dhn*tanh(c)*o(1-o)]
    i, f, g, o = (gates[..., k * N:(k + 1) * N] for k in range(4))
    pd = np.empty((T, B, 4, N), dtype)
    tmp = np.empty((T, B, N), dtype)  # in place, same operation order as the formulas above
    np.multiply(g, i, out=pd[:, :, 0])
    pd[:, :, 0] *= np.subtract(1.0, i, out=tmp)
    np.multiply(c[:-1], f, out=pd[:, :, 1])
    pd[:, :, 1] *= np.subtract(1.0, f, out=tmp)
    np.multiply(g, g, out=tmp)
    np.multiply(i, np.subtract(1.0, tmp, out=tmp), out=pd[:, :, 2])
    np.multiply(tc, o, out=pd[:, :, 3])
    pd[:, :, 3] *= np.subtract(1.0, o, out=tmp)
    ot = np.multiply(tc, tc)  # o (1 - tanh(c)^2): d h / d c through the output nonlinearity
    np.subtract(1.0, ot, out=ot)
    np.multiply(o, ot, out=ot)
    dz = np.empty((T, B, 4 * N), dtype)
    dh = np.zeros((B, N), dtype) if dh_last is None else dh_last.astype(dtype, copy=True)
    dc = np.zeros((B, N), dtype)
    for t in range(T - 1, -1, -1):
        if dh_seq is not None:
            dh += dh_seq[t]  # dh is owned: the initial copy or the last dh_new
        if t < n_full:
            dhn, dcn = dh, dc
        else:
            m = mask[t]
            dhn, dcn = m * dh, m * dc
        dct = dhn * ot[t]
        dct += dcn
        d4 = dz[t].reshape(B, 4, N)
        np.multiply(dct[:, None, :], pd[t, :, :3], out=d4[:, :3])
        np.multiply(dhn, pd[t, :, 3], out=d4[:, 3])
        dh_new = dz[t] @ W_hh
        dc_new = dct * f[t]
        if t >= n_full:  # frozen (masked) steps pass the gradient straight through
            dh_new += (1.0 - m) * dh
            dc_new += (1.0 - m) * dc
        dh, dc = dh_new, dc_new
    dzf = dz.reshape(T * B, 4 * N)
    gW_ih = dzf.T @ xt.reshape(T * B, -1)  # one GEMM over all time steps
    gW_hh = dzf.T @ h[:-1].reshape(T * B, N)
    gb = dzf.sum(axis=0)
    dx = (dzf @ W_ih).reshape(T, B, -1) if need_dx else None  # not needed below the first layer
    return gW_ih, gW_hh, gb, dx


def _run(params, x, lengths, masks, keep):
    L, xt, mask, n_full = _prepare(params, x, lengths)
    T, B, _ = xt.shape
    N = params["W_hh1"].shape[1]
    caches, inp = [], xt
    for l in range(1, L + 1):
        h, cache = _layer_forward(params[f"W_ih{l}"], params[f"W_hh{l}"], params[f"b{l}"], inp, mask,
                                   n_full, keep)
        caches.append(cache)
        out = h[1:]
        if l < L and masks is not None:
            dm = np.swapaxes(np.asarray(masks["between"][l - 1], dtype=xt.dtype), 0, 1)
            if dm.shape != (T, B, N):
                raise ShapeError(f"dropout mask between layers {l} and {l + 1} has shape "
                                 f"{np.swapaxes(dm, 0, 1).shape}; expected {(B, T, N)}")
            out = out * dm
        inp = out
    h_last = h[T]
    d_out = None
    if masks is not None:
        d_out = np.asarray(masks["out"], dtype=xt.dtype)
        if d_out.shape != (B, N):
            raise ShapeError(f"decoder dropout mask has shape {d_out.shape}; expected {(B, N)}")
        h_dec = h_last * d_out
    else:
        h_dec = h_last
    logits = h_dec @ params["W_out"][0] + params["b_out"][0]
    return logits, (L, mask, n_full, caches, h_dec, d_out)


def forward(params: dict, x: np.ndarray, lengths, *, masks: dict | None = None) -> np.ndarray:
    """Logits ``(B,)`` for inputs ``x`` ``(B, T, n_in)`` with the given lengths.

    ``masks`` (from :func:`dropout_masks`) applies dropout; ``None`` is evaluation mode.
    """
    return _run(params, x, lengths, masks, keep=False)[0]


def bce_with_logits(logits: np.ndarray, labels: np.ndarray) -> float:
    r"""Mean binary cross-entropy :math:`\log(1+e^s) - y s`, computed stably."""
    s = np.asarray(logits, dtype=float)
    y = np.asarray(labels, dtype=float)
    return float(np.mean(np.maximum(s, 0) - s * y + np.log1p(np.exp(-np.abs(s)))))


def loss_and_grads(params: dict, x: np.ndarray, lengths, labels, *, masks: dict | None = None):
    """Loss, gradients of every parameter (same keys and shapes) and logits.

    Exact BPTT; ``masks`` fixes the dropout pattern (``None``: no dropout).
    Cost: about three times a forward pass.
    """
    logits, (L, mask, n_full, caches, h_dec, d_out) = _run(params, x, lengths, masks, keep=True)
    y = np.asarray(labels, dtype=logits.dtype)
    if y.shape != logits.shape:
        raise ShapeError(f"labels have shape {y.shape}; expected {logits.shape}")
    B = logits.shape[0]
    ds = (expit(logits) - y) / B  # dL/ds
    grads = {"W_out": (ds @ h_dec)[None, :], "b_out": np.array([ds.sum()], dtype=logits.dtype)}
    dh_last = ds[:, None] * params["W_out"][0][None, :]
    if d_out is not None:
        dh_last = dh_last * d_out
    dh_seq = None
    for l in range(L, 0, -1):
        gW_ih, gW_hh, gb, dx = _layer_backward(params[f"W_ih{l}"], params[f"W_hh{l}"], caches[l - 1],
                                               mask, n_full, dh_seq, dh_last if l == L else None,
                                               need_dx=l > 1)
        grads[f"W_ih{l}"], grads[f"W_hh{l}"], grads[f"b{l}"] = gW_ih, gW_hh, gb
        if l > 1:
            dh_seq = dx
            if masks is not None:
                dh_seq = dh_seq * np.swapaxes(np.asarray(masks["between"][l - 2], dtype=dh_seq.dtype), 0, 1)
    return bce_with_logits(logits, y), grads, logits
