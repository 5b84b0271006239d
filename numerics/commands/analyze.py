"""PLACEHOLDER for `rnn-theory analyze` (to be replaced by its owner)."""
from theory.errors import RNNTheoryError


def add_arguments(p):
    pass


def run(args) -> int:
    raise RNNTheoryError("rnn-theory analyze is not implemented yet")
