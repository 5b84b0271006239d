r"""Sentiment data for the LSTM experiment: a synthetic grammar (offline) and SST/GloVe loaders.

Synthetic grammar
-----------------
A sentence is one clause, or (with probability ``p_but``) two clauses joined by ``but``::

    sentence := clause | clause "but" clause
    clause   := filler (phrase filler){1..max_phrases}
    phrase   := ["not" | "never" | "no"]? ["very" | "really" | ...]? sentiment-word
    filler   := 0..max_filler neutral words ("the", "movie", "plot", ...)

Semantics (:func:`sentence_score`, which parses the words and is independent of the
generator): a sentiment word has valence :math:`v = \pm 1`; an intensifier doubles it, a
negation flips its sign, so a phrase is worth :math:`v \cdot 2^{[\text{int}]} \cdot
(-1)^{[\text{neg}]}`.  A clause's score is the sum of its phrases; the sentence's score is
the score of its **last** clause ("good acting but a boring plot" is negative), and the
label is ``score > 0``.  Clauses with score 0 are redrawn, so labels are never ambiguous.
Negation makes the label a non-linear (XOR-like) function of the word counts and ``but``
makes it depend on order, so a bag-of-words classifier (:func:`fit_bow`) cannot solve the
task while a recurrent network with memory can.

Token ids: 0 is padding ``<pad>``, 1 is ``<unk>``; both have zero word vectors.  Word
vectors (:func:`random_embedding`) are fixed :math:`\mathcal N(0, 1/d)` draws from a seeded
``rng`` and are not trained.

Real data
---------
:func:`load_sst` reads the Stanford Sentiment Treebank (PTB-tree files ``train.txt``,
``dev.txt``, ``test.txt`` of ``trainDevTestTrees_PTB``, or ``sentence<TAB>label`` TSV files)
and keeps the binary split (root labels 0-1 negative, 3-4 positive, neutral 2 dropped:
6920 / 872 / 1821 sentences); :func:`load_glove` reads GloVe text vectors.  Nothing is
ever downloaded: pass the paths of files you already have.

>>> import numpy as np
>>> g = SentimentGrammar()
>>> sentence_score("the acting was not very good".split(), g)
-2
>>> sentence_score("not good but great".split(), g)
1
>>> task = synthetic_sentiment(np.random.default_rng(0), n_train=50, n_test=20, dim=8)
>>> len(task.train), len(task.test), task.embedding.shape[1]
(50, 20, 8)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError

from rnn_theory.numerics.lstm.model import Sequences

__all__ = [
    "PAD",
    "UNK",
    "SentimentGrammar",
    "sentence_score",
    "generate_sentences",
    "Vocabulary",
    "encode",
    "random_embedding",
    "SentimentTask",
    "synthetic_sentiment",
    "bag_of_words",
    "BowClassifier",
    "fit_bow",
    "load_sst",
    "load_sst_splits",
    "load_glove",
    "glove_embedding",
    "sst_task",
]

PAD, UNK = "<pad>", "<unk>"


# --------------------------------------------------------------------------- grammar


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


# --------------------------------------------------------------------------- vocabulary / encoding


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


def synthetic_sentiment(rng: np.random.Generator, *, n_train: int = 4000, n_test: int = 1000, dim: int = 32,
                        grammar: SentimentGrammar = SentimentGrammar()) -> SentimentTask:
    """Synthetic sentiment task: sentences, labels, random embedding; reproducible from ``rng``."""
    vocab = Vocabulary(tuple(grammar.words))
    s_tr, y_tr = generate_sentences(grammar, n_train, rng)
    s_te, y_te = generate_sentences(grammar, n_test, rng)
    E = random_embedding(len(vocab), dim, rng)
    return SentimentTask(encode(s_tr, y_tr, vocab), encode(s_te, y_te, vocab), E, vocab)


# --------------------------------------------------------------------------- bag-of-words baseline


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
    """Logistic regression on word counts: ``p(y=1) = sigmoid(w . counts + b)``."""

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


# --------------------------------------------------------------------------- SST and GloVe


def _need_file(path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise RNNTheoryError(
            f"{what} file {str(path)!r} does not exist; rnn-theory never downloads data - "
            f"download it yourself and pass its path")
    return path


_LEAF = re.compile(r"\(\d+ ([^()\s]+)\)")


def _parse_tree(line: str) -> tuple[list, int]:
    line = line.strip()
    m = re.match(r"\((\d)\s", line)
    if not m or line.count("(") != line.count(")"):
        raise DomainError(f"not a sentiment-treebank tree: {line[:60]!r}")
    return _LEAF.findall(line), int(m.group(1))


def load_sst(path, *, lowercase: bool = True) -> tuple[list, np.ndarray]:
    """Binary SST sentences from one file: ``(sentences as word lists, labels 0/1)``.

    Accepts PTB-tree lines (``(3 (2 It) (4 (2 's) ...))``, root label 0-4; neutral 2 is
    dropped, 0-1 -> 0, 3-4 -> 1) or TSV lines ``sentence<TAB>label`` (label 0/1, or 0-4
    mapped the same way; an optional header line is skipped).  Words are lower-cased by
    default (as GloVe's vocabulary).  Missing or malformed files raise a clear error.
    """
    path = _need_file(path, "SST")
    sentences, labels = [], []
    with open(path, encoding="utf-8") as fh:
        lines = [ln for ln in fh.read().splitlines() if ln.strip()]
    if not lines:
        raise DomainError(f"SST file {str(path)!r} is empty")
    tree = lines[0].lstrip().startswith("(")
    raw = []
    for n, line in enumerate(lines, 1):
        if tree:
            words, label = _parse_tree(line)
        else:
            parts = line.rsplit("\t", 1)
            if len(parts) != 2 or not parts[1].strip().isdigit():
                if n == 1:
                    continue  # header such as "sentence\tlabel"
                raise DomainError(f"{path}:{n}: expected 'sentence<TAB>label', got {line[:60]!r}")
            words, label = parts[0].split(), int(parts[1])
        if label > 4:
            raise DomainError(f"{path}:{n}: sentiment label {label} outside 0..4")
        raw.append((words, label))
    # five-class labels (trees always; TSV when any label exceeds 1): drop neutral, binarise
    fine = tree or any(label > 1 for _, label in raw)
    for words, label in raw:
        if fine:
            if label == 2:
                continue
            label = int(label >= 3)
        if not words:
            continue
        if lowercase:
            words = [w.lower() for w in words]
        sentences.append(words)
        labels.append(float(label))
    if not sentences:
        raise DomainError(f"SST file {str(path)!r} holds no non-neutral sentences")
    return sentences, np.asarray(labels)


def load_sst_splits(directory, *, lowercase: bool = True) -> dict:
    """``{"train", "dev", "test"} -> (sentences, labels)`` from ``train.txt``, ``dev.txt``, ``test.txt``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RNNTheoryError(f"SST folder {str(directory)!r} does not exist; unpack trainDevTestTrees_PTB "
                             f"there (rnn-theory never downloads data)")
    return {s: load_sst(directory / f"{s}.txt", lowercase=lowercase) for s in ("train", "dev", "test")}


def load_glove(path, *, words=None, dim: int | None = None) -> dict:
    """Word vectors from a GloVe text file (``word v1 ... vd`` per line) as ``{word: vector}``.

    ``words`` restricts the result to those words (saves memory for large files); ``dim``
    checks the vector size.  Lines of the wrong size raise :class:`ShapeError`.
    """
    path = _need_file(path, "GloVe")
    wanted = None if words is None else set(words)
    out = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if len(parts) < 2:
                continue
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise ShapeError(f"{path}:{n}: vector of size {len(parts) - 1}; expected {dim}")
            if wanted is None or parts[0] in wanted:
                try:
                    out[parts[0]] = np.array(parts[1:], dtype=float)
                except ValueError:
                    raise DomainError(f"{path}:{n}: non-numeric vector entries") from None
    if not out and wanted is None:
        raise DomainError(f"GloVe file {str(path)!r} holds no vectors")
    return out


def glove_embedding(vocab: Vocabulary, vectors: dict, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Frozen embedding: GloVe vectors where known, N(0, 1) draws for other words, zeros for pad/unk."""
    E = np.zeros((len(vocab), dim))
    for k, w in enumerate(vocab.words[2:], 2):
        v = vectors.get(w)
        if v is None:
            E[k] = rng.normal(size=dim)
        elif v.shape != (dim,):
            raise ShapeError(f"GloVe vector of {w!r} has size {v.shape[0]}; expected {dim}")
        else:
            E[k] = v
    return E


def sst_task(sst_dir, glove_path, rng: np.random.Generator, *, dim: int = 100) -> SentimentTask:
    """The paper's SST setting: binary SST splits and frozen ``dim``-d GloVe vectors."""
    splits = load_sst_splits(sst_dir)
    vocab = Vocabulary.from_sentences(splits["train"][0])
    vectors = load_glove(glove_path, words=vocab.words, dim=dim)
    E = glove_embedding(vocab, vectors, dim, rng)
    enc = {k: encode(*v, vocab) for k, v in splits.items()}
    return SentimentTask(enc["train"], enc["test"], E, vocab, valid=enc["dev"])
