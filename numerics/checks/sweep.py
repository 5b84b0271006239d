r"""Check 4 (R5, R7): scaling laws over g, the shuffle law and the drift at larger ẑ.

The ẑ = 0.5 sweep runs are shared with :mod:`rnn_theory.numerics.checks.collapse` through
the ``_cache`` dict that :func:`~rnn_theory.numerics.checks.run_checks` passes to both.
"""
from __future__ import annotations

import math

import numpy as np

from rnn_theory.numerics.checks.parallel import _pmap
from rnn_theory.numerics.checks.report import Settings, _mean_sem, _ratio_stats, _row, _rng, _tcrit

__all__ = ["check_sweep"]


def _sweep_configs(settings, zhat, lr0, seeds, n=None, gains=None):
    n = n or settings.sweep_n
    gains = settings.sweep_gains if gains is None else gains
    return [{"n": n, "g": g, "zhat": zhat, "lr0": lr0, "steps": 200, "key": (int(zhat * 10), int(g * 10), s)}
            for g in gains for s in range(seeds)]


def _sweep_run(cfg):
    from rnn_theory.numerics.linear import shuffle_test, train_linear

    rng = _rng(40, *cfg["key"])
    r = train_linear(cfg["n"], cfg["g"], cfg["zhat"], cfg["lr0"], cfg["steps"], rng,
                     check_stability=False, on_divergence="stop", sv_every=cfg["steps"])
    out = r.summary()
    sh = shuffle_test(r.W0, r.dW, r.m, r.w, cfg["zhat"], rng) if not r.diverged else None
    out.update(shuffle=np.nan if sh is None else sh.loss_ratio, tau_tilde=r.tau_tilde, z=r.z, loss=r.loss)
    return out


def check_sweep(settings: Settings, _cache: dict | None = None) -> list:
    r"""Scaling laws over g (R5), the shuffle law (R7) and the drift at larger ẑ.

    ẑ = 0.5, lr0 = 0.015, 200 steps, g = 0…0.9, ``sweep_seeds`` seeds each.  For each g the
    observable divided by its first-order law (:math:`\tau_c/(1-g^2)^2`,
    :math:`\|\Delta W\|/(1-g^2)`, mean gradient·:math:`(1-g^2)`) and normalised by its g = 0
    mean (the paper's Fig 4) should be 1.  Tolerance: delta-method Student-t bound plus the
    first-order theory's neglected relative correction :math:`\hat z^2(\beta - 1)` (R6:
    :math:`G = \beta^2(1 + 4\hat z^2\beta\tilde\tau^2 + \dots)`; the g = 0 part cancels in the
    normalisation; unit coefficient).  The trained networks' shuffle loss is reported
    against :math:`g^4(2-g^2)^2` (info rows).  The shuffle law itself (R7) is checked on the
    first-order construction :math:`\Delta W = (\hat z/\beta^2)u_0v_0^\top` at N = 1500.
    """
    from rnn_theory.theory.linear import convergence_time, final_dw_norm, mean_gradient, shuffle_loss_ratio

    zhat, lr0 = 0.5, 0.015
    cfgs = _sweep_configs(settings, zhat, lr0, settings.sweep_seeds)
    runs = _pmap(_sweep_run, cfgs, settings, "g sweep (zhat=0.5)")
    if _cache is not None:
        _cache["sweep"] = (cfgs, runs)
    gains = settings.sweep_gains
    by_g = {g: [r for c, r in zip(cfgs, runs) if c["g"] == g] for g in gains}
    rows = []
    laws = {
        "tau_c": (lambda g: convergence_time(g) / convergence_time(0.0), "tau_c / (1-g^2)^2"),
        "dw_norm": (lambda g: final_dw_norm(g, zhat) / final_dw_norm(0.0, zhat), "|dW| / (1-g^2)"),
        "mean_grad": (lambda g: mean_gradient(g, zhat) / mean_gradient(0.0, zhat), "mean grad x (1-g^2)"),
    }
    dev05 = {}
    for key, (law, label) in laws.items():
        base = [r[key] for r in by_g[0.0]]
        dev05[key] = {}
        for g in gains[1:]:
            vals = [r[key] / law(g) for r in by_g[g]]
            R, se = _ratio_stats(vals, base)
            b = 1 / (1 - g * g)
            dev05[key][g] = R - 1
            # the first-order law is a prediction only where its neglected correction is small:
            # zhat^2 (beta - 1) <= 1/4 (g <= 0.7 at zhat = 0.5); beyond, the row is reported
            rows.append(_row("R5 scaling with g (zhat=0.5)", f"{label}, g={g}", 1.0, R,
                             stat=_tcrit(len(vals)) * se, sys_=zhat**2 * (b - 1), n=len(vals),
                             info=zhat**2 * (b - 1) > 0.25))
    rows[0].note = (f"N={settings.sweep_n}, {settings.sweep_seeds} seeds per g, normalised by the g=0 mean; "
                    "sys = zhat^2 (beta-1), the O(zhat^2 beta) correction first order neglects; "
                    "rows with zhat^2 (beta-1) > 1/4 (outside the first-order regime) are reported")
    # shuffle of trained networks: reported
    for g in gains[1:]:
        vals = [r["shuffle"] for r in by_g[g]]
        mu, sem = _mean_sem(vals)
        rows.append(_row("R7 shuffle of trained W (zhat=0.5)", f"L_shuffle/L0, g={g}", shuffle_loss_ratio(g), mu,
                         stat=_tcrit(len(vals)) * sem, n=len(vals), info=True))
    rows[-(len(gains) - 1)].note = "reported: trained dW has O(zhat^2 beta) feedback terms beyond the first-order law"
    rows.extend(_shuffle_construction(settings))
    rows.extend(_drift(settings, dev05))
    return rows


