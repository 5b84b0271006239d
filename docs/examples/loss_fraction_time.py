r"""A user's own closed form in ``rnn-theory derive`` and ``rnn-theory check``.

The result: at first order (frozen :math:`B`, Schuessler et al. 2020, R5) the loss decays
as :math:`L(\tau) = L_0 e^{-2\beta^2\tau}`, so the effective time at which it first falls to
a fraction :math:`\varepsilon` of its initial value is

.. math:: \tilde\tau_\varepsilon = \beta^2\tau_\varepsilon = \tfrac12\ln(1/\varepsilon),

independent of :math:`g` (the package's :math:`\tau_c` is the case :math:`\varepsilon = 1/20`).

``derivations()`` derives it with sympy from the package's first-order solution (solving
:math:`L(\tau) = \varepsilon L_0` for :math:`\tau`) and checks it by substitution and
against the package's :math:`\tau_c`; ``checks(quick)`` measures
:math:`\tilde\tau_\varepsilon` in simulations of the linear RNN (``train_linear``) and
compares with the formula, with a Student-t tolerance over seeds plus a stated allowance
for the next order in :math:`\hat z`. Run::

    rnn-theory derive --module docs/examples/loss_fraction_time.py --only U1
    rnn-theory check --module docs/examples/loss_fraction_time.py --only loss_fraction_time --quick

Set ``FACTOR = 1`` below (a wrong formula, :math:`\ln(1/\varepsilon)`) to see both fail.
"""
import numpy as np
import sympy as sp

from rnn_theory.numerics.linear import train_linear
from rnn_theory.numerics.testing import compare
from rnn_theory.theory.derivation import Check, Derivation
from rnn_theory.theory.linear import beta, first_order_solution, tau

FACTOR = 2  # the 2 in L ∝ exp(-2 beta^2 tau); FACTOR = 1 is the deliberate bug of the docs
EPS = sp.Symbol("varepsilon", positive=True)


def loss_ratio_model():
    r"""The user's model of the first-order loss decay, :math:`L/L_0 = e^{-2\beta^2\tau}`."""
    return sp.exp(-FACTOR * beta**2 * tau)


def tau_tilde_eps():
    r"""Derive :math:`\tilde\tau_\varepsilon` (sympy): solve :math:`L(\tau) = \varepsilon L_0`."""
    (t_eps,) = sp.solve(sp.Eq(loss_ratio_model(), EPS), tau)
    return sp.simplify(beta**2 * t_eps)


def derivations():
    """One derived result, key ``U1.tau_eps``, with two checks against the package's R5."""
    sol = first_order_solution()
    law = tau_tilde_eps()
    # independent route: the package's dsolve-d first-order loss at the derived time
    loss_at = sp.simplify((sol["loss"] / sol["loss"].subs(tau, 0)).subs(tau, law / beta**2))
    return [Derivation(
        "U1.tau_eps", "first time with L = eps L0 at first order, in effective time beta^2 tau",
        sp.Eq(sp.Symbol("tautilde_varepsilon"), law),
        [Check("the package's first-order L(tau_eps)/L0 = eps (substitution)", sp.simplify(loss_at - EPS) == 0),
         Check("eps = 1/20 gives the package's tau_tilde_c", sp.simplify(law.subs(EPS, sp.Rational(1, 20))
                                                                           - sol["tau_tilde_c"]) == 0)])]


def _crossing(tau_tilde, loss, eps):
    """Effective time at which loss/loss[0] first falls below eps (log-linear interpolation)."""
    r = np.log(loss / loss[0])
    k = int(np.argmax(r < np.log(eps)))
    if k == 0:
        raise RuntimeError(f"the loss never fell to {eps} of its initial value")
    f = (np.log(eps) - r[k - 1]) / (r[k] - r[k - 1])
    return tau_tilde[k - 1] + f * (tau_tilde[k] - tau_tilde[k - 1])


def checks(quick):
    r"""Simulate (N = 256, 8 seeds quick / 16 full) at :math:`\hat z = 0.05`, g = 0.5, and
    compare the measured :math:`\tilde\tau_\varepsilon` with the law for ε = 0.1 and 0.01.

    Allowance: the next order in :math:`\hat z` shortens learning by a relative
    :math:`O(\hat z^2\beta)` (at g = 0 the exact solution is 21 % faster at
    :math:`\hat z = 0.5`, i.e. :math:`\approx 0.84\,\hat z^2`), so the systematic allowance is
    :math:`\hat z^2\beta\,\tilde\tau_\varepsilon`, plus half a step of the learning rate
    (:math:`\Delta\tilde\tau = \mathrm{lr}_0/2`) for the time grid.
    """
    g, zhat, lr0, n = 0.5, 0.05, 0.015, 256
    seeds = range(8 if quick else 16)
    b = 1.0 / (1.0 - g**2)
    law = sp.lambdify(EPS, tau_tilde_eps())
    runs = [train_linear(n, g, zhat, lr0, 330, np.random.default_rng(s)) for s in seeds]
    rows = []
    for eps in (0.1, 0.01):
        theory = float(law(eps))
        samples = [_crossing(r.tau * b**2, r.loss, eps) for r in runs]
        rows.append(compare(f"tau_tilde at L = {eps} L0 (g = {g}, zhat = {zhat})", theory, samples,
                            systematic=zhat**2 * b * theory + lr0 / 2,
                            note="allowance: next order zhat^2 beta, and the time grid"))
    return rows
