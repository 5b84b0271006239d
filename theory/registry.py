"""Modules whose ``derivations()`` make up ``rnn-theory derive`` (in printing order).

Three sources, printed in this order:

1. the package's own modules, :data:`MODULES` (a module that does not exist yet —
   ``ImportError`` naming that very module — is skipped; any other import error
   propagates, so a broken module is never silently hidden);
2. modules that installed packages register under the entry-point group
   :data:`ENTRY_POINT_GROUP` (``[options.entry_points]`` ``rnn_theory.derivations =
   mytheory = mypkg.mytheory`` in their setup.cfg);
3. a user's own modules named on the command line (``derive --module NAME``), by dotted
   name (importable from the current directory) or by the path of a ``.py`` file.

Each must expose ``derivations() -> list[Derivation]``
(:class:`rnn_theory.theory.derivation.Derivation`).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib import metadata
from pathlib import Path

from .derivation import Derivation
from .errors import RNNTheoryError

__all__ = ["MODULES", "ENTRY_POINT_GROUP", "available_modules", "all_derivations",
           "registered_modules", "load_user_module"]

ENTRY_POINT_GROUP = "rnn_theory.derivations"

MODULES = ["rnn_theory.theory.linear", "rnn_theory.theory.random_matrix", "rnn_theory.theory.exact_g0",
           "rnn_theory.theory.exact_g0_eigen", "rnn_theory.theory.fixed_point_metric", "rnn_theory.theory.scaling",
           "rnn_theory.theory.outlier"]


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


def registered_modules(group: str = ENTRY_POINT_GROUP) -> list:
    """Module names that installed packages register under the entry-point ``group``."""
    return [ep.value.split(":")[0] for ep in metadata.entry_points(group=group)]


def load_user_module(name: str, attribute: str = "derivations"):
    """Import a user's module by dotted ``name`` (the current directory comes first on
    ``sys.path``, as for ``python -m``) or by the path of a ``.py`` file, and check that it
    has a callable ``attribute``; any failure is one :class:`RNNTheoryError` naming it."""
    path = Path(name)
    try:
        if path.suffix == ".py":
            if not path.is_file():
                raise RNNTheoryError(f"--module {name}: no such file")
            spec = importlib.util.spec_from_file_location(f"_rnn_theory_user_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            sys.path.insert(0, str(Path.cwd()))
            try:
                module = importlib.import_module(name)
            finally:
                sys.path.remove(str(Path.cwd()))
    except RNNTheoryError:
        raise
    except ModuleNotFoundError as exc:
        raise RNNTheoryError(f"--module {name}: cannot import it ({exc}); give a module importable from "
                             "the current directory or the path of a .py file") from exc
    except Exception as exc:  # the user's module raised while importing
        raise RNNTheoryError(f"--module {name}: importing it raised {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(module, attribute, None)):
        raise RNNTheoryError(f"--module {name}: it has no function {attribute}() "
                             f"(see docs/own_derivations.md for the protocol)")
    return module


def all_derivations(modules=None, user_modules=(), registered: bool = True) -> list:
    """``(module name, Derivation)`` pairs of the package's modules (or ``modules``), the
    modules registered by installed packages (when ``registered``), and ``user_modules``."""
    mods = available_modules(modules)
    if registered and modules is None:
        mods += [load_user_module(n) for n in registered_modules()]
    mods += [load_user_module(n) for n in user_modules]
    out = []
    for mod in mods:
        name = getattr(mod, "__name__", "?").removeprefix("_rnn_theory_user_")
        items = mod.derivations()
        if not isinstance(items, (list, tuple)):
            raise RNNTheoryError(f"{name}.derivations() returned {type(items).__name__}, not a list of Derivation")
        bad = [type(d).__name__ for d in items if not isinstance(d, Derivation)]
        if bad:
            raise RNNTheoryError(f"{name}.derivations() must return Derivation objects, got {bad[0]}")
        out += [(name, d) for d in items]
    return out


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

    mods = ["rnn_theory.theory.linear", "rnn_theory.theory.random_matrix", "rnn_theory.theory.exact_g0",
            "rnn_theory.theory.exact_g0_eigen"]
    if "--update" in sys.argv:
        update_doc(sys.argv[sys.argv.index("--update") + 1], mods)
    else:
        print(markdown(mods))
