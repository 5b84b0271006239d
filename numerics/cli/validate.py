"""Argument types of the ``rnn-theory`` command: every bad value is one line naming the range.

Each factory returns an ``argparse`` ``type=`` callable; a bad value raises
:class:`argparse.ArgumentTypeError`, which the parser (:class:`Parser`) prints as the single
line ``rnn-theory CMD: error: argument --g: must be a finite number >= 0, got 'nan'``
with exit status 2.

>>> gain()("0.9"), ints(minimum=0)("0,1,2"), positive_int()("3")
(0.9, [0, 1, 2], 3)
>>> gain()("-1")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be a finite number >= 0, got '-1'
"""
from __future__ import annotations

import argparse
import math

__all__ = ["Parser", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_DIVERGED", "EXIT_INTERRUPTED", "EXIT_TERMINATED",
           "integer", "positive_int", "real", "gain", "positive_real", "ints", "reals", "names"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 3, 130, 143


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def integer(minimum: int | None = None, maximum: int | None = None):
    """An integer in ``[minimum, maximum]`` (either bound optional)."""
    rng = _range_text(minimum, maximum, "an integer")

    def parse(text: str) -> int:
        try:
            v = int(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be {rng}, got {text!r}") from None
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            raise argparse.ArgumentTypeError(f"must be {rng}, got {text!r}")
        return v
    parse.__name__ = "integer"
    return parse


def positive_int():
    """An integer >= 1."""
    return integer(1)


def _range_text(lo, hi, kind, lo_open=False):
    if lo is not None and hi is not None:
        return f"{kind} in {'(' if lo_open else '['}{lo:g}, {hi:g}]"
    if lo is not None:
        return f"{kind} {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{kind} <= {hi:g}"
    return kind


def real(minimum: float | None = None, maximum: float | None = None, *, open_min: bool = False):
    """A finite float in ``[minimum, maximum]`` (``open_min``: strictly above ``minimum``)."""
    rng = _range_text(minimum, maximum, "a finite number", open_min)

    def parse(text: str) -> float:
        try:
            v = float(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be {rng}, got {text!r}") from None
        bad = not math.isfinite(v) or (minimum is not None and (v <= minimum if open_min else v < minimum)) \
            or (maximum is not None and v > maximum)
        if bad:
            raise argparse.ArgumentTypeError(f"must be {rng}, got {text!r}")
        return v
    parse.__name__ = "number"
    return parse


def gain():
    """A gain g: finite and >= 0."""
    return real(0.0)


def positive_real():
    """A finite number > 0 (learning rates, targets)."""
    return real(0.0, open_min=True)


def _listed(item, what):
    def parse(text: str) -> list:
        parts = [p.strip() for p in text.split(",")]
        if not parts or any(not p for p in parts):
            raise argparse.ArgumentTypeError(f"must be a comma-separated list of {what}, got {text!r}")
        try:
            return [item(p) for p in parts]
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"every entry {exc}") from None
    parse.__name__ = "list"
    return parse


def ints(minimum: int | None = None, maximum: int | None = None):
    """A comma-separated list of integers in range (at least one)."""
    return _listed(integer(minimum, maximum), "integers")


def reals(minimum: float | None = None, maximum: float | None = None, *, open_min: bool = False):
    """A comma-separated list of finite numbers in range (at least one)."""
    return _listed(real(minimum, maximum, open_min=open_min), "numbers")


def names(choices):
    """A comma-separated list of names from ``choices``."""
    choices = list(choices)

    def parse(text: str) -> list:
        items = [p.strip() for p in text.split(",") if p.strip()]
        bad = [p for p in items if p not in choices]
        if not items or bad:
            raise argparse.ArgumentTypeError(f"must be a comma-separated list from {','.join(choices)}, "
                                             f"got {text!r}")
        return items
    parse.__name__ = "names"
    return parse
