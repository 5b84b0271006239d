r"""Shared sympy symbols of the linear-RNN derivations and the validation of numeric inputs.

:data:`g` (gain) and :data:`beta` (:math:`\beta = 1/(1-g^2)`) are those of
:mod:`rnn_theory.theory.random_matrix`; :data:`tau` is gradient-flow time
:math:`\tau = \eta\cdot\text{steps}`, :data:`tau_t` the effective time
:math:`\tilde\tau = \beta^2\tau`, :data:`zhat` the target, :data:`z0` the initial readout and
:data:`p_w`, :data:`p_m` the squared norms :math:`\|w\|^2`, :math:`\|m\|^2` (with
:math:`p_w p_m = 1`).

>>> beta, tau_t
(beta, tautilde)
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .. import random_matrix as rm
from ..errors import DomainError, check_finite, check_gain, check_real

__all__ = ["g", "beta", "tau", "tau_t", "zhat", "z0", "p_w", "p_m"]

g = rm.g
beta = rm.beta_sym
tau = sp.Symbol("tau", nonnegative=True)
tau_t = sp.Symbol("tautilde", nonnegative=True)  # effective time beta^2 tau (LaTeX: \tilde\tau)
zhat = sp.Symbol("zhat", positive=True)  # target; odd/even symmetry handles zhat < 0
z0 = sp.Symbol("z_0", real=True)
p_w, p_m = sp.symbols("p_w p_m", positive=True)  # |w|^2, |m|^2 (with p_w p_m = 1)

_BETA_OF_G = rm.phi("BT")  # beta = phi(B B^T) = 1/(1 - g^2), from the moment rules


# ============================================================================ input checks
def _gain(gv):
    """A symbolic gain passes through; a number is checked (0 <= g < 1) and made a float."""
    if isinstance(gv, sp.Basic) and not gv.is_number:
        return gv
    check_gain(gv)
    return float(gv)


def _zhat(zv):
    """The target as a finite real float."""
    return check_real("zhat", zv)


def _tau(tv, name="tau"):
    """Learning times as a finite, non-negative float array."""
    arr = check_finite(name, np.asarray(tv, dtype=float))
    if np.any(arr < 0):
        raise DomainError(f"{name} must be >= 0 (learning time starts at 0); got min {arr.min()!r}")
    return arr
