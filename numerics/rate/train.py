r"""Training loop for :class:`rnn_theory.numerics.rate.model.RateRNN` on a task generator.

One *step* = draw a fresh batch from the task, forward, loss, exact BPTT gradient,
one optimiser update (the authors' "epoch").  The recorded loss of step ``k`` is the
batch loss *before* that step's update (step 0 is the untrained network), and the
recorded gradient norm is :math:`\sqrt{\sum \mathrm{grad}^2}` over the trained
parameters.  Snapshots (before the update) keep the singular values of
:math:`\Delta W = W - W_0` and, optionally, the weights.

Cost per step :math:`O(B T N^2)` (one forward and one backward pass) plus
:math:`O(N^3)` per snapshot for the SVD.

>>> import numpy as np
>>> from rnn_theory.numerics.rate.model import RateRNN
>>> from rnn_theory.numerics.rate.tasks import flipflop
>>> rng = np.random.default_rng(0)
>>> net = RateRNN.init(16, 2, 2, g=0.9, rng=rng)
>>> res = train(net, flipflop, steps=3, batch_size=4, lr=1e-3, rng=rng)
>>> res.loss.shape, res.net.W.shape, bool(np.any(res.net.W != res.net0.W))
((3,), (16, 16), True)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError, TrainingDivergedError

from rnn_theory.numerics.rate.losses import get_loss
from rnn_theory.numerics.infra.optim import DIVERGENCE_FACTOR, divergence_reason, make_optimizer
from rnn_theory.numerics.infra.progress import progress
from rnn_theory.numerics.rate.model import RateRNN, backward, forward

__all__ = ["train", "TrainResult", "loss_and_grads", "snapshot_steps"]


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    net, net0 : RateRNN
        Trained and initial networks (``net0.W`` is :math:`W_0`).
    loss, grad_norm : (steps,) arrays
        Batch loss before each update and the gradient norm over trained parameters.
    snapshot_steps : (S,) int array
    snapshot_sv : (S, N) array
        Singular values (descending) of :math:`\\Delta W` at each snapshot.
    snapshots : dict name -> (S, ...) array
        Weights at the snapshots (only with ``keep_snapshot_weights=True``).
    trainable : tuple of str
    """

    net: RateRNN
    net0: RateRNN
    loss: np.ndarray
    grad_norm: np.ndarray
    snapshot_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    snapshot_sv: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    snapshots: dict = field(default_factory=dict)
    trainable: tuple = ("W_in", "W", "W_out")

    @property
    def dW(self) -> np.ndarray:
        """:math:`\\Delta W = W - W_0`."""
        return self.net.W - self.net0.W

    @property
    def steps(self) -> int:
        return len(self.loss)


def snapshot_steps(steps: int, n_snapshots: int) -> np.ndarray:
    """``n_snapshots`` evenly spaced distinct steps in ``[0, steps-1]`` (fewer if steps is small).

    >>> snapshot_steps(1000, 5).tolist()
    [0, 250, 500, 749, 999]
    """
    if n_snapshots <= 0 or steps <= 0:
        return np.zeros(0, int)
    return np.unique(np.round(np.linspace(0, steps - 1, n_snapshots)).astype(int))


def loss_and_grads(net: RateRNN, trials, *, loss="masked_mse", trainable=("W_in", "W", "W_out"),
                   x0=None, state_noise=0.0, act_noise=0.0, dropout=0.0, rng=None, workspace=None):
    """Loss on one batch and its exact gradients: ``(L, grads, traj)``.

    ``workspace`` (a dict) lets repeated calls reuse the trajectory buffers (the returned
    ``traj`` is then overwritten by the next call).  Cost :math:`O(BTN^2)`.
    """
    if trials.n_in != net.n_in or trials.n_out != net.n_out:
        raise ShapeError(f"the task gives n_in = {trials.n_in}, n_out = {trials.n_out} but the network has "
                         f"n_in = {net.n_in}, n_out = {net.n_out}; build the network with the task's sizes "
                         "(rnn_theory.numerics.rate.tasks.TASK_SIZES)")
    traj = forward(net, trials.inputs, x0=x0, state_noise=state_noise, act_noise=act_noise,
                   dropout=dropout, rng=rng, workspace=workspace)
    L, dz = get_loss(loss)(traj.z, trials.targets, trials.mask)
    return L, backward(net, traj, dz, params=trainable, workspace=workspace), traj


