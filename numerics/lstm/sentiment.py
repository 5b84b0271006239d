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

# The module is split by stage; it keeps the historical import path working by
# re-exporting every name.
from rnn_theory.numerics.lstm.sequences import Sequences  # noqa: F401
from rnn_theory.numerics.lstm.vocab import (  # noqa: F401
    PAD,
    UNK,
    SentimentTask,
    Vocabulary,
    encode,
    random_embedding,
)
from rnn_theory.numerics.lstm.grammar import (  # noqa: F401
    SentimentGrammar,
    _clause,
    generate_sentences,
    sentence_score,
    synthetic_sentiment,
)
from rnn_theory.numerics.lstm.bow import BowClassifier, bag_of_words, fit_bow  # noqa: F401
from rnn_theory.numerics.lstm.sst import (  # noqa: F401
    _LEAF,
    _need_file,
    _parse_tree,
    glove_embedding,
    load_glove,
    load_sst,
    load_sst_splits,
    sst_task,
)

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
