"""R8.top_eigenvalue: the top eigenvalue of dW at g = 0 against a simulated gradient flow."""
import numpy as np
import pytest
import sympy as sp

from rnn_theory.theory import exact_g0 as E
from rnn_theory.theory import exact_g0_eigen as X


def _flow(n, zh, t, seed=0):
    """Gradient flow of W (N dims, W0 = 0, w perp m, |w||m| = 1): no reduction used."""
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(seed)
    m = rng.normal(size=n)
    w = rng.normal(size=n)
    w -= (w @ m) / (m @ m) * m
    m *= np.sqrt(n) / np.linalg.norm(m)
    w *= np.sqrt(n) / np.linalg.norm(w) / n

    def rhs(_t, y):
        B = np.linalg.inv(np.eye(n) - y.reshape(n, n))
        return ((zh - w @ B @ m) * np.outer(B.T @ w, B @ m)).ravel()

    sol = solve_ivp(rhs, (0, t[-1]), np.zeros(n * n), method="DOP853", rtol=1e-12, atol=1e-14, t_eval=t)
    return [sol.y[:, k].reshape(n, n) for k in range(len(t))]


def _top_real_eig(M):
    ev = np.linalg.eigvals(M)
    return float(np.max(ev.real))


def test_derivation_checks_pass():
    (d,) = X.derivations()
    assert d.ok, [c.description for c in d.checks if not c.passed]


def test_top_eigenvalue_series_against_simulated_flow():
    """Series through tau^5: the error against the N = 20 flow is ~tau^6 (fitted order in
    [5.5, 6.5] between tau = 0.1 and 0.2); the trace differs by the factor 1/2 + 1/sqrt(3)."""
    zh = 1.0
    t = np.array([0.1, 0.2, 1.0, 2.5])
    dWs = _flow(20, zh, t)
    sim = np.array([_top_real_eig(M) for M in dWs])
    trace = np.array([np.trace(M) for M in dWs])
    ser = X.top_eigenvalue_series(5)
    top = sp.lambdify(E.tau, ser["top_eig"].subs(E.zhat, zh))(t[:2])
    err = np.abs(sim[:2] - top)
    order = np.log(err[1] / err[0]) / np.log(2)
    assert 5.5 < order < 6.5, (err, order)
    # the exact solution (a + sqrt(bc) from solve) at every tau, to the ODE tolerance
    np.testing.assert_allclose(sim, E.solve(zh, t)["top_eig"], atol=1e-8)
    # the trace is not the top eigenvalue: ratio -> 1/2 + 1/sqrt(3) = 1.0774 as tau -> 0,
    # with an O(tau^2) correction (the tau^3 terms share the factor (1 - tau))
    assert sim[0] / trace[0] == pytest.approx(0.5 + 1 / np.sqrt(3), abs=0.1**2)
    assert abs(sim[0] / trace[0] - 1) > 0.07


def test_top_eigenvalue_and_trace_at_the_final_state():
    """At convergence the top eigenvalue exceeds the trace's half and differs from the trace."""
    for zh in (0.5, 2.0):
        fs = E.final_state(zh, tau_c=False)
        M = _flow(12, zh, np.array([40.0]))[0]
        assert _top_real_eig(M) == pytest.approx(fs["top_eig"], abs=1e-7)
        assert np.trace(M) == pytest.approx(2 * fs["a"], abs=1e-7)
        assert fs["top_eig"] != pytest.approx(2 * fs["a"], rel=0.01)
