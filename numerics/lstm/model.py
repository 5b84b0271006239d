r"""A stacked LSTM sentence classifier in NumPy, with exact backpropagation through time.

Model (layer :math:`\ell = 1 \dots L`, time :math:`t = 1 \dots T`, hidden size :math:`N`)
--------------------------------------------------------------------------------------------
.. math::
    z_t^\ell &= W_{ih}^\ell\, x_t^\ell + W_{hh}^\ell\, h_{t-1}^\ell + b^\ell
      \in \mathbb{R}^{4N},\qquad
    (i, f, g, o) = (\sigma(z_i), \sigma(z_f), \tanh(z_g), \sigma(z_o)),\\
    \tilde c_t^\ell &= f \odot c_{t-1}^\ell + i \odot g,\qquad
    \tilde h_t^\ell = o \odot \tanh \tilde c_t^\ell,\\
    (h_t^\ell, c_t^\ell) &= m_t\,(\tilde h_t^\ell, \tilde c_t^\ell)
      + (1 - m_t)\,(h_{t-1}^\ell, c_{t-1}^\ell),

with :math:`h_0 = c_0 = 0`, :math:`x_t^1` the (frozen) word embedding of token
:math:`t` and :math:`x_t^{\ell+1} = d_t^\ell \odot h_t^\ell` (inverted dropout mask
:math:`d`, entries 0 or :math:`1/(1-p)`).  :math:`m_t = [t \le \text{length}]` freezes
the state after each sentence's own last token, so :math:`h_T^L` *is* the hidden state at
that token.  The decoder reads :math:`s = W_{out} (d^{out} \odot h_T^L) + b_{out}` (one
logit) and the loss is binary cross-entropy with logits, averaged over the batch,

.. math:: \mathcal L = \frac1B\sum_b \log(1 + e^{s_b}) - y_b s_b .

Conventions
-----------
* **Gate order** ``i, f, g, o`` (input, forget, cell candidate, output) -- PyTorch's.  Each
  weight stacks the four gates' rows into one matrix, ``W_ih{l}`` of shape
  :math:`4N \times n_\text{in}` and ``W_hh{l}`` of shape :math:`4N \times N`, in math
  orientation (``W_hh @ h``); this is the "stacked 4N x N matrix" the low-rank analysis
  truncates.  Rows ``k*N:(k+1)*N`` belong to gate ``GATES[k]``.
* One bias ``b{l}`` (4N) per layer: PyTorch's ``b_ih + b_hh`` is the same model with a
  redundant parameter.
* Layers are numbered from 1 as in the paper ("layer-2 input-to-hidden weight" is
  ``W_ih2``).  Decoder: ``W_out`` (1 x N), ``b_out`` (1,).
* Initialisation as PyTorch: every entry :math:`\sim U(-1/\sqrt N, 1/\sqrt N)`; this is the
  random initial connectivity :math:`W_0` of the low-rank analysis.
* Arrays are ``(batch, time, features)`` at the interface; internally time-major.
* float64 by default; pass ``dtype=np.float32`` to :func:`init_lstm` for speed (the
  computation follows the parameters' dtype).

Cost
----
Forward and backward are :math:`O(L\,T\,B\,N(N + n_\text{in}))` flops.  The input
projections :math:`W_{ih} x_t` of all time steps are one GEMM
(:math:`TB \times n_\text{in}` by :math:`n_\text{in} \times 4N`), and so are the weight
gradients (:math:`\partial W_{hh} = \sum_t \delta z_t h_{t-1}^\top` as one
:math:`4N \times TB` by :math:`TB \times N` product); only the :math:`B \times N` by
:math:`N \times 4N` recurrent products remain inside the time loop.  Memory:
:math:`O(L\,T\,B\,N)`.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> p = init_lstm(n_in=3, hidden=4, rng=rng)
>>> sorted(p)
['W_hh1', 'W_hh2', 'W_ih1', 'W_ih2', 'W_out', 'b1', 'b2', 'b_out']
>>> p["W_hh1"].shape, p["W_ih2"].shape
((16, 4), (16, 4))
>>> x = rng.normal(size=(2, 5, 3)); lengths = np.array([5, 2])
>>> logits = forward(p, x, lengths)
>>> logits.shape
(2,)
>>> # the state is frozen after a sequence's end: padding content does not matter
>>> x2 = x.copy(); x2[1, 2:] = 99.0
>>> bool(np.allclose(forward(p, x2, lengths), logits))
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from rnn_theory.theory.errors import (
    DomainError,
    NonFiniteError,
    ShapeError,
    TrainingDivergedError,
    check_positive,
)

__all__ = [
    "GATES",
    "Sequences",
    "init_lstm",
    "n_layers",
    "check_lengths",
    "embed",
    "dropout_masks",
    "forward",
    "loss_and_grads",
    "bce_with_logits",
    "predict_logits",
    "accuracy",
    "TrainResult",
    "train_lstm",
]

GATES = ("i", "f", "g", "o")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Sequences:
    """Padded token sequences with binary labels.

    Attributes
    ----------
    tokens : (M, T) int array
        Token ids, left-aligned; entries past ``lengths[m]`` are padding (any valid id,
        conventionally 0).
    lengths : (M,) int array
        Number of real tokens of each sequence, ``1 <= lengths <= T``.
    labels : (M,) float array of 0/1
    """

    tokens: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        tokens = np.asarray(self.tokens)
        if tokens.ndim != 2 or tokens.dtype.kind not in "iu":
            raise ShapeError(f"tokens must be a 2-d integer array (sequences, time); got "
                             f"shape {tokens.shape}, dtype {tokens.dtype}")
        if tokens.shape[0] == 0:
            raise DomainError("no sequences: a data set needs at least one sentence")
        lengths = check_lengths(self.lengths, tokens.shape[0], tokens.shape[1])
        labels = np.asarray(self.labels, dtype=float)
        if labels.shape != (tokens.shape[0],):
            raise ShapeError(f"labels have shape {labels.shape}; expected ({tokens.shape[0]},)")
        if not np.all((labels == 0) | (labels == 1)):
            raise DomainError("labels must be 0 or 1")
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "lengths", lengths)
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def subset(self, idx) -> "Sequences":
        """The sequences ``idx``, cropped to their own longest length."""
        lengths = self.lengths[idx]
        t = int(lengths.max()) if lengths.size else 1
        return Sequences(self.tokens[idx, :t], lengths, self.labels[idx])


def check_lengths(lengths, batch: int, time: int) -> np.ndarray:
    """Validate sequence lengths: integers with ``1 <= length <= time``, one per sequence."""
    lengths = np.asarray(lengths)
    if lengths.shape != (batch,):
        raise ShapeError(f"lengths have shape {lengths.shape}; expected ({batch},), one per sequence")
    if lengths.size and lengths.dtype.kind not in "iu":
        if not np.all(np.equal(np.mod(lengths, 1), 0)):
            raise DomainError("lengths must be integers")
    lengths = lengths.astype(np.int64)
    if np.any(lengths < 1):
        bad = np.flatnonzero(lengths < 1)
        raise DomainError(
            f"{bad.size} sequence(s) are empty or all padding (length < 1), first at index "
            f"{int(bad[0])}; remove empty sentences before batching")
    if np.any(lengths > time):
        raise DomainError(f"a length exceeds the padded time axis ({int(lengths.max())} > {time})")
    return lengths


def embed(embedding: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Look up word vectors: ``(B, T)`` token ids -> ``(B, T, d)`` inputs.

    Raises :class:`~rnn_theory.theory.errors.DomainError` for ids outside ``[0, vocab)``.
    """
    embedding = np.asarray(embedding)
    if embedding.ndim != 2:
        raise ShapeError(f"embedding must be (vocab, dim); got shape {embedding.shape}")
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu":
        raise ShapeError(f"token ids must be integers, got dtype {tokens.dtype}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= embedding.shape[0]):
        lo, hi = int(tokens.min()), int(tokens.max())
        raise DomainError(
            f"token ids must lie in [0, {embedding.shape[0]}) (the embedding's vocabulary); "
            f"got ids in [{lo}, {hi}]: map unknown words to the unknown-word id")
    return embedding[tokens]


# --------------------------------------------------------------------------- parameters


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


# --------------------------------------------------------------------------- forward / backward


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
    for t in range(T):
        k = t if keep else 0
        a = gates[k]
        np.matmul(h[t], W_hhT, out=a)
        a += zx[t]
        a *= half
        np.tanh(a, out=a)
        a *= half
        a += off
        cn = a[:, N:2 * N] * c[t]
        cn += a[:, :N] * a[:, 2 * N:3 * N]
        tcn = np.tanh(cn, out=tc[k])
        if t < n_full:
            c[t + 1] = cn
            np.multiply(a[:, 3 * N:], tcn, out=h[t + 1])
        else:
            m = mask[t]
            c[t + 1] = c[t] + m * (cn - c[t])
            h[t + 1] = h[t] + m * (a[:, 3 * N:] * tcn - h[t])
    cache = (xt, h, c, gates, tc) if keep else None
    return h, cache


def _layer_backward(W_ih, W_hh, cache, mask, n_full, dh_seq, dh_last):
    """BPTT through one layer.

    ``dh_seq`` (T, B, N) is the gradient arriving at every output h_t from above (or None),
    ``dh_last`` (B, N) the gradient at the final state h_T (or None).  Returns the weight
    gradients and the gradient with respect to the layer's inputs, (T, B, n_in).
    """
    xt, h, c, gates, tc = cache
    T, B, _ = xt.shape
    N = W_hh.shape[1]
    dtype = W_hh.dtype
    # local derivatives of all steps at once (vectorised over time):
    # dz = [dct*g*i(1-i), dct*c_prev*f(1-f), dct*i*(1-g^2), dhn*tanh(c)*o(1-o)]
    i, f, g, o = (gates[..., k * N:(k + 1) * N] for k in range(4))
    pd = np.empty((T, B, 4, N), dtype)
    pd[:, :, 0] = g * i * (1.0 - i)
    pd[:, :, 1] = c[:-1] * f * (1.0 - f)
    pd[:, :, 2] = i * (1.0 - g * g)
    pd[:, :, 3] = tc * o * (1.0 - o)
    ot = o * (1.0 - tc * tc)  # d h / d c through the output nonlinearity
    dz = np.empty((T, B, 4 * N), dtype)
    dh = np.zeros((B, N), dtype) if dh_last is None else dh_last.astype(dtype, copy=True)
    dc = np.zeros((B, N), dtype)
    for t in range(T - 1, -1, -1):
        if dh_seq is not None:
            dh = dh + dh_seq[t]
        if t < n_full:
            dhn, dcn = dh, dc
        else:
            m = mask[t]
            dhn, dcn = m * dh, m * dc
        dct = dcn + dhn * ot[t]
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
    dx = (dzf @ W_ih).reshape(T, B, -1)
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
                                               mask, n_full, dh_seq, dh_last if l == L else None)
        grads[f"W_ih{l}"], grads[f"W_hh{l}"], grads[f"b{l}"] = gW_ih, gW_hh, gb
        if l > 1:
            dh_seq = dx
            if masks is not None:
                dh_seq = dh_seq * np.swapaxes(np.asarray(masks["between"][l - 2], dtype=dh_seq.dtype), 0, 1)
    return bce_with_logits(logits, y), grads, logits


