r"""A derived result: the sympy object, a one-line statement and its symbolic checks.

Every theory module exposes ``derivations() -> list[Derivation]``; ``rnn-theory derive``
prints them all (``--latex`` for pasteable LaTeX) and exits non-zero if any check fails.
A user's own module with the same function joins the table with ``derive --module NAME``
(see ``docs/own_derivations.md``).

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> d = Derivation("R0", "d/dx x^2", sp.diff(x**2, x), [Check("equals 2x", sp.simplify(sp.diff(x**2, x) - 2*x) == 0)])
>>> d.ok, d.latex()
(True, '2 x')
>>> print(d.latex_block())
% [R0] d/dx x^2
%   pass: equals 2x
\begin{align}
  \text{R0} &= 2 x
\end{align}
"""
from __future__ import annotations

import re
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
    latex_names : dict, optional
        LaTeX for symbols whose plain name is not LaTeX (``{Symbol: "w^\\top B w"}``),
        passed to :func:`sympy.latex` as ``symbol_names``.
    """

    key: str
    statement: str
    expr: Any
    checks: list = field(default_factory=list)
    latex_names: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    def latex_rows(self) -> list:
        """``(left, right)`` LaTeX pairs, one per equation of :meth:`latex_block`.

        A dict ``expr`` gives one row per entry (string keys are set in ``\\text{}`` unless
        they are LaTeX already, i.e. contain a backslash); a sympy equation its two sides;
        anything else is named by the key.
        """
        tex = self._tex
        if isinstance(self.expr, dict):
            return [(_latex_key(k), tex(v)) for k, v in self.expr.items()]
        if isinstance(self.expr, sp.Equality):
            return [(tex(self.expr.lhs), tex(self.expr.rhs))]
        return [(_text(self.key), tex(self.expr))]

    def _tex(self, obj) -> str:
        return sp.latex(obj, symbol_names=self.latex_names) if self.latex_names else sp.latex(obj)

    def latex_block(self) -> str:
        """Pasteable LaTeX: the key, statement and checks as ``%`` comments, then one
        ``align`` environment (needs ``amsmath``) with one row per equation."""
        head = [f"% [{self.key}] {_one_line(self.statement)}"]
        head += [f"%   {'pass' if c.passed else 'FAIL'}: {_one_line(c.description)}" for c in self.checks]
        body = " \\\\\n".join(f"  {lhs} &= {rhs}" for lhs, rhs in self.latex_rows())
        return "\n".join(head + ["\\begin{align}", body, "\\end{align}"])

    def latex(self) -> str:
        if isinstance(self.expr, dict):
            return r",\quad ".join(f"{sp.latex(sp.Symbol(k)) if isinstance(k, str) else sp.latex(k)} = {self._tex(v)}"
                                    for k, v in self.expr.items())
        return self._tex(self.expr)

    def text(self) -> str:
        if isinstance(self.expr, dict):
            return "; ".join(f"{k} = {sp.sstr(v)}" for k, v in self.expr.items())
        return sp.sstr(self.expr)


_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#",
                 "$": r"\$", "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}"}


def _name(word: str) -> str | None:
    """LaTeX of a one-symbol name (``s2`` -> ``s_{2}``, ``tau`` -> ``\\tau``), else None."""
    tex = sp.latex(sp.Symbol(word))
    return tex if (re.fullmatch(r"[A-Za-z](_?\d+)?", word) or tex != word) else None


def _latex_key(key) -> str:
    r"""LaTeX for a result's name: ``dz/dtau`` -> ``\frac{dz}{d\tau}``, ``a(b)`` -> ``a(b)``,
    ``a*`` -> ``a^{*}``, ``s2`` -> ``s_{2}``; anything else is set as ``\text{}``."""
    if not isinstance(key, str):
        return sp.latex(key)
    if "\\" in key:
        return key
    m = re.fullmatch(r"d(\w+)/d(\w+)", key)
    if m and _name(m[1]) and _name(m[2]):
        return rf"\frac{{d{_name(m[1])}}}{{d{_name(m[2])}}}"
    m = re.fullmatch(r"(\w+)\((\w+)\)", key)
    if m and _name(m[1]) and _name(m[2]):
        return rf"{_name(m[1])}({_name(m[2])})"
    m = re.fullmatch(r"(\w+)\*", key)
    if m and _name(m[1]):
        return rf"{_name(m[1])}^{{*}}"
    m = re.fullmatch(r"det (\w+)", key)
    if m and _name(m[1]):
        return rf"\det {_name(m[1])}"
    return _name(key) or _text(key)


def _text(words: str) -> str:
    return r"\text{" + "".join(_TEXT_ESCAPES.get(ch, ch) for ch in words) + "}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
