r"""Figures of the Farrell et al. (2022) reproductions (``reproduce farrell-fig2`` … ``farrell-fig5``).

Inputs are the long-format columns that :mod:`rnn_theory.numerics.reproduce.farrell` writes
to CSV.  Every figure follows the shared style of
:mod:`rnn_theory.numerics.infra.plotting`:

* one colour per γ (:func:`~rnn_theory.numerics.infra.plotting.param_color` ``"gamma"``, placed
  by log10 γ, so γ = 20 is dark violet and γ = 250 orange in every figure);
* the spread over seeds is drawn: each line is the median over seeds and the shaded band spans
  the minimum to the maximum over seeds (the legend says so and gives the number of seeds;
  with one seed no band is drawn);
* before training is dashed, after training solid; train accuracy circles, test squares;
* a run that diverged (no PR, spectrum or holdout analysis exists for it) is named in the
  legend with a ✕ (:func:`~rnn_theory.numerics.infra.plotting.mark_unconverged`);
* titles name the paper's panel, axis labels are mathtext with units (t in steps,
  exponents in nats/step).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn_theory.numerics.infra.plotting import mark_unconverged, param_color, pyplot, save_figure

__all__ = ["plot_pr", "plot_pr_noise", "plot_lyapunov", "plot_accuracy", "plot_holdout", "seed_band"]

STAGES = (("before", "--", "before training"), ("after", "-", "after training"))
T_LABEL = r"time step $t$ (steps)"
PR_LABEL = r"participation ratio $\mathrm{PR}(h_t)$"


def _cols(d):
    return {k: np.asarray(v) for k, v in d.items()}


def _gamma_label(g) -> str:
    return rf"$\gamma={float(g):g}$"


def seed_band(ax, x, y, seed, color, *, ls="-", marker=None, label=None, band=True):
    """Draw the median over seeds of ``y`` against ``x`` and a min–max band over seeds.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Panel to draw on.
    x, y, seed : array_like
        Equal-length columns (one row per seed and x value).
    color
        Line and band colour.
    ls, marker : str, optional
        Line style and marker of the median line.
    label : str, optional
        Legend label of the median line.
    band : bool
        Draw the band (when there are at least two seeds).

    Returns
    -------
    int
        The number of seeds drawn (0 when there are no finite values).
    """
    x, y, seed = np.asarray(x, float), np.asarray(y, float), np.asarray(seed)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, seed = x[ok], y[ok], seed[ok]
    if x.size == 0:
        return 0
    xs = np.unique(x)
    groups = [y[x == v] for v in xs]
    med = np.array([np.median(g) for g in groups])
    ax.plot(xs, med, ls=ls, marker=marker, color=color, label=label)
    n = len(np.unique(seed))
    if band and n >= 2:
        lo = np.array([g.min() for g in groups])
        hi = np.array([g.max() for g in groups])
        ax.fill_between(xs, lo, hi, color=color, alpha=0.2, lw=0)
    return n


def _band_handle(n: int):
    """Legend entry that says what the lines and bands are."""
    from matplotlib.patches import Patch

    if n >= 2:
        return Patch(facecolor="0.55", alpha=0.35, label=f"line: median, band: min–max over {n} seeds")
    return Patch(facecolor="none", edgecolor="none", label=f"{n} seed (no spread drawn)")


def _mark_diverged(ax, diverged, x):
    """Mark each diverged run with a ✕ at ``x``, stacked up from the bottom of the panel."""
    lo, hi = ax.get_ylim()
    for k, d in enumerate(diverged):
        y = lo + (0.08 + 0.1 * k) * (hi - lo)
        step = d.get("step")
        where = f" at step {int(step)}" if step is not None and np.isfinite(float(step)) else ""
        text = f"{_gamma_label(d['gamma'])}, seed {int(d['seed'])}: diverged{where}, not drawn"
        mark_unconverged(ax, x, y, text, color=param_color(d["gamma"], "gamma"))
    if diverged:
        ax.set_ylim(lo, hi)


def _finish(ax, n_seeds):
    """Legend under the panel (it never hides a curve): the curves, then what lines and bands are."""
    handles, labels = ax.get_legend_handles_labels()
    handles = list(handles) + [_band_handle(n_seeds)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)


def _integer_x(ax):
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _readout(ax, T):
    if T is not None:
        ax.axvline(T, color="0.45", ls=":", lw=1.0, label=rf"readout time $t=T={int(T)}$")


def _save(fig, out, name, layout=True):
    if layout:
        fig.tight_layout()
    p = Path(out) / f"{name}.png"
    save_figure(fig, p)
    return [p]


def _pr_panel(ax, C, sel, diverged, T):
    n = 0
    for g in sorted(set(C["gamma"][sel].astype(float).tolist())):
        for stage, ls, text in STAGES:
            m = sel & (C["gamma"].astype(float) == g) & (C["stage"] == stage)
            n = max(n, seed_band(ax, C["t"][m], C["pr"][m], C["seed"][m], param_color(g, "gamma"), ls=ls,
                                 label=f"{_gamma_label(g)}, {text}"))
    _readout(ax, T)
    ax.set(xlabel=T_LABEL, ylabel=PR_LABEL)
    if sel.any():
        _mark_diverged(ax, diverged, float(C["t"][sel].astype(float).max()))
    return n


def plot_pr(out, pr, *, title: str, name: str = "pr", T: int | None = 10, diverged=()) -> list:
    r"""PR of the states against time step t, before and after training, one colour per γ.

    Parameters
    ----------
    out : path
        Folder; writes ``out/<name>.png``.
    pr : dict of columns
        ``gamma, seed, stage, t, pr`` (``pr.csv``).
    title : str
        Panel title naming the paper's panel and the condition.
    name : str
        File name without suffix.
    T : int or None
        Readout time, drawn as a dotted vertical line.
    diverged : sequence of dict
        Runs that diverged (``gamma``, ``seed``, optional ``step``), marked ✕ and named.

    Returns
    -------
    list of Path
        The PNG written (empty without matplotlib).
    """
    plt = pyplot()
    if plt is None:
        return []
    C = _cols(pr)
    fig, ax = plt.subplots(figsize=(5.2, 3.7))
    n = _pr_panel(ax, C, np.ones(C["t"].shape, bool), list(diverged), T)
    ax.set_title(title)
    _finish(ax, n)
    return _save(fig, out, name)


def plot_pr_noise(out, pr, *, title: str, name: str = "pr_noise", T: int | None = 10, diverged=()) -> list:
    r"""PR against t before and after training, one panel per hidden-noise level σ_h.

    Parameters
    ----------
    out : path
        Folder; writes ``out/<name>.png``.
    pr : dict of columns
        ``gamma, seed, noise, stage, t, pr`` (``pr_noise.csv``).
    title : str
        Figure title.
    name : str
        File name without suffix.
    T : int or None
        Readout time (dotted line).
    diverged : sequence of dict
        Diverged runs (``gamma``, ``seed``, ``noise``, optional ``step``), marked in their panel.

    Returns
    -------
    list of Path
        The PNG written (empty without matplotlib).
    """
    plt = pyplot()
    if plt is None:
        return []
    C = _cols(pr)
    noise = C["noise"].astype(float)
    levels = sorted(set(noise.tolist()) | {float(d["noise"]) for d in diverged})
    fig, axes = plt.subplots(1, max(len(levels), 1), figsize=(4.6 * max(len(levels), 1), 3.7), sharey=True,
                             squeeze=False)
    for ax, s in zip(axes[0], levels):
        bad = [d for d in diverged if float(d["noise"]) == s]
        n = _pr_panel(ax, C, noise == s, bad, T)
        ax.set_title(rf"hidden noise $\sigma_h={s:g}$" + (" (none)" if s == 0 else ""))
        _finish(ax, n)
    fig.suptitle(title)
    return _save(fig, out, name)


def plot_lyapunov(out, lyap, *, title: str, name: str = "lyapunov", diverged=()) -> list:
    r"""Lyapunov spectra (nats/step) at the first and last checkpoint, and λ_1 at every checkpoint.

    Left: exponents :math:`\lambda_i` against index i (from 1) at the first checkpoint (epoch 0,
    dashed) and the final one (solid); right: the top exponent :math:`\lambda_1` against epoch at
    every checkpoint computed.  The other exponents at intermediate epochs are in
    ``lyapunov.csv``.

    Parameters
    ----------
    out : path
        Folder; writes ``out/<name>.png``.
    lyap : dict of columns
        ``gamma, seed, epoch, index, exponent_nats`` (``lyapunov.csv``).
    title : str
        Figure title naming the paper's panel and condition.
    name : str
        File name without suffix.
    diverged : sequence of dict
        Diverged runs, marked ✕ and named.

    Returns
    -------
    list of Path
        The PNG written (empty without matplotlib).
    """
    plt = pyplot()
    if plt is None:
        return []
    C = _cols(lyap)
    g_all, ep, idx, lam = (C["gamma"].astype(float), C["epoch"].astype(float), C["index"].astype(float),
                           C["exponent_nats"].astype(float))
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.4, 3.7))
    n = 0
    for g in sorted(set(g_all.tolist())):
        col, mg = param_color(g, "gamma"), g_all == g
        eps = sorted(set(ep[mg].tolist()))
        for e, ls in ((eps[0], "--"), (eps[-1], "-")) if len(eps) > 1 else ((eps[0], "-"),):
            m = mg & (ep == e)
            what = " (before training)" if e == 0 else (" (final)" if e == eps[-1] else "")
            n = max(n, seed_band(a, idx[m] + 1, lam[m], C["seed"][m], col, ls=ls, marker="o",
                                 label=f"{_gamma_label(g)}, epoch {e:g}{what}"))
        top = mg & (idx == 0)
        seed_band(b, ep[top], lam[top], C["seed"][top], col, marker="o", label=_gamma_label(g))
    for ax in (a, b):
        ax.axhline(0.0, color="k", lw=0.6)
    a.set(xlabel=r"index $i$", ylabel=r"Lyapunov exponent $\lambda_i$ (nats/step)",
          title="spectrum before and after training")
    b.set(xlabel="epoch", ylabel=r"top exponent $\lambda_1$ (nats/step)", title=r"$\lambda_1$ at each checkpoint")
    _integer_x(a)
    _integer_x(b)
    if ep.size:
        _mark_diverged(b, list(diverged), float(ep.max()))
    _finish(a, n)
    _finish(b, n)
    fig.suptitle(title)
    return _save(fig, out, name)


def plot_accuracy(out, acc, *, title: str, name: str = "accuracy", diverged=()) -> list:
    r"""Accuracy on fresh samples against epoch, one colour per γ.

    Parameters
    ----------
    out : path
        Folder; writes ``out/<name>.png``.
    acc : dict of columns
        ``gamma, seed, epoch, accuracy`` (``accuracy.csv``).
    title : str
        Panel title naming the paper's panel and the run.
    name : str
        File name without suffix.
    diverged : sequence of dict
        Diverged runs, marked ✕ and named.

    Returns
    -------
    list of Path
        The PNG written (empty without matplotlib).
    """
    plt = pyplot()
    if plt is None:
        return []
    C = _cols(acc)
    g_all = C["gamma"].astype(float)
    fig, ax = plt.subplots(figsize=(5.2, 3.7))
    n = 0
    for g in sorted(set(g_all.tolist())):
        m = g_all == g
        n = max(n, seed_band(ax, C["epoch"][m], C["accuracy"][m], C["seed"][m], param_color(g, "gamma"),
                             marker="o", label=_gamma_label(g)))
    ax.set_ylim(-0.02, 1.04)
    ax.set(xlabel="epoch", ylabel="test accuracy (fresh samples)", title=title)
    _integer_x(ax)
    if g_all.size:
        _mark_diverged(ax, list(diverged), float(C["epoch"].astype(float).max()))
    _finish(ax, n)
    return _save(fig, out, name)


def plot_holdout(out, ho, *, title: str, name: str = "holdout", T: int | None = 10, diverged=()) -> list:
    r"""Logistic-regression accuracy on :math:`h_t` against t: training clusters and held-out clusters.

    Left: accuracy on the clusters the regression was fitted on (separability); right: on the
    held-out clusters.  Before training dashed, after training solid, one colour per γ; one
    legend under both panels.

    Parameters
    ----------
    out : path
        Folder; writes ``out/<name>.png``.
    ho : dict of columns
        ``gamma, seed, stage, t, train_accuracy, test_accuracy`` (``holdout.csv``).
    title : str
        Figure title naming the paper's panels and the condition.
    name : str
        File name without suffix.
    T : int or None
        Readout time (dotted line).
    diverged : sequence of dict
        Diverged runs, marked ✕ and named.

    Returns
    -------
    list of Path
        The PNG written (empty without matplotlib).
    """
    plt = pyplot()
    if plt is None:
        return []
    C = _cols(ho)
    g_all = C["gamma"].astype(float)
    fig, axes = plt.subplots(1, 2, figsize=(9.4, 3.7), sharey=True)
    panels = (("train_accuracy", "o", "training clusters (fitted)"),
              ("test_accuracy", "o", "held-out clusters (generalisation)"))
    n = 0
    for ax, (key, mk, what) in zip(axes, panels):
        for g in sorted(set(g_all.tolist())):
            for stage, ls, text in STAGES:
                m = (g_all == g) & (C["stage"] == stage)
                n = max(n, seed_band(ax, C["t"][m], C[key][m], C["seed"][m], param_color(g, "gamma"), ls=ls,
                                     marker=mk, label=f"{_gamma_label(g)}, {text}"))
        _readout(ax, T)
        ax.set_ylim(-0.02, 1.04)
        ax.set(xlabel=T_LABEL, title=what)
    for ax in axes:
        ax.set_ylabel(r"logistic-regression accuracy on $h_t$")
    if g_all.size:
        _mark_diverged(axes[1], list(diverged), float(C["t"].astype(float).max()))
    handles, _ = axes[1].get_legend_handles_labels()
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    # one legend under both panels: the curves are the same in each
    fig.legend(handles=list(handles) + [_band_handle(n)], loc="lower center", ncol=4, bbox_to_anchor=(0.5, 0.0))
    return _save(fig, out, name, layout=False)
