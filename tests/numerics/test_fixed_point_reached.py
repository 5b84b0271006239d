"""The default fixed-point solver returns the stable fixed point the dynamics reach (issue 10, item 6).

Independent route: a long integration of tau dr/dt = -r + tanh(W r + h) by scipy's
adaptive Runge-Kutta (solve_ivp, RK45), not by the solver's own Euler relaxation.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from rnn_theory.numerics.fixed_point import solve_fixed_point, stability_report
from rnn_theory.theory.errors import FixedPointNotConverged, NoStableFixedPoint, UnstableError


def _integrate(W, h, T, r0=None):
    """State of the dynamics at time T (units of tau) for each row of h, and its residual."""
    out = []
    for i in range(len(h)):
        y0 = np.zeros(W.shape[0]) if r0 is None else r0[i]
        sol = solve_ivp(lambda t, r, i=i: np.tanh(W @ r + h[i]) - r, (0.0, T), y0, method="RK45",
                        rtol=1e-10, atol=1e-12)
        out.append(sol.y[:, -1])
    r = np.array(out)
    return r, np.abs(r - np.tanh(r @ W.T + h)).max(axis=1)


def _bound(W, r, res_ivp):
    """|r* - r(T)|_inf <= ||(I - G W)^-1||_inf * |F(r(T))|_inf (to first order; factor 2 for the next)."""
    g = 1.0 - r ** 2
    k = [np.linalg.norm(np.linalg.inv(np.eye(len(W)) - gi[:, None] * W), np.inf) for gi in g]
    return 2.0 * np.array(k) * res_ivp + 1e-9


def _digits_problem():
    pytest.importorskip("sklearn")
    from rnn_theory.numerics.fixed_point.digits import load_digits_split
    d = load_digits_split(np.random.default_rng(0))
    rng = np.random.default_rng(2)
    n = 80
    W = 1.2 * rng.standard_normal((n, n)) / np.sqrt(n)
    U = rng.standard_normal((n, 64)) / np.sqrt(64)
    return W, d.X_train[:200] @ U.T


def test_issue_example_digits_returns_the_stable_point_the_dynamics_reach():
    # issue 10: W = 1.2 N(0,1)/sqrt(N), N = 80, digit inputs; Newton from tanh(h) lands on an
    # unstable fixed point (max Re eig(G W) = 1.036 for sample 25) that the dynamics never reach
    W, h = _digits_problem()
    h = h[[25, 115, 0, 1]]
    newton = solve_fixed_point(W, h, method="newton")
    lam_newton = stability_report(W, newton.r).max_real_eig
    assert lam_newton[0] > 1.0 and lam_newton[1] > 1.0          # the old default's answer: unstable
    with pytest.raises(UnstableError):
        solve_fixed_point(W, h, method="newton", stability="raise")
    fp = solve_fixed_point(W, h, stability="raise")               # no false "no stable fixed point"
    assert fp.stable is True and "eigenvalues" in fp.certificate
    assert np.all(stability_report(W, fp.r).max_real_eig < 1.0)
    r_T, res_T = _integrate(W, h, 600.0)
    assert res_T.max() < 1e-7                                     # the dynamics did settle
    assert np.all(np.abs(fp.r - r_T).max(axis=1) <= _bound(W, fp.r, res_T))
    assert np.abs(newton.r[0] - r_T[0]).max() > 0.1               # ...far from Newton's point


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(8, 30), g=st.floats(0.8, 1.4))
@example(seed=3, n=30, g=1.5)
@example(seed=11, n=20, g=1.05)
def test_default_solver_matches_a_long_integration(seed, n, g):
    rng = np.random.default_rng(seed)
    W = g * rng.standard_normal((n, n)) / np.sqrt(n)
    h = 0.75 * rng.standard_normal((3, n))
    T = 400.0
    r_T, res_T = _integrate(W, h, T)
    if np.all(res_T < 1e-8):                                      # the dynamics settled
        fp = solve_fixed_point(W, h, t_max=T)
        assert fp.stable is True
        assert np.all(stability_report(W, fp.r).max_real_eig < 1.0)
        assert np.all(np.abs(fp.r - r_T).max(axis=1) <= _bound(W, fp.r, res_T))
    elif np.any(res_T > 1e-3):                                    # some trajectory clearly did not
        r_2T, res_2T = _integrate(W, h, T, r0=r_T)
        assume(np.any(res_2T > 1e-3))                             # ...and still does not at 2T
        with pytest.raises(NoStableFixedPoint):
            solve_fixed_point(W, h, t_max=T)
    else:
        assume(False)                                             # slow relaxation: no verdict at T


def test_fast_path_is_certified_by_contraction_and_stable():
    rng = np.random.default_rng(0)
    n = 60
    W = 0.5 * rng.standard_normal((n, n)) / np.sqrt(n)
    h = rng.standard_normal((5, n))
    fp = solve_fixed_point(W, h)
    assert fp.method == "picard" and fp.stable is True and "contraction" in fp.certificate
    assert np.all(stability_report(W, fp.r).max_real_eig < 1.0)   # independent check of the certificate


def test_start_on_an_unstable_fixed_point_and_chaos_are_refused():
    rng = np.random.default_rng(5)
    n = 50
    W = 3.0 * rng.standard_normal((n, n)) / np.sqrt(n)   # chaotic regime; r = 0 is an unstable fixed point
    h = np.zeros((1, n))
    with pytest.raises(NoStableFixedPoint, match="stay on an unstable fixed point") as info:
        solve_fixed_point(W, h)                               # r0 = 0 is itself the (unstable) fixed point
    assert isinstance(info.value, UnstableError) and isinstance(info.value, FixedPointNotConverged)
    with pytest.warns(RuntimeWarning, match="unstable"):
        fp = solve_fixed_point(W, h, stability="warn")
    assert fp.stable is False and np.all(fp.r == 0)
    # from a perturbed state the chaotic dynamics never settle: the error says so
    with pytest.raises(NoStableFixedPoint, match="did not settle within t_max = 50"):
        solve_fixed_point(W, h, r0=0.1 * rng.standard_normal((1, n)), t_max=50.0)


def test_bad_t_max_is_refused():
    from rnn_theory.theory.errors import DomainError
    with pytest.raises(DomainError, match="t_max"):
        solve_fixed_point(np.zeros((3, 3)), np.zeros((1, 3)), t_max=0.0)
