"""Theory curves of the linear task with simulation overlays (CSV; PNG with the [plot] extra).

Writes ``loss.csv`` and ``singular_values.csv`` in long format: for each (zhat, g) the
first-order and third-order (clipped once z reaches zhat, the Fig 3 convention) theory,
the exact g = 0 solution where g = 0, and simulated runs (``--samples`` per setting, 0 for
theory only), against tau (= lr x steps) and tau~ (= lr0 x steps).  ``outlier.csv`` holds
the theory of the top real eigenvalue of W outside the bulk (beyond the paper,
:func:`rnn_theory.theory.outlier.top_eigenvalue`; NaN while no eigenvalue lies outside the
disc of radius g or once it reaches 1), with ``truncation`` = |order 5 − order 4| as the
series' error estimate (g > 0).  Simulation runs are
saved under OUT/runs and reused when the command is rerun.  ``rnn-theory reproduce
schuessler-fig3`` / ``schuessler-fig4`` write the paper's full setups.
"""
from __future__ import annotations

from pathlib import Path


def add_arguments(p):
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--g", type=float, nargs="+", default=[0.0, 0.6], help="gains (default 0 0.6)")
    p.add_argument("--zhat", type=float, nargs="+", default=[0.5, 2.0], help="targets (default 0.5 2)")
    p.add_argument("--n", type=int, default=256, help="network size of the simulations (default 256)")
    p.add_argument("--samples", type=int, default=2, help="simulated runs per (zhat, g); 0 = theory only")
    p.add_argument("--steps", type=int, default=200, help="GD steps (lr0 = 0.015, 0.009, 0.003 for zhat 0.5, 1, 2)")
    p.add_argument("--seed", type=int, default=0, help="base seed")
    p.add_argument("--workers", type=int, default=None, help="processes for the runs (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="silence progress bars")


def run(args) -> int:
    import numpy as np

    from rnn_theory.numerics.errors import DomainError
    from rnn_theory.numerics.infra.io import write_csv
    from rnn_theory.numerics.reproduce.schuessler_linear import LR0, theory_curves, write_curves

    if args.samples < 0 or args.steps < 1 or args.n < 2:
        raise DomainError("--samples must be >= 0, --steps >= 1 and --n >= 2")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.samples > 0:
        paths = write_curves(args.out, n=args.n, gains=args.g, zhats=args.zhat, samples=args.samples,
                             steps=args.steps, seed=args.seed, workers=args.workers,
                             show_progress=not args.no_progress)
    else:
        cols = {k: [] for k in ("zhat", "g", "seed", "source", "tau", "tau_tilde", "loss", "s1", "s2")}
        for zh in args.zhat:
            for g in args.g:
                tt = np.linspace(0, LR0.get(float(zh), 0.003) * args.steps, 401)
                for src, cur in theory_curves(float(g), float(zh), tt).items():
                    m = tt.size
                    for k, v in (("zhat", [zh] * m), ("g", [g] * m), ("seed", [-1] * m), ("source", [src] * m)):
                        cols[k].extend(v)
                    for k in ("tau", "tau_tilde", "loss", "s1", "s2"):
                        cols[k].extend(np.asarray(cur[k]).tolist())
        paths = [write_csv(Path(args.out) / "theory_curves.csv", cols)]
    paths.append(_outlier_csv(args.out, args.g, args.zhat, args.steps))
    for p in paths:
        print(p)
    return 0


def _outlier_csv(out, gains, zhats, steps):
    """Theory of the outlier of W along learning (order-5 series; exact at g = 0)."""
    import numpy as np

    from rnn_theory.numerics.infra.io import write_csv
    from rnn_theory.numerics.reproduce.schuessler_linear import LR0
    from rnn_theory.theory.outlier import top_eigenvalue

    cols = {k: [] for k in ("zhat", "g", "source", "tau", "tau_tilde", "lambda_out", "truncation")}
    for zh in zhats:
        for g in gains:
            tt = np.linspace(0, LR0.get(float(zh), 0.003) * steps, 201)
            tau = tt * (1 - g * g) ** 2
            lam5 = top_eigenvalue(g, zh, tau, order=5)
            trunc = np.abs(lam5 - top_eigenvalue(g, zh, tau, order=4)) if g > 0 else np.zeros_like(tt)
            bad = ~(lam5 < 1)  # W unstable beyond 1: the fixed-point theory stops there
            lam5[bad], trunc[bad] = np.nan, np.nan
            src = "exact_g0" if g == 0 else "outlier_order5"
            for k, v in (("zhat", [zh] * tt.size), ("g", [g] * tt.size), ("source", [src] * tt.size),
                         ("tau", tau.tolist()), ("tau_tilde", tt.tolist()), ("lambda_out", lam5.tolist()),
                         ("truncation", trunc.tolist())):
                cols[k].extend(v)
    return write_csv(Path(out) / "outlier.csv", cols)
