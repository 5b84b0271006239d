"""Every figure renders from small data and stands alone: legend, axis labels, finite limits.

Figures are checked on the matplotlib objects (captured before they are saved) and on the
written files.  Without matplotlib the figure tests are skipped with a visible reason; the
"no matplotlib" path itself is tested by hiding matplotlib.
"""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from rnn_theory.numerics.infra import plotting
from rnn_theory.numerics.infra.progress import Progress, progress

try:
    import matplotlib  # noqa: F401

    HAVE_MPL = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_MPL = False

needs_mpl = pytest.mark.skipif(not HAVE_MPL, reason="matplotlib is not installed: pip install 'rnn-theory[plot]'")


@pytest.fixture
def captured(monkeypatch):
    """Capture each figure passed to save_figure (in every plot module) and still save it."""
    figs = []
    real = plotting.save_figure

    def capture(fig, path, dpi=None):
        figs.append(fig)
        fig.canvas.draw()  # resolve layout while the figure is open
        snapshot(fig)
        return real(fig, path, dpi)

    import rnn_theory.numerics.reproduce.plot_farrell as pf
    import rnn_theory.numerics.reproduce.plot_linear as pl
    import rnn_theory.numerics.reproduce.plot_nonlinear as pn
    import rnn_theory.numerics.reproduce.plot_zhu as pz

    for mod in (pl, pn, pz, pf):
        monkeypatch.setattr(mod, "save_figure", capture)
    return figs


