"""Participation ratio (rnn_theory.numerics.rate.analysis.participation_ratio) on constructed data."""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from rnn_theory.numerics.rate.analysis import participation_ratio
from rnn_theory.numerics.errors import RNNTheoryError


def _embed(rng, X, D):
    Q = np.linalg.qr(rng.standard_normal((D, X.shape[1])))[0]
    return X @ Q.T


@settings(max_examples=25)
@given(seed=st.integers(0, 10**6), k=st.integers(1, 20), extra=st.integers(0, 40),
       n=st.integers(40, 400))
@example(seed=0, k=20, extra=0, n=50)
@example(seed=0, k=1, extra=10, n=40)
def test_isotropic_gaussian_in_k_dims(seed, k, extra, n):
    rng = np.random.default_rng(seed)
    X = _embed(rng, rng.standard_normal((n, k)), k + extra)
    # finite-sample expectation from the Wishart moments of the centred covariance
    # (m = n - 1 degrees of freedom): E(tr S)^2 / E tr S^2 = (k m + 2) / (k + m + 1) -> k.
    m = n - 1
    expected = (k * m + 2) / (k + m + 1)
    # PR fluctuates by ~ (1-2) k / n (measured over 300 seeds); 10 k / n is >= 5 sd and
    # still excludes the uncorrected value k when k / n is not small
    assert abs(participation_ratio(X) - expected) < 10 * k / n


@settings(max_examples=20)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 60), D=st.integers(1, 60))
@example(seed=0, n=2, D=1)
def test_rank_one_is_exactly_one(seed, n, D):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    if np.ptp(a) == 0:
        a[0] += 1.0
    X = np.outer(a, rng.standard_normal(D) + 0.1) + rng.standard_normal(D)  # offset: centring
    assert participation_ratio(X) == pytest.approx(1.0, abs=1e-10)


@settings(max_examples=25)
@given(seed=st.integers(0, 10**6), n=st.integers(3, 80), D=st.integers(2, 80),
       scale=st.floats(1e-6, 1e6), shift=st.floats(-10.0, 10.0))
@example(seed=1, n=80, D=2, scale=1e-6, shift=0.0)  # Gram side vs covariance side
@example(seed=1, n=3, D=80, scale=1e6, shift=5.0)
def test_invariant_under_rotation_scaling_translation(seed, n, D, scale, shift):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D)) * rng.uniform(0.1, 3.0, D)
    Q = np.linalg.qr(rng.standard_normal((D, D)))[0]
    p = participation_ratio(X)
    assert participation_ratio(X @ Q) == pytest.approx(p, rel=1e-9)
    assert participation_ratio(scale * X + shift) == pytest.approx(p, rel=1e-9)
    # independent route: eigenvalues of the covariance
    lam = np.linalg.eigvalsh(np.cov(X, rowvar=False).reshape(D, D))
    assert p == pytest.approx(lam.sum() ** 2 / np.sum(lam**2), rel=1e-9)
    assert 1.0 - 1e-12 <= p <= min(n - 1, D) + 1e-9


def test_bad_input():
    with pytest.raises(RNNTheoryError):
        participation_ratio(np.ones((1, 3)))
    with pytest.raises(RNNTheoryError, match="zero variance"):
        participation_ratio(np.ones((4, 3)))
    with pytest.raises(RNNTheoryError):
        participation_ratio(np.array([[np.nan, 1.0], [0.0, 1.0]]))
