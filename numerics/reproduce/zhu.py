"""Reproductions for Zhu & Rosenbaum (2024): ``rnn-theory reproduce zhu-linear | zhu-digits``.

``zhu-linear`` (spec §6; full size n = 200, m = 100, 3500 iterations unless ``--quick``):

* ``learning_curves.csv`` — ``rule, lr, iteration, loss`` (rules dW1, dW2, dW3; a curve
  stops early only if the loss became non-finite),
* ``angles.csv`` — ``lr, iteration, angle_12, angle_23`` (degrees),
* ``landscape.csv`` — ``t, loss_w, loss_a`` along the first random line;
  ``landscape_lines.csv`` adds ``line, max_real_eig, det_sign`` for every line;
  ``landscape_2d.csv`` — ``t1, t2, loss_w, loss_a`` (clipped at 1000),
* ``one_d.csv`` — ``start, rule, lr, iteration, loss`` and ``one_d_landscape.csv`` — ``w, loss``,
* ``linear_summary.csv`` — ``rule, lr, final_loss, max_real_eig_w, diverged_at``
  (``max_real_eig_w``: the largest max Re λ(W) over the run, checked every ``eig_every``
  iterations from the start, so a run that only lowers it reports its initial value).

``zhu-digits`` (spec §7–9, scikit-learn's 8×8 digits; the corrected protocol of §8):

* ``summary.csv`` — ``rule, lr, final_test_accuracy, max_real_eig_w`` (final W),
* ``curves.csv`` — ``rule, lr, step, train_loss, train_accuracy, test_loss, test_accuracy,
  max_real_eig_w``,
* ``runs.csv`` — ``rule, lr, diverged_step, best_test_accuracy, wall_time``,
* ``eigenvalues.csv`` — ``rule, lr, index, real, imag`` (eigenvalues of the final W),
* ``two_layer_summary.csv`` / ``two_layer_curves.csv`` — the two-layer extension with
  trained read-in and readout (same columns as above).

Every trained model is saved in ``out/runs/<name>/arrays.npz`` (initial and final weights).

``as_published=True`` (``--as-published``) selects the authors' definitions (docs/differences.md):
zhu-linear evaluates dW2's gradient at the updated A and computes θ23 from the one-step-stale
activity, carried across the learning rates in the order of :data:`ANGLE_LRS`; zhu-digits
trains as in the paper (Euler states, BPTT for dW1, updates on the test batch; the two-layer
extension is not run).  ``dtype="float32"`` (``--float32``) trains zhu-linear in float32
(the landscape and the 1-D case stay float64); zhu-digits is float64 only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn_theory.numerics.infra.plotting import pyplot, save_figure
from rnn_theory.numerics.reproduce.plot_zhu import plot_zhu_linear

from rnn_theory.numerics.rate.analysis import max_real_eig
from rnn_theory.numerics.infra.io import write_csv
from rnn_theory.numerics.infra.outputs import num_tag, prepare_output_dir
from rnn_theory.numerics.infra.sweep import run_sweep
from rnn_theory.theory.errors import RNNTheoryError

# ----------------------------------------------------------------------------- linear
LINEAR_LRS = (0.03, 0.1, 0.3, 1.0, 3.0)
ANGLE_LRS = (0.03, 0.1, 0.3, 1.0)


def _linear_job(c: dict):
    from rnn_theory.numerics.fixed_point.linear_experiment import angles, landscape, landscape_2d, learning_curve, make_problem, one_dimensional

    kind = c["kind"]
    variant, dtype = c.get("variant", "clean"), np.dtype(c.get("dtype", "float64"))
    if kind == "one_d":
        o = one_dimensional(np.random.default_rng(c["seed"]), iterations=c["iterations"])
        hist = {"start": [], "rule": [], "lr": [], "iteration": [], "loss": []}
        for run in o["runs"]:
            k = len(run["loss"])
            hist["start"] += [run["start"]] * k
            hist["rule"] += [run["rule"]] * k
            hist["lr"] += [run["lr"]] * k
            hist["iteration"] += list(range(k))
            hist["loss"] += run["loss"].tolist()
        return ({"w_grid": o["w_grid"], "loss_grid": o["loss_grid"]}, hist,
                {"a_star": o["a_star"], "w_star": o["w_star"], "loss_min": o["loss_min"]})
    p = make_problem(np.random.default_rng(c["seed"]), n=c["n"], m=c["m"])
    if kind == "curve":
        res = learning_curve(p, c["rule"], c["lr"], c["iterations"], eig_every=c["eig_every"],
                             variant=variant, dtype=dtype)
        hist = {"iteration": np.arange(len(res["loss"])), "loss": res["loss"]}
        return ({"W": res["W"], "max_real_eig": res["max_real_eig"], "eig_iterations": res["eig_iterations"]},
                hist, {"final_loss": float(res["loss"][-1]), "diverged_at": res["diverged_at"],
                       "max_real_eig_w": float(np.max(res["max_real_eig"]))})
    if kind == "angles":
        a = angles(p, c["lr"], c["iterations"], dtype=dtype)
        return {}, {"iteration": np.arange(len(a["angle_12"])), "angle_12": a["angle_12"],
                    "angle_23": a["angle_23"]}, {}
    if kind == "angles_chain":   # the authors' stale r, carried from one rate to the next
        hist, r = {"lr": [], "iteration": [], "angle_12": [], "angle_23": []}, None
        for lr in c["lrs"]:
            a = angles(p, lr, c["iterations"], variant="paper", r_stale=r, dtype=dtype)
            r = a["r_last"]
            k = len(a["angle_12"])
            hist["lr"] += [lr] * k
            hist["iteration"] += list(range(k))
            hist["angle_12"] += a["angle_12"].tolist()
            hist["angle_23"] += a["angle_23"].tolist()
        return {}, hist, {}
    if kind == "landscape":
        rng = np.random.default_rng([c["seed"], 1])
        out = landscape(p, rng, n_lines=c["lines"])
        grid = landscape_2d(p, rng, t=np.linspace(-1, 1, c["grid"]))
        arrays = {k: np.asarray(v) for k, v in out.items()}
        arrays.update({f"grid_{k}": v for k, v in grid.items()})
        return arrays, {}, {"t_boundary": out["t_boundary"]}
    raise ValueError(kind)


def linear(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
           dtype: str | None = None, as_published: bool = False) -> list[Path]:
    """Spec §6: 1-D case, learning curves (5 rates × dW1–dW3), angles, loss landscape."""
    out = prepare_output_dir(out)
    n, m, iters = (60, 30, 600) if quick else (200, 100, 3500)
    base = {"seed": seed, "n": n, "m": m}
    if dtype not in (None, "float64"):
        base["dtype"] = str(dtype)
    if as_published:
        base["variant"] = "paper"
    configs = [{"name": "one_d", "kind": "one_d", "seed": seed, "iterations": 300 if quick else 1000}]
    configs += [{**base, "name": f"curve_{r}_lr{num_tag(lr)}", "kind": "curve", "rule": r, "lr": lr,
                 "iterations": iters, "eig_every": 100}
                for r in ("dW1", "dW2", "dW3") for lr in LINEAR_LRS]
    ang_iters = iters // 2 if quick else iters
    if as_published:
        configs.append({**base, "name": "angles_chain", "kind": "angles_chain", "lrs": list(ANGLE_LRS),
                        "iterations": ang_iters})
    else:
        configs += [{**base, "name": f"angles_lr{num_tag(lr)}", "kind": "angles", "lr": lr,
                     "iterations": ang_iters} for lr in ANGLE_LRS]
    configs.append({**base, "name": "landscape", "kind": "landscape", "lines": 3, "grid": 11 if quick else 41})
    runs = run_sweep(_linear_job, configs, out / "runs", max_workers=workers, show_progress=show_progress)
    written = []
    lc = {"rule": [], "lr": [], "iteration": [], "loss": []}
    summ = {"rule": [], "lr": [], "final_loss": [], "max_real_eig_w": [], "diverged_at": []}
    for r in ("dW1", "dW2", "dW3"):
        for lr in LINEAR_LRS:
            rec = runs[f"curve_{r}_lr{num_tag(lr)}"]
            k = len(rec.history["loss"])
            lc["rule"] += [r] * k
            lc["lr"] += [lr] * k
            lc["iteration"] += rec.history["iteration"]
            lc["loss"] += rec.history["loss"]
            for key in ("final_loss", "max_real_eig_w", "diverged_at"):
                summ[key].append(rec.config[key])
            summ["rule"].append(r)
            summ["lr"].append(lr)
    written.append(write_csv(out / "learning_curves.csv", lc))
    written.append(write_csv(out / "linear_summary.csv", summ))
    ang = {"lr": [], "iteration": [], "angle_12": [], "angle_23": []}
    for lr in ([] if as_published else ANGLE_LRS):
        h = runs[f"angles_lr{num_tag(lr)}"].history
        ang["lr"] += [lr] * len(h["iteration"])
        for key in ("iteration", "angle_12", "angle_23"):
            ang[key] += h[key]
    if as_published:
        ang = {k: list(v) for k, v in runs["angles_chain"].history.items()}
    written.append(write_csv(out / "angles.csv", ang))
    L = runs["landscape"].arrays
    t = L["t"]
    written.append(write_csv(out / "landscape.csv", {"t": t, "loss_w": L["loss_w"][0], "loss_a": L["loss_a"][0]}))
    nl = L["loss_w"].shape[0]
    written.append(write_csv(out / "landscape_lines.csv", {
        "line": np.repeat(np.arange(nl), len(t)), "t": np.tile(t, nl), "loss_w": L["loss_w"].ravel(),
        "loss_a": L["loss_a"].ravel(), "max_real_eig": L["max_real_eig"].ravel(), "det_sign": L["det_sign"].ravel()}))
    written.append(write_csv(out / "landscape_2d.csv", {
        "t1": L["grid_t1"].ravel(), "t2": L["grid_t2"].ravel(), "loss_w": L["grid_loss_w"].ravel(),
        "loss_a": L["grid_loss_a"].ravel()}))
    od = runs["one_d"]
    written.append(write_csv(out / "one_d.csv", od.history))
    written.append(write_csv(out / "one_d_landscape.csv", {"w": od.arrays["w_grid"], "loss": od.arrays["loss_grid"]}))
    written += plot_zhu_linear(out, lc, ang, L, od, summ)
    return written


# ----------------------------------------------------------------------------- digits
# per-rule rate grids (step scales differ between rules; compare each at its best rate)
DIGITS_LRS = {
    "dW1": (0.02, 0.05, 0.1, 0.2, 0.5),
    "dW3": (0.05, 0.1, 0.2, 0.5, 1.0),
    "dW4": (0.02, 0.05, 0.1, 0.2, 0.5),
}
DIGITS_LRS_QUICK = {"dW1": (0.05, 0.5), "dW3": (0.1, 1.0), "dW4": (0.05, 0.5)}
TWO_LAYER_LRS = {"dW1": 0.1, "dW3": 0.2, "dW4": 0.1}


def _digits_job(c: dict):
    from rnn_theory.numerics.fixed_point.digits import load_digits_split
    from rnn_theory.numerics.fixed_point.network import FixedPointNet, TrainConfig, train

    data = load_digits_split(np.random.default_rng(c["seed"]))
    paper = c.get("variant", "clean") == "paper"
    # identical W, W_x, R and batch order for every rule and rate (seeded; spec §8 quirk 3)
    net = FixedPointNet.init(np.random.default_rng([c["seed"], 1]), data.n_features, tuple(c["sizes"]), 10)
    cfg = TrainConfig(rule=c["rule"], lr=c["lr"], epochs=c["epochs"], batch_size=c["batch_size"],
                      train_readin=c["trained"], train_readout=c["trained"], eval_batch=c["eval_batch"],
                      variant="paper" if paper else "clean")
    res = train(net, data, cfg, np.random.default_rng([c["seed"], 2]))
    arrays = {f"final_{k}": v for k, v in res.net.arrays().items()}
    arrays.update({f"initial_{k}": v for k, v in res.net0.arrays().items()})
    eig = np.linalg.eigvals(res.net.Ws[0])
    arrays["eig_W"] = eig
    lam = max(max_real_eig(W) for W in res.net.Ws)
    h = res.history
    summary = {"final_test_accuracy": res.final_test_accuracy, "final_test_loss": res.final_test_loss,
               "max_real_eig_w": lam, "diverged_step": res.diverged_step, "wall_time": res.wall_time,
               "best_test_accuracy": float(np.max(h["test_accuracy"])) if len(h["test_accuracy"]) else float("nan")}
    return arrays, h, summary


def digits(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
           epochs: int | None = None, dtype: str | None = None, as_published: bool = False) -> list[Path]:
    """Spec §7–9 on scikit-learn digits (needs the ``[digits]`` extra), plus the two-layer extension.

    ``epochs`` overrides the number of epochs (default 15, quick 2; 15 epochs of batch 64
    are 330 steps, close to the paper's 354).
    """
    from rnn_theory.numerics.fixed_point.digits import load_digits_split

    if dtype not in (None, "float64"):
        raise RNNTheoryError("--float32: zhu-digits solves fixed points to 1e-10 and is float64 only; "
                             "run without --float32")
    load_digits_split(np.random.default_rng(seed))      # fail early with a clear message if sklearn is missing
    out = prepare_output_dir(out)
    grids = DIGITS_LRS_QUICK if quick else DIGITS_LRS
    base = {"seed": seed, "batch_size": 64, "eval_batch": 64 if quick else 128}
    n = 40 if quick else 100
    epochs = epochs or (2 if quick else 15)
    if as_published:
        base["variant"] = "paper"
    configs = [{**base, "name": f"{r}_lr{num_tag(lr)}", "rule": r, "lr": lr, "sizes": [n], "trained": False,
                "epochs": epochs} for r, lrs in grids.items() for lr in lrs]
    two = [] if as_published else [{**base, "name": f"two_layer_{r}_lr{num_tag(lr)}", "rule": r, "lr": lr, "sizes": [n // 2, n // 2] if quick
            else [64, 64], "trained": True, "epochs": epochs} for r, lr in TWO_LAYER_LRS.items()]
    runs = run_sweep(_digits_job, configs + two, out / "runs", max_workers=workers, show_progress=show_progress)
    written = []
    for prefix, group in (("", configs), ("two_layer_", two)):
        if not group:
            continue
        summ = {"rule": [], "lr": [], "final_test_accuracy": [], "max_real_eig_w": []}
        extra = {"rule": [], "lr": [], "diverged_step": [], "best_test_accuracy": [], "wall_time": []}
        curves = {k: [] for k in ("rule", "lr", "step", "train_loss", "train_accuracy", "test_loss",
                                  "test_accuracy", "max_real_eig_w")}
        eig = {"rule": [], "lr": [], "index": [], "real": [], "imag": []}
        for c in group:
            rec = runs[c["name"]]
            for d in (summ, extra):
                d["rule"].append(c["rule"])
                d["lr"].append(c["lr"])
            for k in ("final_test_accuracy", "max_real_eig_w"):
                summ[k].append(rec.config[k])
            for k in ("diverged_step", "best_test_accuracy", "wall_time"):
                extra[k].append(rec.config[k])
            h = rec.history
            k = len(h.get("step", []))
            curves["rule"] += [c["rule"]] * k
            curves["lr"] += [c["lr"]] * k
            for key in list(curves)[2:]:
                curves[key] += h.get(key, [])
            ev = rec.arrays["eig_W"]
            eig["rule"] += [c["rule"]] * len(ev)
            eig["lr"] += [c["lr"]] * len(ev)
            eig["index"] += list(range(len(ev)))
            eig["real"] += ev.real.tolist()
            eig["imag"] += ev.imag.tolist()
        name = "summary.csv" if not prefix else "two_layer_summary.csv"
        written.append(write_csv(out / name, summ))
        written.append(write_csv(out / f"{prefix}runs.csv", extra))
        written.append(write_csv(out / f"{prefix}curves.csv", curves))
        if not prefix:
            written.append(write_csv(out / "eigenvalues.csv", eig))
        written += _plot_digits(out, prefix, curves, extra)
    return written


def _plot_digits(out, prefix, curves, runs=None) -> list[Path]:
    r"""Per rule (columns): held-out accuracy and :math:`\max\mathrm{Re}\,\lambda(W)` against
    step, one colour per learning rate (:func:`~rnn_theory.numerics.infra.plotting.param_color`);
    a run that stopped (``runs["diverged_step"] >= 0``: no fixed point, or the loss blew up)
    ends with a ✕ named in the legend."""
    from rnn_theory.numerics.infra.plotting import param_color

    plt = pyplot()
    if plt is None:
        return []
    rule, lr = np.asarray(curves["rule"]), np.asarray(curves["lr"])
    step = np.asarray(curves["step"], float)
    stopped = {}
    if runs is not None:
        stopped = {(r, float(v)): int(d) for r, v, d in zip(runs["rule"], runs["lr"], runs["diverged_step"])
                   if int(d) >= 0}
    rules = [r for r in ("dW1", "dW3", "dW4") if np.any(rule == r)]
    fig, axes = plt.subplots(2, len(rules), figsize=(4 * len(rules), 6), squeeze=False)
    for j, r in enumerate(rules):
        for v in sorted(set(lr[rule == r].tolist())):
            s = (rule == r) & (lr == v)
            col = param_color(v, "lr")
            x = step[s]
            acc = np.asarray(curves["test_accuracy"], float)[s]
            lam = np.asarray(curves["max_real_eig_w"], float)[s]
            label = rf"$\eta={v:g}$"
            if (r, float(v)) in stopped:
                label += f": stopped at step {stopped[(r, float(v))]} (diverged)"
            axes[0, j].plot(x, acc, color=col, label=label)
            axes[1, j].plot(x, lam, color=col, label=rf"$\eta={v:g}$")
            if (r, float(v)) in stopped and x.size:
                for ax, y in ((axes[0, j], acc), (axes[1, j], lam)):
                    ax.plot([x[-1]], [y[-1]], "x", color=col, ms=8, mew=2)
        axes[0, j].set_title(r)
        axes[0, j].legend(fontsize=6.5)
        axes[1, j].axhline(1.0, color="k", lw=0.5, label=r"$\mathrm{Re}\,\lambda=1$ (instability)")
        axes[1, j].legend(fontsize=6.5)
        axes[0, j].set(xlabel="training step (batch of 64)", ylabel="held-out accuracy (one test batch)")
        axes[1, j].set(xlabel="training step (batch of 64)", ylabel=r"$\max\,\mathrm{Re}\,\lambda(W)$")
    fig.tight_layout()
    path = out / f"{prefix}digits.png"
    save_figure(fig, path, dpi=120)
    return [path]
