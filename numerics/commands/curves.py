"""PLACEHOLDER for `rnn-theory curves` (to be replaced by its owner)."""
from theory.errors import RNNTheoryError


def add_arguments(p):
    pass


def run(args) -> int:
    raise RNNTheoryError("rnn-theory curves is not implemented yet")
