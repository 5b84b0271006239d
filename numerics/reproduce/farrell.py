"""Figures 2–5 of Farrell et al. (2022): ``rnn-theory reproduce farrell-fig2 … farrell-fig5``.

Each figure trains networks with γ ∈ {20, 250} over several seeds
(:func:`rnn_theory.numerics.representations.dimensionality.farrell_run`, resumable run folders in ``OUT/runs``) and
writes long-format CSVs (columns listed in ``docs/dimensionality.md``):

* ``pr.csv`` — ``gamma, seed, stage, t, pr``: PR of the noise-free states, t = 0…15
  (t = 0 the input), ``stage`` ``before``/``after`` training;
* ``lyapunov.csv`` — ``gamma, seed, epoch, index, exponent_nats`` at epochs 0, 1, 5, 10 and final;
* ``accuracy.csv`` — ``gamma, seed, epoch, accuracy`` (Fig. 2: the 10-epoch, 400-sample run);
* ``holdout.csv`` — ``gamma, seed, stage, t, train_accuracy, test_accuracy``
  (logistic regression on clusters 0–48, tested on 49–59);
* ``pr_epochs.csv`` — ``gamma, seed, epoch, pr`` (PR of h_10 at every checkpoint);
* ``pca.csv`` / ``pca_readout.csv`` — PCA snapshots (first seed; 600 points; indices
  0–11, 16, 21, 26, 31 where index i is h_{i+1});
* ``summary.csv`` — one row per run;
* Fig. 5 (MSE) instead writes ``pr.csv`` (high-d), ``pr_lowd.csv`` (low-d) and
  ``pr_noise.csv`` (``gamma, seed, noise, stage, t, pr``: high-d, γ = 250, lr 1e-3,
  40 epochs, without and with hidden noise σ_h = 0.5).

``quick=True`` uses 2 seeds and short runs (minutes on 2 cores); the full settings follow
the paper (5 seeds; 40/80/100 epochs).
"""
from __future__ import annotations

from pathlib import Path

from rnn_theory.numerics.infra.plotting import pyplot

from rnn_theory.numerics.infra.io import write_csv
from rnn_theory.numerics.infra.sweep import run_sweep
from rnn_theory.numerics.infra.outputs import prepare_output_dir
from rnn_theory.theory.errors import RNNTheoryError

GAMMAS = (20.0, 250.0)
SNAP_INDICES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 21, 26, 31)


def _settings(quick: bool):
    if quick:
        return dict(seeds=2, highd=8, lowd=15, mse=15, acc_epochs=4, noise_epochs=10,
                    lyap_inits=4, n_accuracy=500, N=200, n_train=800)
    return dict(seeds=5, highd=40, lowd=80, mse=100, acc_epochs=10, noise_epochs=40,
                lyap_inits=10, n_accuracy=1000, N=200, n_train=800)


def _base(s, **kw):
    # high-d input means d = N (= 200 in the paper)
    if kw.get("d") == "N":
        kw["d"] = s["N"]
    kw.setdefault("n_train", s["n_train"])
    return dict(lyap_inits=s["lyap_inits"], lyap_steps=s.get("lyap_steps", 1000),
                lyap_exponents=min(10, s["N"]), n_accuracy=s["n_accuracy"], N=s["N"], **kw)


def _run(configs, out, workers, show_progress):
    """Run (or load) every configuration; diverged runs are returned too (see :func:`_split`)."""
    executor = "serial" if workers == 1 else None
    return run_sweep(_farrell_run, configs, Path(out) / "runs", executor=executor,
                     max_workers=workers, show_progress=show_progress)


def _split(records):
    """``(trained, diverged)``: the records that trained, and one dict per diverged run
    (``gamma``, ``seed``, ``noise``, ``step``, ``name``) for the figures' ✕ marks."""
    ok, bad = [], []
    for rec in records:
        c = rec.config
        if c.get("diverged"):
            bad.append(dict(gamma=float(c["gamma"]), seed=int(c["seed"]), noise=float(c.get("hidden_noise", 0.0)),
                            step=c.get("diverged_step"), name=c.get("name", rec.path.name if rec.path else "?"),
                            config=c))
        else:
            ok.append(rec)
    return ok, bad


def _raise_if_diverged(diverged):
    """After the CSVs and figures are written, report diverged runs as an error (exit status)."""
    if diverged:
        names = ", ".join(d["name"] for d in diverged[:3])
        raise RNNTheoryError(f"{len(diverged)} run(s) diverged ({names}); the CSVs and figures hold only the "
                             "runs that trained, the diverged ones are marked ✕ in the figures — see "
                             "diverged_reason in their config.json")


