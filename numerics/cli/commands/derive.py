"""Print every derived closed form with a one-line statement and its symbolic checks.

Exit status 1 if any check fails (the package's own or a ``--module``'s), 2 on bad input.
``--latex`` prints pasteable LaTeX: per result, its key, statement and checks as ``%``
comments and one ``align`` environment (``--standalone`` wraps everything in a complete
document that compiles with ``pdflatex``). ``--only PREFIX`` restricts to keys starting
with PREFIX (e.g. ``R6``); no match is an error. ``--module NAME`` (repeatable) adds a
user's own module exposing ``derivations()`` (a dotted name importable from the current
directory, or a ``.py`` path); modules that installed packages register under the
entry-point group ``rnn_theory.derivations`` are included too. See
``docs/own_derivations.md``.
"""
from __future__ import annotations

PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath,amssymb}
\allowdisplaybreaks
\begin{document}"""


def add_arguments(p):
    p.add_argument("--latex", action="store_true", help="print each result as pasteable LaTeX (align)")
    p.add_argument("--standalone", action="store_true",
                   help="with --latex: wrap the output in a complete LaTeX document")
    p.add_argument("--only", metavar="PREFIX", default=None,
                   help="only derivations whose key starts with PREFIX (e.g. R6); no match is an error")
    p.add_argument("--module", metavar="NAME", action="append", default=[],
                   help="also derive a user's module exposing derivations() (repeatable)")
    p.add_argument("--quiet", action="store_true", help="print only failures and the summary")


def _select(items, prefix):
    from rnn_theory.theory.errors import RNNTheoryError

    if not prefix:
        return items
    chosen = [(m, d) for m, d in items if d.key.startswith(prefix)]
    if not chosen:
        keys = sorted({d.key.split(".")[0] for _, d in items})
        raise RNNTheoryError(f"--only {prefix}: no derivation key starts with it; "
                             f"keys start with {', '.join(keys)}")
    return chosen


def _print_plain(mod, d):
    status = "ok" if d.ok else "FAILED"
    print(f"[{d.key}] ({mod}) {d.statement}  -- {status}")
    print(f"    {d.text()}")
    for c in d.checks:
        print(f"    {'✓' if c.passed else '✗'} {c.description}")


def run(args) -> int:
    import time

    from rnn_theory.theory.errors import RNNTheoryError
    from rnn_theory.theory.registry import all_derivations

    if args.standalone and not args.latex:
        raise RNNTheoryError("--standalone needs --latex")
    t0 = time.perf_counter()
    items = _select(all_derivations(user_modules=args.module), args.only)
    n_checks = sum(len(d.checks) for _, d in items)
    n_fail = sum(not c.passed for _, d in items for c in d.checks)
    if args.latex and args.standalone:
        print(PREAMBLE)
    for mod, d in items:
        if args.quiet and d.ok:
            continue
        if args.latex:
            print(f"% ({mod})" + ("" if d.ok else " FAILED"))
            print(d.latex_block() + "\n")
        else:
            _print_plain(mod, d)
    dt = time.perf_counter() - t0
    summary = f"{len(items)} derivations, {n_checks} checks, {n_fail} failed ({dt:.1f} s)"
    if args.latex:
        print(f"% {summary}")
        if args.standalone:
            print(r"\end{document}")
    else:
        print(summary)
    return 1 if n_fail else 0
