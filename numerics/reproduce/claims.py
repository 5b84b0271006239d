r"""The papers' claims, each judged on the CSVs of ``rnn-theory reproduce NAME --out DIR``.

A :class:`Claim` names the reproduction whose folders it reads, the paper's statement
(from the specification in ``/work/shared/reference``), how the package's value is
computed (with its spread over seeds) and the rule for the verdict — *holds*,
*partly* or *does not* (*no data* when no folder of that reproduction is given).
:func:`judge` evaluates a claim on a list of result folders; :mod:`rnn_theory.numerics.cli.commands.report`
renders all claims as Markdown.  Cost: linear in the size of the CSVs.

>>> [c.key for c in CLAIMS if c.reproduction == "farrell-fig4"]
['farrell-holdout-two-neuron', 'farrell-two-neuron']
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rnn_theory.numerics.infra.io import read_csv

__all__ = ["Claim", "Judgement", "CLAIMS", "judge", "TASK_ORDER"]

TASK_ORDER = ("flipflop", "mante", "romo")
HOLDS, PARTLY, FAILS, NO_DATA = "holds", "partly", "does not", "no data"


@dataclass(frozen=True)
class Judgement:
    """The package's value (text, with spread and seed count) and the verdict."""

    value: str
    verdict: str


@dataclass(frozen=True)
class Claim:
    key: str
    reproduction: str      # rnn-theory reproduce NAME
    paper: str             # the paper's statement or number
    source: str            # where in the reference specification
    rule: str              # how the verdict is decided
    evaluate: Callable     # (list of folders) -> Judgement
    figure: str | None = None


_FOLDER = "_folder"   # the column _table adds: which folder a row came from (0, 1, …)


def _table(folders, name) -> dict | None:
    """The CSV ``name`` of all folders concatenated (None when no folder has it), with the
    column ``_folder`` numbering the folder each row came from."""
    parts = [read_csv(Path(f) / name) for f in folders if (Path(f) / name).is_file()]
    parts = [p for p in parts if p]
    if not parts:
        return None
    table = {k: [v for p in parts for v in p.get(k, [])] for k in parts[0]}
    table[_FOLDER] = [i for i, p in enumerate(parts) for _ in next(iter(p.values()))]
    return table


def _arr(t, k, dtype=float):
    return np.asarray(t[k], dtype=object if dtype is object else float)


