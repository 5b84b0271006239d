r"""Element-wise kernels of the recurrent-network steps: a table-based float64 :func:`tanh_into`.

NumPy's float64 ``tanh`` calls the scalar C library on CPUs without AVX-512 (about
15 ns per element, as long as the (B×N)·(N×N) product of the same time step), so in
float64 it is evaluated here from a table and the addition theorem

.. math::
    \tanh(x) = \frac{\tanh(kh) + \tanh(r)}{1 + \tanh(kh)\tanh(r)},\qquad
    k = \operatorname{round}(x/h),\quad r = x - kh,\quad |r|\le h/2,

with :math:`h = 2^{-8}`, :math:`\tanh(kh)` tabulated for :math:`|kh|\le 20` (beyond,
:math:`\tanh = \pm1` to double precision: :math:`1-\tanh 20 \approx 8\cdot10^{-18}`) and
:math:`\tanh r = r - r^3/3 + 2r^5/15 + O(r^7)` (the next term is below
:math:`17/315\cdot 2^{-63}\approx 6\cdot10^{-21}`).  :math:`r` is exact (``x*2^8`` and
its rounding are exact), so the result is within a few units in the last place of the
correctly rounded value (tests: at most 4 ulp against NumPy's ``tanh``).  Cost: 16
vectorised passes, about half of ``np.tanh`` on such CPUs.  float32 uses ``np.tanh``
(vectorised in NumPy).
"""
from __future__ import annotations

import numpy as np

__all__ = ["tanh_into"]

_H = 256.0                       # 1/h, a power of two so that x/h and r are exact
_K = int(20 * _H)                # table covers k = -_K .. _K
_TABLE = np.tanh(np.arange(-_K, _K + 1) / _H)
# tanh(r) with r = s/_H, |s| <= 1/2, as s (c1 + u (c3 + u c5)), u = s^2
_C1 = 1.0 / _H
_C3 = -1.0 / (3.0 * _H**3)
_C5 = 2.0 / (15.0 * _H**5)


def _scratch(work: dict, key: str, shape, dtype):
    a = work.get(key)
    if a is None or a.shape != shape or a.dtype != dtype:
        a = work[key] = np.empty(shape, dtype)
    return a


def tanh_into(x: np.ndarray, out: np.ndarray, work: dict) -> np.ndarray:
    r"""``out[...] = tanh(x)``; ``work`` (a dict) keeps the scratch buffers between calls.

    float64: the table method of the module docstring (a few ulp; NaN stays NaN,
    ±inf gives ±1); other dtypes: ``np.tanh``.  ``out`` may be ``x`` (in place).
    Cost :math:`O(n)` for n elements.

    >>> import numpy as np
    >>> x = np.linspace(-30, 30, 10001)
    >>> y = tanh_into(x, np.empty_like(x), {})
    >>> bool(np.all(np.abs(y - np.tanh(x)) <= 4 * np.spacing(np.abs(np.tanh(x)))))
    True
    """
    if x.dtype != np.float64:
        return np.tanh(x, out=out)
    shape = x.shape
    s = _scratch(work, "s", shape, np.float64)
    k = _scratch(work, "k", shape, np.float64)
    p = _scratch(work, "p", shape, np.float64)
    idx = _scratch(work, "idx", shape, np.intp)
    np.multiply(x, _H, out=s)
    np.clip(s, -_K, _K, out=s)       # |x| > 20: tanh(±20) = ±1 in double; NaN stays NaN
    np.rint(s, out=k)
    np.subtract(s, k, out=s)         # s = (x - k h)/h, exact, |s| <= 1/2
    with np.errstate(invalid="ignore"):  # NaN -> arbitrary index, clipped; the NaN in s survives
        np.add(k, _K, out=idx, casting="unsafe")
    np.take(_TABLE, idx, out=k, mode="clip")  # k now holds tanh(k h)
    np.multiply(s, s, out=out)       # u
    np.multiply(out, _C5, out=p)
    p += _C3
    p *= out
    p += _C1
    p *= s                           # p = tanh(r)
    np.multiply(k, p, out=s)
    s += 1.0                         # 1 + tanh(kh) tanh(r)
    np.add(k, p, out=out)
    out /= s
    return out