def snapshot(fig):
    """Record what the checks need before the figure is closed."""
    from matplotlib.collections import PolyCollection

    fig._test_suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    fig._test_axes = [dict(xlabel=ax.get_xlabel(), ylabel=ax.get_ylabel(), ylim=ax.get_ylim(), title=ax.get_title(),
                           bands=sum(isinstance(c, PolyCollection) for c in ax.collections),
                           legend_size=min((t.get_fontsize() for t in ax.get_legend().get_texts()), default=None)
                           if ax.get_legend() else None,
                           xlim=ax.get_xlim(), yscale=ax.get_yscale(), has_data=bool(ax.lines or ax.collections),
                           lines=[(ln.get_xdata(), ln.get_ydata(), ln.get_label(), ln.get_color()) for ln in ax.lines],
                           legend=[t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else [],
                           texts=[t.get_text() for t in ax.texts])
                      for ax in fig.axes]
    fig._test_legends = [t.get_text() for lg in fig.legends for t in lg.get_texts()]


def legend_texts(fig):
    return fig._test_legends + [t for a in fig._test_axes for t in a["legend"]]


def assert_stands_alone(fig):
    """A legend, x and y labels on every panel with data, finite y-limits above round-off."""
    assert legend_texts(fig), "figure has no legend"
    for a in fig._test_axes:
        if not a["has_data"]:
            continue
        assert a["xlabel"].strip() and a["ylabel"].strip(), "unlabelled axis"
        assert np.all(np.isfinite(a["ylim"])) and np.all(np.isfinite(a["xlim"]))
        if a["yscale"] == "log":
            lo, hi = a["ylim"]
            assert 0 < lo < hi and hi / lo < 1e14, f"log y-range {a['ylim']} spans round-off"


# ------------------------------------------------------------------ data builders
def fig3_data(floor=1e-32):
    """Theory from the package, plus synthetic 'simulations' whose loss hits the float floor."""
    from rnn_theory.numerics.reproduce.schuessler_linear import theory_curves

    loss = {k: [] for k in ("zhat", "g", "seed", "source", "tau", "tau_tilde", "loss")}
    svs = {k: [] for k in ("zhat", "g", "seed", "source", "tau", "tau_tilde", "index", "value")}

    def add(zh, g, sd, src, tt, L, s_list):
        m = len(tt)
        for k, v in (("zhat", [zh] * m), ("g", [g] * m), ("seed", [sd] * m), ("source", [src] * m),
                     ("tau", list(tt)), ("tau_tilde", list(tt)), ("loss", list(L))):
            loss[k] += v
        for i, s in enumerate(s_list, 1):
            for k, v in (("zhat", [zh] * m), ("g", [g] * m), ("seed", [sd] * m), ("source", [src] * m),
                         ("tau", list(tt)), ("tau_tilde", list(tt)), ("index", [i] * m), ("value", list(s))):
                svs[k] += v

    for zh in (0.5, 2.0):
        tt = np.linspace(0, 0.6 if zh == 2 else 3.0, 41)
        for g in (0.0, 0.6):
            for sd in (0, 1):
                L = np.maximum(0.5 * zh**2 * np.exp(-40 * tt * (1 + 0.1 * sd)), floor)
                add(zh, g, sd, "simulation", tt, L, [zh * (1 - np.exp(-tt)), 0.01 * tt**3])
            for src, cur in theory_curves(g, zh, tt).items():
                add(zh, g, -1, src, cur["tau_tilde"], cur["loss"], [cur["s1"], cur["s2"]])
    return loss, svs


def fig1_data():
    rng = np.random.default_rng(0)
    loss = {k: [] for k in ("task", "g", "seed", "step", "loss")}
    sv = {k: [] for k in ("task", "g", "seed", "index", "sv")}
    tr = {k: [] for k in ("task", "g", "seed", "rank", "loss", "loss_ratio", "residual_norm", "explained")}
    steps = np.arange(300)
    for t in ("flipflop", "mante", "romo"):
        for g in (0.0, 0.9, 1.8):
            L = np.exp(-steps / 40.0) * (1 + 0.05 * rng.random(steps.size))
            if (t, g) == ("mante", 0.0):
                L = 1.0 - 0.1 * steps / steps.size  # never learns
            if (t, g) == ("romo", 0.9):
                L = L.copy()
                L[200] = 0.5  # a spike
            for k, v in zip(loss, (t, g, 0, steps, L)):
                loss[k] += list(np.broadcast_to(v, steps.shape))
            s = np.sort(rng.random(64))[::-1] * np.exp(-np.arange(64) / 3)
            for i, v in enumerate(s, start=1):  # index from 1, as fig1's CSV writes it
                for k, x in zip(sv, (t, g, 0, i, v)):
                    sv[k].append(x)
            for R in range(0, 26):
                for k, x in zip(tr, (t, g, 0, R, np.exp(-R), np.exp(-R), 1.0, 0.5)):
                    tr[k].append(x)
    return loss, sv, tr


# ------------------------------------------------------------------ figure tests
@needs_mpl
def test_fig3_stands_alone_and_ignores_round_off(tmp_path, captured):
    from rnn_theory.numerics.reproduce.plot_linear import plot_fig3

    loss, svs = fig3_data()
    (png,) = plot_fig3(tmp_path, loss, svs, n=64, samples=2)
    assert png.exists() and png.stat().st_size > 10_000
    (fig,) = captured
    assert_stands_alone(fig)
    texts = " ".join(legend_texts(fig))
    for needed in ("g=0", "g=0.6", "simulation", "first order", "third order", "exact"):
        assert needed in texts, f"legend does not name {needed!r}: {texts}"
    labels = " ".join(a["xlabel"] + a["ylabel"] for a in fig._test_axes)
    assert r"\tilde\tau" in labels and "L/L_0" in labels and "s_1" in labels  # mathtext
    # the loss panels show the data (~1e-1 ... 1e-10), not the 1e-32 floor
    for a in fig._test_axes[:2]:
        assert a["ylim"][0] > 1e-12


@needs_mpl
def test_third_order_line_stops_before_plunging(tmp_path, captured):
    """The clipped third-order loss is not drawn down to 0 (a vertical drop on a log axis)."""
    from rnn_theory.numerics.reproduce.plot_linear import plot_fig3

    loss, svs = fig3_data()
    plot_fig3(tmp_path, loss, svs)
    top = captured[0]._test_axes[1]  # zhat = 2 loss panel
    for x, y, label, color in top["lines"]:
        y = np.asarray(y, float)
        if y.size > 2 and np.all(np.isfinite(y)):
            assert y.min() > 0


@needs_mpl
def test_fig1_draws_every_gain_indexes_from_one_and_flags_failures(tmp_path, captured):
    from rnn_theory.numerics.infra.plotting import param_color
    from rnn_theory.numerics.reproduce.plot_nonlinear import plot_fig1

    plot_fig1(tmp_path, *fig1_data())
    (fig,) = captured
    assert_stands_alone(fig)
    axes = fig._test_axes
    for j in range(3):  # each task: 3 gains in each of the three rows
        for row in range(3):
            colors = {tuple(np.round(c, 6)) for x, y, lab, c in axes[row * 3 + j]["lines"]
                      if len(np.atleast_1d(x)) > 1}
            assert {tuple(np.round(param_color(g), 6)) for g in (0.0, 0.9, 1.8)} <= colors
        sv_x = [np.asarray(x) for x, y, lab, c in axes[3 + j]["lines"]]
        assert all(x[0] == 1 for x in sv_x), "singular-value index must start at 1"
    texts = " ".join(legend_texts(fig))
    assert "not converged" in texts and "spike at step 200" in texts


@needs_mpl
def test_fig2_fig4_cosine_and_zhu_stand_alone(tmp_path, captured):
    from rnn_theory.numerics.reproduce.plot_linear import plot_fig4
    from rnn_theory.numerics.reproduce.plot_nonlinear import plot_cosine, plot_fig2
    from rnn_theory.numerics.reproduce.plot_zhu import plot_angles, plot_landscape, plot_learning_curves

    gs = [0.0, 0.5, 0.9]
    norm = {k: [] for k in ("zhat", "g", "quantity", "mean", "std", "n", "theory")}
    for zh in (0.5, 2.0):
        for g in gs:
            for q in ("tau_c", "dw_norm", "mean_grad", "shuffle_loss_ratio"):
                n_counted = 1 if (zh, g) == (2.0, 0.9) else 2     # one of two runs diverged there
                for k, v in zip(norm, (zh, g, q, 1 - g**2, 0.05, n_counted, 1 - g**2)):
                    norm[k].append(v)
    plot_fig4(tmp_path, norm)
    for panel in captured[-1]._test_axes:   # the point with a run left out says so
        assert "1/2" in panel["texts"] and any("runs that count" in t for t in panel["texts"]), panel["texts"]
    agg = {"task": [], "g": [], "n_samples": [], "all_valid": []}
    keys = ("converged_step", "dw_norm", "functional_rank", "shuffle_loss_ratio")
    agg.update({f"{k}_{s}": [] for k in keys for s in ("mean", "std")})
    for t in ("flipflop", "romo"):
        for g in gs:
            valid = not (t == "romo" and g == 0.0)
            for k, v in (("task", t), ("g", g), ("n_samples", 2), ("all_valid", int(valid))):
                agg[k].append(v)
            for k in keys:
                agg[f"{k}_mean"].append(1.0 + g if valid else float("nan"))
                agg[f"{k}_std"].append(0.1 if valid else float("nan"))
    plot_fig2(tmp_path, agg)
    steps = np.arange(0, 100)
    closs = {"g": np.repeat(gs, steps.size), "step": np.tile(steps, 3),
             "loss": np.concatenate([np.exp(-steps * g / 10) for g in gs])}
    eig = {"g": [], "step": [], "index": [], "real": [], "imag": []}
    for g in gs:
        for st in (0, 95):
            for i in range(4):
                for k, v in zip(eig, (g, st, i, 0.5 + 0.1 * i, 0.2 * g)):
                    eig[k].append(v)
    plot_cosine(tmp_path, closs, eig)
    it = np.arange(50)
    lc = {"rule": [], "lr": [], "iteration": [], "loss": []}
    for r in ("dW1", "dW2"):
        for lr in (0.1, 1.0):
            y = np.exp(-lr * it / 10)
            if r == "dW1" and lr == 1.0:
                y = y[:20]  # diverged: curve cut
            lc["rule"] += [r] * y.size
            lc["lr"] += [lr] * y.size
            lc["iteration"] += list(range(y.size))
            lc["loss"] += list(y)
    summary = {"rule": ["dW1", "dW1", "dW2", "dW2"], "lr": [0.1, 1.0, 0.1, 1.0], "diverged_at": [-1, 20, -1, -1]}
    plot_learning_curves(tmp_path, lc, summary)
    plot_angles(tmp_path, {"lr": np.repeat([0.1, 1.0], 10), "iteration": np.tile(np.arange(10), 2),
                           "angle_12": np.linspace(80, 60, 20), "angle_23": np.linspace(5, 1, 20)})
    t = np.linspace(-1, 1, 21)
    L = {"t": t, "loss_w": np.vstack([1 + 10 * t**2, 1 + 1 / (0.01 + (t - 0.3) ** 2)]),
         "loss_a": np.vstack([1 + t**2, 1 + 2 * t**2]), "t_boundary": np.array([0.35])}
    plot_landscape(tmp_path, L, {"w_grid": t, "loss_grid": 1 + t**2})
    assert len(captured) == 6
    for fig in captured:
        assert_stands_alone(fig)
    texts = " ".join(legend_texts(captured[-3]))
    assert "diverged" in texts
    texts = " ".join(legend_texts(captured[-1]))
    assert "random direction 1" in texts and "random direction 2" in texts
    for name in ("fig4", "fig2", "cosine", "learning_curves", "angles", "landscape"):
        assert (tmp_path / f"{name}.png").exists()


@needs_mpl
def test_curves_theory_only_writes_documented_files_and_png(tmp_path):
    from rnn_theory.numerics.cli import main

    out = tmp_path / "c"
    assert main(["curves", "--out", str(out), "--samples", "0", "--steps", "60", "--zhat", "0.5",
                 "--format", "pdf", "--no-progress"]) == 0
    for name in ("loss.csv", "singular_values.csv", "fig3.png", "fig3.pdf"):
        assert (out / name).exists(), name
    header = (out / "loss.csv").read_text().splitlines()[0]
    assert header.split(",") == ["zhat", "g", "seed", "source", "tau", "tau_tilde", "loss"]
    assert not (out / "theory_curves.csv").exists()


def test_without_matplotlib_a_one_line_note_names_the_extra(tmp_path, monkeypatch, capsys):
    from rnn_theory.numerics.cli import main

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    monkeypatch.setattr(plotting, "_noted", False)
    assert plotting.pyplot() is None
    assert main(["curves", "--out", str(tmp_path), "--samples", "0", "--steps", "20", "--zhat", "0.5",
                 "--g", "0", "--no-progress"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[plot]" in err[0] and "matplotlib" in err[0]
    assert (tmp_path / "loss.csv").exists() and not (tmp_path / "fig3.png").exists()


def test_unknown_figure_format_is_one_clear_error():
    from rnn_theory.theory.errors import RNNTheoryError

    with pytest.raises(RNNTheoryError, match="jpg"):
        with plotting.figure_formats(["jpg"]):
            pass


@needs_mpl
def test_one_colour_per_parameter_value():
    assert plotting.param_color(0.9) == plotting.param_color(0.9)
    cols = [plotting.param_color(g) for g in (0.0, 0.6, 0.9, 1.8)]
    assert len({tuple(c) for c in cols}) == 4


# ------------------------------------------------------------------ Farrell et al. 2022
def farrell_record(cfg, diverged=False):
    """A run record as ``farrell_run`` + ``run_sweep`` leave it, with synthetic numbers."""
    from types import SimpleNamespace

    g, sd = float(cfg["gamma"]), int(cfg["seed"])
    c = dict(cfg)
    if diverged:
        c.update(diverged=True, diverged_step=37, diverged_reason="loss above 1e3 x initial")
        return SimpleNamespace(config=c, arrays={}, history={"epoch": [0], "accuracy": [0.1]}, path=None)
    t = np.arange(16)
    noise = float(cfg.get("hidden_noise", 0.0))
    before = 2 + (20 + g / 25) * np.exp(-t / (3 + g / 50)) + 0.3 * sd
    after = before * (0.3 + 0.5 * np.exp(-t / 4)) * (1 - 0.5 * noise) + 0.2 * sd
    epochs = np.arange(int(cfg.get("epochs", 4)) + 1)
    lyap_ep = [e for e in (0, 1, 5, 10) if e < epochs[-1]] + [int(epochs[-1])]
    if cfg.get("lyap_epochs") == []:
        lyap_ep = []
    lam = [np.linspace(0.2 if g > 100 else 0.03, -1.0, 10) - 0.05 * e * (g < 100) + 0.01 * sd for e in lyap_ep]
    acc = 1 - 0.9 * np.exp(-(epochs + sd) / (1.0 if g > 100 else 2.0))
    arrays = dict(pr_before=before, pr_after=after, lyap_epochs=np.array(lyap_ep),
                  lyap_nats=np.array(lam).reshape(-1, 10),
                  holdout_before=np.vstack([np.ones(11), 0.4 + 0.02 * np.arange(11) + 0.05 * sd]),
                  holdout_after=np.vstack([np.ones(11), np.minimum(1.0, 0.5 + 0.08 * np.arange(11))]))
    c.update(final_accuracy=float(acc[-1]), pr_T_before=float(before[10]), pr_T_after=float(after[10]),
             top_lyap_before=float(lam[0][0]) if lam else float("nan"),
             top_lyap_after=float(lam[-1][0]) if lam else float("nan"), orth_compression=0.5, diverged=False)
    history = {"epoch": list(epochs), "accuracy": list(acc), "pr_T": list(after[10] + 0 * epochs)}
    return SimpleNamespace(config=c, arrays=arrays, history=history, path=None)


@pytest.fixture
def fake_farrell(monkeypatch):
    """Replace the training in ``farrell`` by synthetic records; names in ``bad`` diverge."""
    import rnn_theory.numerics.reproduce.farrell as fr

    bad = set()

    def run(configs, out, workers, show_progress):
        return {c["name"]: farrell_record(c, diverged=c["name"] in bad) for c in configs}

    monkeypatch.setattr(fr, "_run", run)
    return fr, bad


FARRELL_LABELS = {"pr": ("$t$", "steps", r"\mathrm{PR}"), "lyapunov": ("nats/step", r"\lambda"),
                  "accuracy": ("epoch", "accuracy"), "holdout": ("$t$", "steps", "accuracy")}


@needs_mpl
def test_farrell_figures_stand_alone_with_seed_bands_and_gamma_colours(tmp_path, captured, fake_farrell):
    from matplotlib.colors import to_rgba

    from rnn_theory.numerics.infra.plotting import STYLE, param_color

    fr, _ = fake_farrell
    written = fr.fig2(tmp_path / "f2", quick=True, seed=0, workers=1, show_progress=False)
    assert len(captured) == 4
    for name in FARRELL_LABELS:
        assert tmp_path / "f2" / f"{name}.png" in written and (tmp_path / "f2" / f"{name}.png").exists()
    c20, c250 = (tuple(np.round(param_color(g, "gamma"), 6)) for g in (20.0, 250.0))
    assert c20 != c250, "gamma = 20 and 250 must have different colours"
    for fig, (name, needed) in zip(captured, FARRELL_LABELS.items()):
        assert_stands_alone(fig)
        titles = " ".join([fig._test_suptitle] + [a["title"] for a in fig._test_axes])
        assert "Fig. 2" in titles and "high-d" in titles, f"{name}: title {titles!r}"
        labels = " ".join(a["xlabel"] + " " + a["ylabel"] for a in fig._test_axes)
        for word in needed:
            assert word in labels, f"{name}: axis labels {labels!r} lack {word!r}"
        texts = " ".join(legend_texts(fig))
        for word in (r"$\gamma=20$", r"$\gamma=250$", "min–max over 2 seeds"):
            assert word in texts, f"{name}: legend {texts!r} lacks {word!r}"
        if name in ("pr", "holdout"):
            assert "before training" in texts and "after training" in texts
        for a in fig._test_axes:
            assert a["title"] or fig._test_suptitle
            assert a["bands"] >= 2, f"{name}: no min-max band over the 2 seeds"
            assert a["legend_size"] is None or a["legend_size"] >= STYLE["legend.fontsize"]
            colors = {tuple(np.round(to_rgba(c), 6)) for x, y, lab, c in a["lines"] if len(np.atleast_1d(x)) > 1}
            assert {c20, c250} <= colors, f"{name}: not one colour per gamma"


@needs_mpl
def test_farrell_one_seed_draws_no_band_and_says_so(tmp_path, captured):
    from rnn_theory.numerics.reproduce.farrell import _pr_rows
    from rnn_theory.numerics.reproduce.plot_farrell import plot_pr

    recs = [farrell_record(dict(gamma=g, seed=0)) for g in (20.0, 250.0)]
    plot_pr(tmp_path, _pr_rows(recs), title="Fig. 3e: one seed")
    (fig,) = captured
    assert_stands_alone(fig)
    assert fig._test_axes[0]["bands"] == 0
    assert "1 seed" in " ".join(legend_texts(fig))


@needs_mpl
def test_farrell_fig5_draws_the_noise_runs_and_keeps_its_csvs(tmp_path, captured, fake_farrell):
    from rnn_theory.numerics.infra.io import read_csv

    fr, _ = fake_farrell
    out = tmp_path / "f5"
    fr.fig5(out, quick=True, seed=0, workers=1, show_progress=False)
    for name in ("pr.png", "pr_lowd.png", "pr_noise.png", "pr.csv", "pr_lowd.csv", "pr_noise.csv", "accuracy.csv",
                 "summary.csv"):
        assert (out / name).exists(), name
    assert list(read_csv(out / "pr_noise.csv")) == ["gamma", "seed", "noise", "stage", "t", "pr"]
    assert len(captured) == 3
    hi, lo, noise = captured
    assert "Fig. 5a" in hi._test_axes[0]["title"] and "high-d" in hi._test_axes[0]["title"]
    assert "Fig. 5b" in lo._test_axes[0]["title"] and "low-d" in lo._test_axes[0]["title"]
    assert "250" in noise._test_suptitle and "MSE" in noise._test_suptitle
    assert [a["title"] for a in noise._test_axes] == [r"hidden noise $\sigma_h=0$ (none)",
                                                      r"hidden noise $\sigma_h=0.5$"]
    for fig in captured:
        assert_stands_alone(fig)
        for a in fig._test_axes:
            assert a["bands"] >= 2 and "$t$" in a["xlabel"]
    texts = " ".join(legend_texts(noise))
    assert "before training" in texts and "after training" in texts


@needs_mpl
def test_farrell_diverged_run_is_marked_and_reported(tmp_path, captured, fake_farrell):
    from rnn_theory.numerics.infra.io import read_csv
    from rnn_theory.theory.errors import RNNTheoryError

    fr, bad = fake_farrell
    bad.add("quick-fig5-noise0.5-g250-s1")
    with pytest.raises(RNNTheoryError, match="1 run.*diverged.*marked"):
        fr.fig5(tmp_path, quick=True, seed=0, workers=1, show_progress=False)
    assert (tmp_path / "pr_noise.png").exists()
    rows = read_csv(tmp_path / "pr_noise.csv")
    assert not any(s == 1 and n == 0.5 for s, n in zip(rows["seed"], rows["noise"]))
    summary = read_csv(tmp_path / "summary.csv")   # every run, the diverged one marked, no result
    assert len(summary["seed"]) == 3 * 2 * 2 and sum(summary["diverged"]) == 1  # high-d, low-d, noise: 2 x 2 each
    i = summary["diverged"].index(1)
    assert (summary["seed"][i], summary["hidden_noise"][i], summary["diverged_step"][i]) == (1, 0.5, 37)
    assert np.isnan(summary["final_accuracy"][i]) and np.isnan(summary["pr_T_after"][i])
    assert all(step == -1 for d, step in zip(summary["diverged"], summary["diverged_step"]) if d == 0)
    noisy = captured[-1]._test_axes[1]
    assert any("seed 1: diverged at step 37" in t for t in noisy["legend"])
    assert not any("diverged" in t for t in captured[-1]._test_axes[0]["legend"])


# ------------------------------------------------------------------ progress
def test_progress_prints_first_line_before_any_work_and_an_eta():
    buf = io.StringIO()
    bar = Progress(4, "sweep", unit="runs", stream=buf, interval=60)
    bar.start()
    first = buf.getvalue()
    assert first.startswith("sweep: 0/4 runs") and "ETA ?" in first
    bar.update()
    assert "ETA" in buf.getvalue().splitlines()[-1] and "ETA ?" not in buf.getvalue().splitlines()[-1]
    bar.close()


def test_progress_heartbeat_while_a_run_is_busy():
    import time

    buf = io.StringIO()
    with Progress(3, "fig1", stream=buf, interval=0.05):
        time.sleep(0.3)  # nothing finishes, but the log keeps showing the elapsed time
    assert len(buf.getvalue().splitlines()) >= 3


def test_progress_is_silenceable(monkeypatch):
    buf = io.StringIO()
    with Progress(3, "x", stream=buf, enabled=False) as bar:
        bar.update()
    assert buf.getvalue() == ""
    monkeypatch.setenv("RNN_THEORY_NO_PROGRESS", "1")
    with Progress(3, "x", stream=buf) as bar:
        bar.update()
    assert buf.getvalue() == ""
    items = [1, 2]
    assert progress(items) is items


# ------------------------------------------------------------------ progress within a run, in a log
def _busy_run(config):
    """A sweep run whose training loop takes ``steps`` × ``dt`` seconds and prints nothing itself."""
    import time

    for _ in progress(range(config["steps"]), desc="train", enabled=False):
        time.sleep(config["dt"])
    return {"x": np.zeros(1)}, {"step": [0]}, {"done": True}


def _lines(text):
    return [ln for ln in text.splitlines() if ln.startswith("sweep:")]


def test_progress_in_a_log_shows_an_eta_while_the_only_run_is_busy(tmp_path, capsys):
    """A sweep of one long run, stderr not a terminal: a first line before any work, then an
    ETA from the run's own step counter long before the run ends; plain lines, few of them."""
    from rnn_theory.numerics.infra.sweep import run_sweep

    run_sweep(_busy_run, [{"name": "r", "steps": 30, "dt": 0.06}], tmp_path / "runs", executor="serial")
    err = capsys.readouterr().err
    assert "\r" not in err  # a log gets whole lines, not a redrawn bar
    lines = _lines(err)
    assert lines[0].startswith("sweep: 0/1 runs (0%), 0:00 elapsed") and "ETA ?" in lines[0]
    busy = [ln for ln in lines[1:] if ln.startswith("sweep: 0/1 runs")]
    assert busy and all("ETA ?" not in ln for ln in busy), lines
    assert lines[-1].startswith("sweep: 1/1 runs (100%)")
    assert len(lines) <= 4, lines  # ~2 s of work: first line, first ETA, final line (15 s rate)


def test_progress_periodic_lines_with_an_eta_from_a_runs_step_counter():
    import time

    from rnn_theory.numerics.infra.progress import reporting_to

    buf = io.StringIO()
    frac = {}
    bar = Progress(1, "sweep", unit="runs", stream=buf, interval=0.15, partial=lambda: sum(frac.values()))
    with bar:
        assert buf.getvalue().startswith("sweep: 0/1 runs (0%)")  # before any work
        with reporting_to(lambda done, total: frac.__setitem__("r", done / total)):
            for _ in progress(range(20), enabled=False):
                time.sleep(0.05)
        frac.clear()
        bar.update()
    lines = buf.getvalue().splitlines()
    busy = [ln for ln in lines if ln.startswith("sweep: 0/1 runs") and "ETA ?" not in ln]
    assert len(busy) >= 3, lines  # periodic, each with an ETA, while nothing finished
    pcts = [int(ln.split("(")[1].split("%")[0]) for ln in busy]
    assert pcts == sorted(pcts) and 0 < pcts[0] < 100


def test_progress_worker_reports_through_a_file(tmp_path):
    from rnn_theory.numerics.infra.progress import FileReporter, read_fraction, reporting_to

    path = tmp_path / "r.progress"
    assert read_fraction(path) == 0.0  # nothing yet
    seen = []
    with reporting_to(FileReporter(path, every=3600)):
        for i in progress(range(8), enabled=False):
            seen.append(read_fraction(path))
            for _ in progress(range(5), enabled=False):  # a nested loop does not take over
                pass
    assert seen[0] == 0.0 and seen[1:] == [1 / 8] * 7  # first report at once, then rate-limited
    assert read_fraction(path) == 1.0  # the loop's last step is always written
    with reporting_to(FileReporter(tmp_path / "missing" / "r.progress")):  # unwritable: silent
        assert list(progress(range(3), enabled=False)) == [0, 1, 2]


def test_progress_parallel_sweep_counts_runs_in_flight(tmp_path, capsys):
    from rnn_theory.numerics.infra.sweep import run_sweep

    cfgs = [{"name": f"r{i}", "steps": 40, "dt": 0.06} for i in range(2)]  # workers report once a second
    run_sweep(_busy_run, cfgs, tmp_path / "runs", max_workers=2)
    lines = _lines(capsys.readouterr().err)
    assert any(ln.startswith("sweep: 0/2 runs") and "ETA ?" not in ln for ln in lines), lines
    assert lines[-1].startswith("sweep: 2/2 runs (100%)")


def test_progress_silenced_sweep_prints_nothing(tmp_path, capsys, monkeypatch):
    from rnn_theory.numerics.infra.sweep import run_sweep

    run_sweep(_busy_run, [{"name": "a", "steps": 2, "dt": 0.0}], tmp_path / "r1", show_progress=False)
    monkeypatch.setenv("RNN_THEORY_NO_PROGRESS", "1")
    run_sweep(_busy_run, [{"name": "b", "steps": 2, "dt": 0.0}], tmp_path / "r2")
    assert capsys.readouterr().err == ""


def test_progress_weights_runs_by_their_cost():
    """A cheap run finished and an expensive one not started: the unit count says 50 %, the
    cost-weighted line says 10 % and an ETA of nine times the elapsed time."""
    from rnn_theory.numerics.infra.sweep import _weights, _work_fraction

    plan = [({"name": "cheap", "steps": 10}, "new"), ({"name": "costly", "steps": 90}, "new")]
    weights = _weights(plan, lambda c: c["steps"])
    assert weights == {"cheap": 0.1, "costly": 0.9}
    finished, in_flight = ["cheap"], {}
    frac = _work_fraction(weights, finished, lambda: in_flight)
    plain = Progress(2, "sweep", unit="runs", stream=io.StringIO())
    weighted = Progress(2, "sweep", unit="runs", stream=io.StringIO(), fraction=frac)
    for bar in (plain, weighted):
        bar.start()
        bar._t0 -= 100.0            # 100 s elapsed
        bar.done = 1
    assert "1/2 runs (50%)" in plain.line() and abs(plain.eta() - 100) < 1
    assert "1/2 runs (10%)" in weighted.line() and abs(weighted.eta() - 900) < 1
    in_flight["costly"] = 0.5       # half of the costly run's steps done: 55 % of the work
    assert "(55%)" in weighted.line()
    for bar in (plain, weighted):
        bar.close()                 # e.g. Ctrl-C: the final line keeps the weighted 55 %, not 1/2 = 50 %
    assert weighted.stream.getvalue().splitlines()[-1].startswith("sweep: 1/2 runs (55%)")
    assert _weights(plan, None) is None and _work_fraction(None, [], dict) is None


def test_progress_eta_does_not_count_the_start_up_as_work(monkeypatch):
    """Workers take 2 s to start, then a run's steps report 1 % of the work a second: the
    first ETA (one second after the first report) is the 99 s left, not 3 × 99 s, which the
    elapsed-time formula would give (at the first report it would give 2 × 10⁴ s)."""
    from rnn_theory.numerics.infra import progress as progress_mod

    clock, frac = [0.0], [0.0]
    monkeypatch.setattr(progress_mod.time, "monotonic", lambda: clock[0])
    bar = Progress(1, "sweep", unit="runs", stream=io.StringIO(), fraction=lambda: frac[0])
    bar._t0 = 0.0                    # started (no heartbeat thread: the clock is ours)
    clock[0], frac[0] = 2.0, 1e-4    # the first step of the first run is reported
    assert bar.eta() is None and "ETA ?" in bar.line()
    clock[0], frac[0] = 3.0, 1e-4 + 1e-2
    assert abs(bar.eta() - 99.0) < 0.5
    bar.done, clock[0], frac[0] = 1, 50.0, 0.5   # a whole run finished: elapsed-time formula
    assert abs(bar.eta() - 50.0) < 1e-9


def test_progress_reads_the_work_fraction_once_per_line():
    """``fraction()`` may read every worker's report file: one call per printed line."""
    calls = []

    def frac():
        calls.append(1)
        return 0.25

    import time

    buf = io.StringIO()
    bar = Progress(4, "sweep", unit="runs", stream=buf, interval=60, fraction=frac)
    bar._t0 = time.monotonic()       # started without the heartbeat thread, whose looks would also count
    for k in (1, 2):
        bar._emit(force=True)
        assert len(calls) == k and len(buf.getvalue().splitlines()) == k and "(25%)" in buf.getvalue()


def test_sweep_refuses_a_bad_cost_before_any_work(tmp_path):
    from rnn_theory.numerics.infra.sweep import run_sweep
    from rnn_theory.theory.errors import DomainError

    with pytest.raises(DomainError, match="cost"):
        run_sweep(_busy_run, [{"name": "a", "steps": 2, "dt": 0.0}], tmp_path / "runs", cost=lambda c: 0.0)
    assert not any((tmp_path / "runs").iterdir())


def test_schuessler_run_cost_counts_steps_trial_length_and_n_squared():
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import make_config, run_cost

    ff, romo = make_config("flipflop", 0.9, 0, n=64), make_config("romo", 0.9, 0, n=64)
    big = make_config("flipflop", 0.9, 0, n=128)
    # small N: the per-step passes and overhead weigh in, doubling N costs less than 4x
    assert 1.0 < run_cost(big) / run_cost(ff) < 3.0
    # large N: the N² products dominate, doubling N costs 4x
    huge, huger = make_config("flipflop", 0.9, 0, n=8192), make_config("flipflop", 0.9, 0, n=16384)
    assert run_cost(huger) / run_cost(huge) == pytest.approx(4.0, rel=0.02)
    # 1000 vs 6000 steps, trials of 100 vs 56 steps (each task generates its own trials)
    expected = ((6000 * 32 + 27 * 512) * 56) / ((1000 * 32 + 27 * 512) * 100)
    assert run_cost(romo) / run_cost(ff) == pytest.approx(expected, rel=1e-6)


# ------------------------------------------------------------------ N-scaling figure
def nscaling_data():
    cols = {k: [] for k in ("task", "n", "g", "seed", "converged_step", "dw_norm", "w0_norm",
                            "functional_rank", "diverged")}
    for n in (32, 64, 128):
        for g in (0.0, 0.9, 1.8):
            for s in (0, 1):
                conv = not (n == 32 and g == 0.0 and s == 1)
                div = n == 128 and g == 1.8 and s == 1
                row = ("flipflop", n, g, s, 150.0 + s if conv else np.nan, 2.0 - 0.5 * g + 0.01 * s + 1e-3 * n,
                       1.02 * g * np.sqrt(n), 2.0 if conv else np.nan, int(div))
                if div:
                    row = row[:4] + (np.nan,) * 4 + (1,)
                for k, v in zip(cols, row):
                    cols[k].append(v)
    return cols


@needs_mpl
def test_nscaling_figure_draws_the_claims_seeds_and_failures(tmp_path, monkeypatch):
    import rnn_theory.numerics.reproduce.plot_nonlinear as pn

    figs = []
    real = plotting.save_figure

    def capture(fig, path, dpi=None):
        fig.canvas.draw()
        snapshot(fig)
        figs.append(fig)
        return real(fig, path, dpi)

    monkeypatch.setattr(pn, "save_figure", capture)
    (png,) = pn.plot_nscaling(tmp_path, nscaling_data())
    assert png.name == "nscaling.png" and png.stat().st_size > 10_000
    (fig,) = figs
    assert_stands_alone(fig)
    dw, w0, conv, rank = fig._test_axes
    assert [a["yscale"] for a in fig._test_axes] == ["log", "log", "linear", "linear"]
    assert all("N" in a["xlabel"] for a in fig._test_axes) and r"\Delta W" in dw["ylabel"]
    assert fig.axes[0].get_xscale() == "log"
    ns = np.array([32.0, 64.0, 128.0])
    for g in (0.9, 1.8):  # the claim's reference ‖W0‖_F = g √N, in g's colour
        ref = [ln for ln in w0["lines"] if len(ln[1]) == 3 and np.allclose(ln[1], g * np.sqrt(ns))
               and ln[3] == plotting.param_color(g) and np.allclose(ln[0], ns)]
        assert ref, f"no g√N line for g={g}"
    flat = [ln for ln in dw["lines"] if len(ln[1]) == 3 and np.ptp(np.asarray(ln[1], float)) == 0]
    assert len(flat) == 3  # one flat reference per g
    means = [ln for ln in dw["lines"] if ln[2] == "$g=0.9$"]
    assert means and np.allclose(means[0][1], 2.0 - 0.45 + 0.005 + 1e-3 * ns)  # mean over the two seeds
    texts = " ".join(legend_texts(fig))
    for needed in ("flat in", r"g\sqrt{N}", "did not converge", "diverged (1 run)", "$g=0$", "$g=1.8$"):
        assert needed in texts, f"legend does not name {needed!r}: {texts}"
    seeds = [ln for ln in conv["lines"] if ln[2].startswith("_") and len(ln[0]) >= 5]
    assert seeds, "the seeds' spread is not drawn"


def test_nscaling_writes_png_and_a_diverged_column(tmp_path):
    from rnn_theory.numerics.infra.io import read_csv
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import nscaling

    paths = nscaling(tmp_path, quick=True, seed=0, workers=1, show_progress=False, ns=(8, 12), gs=(0.0, 1.0),
                     samples=1, steps=3, n_eval=4)
    ns = read_csv(tmp_path / "nscaling.csv")
    assert list(ns)[-1] == "diverged" and ns["diverged"] == [0, 0, 0, 0]
    if HAVE_MPL:
        assert tmp_path / "nscaling.png" in paths and (tmp_path / "nscaling.png").exists()


# ------------------------------------------------------------------ digits and LSTM figures
def _capture_into(monkeypatch, module):
    figs = []
    real = plotting.save_figure

    def capture(fig, path, dpi=None):
        fig.canvas.draw()
        snapshot(fig)
        figs.append(fig)
        return real(fig, path, dpi)

    monkeypatch.setattr(module, "save_figure", capture)
    return figs


@needs_mpl
def test_digits_figure_colours_rates_and_marks_stopped_runs(tmp_path, monkeypatch):
    import rnn_theory.numerics.reproduce.zhu as zhu

    figs = _capture_into(monkeypatch, zhu)
    curves = {k: [] for k in ("rule", "lr", "step", "train_loss", "train_accuracy", "test_loss",
                              "test_accuracy", "max_real_eig_w")}
    runs = {"rule": [], "lr": [], "diverged_step": []}
    for r in ("dW1", "dW3"):
        for lr in (0.05, 0.5):
            n = 12 if (r, lr) == ("dW1", 0.5) else 20
            for s in range(n):
                for k, v in zip(curves, (r, lr, s, 1.0, 0.5, 1.0, 0.1 + 0.02 * s, 0.6 + 0.01 * s)):
                    curves[k].append(v)
            for k, v in zip(runs, (r, lr, 12 if n == 12 else -1)):
                runs[k].append(v)
    (png,) = zhu._plot_digits(tmp_path, "", curves, runs)
    assert png.exists()
    (fig,) = figs
    assert_stands_alone(fig)
    texts = " ".join(legend_texts(fig))
    assert "stopped at step 12" in texts and texts.count("stopped") == 1
    acc = fig._test_axes[0]
    assert {tuple(np.round(c, 6)) for *_, c in acc["lines"]} >= {
        tuple(np.round(plotting.param_color(v, "lr"), 6)) for v in (0.05, 0.5)}
    crosses = [ln for ln in acc["lines"] if len(ln[0]) == 1]
    assert len(crosses) == 1 and crosses[0][0][0] == 11  # at the last recorded step


@needs_mpl
def test_lstm_figures_draw_reference_accuracies(tmp_path, monkeypatch):
    import rnn_theory.numerics.reproduce.lstm as lstm

    figs = _capture_into(monkeypatch, lstm)
    trunc = {"weight": [], "mode": [], "rank": [], "accuracy": []}
    for w in ("W_hh1", "all"):
        for m in ("dW", "W"):
            for r in (0, 1, 2, 4, 8):
                for k, v in zip(trunc, (w, m, r, 0.9 if m == "dW" else 0.6 + 0.04 * r)):
                    trunc[k].append(v)
    sv = {"weight": [], "kind": [], "index": [], "value": []}
    for kind in ("dW", "W", "W0"):
        for i in range(1, 9):
            for k, v in zip(sv, ("W_hh1", kind, i, 10.0 / i)):
                sv[k].append(v)
    paths = lstm._plots(tmp_path, trunc, sv, {"lstm_accuracy": 0.95, "chance": 0.5})
    assert [p.name for p in paths] == ["truncation.png", "singular_values.png"]
    for fig in figs:
        assert_stands_alone(fig)
    levels = [float(np.ravel(ln[1])[0]) for ln in figs[0]._test_axes[0]["lines"] if len(set(np.ravel(ln[1]))) == 1
              and len(np.ravel(ln[1])) == 2]
    assert 0.95 in levels and 0.5 in levels
    assert "s_k" in figs[1]._test_axes[0]["ylabel"]
