r"""Discrete-time rate RNN: forward pass and exact backpropagation through time.

Model (forward Euler of :math:`\dot x = -x + W\phi(x) + W_{\rm in}u + b`, time constant 1)

.. math::
    x_0 &= x_0 \quad(\text{default } 0),\\
    r_t &= m_t \odot \bigl(\phi(x_t) + \sigma_{\rm act}\,\xi_t\bigr) / (1-p),
        \qquad t = 0\ldots T,\\
    x_{t+1} &= (1-\Delta t)\,x_t + \Delta t\,\bigl[W r_t + W_{\rm in} u_t + b\bigr]
        + \sqrt{\Delta t}\,\sigma_{\rm state}\,\xi'_t, \qquad t = 0\ldots T-1,\\
    z_t &= W_{\rm out}\, r_{t+1} + b_{\rm out}.

* ``m_t`` is an inverted-dropout mask (Bernoulli(1-p) entries) and :math:`\xi, \xi'`
  are standard Gaussian; all three are off by default, and then :math:`r_t=\phi(x_t)`.
* **Readout timing**: output index ``t`` reads the state *after* the update that
  consumed input ``u_t``, as in Schuessler et al. (2020), whose readout is
  :math:`W_o^\top\tanh(x_{t+1})` with :math:`W_o^\top` = ``W_out``.
* With ``dt = 1`` the map is :math:`x_{t+1} = W r_t + W_{\rm in}u_t + b`, i.e.
  :math:`h_{t+1} = \phi(W h_t + W_{\rm in} u_t + b)` for :math:`h = \phi(x)`
  (the discrete RNN of Farrell et al. 2022).
* Weights in math orientation: ``W`` (N×N) acts as ``W @ r``, ``W_in`` is N×n_in and
  ``W_out`` is n_out×N (the paper's :math:`W_o^\top`).  Trials are ``(batch, time, features)``.

Cost per trial batch of size B and length T: forward and backward each
:math:`O(B T N^2)` flops, done as T matrix products of size (B×N)·(N×N); the input
currents, the readout and all weight gradients are *one* matrix product each over all
(batch, time) pairs.  Memory :math:`O(B T N)` for the stored trajectory
(:func:`predict` needs only :math:`O(B N)`).

>>> import numpy as np
>>> net = RateRNN.init(8, 2, 1, g=0.9, rng=np.random.default_rng(0))
>>> traj = forward(net, np.ones((3, 5, 2)))
>>> traj.x.shape, traj.r.shape, traj.z.shape
((3, 6, 8), (3, 6, 8), (3, 5, 1))
>>> grads = backward(net, traj, np.ones((3, 5, 1)))
>>> sorted(grads), grads["W"].shape
(['W', 'W_in', 'W_out'], (8, 8))
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError, check_finite

__all__ = ["RateRNN", "Trajectory", "forward", "backward", "predict", "PARAM_NAMES", "PHIS"]

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


# ---------------------------------------------------------------------- trajectories
@dataclass(frozen=True, eq=False)
class Trajectory:
    """Stored forward pass, time-major internally.

    Public views (``(batch, time, features)``): ``x`` (B, T+1, N) states,
    ``r`` (B, T+1, N) the activity actually used (after noise and dropout),
    ``h`` (B, T+1, N) :math:`\\phi(x)`, ``z`` (B, T, n_out) outputs, ``inputs``.
    """

    X: np.ndarray          # (T+1, B, N)
    R: np.ndarray          # (T+1, B, N)
    H: np.ndarray          # (T+1, B, N) phi(x); same object as R when no noise/dropout
    U: np.ndarray          # (T, B, n_in)
    Z: np.ndarray          # (T, B, n_out)
    scale: np.ndarray | None  # (T+1, B, N) dropout mask / (1-p), or None
    dt: float
    phi: str

    @property
    def x(self) -> np.ndarray:
        return self.X.swapaxes(0, 1)

    @property
    def r(self) -> np.ndarray:
        return self.R.swapaxes(0, 1)

    @property
    def h(self) -> np.ndarray:
        return self.H.swapaxes(0, 1)

    @property
    def z(self) -> np.ndarray:
        return self.Z.swapaxes(0, 1)

    @property
    def inputs(self) -> np.ndarray:
        return self.U.swapaxes(0, 1)


def _check_inputs(net: RateRNN, inputs) -> np.ndarray:
    u = np.asarray(inputs)
    if u.ndim != 3:
        raise ShapeError(f"inputs must be a (batch, time, n_in) array, got shape {u.shape}")
    if u.shape[2] != net.n_in:
        raise ShapeError(f"inputs have {u.shape[2]} features but the network has n_in = {net.n_in}; "
                         "build the network for this task (RateRNN.init(n, task n_in, task n_out, ...))")
    if u.shape[0] < 1 or u.shape[1] < 1:
        raise ShapeError(f"inputs need at least one trial and one time step, got shape {u.shape}")
    return check_finite("inputs", _as_float("inputs", u, net.dtype))


def _check_x0(net: RateRNN, x0, B: int) -> np.ndarray:
    if x0 is None:
        return np.zeros((B, net.n), net.dtype)
    x0 = check_finite("x0", _as_float("x0", x0, net.dtype))
    if x0.shape == (net.n,):
        return np.broadcast_to(x0, (B, net.n))
    if x0.shape == (B, net.n):
        return x0
    raise ShapeError(f"x0 must have shape (N,) = ({net.n},) or (batch, N) = ({B}, {net.n}), got {x0.shape}")


def _nonneg(name, v) -> float:
    v = float(v)
    if not np.isfinite(v) or v < 0:
        raise DomainError(f"{name} must be a finite number >= 0, got {v!r}")
    return v


def _buffer(workspace, key, shape, dtype):
    """An uninitialised array, reused from ``workspace`` (a dict) when shape and dtype match."""
    if workspace is None:
        return np.empty(shape, dtype)
    a = workspace.get(key)
    if a is None or a.shape != shape or a.dtype != dtype:
        a = workspace[key] = np.empty(shape, dtype)
    return a


def forward(net: RateRNN, inputs, *, x0=None, state_noise: float = 0.0, act_noise: float = 0.0,
            dropout: float = 0.0, rng: np.random.Generator | None = None,
            workspace: dict | None = None) -> Trajectory:
    r"""Run the network on a batch of inputs ``(B, T, n_in)`` and store the trajectory.

    Parameters
    ----------
    net : RateRNN
    inputs : (B, T, n_in) array
    x0 : (N,) or (B, N) array, optional
        Initial state :math:`x_0` (default 0).
    state_noise, act_noise : float
        :math:`\sigma_{\rm state}` and :math:`\sigma_{\rm act}` (default 0).
    dropout : float
        Drop probability :math:`p\in[0,1)` of inverted dropout on :math:`r_t` (default 0).
    rng : numpy.random.Generator
        Required when any noise or dropout is on.  The draws are made up front, in the
        order dropout mask (T+1, B, N), activity noise (T+1, B, N), state noise (T, B, N)
        (each only if on), so the same seed reproduces the same noise.
    workspace : dict, optional
        Reuse the :math:`O(BTN)` buffers stored in this dict across calls (saves the
        allocation and page-fault cost, ~25% of a training step at N = 256).  The returned
        trajectory then *aliases* the workspace and is overwritten by the next call with
        the same workspace; :func:`rnn_theory.numerics.rate.train.train` uses one per run.

    Returns
    -------
    Trajectory
        ``x``, ``r``, ``h``, ``z`` views and the caches used by :func:`backward`.

    Cost :math:`O(BTN^2 + BTN(n_{\rm in}+n_{\rm out}))`; memory :math:`O(BTN)`.
    """
    U = _check_inputs(net, inputs).transpose(1, 0, 2)  # (T, B, n_in) view
    T, B, _ = U.shape
    N, dt, dtype = net.n, net.dt, net.dtype
    state_noise = _nonneg("state_noise", state_noise)
    act_noise = _nonneg("act_noise", act_noise)
    dropout = _nonneg("dropout", dropout)
    if dropout >= 1:
        raise DomainError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    noisy = state_noise > 0 or act_noise > 0 or dropout > 0
    if noisy and not isinstance(rng, np.random.Generator):
        raise RNNTheoryError("noise or dropout is on: pass rng=np.random.default_rng(seed)")
    U = np.ascontiguousarray(U)
    # input currents, one GEMM over all (time, batch): dt * (W_in u_t + b)
    I = _buffer(workspace, "I", (T, B, N), dtype)
    np.matmul(U.reshape(T * B, -1), dt * net.W_in.T, out=I.reshape(T * B, N))
    if net.b is not None:
        I += dt * net.b
    scale = xi = xi_s = None
    if dropout > 0:
        scale = (rng.random((T + 1, B, N)) >= dropout).astype(dtype) / dtype.type(1.0 - dropout)
    if act_noise > 0:
        xi = rng.standard_normal((T + 1, B, N)).astype(dtype, copy=False) * dtype.type(act_noise)
    if state_noise > 0:
        xi_s = rng.standard_normal((T, B, N)).astype(dtype, copy=False) * dtype.type(np.sqrt(dt) * state_noise)

    X = _buffer(workspace, "X", (T + 1, B, N), dtype)
    X[0] = _check_x0(net, x0, B)
    H = _buffer(workspace, "H", (T + 1, B, N), dtype)
    R = _buffer(workspace, "R", (T + 1, B, N), dtype) if (act_noise > 0 or dropout > 0) else H
    tmp = np.empty((B, N), dtype)
    dWT = np.ascontiguousarray(dt * net.W.T)
    leak = 1.0 - dt
    tanh = net.phi == "tanh"

    def activity(t):
        if tanh:
            np.tanh(X[t], out=H[t])
        else:
            H[t] = X[t]
        if R is not H:
            rt = R[t]
            rt[...] = H[t]
            if xi is not None:
                rt += xi[t]
            if scale is not None:
                rt *= scale[t]

    for t in range(T):
        activity(t)
        xn = X[t + 1]
        np.matmul(R[t], dWT, out=xn)
        xn += I[t]
        if leak:
            np.multiply(X[t], leak, out=tmp)
            xn += tmp
        if xi_s is not None:
            xn += xi_s[t]
    activity(T)
    Z = (R[1:].reshape(T * B, N) @ net.W_out.T).reshape(T, B, -1)
    if net.b_out is not None:
        Z += net.b_out
    return Trajectory(X=X, R=R, H=H, U=U, Z=Z, scale=scale, dt=dt, phi=net.phi)


def predict(net: RateRNN, inputs, *, x0=None, chunk: int = 256) -> np.ndarray:
    """Noise-free outputs ``z`` (B, T, n_out) without storing the trajectory.

    Memory :math:`O(\\text{chunk}\\cdot N + BTn_{\\rm out})` instead of :math:`O(BTN)`;
    same :math:`O(BTN^2)` cost as :func:`forward` (trials processed ``chunk`` at a time).

    >>> import numpy as np
    >>> net = RateRNN.init(6, 1, 2, g=1.0, rng=np.random.default_rng(0))
    >>> u = np.random.default_rng(1).normal(size=(5, 7, 1))
    >>> bool(np.allclose(predict(net, u, chunk=2), forward(net, u).z))
    True
    """
    u = _check_inputs(net, inputs)
    B, T, _ = u.shape
    if not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise DomainError(f"chunk must be a positive integer, got {chunk!r}")
    x0_full = _check_x0(net, x0, B)
    N, dt = net.n, net.dt
    dWT = np.ascontiguousarray(dt * net.W.T)
    WoT = np.ascontiguousarray(net.W_out.T)
    out = np.empty((B, T, net.n_out), net.dtype)
    act = np.tanh if net.phi == "tanh" else (lambda a: a)
    for s in range(0, B, chunk):
        Uc = np.ascontiguousarray(u[s:s + chunk].transpose(1, 0, 2))
        b = Uc.shape[1]
        I = (Uc.reshape(T * b, -1) @ (dt * net.W_in.T)).reshape(T, b, N)
        if net.b is not None:
            I += dt * net.b
        x = np.array(x0_full[s:s + chunk], dtype=net.dtype)
        Rn = np.empty((T, b, N), net.dtype)
        for t in range(T):
            xn = act(x) @ dWT
            xn += I[t]
            if dt != 1.0:
                xn += (1.0 - dt) * x
            x = xn
            Rn[t] = act(x)
        out[s:s + chunk] = (Rn.reshape(T * b, N) @ WoT).reshape(T, b, -1).transpose(1, 0, 2)
    if net.b_out is not None:
        out += net.b_out
    return out


def backward(net: RateRNN, traj: Trajectory, dz, *,
             params: Iterable[str] = ("W_in", "W", "W_out"), workspace: dict | None = None) -> dict:
    r"""Exact BPTT gradients of a loss :math:`L` given :math:`\partial L/\partial z` = ``dz``.

    With adjoints :math:`a_t = \partial L/\partial x_t` and
    :math:`D_t = \phi'(x_t)\odot m_t/(1-p)` (noise enters additively, so it does not
    change :math:`\partial r_t/\partial x_t`):

    .. math::
        \frac{\partial L}{\partial r_t} &= \Delta t\, W^\top a_{t+1}\,[t<T]
            + W_{\rm out}^\top \delta z_{t-1}\,[t\ge 1],\qquad
        a_t = (1-\Delta t)\,a_{t+1}\,[t<T] + D_t \odot \frac{\partial L}{\partial r_t},\\
        \nabla_W L &= \Delta t\sum_{t=0}^{T-1} a_{t+1} r_t^\top,\quad
        \nabla_{W_{\rm in}} L = \Delta t\sum_t a_{t+1} u_t^\top,\quad
        \nabla_b L = \Delta t\sum_t a_{t+1},\\
        \nabla_{W_{\rm out}} L &= \sum_t \delta z_t\, r_{t+1}^\top,\quad
        \nabla_{b_{\rm out}} L = \sum_t \delta z_t,

    all sums also over the batch.  Only the adjoint recursion loops over time (T products
    (B×N)·(N×N)); each weight gradient is a single matrix product over all B·T pairs.

    Parameters
    ----------
    net : RateRNN
        The network that produced ``traj``.
    traj : Trajectory
        From :func:`forward`.
    dz : (B, T, n_out) array
        :math:`\partial L/\partial z_t`, e.g. the second output of
        :func:`rnn_theory.numerics.rate.losses.masked_mse`.
    params : iterable of str
        Which gradients to return, from ``W``, ``W_in``, ``W_out``, ``b``, ``b_out``, ``x0``
        (``b``/``b_out`` are returned even if the network has none: the gradient at a
        zero bias; ``x0`` is per trial, shape (B, N)).
    workspace : dict, optional
        Reuse the :math:`O(BTN)` adjoint buffers across calls (see :func:`forward`).

    Returns
    -------
    dict name -> array with the parameter's shape.
    """
    params = tuple(params)
    bad = set(params) - set(PARAM_NAMES) - {"x0"}
    if bad:
        raise RNNTheoryError(f"unknown parameter(s) {sorted(bad)}; choose from {PARAM_NAMES + ('x0',)}")
    T, B, N = traj.X.shape[0] - 1, traj.X.shape[1], traj.X.shape[2]
    if traj.X.shape[2] != net.n or traj.Z.shape[2] != net.n_out or traj.phi != net.phi or traj.dt != net.dt:
        raise ShapeError("trajectory was not produced by this network (N, n_out, phi or dt differ)")
    dz = np.asarray(dz)
    if dz.shape != (B, T, net.n_out):
        raise ShapeError(f"dz must have the shape of z, (B, T, n_out) = {(B, T, net.n_out)}, got {dz.shape}")
    dtype, dt = net.dtype, net.dt
    dZ = np.ascontiguousarray(dz.transpose(1, 0, 2), dtype=dtype)  # (T, B, n_out)
    out: dict = {}
    if "W_out" in params:
        out["W_out"] = dZ.reshape(T * B, -1).T @ traj.R[1:].reshape(T * B, N)
    if "b_out" in params:
        out["b_out"] = dZ.sum(axis=(0, 1))
    rec = [p for p in params if p in ("W", "W_in", "b", "x0")]
    if not rec:
        return {p: out[p] for p in params}
    # dphi_t = phi'(x_t) * dropout scale, t = 0..T
    if traj.phi == "tanh":
        D = _buffer(workspace, "D", traj.H.shape, dtype)
        np.multiply(traj.H, traj.H, out=D)
        np.subtract(1.0, D, out=D)
        if traj.scale is not None:
            D *= traj.scale
    else:
        D = traj.scale if traj.scale is not None else None
    # readout contribution to dL/dr_{t+1}: one GEMM
    G = _buffer(workspace, "G", (T, B, N), dtype)
    np.matmul(dZ.reshape(T * B, -1), net.W_out, out=G.reshape(T * B, N))
    A = _buffer(workspace, "A", (T, B, N), dtype)  # A[t] = a_{t+1}
    leak = 1.0 - dt
    dW = dt * net.W  # a @ (dt W) = dt (W^T a)^T
    if D is not None:
        np.multiply(G[T - 1], D[T], out=A[T - 1])
    else:
        A[T - 1] = G[T - 1]
    tmp = np.empty((B, N), dtype)
    for t in range(T - 1, 0, -1):
        a, an = A[t], A[t - 1]
        np.matmul(a, dW, out=an)
        an += G[t - 1]
        if D is not None:
            an *= D[t]
        if leak:
            np.multiply(a, leak, out=tmp)
            an += tmp
    a = A[0]
    Af = A.reshape(T * B, N)
    if "W" in params:
        out["W"] = dt * (Af.T @ traj.R[:T].reshape(T * B, N))
    if "W_in" in params:
        out["W_in"] = dt * (Af.T @ traj.U.reshape(T * B, -1))
    if "b" in params:
        out["b"] = dt * Af.sum(axis=0)
    if "x0" in params:
        a0 = a @ dW
        if D is not None:
            a0 *= D[0]
        if leak:
            a0 += leak * a
        out["x0"] = a0
    return {p: out[p] for p in params}


def as_params(net: RateRNN, params: Mapping[str, np.ndarray]) -> RateRNN:
    """``net`` with the arrays in ``params`` substituted (alias of ``net.replace``)."""
    return net.replace(**dict(params))
