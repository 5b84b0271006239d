"""B1/B2 at order 7, for ``rnn-theory derive --module rnn_theory.theory.scaling_order7``.

Kept out of the default ``derive`` (which runs order 5 in :mod:`rnn_theory.theory.scaling`)
because it costs several seconds more; see ``docs/beyond_the_paper.md`` for the timings.
"""
from __future__ import annotations

__all__ = ["derivations"]


def derivations() -> list:
    """:func:`rnn_theory.theory.scaling.derivations` at ``order = 7``."""
    from .scaling import derivations as _derivations

    return _derivations(7)
