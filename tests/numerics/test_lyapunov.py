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
@example(seed=276861, N=2, complex_pair=False)  # initial frame nearly orthogonal to the top direction
def test_linear_map_exponents_are_log_abs_eigenvalues(seed, N, complex_pair):
    r"""For a linear map the QR estimate of the partial sums :math:`S_k = \sum_{j\le k}\lambda_j`
    after T steps is exactly :math:`S_k + c_k/T + O(e^{-\Delta_k T}/T)`, where :math:`c_k` is
    the log of a minor of the initial frame in the eigenbasis (heavy-tailed, so no fixed
    O(1/T) bound holds) and :math:`\Delta_k = \lambda_k - \lambda_{k+1}`.  The same initial
    frame (same rng seed) at T and 2T cancels :math:`c_k` (Richardson):
    :math:`2S_k(2T) - S_k(T) = S_k + O(e^{-\Delta_k T}/T)`, checked wherever
    :math:`\Delta_k T > 20`; :math:`S_N = \ln|\det A|` holds at any T."""
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
    frame_seed = int(rng.integers(2**32))

    def partial_sums(steps):
        # start at the fixed point h = 0: the tangent dynamics of a linear map do not depend on h
        res = lyapunov_spectrum(A, phi="linear", n_exponents=N, rng=np.random.default_rng(frame_seed),
                                step_tol=0, max_steps=steps, H0=np.zeros((1, N)))
        assert np.allclose(res.exponents_bits, res.exponents_nats / math.log(2))
        return np.cumsum(res.exponents_nats)

    s1, s2 = partial_sums(T), partial_sums(2 * T)
    logs = np.sort(np.log(mags))[::-1]
    expected = np.cumsum(logs)
    gaps = np.append(logs[:-1] - logs[1:], np.inf)
    assert abs(s1[-1] - expected[-1]) < 1e-9 * (1 + abs(expected[-1]))   # ln|det A|, no transient
    separated = gaps * T > 20
    assert np.all(np.abs((2 * s2 - s1)[separated] - expected[separated]) < 1e-7)


@pytest.mark.parametrize("seed", [0, 1])
def test_largest_exponent_matches_two_trajectory_divergence(seed):
    """QR and two-trajectory estimates of lambda_1 on the same trajectory.

    Both are (1/T) log|J_T...J_1 v| for different start vectors v (e_1 and a random u), so
    they differ by C/T with a constant C = log(|<v_QR, e>|/|<u, e>|) (e the adjoint top
    Lyapunov vector), a heavy-tailed number that no fixed bound in 1/T covers.  So we
    remove it: at T1 and T2 = 2 T1 the *rates over the steps T1..T2*,
    (T2 lam(T2) - T1 lam(T1))/(T2 - T1), must agree.  What remains is the finite-difference
    error of the two-trajectory method per step: its next-order (second-order Taylor)
    term is (1/2)|phi''| |W d|^2 / |D d| <= |W|_2^2 eps with |d| = eps and max|tanh''| < 1,
    plus the round-off 1e-16/eps = 1e-8 (random, averaging down), plus the
    misalignment of both vectors after T1 steps, exp(-(lam_1 - lam_2) T1) < 1e-10 here.
    """
    rng = np.random.default_rng(seed)
    N = 100
    W = farrell_W(N, 250.0, rng)
    h0 = rng.uniform(-0.2, 0.2, N)
    eps = 1e-8
    u_seed = int(rng.integers(2**31))
    T1, T2 = 1000, 2000
    qr, tt = [], []
    for T in (T1, T2):
        lam = qr_lyapunov_batch(W, None, h0[None], 2, max_steps=T, step_tol=0)[0][0] * math.log(2)
        qr.append(lam)
        tt.append(divergence_exponent(W, h0=h0, n_steps=T, eps=eps, rng=np.random.default_rng(u_seed)))
    assert qr[1][0] > 0.05  # chaotic
    assert (qr[1][0] - qr[1][1]) * T1 > 23  # gap: misalignment exp(-gap T1) < 1e-10
    rate_qr = (T2 * qr[1][0] - T1 * qr[0][0]) / (T2 - T1)
    rate_2t = (T2 * tt[1] - T1 * tt[0]) / (T2 - T1)
    bound = np.linalg.norm(W, 2) ** 2 * eps + 1e-8
    assert abs(rate_qr - rate_2t) < bound


