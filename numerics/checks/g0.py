r"""Check 5 (R8): g = 0 simulations vs the exact 2×2 reduction of :mod:`rnn_theory.theory.exact_g0`."""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.checks.parallel import _pmap
from rnn_theory.numerics.checks.report import Settings, _mean_sem, _row, _rng, _tcrit

__all__ = ["check_g0"]


def _g0_run(cfg):
    from rnn_theory.numerics.linear import train_linear

    r = train_linear(cfg["n"], 0.0, cfg["zhat"], cfg["lr0"], cfg["steps"], _rng(50, *cfg["key"]),
                     check_stability=False, sv_every=cfg["steps"])
    # eigenvalues of dW = Q_u K Q_v^T from the small matrix K Q_v^T Q_u (W0 = 0, so W = dW)
    top = _top_eig_lowrank(r.dW)  # at g = 0, W = dW has rank 2
    return {"tau_tilde": r.tau_tilde, "loss": r.loss, "z": r.z, "dw_norm": r.dw_norm[-1], "s1": r.sv[-1, 0],
            "s2": r.sv[-1, 1], "s3": r.sv[-1, 2], "tau_tilde_c": r.summary()["tau_tilde_c"], "top_eig": top,
            "z0": r.z0}


def _top_eig_lowrank(dW, k=6, seed=0):
    """Largest real part of an eigenvalue of a matrix of rank <= k, O(N^2 k).

    Range finder: Q = orth(dW @ Omega) spans range(dW) when rank(dW) <= k, and the non-zero
    eigenvalues of dW are those of the k x k matrix Q^T dW Q.
    """
    Omega = np.random.default_rng(seed).standard_normal((dW.shape[1], k))
    Q, _ = np.linalg.qr(dW @ Omega)
    return float(np.max(np.linalg.eigvals(Q.T @ dW @ Q).real))


def check_g0(settings: Settings) -> list:
    r"""g = 0 simulations vs the exact reduction (R8), ẑ = 2.

    Rows: loss curve :math:`L/L_0` at :math:`\tilde\tau` = 0.1, 0.2, 0.3; :math:`\tau_c`; final
    :math:`\|\Delta W\|_F`, :math:`s_2` and top eigenvalue (after :math:`\tilde\tau = 3`, long
    converged) vs :func:`rnn_theory.theory.exact_g0.final_state`; and exact rank 2 (s3/s1 at round-off)
    with w ⊥ m exactly.  Tolerance: Student-t bound over seeds plus the GD discretisation
    error, measured per quantity as :math:`2|x(\mathrm{lr}_0) - x(\mathrm{lr}_0/2)|` on seed 0
    (first-order method: the error of x(lr0) is about twice that difference), plus the
    :math:`\tau_c` grid resolution lr0 for :math:`\tau_c`.
    """
    from rnn_theory.theory import exact_g0

    from rnn_theory.numerics.linear import normalise_inputs, train_fixed_point

    zhat, lr0, tmax = 2.0, 0.006, 2.4
    steps = int(round(tmax / lr0))
    n = settings.g0_n
    cfgs = [{"n": n, "zhat": zhat, "lr0": lr0, "steps": steps, "key": (s,)} for s in range(settings.g0_seeds)]
    cfgs.append({"n": n, "zhat": zhat, "lr0": lr0 / 2, "steps": 2 * steps, "key": (0,)})
    runs = _pmap(_g0_run, cfgs, settings, "g=0 runs")
    main, half = runs[:-1], runs[-1]
    fs = exact_g0.final_state(zhat)
    probe = np.array([0.1, 0.2, 0.3])
    ex = exact_g0.solve(zhat, probe)
    rows = []
    nn = len(main)

    def gd_sys(key, idx=None):
        a = main[0][key] if idx is None else main[0][key][idx]
        b = half[key] if idx is None else half[key][2 * idx]
        return 2 * abs(a - b)

    for j, t in enumerate(probe):
        k = int(round(t / lr0))
        vals = [r["loss"][k] / (0.5 * zhat**2) for r in main]
        mu, sem = _mean_sem(vals)
        rows.append(_row("R8 exact g=0 (zhat=2)", f"L/L0 at tau~={t}", ex["loss"][j] / (0.5 * zhat**2), mu,
                         stat=_tcrit(nn) * sem, sys_=gd_sys("loss", k) / (0.5 * zhat**2), n=nn,
                         note=f"N={n}, {nn} seeds, lr0={lr0}" if j == 0 else ""))
    vals = [r["tau_tilde_c"] for r in main]
    mu, sem = _mean_sem(vals)
    rows.append(_row("R8 exact g=0 (zhat=2)", "tau_c (L < 0.05 L0)", fs["tau_c"], mu, stat=_tcrit(nn) * sem,
                     sys_=2 * abs(main[0]["tau_tilde_c"] - half["tau_tilde_c"]) + lr0, n=nn,
                     note="sys: GD error (halved step) + the step grid lr0"))
    for key, label in (("dw_norm", "final |dW|_F"), ("s1", "final s1"), ("s2", "final s2"), ("top_eig", "final top eigenvalue of W")):
        vals = [r[key] for r in main]
        mu, sem = _mean_sem(vals)
        rows.append(_row("R8 exact g=0 (zhat=2)", label, fs[key], mu, stat=_tcrit(nn) * sem, sys_=gd_sys(key), n=nn))
    # exact rank 2 with w perpendicular to m
    rng = _rng(51)
    m, w = rng.standard_normal(n), rng.standard_normal(n)
    w -= (w @ m) / (m @ m) * m
    m, w = normalise_inputs(m, w)
    r = train_fixed_point(np.zeros((n, n)), m, w, zhat, lr0, 300, check_stability=False, sv_every=300)
    ratio = float(r.sv[-1, 2] / r.sv[-1, 0])
    rows.append(_row("R8 exact g=0 (zhat=2)", "rank 2 with w perp m: s3/s1", 0.0, ratio, tol=1e-12,
                     note="dW stays in span{w, m} (x) span{w, m}; s3 at the floating-point floor"))
    return rows
