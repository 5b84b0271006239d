"""Reproduce a paper figure's data: ``rnn-theory reproduce NAME --out DIR [--quick]``.

Each NAME maps to a function ``fn(out: Path, *, quick: bool, seed: int, workers: int | None,
show_progress: bool) -> list[Path]`` that writes one CSV per panel (long format, header
row) and, when matplotlib is installed (``[plot]`` extra), PNGs.  Runs are saved in
``DIR/runs`` and skipped when rerun, so an interrupted reproduction resumes.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from rnn_theory.theory.errors import RNNTheoryError

from rnn_theory.numerics.infra.plotting import add_format_argument, figure_formats

# name -> (module, function, one-line description)
TARGETS = {
    "schuessler-fig1": ("rnn_theory.numerics.reproduce.schuessler_nonlinear", "fig1",
                        "per task: loss, singular values of dW, truncation loss (g = 0, 0.9)"),
    "schuessler-fig2": ("rnn_theory.numerics.reproduce.schuessler_nonlinear", "fig2",
                        "against g: convergence time, ||dW||, shuffle loss, functional rank"),
    "schuessler-fig3": ("rnn_theory.numerics.reproduce.schuessler_linear", "fig3",
                        "linear task: loss and singular values vs tau-tilde, with theory"),
    "schuessler-fig4": ("rnn_theory.numerics.reproduce.schuessler_linear", "fig4",
                        "linear task: normalised tau_c, ||dW||, mean gradient, shuffle vs g"),
    "schuessler-nscaling": ("rnn_theory.numerics.reproduce.schuessler_nonlinear", "nscaling",
                            "supplement: convergence, ||dW||, ||W0||, functional rank vs N"),
    "schuessler-cosine": ("rnn_theory.numerics.reproduce.schuessler_nonlinear", "cosine",
                          "supplement: cosine generation needs random connectivity"),
    "schuessler-lstm": ("rnn_theory.numerics.reproduce.lstm", "lstm",
                        "two-layer LSTM: truncation of dW vs W, singular values"),
    "zhu-linear": ("rnn_theory.numerics.reproduce.zhu", "linear",
                   "fixed-point learning rules on the linear problem"),
    "zhu-digits": ("rnn_theory.numerics.reproduce.zhu", "digits",
                   "fixed-point learning rules on 8x8 digits ([digits] extra)"),
    "farrell-fig2": ("rnn_theory.numerics.reproduce.farrell", "fig2", "high-d input, CE: chaos, PR, accuracy"),
    "farrell-fig3": ("rnn_theory.numerics.reproduce.farrell", "fig3", "low-d input, orthogonal W_in"),
    "farrell-fig4": ("rnn_theory.numerics.reproduce.farrell", "fig4", "low-d input into two neurons"),
    "farrell-fig5": ("rnn_theory.numerics.reproduce.farrell", "fig5", "MSE loss: compression needs noise"),
}


def add_arguments(p):
    lines = "\n".join(f"  {k:17s} {v[2]}" for k, v in TARGETS.items())
    p.epilog = "figures:\n" + lines
    p.add_argument("name", choices=sorted(TARGETS), metavar="NAME", help="figure to reproduce (see below)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--quick", action="store_true", help="small, fast configuration")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--workers", type=int, default=None, help="processes for sweeps (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="silence progress output")
    add_format_argument(p)


def run(args) -> int:
    mod_name, fn_name, _ = TARGETS[args.name]
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as exc:  # pragma: no cover - packaging error
        raise RNNTheoryError(f"reproduction {args.name!r} is not available: {exc}") from exc
    args.out.mkdir(parents=True, exist_ok=True)
    with figure_formats(args.format):
        written = fn(args.out, quick=args.quick, seed=args.seed, workers=args.workers,
                     show_progress=not args.no_progress)
    for path in written:
        print(path)
    return 0
