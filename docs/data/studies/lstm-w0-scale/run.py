"""When does truncating the trained LSTM weights W need (nearly) full rank?  (issue 15, item 5)

Hypothesis (docs/lstm.md): rank_R(W) keeps the top-R directions of W = W0 + ΔW; when the
learned ΔW is large against the random initial W0 those directions are ΔW's and W
truncates as well as ΔW, when ΔW is small against W0 they are W0's random bulk and W needs
nearly full rank.  This study varies the two knobs that set ‖ΔW‖ / ‖W0‖ at the quick size
(hidden 64, the synthetic sentiment grammar, 1600 Adam steps, dropout 0.5, float32):
the initial gain g (W0 entries U(±g/√N); g = 1 is PyTorch's default, the paper's) and the
learning rate, over seeds.  For each run it records the trained held-out accuracy, the
ranks R95 at which W0 + rank_R(ΔW) and rank_R(W) (all three weights truncated together)
recover 95 % of the trained accuracy's margin above chance, and the scale ratio
‖ΔW‖_F / ‖W0‖_F summed over the three truncated weights.

    OMP_NUM_THREADS=1 python docs/data/studies/lstm-w0-scale/run.py OUT_DIR [--workers 2]

``--size full`` runs the same analysis at the paper's hidden size 256 (the reproduction's
FULL configuration, 8000 steps), e.g. ``--size full --gains 5 --lrs 0.00025 --seeds 0``;
``--gains``, ``--lrs`` and ``--seeds`` replace the grids.

Runs are saved in OUT_DIR/runs as they finish and reused when rerun (run_sweep);
OUT_DIR/summary.csv is the record committed beside this script.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rnn_theory.numerics.infra.io import write_csv
from rnn_theory.numerics.infra.outputs import prepare_output_dir
from rnn_theory.numerics.infra.sweep import run_sweep
from rnn_theory.numerics.lstm.truncation import WEIGHTS
from rnn_theory.numerics.reproduce.lstm import FULL, QUICK, _task, run_experiment, train_run

GAINS = (1.0, 2.0, 3.0, 5.0)
LRS = (1e-3, 2.5e-4)
SEEDS = (0, 1)


def configs(size="quick", gains=GAINS, lrs=LRS, seeds=SEEDS):
    """The study's runs: the reproduction's QUICK (hidden 64) or FULL (hidden 256, 8000
    steps) configuration at every (seed, lr, gain)."""
    base = QUICK if size == "quick" else FULL
    out = []
    for seed in seeds:
        for lr in lrs:
            for g in gains:
                c = asdict(base)
                c.update(seed=seed, lr=lr, gain=g, name=f"{size}-N{base.hidden}-g{g:g}-lr{lr:g}-seed{seed}")
                out.append(c)
    return out


def r95(rank, acc, trained, chance):
    ok = acc >= chance + 0.95 * (trained - chance)
    return float(rank[ok].min()) if np.any(ok) else float("nan")


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--size", choices=("quick", "full"), default="quick",
                   help="quick: hidden 64, 1600 steps (the study); full: hidden 256, 8000 steps (the paper's size)")
    p.add_argument("--gains", type=float, nargs="+", default=list(GAINS))
    p.add_argument("--lrs", type=float, nargs="+", default=list(LRS))
    p.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    a = p.parse_args(argv)
    out = prepare_output_dir(Path(a.out))  # refuses a folder the package did not create, before any work
    t0 = time.time()
    cs = configs(a.size, a.gains, a.lrs, a.seeds)
    runs = run_sweep(train_run, cs, out / "runs", max_workers=a.workers, show_progress=False)
    cols = {k: [] for k in ("seed", "gain", "lr", "lstm_accuracy", "chance", "r95_dW", "r95_W",
                            "dw_over_w0_fro", "s1_dw_over_s1_w0")}
    for c in cs:
        rec = runs[c["name"]]
        params = {k: v for k, v in rec.arrays.items() if not k.startswith("W0/")}
        params0 = {k[3:]: v for k, v in rec.arrays.items() if k.startswith("W0/")}
        task = _task(rec.config)
        res = run_experiment(params, params0, task.embedding, task.test)
        t = res["truncation"]
        w, m = np.array(t["weight"], object), np.array(t["mode"], object)
        rank, acc = np.array(t["rank"], float), np.array(t["accuracy"], float)
        trained, chance = rec.config["lstm_accuracy"], rec.config["chance"]
        dfro = np.sqrt(sum(np.sum((params[k].astype(float) - params0[k]) ** 2) for k in WEIGHTS))
        w0fro = np.sqrt(sum(np.sum(params0[k].astype(float) ** 2) for k in WEIGHTS))
        s1 = np.mean([np.linalg.norm(params[k].astype(float) - params0[k], 2) / np.linalg.norm(params0[k], 2)
                      for k in WEIGHTS])
        row = dict(seed=c["seed"], gain=c["gain"], lr=c["lr"], lstm_accuracy=trained, chance=chance,
                   r95_dW=r95(rank[(w == "all") & (m == "dW")], acc[(w == "all") & (m == "dW")], trained, chance),
                   r95_W=r95(rank[(w == "all") & (m == "W")], acc[(w == "all") & (m == "W")], trained, chance),
                   dw_over_w0_fro=dfro / w0fro, s1_dw_over_s1_w0=s1)
        for k in cols:
            cols[k].append(row[k])
        print(row, flush=True)
    write_csv(out / "summary.csv", cols)
    print(f"done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    import sys

    from rnn_theory.theory.errors import RNNTheoryError

    try:
        main()
    except RNNTheoryError as exc:   # one clear line, no traceback
        sys.exit(f"run.py: {exc}")