# --------------------------------------------------------------------------- evaluation / training


def predict_logits(params: dict, embedding: np.ndarray, data: Sequences, *, batch_size: int = 512) -> np.ndarray:
    """Evaluation-mode logits for every sequence of ``data`` (no dropout), in batches."""
    out = np.empty(len(data))
    order = np.argsort(data.lengths, kind="stable")  # similar lengths together: less padding
    for k in range(0, len(data), batch_size):
        idx = order[k:k + batch_size]
        sub = data.subset(idx)
        out[idx] = forward(params, embed(embedding, sub.tokens), sub.lengths)
    return out


def accuracy(params: dict, embedding: np.ndarray, data: Sequences, *, batch_size: int = 512) -> float:
    """Fraction of sequences whose predicted label (logit > 0) equals the true label."""
    pred = predict_logits(params, embedding, data, batch_size=batch_size) > 0
    return float(np.mean(pred == (data.labels > 0.5)))


@dataclass
class TrainResult:
    """Outcome of :func:`train_lstm`.

    ``params0``: initial parameters (:math:`W_0`); ``params``: trained; ``loss``: the
    mini-batch loss per step; ``eval_step`` / ``eval_accuracy``: held-out accuracy history.
    """

    params: dict
    params0: dict
    loss: np.ndarray
    eval_step: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    eval_accuracy: np.ndarray = field(default_factory=lambda: np.zeros(0))


