r"""Schuessler et al. (2020), nonlinear tasks: Figs 1–2 and the N-scaling / cosine supplements.

One *run* = one (task, N, g, seed): initialise (:meth:`rnn_theory.numerics.rate.model.RateRNN.init`),
train W_in, W, W_out with Adam (lr = 0.05/N, 32 fresh trials per step), then analyse on
512 fresh trials (:func:`rnn_theory.numerics.rate.analysis.analyze_run`).  :func:`run_config` is the
module-level sweep function used by :func:`rnn_theory.numerics.infra.sweep.run_sweep`, so every run is a
folder ``out/runs/<name>`` written atomically and skipped when the reproduction is rerun.

Seeds: the run with seed ``s`` (the ``seed`` column; ``s = base seed + sample``) draws
everything from ``numpy.random.default_rng([s, task id, round(1000 g), N])`` for
initialisation and training, and from ``default_rng([..., 1])`` for the evaluation
batch and the shuffle permutation, so a fresh W0 is drawn per (sample, g) and every
number can be recomputed from the CSV row alone.

Outputs (long format, one CSV per panel):

* ``fig1``: ``loss.csv`` (task, g, seed, step, loss), ``singular_values.csv`` (task, g,
  seed, index, sv: the singular values :math:`s_k` of ΔW = W − W0 in decreasing order,
  ``index`` = k = 1 … N, k = 1 the largest, as in the figure), ``truncation.csv`` (task,
  g, seed, rank, loss, loss_ratio, residual_norm, explained), ``examples.csv`` (task, g, trial, t, kind, channel, value),
  ``spectra.csv`` (task, g, seed, matrix, index, real, imag; eigenvalues by decreasing
  modulus) and ``spectra_sv.csv`` (task, g, seed, matrix, index, sv; singular values in
  decreasing order); g ∈ {0, 0.9, 1.8}.  Every ``index`` column counts from 1.
* ``fig2``: ``summary.csv`` (task, g, seed, converged_step, dw_norm, functional_rank,
  shuffle_loss_ratio; ``nan`` = not converged / not found / diverged — diverged runs are
  listed in ``provenance.json`` by ``rnn-theory reproduce``, which then exits 3) and ``aggregate.csv``
  (mean ± std per (task, g) over samples, only when all samples converged with a found
  functional rank — the paper's averaging rule).
* ``nscaling``: ``nscaling.csv`` (task, n, g, seed, converged_step, dw_norm, w0_norm,
  functional_rank, diverged; ``diverged`` is 1 for a run whose training diverged, whose
  other numbers are then ``nan``) and ``nscaling.png`` (the four quantities against N per
  g, seeds and means, with the specification's reference lines: ‖ΔW‖_F flat in N,
  ‖W0‖_F = g√N).
* ``cosine``: ``cosine_loss.csv`` (g, step, loss), ``cosine_eigs.csv`` (g, step, index,
  real, imag).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from rnn_theory.numerics.reproduce.plot_nonlinear import plot_cosine, plot_fig1, plot_fig2, plot_nscaling

from rnn_theory.theory.errors import RNNTheoryError, TrainingDivergedError

from rnn_theory.numerics.infra.io import write_csv
from rnn_theory.numerics.infra.outputs import num_tag, prepare_output_dir
from rnn_theory.numerics.infra.sweep import run_sweep

__all__ = ["fig1", "fig2", "nscaling", "cosine", "make_config", "run_config", "run_cost", "G_GRID", "TASK_STEPS",
           "run_rng_seed"]

TASK_ID = {"flipflop": 0, "mante": 1, "romo": 2}
TASK_STEPS = {"flipflop": 1000, "mante": 2000, "romo": 6000}
G_GRID = {"flipflop": [round(0.3 * i, 1) for i in range(8)],
          "mante": [round(0.3 * i, 1) for i in range(10)],
          "romo": [round(0.3 * i, 1) for i in range(11)]}
# quick mode: N = 64 and shorter training (enough to converge at N = 64 for g <= 1.8)
QUICK_STEPS = {"flipflop": 300, "mante": 600, "romo": 1500}


def run_rng_seed(seed: int, task: str, g: float, n: int) -> list:
    """The entropy list of a run's generator (see module docstring)."""
    return [int(seed), TASK_ID[task], int(round(1000 * g)), int(n)]


