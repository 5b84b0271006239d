"""Issue 10, items 5 and 7: no silent numbers outside a formula's validity; recorded analyses
describe the returned weights."""
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.linear import (
    bptt_gradient,
    draw_network,
    euler_loss,
    euler_readout,
    fixed_point_gradient,
    fixed_point_readout,
    train_fixed_point,
)
from rnn_theory.numerics.rate.analysis import convergence_step
from rnn_theory.numerics.testing import compare, compare_to_simulation
from rnn_theory.theory import exact_g0 as E
from rnn_theory.theory import linear as L
from rnn_theory.theory.errors import DomainError, NonFiniteError, UnstableError


# ----------------------------------------------------------------------------- linear network
def _unstable(seed, n):
    """A W whose leading eigenvalue has real part 1.1 (no stable fixed point), W0 + shift."""
    W0, m, w = draw_network(n, 0.5, np.random.default_rng(seed))
    lam = np.linalg.eigvals(W0)
    return W0 + (1.1 - lam.real.max()) * np.eye(n), m, w


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 40))
@example(seed=0, n=2)
def test_no_stable_fixed_point_is_refused_everywhere(seed, n):
    W, m, w = _unstable(seed, n)
    for call in (lambda: fixed_point_readout(W, m, w), lambda: fixed_point_gradient(W, m, w, 1.0),
                 lambda: bptt_gradient(W, m, w, 1.0), lambda: euler_readout(W, m, w),
                 lambda: euler_loss(W, m, w, 1.0)):
        with pytest.raises(UnstableError, match="real part 1.1"):
            call()


def test_singular_i_minus_w_is_refused_without_a_scipy_warning():
    n = 6
    W0, m, w = draw_network(n, 0.5, np.random.default_rng(1))
    # make 1 an exact eigenvalue: W = I - (I - W0) P with P the projector removing one direction
    q = np.linalg.qr(np.random.default_rng(2).standard_normal((n, n)))[0]
    Wsing = np.eye(n) - q[:, 1:] @ q[:, 1:].T            # I - W = projector of rank n - 1: singular
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in (lambda: fixed_point_readout(Wsing, m, w, check_stability=False),
                     lambda: fixed_point_gradient(Wsing, m, w, 1.0, check_stability=False)):
            with pytest.raises(DomainError, match="singular"):
                call()
        with pytest.raises(UnstableError):                # with the default check: eigenvalue 1
            fixed_point_readout(Wsing, m, w)


def test_stable_w_still_gives_the_fixed_point_numbers():
    W0, m, w = draw_network(30, 0.5, np.random.default_rng(3))
    z = fixed_point_readout(W0, m, w)
    assert abs(z - w @ np.linalg.solve(np.eye(30) - W0, m)) < 1e-12 * max(1, abs(z))


@pytest.mark.parametrize("seed", [0, 1])
def test_bptt_training_records_the_actual_weight_change(seed):
    W0, m, w = draw_network(40, 0.6, np.random.default_rng(seed))
    res = train_fixed_point(W0, m, w, 1.0, 0.05, 25, method="bptt", n_sv=4)
    s = np.linalg.svd(res.dW, compute_uv=False)[:4]     # independent: dense SVD of the returned dW
    np.testing.assert_allclose(res.sv[-1], s, rtol=1e-12, atol=1e-14)
    assert abs(res.dw_norm[-1] - np.linalg.norm(res.dW)) <= 1e-12 * np.linalg.norm(res.dW)
    # dw_norm[k] is |W_k - W0|: a shorter run of the same descent ends where this one passed step 10
    short = train_fixed_point(W0, m, w, 1.0, 0.05, 10, method="bptt", n_sv=4)
    assert abs(res.dw_norm[10] - np.linalg.norm(short.dW)) <= 1e-12 * np.linalg.norm(short.dW)


# ----------------------------------------------------------------------------- comparison tools
def test_compare_refuses_nan_samples_and_theory():
    with pytest.raises(NonFiniteError, match=r"1 of 3 samples .*indices \[2\]"):
        compare("x", 1.0, [1.0, 1.1, float("nan")])
    with pytest.raises(NonFiniteError, match="theory"):
        compare("x", float("nan"), [1.0, 1.1, 0.9])
    with pytest.raises(NonFiniteError, match=r"i in \[1\]"):
        compare_to_simulation("x", 1.0, lambda r: float("nan") if r.bit_generator.seed_seq.entropy[1] == 1
                              else 1.0 + r.standard_normal(), n_samples=4)


def test_convergence_step_refuses_nan_histories():
    with pytest.raises(NonFiniteError, match="step 2"):
        convergence_step([1.0, 0.5, float("nan"), 0.01])
    with pytest.raises(NonFiniteError):
        convergence_step([float("inf"), 0.5])
    assert convergence_step([1.0, 0.9]) is None


# ----------------------------------------------------------------------------- series validity
def test_issue_example_third_order_far_outside_its_range_raises():
    with pytest.raises(DomainError, match="trusted for tau_tilde <="):
        L.third_order(0.99, 2, [0.5])                     # was G = -4e15 silently


@pytest.mark.parametrize("zh", [0.5, 1.0, 2.0])
def test_validity_limit_against_the_exact_g0_solution(zh):
    # independent route: the exact g = 0 solution (R8).  Inside the 10 % range the actual error
    # of z stays below the last-term estimate's 10 %; far beyond the ratio-1 limit it is large
    lim = L.validity_limit(0.0, zh)
    t = np.linspace(lim / 20, lim, 20)
    z_series = L.third_order(0.0, zh, t, tilde=True)["z"]
    z_exact = E.solve(zh, t)["z"]
    rel = np.abs(z_series - z_exact) / np.abs(z_exact)
    assert np.all(rel <= L.curves.VALIDITY_RATIO)
    lim1 = L.validity_limit(0.0, zh, ratio=1.0)
    assert lim1 > lim
    with pytest.warns(RuntimeWarning, match="outside the range"):
        L.third_order(0.0, zh, [(lim + lim1) / 2], tilde=True)
    with pytest.raises(DomainError):
        L.third_order(0.0, zh, [1.01 * lim1], tilde=True)
    L.third_order(0.0, zh, [3 * lim1], tilde=True, beyond="ignore")   # explicit extrapolation


def test_higher_order_series_have_their_own_larger_range():
    assert L.validity_limit(0.5, 1.0, order=5) > L.validity_limit(0.5, 1.0, order=3)
