"""``python -m rnn_theory`` runs the ``rnn-theory`` command."""
import sys

from rnn_theory.numerics.cli import main

sys.exit(main())