def eval_entropy(config: dict) -> list:
    """Entropy of the evaluation batch (and shuffle) of a run's analyses: the run's entropy
    plus ``[1]``, so that ``rnn-theory analyze`` reproduces ``train``'s numbers."""
    return list(config["rng_entropy"]) + [1]


def make_config(task: str, g: float, seed: int, *, n: int = 256, steps: int | None = None,
                batch_size: int = 32, lr: float | None = None, n_snapshots: int = 200,
                n_eval: int = 512, dtype: str = "float64", analyze: bool = True,
                trainable=("W_in", "W", "W_out")) -> dict:
    """A JSON-able run configuration with a unique ``name`` (the run folder)."""
    if task not in TASK_ID:
        raise RNNTheoryError(f"unknown task {task!r}; Schuessler runs support {sorted(TASK_ID)}")
    steps = TASK_STEPS[task] if steps is None else int(steps)
    lr = 0.05 / n if lr is None else float(lr)
    trainable = list(trainable)
    name = f"{task}-N{n}-g{num_tag(g)}-seed{seed}-steps{steps}-b{batch_size}-lr{num_tag(lr)}-{dtype}"
    if sorted(trainable) != ["W", "W_in", "W_out"]:
        name += "-train_" + "_".join(trainable)
    return {"name": name, "task": task, "g": float(g), "seed": int(seed), "n": int(n), "steps": steps,
            "batch_size": int(batch_size), "lr": lr, "n_snapshots": int(n_snapshots), "n_eval": int(n_eval),
            "dtype": dtype, "analyze": bool(analyze), "optimizer": "adam", "trainable": trainable,
            "rng_entropy": run_rng_seed(seed, task, g, n)}


def run_config(config: dict, show_progress: bool = False):
    """Train and analyse one run: returns ``(arrays, history, summary)`` for ``run_sweep``.

    Cost :math:`O(\\text{steps}\\cdot 32\\,T N^2 + 27\\cdot n_{\\rm eval} T N^2)`.
    """
    from rnn_theory.numerics.rate.analysis import analyze_run
    from rnn_theory.numerics.rate.model import RateRNN
    from rnn_theory.numerics.rate.tasks import TASK_SIZES, get_task
    from rnn_theory.numerics.rate.train import train

    task = get_task(config["task"])
    n_in, n_out = TASK_SIZES[config["task"]]
    rng = np.random.default_rng(config["rng_entropy"])
    net0 = RateRNN.init(config["n"], n_in, n_out, config["g"], rng, dtype=np.dtype(config["dtype"]))
    summary = {"diverged": False}
    try:
        res = train(net0, task, config["steps"], config["batch_size"], config["lr"], rng,
                    optimizer=config.get("optimizer", "adam"), n_snapshots=config["n_snapshots"],
                    trainable=tuple(config.get("trainable", ("W_in", "W", "W_out"))), show_progress=show_progress)
    except TrainingDivergedError as exc:  # saved as a diverged run: last good state, no analyses
        res = exc.partial
        summary = {"diverged": True, "diverged_step": exc.step, "diverged_reason": str(exc).split(";")[0]}
    net = res.net
    arrays = {"W0": net0.W, "W": net.W, "W_in0": net0.W_in, "W_in": net.W_in, "W_out0": net0.W_out,
              "W_out": net.W_out, "snapshot_steps": res.snapshot_steps, "snapshot_sv": res.snapshot_sv}
    history = {"step": np.arange(res.steps), "loss": res.loss, "grad_norm": res.grad_norm}
    if config.get("analyze", True) and not summary["diverged"]:
        a = analyze_run(net.astype(np.float64), net0.W.astype(np.float64), res.loss, task,
                        np.random.default_rng(eval_entropy(config)), n_eval=config["n_eval"])
        summary.update(a.summary())
        arrays.update({"singular_values": a.singular_values, "trunc_rank": a.truncation["rank"],
                       "trunc_loss": a.truncation["loss"], "trunc_residual_norm": a.truncation["residual_norm"],
                       "trunc_explained": a.truncation["explained"]})
    return arrays, history, summary


