"""Public path ``rnn_theory.numerics.train`` (see DESIGN): the rate-RNN family's
:mod:`rnn_theory.numerics.rate.train`, re-exported unchanged."""
from rnn_theory.numerics.rate.train import *  # noqa: F401,F403
from rnn_theory.numerics.rate.train import __all__  # noqa: F401