def train_lstm(params: dict, embedding: np.ndarray, train: Sequences, *, steps: int, batch_size: int,
               lr: float, rng: np.random.Generator, dropout: float = 0.5, optimizer="adam",
               eval_data: Sequences | None = None, eval_every: int = 0,
               show_progress: bool = False) -> TrainResult:
    """Train all LSTM and decoder parameters (the embedding stays frozen) with mini-batches.

    Each step draws ``batch_size`` sequences without replacement (reshuffling every
    epoch), new dropout masks, and takes one optimiser step (:mod:`rnn_theory.numerics.infra.optim`:
    ``optimizer`` is a name, default ``"adam"``, or an optimiser object such as
    ``SGD(lr, momentum=0.9)``, whose own ``lr`` is then used).  Raises :class:`~rnn_theory.theory.errors.TrainingDivergedError` (with the partial result)
    if the loss becomes non-finite.  Cost per step: see the module docstring.
    """
    from rnn_theory.numerics.infra.optim import make_optimizer
    from rnn_theory.numerics.infra.progress import progress

    L = n_layers(params)
    N = params["W_hh1"].shape[1]
    dtype = params["W_hh1"].dtype
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise DomainError(f"steps must be a non-negative integer, got {steps!r}")
    if not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= len(train):
        raise DomainError(f"batch_size must be an integer in [1, {len(train)}] (the training set size), "
                          f"got {batch_size!r}")
    check_positive("lr", lr)
    if not 0 <= dropout < 1:
        raise DomainError(f"dropout must be in [0, 1), got {dropout!r}")
    emb = np.asarray(embedding)
    if emb.ndim != 2 or emb.shape[1] != params["W_ih1"].shape[1]:
        raise ShapeError(f"embedding has shape {emb.shape}; its vectors must have the LSTM's input "
                         f"size {params['W_ih1'].shape[1]}")
    embed(emb, train.tokens)  # validates token ids once
    emb = emb.astype(dtype)
    opt = make_optimizer(optimizer, lr) if isinstance(optimizer, str) else optimizer
    params0 = {k: v.copy() for k, v in params.items()}
    state = opt.init(params)
    losses = np.empty(steps)
    ev_step, ev_acc = [], []
    perm, pos = rng.permutation(len(train)), 0
    for step in progress(range(steps), total=steps, desc="lstm", enabled=show_progress):
        if pos + batch_size > len(train):
            perm, pos = rng.permutation(len(train)), 0
        sub = train.subset(perm[pos:pos + batch_size])
        pos += batch_size
        x = emb[sub.tokens]
        masks = None
        if dropout > 0:
            masks = dropout_masks(rng, batch_size, x.shape[1], N, L, dropout, dtype)
        loss, grads, _ = loss_and_grads(params, x, sub.lengths, sub.labels, masks=masks)
        if not np.isfinite(loss):
            raise TrainingDivergedError(
                f"LSTM loss became non-finite at step {step}; lower the learning rate",
                step=step, partial=TrainResult(params, params0, losses[:step]))
        losses[step] = loss
        params, state = opt.step(params, grads, state)
        if eval_data is not None and eval_every and ((step + 1) % eval_every == 0 or step + 1 == steps):
            ev_step.append(step + 1)
            ev_acc.append(accuracy(params, emb, eval_data))
    return TrainResult(params, params0, losses, np.asarray(ev_step, int), np.asarray(ev_acc))
