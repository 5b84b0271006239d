"""The digits benchmark as in the paper: Euler states, BPTT through them, test-batch updates."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.fixed_point import backprop_fixed_point, cross_entropy, solve_fixed_point
from rnn_theory.numerics.fixed_point.digits import Dataset
from rnn_theory.numerics.fixed_point.euler_bptt import euler_bptt_factors, euler_trajectory
from rnn_theory.numerics.fixed_point.network import FixedPointNet, TrainConfig, gradients, train
from rnn_theory.numerics.fixed_point.solver import euler_fixed_point
from rnn_theory.theory.errors import DomainError


def _loss_through_euler(W, h, R, y, K, alpha):
    r, _ = euler_trajectory(W, h, K, alpha)
    return cross_entropy(r @ R.T, y) * len(y)   # batch sum


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10**6), N=st.integers(2, 8), B=st.integers(1, 4), K=st.integers(1, 60))
@example(seed=0, N=8, B=3, K=60)
def test_bptt_gradient_matches_central_differences(seed, N, B, K):
    """Central differences (step 1e-5, error ~ 1e-10 x third derivative) of the batch-sum
    loss through K Euler steps against the BPTT gradient."""
    rng = np.random.default_rng(seed)
    W = 0.8 * rng.standard_normal((N, N)) / np.sqrt(N)
    h = rng.standard_normal((B, N))
    R = rng.standard_normal((3, N))
    y = rng.integers(0, 3, B)
    alpha = 0.1
    r, _ = euler_trajectory(W, h, K, alpha)
    z = r @ R.T
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(B), y] -= 1.0
    grad, _ = euler_bptt_factors(W, h, p @ R, K, alpha)
    eps = 1e-5
    fd = np.empty_like(W)
    for i in range(N):
        for j in range(N):
            E = np.zeros_like(W)
            E[i, j] = eps
            fd[i, j] = (_loss_through_euler(W + E, h, R, y, K, alpha)
                        - _loss_through_euler(W - E, h, R, y, K, alpha)) / (2 * eps)
    assert np.max(np.abs(grad - fd)) < 1e-7 * max(1.0, np.max(np.abs(fd)))


def test_euler_trajectory_is_the_solvers_euler_state():
    rng = np.random.default_rng(1)
    W = 0.5 * rng.standard_normal((6, 6)) / np.sqrt(6)
    h = rng.standard_normal((4, 6))
    np.testing.assert_array_equal(euler_trajectory(W, h)[0], euler_fixed_point(W, h))


def test_bptt_tends_to_the_implicit_gradient_for_long_trajectories():
    """K alpha -> infinity: the BPTT gradient -> G(I - W^T G)^{-1} delta r*^T; the gap
    shrinks like the slowest relaxation exp(-(1 - max Re lambda(GW)) K alpha)."""
    rng = np.random.default_rng(2)
    N, B = 10, 5
    W = 0.5 * rng.standard_normal((N, N)) / np.sqrt(N)
    h = rng.standard_normal((B, N))
    delta = rng.standard_normal((B, N))
    r = solve_fixed_point(W, h).r
    implicit = backprop_fixed_point(W, r, delta).T @ r
    gaps = []
    for K in (500, 4000):
        g, _ = euler_bptt_factors(W, h, delta, K, 0.01)
        gaps.append(np.linalg.norm(g - implicit) / np.linalg.norm(implicit))
    assert gaps[0] > 1e-2          # 5 tau: far from the fixed point's gradient
    assert gaps[1] < 1e-6          # 40 tau: converged (e^{-0.5*40} ~ 2e-9 times O(K alpha))


def _tiny_data(rng):
    X = rng.random((60, 8))
    y = rng.integers(0, 3, 60)
    return Dataset(X[:40], y[:40], X[40:], y[40:], 3)


def test_paper_mode_trains_on_the_test_batch_with_euler_states():
    """Replay the 4 steps of one epoch by hand: each step's batch is the test batch, the
    states are the Euler states and dW1 is the BPTT gradient (dW3: the rule at r_K)."""
    rng = np.random.default_rng(3)
    data = _tiny_data(rng)
    net = FixedPointNet.init(np.random.default_rng(4), 8, (12,), 3)
    for rule in ("dW1", "dW3"):
        cfg = TrainConfig(rule=rule, lr=0.5, epochs=1, batch_size=10, eval_batch=10, variant="paper")
        res = train(net, data, cfg, np.random.default_rng(5))
        g = np.random.default_rng(5)
        g.permutation(40)                      # the (unused) training order
        W, U, R = net.Ws[0], net.Us[0], net.R
        for step in range(4):
            te = g.choice(20, 10, replace=False)
            x, y = data.X_test[te], data.y_test[te]
            r = euler_fixed_point(W, x @ U.T)
            assert res.history["train_loss"][step] == pytest.approx(cross_entropy(r @ R.T, y), rel=1e-12)
            z = r @ R.T
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(10), y] -= 1.0
            delta = p @ R
            if rule == "dW1":
                d = euler_bptt_factors(W, x @ U.T, delta)[0] / 10
            else:
                G = 1 - r**2
                u = G * delta - (G * (G * delta)) @ W.T
                s_ = r - G * (r @ W.T)
                d = u.T @ (s_ - (G * s_) @ W) / 10
            W = W - 0.5 * d
        np.testing.assert_allclose(res.net.Ws[0], W, rtol=0, atol=1e-12)
    with pytest.raises(DomainError, match="variant"):
        TrainConfig(variant="authors")
    with pytest.raises(DomainError, match="read-in"):
        TrainConfig(variant="paper", train_readin=True)
