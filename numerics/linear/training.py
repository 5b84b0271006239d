r"""Full-batch gradient descent on W of the linear network (spec section 5).

:func:`train_linear` draws the paper's network and calls :func:`train_fixed_point`, which
validates its options, checks that :math:`W_0` has a stable fixed point, picks a stepper
from :mod:`rnn_theory.numerics.linear.steppers` and runs :func:`_descend`: evaluate, record,
guard the top eigenvalue, step.  Cost with the default Sherman–Morrison method:
:math:`O(N^3)` once plus :math:`O(N^2)` per step.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg as sla

from rnn_theory.numerics.linear.history import TrainingHistory
from rnn_theory.numerics.linear.network import (
    _check_g,
    _check_n,
    _check_real,
    _check_rng,
    _check_system,
    _require_stable,
    draw_network,
)
from rnn_theory.numerics.linear.result import LinearTrainingResult
from rnn_theory.numerics.linear.sherman_morrison import _det_sign
from rnn_theory.numerics.linear.steppers import make_stepper
from rnn_theory.numerics.linear.task import DEFAULT_TASK, EulerTask
from rnn_theory.numerics.infra.optim import divergence_reason
from rnn_theory.numerics.rate.analysis import max_real_eig
from rnn_theory.theory.errors import DomainError, NonFiniteError, TrainingDivergedError, UnstableError

__all__ = ["train_fixed_point", "train_linear"]

METHODS = ("sherman_morrison", "solve", "bptt")


def _check_options(lr, steps, method, on_divergence, sv_every, refresh_every) -> float:
    """Validate the scalar options of :func:`train_fixed_point`; returns ``lr`` as a float."""
    lr = _check_real("lr", lr)
    if lr <= 0:
        raise DomainError(f"the learning rate must be > 0, got {lr}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise DomainError(f"steps must be a non-negative integer, got {steps!r}")
    if method not in METHODS:
        raise DomainError(f"method must be 'sherman_morrison', 'solve' or 'bptt', got {method!r}")
    if on_divergence not in ("raise", "stop"):
        raise DomainError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
    if isinstance(sv_every, bool) or not isinstance(sv_every, numbers.Integral) or sv_every < 1:
        raise DomainError(f"sv_every must be a positive integer, got {sv_every!r}")
    if refresh_every is not None and (not isinstance(refresh_every, numbers.Integral) or refresh_every < 1):
        raise DomainError(f"refresh_every must be a positive integer or None, got {refresh_every!r}")
    return lr


def _factor_stable(W0, check_eigenvalues: bool):
    r"""LU factors of :math:`I - W_0`, after checking that :math:`W_0` has a stable fixed point.

    With ``check_eigenvalues`` every eigenvalue is checked (dense, :math:`O(N^3)`); the sign
    of :math:`\det(I - W_0)` is always checked (free from the LU).
    """
    if check_eigenvalues:
        _require_stable(W0)
    lu = sla.lu_factor(np.eye(W0.shape[0]) - W0, check_finite=False)
    if _det_sign(lu) <= 0:
        raise UnstableError(
            "det(I - W0) <= 0: W0 has a real eigenvalue >= 1, so there is no stable fixed point; "
            "use a smaller gain g (or draw another seed for small N)"
        )
    return lu


def _descend(stepper, history: TrainingHistory, W0, *, lr, steps, sv_every, record_eig):
    """Run up to ``steps`` GD steps; returns ``(k_done, message)`` (message empty unless stopped).

    ``k_done`` is the last step whose state is kept (the update that would have lost the
    fixed point, or made the loss explode, is not applied).  The loss rule is the package's
    (:func:`~rnn_theory.numerics.infra.optim.divergence_reason`: more than 1000 × the
    initial loss): a step that passes close to a singular :math:`I - W` overshoots the
    readout by orders of magnitude without any eigenvalue crossing 1 (measured: N = 1024,
    g = 0.9, ẑ = 2, z jumped from 1.3 to 2606 and ‖ΔW‖ from 0.1 to 1.7e8 in one step).
    """
    loss0 = None
    for k in range(steps + 1):
        # ---- gradient at the current W_k ----
        ev = stepper.evaluate(k)
        if isinstance(ev, str):
            return k - 1, ev
        if not np.isfinite(ev.z):
            raise NonFiniteError(f"readout became non-finite at step {k}; W is unstable")
        loss0 = ev.loss if loss0 is None else loss0
        why = divergence_reason(ev.loss, loss0) if k else None
        if why:
            return k - 1, (f"{why} at step {k} (tau = {k * lr:.4g}): the step before overshot the fixed "
                           f"point; history kept up to step {k - 1}")
        history.record(k, ev.loss, ev.z, ev.u, ev.v, ev.grad_norm, with_sv=k % sv_every == 0 or k == steps)
        if not getattr(stepper, "rank_one_updates", True):  # BPTT: record the actual Delta W
            history.record_dense(k, stepper.W - W0, with_sv=k % sv_every == 0 or k == steps)
        if record_eig:
            Wk = stepper.W if stepper.W is not None else W0 + history.dense_dW(k)
            top = history.rec["top_eig"]
            top[k] = max_real_eig(Wk)
            if top[k] >= 1:
                return k - 1, (f"an eigenvalue of W reached real part {top[k]:.6g} >= 1 at step {k} "
                               f"(tau = {k * lr:.4g}): the fixed point is lost; history kept up to step {k - 1}")
        if k == steps:
            return steps, ""
        # ---- GD step: W <- W + c u v^T ----
        c = lr * ev.eps
        history.add_update(k, c, ev.u, ev.v)
        message = stepper.apply(k, c, ev)
        if message:
            return k, message
    return steps, ""  # not reached: the loop returns at k == steps


def train_fixed_point(W0, m, w, zhat, lr, steps, *, lr0=None, g=float("nan"),
                      method: str = "sherman_morrison", refresh_every: int | None = 500,
                      flush_every: int = 32, n_sv: int = 6, sv_every: int = 1, record_eig: bool = False,
                      check_stability: bool = True, on_divergence: str = "raise",
                      task: EulerTask = DEFAULT_TASK) -> LinearTrainingResult:
    r"""Full-batch GD on W (only), :math:`W \leftarrow W + \eta\varepsilon u_W v_W^\top`.

    Parameters
    ----------
    W0, m, w : arrays
        Initial connectivity (N×N), input and readout vectors (used as given).
    zhat, lr, steps : float, float, int
        Target, step size :math:`\eta` and number of GD steps.
    method : {"sherman_morrison", "solve", "bptt"}
        ``"sherman_morrison"`` (default): keep :math:`B_W` explicit and update it with
        the Sherman–Morrison formula
        :math:`(M - c\,uv^\top)^{-1} = B + \frac{c}{1 - c\,v^\top B u} (Bu)(v^\top B)`.
        :math:`B^\top` is stored (it comes C-ordered out of LAPACK's ``getri``), the products
        :math:`Bu` and :math:`v^\top B` are formed in one blocked pass over it, the new
        :math:`u, v` follow from the same formula without a solve, and the rank-one
        corrections are buffered and applied ``flush_every`` at a time with one GEMM: a
        step costs about one pass over an :math:`N\times N` array, :math:`O(N^2)`.
        ``"solve"``: a fresh LU factorisation of :math:`I - W` per step, :math:`O(N^3)`
        (the reference).  ``"bptt"``: gradients and readout from the Euler trajectory,
        :math:`O(TN^2)` per step (the model as the paper trains it; equal to the fixed
        point up to the transient :math:`r^T`, :math:`r = \max|1+\lambda|/2`); ``sv`` and
        ``dw_norm`` are those of the actual :math:`W_k - W_0` (dense SVD, :math:`O(N^3)`
        per recorded step).
    refresh_every : int or None
        Recompute :math:`B_W` by a fresh inverse every this many steps (Sherman–Morrison
        only).  Round-off of the updates grows about linearly with the number of
        updates, ~ :math:`k\,\epsilon_{mach}\,\kappa(I-W)`; measured at N = 1024,
        g = 0.6–0.9, 200–1000 steps the relative drift of :math:`B_W` stays below 1e-12.
    n_sv : int
        Number of leading singular values of :math:`\Delta W` recorded per step.
    sv_every : int
        Record the singular values every this many steps (and at the last step; NaN in
        between).  Each record costs an :math:`O(k^3)` SVD of the small core (k = rank of the
        accumulated span), which dominates the step cost for N ≲ 512.
    record_eig : bool
        Record the largest real part of an eigenvalue of W each step (dense,
        :math:`O(N^3)` per step) and stop when it reaches 1.
    check_stability : bool
        Check the eigenvalues of ``W0`` once (dense, :math:`O(N^3)`); an eigenvalue with
        real part ≥ 1 raises :class:`~rnn_theory.theory.errors.UnstableError`.  With False only the
        sign of :math:`\det(I - W_0)` is checked (catches an odd number of real
        eigenvalues above 1; enough for drawn :math:`W_0 = gJ` with g < 1 and large N).
    on_divergence : {"raise", "stop"}
        When an eigenvalue of W reaches 1 (detected for real eigenvalues, at no cost, by the
        sign change of :math:`\det(I-W) = \det(I-W_{prev})(1 - c\,v^\top B u)`; for complex
        ones with ``record_eig``), either raise :class:`~rnn_theory.theory.errors.TrainingDivergedError`
        (``.partial`` holds the result up to the last good step) or return it with
        ``diverged=True``.
    """
    W0, m, w = _check_system(W0, m, w)
    W0, m, w = _check_system(W0, m, w)
    zhat = _check_real("zhat", zhat)
    lr = _check_options(lr, steps, method, on_divergence, sv_every, refresh_every)
    n = W0.shape[0]
    lr0 = lr if lr0 is None else lr0
    lu = _factor_stable(W0, check_stability or record_eig)
    history = TrainingHistory(n, steps, n_sv)
    stepper = make_stepper(method, W0, m, w, zhat, lu, lr=lr, history=history, flush_every=flush_every,
                           refresh_every=refresh_every, task=task)
    k_done, message = _descend(stepper, history, W0, lr=lr, steps=steps, sv_every=sv_every,
                               record_eig=record_eig)
    diverged = bool(message)
    last = k_done + 1
    # when a run stops, the last update was not applied: drop it from the bookkeeping
    dW = stepper.W_after(k_done) - W0 if method == "bptt" else history.dense_dW(k_done)
    res = LinearTrainingResult(
        n=n, g=g, zhat=zhat, lr0=float(lr0), lr=lr, method=method,
        tau=lr * np.arange(last), tau_tilde=float(lr0) * np.arange(last),
        **history.arrays(last), W0=W0, dW=dW, m=m, w=w, diverged=diverged, message=message,
        info={"lowrank_dim": (history.lowrank.ku, history.lowrank.kv)},
    )
    if diverged and on_divergence == "raise":
        raise TrainingDivergedError(message, step=k_done + 1, partial=res)
    return res


def train_linear(n: int, g: float, zhat: float, lr0: float, steps: int, rng: np.random.Generator,
                 **kwargs) -> LinearTrainingResult:
    r"""Draw the paper's network and train W with :math:`\eta = \mathrm{lr}_0(1-g^2)^2`.

    ``W0 = g J`` (:math:`J_{ij}\sim\mathcal N(0,1/N)`), :math:`\|m\| = \sqrt N` and
    :math:`\|w\| = 1/\sqrt N` exactly (draw order J, m, w), then ``steps`` steps of
    full-batch gradient descent on W only (see :func:`train_fixed_point` for the keyword
    options: ``method``, ``refresh_every``, ``n_sv``, ``record_eig``, ``on_divergence``,
    ``check_stability``, ``task``).  Cost: :math:`O(N^3)` once plus :math:`O(N^2)` per
    step with the default Sherman–Morrison method.

    >>> r = train_linear(64, 0.5, 0.5, 0.015, 100, np.random.default_rng(0))
    >>> r.tau.shape, bool(r.loss[-1] < r.loss[0]), r.sv.shape
    ((101,), True, (101, 6))
    """
    n = _check_n(n)
    g = _check_g(g)
    zhat = _check_real("zhat", zhat)
    lr0 = _check_real("lr0", lr0)
    if lr0 <= 0:
        raise DomainError(f"lr0 must be > 0, got {lr0}")
    rng = _check_rng(rng)
    W0, m, w = draw_network(n, g, rng)
    lr = lr0 * (1 - g * g) ** 2
    return train_fixed_point(W0, m, w, zhat, lr, steps, lr0=lr0, g=g, **kwargs)
