r"""Picard iteration of the large-N gradient flow in the word algebra (R6 and higher orders).

:math:`\Delta W = \int_0^\tau \varepsilon\,u_W v_W^\top` with
:math:`B_W = B + B\Delta W B + B\Delta W B\Delta W B + \dots`, iterated from
:math:`\Delta W = 0`; after k rounds the series is exact through :math:`\tau^k`
(:math:`z_0 \to 0`).  :func:`_series_polys` then reads off the scalar curves.

>>> sorted(_flow_series(1))  # dW = zhat tau u0 v0^T at first order
[(('w', 'T'), ('m', 'B'))]
"""
from __future__ import annotations

from functools import lru_cache

from .word_algebra import (_M0, _W0, _ZH, _BW_apply, _gram_quantities, _integrate_tau, _sq_norm, _trace,
                           _trunc, _vdot)

__all__: list = []


def _flow_series(K):
    """Picard iteration dW_{k} = int_0^tau eps u v^T, exact through tau^k after k rounds."""
    dW = {}
    for k in range(1, K + 1):
        u = _BW_apply(dW, _W0, k - 1, transpose=True)
        v = _BW_apply(dW, _M0, k - 1)
        eps = _trunc(_ZH - _vdot(("w", ""), v, k - 1), k - 1)
        new = {}
        for a, cu in u.items():
            for b, cv in v.items():
                val = _trunc(eps * cu * cv, k - 1)
                if val:
                    new[(a, b)] = _integrate_tau(val)
        dW = new
    return dW


@lru_cache(maxsize=None)
def _series_polys(K, K_e2):
    r"""Series through :math:`\tau^K` of the flow's scalars, as ring elements over :math:`\tau`.

    Keys: ``dW`` (the low-rank series matrix), ``u``, ``v`` (:math:`u_W`, :math:`v_W`),
    ``z``, ``nu``, ``nv`` (:math:`\|u_W\|^2`, :math:`\|v_W\|^2`), ``G``, ``trace``,
    ``norm2`` (:math:`\|\Delta W\|_F^2` through :math:`\tau^{K+1}`) and ``e2`` (sum of squared
    2×2 minors through :math:`\tau^{K_{e2}}`).  Cost: polynomial arithmetic on a number of
    atoms that grows with K (well under a second at K = 3).  Treat the result as read-only.
    """
    dW = _flow_series(K)
    u = _BW_apply(dW, _W0, K, transpose=True)
    v = _BW_apply(dW, _M0, K)
    nu, nv = _sq_norm(u, K), _sq_norm(v, K)
    norm2, e2 = _gram_quantities(dW, K + 1, K_e2)
    return {"dW": dW, "u": u, "v": v, "z": _vdot(("w", ""), v, K), "nu": nu, "nv": nv,
            "G": _trunc(nu * nv, K), "trace": _trace(dW, K), "norm2": norm2, "e2": e2}
