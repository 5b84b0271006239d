r"""Large-N moments of words mixing :math:`B`, :math:`B^\top` and the resolvent :math:`R(\lambda) = (\lambda - W_0)^{-1}`.

Letters: ``B`` = :math:`B = (1 - W_0)^{-1}`, ``T`` = :math:`B^\top`, ``R`` =
:math:`R(\lambda) = (\lambda - W_0)^{-1}`, ``S`` = :math:`R(\lambda)^\top`.  All four are
resolvents :math:`R_\mu = (\mu - W_0)^{-1}` (``B``, ``R``: "holomorphic", :math:`\mu = 1,
\lambda`) or their transposes (``T``, ``S``).  :math:`W_0 = gJ`, :math:`J_{ij}\sim\mathcal N(0,1/N)`,
:math:`x = g^2`, and :math:`|\lambda| > g` (outside the bulk).

**Schwinger–Dyson route** (closed form).  From :math:`R_\mu = \mu^{-1}(I + W_0R_\mu)` and
Gaussian integration by parts, :math:`\varphi(W_0Y) = g^2\sum_{Y = Y_1 S_\nu Y_2}
\varphi(Y_1S_\nu)\,\varphi(S_\nu Y_2)` at large N (only derivatives of the transposed
resolvents survive: :math:`\partial S_\nu/\partial W_{ij} = S_\nu e_j e_i^\top S_\nu`).  For a
word :math:`R_\mu X` whose last letter is a transposed resolvent :math:`S_\nu` this gives

.. math:: \varphi(R_\mu X)\Bigl(1 - \frac{x}{\mu\nu}\Bigr) = \frac1\mu\Bigl[\varphi(X)
          + x\!\!\sum_{X = X_1S_{\nu'}X_2,\;X_2\ne\emptyset}\!\!\varphi(R_\mu X_1S_{\nu'})\,\varphi(S_{\nu'}X_2)\Bigr],

and a word of holomorphic letters only has :math:`\varphi = \prod_i \mu_i^{-1}`
(:math:`\varphi(W_0^k) = 0`, k ≥ 1).  Every value is a rational function of
:math:`(x, \lambda)`; memoised over cyclic rotations and transposition, cost
:math:`O(L^2)` field operations per new word of length L.  At :math:`\lambda = 1` it reduces to
the ``B``/``T`` rule of :mod:`rnn_theory.theory.random_matrix` (checked).

**Series route** (independent check).  :math:`R(\lambda) = \sum_k W_0^k\lambda^{-k-1}`,
:math:`B = \sum_k W_0^k`; the coefficient of :math:`x^n` counts the non-crossing pairings
of :func:`rnn_theory.theory.random_matrix.count_noncrossing` over all exponent distributions.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.fields import field

from .. import random_matrix as rm

__all__ = ["lam", "xg", "phi_mixed", "phi_mixed_field", "series_route", "sd_series", "transpose_word"]

lam = sp.Symbol("lambda")
xg = sp.Symbol("x", positive=True)  # x = g^2

_F, _X, _L = field([xg, lam], QQ)
_HOLO = {"B": "T", "R": "S"}
_ANTI = {"T": "B", "S": "R"}
_SWAP = {"B": "T", "T": "B", "R": "S", "S": "R"}


def _mu(letter):
    return _F.one if letter in "BT" else _L


def _check(word: str) -> str:
    word = word.replace(" ", "")
    if any(c not in "BTRS" for c in word):
        raise ValueError(f"word {word!r} must consist of the letters B, T (B^T), R (R(lambda)), S (R(lambda)^T)")
    return word


def transpose_word(word: str) -> str:
    """The word of the transposed product (reverse, and B <-> T, R <-> S).

    >>> transpose_word("BRT")
    'BST'
    """
    return "".join(_SWAP[c] for c in reversed(word))


def _canonical(word: str) -> str:
    cands = []
    for w in (word, transpose_word(word)):
        cands.extend(w[i:] + w[:i] for i in range(max(len(w), 1)))
    return min(cands)


@lru_cache(maxsize=None)
def _phi_canon(word: str):
    holo = [c in _HOLO for c in word]
    if all(holo) or not any(holo):
        out = _F.one
        for c in word:
            out = out / _mu(c)
        return out
    L = len(word)
    i = next(i for i in range(L) if holo[i] and not holo[i - 1])  # starts holomorphic, ends transposed
    r = word[i:] + word[:i]
    h, X = r[0], r[1:]
    mu, nu = _mu(h), _mu(X[-1])
    acc = phi_mixed_field(X)
    for j, ch in enumerate(X[:-1]):
        if ch in _ANTI:
            acc += _X * phi_mixed_field(h + X[: j + 1]) * phi_mixed_field(X[j:])
    return acc / mu / (1 - _X / (mu * nu))


def phi_mixed_field(word: str):
    """:math:`\\varphi(\\text{word})` as an element of the field :math:`\\mathbb{Q}(x, \\lambda)` (memoised)."""
    return _phi_canon(_canonical(_check(word)))


def phi_mixed(word: str):
    r"""Large-N normalised trace of a word in ``B``, ``T``, ``R``, ``S`` (sympy, in :data:`xg` = g², :data:`lam`).

    >>> sp.cancel(phi_mixed("RT") * (lam - xg))   # phi(R B^T) = 1/(lambda - g^2)
    1
    >>> sp.cancel(phi_mixed("TRB") * (lam - xg) * (1 - xg))
    1
    """
    return sp.factor(phi_mixed_field(word).as_expr())


def series_route(word: str, nmax: int):
    r"""Coefficients of :math:`x^n` (n ≤ ``nmax``) of :math:`\varphi(\text{word})` by counting pairings.

    Returns a list of sympy polynomials in :math:`y = 1/\lambda`.  Cost grows like the
    number of exponent distributions of :math:`2n` letters over the word (keep n ≤ 3).
    """
    word = _check(word)
    y = sp.Symbol("y")
    k = len(word)
    out = []
    for nn in range(nmax + 1):
        tot = sp.Integer(0)
        # each letter takes e_i >= 0 factors; holomorphic ones W0, transposed ones W0^T
        for exps in rm._compositions(2 * nn, k) if k else [[]]:
            if sum(e for e, c in zip(exps, word) if c in _HOLO) != nn:
                continue
            cnt = rm.count_noncrossing("".join(("W" if c in _HOLO else "T") * e for e, c in zip(exps, word)))
            if cnt:
                tot += cnt * sp.Mul(*[y ** (e + 1) for e, c in zip(exps, word) if c in "RS"])
        if k == 0:
            tot = sp.Integer(1 if nn == 0 else 0)
        out.append(sp.expand(tot))
    return out


def sd_series(word: str, nmax: int):
    """Taylor coefficients in x of the Schwinger–Dyson value, as polynomials in y = 1/lambda.

    Power-series division of numerator by denominator in x (exact rational arithmetic).
    """
    y = sp.Symbol("y")
    num, den = sp.fraction(sp.cancel(phi_mixed(word).subs(lam, 1 / y)))
    pn, pd = sp.Poly(num, xg), sp.Poly(den, xg)
    p = [pn.coeff_monomial(xg**k) for k in range(nmax + 1)]
    q = [pd.coeff_monomial(xg**k) for k in range(nmax + 1)]
    out = []
    for k in range(nmax + 1):
        ck = sp.cancel((p[k] - sum(q[j] * out[k - j] for j in range(1, k + 1))) / q[0])
        out.append(sp.expand(ck))
    return out