def _farrell_run(cfg):  # module-level indirection keeps the import light for the CLI
    from rnn_theory.numerics.representations.dimensionality import farrell_run
    return farrell_run(cfg)


def _name(prefix, quick, gamma, seed):
    return f"{'quick-' if quick else ''}{prefix}-g{gamma:g}-s{seed}"


# ----------------------------------------------------------------------------- CSV writers
def _pr_rows(records, key_cols=()):
    cols = {k: [] for k in ("gamma", "seed", *key_cols, "stage", "t", "pr")}
    for rec in records:
        c = rec.config
        for stage in ("before", "after"):
            pr = rec.arrays[f"pr_{stage}"]
            for t, v in enumerate(pr):
                cols["gamma"].append(c["gamma"])
                cols["seed"].append(c["seed"])
                for k in key_cols:
                    cols[k].append(c[k])
                cols["stage"].append(stage)
                cols["t"].append(t)
                cols["pr"].append(float(v))
    return cols


def _lyap_rows(records):
    cols = {k: [] for k in ("gamma", "seed", "epoch", "index", "exponent_nats")}
    for rec in records:
        for e, lam in zip(rec.arrays["lyap_epochs"], rec.arrays["lyap_nats"]):
            for i, v in enumerate(lam):
                cols["gamma"].append(rec.config["gamma"])
                cols["seed"].append(rec.config["seed"])
                cols["epoch"].append(int(e))
                cols["index"].append(i)
                cols["exponent_nats"].append(float(v))
    return cols


def _history_rows(records, key, out_key):
    cols = {k: [] for k in ("gamma", "seed", "epoch", out_key)}
    for rec in records:
        for e, v in zip(rec.history["epoch"], rec.history[key]):
            cols["gamma"].append(rec.config["gamma"])
            cols["seed"].append(rec.config["seed"])
            cols["epoch"].append(int(e))
            cols[out_key].append(float(v))
    return cols


def _holdout_rows(records):
    cols = {k: [] for k in ("gamma", "seed", "stage", "t", "train_accuracy", "test_accuracy")}
    for rec in records:
        for stage in ("before", "after"):
            tr, te = rec.arrays[f"holdout_{stage}"]
            for t in range(len(tr)):
                cols["gamma"].append(rec.config["gamma"])
                cols["seed"].append(rec.config["seed"])
                cols["stage"].append(stage)
                cols["t"].append(t)
                cols["train_accuracy"].append(float(tr[t]))
                cols["test_accuracy"].append(float(te[t]))
    return cols


def _summary_rows(records, diverged=()):
    """One row per run: the trained ``records``, then the ``diverged`` runs (dicts from
    :func:`_split`) with ``diverged`` = 1, the step it happened at and NaN results."""
    keys = ("final_accuracy", "pr_T_before", "pr_T_after", "top_lyap_before", "top_lyap_after",
            "orth_compression")
    cols = {k: [] for k in ("gamma", "seed", "d", "input_mode", "loss", "hidden_noise", "epochs", *keys,
                            "diverged", "diverged_step")}
    from rnn_theory.numerics.representations.dimensionality import FarrellConfig
    defaults = FarrellConfig().to_dict()
    rows = [(rec.config, False) for rec in records] + [(d["config"], True) for d in diverged]
    for cfg, bad in rows:
        for k in cols:
            if k == "diverged":
                cols[k].append(int(bad))
            elif k == "diverged_step":
                cols[k].append(cfg.get("diverged_step", -1) if bad else -1)
            elif bad and k in keys:
                cols[k].append(float("nan"))
            else:
                cols[k].append(cfg.get(k, defaults.get(k)))
    return cols


def _pca_rows(records, n_points=600):
    cols = {k: [] for k in ("gamma", "seed", "index", "point", "label", "pc1", "pc2")}
    ro = {k: [] for k in ("gamma", "seed", "index", "output", "pc1", "pc2")}
    for rec in records:
        if "pca" not in rec.arrays:
            continue
        P, R, lab = rec.arrays["pca"], rec.arrays["pca_readout"], rec.arrays["pca_labels"]
        for i in SNAP_INDICES:
            if i >= P.shape[0]:
                continue
            for j in range(min(n_points, P.shape[1])):
                cols["gamma"].append(rec.config["gamma"])
                cols["seed"].append(rec.config["seed"])
                cols["index"].append(i)
                cols["point"].append(j)
                cols["label"].append(int(lab[j]))
                cols["pc1"].append(float(P[i, j, 0]))
                cols["pc2"].append(float(P[i, j, 1]))
            for o in range(R.shape[1]):
                ro["gamma"].append(rec.config["gamma"])
                ro["seed"].append(rec.config["seed"])
                ro["index"].append(i)
                ro["output"].append(o)
                ro["pc1"].append(float(R[i, o, 0]))
                ro["pc2"].append(float(R[i, o, 1]))
    return cols, ro


