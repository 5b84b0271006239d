"""The ``rnn-theory`` command.

Sub-commands live in :mod:`rnn_theory.numerics.cli.commands` (one module each, exposing
``add_arguments(parser)`` and ``run(args) -> int``); heavy imports happen inside
``run`` so that ``rnn-theory --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from rnn_theory import __version__
from rnn_theory.theory.errors import RNNTheoryError

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except RNNTheoryError as exc:
        print(f"rnn-theory {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished runs are saved and will be skipped on rerun", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
