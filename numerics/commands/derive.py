"""PLACEHOLDER for `rnn-theory derive` (to be replaced by its owner)."""
from theory.errors import RNNTheoryError


def add_arguments(p):
    pass


def run(args) -> int:
    raise RNNTheoryError("rnn-theory derive is not implemented yet")
