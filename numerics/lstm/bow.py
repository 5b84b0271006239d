r"""Bag-of-words baseline for the sentiment task: word counts (:func:`bag_of_words`) and an
L2-regularised logistic regression on them (:func:`fit_bow`, :class:`BowClassifier`).

It throws word order away, so it cannot solve the synthetic grammar (negation, ``but``);
part of :mod:`rnn_theory.numerics.lstm.sentiment` (which re-exports every name).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_theory.theory.errors import RNNTheoryError

from rnn_theory.numerics.lstm.sequences import Sequences

__all__ = ["bag_of_words", "BowClassifier", "fit_bow"]


def bag_of_words(data: Sequences, vocab_size: int) -> np.ndarray:
    """Word-count matrix ``(M, vocab_size)`` (padding ignored); order is thrown away."""
    M, T = data.tokens.shape
    valid = np.arange(T)[None, :] < data.lengths[:, None]
    rows = np.repeat(np.arange(M), T).reshape(M, T)[valid]
    X = np.zeros((M, vocab_size))
    np.add.at(X, (rows, data.tokens[valid]), 1.0)
    return X


@dataclass(frozen=True)
class BowClassifier:
    """Logistic regression on word counts: ``p(y=1) = sigmoid(w @ counts + b)``."""

    w: np.ndarray
    b: float

    def logits(self, data: Sequences) -> np.ndarray:
        return bag_of_words(data, self.w.size) @ self.w + self.b

    def accuracy(self, data: Sequences) -> float:
        return float(np.mean((self.logits(data) > 0) == (data.labels > 0.5)))


def fit_bow(data: Sequences, vocab_size: int, *, l2: float = 1e-3) -> BowClassifier:
    r"""Fit the bag-of-words baseline: L2-regularised logistic regression on word counts.

    Minimises :math:`\frac1M \sum_m [\log(1+e^{s_m}) - y_m s_m] + \frac{\lambda}{2}\|w\|^2`
    (convex).  This is :func:`rnn_theory.numerics.representations.logistic.fit_logistic`'s objective divided by
    :math:`CM` with :math:`C = 1/(\lambda M)`, so the same minimiser; solved by its damped
    Newton method.  Cost O(iterations x M x V^2) for a vocabulary of V words.
    """
    from rnn_theory.numerics.representations.logistic import fit_logistic

    X = bag_of_words(data, vocab_size)
    fit = fit_logistic(X, data.labels, C=1.0 / (l2 * X.shape[0]))
    if not fit.converged:
        raise RNNTheoryError("the bag-of-words logistic regression did not converge in 100 Newton steps; "
                             "increase l2")
    return BowClassifier(fit.coef, float(fit.intercept))
