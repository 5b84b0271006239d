"""Tests of rnn_theory.numerics.fixed_point.linear_experiment: linear rules dW1-dW3 and the linear experiments."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.fixed_point import linear_fixed_point
from rnn_theory.numerics.fixed_point.linear_experiment import (
    LinearProblem,
    angle_deg,
    angles,
    dW1,
    dW2_direction,
    dW2_step,
    dW3,
    grad_a,
    landscape,
    learning_curve,
    loss,
    make_problem,
    one_dimensional,
    resolvent,
)
from rnn_theory.theory.errors import DomainError, NonFiniteError, ShapeError


def _small(seed, n=15, m=8):
    return make_problem(np.random.default_rng(seed), n=n, m=m)


def test_loss_matches_fixed_point_solution():
    p = _small(0)
    R = linear_fixed_point(p.W_init, p.X.T).T          # r* = A x for every sample (column)
    assert np.isclose(loss(p.W_init, p.X, p.R_hat), np.sum((R - p.R_hat) ** 2) / p.X.shape[1], rtol=1e-12)


def test_reference_points():
    p = make_problem(np.random.default_rng(3), n=60, m=30)
    assert loss(p.W0, p.X, p.R_hat) < 1e-20                  # exact minimiser through the pseudoinverse
    # W_true sits at the noise floor n * 0.01^2 (sd of a chi-square mean ~ sqrt(2/(n m)))
    assert abs(loss(p.W_true, p.X, p.R_hat) / (60 * 1e-4) - 1) < 5 * np.sqrt(2 / (60 * 30)) + 0.05


@pytest.mark.parametrize("g", [1.0, 0.7])
def test_dw1_matches_central_differences(g):
    p = _small(1, n=8, m=5)
    W = p.W_init
    G = dW1(W, p.X, p.R_hat, g)
    fd = np.zeros_like(W)
    eps = 1e-6
    for i in range(8):
        for j in range(8):
            E = np.zeros_like(W)
            E[i, j] = eps
            fd[i, j] = (loss(W + E, p.X, p.R_hat, g) - loss(W - E, p.X, p.R_hat, g)) / (2 * eps)
    assert np.linalg.norm(fd - G) / np.linalg.norm(G) < 1e-6


def test_dw3_is_pulled_back_gradient():
    p = _small(2)
    W = p.W_init
    A = resolvent(W)
    M = np.eye(15) - W
    D = grad_a(A, p.X, p.R_hat)
    assert np.allclose(dW3(W, p.X, p.R_hat), M @ D @ M, atol=1e-14, rtol=1e-12)
    assert np.allclose(dW1(W, p.X, p.R_hat), A.T @ D @ A.T, rtol=1e-10, atol=1e-14)
    # metric <dW3, dW1>_F = ||D||_F^2 (the A-space gradient's squared norm)
    assert np.isclose(np.sum(dW3(W, p.X, p.R_hat) * dW1(W, p.X, p.R_hat)), np.sum(D * D), rtol=1e-9)


def test_dw2_is_gradient_descent_in_A_space():
    p = _small(4)
    lr = 0.3
    W_new = dW2_step(p.W_init, p.X, p.R_hat, lr)
    A, A_new = resolvent(p.W_init), resolvent(W_new)
    assert np.allclose(A_new, A - lr * grad_a(A, p.X, p.R_hat), atol=1e-12)


def test_dw2_minus_dw3_is_second_order_in_lr():
    p = _small(5, n=20, m=10)
    W = p.W_init
    lrs = np.logspace(-4, -1.5, 8)
    d3 = dW3(W, p.X, p.R_hat)
    err = [np.linalg.norm((W - dW2_step(W, p.X, p.R_hat, lr)) - lr * d3) for lr in lrs]
    slope = np.polyfit(np.log(lrs), np.log(err), 1)[0]
    assert abs(slope - 2.0) < 0.05, slope


@settings(max_examples=20)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 20), m=st.integers(1, 12))
@example(seed=0, n=2, m=1)
def test_linear_rules_are_descent_directions(seed, n, m):
    p = make_problem(np.random.default_rng(seed), n=n, m=m)
    grad = dW1(p.W_init, p.X, p.R_hat)
    scale = np.sum(grad * grad)
    for d in (dW3(p.W_init, p.X, p.R_hat), dW2_direction(p.W_init, p.X, p.R_hat, 1e-3)):
        assert np.sum(d * grad) >= -1e-12 * max(scale, 1e-300)


def test_bad_input():
    p = _small(6)
    with pytest.raises(ShapeError):
        dW1(np.zeros((3, 4)), p.X, p.R_hat)
    with pytest.raises(ShapeError):
        dW3(p.W_init, p.X[:5], p.R_hat)
    with pytest.raises(ShapeError):
        loss(p.W_init, p.X, p.R_hat[:, :3])
    with pytest.raises(NonFiniteError):
        dW3(p.W_init, p.X * np.nan, p.R_hat)
    with pytest.raises(DomainError):
        learning_curve(p, "dW4", 0.1, 3)
    with pytest.raises(ShapeError):
        LinearProblem(p.X, p.R_hat[:, :2], p.W_true, p.W0, p.W_init)


def test_reparameterised_rules_beat_euclidean_at_large_rate():
    p = make_problem(np.random.default_rng(1), n=40, m=20)
    curves = {r: learning_curve(p, r, 3.0, 400)["loss"] for r in ("dW1", "dW2", "dW3")}
    # dW2 and dW3 nearly indistinguishable, orders of magnitude below dW1
    assert abs(np.log10(curves["dW2"][-1]) - np.log10(curves["dW3"][-1])) < 0.1
    assert curves["dW3"][-1] < 1e-2 * curves["dW1"][-1]
    assert curves["dW2"][-1] < 1e-2 * curves["dW1"][-1]


@pytest.mark.slow
def test_full_size_learning_curves():
    """Spec §6.4 at full size (n = 200, m = 100) for the extreme rates."""
    p = make_problem(np.random.default_rng(0))
    out = {}
    for rule in ("dW1", "dW3"):
        for lr in (0.03, 3.0):
            out[rule, lr] = learning_curve(p, rule, lr, 1500, eig_every=500)
    assert out["dW3", 3.0]["loss"][-1] < 1e-4 * out["dW1", 3.0]["loss"][-1]
    # no rule crosses the stability boundary on this problem
    assert all(np.max(c["max_real_eig"]) < 1 for c in out.values())
    # at the smallest rate dW1 is marginally ahead early
    assert out["dW1", 0.03]["loss"][50] < out["dW3", 0.03]["loss"][50]


def test_angles_small_between_dw2_and_dw3():
    p = make_problem(np.random.default_rng(2), n=30, m=15)
    a = angles(p, 0.3, 40)
    assert np.all(a["angle_23"] < a["angle_12"])
    assert a["angle_23"][-1] <= a["angle_23"][0] + 1e-9
    assert a["angle_12"].min() > 10.0
    assert angle_deg(np.eye(2), np.eye(2)) == 0.0


def test_landscape_poles_in_W_none_in_A():
    p = make_problem(np.random.default_rng(0), n=40, m=20)
    t = np.linspace(-1, 1, 81)
    out = landscape(p, np.random.default_rng(1), t=t, n_lines=2)
    la = out["loss_a"]
    # A-space slices are exact quadratics in t: third differences vanish
    assert np.abs(np.diff(la, 3, axis=1)).max() < 1e-9 * la.max()
    assert np.all(np.diff(np.sign(np.diff(la, axis=1)), axis=1) >= 0)   # convex: slope sign flips once
    lw = out["loss_w"]
    assert np.allclose(lw[:, 40], 0, atol=1e-18) and np.allclose(la[:, 40], 0, atol=1e-18)
    # determinant sign changes (real eigenvalue crossing 1) come with huge losses nearby
    for k in range(2):
        flips = np.flatnonzero(np.diff(out["det_sign"][k]) != 0)
        assert flips.size > 0
        assert abs(t[flips[0] + (t[flips[0]] > 0)]) >= 0.5 * out["t_boundary"]
        near = lw[k, max(flips[0] - 1, 0): flips[0] + 3]
        assert near.max() > 100 * lw[k, 35:46].max()
        # and max Re eig(W) is >= 1 there
        assert out["max_real_eig"][k, flips[0] + 1] >= 1 - 1e-9 or out["max_real_eig"][k, flips[0]] >= 1 - 1e-9


def test_one_dimensional():
    grid = np.concatenate([[-1e6], np.linspace(-6, 3, 901)])
    o = one_dimensional(np.random.default_rng(0), iterations=300, w_grid=grid)
    assert abs(o["w_star"] + 1) < 0.1
    i = np.argmin(o["loss_grid"])
    assert abs(o["w_grid"][i] - o["w_star"]) < 0.02
    # plateau as w -> -inf: J -> mean(y^2); pole at w = 1/g = 1
    assert np.isclose(o["loss_grid"][0], np.mean(o["y"] ** 2), rtol=1e-4)
    assert o["loss_grid"][np.argmin(np.abs(grid - 0.99))] > 100 * o["loss_grid"][0]
    runs = {(r["start"], r["rule"], r["lr"]): r["loss"] for r in o["runs"]}
    # one moderate rate on a converges from both starts; small Euclidean rate does not
    for w0 in (-2.0, 0.0):
        assert runs[w0, "a", 2.0][-1] - o["loss_min"] < 1e-12
        assert runs[w0, "metric", 2.0][-1] - o["loss_min"] < 1e-12
        assert runs[w0, "w", 0.2][-1] - o["loss_min"] > 1e-5