# ----------------------------------------------------------------------------- plots
def _plots(out: Path, written: list, panels: dict):
    """Write a PNG per panel when matplotlib is installed (``[plot]`` extra); skipped otherwise.

    Parameters
    ----------
    out : Path
        Output folder.
    written : list
        The written PNG paths are appended.
    panels : dict
        ``file name -> (kind, columns, title, diverged)`` with ``kind`` one of ``"pr"``,
        ``"pr_noise"``, ``"lyap"``, ``"acc"``, ``"holdout"`` (functions of
        :mod:`rnn_theory.numerics.reproduce.plot_farrell`), ``columns`` the CSV's columns,
        ``title`` the figure's title and ``diverged`` the diverged runs of that condition
        (from :func:`_split`).
    """
    from rnn_theory.numerics.reproduce import plot_farrell as pf

    if pyplot() is None:
        return
    draw = {"pr": pf.plot_pr, "pr_noise": pf.plot_pr_noise, "lyap": pf.plot_lyapunov, "acc": pf.plot_accuracy,
            "holdout": pf.plot_holdout}
    for fname, (kind, cols, title, diverged) in panels.items():
        written.extend(draw[kind](out, cols, title=title, name=Path(fname).stem, diverged=diverged))


# ----------------------------------------------------------------------------- figures
def _variant(dtype, as_published) -> dict:
    """Config entries for ``--float32`` / ``--as-published`` (empty by default: run names and
    configurations of default runs are unchanged)."""
    out = {}
    if dtype not in (None, "float64"):
        out["dtype"] = str(dtype)
    if as_published:
        out["lyapunov"] = "paper"
    return out