@functools.lru_cache(maxsize=None)
def _trial_length(task: str) -> int:
    from rnn_theory.numerics.rate.tasks import get_task

    return int(get_task(task)(np.random.default_rng(0), 1).inputs.shape[1])


#: per-trial-step work besides the N² products, in units of one multiply-add of them:
#: element-wise passes (∝ N) and per-call overhead (constant); see :func:`run_cost`
COST_PER_N, COST_CONSTANT = 270.0, 13000.0


def run_cost(config: dict) -> float:
    r"""Expected cost of :func:`run_config`, up to a constant factor:

    .. math::
        (\text{steps}\cdot B + 27\,n_{\rm eval}\cdot[\text{analyze}])\; T\;
        (N^2 + 270\,N + 13000),

    T the task's trial length; ``run_sweep(..., cost=run_cost)`` weights the progress
    line's ETA by it.  :math:`N^2` counts the matrix products; the terms in N and 1 are the
    element-wise passes and the per-call overhead of each time step, which dominate below
    N ≈ 300 (:data:`COST_PER_N`, :data:`COST_CONSTANT`: calibrated on the full N-scaling
    sweep, flip-flop in float32 on one core of the 2-core VM, whose runs took 10.5 / 19.5 /
    45 s at N = 64 / 128 / 256; with :math:`N^2` alone the ETA of that sweep read 12 h
    after its N = 64 runs).

    >>> small, large = (make_config("flipflop", 0.9, 0, n=n) for n in (64, 128))
    >>> round(run_cost(large) / run_cost(small), 2)
    1.86
    """
    analyses = 27 * config.get("n_eval", 0) if config.get("analyze", True) else 0
    n = config["n"]
    return float((config["steps"] * config["batch_size"] + analyses) * _trial_length(config["task"])
                 * (n * n + COST_PER_N * n + COST_CONSTANT))


def _sweep(configs, out, workers, show_progress):
    executor = "serial" if workers == 1 else None
    return run_sweep(run_config, configs, Path(out) / "runs", executor=executor, max_workers=workers,
                     show_progress=show_progress, cost=run_cost)


def _num(v):
    """A summary number for a CSV: NaN when missing (not converged, not found, diverged);
    booleans (``diverged``) as 0/1."""
    if isinstance(v, bool):
        return int(v)
    return float("nan") if v is None else v


def _refuse_diverged(runs, names):
    """Figures built from single runs refuse diverged runs (naming them)."""
    bad = [n for n in names if runs[n].config.get("diverged")]
    if bad:
        raise RNNTheoryError(f"{len(bad)} run(s) diverged ({', '.join(bad[:3])}); this figure needs every run "
                             "trained — see diverged_reason in their config.json")


