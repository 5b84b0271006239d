"""Re-export of the package's exception family (defined in :mod:`rnn_theory.theory.errors`)."""
from rnn_theory.theory.errors import (  # noqa: F401
    DomainError,
    FixedPointNotConverged,
    NoStableFixedPoint,
    NonFiniteError,
    RNNTheoryError,
    ShapeError,
    TrainingDivergedError,
    UnstableError,
    check_finite,
    check_gain,
    check_positive,
    check_shape,
)

__all__ = [
    "DomainError",
    "FixedPointNotConverged",
    "NoStableFixedPoint",
    "NonFiniteError",
    "RNNTheoryError",
    "ShapeError",
    "TrainingDivergedError",
    "UnstableError",
    "check_finite",
    "check_gain",
    "check_positive",
    "check_shape",
]
