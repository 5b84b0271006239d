"""Sphinx configuration of the rnn-theory documentation (``pip install -e .[docs]``).

Build: ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors in CI).
Pages are Markdown (MyST); mathematics is rendered by MathJax; the API reference comes
from the numpydoc docstrings (autodoc + autosummary + napoleon); the derivations
reference is generated at build time from the sympy registry (the same data as
``rnn-theory derive``, :mod:`docs._ext.rnn_docs`); the CLI reference from the argparse
parsers (sphinx-argparse); the tutorial is executed during the build (MyST-NB).
"""
import os
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

from rnn_theory import __version__  # noqa: E402

# autosummary imports every submodule; ``python -m rnn_theory.numerics`` would run the CLI on
# import, so it is replaced by a stub that autosummary skips
_main = types.ModuleType("rnn_theory.numerics.__main__")
_main.__sphinx_mock__ = True
sys.modules.setdefault("rnn_theory.numerics.__main__", _main)

project = "rnn-theory"
author = "rnn-theory developers"
copyright = "rnn-theory developers"
release = version = __version__

extensions = [
    "myst_nb",                      # Markdown (MyST) pages and executed notebooks
    "sphinx.ext.mathjax",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",          # numpydoc-style docstrings
    "sphinxarg.ext",                # CLI reference from the argparse parsers
    "rnn_docs",                     # derivations reference generated from the registry
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "data", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]

# MyST: $...$ and $$...$$ maths, amsmath environments, heading anchors for in-page links
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# MyST-NB: execute text notebooks (the tutorial) during the build; a failing cell fails it
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True

# API reference
autosummary_generate = True
autosummary_imported_members = False
# document each object once, in the module that defines it (re-exports are listed, not repeated)
autodoc_default_options = {"members": True, "show-inheritance": False, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_inherit_docstrings = False  # standard-library docstrings are not numpydoc
autodoc_mock_imports = []
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

# docstrings cite each other with roles whose targets are sometimes private or external;
# an unresolved cross-reference inside a docstring is not a build failure
nitpicky = False

html_theme = "alabaster"
html_title = f"rnn-theory {release}"
html_static_path = []
html_theme_options = {"page_width": "1180px", "sidebar_width": "250px", "fixed_sidebar": True}
mathjax3_config = {"tex": {"macros": {"tr": r"\operatorname{tr}"}}}
# Offline builds: RNN_DOCS_MATHJAX=<folder of MathJax 3's es5 build> serves MathJax from the
# site itself (e.g. the npm package's ``package/es5``); by default Sphinx's CDN URL is used.
_mathjax = os.environ.get("RNN_DOCS_MATHJAX")
if _mathjax:
    html_static_path = [_mathjax]
    mathjax_path = "tex-chtml.js"
