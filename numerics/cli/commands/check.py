"""Theory-vs-simulation check table of the linear theory (the package's main job).

Runs named checks (spec section 8): gradients (BPTT = fixed point = finite differences),
the moment rule and speed-up, early learning vs the third-order series, the scaling laws
over g with the shuffle law, the exact g = 0 solution, and the collapse of learning curves
against the effective time.  Each row shows the closed form's value, the simulated value,
the tolerance (statistical + named systematic allowance; see docs/check.md) and a verdict.
Exit status 0 when every check passes, 1 otherwise.  Deterministic: fixed seeds.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from rnn_theory.numerics.cli.validate import positive_int


def add_arguments(p):
    p.add_argument("--quick", action="store_true",
                   help="smaller runs (< 1 minute on 2 cores); the full mode takes a few minutes")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON to FILE")
    p.add_argument("--only", nargs="+", metavar="CHECK",
                   help="run only these checks: gradient identities moments early sweep absolute g0 stability "
                        "collapse beyond outlier, or the "
                        "name of a --module (user modules always run)")
    p.add_argument("--module", metavar="NAME", action="append", default=[],
                   help="also run a user's module exposing checks(quick) (repeatable; "
                        "see docs/own_derivations.md)")
    p.add_argument("--workers", type=positive_int(), default=None,
                   help="processes >= 1 for the multi-run checks (default: up to 2 quick, 4 full)")
    p.add_argument("--no-progress", action="store_true", help="silence progress output")
    p.add_argument("--no-notes", action="store_true", help="hide the per-check notes in the table")


def run(args) -> int:
    from rnn_theory.numerics.checks import run_checks
    from rnn_theory.numerics.checks.user import user_check_modules
    from rnn_theory.numerics.infra.io import atomic_write_text
    from rnn_theory.numerics.infra.provenance import provenance

    from rnn_theory.numerics.infra.outputs import check_file_target

    if args.json is not None:
        check_file_target(args.json)  # refuse a user's file or an unwritable folder before the work
    echo = None if args.no_progress else (lambda msg: print(msg, file=sys.stderr, flush=True))
    user = user_check_modules(args.module)  # import errors surface before any work starts
    labels = {label for label, _ in user}
    only = None if args.only is None else [n for n in args.only if n not in labels]
    report = run_checks(quick=args.quick, only=only, workers=args.workers,
                        show_progress=not args.no_progress, echo=echo, user_modules=user)
    print(report.table(notes=not args.no_notes))
    if args.json is not None:
        data = json.loads(report.to_json())
        data["provenance"] = provenance()
        atomic_write_text(args.json, json.dumps(data, indent=2))
        print(f"wrote {args.json}", file=sys.stderr)
    return 0 if report.passed else 1
