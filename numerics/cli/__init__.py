"""The ``rnn-theory`` command.

Sub-commands live in :mod:`rnn_theory.numerics.cli.commands` (one module each, exposing
``add_arguments(parser)`` and ``run(args) -> int``); heavy imports happen inside
``run`` so that ``rnn-theory --help`` stays fast.

Exit status: 0 success; 1 a check or derivation failed; 2 bad input (one line on
stderr naming the parameter and its valid range, or the path and what to do) — nothing
was written; 3 a training run diverged (its last good state is saved, marked
``diverged: true``); 130 interrupted (finished runs are saved); 141 stdout was closed
early (e.g. ``rnn-theory derive | head``), silently.
"""
from __future__ import annotations

import importlib
import os
import sys

from rnn_theory import __version__
from rnn_theory.theory.errors import RNNTheoryError

from rnn_theory.numerics.cli.validate import EXIT_INTERRUPTED, EXIT_USAGE, Parser

COMMANDS = {
    "derive": "print every derived closed form with its symbolic checks",
    "check": "theory-vs-simulation table (the main job); exit 1 on failure",
    "curves": "write theory and simulation curves (CSV, PNG with [plot])",
    "train": "train one rate RNN on a task and save the run folder",
    "analyze": "analyse a saved run (SVD of dW, truncation, shuffle test)",
    "sweep": "resumable sweep over tasks, gains and seeds",
    "reproduce": "reproduce a paper figure's data (CSV per panel)",
    "report": "judge the papers' claims on reproduction folders (Markdown)",
}


def build_parser() -> Parser:
    import argparse

    parser = Parser(
        prog="rnn-theory",
        description="Symbolic derivations and simulations of learning in recurrent networks.",
    )
    parser.add_argument("--version", action="version", version=f"rnn-theory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, help_ in COMMANDS.items():
        mod = importlib.import_module(f"rnn_theory.numerics.cli.commands.{name}")
        p = sub.add_parser(name, help=help_, description=(mod.__doc__ or help_).strip(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error (one line, status 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    prog = f"rnn-theory {args.command}"
    try:
        code = int(args._module.run(args) or 0)
        sys.stdout.flush()  # a closed pipe surfaces here, not at interpreter exit
        return code
    except RNNTheoryError as exc:
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished runs are saved and will be skipped on rerun", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (``| head``): no traceback, and no second error at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:  # a file system problem the up-front checks could not foresee
        print(f"{prog}: error: {exc.strerror or _one_line(exc)}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