def _shuffle_construction(settings: Settings) -> list:
    r"""R7 on the first-order construction: :math:`z' - w^\top B' m \to \hat z(1-g^2)^2`."""
    import scipy.linalg as sla

    from rnn_theory.theory.linear import shuffle_loss_ratio

    from rnn_theory.numerics.linear import draw_network, normalise_inputs

    n, zhat = 1500, 0.5
    rows = []
    for g in (0.4, 0.6, 0.8):
        vals, ratios = [], []
        K = 16  # independent (m, w) pairs per W0: the overlaps' fluctuations are O(N^-1/2) per pair
        for s in range(1 if settings.quick else 2):
            rng = _rng(60, int(g * 10), s)
            W0, _, _ = draw_network(n, g, rng)
            beta = 1 / (1 - g * g)
            lu = sla.lu_factor(np.eye(n) - W0, check_finite=False)
            Ws = rng.permutation(W0.ravel()).reshape(n, n)
            lus = sla.lu_factor(np.eye(n) - Ws, check_finite=False)
            M = rng.standard_normal((n, K))
            Wv = rng.standard_normal((n, K))
            for j in range(K):
                M[:, j], Wv[:, j] = normalise_inputs(M[:, j], Wv[:, j])
            U0 = sla.lu_solve(lu, Wv, trans=1, check_finite=False)
            V0 = sla.lu_solve(lu, M, check_finite=False)
            BM = sla.lu_solve(lus, M, check_finite=False)
            BU = sla.lu_solve(lus, U0, check_finite=False)
            c = zhat / beta**2
            for j in range(K):
                # W' = Ws + c u0 v0^T: Sherman-Morrison for z' = w^T (I - W')^-1 m
                w, v0 = Wv[:, j], V0[:, j]
                z_off = w @ BM[:, j]
                zp = z_off + c * (w @ BU[:, j]) * (v0 @ BM[:, j]) / (1 - c * (v0 @ BU[:, j]))
                vals.append((zp - z_off) / zhat)
                ratios.append(0.5 * (zhat - zp) ** 2 / (0.5 * zhat**2))
        target = 1 - math.sqrt(shuffle_loss_ratio(g))  # z'/zhat from L'/L0 = (1 - z'/zhat)^2 (R7)
        # the overlaps w^T B' u0 and v0^T B' m fluctuate by O(sqrt(beta^k / N)); "a few % of zhat"
        # (spec) is the stated allowance in addition to the spread
        mu, sem = _mean_sem(vals)
        rows.append(_row("R7 shuffle law (first-order dW)", f"(z' - w'B'm)/zhat, g={g}", target, mu,
                         stat=_tcrit(len(vals)) * sem, sys_=0.03, n=len(vals),
                         note=f"N={n}, {len(vals)} (m, w) pairs; L/L0 = {np.mean(ratios):.3f} vs g^4(2-g^2)^2 = "
                              f"{shuffle_loss_ratio(g):.3f}; sys 0.03: finite-N bias of the overlaps (spec R7: 'a few % of zhat')"))
    return rows


