r"""Property-based testing tools for the linear theory: strategies and a statistical comparison.

Two halves:

* **hypothesis strategies** for the paper's objects — a random connectivity
  :math:`W_0 = gJ` of gain g, input and readout vectors with exactly
  :math:`\|m\| = \sqrt N`, :math:`\|w\| = 1/\sqrt N`, and stable matrices (every eigenvalue
  with real part below a bound).  Following the package convention the strategies draw a
  *seed* (and N, g) and build the arrays with :func:`numpy.random.default_rng`, so every
  example is reproducible from its printed seed and shrinks well.  ``hypothesis`` (the
  ``[test]`` extra) is imported only when a strategy is built.
* :func:`compare` / :func:`compare_to_simulation` — compare a closed form from
  :mod:`theory` with independent simulations, with a tolerance derived from the spread
  of the samples (Student-t bound on the mean at a stated false-alarm probability) plus an
  optional, *named* systematic allowance (e.g. a discretisation error or a neglected order).
  :func:`assert_close_to_theory` raises an :class:`AssertionError` that prints the table row.

Example: validate the speed-up :math:`G(0)\to(1-g^2)^{-2}` (R4) against simulations::

    from rnn_theory.numerics.testing import compare_to_simulation
    import numpy as np
    from rnn_theory.numerics.linear import draw_network

    def G0(rng, g=0.5, n=400):
        W0, m, w = draw_network(n, g, rng)
        B = np.linalg.inv(np.eye(n) - W0)
        return (w @ B @ B.T @ w) * (m @ B.T @ B @ m)

    row = compare_to_simulation("G(0)", 1 / (1 - 0.25) ** 2, G0, n_samples=20)
    assert row.passed, row
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from rnn_theory.theory.errors import DomainError, NonFiniteError, ShapeError

__all__ = [
    "Comparison",
    "compare",
    "compare_to_simulation",
    "assert_close_to_theory",
    "t_critical",
    "seeds",
    "gains",
    "normalised_vectors",
    "random_networks",
    "stable_matrices",
    "LinearNetwork",
]

#: default two-sided false-alarm probability of a statistical check
DEFAULT_ALPHA = 1e-3


# --------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------
def t_critical(n_samples: int, alpha: float = DEFAULT_ALPHA) -> float:
    r"""Two-sided Student-t critical value :math:`t_{1-\alpha/2,\,n-1}` for the mean of n samples.

    With a single sample (no spread estimate) the caller must supply ``sigma``.

    >>> round(t_critical(10), 2), round(t_critical(1000), 2)
    (4.78, 3.3)
    """
    if n_samples < 2:
        raise DomainError("a spread-based tolerance needs at least 2 samples; pass sigma= instead")
    if not 0 < alpha < 1:
        raise DomainError(f"alpha must lie in (0, 1), got {alpha}")
    from scipy.special import stdtrit

    return float(stdtrit(n_samples - 1, 1 - alpha / 2))


@dataclass(frozen=True)
class Comparison:
    r"""One row of a theory-vs-simulation table.

    ``deviation = |simulated - theory|``; ``passed = deviation <= tolerance`` with
    ``tolerance = statistical + systematic``.  ``statistical`` is
    :math:`t_{1-\alpha/2,n-1}\,s/\sqrt n` (or ``k_sigma * sigma / sqrt(n)`` when the
    per-sample standard deviation ``sigma`` is known from theory); ``systematic`` is an
    explicitly named allowance (``note`` says what it is).
    """

    name: str
    theory: float
    simulated: float
    tolerance: float
    statistical: float = 0.0
    systematic: float = 0.0
    n_samples: int = 1
    note: str = ""

    @property
    def deviation(self) -> float:
        return abs(self.simulated - self.theory)

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.simulated) and self.deviation <= self.tolerance)

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{self.name}: theory {self.theory:.6g}, simulated {self.simulated:.6g} "
                f"(n={self.n_samples}), |dev| {self.deviation:.3g} <= tol {self.tolerance:.3g} "
                f"[stat {self.statistical:.3g} + sys {self.systematic:.3g}]: {verdict}"
                + (f" — {self.note}" if self.note else ""))


def compare(name: str, theory: float, samples, *, sigma: float | None = None,
            alpha: float = DEFAULT_ALPHA, systematic: float = 0.0, note: str = "") -> Comparison:
    r"""Compare ``theory`` with the mean of independent simulated ``samples``.

    Parameters
    ----------
    samples : array_like
        One value per independent simulation (seed).
    sigma : float, optional
        Per-sample standard deviation known from theory (e.g. an :math:`O(N^{-1/2})`
        fluctuation); the statistical tolerance is then :math:`z_{1-\alpha/2}\sigma/\sqrt n`.
        Otherwise it is the Student-t bound :math:`t_{1-\alpha/2,n-1}\,s/\sqrt n` from the
        sample standard deviation ``s``.
    alpha : float
        Two-sided false-alarm probability (default 1e-3) if the simulation is unbiased.
    systematic : float
        Additional allowance for a known bias (must be justified in ``note``).

    >>> rng = np.random.default_rng(0)
    >>> row = compare("mean of N(1, 1)", 1.0, 1 + rng.standard_normal(100))
    >>> row.passed, row.n_samples
    (True, 100)
    >>> compare("wrong", 1.3, 1 + rng.standard_normal(100)).passed
    False
    >>> compare("failed run", 1.0, [1.0, float("nan"), 0.9])
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.NonFiniteError: failed run: 1 of 3 samples are NaN or infinite (indices [1]); a failed simulation is not a sample: fix or drop those runs before comparing
    """
    x = np.asarray(samples, dtype=float).ravel()
    if x.size == 0:
        raise ShapeError("compare needs at least one sample")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise NonFiniteError(
            f"{name}: {bad.size} of {x.size} samples are NaN or infinite (indices {bad[:10].tolist()}); "
            "a failed simulation is not a sample: fix or drop those runs before comparing")
    if not np.isfinite(float(theory)):
        raise NonFiniteError(f"{name}: the theory value is {theory!r}; pass a finite prediction")
    if systematic < 0:
        raise DomainError("systematic allowance must be >= 0")
    n = x.size
    mean = float(np.mean(x))
    if sigma is not None:
        from scipy.special import ndtri

        stat = float(ndtri(1 - alpha / 2) * sigma / math.sqrt(n))
    else:
        stat = float(t_critical(n, alpha) * np.std(x, ddof=1) / math.sqrt(n))
    return Comparison(name, float(theory), mean, stat + float(systematic), stat, float(systematic), n, note)


def compare_to_simulation(name: str, theory: float, simulate: Callable[[np.random.Generator], float],
                          *, n_samples: int = 10, seed: int = 0, sigma: float | None = None,
                          alpha: float = DEFAULT_ALPHA, systematic: float = 0.0,
                          note: str = "") -> Comparison:
    r"""Run ``simulate(rng)`` for ``n_samples`` independent generators and :func:`compare`.

    Sample ``i`` uses ``numpy.random.default_rng([seed, i])``, so the result is
    deterministic.

    >>> row = compare_to_simulation("E[x^2] = 1", 1.0, lambda r: r.standard_normal(50) @ r.standard_normal(50) / 50 + 1,
    ...                             n_samples=30)
    >>> row.passed
    True
    """
    values = [float(simulate(np.random.default_rng([seed, i]))) for i in range(n_samples)]
    bad = [i for i, v in enumerate(values) if not np.isfinite(v)]
    if bad:
        raise NonFiniteError(f"{name}: simulate returned NaN or infinity for {len(bad)} of {n_samples} "
                             f"generators (default_rng([{seed}, i]) for i in {bad[:10]}); fix the simulation")
    return compare(name, theory, values, sigma=sigma, alpha=alpha, systematic=systematic, note=note)


def assert_close_to_theory(name: str, theory: float, samples, **kwargs) -> Comparison:
    """:func:`compare` and raise :class:`AssertionError` (with the row) if it fails."""
    row = compare(name, theory, samples, **kwargs)
    if not row.passed:
        raise AssertionError(str(row))
    return row


# --------------------------------------------------------------------------------------
# hypothesis strategies
# --------------------------------------------------------------------------------------
def _st():
    try:
        from hypothesis import strategies as st
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("rnn_theory.numerics.testing strategies need hypothesis: pip install 'rnn-theory[test]'") from exc
    return st


@dataclass(frozen=True)
class LinearNetwork:
    """A drawn network: ``W0 = g J``, exactly normalised ``m``, ``w``; ``seed`` reproduces it."""

    W0: np.ndarray
    m: np.ndarray
    w: np.ndarray
    g: float
    seed: int

    @property
    def n(self) -> int:
        return self.W0.shape[0]


def seeds():
    """Strategy for 32-bit seeds (use with ``numpy.random.default_rng(seed)``)."""
    return _st().integers(min_value=0, max_value=2**32 - 1)


def gains(min_value: float = 0.0, max_value: float = 0.9):
    """Strategy for gains ``g`` in ``[min_value, max_value]`` (no NaN/inf)."""
    if not (0 <= min_value <= max_value < 1):
        raise DomainError("gains need 0 <= min_value <= max_value < 1")
    return _st().floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False)


def normalised_vectors(n=None):
    r"""Strategy for ``(m, w)`` with :math:`\|m\| = \sqrt N`, :math:`\|w\| = 1/\sqrt N` exactly.

    ``n`` is an int or a strategy of ints (default 2…200).
    """
    st = _st()
    n_st = st.integers(2, 200) if n is None else (st.just(n) if isinstance(n, int) else n)

    @st.composite
    def build(draw):
        from rnn_theory.numerics.linear import normalise_inputs

        size = draw(n_st)
        rng = np.random.default_rng(draw(seeds()))
        return normalise_inputs(rng.standard_normal(size), rng.standard_normal(size))

    return build()


def random_networks(n=None, g=None, *, require_stable: bool = True):
    r"""Strategy for :class:`LinearNetwork`: :math:`W_0 = gJ`, :math:`J_{ij}\sim\mathcal N(0,1/N)`.

    ``n`` / ``g`` are values or strategies (defaults: 2…200 and :func:`gains`).  With
    ``require_stable`` (default) draws whose W0 has an eigenvalue with real part ≥ 1
    (possible at small N) are rejected with ``assume``.
    """
    st = _st()
    from hypothesis import assume

    n_st = st.integers(2, 200) if n is None else (st.just(n) if isinstance(n, int) else n)
    g_st = gains() if g is None else (st.just(float(g)) if isinstance(g, (int, float)) else g)

    @st.composite
    def build(draw):
        from rnn_theory.numerics.linear import draw_network, max_real_eig

        size, gain, seed = draw(n_st), draw(g_st), draw(seeds())
        W0, m, w = draw_network(size, gain, np.random.default_rng(seed))
        if require_stable:
            assume(max_real_eig(W0) < 1)
        return LinearNetwork(W0, m, w, gain, seed)

    return build()


def stable_matrices(n=None, max_real: float = 0.9):
    r"""Strategy for square matrices whose eigenvalues all have real part ≤ ``max_real`` < 1.

    A random Gaussian matrix of random scale is shifted by a multiple of the identity when
    needed, so every draw is stable (no rejection): :math:`W - (\lambda_{max} - r)I`.
    """
    if not max_real < 1:
        raise DomainError("max_real must be < 1 for a stable fixed point")
    st = _st()
    n_st = st.integers(2, 120) if n is None else (st.just(n) if isinstance(n, int) else n)

    @st.composite
    def build(draw):
        from rnn_theory.numerics.linear import max_real_eig

        size, seed = draw(n_st), draw(seeds())
        scale = draw(st.floats(0.0, 2.0))
        rng = np.random.default_rng(seed)
        W = scale * rng.standard_normal((size, size)) / np.sqrt(size)
        lam = max_real_eig(W)
        if lam > max_real:
            W = W - (lam - max_real) * np.eye(size)
        return W

    return build()
