r"""The papers' claims, each judged on the CSVs of ``rnn-theory reproduce NAME --out DIR``.

A :class:`Claim` names the reproduction whose folders it reads, the paper's statement
(from the specification in ``/work/shared/reference``), how the package's value is
computed (with its spread over seeds) and the rule for the verdict — *holds*,
*partly* or *does not* (*no data* when no folder of that reproduction is given).
:func:`judge` evaluates a claim on a list of result folders; :mod:`rnn_theory.numerics.cli.commands.report`
renders all claims as Markdown.  Cost: linear in the size of the CSVs.

>>> sorted(c.key for c in CLAIMS)[:3]
['digits-ranking', 'farrell-compression', 'fig1-truncation-order']
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


def _table(folders, name) -> dict | None:
    """The CSV ``name`` of all folders concatenated (None when no folder has it)."""
    parts = [read_csv(Path(f) / name) for f in folders if (Path(f) / name).is_file()]
    parts = [p for p in parts if p]
    if not parts:
        return None
    return {k: [v for p in parts for v in p.get(k, [])] for k in parts[0]}


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
        lo, hi = np.nanmean(w[(g == gv) & (n == ns[0])]), np.nanmean(w[(g == gv) & (n == ns[-1])])
        flat.append(0.67 <= hi / lo <= 1.5)
        parts.append(f"g = {gv:g}: ‖ΔW‖ N={ns[0]:g}→{ns[-1]:g} ratio {hi / lo:.2f}")
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
def _farrell(folders):
    t = _table(folders, "pr.csv")
    if t is None:
        return Judgement("", NO_DATA)
    gam, seed, stage, tt, pr = (_arr(t, "gamma"), _arr(t, "seed"), _arr(t, "stage", object), _arr(t, "t"),
                                _arr(t, "pr"))
    parts, ok = [], []
    for gv in np.unique(gam):
        ratios = []
        for s in np.unique(seed[gam == gv]):
            m = (gam == gv) & (seed == s) & (tt == 10)
            b, a = pr[m & (stage == "before")], pr[m & (stage == "after")]
            if a.size and b.size:
                ratios.append(a[0] / b[0])
        ok.append(bool(ratios) and np.mean(ratios) < 0.5)
        parts.append(f"γ = {gv:g}: PR_after(10)/PR_before(10) = {_ms(ratios)}")
    return Judgement("; ".join(parts), HOLDS if all(ok) else PARTLY if any(ok) else FAILS)


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
          _nscaling),
    Claim("lstm-truncation", "schuessler-lstm",
          "Truncating ΔW at low rank recovers the accuracy; truncating W needs nearly full rank.",
          "nonlinear_tasks.md §8",
          "holds if ΔW needs ≤ hidden/8 and W ≥ hidden/2; partly if ΔW needs fewer than W",
          _lstm, "truncation.png"),
    Claim("digits-ranking", "zhu-digits", "Best accuracy ranks dW3 > dW4 > dW1.",
          "fixed_point_learning.md §8",
          "best test accuracy over each rule's learning rates, per seed (folder); holds if the means are ordered "
          "with gaps > 2 SE (at least 2 seeds per group), partly if only ordered", _digits, "digits.png"),
    Claim("farrell-compression", "farrell-fig2",
          "Training compresses at the readout time: PR at t = 10 after training is far below its value "
          "before, for both γ.", "dimensionality.md §9 (3)",
          "holds if the mean PR_after(10)/PR_before(10) < 0.5 for every γ", _farrell, "pr.png"),
)


def judge(claim: Claim, folders) -> Judgement:
    """Evaluate ``claim`` on the result folders of its reproduction (NO_DATA without any)."""
    folders = [Path(f) for f in folders]
    if not folders:
        return Judgement("", NO_DATA)
    return claim.evaluate(folders)
