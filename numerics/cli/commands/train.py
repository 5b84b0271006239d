"""Train one rate RNN on a Schuessler task and save the run folder (config.json, arrays.npz, history.csv).

Example::

    rnn-theory train --task flipflop --n 256 --g 0.9 --seed 0 --out runs/ff-g0.9

Defaults follow Schuessler et al. (2020): Adam, lr = 0.05/N, 32 fresh trials per step,
1000/2000/6000 steps for flipflop/mante/romo, analysis on 512 fresh trials.

``--out`` must be a new path or a run folder written by rnn-theory.  A run folder that
holds the same configuration is not recomputed; one that holds a different configuration
is an error showing the difference (``--overwrite`` recomputes and replaces it — only
ever a run folder).  A diverging run (NaN/inf, or loss > 1000 x its initial value) is
saved with its last good weights and ``diverged: true``; the exit status is then 3.
"""
from __future__ import annotations

from pathlib import Path

from rnn_theory.numerics.cli.validate import gain, integer, names, positive_int, positive_real

TRAINABLE = ("W_in", "W", "W_out")


def add_arguments(p):
    p.add_argument("--task", required=True, choices=["flipflop", "mante", "romo"], help="task to learn")
    p.add_argument("--n", type=integer(2), default=256, help="number of neurons N >= 2 (default 256)")
    p.add_argument("--g", type=gain(), default=0.9, help="gain g >= 0 of the initial connectivity W0 = g J")
    p.add_argument("--seed", type=integer(0), default=0, help="run seed >= 0 (default 0)")
    p.add_argument("--steps", type=positive_int(), default=None, help="Adam steps >= 1 (default: the paper's per task)")
    p.add_argument("--batch-size", type=positive_int(), default=32, help="fresh trials per step (default 32)")
    p.add_argument("--lr", type=positive_real(), default=None, help="learning rate > 0 (default 0.05/N)")
    p.add_argument("--snapshots", type=integer(0), default=200, help="steps at which the SVD of dW is stored")
    p.add_argument("--n-eval", type=positive_int(), default=512, help="evaluation trials for the analyses")
    p.add_argument("--float32", action="store_true", help="train in float32 (default float64)")
    p.add_argument("--trainable", type=names(TRAINABLE), default=list(TRAINABLE),
                   help="comma-separated trained weights (default W_in,W,W_out; e.g. W)")
    p.add_argument("--no-analysis", action="store_true", help="skip truncation/shuffle analyses")
    p.add_argument("--overwrite", "--force", action="store_true",
                   help="recompute and replace an existing run folder (only ever a run folder)")
    p.add_argument("--no-progress", action="store_true", help="silence the progress bar")
    p.add_argument("--out", type=Path, required=True, help="run folder to write (new, or a run folder)")


def run(args) -> int:
    import sys

    from rnn_theory.numerics.cli.validate import EXIT_DIVERGED
    from rnn_theory.numerics.infra.io import load_run, prepare_run, save_run
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import make_config, run_config

    config = make_config(args.task, args.g, args.seed, n=args.n, steps=args.steps, batch_size=args.batch_size,
                         lr=args.lr, n_snapshots=args.snapshots, n_eval=args.n_eval,
                         dtype="float32" if args.float32 else "float64", analyze=not args.no_analysis,
                         trainable=args.trainable)
    action = prepare_run(args.out, config, overwrite=args.overwrite)  # before any work
    if action == "reuse":
        print(f"{args.out} already holds this run (same configuration); not recomputed")
    else:
        arrays, history, summary = run_config(config, show_progress=not args.no_progress)
        save_run(args.out, config, arrays, history, summary, overwrite=action == "replace")
    cfg = load_run(args.out, arrays=False).config
    for k in ("task", "n", "g", "seed", "steps", "converged_step", "dw_norm", "functional_rank",
              "shuffle_loss_ratio", "diverged"):
        if k in cfg:
            print(f"{k:20s} {cfg[k]}")
    print(args.out)
    if cfg.get("diverged"):
        print(f"rnn-theory train: diverged: {cfg.get('diverged_reason')} (last good state saved in {args.out})",
              file=sys.stderr)
        return EXIT_DIVERGED
    return 0
