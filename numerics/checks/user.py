r"""A user's own rows in ``rnn-theory check``: the ``--module`` protocol.

A module takes part in the check table when it defines

.. code-block:: python

    def checks(quick: bool) -> list:
        ...  # simulate, then compare with a closed form
        return [compare("my law at g = 0.5", theory, samples, note="...")]

returning :class:`rnn_theory.numerics.testing.Comparison` objects (built with
:func:`~rnn_theory.numerics.testing.compare` or
:func:`~rnn_theory.numerics.testing.compare_to_simulation`, whose tolerance is the
Student-t bound :math:`t_{1-\alpha/2,n-1}\,s/\sqrt n` plus any named systematic allowance)
or :class:`~rnn_theory.numerics.checks.report.CheckRow` objects. ``quick`` asks for the
small version. Name the module with ``rnn-theory check --module NAME`` (a dotted name
importable from the current directory, or a ``.py`` path), or register it from an
installed package under the entry-point group :data:`ENTRY_POINT_GROUP`. A module whose
``checks`` raises is one failed row with the message; its rows count in the exit status
like the package's own. Worked example: ``docs/own_derivations.md``.
"""
from __future__ import annotations

from pathlib import Path

from rnn_theory.numerics.checks.report import CheckRow
from rnn_theory.numerics.testing import Comparison
from rnn_theory.theory.errors import RNNTheoryError
from rnn_theory.theory.registry import load_user_module, registered_modules

__all__ = ["ENTRY_POINT_GROUP", "module_label", "user_check_modules", "user_rows"]

ENTRY_POINT_GROUP = "rnn_theory.checks"


def user_check_modules(names=(), registered: bool = True) -> list:
    """Import the modules named in ``names`` (and, if ``registered``, those of installed
    packages' entry points) and check that each has ``checks()``."""
    all_names = (registered_modules(ENTRY_POINT_GROUP) if registered else []) + list(names)
    return [(module_label(n), load_user_module(n, attribute="checks")) for n in all_names]


def module_label(name: str) -> str:
    """The name a user module's rows carry: the file's stem for a ``.py`` path."""
    return Path(name).stem if name.endswith(".py") else name


def _as_row(check: str, item) -> CheckRow:
    if isinstance(item, CheckRow):
        return item
    if isinstance(item, Comparison):
        return CheckRow(check, item.name, item.theory, item.simulated, item.tolerance, item.passed,
                        item.note, item.statistical, item.systematic, item.n_samples)
    raise RNNTheoryError(f"{check}.checks() returned a {type(item).__name__}; expected Comparison "
                         "(rnn_theory.numerics.testing.compare) or CheckRow objects")


def user_rows(name: str, module, quick: bool) -> list:
    """Run ``module.checks(quick)`` and return its rows as :class:`CheckRow` (check name
    ``name``); an exception becomes one failed row carrying the message."""
    try:
        items = module.checks(quick)
        if not isinstance(items, (list, tuple)):
            raise RNNTheoryError(f"{name}.checks() returned {type(items).__name__}, not a list")
        return [_as_row(name, item) for item in items]
    except Exception as exc:  # reported as a failure, never hidden
        return [CheckRow(name, "check raised an exception", float("nan"), float("nan"), float("nan"), False,
                         f"{type(exc).__name__}: {exc}")]
