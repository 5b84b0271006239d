"""R4/R5 first order: derived closed forms vs targets, ODE and quadrature routes, input checks."""
import numpy as np
import pytest
import sympy as sp

from rnn_theory.theory import linear as L
from rnn_theory.theory.errors import DomainError

g, beta, tau, tt, zhat = L.g, L.beta, L.tau, L.tau_t, L.zhat


# ----------------------------------------------------------------------------- R5 first order
def test_first_order_targets_symbolic():
    sol = L.first_order_solution()
    assert sp.simplify(sol["z"].subs(L.z0, 0) - zhat * (1 - sp.exp(-beta**2 * tau))) == 0
    assert sp.simplify(sol["tau_c"] - sp.log(20) / (2 * beta**2)) == 0
    assert sp.simplify(sol["dw_norm_final"] - zhat / beta) == 0
    assert sp.simplify(sol["mean_grad"] - zhat * beta * (1 - 20 ** sp.Rational(-1, 2)) / (sp.log(20) / 2)) == 0


def test_first_order_curve_properties():
    gv, zh = 0.6, 0.5
    t = np.linspace(0, 3, 3001)
    out = L.first_order(gv, zh, t)
    b = 1 / (1 - gv**2)
    np.testing.assert_allclose(out["tau_tilde"], b**2 * t)
    # independent route: z from the ODE integrated by scipy
    from scipy.integrate import solve_ivp

    ode = solve_ivp(lambda _t, y: [(zh - y[0]) * b**2], (0, 3), [0.0], t_eval=t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out["z"], ode.y[0], atol=1e-10)
    np.testing.assert_allclose(out["loss"], 0.5 * (zh - out["z"]) ** 2, atol=1e-15)
    # |dW|_F = (z - z0)/beta, from the integral of eps computed numerically
    int_eps = np.concatenate([[0], np.cumsum(0.5 * np.diff(t) * ((zh - out["z"])[1:] + (zh - out["z"])[:-1]))])
    np.testing.assert_allclose(out["dw_norm"], int_eps * b, atol=1e-6)  # |u0||v0| = beta
    # convergence time: first crossing of L < 0.05 L0 on the fine grid
    tc_grid = t[np.argmax(out["loss"] < 0.05 * zh**2 / 2)]
    assert abs(tc_grid - L.convergence_time(gv)) <= t[1] - t[0]
    # mean gradient by quadrature of |eps| beta over [0, tau_c]
    tc = L.convergence_time(gv)
    tq = np.linspace(0, tc, 20001)
    fq = L.first_order(gv, zh, tq)
    gnorm = (zh - fq["z"]) * b
    mg = np.sum(0.5 * (gnorm[1:] + gnorm[:-1]) * np.diff(tq)) / tc
    assert abs(mg - L.mean_gradient(gv, zh)) < 1e-8
    assert abs(L.mean_gradient(gv, zh) / (zh / (1 - gv**2)) - 0.518) < 1e-3
    assert abs(L.final_dw_norm(gv, zh) - zh * (1 - gv**2)) < 1e-15
    assert abs(L.first_order(gv, zh, [60.0])["dw_norm"][0] - L.final_dw_norm(gv, zh)) < 1e-12


def test_first_order_negative_target_and_tilde():
    a = L.first_order(0.3, -1.0, [0.5])
    b_ = L.first_order(0.3, 1.0, [0.5])
    assert a["z"][0] == -b_["z"][0] and a["dw_norm"][0] == b_["dw_norm"][0] > 0
    c = L.first_order(0.3, 1.0, [0.5 / (1 - 0.09) ** 2], tilde=True)
    np.testing.assert_allclose(c["z"], b_["z"])


@pytest.mark.parametrize("call", [
    lambda: L.first_order(1.2, 1.0, [0.0]),
    lambda: L.first_order(1.0, 1.0, [0.0]),
    lambda: L.first_order(-0.5, 1.0, [0.0]),
    lambda: L.first_order(0.5, float("nan"), [0.0]),
    lambda: L.first_order(0.5, 1.0, [-1.0]),
    lambda: L.third_order(1.0, 1.0, [0.1]),
    lambda: L.speedup(1),
    lambda: L.shuffle_loss_ratio(1.0),
    lambda: L.convergence_time(1.5),
    lambda: L.final_dw_norm(0.99999999 + 1e-8, 1.0),
    lambda: L.mean_gradient(2, 1.0),
])
def test_bad_input_raises_domain_error(call):
    with pytest.raises(DomainError):
        call()


def test_nonfinite_tau_raises():
    from rnn_theory.theory.errors import NonFiniteError

    with pytest.raises(NonFiniteError, match="tau"):
        L.first_order(0.5, 1.0, [np.inf])


def test_domain_error_names_valid_range():
    with pytest.raises(DomainError, match=r"0 <= g < 1"):
        L.first_order(1.2, 1.0, [0.0])


def test_symbolic_gain_stays_symbolic():
    s = sp.Symbol("s")
    assert isinstance(L.speedup(s), sp.Expr) and L.speedup(s).has(s)
    assert sp.simplify(L.shuffle_loss_ratio(s) - s**4 * (2 - s**2) ** 2) == 0
    assert sp.simplify(L.convergence_time(s) - sp.log(20) * (1 - s**2) ** 2 / 2) == 0
    assert sp.simplify(L.final_dw_norm(s, zhat) - zhat * (1 - s**2)) == 0
