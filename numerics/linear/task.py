r"""The time grid of the fixed-point task: Euler step, trial length, input and loss mask.

:class:`EulerTask` describes the trial of spec section 3 (input 0 for :math:`1/\Delta t` steps,
then 1; target on the last ``n_target`` steps); :data:`DEFAULT_TASK` is the paper's
(:math:`\Delta t = 0.5`, :math:`t_{max} = 101`, 202 steps).  Building the arrays costs
:math:`O(T)`.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from rnn_theory.theory.errors import DomainError, check_positive

__all__ = ["EulerTask", "DEFAULT_TASK"]


@dataclass(frozen=True)
class EulerTask:
    r"""Time grid of the fixed-point task (spec section 3).

    Parameters
    ----------
    dt : float
        Euler step (0.5 in the paper).
    t_max : float
        Trial length in time units; ``n_steps = round(t_max/dt)`` (101 → 202 steps;
        the divergence scenario uses 201 → 402).
    n_target : int
        Number of final steps on which the target applies (2: "readout at T = 100").

    >>> task = EulerTask()
    >>> task.n_steps, int(task.inputs().sum()), task.mask().nonzero()[0].tolist()
    (202, 200, [200, 201])
    """

    dt: float = 0.5
    t_max: float = 101.0
    n_target: int = 2

    def __post_init__(self):
        check_positive("dt", self.dt)
        check_positive("t_max", self.t_max)
        if not (0 < self.dt <= 1):
            raise DomainError(f"dt must lie in (0, 1] for this Euler scheme, got {self.dt}")
        if not isinstance(self.n_target, numbers.Integral) or self.n_target < 1:
            raise DomainError(f"n_target must be a positive integer, got {self.n_target!r}")
        if self.n_target > self.n_steps - int(1 / self.dt):
            raise DomainError(
                f"t_max = {self.t_max} gives only {self.n_steps} steps; need more than "
                f"{int(1 / self.dt)} silent steps plus n_target = {self.n_target} readout steps"
            )

    @property
    def n_steps(self) -> int:
        """Number of Euler steps ``T = round(t_max / dt)``."""
        return int(round(self.t_max / self.dt))

    def inputs(self) -> np.ndarray:
        """Input ``u_t`` (length ``T``): 0 for the first ``int(1/dt)`` steps, then 1."""
        u = np.ones(self.n_steps)
        u[: int(1 / self.dt)] = 0.0
        return u

    def mask(self) -> np.ndarray:
        """Loss mask (length ``T``): 1 on the last ``n_target`` steps, 0 elsewhere."""
        mk = np.zeros(self.n_steps)
        mk[-self.n_target:] = 1.0
        return mk


DEFAULT_TASK = EulerTask()
