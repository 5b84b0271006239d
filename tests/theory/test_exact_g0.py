"""R8: exact g = 0 reduction vs the full 2x2 flow, N-dimensional flow, mpmath, and R6."""
import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.theory import exact_g0 as E
from rnn_theory.theory import linear as L
from rnn_theory.theory.errors import DomainError


def _full_2x2(zh, t_eval):
    """Route 2: integrate dA/dtau = eps u v^T for a general 2x2 A (no invariants used)."""
    from scipy.integrate import solve_ivp

    def rhs(_t, y):
        A = y.reshape(2, 2)
        Bi = np.linalg.inv(np.eye(2) - A)
        u, v = Bi.T[:, 0], Bi[:, 1]
        return ((zh - Bi[0, 1]) * np.outer(u, v)).ravel()

    return solve_ivp(rhs, (0, t_eval[-1]), np.zeros(4), method="DOP853", rtol=1e-12, atol=1e-14, t_eval=t_eval)


@pytest.mark.parametrize("zh", [0.5, 2.0, -1.0])
def test_scalar_ode_matches_full_2x2_system(zh):
    t = np.linspace(0, 4, 9)
    out = E.solve(zh, t)
    ref = _full_2x2(zh, t)
    A = ref.y.T.reshape(-1, 2, 2)
    np.testing.assert_allclose(out["b"], A[:, 0, 1], atol=1e-9)
    np.testing.assert_allclose(out["c"], A[:, 1, 0], atol=1e-9)
    np.testing.assert_allclose(out["a"], A[:, 0, 0], atol=1e-9)
    np.testing.assert_allclose(A[:, 0, 0], A[:, 1, 1], atol=1e-10)  # symmetry d = a
    s = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(out["s1"], s[:, 0], atol=1e-9)
    np.testing.assert_allclose(out["s2"], s[:, 1], atol=1e-9)
    np.testing.assert_allclose(out["dw_norm"], np.linalg.norm(A, axis=(1, 2)), atol=1e-9)
    # invariants along the numerical flow (route 2 knows nothing about them)
    np.testing.assert_allclose((1 - A[:, 0, 0]) ** 2 + A[:, 0, 1] ** 2, 1, atol=1e-10)
    np.testing.assert_allclose(A[:, 1, 0], np.arctanh(A[:, 0, 1]) - A[:, 0, 1], atol=1e-10)
    np.testing.assert_allclose(out["loss"], 0.5 * (zh - out["z"]) ** 2)


def test_n_dimensional_flow_is_rank_two_and_projects_on_2x2():
    """Gradient flow in N = 30 dims with W0 = 0, w perp m exactly: the 2x2 projection follows
    solve(), and dW is rank 2 to round-off (s3/s1 ~ 1e-15)."""
    from scipy.integrate import solve_ivp

    n, zh = 30, 1.5
    rng = np.random.default_rng(0)
    m = rng.normal(size=n)
    w = rng.normal(size=n)
    w -= (w @ m) / (m @ m) * m
    m *= np.sqrt(n) / np.linalg.norm(m)
    w *= np.sqrt(n) / np.linalg.norm(w) / n

    def rhs(_t, y):
        Wf = y.reshape(n, n)
        B = np.linalg.inv(np.eye(n) - Wf)
        return ((zh - w @ B @ m) * np.outer(B.T @ w, B @ m)).ravel()

    t = np.array([0.3, 1.0, 3.0])
    sol = solve_ivp(rhs, (0, 3), np.zeros(n * n), method="DOP853", rtol=1e-11, atol=1e-13, t_eval=t)
    out = E.solve(zh, t)
    wh, mh = w / np.linalg.norm(w), m / np.linalg.norm(m)
    for k in range(len(t)):
        dW = sol.y[:, k].reshape(n, n)
        s = np.linalg.svd(dW, compute_uv=False)
        assert s[2] / s[0] < 1e-12
        assert abs(wh @ dW @ mh - out["b"][k]) < 1e-8
        assert abs(mh @ dW @ wh - out["c"][k]) < 1e-8
        assert abs(wh @ dW @ wh - out["a"][k]) < 1e-8
        assert abs(s[1] - out["s2"][k]) < 1e-8


