r"""Linear RNN trained at its fixed point: rank-one gradient, learning ODE, solutions (R1, R2, R4–R7).

Model (spec ``linear_theory.md``): readout at the fixed point
:math:`z = w^\top (I-W)^{-1} m = w^\top B_W m`, loss :math:`L = \tfrac12(\hat z - z)^2`,
:math:`W = W_0 + \Delta W`, :math:`W_0 = gJ`, :math:`\|w\|\|m\| = 1`,
:math:`u_W = B_W^\top w`, :math:`v_W = B_W m`, :math:`\varepsilon = \hat z - z`,
:math:`G = \|u_W\|^2\|v_W\|^2`, :math:`\beta = 1/(1-g^2)`.  Time :math:`\tau = \eta\cdot`steps
(gradient-flow time) and the effective time :math:`\tilde\tau = \beta^2\tau`.

Every closed form here is derived by sympy (``dsolve``, ``integrate``, ``solve``, series
solution of the flow); the spec's target formulas only appear in the checks.  Numeric
functions are the derived expressions ``lambdify``-ed on exact rationals.

Public functions: :func:`speedup`, :func:`first_order`, :func:`third_order`,
:func:`shuffle_loss_ratio`, :func:`convergence_time`, :func:`final_dw_norm`,
:func:`mean_gradient`, :func:`derivations`.

Modules, one concept each (all names are re-exported here):

- :mod:`~rnn_theory.theory.linear.symbols` — shared sympy symbols (``g``, ``beta``, ``tau``,
  ``tau_t``, ``zhat``, ``z0``, ``p_w``, ``p_m``) and input validation;
- :mod:`~rnn_theory.theory.linear.gradient` — R1, readout gradient (rank one);
- :mod:`~rnn_theory.theory.linear.identities` — R2, exact identities along the flow;
- :mod:`~rnn_theory.theory.linear.first_order` — R4 speed-up, R5 frozen-B solution and
  its scaling laws (convergence time, final ``|dW|``, mean gradient);
- :mod:`~rnn_theory.theory.linear.word_algebra` — atoms and low-rank matrices with the
  large-N inner products (the non-commutative word algebra of the τ̃-series);
- :mod:`~rnn_theory.theory.linear.picard` — Picard iteration of the flow in that algebra;
- :mod:`~rnn_theory.theory.linear.third_order` — R6, the series through third order;
- :mod:`~rnn_theory.theory.linear.higher_order` — the series to any order;
- :mod:`~rnn_theory.theory.linear.curves` — numeric curves of the series, ``curve_function``;
- :mod:`~rnn_theory.theory.linear.shuffle` — R7, the shuffle law.
"""
from __future__ import annotations

from functools import lru_cache

from .curves import curve_function, series_curves, third_order, validity_limit
from .first_order import (convergence_time, final_dw_norm, first_order, first_order_derivations,
                          first_order_solution, mean_gradient, speedup)
from .gradient import gradient_derivation, readout_gradient
from .higher_order import fifth_order_derivations, series_solution
from .identities import identities_derivation
from .shuffle import shuffle_derivation, shuffle_derivations, shuffle_loss_ratio
from .symbols import beta, g, p_m, p_w, tau, tau_t, z0, zhat
from .third_order import third_order_series

__all__ = [
    "speedup", "first_order", "third_order", "shuffle_loss_ratio", "convergence_time",
    "final_dw_norm", "mean_gradient", "first_order_solution", "third_order_series",
    "series_solution", "series_curves", "curve_function", "validity_limit", "shuffle_derivation", "gradient_derivation", "identities_derivation", "readout_gradient",
    "derivations",
]


@lru_cache(maxsize=None)
def derivations() -> list:
    """All derivations of this module (R1, R2, R4, R5, R6, R7) with their symbolic checks."""
    out = []
    out.extend(gradient_derivation())
    out.extend(identities_derivation())
    out.extend(first_order_derivations())
    out.extend(third_order_series()["derivations"])
    out.extend(fifth_order_derivations())
    out.extend(shuffle_derivations())
    return out
