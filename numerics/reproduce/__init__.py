"""Figure reproductions (one module per paper); see :mod:`numerics.commands.reproduce`."""
