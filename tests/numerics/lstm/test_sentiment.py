"""Synthetic sentiment grammar, bag-of-words baseline, SST/GloVe loaders."""
from collections import Counter

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.errors import DomainError, RNNTheoryError, ShapeError
from rnn_theory.numerics.lstm.model import Sequences
from rnn_theory.numerics.lstm.sentiment import (
    SentimentGrammar,
    Vocabulary,
    bag_of_words,
    encode,
    fit_bow,
    generate_sentences,
    glove_embedding,
    load_glove,
    load_sst,
    load_sst_splits,
    random_embedding,
    sentence_score,
    sst_task,
    synthetic_sentiment,
)

G = SentimentGrammar()


# ----------------------------------------------------------------------------- grammar


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1))
@example(seed=0)
def test_generator_labels_agree_with_the_parser(seed):
    # the generator composes phrase values while drawing; sentence_score parses the words
    sentences, labels = generate_sentences(G, 300, np.random.default_rng(seed))
    scores = np.array([sentence_score(s, G) for s in sentences])
    assert np.all(scores != 0)
    np.testing.assert_array_equal(labels, (scores > 0).astype(float))


def test_semantics_examples():
    assert sentence_score("good".split(), G) == 1
    assert sentence_score("not good".split(), G) == -1
    assert sentence_score("very bad".split(), G) == -2
    assert sentence_score("not very bad".split(), G) == 2
    assert sentence_score("good good bad".split(), G) == 1
    assert sentence_score("great but the plot is boring".split(), G) == -1
    # order matters: the same multiset of words, opposite labels
    a, b = "not good bad".split(), "good not bad".split()
    assert sorted(a) == sorted(b)
    assert sentence_score(a, G) < 0 < sentence_score(b, G)
    a, b = "good but bad".split(), "bad but good".split()
    assert sentence_score(a, G) < 0 < sentence_score(b, G)
    with pytest.raises(DomainError, match="not in the grammar"):
        sentence_score(["zebra"], G)


def test_synthetic_task_is_reproducible_balanced_and_varied():
    t1 = synthetic_sentiment(np.random.default_rng(3), n_train=500, n_test=200, dim=8)
    t2 = synthetic_sentiment(np.random.default_rng(3), n_train=500, n_test=200, dim=8)
    t3 = synthetic_sentiment(np.random.default_rng(4), n_train=500, n_test=200, dim=8)
    np.testing.assert_array_equal(t1.train.tokens, t2.train.tokens)
    np.testing.assert_array_equal(t1.embedding, t2.embedding)
    assert not np.array_equal(t1.train.labels, t3.train.labels)
    # labels roughly balanced (binomial sd for n = 500 is 0.022)
    assert abs(t1.train.labels.mean() - 0.5) < 0.1
    lengths = t1.train.lengths
    assert lengths.min() >= 1 and lengths.max() > 2 * lengths.min()
    # pad and unk have zero vectors; word vectors have norm about 1
    assert np.all(t1.embedding[:2] == 0)
    norms = np.linalg.norm(t1.embedding[2:], axis=1)
    assert 0.4 < norms.mean() < 1.6
    # no padding token inside a sentence; all padding after its end
    T = t1.train.tokens.shape[1]
    inside = np.arange(T)[None] < lengths[:, None]
    assert np.all(t1.train.tokens[inside] >= 2) and np.all(t1.train.tokens[~inside] == 0)


def test_grammar_validation():
    with pytest.raises(DomainError, match="disjoint"):
        SentimentGrammar(neutral=("good", "the"))
    with pytest.raises(DomainError, match="probability"):
        SentimentGrammar(p_but=1.5)
    with pytest.raises(DomainError, match="whitespace"):
        SentimentGrammar(positive=("very good",))
    with pytest.raises(DomainError):
        generate_sentences(G, -1, np.random.default_rng(0))


# ----------------------------------------------------------------------------- bag of words


def test_bag_of_words_counts_match_counter():
    vocab = Vocabulary(tuple(G.words))
    sentences = [["good", "not", "good"], ["bad"], ["the", "film", "the", "the"]]
    data = encode(sentences, [1, 0, 1], vocab)
    X = bag_of_words(data, len(vocab))
    for k, s in enumerate(sentences):
        want = np.zeros(len(vocab))
        for w, c in Counter(s).items():
            want[vocab.id(w)] = c
        np.testing.assert_array_equal(X[k], want)


def test_bow_solves_the_order_free_grammar_but_not_the_full_one():
    rng = np.random.default_rng(0)
    # without negation, intensifiers and 'but', the label is linear in the counts
    linear = SentimentGrammar(p_negation=0.0, p_intensifier=0.0, p_but=0.0)
    task = synthetic_sentiment(rng, n_train=1500, n_test=500, dim=4, grammar=linear)
    bow = fit_bow(task.train, len(task.vocab))
    assert bow.accuracy(task.test) > 0.97
    # the full grammar needs memory: the baseline stays far from perfect
    task = synthetic_sentiment(rng, n_train=3000, n_test=1000, dim=4)
    bow = fit_bow(task.train, len(task.vocab))
    acc = bow.accuracy(task.test)
    assert 0.5 < acc < 0.75, acc


