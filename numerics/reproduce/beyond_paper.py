r"""Large-N learning curves at g > 0 for the beyond-the-paper results (issue 12, parts 1–2).

Trains the paper's linear network (:func:`rnn_theory.numerics.linear.finite_n.curve_observables`)
at several N and seeds and appends one CSV row per (run, recorded τ̃) to ``--out``:
``g, zhat, lr0, n, seed, z0, tau_tilde, z, G, dw_norm, s1, s2`` (``z`` is :math:`z - z_0`).
Runs already in the file are skipped, so an interrupted run resumes.  Regenerate the data
behind ``docs/beyond_the_paper.md`` with::

    OMP_NUM_THREADS=1 python -m rnn_theory.numerics.reproduce.beyond_paper --out docs/data/beyond_paper_runs.csv

(:data:`PLAN`; dominated by the N = 8192 runs, :math:`O(N^3)` set-up plus :math:`O(N^2)`
per step: measured ≈ 90 s CPU each, ≈ 11 min wall at load 15 on 2 cores; the plan took
≈ 55 min wall in two processes, ``--g 0.3`` and ``--g 0.6``).  ``--plan small`` is a seconds-long smoke
run.  :func:`extrapolated_table` reduces the file to N → ∞ values with uncertainties;
``--table docs/data/beyond_paper_extrapolated.csv`` writes them with the theory alongside
(:func:`write_table`).
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from rnn_theory.numerics.linear.finite_n import OBSERVABLES, curve_observables, extrapolate_pooled

__all__ = ["PLAN", "SMALL_PLAN", "run_plan", "extrapolated_table", "write_table", "beyond_curves", "main"]

COLUMNS = ("g", "zhat", "lr0", "n", "seed", "z0", "tau_tilde") + OBSERVABLES

#: (g, zhat, lr0, steps, every, {N: number of seeds}); the second lr0 (halved step) at one N
#: measures the gradient-descent discretisation error (paired seeds).
PLAN = [
    (g, 2.0, lr0, steps, every, sizes)
    for g in (0.3, 0.6)
    for lr0, steps, every, sizes in ((0.002, 200, 10, {1024: 16, 2048: 12, 4096: 6, 8192: 2}),
                                     (0.001, 400, 20, {2048: 4}))
]
SMALL_PLAN = [(0.6, 2.0, 0.01, 20, 10, {64: 2, 128: 2})]


def _done(path: Path) -> set:
    if not path.exists():
        return set()
    with path.open() as fh:
        return {(float(r["g"]), float(r["zhat"]), float(r["lr0"]), int(r["n"]), int(r["seed"]))
                for r in csv.DictReader(fh)}


def run_plan(plan, out, *, verbose: bool = True) -> Path:
    """Run every (config, N, seed) of ``plan`` not yet in ``out`` and append its rows.

    Seeds are ``(1200, round(1000 g), n, seed)`` (independent draws for every N and g;
    the halved-step runs reuse the seeds of the same N, so the GD error is paired).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _done(out)
    new = not out.exists()
    with out.open("a", newline="") as fh:
        wr = csv.writer(fh)
        if new:
            wr.writerow(COLUMNS)
        for g, zhat, lr0, steps, every, sizes in plan:
            for n, nseeds in sorted(sizes.items()):
                for s in range(nseeds):
                    if (g, zhat, lr0, n, s) in done:
                        continue
                    obs = curve_observables(n, g, zhat, lr0, steps, (1200, round(1000 * g), n, s), every=every)
                    for k, t in enumerate(obs["tau_tilde"]):
                        wr.writerow([g, zhat, lr0, n, s, f"{obs['z0']:.10g}", f"{t:.6g}"] + [f"{obs[q][k]:.10g}" for q in OBSERVABLES])
                    fh.flush()
                    if verbose:
                        print(f"g={g} zhat={zhat} lr0={lr0} N={n} seed={s} done", flush=True)
    return out


def _read(path):
    with Path(path).open() as fh:
        rows = list(csv.DictReader(fh))
    return [{k: float(v) for k, v in r.items()} for r in rows]


def _mean_sem(v):
    v = np.asarray(v, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))


