"""Lyapunov spectrum (QR/Benettin) against exact and independent routes."""
import math

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from rnn_theory.numerics.representations.lyapunov import divergence_exponent, lyapunov_spectrum, qr_lyapunov_batch
from rnn_theory.numerics.errors import DomainError, ShapeError


def farrell_W(N, gamma, rng):
    J = rng.standard_normal((N, N)) / math.sqrt(N)
    J /= np.max(np.abs(np.linalg.eigvals(J)))
    return 0.99 * np.eye(N) + 0.01 * gamma * J


@settings(max_examples=10)
@given(seed=st.integers(0, 10**6), N=st.integers(1, 8), complex_pair=st.booleans())
@example(seed=0, N=1, complex_pair=False)
@example(seed=1, N=6, complex_pair=True)
def test_linear_map_exponents_are_log_abs_eigenvalues(seed, N, complex_pair):
    rng = np.random.default_rng(seed)
    mags = np.exp(rng.uniform(-1.0, 1.0, N))
    lam = mags * rng.choice([-1.0, 1.0], N)
    D = np.diag(lam)
    if complex_pair and N >= 2:  # a rotation-scaling block: eigenvalues r e^{+-i theta}
        th = rng.uniform(0.3, 2.8)
        D[:2, :2] = mags[0] * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        mags[1] = mags[0]
    V = rng.standard_normal((N, N)) + 2 * np.eye(N)  # non-normal, well-conditioned enough
    A = V @ D @ np.linalg.inv(V)
    T = 1000
    # start at the fixed point h = 0: the tangent dynamics of a linear map do not depend on h
    res = lyapunov_spectrum(A, phi="linear", n_exponents=N, rng=rng, step_tol=0, max_steps=T,
                            H0=np.zeros((1, N)))
    expected = np.sort(np.log(mags))[::-1]
    # the only error is the initial transient, O(log(cond V) / T)
    tol = (3.0 + math.log(np.linalg.cond(V))) / T
    assert np.max(np.abs(res.exponents_nats - expected)) < tol
    assert np.allclose(res.exponents_bits, res.exponents_nats / math.log(2))


@pytest.mark.parametrize("seed", [0, 1])
def test_largest_exponent_matches_two_trajectory_divergence(seed):
    rng = np.random.default_rng(seed)
    N = 100
    W = farrell_W(N, 250.0, rng)
    h0 = rng.uniform(-0.2, 0.2, N)
    T = 3000
    lam_qr = qr_lyapunov_batch(W, None, h0[None], 1, max_steps=T, step_tol=0)[0][0, 0] * math.log(2)
    lam_2t = divergence_exponent(W, h0=h0, n_steps=T, rng=rng)
    assert lam_qr > 0.05  # chaotic
    # same trajectory, different initial tangent vector: they differ by an O(1/T) transient
    # (measured 1.4e-4 and 2.1e-4 nats at T = 3000 for seeds 1, 0)
    assert abs(lam_qr - lam_2t) < 2.0 / T


@settings(max_examples=10)
@given(seed=st.integers(0, 10**6), N=st.integers(2, 20), gamma=st.floats(20.0, 400.0))
@example(seed=0, N=20, gamma=250.0)
def test_sum_equals_mean_log_abs_det_jacobian(seed, N, gamma):
    rng = np.random.default_rng(seed)
    W = farrell_W(N, gamma, rng)
    b = 0.1 * rng.standard_normal(N)
    h = rng.uniform(-0.2, 0.2, N)
    T = 300
    lam, _ = qr_lyapunov_batch(W, b, h[None], N, max_steps=T, step_tol=0)
    # independent route: log|det D_t| = sum log(1 - h_{t+1}^2) + log|det W| on the same trajectory
    logdetW = np.linalg.slogdet(W)[1]
    acc = 0.0
    for _ in range(T):
        h = np.tanh(W @ h + b)
        acc += np.sum(np.log(1 - h * h)) + logdetW
    assert lam.sum() * math.log(2) == pytest.approx(acc / T, rel=1e-9, abs=1e-9)


def test_batch_equals_single_runs():
    rng = np.random.default_rng(4)
    W = farrell_W(30, 250.0, rng)
    H0 = rng.uniform(-0.2, 0.2, (3, 30))
    lam, steps = qr_lyapunov_batch(W, None, H0, 5, max_steps=400)
    for k in range(3):
        lk, sk = qr_lyapunov_batch(W, None, H0[k:k + 1], 5, max_steps=400)
        assert sk[0] == steps[k]
        assert np.allclose(lk[0], lam[k], rtol=0, atol=1e-12)


def test_stopping_rules():
    rng = np.random.default_rng(0)
    W = farrell_W(60, 20.0, rng)
    res = lyapunov_spectrum(W, rng=rng, n_exponents=5)
    assert 4 <= res.n_init <= 10
    assert np.all(res.steps <= 1000) and np.all(res.steps >= 10)
    if res.n_init < 10:
        assert res.sem_bits < 2e-3
    # with the early stop off every initial condition runs the full length
    full = lyapunov_spectrum(W, rng=np.random.default_rng(0), n_exponents=5, step_tol=0,
                             max_steps=200, ic_tol=0)
    assert full.n_init == 10 and np.all(full.steps == 200)


def test_initial_chaos_regimes_quick():
    # spec 9.1 at N = 200 (one network each): gamma = 20 near 0, gamma = 250 clearly positive
    rng = np.random.default_rng(0)
    kw = dict(rng=rng, n_exponents=3, min_init=2, max_init=2)
    lam20 = lyapunov_spectrum(farrell_W(200, 20.0, rng), **kw).exponents_nats[0]
    lam250 = lyapunov_spectrum(farrell_W(200, 250.0, rng), **kw).exponents_nats[0]
    assert abs(lam20) < 0.05
    assert lam250 > 0.1


def test_bad_input():
    with pytest.raises(ShapeError):
        lyapunov_spectrum(np.zeros((3, 2)), rng=np.random.default_rng(0))
    with pytest.raises(DomainError):
        lyapunov_spectrum(np.eye(3), rng=np.random.default_rng(0), n_exponents=4)
    with pytest.raises(DomainError):
        lyapunov_spectrum(np.eye(3), rng=np.random.default_rng(0), n_exponents=2, phi="relu")
    with pytest.raises(DomainError, match="collapsed"):
        lyapunov_spectrum(np.zeros((3, 3)), rng=np.random.default_rng(0), n_exponents=2, phi="linear")
    with pytest.raises(ValueError, match="NaN"):
        lyapunov_spectrum(np.full((3, 3), np.nan), rng=np.random.default_rng(0), n_exponents=2)
    with pytest.raises(ValueError, match="diverges"):  # expanding linear map from h != 0
        lyapunov_spectrum(3 * np.eye(3), rng=np.random.default_rng(0), n_exponents=2,
                          phi="linear", step_tol=0, max_steps=1000)
