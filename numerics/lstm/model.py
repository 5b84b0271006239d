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

# The model is split by stage; this module keeps the historical import path working by
# re-exporting every name.
from rnn_theory.numerics.lstm.sequences import Sequences, check_lengths, embed  # noqa: F401
from rnn_theory.numerics.lstm.parameters import GATES, dropout_masks, init_lstm, n_layers  # noqa: F401
from rnn_theory.numerics.lstm.layers import (  # noqa: F401
    _layer_backward,
    _layer_forward,
    _prepare,
    _run,
    bce_with_logits,
    forward,
    loss_and_grads,
)
from rnn_theory.numerics.lstm.training import TrainResult, accuracy, predict_logits, train_lstm  # noqa: F401

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
