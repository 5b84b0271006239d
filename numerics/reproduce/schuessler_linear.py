r"""Reproduce Figs 3 and 4 of Schuessler et al. (2020): the linear fixed-point task.

``fig3`` — learning curves (loss, singular values of ΔW) against the effective time
:math:`\tilde\tau`, simulation and theory (first order, third order with the Fig 3 clip
convention, exact g = 0), N = 1024, ẑ ∈ {0.5, 2}, g ∈ {0, 0.6}.

``fig4`` — against g = 0…0.9 for ẑ ∈ {0.5, 1, 2}: convergence time, final ‖ΔW‖, average
gradient norm and shuffle loss, with the first-order laws.

Panels (CSV, long format, header row; written with :func:`rnn_theory.numerics.infra.io.write_csv`):

* fig3 ``loss.csv``: ``zhat, g, seed, source, tau, tau_tilde, loss`` (``source`` is
  ``simulation``, ``first_order``, ``third_order`` or ``exact_g0``; theory rows have
  ``seed = -1``; a run that diverged keeps its rows up to the divergence with ``source =
  simulation-diverged``, so that neither the figure nor the claims take it for a result);
* fig3 ``singular_values.csv``: ``zhat, g, seed, source, tau, tau_tilde, index, value``
  (index 1 = s1; simulations give s1…s5, theory s1 and s2);
* fig4 ``summary.csv``: ``zhat, g, seed, tau_c, dw_norm, mean_grad, shuffle_loss_ratio,
  diverged`` (one row per run; τ_c is NaN when a run did not converge or diverged;
  ``diverged`` is 1 for a run that diverged -- its loss exploded or an eigenvalue of W
  reached 1: its other columns describe its last good state, not a result);
* fig4 ``normalised.csv``: ``zhat, g, quantity, mean, std, n, theory`` — each quantity of the
  runs that did not diverge (``n`` of them) divided by its g = 0 sample mean (the paper's
  normalisation) with the first-order law
  (``theory``: (1-g²)², 1-g², 1/(1-g²), and g⁴(2-g²)² for the raw shuffle ratio).

Runs are saved under ``out/runs/`` (:func:`rnn_theory.numerics.infra.sweep.run_sweep`), so an interrupted
reproduction resumes; PNGs are written when matplotlib is installed (``[plot]`` extra).
"""
from __future__ import annotations

from pathlib import Path

from rnn_theory.theory.errors import RNNTheoryError

import numpy as np

from rnn_theory.numerics.reproduce.plot_linear import plot_fig3, plot_fig4

from rnn_theory.numerics.infra.io import write_csv
from rnn_theory.numerics.infra.outputs import num_tag, prepare_output_dir

__all__ = ["fig3", "fig4", "simulate_run", "theory_curves", "write_curves"]

LR0 = {0.5: 0.015, 1.0: 0.009, 2.0: 0.003}
#: (N, samples) of the full and the ``--quick`` setups
FULL_SIZE = (1024, 5)
QUICK_SIZE = (256, 2)


def simulate_run(config: dict):
    """Sweep worker: train one network (config: n, g, zhat, lr0, steps, seed, shuffle)."""
    from rnn_theory.numerics.linear import shuffle_test, train_linear

    rng = np.random.default_rng([int(config["seed"]), int(round(config["g"] * 100)), int(round(config["zhat"] * 100))])
    r = train_linear(int(config["n"]), float(config["g"]), float(config["zhat"]), float(config["lr0"]),
                     int(config["steps"]), rng, check_stability=False, on_divergence="stop",
                     n_sv=5, sv_every=int(config.get("sv_every", 1)))
    summary = r.summary()
    summary["shuffle_loss_ratio"] = float("nan")
    if config.get("shuffle") and not r.diverged:
        summary["shuffle_loss_ratio"] = shuffle_test(r.W0, r.dW, r.m, r.w, r.zhat, rng).loss_ratio
    summary["message"] = r.message
    history = r.history()
    return {"sv_final": r.sv[-1]}, history, summary


