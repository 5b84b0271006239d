r"""Fixed points of recurrent rate networks, their implicit gradient and the
reparameterised learning rules of Zhu & Rosenbaum (2024).

Model (spec §2): :math:`\tau\,\dot r = -r + \tanh(W r + h)` with the static input current
:math:`h = W_x x`.  A fixed point solves

.. math:: F(r) = r - \tanh(W r + h) = 0 ,

and is stable iff every eigenvalue of :math:`G W` has real part :math:`< 1`, where
:math:`G = \operatorname{diag}(1 - r^2)` is :math:`\tanh'` at the fixed point.

Solvers (all batched over rows of ``h``, shape ``(B, N)``):

* ``"auto"`` (default) — Newton's method with a Picard predictor: the undamped map
  :math:`r \leftarrow \tanh(Wr + h)` (one GEMM, :math:`O(BN^2)` per iteration) runs while
  it contracts (worst residual ratio :math:`\le 0.9`); samples still above ``tol`` then
  go to Newton, and samples Newton fails on to Anderson.  Near the paper's initialisation
  (:math:`\rho = 0.5`) the map contracts at rate :math:`\approx\rho(GW)` and the
  predictor alone reaches ``tol`` (~27 GEMMs for 1e-10); after training pushes
  :math:`GW` towards the stability boundary the map stalls and Newton takes over.
* ``"newton"`` — Newton's method with the analytic Jacobian
  :math:`I - G W` and backtracking on :math:`\|F\|`.  The Newton system is solved either
  exactly by batched LU (``linear_solver="lu"``, :math:`O(N^3)` per sample and iteration)
  or matrix-free by batched GMRES (``"gmres"``, :math:`O(kN^2)` per sample with :math:`k`
  Jacobian–vector products :math:`v - g\odot(Wv)`; inexact Newton with forcing term
  :math:`\min(1/2, \|F\|)`).  ``"auto"`` uses LU for :math:`N \le 64`, GMRES above.
  Samples that Newton fails on are retried (``fallback=True``) by Anderson acceleration
  and then by relaxing along the dynamics (Euler, :math:`dt/\tau = 0.2`) with a Newton
  polish, which finds a *stable* fixed point whenever the trajectory reaches one.
* ``"anderson"`` — Anderson acceleration (memory ``m``) of the damped map
  :math:`r \leftarrow (1-\beta) r + \beta\tanh(W r + h)`: :math:`O(N^2 + mN)` per sample
  and iteration.
* ``"damped"`` — the plain damped map (slow, robust for contractions).
* ``"euler"`` — *faithful mode*, for comparisons only: the authors' forward Euler from
  :math:`r = 0`, ``n_steps`` (500) steps of ``dt_over_tau`` (0.01), with **no**
  convergence check; the result is labelled ``converged=False`` unless the residual
  happens to meet ``tol``.

Every converging method stops when :math:`\max_i \|F(r_i)\|_\infty \le` ``tol`` and
otherwise raises :class:`~rnn_theory.theory.errors.FixedPointNotConverged` (with the residual, the
failing samples and the leading eigenvalues of :math:`W` and :math:`G_iW`); it never
returns an unconverged state.

Gradient and rules (spec §4–5), with :math:`\delta_i = R^\top(\mathrm{softmax}(z_i) -
e_{y_i})` and per-sample :math:`G_i`:

* exact implicit gradient :math:`\nabla_W L_i = G(I - W^\top G)^{-1}\delta r^\top`
  (dW1; one solve per sample, :math:`O(N^3)`),
* dW3 :math:`= [(I-WG)G\delta][(I-GW)^\top(I-GW) r]^\top`,
* dW4 :math:`= [(I-WG)\delta][(I-WG)^\top(I-WG) r]^\top`,

dW3/dW4 by matrix–vector products only: :math:`O(N^2)` per sample, formed as
:math:`\frac1B U^\top V` (one GEMM, :math:`O(BN^2)`).  Their metric forms
:math:`P\nabla Q` are available explicitly (:func:`preconditioners`, :math:`O(N^3)`) for
checks.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W = 0.5 * rng.standard_normal((20, 20)) / np.sqrt(20)
>>> h = rng.standard_normal((4, 20))
>>> fp = solve_fixed_point(W, h, tol=1e-12)
>>> bool(fp.converged), bool(np.abs(fp.r - np.tanh(fp.r @ W.T + h)).max() <= 1e-12)
(True, True)
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from rnn_theory.theory.errors import (
    DomainError,
    FixedPointNotConverged,
    ShapeError,
    UnstableError,
    check_finite,
)

from rnn_theory.numerics.rate.analysis import max_real_eig  # noqa: F401  (public here too)

__all__ = [
    "FixedPoint",
    "StabilityReport",
    "solve_fixed_point",
    "fixed_point",
    "linear_fixed_point",
    "stability_report",
    "max_real_eig",
    "softmax",
    "cross_entropy",
    "output_error",
    "implicit_gradient",
    "backprop_fixed_point",
    "rule_factors",
    "update_direction",
    "preconditioners",
    "metric_inner",
    "RULES",
]

RULES = ("dW1", "dW3", "dW4")
_METHODS = ("auto", "newton", "anderson", "damped", "euler")


# --------------------------------------------------------------------------- validation
def _as_weights(W) -> np.ndarray:
    W = check_finite("W", np.asarray(W, dtype=float))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ShapeError(f"W has shape {W.shape}; the recurrent weights must be a square N x N matrix")
    return W


def _as_batch(name: str, a, n: int) -> tuple[np.ndarray, bool]:
    """Return ``a`` as a (B, n) float array and whether it was a single vector."""
    a = check_finite(name, np.asarray(a, dtype=float))
    single = a.ndim == 1
    if single:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != n:
        raise ShapeError(f"{name} has shape {a.shape[1:] if single else a.shape}; expected (batch, {n}) "
                         f"or ({n},) to match W's {n} neurons")
    return a, single


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class FixedPoint:
    """A solved fixed point.

    Attributes
    ----------
    r : ndarray, (B, N) or (N,)
        Fixed-point rates (shape follows the input current ``h``).
    residual : float
        :math:`\\max_i \\|F(r_i)\\|_\\infty` at return.
    iterations : int
        Outer iterations used (Euler: steps taken).
    method : str
        Method(s) that produced ``r``, e.g. ``"picard+newton"`` or ``"newton+fallback"``.
    converged : bool
        ``residual <= tol``; always True for converging methods (they raise otherwise).
    """

    r: np.ndarray
    residual: float
    iterations: int
    method: str
    converged: bool


@dataclass(frozen=True)
class StabilityReport:
    """Stability of fixed points: leading eigenvalues of :math:`G_i W` and of :math:`W`.

    ``leading_eig[i]`` is the eigenvalue of :math:`G_iW` with the largest real part; the
    dynamics' Jacobian at :math:`r_i` is :math:`(-I + G_iW)/\\tau`, stable iff
    ``max_real_eig[i] < 1``.
    """

    leading_eig: np.ndarray
    max_real_eig: np.ndarray
    stable: np.ndarray
    max_real_eig_w: float

    @property
    def all_stable(self) -> bool:
        return bool(np.all(self.stable))


def stability_report(W, r) -> StabilityReport:
    """Leading eigenvalue of :math:`G_iW`, :math:`G_i = \\mathrm{diag}(1 - r_i^2)`, per sample.

    Cost :math:`O(BN^3)` (one eigendecomposition per sample).

    >>> rep = stability_report(3.0 * np.eye(2), np.zeros((1, 2)))
    >>> rep.all_stable, float(rep.max_real_eig[0])
    (False, 3.0)
    """
    W = _as_weights(W)
    r, _ = _as_batch("r", r, W.shape[0])
    g = 1.0 - r ** 2
    eig = np.linalg.eigvals(g[:, :, None] * W[None])
    idx = np.argmax(eig.real, axis=1)
    lead = eig[np.arange(len(eig)), idx]
    return StabilityReport(lead, lead.real.copy(), lead.real < 1.0, max_real_eig(W))


# --------------------------------------------------------------------------- linear algebra kernels
def _lu_solve(g: np.ndarray, W: np.ndarray, F: np.ndarray, transpose: bool = False) -> np.ndarray:
    """Solve :math:`(I - G_iW)d_i = F_i` (or :math:`(I - W^\\top G_i)d_i = F_i`) per row.

    Batched LU in memory-bounded chunks; :math:`O(N^3)` per sample.
    """
    B, N = F.shape
    out = np.empty_like(F)
    eye = np.eye(N)
    chunk = max(1, int(4e6 // (N * N)))
    for s in range(0, B, chunk):
        gs = g[s:s + chunk]
        if transpose:
            M = eye[None] - W.T[None] * gs[:, None, :]
        else:
            M = eye[None] - gs[:, :, None] * W[None]
        out[s:s + chunk] = np.linalg.solve(M, F[s:s + chunk, :, None])[..., 0]
    return out


def _gmres(matvec, b: np.ndarray, atol: np.ndarray, m: int = 30, max_cycles: int = 20) -> np.ndarray:
    """Batched restarted GMRES with Givens rotations: solve ``matvec(x) = b`` row-wise.

    ``matvec`` maps (B, N) to (B, N) (one GEMM), ``atol`` is the per-row 2-norm
    tolerance.  Cost :math:`O(k(N^2 + kN))` per row for :math:`k` Krylov steps.
    """
    B, N = b.shape
    m = max(1, min(m, N))
    x = np.zeros_like(b)
    tiny = np.finfo(float).tiny
    for _ in range(max_cycles):
        res = b - matvec(x) if np.any(x) else b.copy()
        beta = np.linalg.norm(res, axis=1)
        if np.all(beta <= atol):
            return x
        V = np.empty((B, m + 1, N))
        H = np.zeros((B, m + 1, m))
        cs = np.zeros((B, m))
        sn = np.zeros((B, m))
        gv = np.zeros((B, m + 1))
        gv[:, 0] = beta
        V[:, 0] = res / np.maximum(beta, tiny)[:, None]
        k = 0
        for j in range(m):
            w = matvec(V[:, j])
            w0 = np.linalg.norm(w, axis=1)
            Vj = V[:, :j + 1]
            for _pass in range(2):  # classical Gram-Schmidt, repeated only if needed (CGS2)
                h = np.matmul(Vj, w[:, :, None])[..., 0]
                w = w - np.matmul(h[:, None, :], Vj)[:, 0]
                H[:, :j + 1, j] += h
                hn = np.linalg.norm(w, axis=1)
                if np.all(hn > 0.7 * w0):  # "twice is enough" (Kahan/Parlett) criterion
                    break
                w0 = hn
            H[:, j + 1, j] = hn
            V[:, j + 1] = w / np.maximum(hn, tiny)[:, None]
            for i in range(j):
                t = cs[:, i] * H[:, i, j] + sn[:, i] * H[:, i + 1, j]
                H[:, i + 1, j] = -sn[:, i] * H[:, i, j] + cs[:, i] * H[:, i + 1, j]
                H[:, i, j] = t
            den = np.hypot(H[:, j, j], H[:, j + 1, j])
            safe = den > 0
            c = np.where(safe, H[:, j, j] / np.where(safe, den, 1.0), 1.0)
            s = np.where(safe, H[:, j + 1, j] / np.where(safe, den, 1.0), 0.0)
            cs[:, j], sn[:, j] = c, s
            H[:, j, j] = np.where(safe, den, 1.0)  # breakdown rows are already solved
            H[:, j + 1, j] = 0.0
            gv[:, j + 1] = -s * gv[:, j]
            gv[:, j] = c * gv[:, j]
            k = j + 1
            if np.all(np.abs(gv[:, j + 1]) <= atol):
                break
        Rk = np.triu(H[:, :k, :k])
        y = np.linalg.solve(Rk, gv[:, :k, None])[..., 0]
        x = x + np.matmul(y[:, None, :], V[:, :k])[:, 0]
    return x


# --------------------------------------------------------------------------- solvers
def _residual(W, h, r):
    phi = np.tanh(r @ W.T + h)
    return r - phi, phi


def _picard(W, h, r, tol, max_iter, stall=0.9):
    """Undamped iteration r <- tanh(W r + h) while it contracts, O(BN^2) per iteration.

    Stops when every sample meets ``tol``, or when the worst residual ratio among the
    unconverged samples exceeds ``stall`` (the map does not contract there: Newton's turn).
    """
    F, phi = _residual(W, h, r)
    res = np.abs(F).max(axis=1)
    it = 0
    for it in range(1, max_iter + 1):
        act = res > tol
        if not act.any():
            return r, res, it - 1
        r_new = phi
        F_new, phi_new = _residual(W, h, r_new)
        res_new = np.abs(F_new).max(axis=1)
        ratio = np.max(res_new[act] / res[act])
        r, phi, res = r_new, phi_new, res_new
        if not ratio <= stall:
            break
    return r, res, it


def _newton(W, h, r, tol, max_iter, linear_solver):
    B, N = r.shape
    F, phi = _residual(W, h, r)
    res = np.abs(F).max(axis=1)
    it = 0
    for it in range(1, max_iter + 1):
        act = np.flatnonzero(res > tol)
        if act.size == 0:
            return r, res, it - 1
        g = 1.0 - phi[act] ** 2
        Fa = F[act]
        if linear_solver == "lu":
            d = _lu_solve(g, W, Fa)
        else:
            fn = np.linalg.norm(Fa, axis=1)
            atol = np.minimum(0.5, fn) * fn
            d = _gmres(lambda v, g=g: v - g * (v @ W.T), Fa, np.maximum(atol, 0.1 * tol))
        # backtracking line search on ||F||_2 (Armijo with c = 1e-4, at most 12 halvings)
        ra, f0 = r[act], np.linalg.norm(Fa, axis=1)
        step = np.ones(act.size)
        new_r, new_F, new_phi = ra.copy(), Fa.copy(), phi[act].copy()
        pending = np.ones(act.size, dtype=bool)
        for _ in range(12):
            idx = np.flatnonzero(pending)
            if idx.size == 0:
                break
            trial = ra[idx] - step[idx, None] * d[idx]
            Ft, pt = _residual(W, h[act[idx]], trial)
            ok = np.linalg.norm(Ft, axis=1) <= (1.0 - 1e-4 * step[idx]) * f0[idx]
            good = idx[ok]
            new_r[good], new_F[good], new_phi[good] = trial[ok], Ft[ok], pt[ok]
            pending[good] = False
            step[idx[~ok]] *= 0.5
        r = r.copy()
        F = F.copy()
        phi = phi.copy()
        r[act], F[act], phi[act] = new_r, new_F, new_phi
        res = np.abs(F).max(axis=1)
        if np.all(pending):  # no sample could make progress: stalled
            break
    return r, res, it


def _anderson(W, h, r, tol, max_iter, beta=0.5, m=5):
    """Anderson acceleration (type II, memory ``m``) of the damped map, batched."""
    B, N = r.shape
    x = r.copy()
    T = lambda z: (1.0 - beta) * z + beta * np.tanh(z @ W.T + h)  # noqa: E731
    gx = T(x) - x
    dX, dG = [], []
    res = np.abs(x - np.tanh(x @ W.T + h)).max(axis=1)
    it = 0
    for it in range(1, max_iter + 1):
        if np.all(res <= tol):
            return x, res, it - 1
        if dG:
            Gm = np.stack(dG, axis=1)  # (B, k, N)
            Xm = np.stack(dX, axis=1)
            A = np.einsum("bkn,bln->bkl", Gm, Gm)
            rhs = np.einsum("bkn,bn->bk", Gm, gx)
            reg = 1e-12 * np.trace(A, axis1=1, axis2=2)[:, None, None] + 1e-300
            gam = np.linalg.solve(A + reg * np.eye(len(dG))[None], rhs[..., None])[..., 0]
            x_new = x + gx - np.einsum("bk,bkn->bn", gam, Xm + Gm)
        else:
            x_new = x + gx
        x_new = np.clip(x_new, -1.0, 1.0)  # fixed points of tanh lie in [-1, 1]
        g_new = T(x_new) - x_new
        dX.append(x_new - x)
        dG.append(g_new - gx)
        if len(dX) > m:
            dX.pop(0)
            dG.pop(0)
        x, gx = x_new, g_new
        res = np.abs(gx).max(axis=1) / beta
        if not np.all(np.isfinite(x)):
            break
    return x, res, it


def _damped(W, h, r, tol, max_iter, beta=0.5):
    res = np.abs(r - np.tanh(r @ W.T + h)).max(axis=1)
    it = 0
    for it in range(1, max_iter + 1):
        if np.all(res <= tol):
            return r, res, it - 1
        phi = np.tanh(r @ W.T + h)
        r = (1.0 - beta) * r + beta * phi
        res = np.abs(r - np.tanh(r @ W.T + h)).max(axis=1)
    return r, res, it


def euler_fixed_point(W, h, n_steps: int = 500, dt_over_tau: float = 0.01) -> np.ndarray:
    """The authors' forward Euler from :math:`r = 0` (faithful mode), :math:`O(n\\,BN^2)`.

    No convergence check: for ``n_steps = 500``, ``dt_over_tau = 0.01`` the state has
    relaxed for only :math:`5\\tau`.
    """
    r = np.zeros_like(h)
    for _ in range(n_steps):
        r = r + dt_over_tau * (-r + np.tanh(r @ W.T + h))
    return r


def _rescue(W, h, tol, beta, m, ls):
    """Fallback for samples Newton could not solve: Anderson (500 iterations), then
    relaxation along the dynamics (Euler, dt/tau = 0.2, up to 5000 steps: converges to a
    *stable* fixed point if the trajectory reaches one) polished by Newton."""
    r, res, it = _anderson(W, h, np.tanh(h), tol, 500, beta, m)
    bad = np.flatnonzero(~(res <= tol))
    if bad.size:
        hb = h[bad]
        rb = np.zeros_like(hb)
        for k in range(5000):
            rb = rb + 0.2 * (np.tanh(rb @ W.T + hb) - rb)
            if k % 50 == 49 and np.abs(rb - np.tanh(rb @ W.T + hb)).max() <= 1e-6:
                break
        rb, resb, itb = _newton(W, hb, rb, tol, 50, ls)
        better = ~(res[bad] <= resb)
        r[bad[better]], res[bad[better]] = rb[better], resb[better]
        it += k + 1 + itb
    return r, res, it


def solve_fixed_point(W, h, *, method: str = "auto", tol: float = 1e-10, max_iter: int | None = None,
                      r0=None, linear_solver: str = "auto", fallback: bool = True, beta: float = 0.5,
                      anderson_m: int = 5, n_steps: int = 500, dt_over_tau: float = 0.01,
                      stability: str = "ignore") -> FixedPoint:
    r"""Solve :math:`r = \tanh(W r + h)` for every row of ``h``.

    Parameters
    ----------
    W : (N, N) array
        Recurrent weights (math orientation, acts as ``W @ r``).
    h : (B, N) or (N,) array
        Input currents :math:`W_x x` (use :func:`fixed_point` to pass ``W_x`` and ``x``).
    method : {"auto", "newton", "anderson", "damped", "euler"}
        See the module docstring (``"auto"``: Picard predictor, then Newton, then
        Anderson).  ``"euler"`` is the labelled faithful mode.
    tol : float
        Stop when :math:`\max_i\|F(r_i)\|_\infty \le` ``tol``.
    max_iter : int, optional
        Iteration cap (default 50 for Newton, 2000 for Anderson/damped).
    r0 : array, optional
        Initial guess (default :math:`\tanh(h)`, one step of the map from 0).
    linear_solver : {"auto", "lu", "gmres"}
        Newton system solver (see module docstring).
    fallback : bool
        Retry samples where Newton fails (Anderson, then relaxation plus Newton polish).
    stability : {"ignore", "warn", "raise"}
        Whether to check :math:`\max\mathrm{Re}\,\lambda(G_iW) < 1` at the solution
        (costs an extra :math:`O(BN^3)`); ``"raise"`` raises
        :class:`~rnn_theory.theory.errors.UnstableError`.

    Returns
    -------
    FixedPoint

    Raises
    ------
    FixedPointNotConverged
        With ``.residual``, ``.failing`` (sample indices) and the leading eigenvalues.
    ShapeError, NonFiniteError
        On bad input.

    Cost: Picard :math:`O(BN^2)` per iteration; Newton :math:`O(BN^3)` (LU) or
    :math:`O(BkN^2)` (GMRES) per iteration, a few iterations; Anderson :math:`O(BN^2)`
    per iteration.
    """
    W = _as_weights(W)
    N = W.shape[0]
    h, single = _as_batch("h", h, N)
    if method not in _METHODS:
        raise DomainError(f"method must be one of {_METHODS}, got {method!r}")
    if linear_solver not in ("auto", "lu", "gmres"):
        raise DomainError(f"linear_solver must be 'auto', 'lu' or 'gmres', got {linear_solver!r}")
    if stability not in ("ignore", "warn", "raise"):
        raise DomainError(f"stability must be 'ignore', 'warn' or 'raise', got {stability!r}")
    if not (tol > 0):
        raise DomainError(f"tol must be > 0, got {tol!r}")
    if not (0 < beta <= 1):
        raise DomainError(f"beta (damping) must lie in (0, 1], got {beta!r}")
    if r0 is None:
        r = np.tanh(h)
    else:
        r, _ = _as_batch("r0", np.broadcast_to(r0, h.shape) if np.ndim(r0) == 1 else r0, N)
        r = r.copy()

    if method == "euler":
        r = euler_fixed_point(W, h, n_steps, dt_over_tau)
        res = float(np.abs(r - np.tanh(r @ W.T + h)).max(initial=0.0))
        return FixedPoint(r[0] if single else r, res, n_steps, "euler", res <= tol)

    used = method
    it = 0
    if method in ("auto", "newton"):
        todo = np.arange(h.shape[0])
        res = np.full(h.shape[0], np.inf)
        if method == "auto":
            # Picard predictor while the map contracts (1 GEMM per iteration), Newton for the rest
            r, res, it = _picard(W, h, r, tol, 200)
            todo = np.flatnonzero(~(res <= tol))
            used = "picard"
        if todo.size:
            ls = linear_solver if linear_solver != "auto" else ("lu" if N <= 64 else "gmres")
            rn, resn, itn = _newton(W, h[todo], r[todo], tol, max_iter or 50, ls)
            r[todo], res[todo] = rn, resn
            it += itn
            used = "picard+newton" if method == "auto" else "newton"
            bad = np.flatnonzero(~(res <= tol))
            if bad.size and fallback:
                rb, resb, itb = _rescue(W, h[bad], tol, beta, anderson_m, ls)
                r[bad], res[bad] = rb, resb
                it += itb
                used += "+fallback"
    elif method == "anderson":
        r, res, it = _anderson(W, h, r, tol, max_iter or 2000, beta, anderson_m)
    else:
        r, res, it = _damped(W, h, r, tol, max_iter or 2000, beta)

    bad = np.flatnonzero(~(res <= tol))
    worst = float(np.nanmax(np.where(np.isfinite(res), res, np.inf)))
    if bad.size:
        lam_w = max_real_eig(W)
        k = bad[:3]
        rk = np.clip(np.nan_to_num(r[k]), -1, 1)
        lam_g = stability_report(W, rk).max_real_eig
        raise FixedPointNotConverged(
            f"fixed-point solver '{used}' did not reach tol={tol:g} for {bad.size} of {len(h)} samples "
            f"(largest residual {worst:.3g}); leading Re eig(W) = {lam_w:.4g}, Re eig(G W) at the "
            f"first failing samples {np.round(lam_g, 4).tolist()} (>= 1 means no stable fixed point "
            "there). Reduce W's spectral radius, raise max_iter, or try method='anderson'.",
            residual=worst, failing=bad)
    if stability != "ignore":
        rep = stability_report(W, r)
        if not rep.all_stable:
            msg = (f"{int(np.sum(~rep.stable))} of {len(h)} fixed points are unstable: max Re eig(G W) = "
                   f"{float(rep.max_real_eig.max()):.4g} >= 1 (leading Re eig(W) = {rep.max_real_eig_w:.4g}); "
                   "W has no stable fixed point for these inputs")
            if stability == "raise":
                raise UnstableError(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return FixedPoint(r[0] if single else r, worst, int(it), used, True)


def fixed_point(W, W_x, x, **kw) -> FixedPoint:
    r"""Solve :math:`r = \tanh(W r + W_x x)`; ``W_x`` is (N, N_x), ``x`` is (B, N_x) or (N_x,).

    Keyword arguments go to :func:`solve_fixed_point`.

    >>> fp = fixed_point(np.zeros((3, 3)), np.eye(3, 2), [[0.5, -0.5]])
    >>> np.round(fp.r, 4)
    array([[ 0.4621, -0.4621,  0.    ]])
    """
    W = _as_weights(W)
    W_x = check_finite("W_x", np.asarray(W_x, dtype=float))
    if W_x.ndim != 2 or W_x.shape[0] != W.shape[0]:
        raise ShapeError(f"W_x has shape {W_x.shape}; expected ({W.shape[0]}, n_inputs) to match W")
    x, single = _as_batch("x", x, W_x.shape[1])
    h = x @ W_x.T
    return solve_fixed_point(W, h[0] if single else h, **kw)


def linear_fixed_point(W, h, g: float = 1.0) -> np.ndarray:
    r"""Fixed point of the linear model :math:`r = g(Wr + h)`: :math:`r = A h`,
    :math:`A = (g^{-1}I - W)^{-1}`, rows of ``h`` (B, N).  :math:`O(N^3 + BN^2)`.

    Raises :class:`~rnn_theory.theory.errors.UnstableError` when an eigenvalue of :math:`gW` has real
    part :math:`\ge 1` (no stable fixed point).

    >>> linear_fixed_point(0.5 * np.eye(2), [[1.0, 2.0]])
    array([[2., 4.]])
    """
    W = _as_weights(W)
    if not (np.isfinite(g) and g > 0):
        raise DomainError(f"gain g must be a finite number > 0, got {g!r}")
    h, single = _as_batch("h", h, W.shape[0])
    lam = max_real_eig(g * W)
    if lam >= 1.0:
        raise UnstableError(f"the linear network has no stable fixed point: max Re eig(g W) = {lam:.4g} >= 1; "
                            "scale W down below the stability boundary")
    r = np.linalg.solve(np.eye(W.shape[0]) / g - W, h.T).T
    return r[0] if single else r


# --------------------------------------------------------------------------- loss
def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(z: np.ndarray, y: np.ndarray) -> float:
    """Batch-mean cross-entropy :math:`-\\log\\mathrm{softmax}(z)_y`.

    >>> bool(np.isclose(cross_entropy(np.zeros((2, 4)), np.array([0, 3])), np.log(4)))
    True
    """
    z = np.asarray(z, dtype=float)
    y = np.asarray(y)
    zm = z.max(axis=1, keepdims=True)
    lse = (zm + np.log(np.exp(z - zm).sum(axis=1, keepdims=True)))[:, 0]
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def output_error(R: np.ndarray, r: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logit error :math:`e = \\mathrm{softmax}(Rr) - \\mathrm{onehot}(y)` (B, C) and
    :math:`\\delta = R^\\top e` as rows (B, N)."""
    p = softmax(r @ R.T)
    p[np.arange(len(y)), y] -= 1.0
    return p, p @ R


# --------------------------------------------------------------------------- gradient and rules
def backprop_fixed_point(W, r, delta, *, solver: str = "lu") -> np.ndarray:
    r"""Adjoint :math:`v_i = G_i(I - W^\top G_i)^{-1}\delta_i` per row (B, N).

    ``solver="lu"``: exact batched LU, :math:`O(N^3)` per sample (no :math:`G^{-1}`, so
    safe when :math:`g` has zeros); ``"gmres"``: matrix-free, :math:`O(kN^2)`.
    """
    W = _as_weights(W)
    r, _ = _as_batch("r", r, W.shape[0])
    delta, _ = _as_batch("delta", delta, W.shape[0])
    if r.shape != delta.shape:
        raise ShapeError(f"r {r.shape} and delta {delta.shape} must have the same shape")
    g = 1.0 - r ** 2
    if solver == "lu":
        u = _lu_solve(g, W, delta, transpose=True)
    elif solver == "gmres":
        atol = 1e-14 * np.maximum(np.linalg.norm(delta, axis=1), 1e-300)
        u = _gmres(lambda v: v - (g * v) @ W, delta, atol, m=min(60, W.shape[0]))
    else:
        raise DomainError(f"solver must be 'lu' or 'gmres', got {solver!r}")
    return g * u


def implicit_gradient(W, r, delta, *, per_sample: bool = False, solver: str = "lu") -> np.ndarray:
    r"""Exact gradient through the fixed point, :math:`\nabla_W L_i = G(I-W^\top G)^{-1}\delta r^\top`.

    Returns the batch mean :math:`\frac1B\sum_i\nabla_W L_i` (N, N), or the stack (B, N, N)
    with ``per_sample=True``.  ``r`` must be solved fixed points and ``delta`` the rows
    :math:`\delta_i = \partial L_i/\partial r_i`.  Cost :math:`O(BN^3)` (one solve per sample).
    """
    r2, _ = _as_batch("r", r, np.shape(W)[0])
    v = backprop_fixed_point(W, r2, delta, solver=solver)
    if per_sample:
        return v[:, :, None] * r2[:, None, :]
    return v.T @ r2 / len(r2)


def rule_factors(rule: str, W, r, delta, *, solver: str = "lu") -> tuple[np.ndarray, np.ndarray]:
    r"""Per-sample factors ``U, V`` (B, N) with direction :math:`dW = \frac1B U^\top V`.

    * dW1: :math:`u = G(I - W^\top G)^{-1}\delta`, :math:`v = r` (one solve, :math:`O(N^3)`),
    * dW3: :math:`u = (I-WG)G\delta`, :math:`v = (I-GW)^\top(I-GW)r` (:math:`O(N^2)`),
    * dW4: :math:`u = (I-WG)\delta`, :math:`v = (I-WG)^\top(I-WG)r` (:math:`O(N^2)`).

    All products are matrix–vector products done as GEMMs over the batch (rows).
    """
    W = _as_weights(W)
    r, _ = _as_batch("r", r, W.shape[0])
    delta, _ = _as_batch("delta", delta, W.shape[0])
    g = 1.0 - r ** 2
    if rule == "dW1":
        return backprop_fixed_point(W, r, delta, solver=solver), r
    if rule == "dW3":
        gd = g * delta
        u = gd - (g * gd) @ W.T              # (I - W G) G delta
        s = r - g * (r @ W.T)                # (I - G W) r
        v = s - (g * s) @ W                  # (I - G W)^T s = s - W^T G s
        return u, v
    if rule == "dW4":
        u = delta - (g * delta) @ W.T        # (I - W G) delta
        s = r - (g * r) @ W.T                # (I - W G) r
        v = s - g * (s @ W)                  # (I - W G)^T s = s - G W^T s
        return u, v
    raise DomainError(f"rule must be one of {RULES}, got {rule!r}")


def update_direction(rule: str, W, r, delta, *, solver: str = "lu") -> np.ndarray:
    r"""Batch-mean update direction (SGD: :math:`W \leftarrow W - \eta\,dW`).

    dW3/dW4: :math:`O(BN^2)`, no inverse; dW1: :math:`O(BN^3)`.

    >>> rng = np.random.default_rng(1)
    >>> W = 0.3 * rng.standard_normal((5, 5)); r = np.tanh(rng.standard_normal((3, 5)))
    >>> d = rng.standard_normal((3, 5))
    >>> [update_direction(k, W, r, d).shape for k in RULES]
    [(5, 5), (5, 5), (5, 5)]
    """
    u, v = rule_factors(rule, W, r, delta, solver=solver)
    return u.T @ v / len(u)


def preconditioners(rule: str, W, r) -> tuple[np.ndarray, np.ndarray]:
    r"""Explicit metric factors :math:`(P_i, Q_i)` (B, N, N) with :math:`dW_i = P_i\nabla_i Q_i`.

    * dW3: :math:`P = (I-WG)(I-WG)^\top`, :math:`Q = (I-GW)^\top(I-GW)`,
    * dW4: :math:`P_4 = (I-WG)G^{-1}(I-WG)^\top`, :math:`Q_4 = (I-WG)^\top(I-WG)` (needs
      :math:`g > 0`).

    For checks only: :math:`O(BN^3)`.
    """
    W = _as_weights(W)
    r, _ = _as_batch("r", r, W.shape[0])
    N = W.shape[0]
    g = 1.0 - r ** 2
    I = np.eye(N)[None]
    WG = W[None] * g[:, None, :]             # W G
    GW = g[:, :, None] * W[None]             # G W
    if rule == "dW3":
        L = I - WG
        M = I - GW
        return L @ L.transpose(0, 2, 1), M.transpose(0, 2, 1) @ M
    if rule == "dW4":
        if np.any(g <= 0):
            raise DomainError("the dW4 metric form needs g = 1 - r^2 > 0 (|r| < 1); the rule itself does not")
        L = I - WG
        return (L / g[:, None, :]) @ L.transpose(0, 2, 1), L.transpose(0, 2, 1) @ L
    raise DomainError(f"preconditioners exist for 'dW3' and 'dW4', got {rule!r}")


def metric_inner(rule: str, W, r, U, V) -> np.ndarray:
    r"""Per-sample metric :math:`\langle U, V\rangle_{W} = \mathrm{tr}(P^{-1}UQ^{-1}V^\top)`
    under which ``rule`` is gradient descent (for dW3 equal to
    :math:`\langle (I-WG)^{-1}U(I-GW)^{-1}, (I-WG)^{-1}V(I-GW)^{-1}\rangle_F`).  :math:`O(BN^3)`.
    """
    P, Q = preconditioners(rule, W, r)
    U = np.asarray(U, dtype=float)
    V = np.asarray(V, dtype=float)
    PU = np.linalg.solve(P, np.broadcast_to(U, P.shape))
    QV = np.linalg.solve(Q, np.broadcast_to(V, P.shape).transpose(0, 2, 1))  # Q^{-1} V^T
    return np.einsum("bij,bji->b", PU, QV)
