"""Symbolic (sympy) derivations of learning in recurrent networks.

``theory`` never imports :mod:`numerics`: data flows one way, theory -> numerics.
Every closed form is derived by sympy and can be printed as LaTeX and evaluated
numerically with numpy or mpmath.
"""
from .errors import RNNTheoryError

__all__ = ["RNNTheoryError"]
