"""Theory curves of the linear task with simulation overlays (CSV; PNG with the [plot] extra).

Writes ``loss.csv`` and ``singular_values.csv`` in long format: for each (zhat, g) the
first-order and third-order (clipped once z reaches zhat, the Fig 3 convention) theory,
the exact g = 0 solution where g = 0, and simulated runs (``--samples`` per setting, 0 for
theory only; the same two files), against tau (= lr x steps) and tau~ (= lr0 x steps), and
``fig3.png`` (plus PDF/SVG with ``--format``; needs the ``[plot]`` extra).  ``outlier.csv`` holds
the theory of the top real eigenvalue of W outside the bulk (beyond the paper,
``rnn_theory.theory.outlier.top_eigenvalue``; NaN while no eigenvalue lies outside the
disc of radius g or once it reaches 1), with ``truncation`` = abs(order 5 − order 4) as the
series' error estimate (g > 0).  Simulation runs are
saved under OUT/runs and reused when the command is rerun.  ``rnn-theory reproduce
schuessler-fig3`` / ``schuessler-fig4`` write the paper's full setups.
OUT must be new, empty or an rnn-theory output folder; runs rerun with other settings into
the same OUT are an error (use a new OUT); ``provenance.json`` is written beside the CSVs.
``--beyond`` adds ``beyond_curves.csv`` (beyond the paper): the order-5 series and the
mapped exact g = 0 curves (``docs/beyond_the_paper.md``).
"""
from __future__ import annotations

from pathlib import Path

from rnn_theory.numerics.cli.validate import gain, integer, positive_int, positive_real
from rnn_theory.numerics.infra.plotting import add_format_argument


def add_arguments(p):
    p.add_argument("--out", type=Path, required=True, help="output folder (new, empty or an rnn-theory output)")
    p.add_argument("--g", type=gain(), nargs="+", default=[0.0, 0.6], help="gains >= 0 (default 0 0.6)")
    p.add_argument("--zhat", type=positive_real(), nargs="+", default=[0.5, 2.0], help="targets > 0 (default 0.5 2)")
    p.add_argument("--n", type=integer(2), default=256, help="network size of the simulations (default 256)")
    p.add_argument("--samples", type=integer(0), default=2, help="simulated runs per (zhat, g); 0 = theory only")
    p.add_argument("--steps", type=positive_int(), default=200, help="GD steps (lr0 = 0.015, 0.009, 0.003 for zhat 0.5, 1, 2)")
    p.add_argument("--seed", type=integer(0), default=0, help="base seed >= 0")
    p.add_argument("--workers", type=positive_int(), default=None, help="processes >= 1 for the runs (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="silence progress output")
    p.add_argument("--beyond", action="store_true",
                   help="also write beyond_curves.csv: order-5 series and mapped exact g = 0 curves")
    add_format_argument(p)


def run(args) -> int:
    from rnn_theory.numerics.cli.commands.reproduce import finish_output
    from rnn_theory.numerics.infra.outputs import prepare_output_dir
    from rnn_theory.numerics.infra.plotting import figure_formats
    from rnn_theory.numerics.reproduce.schuessler_linear import write_curves

    prepare_output_dir(args.out)
    with figure_formats(args.format):
        paths = write_curves(args.out, n=args.n, gains=args.g, zhats=args.zhat, samples=args.samples,
                             steps=args.steps, seed=args.seed, workers=args.workers,
                             show_progress=not args.no_progress)
    paths.append(_outlier_csv(args.out, args.g, args.zhat, args.steps))
    if args.beyond:
        paths.append(_write_beyond(args))
    for p in paths:
        print(p)
    return finish_output(args.out, "curves")


def _write_beyond(args):
    """``beyond_curves.csv``: order-5 and mapped-g=0 curves for every (zhat, g)."""
    import numpy as np

    from rnn_theory.numerics.infra.io import write_csv
    from rnn_theory.numerics.reproduce.beyond_paper import beyond_curves
    from rnn_theory.numerics.reproduce.schuessler_linear import LR0

    cols = {k: [] for k in ("zhat", "g", "source", "tau", "tau_tilde", "z", "loss", "s1", "s2")}
    for zh in args.zhat:
        for g in args.g:
            tt = np.linspace(0, LR0.get(float(zh), 0.003) * args.steps, 401)
            for src, cur in beyond_curves(float(g), float(zh), tt).items():
                for k, v in (("zhat", zh), ("g", g), ("source", src)):
                    cols[k].extend([v] * tt.size)
                for k in ("tau", "tau_tilde", "z", "loss", "s1", "s2"):
                    cols[k].extend(cur[k].tolist())
    return write_csv(Path(args.out) / "beyond_curves.csv", cols)


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
