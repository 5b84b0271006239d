"""R3/R4: moment rules (two symbolic routes) against the spec targets and finite-N traces."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.theory import random_matrix as rm
from rnn_theory.theory.errors import DomainError

g = rm.g
beta = 1 / (1 - g**2)

# spec targets: test oracles only
TARGETS = {
    "B": sp.Integer(1),
    "BT": beta,
    "BTT": beta**2,
    "TBB": beta**2,  # phi(B B B^T) = phi(B B^T B^T) by transposition
    "BTBT": beta**4,
    "BBTT": (1 + g**2) / (1 - g**2) ** 3,
}


@pytest.mark.parametrize("word", list(TARGETS))
def test_schwinger_dyson_matches_target(word):
    assert sp.simplify(rm.phi(word) - TARGETS[word]) == 0


@pytest.mark.parametrize("word", list(rm.MOMENT_RULES))
def test_series_route_matches_target(word):
    _, _, closed = rm.moment_series(word)
    assert sp.simplify(closed.subs(rm.x, g**2) - TARGETS[word]) == 0


def test_series_terms_are_the_spec_series():
    n = rm.n
    assert sp.expand(rm.moment_series("BTT")[1] - (n + 1)) == 0
    assert sp.expand(rm.moment_series("BTBT")[1] - sp.binomial(n + 3, 3).expand(func=True)) == 0
    assert sp.expand(rm.moment_series("BBTT")[1] - (n + 1) ** 2) == 0
    assert rm.moment_series("B")[1] == 0


@settings(max_examples=30)
@given(st.text(alphabet="BT", min_size=1, max_size=5))
@example("BTBTB")
@example("TTTT")
def test_two_routes_agree_on_random_words(word):
    """SD polynomial in beta, expanded in x = g^2, equals the counted pairings."""
    sd = rm.phi(word, in_beta=True).subs(rm.beta_sym, 1 / (1 - rm.x))
    ser = sp.series(sd, rm.x, 0, 4).removeO()
    coeffs = [ser.coeff(rm.x, k) for k in range(4)]
    assert coeffs == rm.series_coefficients(word, 3)


def test_word_invariances():
    # cyclic and transpose invariance of the normalised trace
    assert rm.phi_beta_coeffs("BTTB") == rm.phi_beta_coeffs("TBBT") == rm.phi_beta_coeffs("BBTT")


def test_bad_word():
    with pytest.raises(ValueError, match="letters"):
        rm.phi("BX")


def _B(n, gv, seed):
    rng = np.random.default_rng(seed)
    J = rng.normal(size=(n, n)) / np.sqrt(n)
    return np.linalg.inv(np.eye(n) - gv * J), rng


def _traces(B):
    n = B.shape[0]
    BBt = B @ B.T
    B2 = B @ B
    return {"BT": np.trace(BBt) / n, "BTT": np.sum(BBt * B) / n,
            "BTBT": np.sum(BBt * BBt.T) / n, "BBTT": np.sum(B2 * B2) / n}


@pytest.mark.parametrize("gv", [0.3, 0.6])
def test_moment_rules_vs_finite_n_traces(gv):
    """(1/N) tr of explicit products at N = 1000 (one draw).

    The deviation is a positive finite-N bias ~ 1/N that grows with beta (measured: <= 1.5 %
    at g = 0.6, N = 1000; it halves at N = 2000), so 2.5 % here; the slow test checks N = 2000.
    """
    B, _ = _B(1000, gv, seed=7)
    for word, val in _traces(B).items():
        th = float(rm.phi(word).subs(g, gv))
        assert abs(val / th - 1) < 0.025, (word, val, th)


@pytest.mark.slow
def test_moment_rules_vs_traces_n2000():
    """Spec check R3 at N = 2000, g in {0.3, 0.6, 0.8}, 3 draws each.

    The mean relative deviation must lie within 3 standard errors of the draws plus a bias
    allowance (2 % for g <= 0.6 as in the spec; 5 % at g = 0.8).

    Why not the original single-draw bounds (2/2/6 %) and "the deviation halves from N = 1000
    to 2000": ``benchmarks/moment_bias.py`` (16/12/8/4 draws at N = 250/500/1000/2000) shows
    that at g = 0.8 the draw-to-draw spread, not a clean 1/N bias, dominates: single draws of
    phi(B B^T B B^T) range over [-3.7 %, +26.5 %] at N = 1000 and [+0.1 %, +6.3 %] at N = 2000
    (one of four draws above the old 6 % bound), and the mean deviation is not monotone in N
    with these draw counts (+5.7 +- 4.0 % at N = 500, +13.6 +- 4.2 % at N = 1000, +3.3 +- 1.3 %
    at N = 2000).  A single-draw ratio of two such numbers passes or fails by the seed.  At
    g = 0.6 the bias is resolved only at small N (+1.23 +- 0.32 % for phi(B B^T) at N = 250,
    +0.36 +- 0.20 % at N = 500) and falls at least as fast as 1/N; that decrease is tested in
    :func:`test_moment_rule_bias_decreases_with_n`.
    """
    for gv, allow in [(0.3, 0.02), (0.6, 0.02), (0.8, 0.05)]:
        devs = []
        for seed in range(3):
            B, _ = _B(2000, gv, seed=100 + seed)
            devs.append({w: v / float(rm.phi(w).subs(g, gv)) - 1 for w, v in _traces(B).items()})
        for w in devs[0]:
            d = np.array([x[w] for x in devs])
            se = d.std(ddof=1) / np.sqrt(len(d))
            assert abs(d.mean()) < 3 * se + allow, (gv, w, d)


@pytest.mark.slow
def test_moment_rule_bias_decreases_with_n():
    """The finite-N bias check, in a form the statistics support (see the N = 2000 test):
    at g = 0.6 the mean deviation of (1/N) tr(B B^T) from phi(B B^T) over 16 draws at N = 250
    is positive and exceeds the mean over 8 draws at N = 1000 by more than 3 combined standard
    errors (an O(1/N) bias b/N gives a difference 3b/4N_250; data: +1.23 % vs +0.08 %)."""
    th = float(rm.phi("BT").subs(g, sp.Rational(3, 5)))
    stats = {}
    for n, draws in ((250, 16), (1000, 8)):
        d = np.array([np.trace(B @ B.T) / n / th - 1
                      for B in (_B(n, 0.6, seed=1000 * n + s)[0] for s in range(draws))])
        stats[n] = (d.mean(), d.std(ddof=1) / np.sqrt(draws))
    diff = stats[250][0] - stats[1000][0]
    assert stats[250][0] > 0 and diff > 3 * np.hypot(stats[250][1], stats[1000][1]), stats


def test_speedup_vs_sampled_gain():
    """Mean of G(0) = |B^T w|^2 |B m|^2 over draws of (w, m) vs beta^2 at g = 0.6, N = 800.

    Tolerance: 4 standard errors of the sample mean plus the ~1/N bias allowance (1 %).
    """
    n, gv = 800, 0.6
    B, rng = _B(n, gv, seed=3)
    G0 = []
    for _ in range(40):
        m = rng.normal(size=n)
        m *= np.sqrt(n) / np.linalg.norm(m)
        w = rng.normal(size=n)
        w *= np.sqrt(n) / np.linalg.norm(w) / n
        G0.append(np.sum((B.T @ w) ** 2) * np.sum((B @ m) ** 2))
    G0 = np.array(G0)
    se = G0.std(ddof=1) / np.sqrt(len(G0))
    th = rm.speedup(gv)
    assert abs(G0.mean() - th) < 4 * se + 0.01 * th, (G0.mean(), th, se)


def test_speedup_values_and_errors():
    assert rm.speedup(0.0) == 1.0
    assert abs(rm.speedup(0.6) - 1 / (1 - 0.36) ** 2) < 1e-15
    np.testing.assert_allclose(rm.speedup(np.array([0.0, 0.5])), [1.0, 16 / 9], rtol=1e-15)
    s = sp.Symbol("s")
    assert sp.simplify(rm.speedup(s) - 1 / (1 - s**2) ** 2) == 0
    for bad in (1, 1.0, 1.5, -0.1, float("nan")):
        with pytest.raises(DomainError, match="g"):
            rm.speedup(bad)
    with pytest.raises(DomainError, match="0 <= g < 1"):
        rm.speedup(1)
    with pytest.raises(DomainError):
        rm.speedup(np.array([0.2, 1.2]))


def test_derivations_pass():
    ds = rm.derivations()
    assert ds and all(d.ok for d in ds)


@pytest.mark.parametrize("word", ["B", "BB"])
def test_offset_variance_vs_sampling(word):
    """Sample w^T M m over 400 draws of (w, m) at N = 300, g = 0.5, for a fixed B.

    Tolerance: the sample variance of a (nearly Gaussian) variable has relative s.e.
    sqrt(2/(n-1)) ~ 7 %; allow 4 s.e. plus 3 % finite-N bias of phi at this N."""
    n, gv, draws = 300, 0.5, 400
    B, rng = _B(n, gv, seed=21)
    M = B if word == "B" else B @ B
    vals = []
    for _ in range(draws):
        m = rng.normal(size=n); m *= np.sqrt(n) / np.linalg.norm(m)
        w = rng.normal(size=n); w *= np.sqrt(n) / np.linalg.norm(w) / n
        vals.append(w @ M @ m)
    var = np.var(vals, ddof=1) * n
    th = float(rm.offset_variance(word).subs(rm.beta_sym, 1 / (1 - gv**2)))
    assert abs(var / th - 1) < 4 * np.sqrt(2 / (draws - 1)) + 0.03, (var, th)
