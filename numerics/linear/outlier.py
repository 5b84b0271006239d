r"""Finite-N outlier of :math:`W = W_0 + \Delta W` along a training run (simulation side of ``theory.outlier``).

:func:`finite_n_outlier` finds the largest real eigenvalue of :math:`W` above every real
eigenvalue of :math:`W_0` without diagonalising :math:`W`: with :math:`W_0 = PDP^{-1}` (one
:math:`O(N^3)` eigendecomposition per draw) and :math:`\Delta W \approx UV^\top` (a rank-r
range finder, :math:`O(N^2 r)`), :math:`\lambda \notin \mathrm{spec}(W_0)` is an eigenvalue of
W iff :math:`\det(I_r - V^\top P(\lambda - D)^{-1}P^{-1}U) = 0`, which costs :math:`O(Nr^2)`
per λ.  :func:`outlier_trajectory` trains with :func:`train_fixed_point` in segments (GD is
memoryless, so segments reproduce one run) and records the outlier at the checkpoints.
"""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.linear.network import draw_network
from rnn_theory.numerics.linear.training import train_fixed_point
from rnn_theory.theory.errors import DomainError

__all__ = ["W0Spectrum", "finite_n_outlier", "outlier_trajectory"]


class W0Spectrum:
    r"""Eigendecomposition :math:`W_0 = PDP^{-1}` and its top real eigenvalue; :math:`O(N^3)` once."""

    def __init__(self, W0, *, _parts=None):
        self.d, self.P, self.Pinv = _parts if _parts is not None else _eig(W0)
        real = np.abs(self.d.imag) <= 1e-10 * max(1.0, float(np.abs(self.d).max()))
        self.top_real = float(self.d.real[real].max()) if np.any(real) else -np.inf
        self.norm = 2.2 * float(np.abs(self.d).max())  # > |W0|_2 ~ 2 g at large N (only a search bound)

    def scaled(self, g: float) -> "W0Spectrum":
        """The spectrum of ``g * W0`` (same eigenvectors): one decomposition of J serves every g."""
        return W0Spectrum(None, _parts=(g * self.d, self.P, self.Pinv))


def _eig(W0):
    d, P = np.linalg.eig(W0)
    return d, P, np.linalg.inv(P)


def finite_n_outlier(spec: W0Spectrum, dW, rank: int = 10, n_grid: int = 400, seed: int = 0):
    r"""Largest real eigenvalue of :math:`W_0 + \Delta W` above the top real eigenvalue of :math:`W_0`, NaN if none.

    ``dW`` is compressed to rank ``rank`` (randomised range finder; the relative residual
    is returned and should sit at round-off for the learned, effectively rank ≤ 6, ΔW).
    Returns ``(lambda, residual)``.  Cost :math:`O(N^2\,\text{rank})` + :math:`O(N\,\text{rank}^2)` per λ.
    """
    from scipy.optimize import brentq

    n = dW.shape[0]
    Om = np.random.default_rng(seed).standard_normal((n, rank))
    Q, _ = np.linalg.qr(dW @ Om)
    Q, _ = np.linalg.qr(dW @ (dW.T @ Q))  # one power iteration
    Vt = Q.T @ dW
    nrm = np.linalg.norm(dW)
    resid = float(np.linalg.norm(dW - Q @ Vt) / nrm) if nrm > 0 else 0.0
    A = Vt @ spec.P          # r x N
    Bm = spec.Pinv @ Q       # N x r
    eye = np.eye(rank)

    def f(lv):
        return float(np.linalg.det(eye - (A / (lv - spec.d)[None, :]) @ Bm).real)

    lo = max(spec.top_real, 0.0) + 1e-9
    hi = spec.norm + nrm + 1e-9
    s = np.linspace(0.0, 1.0, n_grid + 1)[1:]
    grid = lo + (hi - lo) * s**2
    vals = np.array([f(lv) for lv in grid])
    idx = np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) <= 0)[0]
    if idx.size == 0:
        return float("nan"), resid
    k = idx[-1]
    return float(brentq(f, grid[k], grid[k + 1], xtol=1e-13, rtol=1e-12)), resid


def outlier_trajectory(n: int, g: float, zhat: float, lr0: float, checkpoints, seed: int,
                       spec_j: W0Spectrum | None = None) -> dict:
    r"""Train the paper's network (:math:`\eta = \mathrm{lr}_0(1-g^2)^2`) and record the outlier at step counts ``checkpoints``.

    Returns a dict of arrays over the checkpoints: ``steps``, ``tau_tilde``, ``outlier``
    (NaN where W has no real eigenvalue above those of :math:`W_0`), ``residual`` of the
    low-rank compression, ``edge`` (top real eigenvalue of :math:`W_0`), and ``z0``.
    ``spec_j``: the :class:`W0Spectrum` of :math:`J = W_0/g` of this seed, to be reused
    across g (the draw order J, m, w makes J, m, w the same for every g).
    Cost: :math:`O(N^3)` for the eigendecomposition of :math:`W_0` plus one LU per segment
    and :math:`O(N^2)` per step.
    """
    cps = [int(c) for c in checkpoints]
    if any(b <= a for a, b in zip([0] + cps, cps)):
        raise DomainError(f"checkpoints must be increasing positive step counts, got {checkpoints!r}")
    W0, m, w = draw_network(n, g, np.random.default_rng(seed))
    if spec_j is None:
        spec_j = W0Spectrum(W0 / g if g > 0 else W0)
    spec = spec_j.scaled(g) if g > 0 else W0Spectrum(None, _parts=(0 * spec_j.d, spec_j.P, spec_j.Pinv))
    lr = lr0 * (1 - g * g) ** 2
    W, done, out, res = W0.copy(), 0, [], []
    z0 = float(w @ np.linalg.solve(np.eye(n) - W0, m))
    for c in cps:
        r = train_fixed_point(W, m, w, zhat, lr, c - done, lr0=lr0, g=g, n_sv=1, check_stability=False)
        W = W + r.dW
        done = c
        lam, resid = finite_n_outlier(spec, W - W0)
        out.append(lam)
        res.append(resid)
    return {"steps": np.array(cps), "tau_tilde": lr0 * np.array(cps, dtype=float), "outlier": np.array(out),
            "residual": np.array(res), "edge": spec.top_real, "z0": z0}
