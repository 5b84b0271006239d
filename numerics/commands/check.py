"""PLACEHOLDER for `rnn-theory check` (to be replaced by its owner)."""
from theory.errors import RNNTheoryError


def add_arguments(p):
    pass


def run(args) -> int:
    raise RNNTheoryError("rnn-theory check is not implemented yet")
