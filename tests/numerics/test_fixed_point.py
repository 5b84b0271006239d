"""Tests of rnn_theory.numerics.fixed_point: solver, implicit gradient, rules dW1/dW3/dW4 and metric forms."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.fixed_point import (
    cross_entropy,
    fixed_point,
    implicit_gradient,
    linear_fixed_point,
    metric_inner,
    output_error,
    preconditioners,
    rule_factors,
    solve_fixed_point,
    stability_report,
    update_direction,
)
from rnn_theory.theory.errors import (
    DomainError,
    FixedPointNotConverged,
    NonFiniteError,
    NoStableFixedPoint,
    ShapeError,
    UnstableError,
)


def _problem(seed, n=12, b=5, nx=7, c=4, rho=0.5, scale=1.0):
    rng = np.random.default_rng(seed)
    W = rho * rng.standard_normal((n, n)) / np.sqrt(n)
    Wx = rng.standard_normal((n, nx)) / np.sqrt(nx)
    R = rng.standard_normal((c, n)) / np.sqrt(n)
    x = scale * rng.standard_normal((b, nx))
    y = rng.integers(0, c, b)
    return W, Wx, R, x, y


# ----------------------------------------------------------------------------- solver
@pytest.mark.parametrize("method,ls", [("auto", "auto"), ("newton", "lu"), ("newton", "gmres"), ("anderson", "auto"),
                                       ("damped", "auto")])
def test_solvers_agree_and_meet_tolerance(method, ls):
    W, Wx, R, x, y = _problem(0, n=40, b=9)
    h = x @ Wx.T
    fp = solve_fixed_point(W, h, method=method, linear_solver=ls, tol=1e-12)
    F = fp.r - np.tanh(fp.r @ W.T + h)
    assert fp.converged and np.abs(F).max() <= 1e-12
    ref = solve_fixed_point(W, h, method="newton", linear_solver="lu", tol=1e-13).r
    assert np.abs(fp.r - ref).max() < 1e-10


def test_newton_converges_quadratically_with_strong_coupling():
    # rho = 1.5: the damped map need not contract, Newton still converges
    W, Wx, R, x, y = _problem(3, n=30, b=6, rho=1.5, scale=2.0)
    fp = fixed_point(W, Wx, x, tol=1e-12, method="newton")
    assert fp.iterations <= 20
    assert np.abs(fp.r - np.tanh(fp.r @ W.T + x @ Wx.T)).max() <= 1e-12
    # the default predictor stalls here and hands over to Newton; same answer
    auto = fixed_point(W, Wx, x, tol=1e-12)
    assert "newton" in auto.method and np.abs(auto.r - fp.r).max() < 1e-10
    # contractive case (rho = 0.5): the Picard predictor alone suffices
    W2, Wx2, _, x2, _ = _problem(3, n=30, b=6)
    assert fixed_point(W2, Wx2, x2, tol=1e-12).method == "picard"


def test_euler_faithful_mode_is_labelled_and_inaccurate():
    rng = np.random.default_rng(2)
    n = 300
    W = 0.5 * rng.standard_normal((n, n)) / np.sqrt(n)
    Wx = rng.standard_normal((n, 784)) / np.sqrt(784)
    x = rng.random((4, 784))                       # MNIST-like pixels in [0, 1]
    eu = fixed_point(W, Wx, x, method="euler")
    ex = fixed_point(W, Wx, x, tol=1e-12)
    rel = np.linalg.norm(eu.r - ex.r) / np.linalg.norm(ex.r)
    assert eu.method == "euler" and not eu.converged and eu.iterations == 500
    # spec section 3: a few percent relative error at initialisation (5 tau of relaxation)
    assert 0.005 < rel < 0.1
    # continuing Euler far longer converges to the Newton fixed point
    long = fixed_point(W, Wx, x, method="euler", n_steps=6000, dt_over_tau=0.05)
    assert np.abs(long.r - ex.r).max() < 1e-9


def test_single_vector_input_and_r0():
    W, Wx, R, x, y = _problem(1)
    fp = fixed_point(W, Wx, x[0])
    assert fp.r.shape == (12,)
    fp2 = solve_fixed_point(W, x[0] @ Wx.T, r0=fp.r)
    assert fp2.iterations == 0


def test_non_convergence_raises_with_residual_and_failing_samples():
    W, Wx, R, x, y = _problem(4, n=30, b=5)
    with pytest.raises(FixedPointNotConverged) as info:
        solve_fixed_point(W, x @ Wx.T, method="damped", max_iter=2, tol=1e-14)
    err = info.value
    assert err.residual > 1e-14 and len(err.failing) > 0
    assert "eig(W)" in str(err)


def test_no_stable_fixed_point_is_reported():
    rng = np.random.default_rng(5)
    n = 50
    W = 3.0 * rng.standard_normal((n, n)) / np.sqrt(n)     # chaotic regime: r = 0 is unstable
    h = np.zeros((2, n))
    with pytest.raises(UnstableError, match="unstable"):
        solve_fixed_point(W, h, stability="raise")
    with pytest.warns(RuntimeWarning):
        solve_fixed_point(W, h, stability="warn")
    rep = stability_report(W, np.zeros((1, n)))
    assert not rep.all_stable and rep.max_real_eig[0] > 1
    with pytest.raises(UnstableError):
        linear_fixed_point(np.eye(3) * 1.2, np.ones((1, 3)))


def test_bad_input_errors():
    W, Wx, R, x, y = _problem(6)
    with pytest.raises(ShapeError, match="square"):
        solve_fixed_point(np.zeros((3, 4)), np.zeros((1, 3)))
    with pytest.raises(ShapeError):
        fixed_point(W, Wx, np.zeros((2, 5)))            # x has 5 features, W_x expects 7
    with pytest.raises(ShapeError):
        fixed_point(W, np.zeros((11, 7)), x)            # W_x rows != N
    with pytest.raises(NonFiniteError):
        fixed_point(W, Wx, np.full((2, 7), np.nan))
    with pytest.raises(NonFiniteError):
        solve_fixed_point(W * np.inf, np.zeros((1, 12)))
    with pytest.raises(DomainError):
        solve_fixed_point(W, np.zeros((1, 12)), method="bisection")
    with pytest.raises(DomainError):
        update_direction("dW2", W, np.zeros((1, 12)), np.zeros((1, 12)))


# ----------------------------------------------------------------------------- gradient
def _loss(W, Wx, R, x, y):
    r = fixed_point(W, Wx, x, tol=1e-14, linear_solver="lu").r
    return cross_entropy(r @ R.T, y)


@pytest.mark.parametrize("seed,rho", [(0, 0.5), (1, 0.9), (2, 1.3)])
def test_implicit_gradient_matches_central_differences(seed, rho):
    W, Wx, R, x, y = _problem(seed, n=10, b=4, rho=rho)
    r = fixed_point(W, Wx, x, tol=1e-14).r
    _, delta = output_error(R, r, y)
    grad = implicit_gradient(W, r, delta)
    fd = np.zeros_like(W)
    eps = 1e-5
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            E = np.zeros_like(W)
            E[i, j] = eps
            fd[i, j] = (_loss(W + E, Wx, R, x, y) - _loss(W - E, Wx, R, x, y)) / (2 * eps)
    rel = np.linalg.norm(fd - grad) / np.linalg.norm(grad)
    assert rel < 1e-6, rel
    # the matrix-free adjoint gives the same gradient
    assert np.allclose(implicit_gradient(W, r, delta, solver="gmres"), grad, atol=1e-12, rtol=0)
    # dW1 is the batch mean of the per-sample gradients
    assert np.allclose(update_direction("dW1", W, r, delta),
                       implicit_gradient(W, r, delta, per_sample=True).mean(0), atol=1e-15)


# ----------------------------------------------------------------------------- rules and metrics
@settings(max_examples=20)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 25), rho=st.floats(0.1, 1.2))
@example(seed=0, n=2, rho=0.1)
@example(seed=32999, n=9, rho=1.1875)  # the dynamics do not settle for one sample
def test_metric_forms_to_machine_precision(seed, n, rho):
    W, Wx, R, x, y = _problem(seed, n=n, b=3, nx=4, rho=rho)
    try:
        r = fixed_point(W, Wx, x, tol=1e-13).r
    except NoStableFixedPoint:
        # rho > 1: the dynamics may oscillate instead of settling; the identities below are
        # algebraic and hold at any fixed point r = tanh(Wr + W_x x), stable or not
        r = fixed_point(W, Wx, x, tol=1e-13, method="newton").r
    _, delta = output_error(R, r, y)
    grads = implicit_gradient(W, r, delta, per_sample=True)
    for rule in ("dW3", "dW4"):
        P, Q = preconditioners(rule, W, r)
        u, v = rule_factors(rule, W, r, delta)
        direct = u[:, :, None] * v[:, None, :]
        metric = P @ grads @ Q
        scale = np.abs(metric).max()
        assert np.abs(direct - metric).max() <= 1e-12 * max(scale, 1.0)
        # the batch update is the mean of per-sample preconditioned gradients
        assert np.allclose(update_direction(rule, W, r, delta), metric.mean(0), rtol=0,
                           atol=1e-13 * max(scale, 1.0))


@settings(max_examples=25)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 30), b=st.integers(1, 6))
@example(seed=1, n=2, b=1)
def test_rules_are_descent_directions(seed, n, b):
    W, Wx, R, x, y = _problem(seed, n=n, b=b, nx=5, rho=0.8, scale=2.0)
    r = fixed_point(W, Wx, x, tol=1e-12).r
    _, delta = output_error(R, r, y)
    grads = implicit_gradient(W, r, delta, per_sample=True)
    for rule in ("dW1", "dW3", "dW4"):
        u, v = rule_factors(rule, W, r, delta)
        per = np.einsum("bi,bj,bij->b", u, v, grads)       # <dW_i, grad_i>_F per sample
        assert np.all(per >= -1e-14 * np.abs(per).max(initial=1.0))


def test_metric_inner_is_pulled_back_frobenius():
    W, Wx, R, x, y = _problem(8, n=6, b=2)
    r = fixed_point(W, Wx, x).r
    rng = np.random.default_rng(0)
    U, V = rng.standard_normal((2, 6, 6))
    got = metric_inner("dW3", W, r, U, V)
    g = 1 - r ** 2
    I = np.eye(6)
    for i in range(2):
        L = np.linalg.inv(I - W * g[i][None, :])      # (I - W G)^-1
        M = np.linalg.inv(I - g[i][:, None] * W)      # (I - G W)^-1
        assert np.isclose(got[i], np.sum((L @ U @ M) * (L @ V @ M)), rtol=1e-10)
    # gradient descent under this metric: <dW3, V>_W = <grad, V>_F for every V
    _, delta = output_error(R, r, y)
    grads = implicit_gradient(W, r, delta, per_sample=True)
    u, v = rule_factors("dW3", W, r, delta)
    lhs = metric_inner("dW3", W, r, u[:, :, None] * v[:, None, :], V[None])
    assert np.allclose(lhs, np.einsum("bij,ij->b", grads, V), rtol=1e-9)


def test_linear_limit_dw3_equals_dw4():
    # G = I (r = 0 exactly, no input): both rules reduce to the linear dW3
    rng = np.random.default_rng(9)
    W = 0.4 * rng.standard_normal((5, 5))
    r = np.zeros((1, 5))
    delta = rng.standard_normal((1, 5))
    r_small = 1e-9 * rng.standard_normal((1, 5))
    assert np.allclose(update_direction("dW3", W, r_small, delta), update_direction("dW4", W, r_small, delta),
                       atol=1e-15)
    assert np.all(update_direction("dW3", W, r, delta) == 0)


def test_dw3_needs_no_inverse_cost_scaling():
    # dW3/dW4 touch W only through GEMMs: a singular I - GW is no problem for them
    n = 4
    W = np.eye(n)                   # I - W singular at r = 0
    r = np.zeros((2, n))
    delta = np.ones((2, n))
    for rule in ("dW3", "dW4"):
        assert np.all(np.isfinite(update_direction(rule, W, r, delta)))
