r"""Vocabulary, encoding and frozen word vectors of the sentiment task: :class:`Vocabulary`
(``<pad>`` = 0, ``<unk>`` = 1), :func:`encode` to padded
:class:`~rnn_theory.numerics.lstm.sequences.Sequences`, :func:`random_embedding` and the
:class:`SentimentTask` bundle.

Part of :mod:`rnn_theory.numerics.lstm.sentiment` (which re-exports every name).  Encoding
costs :math:`O(\text{total words})`, the embedding :math:`O(Vd)`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_theory.theory.errors import DomainError

from rnn_theory.numerics.lstm.sequences import Sequences

__all__ = ["PAD", "UNK", "Vocabulary", "encode", "random_embedding", "SentimentTask"]

PAD, UNK = "<pad>", "<unk>"


@dataclass(frozen=True)
class Vocabulary:
    """Word list with ``<pad>`` at id 0 and ``<unk>`` at id 1."""

    words: tuple

    def __post_init__(self):
        words = tuple(self.words)
        if words[:2] != (PAD, UNK):
            words = (PAD, UNK) + tuple(w for w in words if w not in (PAD, UNK))
        if len(set(words)) != len(words):
            raise DomainError("vocabulary words must be unique")
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(words)})

    def __len__(self) -> int:
        return len(self.words)

    def id(self, word: str) -> int:
        return self._index.get(word, 1)

    @classmethod
    def from_sentences(cls, sentences, min_count: int = 1) -> "Vocabulary":
        """Words seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
        counts: dict = {}
        for s in sentences:
            for w in s:
                counts[w] = counts.get(w, 0) + 1
        keep = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(tuple(keep))


def encode(sentences, labels, vocab: Vocabulary, *, max_len: int | None = None) -> Sequences:
    """Padded token ids (unknown words -> ``<unk>``) as :class:`rnn_theory.numerics.lstm.model.Sequences`.

    ``max_len`` truncates longer sentences (keeping their first ``max_len`` words).
    Empty sentences raise :class:`DomainError` (the LSTM needs at least one token).
    """
    sentences = [list(s) for s in sentences]
    if not sentences:
        raise DomainError("no sentences to encode")
    empty = [k for k, s in enumerate(sentences) if len(s) == 0]
    if empty:
        raise DomainError(f"{len(empty)} empty sentence(s), first at index {empty[0]}; drop them")
    lengths = np.array([len(s) for s in sentences])
    if max_len is not None:
        lengths = np.minimum(lengths, max_len)
    T = int(lengths.max())
    tokens = np.zeros((len(sentences), T), dtype=np.int64)
    for k, s in enumerate(sentences):
        tokens[k, :lengths[k]] = [vocab.id(w) for w in s[:lengths[k]]]
    return Sequences(tokens, lengths, np.asarray(labels, dtype=float))


def random_embedding(vocab_size: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    r"""Fixed word vectors :math:`\mathcal N(0, 1/d)`, zero for ``<pad>`` (0) and ``<unk>`` (1)."""
    if vocab_size < 2 or dim < 1:
        raise DomainError(f"need vocab_size >= 2 and dim >= 1, got {vocab_size}, {dim}")
    E = rng.normal(0.0, 1.0 / np.sqrt(dim), size=(vocab_size, dim))
    E[:2] = 0.0
    return E


@dataclass(frozen=True)
class SentimentTask:
    """Train / held-out sequences with their frozen embedding and vocabulary.

    ``valid`` may be ``None`` (the synthetic task has train and test only).
    """

    train: Sequences
    test: Sequences
    embedding: np.ndarray
    vocab: Vocabulary
    valid: Sequences | None = None
