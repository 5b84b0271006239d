r"""Check 3 (R6): early learning vs the third-order series in :math:`\tilde\tau`."""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.checks.parallel import _pmap
from rnn_theory.numerics.checks.report import Settings, _mean_sem, _row, _rng, _tcrit

__all__ = ["check_early"]


def _early_run(cfg):
    from rnn_theory.numerics.linear import train_linear

    r = train_linear(cfg["n"], cfg["g"], cfg["zhat"], cfg["lr0"], cfg["steps"], _rng(30, *cfg["key"]),
                     check_stability=False)
    return {"tau_tilde": r.tau_tilde, "z": r.z, "s1": r.sv[:, 0], "s2": r.sv[:, 1], "G": r.G, "z0": r.z0}


def _poly_coeffs(t, y, deg, drop=0):
    """Least-squares Taylor coefficients of y(t) = sum_{k>=drop} c_k t^k (up to deg)."""
    V = np.vander(t, deg + 1, increasing=True)[:, drop:]
    scale = np.max(np.abs(V), axis=0)
    c = np.linalg.lstsq(V / scale, y, rcond=None)[0] / scale
    return c


def check_early(settings: Settings) -> list:
    r"""Early learning vs the third-order series in :math:`\tilde\tau` (R6), g = 0 and 0.6, ẑ = 1.

    Per seed the theory is evaluated at the seed's effective target :math:`\hat z - z_0`
    (the finite-N offset, spec §7) and at the seed's effective time :math:`G(0)\tau =
    \gamma\tilde\tau`, :math:`\gamma = G(0)/\beta^2` (the series' :math:`\tilde\tau` is
    :math:`\beta^2\tau` because :math:`G(0)\to\beta^2`; at N = 1024 the seed's
    :math:`G(0)` differs by several %, which moves the :math:`\tilde\tau^3` coefficient by
    :math:`\gamma^3`: without this control variate the per-seed spread of the coefficient
    rows was ~20 % and their Student-t tolerances 0.33 and 0.21 — 20–40× the deviation), and the simulation is compared through ratios
    (simulated/theory), averaged over 10 seeds (Student-t bound).  Rows:

    * :math:`z - z_0` and :math:`s_1` at :math:`\tilde\tau = 0.2`; systematic allowance = the
      size of the next order, estimated as (cubic term)·:math:`\tilde\tau`, relative;
    * the :math:`\tilde\tau^3` Taylor coefficient of :math:`z` (which carries the
      :math:`8\hat z^2\beta` feedback term) and the leading coefficient of :math:`s_2/\tilde\tau^3`
      (:math:`\hat z^3/12`), from a least-squares polynomial fit of the simulated curve over
      :math:`\tilde\tau \le 0.2` (degree 6; the fit's truncation is checked by refitting with
      degree 5, and their difference is the systematic allowance).

    GD with lr0 = 0.002 vs gradient flow shifts the k-th coefficient by about
    :math:`k\,\mathrm{lr}_0/2` relative (≤ 0.3 %), added to the allowance.
    """
    from rnn_theory.theory.linear import third_order

    lr0, tmax, zhat = 0.002, 0.2, 1.0
    steps = int(round(tmax / lr0))
    cfgs = [{"n": settings.early_n, "g": g, "zhat": zhat, "lr0": lr0, "steps": steps, "key": (int(g * 10), s)}
            for g in (0.0, 0.6) for s in range(settings.early_seeds)]
    runs = _pmap(_early_run, cfgs, settings, "early curves")
    rows = []
    gd_bias = 3 * lr0 / 2
    for g in (0.0, 0.6):
        rs = [r for c, r in zip(cfgs, runs) if c["g"] == g]
        rz, rs1, c3, c3th, s2c, rs2 = [], [], [], [], [], []
        fit_sys_c3, fit_sys_s2, cub_z, cub_s1 = [], [], [], []
        for r in rs:
            ze = zhat - r["z0"]
            tt = r["tau_tilde"]
            # the seed's own learning gain: its effective time is G(0) tau = gam tau~ (R4 at finite N)
            gam = r["G"][0] * (1 - g * g) ** 2
            # τ̃ = 0.2 sits at the edge of the trusted range (validity_limit ≈ 0.195 at g = 0.6);
            # the row's tolerance carries the next-order term explicitly, so no warning here
            th = third_order(g, ze, gam * tt, tilde=True, beyond="ignore")
            rz.append((r["z"][-1] - r["z0"]) / th["z"][-1])
            # first order: s1 = |u0||v0| int eps = sqrt(G(0)) int eps, i.e. beta sqrt(gam), not beta gam
            rs1.append(r["s1"][-1] / (th["s1"][-1] / np.sqrt(gam)))
            # Taylor coefficients of the simulated curve (zero intercept)
            y = (r["z"] - r["z0"]) / ze
            c6, c5 = _poly_coeffs(tt, y, 6, drop=1), _poly_coeffs(tt, y, 5, drop=1)
            thc = _poly_coeffs(tt, th["z"] / ze, 3, drop=1)  # the series is a cubic: exact
            c3.append(c6[2] / thc[2])
            fit_sys_c3.append(abs(c6[2] - c5[2]) / abs(thc[2]))
            # discrete GD: k rank-one steps give det(dW) a factor (1 - 1/k^2) relative to the flow
            # (sum over a linearly rotating pair); correct it and fit k >= 10 only
            k = np.rint(tt / lr0)
            sel = k >= 10
            y2 = r["s2"][sel] / tt[sel] ** 3 / ze**3 / (1 - 1 / k[sel] ** 2)
            d6, d5 = _poly_coeffs(tt[sel], y2, 3), _poly_coeffs(tt[sel], y2, 2)
            s2th = th["s2"][-1] / tt[-1] ** 3 / ze**3
            s2c.append(d6[0] / s2th)
            fit_sys_s2.append(abs(d6[0] - d5[0]) / s2th)
            c3th.append(thc[2])
            # size of the cubic term of the theory series at tau~ = 0.2, relative (for the
            # next-order allowance); the coefficients come from the theory's own polynomial
            ths1 = _poly_coeffs(tt, th["s1"], 3, drop=1)
            cub_z.append(abs(thc[2]) * tt[-1] ** 3 / abs(th["z"][-1] / ze))
            cub_s1.append(abs(ths1[2]) * tt[-1] ** 3 / abs(th["s1"][-1]))  # relative: gam cancels
        t = tmax
        cubic_z, cubic_s1 = float(np.mean(cub_z)), float(np.mean(cub_s1))
        n = len(rs)
        for name, vals, sys_, note in [
            (f"z - z0 at tau~=0.2, g={g} (ratio)", rz, cubic_z * t + gd_bias,
             "sys = next order ~ cubic term x tau~ + GD bias"),
            (f"s1 at tau~=0.2, g={g} (ratio)", rs1, cubic_s1 * t + gd_bias,
             "sys = next order ~ cubic term x tau~ + GD bias"),
            (f"tau~^3 coefficient of z, g={g} (ratio)", c3, float(np.mean(fit_sys_c3)) + gd_bias,
             f"theory (1+8 zhat^2 beta)/6 = {np.mean(c3th):.3f}; sys = fit deg 6 vs 5 + GD bias"),
            (f"s2/tau~^3 -> zhat^3/12, g={g} (ratio)", s2c, float(np.mean(fit_sys_s2)) + gd_bias,
             "leading coefficient by fit, sys = fit deg 3 vs 2 + GD bias"),
        ]:
            mu, sem = _mean_sem(vals)
            rows.append(_row("R6 early curves", name, 1.0, mu, stat=_tcrit(n) * sem, sys_=sys_, n=n,
                             note=f"N={settings.early_n}, {n} seeds, theory at zhat - z0; {note}"))
    return rows
