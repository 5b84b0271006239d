"""R1 rank-one gradient and R2 identities along the flow: finite differences, numerical flows."""
import numpy as np
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.theory import linear as L


# ----------------------------------------------------------------------------- R1 gradient
def _rand_system(n, gv, seed, zh):
    rng = np.random.default_rng(seed)
    J = rng.normal(size=(n, n))
    rho = max(abs(np.linalg.eigvals(J)))
    W = gv * J / rho if rho > 0 else np.zeros((n, n))  # spectral radius exactly g < 1
    w = rng.normal(size=n)
    m = rng.normal(size=n)
    return W, w, m, zh


def _loss(W, w, m, zh):
    z = w @ np.linalg.solve(np.eye(len(w)) - W, m)
    return 0.5 * (zh - z) ** 2


@settings(max_examples=30)
@given(gv=st.floats(0.0, 0.95, exclude_max=True), seed=st.integers(0, 2**31), n=st.integers(2, 8),
       zh=st.floats(-3, 3))
@example(gv=0.0, seed=0, n=2, zh=1.0)
@example(gv=0.94, seed=1, n=8, zh=-2.5)
@example(gv=0.78125, seed=4978770, n=6, zh=2.375)  # small entries: the solve's round-off in z dominates
def test_gradient_matches_central_differences(gv, seed, n, zh):
    W, w, m, zh = _rand_system(n, gv, seed, zh)
    B = np.linalg.inv(np.eye(n) - W)
    u, v = B.T @ w, B @ m
    eps = zh - w @ B @ m
    grad = -eps * np.outer(u, v)  # R1: dL/dW = -eps u v^T

    def fd_at(h):
        out = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                E = np.zeros((n, n))
                E[i, j] = h
                out[i, j] = (_loss(W + E, w, m, zh) - _loss(W - E, w, m, zh)) / (2 * h)
        return out

    # step scaled to the resolvent: L(W + hE) varies on the scale 1/|B|, so h = 1e-5/|B|
    # keeps the O(h^2) truncation relative error ~ 1e-10 whatever g and the draw
    h = 1e-5 / np.linalg.norm(B, 2)
    fd, fd2 = fd_at(h), fd_at(2 * h)
    Lval = _loss(W, w, m, zh)
    # 10 x Richardson estimate of the truncation error + round-off, entrywise: each loss
    # carries 100 u L from its own arithmetic and |eps| dz from the solve's error in z,
    # dz = 10 n u cond(I - W) |w| |B| |m| (backward-stable solve), over the step 2h
    u_r = np.finfo(float).eps
    dz = 10 * n * u_r * np.linalg.cond(np.eye(n) - W) * np.linalg.norm(w) * np.linalg.norm(B, 2) * np.linalg.norm(m)
    tol = 10 * np.abs(fd - fd2) / 3 + 100 * u_r * max(Lval, 1e-300) / h + 2 * abs(eps) * dz / h
    assert np.all(np.abs(fd - grad) <= tol)
    # the bound is informative: far below the gradient (a sign or factor error is O(|grad|))
    gmax = np.abs(grad).max()
    assert tol.max() <= 1e-3 * gmax or gmax < 1e-12
    s = np.linalg.svd(fd, compute_uv=False)
    if s[0] > 1e-8:
        assert s[1] / s[0] < 1e-6  # finite-difference gradient is rank one (to its error)
    s_exact = np.linalg.svd(grad, compute_uv=False)
    if n > 1 and s_exact[0] > 0:
        assert s_exact[1] / s_exact[0] < 1e-12


