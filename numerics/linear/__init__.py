r"""Linear rate RNN learning one fixed point: simulation, gradients and fast training.

This is the numerical side of the linear theory (spec ``linear_theory.md``, R1–R8;
Schuessler et al., NeurIPS 2020).  The network

.. math::
    x_{t+1} = (1 - \Delta t)\,x_t + \Delta t\,(W x_t + m\,u_t), \qquad x_0 = 0,
    \qquad z_t = w^\top x_{t+1},

with :math:`\Delta t = 0.5`, input :math:`u_t = 0` for the first :math:`1/\Delta t = 2`
steps and 1 afterwards, is read out on the last two of :math:`t_{max}/\Delta t = 202`
steps, where it sits at its fixed point :math:`x^* = B_W m`, :math:`B_W = (I - W)^{-1}`.
The loss is :math:`L = \tfrac12 \overline{(\hat z - z_t)^2} = \tfrac12 \varepsilon^2`.

Objects are named as in the paper: ``W0`` :math:`= gJ` with
:math:`J_{ij} \sim \mathcal N(0, 1/N)`, ``m`` with :math:`\|m\| = \sqrt N` exactly,
``w`` with :math:`\|w\| = 1/\sqrt N` exactly, ``dW`` :math:`= \Delta W`,
:math:`u_W = B_W^\top w`, :math:`v_W = B_W m`, the gain :math:`G = \|u_W\|^2\|v_W\|^2`,
learning time :math:`\tau = \eta\cdot\text{steps}` and effective time
:math:`\tilde\tau = \tau/(1-g^2)^2`.

Two gradients are provided and agree to round-off for a stable :math:`W` (R1):

* :func:`bptt_gradient` — backpropagation through the Euler trajectory, cost
  :math:`O(T N^2)` (``T`` matrix–vector products forward and backward, then *one* GEMM
  over all time steps for the weight gradient);
* :func:`fixed_point_gradient` — :math:`\partial L/\partial W = -\varepsilon\,u_W v_W^\top`,
  cost :math:`O(N^3)` for the two solves (or :math:`O(N^2)` given :math:`B_W`).

:func:`train_linear` trains W by full-batch gradient descent with
:math:`\eta = \mathrm{lr}_0 (1-g^2)^2`.  Each step changes W by the rank-one matrix
:math:`\eta\varepsilon\,u v^\top`, so :math:`B_W` is kept up to date with
Sherman–Morrison updates (:math:`O(N^2)` per step instead of an :math:`O(N^3)` solve).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from rnn_theory.theory.errors import (
    DomainError,
    NonFiniteError,
    ShapeError,
    TrainingDivergedError,
    UnstableError,
    check_finite,
    check_positive,
)

from rnn_theory.numerics.rate.analysis import max_real_eig  # noqa: F401  (public here too)

__all__ = [
    "EulerTask",
    "LowRankSum",
    "LinearTrainingResult",
    "ShuffleResult",
    "draw_network",
    "normalise_inputs",
    "euler_readout",
    "euler_loss",
    "bptt_gradient",
    "fixed_point_gradient",
    "fixed_point_readout",
    "max_real_eig",
    "shuffle_test",
    "train_fixed_point",
    "train_linear",
]


# --------------------------------------------------------------------------------------
# the task
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EulerTask:
    r"""Time grid of the fixed-point task (spec section 3).

    Parameters
    ----------
    dt : float
        Euler step (0.5 in the paper).
    t_max : float
        Trial length in time units; ``n_steps = round(t_max/dt)`` (101 → 202 steps;
        the divergence scenario uses 201 → 402).
    n_target : int
        Number of final steps on which the target applies (2: "readout at T = 100").

    >>> task = EulerTask()
    >>> task.n_steps, int(task.inputs().sum()), task.mask().nonzero()[0].tolist()
    (202, 200, [200, 201])
    """

    dt: float = 0.5
    t_max: float = 101.0
    n_target: int = 2

    def __post_init__(self):
        check_positive("dt", self.dt)
        check_positive("t_max", self.t_max)
        if not (0 < self.dt <= 1):
            raise DomainError(f"dt must lie in (0, 1] for this Euler scheme, got {self.dt}")
        if not isinstance(self.n_target, numbers.Integral) or self.n_target < 1:
            raise DomainError(f"n_target must be a positive integer, got {self.n_target!r}")
        if self.n_target > self.n_steps - int(1 / self.dt):
            raise DomainError(
                f"t_max = {self.t_max} gives only {self.n_steps} steps; need more than "
                f"{int(1 / self.dt)} silent steps plus n_target = {self.n_target} readout steps"
            )

    @property
    def n_steps(self) -> int:
        """Number of Euler steps ``T = round(t_max / dt)``."""
        return int(round(self.t_max / self.dt))

    def inputs(self) -> np.ndarray:
        """Input ``u_t`` (length ``T``): 0 for the first ``int(1/dt)`` steps, then 1."""
        u = np.ones(self.n_steps)
        u[: int(1 / self.dt)] = 0.0
        return u

    def mask(self) -> np.ndarray:
        """Loss mask (length ``T``): 1 on the last ``n_target`` steps, 0 elsewhere."""
        mk = np.zeros(self.n_steps)
        mk[-self.n_target:] = 1.0
        return mk


DEFAULT_TASK = EulerTask()


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


# --------------------------------------------------------------------------------------
# Euler simulation and BPTT
# --------------------------------------------------------------------------------------
def _trajectory(W, m, task):
    """States x_0..x_T as a (T+1, N) array; O(T N^2)."""
    dt = task.dt
    u = task.inputs()
    T, n = task.n_steps, W.shape[0]
    X = np.zeros((T + 1, n))
    x = X[0]
    for t in range(T):
        x = (1 - dt) * x + dt * (W @ x + m * u[t])
        X[t + 1] = x
    return X


def euler_readout(W, m, w, task: EulerTask = DEFAULT_TASK) -> np.ndarray:
    r"""Readouts :math:`z_t = w^\top x_{t+1}` for every step (length ``T``); :math:`O(TN^2)`.

    >>> W0, m, w = draw_network(30, 0.3, np.random.default_rng(0))
    >>> z = euler_readout(W0, m, w)
    >>> bool(abs(z[-1] - fixed_point_readout(W0, m, w)) < 1e-12)
    True
    """
    W, m, w = _check_system(W, m, w)
    X = _trajectory(W, m, task)
    z = X[1:] @ w
    if not np.all(np.isfinite(z)):
        raise NonFiniteError("the Euler trajectory overflowed: W is far from stable (|1 + lambda| >= 2)")
    return z


def euler_loss(W, m, w, zhat, task: EulerTask = DEFAULT_TASK) -> float:
    r"""Loss :math:`\tfrac12\,\mathrm{mean}_{t\in\text{mask}}(\hat z - z_t)^2` of the Euler network."""
    zhat = _check_real("zhat", zhat)
    z = euler_readout(W, m, w, task)
    mk = task.mask().astype(bool)
    return float(0.5 * np.mean((zhat - z[mk]) ** 2))


def bptt_gradient(W, m, w, zhat, task: EulerTask = DEFAULT_TASK):
    r"""Loss and :math:`\partial L/\partial W` by backpropagation through the Euler trajectory.

    Adjoint recursion :math:`a_{t+1} = A^\top a_{t+2} + \partial L/\partial z_t\, w` with
    :math:`A = (1-\Delta t)I + \Delta t W`, then one GEMM over all steps:
    :math:`\partial L/\partial W = \Delta t \sum_t a_{t+1} x_t^\top = \Delta t\, \mathcal A^\top X`.
    Cost :math:`O(T N^2)` time, :math:`O(T N)` memory.

    Returns
    -------
    loss : float
    grad : ndarray (N, N)

    >>> W0, m, w = draw_network(20, 0.5, np.random.default_rng(0))
    >>> L1, G1 = bptt_gradient(W0, m, w, 1.0)
    >>> L2, G2, *_ = fixed_point_gradient(W0, m, w, 1.0)
    >>> bool(np.linalg.norm(G1 - G2) < 1e-12 * np.linalg.norm(G2))
    True
    """
    W, m, w = _check_system(W, m, w)
    zhat = _check_real("zhat", zhat)
    dt = task.dt
    X = _trajectory(W, m, task)
    if not np.all(np.isfinite(X)):
        raise NonFiniteError("the Euler trajectory overflowed: W is far from stable (|1 + lambda| >= 2)")
    z = X[1:] @ w
    mk = task.mask()
    nm = mk.sum()
    err = mk * (zhat - z)
    loss = float(0.5 * np.sum(err**2) / nm)
    dLdz = -err / nm  # dL/dz_t
    T, n = task.n_steps, W.shape[0]
    Adj = np.zeros((T, n))  # Adj[t] = dL/dx_{t+1}
    a = np.zeros(n)
    WT = W.T
    for t in range(T - 1, -1, -1):
        # a_{t+1} = A^T a_{t+2} + dL/dz_t w
        a = (1 - dt) * a + dt * (WT @ a) + dLdz[t] * w
        Adj[t] = a
    grad = dt * (Adj.T @ X[:-1])  # sum_t a_{t+1} x_t^T : one GEMM over all time steps
    return loss, grad


def fixed_point_readout(W, m, w) -> float:
    r""":math:`z = w^\top (I-W)^{-1} m` (one LU solve, :math:`O(N^3)`)."""
    W, m, w = _check_system(W, m, w)
    n = W.shape[0]
    v = np.linalg.solve(np.eye(n) - W, m)
    return float(w @ v)


def fixed_point_gradient(W, m, w, zhat):
    r"""Loss and the rank-one fixed-point gradient :math:`-\varepsilon\,u_W v_W^\top` (R1).

    :math:`u_W = B_W^\top w`, :math:`v_W = B_W m`, :math:`\varepsilon = \hat z - w^\top v_W`.
    One LU factorisation and two triangular solves: :math:`O(N^3)`.

    Returns
    -------
    loss, grad, u, v, z
    """
    W, m, w = _check_system(W, m, w)
    zhat = _check_real("zhat", zhat)
    n = W.shape[0]
    lu = sla.lu_factor(np.eye(n) - W, check_finite=False)
    v = sla.lu_solve(lu, m, check_finite=False)
    u = sla.lu_solve(lu, w, trans=1, check_finite=False)
    z = float(w @ v)
    eps = zhat - z
    return 0.5 * eps * eps, -eps * np.outer(u, v), u, v, z


# --------------------------------------------------------------------------------------
# singular values of a growing sum of rank-one matrices
# --------------------------------------------------------------------------------------
class LowRankSum:
    r"""Keep :math:`\Delta W = \sum_k c_k u_k v_k^\top` in factored form :math:`Q_u K Q_v^\top`.

    :math:`Q_u, Q_v` are orthonormal bases grown by two-pass Gram–Schmidt (a new column
    only when the residual exceeds ``tol`` times the vector's norm — dropping it changes
    :math:`\Delta W` by less than ``tol`` relative, i.e. at round-off), and
    :math:`K = Q_u^\top \Delta W Q_v` is a small :math:`k\times k` core.  Adding a term
    costs :math:`O(Nk)`; the singular values are those of :math:`K` (:math:`O(k^3)`),
    so the SVD never touches an :math:`N\times N` matrix.

    >>> rng = np.random.default_rng(0)
    >>> S = LowRankSum(30)
    >>> a, b, c = rng.normal(size=(3, 30))
    >>> S.add(2.0, a, b); S.add(-1.0, c, a)
    >>> M = 2 * np.outer(a, b) - np.outer(c, a)
    >>> bool(np.allclose(S.singular_values(), np.linalg.svd(M, compute_uv=False)[:2]))
    True
    """

    def __init__(self, n: int, tol: float = 1e-14, capacity: int = 16):
        self.n = n
        self.tol = tol
        # Fortran order: the leading k columns Q[:, :k] are contiguous (no copies in GEMVs)
        self._Qu = np.zeros((n, capacity), order="F")
        self._Qv = np.zeros((n, capacity), order="F")
        self._K = np.zeros((capacity, capacity))
        self.ku = 0
        self.kv = 0

    def _grow(self):
        cap = self._Qu.shape[1] * 2
        for name in ("_Qu", "_Qv"):
            old = getattr(self, name)
            new = np.zeros((self.n, cap), order="F")
            new[:, : old.shape[1]] = old
            setattr(self, name, new)
        K = np.zeros((cap, cap))
        K[: self._K.shape[0], : self._K.shape[1]] = self._K
        self._K = K

    def _project(self, Q, k, x):
        nx = np.linalg.norm(x)
        if nx == 0:
            return np.zeros(k), None
        coef = np.zeros(k)
        r = x.copy()
        for _ in range(2):  # two passes of classical Gram-Schmidt
            if k:
                c = Q[:, :k].T @ r
                r -= Q[:, :k] @ c
                coef += c
        nr = np.linalg.norm(r)
        if nr > self.tol * nx:
            return np.append(coef, nr), r / nr
        return coef, None

    def add(self, c: float, u, v) -> None:
        """Add ``c * outer(u, v)``; :math:`O(N k)`."""
        if self.ku + 1 > self._Qu.shape[1] or self.kv + 1 > self._Qv.shape[1]:
            self._grow()
        a, qa = self._project(self._Qu, self.ku, u)
        if qa is not None:
            self._Qu[:, self.ku] = qa
            self.ku += 1
        b, qb = self._project(self._Qv, self.kv, v)
        if qb is not None:
            self._Qv[:, self.kv] = qb
            self.kv += 1
        self._K[: a.size, : b.size] += c * np.outer(a, b)

    @property
    def core(self) -> np.ndarray:
        return self._K[: self.ku, : self.kv]

    def singular_values(self) -> np.ndarray:
        """Singular values of the sum, descending (length ``min(ku, kv)``); :math:`O(k^3)`."""
        if self.ku == 0 or self.kv == 0:
            return np.zeros(0)
        return np.linalg.svd(self.core, compute_uv=False)

    def dense(self) -> np.ndarray:
        """The sum as an ``(N, N)`` array (:math:`O(N^2 k)`)."""
        return self._Qu[:, : self.ku] @ self.core @ self._Qv[:, : self.kv].T


# --------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------
@dataclass
class LinearTrainingResult:
    r"""History of one training run; index ``k`` = state after ``k`` GD steps.

    Arrays of length ``steps_done + 1`` (step 0 = initial state): ``tau`` (:math:`\eta k`),
    ``tau_tilde`` (:math:`\mathrm{lr}_0 k`), ``loss``, ``z`` (fixed-point readout, or the
    Euler readout averaged over the masked steps for ``method="bptt"``), ``G``,
    ``grad_norm`` (:math:`\|\partial L/\partial W\|_F`), ``dw_norm``
    (:math:`\|\Delta W\|_F`), ``sv`` (shape ``(steps_done + 1, n_sv)``, singular values of
    :math:`\Delta W`, descending, zero-padded), ``top_eig`` (max real part of an eigenvalue
    of W, only with ``record_eig``; else NaN).  ``W0``, ``dW``, ``m``, ``w`` are the final
    matrices/vectors.  ``diverged`` is True when the run stopped because an eigenvalue of W
    reached 1; ``message`` says where.
    """

    n: int
    g: float
    zhat: float
    lr0: float
    lr: float
    method: str
    tau: np.ndarray
    tau_tilde: np.ndarray
    loss: np.ndarray
    z: np.ndarray
    G: np.ndarray
    grad_norm: np.ndarray
    dw_norm: np.ndarray
    sv: np.ndarray
    top_eig: np.ndarray
    W0: np.ndarray
    dW: np.ndarray
    m: np.ndarray
    w: np.ndarray
    diverged: bool = False
    message: str = ""
    info: dict = field(default_factory=dict)

    @property
    def z0(self) -> float:
        """Initial readout :math:`w^\\top B m` (the finite-N offset)."""
        return float(self.z[0])

    @property
    def L0(self) -> float:
        r""":math:`\hat z^2/2` (fixed reference loss, not the measured initial loss)."""
        return 0.5 * self.zhat**2

    def convergence_index(self, threshold: float = 0.05):
        """First step index with ``loss < threshold * L0`` (None if never)."""
        idx = np.nonzero(self.loss < threshold * self.L0)[0]
        return int(idx[0]) if idx.size else None

    def convergence_time(self, threshold: float = 0.05) -> float:
        r""":math:`\tau_c`: :math:`\tau` at the first step with :math:`L < 0.05 L_0` (NaN if never)."""
        k = self.convergence_index(threshold)
        return float("nan") if k is None else float(self.tau[k])

    def mean_gradient(self, threshold: float = 0.05) -> float:
        r"""Average gradient norm: :math:`\sum_{k<k_c}\eta\|\nabla L_k\|_F / \tau_c` (spec §5)."""
        k = self.convergence_index(threshold)
        if not k:
            return float("nan")
        return float(np.sum(self.grad_norm[:k]) * self.lr / self.tau[k])

    def summary(self) -> dict:
        """Scalar observables: ``tau_c``, ``tau_tilde_c``, final ``dw_norm``, ``mean_grad``, ``z0``."""
        k = self.convergence_index()
        return {
            "tau_c": self.convergence_time(),
            "tau_tilde_c": float("nan") if k is None else float(self.tau_tilde[k]),
            "dw_norm": float(self.dw_norm[-1]),
            "mean_grad": self.mean_gradient(),
            "z0": self.z0,
            "final_loss": float(self.loss[-1]),
            "diverged": bool(self.diverged),
        }

    def history(self) -> dict:
        """Per-step columns (for ``history.csv``)."""
        h = {"step": np.arange(self.tau.size), "tau": self.tau, "tau_tilde": self.tau_tilde,
             "loss": self.loss, "z": self.z, "G": self.G, "grad_norm": self.grad_norm,
             "dw_norm": self.dw_norm}
        for i in range(self.sv.shape[1]):
            h[f"s{i + 1}"] = self.sv[:, i]
        if np.any(np.isfinite(self.top_eig)):
            h["top_eig"] = self.top_eig
        return h


@dataclass
class ShuffleResult:
    r"""Shuffle test: loss of :math:`\mathrm{perm}(W_0) + \Delta W`.

    ``loss_ratio`` is :math:`L_{shuffle}/L_0` with :math:`L_0 = \hat z^2/2`; ``z`` the
    shuffled readout, ``z_offset`` :math:`= w^\top B' m` (readout of the shuffled W0 alone,
    the finite-N offset to subtract before comparing with R7).
    """

    loss_ratio: float
    z: float
    z_offset: float


def shuffle_test(W0, dW, m, w, zhat, rng: np.random.Generator, *, readout: str = "fixed_point",
                 task: EulerTask = DEFAULT_TASK) -> ShuffleResult:
    r"""Permute all :math:`N^2` entries of ``W0``, add ``dW`` and evaluate the loss.

    ``readout="fixed_point"`` uses :math:`z' = w^\top(I - W')^{-1}m` (raises
    :class:`~rnn_theory.theory.errors.UnstableError` if :math:`W'` has an eigenvalue with real part
    ≥ 1, detected by the sign of :math:`\det(I - W')`); ``"euler"`` simulates the Euler
    network (:math:`O(TN^2)`).  Cost :math:`O(N^3)`.

    >>> rng = np.random.default_rng(0)
    >>> W0, m, w = draw_network(40, 0.5, rng)
    >>> r = shuffle_test(W0, np.zeros((40, 40)), m, w, 1.0, rng)
    >>> 0 < r.loss_ratio < 2
    True
    """
    W0, m, w = _check_system(W0, m, w)
    dW = check_finite("dW", np.asarray(dW, dtype=float))
    zhat = _check_real("zhat", zhat)
    if dW.shape != W0.shape:
        raise ShapeError(f"dW has shape {dW.shape}; expected {W0.shape}")
    rng = _check_rng(rng)
    n = W0.shape[0]
    Ws = rng.permutation(W0.ravel()).reshape(n, n)
    lu0 = sla.lu_factor(np.eye(n) - Ws, check_finite=False)
    z_off = float(w @ sla.lu_solve(lu0, m, check_finite=False))
    Wp = Ws + dW
    if readout == "euler":
        z_t = euler_readout(Wp, m, w, task)
        z = float(np.mean(z_t[task.mask().astype(bool)]))
        eps2 = float(np.mean((zhat - z_t[task.mask().astype(bool)]) ** 2))
    elif readout == "fixed_point":
        lu = sla.lu_factor(np.eye(n) - Wp, check_finite=False)
        z = float(w @ sla.lu_solve(lu, m, check_finite=False))
        eps2 = (zhat - z) ** 2
    else:
        raise DomainError(f"readout must be 'fixed_point' or 'euler', got {readout!r}")
    L0 = 0.5 * zhat * zhat
    if L0 == 0:
        raise DomainError("zhat = 0 gives L0 = 0; the shuffle loss ratio L/L0 is undefined")
    return ShuffleResult(0.5 * eps2 / L0, z, z_off)


def _inverse_transpose_from_lu(lu) -> np.ndarray:
    """:math:`(A^{-1})^\\top` as a C-contiguous array from LAPACK LU factors of A (getri,
    :math:`\\tfrac43 N^3` flops; the Fortran-ordered inverse is transposed for free)."""
    lu_mat, piv = lu
    n = lu_mat.shape[0]
    lwork = int(sla.lapack.dgetri_lwork(n)[0])
    inv, info = sla.lapack.dgetri(lu_mat, piv, lwork=max(lwork, 1))
    if info != 0:
        raise UnstableError("I - W is singular: W has an eigenvalue 1; use a smaller gain g")
    return np.ascontiguousarray(inv.T)  # no copy when inv is Fortran-ordered


def _both_products(B, u, v, block):
    """``(B @ u, v @ B)`` in one pass over B (row blocks reused from cache), O(N^2)."""
    n = B.shape[0]
    Bu = np.empty(n)
    vB = np.zeros(n)
    for i in range(0, n, block):
        Bi = B[i:i + block]
        Bu[i:i + block] = Bi @ u
        vB += v[i:i + block] @ Bi
    return Bu, vB


def _det_sign(lu) -> float:
    lu_mat, piv = lu
    d = np.sign(np.diag(lu_mat)).prod()
    swaps = np.count_nonzero(piv != np.arange(piv.size))
    return float(d * (-1) ** swaps)


def train_fixed_point(W0, m, w, zhat, lr, steps, *, lr0=None, g=float("nan"),
                      method: str = "sherman_morrison", refresh_every: int | None = 500,
                      flush_every: int = 32, n_sv: int = 6, sv_every: int = 1, record_eig: bool = False,
                      check_stability: bool = True, on_divergence: str = "raise",
                      task: EulerTask = DEFAULT_TASK) -> LinearTrainingResult:
    r"""Full-batch GD on W (only), :math:`W \leftarrow W + \eta\varepsilon u_W v_W^\top`.

    Parameters
    ----------
    W0, m, w : arrays
        Initial connectivity (N×N), input and readout vectors (used as given).
    zhat, lr, steps : float, float, int
        Target, step size :math:`\eta` and number of GD steps.
    method : {"sherman_morrison", "solve", "bptt"}
        ``"sherman_morrison"`` (default): keep :math:`B_W` explicit and update it with
        the Sherman–Morrison formula
        :math:`(M - c\,uv^\top)^{-1} = B + \frac{c}{1 - c\,v^\top B u} (Bu)(v^\top B)`.
        :math:`B^\top` is stored (it comes C-ordered out of LAPACK's ``getri``), the products
        :math:`Bu` and :math:`v^\top B` are formed in one blocked pass over it, the new
        :math:`u, v` follow from the same formula without a solve, and the rank-one
        corrections are buffered and applied ``flush_every`` at a time with one GEMM: a
        step costs about one pass over an :math:`N\times N` array, :math:`O(N^2)`.
        ``"solve"``: a fresh LU factorisation of :math:`I - W` per step, :math:`O(N^3)`
        (the reference).  ``"bptt"``: gradients and readout from the Euler trajectory,
        :math:`O(TN^2)` per step (the model as the paper trains it; equal to the fixed
        point up to the transient :math:`r^T`, :math:`r = \max|1+\lambda|/2`).
    refresh_every : int or None
        Recompute :math:`B_W` by a fresh inverse every this many steps (Sherman–Morrison
        only).  Round-off of the updates grows about linearly with the number of
        updates, ~ :math:`k\,\epsilon_{mach}\,\kappa(I-W)`; measured at N = 1024,
        g = 0.6–0.9, 200–1000 steps the relative drift of :math:`B_W` stays below 1e-12.
    n_sv : int
        Number of leading singular values of :math:`\Delta W` recorded per step.
    sv_every : int
        Record the singular values every this many steps (and at the last step; NaN in
        between).  Each record costs an :math:`O(k^3)` SVD of the small core (k = rank of the
        accumulated span), which dominates the step cost for N ≲ 512.
    record_eig : bool
        Record the largest real part of an eigenvalue of W each step (dense,
        :math:`O(N^3)` per step) and stop when it reaches 1.
    check_stability : bool
        Check the eigenvalues of ``W0`` once (dense, :math:`O(N^3)`); an eigenvalue with
        real part ≥ 1 raises :class:`~rnn_theory.theory.errors.UnstableError`.  With False only the
        sign of :math:`\det(I - W_0)` is checked (catches an odd number of real
        eigenvalues above 1; enough for drawn :math:`W_0 = gJ` with g < 1 and large N).
    on_divergence : {"raise", "stop"}
        When an eigenvalue of W reaches 1 (detected for real eigenvalues, at no cost, by the
        sign change of :math:`\det(I-W) = \det(I-W_{prev})(1 - c\,v^\top B u)`; for complex
        ones with ``record_eig``), either raise :class:`~rnn_theory.theory.errors.TrainingDivergedError`
        (``.partial`` holds the result up to the last good step) or return it with
        ``diverged=True``.
    """
    W0, m, w = _check_system(W0, m, w)
    zhat = _check_real("zhat", zhat)
    lr = _check_real("lr", lr)
    if lr <= 0:
        raise DomainError(f"the learning rate must be > 0, got {lr}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise DomainError(f"steps must be a non-negative integer, got {steps!r}")
    if method not in ("sherman_morrison", "solve", "bptt"):
        raise DomainError(f"method must be 'sherman_morrison', 'solve' or 'bptt', got {method!r}")
    if on_divergence not in ("raise", "stop"):
        raise DomainError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
    if isinstance(sv_every, bool) or not isinstance(sv_every, numbers.Integral) or sv_every < 1:
        raise DomainError(f"sv_every must be a positive integer, got {sv_every!r}")
    if refresh_every is not None and (not isinstance(refresh_every, numbers.Integral) or refresh_every < 1):
        raise DomainError(f"refresh_every must be a positive integer or None, got {refresh_every!r}")
    n = W0.shape[0]
    lr0 = lr if lr0 is None else lr0
    eye = np.eye(n)

    if check_stability or record_eig:
        _require_stable(W0)
    lu = sla.lu_factor(eye - W0, check_finite=False)
    if _det_sign(lu) <= 0:
        raise UnstableError(
            "det(I - W0) <= 0: W0 has a real eigenvalue >= 1, so there is no stable fixed point; "
            "use a smaller gain g (or draw another seed for small N)"
        )

    total = steps + 1
    rec = {k: np.full(total, np.nan) for k in ("loss", "z", "G", "grad_norm", "dw_norm", "top_eig")}
    sv = np.zeros((total, n_sv))
    S = LowRankSum(n)
    U = np.zeros((n, steps), order="F")  # column k = u_k (contiguous)
    V = np.zeros((n, steps), order="F")
    C = np.zeros(steps)

    # state for each method
    if method == "sherman_morrison":
        # BT = B^T = (I - W0)^-T, C-contiguous, from the LU already computed: O(N^3) once
        BT = _inverse_transpose_from_lu(lu)
        block = max(8, (1 << 17) // n)  # rows per block: ~1 MB of B stays in cache for both products
        X = np.zeros((n, flush_every), order="F")  # pending corrections: B_true = B + X @ Y.T
        Y = np.zeros((n, flush_every), order="F")
        npend = 0
        v = m @ BT  # B m
        u = BT @ w  # B^T w
    W = W0.copy() if method != "sherman_morrison" else None

    def current_dense_dW(k):
        return (U[:, :k] * C[:k]) @ V[:, :k].T

    diverged, message, k_done = False, "", steps
    for k in range(total):
        # ---- gradient at the current W_k ----
        if method == "sherman_morrison":
            pass  # u, v already hold B_W^T w, B_W m
        elif method == "solve":
            v = sla.lu_solve(lu, m, check_finite=False)
            u = sla.lu_solve(lu, w, trans=1, check_finite=False)
        if method == "bptt":
            Lk, grad = bptt_gradient(W, m, w, zhat, task)
            zt = euler_readout(W, m, w, task)[task.mask().astype(bool)]
            z = float(np.mean(zt))
            eps = zhat - z
            gn = float(np.linalg.norm(grad))
            # the fixed-point factors give G and the rank-one direction of the update
            lu_k = sla.lu_factor(eye - W, check_finite=False)
            if _det_sign(lu_k) <= 0:
                diverged = True
                message = (f"det(I - W) <= 0 at step {k}: a real eigenvalue of W crossed 1 and the fixed "
                           f"point is lost; history kept up to step {k - 1}")
                k_done = k - 1
                break
            v = sla.lu_solve(lu_k, m, check_finite=False)
            u = sla.lu_solve(lu_k, w, trans=1, check_finite=False)
        else:
            z = float(w @ v)
            eps = zhat - z
            Lk = 0.5 * eps * eps
            gn = abs(eps) * np.linalg.norm(u) * np.linalg.norm(v)
        if not np.isfinite(z):
            raise NonFiniteError(f"readout became non-finite at step {k}; W is unstable")
        rec["loss"][k] = Lk
        rec["z"][k] = z
        rec["G"][k] = (u @ u) * (v @ v)
        rec["grad_norm"][k] = gn
        if k % sv_every == 0 or k == steps:
            s = S.singular_values()[:n_sv]
            sv[k, : s.size] = s
        else:
            sv[k] = np.nan
        rec["dw_norm"][k] = np.linalg.norm(S.core) if S.ku and S.kv else 0.0
        if record_eig:
            Wk = W if W is not None else W0 + current_dense_dW(k)
            rec["top_eig"][k] = max_real_eig(Wk)
            if rec["top_eig"][k] >= 1:
                diverged = True
                message = (f"an eigenvalue of W reached real part {rec['top_eig'][k]:.6g} >= 1 at step {k} "
                           f"(tau = {k * lr:.4g}): the fixed point is lost; history kept up to step {k - 1}")
                k_done = k - 1
                break
        if k == steps:
            break
        # ---- GD step: W <- W + c u v^T ----
        c = lr * eps
        if method == "bptt":
            # apply the BPTT gradient itself; it equals -eps u v^T up to the transient r^T,
            # which is what the low-rank bookkeeping below records
            W = W - lr * grad
        U[:, k], V[:, k], C[k] = u, v, c
        S.add(c, u, v)
        if method == "sherman_morrison":
            # B u and v^T B with the pending corrections (one blocked pass over B)
            vB, Bu = _both_products(BT, v, u, block)  # (B^T v, B u) in one pass over BT
            if npend:
                Bu += X[:, :npend] @ (Y[:, :npend].T @ u)
                vB += Y[:, :npend] @ (X[:, :npend].T @ v)
            den = 1.0 - c * (v @ Bu)
            if not den > 0:
                diverged = True
                message = (f"det(I - W) changed sign at step {k + 1} (tau = {(k + 1) * lr:.4g}): a real "
                           f"eigenvalue of W crossed 1 and the fixed point is lost; history kept up to step {k}")
                k_done = k
                break
            alpha = c / den
            # new u, v from the Sherman-Morrison formula (no extra mat-vec):
            # B' m = v + alpha Bu (vB . m),  B'^T w = u + alpha vB (Bu . w)
            v = v + alpha * Bu * (vB @ m)
            u = u + alpha * vB * (Bu @ w)
            X[:, npend] = alpha * Bu
            Y[:, npend] = vB
            npend += 1
            if npend == flush_every:
                # B += X Y^T in place (BLAS dgemm on the Fortran-ordered view B = BT.T)
                sla.blas.dgemm(1.0, X, Y, beta=1.0, c=BT.T, trans_b=True, overwrite_c=True)
                npend = 0
            if refresh_every is not None and (k + 1) % refresh_every == 0:
                Wk = W0 + current_dense_dW(k + 1)
                BT = _inverse_transpose_from_lu(sla.lu_factor(eye - Wk, check_finite=False))
                npend = 0
                v = m @ BT
                u = BT @ w
        elif method == "solve":
            W += c * np.outer(u, v)
            lu_new = sla.lu_factor(eye - W, check_finite=False)
            if _det_sign(lu_new) <= 0:
                W -= c * np.outer(u, v)
                diverged = True
                message = (f"det(I - W) changed sign at step {k + 1}: a real eigenvalue of W crossed 1 "
                           f"and the fixed point is lost; history kept up to step {k}")
                k_done = k
                break
            lu = lu_new
    last = k_done + 1
    if method == "bptt":
        dW = W - W0
    else:
        dW = current_dense_dW(k_done)
    # when a run stops, the last update was not applied: drop it from the bookkeeping
    res = LinearTrainingResult(
        n=n, g=g, zhat=zhat, lr0=float(lr0), lr=lr, method=method,
        tau=lr * np.arange(last), tau_tilde=float(lr0) * np.arange(last),
        loss=rec["loss"][:last], z=rec["z"][:last], G=rec["G"][:last],
        grad_norm=rec["grad_norm"][:last], dw_norm=rec["dw_norm"][:last], sv=sv[:last],
        top_eig=rec["top_eig"][:last], W0=W0, dW=dW, m=m, w=w, diverged=diverged, message=message,
        info={"lowrank_dim": (S.ku, S.kv)},
    )
    if diverged and on_divergence == "raise":
        raise TrainingDivergedError(message, step=k_done + 1, partial=res)
    return res


def train_linear(n: int, g: float, zhat: float, lr0: float, steps: int, rng: np.random.Generator,
                 **kwargs) -> LinearTrainingResult:
    r"""Draw the paper's network and train W with :math:`\eta = \mathrm{lr}_0(1-g^2)^2`.

    ``W0 = g J`` (:math:`J_{ij}\sim\mathcal N(0,1/N)`), :math:`\|m\| = \sqrt N` and
    :math:`\|w\| = 1/\sqrt N` exactly (draw order J, m, w), then ``steps`` steps of
    full-batch gradient descent on W only (see :func:`train_fixed_point` for the keyword
    options: ``method``, ``refresh_every``, ``n_sv``, ``record_eig``, ``on_divergence``,
    ``check_stability``, ``task``).  Cost: :math:`O(N^3)` once plus :math:`O(N^2)` per
    step with the default Sherman–Morrison method.

    >>> r = train_linear(64, 0.5, 0.5, 0.015, 100, np.random.default_rng(0))
    >>> r.tau.shape, bool(r.loss[-1] < r.loss[0]), r.sv.shape
    ((101,), True, (101, 6))
    """
    n = _check_n(n)
    g = _check_g(g)
    zhat = _check_real("zhat", zhat)
    lr0 = _check_real("lr0", lr0)
    if lr0 <= 0:
        raise DomainError(f"lr0 must be > 0, got {lr0}")
    rng = _check_rng(rng)
    W0, m, w = draw_network(n, g, rng)
    lr = lr0 * (1 - g * g) ** 2
    return train_fixed_point(W0, m, w, zhat, lr, steps, lr0=lr0, g=g, **kwargs)
