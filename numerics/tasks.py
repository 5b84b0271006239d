"""Public path ``rnn_theory.numerics.tasks`` (see DESIGN): the rate-RNN family's
:mod:`rnn_theory.numerics.rate.tasks`, re-exported unchanged."""
from rnn_theory.numerics.rate.tasks import *  # noqa: F401,F403
from rnn_theory.numerics.rate.tasks import __all__  # noqa: F401
