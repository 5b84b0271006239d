"""Train one rate RNN on a Schuessler task and save the run folder (config.json, arrays.npz, history.csv).

Example::

    rnn-theory train --task flipflop --n 256 --g 0.9 --seed 0 --out runs/ff-g0.9

Defaults follow Schuessler et al. (2020): Adam, lr = 0.05/N, 32 fresh trials per step,
1000/2000/6000 steps for flipflop/mante/romo, analysis on 512 fresh trials.  A complete
run folder is not recomputed (use --force).
"""
from __future__ import annotations

from pathlib import Path


def add_arguments(p):
    p.add_argument("--task", required=True, choices=["flipflop", "mante", "romo"], help="task to learn")
    p.add_argument("--n", type=int, default=256, help="number of neurons N (default 256)")
    p.add_argument("--g", type=float, default=0.9, help="gain of the random initial connectivity W0 = g J")
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument("--steps", type=int, default=None, help="Adam steps (default: the paper's per task)")
    p.add_argument("--batch-size", type=int, default=32, help="fresh trials per step (default 32)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 0.05/N)")
    p.add_argument("--snapshots", type=int, default=200, help="steps at which the SVD of dW is stored")
    p.add_argument("--n-eval", type=int, default=512, help="evaluation trials for the analyses")
    p.add_argument("--float32", action="store_true", help="train in float32 (default float64)")
    p.add_argument("--trainable", default="W_in,W,W_out",
                   help="comma-separated trained weights (default W_in,W,W_out; e.g. W)")
    p.add_argument("--no-analysis", action="store_true", help="skip truncation/shuffle analyses")
    p.add_argument("--force", action="store_true", help="recompute even if the run folder is complete")
    p.add_argument("--no-progress", action="store_true", help="silence the progress bar")
    p.add_argument("--out", type=Path, required=True, help="run folder to write")


def run(args) -> int:
    from rnn_theory.theory.errors import DomainError

    from rnn_theory.numerics.infra.io import run_complete, save_run, load_run
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import make_config, run_config

    for name in ("n", "batch_size", "n_eval"):
        if getattr(args, name) < 1:
            raise DomainError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    if args.lr is not None and not args.lr > 0:
        raise DomainError(f"--lr must be > 0, got {args.lr}")
    config = make_config(args.task, args.g, args.seed, n=args.n, steps=args.steps, batch_size=args.batch_size,
                         lr=args.lr, n_snapshots=args.snapshots, n_eval=args.n_eval,
                         dtype="float32" if args.float32 else "float64", analyze=not args.no_analysis,
                         trainable=[t.strip() for t in args.trainable.split(",") if t.strip()])
    if run_complete(args.out) and not args.force:
        print(f"{args.out} is already a complete run; not recomputed (use --force)")
    else:
        arrays, history, summary = run_config(config, show_progress=not args.no_progress)
        save_run(args.out, {**config, **summary}, arrays, history)
    cfg = load_run(args.out).config
    for k in ("task", "n", "g", "seed", "steps", "converged_step", "dw_norm", "functional_rank",
              "shuffle_loss_ratio"):
        if k in cfg:
            print(f"{k:20s} {cfg[k]}")
    print(args.out)
    return 0