def _all_finite(d: Mapping) -> bool:
    return all(np.all(np.isfinite(v)) for v in d.values())


def _check_train_args(net, task, steps, batch_size, lr, rng, trainable, loss) -> tuple:
    """Validate :func:`train`'s arguments; returns ``trainable`` as a tuple."""
    if not isinstance(net, RateRNN):
        raise RNNTheoryError(f"net must be a RateRNN, got {type(net).__name__}")
    if not callable(task):
        raise RNNTheoryError("task must be a callable task(rng, batch_size) -> Trials; see rnn_theory.numerics.rate.tasks.get_task")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise DomainError(f"steps must be an integer >= 0, got {steps!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DomainError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(lr, (int, float, np.floating)) or not np.isfinite(lr) or lr <= 0:
        raise DomainError(f"lr must be a finite number > 0, got {lr!r}")
    if not isinstance(rng, np.random.Generator):
        raise RNNTheoryError("rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed))")
    trainable = tuple(trainable)
    params = net.params()
    missing = [k for k in trainable if k not in params]
    if missing or not trainable:
        raise RNNTheoryError(f"cannot train {missing or 'nothing'}: the network has parameters {sorted(params)} "
                             "(build it with bias=True / out_bias=True to train biases)")
    get_loss(loss)  # validate early
    return trainable


class _History:
    """Per-step loss and gradient norm, and the ΔW snapshots, of one :func:`train` run."""

    def __init__(self, net0: RateRNN, steps: int, n_snapshots: int, trainable: tuple, keep_weights: bool):
        params = net0.params()
        self.net0, self.trainable = net0, trainable
        self.snaps = snapshot_steps(steps, n_snapshots)
        self.snap_set = {int(s): i for i, s in enumerate(self.snaps)}
        self.sv = np.zeros((len(self.snaps), net0.n))
        self.kept = ({k: np.zeros((len(self.snaps),) + params[k].shape, net0.dtype) for k in trainable}
                     if keep_weights else {})
        self.losses = np.full(steps, np.nan)
        self.gnorms = np.full(steps, np.nan)

    def snapshot(self, k: int, cur: RateRNN) -> None:
        """Store the singular values of ΔW (and the weights) if step ``k`` is a snapshot step; O(N^3)."""
        if k in self.snap_set:
            i = self.snap_set[k]
            self.sv[i] = np.linalg.svd(cur.W - self.net0.W, compute_uv=False)
            for n_, a in self.kept.items():
                a[i] = getattr(cur, n_)

    def partial(self, cur: RateRNN, k: int) -> TrainResult:
        """The result after the first ``k`` steps (for :class:`TrainingDivergedError`)."""
        snaps, sv, kept = self.snaps, self.sv, self.kept
        return TrainResult(net=cur, net0=self.net0, loss=self.losses[:k].copy(), grad_norm=self.gnorms[:k].copy(),
                           snapshot_steps=snaps[snaps < k], snapshot_sv=sv[snaps < k],
                           snapshots={n: a[snaps < k] for n, a in kept.items()}, trainable=self.trainable)

    def result(self, cur: RateRNN) -> TrainResult:
        return TrainResult(net=cur, net0=self.net0, loss=self.losses, grad_norm=self.gnorms,
                           snapshot_steps=self.snaps, snapshot_sv=self.sv, snapshots=self.kept,
                           trainable=self.trainable)


def train(net: RateRNN, task: Callable, steps: int, batch_size: int, lr: float,
          rng: np.random.Generator, optimizer: str = "adam", *,
          trainable: Iterable[str] = ("W_in", "W", "W_out"), loss="masked_mse",
          optimizer_kwargs: Mapping | None = None, lr_schedule: Callable[[int], float] | None = None,
          n_snapshots: int = 0, keep_snapshot_weights: bool = False, x0=None,
          state_noise: float = 0.0, act_noise: float = 0.0, dropout: float = 0.0,
          task_kwargs: Mapping | None = None, callback: Callable | None = None,
          show_progress: bool = False, divergence_factor: float | None = DIVERGENCE_FACTOR) -> TrainResult:
    r"""Train ``net`` with fresh batches from ``task`` for ``steps`` optimiser steps.

    Parameters
    ----------
    net : RateRNN
        Initial network (its dtype, float64 or float32, is the training precision).
    task : callable
        ``task(rng, batch_size, **task_kwargs) -> Trials`` (e.g. :func:`rnn_theory.numerics.rate.tasks.flipflop`).
    steps, batch_size : int
        Number of updates (>= 0) and trials per batch (>= 1).
    lr : float
        Learning rate > 0 (Schuessler et al.: 0.05/N with Adam).
    rng : numpy.random.Generator
        Drives the task and any noise.  Same seed → identical run.
    optimizer : {"adam", "sgd", "rmsprop"}
        From :mod:`rnn_theory.numerics.infra.optim` (``optimizer_kwargs`` e.g. ``alpha`` for RMSprop).
    trainable : iterable of str
        Subset of ``W``, ``W_in``, ``W_out``, ``b``, ``b_out`` to train (the others stay fixed).
    loss : str or callable
        ``masked_mse`` (default), ``mse``, ``cross_entropy`` or ``f(z, y, m) -> (L, dz)``.
    lr_schedule : callable, optional
        ``step -> lr`` overriding ``lr`` per step.
    n_snapshots : int
        Number of evenly spaced steps at which the singular values of ΔW are stored.
    x0, state_noise, act_noise, dropout :
        Passed to :func:`rnn_theory.numerics.rate.model.forward`.
    callback : callable, optional
        ``callback(step, net, loss)`` called before each update.
    divergence_factor : float or None
        :math:`K` of the divergence rule (:func:`rnn_theory.numerics.infra.optim.divergence_reason`):
        training stops when the loss exceeds :math:`K` times the step-0 loss.

    Raises
    ------
    TrainingDivergedError
        When the loss, a gradient or an updated weight is NaN/inf, or the loss exceeds
        ``divergence_factor`` times the initial loss.  ``.step`` names the step;
        ``.partial`` is a :class:`TrainResult` holding the last good network (the one
        before the update that led to the diverged loss) and the history before it.
    """
    trainable = _check_train_args(net, task, steps, batch_size, lr, rng, trainable, loss)
    params = net.params()
    opt = make_optimizer(optimizer, float(lr), **dict(optimizer_kwargs or {}))
    state = opt.init({k: params[k] for k in trainable})
    task_kwargs = dict(task_kwargs or {})
    hist = _History(net, steps, n_snapshots, trainable, keep_snapshot_weights)
    cur = prev = net
    workspace: dict = {}
    for k in progress(range(steps), total=steps, desc="train", enabled=show_progress):
        hist.snapshot(k, cur)
        trials = task(rng, batch_size, **task_kwargs)
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are detected below
            L, grads, _ = loss_and_grads(cur, trials, loss=loss, trainable=trainable, x0=x0,
                                         state_noise=state_noise, act_noise=act_noise, dropout=dropout,
                                         rng=rng, workspace=workspace)
        reason = divergence_reason(L, L if k == 0 else hist.losses[0], divergence_factor)
        if reason is None and not _all_finite(grads):
            reason = "the gradient is NaN or infinite"
        if reason is not None:
            raise TrainingDivergedError(
                f"training diverged at step {k}: {reason}; the last good weights are in .partial.net — "
                f"try a smaller lr (now {lr})", step=k, partial=hist.partial(prev, max(k - 1, 0)))
        hist.losses[k] = L
        hist.gnorms[k] = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
        if callback is not None:
            callback(k, cur, L)
        step_lr = None if lr_schedule is None else float(lr_schedule(k))
        with np.errstate(over="ignore", invalid="ignore"):
            new, state = opt.step({n_: getattr(cur, n_) for n_ in trainable}, grads, state,
                                  lr=step_lr)
        if not _all_finite(new):
            raise TrainingDivergedError(
                f"training diverged at step {k}: the update produced NaN or infinite weights; the last good "
                f"weights are in .partial.net — try a smaller lr (now {lr})", step=k,
                partial=hist.partial(cur, k + 1))
        prev, cur = cur, cur.replace(**new)
    return hist.result(cur)