def _standard_figure(out, prefix, quick, seed, workers, show_progress, *, d, input_mode, epochs_key,
                     title, accuracy_run=False, dtype=None, as_published=False):
    s = _settings(quick)
    v = _variant(dtype, as_published)
    out = prepare_output_dir(out)
    seeds = [seed + i for i in range(s["seeds"])]
    configs = [dict(name=_name(prefix, quick, g, sd), gamma=g, seed=sd, input_mode=input_mode,
                    epochs=s[epochs_key], snapshots=(sd == seeds[0]), **_base(s, d=d), **v)
               for g in GAMMAS for sd in seeds]
    acc_configs = []
    if accuracy_run:  # Fig. 2d: 10 epochs of 400 samples (validation 60)
        acc_configs = [dict(name=_name(prefix + "-acc", quick, g, sd), gamma=g, seed=sd,
                            input_mode=input_mode, epochs=s["acc_epochs"],
                            lyap_epochs=[], holdout=False, **_base(s, d=d, n_train=s["n_train"] // 2), **v)
                       for g in GAMMAS for sd in seeds]
    recs = _run(configs + acc_configs, out, workers, show_progress)
    main, bad = _split([recs[c["name"]] for c in configs])
    accr, bad_acc = _split([recs[c["name"]] for c in acc_configs]) if accuracy_run else (main, bad)
    written = []
    tables = {
        "pr.csv": _pr_rows(main),
        "lyapunov.csv": _lyap_rows(main),
        "accuracy.csv": _history_rows(accr, "accuracy", "accuracy"),
        "holdout.csv": _holdout_rows(main),
        "pr_epochs.csv": _history_rows(main, "pr_T", "pr"),
        "summary.csv": _summary_rows(main + (accr if accuracy_run else []),
                                     bad + (bad_acc if accuracy_run else [])),
    }
    pca, pca_ro = _pca_rows(main)
    tables["pca.csv"], tables["pca_readout.csv"] = pca, pca_ro
    for fname, cols in tables.items():
        written.append(write_csv(out / fname, cols))
    fig, what = title
    run = "short run, 400 samples per epoch" if accuracy_run else "main run"
    _plots(out, written, {
        "pr.png": ("pr", tables["pr.csv"], f"Fig. {fig}e: participation ratio, {what}", bad),
        "lyapunov.png": ("lyap", tables["lyapunov.csv"], f"Fig. {fig}b: Lyapunov exponents, {what}", bad),
        "accuracy.png": ("acc", tables["accuracy.csv"], f"Fig. {fig}d: accuracy, {what}\n({run})", bad_acc),
        "holdout.png": ("holdout", tables["holdout.csv"],
                        f"Fig. {fig}f, g: logistic regression on $h_t$, {what}", bad)})
    _raise_if_diverged(bad + (bad_acc if accuracy_run else []))
    return written


def fig2(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         dtype: str | None = None, as_published: bool = False) -> list[Path]:
    """High-d input (d = N = 200), orthogonal W_in, cross-entropy: chaos, PR, accuracy, holdout."""
    return _standard_figure(out, "fig2", quick, seed, workers, show_progress, d="N",
                            input_mode="orthogonal", epochs_key="highd", accuracy_run=True,
                            title=("2", "high-d input ($d=N$), cross-entropy"),
                            dtype=dtype, as_published=as_published)


def fig3(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         dtype: str | None = None, as_published: bool = False) -> list[Path]:
    """Low-d input (d = 2), orthogonal W_in, cross-entropy, 80 epochs."""
    return _standard_figure(out, "fig3", quick, seed, workers, show_progress, d=2,
                            input_mode="orthogonal", epochs_key="lowd",
                            title=("3", "low-d input ($d=2$), cross-entropy"),
                            dtype=dtype, as_published=as_published)


def fig4(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         dtype: str | None = None, as_published: bool = False) -> list[Path]:
    """Low-d input into neurons 0 and 1 only (W_in = I_{N x 2}), cross-entropy, 80 epochs."""
    return _standard_figure(out, "fig4", quick, seed, workers, show_progress, d=2,
                            input_mode="two_neurons", epochs_key="lowd",
                            title=("4", "$d=2$ input into neurons 0 and 1, cross-entropy"),
                            dtype=dtype, as_published=as_published)


def fig5(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         dtype: str | None = None, as_published: bool = False) -> list[Path]:
    """MSE loss (lr 5e-3, 100 epochs): high-d and low-d PR before/after; and compression needs
    noise (high-d, γ = 250, lr 1e-3, 40 epochs, σ_h ∈ {0, 0.5})."""
    s = _settings(quick)
    out = prepare_output_dir(out)
    seeds = [seed + i for i in range(s["seeds"])]
    common = dict(loss="mse", lr=5e-3, epochs=s["mse"], lyap_epochs=[], holdout=False,
                  **_variant(dtype, as_published))
    hi = [dict(name=_name("fig5-highd", quick, g, sd), gamma=g, seed=sd, **common, **_base(s, d="N"))
          for g in GAMMAS for sd in seeds]
    lo = [dict(name=_name("fig5-lowd", quick, g, sd), gamma=g, seed=sd, **common, **_base(s, d=2))
          for g in GAMMAS for sd in seeds]
    noise = [dict(name=_name(f"fig5-noise{sig:g}", quick, 250.0, sd), gamma=250.0, seed=sd,
                  loss="mse", lr=1e-3, epochs=s["noise_epochs"], hidden_noise=sig, lyap_epochs=[],
                  holdout=False, **_base(s, d="N"), **_variant(dtype, as_published))
             for sig in (0.0, 0.5) for sd in seeds]
    recs = _run(hi + lo + noise, out, workers, show_progress)
    get = lambda cs: _split([recs[c["name"]] for c in cs])  # noqa: E731
    (hi_ok, hi_bad), (lo_ok, lo_bad), (no_ok, no_bad) = get(hi), get(lo), get(noise)
    written = []
    tables = {
        "pr.csv": _pr_rows(hi_ok),
        "pr_lowd.csv": _pr_rows(lo_ok),
        "pr_noise.csv": _pr_rows(no_ok, key_cols=("hidden_noise",)),
        "accuracy.csv": _history_rows(hi_ok, "accuracy", "accuracy"),
        "summary.csv": _summary_rows(hi_ok + lo_ok + no_ok, hi_bad + lo_bad + no_bad),
    }
    tables["pr_noise.csv"] = {("noise" if k == "hidden_noise" else k): v for k, v in tables["pr_noise.csv"].items()}
    for fname, cols in tables.items():
        written.append(write_csv(out / fname, cols))
    _plots(out, written, {
        "pr.png": ("pr", tables["pr.csv"], "Fig. 5a: high-d input ($d=N$), MSE", hi_bad),
        "pr_lowd.png": ("pr", tables["pr_lowd.csv"], "Fig. 5b: low-d input ($d=2$), MSE", lo_bad),
        "pr_noise.png": ("pr_noise", tables["pr_noise.csv"],
                         r"Fig. 5, noise check: high-d input, MSE, $\gamma=250$, learning rate $10^{-3}$", no_bad)})
    _raise_if_diverged(hi_bad + lo_bad + no_bad)
    return written