@settings(max_examples=10)
@given(seed=st.integers(0, 10**6), N=st.integers(2, 20), gamma=st.floats(20.0, 400.0))
@example(seed=0, N=20, gamma=250.0)
@example(seed=6114, N=2, gamma=339.0)  # chaotic: W @ h instead of h @ W.T gave another trajectory
def test_sum_equals_mean_log_abs_det_jacobian(seed, N, gamma):
    rng = np.random.default_rng(seed)
    W = farrell_W(N, gamma, rng)
    b = 0.1 * rng.standard_normal(N)
    h = rng.uniform(-0.2, 0.2, N)
    T = 300
    lam, _ = qr_lyapunov_batch(W, b, h[None], N, max_steps=T, step_tol=0)
    # independent route: log|det D_t| = sum log(1 - h_{t+1}^2) + log|det W| on the same
    # trajectory -- computed with the same operations as the QR method (a row times W^T),
    # because on a chaotic map a different summation order gives a different trajectory
    logdetW = np.linalg.slogdet(W)[1]
    acc, kappa = 0.0, 0.0
    H = h[None]
    for _ in range(T):
        H = np.tanh(H @ W.T + b)
        G = 1 - H[0] * H[0]
        acc += np.sum(np.log(G)) + logdetW
        kappa += np.linalg.cond(G[:, None] * W)
    # Householder QR is backward stable: each step's sum of log|R_ii| carries a relative
    # error of order N u kappa(D_t) (a saturated unit makes D_t ill-conditioned: kappa ~ 1e7
    # at gamma = 339, N = 2); 10 N u mean(kappa) bounds the per-step average, plus round-off
    bound = 10 * N * np.finfo(float).eps * kappa / T + 1e-12 * abs(acc / T)
    assert abs(lam.sum() * math.log(2) - acc / T) <= bound


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


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), N=st.integers(3, 30), gamma=st.floats(5.0, 300.0))
@example(seed=0, N=30, gamma=20.0)
def test_exponents_descending_and_a_permutation_of_the_qr_order(seed, N, gamma):
    rng = np.random.default_rng(seed)
    W = farrell_W(N, gamma, rng)
    H0 = rng.uniform(-0.2, 0.2, (3, N))
    m = min(N, 6)
    raw, s_raw = qr_lyapunov_batch(W, None, H0, m, max_steps=200, order="qr")
    srt, s_srt = qr_lyapunov_batch(W, None, H0, m, max_steps=200)
    assert np.all(np.diff(srt, axis=1) <= 0)
    np.testing.assert_array_equal(np.sort(raw, axis=1), np.sort(srt, axis=1))
    np.testing.assert_array_equal(s_raw, s_srt)
    res = lyapunov_spectrum(W, rng=np.random.default_rng(seed), n_exponents=m, max_steps=200)
    assert np.all(np.diff(res.exponents_bits) <= 0)


def test_chaoticity_uses_the_largest_exponents():
    from rnn_theory.numerics.representations.lyapunov import LyapunovResult

    lam = np.array([0.01902, 0.01906, -0.5, 0.3])     # not sorted (as the QR order can be)
    res = LyapunovResult(lam, lam[None], np.array([10]), float("nan"))
    assert res.chaoticity(3) == pytest.approx(0.3 + 0.01906 / 2 + 0.01902 / 3, rel=1e-15)


@pytest.mark.parametrize("phi", ["tanh", "linear"])
def test_paper_jacobian_is_the_default_started_one_step_later(phi):
    """jacobian="next" multiplies by diag(phi'(W h_{t+1} + b)) W: the same product as the
    default run from h_1 = phi(W h_0 + b), computed here by hand."""
    rng = np.random.default_rng(3)
    N = 12
    W = farrell_W(N, 100.0, rng) * (0.9 if phi == "linear" else 1.0)
    b = 0.1 * rng.standard_normal(N)
    h0 = rng.uniform(-0.2, 0.2, (2, N))
    h1 = np.tanh(h0 @ W.T + b) if phi == "tanh" else h0 @ W.T + b
    kw = dict(max_steps=150, step_tol=0, phi=phi, order="qr")
    paper = qr_lyapunov_batch(W, b, h0, 4, jacobian="next", **kw)[0]
    shifted = qr_lyapunov_batch(W, b, h1, 4, **kw)[0]
    np.testing.assert_allclose(paper, shifted, rtol=0, atol=1e-13)
    default = qr_lyapunov_batch(W, b, h0, 4, **kw)[0]
    if phi == "tanh":   # a different definition at finite T (a linear map has one Jacobian)
        assert np.max(np.abs(paper - default)) > 1e-6


def test_paper_stopping_rule_counter_not_reset():
    rng = np.random.default_rng(0)
    W = farrell_W(60, 20.0, rng)
    H0 = rng.uniform(-0.2, 0.2, (4, 60))
    # a tolerance every window passes: the stop happens at the first step the test is made
    kw = dict(max_steps=1000, step_tol=1e3)
    _, st_pkg = qr_lyapunov_batch(W, None, H0, 5, **kw)
    _, st_pap = qr_lyapunov_batch(W, None, H0, 5, stopping="paper", **kw)
    _, st_cont = qr_lyapunov_batch(W, None, H0, 5, stopping="paper", continued=True, **kw)
    assert st_pkg.tolist() == [10, 10, 10, 10]
    assert st_pap.tolist() == [10, 2, 2, 2]      # the counter is not reset after the first
    assert st_cont.tolist() == [2, 2, 2, 2]
    # with the usual tolerance the package rule never stops before a full window
    assert np.all(qr_lyapunov_batch(W, None, H0, 5, max_steps=1000)[1] >= 10)
    with pytest.raises(DomainError, match="stopping"):
        qr_lyapunov_batch(W, None, H0, 5, stopping="authors")
    with pytest.raises(DomainError, match="jacobian"):
        lyapunov_spectrum(W, rng=rng, jacobian="later")


def test_spectrum_orders_the_means_not_each_row():
    rng = np.random.default_rng(0)
    W = farrell_W(60, 20.0, rng)
    kw = dict(n_exponents=8, max_steps=150, min_init=3, max_init=3)
    raw = lyapunov_spectrum(W, rng=np.random.default_rng(1), order="qr", **kw)
    srt = lyapunov_spectrum(W, rng=np.random.default_rng(1), **kw)
    perm = np.argsort(-raw.exponents_bits, kind="stable")
    np.testing.assert_array_equal(srt.exponents_bits, raw.exponents_bits[perm])
    np.testing.assert_array_equal(srt.per_init_bits, raw.per_init_bits[:, perm])
    np.testing.assert_allclose(srt.per_init_bits.mean(axis=0), srt.exponents_bits, rtol=0, atol=1e-15)
