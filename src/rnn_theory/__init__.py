"""rnn-theory: symbolic derivations and NumPy simulations of learning in recurrent networks.

The two halves live in :mod:`rnn_theory.theory` (sympy derivations) and
:mod:`rnn_theory.numerics` (simulations that check them). In the repository they are the
top-level folders ``theory/`` and ``numerics/``; the installer maps them under this
namespace (setuptools ``package_dir``) so that a user's own ``theory.py`` or
``numerics/`` never shadows them.

>>> import rnn_theory
>>> isinstance(rnn_theory.__version__, str)
True
"""
__version__ = "0.2.0"

__all__ = ["__version__"]
