r"""L2-regularised binary logistic regression with an unpenalised intercept (Newton's method).

Minimises, over weights :math:`w \in \mathbb R^d` and intercept :math:`c`,

.. math::
    f(w, c) = \tfrac12 \lVert w\rVert^2
      + C \sum_{i=1}^n \Big[\log\big(1 + e^{z_i}\big) - y_i z_i\Big],
    \qquad z_i = x_i^\top w + c,\quad y_i \in \{0, 1\},

the objective of scikit-learn's ``LogisticRegression(C=1)`` with its default solver (the
intercept is not penalised).  This is the separability / held-out-cluster probe of
Farrell et al. (2022), spec §5.2.

Algorithm: damped Newton (exact Hessian, Armijo backtracking), which converges
quadratically near the optimum; the stopping rule is
:math:`\lVert\nabla f\rVert_\infty \le \mathrm{tol}\cdot\max(1, C n)`.
**Cap:** at most ``max_iter = 100`` Newton steps (the authors capped their quasi-Newton
solver at 100 *quasi-Newton* iterations; Newton typically needs 5–25 here, so our fits
reach the true optimum where theirs may stop short).  A fit that hits the cap is
returned with ``converged = False`` rather than raising.
Cost per iteration :math:`O(n d^2 + d^3)`.

>>> import numpy as np
>>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
>>> fit = fit_logistic(X, y)
>>> fit.converged, fit.score(X, y)
(True, 1.0)
>>> bool(np.max(np.abs(fit.gradient(X, y))) < 1e-8)
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from rnn_theory.theory.errors import DomainError, ShapeError, check_finite

__all__ = ["LogisticFit", "fit_logistic", "logistic_objective"]


def _prep(X, y):
    X = check_finite("X", np.asarray(X, dtype=float))
    if X.ndim != 2 or X.shape[0] < 2:
        raise ShapeError(f"X must be a (samples, features) array with >= 2 samples, got {X.shape}")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ShapeError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    return X, y


def logistic_objective(w, c, X, y01, C: float = 1.0):
    r"""Objective :math:`f(w, c)` and its gradient ``(grad_w, grad_c)`` (labels in {0, 1})."""
    z = X @ w + c
    # log(1 + e^z) - y z, computed stably
    f = 0.5 * w @ w + C * np.sum(np.logaddexp(0.0, z) - y01 * z)
    r = expit(z) - y01
    return float(f), w + C * (X.T @ r), float(C * r.sum())


@dataclass(frozen=True, eq=False)
class LogisticFit:
    """Result of :func:`fit_logistic`: ``coef`` (d,), ``intercept``, ``classes`` (the two
    label values; ``classes[1]`` is the positive class), ``n_iter``, ``converged``, ``C``."""

    coef: np.ndarray
    intercept: float
    classes: np.ndarray
    n_iter: int
    converged: bool
    C: float

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X, dtype=float) @ self.coef + self.intercept

    def predict(self, X) -> np.ndarray:
        return self.classes[(self.decision_function(X) > 0).astype(int)]

    def score(self, X, y) -> float:
        """Fraction of correctly classified samples."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def gradient(self, X, y) -> np.ndarray:
        """Gradient of the objective at the fit, ``(d + 1,)`` (intercept last); ~0 at the optimum."""
        X, y = _prep(X, y)
        _, gw, gc = logistic_objective(self.coef, self.intercept, X,
                                       (y == self.classes[1]).astype(float), self.C)
        return np.append(gw, gc)


def fit_logistic(X, y, *, C: float = 1.0, max_iter: int = 100, tol: float = 1e-10) -> LogisticFit:
    """Fit binary L2 logistic regression (see module docstring).

    Parameters
    ----------
    X : (n, d) features.  y : (n,) labels with exactly two distinct values.
    C : inverse regularisation strength (> 0); C = 1 as in the paper.
    max_iter : Newton-step cap.  tol : relative gradient tolerance.
    """
    X, y = _prep(X, y)
    if not (np.isfinite(C) and C > 0):
        raise DomainError(f"C must be a finite number > 0, got {C!r}")
    classes = np.unique(y)
    if classes.size != 2:
        raise DomainError(f"binary logistic regression needs exactly 2 classes in y, got {classes.size}")
    y01 = (y == classes[1]).astype(float)
    n, d = X.shape
    w, c = np.zeros(d), 0.0
    f, gw, gc = logistic_objective(w, c, X, y01, C)
    thresh = tol * max(1.0, C * n)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        g = np.append(gw, gc)
        if np.max(np.abs(g)) <= thresh:
            converged, it = True, it - 1
            break
        p = expit(X @ w + c)
        s = C * p * (1.0 - p)
        H = np.empty((d + 1, d + 1))
        Xs = X * s[:, None]
        H[:d, :d] = X.T @ Xs
        H[:d, :d][np.diag_indices(d)] += 1.0
        H[:d, d] = H[d, :d] = Xs.sum(axis=0)
        H[d, d] = s.sum() + 1e-12 * n  # intercept curvature; tiny floor if all p saturate
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:  # pragma: no cover - H is positive definite
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        dec = g @ step
        t = 1.0
        while True:  # Armijo backtracking
            w_new, c_new = w - t * step[:d], c - t * step[d]
            f_new, gw_new, gc_new = logistic_objective(w_new, c_new, X, y01, C)
            # rounding slack: near the optimum f cannot decrease measurably
            if f_new <= f - 1e-4 * t * dec + 1e-13 * max(1.0, abs(f)) or t < 1e-10:
                break
            t *= 0.5
        w, c, f, gw, gc = w_new, c_new, f_new, gw_new, gc_new
    else:
        converged = np.max(np.abs(np.append(gw, gc))) <= thresh
    return LogisticFit(w, float(c), classes, int(it), bool(converged), float(C))