@settings(max_examples=20)
@given(st.floats(0.01, 20.0))
@example(1e-6)
@example(50.0)
def test_final_state_root_and_structure(zh):
    fs = E.final_state(zh, dps=40, as_mpf=True, tau_c=False)
    with mpmath.workdps(40):
        b = fs["b"]
        resid = b / (1 - b * mpmath.atanh(b)) - zh
        assert abs(resid) < mpmath.mpf(10) ** -30 * max(1, zh)
    assert 0 < fs["top_eig"] < 1  # W stays stable; tends to 1 as zhat -> infinity
    assert fs["s1"] >= fs["s2"] >= 0


def test_final_state_precision_and_limits():
    hi = E.final_state(2.0, dps=60, as_mpf=True, tau_c=False)
    lo = E.final_state(2.0)
    for k in ("b", "dw_norm", "s1", "s2", "top_eig"):
        assert abs(float(hi[k]) - lo[k]) < 1e-14 * max(1, abs(lo[k]))
    # large target: top eigenvalue approaches 1 (b artanh b -> 1)
    assert E.final_state(1e3)["top_eig"] > 0.99 > E.final_state(10)["top_eig"] > E.final_state(1)["top_eig"]
    # negative target: odd/even symmetry
    neg = E.final_state(-2.0, tau_c=False)
    assert neg["b"] == -lo["b"] and neg["dw_norm"] == lo["dw_norm"] and neg["z"] == -2.0
    assert E.final_state(0.0)["dw_norm"] == 0.0


@pytest.mark.parametrize("zh", [0.5, 1.0, 2.0, 10.0])
def test_final_state_vs_long_integration_and_tau_c(zh):
    fs = E.final_state(zh)
    out = E.solve(zh, [60.0])
    for k in ("b", "dw_norm", "s1", "s2", "top_eig"):
        assert abs(out[k][0] - fs[k]) < 1e-8, k
    # tau_c: mpmath quadrature of dtau = db / bdot  vs  ODE event
    assert abs(out["tau_c"] - fs["tau_c"]) < 1e-7


def test_tau_c_tends_to_first_order_as_zhat_to_zero():
    """tau_c(zhat) -> ln(20)/2 (R5 at g = 0) with a deviation ~ zhat^2 (ratio ~4 when halving)."""
    t1 = L.convergence_time(0.0)
    dev = [E.final_state(zh)["tau_c"] - t1 for zh in (0.1, 0.05)]
    assert abs(dev[0]) < 0.05 * t1
    assert 3.5 < dev[0] / dev[1] < 4.5


def test_taylor_series_vs_numerical_solution_order_four():
    """The R6 series (beta = 1) approximates the exact z(tau) with error ~ tau^4: the error
    ratio between tau and tau/2 is ~16 (fitted convergence order in [3.8, 4.2])."""
    zh = 1.0
    ts = np.array([0.04, 0.08])
    exact = E.solve(zh, ts)["z"]
    series = L.third_order(0.0, zh, ts)["z"]
    err = np.abs(exact - series)
    order = np.log(err[1] / err[0]) / np.log(2)
    assert 3.8 < order < 4.2, order
    # Taylor polynomial of degree 6 from taylor_series(): error ~ tau^7
    ser = E.taylor_series()
    zpoly = sp.lambdify(E.tau, ser["z"].subs(E.zhat, zh))
    err5 = np.abs(exact - zpoly(ts))
    assert err5[0] < err[0] / 100 and 6.5 < np.log(err5[1] / err5[0]) / np.log(2) < 7.5


def test_series_matches_r6_symbolically():
    ser = E.taylor_series()
    r6 = L.third_order_series()
    z6 = r6["z"].subs({L.beta: 1, L.tau_t: E.tau, L.zhat: E.zhat})
    z8 = sum(sp.expand(ser["z"]).coeff(E.tau, k) * E.tau**k for k in range(4))
    assert sp.simplify(z8 - z6) == 0
    det4 = sum(sp.expand(ser["det"]).coeff(E.tau, k) * E.tau**k for k in range(5))
    assert sp.simplify(det4 + E.zhat**4 * E.tau**4 / 12) == 0


