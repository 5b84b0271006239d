"""Run every docstring example of the *installed* package as a test.

The repository's ``theory/`` and ``numerics/`` folders install as ``rnn_theory.theory``
and ``rnn_theory.numerics``, so pytest's ``--doctest-modules`` (which imports a file by
its path) would import them under the wrong names; instead each module is imported by
its package name and its examples are run with :mod:`doctest`.
"""
import doctest
import importlib
import pkgutil

import pytest

import rnn_theory
import rnn_theory.numerics
import rnn_theory.theory

# Modules whose import needs an optional extra, or that run the CLI on import.
SKIP = {"rnn_theory.__main__", "rnn_theory.numerics.__main__"}
# Modules whose examples need an optional extra: module -> (import name, extra)
NEEDS = {"rnn_theory.numerics.infra.plotting": ("matplotlib", "plot")}


def _module_names():
    names = ["rnn_theory"]
    for pkg in (rnn_theory.theory, rnn_theory.numerics):
        names.append(pkg.__name__)
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
    return sorted(n for n in names if n not in SKIP)


# pytest's checker adds the NUMBER flag (floats compare to the precision written).
from _pytest.doctest import _get_checker, _get_number_flag  # noqa: E402

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS | _get_number_flag()


@pytest.mark.parametrize("name", _module_names())
def test_docstring_examples(name):
    if name in NEEDS:
        lib, extra = NEEDS[name]
        pytest.importorskip(lib, reason=f"optional extra [{extra}] not installed: pip install \".[{extra}]\"")
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    # verbose=False: doctest would otherwise read "-v" from pytest's command line
    runner = doctest.DocTestRunner(checker=_get_checker(), verbose=False, optionflags=FLAGS)
    report = []
    for test in finder.find(module, name):
        runner.run(test, out=report.append)
    if runner.failures:
        pytest.fail("".join(report), pytrace=False)
