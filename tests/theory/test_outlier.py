"""theory.outlier: mixed moments, the outlier equation, top_eigenvalue (beyond the paper)."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.theory import exact_g0
from rnn_theory.theory.errors import DomainError, NonFiniteError, RNNTheoryError
from rnn_theory.theory.outlier import derivations, emergence_time, phi_mixed, top_eigenvalue
from rnn_theory.theory.outlier.moments import lam, phi_mixed_field, sd_series, series_route, xg

words_bt = st.text(alphabet="BT", min_size=0, max_size=4)


@settings(deadline=None, max_examples=25)
@given(left=words_bt, right=words_bt)
@example(left="", right="T")
@example(left="TB", right="BT")
def test_schwinger_dyson_equals_counted_pairings(left, right):
    """Route 1 (Schwinger-Dyson closed form) vs route 2 (counted non-crossing pairings), n <= 2."""
    word = left + "R" + right
    assert series_route(word, 2) == sd_series(word, 2)


def _resolvent_words(N, g, lv, seed):
    rng = np.random.default_rng(seed)
    W0 = g * rng.standard_normal((N, N)) / np.sqrt(N)
    B = np.linalg.inv(np.eye(N) - W0)
    R = np.linalg.inv(lv * np.eye(N) - W0)
    return {"B": B, "T": B.T, "R": R, "S": R.T}


@pytest.mark.parametrize("word", ["RT", "TRB", "BTRT", "TBRBT", "TBTRTB"])
def test_mixed_moments_vs_normalised_traces(word):
    """(1/N) tr at N = 800 vs the large-N value; tolerance 4/sqrt(N) relative (trace fluctuations are
    O(1/N), finite-N bias O(1/N), so this bound is conservative)."""
    N, g, lv = 800, 0.5, 0.8
    mats = _resolvent_words(N, g, lv, seed=1)
    prod = np.eye(N)
    for c in word:
        prod = prod @ mats[c]
    sim = np.trace(prod) / N
    th = float(phi_mixed(word).subs({xg: g**2, lam: lv}))
    assert abs(sim - th) <= 4 / np.sqrt(N) * abs(th)


def test_derivations_pass():
    for d in derivations():
        assert d.ok, (d.key, [(c.description, c.passed) for c in d.checks])


@settings(deadline=None, max_examples=8)
@given(zhat=st.floats(0.1, 4.0))
@example(zhat=2.0)
def test_g0_agrees_with_exact_top_eigenvalue_to_round_off(zhat):
    tau = np.linspace(0.0, 2.0, 9)
    lam_out = top_eigenvalue(0.0, zhat, tau)
    ex = exact_g0.solve(zhat, tau)["top_eig"]
    assert np.isnan(lam_out[0])
    np.testing.assert_allclose(lam_out[1:], ex[1:], rtol=1e-9, atol=1e-12)


def test_g0_series_converges_to_exact_with_order():
    """At g = 0 the order-K series route differs from the exact top eigenvalue by O(tau^K): the entries of
    A are exact through tau^K, so b c is off by O(tau^(K+2)) and sqrt(bc) = O(tau^2) by O(tau^K)."""
    zhat, tau = 1.0, np.array([0.025, 0.05])
    ex = exact_g0.solve(zhat, tau)["top_eig"]
    for K in (3, 5):
        err = np.abs(top_eigenvalue(0.0, zhat, tau, order=K, method="series") - ex)
        fitted = np.log2(err[1] / err[0])
        assert K - 0.5 < fitted < K + 0.5, (K, fitted)


def test_no_outlier_at_start_and_at_small_zhat():
    assert np.isnan(top_eigenvalue(0.6, 2.0, [0.0])[0])
    assert np.all(np.isnan(top_eigenvalue(0.6, 0.5, np.array([0.3, 0.6]) * (1 - 0.36) ** 2)))


def test_outlier_leaves_the_bulk_at_the_emergence_time():
    g = 0.6
    tc, ttc = emergence_time(g, 2.0)
    assert 0.15 < ttc < 0.25 and np.isclose(tc, ttc * (1 - g * g) ** 2)
    before, after = top_eigenvalue(g, 2.0, [0.98 * tc, 1.02 * tc])
    assert np.isnan(before) and g < after < g + 0.05


@pytest.mark.parametrize("kwargs,err", [
    (dict(g=1.2, zhat=1.0, tau=[0.1]), DomainError),
    (dict(g=-0.1, zhat=1.0, tau=[0.1]), DomainError),
    (dict(g=0.3, zhat=float("nan"), tau=[0.1]), RNNTheoryError),
    (dict(g=0.3, zhat=1.0, tau=[-0.1]), DomainError),
    (dict(g=0.3, zhat=1.0, tau=[np.inf]), NonFiniteError),
    (dict(g=0.3, zhat=1.0, tau=[0.1], order=2), DomainError),
    (dict(g=0.3, zhat=1.0, tau=[0.1], method="exact"), DomainError),
    (dict(g=0.3, zhat=1.0, tau=[0.1], method="magic"), DomainError),
])
def test_bad_input_gives_one_clear_error(kwargs, err):
    with pytest.raises(err):
        top_eigenvalue(**kwargs)


def test_phi_mixed_reduces_to_random_matrix_at_lambda_one():
    from rnn_theory.theory import random_matrix as rm

    for w in ("BTRT", "RTBT", "TBRB"):
        lhs = phi_mixed_field(w).as_expr().subs(lam, 1)
        rhs = rm.phi(w.replace("R", "B")).subs(rm.g, sp.sqrt(xg))
        assert sp.cancel(lhs - rhs) == 0


def test_overlap_matrix_vs_finite_n():
    """M_ji = b_j^T R(lambda) a_i for the atoms of the order-3 series at N = 2000 vs the large-N values.

    Fluctuations of a bilinear form b^T R a are O(|a||b| |R|_F/N) = O(N^-1/2) relative; tolerance
    5 |a||b| sqrt(tr(R R^T)/N) / sqrt(N)."""
    from rnn_theory.theory.linear.symbols import p_w
    from rnn_theory.theory.outlier import outlier_system

    N, g, lv = 2000, 0.5, 1.3
    rng = np.random.default_rng(7)
    W0 = g * rng.standard_normal((N, N)) / np.sqrt(N)
    m = rng.standard_normal(N)
    w = rng.standard_normal(N)
    m *= np.sqrt(N) / np.linalg.norm(m)
    w /= np.sqrt(N) * np.linalg.norm(w)
    B = np.linalg.inv(np.eye(N) - W0)
    R = np.linalg.inv(lv * np.eye(N) - W0)
    mats = {"B": B, "T": B.T}

    def vec(atom):
        base, word = atom
        v = w if base == "w" else m
        for c in reversed(word):
            v = mats[c] @ v
        return v

    sysm = outlier_system(3)
    scale = np.sqrt(np.sum(R * R) / N) / np.sqrt(N)
    for j, b in enumerate(sysm["right"]):
        for i, a in enumerate(sysm["left"]):
            va, vb = vec(a), vec(b)
            th = float(sysm["M"][j, i].subs({p_w: 1 / N, xg: g * g, lam: lv}))
            assert abs(vb @ R @ va - th) <= 5 * np.linalg.norm(va) * np.linalg.norm(vb) * scale, (a, b)
