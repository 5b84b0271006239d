r"""Losses on network outputs ``z`` (B, T, n_out), each returning ``(L, dL/dz)``.

* :func:`masked_mse` — Schuessler et al. (2020):
  :math:`L = \tfrac12 \sum m\,(y-z)^2 / \sum m` (half the masked mean over trials,
  time *and* channels).
* :func:`mse` — the same without the ½ (Farrell et al. 2022: mean over batch × classes
  when the mask selects one time step).
* :func:`cross_entropy` — softmax cross-entropy over the last axis, averaged over the
  masked (trial, time) entries.

The mask may have the target's shape or be broadcastable to it along the channel axis
(``(B, T)`` or ``(B, T, 1)``); for the MSE losses the denominator counts the
broadcast entries (so channels count), for cross-entropy it counts (trial, time) pairs.
A mask with no non-zero entry is an error.  Cost :math:`O(BTn_{\rm out})`.

>>> import numpy as np
>>> z = np.zeros((1, 2, 1)); y = np.ones((1, 2, 1)); m = np.array([[[1.0], [0.0]]])
>>> L, dz = masked_mse(z, y, m)
>>> float(L), dz.ravel().tolist()
(0.5, [-1.0, 0.0])
"""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError, check_finite

__all__ = ["masked_mse", "mse", "cross_entropy", "get_loss", "LOSSES"]


def _prep(z, target, mask, *, channel_mask: bool):
    z = np.asarray(z)
    if z.ndim != 3:
        raise ShapeError(f"z must be a (batch, time, n_out) array, got shape {z.shape}")
    dtype = z.dtype if z.dtype in (np.float32, np.float64) else np.float64
    z = np.asarray(z, dtype=dtype)
    y = np.asarray(target, dtype=dtype)
    if y.shape != z.shape:
        raise ShapeError(f"target has shape {y.shape} but the network output z has {z.shape}; "
                         "the task's n_out must match the network's n_out and the trial lengths must agree")
    m = np.asarray(mask, dtype=dtype)
    if m.ndim == 2:
        m = m[:, :, None]
    if not channel_mask and m.shape == z.shape and m.shape[2] > 1 and np.all(m == m[:, :, :1]):
        m = m[:, :, :1]  # a per-channel mask that is the same on every channel (e.g. Trials.mask)
    ok = m.ndim == 3 and m.shape[:2] == z.shape[:2] and m.shape[2] in ((1, z.shape[2]) if channel_mask else (1,))
    if not ok:
        want = "(B, T, n_out), (B, T, 1) or (B, T)" if channel_mask else "(B, T) or (B, T, 1)"
        raise ShapeError(f"mask has shape {np.shape(mask)}; expected {want} with (B, T) = {z.shape[:2]}")
    check_finite("target", y)
    check_finite("mask", m)
    if np.any(m < 0):
        raise DomainError("mask entries must be >= 0")
    return z, y, m


def _mse(z, target, mask, factor):
    z, y, m = _prep(z, target, mask, channel_mask=True)
    mb = np.broadcast_to(m, z.shape)
    denom = mb.sum()
    if denom <= 0:
        raise DomainError("mask selects no entries (its sum is 0); the loss is undefined")
    diff = z - y
    md = mb * diff
    L = factor * float(np.sum(md * diff)) / float(denom)
    dz = (2.0 * factor / denom) * md
    return L, dz.astype(z.dtype, copy=False)


def masked_mse(z, target, mask):
    r"""Half masked mean squared error and its gradient.

    .. math::
        L = \frac{1}{2}\frac{\sum_{b,t,k} m_{btk}(y_{btk} - z_{btk})^2}{\sum_{b,t,k} m_{btk}},
        \qquad \frac{\partial L}{\partial z} = \frac{m\,(z - y)}{\sum m}.

    Returns
    -------
    L : float
    dz : array like ``z``
    """
    return _mse(z, target, mask, 0.5)


def mse(z, target, mask):
    r"""Masked mean squared error without the ½: :math:`L=\sum m (y-z)^2/\sum m`.

    >>> import numpy as np
    >>> L, dz = mse(np.zeros((2, 1, 3)), np.ones((2, 1, 3)), np.ones((2, 1)))
    >>> float(L), float(dz.sum())
    (1.0, -2.0)
    """
    return _mse(z, target, mask, 1.0)


def cross_entropy(z, target, mask):
    r"""Softmax cross-entropy over the last axis, averaged over masked (trial, time) entries.

    .. math::
        L = -\frac{\sum_{b,t} m_{bt} \sum_k y_{btk}\log\operatorname{softmax}(z_{bt})_k}
                  {\sum_{b,t} m_{bt}},\qquad
        \frac{\partial L}{\partial z_{btk}} = \frac{m_{bt}\,(p_{btk}\sum_j y_{btj} - y_{btk})}{\sum m},

    with ``target`` one-hot or class probabilities (B, T, C) and ``mask`` (B, T),
    (B, T, 1), or (B, T, C) if identical on every channel (as in :class:`rnn_theory.numerics.rate.tasks.Trials`).  Computed with the log-sum-exp shift, so large logits do not overflow.

    >>> import numpy as np
    >>> L, dz = cross_entropy(np.zeros((1, 1, 4)), np.eye(4)[None, :1], np.ones((1, 1)))
    >>> round(L, 12) == round(float(np.log(4)), 12), dz.ravel().tolist()
    (True, [-0.75, 0.25, 0.25, 0.25])
    """
    z, y, m = _prep(z, target, mask, channel_mask=False)
    if np.any(y < 0):
        raise DomainError("cross-entropy targets must be one-hot or probabilities (>= 0)")
    denom = m.sum()
    if denom <= 0:
        raise DomainError("mask selects no entries (its sum is 0); the loss is undefined")
    zs = z - z.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(zs).sum(axis=-1, keepdims=True))
    logp = zs - lse
    ysum = y.sum(axis=-1, keepdims=True)
    L = -float(np.sum(m * y * logp)) / float(denom)
    dz = (m / denom) * (np.exp(logp) * ysum - y)
    return L, dz.astype(z.dtype, copy=False)


LOSSES = {"mse_half": masked_mse, "masked_mse": masked_mse, "mse": mse, "cross_entropy": cross_entropy,
          "ce": cross_entropy}


def get_loss(name):
    """Loss function by name (``masked_mse``, ``mse``, ``cross_entropy``) or a callable."""
    if callable(name):
        return name
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise DomainError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
