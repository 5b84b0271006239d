r"""Training of a Farrell et al. (2022) network (spec ``dimensionality.md`` §4): task
loss and BPTT gradients, the L2 regulariser, the reduce-on-plateau schedule and the
epoch loop :func:`train_farrell` with its checkpoint analyses.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnn_theory.theory.errors import DomainError, TrainingDivergedError
from rnn_theory.numerics.infra.optim import divergence_reason, make_optimizer
from rnn_theory.numerics.rate.analysis import participation_ratio
from rnn_theory.numerics.rate.losses import cross_entropy, mse
from rnn_theory.numerics.rate.model import RateRNN, backward, forward
from rnn_theory.numerics.representations.clusters import ClusterTask
from rnn_theory.numerics.representations.farrell_analysis import accuracy, net_lyapunov, states
from rnn_theory.numerics.representations.farrell_model import TRAINED, FarrellConfig, init_farrell

__all__ = ["loss_and_grad", "regulariser", "PlateauSchedule", "FarrellRun", "train_farrell"]


def _targets(config_loss: str, batch):
    if config_loss == "ce":
        return batch.targets
    if config_loss == "mse":
        return 0.7 * batch.targets
    return (0.7 * (2 * batch.labels - 1.0))[:, None, None] * np.ones((1, batch.targets.shape[1], 1))


def loss_and_grad(net: RateRNN, batch, loss: str = "ce", *, hidden_noise: float = 0.0,
                  dropout: float = 0.0, rng=None, params=TRAINED):
    """Task loss on the last step and its BPTT gradients ``(L, grads, traj)``."""
    traj = forward(net, batch.inputs, act_noise=hidden_noise, dropout=dropout, rng=rng)
    target = _targets(loss, batch)
    fn = cross_entropy if loss == "ce" else mse
    L, dz = fn(traj.z, target, batch.mask)
    return L, backward(net, traj, dz, params=params), traj


def regulariser(net: RateRNN, l2: float, form: str = "farrell", trained=TRAINED):
    r"""L2 penalty and its gradients on the trained tensors: ``(R, grads)``.

    ``"farrell"``: :math:`R = \frac{\lambda}{5N}\sum_{p}\lVert p\rVert_F` over
    ``W_in, W, W_out, b, b_out`` (frozen ``W_in`` included, the norm **not** squared),
    gradient :math:`\lambda p/(5N\lVert p\rVert_F)` (0 at p = 0, a subgradient).
    ``"squared"``: :math:`R = \frac\lambda2\sum_{p\ \rm trained}\lVert p\rVert_F^2`,
    gradient :math:`\lambda p`.
    """
    params = net.params()
    grads = {}
    if l2 == 0:
        return 0.0, {k: np.zeros_like(params[k]) for k in trained if k in params}
    if form == "farrell":
        scale = l2 / (5.0 * net.n)
        R = scale * sum(float(np.linalg.norm(params[k])) for k in ("W_in", "W", "W_out", "b", "b_out")
                        if k in params)
        for k in trained:
            if k in params:
                nk = np.linalg.norm(params[k])
                grads[k] = scale * params[k] / nk if nk > 0 else np.zeros_like(params[k])
        return R, grads
    if form == "squared":
        R = 0.5 * l2 * sum(float(np.sum(params[k] ** 2)) for k in trained if k in params)
        return R, {k: l2 * params[k] for k in trained if k in params}
    raise DomainError(f"l2 form must be 'farrell' or 'squared', got {form!r}")


@dataclass
class PlateauSchedule:
    """Reduce-on-plateau: an epoch is *bad* unless ``loss < best - threshold``; after more
    than ``patience`` consecutive bad epochs the rate is multiplied by ``factor`` and the
    count reset (PyTorch ``ReduceLROnPlateau`` in absolute-threshold mode, min lr 0).

    >>> s = PlateauSchedule(lr=1.0, patience=1)
    >>> [s.step(x) for x in (1.0, 1.0, 1.0, 1.0, 0.5)]
    [1.0, 1.0, 0.5, 0.5, 0.5]
    """

    lr: float
    patience: int = 5
    factor: float = 0.5
    threshold: float = 1e-7
    best: float = math.inf
    bad: int = 0

    def step(self, loss: float) -> float:
        if loss < self.best - self.threshold:
            self.best, self.bad = loss, 0
        else:
            self.bad += 1
            if self.bad > self.patience:
                self.lr *= self.factor
                self.bad = 0
        return self.lr


@dataclass
class FarrellRun:
    """Result of :func:`train_farrell`.

    ``net0``/``net``: initial and final networks; ``task``; ``history``: dict of per-epoch
    lists (``epoch`` 0…E, ``lr`` (the rate set by the schedule at the end of that epoch, used
    in the next), ``train_loss``, ``val_loss``, ``accuracy``, ``pr_T``
    = PR of :math:`h_T` on the analysis set; epoch 0 = before training, losses NaN there);
    ``checkpoints``: {epoch: RateRNN} for the requested epochs; ``lyapunov``:
    {epoch: LyapunovResult}; ``analysis_set``: the balanced analysis batch.
    """

    config: FarrellConfig
    task: ClusterTask
    net0: RateRNN
    net: RateRNN
    history: dict
    checkpoints: dict = field(default_factory=dict)
    lyapunov: dict = field(default_factory=dict)
    analysis_set: object = None


def train_farrell(config: FarrellConfig, *, keep_epochs=(), on_epoch=None,
                  checkpoint_dir=None, show_progress: bool = False) -> FarrellRun:
    r"""Train one network with RMSprop on the online cluster task (spec §4).

    Each epoch: ``n_train`` fresh samples in batches of ``batch_size`` (one optimiser
    step each; a batch with loss exactly 0 makes no update), then a fresh validation set
    of ``n_validation`` samples (noise-free) steps the plateau schedule, and the
    checkpoint analyses run: accuracy on ``n_accuracy`` new balanced samples, PR of
    :math:`h_T` on the fixed analysis set, and the Lyapunov spectrum at ``lyap_epochs``
    and the final epoch.  ``on_epoch(epoch, net, run)`` is called after each checkpoint.
    ``keep_epochs``: epochs whose networks are kept in ``run.checkpoints``;
    ``checkpoint_dir``: if given, every epoch's weights and the history so far are written
    atomically to ``checkpoint_dir/epoch-XXXX`` (:func:`rnn_theory.numerics.infra.io.save_run`).  A run is
    resumed by rerunning it (same seed → identical result); sweeps skip finished runs.
    Cost per epoch :math:`O(n_{\rm train} T N^2)` plus the analyses.
    Raises :class:`TrainingDivergedError` (with ``.partial``, the run up to the last
    finished epoch) when a batch loss is NaN/inf or exceeds 1000 x the first batch loss
    (:func:`rnn_theory.numerics.infra.optim.divergence_reason`).
    """
    from rnn_theory.numerics.infra.progress import progress

    tr = _start_training(config, keep_epochs, on_epoch, checkpoint_dir)
    net = tr.run.net
    _record_epoch(tr, 0, net, math.nan, math.nan)
    for epoch in progress(range(1, config.epochs + 1), total=config.epochs, desc="epochs",
                          enabled=show_progress):
        net, losses = _train_epoch(tr, net, epoch)
        val_loss = _validation_loss(tr, net)
        if config.schedule == "plateau":
            tr.lr = tr.sched.step(val_loss)
        _record_epoch(tr, epoch, net, float(np.mean(losses)), float(val_loss))
    return tr.run


@dataclass
class _Training:
    """Mutable state of one :func:`train_farrell` call: the run being filled, the
    optimiser and its state, the schedule and current rate, the random streams and the
    checkpoint options."""

    config: FarrellConfig
    run: FarrellRun
    opt: object
    opt_state: object
    trained: tuple
    sched: PlateauSchedule
    lr: float
    rng_train: np.random.Generator
    rng_an: np.random.Generator
    rng_lyap: np.random.Generator
    lyap_epochs: set
    keep: set
    checkpoint_dir: object = None
    on_epoch: object = None
    initial_loss: float = math.nan


def _start_training(config: FarrellConfig, keep_epochs, on_epoch, checkpoint_dir) -> _Training:
    """Draw the task, the initial network and the fixed analysis set; build the optimiser
    (RMSprop ``alpha`` from the config), its state over the trained tensors and the
    plateau schedule.  Stream use: ``an`` for the analysis set, spawn 4 of ``seed`` for
    the Lyapunov spectra."""
    _, _, rng_train, rng_an = config.streams()
    task, net = init_farrell(config)
    analysis = task.balanced(rng_an, config.n_analysis)
    rng_lyap = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(5)[4])
    opt = make_optimizer(config.optimizer, config.lr,
                         **({"alpha": config.alpha} if config.optimizer == "rmsprop" else {}))
    trained = tuple(k for k in TRAINED if config.train_W_out or k not in ("W_out", "b_out"))
    opt_state = opt.init({k: v for k, v in net.params().items() if k in trained})
    sched = PlateauSchedule(config.lr, config.patience, config.factor, config.threshold)
    hist = {k: [] for k in ("epoch", "lr", "train_loss", "val_loss", "accuracy", "pr_T")}
    run = FarrellRun(config, task, net, net, hist, analysis_set=analysis)
    return _Training(config, run, opt, opt_state, trained, sched, config.lr, rng_train, rng_an, rng_lyap,
                     set(config.lyap_epochs) | {config.epochs}, set(keep_epochs), checkpoint_dir, on_epoch)


def _train_epoch(tr: _Training, net: RateRNN, epoch: int):
    """One epoch: ``n_train`` fresh samples in batches of ``batch_size``, one optimiser
    step per batch (none for a batch with loss exactly 0 unless L2 is on).  Returns the
    updated network and the batch losses; raises :class:`TrainingDivergedError` on a
    non-finite loss.  Cost :math:`O(n_{\rm train} T N^2)`."""
    config = tr.config
    data = tr.run.task.sample(tr.rng_train, config.n_train)
    nb = math.ceil(config.n_train / config.batch_size)
    losses = []
    for i in range(nb):
        batch = data.select(slice(i * config.batch_size, (i + 1) * config.batch_size))
        L, grads, _ = loss_and_grad(net, batch, config.loss, hidden_noise=config.hidden_noise,
                                    dropout=config.dropout, rng=tr.rng_train, params=tr.trained)
        if math.isnan(tr.initial_loss):
            tr.initial_loss = L
        reason = divergence_reason(L, tr.initial_loss)
        if reason is not None:
            raise TrainingDivergedError(
                f"training diverged at epoch {epoch}, batch {i}: {reason}; lower the learning rate "
                "(.partial holds the run up to the last finished epoch)",
                step=(epoch - 1) * nb + i, partial=tr.run)
        losses.append(L)
        if config.l2 > 0:
            _, rg = regulariser(net, config.l2, config.l2_form, tr.trained)
            grads = {k: grads[k] + rg[k] for k in grads}
        elif L == 0.0:
            continue  # the authors skip the update of a batch with zero loss
        params = {k: v for k, v in net.params().items() if k in tr.trained}
        params, tr.opt_state = tr.opt.step(params, grads, tr.opt_state, lr=tr.lr)
        net = net.replace(**params)
    return net, losses


def _validation_loss(tr: _Training, net: RateRNN):
    """Noise-free task loss of ``net`` on ``n_validation`` fresh samples (train stream)."""
    config = tr.config
    val = tr.run.task.sample(tr.rng_train, config.n_validation)
    z = forward(net, val.inputs).z
    fn = cross_entropy if config.loss == "ce" else mse
    val_loss, _ = fn(z, _targets(config.loss, val), val.mask)
    return val_loss


def _record_epoch(tr: _Training, epoch: int, net: RateRNN, train_loss: float, val_loss: float) -> None:
    """Checkpoint analyses of epoch ``epoch``: history row (rate, losses, accuracy on
    ``n_accuracy`` new balanced samples, PR of :math:`h_T` on the analysis set), the
    Lyapunov spectrum at the requested epochs, kept networks, the optional run folder
    and the ``on_epoch`` callback."""
    config, run = tr.config, tr.run
    hist = run.history
    hist["epoch"].append(epoch)
    hist["lr"].append(tr.lr)
    hist["train_loss"].append(train_loss)
    hist["val_loss"].append(val_loss)
    hist["accuracy"].append(accuracy(net, run.task.balanced(tr.rng_an, config.n_accuracy)))
    hist["pr_T"].append(participation_ratio(states(net, run.analysis_set.points, config.T)[:, config.T]))
    if epoch in tr.lyap_epochs:
        run.lyapunov[epoch] = net_lyapunov(net, tr.rng_lyap, n_exponents=config.lyap_exponents,
                                           max_steps=config.lyap_steps,
                                           max_init=config.lyap_inits,
                                           min_init=min(4, config.lyap_inits),
                                           **({"jacobian": "next", "stopping": "paper"}
                                              if config.lyapunov == "paper" else {}))
    if epoch in tr.keep:
        run.checkpoints[epoch] = net
    if tr.checkpoint_dir is not None:
        from rnn_theory.numerics.infra.io import save_run
        # a rerun (same seed, same result) replaces its own checkpoint; never anything else
        save_run(Path(tr.checkpoint_dir) / f"epoch-{epoch:04d}", {**config.to_dict(), "epoch": epoch},
                 net.params(), hist, overwrite=True)
    run.net = net
    if tr.on_epoch is not None:
        tr.on_epoch(epoch, net, run)
