"""Tests of rnn_theory.theory.fixed_point_metric against independent numerical routes."""
import mpmath
import numpy as np

from rnn_theory.theory import fixed_point_metric as fpm
from rnn_theory.theory.derivation import Derivation


def test_all_derivations_pass_and_print():
    ds = fpm.derivations()
    assert all(isinstance(d, Derivation) for d in ds)
    assert [d.key for d in ds if not d.ok] == []
    keys = {d.key for d in ds}
    assert {"Z1.a", "Z1.pole", "Z1.dadw", "Z1.metric", "Z1.update", "Z2.dA", "Z2.dW3", "Z2.metric"} <= keys
    for d in ds:
        assert isinstance(d.latex(), str) and d.latex()


def test_checks_can_fail():
    """The matrix-zero test used by the checks rejects a wrong identity (A dW A^T)."""
    lin = fpm.linear_matrix_identities()
    assert not fpm._mzero(lin["dA"] - lin["A"] * lin["dW"] * lin["A"].T)
    assert not fpm._zero(fpm.one_dimensional()["dadw"] - fpm.one_dimensional()["a"] ** 3)


def test_one_d_closed_forms_numerically():
    a = fpm.numeric("a")
    dadw = fpm.numeric("dadw")
    for w, g in [(-2.0, 1.0), (0.3, 0.8), (-0.7, 2.0)]:
        h = 1e-6
        fd = (a(w + h, g) - a(w - h, g)) / (2 * h)
        assert np.isclose(dadw(w, g), fd, rtol=1e-8)
        assert np.isclose(dadw(w, g), a(w, g) ** 2, rtol=1e-14)
    # the fixed point of r = g(w r + x) found by iteration (|g w| < 1 contracts)
    w, g, x = -0.4, 0.9, 0.3
    r = 0.0
    for _ in range(200):
        r = g * (w * r + x)
    assert np.isclose(r, a(w, g) * x, rtol=1e-13)


def test_mpmath_backend_high_precision():
    mpmath.mp.dps = 40
    try:
        f = fpm.numeric("a", "mpmath")
        val = f(mpmath.mpf(1) / 3, mpmath.mpf(1))          # a = 1/(1 - 1/3) = 3/2
        assert abs(val - mpmath.mpf(3) / 2) < mpmath.mpf(10) ** -38
    finally:
        mpmath.mp.dps = 15


def test_metric_update_matches_a_space_descent_to_first_order():
    """Delta w from the metric rule, mapped through a(w), equals -eta dJ/da + O(eta^2)."""
    upd = fpm.numeric("update_metric")
    a = fpm.numeric("a")
    Sxx, Sxy, Syy, w, g = 0.8, -0.3, 0.5, -1.5, 1.0
    dJda = 2 * a(w, g) * Sxx - 2 * Sxy
    errs = []
    etas = np.array([1e-2, 5e-3, 2.5e-3, 1.25e-3])
    for eta in etas:
        dw = upd(w, g, eta, Sxx, Sxy, Syy)
        errs.append(abs((a(w + dw, g) - a(w, g)) - (-eta * dJda)))
    slope = np.polyfit(np.log(etas), np.log(errs), 1)[0]
    assert abs(slope - 2) < 0.1


def test_linear_first_order_numerically():
    """Numerical 3x3 check of the symbolic N-D result: W' - W + eta M D M = O(eta^2)."""
    rng = np.random.default_rng(0)
    A = np.eye(3) + 0.2 * rng.standard_normal((3, 3))
    D = rng.standard_normal((3, 3))
    M = np.linalg.inv(A)
    errs = []
    etas = np.array([1e-3, 5e-4, 2.5e-4])
    for eta in etas:
        Wp_minus_W = M - np.linalg.inv(A - eta * D)
        errs.append(np.linalg.norm(Wp_minus_W + eta * M @ D @ M + eta**2 * M @ D @ M @ D @ M))
    slope = np.polyfit(np.log(etas), np.log(errs), 1)[0]
    assert abs(slope - 3) < 0.1


