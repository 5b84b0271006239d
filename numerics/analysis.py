r"""Analyses of trained networks: dimensionality, SVD of ΔW, truncation, shuffle test.

(Module shared by the nonlinear-task and dimensionality work; one concept per function.)
"""
from __future__ import annotations

import numpy as np

from theory.errors import ShapeError, check_finite

__all__ = ["participation_ratio"]


def participation_ratio(X) -> float:
    r"""Participation ratio of the rows of ``X`` (samples × features).

    .. math::
        \mathrm{PR} = \frac{(\operatorname{tr} C)^2}{\operatorname{tr} C^2}
        = \frac{(\sum_i \lambda_i)^2}{\sum_i \lambda_i^2},

    with :math:`C` the covariance of the column-centred data.  Computed from whichever
    of the covariance (features × features) or Gram (samples × samples) matrix is
    smaller, which have the same non-zero spectrum: cost
    :math:`O(n\,d\,\min(n, d))` for ``n`` samples and ``d`` features.
    The normalisation of :math:`C` cancels, so PR is scale invariant and lies in
    :math:`[1, \operatorname{rank}]`.

    >>> rng = np.random.default_rng(0)
    >>> round(participation_ratio(np.outer(rng.normal(size=50), rng.normal(size=4))), 6)
    1.0
    >>> round(participation_ratio(np.vstack([np.eye(3), -np.eye(3)])), 6)
    3.0
    """
    X = check_finite("X", np.asarray(X, dtype=float))
    if X.ndim != 2 or X.shape[0] < 2:
        raise ShapeError(f"X must be a (samples, features) array with >= 2 samples, got shape {X.shape}")
    Xc = X - X.mean(axis=0, keepdims=True)
    M = Xc.T @ Xc if X.shape[1] <= X.shape[0] else Xc @ Xc.T
    tr = np.trace(M)
    tr2 = np.sum(M * M)  # tr(M^2) for symmetric M
    if tr2 == 0:
        raise ShapeError("X has zero variance: the participation ratio is undefined")
    return float(tr * tr / tr2)
