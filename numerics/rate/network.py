r"""The rate-RNN network: :class:`RateRNN` (weights, constants, validation) and its
Schuessler et al. (2020) initialisation.

The dynamics are documented in :mod:`rnn_theory.numerics.rate.model`; the forward pass is in
:mod:`rnn_theory.numerics.rate.dynamics` and BPTT in :mod:`rnn_theory.numerics.rate.bptt`.
Construction and validation cost :math:`O(N^2)`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError, check_finite

__all__ = ["RateRNN", "as_params", "PARAM_NAMES", "PHIS"]

PHIS = ("tanh", "linear")
PARAM_NAMES = ("W", "W_in", "W_out", "b", "b_out")
_FLOATS = (np.float32, np.float64)


def _as_float(name: str, a, dtype=None) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "iuf":
        raise ShapeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if arr.dtype.type in _FLOATS else np.float64
    return np.asarray(arr, dtype=dtype)


@dataclass(frozen=True, eq=False)
class RateRNN:
    r"""Weights and constants of a rate RNN (see the module docstring for the dynamics).

    Parameters
    ----------
    W : (N, N) array
        Recurrent weights (``W0 + ΔW`` in the papers' notation).
    W_in : (N, n_in) array
    W_out : (n_out, N) array
    b : (N,) array or None
        Bias of the recurrent current (None: no bias).
    b_out : (n_out,) array or None
        Readout bias.
    dt : float
        Euler step in units of the time constant, :math:`0 < \Delta t \le 1`.
    phi : {"tanh", "linear"}
        Nonlinearity :math:`\phi`.

    Notes
    -----
    All arrays share one floating dtype (float64 by default, float32 allowed: use
    :meth:`astype`).  Arrays are validated (shapes, finiteness) at construction.

    >>> import numpy as np
    >>> net = RateRNN.init(100, 2, 3, g=0.5, rng=np.random.default_rng(1))
    >>> np.allclose(np.linalg.norm(net.W_in, axis=0), 10.0), np.allclose(np.linalg.norm(net.W_out, axis=1), 0.1)
    (True, True)
    >>> net.n, net.n_in, net.n_out, sorted(net.params())
    (100, 2, 3, ['W', 'W_in', 'W_out'])
    """

    W: np.ndarray
    W_in: np.ndarray
    W_out: np.ndarray
    b: np.ndarray | None = None
    b_out: np.ndarray | None = None
    dt: float = 0.5
    phi: str = "tanh"

    def __post_init__(self):
        W = _as_float("W", self.W)
        dtype = W.dtype
        W_in = _as_float("W_in", self.W_in, dtype)
        W_out = _as_float("W_out", self.W_out, dtype)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 1:
            raise ShapeError(f"W must be a square (N, N) matrix, got shape {W.shape}")
        n = W.shape[0]
        if W_in.ndim != 2 or W_in.shape[0] != n:
            raise ShapeError(f"W_in must have shape (N, n_in) = ({n}, n_in), got {W_in.shape}")
        if W_out.ndim != 2 or W_out.shape[1] != n:
            raise ShapeError(f"W_out must have shape (n_out, N) = (n_out, {n}), got {W_out.shape}")
        set_ = object.__setattr__
        set_(self, "W", check_finite("W", W))
        set_(self, "W_in", check_finite("W_in", W_in))
        set_(self, "W_out", check_finite("W_out", W_out))
        if self.b is not None:
            b = _as_float("b", self.b, dtype)
            if b.shape != (n,):
                raise ShapeError(f"b must have shape (N,) = ({n},), got {b.shape}")
            set_(self, "b", check_finite("b", b))
        if self.b_out is not None:
            bo = _as_float("b_out", self.b_out, dtype)
            if bo.shape != (W_out.shape[0],):
                raise ShapeError(f"b_out must have shape (n_out,) = ({W_out.shape[0]},), got {bo.shape}")
            set_(self, "b_out", check_finite("b_out", bo))
        try:
            dt = float(self.dt)
        except (TypeError, ValueError):
            raise DomainError(f"dt must be a number in (0, 1], got {self.dt!r}") from None
        if not (0.0 < dt <= 1.0):
            raise DomainError(f"dt must lie in (0, 1] (Euler step in units of the time constant), got {self.dt!r}")
        set_(self, "dt", dt)
        if self.phi not in PHIS:
            raise DomainError(f"phi must be one of {PHIS}, got {self.phi!r}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def init(cls, n: int, n_in: int, n_out: int, g: float, rng: np.random.Generator, *,
             dt: float = 0.5, phi: str = "tanh", bias: bool = False, out_bias: bool = False,
             dtype=np.float64) -> "RateRNN":
        r"""Schuessler et al. (2020) initialisation.

        * :math:`W_0 = gJ`, :math:`J_{ij}\sim\mathcal N(0, 1/N)` i.i.d. (exactly 0 at g = 0);
        * columns of ``W_in``: standard Gaussian N-vectors rescaled to norm exactly
          :math:`\sqrt N`;
        * rows of ``W_out``: standard Gaussian N-vectors rescaled to norm exactly
          :math:`1/\sqrt N` (:math:`\sqrt N`, then divided by N);
        * biases (if requested) start at 0.

        Draw order: J, then W_in, then W_out (J is drawn even at g = 0, so one seed gives
        the same W_in and W_out at every g).  Cost :math:`O(N^2)`.
        """
        for name, v in (("n", n), ("n_in", n_in), ("n_out", n_out)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise DomainError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(rng, np.random.Generator):
            raise RNNTheoryError("rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed))")
        g = float(g)
        if not np.isfinite(g) or g < 0:
            raise DomainError(f"g must be a finite number >= 0, got {g!r}")
        J = rng.standard_normal((n, n)) / np.sqrt(n)
        W_in = rng.standard_normal((n, n_in))
        W_in *= np.sqrt(n) / np.linalg.norm(W_in, axis=0, keepdims=True)
        W_out = rng.standard_normal((n_out, n))
        W_out *= (np.sqrt(n) / np.linalg.norm(W_out, axis=1, keepdims=True)) / n
        dtype = np.dtype(dtype)
        if dtype.type not in _FLOATS:
            raise DomainError(f"dtype must be float32 or float64, got {dtype}")
        return cls(W=(g * J).astype(dtype), W_in=W_in.astype(dtype), W_out=W_out.astype(dtype),
                   b=np.zeros(n, dtype) if bias else None,
                   b_out=np.zeros(n_out, dtype) if out_bias else None, dt=dt, phi=phi)

    # ------------------------------------------------------------------ accessors
    @property
    def n(self) -> int:
        return self.W.shape[0]

    @property
    def n_in(self) -> int:
        return self.W_in.shape[1]

    @property
    def n_out(self) -> int:
        return self.W_out.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.W.dtype

    def params(self) -> dict:
        """Dict of the present arrays: ``W``, ``W_in``, ``W_out`` (+ ``b``, ``b_out`` if not None)."""
        out = {"W": self.W, "W_in": self.W_in, "W_out": self.W_out}
        if self.b is not None:
            out["b"] = self.b
        if self.b_out is not None:
            out["b_out"] = self.b_out
        return out

    def replace(self, **changes) -> "RateRNN":
        """A copy with some arrays (or ``dt``/``phi``) replaced; validated again."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise RNNTheoryError(f"unknown RateRNN field(s) {sorted(unknown)}; fields are "
                                 f"{[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)

    def astype(self, dtype) -> "RateRNN":
        """The same network with all arrays cast to ``dtype`` (float32 or float64)."""
        dtype = np.dtype(dtype)
        if dtype.type not in _FLOATS:
            raise DomainError(f"dtype must be float32 or float64, got {dtype}")
        return self.replace(**{k: v.astype(dtype) for k, v in self.params().items()})

    def __repr__(self) -> str:
        bias = f", b={'yes' if self.b is not None else 'no'}, b_out={'yes' if self.b_out is not None else 'no'}"
        return (f"RateRNN(N={self.n}, n_in={self.n_in}, n_out={self.n_out}, dt={self.dt}, "
                f"phi={self.phi!r}{bias}, dtype={self.dtype})")



def as_params(net: RateRNN, params: Mapping[str, np.ndarray]) -> RateRNN:
    """``net`` with the arrays in ``params`` substituted (alias of ``net.replace``)."""
    return net.replace(**dict(params))
