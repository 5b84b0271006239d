r"""Stanford Sentiment Treebank and GloVe file loaders (:func:`load_sst`,
:func:`load_sst_splits`, :func:`load_glove`, :func:`glove_embedding`) and the paper's SST
setting :func:`sst_task`.  Nothing is ever downloaded: pass the paths of files you have.

Part of :mod:`rnn_theory.numerics.lstm.sentiment` (which re-exports every name).  Reading
costs :math:`O(\text{file size})`.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError

from rnn_theory.numerics.lstm.vocab import SentimentTask, Vocabulary, encode

__all__ = ["load_sst", "load_sst_splits", "load_glove", "glove_embedding", "sst_task"]


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
    """Word vectors from a GloVe text file (``word v1 … vd`` per line) as ``{word: vector}``.

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
