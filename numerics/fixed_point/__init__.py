r"""Fixed points of recurrent rate networks, their implicit gradient and the
reparameterised learning rules of Zhu & Rosenbaum (2024).

Model (spec §2): :math:`\tau\,\dot r = -r + \tanh(W r + h)` with the static input current
:math:`h = W_x x`.  A fixed point solves

.. math:: F(r) = r - \tanh(W r + h) = 0 ,

and is stable iff every eigenvalue of :math:`G W` has real part :math:`< 1`, where
:math:`G = \operatorname{diag}(1 - r^2)` is :math:`\tanh'` at the fixed point.

Solvers (all batched over rows of ``h``, shape ``(B, N)``):

* ``"auto"`` (default) — the *stable* fixed point the dynamics reach from ``r0``
  (default :math:`r = 0`), verified stable (:mod:`~rnn_theory.numerics.fixed_point.reached`):
  the undamped map :math:`r \leftarrow \tanh(Wr + h)` (one GEMM, :math:`O(BN^2)` per
  iteration) runs while it contracts (worst residual ratio :math:`\le 0.9`), which
  certifies the points it reaches as stable; samples where it stalls relax along the
  dynamics, are polished by Newton and eigen-checked (:math:`O(N^3)` each).  Near the
  paper's initialisation (:math:`\rho = 0.5`) the map contracts at rate
  :math:`\approx\rho(GW)` and alone reaches ``tol`` (~27 GEMMs for 1e-10).
* ``"newton"`` — Newton's method with the analytic Jacobian
  :math:`I - G W` and backtracking on :math:`\|F\|`.  The Newton system is solved either
  exactly by batched LU (``linear_solver="lu"``, :math:`O(N^3)` per sample and iteration)
  or matrix-free by batched GMRES (``"gmres"``, :math:`O(kN^2)` per sample with :math:`k`
  Jacobian–vector products :math:`v - g\odot(Wv)`; inexact Newton with forcing term
  :math:`\min(1/2, \|F\|)`).  ``"auto"`` uses LU for :math:`N \le 64`, GMRES above.
  Samples that Newton fails on are retried (``fallback=True``) by Anderson acceleration
  and then by relaxing along the dynamics (Euler, :math:`dt/\tau = 0.2`) with a Newton
  polish, which finds a *stable* fixed point whenever the trajectory reaches one.
* ``"anderson"`` — Anderson acceleration (memory ``m``) of the damped map
  :math:`r \leftarrow (1-\beta) r + \beta\tanh(W r + h)`: :math:`O(N^2 + mN)` per sample
  and iteration.
* ``"damped"`` — the plain damped map (slow, robust for contractions).
* ``"euler"`` — *faithful mode*, for comparisons only: the authors' forward Euler from
  :math:`r = 0`, ``n_steps`` (500) steps of ``dt_over_tau`` (0.01), with **no**
  convergence check; the result is labelled ``converged=False`` unless the residual
  happens to meet ``tol``.

Every converging method stops when :math:`\max_i \|F(r_i)\|_\infty \le` ``tol`` and
otherwise raises :class:`~rnn_theory.theory.errors.FixedPointNotConverged` (with the residual, the
failing samples and the leading eigenvalues of :math:`W` and :math:`G_iW`); it never
returns an unconverged state.

Gradient and rules (spec §4–5), with :math:`\delta_i = R^\top(\mathrm{softmax}(z_i) -
e_{y_i})` and per-sample :math:`G_i`:

* exact implicit gradient :math:`\nabla_W L_i = G(I - W^\top G)^{-1}\delta r^\top`
  (dW1; one solve per sample, :math:`O(N^3)`),
* dW3 :math:`= [(I-WG)G\delta][(I-GW)^\top(I-GW) r]^\top`,
* dW4 :math:`= [(I-WG)\delta][(I-WG)^\top(I-WG) r]^\top`,

dW3/dW4 by matrix–vector products only: :math:`O(N^2)` per sample, formed as
:math:`\frac1B U^\top V` (one GEMM, :math:`O(BN^2)`).  Their metric forms
:math:`P\nabla Q` are available explicitly (:func:`preconditioners`, :math:`O(N^3)`) for
checks.

Modules: :mod:`~rnn_theory.numerics.fixed_point.solver` (:func:`solve_fixed_point`,
:func:`fixed_point`, :func:`linear_fixed_point`, :func:`euler_fixed_point`),
:mod:`~rnn_theory.numerics.fixed_point.kernels` (the batched Picard, Newton/LU/GMRES,
Anderson and damped iterations), :mod:`~rnn_theory.numerics.fixed_point.stability`
(:class:`FixedPoint`, :class:`StabilityReport`), :mod:`~rnn_theory.numerics.fixed_point.gradient`
(loss and implicit gradient), :mod:`~rnn_theory.numerics.fixed_point.rules` (dW1/dW3/dW4,
metric forms); all names are re-exported here.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W = 0.5 * rng.standard_normal((20, 20)) / np.sqrt(20)
>>> h = rng.standard_normal((4, 20))
>>> fp = solve_fixed_point(W, h, tol=1e-12)
>>> bool(fp.converged), bool(np.abs(fp.r - np.tanh(fp.r @ W.T + h)).max() <= 1e-12)
(True, True)
"""
from __future__ import annotations

import numpy as np  # noqa: F401  (used by the examples above)

from rnn_theory.theory.errors import (  # noqa: F401  (importable from here before the split)
    DomainError,
    FixedPointNotConverged,
    ShapeError,
    UnstableError,
    check_finite,
)
from rnn_theory.numerics.rate.analysis import max_real_eig  # noqa: F401  (public here too)
from rnn_theory.numerics.fixed_point._validation import _as_batch, _as_weights  # noqa: F401
from rnn_theory.numerics.fixed_point.stability import FixedPoint, StabilityReport, stability_report
from rnn_theory.numerics.fixed_point.kernels import (  # noqa: F401
    _anderson,
    _damped,
    _gmres,
    _lu_solve,
    _newton,
    _picard,
    _residual,
)
from rnn_theory.numerics.fixed_point.solver import (  # noqa: F401
    _METHODS,
    _rescue,
    euler_fixed_point,
    fixed_point,
    linear_fixed_point,
    solve_fixed_point,
)
from rnn_theory.numerics.fixed_point.gradient import (
    backprop_fixed_point,
    cross_entropy,
    implicit_gradient,
    output_error,
    softmax,
)
from rnn_theory.numerics.fixed_point.rules import (
    RULES,
    metric_inner,
    preconditioners,
    rule_factors,
    update_direction,
)

__all__ = [
    "FixedPoint",
    "StabilityReport",
    "solve_fixed_point",
    "fixed_point",
    "linear_fixed_point",
    "stability_report",
    "max_real_eig",
    "softmax",
    "cross_entropy",
    "output_error",
    "implicit_gradient",
    "backprop_fixed_point",
    "rule_factors",
    "update_direction",
    "preconditioners",
    "metric_inner",
    "RULES",
]
