"""The public testing helpers: statistical comparison and hypothesis strategies."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rnn_theory.numerics import testing as T
from rnn_theory.numerics.linear import max_real_eig
from rnn_theory.theory.errors import DomainError, ShapeError


def test_t_critical_values():
    assert np.isclose(T.t_critical(10, 0.05), 2.2621571627, rtol=1e-9)  # tables: t_{0.975, 9}
    assert T.t_critical(3) > T.t_critical(30) > 3.2  # alpha = 1e-3 default
    with pytest.raises(DomainError):
        T.t_critical(1)


def test_compare_accepts_truth_and_rejects_a_shift():
    rng = np.random.default_rng(0)
    x = 2.0 + 0.1 * rng.standard_normal(400)
    assert T.compare("mean", 2.0, x).passed
    # a shift of 10 standard errors must be detected
    assert not T.compare("mean", 2.0 + 10 * 0.1 / 20, x).passed
    row = T.compare("known sigma", 2.0, x, sigma=0.1)
    assert row.passed and np.isclose(row.statistical, 3.2905 * 0.1 / 20, rtol=1e-4)
    sys_row = T.compare("with allowance", 2.1, x, systematic=0.2, note="bias")
    assert sys_row.passed and sys_row.systematic == 0.2 and "bias" in str(sys_row)
    with pytest.raises(ShapeError):
        T.compare("empty", 0.0, [])


def test_false_alarm_rate_matches_alpha():
    """Over many unbiased experiments, the Student-t bound fails at about rate alpha."""
    rng = np.random.default_rng(1)
    fails = sum(not T.compare("x", 0.0, rng.standard_normal(5), alpha=0.05).passed for _ in range(2000))
    assert 0.035 < fails / 2000 < 0.065  # binomial sd 0.005


def test_assert_close_to_theory_raises_with_row():
    with pytest.raises(AssertionError, match="FAIL"):
        T.assert_close_to_theory("wrong", 5.0, [1.0, 1.1, 0.9, 1.05])


def test_compare_to_simulation_is_deterministic_and_checks_speedup():
    from rnn_theory.numerics.linear import draw_network
    from rnn_theory.theory.linear import speedup

    def G0(rng, g=0.5, n=150):
        W0, m, w = draw_network(n, g, rng)
        B = np.linalg.inv(np.eye(n) - W0)
        return (np.sum((B.T @ w) ** 2)) * np.sum((B @ m) ** 2)

    a = T.compare_to_simulation("G(0)", speedup(0.5), G0, n_samples=10)
    b = T.compare_to_simulation("G(0)", speedup(0.5), G0, n_samples=10)
    assert a == b and a.passed
    # and the same simulation rejects a wrong closed form (beta instead of beta^2)
    assert not T.compare_to_simulation("G(0)", 1 / (1 - 0.25), G0, n_samples=10).passed


@given(vec=T.normalised_vectors())
@settings(max_examples=20)
def test_normalised_vectors_exact_norms(vec):
    m, w = vec
    n = m.size
    assert np.isclose(np.linalg.norm(m), np.sqrt(n), rtol=1e-14)
    assert np.isclose(np.linalg.norm(m) * np.linalg.norm(w), 1.0, rtol=1e-14)


@given(net=T.random_networks(n=st.integers(2, 80)))
@settings(max_examples=20)
def test_random_networks_are_stable_and_reproducible(net):
    from rnn_theory.numerics.linear import draw_network

    assert max_real_eig(net.W0) < 1
    W0, m, w = draw_network(net.n, net.g, np.random.default_rng(net.seed))
    assert np.array_equal(W0, net.W0) and np.array_equal(m, net.m)


@given(W=T.stable_matrices(max_real=0.5))
@settings(max_examples=20)
def test_stable_matrices_respect_the_bound(W):
    assert max_real_eig(W) <= 0.5 + 1e-9


def test_strategy_arguments_are_validated():
    with pytest.raises(DomainError):
        T.gains(0.2, 1.0)
    with pytest.raises(DomainError):
        T.stable_matrices(max_real=1.0)
