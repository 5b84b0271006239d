r"""Exact learning dynamics at g = 0, N → ∞ (R8).

With :math:`W_0 = 0`, :math:`w \perp m` and :math:`\|w\|\|m\| = 1`, :math:`\Delta W` stays in
:math:`\mathrm{span}\{\hat w,\hat m\}^{\otimes 2}`.  sympy derives, in the basis
:math:`(\hat w, \hat m)` with :math:`A = [[a, b], [c, d]]`:

* the flow :math:`dA/d\tau = \varepsilon\,u v^\top` (with :math:`u = (I-A)^{-\top}e_1`,
  :math:`v = (I-A)^{-1}e_2`) keeps :math:`d = a` (transpose-and-swap symmetry);
* the ODEs for :math:`a, b, c`, the readout :math:`z = b/D`, :math:`D = (1-a)^2 - bc`;
* two invariants :math:`(1-a)^2 + b^2 = 1` and :math:`c - (\operatorname{artanh} b - b) = 0`,
  both with vanishing :math:`\tau`-derivative on the flow; :math:`c(b)` by integrating
  :math:`dc/db` (substituting :math:`b = \tanh s`);
* the scalar ODE :math:`db/d\tau = (\hat z - z(b))(1-b^2)/(1-b\operatorname{artanh} b)^2`;
* its Taylor series (Picard iteration in a polynomial ring), which reproduces the R6 series of
  :mod:`rnn_theory.theory.linear` at :math:`\beta = 1`, including :math:`\det A = -\hat z^4\tau^4/12`.

Numerics: :func:`solve` integrates the scalar ODE (scipy ``solve_ivp``, DOP853),
:func:`final_state` finds :math:`b^*` from :math:`b/(1-b\operatorname{artanh} b) = \hat z` with
mpmath to any precision and :math:`\tau_c` by mpmath quadrature of :math:`d\tau = db/\dot b`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .backends import mpmath_function, numpy_function
from .derivation import Check, Derivation
from .errors import DomainError, check_finite, check_real

__all__ = ["reduction", "taylor_series", "solve", "final_state", "derivations"]

a, b, c, d = sp.symbols("a b c d", real=True)
eps = sp.Symbol("epsilon", real=True)
zhat = sp.Symbol("zhat", positive=True)
tau = sp.Symbol("tau", nonnegative=True)
_s = sp.Symbol("s", positive=True)


_T = sp.Symbol("T_atanh")  # stands for artanh(b) in rational simplifications


def _tidy(expr):
    """Rational normal form treating artanh(b) as an independent generator (fast, exact)."""
    e = sp.factor(sp.cancel(sp.sympify(expr).subs(sp.atanh(b), _T)))
    return e.subs(_T, sp.atanh(b))


def _is_zero(expr) -> bool:
    return sp.cancel(sp.expand(sp.sympify(expr).subs(sp.atanh(b), _T))) == 0


@lru_cache(maxsize=None)
def reduction() -> dict:
    r"""Derive the 2×2 reduction, the invariants and the scalar ODE for :math:`b` (sympy).

    Returns a dict of sympy expressions (functions of ``b`` on the invariant surface:
    ``a_of_b``, ``c_of_b``, ``D_of_b``, ``z_of_b``, ``G_of_b``, ``rhs_b``) plus the raw ODEs
    and the boolean results of the symbolic checks under ``checks``.
    """
    A = sp.Matrix([[a, b], [c, d]])
    M = sp.eye(2) - A
    det = sp.expand(M.det())
    Minv = M.adjugate() / det
    u = Minv.T[:, 0]  # (I - A)^-T e1 : u = B_W^T w in the basis (|w||m| = 1)
    v = Minv[:, 1]    # (I - A)^-1 e2 : v = B_W m
    dA = (eps * u * v.T).applyfunc(sp.cancel)
    checks = {}
    checks["symmetry d = a preserved"] = sp.cancel((dA[0, 0] - dA[1, 1]).subs(d, a)) == 0
    on = {d: a}
    D = sp.expand(det.subs(on))
    da, db, dc = (sp.factor(dA[0, 0].subs(on)), sp.factor(dA[0, 1].subs(on)), sp.factor(dA[1, 0].subs(on)))
    z = sp.factor(Minv[0, 1].subs(on))
    checks["D = (1-a)^2 - bc"] = sp.expand(D - ((1 - a) ** 2 - b * c)) == 0
    checks["ODE targets da, db, dc"] = all(sp.cancel(x - y) == 0 for x, y in [
        (da, eps * (1 - a) * b / D**2), (db, eps * (1 - a) ** 2 / D**2), (dc, eps * b**2 / D**2)])
    checks["z = b/D"] = sp.cancel(z - b / D) == 0
    # first invariant
    I1 = (1 - a) ** 2 + b**2
    dI1 = sp.cancel(sp.diff(I1, a) * da + sp.diff(I1, b) * db + sp.diff(I1, c) * dc)
    checks["d/dtau[(1-a)^2 + b^2] = 0"] = dI1 == 0
    a_sols = list(sp.roots(sp.Poly(sp.expand(I1 - 1), a)))
    a_of_b = next(s for s in a_sols if s.subs(b, 0) == 0)  # A(0) = 0
    # dc/db on the invariant surface, integrated with b = tanh(s)
    dcdb = sp.cancel(sp.cancel(dc / db).subs(a, a_of_b))
    integrand = sp.cancel((dcdb * sp.diff(sp.tanh(_s), _s)).subs(b, sp.tanh(_s)))
    c_of_s = sp.integrate(integrand, (_s, 0, _s))
    c_of_b = c_of_s.subs(_s, sp.atanh(b))
    checks["c = artanh b - b"] = _is_zero(c_of_b - (sp.atanh(b) - b))
    I2 = c - c_of_b
    dI2 = (sp.diff(I2, b) * db + sp.diff(I2, c) * dc).subs(a, a_of_b)
    checks["d/dtau[c - (artanh b - b)] = 0 on (1-a)^2 + b^2 = 1"] = _is_zero(dI2)
    surf = {a: a_of_b, c: c_of_b}
    D_of_b = sp.expand(D.subs(surf))
    checks["D = 1 - b artanh b"] = _is_zero(D_of_b - (1 - b * sp.atanh(b)))
    z_of_b = b / D_of_b
    nu = sp.cancel((u.T * u)[0, 0].subs(on))
    nv = sp.cancel((v.T * v)[0, 0].subs(on))
    G_of_b = _tidy((nu * nv).subs(surf))
    checks["G = 1/D^4"] = _is_zero(G_of_b - 1 / D_of_b**4)
    checks["|u|^2/|v|^2 = 1 conserved"] = sp.cancel(nu / nv) == 1
    rhs_b = _tidy(db.subs(surf).subs(eps, zhat - z_of_b))
    checks["db/dtau = (zhat - z)(1-b^2)/(1 - b artanh b)^2"] = _is_zero(
        rhs_b - (zhat - b / (1 - b * sp.atanh(b))) * (1 - b**2) / (1 - b * sp.atanh(b)) ** 2)
    return {"A": A, "dA": dA, "da": da, "db": db, "dc": dc, "D": D, "z": z,
            "a_of_b": a_of_b, "c_of_b": c_of_b, "D_of_b": D_of_b, "z_of_b": z_of_b,
            "G_of_b": G_of_b, "rhs_b": rhs_b, "checks": checks}


@lru_cache(maxsize=None)
def taylor_series(order: int = 6) -> dict:
    r"""Taylor series in :math:`\tau` of the exact g = 0 solution (through :math:`\tau^{order}`).

    Picard iteration, in the ring :math:`\mathbb Q[\tau,\hat z]`, of the scalar ODE
    ``reduction()["rhs_b"]``; :math:`a, c, z, G` are the derived ``a_of_b``, ``c_of_b``,
    ``z_of_b``, ``G_of_b`` composed with the series of :math:`b` (their Maclaurin series in
    :math:`b` by sympy): nothing of the reduction is re-typed here.  Returns
    sympy polynomials ``b``, ``a``, ``c``, ``z``, ``G``, ``dw_norm2``, ``trace_dw``, ``det``,
    ``s1``, ``s2``.
    """
    from sympy.polys.domains import QQ
    from sympy.polys.rings import ring

    R, *_ = ring([tau, zhat], QQ)
    y = sp.Symbol("y")
    K = order

    def trunc(p, k=K):
        return R.from_dict({m: cc for m, cc in p.items() if m[0] <= k})

    def compose(series_expr, p, k=K):  # f(p) for p = O(tau), f given as a sympy series in y
        poly = sp.Poly(series_expr, y)
        out = R.zero
        pw = R.one
        for j in range(k + 1):
            cj = poly.coeff_monomial(y**j)
            if cj:
                out += R(cj) * pw
            pw = trunc(pw * p, k)
        return trunc(out, k)

    # Maclaurin series in b of the functions derived by reduction() (nothing re-typed here)
    red = reduction()
    ser = {k: sp.series(red[k], b, 0, K + 2).removeO().subs(b, y)
           for k in ("rhs_b", "a_of_b", "c_of_b", "z_of_b", "G_of_b")}

    bp = R.zero
    for k in range(1, K + 1):  # after round k, b is exact through tau^k
        rhs = compose(ser["rhs_b"], bp, k - 1)
        bp = R.from_dict({(m[0] + 1,) + m[1:]: cc / (m[0] + 1) for m, cc in rhs.items()})
    aa = compose(ser["a_of_b"], bp, K)
    cc_ = compose(ser["c_of_b"], bp, K)
    zz = compose(ser["z_of_b"], bp, K)
    G = compose(ser["G_of_b"], bp, K)
    n2 = trunc(2 * aa * aa + bp * bp + cc_ * cc_)
    det = trunc(aa * aa - bp * cc_)
    out = {k: v.as_expr() for k, v in dict(b=bp, a=aa, c=cc_, z=zz, G=G, dw_norm2=n2,
                                           trace_dw=trunc(2 * aa), det=det).items()}
    # singular values of the 2x2 A: s1^2 + s2^2 = |A|_F^2 = F, s1 s2 = |det A|; with
    # s2^2 = det^2/s1^2 ~ det^2/F: s1^2 = F - det^2/F.  Truncated series in Q(zhat)[tau].
    from sympy.polys.fields import field

    Fd, _ = field([zhat], QQ)
    Rt, Tt = ring([tau], Fd)

    def conv(p):
        o = Rt.zero
        for m, cc in p.items():
            o += Rt(Fd(cc) * Fd.gens[0] ** m[1]) * Tt ** m[0]
        return o

    def tr(p, k):
        return Rt.from_dict({m: cc for m, cc in p.items() if m[0] <= k})

    def shift(p, k):
        return Rt.from_dict({(m[0] - k,): cc for m, cc in p.items()})

    def comp(coeffs, h, k):
        o, pw = Rt.zero, Rt.one
        for cj in coeffs:
            o += Rt(Fd(cj)) * pw
            pw = tr(pw * h, k)
        return tr(o, k)

    sqc = [sp.series(sp.sqrt(1 + y), y, 0, K + 1).removeO().coeff(y, j) for j in range(K + 1)]
    invc = [(-1) ** j for j in range(K + 1)]

    def inv_series(q, k):  # 1/q for q(0) != 0
        q0 = dict(q.items())[(0,)]
        return comp(invc, tr(q * Rt(1 / q0) - 1, k), k) * Rt(1 / q0)

    Fq = shift(conv(n2), 2)  # F / tau^2
    Dq = shift(conv(det), 4)  # det / tau^4
    s1sq = tr(Fq - tr(Dq * Dq * inv_series(Fq, K - 2), K - 2) * Tt**4, K - 2)  # s1^2 / tau^2
    c0 = dict(s1sq.items())[(0,)]  # zhat^2
    root = comp(sqc, tr(s1sq * Rt(1 / c0) - 1, K - 2), K - 2)  # s1 / (zhat tau)
    out["s1"] = sp.expand(zhat * tau * root.as_expr())  # through tau^(K-1)
    s2 = tr(-Dq * inv_series(root * Rt(Fd.gens[0]), K - 4), K - 4)  # det < 0
    out["s2"] = sp.expand(tau**3 * s2.as_expr())  # through tau^(K-1)
    return out


@lru_cache(maxsize=None)
def _numeric():
    red = reduction()
    bb = b
    return {
        "rhs": numpy_function([bb, zhat], red["rhs_b"]),
        "z": numpy_function([bb], red["z_of_b"]),
        "a": numpy_function([bb], red["a_of_b"]),
        "c": numpy_function([bb], red["c_of_b"]),
        "D": numpy_function([bb], red["D_of_b"]),
        "G": numpy_function([bb], red["G_of_b"]),
        "mp_rhs": mpmath_function([bb, zhat], red["rhs_b"]),
        "mp_z": mpmath_function([bb], red["z_of_b"]),
        "mp_a": mpmath_function([bb], red["a_of_b"]),
        "mp_c": mpmath_function([bb], red["c_of_b"]),
        "mp_D": mpmath_function([bb], red["D_of_b"]),
    }


def _svals(a_, b_, c_, sqrt):
    # A = [[a, b], [c, a]]: s1^2 + s2^2 = F, s1 s2 = |det|
    F = 2 * a_**2 + b_**2 + c_**2
    det = a_**2 - b_ * c_
    disc = sqrt(abs(F**2 - 4 * det**2))
    s1 = sqrt((F + disc) / 2)
    if isinstance(s1, np.ndarray):
        with np.errstate(invalid="ignore", divide="ignore"):
            s2 = np.where(s1 > 0, np.abs(det) / np.where(s1 > 0, s1, 1), 0.0)
    else:
        s2 = abs(det) / s1 if s1 != 0 else 0 * s1
    return F, s1, s2, det


def solve(zhat_value, tau_values, *, rtol: float = 1e-11, atol: float = 1e-13) -> dict:
    r"""Exact g = 0 learning curve (N → ∞) by integrating the derived scalar ODE for :math:`b`.

    scipy ``solve_ivp`` (LSODA, stiff-aware: the fixed point is stiff for large :math:`\hat z`) on :math:`db/d\tau = (\hat z - z(b))(1-b^2)/D(b)^2`, then
    :math:`a, c, z, G` from the invariants; the right-hand side and :math:`a, c, z, G` are the
    lambdified expressions derived by :func:`reduction`.  Cost: :math:`O(\text{steps} + T)`; the adaptive
    step count is ~10²–10³ for the usual ranges.

    Returns
    -------
    dict
        Arrays over ``tau``: ``b``, ``a``, ``c``, ``z``, ``loss``, ``dw_norm`` (Frobenius),
        ``s1``, ``s2``, ``det``, ``top_eig`` (:math:`a + \sqrt{bc}`), ``G``; scalar ``tau_c``
        (first :math:`\tau` with :math:`L < 0.05\,\hat z^2/2`, via an event).

    >>> out = solve(1.0, [0.0, 0.05])
    >>> abs(float(out["z"][1]) - (0.05 - 0.05**2 / 2 + 0.05**3 * 9 / 6)) < 3 * 0.05**4  # R6, beta = 1
    True
    """
    from scipy.integrate import solve_ivp

    zf = check_real("zhat", zhat_value)
    t = check_finite("tau", np.asarray(tau_values, dtype=float))
    if np.any(t < 0):
        raise DomainError("tau must be >= 0 (learning time starts at 0)")
    fns = _numeric()
    za = abs(zf)
    sign = 1.0 if zf >= 0 else -1.0
    flat = np.ravel(t)
    ts, inverse = np.unique(flat, return_inverse=True)  # sorted, de-duplicated
    thr = za * (1 - np.sqrt(0.05))  # L < 0.05 L0  <=>  z > zhat (1 - sqrt(0.05))

    def rhs(_t, y):
        return [fns["rhs"](y[0], za)]

    def event(_t, y):
        return fns["z"](y[0]) - thr if y[0] != 0 else -thr

    event.terminal = False
    event.direction = 1
    t_end = max(float(ts[-1]) if ts.size else 0.0, 0.0)
    tau_c = float("nan")
    if za == 0:
        bsol = np.zeros_like(ts)
        tau_c = 0.0
    else:
        # integrate far enough to also locate tau_c (the curve saturates after ~10/za^0)
        t_stop = max(t_end, 50.0)
        # LSODA: the equilibrium b* is stiff for large zhat (G = 1/D^4 grows as D -> 0)
        sol = solve_ivp(rhs, (0.0, t_stop), [0.0], method="LSODA", rtol=rtol, atol=atol,
                        t_eval=ts if ts.size else None, events=event, dense_output=False)
        if sol.status < 0:  # pragma: no cover
            raise DomainError(f"ODE integration failed: {sol.message}")
        bsol = sol.y[0] if ts.size else np.zeros(0)
        if sol.t_events[0].size:
            tau_c = float(sol.t_events[0][0])
    bs = np.asarray(bsol)[inverse].reshape(t.shape) if flat.size else np.zeros(t.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_ = fns["a"](bs) * np.ones_like(bs)
        c_ = fns["c"](bs) * np.ones_like(bs)
        z_ = fns["z"](bs) * np.ones_like(bs)
        G_ = fns["G"](bs) * np.ones_like(bs)
    F, s1, s2, det = _svals(a_, bs, c_, np.sqrt)
    out = {
        "tau": t, "b": sign * bs, "a": a_, "c": sign * c_, "z": sign * z_,
        "loss": 0.5 * (zf - sign * z_) ** 2, "dw_norm": np.sqrt(F), "s1": s1, "s2": s2, "det": det,
        "top_eig": a_ + np.sqrt(np.maximum(bs * c_, 0.0)), "G": G_, "tau_c": tau_c,
    }
    return out


def final_state(zhat_value, dps: int = 30, *, as_mpf: bool = False, tau_c: bool = True) -> dict:
    r"""Final state of exact g = 0 learning: :math:`b^*` solves :math:`b/(1-b\operatorname{artanh} b) = \hat z`.

    mpmath root-finding (bracketed Anderson–Björck on :math:`b - \hat z D(b)`, which is
    increasing on :math:`[0, b_\max]` where :math:`D(b_\max) = 0`) at ``dps`` digits, then
    :math:`a, c` from the invariants, :math:`\|\Delta W\|_F`, :math:`s_1, s_2`, the top
    eigenvalue :math:`a + \sqrt{bc}` of :math:`\Delta W` (= of :math:`W`), and :math:`\tau_c`
    by mpmath quadrature of :math:`\tau(b) = \int_0^{b} db'/\dot b(b')` up to
    :math:`z(b_c) = \hat z(1-\sqrt{0.05})`.

    Returns floats (default) or mpmath ``mpf`` rounded to ``dps`` digits (``as_mpf=True``;
    computed with 10 guard digits).  ``zhat`` may be a string (e.g. ``"0.1"``) to be read at
    full precision.

    >>> fs = final_state(1.0)
    >>> round(fs["b"], 10), round(fs["top_eig"], 6), round(fs["tau_c"], 6)
    (0.5939263256, 0.426403, 0.758732)
    """
    import mpmath

    zf = check_real("zhat", zhat_value)
    fns = _numeric()
    with mpmath.workdps(int(dps) + 10):
        za = abs(mpmath.mpf(zhat_value))  # strings such as "0.1" are read at full precision
        sign = 1 if zf >= 0 else -1
        D, zb = fns["mp_D"], fns["mp_z"]
        if za == 0:
            bstar = mpmath.mpf(0)
        else:
            bmax = mpmath.findroot(D, (mpmath.mpf("0.5"), mpmath.mpf("0.99")), solver="anderson")
            bstar = mpmath.findroot(lambda x: x - za * D(x), (mpmath.mpf(0), bmax), solver="anderson")
        a_ = fns["mp_a"](bstar)
        c_ = fns["mp_c"](bstar)
        F, s1, s2, det = _svals(a_, bstar, c_, mpmath.sqrt)
        res = {"b": sign * bstar, "a": a_, "c": sign * c_, "D": D(bstar), "z": sign * (zb(bstar) if bstar else bstar),
               "dw_norm": mpmath.sqrt(F), "s1": s1, "s2": s2, "det": det,
               "top_eig": a_ + mpmath.sqrt(bstar * c_)}
        if tau_c and za != 0:
            thr = za * (1 - mpmath.sqrt(mpmath.mpf(1) / 20))
            bc = mpmath.findroot(lambda x: x - thr * D(x), (mpmath.mpf(0), bstar), solver="anderson")
            rhs = fns["mp_rhs"]
            res["tau_c"] = mpmath.quad(lambda x: 1 / rhs(x, za), [0, bc])
        elif tau_c:
            res["tau_c"] = mpmath.mpf(0)
    if as_mpf:
        with mpmath.workdps(int(dps)):
            return {k: +v for k, v in res.items()}  # round the 10 guard digits away
    return {k: float(v) for k, v in res.items()}


@lru_cache(maxsize=None)
def derivations() -> list:
    """R8: the 2x2 reduction, invariants, scalar ODE, and the series vs R6 at beta = 1."""
    red = reduction()
    ch = red["checks"]
    out = [
        Derivation("R8.reduction", "g = 0, w perp m: dA/dtau = eps u v^T in basis (w^, m^), A = [[a, b], [c, a]]",
                   {"da/dtau": red["da"], "db/dtau": red["db"], "dc/dtau": red["dc"], "z": red["z"]},
                   [Check(k, ch[k]) for k in ("symmetry d = a preserved", "D = (1-a)^2 - bc",
                                               "ODE targets da, db, dc", "z = b/D")]),
        Derivation("R8.invariants", "(1-a)^2 + b^2 = 1 and c = artanh b - b (integrating dc/db with b = tanh s)",
                   {"a(b)": red["a_of_b"], "c(b)": red["c_of_b"]},
                   [Check(k, ch[k]) for k in ("d/dtau[(1-a)^2 + b^2] = 0", "c = artanh b - b",
                                               "d/dtau[c - (artanh b - b)] = 0 on (1-a)^2 + b^2 = 1")]),
        Derivation("R8.scalar_ode", "db/dtau = (zhat - z(b))(1-b^2)/D^2, z = b/D, D = 1 - b artanh b, G = 1/D^4",
                   red["rhs_b"],
                   [Check(k, ch[k]) for k in ("D = 1 - b artanh b", "G = 1/D^4", "|u|^2/|v|^2 = 1 conserved",
                                               "db/dtau = (zhat - z)(1-b^2)/(1 - b artanh b)^2")]),
    ]
    ser = taylor_series()
    from . import linear

    r6 = linear.third_order_series()
    one = {linear.beta: 1}

    def r6_at(key):
        return sp.expand(r6[key].subs(one).subs(linear.tau_t, tau).subs(linear.zhat, zhat))

    def trunc(e, k):
        e = sp.expand(e)
        return sp.expand(sum(e.coeff(tau, j) * tau**j for j in range(k + 1)))

    checks = [
        Check("z: series = R6 at beta = 1 through tau^3", sp.expand(trunc(ser["z"], 3) - r6_at("z")) == 0),
        Check("G: through tau^2", sp.expand(trunc(ser["G"], 2) - trunc(r6_at("G"), 2)) == 0),
        Check("|dW|^2: through tau^4", sp.expand(trunc(ser["dw_norm2"], 4) - r6_at("dw_norm2")) == 0),
        Check("s1: through tau^3", sp.expand(trunc(ser["s1"], 3) - r6_at("s1")) == 0),
        Check("s2: leading order", sp.expand(trunc(ser["s2"], 3) - r6_at("s2")) == 0),
        Check("tr dW: through tau^3", sp.expand(trunc(ser["trace_dw"], 3) - r6_at("trace_dw")) == 0),
        Check("det A = -zhat^4 tau^4/12 + O(tau^5)", sp.expand(trunc(ser["det"], 4) + zhat**4 * tau**4 / 12) == 0),
    ]
    hi = linear.series_solution(5)

    def hi_at(key):
        return sp.expand(hi[key].subs(one).subs(linear.tau_t, tau).subs(linear.zhat, zhat))

    checks.append(Check(
        "fifth-order large-N series (linear.series_solution(5)) at beta = 1 equals this Taylor series "
        "for z, G, tr dW, s1, s2 (through tau^5) and |dW|^2 (through tau^6)",
        all(sp.expand(trunc(ser[k], n) - hi_at(k)) == 0
            for k, n in (("z", 5), ("G", 5), ("trace_dw", 5), ("s1", 5), ("s2", 5), ("dw_norm2", 6)))))
    out.append(Derivation("R8.series", "Taylor series of the exact g = 0 solution reproduces R6 at beta = 1",
                          {"b": trunc(ser["b"], 5), "det A": trunc(ser["det"], 4)}, checks))
    return out
