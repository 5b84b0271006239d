r"""Keeping :math:`B_W = (I - W)^{-1}` up to date under rank-one changes of W (Sherman–Morrison).

A gradient step changes W by :math:`c\,uv^\top`, i.e. :math:`M = I - W` by :math:`-c\,uv^\top`, and

.. math::
    (M - c\,uv^\top)^{-1} = B + \frac{c}{1 - c\,v^\top B u}\,(Bu)(v^\top B),
    \qquad \det(M - c\,uv^\top) = \det M\,(1 - c\,v^\top B u).

:class:`ShermanMorrisonInverse` stores :math:`B^\top` (C-ordered, straight out of LAPACK's
``getri``), forms :math:`Bu` and :math:`v^\top B` in one blocked pass over it, buffers the
corrections and adds them ``flush_every`` at a time with one GEMM: :math:`O(N^2)` per update
after one :math:`O(N^3)` inverse.  The helpers below also give the sign of a determinant
from LU factors (:math:`O(N)`), which detects a real eigenvalue of W crossing 1.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from rnn_theory.theory.errors import UnstableError

__all__ = ["ShermanMorrisonInverse"]


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


class ShermanMorrisonInverse:
    r""":math:`B = (I - W)^{-1}` with :math:`u = B^\top w` and :math:`v = B m` kept current.

    Parameters
    ----------
    lu : tuple
        LU factors of :math:`I - W` (from :func:`scipy.linalg.lu_factor`); :math:`B` is
        formed from them once, :math:`\tfrac43 N^3` flops.
    m, w : ndarray (N,)
        Input and readout vectors.
    flush_every : int
        Number of rank-one corrections buffered before one GEMM adds them to the stored
        :math:`B^\top`.

    Notes
    -----
    Attributes ``u`` and ``v`` are the current :math:`B^\top w` and :math:`B m`; the true
    :math:`B` is the stored one plus ``X[:, :npend] @ Y[:, :npend].T``.

    >>> rng = np.random.default_rng(0)
    >>> n = 20
    >>> W = 0.3 * rng.standard_normal((n, n)) / np.sqrt(n)
    >>> m, w, a, b = rng.standard_normal((4, n))
    >>> inv = ShermanMorrisonInverse(sla.lu_factor(np.eye(n) - W), m, w, flush_every=4)
    >>> u, v = inv.u, inv.v
    >>> inv.add_rank_one(0.01, u, v)
    True
    >>> B = np.linalg.inv(np.eye(n) - (W + 0.01 * np.outer(u, v)))
    >>> bool(np.allclose(inv.v, B @ m) and np.allclose(inv.u, B.T @ w))
    True
    """

    def __init__(self, lu, m, w, flush_every: int):
        self.m, self.w = m, w
        n = m.shape[0]
        self.block = max(8, (1 << 17) // n)  # rows per block: ~1 MB of B stays in cache for both products
        self.X = np.zeros((n, flush_every), order="F")  # pending corrections: B_true = B + X @ Y.T
        self.Y = np.zeros((n, flush_every), order="F")
        self._reset(_inverse_transpose_from_lu(lu))

    def _reset(self, BT):
        self.BT = BT  # B^T = (I - W)^-T, C-contiguous
        self.npend = 0
        self.v = self.m @ BT  # B m
        self.u = BT @ self.w  # B^T w

    def refresh(self, W) -> None:
        """Recompute :math:`B` by a fresh LU and inverse of :math:`I - W`, :math:`O(N^3)`."""
        n = W.shape[0]
        self._reset(_inverse_transpose_from_lu(sla.lu_factor(np.eye(n) - W, check_finite=False)))

    def add_rank_one(self, c: float, u, v) -> bool:
        r"""Update for :math:`W \leftarrow W + c\,uv^\top` (``u``, ``v`` the current ``self.u``, ``self.v``).

        Returns False, leaving the state unchanged, when :math:`1 - c\,v^\top Bu \le 0`:
        :math:`\det(I - W)` would change sign (a real eigenvalue of W crosses 1).
        Cost :math:`O(N^2)` (one pass over :math:`B`, plus :math:`O(N\,\text{flush\_every})`).
        """
        X, Y, npend = self.X, self.Y, self.npend
        # B u and v^T B with the pending corrections (one blocked pass over B)
        vB, Bu = _both_products(self.BT, v, u, self.block)  # (B^T v, B u) in one pass over BT
        if npend:
            Bu += X[:, :npend] @ (Y[:, :npend].T @ u)
            vB += Y[:, :npend] @ (X[:, :npend].T @ v)
        den = 1.0 - c * (v @ Bu)
        if not den > 0:
            return False
        alpha = c / den
        # new u, v from the Sherman-Morrison formula (no extra mat-vec):
        # B' m = v + alpha Bu (vB . m),  B'^T w = u + alpha vB (Bu . w)
        self.v = v + alpha * Bu * (vB @ self.m)
        self.u = u + alpha * vB * (Bu @ self.w)
        X[:, npend] = alpha * Bu
        Y[:, npend] = vB
        npend += 1
        if npend == X.shape[1]:
            # B += X Y^T in place (BLAS dgemm on the Fortran-ordered view B = BT.T)
            sla.blas.dgemm(1.0, X, Y, beta=1.0, c=self.BT.T, trans_b=True, overwrite_c=True)
            npend = 0
        self.npend = npend
        return True
