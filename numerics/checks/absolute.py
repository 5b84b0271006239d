r"""Check R5 absolute: :math:`\tau_c`, :math:`\|\Delta W\|` and the mean gradient at small ẑ.

The R5 sweep rows divide by the g = 0 value, so a g-independent error cancels (a τ_c
threshold of 1/10 instead of 1/20 left them unchanged to 1e-16).  These rows compare the
simulated values themselves with the derived first-order (frozen-B) solution of
:func:`rnn_theory.theory.linear.first_order_solution`, lambdified, evaluated per seed at that
seed's finite-N offset :math:`z_0` and learning gain :math:`G(0)` (which stands for
:math:`\beta^2`; :math:`G(0) \to \beta^2` is the R4 row).

Tolerance of a row: Student t on the per-seed differences, plus

* the **next-order term** :math:`|c_x|\hat z^2\beta` (relative) and its square for the order
  after, where :math:`c_x` is the relative :math:`\hat z^2` coefficient of the exact g = 0
  solution (:func:`next_order_coefficients`, from :mod:`rnn_theory.theory.exact_g0` alone at
  :math:`\hat z` = 0.05, 0.1 — never from the simulated data nor the formula under test) carried to g > 0 by the
  factor :math:`\beta` of the feedback term :math:`G = \beta^2(1 + 4\hat z^2\beta\tilde\tau^2 + \dots)`
  of the series (R6);
* the **gradient-descent discretisation**: the largest per-seed difference between the
  frozen-B recurrence :math:`\varepsilon_{k+1} = (1 - \eta G)\varepsilon_k` (the first-order
  solution's own Euler discretisation, with the step grid for :math:`\tau_c`) and its
  continuous solution.

Cost: ``seeds × len(gains)`` trainings of 200 steps at N = 512 / 1024, :math:`O(N^2)` per step.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from rnn_theory.numerics.checks.parallel import _pmap
from rnn_theory.numerics.checks.report import Settings, _mean_sem, _row, _rng, _tcrit

__all__ = ["check_absolute", "next_order_coefficients"]

ZHAT, LR0, STEPS, GAINS = 0.2, 0.015, 200, (0.0, 0.3, 0.6)


def _abs_run(cfg):
    from rnn_theory.numerics.linear import train_linear

    r = train_linear(cfg["n"], cfg["g"], cfg["zhat"], cfg["lr0"], cfg["steps"], _rng(70, *cfg["key"]),
                     check_stability=False, sv_every=cfg["steps"])
    out = r.summary()
    out.update(G0=float(r.G[0]), lr=float(r.lr), tau_end=float(r.tau[-1]))
    return out


@lru_cache(maxsize=None)
def _first_order_fns():
    from rnn_theory.theory.backends import numpy_function
    from rnn_theory.theory.linear import first_order_solution
    from rnn_theory.theory.linear.symbols import beta, tau, z0, zhat

    sol = first_order_solution()
    args = [zhat, z0, beta]
    return {"tau_c": numpy_function(args, sol["tau_c_z0"]),
            "mean_grad": numpy_function(args, sol["mean_grad_z0"]),
            "dw_norm": numpy_function([tau, *args], sol["dw_norm"])}


def _exact_g0_observables(zs):
    from rnn_theory.theory import exact_g0

    fs = exact_g0.final_state(zs)
    t = np.linspace(0.0, fs["tau_c"], 4001)
    ex = exact_g0.solve(zs, t)
    gn = (zs - ex["z"]) * np.sqrt(ex["G"])  # |dL/dW| = |eps| |u||v| = |eps| sqrt(G)
    mg = float(np.sum((gn[1:] + gn[:-1]) * np.diff(t)) / 2 / fs["tau_c"])
    return {"tau_c": fs["tau_c"], "dw_norm": fs["dw_norm"] / zs, "mean_grad": mg / zs}


@lru_cache(maxsize=None)
def next_order_coefficients(z1: float = 0.05, z2: float = 0.1) -> dict:
    r"""Relative :math:`\hat z^2` coefficient :math:`c_x` of the exact g = 0 observables.

    With :math:`x(\hat z) = x_1\hat z^p(1 + c_x\hat z^2 + O(\hat z^4))` (p = 0 for
    :math:`\tau_c`, 1 for :math:`\|\Delta W\|` and the mean gradient),
    :math:`c_x = (\rho(z_2)/\rho(z_1) - 1)/(z_2^2 - z_1^2)` with :math:`\rho = x/\hat z^p`,
    from the exact solution alone (final state by mpmath, the curve by its ODE) — not from
    the first-order formula under test nor from simulation.  Cost: about two seconds.

    >>> c = next_order_coefficients()
    >>> round(c["tau_c"], 2), round(c["dw_norm"], 2), round(c["mean_grad"], 2)
    (-1.11, -0.74, 0.71)
    """
    a, b = _exact_g0_observables(z1), _exact_g0_observables(z2)
    return {k: (b[k] / a[k] - 1) / (z2**2 - z1**2) for k in a}


def _gd_error(zhat, z0, G0, lr, steps) -> dict:
    r"""Euler error of frozen-B gradient descent: the recurrence
    :math:`\varepsilon_{k+1} = (1 - \eta G)\varepsilon_k` vs its flow
    :math:`\varepsilon(\tau) = \varepsilon_0 e^{-G\tau}`, both evaluated here (independent of the
    formulas under test), for :math:`\tau_c` (including the step grid), the mean gradient and
    :math:`\|\Delta W\|` after ``steps``.  Cost :math:`O(\text{steps})`."""
    from rnn_theory.theory.linear.first_order import TAU_C_THRESHOLD

    thr = float(TAU_C_THRESHOLD)
    k = np.arange(steps + 1)
    e0, sg = zhat - z0, math.sqrt(G0)
    disc = e0 * (1 - lr * G0) ** k
    kc = int(np.nonzero(0.5 * disc**2 < thr * 0.5 * zhat**2)[0][0])
    tc = math.log(e0**2 / (thr * zhat**2)) / (2 * G0)  # flow: e0^2 exp(-2 G tau) = thr zhat^2
    flow = {"tau_c": tc, "mean_grad": e0 * sg * (1 - math.exp(-G0 * tc)) / (G0 * tc),
            "dw_norm": e0 * sg * (1 - math.exp(-G0 * lr * steps)) / G0}
    gd = {"tau_c": lr * kc, "mean_grad": float(np.sum(np.abs(disc[:kc])) * sg / kc),
          "dw_norm": float(sg * lr * np.sum(disc[:steps]))}
    return {key: abs(gd[key] - flow[key]) for key in flow}


def check_absolute(settings: Settings) -> list:
    r"""Absolute R5 rows at ẑ = 0.2: simulated :math:`\tau_c`, final :math:`\|\Delta W\|_F` and
    mean gradient vs the derived first-order solution (module docstring for the tolerance)."""
    fns = _first_order_fns()
    coef = next_order_coefficients()
    n = settings.sweep_n
    seeds = 6 if settings.quick else 10
    cfgs = [{"n": n, "g": g, "zhat": ZHAT, "lr0": LR0, "steps": STEPS, "key": (int(g * 10), s)}
            for g in GAINS for s in range(seeds)]
    runs = _pmap(_abs_run, cfgs, settings, "R5 absolute (zhat=0.2)")
    from rnn_theory.theory.linear import convergence_time, final_dw_norm, mean_gradient

    large_n = {"tau_c": convergence_time, "dw_norm": lambda g: final_dw_norm(g, ZHAT),
               "mean_grad": lambda g: mean_gradient(g, ZHAT)}
    labels = {"tau_c": "tau_c", "dw_norm": "|dW|_F at tau~=3", "mean_grad": "mean gradient"}
    rows = []
    for key in ("tau_c", "dw_norm", "mean_grad"):
        for g in GAINS:
            rs = [r for c, r in zip(cfgs, runs) if c["g"] == g]
            th, gd = [], []
            for r in rs:
                b = math.sqrt(r["G0"])
                cont = (float(fns["dw_norm"](r["tau_end"], ZHAT, r["z0"], b)) if key == "dw_norm"
                        else float(fns[key](ZHAT, r["z0"], b)))
                th.append(cont)
                gd.append(_gd_error(ZHAT, r["z0"], r["G0"], r["lr"], STEPS)[key])
            sim = np.array([r[key] for r in rs])
            th = np.array(th)
            _, sem = _mean_sem(sim - th)
            beta = 1 / (1 - g * g)
            rel = abs(coef[key]) * ZHAT**2 * beta
            sys_ = (rel + rel**2) * float(np.mean(np.abs(th))) + max(gd)
            note = (f"N={n}, {len(rs)} seeds; large-N closed form {large_n[key](g):.4g}; theory per seed at its "
                    f"z0 and G(0); sys = (r + r^2)|x| + GD, r = |c|zhat^2 beta = {rel:.3f} (c = {coef[key]:.3f} "
                    f"from exact g=0), GD (frozen-B recurrence vs its flow) {max(gd):.2g}")
            rows.append(_row("R5 absolute (zhat=0.2)", f"{labels[key]}, g={g}", float(np.mean(th)),
                             float(np.mean(sim)), stat=_tcrit(len(rs)) * sem, sys_=sys_, n=len(rs), note=note))
    return rows