def test_bow_gradient_matches_finite_differences():
    # the objective minimised by fit_bow, recomputed here, is stationary at the solution
    rng = np.random.default_rng(1)
    task = synthetic_sentiment(rng, n_train=300, n_test=10, dim=4)
    l2 = 1e-2
    bow = fit_bow(task.train, len(task.vocab), l2=l2)
    X, y = bag_of_words(task.train, len(task.vocab)), task.train.labels

    def f(w, b):
        s = X @ w + b
        return np.mean(np.logaddexp(0, s) - s * y) + 0.5 * l2 * w @ w

    eps = 1e-6
    g = [(f(bow.w + eps * e, bow.b) - f(bow.w - eps * e, bow.b)) / (2 * eps) for e in np.eye(bow.w.size)]
    assert np.max(np.abs(g)) < 1e-4


# ----------------------------------------------------------------------------- encoding


def test_encode_unknown_and_empty():
    vocab = Vocabulary(("good", "bad"))
    assert vocab.words[:2] == ("<pad>", "<unk>")
    data = encode([["good", "zzz"], ["bad"]], [1, 0], vocab)
    np.testing.assert_array_equal(data.tokens, [[2, 1], [3, 0]])
    np.testing.assert_array_equal(data.lengths, [2, 1])
    with pytest.raises(DomainError, match="empty sentence"):
        encode([["good"], []], [1, 0], vocab)
    with pytest.raises(DomainError, match="no sentences"):
        encode([], [], vocab)
    assert encode([["good", "bad", "good"]], [1], vocab, max_len=2).tokens.shape == (1, 2)
    with pytest.raises(DomainError):
        random_embedding(1, 4, np.random.default_rng(0))


# ----------------------------------------------------------------------------- SST / GloVe

TREES = """(3 (2 It) (4 (3 (2 's) (3 good)) (2 .)))
(1 (2 A) (1 (1 dull) (2 film)))
(2 (2 Just) (2 a) (2 movie))
(4 (4 Superb) (2 fun))
(0 (0 Awful))
"""


def test_load_sst_trees_drops_neutral_and_binarises(tmp_path):
    p = tmp_path / "train.txt"
    p.write_text(TREES)
    sentences, labels = load_sst(p)
    assert sentences == [["it", "'s", "good", "."], ["a", "dull", "film"], ["superb", "fun"], ["awful"]]
    np.testing.assert_array_equal(labels, [1, 0, 1, 0])
    s, _ = load_sst(p, lowercase=False)
    assert s[0][0] == "It"


def test_load_sst_tsv(tmp_path):
    p = tmp_path / "dev.tsv"
    p.write_text("sentence\tlabel\ngood fun\t1\nso dull\t0\n")
    s, y = load_sst(p)
    assert s == [["good", "fun"], ["so", "dull"]] and list(y) == [1, 0]
    p.write_text("good fun\t4\nmeh\t2\nbad\t1\n")  # five-class TSV
    s, y = load_sst(p)
    assert s == [["good", "fun"], ["bad"]] and list(y) == [1, 0]
    p.write_text("sentence\tlabel\ngood fun\tX\n")
    with pytest.raises(DomainError, match="sentence<TAB>label"):
        load_sst(p)


def test_loaders_missing_and_malformed_files(tmp_path):
    with pytest.raises(RNNTheoryError, match="never downloads"):
        load_sst(tmp_path / "nope.txt")
    with pytest.raises(RNNTheoryError, match="never downloads"):
        load_glove(tmp_path / "glove.txt")
    with pytest.raises(RNNTheoryError, match="does not exist"):
        load_sst_splits(tmp_path / "missing_dir")
    bad = tmp_path / "bad.txt"
    bad.write_text("(3 (2 unbalanced)\n")
    with pytest.raises(DomainError, match="tree"):
        load_sst(bad)
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(DomainError, match="empty"):
        load_sst(tmp_path / "empty.txt")
    g = tmp_path / "g.txt"
    g.write_text("good 0.1 0.2 0.3\nbad 0.1 0.2\n")
    with pytest.raises(ShapeError, match="expected 3"):
        load_glove(g)
    with pytest.raises(ShapeError, match="expected 4"):
        load_glove(g, dim=4)


def test_glove_and_sst_task_end_to_end(tmp_path):
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.txt").write_text(TREES)
    glove = tmp_path / "glove.txt"
    glove.write_text("good 1 2 3\nfun -1 0 1\nunused 9 9 9\n")
    vec = load_glove(glove, words=["good", "fun", "zzz"])
    assert set(vec) == {"good", "fun"}
    np.testing.assert_array_equal(vec["good"], [1, 2, 3])
    task = sst_task(tmp_path, glove, np.random.default_rng(0), dim=3)
    assert len(task.train) == 4 and len(task.valid) == 4 and len(task.test) == 4
    E, vocab = task.embedding, task.vocab
    np.testing.assert_array_equal(E[vocab.id("good")], [1, 2, 3])
    assert np.all(E[:2] == 0)
    assert np.linalg.norm(E[vocab.id("dull")]) > 0  # unknown to GloVe: random, frozen
    with pytest.raises(ShapeError):
        glove_embedding(vocab, {"good": np.ones(2)}, 3, np.random.default_rng(0))


def test_sequences_validation():
    with pytest.raises(DomainError, match="empty or all padding"):
        Sequences(np.zeros((2, 3), int), [3, 0], [0, 1])
    with pytest.raises(DomainError, match="0 or 1"):
        Sequences(np.zeros((1, 3), int), [3], [0.5])
    with pytest.raises(ShapeError):
        Sequences(np.zeros((2, 3)), [3, 3], [0, 1])
