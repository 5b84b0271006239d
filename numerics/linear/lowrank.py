r"""Singular values of a growing sum of rank-one matrices, :math:`\Delta W = \sum_k c_k u_k v_k^\top`.

Training adds one rank-one term per step; :class:`LowRankSum` keeps the sum in factored form
so that its singular values cost :math:`O(k^3)` (k = rank of the span) instead of an
:math:`O(N^3)` SVD.
"""
from __future__ import annotations

import numpy as np

__all__ = ["LowRankSum"]


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
