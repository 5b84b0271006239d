r"""Reparameterisation and metric of fixed-point learning (Zhu & Rosenbaum 2024), derived in sympy.

**1-D case.**  The linear unit :math:`r = g(wr + x)` settles to :math:`r^* = a x` with
:math:`a = (g^{-1} - w)^{-1}` (solved, not typed in).  :math:`a` has a pole at
:math:`w = 1/g` and a plateau (:math:`a \to 0`, :math:`da/dw \to 0`) as :math:`w \to -\infty`;
:math:`da/dw = a^2`, so the Euclidean metric on :math:`a` pulls back to
:math:`a^4\,dw^2` and gradient descent under it is

.. math:: \Delta w = -\eta\,(a^4)^{-1}\,\frac{dJ}{dw} = -\eta\,(g^{-1} - w)^2\,\frac{dJ}{da}.

**Linear N-D case** (on symbolic 2×2 matrices; :math:`G = I`): :math:`dA = A\,dW\,A`;
the dW2 step :math:`W' = I - (A - \eta D)^{-1}` has first-order term :math:`-\eta\,MDM`
(:math:`M = I - W = A^{-1}`), which is dW3, with a non-zero :math:`\eta^2` term
:math:`-\eta^2 MDMDM`; dW3 is the gradient under :math:`\langle U, V\rangle_W =
\langle AUA, AVA\rangle_F`.  **Nonlinear:** :math:`(I - WG)^\top G(I - W^\top G)^{-1} = G`,
the identity behind :math:`dW_3 = P\nabla Q`.

Every result is a :class:`~rnn_theory.theory.derivation.Derivation` with symbolic checks; the 1-D
closed forms are also available as numeric functions (:func:`numeric`, numpy or mpmath
backend).

>>> d = {x.key: x for x in derivations()}
>>> d["Z1.dadw"].expr
a**2
>>> all(x.ok for x in derivations())
True
>>> numeric("a", "numpy")(0.5, 1.0)   # a(w = 1/2, g = 1)
2.0
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .derivation import Check, Derivation

__all__ = ["derivations", "one_dimensional", "linear_matrix_identities", "nonlinear_identity", "numeric"]

w, g, x, r, eta = sp.symbols("w g x r eta", real=True)
a_sym = sp.Symbol("a", real=True)
Sxx, Sxy, Syy = sp.symbols("S_xx S_xy S_yy", positive=True)


def _zero(e) -> bool:
    return sp.simplify(sp.expand(e)) == 0


def _mzero(M) -> bool:
    return all(sp.cancel(sp.together(e)) == 0 for e in M)


@lru_cache(maxsize=None)
def one_dimensional() -> dict:
    r"""1-D derivation; returns sympy objects keyed by name.

    ``a`` (fixed-point gain), ``pole`` (:math:`w` where :math:`a` diverges), ``dadw``
    (in terms of :math:`a`), ``metric`` (:math:`(da/dw)^2` in terms of :math:`a`),
    ``loss`` (:math:`J(a) = a^2S_{xx} - 2aS_{xy} + S_{yy}`, the mean-square loss in its
    sufficient statistics), ``dJdw``, ``update_euclid``, ``update_metric``, ``a_star``,
    ``w_star``.
    """
    g_pos = sp.Symbol("g", positive=True)
    # fixed point of r = g (w r + x): solve, then a = r*/x
    r_star = sp.solve(sp.Eq(r, g * (w * r + x)), r)[0]
    a = sp.simplify(r_star / x)
    pole = sp.solve(sp.denom(sp.together(a)), w)
    dadw = sp.diff(a, w)
    dadw_in_a = sp.simplify(dadw.subs(w, sp.solve(sp.Eq(a_sym, a), w)[0]))
    metric_w = sp.simplify(dadw ** 2)                     # pulled-back metric coefficient of dw^2
    metric_in_a = sp.simplify(metric_w.subs(w, sp.solve(sp.Eq(a_sym, a), w)[0]))
    J = a_sym ** 2 * Sxx - 2 * a_sym * Sxy + Syy
    dJda = sp.diff(J, a_sym)
    dJdw = sp.diff(J.subs(a_sym, a), w)                   # chain rule done by sympy
    update_euclid = -eta * dJdw
    update_metric = sp.simplify(-eta * dJdw / metric_w)   # steepest descent under a^4 dw^2
    a_star = sp.solve(dJda, a_sym)[0]
    w_star = sp.solve(sp.Eq(a, a_star), w)[0]
    lim_left = sp.limit(a.subs(g, g_pos), w, 1 / g_pos, "-")
    lim_right = sp.limit(a.subs(g, g_pos), w, 1 / g_pos, "+")
    plateau_a = sp.limit(a.subs(g, g_pos), w, -sp.oo)
    plateau_dadw = sp.limit(dadw.subs(g, g_pos), w, -sp.oo)
    plateau_J = sp.limit(J.subs(a_sym, a).subs(g, g_pos), w, -sp.oo)
    return {
        "a": a, "pole": pole, "dadw": dadw, "dadw_in_a": dadw_in_a, "metric": metric_w,
        "metric_in_a": metric_in_a, "loss": J, "dJda": dJda, "dJdw": dJdw,
        "update_euclid": update_euclid, "update_metric": update_metric, "a_star": a_star,
        "w_star": w_star, "lim_left": lim_left, "lim_right": lim_right, "plateau_a": plateau_a,
        "plateau_dadw": plateau_dadw, "plateau_J": plateau_J,
    }


def _mat(name, n=2, m=None):
    m = n if m is None else m
    return sp.Matrix(n, m, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


@lru_cache(maxsize=None)
def linear_matrix_identities() -> dict:
    r"""Linear N-D identities on 2×2 symbolic matrices (:math:`G = I`).

    Returns ``dA`` (the derivative of :math:`A(W + \epsilon\,dW)` at :math:`\epsilon = 0`),
    ``dW2_first`` / ``dW2_second`` (Taylor coefficients of the dW2 step in :math:`\eta`),
    and the matrices used to check them.
    """
    n = 2
    I = sp.eye(n)
    W, dW, D, U, V = _mat("w"), _mat("dw"), _mat("d"), _mat("u"), _mat("v")
    eps = sp.Symbol("epsilon", real=True)
    A = (I - W).inv()
    A_eps = (I - W - eps * dW).inv()
    dA = A_eps.diff(eps).subs(eps, 0)
    # dW2: A' = A - eta D, W' = I - A'^{-1}; Taylor coefficients in eta at 0
    Am = _mat("a")                                   # generic invertible A, M = A^{-1}
    M = Am.inv()
    W_new = I - M - (Am - eta * D).inv() + M         # W' - W with W = I - M
    first = W_new.diff(eta).subs(eta, 0)
    second = (W_new.diff(eta, 2) / 2).subs(eta, 0)
    # dW3 written without inverse: (2/m)(X - M R) X^T M equals M D M with D = (2/m)(A X - R) X^T
    X, R = _mat("x", n, 1), _mat("rhat", n, 1)
    msym = sp.Symbol("m", positive=True)
    D_data = 2 / msym * (Am * X - R) * X.T
    dW3_noinv = 2 / msym * (X - M * R) * X.T * M
    # metric: <U, V>_W = <A U A, A V A>_F; gradient dW1 = A^T D A^T
    inner = lambda P, Q: (P.T * Q).trace()  # noqa: E731
    grad_w = Am.T * D * Am.T
    dW3 = M * D * M
    return {"A": A, "dA": dA, "W": W, "dW": dW, "D": D, "Am": Am, "M": M, "first": first,
            "second": second, "D_data": D_data, "dW3_noinv": dW3_noinv, "U": U, "V": V,
            "metric_UV": inner(Am * U * Am, Am * V * Am), "grad_w": grad_w, "dW3": dW3,
            "metric_dW3_V": inner(Am * dW3 * Am, Am * V * Am), "euclid_grad_V": inner(grad_w, V)}


@lru_cache(maxsize=None)
def nonlinear_identity() -> dict:
    r""":math:`(I - WG)^\top G (I - W^\top G)^{-1}` for symbolic 2×2 :math:`W` and diagonal :math:`G`."""
    W = _mat("w")
    G = sp.diag(*sp.symbols("g_1 g_2", positive=True))
    I = sp.eye(2)
    lhs = (I - W * G).T * G * (I - W.T * G).inv()
    return {"lhs": lhs.applyfunc(sp.cancel), "G": G}


def derivations() -> list[Derivation]:
    """All derived results of this module with their symbolic checks."""
    o = one_dimensional()
    lin = linear_matrix_identities()
    nl = nonlinear_identity()
    a = o["a"]
    out = [
        Derivation("Z1.a", "1-D fixed point r = g(w r + x) gives r* = a x with a = (1/g - w)^-1", a,
                   [Check("a equals (1/g - w)^-1", _zero(a - 1 / (1 / g - w))),
                    Check("r* = a x satisfies the fixed-point equation", _zero(a * x - g * (w * a * x + x)))]),
        Derivation("Z1.pole", "a has a single pole at w = 1/g (a -> +oo from the left, -oo from the right)",
                   o["pole"],
                   [Check("pole at w = 1/g", o["pole"] == [1 / g]),
                    Check("a -> +oo as w -> 1/g from below", o["lim_left"] == sp.oo),
                    Check("a -> -oo as w -> 1/g from above", o["lim_right"] == -sp.oo)]),
        Derivation("Z1.plateau", "plateau as w -> -oo: a -> 0, da/dw -> 0, J -> S_yy = mean(y^2)",
                   {"a": o["plateau_a"], "da/dw": o["plateau_dadw"], "J": o["plateau_J"]},
                   [Check("a -> 0", o["plateau_a"] == 0), Check("da/dw -> 0", o["plateau_dadw"] == 0),
                    Check("J -> S_yy", o["plateau_J"] == Syy)]),
        Derivation("Z1.dadw", "da/dw = a^2 (differentiated, then written in terms of a)", o["dadw_in_a"],
                   [Check("da/dw - a(w)^2 = 0", _zero(o["dadw"] - a ** 2)),
                    Check("expressed in a: a**2", _zero(o["dadw_in_a"] - a_sym ** 2))]),
        Derivation("Z1.metric", "Euclidean metric da^2 pulled back to w: (da/dw)^2 dw^2 = a^4 dw^2",
                   o["metric_in_a"],
                   [Check("coefficient equals a^4", _zero(o["metric_in_a"] - a_sym ** 4)),
                    Check("metric coefficient = (da/dw)^2 vanishes on the plateau (w -> -oo)",
                          sp.limit(o["metric"].subs(g, 1), w, -sp.oo) == 0)]),
        Derivation("Z1.update", "gradient descent under a^4 dw^2: dw = -eta (1/g - w)^2 dJ/da; "
                   "Euclidean: dw = -eta a^2 dJ/da", {"metric": o["update_metric"], "euclid": o["update_euclid"]},
                   [Check("metric update = -eta (1/g - w)^2 dJ/da",
                          _zero(o["update_metric"] - (-eta * (1 / g - w) ** 2 * o["dJda"].subs(a_sym, a)))),
                    Check("Euclidean update = -eta a^2 dJ/da (chain rule)",
                          _zero(o["update_euclid"] + eta * a ** 2 * o["dJda"].subs(a_sym, a))),
                    Check("metric update equals gradient descent on a mapped back to first order",
                          _zero(sp.diff(a, w) * o["update_metric"] + eta * o["dJda"].subs(a_sym, a)))]),
        Derivation("Z1.minimiser", "minimiser a* = S_xy / S_xx, w* = 1/g - 1/a*", {"a*": o["a_star"], "w*": o["w_star"]},
                   [Check("dJ/da = 0 at a*", _zero(o["dJda"].subs(a_sym, o["a_star"]))),
                    Check("w* = 1/g - 1/a*", _zero(o["w_star"] - (1 / g - 1 / o["a_star"])))]),
        Derivation("Z2.dA", "linear N-D (2x2 symbolic, G = I): dA = A dW A", lin["dA"],
                   [Check("d/deps (I - W - eps dW)^-1 at 0 equals A dW A",
                          _mzero(lin["dA"] - lin["A"] * lin["dW"] * lin["A"]))]),
        Derivation("Z2.dW3", "dW2 step W' = I - (A - eta D)^-1 = W - eta M D M - eta^2 M D M D M + O(eta^3), "
                   "M = A^-1: dW3 = M D M is its first-order term, so ||dW2 - dW3|| = O(eta^2)",
                   {"first": lin["first"], "second": lin["second"]},
                   [Check("first-order coefficient = -M D M",
                          _mzero(lin["first"] + lin["M"] * lin["D"] * lin["M"])),
                    Check("second-order coefficient = -M D M D M (non-zero)",
                          _mzero(lin["second"] + lin["M"] * lin["D"] * lin["M"] * lin["D"] * lin["M"])
                          and not _mzero(lin["second"]))]),
        Derivation("Z2.dW3_noinverse", "dW3 needs no inverse: (2/m)(X - M R) X^T M = M D M with "
                   "D = (2/m)(A X - R) X^T", lin["dW3_noinv"],
                   [Check("identity on symbolic 2x2 A and 2x1 X, R",
                          _mzero(lin["dW3_noinv"] - lin["M"] * lin["D_data"] * lin["M"]))]),
        Derivation("Z2.metric", "dW3 is the gradient under <U, V>_W = <A U A, A V A>_F "
                   "(Euclidean metric on A pulled back through dA = A dW A)", lin["metric_UV"],
                   [Check("<dW3, V>_W = <A^T D A^T, V>_F = <grad_W J, V>_F for all V",
                          _zero(sp.cancel(lin["metric_dW3_V"] - lin["euclid_grad_V"])))]),
        Derivation("Z3.nonlinear", "(I - W G)^T G (I - W^T G)^-1 = G, hence dW3 = P grad Q with "
                   "P = (I-WG)(I-WG)^T, Q = (I-GW)^T(I-GW)", nl["lhs"],
                   [Check("identity on symbolic 2x2 W, diagonal G", _mzero(nl["lhs"] - nl["G"]))]),
    ]
    return out


def numeric(name: str, backend: str = "numpy"):
    """Numeric function of the 1-D closed forms: ``"a"`` (w, g), ``"dadw"`` (w, g),
    ``"update_metric"`` (w, g, eta, S_xx, S_xy, S_yy) via lambdify (``"numpy"`` or ``"mpmath"``).

    >>> import mpmath
    >>> mpmath.mp.dps = 30
    >>> numeric("dadw", "mpmath")(mpmath.mpf(1) / 3, 1)
    mpf('2.25')
    """
    o = one_dimensional()
    if backend not in ("numpy", "mpmath"):
        raise ValueError(f"backend must be 'numpy' or 'mpmath', got {backend!r}")
    if name in ("a", "dadw"):
        return sp.lambdify((w, g), sp.nsimplify(o[name]), modules=backend)
    if name == "update_metric":
        return sp.lambdify((w, g, eta, Sxx, Sxy, Syy), o[name], modules=backend)
    raise ValueError(f"unknown closed form {name!r}; choose 'a', 'dadw' or 'update_metric'")
