r"""Figures of the linear task (Schuessler et al. 2020, Figs 3–4; ``rnn-theory curves``).

Each function takes the long-format columns that the reproduction writes to CSV (dicts of
lists or arrays) and returns the list of written PNG paths (empty without matplotlib, see
:func:`rnn_theory.numerics.infra.plotting.pyplot`).  Colours follow
:func:`~rnn_theory.numerics.infra.plotting.param_color` (one colour per g in every figure);
line styles name the source: simulation (solid, median and min–max band over seeds),
first order (dotted), third order (dashed, drawn while z is more than 10 % from ẑ; singular values until the clip, ▼), exact
g = 0 (dash-dot).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn_theory.numerics.infra.plotting import log_ylim, param_color, pyplot, save_figure

__all__ = ["plot_fig3", "plot_fig4", "THEORY_STYLE"]

THEORY_STYLE = {"first_order": (":", "first order"), "third_order": ("--", "third order (while $L/L_0>10^{-2}$)"),
                "exact_g0": ("-.", "exact, $g=0$")}
QUANTITY_LABEL = {"tau_c": r"$\tau_c(g)/\tau_c(0)$", "dw_norm": r"$\|\Delta W\|(g)/\|\Delta W\|(0)$",
                  "mean_grad": r"$\langle\|\nabla W\|\rangle(g)/\langle\|\nabla W\|\rangle(0)$",
                  "shuffle_loss_ratio": r"$L_{\rm shuffle}/L_0$"}
QUANTITY_LAW = {"tau_c": r"$(1-g^2)^2$", "dw_norm": r"$1-g^2$", "mean_grad": r"$1/(1-g^2)$",
                "shuffle_loss_ratio": r"$g^4(2-g^2)^2$"}


def _arrays(cols):
    return {k: np.asarray(v) for k, v in cols.items()}


def _simulation(ax, x, curves, color):
    """Median over seeds with a min–max band; a ✕ where a run stopped early (diverged)."""
    n = max(len(c) for c in curves)
    full = [c for c in curves if len(c) == n]
    if full:
        Y = np.vstack(full)
        ax.fill_between(x[:n], Y.min(0), Y.max(0), color=color, alpha=0.22, lw=0)
        ax.plot(x[:n], np.median(Y, 0), "-", color=color, lw=1.1)
    for c in curves:
        if len(c) < n:
            ax.plot(x[:len(c)], c, "-", color=color, lw=0.7)
            ax.plot([x[len(c) - 1]], [c[-1]], "x", color="k", ms=7, mew=1.5)
    return len(full) < len(curves)


def _is_source(cols, src):
    """Rows of ``src``; for ``simulation`` also the runs that diverged (drawn up to their ✕)."""
    if src == "simulation":
        return (cols["source"] == "simulation") | (cols["source"] == "simulation-diverged")
    return cols["source"] == src


def _clip_index(y):
    """Index where a clipped (then constant) curve freezes; the last index if it never does."""
    same = np.flatnonzero(np.diff(y) != 0)
    return int(same[-1] + 1) if same.size else y.size - 1


def _theory(ax, x, y, src, color, lw=1.2, loss=False):
    ls = THEORY_STYLE[src][0]
    y = np.asarray(y, float)
    if src == "third_order":
        # the truncated series reaches z = zhat at a finite time (loss -> 0, a vertical plunge
        # on a log axis that no network shows): draw the loss while L/L0 > 1e-2, i.e. while z
        # is more than 10 % away from zhat; singular values stop at the clip (frozen after it)
        keep = np.cumprod(y > 1e-2 * y[0]).astype(bool) if loss else np.arange(y.size) <= _clip_index(y)
        ax.plot(x[keep], y[keep], ls, color=color, lw=lw)
        if not keep.all() and keep.any():
            k = np.flatnonzero(keep)[-1]
            ax.plot([x[k]], [y[k]], "v", color=color, ms=5)
        return
    ax.plot(x, y, ls, color=color, lw=lw)


def _legend_fig3(ax, gains, samples, n, any_stopped):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=param_color(g), label=f"$g={g:g}$") for g in gains]
    sim = "simulation" + (f", $N={n}$" if n else "") + (f", median and range of {samples} seeds" if samples else "")
    if samples != 0:
        handles.append(Line2D([], [], color="0.3", lw=1.1, label=sim))
    handles += [Line2D([], [], color="0.3", ls=ls, label=lab) for ls, lab in THEORY_STYLE.values()]
    handles.append(Line2D([], [], color="0.3", marker="v", ls="none", label="end of third order (clip)"))
    if any_stopped:
        handles.append(Line2D([], [], color="k", marker="x", ls="none", label="run stopped (diverged)"))
    ax.figure.legend(handles=handles, loc="upper center", ncol=4, bbox_to_anchor=(0.5, 0.0))


def plot_fig3(out, loss, svs, *, n: int | None = None, samples: int | None = None, name: str = "fig3") -> list:
    r"""Loss :math:`L/L_0` and singular values :math:`s_1, s_2` of ΔW against :math:`\tilde\tau`.

    One column per ẑ; top row loss, bottom row singular values; ``loss``/``svs`` are the
    columns of ``loss.csv`` / ``singular_values.csv``.  Writes ``out/<name>.png``.
    """
    plt = pyplot()
    if plt is None:
        return []
    a, s = _arrays(loss), _arrays(svs)
    zhats = sorted(set(a["zhat"].astype(float).tolist()))
    gains = sorted(set(a["g"].astype(float).tolist()))
    fig, axes = plt.subplots(2, len(zhats), figsize=(4.6 * len(zhats), 6.4), squeeze=False)
    stopped = False
    for j, zh in enumerate(zhats):
        top, bot = axes[0, j], axes[1, j]
        shown = []
        for g in gains:
            col = param_color(g)
            for src in ("simulation", *THEORY_STYLE):
                sel = (a["zhat"].astype(float) == zh) & (a["g"].astype(float) == g) & _is_source(a, src)
                if not sel.any():
                    continue
                seeds = sorted(set(a["seed"][sel].tolist()))
                x = a["tau_tilde"][sel & (a["seed"] == seeds[0])].astype(float)
                ys = [a["loss"][sel & (a["seed"] == sd)].astype(float) / (0.5 * zh * zh) for sd in seeds]
                if src == "simulation":
                    xs = max((a["tau_tilde"][sel & (a["seed"] == sd)].astype(float) for sd in seeds), key=len)
                    stopped |= _simulation(top, xs, ys, col)
                else:
                    _theory(top, x, ys[0], src, col, loss=True)
                shown += ys
                for idx, lw in ((1, 1.4), (2, 0.8)):
                    m = (s["zhat"].astype(float) == zh) & (s["g"].astype(float) == g) & _is_source(s, src) \
                        & (s["index"].astype(int) == idx)
                    if not m.any():
                        continue
                    cs = [s["value"][m & (s["seed"] == sd)].astype(float) for sd in sorted(set(s["seed"][m].tolist()))]
                    xx = max((s["tau_tilde"][m & (s["seed"] == sd)].astype(float)
                              for sd in sorted(set(s["seed"][m].tolist()))), key=len)
                    if src == "simulation":
                        _simulation(bot, xx, cs, col)
                    else:
                        _theory(bot, xx, cs[0], src, col, lw=lw)
        log_ylim(top, shown, floor=1e-10)
        top.set(title=f"$\\hat z = {zh:g}$", xlabel=r"$\tilde\tau = \eta_0\,k$", ylabel=r"loss $L/L_0$")
        bot.set(xlabel=r"$\tilde\tau = \eta_0\,k$", ylabel=r"singular values $s_1$ (thick), $s_2$ (thin) of $\Delta W$")
        vals = s["value"][(s["zhat"].astype(float) == zh) & (s["index"].astype(int) <= 2)].astype(float)
        log_ylim(bot, [vals], floor=1e-5, note=False)
    _legend_fig3(axes[0, 0], gains, samples, n, stopped)
    fig.tight_layout()
    p = Path(out) / f"{name}.png"
    save_figure(fig, p)
    return [p]


def plot_fig4(out, norm) -> list:
    r"""Normalised convergence time, ‖ΔW‖, mean gradient and shuffle loss against g.

    ``norm`` holds the columns of ``normalised.csv``: sample mean ± standard deviation per
    (ẑ, g), coloured by ẑ, with the first-order law (black dashed).  Writes ``out/fig4.png``.
    """
    plt = pyplot()
    if plt is None:
        return []
    a = _arrays(norm)
    qs = ("tau_c", "dw_norm", "mean_grad", "shuffle_loss_ratio")
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    n_runs = a["n"].astype(float)
    full = np.nanmax(n_runs) if n_runs.size else 0
    for ax, q in zip(axes, qs):
        for zh in sorted(set(a["zhat"].astype(float).tolist())):
            m = (a["quantity"] == q) & (a["zhat"].astype(float) == zh)
            ax.errorbar(a["g"][m].astype(float), a["mean"][m].astype(float), yerr=a["std"][m].astype(float),
                        color=param_color(zh, "zhat"), marker="o", capsize=2, label=f"simulation, $\\hat z={zh:g}$")
            bad = m & ~np.isfinite(a["mean"].astype(float))
            for g in a["g"][bad].astype(float):
                ax.axvline(g, color=param_color(zh, "zhat"), ls=":", lw=0.8)
            few = m & np.isfinite(a["mean"].astype(float)) & (n_runs < full)
            for g, y, k in zip(a["g"][few].astype(float), a["mean"][few].astype(float), n_runs[few]):
                ax.annotate(f"{k:g}/{full:g}", (g, y), textcoords="offset points", xytext=(3, 3), fontsize=6.5,
                            color=param_color(zh, "zhat"))
        m = (a["quantity"] == q) & (a["zhat"] == a["zhat"][0])
        ax.plot(a["g"][m].astype(float), a["theory"][m].astype(float), "k--", label="first order " + QUANTITY_LAW[q])
        ax.set(xlabel="$g$", ylabel=QUANTITY_LABEL[q])
        notes = []
        if (~np.isfinite(a["mean"][a["quantity"] == q].astype(float))).any():
            notes.append("dotted: g with no converged run")
        if ((a["quantity"] == q) & (n_runs < full)).any():
            notes.append(f"k/{full:g}: runs that count (the others diverged or did not converge)")
        if notes:
            ax.text(0.02, 0.02, "\n".join(notes), transform=ax.transAxes, fontsize=6.5)
        ax.legend()
    fig.tight_layout()
    p = Path(out) / "fig4.png"
    save_figure(fig, p)
    return [p]
