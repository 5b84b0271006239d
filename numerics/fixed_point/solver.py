r"""Solve :math:`r = \tanh(Wr + h)` for every row of ``h`` (spec §2).

:func:`solve_fixed_point` dispatches to the batched iterations of
:mod:`rnn_theory.numerics.fixed_point.kernels` (method overview and costs in the
package docstring, :mod:`rnn_theory.numerics.fixed_point`); :func:`fixed_point` takes
``W_x`` and ``x`` instead of :math:`h = W_x x`; :func:`linear_fixed_point` solves the
linear model :math:`r = g(Wr + h)` in closed form; :func:`euler_fixed_point` is the
authors' fixed-step forward Euler (faithful mode).
"""
from __future__ import annotations

import warnings

import numpy as np

from rnn_theory.theory.errors import (
    DomainError,
    FixedPointNotConverged,
    ShapeError,
    UnstableError,
    check_finite,
)
from rnn_theory.numerics.fixed_point._validation import _as_batch, _as_weights
from rnn_theory.numerics.fixed_point.kernels import _anderson, _damped, _newton
from rnn_theory.numerics.fixed_point.reached import solve_reached
from rnn_theory.numerics.fixed_point.stability import FixedPoint, stability_report
from rnn_theory.numerics.rate.analysis import max_real_eig

__all__ = ["solve_fixed_point", "fixed_point", "linear_fixed_point", "euler_fixed_point"]

_METHODS = ("auto", "newton", "anderson", "damped", "euler")


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
                      stability: str | None = None, t_max: float = 2000.0) -> FixedPoint:
    r"""Solve :math:`r = \tanh(W r + h)` for every row of ``h``.

    The default (``method="auto"``) returns the *stable* fixed point that the dynamics
    :math:`\tau\dot r = -r + \tanh(Wr + h)` reach from the initial state ``r0``
    (default :math:`r = 0`), verified stable (``result.stable``, ``result.certificate``;
    algorithm in :mod:`rnn_theory.numerics.fixed_point.reached`).  The explicit methods
    return whichever fixed point their iteration converges to, stable or not: ask for
    them (e.g. ``method="newton"``) to get an unstable fixed point.

    Parameters
    ----------
    W : (N, N) array
        Recurrent weights (math orientation, acts as ``W @ r``).
    h : (B, N) or (N,) array
        Input currents :math:`W_x x` (use :func:`fixed_point` to pass ``W_x`` and ``x``).
    method : {"auto", "newton", "anderson", "damped", "euler"}
        ``"auto"``: the stable fixed point reached by the dynamics (Picard fast path,
        relaxation along the dynamics plus Newton polish where the map stalls).  The
        others are described in the package docstring; ``"euler"`` is the labelled
        faithful mode.
    tol : float
        Stop when :math:`\max_i\|F(r_i)\|_\infty \le \mathrm{tol}`.
    max_iter : int, optional
        Iteration cap (default 50 for Newton, 2000 for Anderson/damped).
    r0 : array, optional
        ``"auto"``: the initial state of the dynamics (default 0).  Other methods: the
        initial guess (default :math:`\tanh(h)`, one step of the map from 0).
    linear_solver : {"auto", "lu", "gmres"}
        Newton system solver (see module docstring).
    fallback : bool
        Retry samples where Newton fails (Anderson, then relaxation plus Newton polish).
    stability : {"raise", "warn", "ignore"}, optional
        Explicit methods (default ``"ignore"``): whether to check
        :math:`\max\mathrm{Re}\,\lambda(G_iW) < 1` at the solution (an extra
        :math:`O(BN^3)`); ``"raise"`` raises :class:`~rnn_theory.theory.errors.UnstableError`.
        ``"auto"`` always verifies; ``stability`` (default ``"raise"``) only decides what
        happens when the dynamics stay on an unstable fixed point (``r0`` is one).
    t_max : float
        ``"auto"`` only: how long (in units of :math:`\tau`) the dynamics may relax
        before :class:`~rnn_theory.theory.errors.NoStableFixedPoint` is raised.

    Returns
    -------
    FixedPoint

    Raises
    ------
    FixedPointNotConverged
        With ``.residual``, ``.failing`` (sample indices) and the leading eigenvalues.
    NoStableFixedPoint
        ``"auto"``: the dynamics did not settle within ``t_max`` (a subclass of both
        :class:`FixedPointNotConverged` and :class:`UnstableError`).
    ShapeError, NonFiniteError
        On bad input.

    Notes
    -----
    Cost: Picard :math:`O(BN^2)` per iteration (``"auto"`` on a contracting map: nothing
    else); relaxation :math:`O(N^2)` per row and Euler step plus one :math:`O(N^3)`
    eigenvalue check per polished row; Newton :math:`O(BN^3)` (LU) or
    :math:`O(BkN^2)` (GMRES) per iteration, a few iterations; Anderson :math:`O(BN^2)`
    per iteration.
    """
    W = _as_weights(W)
    h, single = _as_batch("h", h, W.shape[0])
    _check_options(method, linear_solver, stability, tol, beta, t_max)
    if method == "auto":
        r = np.zeros_like(h) if r0 is None else _initial_guess(r0, h, W.shape[0])
        ls = linear_solver if linear_solver != "auto" else ("lu" if W.shape[0] <= 64 else "gmres")
        r, res, it, used, stable, cert = solve_reached(W, h, r, tol, ls, t_max, stability or "raise",
                                                       max_iter or 200)
        worst = float(res.max(initial=0.0))
        return FixedPoint(r[0] if single else r, worst, int(it), used, True, stable, cert)
    r = _initial_guess(r0, h, W.shape[0])
    if method == "euler":
        r = euler_fixed_point(W, h, n_steps, dt_over_tau)
        res = float(np.abs(r - np.tanh(r @ W.T + h)).max(initial=0.0))
        return FixedPoint(r[0] if single else r, res, n_steps, "euler", res <= tol)
    if method == "newton":
        r, res, it, used = _solve_newton_family(W, h, r, method, tol, max_iter, linear_solver, fallback,
                                                beta, anderson_m)
    elif method == "anderson":
        r, res, it = _anderson(W, h, r, tol, max_iter or 2000, beta, anderson_m)
        used = method
    else:
        r, res, it = _damped(W, h, r, tol, max_iter or 2000, beta)
        used = method
    worst = float(np.nanmax(np.where(np.isfinite(res), res, np.inf)))
    _raise_if_unconverged(W, r, res, worst, tol, used)
    stable, cert = None, "not checked"
    if stability not in (None, "ignore"):
        stable, cert = _check_stability(W, r, stability)
    return FixedPoint(r[0] if single else r, worst, int(it), used, True, stable, cert)