# ------------------------------------------------------------------------------ Fig. 1
def fig1(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         n: int | None = None, steps: dict | None = None, n_eval: int = 512,
         dtype: str | None = None) -> list[Path]:
    """Per task, g = 0 and 0.9: loss vs step, singular values of ΔW, truncation loss vs R;
    example trials of the trained g = 0.9 network; spectra (eigenvalues and singular
    values of W0, W and ΔW) at g = 0, 0.9, 1.8 (runs at g = 1.8 are included in every CSV).

    N = 256 and the paper's steps (quick: N = 64 and :data:`QUICK_STEPS`); ``n``, ``steps``
    (task -> steps) and ``n_eval`` override.
    """
    out = prepare_output_dir(out)
    n = n or (64 if quick else 256)
    steps = steps or (QUICK_STEPS if quick else TASK_STEPS)
    gs = (0.0, 0.9, 1.8)  # panels use 0 and 0.9; the spectra supplement also 1.8
    configs = {(t, g): make_config(t, g, seed, n=n, steps=steps[t], n_snapshots=20 if quick else 200,
                                   n_eval=n_eval, dtype=dtype or "float64")
               for t in TASK_ID for g in gs}
    runs = _sweep(list(configs.values()), out, workers, show_progress)
    loss = {k: [] for k in ("task", "g", "seed", "step", "loss")}
    sv = {k: [] for k in ("task", "g", "seed", "index", "sv")}
    tr = {k: [] for k in ("task", "g", "seed", "rank", "loss", "loss_ratio", "residual_norm", "explained")}
    sp = {k: [] for k in ("task", "g", "seed", "matrix", "index", "real", "imag")}
    ssv = {k: [] for k in ("task", "g", "seed", "matrix", "index", "sv")}
    _refuse_diverged(runs, [c["name"] for c in configs.values()])
    for (t, g), c in configs.items():
        r = runs[c["name"]]
        L = np.asarray(r.history["loss"], float)
        for i, v in enumerate(L):
            loss["task"].append(t); loss["g"].append(g); loss["seed"].append(seed); loss["step"].append(i)
            loss["loss"].append(v)
        for i, v in enumerate(r.arrays["singular_values"], 1):
            sv["task"].append(t); sv["g"].append(g); sv["seed"].append(seed); sv["index"].append(i)
            sv["sv"].append(v)
        L0 = r.arrays["trunc_loss"][0]
        for R, Lr, res, ex in zip(r.arrays["trunc_rank"], r.arrays["trunc_loss"],
                                  r.arrays["trunc_residual_norm"], r.arrays["trunc_explained"]):
            for k, v in zip(tr, (t, g, seed, int(R), Lr, Lr / L0, res, ex)):
                tr[k].append(v)
        W0, W = r.arrays["W0"], r.arrays["W"]
        for name, M in (("W0", W0), ("W", W), ("dW", W - W0)):
            ev = np.linalg.eigvals(M)
            ev = ev[np.lexsort((ev.imag, -np.abs(ev)))]
            for i, e in enumerate(ev, 1):
                for k, v in zip(sp, (t, g, seed, name, i, e.real, e.imag)):
                    sp[k].append(v)
            for i, v_ in enumerate(np.linalg.svd(M, compute_uv=False), 1):
                for k, v in zip(ssv, (t, g, seed, name, i, v_)):
                    ssv[k].append(v)
    ex = _examples(configs, runs, seed)
    paths = [write_csv(out / "loss.csv", loss), write_csv(out / "singular_values.csv", sv),
             write_csv(out / "truncation.csv", tr), write_csv(out / "examples.csv", ex),
             write_csv(out / "spectra.csv", sp), write_csv(out / "spectra_sv.csv", ssv)]
    return paths + plot_fig1(out, loss, sv, tr)


def _examples(configs, runs, seed, n_trials=2):
    from rnn_theory.numerics.rate.model import RateRNN, predict
    from rnn_theory.numerics.rate.tasks import get_task

    ex = {k: [] for k in ("task", "g", "trial", "t", "kind", "channel", "value")}
    for (t, g), c in configs.items():
        if g != 0.9:
            continue
        a = runs[c["name"]].arrays
        net = RateRNN(W=a["W"], W_in=a["W_in"], W_out=a["W_out"])
        trials = get_task(t)(np.random.default_rng([seed, 99, TASK_ID[t]]), n_trials)
        z = predict(net, trials.inputs)
        for kind, arr in (("input", trials.inputs), ("target", trials.targets), ("mask", trials.mask),
                          ("output", z)):
            for i in range(n_trials):
                for tt in range(arr.shape[1]):
                    for ch in range(arr.shape[2]):
                        for k, v in zip(ex, (t, g, i, tt, kind, ch, float(arr[i, tt, ch]))):
                            ex[k].append(v)
    return ex


