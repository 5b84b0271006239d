"""Theory curves of the linear task with simulation overlays (CSV; PNG with the [plot] extra).

Writes ``loss.csv`` and ``singular_values.csv`` in long format: for each (zhat, g) the
first-order and third-order (clipped once z reaches zhat, the Fig 3 convention) theory,
the exact g = 0 solution where g = 0, and simulated runs (``--samples`` per setting, 0 for
theory only; the same two files), against tau (= lr x steps) and tau~ (= lr0 x steps), and
``fig3.png`` (plus PDF/SVG with ``--format``; needs the ``[plot]`` extra).  Simulation runs are
saved under OUT/runs and reused when the command is rerun.  ``rnn-theory reproduce
schuessler-fig3`` / ``schuessler-fig4`` write the paper's full setups.
"""
from __future__ import annotations

from pathlib import Path

from rnn_theory.numerics.infra.plotting import add_format_argument


def add_arguments(p):
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--g", type=float, nargs="+", default=[0.0, 0.6], help="gains (default 0 0.6)")
    p.add_argument("--zhat", type=float, nargs="+", default=[0.5, 2.0], help="targets (default 0.5 2)")
    p.add_argument("--n", type=int, default=256, help="network size of the simulations (default 256)")
    p.add_argument("--samples", type=int, default=2, help="simulated runs per (zhat, g); 0 = theory only")
    p.add_argument("--steps", type=int, default=200, help="GD steps (lr0 = 0.015, 0.009, 0.003 for zhat 0.5, 1, 2)")
    p.add_argument("--seed", type=int, default=0, help="base seed")
    p.add_argument("--workers", type=int, default=None, help="processes for the runs (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="silence progress output")
    add_format_argument(p)


def run(args) -> int:
    from rnn_theory.numerics.errors import DomainError
    from rnn_theory.numerics.infra.plotting import figure_formats
    from rnn_theory.numerics.reproduce.schuessler_linear import write_curves

    if args.samples < 0 or args.steps < 1 or args.n < 2:
        raise DomainError("--samples must be >= 0, --steps >= 1 and --n >= 2")
    args.out.mkdir(parents=True, exist_ok=True)
    with figure_formats(args.format):
        paths = write_curves(args.out, n=args.n, gains=args.g, zhats=args.zhat, samples=args.samples,
                             steps=args.steps, seed=args.seed, workers=args.workers,
                             show_progress=not args.no_progress)
    for p in paths:
        print(p)
    return 0
