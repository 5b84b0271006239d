r"""Figures of the nonlinear tasks (Schuessler et al. 2020, Figs 1–2, the N-scaling and cosine supplements).

Inputs are the long-format columns that the reproductions write to CSV.  One colour per g
(:func:`~rnn_theory.numerics.infra.plotting.param_color`) in every figure; every g that was
computed is drawn.  A run that did not converge (batch loss never below 5 % of its initial
value, :func:`rnn_theory.numerics.rate.analysis.convergence_step`) ends with a ✕ and is named
in the legend; a loss spike (batch loss jumping above 30 × its running minimum after
training had halved the loss) is marked with a ▲ and its step.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn_theory.numerics.infra.plotting import log_ylim, param_color, pyplot, save_figure

__all__ = ["plot_fig1", "plot_fig2", "plot_nscaling", "plot_cosine", "find_spike"]

TASK_TITLE = {"flipflop": "flip-flop", "mante": "Mante (context-dependent integration)",
              "romo": "Romo (parametric working memory)"}
FIG2_LABEL = {"converged_step": "convergence step", "dw_norm": r"$\|\Delta W\|_F$",
              "shuffle_loss_ratio": r"$L_{\rm shuffle}/L_0$", "functional_rank": "functional rank $R$"}


def find_spike(loss, factor: float = 30.0):
    """First step where the loss exceeds ``factor`` × its running minimum, after training halved it.

    Returns ``(step, ratio)`` or ``None``.

    >>> find_spike([1.0, 0.4, 0.01, 0.012, 0.9, 0.01])
    (4, 90.0)
    >>> find_spike([1.0, 0.5, 0.2, 0.1]) is None
    True
    """
    L = np.asarray(loss, float)
    if L.size < 3 or not np.isfinite(L[0]):
        return None
    run_min = np.minimum.accumulate(np.where(np.isfinite(L), L, np.inf))
    prev = run_min[:-1]
    ratio = np.where(prev > 0, L[1:] / np.where(prev > 0, prev, 1.0), np.inf)
    bad = np.flatnonzero((prev < 0.5 * L[0]) & ((ratio > factor) | ~np.isfinite(L[1:])))
    if bad.size == 0:
        return None
    k = int(bad[0] + 1)
    return k, float(round(ratio[k - 1], 6))


def _cols(d):
    return {k: np.asarray(v) for k, v in d.items()}


def plot_fig1(out, loss, sv, tr, *, n_sv: int = 30) -> list:
    r"""Per task (columns): loss against step, singular values :math:`s_k` of ΔW (k from 1),
    truncation loss :math:`L_R/L_0` against rank R; every g drawn.  Writes ``out/fig1.png``."""
    from rnn_theory.numerics.rate.analysis import convergence_step

    plt = pyplot()
    if plt is None:
        return []
    L, S, T = _cols(loss), _cols(sv), _cols(tr)
    tasks = list(dict.fromkeys(L["task"].tolist()))
    gains = sorted(set(L["g"].astype(float).tolist()))
    fig, ax = plt.subplots(3, len(tasks), figsize=(4.3 * len(tasks), 9.2), squeeze=False)
    for j, t in enumerate(tasks):
        for g in gains:
            col, lab = param_color(g), f"$g={g:g}$"
            m = (L["task"] == t) & (L["g"].astype(float) == g)
            y = L["loss"][m].astype(float)
            x = L["step"][m].astype(float)
            if y.size:
                conv = convergence_step(y)
                ax[0, j].plot(x, y, color=col, lw=0.9, label=lab + ("" if conv is not None else ": not converged"))
                if conv is None:
                    ax[0, j].plot([x[-1]], [y[-1]], "x", color=col, ms=8, mew=2)
                spike = find_spike(y)
                if spike:
                    k, r = spike
                    ax[0, j].plot([x[k]], [y[k]], "^", color=col, ms=7, mec="k",
                                  label=f"{lab}: loss spike at step {int(x[k])} (×{r:.0f})")
            m = (S["task"] == t) & (S["g"].astype(float) == g)
            if m.any():
                v = S["sv"][m].astype(float)[np.argsort(S["index"][m].astype(float))][:n_sv]
                ax[1, j].plot(np.arange(1, v.size + 1), v, "o-", color=col, ms=3, label=lab)
            m = (T["task"] == t) & (T["g"].astype(float) == g)
            if m.any():
                o = np.argsort(T["rank"][m].astype(float))
                ax[2, j].plot(T["rank"][m].astype(float)[o], T["loss_ratio"][m].astype(float)[o], "o-",
                              color=col, ms=3, label=lab)
        log_ylim(ax[0, j], [L["loss"][L["task"] == t].astype(float)], floor=1e-8)
        log_ylim(ax[2, j], [T["loss_ratio"][T["task"] == t].astype(float)], floor=1e-8, note=False)
        ax[0, j].set(title=TASK_TITLE.get(t, t), xlabel="training step", ylabel="batch loss $L$")
        ax[1, j].set(xlabel="index $k$", ylabel=r"singular value $s_k$ of $\Delta W$", yscale="log")
        ax[2, j].set(xlabel=r"rank $R$ of truncated $\Delta W$", ylabel=r"loss ratio $L_R/L_0$")
        for r in range(3):
            ax[r, j].legend(fontsize=6.5)
    fig.tight_layout()
    p = Path(out) / "fig1.png"
    save_figure(fig, p)
    return [p]


def plot_fig2(out, agg, summary=None) -> list:
    r"""Against g, per task: convergence step, :math:`\|\Delta W\|_F`, shuffle loss, functional rank.

    Mean ± std over samples where all samples converged (``aggregate.csv``); a (task, g)
    with a non-converged sample is marked ✕ at the bottom of the panel.
    """
    plt = pyplot()
    if plt is None:
        return []
    A = _cols(agg)
    keys = ("converged_step", "dw_norm", "shuffle_loss_ratio", "functional_rank")
    fig, ax = plt.subplots(1, 4, figsize=(15, 3.5))
    markers = {"flipflop": "o", "mante": "s", "romo": "^"}
    for t in dict.fromkeys(A["task"].tolist()):
        m = A["task"] == t
        g = A["g"][m].astype(float)
        bad = A["all_valid"][m].astype(int) == 0
        for a, k in zip(ax, keys):
            a.errorbar(g, A[f"{k}_mean"][m].astype(float), A[f"{k}_std"][m].astype(float),
                       marker=markers.get(t, "o"), ms=4, capsize=2, label=TASK_TITLE.get(t, t).split(" (")[0])
            if bad.any():
                a.plot(g[bad], np.zeros(bad.sum()), "x", color="k", ms=7, transform=a.get_xaxis_transform())
    for a, k in zip(ax, keys):
        a.set(xlabel="$g$", ylabel=FIG2_LABEL[k])
    if (A["all_valid"].astype(int) == 0).any():
        ax[0].plot([], [], "x", color="k", label="a sample did not converge")
    ax[0].legend()
    fig.tight_layout()
    p = Path(out) / "fig2.png"
    save_figure(fig, p)
    return [p]


NSCALING_PANELS = (
    ("dw_norm", r"$\|\Delta W\|_F$ (final $W - W_0$)", True),
    ("w0_norm", r"$\|W_0\|_F$", True),
    ("converged_step", "convergence step (Adam steps)", False),
    ("functional_rank", "functional rank $R$", False),
)


def plot_nscaling(out, cols) -> list:
    r"""N-scaling supplement: :math:`\|\Delta W\|_F`, :math:`\|W_0\|_F`, convergence step and
    functional rank against N, one colour per g.  Writes ``out/nscaling.png``.

    ``cols`` holds the columns of ``nscaling.csv`` (``diverged`` optional).  Each seed is a
    small dot, the mean over the seeds of that (N, g) a line with markers.  Reference
    lines show the specification's claims: :math:`\|\Delta W\|_F` flat in N (a dotted
    :math:`\propto N^0` line through the smallest N's mean, per g) and
    :math:`\|W_0\|_F = g\sqrt{N}` (dashed, per g > 0).  A run that did not converge (no
    convergence step, hence no functional rank) is a ✕ at the top of the convergence
    and rank panels in its g's colour (on the rank panel also a run whose rank was not found
    up to 25); a diverged run a black ✕ at the bottom of every panel.
    ``g = 0`` has :math:`W_0 = 0`, which a log axis cannot show (said on the panel).
    """
    plt = pyplot()
    if plt is None:
        return []
    C = _cols(cols)
    n_all = C["n"].astype(float)
    g_all = C["g"].astype(float)
    div = C["diverged"].astype(float) > 0 if "diverged" in C else np.zeros(n_all.size, bool)
    tasks = list(dict.fromkeys(C["task"].tolist())) if "task" in C else []
    ns = np.unique(n_all)
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    jitter = {g: 1.0 + 0.03 * (i - 1) for i, g in enumerate(sorted(set(g_all.tolist())))}
    missing = {"converged_step": False, "functional_rank": False}
    for g in sorted(set(g_all.tolist())):
        col, lab = param_color(g), f"$g={g:g}$"
        mg = (g_all == g) & ~div
        for ax, (key, _, logy) in zip(axes, NSCALING_PANELS):
            y = C[key].astype(float)
            ok = mg & np.isfinite(y) & ((y > 0) if logy else True)
            ax.plot(n_all[ok] * jitter[g], y[ok], "o", color=col, ms=2.5, alpha=0.55, mec="none")
            means = [(n, float(np.mean(y[ok & (n_all == n)]))) for n in ns if (ok & (n_all == n)).any()]
            if means:
                x, m = zip(*means)
                ax.plot(x, m, "o-", color=col, ms=4, label=lab)
            if key == "dw_norm" and means:
                ax.plot(ns, np.full(ns.size, means[0][1]), ":", color=col, lw=1)
            if key == "w0_norm" and g > 0:
                ax.plot(ns, g * np.sqrt(ns), "--", color=col, lw=1)
            if key in ("converged_step", "functional_rank"):
                bad = mg & ~np.isfinite(y)
                if bad.any():
                    missing[key] = True
                    ax.plot(n_all[bad] * jitter[g], np.full(bad.sum(), 0.97), "x", color=col, ms=7, mew=1.5,
                            transform=ax.get_xaxis_transform(), clip_on=False)
    ax_dw, ax_w0, ax_conv, ax_rank = axes
    ax_dw.plot([], [], ":", color="0.4", label=r"claim: flat in $N$ ($\propto N^0$)")
    ax_w0.plot([], [], "--", color="0.4", label=r"$g\sqrt{N}$ (claim)")
    if (g_all == 0).any():
        ax_w0.text(0.02, 0.02, "$g=0$: $W_0=0$ (not on a log axis)", transform=ax_w0.transAxes,
                   fontsize=6.5, color="0.35", va="bottom")
    if missing["converged_step"]:
        ax_conv.plot([], [], "x", color="k", label="seed did not converge")
    if missing["functional_rank"]:
        ax_rank.plot([], [], "x", color="k", label=r"no functional rank $\leq 25$ (or not converged)")
    if div.any():
        for ax in axes:
            ax.plot(n_all[div], np.full(div.sum(), 0.03), "x", color="k", ms=8, mew=2,
                    transform=ax.get_xaxis_transform(), clip_on=False)
        k = int(div.sum())
        ax_dw.plot([], [], "x", color="k", ms=8, mew=2, label=f"diverged ({k} run{'' if k == 1 else 's'})")
    for ax, (key, ylabel, logy) in zip(axes, NSCALING_PANELS):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns, [f"{n:g}" for n in ns])
        ax.minorticks_off()
        ax.set(xlabel="network size $N$ (neurons)", ylabel=ylabel)
        if logy:
            y = C[key].astype(float)
            extra = [g * np.sqrt(ns) for g in set(g_all.tolist()) if g > 0] if key == "w0_norm" else []
            log_ylim(ax, [y[~div]] + extra, floor=1e-6, pad=1.5, note=False)
        else:
            y = C[key].astype(float)
            top = np.nanmax(y[np.isfinite(y)]) if np.isfinite(y).any() else 1.0
            ax.set_ylim(0, 1.15 * top)
        ax.legend(fontsize=6.5)
    title = f"N-scaling ({', '.join(TASK_TITLE.get(t, t) for t in tasks)}; dots: seeds, lines: mean)" \
        if tasks else "N-scaling (dots: seeds, lines: mean)"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    p = Path(out) / "nscaling.png"
    save_figure(fig, p)
    return [p]


def plot_cosine(out, loss, eigs) -> list:
    r"""Cosine supplement: loss against step and the leading eigenvalues of W (start, end) per g."""
    plt = pyplot()
    if plt is None:
        return []
    L, E = _cols(loss), _cols(eigs)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    for g in sorted(set(L["g"].astype(float).tolist())):
        col = param_color(g)
        m = L["g"].astype(float) == g
        ax[0].plot(L["step"][m].astype(float), L["loss"][m].astype(float), color=col, label=f"$g={g:g}$")
        m = E["g"].astype(float) == g
        if m.any():
            steps = E["step"][m].astype(int)
            for st, mk, fill in ((steps.min(), "o", "none"), (steps.max(), "o", col)):
                mm = m & (E["step"].astype(int) == st)
                ax[1].plot(E["real"][mm].astype(float), E["imag"][mm].astype(float), mk, mfc=fill, mec=col, ms=5,
                           label=f"$g={g:g}$, step {st}")
    log_ylim(ax[0], [L["loss"].astype(float)], floor=1e-10)
    ax[0].set(xlabel="GD step", ylabel="loss $L$", title="learning a cosine (W trained)")
    ax[1].axvline(1.0, color="0.4", ls=":", lw=1, label=r"$\mathrm{Re}\,\lambda=1$")
    ax[1].set(xlabel=r"$\mathrm{Re}\,\lambda(W)$", ylabel=r"$\mathrm{Im}\,\lambda(W)$",
              title="10 leading eigenvalues (open: start, filled: end)")
    ax[0].legend()
    ax[1].legend(fontsize=6)
    fig.tight_layout()
    p = Path(out) / "cosine.png"
    save_figure(fig, p)
    return [p]
