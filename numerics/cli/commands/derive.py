"""Print every derived closed form with a one-line statement and its symbolic checks.

Exit status 1 if any check fails.  ``--latex`` prints LaTeX (one ``align``-ready line per
result); ``--only KEY`` restricts to keys starting with KEY (e.g. ``R6``).
"""
from __future__ import annotations


def add_arguments(p):
    p.add_argument("--latex", action="store_true", help="print each result as LaTeX")
    p.add_argument("--only", metavar="PREFIX", default=None,
                   help="only derivations whose key starts with PREFIX (e.g. R6)")
    p.add_argument("--quiet", action="store_true", help="print only failures and the summary")


def run(args) -> int:
    import time

    from rnn_theory.theory.registry import all_derivations

    t0 = time.perf_counter()
    items = all_derivations()
    if args.only:
        items = [(m, d) for m, d in items if d.key.startswith(args.only)]
    n_checks = n_fail = 0
    for mod, d in items:
        n_checks += len(d.checks)
        bad = [c for c in d.checks if not c.passed]
        n_fail += len(bad)
        if args.quiet and not bad:
            continue
        status = "ok" if not bad else "FAILED"
        print(f"[{d.key}] ({mod}) {d.statement}  -- {status}")
        if args.latex:
            print(f"    $$ {d.latex()} $$")
        else:
            print(f"    {d.text()}")
        for c in d.checks:
            print(f"    {'✓' if c.passed else '✗'} {c.description}")
    dt = time.perf_counter() - t0
    print(f"{len(items)} derivations, {n_checks} checks, {n_fail} failed ({dt:.1f} s)")
    return 1 if n_fail else 0
