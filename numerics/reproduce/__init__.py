"""Figure reproductions (one module per paper); see :mod:`rnn_theory.numerics.cli.commands.reproduce`."""
