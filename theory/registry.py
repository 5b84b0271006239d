"""Modules whose ``derivations()`` make up ``rnn-theory derive`` (in printing order).

A module that does not exist yet (``ImportError`` naming that very module) is skipped;
any other import error propagates, so a broken module is never silently hidden.
"""
from __future__ import annotations

import importlib

__all__ = ["MODULES", "available_modules", "all_derivations"]

MODULES = ["theory.linear", "theory.random_matrix", "theory.exact_g0", "theory.fixed_point_metric"]


def available_modules(modules=None) -> list:
    """Import each module of ``modules`` (default :data:`MODULES`); skip only missing ones.

    >>> [m.__name__ for m in available_modules(["theory.random_matrix", "theory.does_not_exist"])]
    ['theory.random_matrix']
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
