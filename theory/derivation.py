"""A derived result: the sympy object, a one-line statement and its symbolic checks.

Every theory module exposes ``derivations() -> list[Derivation]``; ``rnn-theory derive``
prints them all (``--latex`` for LaTeX) and exits non-zero if any check fails.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> d = Derivation("R0", "d/dx x^2", sp.diff(x**2, x), [Check("equals 2x", sp.simplify(sp.diff(x**2, x) - 2*x) == 0)])
>>> d.ok, d.latex()
(True, '2 x')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["Check", "Derivation"]


@dataclass(frozen=True)
class Check:
    """One symbolic verification: what was checked and whether it held."""

    description: str
    passed: bool

    def __post_init__(self):
        object.__setattr__(self, "passed", bool(self.passed))


@dataclass(frozen=True)
class Derivation:
    """A derived closed form.

    Attributes
    ----------
    key : str
        Short identifier, e.g. ``"R5.tau_c"`` (spec numbering).
    statement : str
        One line saying what was derived, with its assumptions.
    expr : sympy object, or dict of them
        The derived result.
    checks : list of Check
        Independent symbolic verifications performed while deriving.
    """

    key: str
    statement: str
    expr: Any
    checks: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    def latex(self) -> str:
        if isinstance(self.expr, dict):
            return r",\quad ".join(f"{sp.latex(sp.Symbol(k)) if isinstance(k, str) else sp.latex(k)} = {sp.latex(v)}"
                                    for k, v in self.expr.items())
        return sp.latex(self.expr)

    def text(self) -> str:
        if isinstance(self.expr, dict):
            return "; ".join(f"{k} = {sp.sstr(v)}" for k, v in self.expr.items())
        return sp.sstr(self.expr)
