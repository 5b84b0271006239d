r"""Results of the fixed-point solver and the stability of fixed points.

A fixed point :math:`r` of :math:`\tau\dot r = -r + \tanh(Wr + h)` is stable iff every
eigenvalue of :math:`GW`, :math:`G = \operatorname{diag}(1 - r^2)`, has real part
:math:`< 1`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_theory.numerics.fixed_point._validation import _as_batch, _as_weights
from rnn_theory.numerics.rate.analysis import max_real_eig

__all__ = ["FixedPoint", "StabilityReport", "stability_report"]


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
        Method(s) that produced ``r``, e.g. ``"picard"``, ``"picard+relax+newton"`` or ``"newton+fallback"``.
    converged : bool
        ``residual <= tol``; always True for converging methods (they raise otherwise).
    stable : bool or None
        True when every returned point was verified stable (:math:`\\max\\mathrm{Re}\\,
        \\lambda(G_iW) < 1`), False when some is not, None when not checked
        (``stability="ignore"`` with an explicit method).
    certificate : str
        How stability was established, e.g. ``"contraction of the map for 510 of 512
        samples; eigenvalues of G W for 2 (max Re 0.97)"``.
    """

    r: np.ndarray
    residual: float
    iterations: int
    method: str
    converged: bool
    stable: bool | None = None
    certificate: str = "not checked"


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
    lead = leading_eigenvalues(W, r)
    return StabilityReport(lead, lead.real.copy(), lead.real < 1.0, max_real_eig(W))


def leading_eigenvalues(W: np.ndarray, r: np.ndarray) -> np.ndarray:
    r"""The eigenvalue of :math:`G_iW` with the largest real part for each row ``r[i]`` of a
    validated (B, N) batch; what :func:`stability_report` adds is :math:`\max\mathrm{Re}\,
    \lambda(W)` (one more eigendecomposition), which the solver's stability check skips.
    Cost :math:`O(BN^3)`."""
    g = 1.0 - r ** 2
    eig = np.linalg.eigvals(g[:, :, None] * W[None])
    idx = np.argmax(eig.real, axis=1)
    return eig[np.arange(len(eig)), idx]
