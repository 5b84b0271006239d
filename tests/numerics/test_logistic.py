"""Logistic regression: optimum checked by KKT and by an independent solver (scipy L-BFGS)."""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from scipy.optimize import minimize

from rnn_theory.numerics.representations.logistic import fit_logistic, logistic_objective
from rnn_theory.numerics.errors import DomainError, ShapeError


def _data(seed, n, d, sep):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, d)) + sep * (2 * y[:, None] - 1) * rng.normal(size=d)
    return X, y


def _scipy_fit(X, y, C):
    d = X.shape[1]

    def fun(theta):
        f, gw, gc = logistic_objective(theta[:d], theta[d], X, y.astype(float), C)
        return f, np.append(gw, gc)

    res = minimize(fun, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                   options={"maxiter": 10000, "gtol": 1e-12, "ftol": 1e-15})
    return res


@settings(max_examples=20)
@given(seed=st.integers(0, 10**6), n=st.integers(5, 120), d=st.integers(1, 30),
       sep=st.floats(0.0, 3.0), C=st.sampled_from([0.1, 1.0, 10.0]))
@example(seed=0, n=40, d=30, sep=3.0, C=1.0)  # separable, d ~ n
@example(seed=1, n=6, d=1, sep=0.0, C=1.0)
def test_matches_lbfgs_and_kkt(seed, n, d, sep, C):
    X, y = _data(seed, n, d, sep)
    if len(np.unique(y)) < 2:
        y[0] = 1 - y[0]
    fit = fit_logistic(X, y, C=C)
    assert fit.converged
    # KKT: the gradient vanishes at the optimum (relative to the loss scale C n)
    assert np.max(np.abs(fit.gradient(X, y))) <= 1e-8 * max(1, C * n)
    # independent route: same objective minimised by scipy's L-BFGS
    res = _scipy_fit(X, y, C)
    f_newton = logistic_objective(fit.coef, fit.intercept, X, y.astype(float), C)[0]
    assert f_newton <= res.fun + 1e-9 * max(1.0, abs(res.fun))
    theta = np.append(fit.coef, fit.intercept)
    # strongly convex in w (modulus 1): |theta - theta*|^2 <= 2 (f - f*) bounds the distance
    assert np.max(np.abs(theta - res.x)) < 1e-4 * max(1.0, np.max(np.abs(theta)))


def test_intercept_unpenalised():
    # all samples of class 1 shifted far from 0 along a constant feature: an intercept
    # absorbs it for free, while a penalised intercept would not
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + 5.0 > 5.0).astype(int)
    fit = fit_logistic(X + 0.0, y)
    fit_shift = fit_logistic(X + 100.0, y)
    # translation of the features is exactly compensated by the free intercept
    assert np.allclose(fit.coef, fit_shift.coef, atol=1e-6)
    assert fit_shift.intercept == pytest.approx(fit.intercept - 100 * fit.coef.sum(), abs=1e-4)


def test_labels_any_two_values_and_predict():
    X, y = _data(3, 60, 2, 2.0)
    labels = np.where(y == 1, "b", "a")
    fit = fit_logistic(X, labels)
    fit01 = fit_logistic(X, y)
    assert np.allclose(fit.coef, fit01.coef)
    assert set(fit.predict(X)) <= {"a", "b"}
    assert fit.score(X, labels) == fit01.score(X, y)


def test_cap_reported():
    X, y = _data(0, 50, 3, 1.0)
    fit = fit_logistic(X, y, max_iter=1)
    assert not fit.converged and fit.n_iter == 1


def test_bad_input():
    X = np.zeros((4, 2))
    with pytest.raises(DomainError, match="2 classes"):
        fit_logistic(X, np.zeros(4))
    with pytest.raises(ShapeError):
        fit_logistic(X, np.zeros(3))
    with pytest.raises(DomainError):
        fit_logistic(X, np.array([0, 1, 0, 1]), C=0.0)
    with pytest.raises(ValueError, match="NaN"):
        fit_logistic(np.full((4, 2), np.nan), np.array([0, 1, 0, 1]))
