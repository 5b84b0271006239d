r"""Drawing the paper's network and validating the arguments of the linear simulations.

:func:`draw_network` returns :math:`(W_0, m, w)` with :math:`W_0 = gJ`,
:math:`J_{ij}\sim\mathcal N(0, 1/N)`, :math:`\|m\| = \sqrt N` and :math:`\|w\| = 1/\sqrt N`
exactly (:math:`O(N^2)`); :func:`normalise_inputs` does the rescaling.  The private
``_check_*`` helpers turn bad arguments into the package's
:class:`~rnn_theory.theory.errors.RNNTheoryError` family with a message that says what to do.
"""
from __future__ import annotations

import numbers

import numpy as np

from rnn_theory.numerics.rate.analysis import max_real_eig
from rnn_theory.theory.errors import (
    DomainError,
    NonFiniteError,
    ShapeError,
    UnstableError,
    check_finite,
)

__all__ = ["normalise_inputs", "draw_network"]


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------
def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise DomainError(f"n (number of neurons) must be an integer, got {n!r}")
    if n < 2:
        raise DomainError(f"n = {n} is too small: the linear network needs n >= 2 neurons")
    return int(n)


def _check_g(g) -> float:
    if isinstance(g, bool) or not isinstance(g, numbers.Real):
        raise DomainError(f"g must be a real number, got {g!r}")
    g = float(g)
    if not np.isfinite(g):
        raise NonFiniteError(f"g must be finite, got {g}")
    if g < 0:
        raise DomainError(f"g = {g} must be >= 0 (it is the standard deviation scale of W0)")
    if g >= 1:
        raise DomainError(
            f"g = {g}: the linear theory and its learning-rate scaling lr0*(1-g^2)^2 need "
            "0 <= g < 1 (for g >= 1 the random W0 has no stable fixed point)"
        )
    return g


def _check_real(name, x) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise DomainError(f"{name} must be a real number, got {x!r}")
    x = float(x)
    if not np.isfinite(x):
        raise NonFiniteError(f"{name} must be finite, got {x}")
    return x


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise DomainError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


def _check_system(W, m, w):
    W = check_finite("W", np.asarray(W, dtype=float))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ShapeError(f"W must be a square (N, N) matrix, got shape {W.shape}")
    n = _check_n(W.shape[0])
    m = check_finite("m", np.asarray(m, dtype=float))
    w = check_finite("w", np.asarray(w, dtype=float))
    if m.shape != (n,):
        raise ShapeError(f"m has shape {m.shape}; expected ({n},) to match W")
    if w.shape != (n,):
        raise ShapeError(f"w has shape {w.shape}; expected ({n},) to match W")
    return W, m, w


def _require_stable(W, what="W0"):
    lam = max_real_eig(W)
    if lam >= 1:
        raise UnstableError(
            f"{what} has an eigenvalue with real part {lam:.4g} >= 1, so (I - {what})^-1 m is not a "
            "stable fixed point; use a smaller gain g (or draw another seed for small N)"
        )
    return lam


# --------------------------------------------------------------------------------------
# drawing the network
# --------------------------------------------------------------------------------------
def normalise_inputs(m, w):
    r"""Rescale ``m`` to norm :math:`\sqrt N` and ``w`` to norm :math:`1/\sqrt N` exactly.

    >>> m, w = normalise_inputs(np.ones(4), np.ones(4))
    >>> float(np.linalg.norm(m)), float(np.linalg.norm(w))
    (2.0, 0.5)
    """
    m = check_finite("m", np.asarray(m, dtype=float))
    w = check_finite("w", np.asarray(w, dtype=float))
    n = m.size
    nm, nw = np.linalg.norm(m), np.linalg.norm(w)
    if nm == 0 or nw == 0:
        raise DomainError("m and w must be non-zero vectors to be normalised")
    return m * (np.sqrt(n) / nm), w * (1.0 / (np.sqrt(n) * nw))


def draw_network(n: int, g: float, rng: np.random.Generator):
    r"""Draw ``(W0, m, w)``: :math:`W_0 = gJ`, :math:`J_{ij}\sim\mathcal N(0,1/N)`, exact norms.

    The draw order is J, then m, then w (all from ``rng``).  Cost :math:`O(N^2)`.

    >>> W0, m, w = draw_network(50, 0.5, np.random.default_rng(1))
    >>> W0.shape, round(float(np.linalg.norm(m) * np.linalg.norm(w)), 12)
    ((50, 50), 1.0)
    """
    n = _check_n(n)
    g = _check_g(g)
    rng = _check_rng(rng)
    J = rng.standard_normal((n, n)) / np.sqrt(n)
    m = rng.standard_normal(n)
    w = rng.standard_normal(n)
    m, w = normalise_inputs(m, w)
    return g * J, m, w
