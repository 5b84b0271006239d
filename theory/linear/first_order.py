r"""R4 speed-up and R5 first-order (frozen-B) solution with its scaling laws.

At first order :math:`u_W = u_0`, :math:`v_W = v_0` stay frozen, the learning gain is
:math:`G(0) \to \beta^2` (R4) and the readout relaxes as
:math:`z = \hat z(1 - e^{-\tilde\tau})` with a rank-one :math:`\Delta W` (R5); the
convergence time, final :math:`\|\Delta W\|_F` and mean gradient follow.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .. import random_matrix as rm
from ..backends import numpy_function
from ..derivation import Check, Derivation
from .symbols import _BETA_OF_G, _gain, _tau, _zhat, beta, g, p_m, p_w, tau, z0, zhat

__all__ = ["speedup", "first_order_solution", "first_order", "convergence_time", "final_dw_norm",
           "mean_gradient"]


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
#: convergence criterion of tau_c: L < TAU_C_THRESHOLD * L0 (spec: 0.05)
TAU_C_THRESHOLD = sp.Rational(1, 20)


@lru_cache(maxsize=None)
def first_order_solution() -> dict:
    r"""Derive the frozen-B solution (R5).  Returns a dict of sympy expressions.

    With :math:`u = u_0`, :math:`v = v_0` frozen, :math:`G \equiv \|u_0\|^2\|v_0\|^2 \to \beta^2`
    and sympy ``dsolve``-s :math:`dz/d\tau = (\hat z - z)\beta^2`, :math:`z(0) = z_0`.
    Keys: ``z``, ``loss``, ``int_eps`` (:math:`\int_0^\tau\varepsilon`), ``dw_norm``,
    ``dw_norm_final``, ``tau_c``, ``tau_tilde_c``, ``mean_grad``, ``mean_grad_coeff``,
    ``G`` and the large-N pieces; ``tau_c_z0`` and ``mean_grad_z0`` keep a finite-N offset
    :math:`z_0 < \hat z` (with :math:`\beta^2` standing for the learning gain :math:`G(0)`).
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
    # with an initial offset z0 < zhat (finite N): the root that reduces to the z0 = 0 one
    roots = sp.solve(sp.Eq(loss.subs(tau, tc) / L0, TAU_C_THRESHOLD), tc)
    tau_c_z0 = next(r for r in roots if sp.simplify(r.subs(z0, 0)).is_positive)
    tau_c = sp.simplify(sp.solve(sp.Eq(loss.subs(z0, 0).subs(tau, tc) / L0, TAU_C_THRESHOLD), tc)[0])
    grad_z0 = (zhat - z_sol) * norm_u0 * norm_v0  # |eps| |u0||v0|, eps > 0 while z0 < zhat
    mean_grad_z0 = sp.simplify((sp.integrate(grad_z0.subs(tau, s), (s, 0, tau_c_z0)) / tau_c_z0).subs(p_m, 1 / p_w))
    grad_norm = grad_z0.subs(z0, 0)
    mean_grad = sp.simplify((sp.integrate(grad_norm.subs(tau, s), (s, 0, tau_c)) / tau_c).subs(p_m, 1 / p_w))
    return {
        "tau_c_z0": tau_c_z0, "mean_grad_z0": mean_grad_z0,
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


# ============================================================================ derivations
def _speedup_derivations() -> list:
    """R4: the learning gain at initialisation."""
    sol = first_order_solution()
    return [Derivation(
        "R4.G0", "G(0) = |u0|^2 |v0|^2 -> beta^2 (large N)", sol["G"],
        [Check(f"its Taylor series in g^2 through g^{2 * _G0_TERMS} equals the square of the counted "
               "non-crossing-pairing series of phi(B B^T) (random_matrix route 1, exact integers)",
               _g0_matches_counting(sol["G"]))])]


_G0_TERMS = 6  # compare G(0) with the counting route through g^(2*_G0_TERMS)


def _g0_matches_counting(G0) -> bool:
    r"""Independent route for R4: :math:`\varphi(BB^\top) = \sum_n c_n g^{2n}` with :math:`c_n`
    counted as non-crossing pairings (not the Schwinger–Dyson closed form :math:`G` is built
    from), squared and compared with the Taylor series of :math:`G(0)` coefficient by coefficient."""
    x = sp.Symbol("x")
    K = _G0_TERMS
    cn = rm.series_coefficients("BT", K)
    counted = sp.expand(sum(c * x**k for k, c in enumerate(cn)) ** 2)
    lhs = sp.series(G0.subs(beta, 1 / (1 - x)), x, 0, K + 1).removeO()
    return all(sp.expand(lhs).coeff(x, k) == counted.coeff(x, k) for k in range(K + 1))


def _curve_derivations() -> list:
    """R5: readout, loss and weight change of the frozen-B solution."""
    sol = first_order_solution()
    zt = sol["z"]
    return [
        Derivation(
            "R5.z", "frozen B: dsolve dz/dtau = (zhat - z) beta^2, z(0) = z0", zt,
            [Check("satisfies the ODE", sp.simplify(zt.diff(tau) - (zhat - zt) * beta**2) == 0),
             Check("z0 = 0: target zhat(1 - exp(-tau_tilde))",
                   sp.simplify(zt.subs(z0, 0) - zhat * (1 - sp.exp(-beta**2 * tau))) == 0)]),
        Derivation(
            "R5.loss", "L = (zhat - z)^2/2 -> zhat^2 exp(-2 tau_tilde)/2 (z0 = 0)", sol["loss"].subs(z0, 0),
            [Check("target", sp.simplify(sol["loss"].subs(z0, 0) - zhat**2 * sp.exp(-2 * beta**2 * tau) / 2) == 0)]),
        Derivation(
            "R5.dW", "dW = [int_0^tau eps] u0 v0^T exactly rank one; int eps = (z - z0)/beta^2",
            sol["int_eps"],
            [Check("int eps = (z - z0)/beta^2", sp.simplify(sol["int_eps"] - (zt - z0) / beta**2) == 0),
             Check("|dW|_F = (z - z0)/beta", sp.simplify(sol["dw_norm"] - (zt - z0) / beta) == 0)]),
    ]


def _scaling_law_derivations() -> list:
    """R5: final weight change, convergence time and mean gradient."""
    sol = first_order_solution()
    fin = sol["dw_norm_final"].subs(beta, _BETA_OF_G)
    mg = sol["mean_grad"]
    return [
        Derivation(
            "R5.dw_norm_final", "final |dW|_F = zhat/beta = zhat (1 - g^2) (z0 = 0, first order)", fin,
            [Check("target zhat(1 - g^2)", sp.simplify(fin - zhat * (1 - g**2)) == 0)]),
        Derivation(
            "R5.tau_c", "L < 0.05 L0 at tau_c = ln(20)/(2 beta^2) (tau_tilde_c = ln(20)/2)", sol["tau_c"],
            [Check("target ln(20)/(2 beta^2)", sp.simplify(sol["tau_c"] - sp.log(20) / (2 * beta**2)) == 0),
             Check("tau_c(g=0) ~ 1.498", abs(float(sol["tau_c"].subs(beta, 1)) - 1.498) < 1e-3)]),
        Derivation(
            "R5.mean_grad", "average gradient over [0, tau_c] = 2(1 - 20^(-1/2))/ln(20) zhat beta ~ 0.518 zhat/(1-g^2)",
            mg,
            [Check("target zhat beta (1 - 20^(-1/2))/(ln(20)/2)",
                   sp.simplify(mg - zhat * beta * (1 - 1 / sp.sqrt(20)) / (sp.log(20) / 2)) == 0),
             Check("coefficient ~ 0.518", abs(float(sol["mean_grad_coeff"]) - 0.518) < 5e-4)]),
    ]


def first_order_derivations() -> list:
    """R4 and R5 derivations, in the order ``rnn-theory derive`` prints them."""
    return _speedup_derivations() + _curve_derivations() + _scaling_law_derivations()
