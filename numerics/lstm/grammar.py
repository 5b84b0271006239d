r"""The synthetic sentiment grammar (offline corpus): :class:`SentimentGrammar`, its
semantics :func:`sentence_score`, the sampler :func:`generate_sentences` and the complete
task :func:`synthetic_sentiment`.

The grammar and its semantics are described in :mod:`rnn_theory.numerics.lstm.sentiment`
(which re-exports every name).  Sampling and scoring cost :math:`O(\text{words})`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rnn_theory.theory.errors import DomainError

from rnn_theory.numerics.lstm.vocab import PAD, UNK, SentimentTask, Vocabulary, encode, random_embedding

__all__ = ["SentimentGrammar", "sentence_score", "generate_sentences", "synthetic_sentiment"]


@dataclass(frozen=True)
class SentimentGrammar:
    """Word lists and probabilities of the synthetic sentiment grammar (see module docstring)."""

    positive: tuple = ("good", "great", "fine", "nice", "fun", "excellent", "superb", "lovely",
                       "brilliant", "charming")
    negative: tuple = ("bad", "awful", "boring", "dull", "poor", "terrible", "weak", "messy",
                       "bland", "tedious")
    neutral: tuple = ("the", "a", "movie", "film", "plot", "acting", "was", "is", "this", "it",
                      "story", "cast", "and", "of", "script", "ending")
    negations: tuple = ("not", "never", "no")
    intensifiers: tuple = ("very", "really", "extremely", "so")
    contrast: str = "but"
    p_negation: float = 0.35
    p_intensifier: float = 0.3
    p_but: float = 0.4
    max_phrases: int = 2
    max_filler: int = 2

    def __post_init__(self):
        groups = [self.positive, self.negative, self.neutral, self.negations, self.intensifiers,
                  (self.contrast,)]
        words = [w for grp in groups for w in grp]
        if any(not isinstance(w, str) or not w or w.split() != [w] for w in words):
            raise DomainError("grammar words must be non-empty strings without whitespace")
        if len(set(words)) != len(words) or {PAD, UNK} & set(words):
            raise DomainError("grammar word lists must be disjoint and must not contain <pad>/<unk>")
        if not (self.positive and self.negative and self.neutral):
            raise DomainError("the grammar needs positive, negative and neutral words")
        for name in ("p_negation", "p_intensifier", "p_but"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise DomainError(f"{name} must be a probability in [0, 1], got {v!r}")
        if self.p_negation > 0 and not self.negations:
            raise DomainError("p_negation > 0 needs negation words")
        if self.p_intensifier > 0 and not self.intensifiers:
            raise DomainError("p_intensifier > 0 needs intensifier words")
        if self.max_phrases < 1 or self.max_filler < 0:
            raise DomainError("max_phrases must be >= 1 and max_filler >= 0")

    @property
    def words(self) -> list:
        """All grammar words, in a fixed order (the vocabulary after <pad>, <unk>)."""
        return [*self.positive, *self.negative, *self.neutral, *self.negations,
                *self.intensifiers, self.contrast]


def sentence_score(words: Sequence[str], grammar: SentimentGrammar) -> int:
    """Score of a sentence under the grammar's semantics (label = score > 0).

    Parses left to right: a negation or intensifier modifies the next sentiment word; the
    contrast word starts a new clause and the last clause's sum of phrase values counts.
    Raises :class:`DomainError` for words outside the grammar.
    """
    pos, neg = set(grammar.positive), set(grammar.negative)
    negs, ints, neutral = set(grammar.negations), set(grammar.intensifiers), set(grammar.neutral)
    score, flip, mult = 0, 1, 1
    for w in words:
        if w == grammar.contrast:
            score, flip, mult = 0, 1, 1
        elif w in negs:
            flip = -1
        elif w in ints:
            mult = 2
        elif w in pos or w in neg:
            score += (1 if w in pos else -1) * mult * flip
            flip, mult = 1, 1
        elif w not in neutral:
            raise DomainError(f"word {w!r} is not in the grammar's vocabulary")
    return score


def _clause(grammar: SentimentGrammar, rng: np.random.Generator) -> tuple[list, int]:
    while True:
        words, total = [], 0

        def filler():
            k = int(rng.integers(0, grammar.max_filler + 1))
            words.extend(grammar.neutral[j] for j in rng.integers(0, len(grammar.neutral), k))

        filler()
        for _ in range(int(rng.integers(1, grammar.max_phrases + 1))):
            v = 1
            if rng.random() < grammar.p_negation:
                words.append(grammar.negations[int(rng.integers(len(grammar.negations)))])
                v = -v
            if rng.random() < grammar.p_intensifier:
                words.append(grammar.intensifiers[int(rng.integers(len(grammar.intensifiers)))])
                v *= 2
            if rng.random() < 0.5:
                words.append(grammar.positive[int(rng.integers(len(grammar.positive)))])
            else:
                words.append(grammar.negative[int(rng.integers(len(grammar.negative)))])
                v = -v
            total += v
            filler()
        if total != 0:
            return words, total


def generate_sentences(grammar: SentimentGrammar, n: int, rng: np.random.Generator) -> tuple[list, np.ndarray]:
    """Draw ``n`` sentences (lists of words) and their labels (0/1) from the grammar.

    The generator composes each phrase's value while drawing it; the labels it returns
    agree with :func:`sentence_score` applied to the words (tested).  Cost O(n * length).
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise DomainError(f"n must be a non-negative integer, got {n!r}")
    sentences, labels = [], np.empty(n)
    for k in range(n):
        words, score = _clause(grammar, rng)
        if rng.random() < grammar.p_but:
            second, score = _clause(grammar, rng)
            words = words + [grammar.contrast] + second
        sentences.append(words)
        labels[k] = float(score > 0)
    return sentences, labels



def synthetic_sentiment(rng: np.random.Generator, *, n_train: int = 4000, n_test: int = 1000, dim: int = 32,
                        grammar: SentimentGrammar = SentimentGrammar()) -> SentimentTask:
    """Synthetic sentiment task: sentences, labels, random embedding; reproducible from ``rng``."""
    vocab = Vocabulary(tuple(grammar.words))
    s_tr, y_tr = generate_sentences(grammar, n_train, rng)
    s_te, y_te = generate_sentences(grammar, n_test, rng)
    E = random_embedding(len(vocab), dim, rng)
    return SentimentTask(encode(s_tr, y_tr, vocab), encode(s_te, y_te, vocab), E, vocab)
