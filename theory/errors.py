"""Exception family shared by :mod:`theory` and :mod:`numerics`.

Every error the package raises on bad input derives from :class:`RNNTheoryError`,
which is a :class:`ValueError`, so ``except ValueError`` keeps working for callers
that do not know the package.  Messages say what was wrong *and* what to do.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "RNNTheoryError",
    "DomainError",
    "ShapeError",
    "NonFiniteError",
    "UnstableError",
    "TrainingDivergedError",
    "FixedPointNotConverged",
    "NoStableFixedPoint",
    "check_finite",
    "check_shape",
    "check_positive",
    "check_gain",
    "check_real",
]


class RNNTheoryError(ValueError):
    """Base class of every error raised by rnn-theory on bad input or failed runs."""


class DomainError(RNNTheoryError):
    """A parameter lies outside the range where a formula or model is valid."""


class ShapeError(RNNTheoryError):
    """Arrays have incompatible shapes."""


class NonFiniteError(RNNTheoryError):
    """An input or an intermediate result contains NaN or infinity."""


class UnstableError(RNNTheoryError):
    """A connectivity matrix has no stable fixed point (an eigenvalue with Re >= 1)."""


class TrainingDivergedError(RNNTheoryError):
    """Training left the valid regime; the exception carries the partial result.

    Attributes
    ----------
    step : int
        The step at which the problem was detected.
    partial : object
        Whatever the run had recorded up to that step (may be ``None``).
    """

    def __init__(self, message: str, step: int | None = None, partial=None):
        super().__init__(message)
        self.step = step
        self.partial = partial


class FixedPointNotConverged(RNNTheoryError):
    """A fixed-point iteration did not reach its tolerance.

    Attributes
    ----------
    residual : float
        The largest residual norm reached.
    failing : numpy.ndarray
        Indices of the samples that did not converge.
    """

    def __init__(self, message: str, residual: float = float("nan"), failing=None):
        super().__init__(message)
        self.residual = residual
        self.failing = np.asarray([] if failing is None else failing)


class NoStableFixedPoint(FixedPointNotConverged, UnstableError):
    """The dynamics did not settle on a stable fixed point (both an
    :class:`UnstableError` and a :class:`FixedPointNotConverged`, with ``.residual`` and
    ``.failing``)."""


def check_finite(name: str, value) -> np.ndarray:
    """Return ``value`` as an array, raising :class:`NonFiniteError` if it has NaN/inf.

    >>> check_finite("x", [1.0, 2.0])
    array([1., 2.])
    >>> check_finite("x", [1.0, float("nan")])
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.NonFiniteError: x contains NaN or infinity (1 of 2 entries); pass finite values
    """
    arr = np.asarray(value)
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(
            f"{name} contains NaN or infinity ({bad} of {arr.size} entries); pass finite values"
        )
    return arr


def check_shape(name: str, arr, shape: tuple) -> np.ndarray:
    """Check ``arr.shape`` against ``shape`` (``None`` entries match anything).

    >>> check_shape("W", np.zeros((3, 3)), (3, None)).shape
    (3, 3)
    >>> check_shape("W", np.zeros((3, 2)), (3, 3))
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.ShapeError: W has shape (3, 2); expected (3, 3)
    """
    arr = np.asarray(arr)
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
    if not ok:
        want = tuple("*" if s is None else s for s in shape)
        raise ShapeError(f"{name} has shape {arr.shape}; expected {want}".replace("'", ""))
    return arr


def check_real(name: str, value) -> float:
    """Return ``value`` as a float, raising :class:`DomainError` unless it is a finite real scalar.

    >>> check_real("zhat", 2)
    2.0
    >>> check_real("zhat", [1.0, 2.0])
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.DomainError: zhat must be a real scalar, got [1.0, 2.0]
    """
    if isinstance(value, (bool, np.bool_)) or (not np.isscalar(value) and np.ndim(value) != 0):
        raise DomainError(f"{name} must be a real scalar, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise DomainError(f"{name} must be a real scalar, got {value!r}") from None
    if not np.isfinite(out):
        raise DomainError(f"{name} must be finite, got {value!r}")
    return out


def check_positive(name: str, value, *, allow_zero: bool = False):
    """Raise :class:`DomainError` unless ``value`` is a finite number > 0 (or >= 0)."""
    if not isinstance(value, numbers.Real) or not np.isfinite(float(value)):
        raise DomainError(f"{name} must be a finite real number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise DomainError(f"{name} must be {bound}, got {value!r}")
    return value


def check_gain(g, *, strict_below_one: bool = True, name: str = "g"):
    """Validate a numeric gain for large-N formulas: 0 <= g < 1 (or any g >= 0).

    Symbolic (sympy) values are returned unchanged so that formulas stay symbolic.

    >>> check_gain(0.5)
    0.5
    >>> check_gain(1.2)
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.DomainError: g = 1.2 is outside the valid range 0 <= g < 1 of this large-N formula (B = (I - g J)^-1 only exists for g < 1)
    """
    try:
        import sympy

        if isinstance(g, sympy.Basic) and not g.is_number:
            return g
        if isinstance(g, sympy.Basic):
            g_val = float(g)
        else:
            g_val = g
    except ImportError:  # pragma: no cover - sympy is a hard dependency
        g_val = g
    try:
        gf = float(g_val)
    except (TypeError, ValueError):
        raise DomainError(f"{name} must be a real number, got {g!r}") from None
    if not np.isfinite(gf):
        raise DomainError(f"{name} must be finite, got {g!r}")
    if gf < 0:
        raise DomainError(f"{name} = {g!r} must be >= 0")
    if strict_below_one and gf >= 1:
        raise DomainError(
            f"{name} = {g!r} is outside the valid range 0 <= {name} < 1 of this large-N formula "
            "(B = (I - g J)^-1 only exists for g < 1)"
        )
    return g
