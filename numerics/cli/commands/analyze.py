"""Analyse a saved run folder: SVD of dW, truncation losses (R = 0..25), functional rank, shuffle test.

Example::

    rnn-theory analyze runs/ff-g0.9 [--n-eval 512] [--max-rank 25] [--seed 1]

By default the evaluation batch is the one ``train`` used (same seed and size, stored
with the run), so ``analyze`` reproduces ``train``'s numbers; ``--seed``/``--n-eval``
draw another batch.

Reads ``W0``, ``W``, ``W_in``, ``W_out`` and the loss history of a run written by
``rnn-theory train`` / ``sweep`` / ``reproduce``, prints the summary and writes
``truncation.csv`` (rank, loss, loss_ratio, residual_norm, explained),
``singular_values.csv`` and ``analysis.json`` into the run folder (atomically).  Only a run
folder written by rnn-theory is analysed (a corrupt one is named with what to do); a
diverged run is refused with exit status 3.
"""
from __future__ import annotations

from pathlib import Path

from rnn_theory.numerics.cli.validate import integer, positive_int


def add_arguments(p):
    p.add_argument("run_dir", type=Path, help="run folder (config.json, arrays.npz, history.csv)")
    p.add_argument("--n-eval", type=positive_int(), default=None,
                   help="evaluation trials >= 1 (default: the run's, 512 if it has none)")
    p.add_argument("--max-rank", type=integer(0), default=None,
                   help="largest truncation rank R in [0, N] (default min(25, N))")
    p.add_argument("--seed", type=integer(0), default=None,
                   help="seed >= 0 of another evaluation batch and shuffle (default: the batch train used)")


def run(args) -> int:
    import json
    import sys

    import numpy as np
    from rnn_theory.theory.errors import DomainError, RNNTheoryError

    from rnn_theory.numerics.cli.validate import EXIT_DIVERGED
    from rnn_theory.numerics.infra.outputs import is_run_dir
    from rnn_theory.numerics.rate.tasks import TASK_SIZES

    from rnn_theory.numerics.rate.analysis import analyze_run
    from rnn_theory.numerics.infra.io import atomic_write_text, load_run, write_csv
    from rnn_theory.numerics.rate.model import RateRNN
    from rnn_theory.numerics.rate.tasks import get_task
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import eval_entropy

    if not is_run_dir(args.run_dir):
        what = "does not exist" if not args.run_dir.exists() else "is not a run folder written by rnn-theory"
        raise RNNTheoryError(f"{args.run_dir} {what}; give a folder written by rnn-theory train / sweep / reproduce")
    rec = load_run(args.run_dir)
    n_eval = args.n_eval or int(rec.config.get("n_eval", 512))
    if args.seed is not None:
        rng = np.random.default_rng(args.seed)
    elif "rng_entropy" in rec.config:
        rng = np.random.default_rng(eval_entropy(rec.config))
    else:
        rng = np.random.default_rng(1)
    need = {"W0", "W", "W_in", "W_out"} - set(rec.arrays)
    if need or rec.config.get("task") not in TASK_SIZES or "loss" not in rec.history:
        raise RNNTheoryError(f"{args.run_dir} is not a rate-RNN training run (missing "
                             f"{sorted(need) or 'task/loss'}); analyze reads runs of rnn-theory train / sweep")
    if rec.config.get("diverged"):
        print(f"rnn-theory analyze: error: {args.run_dir} is a diverged run ({rec.config.get('diverged_reason')}); "
              "it is not a result and is not analysed", file=sys.stderr)
        return EXIT_DIVERGED
    n = rec.arrays["W"].shape[0]
    max_rank = min(25, n) if args.max_rank is None else args.max_rank
    if max_rank > n:
        raise DomainError(f"--max-rank must be in [0, N = {n}], got {max_rank}")
    a = rec.arrays
    net = RateRNN(W=a["W"].astype(float), W_in=a["W_in"].astype(float), W_out=a["W_out"].astype(float))
    res = analyze_run(net, a["W0"].astype(float), rec.history["loss"], get_task(rec.config["task"]),
                      rng, n_eval=n_eval, ranks=range(max_rank + 1))
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
