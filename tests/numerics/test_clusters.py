"""Cluster-classification task (Farrell et al. 2022): geometry, sampling, bad input."""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from scipy.spatial.distance import pdist

from rnn_theory.numerics.representations.clusters import (ClusterTask, draw_centers, holdout_split, min_separation)
from rnn_theory.numerics.errors import DomainError, RNNTheoryError, ShapeError


def test_min_separation_matches_spec_values():
    # spec: ~0.110 for d = 2 and ~0.353 for d = 200 with sigma = 0.02
    assert abs(min_separation(2) - 0.110) < 1e-3
    assert abs(min_separation(200) - 0.353) < 2e-3
    # d = 1: the constant term only
    assert min_separation(1) == pytest.approx(0.02 * 4.891638480163717)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), d=st.sampled_from([1, 2, 3, 10, 200]))
@example(seed=0, d=2)
def test_centres_in_box_and_separated(seed, d):
    if d == 1:
        n = 20  # 60 points with separation 0.098 do not fit comfortably on [-2, 2]
    else:
        n = 60
    c = draw_centers(d, np.random.default_rng(seed), n_clusters=n)
    assert c.shape == (n, d)
    assert np.all(np.abs(c) <= 2.0)
    assert pdist(c).min() >= min_separation(d) - 1e-12


def test_rejection_actually_rejects():
    # with a separation close to the packing limit, the kept centres still obey it,
    # which plain uniform draws would not
    rng = np.random.default_rng(3)
    c = draw_centers(2, rng, n_clusters=40, min_sep=0.45)
    assert pdist(c).min() >= 0.45
    plain = np.random.default_rng(3).uniform(-2, 2, size=(40, 2))
    assert pdist(plain).min() < 0.45


def test_labels_parity_and_class_balance():
    task = ClusterTask.make(2, np.random.default_rng(0))
    assert np.array_equal(task.labels, np.arange(60) % 2)
    assert np.bincount(task.labels).tolist() == [30, 30]


def test_trial_layout():
    task = ClusterTask.make(3, np.random.default_rng(0))
    b = task.sample(np.random.default_rng(1), 7)
    assert b.inputs.shape == (7, 10, 3) and b.targets.shape == (7, 10, 2) and b.mask.shape == (7, 10, 1)
    assert np.array_equal(b.inputs[:, 0], b.points)
    assert np.all(b.inputs[:, 1:] == 0)
    assert np.all(b.mask[:, :-1] == 0) and np.all(b.mask[:, -1] == 1)
    assert np.array_equal(b.targets[:, -1].argmax(-1), b.labels)
    assert np.array_equal(b.labels, b.cluster % 2)


def test_noise_scale_statistics():
    # residuals x - mu_k are N(0, sigma^2 I): the sample variance is within a few
    # standard errors (relative SE of a variance with m dof is sqrt(2/m))
    task = ClusterTask.make(5, np.random.default_rng(0))
    b = task.sample(np.random.default_rng(2), 4000)
    res = b.points - task.centers[b.cluster]
    m = res.size
    assert abs(res.var() / 0.02**2 - 1) < 5 * np.sqrt(2 / m)
    assert abs(res.mean()) < 5 * 0.02 / np.sqrt(m)


def test_online_sampling_is_fresh_and_reproducible():
    task = ClusterTask.make(2, np.random.default_rng(0))
    a = task.sample(np.random.default_rng(5), 50)
    b = task.sample(np.random.default_rng(5), 50)
    c = task.sample(np.random.default_rng(6), 50)
    assert np.array_equal(a.points, b.points)
    assert not np.array_equal(a.points, c.points)


@settings(max_examples=20)
@given(n=st.integers(1, 400), seed=st.integers(0, 1000))
@example(n=500, seed=0)
@example(n=60, seed=0)
@example(n=59, seed=0)
def test_balanced_counts(n, seed):
    task = ClusterTask.make(2, np.random.default_rng(0))
    b = task.balanced(np.random.default_rng(seed), n)
    counts = np.bincount(b.cluster, minlength=60)
    assert len(b) == n
    assert counts.min() == n // 60
    assert counts.max() == n // 60 + (1 if n % 60 else 0)
    assert np.sum(counts > n // 60) == n % 60  # leftovers go to distinct clusters


def test_balanced_same_seed_same_set():
    task = ClusterTask.make(2, np.random.default_rng(0))
    a, b = (task.balanced(np.random.default_rng(9), 500) for _ in range(2))
    assert np.array_equal(a.points, b.points) and np.array_equal(a.cluster, b.cluster)


def test_holdout_split_default():
    task = ClusterTask.make(2, np.random.default_rng(0))
    b = task.balanced(np.random.default_rng(1), 500)
    tr, te = holdout_split(b.cluster)
    assert set(np.unique(b.cluster[tr])) == set(range(49))
    assert set(np.unique(b.cluster[te])) == set(range(49, 60))
    tr2, te2 = holdout_split(b.cluster, rng=np.random.default_rng(0))
    assert len(np.unique(b.cluster[tr2])) == 49 and not np.any(tr2 & te2)


# ----------------------------------------------------------------------------- bad input
def test_bad_dimension():
    for d in (0, -1, 2.5, True):
        with pytest.raises(DomainError, match="d"):
            ClusterTask.make(d, np.random.default_rng(0))


def test_fewer_clusters_than_classes():
    with pytest.raises(DomainError, match="clusters"):
        ClusterTask.make(2, np.random.default_rng(0), n_clusters=2, n_classes=3)
    with pytest.raises(DomainError, match="clusters"):
        ClusterTask(np.zeros((1, 2)))


def test_impossible_separation_volume_bound_is_immediate():
    with pytest.raises(DomainError, match="volume bound"):
        draw_centers(2, np.random.default_rng(0), n_clusters=2000)
    with pytest.raises(DomainError, match="volume bound"):
        draw_centers(1, np.random.default_rng(0), n_clusters=60)  # 59 * 0.098 > 4
    with pytest.raises(DomainError, match="volume bound"):
        draw_centers(3, np.random.default_rng(0), n_clusters=2, min_sep=100.0)


def test_impossible_separation_attempts_bounded():
    # allowed by the volume bound but not reachable by sequential rejection
    with pytest.raises(DomainError, match="attempts"):
        draw_centers(2, np.random.default_rng(0), n_clusters=150, min_sep=0.3, max_attempts=2000)


def test_other_bad_input():
    with pytest.raises(DomainError):
        ClusterTask(np.zeros((4, 2)), sigma=-1.0)
    with pytest.raises(ShapeError):
        ClusterTask(np.zeros(4))
    with pytest.raises(RNNTheoryError):
        ClusterTask(np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(DomainError):
        draw_centers(2, np.random.default_rng(0), min_sep=-0.1)