def _check_options(method, linear_solver, stability, tol, beta, t_max) -> None:
    """Raise :class:`DomainError` on an unknown option or a bad ``tol``/``beta``."""
    if method not in _METHODS:
        raise DomainError(f"method must be one of {_METHODS}, got {method!r}")
    if linear_solver not in ("auto", "lu", "gmres"):
        raise DomainError(f"linear_solver must be 'auto', 'lu' or 'gmres', got {linear_solver!r}")
    if stability not in (None, "ignore", "warn", "raise"):
        raise DomainError(f"stability must be 'ignore', 'warn' or 'raise', got {stability!r}")
    if not (t_max > 0 and np.isfinite(t_max)):
        raise DomainError(f"t_max (relaxation time in units of tau) must be finite and > 0, got {t_max!r}")
    if not (tol > 0):
        raise DomainError(f"tol must be > 0, got {tol!r}")
    if not (0 < beta <= 1):
        raise DomainError(f"beta (damping) must lie in (0, 1], got {beta!r}")


def _initial_guess(r0, h: np.ndarray, N: int) -> np.ndarray:
    """``r0`` as a fresh (B, N) array (a single vector is broadcast), default :math:`\\tanh(h)`."""
    if r0 is None:
        return np.tanh(h)
    r, _ = _as_batch("r0", np.broadcast_to(r0, h.shape) if np.ndim(r0) == 1 else r0, N)
    return r.copy()


def _solve_newton_family(W, h, r, method, tol, max_iter, linear_solver, fallback, beta, anderson_m):
    """Method ``"newton"``, followed by :func:`_rescue` for the rows Newton leaves above
    ``tol`` when ``fallback`` (any fixed point: stable or not).

    Returns ``(r, res, iterations, label)``; ``label`` names the stages that ran.
    """
    N = W.shape[0]
    used = method
    it = 0
    todo = np.arange(h.shape[0])
    res = np.full(h.shape[0], np.inf)
    if todo.size:
        ls = linear_solver if linear_solver != "auto" else ("lu" if N <= 64 else "gmres")
        rn, resn, itn = _newton(W, h[todo], r[todo], tol, max_iter or 50, ls)
        r[todo], res[todo] = rn, resn
        it += itn
        used = "newton"
        bad = np.flatnonzero(~(res <= tol))
        if bad.size and fallback:
            rb, resb, itb = _rescue(W, h[bad], tol, beta, anderson_m, ls)
            r[bad], res[bad] = rb, resb
            it += itb
            used += "+fallback"
    return r, res, it, used


def _raise_if_unconverged(W, r, res, worst: float, tol: float, used: str) -> None:
    """Raise :class:`FixedPointNotConverged` naming the failing rows and the leading
    eigenvalues of :math:`W` and :math:`G_iW` (first three failing rows) if any row of
    ``res`` exceeds ``tol``."""
    bad = np.flatnonzero(~(res <= tol))
    if bad.size:
        lam_w = max_real_eig(W)
        k = bad[:3]
        rk = np.clip(np.nan_to_num(r[k]), -1, 1)
        lam_g = stability_report(W, rk).max_real_eig
        raise FixedPointNotConverged(
            f"fixed-point solver '{used}' did not reach tol={tol:g} for {bad.size} of {len(res)} samples "
            f"(largest residual {worst:.3g}); leading Re eig(W) = {lam_w:.4g}, Re eig(G W) at the "
            f"first failing samples {np.round(lam_g, 4).tolist()} (>= 1 means no stable fixed point "
            "there). Reduce W's spectral radius, raise max_iter, or try method='anderson'.",
            residual=worst, failing=bad)


def _check_stability(W, r, stability: str) -> tuple[bool, str]:
    """``stability="warn"``/``"raise"``: warn (at the caller of :func:`solve_fixed_point`)
    or raise :class:`UnstableError` when some :math:`\\max\\mathrm{Re}\\,\\lambda(G_iW) \\ge 1`;
    returns ``(stable, certificate)``."""
    rep = stability_report(W, r)
    cert = f"eigenvalues of G W for {len(r)} samples (max Re {float(rep.max_real_eig.max()):.4g})"
    if not rep.all_stable:
        msg = (f"{int(np.sum(~rep.stable))} of {len(r)} fixed points are unstable: max Re eig(G W) = "
               f"{float(rep.max_real_eig.max()):.4g} >= 1 (leading Re eig(W) = {rep.max_real_eig_w:.4g}); "
               "the method returned an unstable fixed point; method='auto' finds the stable one the "
               "dynamics reach, if any")
        if stability == "raise":
            raise UnstableError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return rep.all_stable, cert


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
