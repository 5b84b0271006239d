r"""The history of one linear training run and its scalar observables (spec section 5)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LinearTrainingResult"]


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
