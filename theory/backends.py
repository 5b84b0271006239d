"""Numeric back-ends for derived closed forms: numpy (float64) and mpmath (any precision).

One closed form is written once (a sympy expression) and evaluated by either back-end.
Floats inside an expression are first converted to exact ``Rational`` numbers, so that
``lambdify`` never bakes a rounded float64 constant into an mpmath function (a float
constant would silently cap an mpmath evaluation at ~16 digits).

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> f = numpy_function([x], x / 3)
>>> float(f(1.0))
0.3333333333333333
>>> import mpmath
>>> with mpmath.workdps(30):
...     print(mpmath_function([x], x / 3)(1))
0.333333333333333333333333333333
"""
from __future__ import annotations

from typing import Sequence

import sympy as sp

__all__ = ["rationalize", "numpy_function", "mpmath_function", "evaluate"]


def rationalize(expr):
    """Replace every Float in ``expr`` by the exact Rational it denotes.

    >>> rationalize(sp.Float(0.5) * sp.Symbol("x"))
    x/2
    """
    expr = sp.sympify(expr)
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sp.Rational(f) for f in floats})


def numpy_function(args: Sequence[sp.Symbol], expr):
    """``lambdify`` ``expr`` (after :func:`rationalize`) for numpy arrays (float64).

    Cost: one sympy code-generation pass; the returned function is vectorised.
    """
    return sp.lambdify(list(args), rationalize(expr), modules="numpy")


def mpmath_function(args: Sequence[sp.Symbol], expr):
    """``lambdify`` ``expr`` (after :func:`rationalize`) for mpmath numbers.

    Rationals are printed as ``mpf(p)/mpf(q)``, so the result carries the working
    precision of the current ``mpmath.mp`` context.
    """
    return sp.lambdify(list(args), rationalize(expr), modules="mpmath")


def evaluate(expr, values: dict, *, backend: str = "numpy", dps: int | None = None):
    """Evaluate ``expr`` at ``values`` (symbol -> number) with the chosen back-end.

    >>> x = sp.Symbol("x")
    >>> evaluate(1 / (1 - x**2), {x: 0.5})
    1.3333333333333333
    >>> import mpmath
    >>> with mpmath.workdps(25):
    ...     print(evaluate(1 / (1 - x**2), {x: sp.Rational(1, 2)}, backend="mpmath"))
    1.333333333333333333333333
    """
    syms = list(values)
    if backend == "numpy":
        return numpy_function(syms, expr)(*values.values())
    if backend == "mpmath":
        import mpmath

        with mpmath.workdps(dps or mpmath.mp.dps):
            vals = [mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q if isinstance(v, sp.Rational)
                    else mpmath.mpf(v) for v in values.values()]
            return mpmath_function(syms, expr)(*vals)
    raise ValueError(f"backend must be 'numpy' or 'mpmath', got {backend!r}")
