r"""Large-N moment rules for products of :math:`B = (I - W_0)^{-1}` and :math:`B^\top` (R3, R4).

Setting: :math:`W_0 = gJ` with i.i.d. :math:`J_{ij} \sim \mathcal N(0, 1/N)` and
:math:`0 \le g < 1`.  We write :math:`\varphi(M) = \lim_N \frac1N \operatorname{tr} M` and
:math:`\beta = 1/(1-g^2)`.  Words in ``B`` and ``T`` (``T`` stands for :math:`B^\top`)
name products, e.g. ``"BTBT"`` is :math:`BB^\top BB^\top`.

Two independent routes give :math:`\varphi` of a word:

1. **Counting (series route, R3).**  :math:`B = \sum_k W_0^k`, so :math:`\varphi` of a word
   is a power series in :math:`g^2`.  The coefficient of :math:`g^{2n}` is the number of
   non-crossing pairings that match every :math:`W_0` with a :math:`W_0^\top`
   (circular-element moments), summed over all ways to distribute :math:`2n` letters over
   the factors.  sympy interpolates that coefficient as a polynomial in :math:`n` (checked at
   extra points) and sums the series (geometric series plus :math:`x\,d/dx`).
2. **Schwinger–Dyson (closed route).**  Gaussian integration by parts with
   :math:`dB = g\,B\,dJ\,B` gives, at large N, for any word ``X`` ending in ``T``,
   :math:`\varphi(BX) = \beta\,\varphi(X) + (\beta-1)\sum \varphi(B X_1 T)\,\varphi(T X_2)`
   over the splits :math:`X = X_1 T X_2` with non-empty :math:`X_2`.  Every moment is an
   integer polynomial in :math:`\beta`; cost :math:`O(L^2)` per word of length :math:`L`,
   memoised over canonical forms (cyclic rotations and transposition).

The two routes agree (checked in :func:`derivations` and in the tests), and the
finite-N traces agree with both (``tests/theory/test_random_matrix.py``).
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import sympy as sp

from .derivation import Check, Derivation
from .errors import check_gain

__all__ = [
    "g", "beta_sym", "x", "n",
    "phi", "phi_beta_coeffs", "count_noncrossing", "series_coefficients",
    "moment_series", "MOMENT_RULES", "beta", "speedup", "offset_variance", "derivations",
]

g = sp.Symbol("g", nonnegative=True)
beta_sym = sp.Symbol("beta", positive=True)
x = sp.Symbol("x", positive=True)  # x = g**2
n = sp.Symbol("n", integer=True, nonnegative=True)

#: The moment rules of the spec (R3): word -> what it is used for.
MOMENT_RULES = {
    "B": "only k = 0 survives",
    "BT": "|Bm|^2 = beta |m|^2, |B^T w|^2 = beta |w|^2, Var z0",
    "BTT": "tr dW at second order",
    "BTBT": "third-order terms",
    "BBTT": "variance of w^T B^2 m",
}


def _check_word(word: str) -> str:
    word = word.replace(" ", "")
    if any(c not in "BT" for c in word):
        raise ValueError(f"word {word!r} must consist of the letters 'B' (B) and 'T' (B^T)")
    return word


def _transpose(word: str) -> str:
    return "".join("T" if c == "B" else "B" for c in reversed(word))


def _canonical(word: str) -> str:
    cands = []
    for w in (word, _transpose(word)):
        cands.extend(w[i:] + w[:i] for i in range(max(len(w), 1)))
    return min(cands)


# ---------------------------------------------------------------- route 2: Schwinger-Dyson
def _padd(a, b):
    out = [0] * max(len(a), len(b))
    for i, c in enumerate(a):
        out[i] += c
    for i, c in enumerate(b):
        out[i] += c
    return out


def _pmul(a, b):
    out = [0] * (len(a) + len(b) - 1)
    for i, ca in enumerate(a):
        if ca:
            for j, cb in enumerate(b):
                out[i + j] += ca * cb
    return out


@lru_cache(maxsize=None)
def _phi_canon(word: str) -> tuple:
    if "B" not in word or "T" not in word:
        return (1,)  # phi(B^k) = phi(B^T^k) = 1: only the identity term survives
    L = len(word)
    # rotate so that the word starts with B and ends with T
    i = next(i for i in range(L) if word[i] == "B" and word[i - 1] == "T")
    r = word[i:] + word[:i]
    X = r[1:]
    res = _pmul([0, 1], list(phi_beta_coeffs(X)))  # beta * phi(X)
    acc = [0]
    for j, ch in enumerate(X[:-1]):
        if ch == "T":
            acc = _padd(acc, _pmul(list(phi_beta_coeffs("B" + X[:j] + "T")),
                                   list(phi_beta_coeffs("T" + X[j + 1:]))))
    res = _padd(res, _pmul([-1, 1], acc))  # + (beta - 1) * acc
    while len(res) > 1 and res[-1] == 0:
        res.pop()
    return tuple(res)


def phi_beta_coeffs(word: str) -> tuple:
    r"""Integer coefficients :math:`(c_0, c_1, \dots)` of :math:`\varphi(\text{word}) = \sum_k c_k\beta^k`.

    Schwinger–Dyson route (see module docstring); memoised.

    >>> phi_beta_coeffs("BT"), phi_beta_coeffs("BTT"), phi_beta_coeffs("BBTT")
    ((0, 1), (0, 0, 1), (0, 0, -1, 2))
    """
    return _phi_canon(_canonical(_check_word(word)))


def phi(word: str, *, in_beta: bool = False):
    r"""Large-N normalised trace of a word in ``B`` and ``T`` (= :math:`B^\top`), as sympy.

    Returned in terms of :data:`g` (default) or of :data:`beta_sym` (``in_beta=True``).

    >>> phi("BTBT")
    (g**2 - 1)**(-4)
    >>> phi("BBTT", in_beta=True)
    2*beta**3 - beta**2
    """
    coeffs = phi_beta_coeffs(word)
    expr = sum(c * beta_sym**k for k, c in enumerate(coeffs))
    expr = sp.sympify(expr)
    return expr if in_beta else sp.factor(expr.subs(beta_sym, 1 / (1 - x))).subs(x, g**2)


# ---------------------------------------------------------------- route 1: counting pairings
@lru_cache(maxsize=None)
def count_noncrossing(letters: str) -> int:
    r"""Number of non-crossing pairings of ``letters`` (``W`` = :math:`W_0`, ``T`` = :math:`W_0^\top`)
    that match every ``W`` with a ``T``.  Interval DP, :math:`O(L^3)`.

    This is the large-N value of :math:`\varphi` of the word for a circular :math:`J`
    (times :math:`g^{L}`).  For :math:`(JJ^\top)^n` it is the Catalan number.

    >>> [count_noncrossing("WT" * k) for k in range(6)]
    [1, 1, 2, 5, 14, 42]
    >>> count_noncrossing("WWTT"), count_noncrossing("WTWW")
    (1, 0)
    """
    L = len(letters)
    if L == 0:
        return 1
    if L % 2 or letters.count("W") != letters.count("T"):
        return 0
    first = letters[0]
    total = 0
    for k in range(1, L, 2):
        if letters[k] != first:
            total += count_noncrossing(letters[1:k]) * count_noncrossing(letters[k + 1:])
    return total


def _compositions(total: int, parts: int):
    for cuts in itertools.combinations(range(total + parts - 1), parts - 1):
        prev = -1
        out = []
        for c in cuts:
            out.append(c - prev - 1)
            prev = c
        out.append(total + parts - 1 - prev - 1)
        yield out


def series_coefficients(word: str, nmax: int) -> list:
    r"""Coefficients :math:`c_n` of :math:`\varphi(\text{word}) = \sum_n c_n g^{2n}`, n = 0..nmax,
    by counting non-crossing pairings over all exponent distributions.

    Cost grows like :math:`\binom{2n+k-1}{k-1} n^3` for a word of k factors (keep n small).

    >>> series_coefficients("BTT", 4)
    [1, 2, 3, 4, 5]
    """
    word = _check_word(word)
    k = len(word)
    out = []
    for nn in range(nmax + 1):
        if k == 0:
            out.append(1 if nn == 0 else 0)
            continue
        c = 0
        for exps in _compositions(2 * nn, k):
            nW = sum(e for e, f in zip(exps, word) if f == "B")
            if 2 * nW != 2 * nn:
                continue
            c += count_noncrossing("".join(("W" if f == "B" else "T") * e for e, f in zip(exps, word)))
        out.append(c)
    return out


@lru_cache(maxsize=None)
def _geometric_sum():
    r"""sympy sums :math:`\sum_{n=0}^{K} x^n` and drops the tail :math:`x^{K+1} \to 0` (0 <= x < 1)."""
    K = sp.Symbol("K", integer=True, positive=True)
    s = sp.summation(x**n, (n, 0, K))
    if isinstance(s, sp.Piecewise):  # keep the generic branch x != 1
        s = next(e for e, cond in s.args if not isinstance(cond, sp.Eq))
    return sp.cancel(s.subs(x ** (K + 1), 0))


@lru_cache(maxsize=None)
def moment_series(word: str):
    r"""Series route for :math:`\varphi(\text{word})`: returns ``(c0, term, closed)``.

    ``term`` is the coefficient of :math:`g^{2n}` for :math:`n \ge 1` as a polynomial in
    :data:`n`, interpolated from counted pairings and verified at two extra points; ``closed``
    is :math:`c_0 + \sum_{n\ge1} \text{term}\,x^n` summed by sympy (geometric series and the
    operator :math:`x\,d/dx`), with :math:`x = g^2`.

    >>> c0, term, closed = moment_series("BTT")
    >>> term, sp.factor(closed)
    (n + 1, (x - 1)**(-2))
    """
    word = _check_word(word)
    k = len(word)
    npts = k + 1  # the coefficient has degree <= k - 1 in n; k + 1 points + 2 checks
    coeffs = series_coefficients(word, npts + 2)
    term = sp.expand(sp.interpolate([(i, coeffs[i]) for i in range(1, npts + 1)], n))
    for i in (npts + 1, npts + 2):
        if term.subs(n, i) != coeffs[i]:  # pragma: no cover - would mean a wrong degree bound
            raise ArithmeticError(f"coefficients of phi({word}) are not a polynomial of degree < {npts}")
    poly = sp.Poly(term, n)
    geo = _geometric_sum()
    closed = sp.Integer(coeffs[0])
    op = geo - 1  # sum_{n >= 1} x^n
    for j in range(max(poly.degree(), -1) + 1):
        closed += poly.coeff_monomial(n**j) * op
        op = sp.together(x * sp.diff(op, x))
    return sp.Integer(coeffs[0]), term, sp.factor(closed)


def beta(gv):
    r""":math:`\beta = \varphi(BB^\top) = 1/(1-g^2)` (float for a number, sympy for a symbol).

    >>> beta(0.5)
    1.3333333333333333
    >>> beta(1.0)
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.DomainError: g = 1.0 is outside the valid range 0 <= g < 1 of this large-N formula (B = (I - g J)^-1 only exists for g < 1)
    """
    check_gain(gv)
    expr = phi("BT")
    if isinstance(gv, sp.Basic) and not gv.is_number:
        return expr.subs(g, gv)
    return float(expr.subs(g, sp.nsimplify(gv)) if isinstance(gv, sp.Basic) else 1.0 / (1.0 - float(gv) ** 2))


@lru_cache(maxsize=None)
def _speedup_expr():
    # G(0) = |B^T w|^2 |B m|^2 -> (|w|^2 phi(B B^T)) (|m|^2 phi(B^T B)),  |w|^2 |m|^2 = 1
    pw, pm = sp.symbols("p_w p_m", positive=True)
    G0 = (pw * phi("BT", in_beta=True)) * (pm * phi("TB", in_beta=True))
    return sp.factor(G0.subs(pm, 1 / pw).subs(beta_sym, 1 / (1 - x))).subs(x, g**2)


_SPEEDUP_NUMPY = None


def speedup(gv):
    r"""Speed-up :math:`G(0) = \|B^\top w\|^2\|Bm\|^2 \to \beta^2 = 1/(1-g^2)^2` (R4).

    Derived from the moment rule :math:`\varphi(BB^\top)`; a sympy symbol gives a sympy
    expression, a number gives a float (numpy arrays are evaluated elementwise).
    Raises :class:`~rnn_theory.theory.errors.DomainError` unless :math:`0 \le g < 1`.

    >>> speedup(sp.Symbol("g"))
    (g**2 - 1)**(-2)
    >>> round(speedup(0.6), 12)
    2.44140625
    """
    expr = _speedup_expr()
    if isinstance(gv, sp.Basic) and not gv.is_number:
        check_gain(gv)
        return expr.subs(g, gv)
    import numpy as np

    if np.ndim(gv) == 0:
        check_gain(gv)  # keeps the caller's spelling of g in the message
    arr = np.asarray(gv, dtype=float) if not isinstance(gv, sp.Basic) else np.asarray(float(gv))
    for v in np.ravel(arr):
        check_gain(float(v))
    if isinstance(gv, sp.Basic):
        return float(expr.subs(g, gv))
    global _SPEEDUP_NUMPY
    if _SPEEDUP_NUMPY is None:
        from .backends import numpy_function

        _SPEEDUP_NUMPY = numpy_function([g], expr)
    out = _SPEEDUP_NUMPY(arr)
    return float(out) if np.ndim(out) == 0 else np.asarray(out, dtype=float)


def offset_variance(word: str):
    r"""Finite-N variance of :math:`w^\top M m` for the word M, :math:`\|w\|\|m\| = 1`.

    For independent isotropic w, m:
    :math:`E[(w^\top M m)^2] = \|w\|^2\|m\|^2\,\tfrac1{N^2}\operatorname{tr}(MM^\top)
    \to \varphi(MM^\top)/N`.  Returns :math:`N\cdot\mathrm{Var}` as a function of
    :math:`\beta` (so the offset :math:`z_0 = w^\top Bm` has std :math:`\sqrt{\beta/N}`).

    >>> offset_variance("B"), offset_variance("BB")
    (beta, 2*beta**3 - beta**2)
    """
    word = _check_word(word)
    return sp.expand(phi(word + _transpose(word), in_beta=True))


@lru_cache(maxsize=None)
def derivations() -> list:
    """R3 moment rules (both routes) and R4 speed-up, with their symbolic checks."""
    out = []
    xg = {x: g**2}
    for word, use in MOMENT_RULES.items():
        c0, term, closed = moment_series(word)
        sd_x = phi(word, in_beta=True).subs(beta_sym, 1 / (1 - x))
        # expand the SD polynomial in beta with beta = sum_n x^n (truncated) and compare
        geo = [1] * 4
        sd_series = [0] * 4
        for k, c in enumerate(phi_beta_coeffs(word)):
            pw = [1, 0, 0, 0]
            for _ in range(k):
                pw = [sum(pw[i] * geo[j - i] for i in range(j + 1)) for j in range(4)]
            sd_series = [a + c * b for a, b in zip(sd_series, pw)]
        checks = [
            Check("series route (counted non-crossing pairings, summed by sympy) equals "
                  "Schwinger-Dyson route", sp.cancel(closed - sd_x) == 0),
            Check("SD series coefficients equal counted pairings for n <= 3",
                  sd_series == series_coefficients(word, 3)),
        ]
        readable = " ".join("B^T" if c == "T" else "B" for c in word)
        out.append(Derivation(
            f"R3.phi({word})",
            f"phi({readable}) = {c0} + sum_(n>=1) ({term}) g^(2n) (large N, 0 <= g < 1; {use})",
            sp.factor(closed).subs(xg), checks))
    # Catalan numbers as a sanity check of the pairing counter
    cat = [count_noncrossing("WT" * k) for k in range(8)]
    out.append(Derivation(
        "R3.catalan",
        "phi((J J^T)^k) counts non-crossing pairings = Catalan(k) (free circular element)",
        sp.catalan(sp.Symbol("k")),
        [Check("counts for k = 0..7 equal sympy catalan(k)", cat == [sp.catalan(k) for k in range(8)])]))
    v1, v2 = offset_variance("B"), offset_variance("BB")
    out.append(Derivation(
        "R3.offsets", "finite-N offsets (isotropic w, m; |w||m| = 1): N Var(w^T B m) = phi(BB^T), "
        "N Var(w^T B^2 m) = phi(B^2 B^T^2)", {"N Var z0": v1, "N Var w^T B^2 m": v2},
        [Check("std z0 = sqrt(beta/N)", sp.expand(v1 - beta_sym) == 0),
         Check("N Var(w^T B^2 m) = 2 beta^3 - beta^2 = (1+g^2)/(1-g^2)^3",
               sp.cancel(v2.subs(beta_sym, 1 / (1 - g**2)) - (1 + g**2) / (1 - g**2) ** 3) == 0)]))
    sp_expr = _speedup_expr()
    out.append(Derivation(
        "R4.speedup",
        "G(0) = |B^T w|^2 |B m|^2 -> |w|^2|m|^2 phi(BB^T)^2 = beta^2 (large N, |w||m| = 1)",
        sp_expr,
        [Check("equals 1/(1-g^2)^2", sp.simplify(sp_expr - 1 / (1 - g**2) ** 2) == 0),
         Check("beta = phi(BB^T) = 1/(1-g^2)", sp.simplify(phi("BT") - 1 / (1 - g**2)) == 0)]))
    return out
