r"""The non-commutative word algebra behind the τ̃-series (R6): vectors and low-rank matrices over atoms.

Vectors are linear combinations of "atoms" ``(base, word)``: the vector ``word . base``,
with base ``'w'`` or ``'m'`` and word a product of ``B`` and ``T`` (= :math:`B^\top`),
e.g. ``('w', 'T')`` is :math:`B^\top w = u_0` and ``('m', 'TB')`` is :math:`B^\top B m`.
A low-rank matrix is a dict ``(left atom, right atom) -> coefficient`` meaning
:math:`\sum c\,\ell r^\top`.  Inner products of atoms use the large-N rules
:math:`w^\top M m \to 0`, :math:`w^\top M w \to \|w\|^2\varphi(M)`,
:math:`m^\top M m \to \|m\|^2\varphi(M)`.  Coefficients live in the polynomial ring
:math:`\mathbb{Q}[\tau, \hat z, \beta, p_w, p_m]` (every moment is a polynomial in
:math:`\beta`); ``K`` arguments truncate at :math:`\tau^K`.

>>> _inner(("w", "T"), ("w", "T"))  # |B^T w|^2 -> beta |w|^2
beta*p_w
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from .. import random_matrix as rm
from .symbols import beta, p_m, p_w, tau, zhat

__all__: list = []

_R, _TAU, _ZH, _BE, _PW, _PM = ring([tau, zhat, beta, p_w, p_m], QQ)

_W0 = {("w", ""): _R.one}
_M0 = {("m", ""): _R.one}


@lru_cache(maxsize=None)
def _inner(a, b):
    """Large-N inner product of two atoms (a ring element)."""
    (ba, wa), (bb, wb) = a, b
    if ba != bb:
        return _R.zero
    coeffs = rm.phi_beta_coeffs(rm._transpose(wa) + wb)
    val = _R.zero
    for k, c in enumerate(coeffs):
        if c:
            val += c * _BE**k
    return val * (_PW if ba == "w" else _PM)

def _trunc(poly, K):
    r"""Drop the terms of ``poly`` above :math:`\tau^K`."""
    return _R.from_dict({m: c for m, c in poly.items() if m[0] <= K})

def _apply(letter, vec):
    """Left-multiply every atom of ``vec`` by ``B`` (letter ``'B'``) or ``B^T`` (``'T'``)."""
    return {(b, letter + w): c for (b, w), c in vec.items()}

def _add_into(out, key, val):
    """``out[key] += val`` in place, dropping keys whose coefficient cancels."""
    if val:
        new = out.get(key, _R.zero) + val
        if new:
            out[key] = new
        else:
            out.pop(key, None)

def _vdot(atom, vec, K):
    r"""Inner product of an atom with a vector, truncated at :math:`\tau^K`."""
    s = _R.zero
    for a, c in vec.items():
        ip = _inner(atom, a)
        if ip:
            s += ip * c
    return _trunc(s, K)

def _matvec(M, vec, K, transpose=False):
    r"""``M vec`` (or ``M^T vec``) for a low-rank matrix ``M``, truncated at :math:`\tau^K`."""
    out = {}
    for (aL, aR), c in M.items():
        s = _vdot(aL if transpose else aR, vec, K)
        if s:
            _add_into(out, aR if transpose else aL, _trunc(c * s, K))
    return out

def _BW_apply(M, vec, K, transpose=False):
    """B_W vec = sum_k (B dW)^k B vec (or the transpose), truncated at tau^K."""
    letter = "T" if transpose else "B"
    term = _apply(letter, vec)
    total = dict(term)
    for _ in range(K):
        term = _apply(letter, _matvec(M, term, K, transpose))
        if not term:
            break
        for k, v in term.items():
            _add_into(total, k, v)
    return total

def _integrate_tau(poly):
    r""":math:`\int_0^\tau` of a polynomial in :math:`\tau`."""
    return _R.from_dict({(m[0] + 1,) + m[1:]: c / (m[0] + 1) for m, c in poly.items()})


def _sq_norm(vec, K):
    r"""Squared norm of a vector, truncated at :math:`\tau^K`."""
    s = _R.zero
    for a, ca in vec.items():
        for b, cb in vec.items():
            s += ca * cb * _inner(a, b)
    return _trunc(s, K)


def _trace(M, K):
    r"""Trace of a low-rank matrix, :math:`\sum c\,r^\top\ell`, truncated at :math:`\tau^K`."""
    trace = _R.zero
    for (a, b), c in M.items():
        trace += c * _inner(b, a)
    return _trunc(trace, K)


def _order(M, k):
    """Coefficient matrix of tau^k in the series matrix M."""
    out = {}
    for key, c in M.items():
        d = {m[1:]: cc for m, cc in c.items() if m[0] == k}
        if d:
            out[key] = _R.from_dict({(0,) + m: cc for m, cc in d.items()})
    return out


def _to_expr(poly):
    """A ring element as a sympy expression."""
    return poly.as_expr()


def _gram_quantities(dW, K_norm, K_e2):
    """|dW|_F^2 (to tau^K_norm) and e2 = sum of squared 2x2 minors of dW (to tau^K_e2)."""
    left = sorted({k[0] for k in dW})
    right = sorted({k[1] for k in dW})
    li = {a: i for i, a in enumerate(left)}
    ri = {a: i for i, a in enumerate(right)}
    C = [[_R.zero] * len(right) for _ in left]
    for (a, b), c in dW.items():
        C[li[a]][ri[b]] = c
    Ga = [[_inner(a, b) for b in left] for a in left]
    Gb = [[_inner(a, b) for b in right] for a in right]

    def mm(X, Y, K):
        return [[_trunc(sum((X[i][k] * Y[k][j] for k in range(len(Y)) if X[i][k] and Y[k][j]), _R.zero), K)
                 for j in range(len(Y[0]))] for i in range(len(X))]

    CT = [list(r) for r in zip(*C)]
    P = mm(mm(mm(CT, Ga, K_e2), C, K_e2), Gb, K_e2)  # P = C^T Ga C Gb; tr P = |dW|_F^2
    trP = sum((P[i][i] for i in range(len(P))), _R.zero)
    trP2 = sum((P[i][k] * P[k][i] for i in range(len(P)) for k in range(len(P))), _R.zero)
    e2 = _trunc((trP * trP - trP2) / 2, K_e2)
    return _trunc(trP, K_norm), e2


def _atom_vector_name(a):
    """LaTeX name of an atom, e.g. ``\\left(B^{\\top} w\\right)``."""
    base, word = a
    txt = " ".join(["B^{\\top}" if c == "T" else "B" for c in word] + [base])
    return f"\\left({txt}\\right)"


def _atom_matrix_expr(M):
    """A coefficient matrix (no tau) as a sympy sum of non-commutative outer products of atoms."""
    return sum((_to_expr(c).subs(tau, 1) * sp.Symbol(_atom_vector_name(a), commutative=False)
                * sp.Symbol(_atom_vector_name(b) + "^{\\top}", commutative=False) for (a, b), c in M.items()),
               sp.Integer(0))
