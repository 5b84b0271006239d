r"""Lyapunov spectrum of the autonomous map :math:`h \mapsto \phi(W h + b)` (QR / Benettin).

For a trajectory :math:`h_{t+1} = \phi(W h_t + b)` with Jacobians
:math:`D_t = \operatorname{diag}\big(\phi'(W h_t + b)\big)\,W`, the top ``m`` exponents are

.. math::
    \lambda_i = \lim_{T\to\infty} \frac1T \sum_{t=0}^{T-1} \log_2 \lvert R^{(t)}_{ii}\rvert,
    \qquad D_t Q_t = Q_{t+1} R^{(t)} \ \text{(reduced QR)},\quad Q_0 = I_{N\times m},

in **bits per step**; ``exponents_nats`` :math:`= \lambda \ln 2`.  For :math:`\phi = \tanh`,
:math:`\phi'(W h_t + b) = 1 - h_{t+1}^2`.

**Jacobian ordering.**  By default (``jacobian="step"``) we use the exact Jacobian of the
step being taken: :math:`D_t` is evaluated at :math:`h_t` (the state the step starts
from), so :math:`D_t = \operatorname{diag}(1 - h_{t+1}^2)W`.  Farrell et al.'s code
multiplies by the Jacobian one step later along the trajectory
(:math:`\operatorname{diag}(1-h_{t+2}^2)W`); ``jacobian="next"`` selects that choice.  It is
the default method started from :math:`h_1 = \phi(Wh_0 + b)`, so both products share all but
one factor and the exponents agree in the limit (the difference is :math:`O(1/T)`).

**Order.**  Exponents are returned in descending order (``order="descending"``, the
default; the authors sort too): :func:`lyapunov_spectrum` orders the means over initial
conditions (``per_init_bits`` columns follow the same permutation; sorting each row first
would bias the top exponents up), :func:`qr_lyapunov_batch` sorts each row.  The raw QR
order (``order="qr"``) is descending only up to estimation noise: nearly equal exponents
can swap (e.g. 0.01902 < 0.01906 bits at :math:`\gamma = 20`).

**Stopping rules** (Farrell et al., spec §5.5).  Each initial condition
:math:`h_0 \sim U(-0.2, 0.2)^N` runs at most ``max_steps`` steps and stops early once the
standard error (sample sd, ``ddof = 1``, over :math:`\sqrt{w}`) of the last ``window = 10``
running estimates :math:`\lambda(t) = S_t/t`, averaged over exponents, is below
``step_tol = 2e-4`` bits.  ``stopping="paper"`` selects the authors' variant instead:
population sd (``ddof = 0``) and a step counter that is never reset between initial
conditions, so every initial condition after the first is tested from its 2nd step on
(over the estimates it has so far, at most ``window``) and may stop after 2 steps.
Between ``min_init = 4`` and ``max_init = 10`` initial
conditions are used: the first ``min_init`` run as one batch; if the standard error of the
mean across them (averaged over exponents) is not below ``ic_tol = 2e-3`` bits, the
remaining ones run as a second batch and the smallest count ``k`` with SEM < ``ic_tol`` is
kept (the same answer as adding them one at a time).  The reported spectrum is the mean
over the kept initial conditions.  Burn-in is optional (default off).

**Cost.** :math:`O(N^2 K m)` per step for ``K`` initial conditions in flight (one GEMM of
``W`` with all their tangent vectors) plus ``K`` Householder QRs (LAPACK ``dgeqrf``/``dorgqr``), :math:`O(K N m^2)`.

>>> import numpy as np
>>> U = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
>>> A = U @ np.diag([0.5, 2.0, -1.0]) @ U.T  # eigenvalues 2, -1, 0.5: 1, 0, -1 bits
>>> res = lyapunov_spectrum(A, n_exponents=3, phi="linear", rng=np.random.default_rng(0),
...                         step_tol=0, max_steps=1000)
>>> np.round(res.exponents_bits, 1) + 0.0
array([ 1.,  0., -1.])
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from rnn_theory.theory.errors import DomainError, NonFiniteError, ShapeError, check_finite

__all__ = ["LyapunovResult", "lyapunov_spectrum", "qr_lyapunov_batch", "divergence_exponent"]

LN2 = math.log(2.0)
_geqrf, _orgqr = lapack.dgeqrf, lapack.dorgqr


def _phi(name: str):
    if name == "tanh":
        def f(a):
            h = np.tanh(a)
            return h, 1.0 - h * h
        return f
    if name == "linear":
        return lambda a: (a, np.ones_like(a))
    raise DomainError(f"phi must be 'tanh' or 'linear', got {name!r}")


def _check_map(W, b):
    W = check_finite("W", np.asarray(W, dtype=float))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ShapeError(f"W must be square (N, N), got shape {W.shape}")
    N = W.shape[0]
    b = np.zeros(N) if b is None else check_finite("b", np.asarray(b, dtype=float))
    if b.shape != (N,):
        raise ShapeError(f"b must have shape ({N},), got {b.shape}")
    return W, b


@dataclass(frozen=True, eq=False)
class LyapunovResult:
    """Lyapunov spectrum estimate.

    Attributes
    ----------
    exponents_bits, exponents_nats : (m,) mean over the kept initial conditions, in
        descending order (unless computed with ``order="qr"``: the QR's index order).
    per_init_bits : (k, m) the estimate of each kept initial condition (columns in the
        order of ``exponents_bits``).
    steps : (k,) steps used by each initial condition.
    sem_bits : float, SEM across initial conditions averaged over exponents (nan if k = 1).
    """

    exponents_bits: np.ndarray
    per_init_bits: np.ndarray
    steps: np.ndarray
    sem_bits: float

    @property
    def exponents_nats(self) -> np.ndarray:
        return self.exponents_bits * LN2

    @property
    def n_init(self) -> int:
        return int(self.per_init_bits.shape[0])

    def chaoticity(self, k: int = 3) -> float:
        r"""Farrell et al.'s summary :math:`\sum_{j\le k} \lambda_j / j` (bits) over the ``k``
        largest exponents :math:`\lambda_1 \ge \lambda_2 \ge \dots` (sorted here, whatever
        the order the result was computed in)."""
        lam = np.sort(self.exponents_bits)[::-1][:k]
        return float(np.sum(lam / np.arange(1, lam.size + 1)))


def qr_lyapunov_batch(W, b, H0, n_exponents: int, *, max_steps: int = 1000,
                      step_tol: float = 2e-4, window: int = 10, burn_in: int = 0,
                      phi: str = "tanh", jacobian: str = "step", stopping: str = "package",
                      order: str = "descending", continued: bool = False):
    r"""Run the QR method for a batch of initial conditions ``H0`` (K, N) in lockstep.

    Returns ``(exponents_bits (K, m), steps (K,))``; each initial condition stops on its
    own (see module docstring) and is then dropped from the batch.  ``jacobian``
    (``"step"`` | ``"next"``), ``stopping`` (``"package"`` | ``"paper"``) and ``order``
    (``"descending"`` | ``"qr"``) as in the module docstring; with ``stopping="paper"``,
    ``continued=True`` marks every initial condition of the batch as coming after the first
    (the authors' counter is already past ``window``).
    """
    _check_variants(jacobian, stopping, order)
    if jacobian == "next":  # D_t at h_{t+1}: the default method started one step later
        burn_in += 1
    W, b = _check_map(W, b)
    N = W.shape[0]
    H = check_finite("H0", np.array(H0, dtype=float, ndmin=2))
    if H.ndim != 2 or H.shape[1] != N:
        raise ShapeError(f"initial conditions must be (K, {N}), got {H.shape}")
    m = int(n_exponents)
    if not 1 <= m <= N:
        raise DomainError(f"n_exponents must be in [1, N = {N}], got {n_exponents!r}")
    if max_steps < 1 or window < 2 or burn_in < 0:
        raise DomainError("need max_steps >= 1, window >= 2 and burn_in >= 0")
    f = _phi(phi)
    K = H.shape[0]
    for _ in range(burn_in):
        H = f(H @ W.T + b)[0]
    Q = np.zeros((N, K, m))  # tangent vectors, laid out for one GEMM: W @ Q.reshape(N, K*m)
    Q[np.arange(m), :, np.arange(m)] = 1.0
    S = np.zeros((K, m))
    ring = np.zeros((window, K, m))  # last `window` running estimates
    out_S, out_steps = np.zeros((K, m)), np.full(K, max_steps)
    active = np.arange(K)
    WT = W.T
    ddof = 1 if stopping == "package" else 0
    t_min = np.full(K, window)
    if stopping == "paper":  # the authors' counter runs on across initial conditions
        t_min[(0 if continued else 1):] = 2
    for t in range(1, max_steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
            H, G = f(H @ WT + b)  # G[k] = phi'(W h_t + b): Jacobian of this step, at h_t
        if not np.isfinite(H).all():  # O(KN), beside the O(KN^2) GEMM
            raise NonFiniteError(f"the trajectory diverges (NaN/inf at step {t}); use a bounded "
                                 "phi or smaller weights, or start a linear map at h = 0")
        DQ = (W @ Q.reshape(N, -1)).reshape(N, -1, m)
        DQ *= G.T[:, :, None]
        Q = np.empty_like(DQ)
        diag = np.empty((DQ.shape[1], m))
        for k in range(DQ.shape[1]):  # Householder QR straight from LAPACK (3x less overhead)
            qr, tau, _, _ = _geqrf(DQ[:, k, :])
            diag[k] = np.diagonal(qr)
            Q[:, k, :] = _orgqr(qr, tau)[0]
        diag = np.abs(diag)
        if np.any(diag == 0):
            raise DomainError("the tangent space collapsed (a zero singular direction); "
                              "the spectrum contains -inf: use fewer exponents")
        S += np.log2(diag)
        ring[t % window] = S / t
        if step_tol > 0 and t >= t_min[active].min():
            r = ring if t >= window else ring[1:t + 1]   # the estimates so far
            sem = np.std(r, axis=0, ddof=ddof).mean(axis=-1) / math.sqrt(r.shape[0])
            done = (sem < step_tol) & (t >= t_min[active])
            if np.any(done):
                out_S[active[done]] = S[done] / t
                out_steps[active[done]] = t
                keep = ~done
                active, H, S, ring = active[keep], H[keep], S[keep], ring[:, keep]
                Q = Q[:, keep]
                if active.size == 0:
                    break
    if active.size:
        out_S[active] = S / max_steps
    if order == "descending":
        out_S = -np.sort(-out_S, axis=1)
    if not (np.all(np.isfinite(out_S)) and np.all(np.isfinite(H))):
        raise NonFiniteError("the trajectory or the exponents became NaN/inf (the map diverges); "
                             "use a bounded phi or smaller weights, or start a linear map at h = 0")
    return out_S, out_steps


def _check_variants(jacobian, stopping, order) -> None:
    for name, val, allowed in (("jacobian", jacobian, ("step", "next")),
                               ("stopping", stopping, ("package", "paper")),
                               ("order", order, ("descending", "qr"))):
        if val not in allowed:
            raise DomainError(f"{name} must be one of {allowed}, got {val!r}")


def _sem(x) -> float:
    return float(np.std(x, axis=0, ddof=1).mean() / math.sqrt(x.shape[0])) if x.shape[0] > 1 else float("nan")


def lyapunov_spectrum(W, b=None, *, rng: np.random.Generator, n_exponents: int = 10,
                      max_steps: int = 1000, step_tol: float = 2e-4, window: int = 10,
                      min_init: int = 4, max_init: int = 10, ic_tol: float = 2e-3,
                      init_scale: float = 0.2, burn_in: int = 0, phi: str = "tanh",
                      H0=None, jacobian: str = "step", stopping: str = "package",
                      order: str = "descending") -> LyapunovResult:
    r"""Top ``n_exponents`` Lyapunov exponents of :math:`h \mapsto \phi(Wh + b)`, descending.

    Parameters follow Farrell et al.'s stopping rules (module docstring); ``step_tol = 0``
    runs every initial condition for ``max_steps``; ``ic_tol = 0`` uses ``max_init``.
    ``jacobian="next"`` and ``stopping="paper"`` select the authors' choices, ``order="qr"``
    keeps the raw QR order (module docstring).
    ``H0`` (K, N) overrides the random initial conditions
    :math:`U(-\text{init\_scale}, \text{init\_scale})^N` (then ``K`` plays ``max_init``).
    Cost :math:`O(\text{steps}\cdot N^2 m K)`.
    """
    W, b = _check_map(W, b)
    N = W.shape[0]
    if H0 is None:
        if not 1 <= min_init <= max_init:
            raise DomainError(f"need 1 <= min_init <= max_init, got {min_init}, {max_init}")
        H0 = rng.uniform(-init_scale, init_scale, size=(max_init, N))
    else:
        H0 = np.array(H0, dtype=float, ndmin=2)
        max_init = H0.shape[0]
        min_init = min(min_init, max_init)
    _check_variants(jacobian, stopping, order)
    kw = dict(max_steps=max_steps, step_tol=step_tol, window=window, burn_in=burn_in, phi=phi,
              jacobian=jacobian, stopping=stopping, order="qr")
    lam, steps = qr_lyapunov_batch(W, b, H0[:min_init], n_exponents, **kw)
    k = min_init
    if max_init > min_init and not (_sem(lam) < ic_tol):
        lam2, steps2 = qr_lyapunov_batch(W, b, H0[min_init:], n_exponents, continued=True, **kw)
        lam, steps = np.vstack([lam, lam2]), np.concatenate([steps, steps2])
        k = max_init
        for j in range(min_init + 1, max_init + 1):
            if _sem(lam[:j]) < ic_tol:
                k = j
                break
        lam, steps = lam[:k], steps[:k]
    mean = lam.mean(axis=0)
    if order == "descending":  # order the index-wise means (sorting each row would bias the top up)
        perm = np.argsort(-mean, kind="stable")
        lam, mean = lam[:, perm], mean[perm]
    return LyapunovResult(mean, lam, steps, _sem(lam))


def divergence_exponent(W, b=None, *, h0, n_steps: int = 2000, eps: float = 1e-8,
                        burn_in: int = 0, rng: np.random.Generator, phi: str = "tanh") -> float:
    r"""Largest exponent (nats/step) from two nearby trajectories, renormalised each step.

    An independent route to :math:`\lambda_1` that uses no Jacobian: a copy
    :math:`h' = h + \epsilon u` (random unit ``u``) is advanced with the map, the growth
    :math:`\log(\lVert h'_{t+1}-h_{t+1}\rVert/\epsilon)` is accumulated and the separation
    is rescaled back to :math:`\epsilon`.  Cost :math:`O(N^2)` per step.
    """
    W, b = _check_map(W, b)
    f = _phi(phi)
    h = check_finite("h0", np.asarray(h0, dtype=float)).copy()
    for _ in range(burn_in):
        h = f(W @ h + b)[0]
    u = rng.standard_normal(h.shape)
    hp = h + eps * u / np.linalg.norm(u)
    total = 0.0
    if not np.all(np.isfinite(W @ hp)):
        raise NonFiniteError("non-finite state")
    for _ in range(n_steps):
        h = f(W @ h + b)[0]
        hp = f(W @ hp + b)[0]
        d = hp - h
        nd = np.linalg.norm(d)
        if nd == 0:
            raise DomainError("the two trajectories merged exactly; increase eps")
        total += math.log(nd / eps)
        hp = h + d * (eps / nd)
    if not (np.isfinite(total) and np.all(np.isfinite(h))):
        raise NonFiniteError("the trajectory became NaN/inf (the map diverges)")
    return total / n_steps