def test_reduction_targets():
    red = E.reduction()
    assert all(red["checks"].values())
    b = E.b
    assert sp.simplify(red["z_of_b"] - b / (1 - b * sp.atanh(b))) == 0
    assert sp.simplify(red["a_of_b"] - (1 - sp.sqrt(1 - b**2))) == 0
    assert sp.simplify(red["c_of_b"] - (sp.atanh(b) - b)) == 0


def test_solve_accepts_unsorted_duplicate_and_shaped_tau():
    ref = E.solve(1.0, [0.0, 0.5, 1.0])
    out = E.solve(1.0, [1.0, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(out["z"], ref["z"][[2, 1, 1, 0]])
    assert E.solve(1.0, np.full((2, 3), 0.25))["z"].shape == (2, 3)
    assert E.solve(1.0, 0.25)["z"].shape == ()


def test_bad_input():
    with pytest.raises(DomainError):
        E.solve(float("nan"), [0.0])
    with pytest.raises(DomainError):
        E.solve(1.0, [-1.0])
    with pytest.raises(DomainError):
        E.final_state("abc")


def test_derivations_pass():
    ds = E.derivations()
    assert [d.key for d in ds] == ["R8.reduction", "R8.invariants", "R8.scalar_ode", "R8.series"]
    assert all(d.ok for d in ds)


@settings(max_examples=15)
@given(zh=st.floats(-5.0, 5.0), t=st.floats(0.0, 5.0))
@example(zh=4.0, t=5.0)
@example(zh=0.0, t=1.0)
def test_invariants_and_monotone_approach(zh, t):
    """Along solve(): (1-a)^2 + b^2 = 1, c = artanh b - b, z = b/D, G = 1/D^4, and z moves
    monotonically towards zhat without overshoot."""
    ts = np.array([0.0, t / 2, t])
    out = E.solve(zh, ts)
    a, b, c = out["a"], out["b"], out["c"]
    np.testing.assert_allclose((1 - a) ** 2 + b**2, 1, atol=1e-12)
    np.testing.assert_allclose(c, np.arctanh(b) - b, atol=1e-12)
    D = 1 - b * np.arctanh(b)
    np.testing.assert_allclose(out["z"], np.where(b == 0, 0, b / D), atol=1e-12)
    np.testing.assert_allclose(out["G"], 1 / D**4, rtol=1e-12)
    err = np.abs(zh - out["z"])
    assert np.all(np.diff(err) <= 1e-9) and np.all(np.sign(out["z"]) * np.sign(zh) >= 0)


@pytest.mark.parametrize("zh", [0.5, 1.0, 3.0])
def test_final_state_is_a_rest_point_of_the_derived_flow(zh):
    """final_state() finds b* from its own root equation; check it independently: the derived
    right-hand side db/dtau (sympy, evaluated at 40 digits) vanishes at b*, z(b*) = zhat, and
    s1, s2, |dW|_F, det and the top eigenvalue equal those of the 2x2 A = [[a, b], [c, a]]
    computed by numpy (SVD, eigvals) — not by the closed forms final_state uses."""
    import mpmath

    fs = E.final_state(zh, dps=30, as_mpf=True)
    red = E.reduction()
    with mpmath.workdps(40):
        rhs = sp.N(red["rhs_b"].subs({E.b: sp.Float(str(fs["b"]), 40), E.zhat: sp.Rational(str(zh))}), 40)
    assert abs(float(rhs)) < 1e-25
    assert abs(float(fs["z"]) - zh) < 1e-25
    a_, b_, c_ = (float(fs[k]) for k in ("a", "b", "c"))
    A = np.array([[a_, b_], [c_, a_]])
    s = np.linalg.svd(A, compute_uv=False)
    assert np.allclose([float(fs["s1"]), float(fs["s2"])], s, rtol=1e-12, atol=1e-15)
    assert np.isclose(float(fs["dw_norm"]), np.linalg.norm(A), rtol=1e-13)
    assert np.isclose(float(fs["det"]), np.linalg.det(A), rtol=1e-12)
    assert np.isclose(float(fs["top_eig"]), np.max(np.linalg.eigvals(A).real), rtol=1e-12)
