r"""Check 6: learning curves collapse against :math:`\tilde\tau` (the lr scaling :math:`(1-g^2)^2`)."""
from __future__ import annotations

import numpy as np

from rnn_theory.numerics.checks.parallel import _pmap
from rnn_theory.numerics.checks.report import Settings, _ratio_stats, _row, _tcrit
from rnn_theory.numerics.checks.sweep import _sweep_configs, _sweep_run

__all__ = ["check_collapse"]


def check_collapse(settings: Settings, _cache: dict | None = None) -> list:
    r"""Curves collapse against :math:`\tilde\tau` (the lr scaling :math:`(1-g^2)^2`).

    Quarter-way time :math:`\tilde\tau_{1/4}` (first time :math:`(z-z_0)/(\hat z-z_0) \ge 1/4`,
    linear interpolation between steps) relative to g = 0, from the ẑ = 0.5 sweep runs.
    Theory: the same ratio from the third-order series (first order: exactly 1; measured in
    :math:`\tau` instead it would be :math:`(1-g^2)^2`, shown in the note).  Tolerance:
    delta-method Student-t bound plus the series' next order, estimated as the cubic
    correction's effect times :math:`\tilde\tau_{1/4}`.
    """
    from rnn_theory.theory.linear import third_order, validity_limit

    if _cache is not None and "sweep" in _cache:
        cfgs, runs = _cache["sweep"]
    else:
        cfgs = _sweep_configs(settings, 0.5, 0.015, settings.sweep_seeds)
        runs = _pmap(_sweep_run, cfgs, settings, "g sweep (zhat=0.5)")
    zhat = 0.5

    def t_quarter(tt, y):
        k = int(np.argmax(y >= 0.25))
        if y[k] < 0.25 or k == 0:
            return np.nan
        return float(tt[k - 1] + (0.25 - y[k - 1]) * (tt[k] - tt[k - 1]) / (y[k] - y[k - 1]))

    def theory_tq(g):
        # the series only on its trusted range (validity_limit); the quarter-way point lies well inside
        tt = np.linspace(0, min(1.0, validity_limit(g, zhat, order=3)), 20001)
        return t_quarter(tt, third_order(g, zhat, tt, tilde=True)["z"] / zhat)

    tq = {}
    for c, r in zip(cfgs, runs):
        tq.setdefault(c["g"], []).append(t_quarter(r["tau_tilde"], (r["z"] - r["z"][0]) / (zhat - r["z"][0])))
    rows = []
    th0 = theory_tq(0.0)
    for g in (0.2, 0.4, 0.6):
        R, se = _ratio_stats(tq[g], tq[0.0])
        th = theory_tq(g) / th0
        sys_ = abs(th - 1) * th0  # next order ~ (cubic effect) x tau~_1/4
        rows.append(_row("collapse vs tau~", f"tau~_1/4(g)/tau~_1/4(0), g={g}", th, R,
                         stat=_tcrit(len(tq[g])) * se, sys_=sys_, n=len(tq[g]),
                         note=f"vs tau (no rescaling) this ratio would be (1-g^2)^2 = {(1 - g * g) ** 2:.3f}"))
    return rows