def theory_curves(g: float, zhat: float, tau_tilde) -> dict:
    """Theory curves on a τ̃ grid: {source: dict(tau, tau_tilde, loss, s1, s2)}.

    The third-order curve follows the paper's Fig 3 convention: drawn up to its clip point
    (z reaches ẑ), which lies beyond the series' trusted range
    (:func:`rnn_theory.theory.linear.validity_limit`) at moderate ẑ — it is the paper's
    curve, shown for comparison, not a result of the package (use the order-5 series or the
    exact g = 0 solution for that)."""
    from rnn_theory.theory import exact_g0
    from rnn_theory.theory.linear import first_order, third_order

    tt = np.asarray(tau_tilde, dtype=float)
    fo = first_order(g, zhat, tt, tilde=True)
    th = third_order(g, zhat, tt, tilde=True, clip=True, beyond="ignore")  # the paper's convention
    out = {
        "first_order": {"tau": fo["tau"], "tau_tilde": tt, "loss": fo["loss"], "s1": fo["s1"],
                        "s2": np.zeros_like(tt)},
        "third_order": {"tau": th["tau"], "tau_tilde": tt, "loss": th["loss"], "s1": th["s1"], "s2": th["s2"]},
    }
    if g == 0:
        ex = exact_g0.solve(zhat, tt)
        out["exact_g0"] = {"tau": tt, "tau_tilde": tt, "loss": ex["loss"], "s1": ex["s1"], "s2": ex["s2"]}
    return out


def _configs(n, gains, zhats, samples, steps, seed, shuffle, sv_every=1):
    return [{"name": f"n{n}_zhat{num_tag(zh)}_g{num_tag(g)}_s{seed + s}", "n": n, "g": float(g), "zhat": float(zh),
             "lr0": LR0.get(float(zh), 0.003), "steps": steps, "seed": seed + s, "shuffle": shuffle,
             "sv_every": sv_every}
            for zh in zhats for g in gains for s in range(samples)]


def write_curves(out: Path, *, n: int, gains, zhats, samples: int, steps: int, seed: int = 0,
                 workers=None, show_progress: bool = True, executor=None) -> list:
    """Simulate and write ``loss.csv`` and ``singular_values.csv`` (see module docstring)."""
    from rnn_theory.numerics.infra.sweep import run_sweep

    out = prepare_output_dir(out)
    cfgs = _configs(n, gains, zhats, samples, steps, seed, shuffle=False)
    runs = run_sweep(simulate_run, cfgs, out / "runs", executor=executor or ("serial" if not cfgs else _executor(workers)),
                     max_workers=workers, show_progress=show_progress)
    loss = {k: [] for k in ("zhat", "g", "seed", "source", "tau", "tau_tilde", "loss")}
    svs = {k: [] for k in ("zhat", "g", "seed", "source", "tau", "tau_tilde", "index", "value")}

    def add(zh, g, sd, src, tau, tt, L, s_list):
        m = len(tau)
        for key, val in (("zhat", [zh] * m), ("g", [g] * m), ("seed", [sd] * m), ("source", [src] * m),
                         ("tau", list(tau)), ("tau_tilde", list(tt)), ("loss", list(L))):
            loss[key].extend(val)
        for i, s in enumerate(s_list, 1):
            for key, val in (("zhat", [zh] * m), ("g", [g] * m), ("seed", [sd] * m), ("source", [src] * m),
                             ("tau", list(tau)), ("tau_tilde", list(tt)), ("index", [i] * m), ("value", list(s))):
                svs[key].extend(val)

    for c in cfgs:
        h = runs[c["name"]].history
        src = "simulation-diverged" if runs[c["name"]].config.get("diverged") else "simulation"
        add(c["zhat"], c["g"], c["seed"], src, h["tau"], h["tau_tilde"], h["loss"],
            [h[f"s{i}"] for i in range(1, 6) if f"s{i}" in h])
    for zh in zhats:
        for g in gains:
            tt = np.linspace(0, LR0.get(float(zh), 0.003) * steps, 401)
            for src, cur in theory_curves(float(g), float(zh), tt).items():
                add(float(zh), float(g), -1, src, cur["tau"], cur["tau_tilde"], cur["loss"], [cur["s1"], cur["s2"]])
    paths = [write_csv(out / "loss.csv", loss), write_csv(out / "singular_values.csv", svs)]
    paths += plot_fig3(out, loss, svs, n=n, samples=samples)
    return paths


def _executor(workers):
    return "serial" if workers == 1 else None


