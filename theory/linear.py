r"""Linear RNN trained at its fixed point: rank-one gradient, learning ODE, solutions (R1, R2, R4–R7).

Model (spec ``linear_theory.md``): readout at the fixed point
:math:`z = w^\top (I-W)^{-1} m = w^\top B_W m`, loss :math:`L = \tfrac12(\hat z - z)^2`,
:math:`W = W_0 + \Delta W`, :math:`W_0 = gJ`, :math:`\|w\|\|m\| = 1`,
:math:`u_W = B_W^\top w`, :math:`v_W = B_W m`, :math:`\varepsilon = \hat z - z`,
:math:`G = \|u_W\|^2\|v_W\|^2`, :math:`\beta = 1/(1-g^2)`.  Time :math:`\tau = \eta\cdot`steps
(gradient-flow time) and the effective time :math:`\tilde\tau = \beta^2\tau`.

Every closed form here is derived by sympy (``dsolve``, ``integrate``, ``solve``, series
solution of the flow); the spec's target formulas only appear in the checks.  Numeric
functions are the derived expressions ``lambdify``-ed on exact rationals.

Public functions: :func:`speedup`, :func:`first_order`, :func:`third_order`,
:func:`shuffle_loss_ratio`, :func:`convergence_time`, :func:`final_dw_norm`,
:func:`mean_gradient`, :func:`derivations`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import random_matrix as rm
from .backends import numpy_function
from .derivation import Check, Derivation
from .errors import DomainError, check_finite, check_gain, check_real

__all__ = [
    "speedup", "first_order", "third_order", "shuffle_loss_ratio", "convergence_time",
    "final_dw_norm", "mean_gradient", "first_order_solution", "third_order_series",
    "series_solution", "series_curves", "curve_function", "shuffle_derivation", "gradient_derivation", "identities_derivation", "readout_gradient",
    "derivations",
]

# symbols shared by the derivations
g = rm.g
beta = rm.beta_sym
tau = sp.Symbol("tau", nonnegative=True)
tau_t = sp.Symbol("tautilde", nonnegative=True)  # effective time beta^2 tau (LaTeX: \tilde\tau)
zhat = sp.Symbol("zhat", positive=True)  # target; odd/even symmetry handles zhat < 0
z0 = sp.Symbol("z_0", real=True)
p_w, p_m = sp.symbols("p_w p_m", positive=True)  # |w|^2, |m|^2 (with p_w p_m = 1)

_BETA_OF_G = rm.phi("BT")  # beta = phi(B B^T) = 1/(1 - g^2), from the moment rules


# ============================================================================ input checks
def _gain(gv):
    if isinstance(gv, sp.Basic) and not gv.is_number:
        return gv
    check_gain(gv)
    return float(gv)


def _zhat(zv):
    return check_real("zhat", zv)


def _tau(tv, name="tau"):
    arr = check_finite(name, np.asarray(tv, dtype=float))
    if np.any(arr < 0):
        raise DomainError(f"{name} must be >= 0 (learning time starts at 0); got min {arr.min()!r}")
    return arr


# ============================================================================ R4 speed-up
def speedup(gv):
    r"""Speed-up :math:`G(0) \to \beta^2 = 1/(1-g^2)^2` of learning at initialisation (R4).

    Derived in :mod:`rnn_theory.theory.random_matrix` from :math:`\varphi(BB^\top)`.  A sympy symbol
    stays symbolic; a number gives a float.  :math:`|g| \ge 1` raises
    :class:`~rnn_theory.theory.errors.DomainError`.

    >>> speedup(0.6)
    2.44140625
    >>> speedup(sp.Symbol("g"))
    (g**2 - 1)**(-2)
    >>> speedup(1)
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.DomainError: g = 1 is outside the valid range 0 <= g < 1 of this large-N formula (B = (I - g J)^-1 only exists for g < 1)
    """
    return rm.speedup(gv)


# ============================================================================ R5 first order
@lru_cache(maxsize=None)
def first_order_solution() -> dict:
    r"""Derive the frozen-B solution (R5).  Returns a dict of sympy expressions.

    With :math:`u = u_0`, :math:`v = v_0` frozen, :math:`G \equiv \|u_0\|^2\|v_0\|^2 \to \beta^2`
    and sympy ``dsolve``-s :math:`dz/d\tau = (\hat z - z)\beta^2`, :math:`z(0) = z_0`.
    Keys: ``z``, ``loss``, ``int_eps`` (:math:`\int_0^\tau\varepsilon`), ``dw_norm``,
    ``dw_norm_final``, ``tau_c``, ``tau_tilde_c``, ``mean_grad``, ``mean_grad_coeff``,
    ``G`` and the large-N pieces.
    """
    zf = sp.Function("z")
    G0 = sp.factor((p_w * rm.phi("BT", in_beta=True)) * (p_m * rm.phi("TB", in_beta=True))).subs(p_m, 1 / p_w)
    ode = sp.Eq(zf(tau).diff(tau), (zhat - zf(tau)) * G0)
    z_sol = sp.expand(sp.dsolve(ode, zf(tau), ics={zf(0): z0}, hint="1st_linear").rhs)
    z_sol = zhat + sp.factor(z_sol - zhat)  # zhat + (z0 - zhat) exp(-beta^2 tau)
    s = sp.Symbol("s", nonnegative=True)
    int_eps = sp.factor(sp.expand(sp.integrate((zhat - z_sol).subs(tau, s), (s, 0, tau))))
    # dW = int_eps * u0 v0^T exactly (rank one); |dW|_F = |int_eps| |u0| |v0|
    norm_u0 = sp.sqrt(p_w * rm.phi("BT", in_beta=True))  # |B^T w| -> sqrt(beta) |w|
    norm_v0 = sp.sqrt(p_m * rm.phi("TB", in_beta=True))  # |B m|   -> sqrt(beta) |m|
    dw_norm = sp.factor((int_eps * norm_u0 * norm_v0).subs(p_m, 1 / p_w))
    dw_final = sp.limit(dw_norm.subs(z0, 0), tau, sp.oo)
    loss = (zhat - z_sol) ** 2 / 2
    L0 = zhat**2 / 2
    tc = sp.Symbol("tau_c", positive=True)
    tau_c = sp.solve(sp.Eq(loss.subs(z0, 0).subs(tau, tc) / L0, sp.Rational(1, 20)), tc)
    tau_c = sp.simplify(tau_c[0])
    grad_norm = (zhat - z_sol.subs(z0, 0)) * norm_u0 * norm_v0  # |eps| |u0||v0|, eps > 0
    mean_grad = sp.simplify((sp.integrate(grad_norm.subs(tau, s), (s, 0, tau_c)) / tau_c).subs(p_m, 1 / p_w))
    return {
        "G": G0, "z": z_sol, "loss": loss, "int_eps": int_eps, "dw_norm": dw_norm,
        "dw_norm_final": dw_final, "tau_c": tau_c, "tau_tilde_c": sp.cancel(tau_c * beta**2),
        "mean_grad": mean_grad, "mean_grad_coeff": sp.cancel(mean_grad / (zhat * beta)),
    }


@lru_cache(maxsize=None)
def _first_order_numpy():
    sol = first_order_solution()
    z = sol["z"].subs(z0, 0)
    args = [tau, zhat, beta]
    return {
        "z": numpy_function(args, z),
        "loss": numpy_function(args, sol["loss"].subs(z0, 0)),
        "dw_norm": numpy_function(args, sol["dw_norm"].subs(z0, 0)),
    }


def first_order(gv, zhat_value, tau_values, *, tilde: bool = False) -> dict:
    r"""First-order (frozen-B) learning curve, N → ∞, :math:`z_0 = 0` (R5).

    :math:`z = \hat z(1 - e^{-\tilde\tau})`, :math:`L = \tfrac12\hat z^2 e^{-2\tilde\tau}`,
    :math:`\|\Delta W\|_F = z/\beta` (:math:`\Delta W` exactly rank one), with
    :math:`\tilde\tau = \beta^2\tau`.  Valid for :math:`\hat z^2\beta \ll 1` (see
    :func:`third_order` for the first correction).  Cost :math:`O(T)`.

    Parameters
    ----------
    gv : float
        Gain, :math:`0 \le g < 1` (else :class:`~rnn_theory.theory.errors.DomainError`).
    zhat_value : float
        Target :math:`\hat z` (any sign).
    tau_values : array_like
        Learning times :math:`\tau = \eta\cdot\text{steps} \ge 0` (or :math:`\tilde\tau` if
        ``tilde=True``).

    Returns
    -------
    dict of numpy arrays
        ``tau``, ``tau_tilde``, ``z``, ``loss``, ``dw_norm`` and ``s1`` (= ``dw_norm``).

    >>> out = first_order(0.0, 1.0, [0.0, np.log(2)])
    >>> out["z"], out["dw_norm"]
    (array([0. , 0.5]), array([0. , 0.5]))
    >>> first_order(1.2, 1.0, [0.0])
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.DomainError: g = 1.2 is outside the valid range 0 <= g < 1 of this large-N formula (B = (I - g J)^-1 only exists for g < 1)
    """
    gf = _gain(gv)
    zf = _zhat(zhat_value)
    t = _tau(tau_values, "tau_tilde" if tilde else "tau")
    b = 1.0 / (1.0 - gf**2)
    tt = t if tilde else b**2 * t
    tphys = tt / b**2
    fns = _first_order_numpy()
    za = abs(zf)
    z = np.sign(zf) * fns["z"](tphys, za, b) * np.ones_like(tt)
    loss = fns["loss"](tphys, za, b) * np.ones_like(tt)
    dwn = fns["dw_norm"](tphys, za, b) * np.ones_like(tt)
    return {"tau": tphys, "tau_tilde": tt, "z": z, "loss": loss, "dw_norm": dwn, "s1": dwn.copy()}


def _scalar_of_g(key, gv, zhat_value=None):
    sol = first_order_solution()
    expr = sol[key]
    if isinstance(gv, sp.Basic) and not gv.is_number:
        out = expr.subs(beta, 1 / (1 - gv**2))
        return out if zhat_value is None else out.subs(zhat, zhat_value)
    gf = _gain(gv)
    vals = {beta: sp.nsimplify(1 / (1 - sp.nsimplify(gf) ** 2))}
    if zhat_value is not None:
        zf = _zhat(zhat_value) if not isinstance(zhat_value, sp.Basic) else zhat_value
        vals[zhat] = abs(sp.nsimplify(zf))
    return float(expr.subs(vals))


def convergence_time(gv):
    r""":math:`\tau_c = \ln(20)/(2\beta^2)`: first time with :math:`L < 0.05 L_0` at first order (R5).

    >>> round(convergence_time(0.0), 6)
    1.497866
    >>> convergence_time(sp.Symbol("g"))
    (1 - g**2)**2*log(20)/2
    """
    return _scalar_of_g("tau_c", gv)


def final_dw_norm(gv, zhat_value):
    r"""Final :math:`\|\Delta W\|_F = |\hat z|/\beta = |\hat z|(1-g^2)` at first order (R5).

    >>> final_dw_norm(0.5, 2.0)
    1.5
    """
    return _scalar_of_g("dw_norm_final", gv, zhat_value)


def mean_gradient(gv, zhat_value):
    r"""Average gradient norm over :math:`[0,\tau_c]`:
    :math:`\frac{2(1-20^{-1/2})}{\ln 20}\,|\hat z|\beta \approx 0.518\,|\hat z|/(1-g^2)` (R5).

    >>> round(mean_gradient(0.0, 1.0), 4)
    0.5183
    """
    return _scalar_of_g("mean_grad", gv, zhat_value)


# ============================================================================ R7 shuffle law
@lru_cache(maxsize=None)
def shuffle_derivation() -> dict:
    r"""Shuffle law via Sherman–Morrison with scalar overlaps (R7).

    :math:`(A - \kappa a b^\top)^{-1} = A^{-1} + \kappa A^{-1}ab^\top A^{-1}/(1-\kappa b^\top A^{-1}a)`
    is verified with non-commutative symbols; then
    :math:`z' = w^\top B'm + \kappa (w^\top B'u_0)(v_0^\top B'm)/(1-\kappa v_0^\top B'u_0)` with
    :math:`\kappa = \hat z/\beta^2` (converged first-order :math:`\Delta W`) and the large-N
    overlaps :math:`w^\top B'u_0 \to \|w\|^2\varphi(B'B^\top) = \|w\|^2`,
    :math:`v_0^\top B'm \to \|m\|^2`, :math:`v_0^\top B'u_0 \to 0`, :math:`w^\top B'm \to 0`.
    """
    # Sherman-Morrison with non-commutative symbols: A, Ai (= A^-1), column a, row bt
    A, Ai, a, bt = sp.symbols("A A_inv a b^T", commutative=False)
    kappa, sdot = sp.symbols("kappa s")  # s = b^T A^-1 a (scalar)
    inv = Ai + kappa * Ai * a * bt * Ai / (1 - kappa * sdot)
    prod = sp.expand((A - kappa * a * bt) * inv)
    prod = _nc_reduce(prod, {(A, Ai): 1, (bt, Ai, a): sdot})
    sm_ok = sp.simplify(prod - 1) == 0
    # scalar overlaps in the large-N limit
    kappa_v = sp.limit(first_order_solution()["int_eps"].subs(z0, 0), tau, sp.oo)  # zhat / beta^2
    phi_free = rm.phi("B") * rm.phi("T")  # freeness: phi(B' B^T) = phi(B') phi(B^T)
    wBu = p_w * phi_free
    vBm = p_m * phi_free
    vBu = 0  # mixes w and m: O(N^-1/2)
    wBm = 0  # finite-N offset, subtracted in the numerics
    z_shuf = sp.simplify((wBm + kappa_v * wBu * vBm / (1 - kappa_v * vBu)).subs(p_m, 1 / p_w))
    z_shuf_g = z_shuf.subs(beta, _BETA_OF_G)
    ratio = sp.factor(sp.expand(((zhat - z_shuf_g) / zhat) ** 2))
    return {"sherman_morrison_ok": sm_ok, "kappa": kappa_v, "z_shuffle": z_shuf,
            "z_shuffle_g": sp.factor(z_shuf_g), "ratio": ratio}


def _nc_reduce(expr, rules):
    """Rewrite products of non-commutative symbols with ``rules`` (tuple of factors -> value)."""
    expr = sp.expand(expr)
    changed = True
    while changed:
        changed = False
        terms = []
        for term in sp.Add.make_args(expr):
            c, nc = term.args_cnc()
            new_nc = list(nc)
            # expand powers of nc symbols
            flat = []
            for f in new_nc:
                if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp > 0:
                    flat.extend([f.base] * int(f.exp))
                else:
                    flat.append(f)
            done = False
            for pat, val in rules.items():
                L = len(pat)
                for i in range(len(flat) - L + 1):
                    if tuple(flat[i:i + L]) == pat:
                        flat = flat[:i] + ([val] if val != 1 else []) + flat[i + L:]
                        done = True
                        break
                if done:
                    break
            changed = changed or done
            cpart = sp.Mul(*c)
            ncp = [f for f in flat if not f.is_commutative]
            cp = [f for f in flat if f.is_commutative]
            terms.append(cpart * sp.Mul(*cp) * (sp.Mul(*ncp) if ncp else 1))
        expr = sp.expand(sp.Add(*terms))
    return expr


@lru_cache(maxsize=None)
def _shuffle_numpy():
    return numpy_function([g], shuffle_derivation()["ratio"])


def shuffle_loss_ratio(gv):
    r""":math:`L_\text{shuffle}/L_0 = (1-(1-g^2)^2)^2 = g^4(2-g^2)^2` (R7), derived by :func:`shuffle_derivation`.

    >>> shuffle_loss_ratio(0.5)
    0.19140625
    >>> shuffle_loss_ratio(sp.Symbol("g"))
    g**4*(g**2 - 2)**2
    """
    expr = shuffle_derivation()["ratio"]
    if isinstance(gv, sp.Basic) and not gv.is_number:
        return expr.subs(g, gv)
    if np.ndim(gv) == 0:
        check_gain(gv)
    arr = np.asarray(gv if not isinstance(gv, sp.Basic) else float(gv), dtype=float)
    for v in np.ravel(arr):
        check_gain(float(v))
    out = _shuffle_numpy()(arr)
    return float(out) if np.ndim(out) == 0 else np.asarray(out, dtype=float)


# ============================================================================ R6 series
# Vectors are linear combinations of "atoms" (base, word): the vector word . base, with
# base 'w' or 'm' and word a product of B and T (= B^T), e.g. ('w', 'T') = B^T w = u0 and
# ('m', 'TB') = B^T B m.  A low-rank matrix is a dict (left atom, right atom) -> coefficient
# meaning sum coeff * left right^T.  Inner products of atoms use the large-N rules:
# w^T M m -> 0, w^T M w -> |w|^2 phi(M), m^T M m -> |m|^2 phi(M).  Coefficients live in
# the polynomial ring QQ[tau, zhat, beta, p_w, p_m]; every moment is a polynomial in beta.
from sympy.polys.rings import ring as _ring  # noqa: E402
from sympy.polys.domains import QQ as _QQ  # noqa: E402

_R, _TAU, _ZH, _BE, _PW, _PM = _ring([tau, zhat, beta, p_w, p_m], _QQ)


@lru_cache(maxsize=None)
def _inner(a, b):
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
    return _R.from_dict({m: c for m, c in poly.items() if m[0] <= K})


def _apply(letter, vec):
    return {(b, letter + w): c for (b, w), c in vec.items()}


def _add_into(out, key, val):
    if val:
        new = out.get(key, _R.zero) + val
        if new:
            out[key] = new
        else:
            out.pop(key, None)


def _vdot(atom, vec, K):
    s = _R.zero
    for a, c in vec.items():
        ip = _inner(atom, a)
        if ip:
            s += ip * c
    return _trunc(s, K)


def _matvec(M, vec, K, transpose=False):
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
    return _R.from_dict({(m[0] + 1,) + m[1:]: c / (m[0] + 1) for m, c in poly.items()})


_W0 = {("w", ""): _R.one}
_M0 = {("m", ""): _R.one}


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


def _order(M, k):
    """Coefficient matrix of tau^k in the series matrix M."""
    out = {}
    for key, c in M.items():
        d = {m[1:]: cc for m, cc in c.items() if m[0] == k}
        if d:
            out[key] = _R.from_dict({(0,) + m: cc for m, cc in d.items()})
    return out


def _to_expr(poly):
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


@lru_cache(maxsize=None)
def third_order_series() -> dict:
    r"""Series solution of the flow through :math:`O(\tau^3)` using the moment rules (R6).

    Route: :math:`\Delta W = \tau X_1 + \tau^2 X_2 + \tau^3 X_3`, obtained by Picard iteration
    of :math:`\Delta W = \int_0^\tau \varepsilon\,u_W v_W^\top` with
    :math:`B_W = B + B\Delta W B + B\Delta W B\Delta W B + \dots`; every scalar is reduced with
    the large-N rules (:mod:`rnn_theory.theory.random_matrix`), :math:`z_0 \to 0`.  The second singular
    value comes from :math:`e_2 = s_1^2 s_2^2 + \dots` (sum of squared 2×2 minors, computed
    with second compounds of the Gram matrices, exact at :math:`O(\tau^8)` from
    :math:`X_1..X_3`).  Cost: polynomial arithmetic on ~10 atoms, well under a second.

    Returns a dict with sympy series in :data:`tau_t` (``z``, ``G``, ``dw_norm2``, ``s1``,
    ``s2``, ``trace_dw``, ``loss``), the checkpoints ``X1``, ``X2``, ``X3`` (as sympy
    expressions over atoms) and ``derivations``.
    """
    K = 3
    dW = _flow_series(K)
    u = _BW_apply(dW, _W0, K, transpose=True)
    v = _BW_apply(dW, _M0, K)
    z = _vdot(("w", ""), v, K)
    nu = _R.zero
    for a, ca in u.items():
        for b, cb in u.items():
            nu += ca * cb * _inner(a, b)
    nv = _R.zero
    for a, ca in v.items():
        for b, cb in v.items():
            nv += ca * cb * _inner(a, b)
    nu, nv = _trunc(nu, K), _trunc(nv, K)
    G = _trunc(nu * nv, K)
    trace = _R.zero
    for (a, b), c in dW.items():
        trace += c * _inner(b, a)
    trace = _trunc(trace, K)
    norm2, e2 = _gram_quantities(dW, K + 1, 8)

    ratio_uv = sp.simplify(_to_expr(nu) / _to_expr(nv))

    def final(expr):
        """p_m -> 1/p_w (|w||m| = 1), tau -> tau_tilde/beta^2; returns (expr, N-independent?)."""
        e = sp.expand(sp.sympify(expr).subs(p_m, 1 / p_w))
        indep = not e.has(p_w)
        e = e.subs(tau, tau_t / beta**2)
        return sp.expand(e), indep

    z_e, ok_z = final(_to_expr(z))
    G_e, ok_G = final(_to_expr(G))
    n2_e, ok_n2 = final(_to_expr(norm2))
    tr_e, ok_tr = final(_to_expr(trace))
    e2_e, ok_e2 = final(_to_expr(e2))
    # s2^2 = e2 / s1^2 at leading order; e2 = O(tau^8), s1^2 = O(tau^2)
    lead_n2 = sp.Poly(n2_e, tau_t).coeff_monomial(tau_t**2)
    e2_8 = sp.Poly(e2_e, tau_t).coeff_monomial(tau_t**8)
    e2_low = [sp.Poly(e2_e, tau_t).coeff_monomial(tau_t**k) for k in range(8)]
    s2_e = sp.sqrt(sp.factor(e2_8 / lead_n2)) * tau_t**3
    # s1 = sqrt(|dW|^2 - s2^2 - ...) = sqrt(|dW|^2) + O(tau^5): series of the square root
    h = sp.expand(n2_e / (lead_n2 * tau_t**2) - 1)
    s1_e = sp.expand(sp.sqrt(lead_n2) * tau_t * sp.series(sp.sqrt(1 + h), tau_t, 0, 3).removeO())
    s1_e = sp.expand(sum(s1_e.coeff(tau_t, k) * tau_t**k for k in range(1, 4)))
    loss_e = sp.expand((zhat - z_e) ** 2 / 2)

    X = {k: _order(dW, k) for k in (1, 2, 3)}

    def atom_expr(M):
        def vec(a):
            base, word = a
            txt = " ".join(["B^{\\top}" if c == "T" else "B" for c in word] + [base])
            return f"\\left({txt}\\right)"
        return sum((_to_expr(c).subs(tau, 1) * sp.Symbol(vec(a), commutative=False)
                    * sp.Symbol(vec(b) + "^{\\top}", commutative=False) for (a, b), c in M.items()),
                   sp.Integer(0))

    u0, v0 = ("w", "T"), ("m", "B")
    BtBm, BBtw = ("m", "TB"), ("w", "BT")
    nu0, nv0 = _inner(u0, u0), _inner(v0, v0)
    X1_target = {(u0, v0): _ZH}
    X2_target = {}
    _add_into(X2_target, (u0, v0), -_ZH * _BE**2 * _PW * _PM / 2)  # |w|^2|m|^2 = 1
    _add_into(X2_target, (BtBm, v0), _ZH**2 * nu0 / 2)
    _add_into(X2_target, (u0, BBtw), _ZH**2 * nv0 / 2)
    x3_term = X[3].get((BtBm, BBtw), _R.zero)
    u0X3v0 = _R.zero
    for (a, b), c in X[3].items():
        u0X3v0 += c * _inner(u0, a) * _inner(b, v0)
    u0X3v0_e = sp.expand(_to_expr(u0X3v0).subs(p_m, 1 / p_w))

    zt, b_ = zhat, beta
    T = tau_t
    targets = {
        "z": zt * (T - T**2 / 2 + T**3 / 6 * (1 + 8 * zt**2 * b_)),
        "G": b_**2 * (1 + 4 * zt**2 * b_ * T**2),
        "dw_norm2": (zt / b_) ** 2 * (T**2 - T**3 + T**4 * (sp.Rational(7, 12) + sp.Rational(7, 6) * zt**2 * b_)),
        "s1": (zt / b_) * (T - T**2 / 2 + T**3 / 6 * (1 + sp.Rational(7, 2) * zt**2 * b_)),
        "s2": zt**3 * T**3 / 12,
        "trace_dw": zt**2 * T**2 / b_,
    }

    def trunc_expr(e, k):
        return sp.expand(sum(sp.expand(e).coeff(tau_t, j) * tau_t**j for j in range(k + 1)))

    res = {"z": z_e, "G": G_e, "dw_norm2": n2_e, "s1": s1_e, "s2": s2_e, "trace_dw": tr_e, "loss": loss_e,
           "X1": atom_expr(X[1]), "X2": atom_expr(X[2]), "X3": atom_expr(X[3]),
           "u0_X3_v0": u0X3v0_e, "ratio_u_v": ratio_uv}
    ders = [
        Derivation("R6.checkpoints", "dW = tau X1 + tau^2 X2 + tau^3 X3 by Picard iteration of the flow "
                   "with B_W = B + B dW B + ... and the moment rules (large N, z0 -> 0)",
                   {"X1": res["X1"], "X2": res["X2"]},
                   [Check("X1 = zhat u0 v0^T", X[1] == X1_target),
                    Check("X2 = [-zhat beta^2 u0v0^T + zhat^2|u0|^2 (B^TBm) v0^T + zhat^2|v0|^2 u0 (BB^Tw)^T]/2",
                          X[2] == X2_target),
                    Check("X3 contains (1/3) zhat^3 |u0|^2|v0|^2 (B^TBm)(BB^Tw)^T",
                          x3_term == _ZH**3 * nu0 * nv0 / 3),
                    Check("u0^T X3 v0 = (zhat beta^6/2 + zhat^3 beta^7)/3",
                          sp.expand(u0X3v0_e - (zt * b_**6 / 2 + zt**3 * b_**7) / 3) == 0)]),
        Derivation("R6.z", "z(tau_tilde) to O(tau_tilde^4), large N, z0 -> 0", z_e,
                   [Check("independent of N (|w||m| = 1)", ok_z),
                    Check("target zhat[tt - tt^2/2 + tt^3/6 (1 + 8 zhat^2 beta)]",
                          sp.expand(z_e - targets["z"]) == 0)]),
        Derivation("R6.G", "learning gain G = |u_W|^2 |v_W|^2 to O(tau_tilde^3)", trunc_expr(G_e, 2),
                   [Check("independent of N", ok_G),
                    Check("|u_W|^2/|v_W|^2 = |w|^2/|m|^2 is conserved along the series", ratio_uv == p_w / p_m),
                    Check("target beta^2[1 + 4 zhat^2 beta tt^2] + O(tt^3)",
                          sp.expand(trunc_expr(G_e, 2) - targets["G"]) == 0)]),
        Derivation("R6.dw_norm2", "|dW|_F^2 to O(tau_tilde^5)", n2_e,
                   [Check("independent of N", ok_n2),
                    Check("target (zhat/beta)^2[tt^2 - tt^3 + tt^4(7/12 + 7/6 zhat^2 beta)]",
                          sp.expand(n2_e - targets["dw_norm2"]) == 0)]),
        Derivation("R6.s1", "top singular value s1 = sqrt(|dW|^2) + O(tt^5), to O(tt^4)", s1_e,
                   [Check("target (zhat/beta)[tt - tt^2/2 + tt^3/6 (1 + 7/2 zhat^2 beta)]",
                          sp.expand(s1_e - targets["s1"]) == 0)]),
        Derivation("R6.s2", "second singular value s2 = sqrt(e2/s1^2), first non-zero order", s2_e,
                   [Check("e2 = sum of squared 2x2 minors starts at tau^8", all(sp.simplify(c) == 0 for c in e2_low)),
                    Check("independent of N", ok_e2),
                    Check("target zhat^3 tt^3/12", sp.simplify(s2_e - targets["s2"]) == 0)]),
        Derivation("R6.trace_dw", "tr dW (= its one non-trivial eigenvalue) to O(tt^4)", tr_e,
                   [Check("independent of N", ok_tr),
                    Check("leading term zhat^2 tt^2/beta = zhat^2 beta^3 tau^2",
                          sp.expand(trunc_expr(tr_e, 2) - targets["trace_dw"]) == 0)]),
    ]
    res["derivations"] = ders
    res["targets_ok"] = all(d.ok for d in ders)
    return res


def third_order(gv, zhat_value, tau_values, *, tilde: bool = False, clip: bool = False) -> dict:
    r"""Third-order series in :math:`\tilde\tau` (R6): ``z``, ``G``, ``s1``, ``s2``, ``trace_dw``,
    ``dw_norm2``, ``loss`` (N → ∞, :math:`z_0 = 0`).  Cost :math:`O(T)`.

    Error :math:`O(\tilde\tau^4)`; use for :math:`\tilde\tau \lesssim 0.5`, or with ``clip=True``
    (the spec's Fig 3 convention): once :math:`z` first exceeds :math:`\hat z`, set
    :math:`z = \hat z`, :math:`L = 0` and freeze ``s1``, ``s2``, ``dw_norm2``, ``trace_dw``, ``G``.

    ``s2`` is the leading term :math:`\hat z^3\tilde\tau^3/12` only; its relative error is
    :math:`O(\tilde\tau)` (about -13 % at :math:`\tilde\tau = 0.1`, -22 % at 0.2 against the
    exact g = 0 solution).  :func:`series_curves` with ``order=5`` cuts that to -0.6 % / -4 %.

    Parameters are as in :func:`first_order` (``tau`` is :math:`\eta\cdot`steps, or
    :math:`\tilde\tau` with ``tilde=True``).

    >>> out = third_order(0.0, 1.0, [0.0, 0.1])
    >>> [round(float(v), 8) for v in out["z"]]  # 0.1 - 0.1**2/2 + 0.1**3 (1 + 8)/6
    [0.0, 0.0965]
    >>> float(out["s2"][1]) * 12 / 0.1**3
    1.0
    """
    return series_curves(gv, zhat_value, tau_values, order=3, tilde=tilde, clip=clip)


@lru_cache(maxsize=None)
def series_solution(order: int = 5) -> dict:
    r"""Series solution of the large-N flow through :math:`O(\tilde\tau^{\,order})` (extends R6).

    Same route as :func:`third_order_series` (Picard iteration over atoms with the moment
    rules) carried to ``order``; every returned series is exact through
    :math:`\tilde\tau^{\,order}` (``dw_norm2`` through :math:`\tilde\tau^{\,order+1}`):
    ``s2`` comes from :math:`e_2/s_1^2` (exact to relative order ``order - 3``) and ``s1``
    from :math:`s_1^2 = \|\Delta W\|^2 - e_2/\|\Delta W\|^2`.  With ``order = 3`` this is R6;
    ``order = 5`` removes the O(τ̃) relative error of the leading-order ``s2``.
    Cost grows quickly with ``order`` (about 0.1 s at 5, a few s at 7).

    >>> ser = series_solution(4)
    >>> sp.expand(ser["s2"] - third_order_series()["s2"])
    -tautilde**4*zhat**3/8
    """
    K = int(order)
    if K < 3:
        raise DomainError(f"order must be >= 3 (s2 first appears at tau^3), got {order!r}")
    dW = _flow_series(K)
    u = _BW_apply(dW, _W0, K, transpose=True)
    v = _BW_apply(dW, _M0, K)
    z = _vdot(("w", ""), v, K)

    def sq(vec):
        s = _R.zero
        for a, ca in vec.items():
            for b, cb in vec.items():
                s += ca * cb * _inner(a, b)
        return _trunc(s, K)

    G = _trunc(sq(u) * sq(v), K)
    trace = _R.zero
    for (a, b), c in dW.items():
        trace += c * _inner(b, a)
    trace = _trunc(trace, K)
    norm2, e2 = _gram_quantities(dW, K + 1, K + 5)

    # move to Q(zhat, beta)[tautilde]: p_w^a p_m^b -> 1 (a = b is checked), tau -> tt/beta^2
    from sympy.polys.fields import field

    Fd, F_zh, F_be = field([zhat, beta], _QQ)
    Rt, T = _ring([tau_t], Fd)

    def final(poly):
        out = Rt.zero
        for (i, jz, kb, a, b), c in poly.items():
            if a != b:  # pragma: no cover - would be a bug in the atom algebra
                raise ArithmeticError("series depends on N")
            out += Rt(Fd(c) * F_zh**jz * F_be ** (kb - 2 * i)) * T**i
        return out

    def trunc(p, k):
        return Rt.from_dict({m: c for m, c in p.items() if m[0] <= k})

    def shift(p, k):  # p / T^k for a polynomial divisible by T^k
        return Rt.from_dict({(m[0] - k,): c for m, c in p.items()})

    def compose(coeffs, h, k):  # sum_j coeffs[j] h^j, truncated at T^k (h = O(T))
        out, pw = Rt.zero, Rt.one
        for cj in coeffs:
            out += Rt(Fd(cj)) * pw
            pw = trunc(pw * h, k)
        return trunc(out, k)

    y = sp.Symbol("y")
    sqrt_c = [sp.series(sp.sqrt(1 + y), y, 0, K + 2).removeO().coeff(y, j) for j in range(K + 2)]
    inv_c = [(-1) ** j for j in range(K + 2)]  # 1/(1+y) (geometric series)

    def sqrt_series(p, lead, rel):  # sqrt(T^lead (c0 + ...)) to relative order rel; c0 is a square
        q = shift(p, lead)
        c0 = q.coeff(1) if hasattr(q, "coeff") else None
        c0 = dict(q.items()).get((0,), Fd.zero)
        h = trunc(q * Rt(1 / c0) - 1, rel)
        root = sp.sqrt(sp.factor(c0.as_expr()))
        return trunc(compose(sqrt_c[: rel + 1], h, rel), rel).as_expr() * root * tau_t ** sp.Rational(lead, 2)

    def ratio(pn, ln, pd, ld, rel):  # (T^ln N)/(T^ld D) as T^(ln-ld) * (series to relative order rel)
        qn, qd = shift(pn, ln), shift(pd, ld)
        d0 = dict(qd.items())[(0,)]
        k = trunc(qd * Rt(1 / d0) - 1, rel)
        inv = compose(inv_c[: rel + 1], k, rel) * Rt(1 / d0)
        return trunc(trunc(qn, rel) * inv, rel) * T ** (ln - ld)

    z_t, G_t, n2_t, tr_t, e2_t = (final(x) for x in (z, G, norm2, trace, e2))
    s2sq = ratio(e2_t, 8, n2_t, 2, K - 3)  # s2^2 = e2 / s1^2 (+ O(s3^2))
    s2_e = sp.expand(sqrt_series(s2sq, 6, K - 3))
    s1sq = trunc(n2_t - s2sq, K + 1)  # s1^2 = |dW|^2 - s2^2 - ...
    s1_e = sp.expand(sqrt_series(s1sq, 2, K - 1))
    z_e = sp.expand(trunc(z_t, K).as_expr())
    return {"order": K, "z": z_e, "G": sp.expand(trunc(G_t, K).as_expr()),
            "dw_norm2": sp.expand(trunc(n2_t, K + 1).as_expr()),
            "trace_dw": sp.expand(trunc(tr_t, K).as_expr()), "s1": s1_e, "s2": s2_e,
            "loss": sp.expand((zhat - z_e) ** 2 / 2)}


@lru_cache(maxsize=None)
def _series_numpy(order):
    ser = third_order_series() if order == 3 else series_solution(order)
    args = [tau_t, zhat, beta]
    return ser, {k: numpy_function(args, ser[k]) for k in ("z", "G", "dw_norm2", "s1", "s2", "trace_dw")}


def series_curves(gv, zhat_value, tau_values, *, order: int = 5, tilde: bool = False, clip: bool = False) -> dict:
    r"""Learning curves from :func:`series_solution` of the given ``order`` (N → ∞, :math:`z_0 = 0`).

    Same keys and conventions as :func:`third_order` (which is ``order=3``).

    >>> out = series_curves(0.0, 1.0, [0.2], tilde=True)
    >>> round(float(out["s2"][0]), 6)  # exact g = 0: 0.000521; leading order 0.2**3/12 = 0.000667
    0.000544
    """
    gf = _gain(gv)
    zf = _zhat(zhat_value)
    t = _tau(tau_values, "tau_tilde" if tilde else "tau")
    b = 1.0 / (1.0 - gf**2)
    tt = t if tilde else b**2 * t
    ser, fns = _series_numpy(int(order))
    za = abs(zf)
    one = np.ones_like(tt)
    out = {k: fn(tt, za, b) * one for k, fn in fns.items()}
    if clip and za > 0:
        poly = sp.Poly(sp.expand(ser["z"] - zhat).subs({zhat: sp.nsimplify(za), beta: sp.nsimplify(b)}), tau_t)
        roots = np.roots([float(c) for c in poly.all_coeffs()])
        real = sorted(r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 0)
        if real:
            tc = real[0]
            after = tt >= tc
            frozen = {k: fn(np.asarray(tc), za, b) for k, fn in fns.items()}
            for k in ("s1", "s2", "dw_norm2", "trace_dw", "G"):
                out[k] = np.where(after, frozen[k], out[k])
            out["z"] = np.where(after, za, out["z"])
    out["z"] = np.sign(zf) * out["z"] if zf != 0 else out["z"] * 0
    out["loss"] = 0.5 * (zf - out["z"]) ** 2
    out["tau"] = tt / b**2
    out["tau_tilde"] = tt
    return out


# ============================================================================ R1 rank-one gradient
@lru_cache(maxsize=None)
def readout_gradient():
    r"""sympy matrix calculus: :math:`\partial z/\partial W` for :math:`z = w^\top (I-W)^{-1} m`.

    Returns ``(N, W, w, m, dz)`` with ``W``, ``w``, ``m`` sympy ``MatrixSymbol``-s of size N;
    ``sp.lambdify((W, w, m), dz)`` evaluates it for concrete numpy arrays.

    >>> readout_gradient()[-1]
    (I - W.T)**(-1)*w*m.T*(I - W.T)**(-1)
    """
    Nn = sp.Symbol("N", integer=True, positive=True)
    Wm = sp.MatrixSymbol("W", Nn, Nn)
    wv = sp.MatrixSymbol("w", Nn, 1)
    mv = sp.MatrixSymbol("m", Nn, 1)
    zexpr = wv.T * (sp.Identity(Nn) - Wm).I * mv
    return Nn, Wm, wv, mv, zexpr.diff(Wm)


@lru_cache(maxsize=None)
def gradient_derivation() -> list:
    r"""R1: :math:`\partial z/\partial W = B_W^\top w\,(B_W m)^\top`, hence
    :math:`\partial L/\partial W = -\varepsilon\,u_W v_W^\top` (rank one, any N and W0).

    Two routes: (i) sympy matrix-expression calculus on :math:`w^\top (I-W)^{-1} m`
    (:math:`d(B) = B\,dW\,B`); (ii) an explicit symbolic 3×3 :math:`W` (15 symbols), where the
    entrywise derivative of :math:`z = w^\top\operatorname{adj}(I-W)m/\det(I-W)` is compared
    with :math:`u v^\top` as polynomials and all nine 2×2 minors of the derived gradient are
    shown to vanish (sparse ``Poly`` arithmetic; no symbolic inverse or ``simplify``).
    """
    Nn, Wm, wv, mv, dz = readout_gradient()
    Id = sp.Identity(Nn)
    BWs = (Id - Wm).I
    outer = (BWs.T * wv) * (BWs * mv).T
    eps_s = sp.Symbol("epsilon")
    dL = -eps_s * dz  # L = (zhat - z)^2 / 2  ->  dL/dW = -(zhat - z) dz/dW
    route1 = dz == outer or sp.simplify(dz - outer) == 0

    # explicit 3x3
    n3 = 3
    Wx = sp.Matrix(n3, n3, lambda i, j: sp.Symbol(f"W_{i}{j}"))
    wx = sp.Matrix(n3, 1, lambda i, _: sp.Symbol(f"w_{i}"))
    mx = sp.Matrix(n3, 1, lambda i, _: sp.Symbol(f"m_{i}"))
    gens = list(Wx) + list(wx) + list(mx)
    from sympy.polys.domains import ZZ

    Rg, *_ = _ring(gens, ZZ)  # sparse multivariate polynomials (fast, exact)
    Mx = sp.eye(n3) - Wx
    adj = Mx.adjugate()
    Dp = Rg(sp.expand(Mx.det()))
    Pp = Rg(sp.expand((wx.T * adj * mx)[0, 0]))
    Up = [Rg(sp.expand(e)) for e in adj.T * wx]  # det * u
    Vp = [Rg(sp.expand(e)) for e in adj * mx]    # det * v
    gi = {gsym: k for k, gsym in enumerate(gens)}
    num = [[Pp.diff(Rg.gens[gi[Wx[i, j]]]) * Dp - Pp * Dp.diff(Rg.gens[gi[Wx[i, j]]]) for j in range(n3)]
           for i in range(n3)]
    eq_outer = all(not (num[i][j] - Up[i] * Vp[j]) for i in range(n3) for j in range(n3))
    minors = [num[i][j] * num[k][l] - num[i][l] * num[k][j]
              for i in range(n3) for k in range(i + 1, n3) for j in range(n3) for l in range(j + 1, n3)]
    minors_ok = all(not mm for mm in minors)
    # d(B) = B dW B on the explicit 3x3, with B = adj/det:  d(adj) det - adj d(det) = adj dW adj
    Ex = sp.Matrix(n3, n3, lambda i, j: sp.Symbol(f"dW_{i}{j}"))
    gens_e = gens + list(Ex)
    Re, *_ = _ring(gens_e, ZZ)
    ge = {gsym: k for k, gsym in enumerate(gens_e)}
    adj_r = [[Re(sp.expand(adj[i, j])) for j in range(n3)] for i in range(n3)]
    E_r = [[Re.gens[ge[Ex[i, j]]] for j in range(n3)] for i in range(n3)]
    D_r = Re(sp.expand(Mx.det()))

    def ddir(p):  # directional derivative sum_ij dW_ij d/dW_ij
        return sum((p.diff(Re.gens[ge[Wx[i, j]]]) * E_r[i][j] for i in range(n3) for j in range(n3)), Re.zero)

    dD = ddir(D_r)
    dB_ok = all(
        not (ddir(adj_r[i][j]) * D_r - adj_r[i][j] * dD
             - sum((adj_r[i][k] * E_r[k][l] * adj_r[l][j] for k in range(n3) for l in range(n3)), Re.zero))
        for i in range(n3) for j in range(n3))
    return [
        Derivation("R1.gradient", "dz = w^T B_W dW B_W m  =>  dL/dW = -eps (B_W^T w)(B_W m)^T = -eps u v^T "
                   "(any N, any W0; rank one)", dL,
                   [Check("explicit symbolic 3x3: d(B) = B dW B for B = (I-W)^-1 (adjugate form)", dB_ok),
                    Check("matrix calculus: d/dW w^T (I-W)^-1 m = (I-W)^-T w m^T (I-W)^-T = u v^T", route1),
                    Check("explicit symbolic 3x3: entrywise derivative equals u v^T", eq_outer),
                    Check("explicit symbolic 3x3: all nine 2x2 minors of the gradient vanish", minors_ok and len(minors) == 9)]),
    ]


# ============================================================================ R2 exact identities
_NC = {name: sp.Symbol(name, commutative=False) for name in ("B", "Bt", "w", "m", "wt", "mt")}
_ROW, _COL = ("wt", "mt"), ("w", "m")
_TRANSPOSE = {"B": "Bt", "Bt": "B", "w": "wt", "wt": "w", "m": "mt", "mt": "m"}


def _nc_terms(expr):
    """Yield (commutative coefficient, tuple of nc token names) of an expanded nc expression."""
    for term in sp.Add.make_args(sp.expand(expr)):
        cpart, ncpart = term.args_cnc()
        toks = []
        for f in ncpart:
            if isinstance(f, sp.Pow):
                toks.extend([f.base.name] * int(f.exp))
            else:
                toks.append(f.name)
        yield sp.Mul(*cpart), tuple(toks)


def _nc_word(toks):
    return sp.Mul(*[_NC[t] for t in toks]) if toks else sp.Integer(1)


def _nc_dtau(expr):
    r"""d/dtau on the flow: d(B_W) = B_W dW B_W with dW = eps u v^T = eps B_W^T w m^T B_W^T."""
    eps_s = sp.Symbol("epsilon")
    dB = ("B", "Bt", "w", "mt", "Bt", "B")      # B (Bt w mt Bt) B
    dBt = ("Bt", "B", "m", "wt", "B", "Bt")     # Bt (B m wt B) Bt
    out = sp.Integer(0)
    for coef, toks in _nc_terms(expr):
        for i, t in enumerate(toks):
            if t == "B":
                out += eps_s * coef * _nc_word(toks[:i] + dB + toks[i + 1:])
            elif t == "Bt":
                out += eps_s * coef * _nc_word(toks[:i] + dBt + toks[i + 1:])
    return out


def _nc_scalars(expr):
    """Pull out scalar overlaps (row ... column) as commutative symbols named canonically."""
    out = sp.Integer(0)
    for coef, toks in _nc_terms(expr):
        rest, scal = [], []
        i = 0
        while i < len(toks):
            if toks[i] in _ROW:
                j = i + 1
                while toks[j] not in _COL:
                    j += 1
                blk = toks[i:j + 1]
                tb = tuple(_TRANSPOSE[t] for t in reversed(blk))
                scal.append(sp.Symbol("<" + " ".join(min(blk, tb)) + ">"))
                i = j + 1
            else:
                rest.append(toks[i])
                i += 1
        out += coef * sp.Mul(*scal) * _nc_word(tuple(rest))
    return sp.expand(out)


@lru_cache(maxsize=None)
def identities_derivation() -> list:
    r"""R2: exact identities along the gradient flow, for any N and :math:`W_0`.

    Non-commutative symbols for :math:`B_W, B_W^\top, w, m, w^\top, m^\top`; the
    :math:`\tau`-derivative applies :math:`d(B_W) = B_W\,dW\,B_W` with
    :math:`dW = \varepsilon u v^\top d\tau` by the product rule; scalar overlaps are then
    collected (a scalar equals its transpose) and compared with the targets.
    """
    B, Bt, w_, m_, wt, mt = (_NC[k] for k in ("B", "Bt", "w", "m", "wt", "mt"))
    eps_s = sp.Symbol("epsilon")
    u = Bt * w_
    v = B * m_
    z = wt * B * m_
    U = wt * B * Bt * w_          # |u|^2
    V = mt * Bt * B * m_          # |v|^2
    cc = wt * B * Bt * B * m_     # c = w^T B B^T B m
    S = _nc_scalars
    Us, Vs, cs = S(U), S(V), S(cc)
    du, dv, dz = S(_nc_dtau(u)), S(_nc_dtau(v)), S(_nc_dtau(z))
    dU, dV = S(_nc_dtau(U)), S(_nc_dtau(V))
    G = U * V
    dG = S(_nc_dtau(G))
    Gs = S(G)
    ratio_rate = sp.cancel((dU * Vs - Us * dV) / Vs**2)
    checks = [
        Check("du/dtau = eps |u|^2 B_W^T v", sp.expand(du - S(eps_s * Bt * B * m_ * U)) == 0),
        Check("dv/dtau = eps |v|^2 B_W u", sp.expand(dv - S(eps_s * B * Bt * w_ * V)) == 0),
        Check("dz/dtau = eps G", sp.expand(dz - eps_s * Us * Vs) == 0),
        Check("d|u|^2/dtau = 2 eps c |u|^2 and d|v|^2/dtau = 2 eps c |v|^2",
              sp.expand(dU - 2 * eps_s * cs * Us) == 0 and sp.expand(dV - 2 * eps_s * cs * Vs) == 0),
        Check("dG/dtau = 4 eps c G", sp.expand(dG - 4 * eps_s * cs * Gs) == 0),
        Check("d/dtau (|u|^2/|v|^2) = 0 (conserved ratio)", ratio_rate == 0),
    ]
    return [Derivation("R2.identities", "gradient flow dW/dtau = eps u v^T (any N, W0): du, dv, dz = eps G, "
                       "dG = 4 eps c G, |u|^2/|v|^2 conserved",
                       {"du/dtau": du, "dv/dtau": dv, "dz/dtau": dz, "dG/dtau": dG}, checks)]


# ============================================================================ registry
@lru_cache(maxsize=None)
def derivations() -> list:
    """All derivations of this module (R1, R2, R4, R5, R6, R7) with their symbolic checks."""
    out = []
    out.extend(gradient_derivation())
    out.extend(identities_derivation())
    sol = first_order_solution()
    out.append(Derivation(
        "R4.G0", "G(0) = |u0|^2 |v0|^2 -> beta^2 (large N)", sol["G"],
        [Check("equals speedup(g) with beta = 1/(1-g^2)",
               sp.simplify(sol["G"].subs(beta, _BETA_OF_G) - speedup(g)) == 0)]))
    zt = sol["z"]
    out.append(Derivation(
        "R5.z", "frozen B: dsolve dz/dtau = (zhat - z) beta^2, z(0) = z0", zt,
        [Check("satisfies the ODE", sp.simplify(zt.diff(tau) - (zhat - zt) * beta**2) == 0),
         Check("z0 = 0: target zhat(1 - exp(-tau_tilde))",
               sp.simplify(zt.subs(z0, 0) - zhat * (1 - sp.exp(-beta**2 * tau))) == 0)]))
    out.append(Derivation(
        "R5.loss", "L = (zhat - z)^2/2 -> zhat^2 exp(-2 tau_tilde)/2 (z0 = 0)", sol["loss"].subs(z0, 0),
        [Check("target", sp.simplify(sol["loss"].subs(z0, 0) - zhat**2 * sp.exp(-2 * beta**2 * tau) / 2) == 0)]))
    out.append(Derivation(
        "R5.dW", "dW = [int_0^tau eps] u0 v0^T exactly rank one; int eps = (z - z0)/beta^2",
        sol["int_eps"],
        [Check("int eps = (z - z0)/beta^2", sp.simplify(sol["int_eps"] - (zt - z0) / beta**2) == 0),
         Check("|dW|_F = (z - z0)/beta", sp.simplify(sol["dw_norm"] - (zt - z0) / beta) == 0)]))
    fin = sol["dw_norm_final"].subs(beta, _BETA_OF_G)
    out.append(Derivation(
        "R5.dw_norm_final", "final |dW|_F = zhat/beta = zhat (1 - g^2) (z0 = 0, first order)", fin,
        [Check("target zhat(1 - g^2)", sp.simplify(fin - zhat * (1 - g**2)) == 0)]))
    out.append(Derivation(
        "R5.tau_c", "L < 0.05 L0 at tau_c = ln(20)/(2 beta^2) (tau_tilde_c = ln(20)/2)", sol["tau_c"],
        [Check("target ln(20)/(2 beta^2)", sp.simplify(sol["tau_c"] - sp.log(20) / (2 * beta**2)) == 0),
         Check("tau_c(g=0) ~ 1.498", abs(float(sol["tau_c"].subs(beta, 1)) - 1.498) < 1e-3)]))
    mg = sol["mean_grad"]
    out.append(Derivation(
        "R5.mean_grad", "average gradient over [0, tau_c] = 2(1 - 20^(-1/2))/ln(20) zhat beta ~ 0.518 zhat/(1-g^2)",
        mg,
        [Check("target zhat beta (1 - 20^(-1/2))/(ln(20)/2)",
               sp.simplify(mg - zhat * beta * (1 - 1 / sp.sqrt(20)) / (sp.log(20) / 2)) == 0),
         Check("coefficient ~ 0.518", abs(float(sol["mean_grad_coeff"]) - 0.518) < 5e-4)]))
    out.extend(third_order_series()["derivations"])
    hi = series_solution(5)
    r6 = third_order_series()

    def low(e, k):
        e = sp.expand(e)
        return sp.expand(sum(e.coeff(tau_t, j) * tau_t**j for j in range(k + 1)))

    out.append(Derivation(
        "R6.fifth_order", "the same series carried to O(tt^5): s2 = zhat^3 tt^3/12 - zhat^3 tt^4/8 + ... "
        "(the leading s2 of R6 has an O(tt) relative error)",
        {"z": hi["z"], "s2": hi["s2"]},
        [Check("truncated at tt^3 it is R6 (z, s1, s2, trace) and tt^4 for |dW|^2",
               all(sp.expand(low(hi[k], n) - low(r6[k], n)) == 0
                   for k, n in (("z", 3), ("s1", 3), ("s2", 3), ("trace_dw", 3), ("dw_norm2", 4)))),
         Check("s2 tt^4 coefficient = -zhat^3/8 (independent of beta)",
               sp.expand(hi["s2"]).coeff(tau_t, 4) == -zhat**3 / 8)]))
    sh = shuffle_derivation()
    out.append(Derivation(
        "R7.shuffle", "shuffled W0' + converged first-order dW: Sherman-Morrison + freeness -> "
        "z' = zhat (1-g^2)^2, L'/L0 = g^4 (2-g^2)^2", sh["ratio"],
        [Check("Sherman-Morrison identity (non-commutative symbols)", sh["sherman_morrison_ok"]),
         Check("kappa = zhat/beta^2", sp.simplify(sh["kappa"] - zhat / beta**2) == 0),
         Check("z' = zhat (1-g^2)^2", sp.simplify(sh["z_shuffle_g"] - zhat * (1 - g**2) ** 2) == 0),
         Check("ratio = (1 - (1-g^2)^2)^2 = g^4 (2-g^2)^2",
               sp.expand(sh["ratio"] - g**4 * (2 - g**2) ** 2) == 0
               and sp.expand(sh["ratio"] - (1 - (1 - g**2) ** 2) ** 2) == 0)]))
    return out


# ============================================================================ numeric back-ends
def curve_function(quantity: str, *, order: int = 3, backend: str = "numpy"):
    r"""The derived curve ``quantity`` as a function ``f(tau_tilde, zhat, beta)``.

    ``order=1``: first-order (frozen-B) closed forms ``z``, ``loss``, ``dw_norm`` (z0 = 0);
    ``order >= 3``: the series of :func:`series_solution` (``z``, ``G``, ``dw_norm2``, ``s1``,
    ``s2``, ``trace_dw``, ``loss``).  ``backend="mpmath"`` evaluates at the working precision
    of ``mpmath.mp`` (the expression is lambdified on exact rationals).  No input checks:
    use :func:`first_order` / :func:`series_curves` for validated float64 curves.

    >>> import mpmath
    >>> f = curve_function("s2", order=3, backend="mpmath")
    >>> with mpmath.workdps(30):
    ...     print(f(mpmath.mpf("0.1"), 1, 2))
    0.0000833333333333333333333333333333
    """
    from .backends import mpmath_function

    if order == 1:
        sol = first_order_solution()
        exprs = {k: sol[k].subs(z0, 0).subs(tau, tau_t / beta**2) for k in ("z", "loss", "dw_norm")}
    else:
        exprs = third_order_series() if order == 3 else series_solution(order)
    if quantity not in exprs or quantity in ("order", "derivations"):
        raise DomainError(f"unknown quantity {quantity!r} for order {order}; choose from "
                          f"{sorted(k for k in exprs if isinstance(exprs[k], sp.Expr) and exprs[k].has(tau_t))}")
    make = {"numpy": numpy_function, "mpmath": mpmath_function}.get(backend)
    if make is None:
        raise DomainError(f"backend must be 'numpy' or 'mpmath', got {backend!r}")
    return make([tau_t, zhat, beta], exprs[quantity])
