r"""Forward pass of the rate RNN: the stored :class:`Trajectory` (:func:`forward`) and the
memory-light :func:`predict`.

See :mod:`rnn_theory.numerics.rate.model` for the equations.  Cost per batch of B trials
of length T: :math:`O(BTN^2)` flops; memory :math:`O(BTN)` for :func:`forward`,
:math:`O(\text{chunk}\cdot N)` for :func:`predict`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError, check_finite

from rnn_theory.numerics.infra.fastmath import tanh_into
from rnn_theory.numerics.rate.network import RateRNN, _as_float

__all__ = ["Trajectory", "forward", "predict"]


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


def _noise_levels(state_noise, act_noise, dropout, rng) -> tuple[float, float, float]:
    """Validated ``(state_noise, act_noise, dropout)``; checks ``rng`` when any is on."""
    state_noise = _nonneg("state_noise", state_noise)
    act_noise = _nonneg("act_noise", act_noise)
    dropout = _nonneg("dropout", dropout)
    if dropout >= 1:
        raise DomainError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    noisy = state_noise > 0 or act_noise > 0 or dropout > 0
    if noisy and not isinstance(rng, np.random.Generator):
        raise RNNTheoryError("noise or dropout is on: pass rng=np.random.default_rng(seed)")
    return state_noise, act_noise, dropout


def _draw_noise(rng, T: int, B: int, N: int, dt: float, dtype, state_noise: float, act_noise: float,
                dropout: float):
    """Dropout scale (T+1, B, N), activity noise (T+1, B, N) and state noise (T, B, N), each
    None when off; drawn in this order (the reproducibility contract of :func:`forward`)."""
    scale = xi = xi_s = None
    if dropout > 0:
        scale = (rng.random((T + 1, B, N)) >= dropout).astype(dtype) / dtype.type(1.0 - dropout)
    if act_noise > 0:
        xi = rng.standard_normal((T + 1, B, N)).astype(dtype, copy=False) * dtype.type(act_noise)
    if state_noise > 0:
        xi_s = rng.standard_normal((T, B, N)).astype(dtype, copy=False) * dtype.type(np.sqrt(dt) * state_noise)
    return scale, xi, xi_s


def _input_currents(net: RateRNN, U: np.ndarray, workspace) -> np.ndarray:
    r""":math:`\Delta t\,(W_{\rm in}u_t + b)` for all (t, b) as one GEMM, shape (T, B, N)."""
    T, B, _ = U.shape
    N, dt = net.n, net.dt
    I = _buffer(workspace, "I", (T, B, N), net.dtype)
    np.matmul(U.reshape(T * B, -1), dt * net.W_in.T, out=I.reshape(T * B, N))
    if net.b is not None:
        I += dt * net.b
    return I


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
    state_noise, act_noise, dropout = _noise_levels(state_noise, act_noise, dropout, rng)
    U = np.ascontiguousarray(U)
    I = _input_currents(net, U, workspace)  # dt * (W_in u_t + b)
    scale, xi, xi_s = _draw_noise(rng, T, B, N, dt, dtype, state_noise, act_noise, dropout)

    ws = workspace if workspace is not None else {}
    X = _buffer(ws, "X", (T + 1, B, N), dtype)
    X[0] = _check_x0(net, x0, B)
    H = _buffer(ws, "H", (T + 1, B, N), dtype)
    R = _buffer(ws, "R", (T + 1, B, N), dtype) if (act_noise > 0 or dropout > 0) else H
    tmp = _buffer(ws, "tmp", (B, N), dtype)
    dWT = np.ascontiguousarray(dt * net.W.T)
    leak = 1.0 - dt
    tanh = net.phi == "tanh"
    tanh_work = ws.setdefault("tanh_work", {})

    def activity(t):
        if tanh:
            tanh_into(X[t], H[t], tanh_work)
        else:
            H[t] = X[t]
        if R is not H:
            rt = R[t]
            rt[...] = H[t]
            if xi is not None:
                rt += xi[t]
            if scale is not None:
                rt *= scale[t]

    for t in range(T):  # per step: one GEMM and four in-place passes over (B, N)
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
    same :math:`O(BTN^2)` cost as :func:`forward` (trials processed ``chunk`` at a time):
    per time step one GEMM, two in-place passes and one activation (the same float64
    tanh kernel as :func:`forward`, :func:`rnn_theory.numerics.infra.fastmath.tanh_into`).

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
    tanh = net.phi == "tanh"
    leak = 1.0 - dt
    work: dict = {}
    for s in range(0, B, chunk):
        Uc = np.ascontiguousarray(u[s:s + chunk].transpose(1, 0, 2))
        b = Uc.shape[1]
        I = (Uc.reshape(T * b, -1) @ (dt * net.W_in.T)).reshape(T, b, N)
        if net.b is not None:
            I += dt * net.b
        x = np.array(x0_full[s:s + chunk], dtype=net.dtype)
        xn, tmp = np.empty_like(x), np.empty_like(x)
        Rn = np.empty((T, b, N), net.dtype)
        r = tanh_into(x, np.empty_like(x), work) if tanh else x.copy()
        for t in range(T):  # each activation once: r_t feeds step t+1 and the readout
            np.matmul(r, dWT, out=xn)
            xn += I[t]
            if dt != 1.0:
                np.multiply(x, leak, out=tmp)
                xn += tmp
            x, xn = xn, x
            r = Rn[t]
            if tanh:
                tanh_into(x, r, work)
            else:
                r[...] = x
        out[s:s + chunk] = (Rn.reshape(T * b, N) @ WoT).reshape(T, b, -1).transpose(1, 0, 2)
    if net.b_out is not None:
        out += net.b_out
    return out
