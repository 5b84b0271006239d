"""Sub-commands of ``rnn-theory`` (one module each: ``add_arguments``, ``run``)."""
