"""The ``rnn-theory`` command.

Sub-commands live in :mod:`rnn_theory.numerics.cli.commands` (one module each, exposing
``add_arguments(parser)`` and ``run(args) -> int``); heavy imports happen inside
``run`` so that ``rnn-theory --help`` stays fast.

Exit status: 0 success; 1 a check or derivation failed; 2 bad input (one line on
stderr naming the parameter and its valid range, or the path and what to do) — nothing
was written; 3 a training run diverged (its last good state is saved, marked
``diverged: true``); 130 interrupted by Ctrl-C and 143 by SIGTERM (a batch system's time
limit, ``kill``) -- both stop the same way: runs in flight are cancelled, finished runs
are saved and a rerun resumes; 141 stdout was closed early (e.g. ``rnn-theory derive |
head``), silently.  A worker process that died (killed, out of memory) is one line with
status 1, the finished runs saved.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
from concurrent.futures import BrokenExecutor

from rnn_theory import __version__
from rnn_theory.theory.errors import RNNTheoryError

from rnn_theory.numerics.cli.validate import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, Parser

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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it stops a command like Ctrl-C does."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def _sigterm_stops_like_ctrl_c():
    """While a command runs, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``):
    sweeps cancel their runs in flight and keep the finished ones, ``reproduce`` logs the
    invocation.  Only in the main thread (elsewhere signals cannot be handled)."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error (one line, status 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    prog = f"rnn-theory {args.command}"
    try:
        with _sigterm_stops_like_ctrl_c():
            code = int(args._module.run(args) or 0)
        sys.stdout.flush()  # a closed pipe surfaces here, not at interpreter exit
        return code
    except RNNTheoryError as exc:
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"{prog}: {how}; finished runs are saved and will be skipped on rerun", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except BrokenExecutor as exc:
        print(f"{prog}: error: a worker process died ({_one_line(exc) or type(exc).__name__}; killed or "
              "out of memory?); finished runs are saved and will be skipped on rerun", file=sys.stderr)
        return EXIT_FAILED
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
