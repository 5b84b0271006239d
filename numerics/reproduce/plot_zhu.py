r"""Figures of the fixed-point experiments (Zhu & Rosenbaum 2024, ``reproduce zhu-linear``).

Colours by learning rate η follow
:func:`~rnn_theory.numerics.infra.plotting.param_color` (``"lr"``, log scale), so a rate has
the same colour in every panel.  Diverged runs end with a ✕ and a legend entry.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn_theory.numerics.infra.plotting import log_ylim, param_color, pyplot, save_figure

__all__ = ["plot_learning_curves", "plot_angles", "plot_landscape", "plot_zhu_linear"]

RULE_TITLE = {"dW1": r"dW1: Euclidean gradient", "dW2": r"dW2: exact $A$-space step",
              "dW3": r"dW3: gradient under a metric", "dW4": "dW4"}


def plot_learning_curves(out, lc, summary=None, name="learning_curves") -> list:
    r"""Loss :math:`J` against iteration, one panel per rule, one colour per η."""
    plt = pyplot()
    if plt is None:
        return []
    rule, lr, it, loss = (np.asarray(lc[k]) for k in ("rule", "lr", "iteration", "loss"))
    rules = list(dict.fromkeys(rule.tolist()))
    fig, axes = plt.subplots(1, len(rules), figsize=(3.9 * len(rules), 3.3), sharey=True, squeeze=False)
    diverged = {}
    if summary is not None:
        for r, v, d in zip(summary["rule"], summary["lr"], summary["diverged_at"]):
            diverged[(r, float(v))] = d is not None and np.isfinite(float(d)) and float(d) >= 0
    for ax, r in zip(axes[0], rules):
        for v in sorted(set(lr[rule == r].astype(float).tolist())):
            s = (rule == r) & (lr.astype(float) == v)
            x, y = it[s].astype(float), loss[s].astype(float)
            ok = np.isfinite(y)
            ax.plot(x[ok], y[ok], color=param_color(v, "lr"), label=f"$\\eta={v:g}$")
            if diverged.get((r, v)) or not ok.all():
                k = np.flatnonzero(ok)[-1] if ok.any() else 0
                ax.plot([x[k]], [y[ok][-1] if ok.any() else 1.0], "x", color="k", ms=7, mew=1.5)
        log_ylim(ax, [loss[rule == r].astype(float)], floor=1e-12)
        ax.set(title=RULE_TITLE.get(r, r), xlabel="iteration")
    axes[0, 0].set_ylabel(r"loss $J = \frac{1}{m}\|AX-\hat R\|_F^2$")
    for ax in axes[0, 1:]:
        ax.set_ylabel("loss $J$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if any(diverged.values()):
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], marker="x", color="k", ls="none", label="diverged (curve cut)"))
    axes[0, -1].legend(handles=handles, loc="upper right")
    fig.tight_layout()
    p = Path(out) / f"{name}.png"
    save_figure(fig, p)
    return [p]


def plot_angles(out, ang) -> list:
    r"""Angles (degrees) between the rules' update directions along training, one colour per η."""
    plt = pyplot()
    if plt is None:
        return []
    fig, ax = plt.subplots(1, 2, figsize=(8.6, 3.3), sharey=True)
    alr, ait = np.asarray(ang["lr"], float), np.asarray(ang["iteration"], float)
    for v in sorted(set(alr.tolist())):
        s = alr == v
        for a, key in zip(ax, ("angle_12", "angle_23")):
            a.plot(ait[s], np.asarray(ang[key], float)[s], color=param_color(v, "lr"), label=f"$\\eta={v:g}$")
    ax[0].set(title=r"$\theta_{12}$: gradient vs dW2 step (W follows dW2)", xlabel="iteration",
              ylabel="angle (degrees)")
    ax[1].set(title=r"$\theta_{23}$: dW2 vs dW3 step (W follows dW3)", xlabel="iteration",
              ylabel="angle (degrees)")
    both = np.concatenate([np.asarray(ang["angle_12"], float), np.asarray(ang["angle_23"], float)])
    top = float(np.nanmax(both)) if np.isfinite(both).any() else 90.0
    ax[0].set_ylim(0, 90 if top <= 90 else 1.05 * top)
    ax[0].legend(title="learning rate")
    fig.tight_layout()
    p = Path(out) / "angles.png"
    save_figure(fig, p)
    return [p]


def plot_landscape(out, L, one_d=None) -> list:
    r"""Loss along random lines :math:`W_0+tW_1` (W-space) and :math:`A_0+tA_1` (A-space), and the 1-D loss."""
    plt = pyplot()
    if plt is None:
        return []
    ncol = 3 if one_d is not None else 2
    fig, ax = plt.subplots(1, ncol, figsize=(4.2 * ncol, 3.3))
    t = np.asarray(L["t"], float)
    nl = np.asarray(L["loss_w"]).shape[0]
    for k in range(nl):
        c = f"C{k}"
        ax[0].plot(t, np.asarray(L["loss_w"])[k], color=c, label=f"random direction {k + 1}")
        ax[1].plot(t, np.asarray(L["loss_a"])[k], color=c, label=f"random direction {k + 1}")
    # the slices touch J ~ 0 at their minimum: show ten decades below the largest finite value
    log_ylim(ax[0], [np.asarray(L["loss_w"])], floor=1e-10, note="values below {lo} off axis")
    log_ylim(ax[1], [np.asarray(L["loss_a"])], floor=1e-10, note="values below {lo} off axis")
    tb = L.get("t_boundary") if hasattr(L, "get") else None
    if tb is not None and np.size(tb):
        for sgn in (-1, 1):
            ax[0].axvline(sgn * float(np.ravel(tb)[0]), color="0.4", ls=":", lw=1,
                          label=r"$\max\,\mathrm{Re}\,\lambda(W)=1$ (circular law)" if sgn > 0 else None)
    ax[0].set(title=r"W-space: $J(W_0+tW_1)$", xlabel="$t$", ylabel="loss $J$")
    ax[1].set(title=r"A-space: $J(A_0+tA_1)$, $A_1=A_0W_1A_0$", xlabel="$t$", ylabel="loss $J$")
    ax[0].legend(loc="upper center")
    ax[1].legend(loc="upper center")
    if one_d is not None:
        w, Jw = np.asarray(one_d["w_grid"], float), np.asarray(one_d["loss_grid"], float)
        ax[2].plot(w, Jw, "k-", label=r"$J(w)$, $a = 1/(g^{-1}-w)$")
        log_ylim(ax[2], [Jw], floor=1e-10, note="values below {lo} off axis")
        ax[2].set(title="1-D case", xlabel="$w$", ylabel="loss $J$")
        ax[2].legend()
    fig.tight_layout()
    p = Path(out) / "landscape.png"
    save_figure(fig, p)
    return [p]


def plot_zhu_linear(out, lc, ang, L, od, summary=None) -> list:
    """All ``zhu-linear`` figures: learning curves, angles, landscape."""
    one_d = None if od is None else {"w_grid": od.arrays["w_grid"], "loss_grid": od.arrays["loss_grid"]}
    return plot_learning_curves(out, lc, summary) + plot_angles(out, ang) + plot_landscape(out, L, one_d)
