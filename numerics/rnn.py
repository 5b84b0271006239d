"""Public path ``rnn_theory.numerics.rnn`` (see DESIGN): the rate-RNN family's
:mod:`rnn_theory.numerics.rate.model`, re-exported unchanged."""
from rnn_theory.numerics.rate.model import *  # noqa: F401,F403
from rnn_theory.numerics.rate.model import __all__  # noqa: F401