def _drift(settings: Settings, dev05: dict) -> list:
    r"""At ẑ = 2 the deviations from the first-order laws grow (spec §6): reported, not judged.

    No theory value exists for these rows: at ẑ = 2 and g ≥ 0.4 the first-order laws are
    outside their regime (:math:`\hat z^2\beta \ge 4.8`); the series in :math:`\tilde\tau`
    does not reach :math:`\tau_c` (its trusted range ends near :math:`\tilde\tau \approx 0.2`);
    the mapped exact g = 0 solution is not exact at g > 0 (it fails at fifth order,
    :mod:`rnn_theory.theory.scaling`) and has no error bound at :math:`\tau_c`; the exact
    solution exists only at g = 0, where its ẑ = 2 values are judged by the R8 rows.  A sign
    comparison of two simulations is no evidence for a formula, so the rows are ``info``: the
    normalised value at ẑ = 2, with the ẑ = 0.5 deviation and the spec's expected direction
    in the note.
    """
    zhat, lr0 = 2.0, 0.003
    seeds = 4 if settings.quick else 6
    n = settings.sweep_n
    cfgs = _sweep_configs(settings, zhat, lr0, seeds, n=n, gains=(0.0, 0.4, 0.6, 0.8))
    runs = _pmap(_sweep_run, cfgs, settings, "g sweep (zhat=2)")
    from rnn_theory.theory.linear import convergence_time, final_dw_norm, mean_gradient

    laws = {"tau_c": lambda g: convergence_time(g) / convergence_time(0.0),
            "dw_norm": lambda g: final_dw_norm(g, zhat) / final_dw_norm(0.0, zhat),
            "mean_grad": lambda g: mean_gradient(g, zhat) / mean_gradient(0.0, zhat)}
    expected = {"tau_c": -1, "dw_norm": -1, "mean_grad": +1}  # spec 6: faster, smaller dW, larger gradient
    base = {k: [r[k] for c, r in zip(cfgs, runs) if c["g"] == 0.0] for k in laws}
    rows = []
    for key, law in laws.items():
        for g in (0.4, 0.6, 0.8):
            vals = [r[key] / law(g) for c, r in zip(cfgs, runs) if c["g"] == g and np.isfinite(r[key])]
            if len(vals) < 2:
                continue
            R, se = _ratio_stats(vals, base[key])
            d05 = dev05[key][g]
            agrees = expected[key] * (R - 1 - d05) > 0
            note = (f"zhat=0.5 deviation {d05:+.3f}; spec 6 expects the zhat=2 one "
                    f"{'below' if expected[key] < 0 else 'above'} it ({'as seen' if agrees else 'NOT seen'})")
            if key == "tau_c" and g == 0.4:
                note = (f"reported only: no closed form at zhat=2, g>0 (first order out of regime, series does not "
                        f"reach tau_c, mapped g=0 solution not exact); N={n}, {len(vals)} seeds; " + note)
            rows.append(_row("drift at zhat=2 (spec 6, reported)", f"{key} normalised, g={g}", 1.0, R,
                             stat=_tcrit(len(vals)) * se, n=len(vals), info=True, note=note))
    return rows