def extrapolated_table(path, *, lr0: float = 0.002, lr0_half: float = 0.001) -> list:
    r"""N → ∞ values per (g, ẑ, τ̃, quantity) from the runs in ``path``.

    For each recorded :math:`\tilde\tau` common to both step sizes: the pooled fit
    :math:`x_\infty + a/N` with the draws' :math:`G(0)` and :math:`z_0` as control variates
    (:func:`rnn_theory.numerics.linear.finite_n.extrapolate_pooled`) over the ``lr0`` runs, and the gradient-descent correction
    :math:`\delta_{GD} = 2\,\overline{(x(\mathrm{lr_0}/2) - x(\mathrm{lr_0}))}` from the paired
    halved-step seeds (first-order method: the flow limit is :math:`x + \delta_{GD}`), with its
    standard error.  Returns dicts with ``g, zhat, tau_tilde, quantity, x_inf, err, slope,
    c_G0, c_z0, s, dof, gd_corr, gd_err, flow, flow_err`` (``flow = x_inf + gd_corr``,
    ``flow_err`` the two errors in quadrature).
    """
    rows = _read(path)
    g0_of = {(r["g"], r["zhat"], r["lr0"], r["n"], r["seed"]): r["G"] for r in rows if r["tau_tilde"] == 0}
    out = []
    for g, zh in sorted({(r["g"], r["zhat"]) for r in rows}):
        sub = [r for r in rows if r["g"] == g and r["zhat"] == zh]
        main = [r for r in sub if r["lr0"] == lr0]
        half = [r for r in sub if r["lr0"] == lr0_half]
        t_half = {round(r["tau_tilde"], 6) for r in half}
        times = {round(r["tau_tilde"], 6) for r in main}
        for t in sorted(times & t_half if t_half else times):  # no halved-step runs: gd_err = nan
            at = {(r["n"], r["seed"]): r for r in main if round(r["tau_tilde"], 6) == t}
            hat = {(r["n"], r["seed"]): r for r in half if round(r["tau_tilde"], 6) == t}
            ns = sorted({k[0] for k in at})
            for q in OBSERVABLES:
                keys = [k for k in at if np.isfinite(at[k][q])]  # G is undefined once eps = 0
                if len(keys) < 6:
                    continue
                fit = extrapolate_pooled([k[0] for k in keys], [at[k][q] for k in keys],
                                         [g0_of[(g, zh, lr0) + k] for k in keys], [at[k]["z0"] for k in keys],
                                         1 / (1 - g * g))
                diffs = [2 * (r[q] - at[k][q]) for k, r in hat.items() if k in at]
                gd, gd_err = _mean_sem(diffs) if len(diffs) > 1 else (0.0, float("nan"))
                out.append({"g": g, "zhat": zh, "tau_tilde": t, "quantity": q, **fit, "gd_corr": gd,
                            "gd_err": gd_err, "flow": fit["x_inf"] + gd,
                            "flow_err": float(np.hypot(fit["err"], gd_err))})
    return out


def beyond_curves(g: float, zhat: float, tau_tilde) -> dict:
    """Beyond-the-paper theory curves on a τ̃ grid: {source: dict(tau, tau_tilde, z, loss, s1, s2)}.

    ``order5`` (the order-5 series, clipped once z reaches ẑ as in Fig 3) and ``mapped_g0``
    (the exact g = 0 solution under the scaling map; exact only at g = 0, see
    :mod:`rnn_theory.theory.scaling`).  Cost: one ODE solve plus O(T).
    """
    from rnn_theory.theory import scaling
    from rnn_theory.theory.linear import series_curves

    tt = np.asarray(tau_tilde, dtype=float)
    out = {}
    for src, cur in (("order5", series_curves(g, zhat, tt, tilde=True, clip=True, order=5)),
                     ("mapped_g0", scaling.solve(g, zhat, tt, tilde=True))):
        out[src] = {k: np.asarray(cur[k]) for k in ("tau", "tau_tilde", "z", "loss", "s1", "s2")}
    return out


def write_table(runs, out) -> Path:
    r""":func:`extrapolated_table` of ``runs`` with the theory values alongside, as CSV ``out``.

    Extra columns: ``order5``, ``order9`` (:func:`rnn_theory.theory.linear.series_curves`)
    and ``mapped`` (:func:`rnn_theory.theory.scaling.solve`); for ``dw_norm`` the series
    columns are :math:`\sqrt{\|\Delta W\|^2}`.
    """
    from rnn_theory.numerics.infra.io import write_csv
    from rnn_theory.theory import scaling
    from rnn_theory.theory.linear import series_curves

    tab = extrapolated_table(runs)
    cols = {}
    for r in tab:
        g, zh, t, q = r["g"], r["zhat"], r["tau_tilde"], r["quantity"]
        key = "dw_norm2" if q == "dw_norm" else q
        for k in (5, 9):
            v = float(series_curves(g, zh, [t], tilde=True, order=k)[key][0])
            r[f"order{k}"] = float(np.sqrt(v)) if q == "dw_norm" else v
        r["mapped"] = float(scaling.solve(g, zh, [t], tilde=True)[q][0])
        for k, v in r.items():
            cols.setdefault(k, []).append(v)
    return write_csv(Path(out), cols)


def main(argv=None) -> int:
    """Command line: ``--out PATH`` (CSV, appended), ``--plan full|small``, ``--g G``,
    ``--table PATH`` (only tabulate ``--out`` into PATH with :func:`write_table`)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="docs/data/beyond_paper_runs.csv")
    ap.add_argument("--plan", choices=("full", "small"), default="full")
    ap.add_argument("--g", type=float, default=None, help="only the plan entries with this gain")
    ap.add_argument("--table", default=None, help="write the N -> inf table of --out to this CSV and stop")
    a = ap.parse_args(argv)
    if a.table:
        write_table(a.out, a.table)
        return 0
    plan = PLAN if a.plan == "full" else SMALL_PLAN
    run_plan([p for p in plan if a.g is None or p[0] == a.g], a.out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