def test_sympy_matrix_gradient_evaluates_to_outer_product():
    N, W, w, m, dz = L.readout_gradient()
    n = 5
    sub = {N: n}
    f = sp.lambdify((W.subs(sub), w.subs(sub), m.subs(sub)), dz.subs(sub), "numpy")
    Wn, wn, mn, _ = _rand_system(n, 0.7, 5, 1.0)
    B = np.linalg.inv(np.eye(n) - Wn)
    np.testing.assert_allclose(f(Wn, wn[:, None], mn[:, None]), np.outer(B.T @ wn, B @ mn), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- R2 identities on a flow
def test_identities_along_numerical_flow():
    """Integrate dW/dtau = eps u v^T (N = 12) with a tight RK integrator; check R2 by finite
    differences in time (error ~ dt^2) and the conserved ratio (at the integrator tolerance)."""
    from scipy.integrate import solve_ivp

    n = 12
    W0, w, m, zh = _rand_system(n, 0.5, 3, 1.5)
    w = w / np.linalg.norm(w) / np.sqrt(n)
    m = m / np.linalg.norm(m) * np.sqrt(n)

    def parts(Wf):
        B = np.linalg.inv(np.eye(n) - Wf)
        u, v = B.T @ w, B @ m
        return B, u, v, zh - w @ B @ m

    def rhs(_t, y):
        B, u, v, eps = parts(y.reshape(n, n))
        return (eps * np.outer(u, v)).ravel()

    def rk4(Wf, h):
        k1 = rhs(0, Wf.ravel()).reshape(n, n)
        k2 = rhs(0, (Wf + h / 2 * k1).ravel()).reshape(n, n)
        k3 = rhs(0, (Wf + h / 2 * k2).ravel()).reshape(n, n)
        k4 = rhs(0, (Wf + h * k3).ravel()).reshape(n, n)
        return Wf + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    sol = solve_ivp(rhs, (0, 0.4), W0.ravel(), method="DOP853", rtol=1e-12, atol=1e-14, t_eval=[0.0, 0.2, 0.4])
    B, u, v, _ = parts(W0)
    ratio0 = (u @ u) / (v @ v)
    dt = 1e-5  # truncation ~ (dt * rate)^2 / 6 ~ 1e-9, round-off ~ 1e-16 / dt ~ 1e-11
    for k in range(sol.y.shape[1]):
        Wt = sol.y[:, k].reshape(n, n)
        B, u, v, eps = parts(Wt)
        vals = {}
        for s_ in (-1, 1):  # one RK4 step of +-dt (local error dt^5), then central differences
            Bs, us, vs, _ = parts(rk4(Wt, s_ * dt))
            vals[s_] = dict(z=w @ Bs @ m, G=(us @ us) * (vs @ vs), u=us, v=vs)
        d = {q: (vals[1][q] - vals[-1][q]) / (2 * dt) for q in ("z", "G", "u", "v")}
        G = (u @ u) * (v @ v)
        c = w @ B @ B.T @ B @ m
        np.testing.assert_allclose(d["z"], eps * G, rtol=1e-7)
        np.testing.assert_allclose(d["G"], 4 * eps * c * G, rtol=1e-7)
        np.testing.assert_allclose(d["u"], eps * (u @ u) * (B.T @ v), rtol=1e-6, atol=1e-9 * np.abs(d["u"]).max())
        np.testing.assert_allclose(d["v"], eps * (v @ v) * (B @ u), rtol=1e-6, atol=1e-9 * np.abs(d["v"]).max())
        np.testing.assert_allclose((u @ u) / (v @ v), ratio0, rtol=1e-10)


def _r1_derivation():
    return next(d for d in L.gradient_derivation() if d.key == "R1.gradient")


def test_r1_derived_loss_gradient_matches_finite_differences_including_sign():
    """The derived R1 result dL/dW (the Derivation's sympy expression, sign included) is
    lambdified and compared with central differences of L = (zhat - z)^2/2; the step h = 1e-5
    gives a truncation error ~ h^2 |L'''| ~ 1e-10 here, far below the 1e-6 tolerance and far
    below |dL/dW| ~ 0.1 (a sign flip would be off by 2 |dL/dW|)."""
    d = _r1_derivation()
    assert d.ok
    N, W, w, m, _ = L.readout_gradient()
    eps = sp.Symbol("epsilon")
    n = 4
    sub = {N: n}
    f = sp.lambdify((W.subs(sub), w.subs(sub), m.subs(sub), eps), d.expr.subs(sub), "numpy")
    Wn, wn, mn, zh = _rand_system(n, 0.6, 11, 1.3)
    z = wn @ np.linalg.solve(np.eye(n) - Wn, mn)
    got = np.asarray(f(Wn, wn[:, None], mn[:, None], zh - z), dtype=float)
    h = 1e-5
    fd = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            E = np.zeros((n, n))
            E[i, j] = h
            fd[i, j] = (_loss(Wn + E, wn, mn, zh) - _loss(Wn - E, wn, mn, zh)) / (2 * h)
    assert np.max(np.abs(fd)) > 1e-2  # the comparison is not vacuous
    np.testing.assert_allclose(got, fd, rtol=0, atol=1e-6 * np.max(np.abs(fd)))


def test_r1_loss_coefficient_is_derived_as_minus_one():
    d = _r1_derivation()
    assert any("c = -1" in c.description and c.passed for c in d.checks)


def test_explicit_checks_reject_a_wrong_resolvent():
    """The explicit 3x3 verifications can fail: fed the adjugate of a different matrix
    (I + W instead of I - W), each returns False / None."""
    from rnn_theory.theory.linear import gradient as Gm

    Wx, wx, mx, gens, Mx, adj = Gm._explicit_system()
    wrong_M = sp.eye(3) + Wx
    wrong_adj = wrong_M.adjugate()
    eq_outer, minors = Gm._explicit_gradient_checks(Wx, wx, mx, gens, Mx, wrong_adj)
    assert not eq_outer
    assert Gm._explicit_loss_coefficient(Wx, wx, mx, gens, wrong_M, adj) is None
    assert not Gm._explicit_resolvent_derivative_ok(Wx, gens, wrong_M, wrong_adj)
    # and the correct inputs pass (the same calls gradient_derivation makes)
    eq_ok, minors_ok = Gm._explicit_gradient_checks(Wx, wx, mx, gens, Mx, adj)
    assert eq_ok and len(minors_ok) == 9 and all(not mm for mm in minors_ok)
    assert Gm._explicit_loss_coefficient(Wx, wx, mx, gens, Mx, adj) == -1
    assert Gm._explicit_resolvent_derivative_ok(Wx, gens, Mx, adj)


def test_r1_checks_all_pass_and_are_named():
    d = _r1_derivation()
    assert len(d.checks) == 5 and all(c.passed for c in d.checks)