def _ms(v) -> str:
    v = np.asarray(v, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "n/a"
    return f"{np.mean(v):.3g} ± {np.std(v):.2g} (n={v.size})"


def _separated(a, b) -> bool:
    """mean(a) < mean(b) by more than the two standard errors combined.

    Needs at least two finite values on each side: one seed gives no spread, so it can
    never show a separation (its ordering is at most PARTLY).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return False
    se = np.sqrt(np.var(a) / a.size + np.var(b) / b.size)
    return bool(np.mean(b) - np.mean(a) > 2 * se)


def _order_verdict(groups) -> str:
    """HOLDS: means ordered and each step separated by 2 SE; PARTLY: means ordered; else FAILS."""
    finite = [np.asarray(g, float)[np.isfinite(np.asarray(g, float))] for g in groups]
    means = [float(np.mean(f)) if f.size else np.nan for f in finite]
    if not np.all(np.isfinite(means)) or not all(x < y for x, y in zip(means, means[1:])):
        return FAILS
    return HOLDS if all(_separated(x, y) for x, y in zip(groups, groups[1:])) else PARTLY


# ------------------------------------------------------------------ Schuessler et al.
def _fig2(folders):
    t = _table(folders, "summary.csv")
    if t is None:
        return None
    return _arr(t, "task", object), _arr(t, "g"), t


def _fig2_shuffle(folders):
    d = _fig2(folders)
    if d is None:
        return Judgement("", NO_DATA)
    task, g, t = d
    r = _arr(t, "shuffle_loss_ratio")
    lo, hi = r[g == 0], r[g >= 0.6]
    v = f"g = 0: {_ms(lo)}; g ≥ 0.6: {_ms(hi)}"
    if lo.size == 0 or hi.size == 0:
        return Judgement(v + " (needs runs at g = 0 and g ≥ 0.6)", NO_DATA)
    ok_lo, ok_hi = np.nanmean(lo) < 0.1, np.nanmean(hi) > 0.7
    return Judgement(v, HOLDS if ok_lo and ok_hi else PARTLY if ok_lo or ok_hi else FAILS)


def _fig2_dwnorm(folders):
    d = _fig2(folders)
    if d is None:
        return Judgement("", NO_DATA)
    task, g, t = d
    w = _arr(t, "dw_norm")
    parts, n_dec, n_hold = [], 0, 0
    tasks = [k for k in TASK_ORDER if np.any(task == k)]
    if any(np.unique(g[task == k]).size < 2 for k in tasks):
        return Judgement("needs at least two values of g per task", NO_DATA)
    for k in tasks:
        gs = np.unique(g[task == k])
        vals = [w[(task == k) & (g == x)] for x in gs]
        means = np.array([np.nanmean(v) for v in vals])
        n_dec += means[-1] < means[0]
        rises = [i for i in range(len(gs) - 1) if means[i + 1] >= means[i]]
        real = [i for i in rises if _separated(vals[i], vals[i + 1])]   # a rise by more than 2 SE
        n_hold += _separated(vals[-1], vals[0]) and not real
        text = f"{k}: {means[0]:.3g} (g={gs[0]:g}) → {means[-1]:.3g} (g={gs[-1]:g})"
        if rises:
            text += ", rises at g = " + ", ".join(
                f"{gs[i]:g}→{gs[i + 1]:g} ({means[i]:.3g}→{means[i + 1]:.3g}"
                f"{', > 2 SE' if i in real else ', within 2 SE'})" for i in rises)
        parts.append(text)
    verdict = HOLDS if tasks and n_hold == len(tasks) else PARTLY if n_dec else FAILS
    return Judgement("; ".join(parts), verdict)


def _fig2_convergence(folders):
    d = _fig2(folders)
    if d is None:
        return Judgement("", NO_DATA)
    task, g, t = d
    c = _arr(t, "converged_step")
    parts, hits, tasks = [], 0, [k for k in TASK_ORDER if np.any(task == k)]
    if any(np.unique(g[task == k]).size < 3 for k in tasks):
        return Judgement("needs at least three values of g per task", NO_DATA)
    for k in tasks:
        gs = np.unique(g[task == k])
        med = np.array([np.nanmedian(c[(task == k) & (g == x)]) if np.any(np.isfinite(c[(task == k) & (g == x)]))
                        else np.inf for x in gs])
        best = gs[int(np.argmin(med))]
        hits += 0.8 <= best <= 1.6
        parts.append(f"{k}: fastest at g = {best:g}")
    return Judgement("; ".join(parts), HOLDS if tasks and hits == len(tasks) else PARTLY if hits else FAILS)


def _fig2_rank_order(folders, g_at=0.9):
    d = _fig2(folders)
    if d is None:
        return Judgement("", NO_DATA)
    task, g, t = d
    r = _arr(t, "functional_rank")
    groups = [r[(task == k) & np.isclose(g, g_at)] for k in TASK_ORDER]
    if any(x.size == 0 for x in groups):
        return Judgement(f"not every task was run at g = {g_at}", NO_DATA)
    v = "; ".join(f"{k}: {_ms(x)}" for k, x in zip(TASK_ORDER, groups))
    return Judgement(v, _order_verdict(groups))


def _fig1_truncation(folders):
    t = _table(folders, "truncation.csv")
    if t is None:
        return Judgement("", NO_DATA)
    task, g, seed = _arr(t, "task", object), _arr(t, "g"), _arr(t, "seed")
    rank, ratio = _arr(t, "rank"), _arr(t, "loss_ratio")
    parts, verdicts = [], []
    for gv in np.unique(g):
        groups = []
        for k in TASK_ORDER:
            need = []
            for s in np.unique(seed[(task == k) & (g == gv)]):
                m = (task == k) & (g == gv) & (seed == s) & (ratio < 0.05)
                need.append(rank[m].min() if np.any(m) else np.nan)
            groups.append(need)
        verdicts.append(_order_verdict(groups))
        parts.append(f"g = {gv:g}: " + ", ".join(f"{k} {_ms(x)}" for k, x in zip(TASK_ORDER, groups)))
    verdict = HOLDS if all(v == HOLDS for v in verdicts) else FAILS if all(v == FAILS for v in verdicts) else PARTLY
    return Judgement("; ".join(parts), verdict)


def _nscaling(folders):
    t = _table(folders, "nscaling.csv")
    if t is None:
        return Judgement("", NO_DATA)
    n, g, w = _arr(t, "n"), _arr(t, "g"), _arr(t, "dw_norm")
    parts, flat = [], []
    for gv in np.unique(g):
        ns = np.unique(n[g == gv])
        wl, wh = w[(g == gv) & (n == ns[0])], w[(g == gv) & (n == ns[-1])]
        lo, hi = np.nanmean(wl), np.nanmean(wh)
        flat.append(bool(0.67 <= hi / lo <= 1.5))
        parts.append(f"g = {gv:g}: ‖ΔW‖ {_ms(wl)} at N = {ns[0]:g}, {_ms(wh)} at N = {ns[-1]:g} (ratio {hi / lo:.2f})")
    return Judgement("; ".join(parts), HOLDS if all(flat) else PARTLY if any(flat) else FAILS)


def _lstm(folders):
    t, s = _table(folders, "truncation.csv"), _table(folders, "summary.csv")
    if t is None or s is None:
        return Judgement("", NO_DATA)
    weight, mode, rank, acc = _arr(t, "weight", object), _arr(t, "mode", object), _arr(t, "rank"), _arr(t, "accuracy")
    target = float(np.mean(s["lstm_accuracy"])) - 0.02
    hidden = int(s["hidden"][0])
    need = {}
    for md in ("dW", "W"):
        m = (weight == "all") & (mode == md) & (acc >= target)
        need[md] = float(rank[m].min()) if np.any(m) else np.inf
    v = (f"rank recovering the trained accuracy − 0.02 (all three weights truncated, hidden {hidden}): "
         f"ΔW {need['dW']:g}, W {need['W']:g}")
    if need["dW"] <= hidden / 8 and need["W"] >= hidden / 2:
        return Judgement(v, HOLDS)
    return Judgement(v, PARTLY if need["dW"] < need["W"] else FAILS)


def _fig3_collapse(folders):
    """Seed-mean simulated loss against τ̃ at each g, on the τ̃ range all gains share; the
    largest gap between gains, in units of L0 = ẑ²/2, per ẑ."""
    t = _table(folders, "loss.csv")
    if t is None:
        return Judgement("", NO_DATA)
    src, zh, g, tt, loss = (_arr(t, "source", object), _arr(t, "zhat"), _arr(t, "g"), _arr(t, "tau_tilde"),
                            _arr(t, "loss"))
    sim = src == "simulation"
    parts, gaps = [], {}
    for z in np.unique(zh[sim]):
        gains = np.unique(g[sim & (zh == z)])
        if gains.size < 2:
            continue
        curves = []
        for gv in gains:
            m = sim & (zh == z) & (g == gv)
            x = np.unique(tt[m])
            curves.append((x, np.array([np.mean(loss[m & (tt == v)]) for v in x])))
        hi = min(c[0][-1] for c in curves)
        grid = np.linspace(0.0, hi, 201)
        on_grid = np.array([np.interp(grid, x, y) for x, y in curves])
        gaps[z] = float(np.max(on_grid.max(axis=0) - on_grid.min(axis=0)) / (z * z / 2))
        parts.append(f"ẑ = {z:g} (g = {', '.join(f'{v:g}' for v in gains)}): largest gap {gaps[z]:.3f}·L0 "
                     f"over τ̃ ≤ {hi:.3g}")
    if not gaps:
        return Judgement("needs simulations at two gains", NO_DATA)
    ok = [v < 0.05 for v in gaps.values()]
    return Judgement("; ".join(parts), HOLDS if all(ok) else PARTLY if any(ok) else FAILS)


def _fig4_deviation(t, quantity):
    """{ẑ: mean over g of |seed mean / first-order law − 1|} for one normalised quantity."""
    zh, q, mean, law = _arr(t, "zhat"), _arr(t, "quantity", object), _arr(t, "mean"), _arr(t, "theory")
    out = {}
    for z in np.unique(zh):
        m = (zh == z) & (q == quantity) & np.isfinite(mean) & (law > 0)
        if np.any(m):
            out[float(z)] = float(np.mean(np.abs(mean[m] / law[m] - 1)))
    return out


def _fig4_laws(folders):
    t = _table(folders, "normalised.csv")
    if t is None:
        return Judgement("", NO_DATA)
    parts, close, grows = [], [], []
    for q, label in (("tau_c", "τ_c"), ("dw_norm", "‖ΔW‖"), ("mean_grad", "mean gradient")):
        dev = _fig4_deviation(t, q)
        if len(dev) < 2 or min(dev) > 0.5:
            return Judgement("needs ẑ = 0.5 and a larger ẑ", NO_DATA)
        zs = sorted(dev)
        close.append(dev[zs[0]] < 0.1)
        grows.append(dev[zs[-1]] > dev[zs[0]])
        parts.append(f"{label}: " + ", ".join(f"{dev[z]:.3f} (ẑ = {z:g})" for z in zs))
    v = "mean |normalised / law − 1| over g: " + "; ".join(parts)
    return Judgement(v, HOLDS if all(close) and all(grows) else PARTLY if all(close) or all(grows) else FAILS)


def _fig4_shuffle(folders):
    t = _table(folders, "normalised.csv")
    if t is None:
        return Judgement("", NO_DATA)
    zh, q, mean, law = _arr(t, "zhat"), _arr(t, "quantity", object), _arr(t, "mean"), _arr(t, "theory")
    sh = (q == "shuffle_loss_ratio") & np.isfinite(mean)
    zs = np.unique(zh[sh])
    if zs.size < 2 or zs[0] > 0.5:
        return Judgement("needs ẑ = 0.5 and a larger ẑ", NO_DATA)
    lo, hi = sh & (zh == zs[0]), sh & (zh == zs[-1])
    err_lo = float(np.mean(np.abs(mean[lo] - law[lo])))
    excess_hi = float(np.mean(mean[hi] - law[hi]))
    v = (f"ẑ = {zs[0]:g}: mean |ratio − g⁴(2−g²)²| over g = {err_lo:.3f}; ẑ = {zs[-1]:g}: mean ratio − law = "
         f"{excess_hi:+.3f}")
    ok = [err_lo < 0.05, excess_hi > 0.05]
    return Judgement(v, HOLDS if all(ok) else PARTLY if any(ok) else FAILS)


# ------------------------------------------------------------------ Zhu & Rosenbaum
def _digits(folders):
    groups = {}
    for f in folders:  # one folder per seed: the best accuracy over each rule's learning-rate grid
        t = _table([f], "runs.csv")
        if t is None:
            continue
        rule, best = _arr(t, "rule", object), _arr(t, "best_test_accuracy")
        for r in np.unique(rule):
            groups.setdefault(r, []).append(np.nanmax(best[rule == r]))
    if not all(k in groups for k in ("dW1", "dW3", "dW4")):
        return Judgement("", NO_DATA)
    order = [groups["dW1"], groups["dW4"], groups["dW3"]]
    v = "; ".join(f"{k}: {_ms(groups[k])}" for k in ("dW3", "dW4", "dW1"))
    return Judgement(v, _order_verdict(order))


# ------------------------------------------------------------------ Farrell et al.
# The thresholds below are those of the reduced-size tests of the same claims
# (tests/numerics/test_farrell_claims.py), fixed before any full-size run was looked at.
G_EDGE, G_CHAOS = 20.0, 250.0


def _series(t, x, y, select=None) -> dict:
    """``{gamma: {(folder, seed): (xs, ys)}}``: columns ``x`` and ``y`` of each run, sorted by
    ``x``, over the rows where ``select(col)`` is true; ``col(name, dtype=float)`` reads a
    column.  A run is (folder, γ, seed): two folders with the same seeds are two sets of runs."""
    col = lambda k, d=float: _arr(t, k, d)  # noqa: E731
    gam, seed, xs, ys = col("gamma"), col("seed"), col(x), col(y)
    folder = col(_FOLDER) if _FOLDER in t else np.zeros(gam.size)
    m = np.ones(gam.size, bool) if select is None else np.asarray(select(col), bool)
    out: dict = {}
    for gv in np.unique(gam[m]):
        for fo, sd in sorted({(int(a), int(b)) for a, b in zip(folder[m & (gam == gv)], seed[m & (gam == gv)])}):
            r = m & (gam == gv) & (seed == sd) & (folder == fo)
            order = np.argsort(xs[r], kind="stable")
            out.setdefault(float(gv), {})[(fo, sd)] = (xs[r][order], ys[r][order])
    return out


def _seed_curves(t, gamma, stage, extra=None) -> np.ndarray | None:
    """PR(t), t = 0, 1, …, one row per seed (from a ``pr.csv``-like table), or None."""
    def sel(col):
        m = (col("stage", object) == stage) & (col("gamma") == gamma)
        return m if extra is None else m & extra(col)
    curves = [y for _, y in _series(t, "t", "pr", sel).get(float(gamma), {}).values()]
    if not curves or len({c.size for c in curves}) != 1:
        return None
    return np.array(curves)


def _conditions(parts, conds) -> Judgement:
    """HOLDS if every condition is met, PARTLY if some, FAILS if none."""
    v = HOLDS if all(conds) else PARTLY if any(conds) else FAILS
    return Judgement("; ".join(parts), v)


def _farrell(folders):
    t = _table(folders, "pr.csv")
    if t is None:
        return Judgement("", NO_DATA)
    at10 = {st: _series(t, "t", "pr", lambda c, st=st: (c("stage", object) == st) & (c("t") == 10))
            for st in ("before", "after")}
    parts, ok = [], []
    for gv in sorted(set(at10["before"]) | set(at10["after"])):
        b, a = at10["before"].get(gv, {}), at10["after"].get(gv, {})
        ratios = [a[run][1][0] / b[run][1][0] for run in b if run in a]  # runs: (folder, seed)
        ok.append(bool(ratios) and np.mean(ratios) < 0.5)
        parts.append(f"γ = {gv:g}: PR_after(10)/PR_before(10) = {_ms(ratios)}")
    return Judgement("; ".join(parts), HOLDS if all(ok) else PARTLY if any(ok) else FAILS)


def _top_exponents(folders, final: bool) -> dict | None:
    """``{gamma: [λ₁ per seed]}`` at epoch 0 or at each run's last recorded epoch."""
    t = _table(folders, "lyapunov.csv")
    if t is None:
        return None
    runs = _series(t, "epoch", "exponent_nats", lambda c: c("index") == 0)
    out = {gv: [lam[-1] if final else lam[0] for ep, lam in seeds.values() if final or ep[0] == 0]
           for gv, seeds in runs.items()}
    return out if all(out.get(g) for g in (G_EDGE, G_CHAOS)) else None


def _farrell_initial_chaos(folders):
    top = _top_exponents(folders, final=False)
    if top is None:
        return Judgement("", NO_DATA)
    e, c = np.nanmean(top[G_EDGE]), np.nanmean(top[G_CHAOS])
    return _conditions([f"λ₁ at initialisation (nats per step): γ = 20: {_ms(top[G_EDGE])}; "
                        f"γ = 250: {_ms(top[G_CHAOS])}"], [abs(e) < 0.05, c > 0.1])


def _farrell_attractors(folders):
    top = _top_exponents(folders, final=True)
    if top is None:
        return Judgement("", NO_DATA)
    return _conditions([f"λ₁ after training (nats per step): γ = 20: {_ms(top[G_EDGE])}; "
                        f"γ = 250: {_ms(top[G_CHAOS])}"],
                       [np.nanmean(top[G_EDGE]) < 0, np.nanmean(top[G_CHAOS]) > 0])


def _pr_curves(folders, stage):
    """``(γ = 20, γ = 250)`` per-run PR curves of ``pr.csv`` at ``stage``, or None."""
    t = _table(folders, "pr.csv")
    if t is None:
        return None
    e, c = (_seed_curves(t, g, stage) for g in (G_EDGE, G_CHAOS))
    return None if e is None or c is None or min(e.shape[1], c.shape[1]) < 11 else (e, c)


def _farrell_expansion_lowd(folders):
    pr = _pr_curves(folders, "before")
    if pr is None:
        return Judgement("", NO_DATA)
    (e, c), (es, cs) = (x.mean(axis=0) for x in pr), pr
    return _conditions([f"PR before training: γ = 250: PR(1) {_ms(cs[:, 1])} → PR(10) {_ms(cs[:, 10])}",
                        f"γ = 20: PR(0) {_ms(es[:, 0])} → PR(10) {_ms(es[:, 10])}"],
                       [c[10] > 2 * c[1], e[10] < 1.3 * e[0]])


def _farrell_edge_earlier(folders):
    pr = _pr_curves(folders, "after")
    if pr is None:
        return Judgement("", NO_DATA)
    (e, c), (es, cs) = (x.mean(axis=0) for x in pr), pr
    return _conditions([f"PR(5) after training: γ = 20: {_ms(es[:, 5])}; γ = 250: {_ms(cs[:, 5])}"],
                       [e[5] < 6.0, c[5] > 3.0 * e[5]])


def _farrell_expand_compress(folders):
    pr = _pr_curves(folders, "after")
    if pr is None:
        return Judgement("", NO_DATA)
    c = pr[1].mean(axis=0)[:11]
    peak = 1 + int(np.argmax(c[1:]))
    v = (f"PR after training, γ = 250 (seed mean), t = 1…10: {', '.join(f'{x:.2f}' for x in c[1:])}; "
         f"peak at t = {peak}")
    return Judgement(v, HOLDS if 1 < peak < 10 else FAILS)


def _farrell_highd_before(folders):
    pr = _pr_curves(folders, "before")
    if pr is None or min(pr[0].shape[1], pr[1].shape[1]) < 16:
        return Judgement("", NO_DATA)
    e, c = (x.mean(axis=0) for x in pr)
    tail = lambda p: abs(p[15] - p[12]) / p[12]  # noqa: E731 - relative change over t = 12…15
    conds = [abs(e[1] / e[0] - 1) < 0.05 and abs(c[1] / c[0] - 1) < 0.05,
             bool(np.all(np.diff(e[1:]) < 0) and e[10] > 0.5 * e[1]),
             c[5] < e[5], tail(c) < tail(e)]
    return _conditions([f"PR before training (seed mean), t = 0, 1, 5, 10, 15: γ = 20: "
                        f"{', '.join(f'{e[i]:.1f}' for i in (0, 1, 5, 10, 15))}; γ = 250: "
                        f"{', '.join(f'{c[i]:.1f}' for i in (0, 1, 5, 10, 15))}",
                        "met: " + ", ".join(f"{k} {'yes' if ok else 'no'}" for k, ok in zip(
                            ("PR(1) ≈ PR(0)", "slow decay at γ = 20", "faster at γ = 250", "plateau"), conds))],
                       conds)


def _accuracy_by_seed(folders, epochs=None) -> dict | None:
    """``{gamma: [per-seed accuracy]}``: the last epoch's (``epochs`` None) or the mean over
    the epochs ``epochs[0] … epochs[1]``."""
    t = _table(folders, "accuracy.csv")
    if t is None:
        return None
    out = {}
    for gv, seeds in _series(t, "epoch", "accuracy").items():
        vals = []
        for ep, acc in seeds.values():
            if epochs is None:
                vals.append(acc[-1])
            else:
                m = (ep >= epochs[0]) & (ep <= epochs[1])
                vals.append(float(np.mean(acc[m])) if np.any(m) else np.nan)
        out[gv] = vals
    return out if {G_EDGE, G_CHAOS} <= set(out) else None


def _farrell_accuracy_highd(folders):
    acc = _accuracy_by_seed(folders)
    if acc is None:
        return Judgement("", NO_DATA)
    return _conditions([f"accuracy after the last epoch: γ = 20: {_ms(acc[G_EDGE])}; γ = 250: {_ms(acc[G_CHAOS])}"],
                       [np.nanmean(acc[G_EDGE]) >= 0.98, np.nanmean(acc[G_CHAOS]) >= 0.98])


def _farrell_accuracy_lowd(folders):
    acc = _accuracy_by_seed(folders, epochs=(1, 10))
    if acc is None:
        return Judgement("", NO_DATA)
    v = f"mean accuracy over epochs 1–10: γ = 20: {_ms(acc[G_EDGE])}; γ = 250: {_ms(acc[G_CHAOS])}"
    return Judgement(v, _order_verdict([acc[G_EDGE], acc[G_CHAOS]]))


def _farrell_holdout(folders):
    t = _table(folders, "holdout.csv")
    if t is None:
        return Judgement("", NO_DATA)
    at = {}
    for st in ("before", "after"):
        runs = _series(t, "t", "test_accuracy", lambda c, st=st: c("stage", object) == st).get(G_CHAOS, {})
        at[st] = [acc[ts == 10][0] for ts, acc in runs.values() if np.any(ts == 10)]
    b, a = at["before"], at["after"]
    if not b or not a:
        return Judgement("", NO_DATA)
    return _conditions([f"γ = 250, held-out-cluster accuracy at t = 10: before {_ms(b)}, after {_ms(a)}"],
                       [np.mean(a) >= 0.85, np.mean(a) > np.mean(b) + 0.25])


def _farrell_two_neuron(folders):
    acc = _accuracy_by_seed(folders)
    if acc is None:
        return Judgement("", NO_DATA)
    e, c = np.nanmean(acc[G_EDGE]), np.nanmean(acc[G_CHAOS])
    return _conditions([f"accuracy after the last epoch: γ = 20: {_ms(acc[G_EDGE])}; γ = 250: {_ms(acc[G_CHAOS])}"],
                       [c >= 0.85, e < c - 0.1])


def _farrell_mse_noise(folders):
    t = _table(folders, "pr_noise.csv")
    if t is None:
        return Judgement("", NO_DATA)
    pr = {}
    for sig in (0.0, 0.5):
        curves = [_seed_curves(t, G_CHAOS, st, lambda c, s=sig: c("noise") == s) for st in ("before", "after")]
        if any(c is None or c.shape[1] < 11 for c in curves):
            return Judgement("", NO_DATA)
        pr[sig] = (curves[0][:, 10], curves[1][:, 10])
    (b0, a0), (b5, a5) = ((np.mean(b), np.mean(a)) for b, a in (pr[0.0], pr[0.5]))
    return _conditions([f"MSE, γ = 250, PR(10) before → after: σ_h = 0: {_ms(pr[0.0][0])} → {_ms(pr[0.0][1])}; "
                        f"σ_h = 0.5: {_ms(pr[0.5][0])} → {_ms(pr[0.5][1])}"],
                       [a0 > 0.5 * b0, a5 < 0.35 * b5, a5 < 0.5 * a0])


CLAIMS = (
    Claim("fig1-truncation-order", "schuessler-fig1",
          "The truncation loss drops to near zero at a small rank; the rank needed increases from flip-flop "
          "to Mante to Romo.", "nonlinear_tasks.md §7",
          "rank needed = smallest R with loss_ratio < 0.05, per seed; holds if the means are ordered with "
          "gaps > 2 SE (at least 2 seeds per group) at every g, partly if ordered or at some g",
          _fig1_truncation, "fig1.png"),
    Claim("fig2-shuffle", "schuessler-fig2",
          "Shuffle loss ≈ 0 at g = 0 and ≈ the initial loss for g ≳ 0.6, in every task.",
          "nonlinear_tasks.md §7", "holds if mean ratio < 0.1 at g = 0 and > 0.7 at g ≥ 0.6",
          _fig2_shuffle, "fig2.png"),
    Claim("fig2-dw-norm", "schuessler-fig2", "‖ΔW‖_F decreases with g.", "nonlinear_tasks.md §7",
          "holds if, in every task, the seed mean at the last g is below that at g = 0 by more than 2 SE and no "
          "step in g raises it by more than 2 SE (at least 2 seeds per g); partly if the last g is below g = 0",
          _fig2_dwnorm, "fig2.png"),
    Claim("fig2-convergence", "schuessler-fig2",
          "Convergence time is non-monotonic, with a minimum near g ≈ 1–1.5.", "nonlinear_tasks.md §7",
          "holds if the median convergence step is smallest at 0.8 ≤ g ≤ 1.6 for every task",
          _fig2_convergence, "fig2.png"),
    Claim("fig2-functional-rank-order", "schuessler-fig2",
          "The rank needed increases from flip-flop to Mante to Romo (here: functional rank at g = 0.9).",
          "nonlinear_tasks.md §7",
          "holds if the means are ordered with gaps > 2 SE (at least 2 seeds per group), partly if only ordered",
          _fig2_rank_order, "fig2.png"),
    Claim("fig3-collapse", "schuessler-fig3",
          "Loss curves collapse across g when plotted against the effective time τ̃ (and follow the theory).",
          "linear_theory.md §6",
          "largest gap between the seed-mean simulated losses of different g on a common τ̃ grid, in units of "
          "L0 = ẑ²/2; holds if < 0.05 at every ẑ, partly if at some ẑ",
          _fig3_collapse, "fig3.png"),
    Claim("fig4-first-order-laws", "schuessler-fig4",
          "Normalised τ_c ≈ (1−g²)², ‖ΔW‖ ≈ 1−g², mean gradient ≈ 1/(1−g²); deviations grow with ẑ.",
          "linear_theory.md §6",
          "mean over g = 0…0.9 of |seed mean / law − 1| per ẑ; holds if < 0.1 at ẑ = 0.5 and larger at the "
          "largest ẑ, for all three quantities; partly if one of the two holds for all three",
          _fig4_laws, "fig4.png"),
    Claim("fig4-shuffle", "schuessler-fig4",
          "Shuffle loss ≈ g⁴(2−g²)²·L0 at ẑ = 0.5; well above the curve at ẑ = 2.", "linear_theory.md §6",
          "holds if the mean |L_shuffle/L0 − g⁴(2−g²)²| over g is < 0.05 at ẑ = 0.5 and the mean excess at the "
          "largest ẑ is > 0.05; partly if one of the two",
          _fig4_shuffle, "fig4.png"),
    Claim("nscaling-dw-flat", "schuessler-nscaling", "‖ΔW‖_F is flat in N and decreases with g.",
          "nonlinear_tasks.md §7", "holds if ‖ΔW‖(largest N)/‖ΔW‖(smallest N) is in [0.67, 1.5] at every g",
          _nscaling, "nscaling.png"),
    Claim("lstm-truncation", "schuessler-lstm",
          "Truncating ΔW at low rank recovers the accuracy; truncating W needs nearly full rank.",
          "nonlinear_tasks.md §8",
          "holds if ΔW needs ≤ hidden/8 and W ≥ hidden/2; partly if ΔW needs fewer than W",
          _lstm, "truncation.png"),
    Claim("digits-ranking", "zhu-digits", "Best accuracy ranks dW3 > dW4 > dW1.",
          "fixed_point_learning.md §8",
          "best test accuracy over each rule's learning rates, per seed (folder); holds if the means are ordered "
          "with gaps > 2 SE (at least 2 seeds per group), partly if only ordered", _digits, "digits.png"),
    Claim("farrell-initial-chaos", "farrell-fig2",
          "At initialisation the top Lyapunov exponent is near 0 for γ = 20 and clearly positive for γ = 250.",
          "dimensionality.md §9 (1)",
          "seed mean of λ₁ at epoch 0; holds if |λ₁(γ = 20)| < 0.05 and λ₁(γ = 250) > 0.1 nats per step, "
          "partly if one of the two", _farrell_initial_chaos, "lyapunov.png"),
    Claim("farrell-expansion-lowd", "farrell-fig3",
          "Chaos expands low-d input before training: at d = 2, PR grows substantially from t = 1 to 10 "
          "for γ = 250 and stays close to the input's for γ = 20.", "dimensionality.md §9 (2)",
          "seed-mean PR before training; holds if PR(10) > 2·PR(1) at γ = 250 and PR(10) < 1.3·PR(0) at "
          "γ = 20, partly if one of the two", _farrell_expansion_lowd, "pr.png"),
    Claim("farrell-compression", "farrell-fig2",
          "Training compresses at the readout time: PR at t = 10 after training is far below its value "
          "before, for both γ.", "dimensionality.md §9 (3)",
          "holds if the mean PR_after(10)/PR_before(10) < 0.5 for every γ", _farrell, "pr.png"),
    Claim("farrell-edge-earlier", "farrell-fig2",
          "The edge of chaos compresses earlier: at t ≈ 5 after training PR is already small for γ = 20 but "
          "still large for γ = 250.", "dimensionality.md §9 (4)",
          "seed-mean PR(5) after training; holds if PR(5) < 6 at γ = 20 and PR(5) at γ = 250 > 3× that, "
          "partly if one of the two", _farrell_edge_earlier, "pr.png"),
    Claim("farrell-expand-then-compress", "farrell-fig3",
          "Low-d input, γ = 250, after training: PR peaks before t = 10, above both PR(1) and PR(10).",
          "dimensionality.md §9 (5)",
          "seed-mean PR after training over t = 1…10; holds if its maximum is at 1 < t < 10",
          _farrell_expand_compress, "pr.png"),
    Claim("farrell-attractors", "farrell-fig2",
          "After training the top Lyapunov exponent is negative for γ = 20 and stays positive for γ = 250.",
          "dimensionality.md §9 (6)",
          "seed mean of λ₁ at the last recorded epoch; holds if < 0 at γ = 20 and > 0 at γ = 250, partly if "
          "one of the two", _farrell_attractors, "lyapunov.png"),
    Claim("farrell-accuracy-highd", "farrell-fig2",
          "High-d input: both γ reach near-perfect test accuracy within the 10-epoch run.",
          "dimensionality.md §9 (7)",
          "seed-mean accuracy after the last epoch of the 10 × 400-sample run; holds if ≥ 0.98 for both γ, "
          "partly for one", _farrell_accuracy_highd, "accuracy.png"),
    Claim("farrell-accuracy-lowd", "farrell-fig3",
          "Low-d input: γ = 250 has the higher early-epoch accuracy (mean over ≥ 3 seeds).",
          "dimensionality.md §9 (7)",
          "per seed the mean accuracy over epochs 1–10; holds if γ = 250's mean is higher by more than 2 SE "
          "(at least 2 seeds each), partly if only higher", _farrell_accuracy_lowd, "accuracy.png"),
    Claim("farrell-holdout-lowd", "farrell-fig3",
          "After training γ = 250 reaches near-perfect held-out-cluster accuracy at t = 10 (low-d input), far "
          "above the value before training.", "dimensionality.md §9 (8)",
          "seed means at γ = 250, t = 10; holds if after ≥ 0.85 and after > before + 0.25, partly if one",
          _farrell_holdout, "holdout.png"),
    Claim("farrell-holdout-two-neuron", "farrell-fig4",
          "The same with input into two neurons: held-out accuracy at t = 10 near-perfect after training, "
          "far above before.", "dimensionality.md §9 (8)",
          "seed means at γ = 250, t = 10; holds if after ≥ 0.85 and after > before + 0.25, partly if one",
          _farrell_holdout, "holdout.png"),
    Claim("farrell-two-neuron", "farrell-fig4",
          "Two-neuron input: γ = 250 reaches high accuracy; γ = 20 is clearly worse on the seed mean.",
          "dimensionality.md §9 (9)",
          "seed-mean accuracy after the last epoch; holds if ≥ 0.85 at γ = 250 and γ = 20 is lower by more "
          "than 0.1, partly if one of the two", _farrell_two_neuron, "accuracy.png"),
    Claim("farrell-mse-needs-noise", "farrell-fig5",
          "MSE (high-d, γ = 250, lr 1e-3, 40 epochs): without noise PR_after(10) stays close to "
          "PR_before(10); with σ_h = 0.5 it drops to a few dimensions.", "dimensionality.md §9 (10)",
          "seed means; holds if after > 0.5·before without noise, after < 0.35·before with noise and the "
          "noisy after < 0.5 × the noise-free after; partly if some of the three", _farrell_mse_noise, "pr.png"),
    Claim("farrell-highd-before", "farrell-fig2",
          "High-d input before training: PR(1) ≈ the input's PR; over t PR decays slowly for γ = 20, faster "
          "for γ = 250, then plateaus.", "dimensionality.md §9 (11)",
          "seed-mean PR before training; holds if PR(1) is within 5 % of PR(0) for both γ, PR falls at every "
          "step from t = 1 for γ = 20 and PR(10) > PR(1)/2, PR(5) is lower at γ = 250, and the relative change "
          "over t = 12…15 is smaller at γ = 250; partly if some of these", _farrell_highd_before, "pr.png"),
)


def judge(claim: Claim, folders) -> Judgement:
    """Evaluate ``claim`` on the result folders of its reproduction (NO_DATA without any)."""
    folders = [Path(f) for f in folders]
    if not folders:
        return Judgement("", NO_DATA)
    return claim.evaluate(folders)
