"""NumPy/SciPy simulations, a torch-free trainer and analyses that check :mod:`theory`."""
from rnn_theory.theory.errors import RNNTheoryError

__all__ = ["RNNTheoryError"]
