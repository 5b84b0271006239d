"""Analyse a saved run folder: SVD of dW, truncation losses (R = 0..25), functional rank, shuffle test.

Example::

    rnn-theory analyze runs/ff-g0.9 [--n-eval 512] [--max-rank 25] [--seed 1]

Reads ``W0``, ``W``, ``W_in``, ``W_out`` and the loss history of a run written by
``rnn-theory train`` / ``sweep`` / ``reproduce``, prints the summary and writes
``truncation.csv`` (rank, loss, loss_ratio, residual_norm, explained),
``singular_values.csv`` and ``analysis.json`` into the run folder (atomically).
"""
from __future__ import annotations

from pathlib import Path


def add_arguments(p):
    p.add_argument("run_dir", type=Path, help="run folder (config.json, arrays.npz, history.csv)")
    p.add_argument("--n-eval", type=int, default=512, help="fresh evaluation trials (default 512)")
    p.add_argument("--max-rank", type=int, default=25, help="largest truncation rank R (default 25)")
    p.add_argument("--seed", type=int, default=1, help="seed of the evaluation batch and the shuffle")


def run(args) -> int:
    import json

    import numpy as np
    from rnn_theory.theory.errors import DomainError, RNNTheoryError

    from rnn_theory.numerics.rate.analysis import analyze_run
    from rnn_theory.numerics.infra.io import atomic_write_text, load_run, write_csv
    from rnn_theory.numerics.rate.model import RateRNN
    from rnn_theory.numerics.rate.tasks import get_task

    if args.n_eval < 1 or args.max_rank < 0:
        raise DomainError("--n-eval must be >= 1 and --max-rank >= 0")
    rec = load_run(args.run_dir)
    need = {"W0", "W", "W_in", "W_out"} - set(rec.arrays)
    if need or "task" not in rec.config or "loss" not in rec.history:
        raise RNNTheoryError(f"{args.run_dir} is not a rate-RNN training run (missing {sorted(need) or 'task/loss'})")
    a = rec.arrays
    net = RateRNN(W=a["W"].astype(float), W_in=a["W_in"].astype(float), W_out=a["W_out"].astype(float))
    res = analyze_run(net, a["W0"].astype(float), rec.history["loss"], get_task(rec.config["task"]),
                      np.random.default_rng(args.seed), n_eval=args.n_eval, ranks=range(args.max_rank + 1))
    s = res.summary()
    tr = res.truncation
    write_csv(args.run_dir / "truncation.csv", {"rank": tr["rank"], "loss": tr["loss"],
                                                "loss_ratio": tr["loss"] / tr["loss"][0],
                                                "residual_norm": tr["residual_norm"],
                                                "explained": tr["explained"]})
    write_csv(args.run_dir / "singular_values.csv", {"index": np.arange(len(res.singular_values)),
                                                     "sv": res.singular_values})
    atomic_write_text(args.run_dir / "analysis.json", json.dumps(s, indent=2))
    for k, v in s.items():
        print(f"{k:20s} {v}")
    print("top singular values of dW:", np.array2string(res.singular_values[:8], precision=4))
    return 0
