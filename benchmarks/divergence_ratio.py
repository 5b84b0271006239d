"""Largest loss over training relative to the initial loss (the basis of K in the divergence rule).

Runs the Schuessler tasks at the paper's learning rate (Adam, 0.05/N) and at larger
rates, and prints max_k L_k / L_0 and whether the run diverged under the package's rule
(:func:`rnn_theory.numerics.infra.optim.divergence_reason`, K = 1000).  Usage::

    python benchmarks/divergence_ratio.py [--n 32] [--steps 200]
"""
from __future__ import annotations

import argparse

import numpy as np

from rnn_theory.numerics.reproduce.schuessler_nonlinear import make_config, run_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    for task in ("flipflop", "mante", "romo"):
        for g in (0.9, 2.4):
            for lr in (None, 10 * 0.05 / args.n, 1e6):
                c = make_config(task, g, 0, n=args.n, steps=args.steps, n_snapshots=0, analyze=False, lr=lr)
                _, h, s = run_config(c)
                L = np.asarray(h["loss"], float)
                if s["diverged"]:
                    print(f"{task:8s} g={g:<4} lr={c['lr']:<10.4g} diverged: {s['diverged_reason']}", flush=True)
                    continue
                print(f"{task:8s} g={g:<4} lr={c['lr']:<10.4g} L0={L[0]:.3g} max/L0={L.max() / L[0]:.3g}",
                      flush=True)


if __name__ == "__main__":
    main()