def _float64_only(dtype) -> None:
    """The linear-task simulations (:mod:`rnn_theory.numerics.linear`) are float64 only."""
    if dtype not in (None, "float64"):
        raise RNNTheoryError("--float32: schuessler-fig3/fig4 simulate the linear task with "
                             "rnn_theory.numerics.linear, which computes in float64 only; run without --float32")


def fig3(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         dtype: str | None = None) -> list:
    """Fig 3: N = 1024 (quick: 256), ẑ ∈ {0.5, 2}, g ∈ {0, 0.6}, 200 steps, 5 samples (quick: 2)."""
    _float64_only(dtype)
    n, samples = QUICK_SIZE if quick else FULL_SIZE
    return write_curves(Path(out), n=n, gains=(0.0, 0.6), zhats=(0.5, 2.0), samples=samples, steps=200,
                        seed=seed, workers=workers, show_progress=show_progress)


def fig4(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         dtype: str | None = None) -> list:
    """Fig 4: N = 1024 (quick: 256), g = 0…0.9, ẑ ∈ {0.5, 1, 2}, 200 steps, 5 samples (quick: 2)."""
    _float64_only(dtype)
    from rnn_theory.theory.linear import shuffle_loss_ratio

    from rnn_theory.numerics.infra.sweep import run_sweep

    out = prepare_output_dir(out)
    n, samples = QUICK_SIZE if quick else FULL_SIZE
    gains = tuple(round(0.1 * k, 1) for k in range(10))
    zhats = (0.5, 1.0, 2.0)
    cfgs = _configs(n, gains, zhats, samples, 200, seed, shuffle=True, sv_every=200)
    runs = run_sweep(simulate_run, cfgs, out / "runs", executor=_executor(workers), max_workers=workers,
                     show_progress=show_progress)
    cols = ("zhat", "g", "seed", "tau_c", "dw_norm", "mean_grad", "shuffle_loss_ratio", "diverged")
    summary = {k: [] for k in cols}
    for c in cfgs:
        conf = runs[c["name"]].config
        for k in cols:
            v = c[k] if k in ("zhat", "g", "seed") else int(bool(conf.get(k))) if k == "diverged" else conf.get(k)
            summary[k].append(float("nan") if v is None else v)
    paths = [write_csv(out / "summary.csv", summary)]
    norm = {k: [] for k in ("zhat", "g", "quantity", "mean", "std", "n", "theory")}
    from rnn_theory.theory.linear import convergence_time, final_dw_norm, mean_gradient

    laws = {"tau_c": lambda g: convergence_time(g) / convergence_time(0.0),  # (1-g^2)^2
            "dw_norm": lambda g: final_dw_norm(g, 1.0) / final_dw_norm(0.0, 1.0),  # 1-g^2
            "mean_grad": lambda g: mean_gradient(g, 1.0) / mean_gradient(0.0, 1.0)}  # 1/(1-g^2)
    arr = {k: np.asarray(v, dtype=float) for k, v in summary.items()}
    trained = arr["diverged"] == 0      # a diverged run's norms describe an explosion, not a result
    for zh in zhats:
        sel0 = (arr["zhat"] == zh) & (arr["g"] == 0.0) & trained
        for g in gains:
            sel = (arr["zhat"] == zh) & (arr["g"] == g) & trained
            for q, law in laws.items():
                finite0 = arr[q][sel0][np.isfinite(arr[q][sel0])]
                base = np.mean(finite0) if finite0.size else np.nan   # every g = 0 run diverged: no scale
                vals = arr[q][sel] / base
                vals = vals[np.isfinite(vals)]
                _append_norm(norm, zh, g, q, vals, law(g))
            vals = arr["shuffle_loss_ratio"][sel]
            vals = vals[np.isfinite(vals)]
            _append_norm(norm, zh, g, "shuffle_loss_ratio", vals, shuffle_loss_ratio(g))
    paths.append(write_csv(out / "normalised.csv", norm))
    paths += plot_fig4(out, norm)
    return paths


def _append_norm(norm, zh, g, q, vals, theory):
    norm["zhat"].append(zh)
    norm["g"].append(g)
    norm["quantity"].append(q)
    norm["mean"].append(float(np.mean(vals)) if vals.size else float("nan"))
    norm["std"].append(float(np.std(vals, ddof=1)) if vals.size > 1 else float("nan"))
    norm["n"].append(int(vals.size))
    norm["theory"].append(float(theory))
