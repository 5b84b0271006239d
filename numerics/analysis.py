"""Public path ``rnn_theory.numerics.analysis`` (see DESIGN): the rate-RNN family's
:mod:`rnn_theory.numerics.rate.analysis`, re-exported unchanged."""
from rnn_theory.numerics.rate.analysis import *  # noqa: F401,F403
from rnn_theory.numerics.rate.analysis import __all__  # noqa: F401