# ------------------------------------------------------------------------------ Fig. 2
def fig2(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         n: int | None = None, steps: dict | None = None, samples: int | None = None,
         grid: dict | None = None, n_eval: int = 512, dtype: str | None = None) -> list[Path]:
    """Against g: convergence step, ‖ΔW‖_F, shuffle loss / step-0 loss, functional rank.

    N = 256, :data:`G_GRID`, 5 samples, the paper's steps (quick: N = 64, g ∈ {0, 0.9, 1.8},
    2 samples, :data:`QUICK_STEPS`); the keyword arguments override.
    """
    out = prepare_output_dir(out)
    n = n or (64 if quick else 256)
    samples = samples or (2 if quick else 5)
    grid = grid or ({t: [0.0, 0.9, 1.8] for t in TASK_ID} if quick else G_GRID)
    steps = steps or (QUICK_STEPS if quick else TASK_STEPS)
    configs = [make_config(t, g, seed + s, n=n, steps=steps[t], n_snapshots=20 if quick else 200,
                           n_eval=n_eval, dtype=dtype or "float64")
               for t in grid for g in grid[t] for s in range(samples)]
    runs = _sweep(configs, out, workers, show_progress)
    summ = {k: [] for k in ("task", "g", "seed", "converged_step", "dw_norm", "functional_rank",
                            "shuffle_loss_ratio")}
    for c in configs:
        cfg = runs[c["name"]].config
        for k in summ:
            summ[k].append(c[k] if k in ("task", "g", "seed") else _num(cfg.get(k)))
    agg = _aggregate(summ)
    paths = [write_csv(out / "summary.csv", summ), write_csv(out / "aggregate.csv", agg)]
    return paths + plot_fig2(out, agg)


def _aggregate(summ):
    keys = ("converged_step", "dw_norm", "functional_rank", "shuffle_loss_ratio")
    agg = {k: [] for k in ["task", "g", "n_samples", "all_valid"] + [f"{k}_{s}" for k in keys
                                                                      for s in ("mean", "std")]}
    S = {k: np.asarray(v, dtype=object if k == "task" else float) for k, v in summ.items()}
    pairs = list(dict.fromkeys(zip(summ["task"], summ["g"])))
    for t, g in pairs:
        m = (S["task"] == t) & (S["g"] == g)
        valid = bool(np.all(np.isfinite(S["converged_step"][m])) and np.all(np.isfinite(S["functional_rank"][m])))
        agg["task"].append(t); agg["g"].append(g); agg["n_samples"].append(int(m.sum()))
        agg["all_valid"].append(int(valid))
        for k in keys:
            v = S[k][m]
            agg[f"{k}_mean"].append(float(np.mean(v)) if valid else float("nan"))
            agg[f"{k}_std"].append(float(np.std(v)) if valid else float("nan"))
    return agg


# ------------------------------------------------------------------------------ supplements
def nscaling(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
             task: str = "flipflop", ns=None, gs=(0.0, 0.9, 1.8), samples: int | None = None,
             steps: int | None = None, n_eval: int | None = None, dtype: str | None = None) -> list[Path]:
    """N-scaling supplement: convergence step, ‖ΔW‖_F, ‖W0‖_F, functional rank vs N
    (``nscaling.csv`` and ``nscaling.png``, see the module docstring).

    Defaults: N = 64…1024, 5 samples (quick: N = 32, 64, 128, 2 samples, shorter runs);
    the keyword arguments override them.
    """
    out = prepare_output_dir(out)
    ns = ns or ((32, 64, 128) if quick else (64, 128, 256, 512, 1024))
    samples = samples or (2 if quick else 5)
    steps = steps or (QUICK_STEPS[task] if quick else None)
    n_eval = n_eval or (128 if quick else 512)
    configs = [make_config(task, g, seed + s, n=n, steps=steps, n_snapshots=0, n_eval=n_eval,
                           dtype=dtype or "float64")
               for n in ns for g in gs for s in range(samples)]
    runs = _sweep(configs, out, workers, show_progress)
    cols = {k: [] for k in ("task", "n", "g", "seed", "converged_step", "dw_norm", "w0_norm", "functional_rank",
                            "diverged")}
    for c in configs:
        cfg = runs[c["name"]].config
        for k in cols:
            cols[k].append(c[k] if k in ("task", "n", "g", "seed") else _num(cfg.get(k, False if k == "diverged"
                                                                                     else None)))
    return [write_csv(out / "nscaling.csv", cols)] + plot_nscaling(out, cols)


