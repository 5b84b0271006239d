r"""Batched iterations behind :func:`~rnn_theory.numerics.fixed_point.solve_fixed_point`.

Every function acts on the rows of ``h`` and ``r`` (shape ``(B, N)``) and returns
``(r, res, iterations)`` with ``res`` the per-row residual
:math:`\|r_i - \tanh(Wr_i + h_i)\|_\infty`:

* :func:`_picard` — the undamped map, :math:`O(BN^2)` per iteration;
* :func:`_newton` — Newton with the analytic Jacobian :math:`I - GW`, its linear systems
  solved by batched LU (:func:`_lu_solve`, :math:`O(N^3)` per row) or by batched
  restarted GMRES (:func:`_gmres`, :math:`O(kN^2)` per row), with backtracking;
* :func:`_anderson` — Anderson acceleration of the damped map, :math:`O(N^2 + mN)` per row;
* :func:`_damped` — the plain damped map, :math:`O(N^2)` per row.
"""
from __future__ import annotations

import numpy as np


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
