"""Modules whose ``derivations()`` make up ``rnn-theory derive`` (in printing order).

A module that does not exist yet (``ImportError`` naming that very module) is skipped;
any other import error propagates, so a broken module is never silently hidden.
"""
from __future__ import annotations

import importlib

__all__ = ["MODULES", "available_modules", "all_derivations"]

MODULES = ["rnn_theory.theory.linear", "rnn_theory.theory.random_matrix", "rnn_theory.theory.exact_g0", "rnn_theory.theory.fixed_point_metric"]


def available_modules(modules=None) -> list:
    """Import each module of ``modules`` (default :data:`MODULES`); skip only missing ones.

    >>> [m.__name__ for m in available_modules(["rnn_theory.theory.random_matrix", "rnn_theory.theory.does_not_exist"])]
    ['rnn_theory.theory.random_matrix']
    """
    out = []
    for name in modules or MODULES:
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return out


def all_derivations(modules=None) -> list:
    """``(module name, Derivation)`` pairs of every available module, in order."""
    return [(mod.__name__, d) for mod in available_modules(modules) for d in mod.derivations()]


BEGIN = "<!-- BEGIN GENERATED: python -m rnn_theory.theory.registry --markdown -->"
END = "<!-- END GENERATED -->"


def markdown(modules=None) -> str:
    """Markdown listing of every derivation: key, statement, LaTeX result, checks."""
    lines = []
    for mod, d in all_derivations(modules):
        lines.append(f"### `{d.key}` ({mod})")
        lines.append("")
        lines.append(d.statement)
        lines.append("")
        lines.append("$$")
        lines.append(d.latex())
        lines.append("$$")
        lines.append("")
        for c in d.checks:
            lines.append(f"- {'✓' if c.passed else '✗'} {c.description}")
        lines.append("")
    return "\n".join(lines)


def update_doc(path, modules=None) -> None:
    """Replace the generated block of ``path`` (between the BEGIN/END markers)."""
    from pathlib import Path

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    i, j = text.index(BEGIN), text.index(END)
    p.write_text(text[: i + len(BEGIN)] + "\n\n" + markdown(modules) + "\n" + text[j:], encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    import sys

    mods = ["rnn_theory.theory.linear", "rnn_theory.theory.random_matrix", "rnn_theory.theory.exact_g0"]
    if "--update" in sys.argv:
        update_doc(sys.argv[sys.argv.index("--update") + 1], mods)
    else:
        print(markdown(mods))