def cosine_run(config: dict):
    """Cosine supplement run: GD on W only, batch 1; eigenvalues of W every 5 steps."""
    from rnn_theory.numerics.rate.tasks import cosine as cosine_task
    from rnn_theory.numerics.rate.tasks import cosine_network
    from rnn_theory.numerics.rate.train import train

    rng = np.random.default_rng([config["seed"], 7, int(round(1000 * config["g"])), config["n"]])
    net0, x0 = cosine_network(config["n"], config["g"], rng, phi=config["phi"])
    net0 = net0.astype(config.get("dtype", "float64"))
    x0 = np.asarray(x0, dtype=net0.dtype)
    eig_steps, eigs = [], []

    def record(k, net, L):
        if k % config["eig_every"] == 0:
            eig_steps.append(k)
            eigs.append(np.linalg.eigvals(net.W))

    res = train(net0, cosine_task, config["steps"], 1, config["lr"], rng, optimizer="sgd", trainable=("W",),
                x0=x0, callback=record)
    return ({"W0": net0.W, "W": res.net.W, "eig_steps": np.array(eig_steps), "eigs": np.array(eigs)},
            {"step": np.arange(res.steps), "loss": res.loss}, {"final_loss": float(res.loss[-1])})


COSINE_LR = {"linear": {0.0: 0.2, 0.4: 0.15, 0.8: 0.05}, "tanh": {0.0: 0.4, 0.4: 0.3, 0.8: 0.1}}


def cosine(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
           phi: str = "linear", n: int | None = None, steps: int | None = None,
           dtype: str | None = None) -> list[Path]:
    """Cosine supplement: randomness (g > 0) is needed to learn an oscillation.

    N = 256, 1000 GD steps, g ∈ {0, 0.4, 0.8} with the spec's learning rates
    (quick: N = 64, 300 steps); ``n``/``steps`` override.
    """
    out = prepare_output_dir(out)
    n = n or (64 if quick else 256)
    steps = steps or (300 if quick else 1000)
    sfx = "" if dtype in (None, "float64") else f"-{dtype}"   # default names unchanged
    configs = [{"name": f"cosine-{phi}-N{n}-g{num_tag(g)}-seed{seed}-steps{steps}{sfx}", "n": n, "g": g,
                "seed": seed, "phi": phi, "lr": lr, "steps": steps, "eig_every": 5,
                **({"dtype": dtype} if sfx else {})}
               for g, lr in COSINE_LR[phi].items()]
    executor = "serial" if workers == 1 else None
    runs = run_sweep(cosine_run, configs, out / "runs", executor=executor, max_workers=workers,
                     show_progress=show_progress)
    loss = {k: [] for k in ("g", "step", "loss")}
    eig = {k: [] for k in ("g", "step", "index", "real", "imag")}
    for c in configs:
        r = runs[c["name"]]
        for s, v in zip(r.history["step"], r.history["loss"]):
            loss["g"].append(c["g"]); loss["step"].append(s); loss["loss"].append(v)
        for s, ev in zip(r.arrays["eig_steps"], r.arrays["eigs"]):
            ev = ev[np.argsort(-ev.real)][:10]
            for i, e in enumerate(ev):
                for k, v in zip(eig, (c["g"], int(s), i, e.real, e.imag)):
                    eig[k].append(v)
    return [write_csv(out / "cosine_loss.csv", loss), write_csv(out / "cosine_eigs.csv", eig)] + plot_cosine(out, loss, eig)
