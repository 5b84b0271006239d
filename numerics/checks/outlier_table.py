r"""Large-N comparison table of the outlier (CSV): simulations vs :func:`rnn_theory.theory.outlier.top_eigenvalue`.

Regenerate ``docs/data/outlier_n2048.csv`` (about an hour of CPU at N = 2048, 3 seeds)::

    python -m rnn_theory.numerics.checks.outlier_table --n 2048 --seeds 3 --out docs/data/outlier_n2048.csv

One eigendecomposition of J per seed (:math:`O(N^3)`) serves both gains; each trajectory
costs one LU per checkpoint and :math:`O(N^2)` per GD step.
"""
from __future__ import annotations

import argparse

import numpy as np

from rnn_theory.numerics.linear.network import draw_network
from rnn_theory.numerics.linear.outlier import W0Spectrum, outlier_trajectory

__all__ = ["CASES", "simulate_cases", "main"]

#: (g, zhat, lr0, checkpoint step counts); tau~ = lr0 * steps
CASES = (
    (0.3, 2.0, 0.003, (40, 50, 60, 70, 80, 90, 100)),
    (0.6, 2.0, 0.003, (40, 50, 60, 70, 80, 90, 100)),
    (0.3, 0.5, 0.015, (20, 40, 60, 80, 100)),
    (0.6, 0.5, 0.015, (20, 40, 60, 80, 100)),
)


def simulate_cases(n: int, seeds, cases=CASES) -> list:
    """Rows ``dict(n, seed, g, zhat, lr0, steps, tau_tilde, outlier, edge, residual, z0)``."""
    rows = []
    for seed in seeds:
        W0, _, _ = draw_network(n, 0.5, np.random.default_rng(seed))
        spec_j = W0Spectrum(W0 / 0.5)  # J of this seed (W0 = g J: the same J for every g)
        for g, zhat, lr0, cps in cases:
            r = outlier_trajectory(n, g, zhat, lr0, cps, seed, spec_j=spec_j)
            for k, st in enumerate(r["steps"]):
                rows.append({"n": n, "seed": seed, "g": g, "zhat": zhat, "lr0": lr0, "steps": int(st),
                             "tau_tilde": float(r["tau_tilde"][k]), "outlier": float(r["outlier"][k]),
                             "edge": r["edge"], "residual": float(r["residual"][k]), "z0": r["z0"]})
            print(f"seed {seed} g {g} zhat {zhat}: {np.round(r['outlier'], 4)}", flush=True)
    return rows


def main(argv=None) -> int:
    from rnn_theory.numerics.infra.io import write_csv

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    rows = simulate_cases(a.n, range(a.first_seed, a.first_seed + a.seeds))
    write_csv(a.out, {k: [r[k] for r in rows] for k in rows[0]})
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
