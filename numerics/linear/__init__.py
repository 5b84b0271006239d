r"""Linear rate RNN learning one fixed point: simulation, gradients and fast training.

This is the numerical side of the linear theory (spec ``linear_theory.md``, R1–R8;
Schuessler et al., NeurIPS 2020).  The network

.. math::
    x_{t+1} = (1 - \Delta t)\,x_t + \Delta t\,(W x_t + m\,u_t), \qquad x_0 = 0,
    \qquad z_t = w^\top x_{t+1},

with :math:`\Delta t = 0.5`, input :math:`u_t = 0` for the first :math:`1/\Delta t = 2`
steps and 1 afterwards, is read out on the last two of :math:`t_{max}/\Delta t = 202`
steps, where it sits at its fixed point :math:`x^* = B_W m`, :math:`B_W = (I - W)^{-1}`.
The loss is :math:`L = \tfrac12 \overline{(\hat z - z_t)^2} = \tfrac12 \varepsilon^2`.

Objects are named as in the paper: ``W0`` :math:`= gJ` with
:math:`J_{ij} \sim \mathcal N(0, 1/N)`, ``m`` with :math:`\|m\| = \sqrt N` exactly,
``w`` with :math:`\|w\| = 1/\sqrt N` exactly, ``dW`` :math:`= \Delta W`,
:math:`u_W = B_W^\top w`, :math:`v_W = B_W m`, the gain :math:`G = \|u_W\|^2\|v_W\|^2`,
learning time :math:`\tau = \eta\cdot\text{steps}` and effective time
:math:`\tilde\tau = \tau/(1-g^2)^2`.

Two gradients are provided and agree to round-off for a stable :math:`W` (R1):

* :func:`bptt_gradient` — backpropagation through the Euler trajectory, cost
  :math:`O(T N^2)` (``T`` matrix–vector products forward and backward, then *one* GEMM
  over all time steps for the weight gradient);
* :func:`fixed_point_gradient` — :math:`\partial L/\partial W = -\varepsilon\,u_W v_W^\top`,
  cost :math:`O(N^3)` for the two solves (or :math:`O(N^2)` given :math:`B_W`).

:func:`train_linear` trains W by full-batch gradient descent with
:math:`\eta = \mathrm{lr}_0 (1-g^2)^2`.  Each step changes W by the rank-one matrix
:math:`\eta\varepsilon\,u v^\top`, so :math:`B_W` is kept up to date with
Sherman–Morrison updates (:math:`O(N^2)` per step instead of an :math:`O(N^3)` solve).

Modules (one concept each; every name below is importable from this package):

* :mod:`~rnn_theory.numerics.linear.task` — :class:`EulerTask`, the time grid and mask;
* :mod:`~rnn_theory.numerics.linear.network` — :func:`draw_network`, :func:`normalise_inputs`
  and the argument checks;
* :mod:`~rnn_theory.numerics.linear.euler` — Euler readout, loss and BPTT gradient;
* :mod:`~rnn_theory.numerics.linear.fixed_point` — fixed-point readout and gradient;
* :mod:`~rnn_theory.numerics.linear.lowrank` — :class:`LowRankSum` (singular values of ΔW);
* :mod:`~rnn_theory.numerics.linear.sherman_morrison` — the rank-one inverse updates of :math:`B_W`;
* :mod:`~rnn_theory.numerics.linear.steppers` — one GD step per method;
* :mod:`~rnn_theory.numerics.linear.history` — per-step records during a run;
* :mod:`~rnn_theory.numerics.linear.result` — :class:`LinearTrainingResult`;
* :mod:`~rnn_theory.numerics.linear.training` — :func:`train_fixed_point`, :func:`train_linear`;
* :mod:`~rnn_theory.numerics.linear.shuffle` — :func:`shuffle_test` (R7).
"""
from __future__ import annotations

from rnn_theory.numerics.linear.euler import _trajectory, bptt_gradient, euler_loss, euler_readout  # noqa: F401
from rnn_theory.numerics.linear.fixed_point import fixed_point_gradient, fixed_point_readout
from rnn_theory.numerics.linear.lowrank import LowRankSum
from rnn_theory.numerics.linear.network import (  # noqa: F401  (private checks kept importable here)
    _check_g,
    _check_n,
    _check_real,
    _check_rng,
    _check_system,
    _require_stable,
    draw_network,
    normalise_inputs,
)
from rnn_theory.numerics.linear.result import LinearTrainingResult
from rnn_theory.numerics.linear.sherman_morrison import (  # noqa: F401
    _both_products,
    _det_sign,
    _inverse_transpose_from_lu,
)
from rnn_theory.numerics.linear.shuffle import ShuffleResult, shuffle_test
from rnn_theory.numerics.linear.task import DEFAULT_TASK, EulerTask  # noqa: F401
from rnn_theory.numerics.linear.training import train_fixed_point, train_linear
from rnn_theory.numerics.rate.analysis import max_real_eig  # noqa: F401  (public here too)

__all__ = [
    "EulerTask",
    "LowRankSum",
    "LinearTrainingResult",
    "ShuffleResult",
    "draw_network",
    "normalise_inputs",
    "euler_readout",
    "euler_loss",
    "bptt_gradient",
    "fixed_point_gradient",
    "fixed_point_readout",
    "max_real_eig",
    "shuffle_test",
    "train_fixed_point",
    "train_linear",
]
