"""Padded token sequences for the LSTM: :class:`Sequences`, length checks and the frozen
word-embedding lookup :func:`embed`.

Part of :mod:`rnn_theory.numerics.lstm.model` (which re-exports every name).  All checks
cost :math:`O(MT)` for M sequences of padded length T.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError

__all__ = ["Sequences", "check_lengths", "embed"]


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
