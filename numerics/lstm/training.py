r"""Evaluation (:func:`predict_logits`, :func:`accuracy`) and mini-batch training
(:func:`train_lstm`) of the LSTM sentence classifier.

Part of :mod:`rnn_theory.numerics.lstm.model` (which re-exports every name).  Cost per
training step: one :func:`~rnn_theory.numerics.lstm.layers.loss_and_grads` call, about
three forward passes, :math:`O(L\,T\,B\,N(N + n_\text{in}))`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError, TrainingDivergedError, check_positive

from rnn_theory.numerics.lstm.layers import forward, loss_and_grads
from rnn_theory.numerics.lstm.parameters import dropout_masks, n_layers
from rnn_theory.numerics.lstm.sequences import Sequences, embed

__all__ = ["predict_logits", "accuracy", "TrainResult", "train_lstm"]


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
    ``SGD(lr, momentum=0.9)``, whose own ``lr`` is then used).  Raises
    :class:`~rnn_theory.theory.errors.TrainingDivergedError` (``.partial``: the last good
    parameters and the losses before them) when the loss or a gradient is NaN/inf or
    the loss exceeds 1000 x the step-0 loss (:func:`rnn_theory.numerics.infra.optim.divergence_reason`).
    Cost per step: see the module docstring.
    """
    from rnn_theory.numerics.infra.optim import divergence_reason, make_optimizer
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
    prev = params
    for step in progress(range(steps), total=steps, desc="lstm", enabled=show_progress):
        if pos + batch_size > len(train):
            perm, pos = rng.permutation(len(train)), 0
        sub = train.subset(perm[pos:pos + batch_size])
        pos += batch_size
        x = emb[sub.tokens]
        masks = None
        if dropout > 0:
            masks = dropout_masks(rng, batch_size, x.shape[1], N, L, dropout, dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are detected below
            loss, grads, _ = loss_and_grads(params, x, sub.lengths, sub.labels, masks=masks)
        reason = divergence_reason(loss, loss if step == 0 else losses[0])
        if reason is None and not all(np.all(np.isfinite(g)) for g in grads.values()):
            reason = "a gradient is NaN or infinite"
        if reason is not None:  # params: the last good state (before the update that led here)
            raise TrainingDivergedError(
                f"LSTM training diverged at step {step}: {reason}; lower the learning rate",
                step=step, partial=TrainResult(prev, params0, losses[:max(step - 1, 0)]))
        losses[step] = loss
        prev = params
        params, state = opt.step(params, grads, state)
        if eval_data is not None and eval_every and ((step + 1) % eval_every == 0 or step + 1 == steps):
            ev_step.append(step + 1)
            ev_acc.append(accuracy(params, emb, eval_data))
    return TrainResult(params, params0, losses, np.asarray(ev_step, int), np.asarray(ev_acc))
