r"""Discrete-time rate RNN: forward pass and exact backpropagation through time.

Model (forward Euler of :math:`\dot x = -x + W\phi(x) + W_{\rm in}u + b`, time constant 1)

.. math::
    x_0 &= x_0 \quad(\text{default } 0),\\
    r_t &= m_t \odot \bigl(\phi(x_t) + \sigma_{\rm act}\,\xi_t\bigr) / (1-p),
        \qquad t = 0\ldots T,\\
    x_{t+1} &= (1-\Delta t)\,x_t + \Delta t\,\bigl[W r_t + W_{\rm in} u_t + b\bigr]
        + \sqrt{\Delta t}\,\sigma_{\rm state}\,\xi'_t, \qquad t = 0\ldots T-1,\\
    z_t &= W_{\rm out}\, r_{t+1} + b_{\rm out}.

* ``m_t`` is an inverted-dropout mask (Bernoulli(1-p) entries) and :math:`\xi, \xi'`
  are standard Gaussian; all three are off by default, and then :math:`r_t=\phi(x_t)`.
* **Readout timing**: output index ``t`` reads the state *after* the update that
  consumed input ``u_t``, as in Schuessler et al. (2020), whose readout is
  :math:`W_o^\top\tanh(x_{t+1})` with :math:`W_o^\top` = ``W_out``.
* With ``dt = 1`` the map is :math:`x_{t+1} = W r_t + W_{\rm in}u_t + b`, i.e.
  :math:`h_{t+1} = \phi(W h_t + W_{\rm in} u_t + b)` for :math:`h = \phi(x)`
  (the discrete RNN of Farrell et al. 2022).
* Weights in math orientation: ``W`` (N×N) acts as ``W @ r``, ``W_in`` is N×n_in and
  ``W_out`` is n_out×N (the paper's :math:`W_o^\top`).  Trials are ``(batch, time, features)``.

Cost per trial batch of size B and length T: forward and backward each
:math:`O(B T N^2)` flops, done as T matrix products of size (B×N)·(N×N); the input
currents, the readout and all weight gradients are *one* matrix product each over all
(batch, time) pairs.  Memory :math:`O(B T N)` for the stored trajectory
(:func:`predict` needs only :math:`O(B N)`).

>>> import numpy as np
>>> net = RateRNN.init(8, 2, 1, g=0.9, rng=np.random.default_rng(0))
>>> traj = forward(net, np.ones((3, 5, 2)))
>>> traj.x.shape, traj.r.shape, traj.z.shape
((3, 6, 8), (3, 6, 8), (3, 5, 1))
>>> grads = backward(net, traj, np.ones((3, 5, 1)))
>>> sorted(grads), grads["W"].shape
(['W', 'W_in', 'W_out'], (8, 8))
"""
from __future__ import annotations

# The family is split by stage; this module keeps the historical import path (and the
# public ``rnn_theory.numerics.rnn``) working by re-exporting every name.
from rnn_theory.numerics.rate.network import (  # noqa: F401
    _FLOATS,
    PARAM_NAMES,
    PHIS,
    RateRNN,
    _as_float,
    as_params,
)
from rnn_theory.numerics.rate.dynamics import (  # noqa: F401
    Trajectory,
    _buffer,
    _check_inputs,
    _check_x0,
    _nonneg,
    forward,
    predict,
)
from rnn_theory.numerics.rate.bptt import backward  # noqa: F401

__all__ = ["RateRNN", "Trajectory", "forward", "backward", "predict", "PARAM_NAMES", "PHIS"]
