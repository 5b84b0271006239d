r"""Representation dimensionality in trained RNNs (Farrell et al., Nat. Mach. Intell. 2022).

Model (spec ``dimensionality.md`` §3), a discrete-time tanh network

.. math::
    h_0 = 0,\qquad h_t = \tanh(W h_{t-1} + W_{\rm in} x_{t-1} + b),\qquad
    o_t = W_{\rm out} h_t + b_{\rm out},

with :math:`W = 0.99\,I + 0.01\,\gamma\,\hat J`, :math:`\hat J = J/\rho(J)`,
:math:`J_{ij}\sim\mathcal N(0, 1/N)` (so the spectrum of W is a disc of radius
:math:`0.01\gamma` around 0.99), a frozen input matrix, and trained ``W, b, W_out, b_out``.
It is the package's :class:`rnn_theory.numerics.rate.model.RateRNN` with ``dt = 1`` (no leak) and
``phi = "tanh"``: its activity :math:`r_t` is Farrell's :math:`h_t` and its output
``z[:, t]`` is :math:`o_{t+1}`, so the loss on :math:`h_{10}` is the output at index 9
of a 10-step trial with the stimulus at index 0 (:mod:`rnn_theory.numerics.representations.clusters`).
Training uses :func:`rnn_theory.numerics.rate.model.forward`/:func:`~rnn_theory.numerics.rate.model.backward` (exact BPTT),
:mod:`rnn_theory.numerics.rate.losses` and :class:`rnn_theory.numerics.infra.optim.RMSprop` (``alpha = 0.9``).

Conventions (spec §1, §10): PR "layer" ``t`` is :math:`h_t` with ``t = 0`` the input
itself; PCA snapshot index ``i`` is :math:`h_{i+1}`; "epoch k" = weights after k epochs.
Hidden noise and dropout act after the tanh at every step and feed both the recurrence and
the readout (``act_noise``/``dropout`` of :func:`rnn_theory.numerics.rate.model.forward`); they are **off
in every evaluation** (validation, accuracy, analyses) — this differs from the authors'
dropout runs, which kept dropout on when measuring accuracy.  One small difference: the
package's activity noise is also added to :math:`r_0` (the authors' :math:`h_0 = 0`
stays noise-free).

Seeds: one integer ``seed`` spawns independent streams (``numpy.random.SeedSequence``)
for the task centres, the network, the training data/noise and the analysis sets, so the
same 500-sample balanced set serves before and after training and one seed gives
identical runs.

Modules: :mod:`~rnn_theory.numerics.representations.farrell_model` (configuration and
initialisation), :mod:`~rnn_theory.numerics.representations.farrell_training` (loss,
regulariser, schedule, training loop), :mod:`~rnn_theory.numerics.representations.farrell_analysis`
(PR over time, held-out accuracy, PCA snapshots, Lyapunov, orthogonal compression); this
module re-exports them and holds the sweep function :func:`farrell_run`.
"""
from __future__ import annotations

import numpy as np

# Names this module imported before the split, kept importable from here.
from rnn_theory.theory.errors import DomainError, ShapeError, TrainingDivergedError  # noqa: F401
from rnn_theory.numerics.infra.optim import make_optimizer  # noqa: F401
from rnn_theory.numerics.rate.analysis import participation_ratio  # noqa: F401
from rnn_theory.numerics.rate.losses import cross_entropy, mse  # noqa: F401
from rnn_theory.numerics.rate.model import RateRNN, backward, forward  # noqa: F401
from rnn_theory.numerics.representations.clusters import ClusterTask, holdout_split  # noqa: F401
from rnn_theory.numerics.representations.logistic import fit_logistic  # noqa: F401
from rnn_theory.numerics.representations.lyapunov import LyapunovResult, lyapunov_spectrum  # noqa: F401

from rnn_theory.numerics.representations.farrell_analysis import (
    accuracy,
    holdout_accuracy,
    net_lyapunov,
    orthogonal_compression,
    pca_snapshots,
    pr_over_time,
    states,
)
from rnn_theory.numerics.representations.farrell_model import (
    LOSS_NAMES,
    TRAINED,
    FarrellConfig,
    farrell_W,
    init_farrell,
    orthogonal_input,
)
from rnn_theory.numerics.representations.farrell_training import (  # noqa: F401  (_targets: importable before)
    FarrellRun,
    PlateauSchedule,
    _targets,
    loss_and_grad,
    regulariser,
    train_farrell,
)

__all__ = [
    "FarrellConfig", "FarrellRun", "farrell_W", "orthogonal_input", "init_farrell",
    "loss_and_grad", "regulariser", "PlateauSchedule", "train_farrell",
    "states", "pr_over_time", "holdout_accuracy", "accuracy", "pca_snapshots",
    "net_lyapunov", "orthogonal_compression", "farrell_run",
]


# ----------------------------------------------------------------------------- sweep fn
def farrell_run(cfg: dict):
    """Module-level sweep function (for :func:`rnn_theory.numerics.infra.sweep.run_sweep`).

    ``cfg``: a dict of :class:`FarrellConfig` fields plus ``"name"`` and optional
    ``"snapshots"`` (bool, PCA snapshots after training) and ``"holdout"`` (bool).
    Returns ``(arrays, history, summary)`` with arrays ``pr_before``, ``pr_after``
    (t = 0…t_max), ``holdout_before/after`` (2, T+1: train, test accuracy),
    ``lyap_epochs`` and ``lyap_nats`` (epochs × exponents), final weights, and optionally
    ``pca`` (32, n, 2), ``pca_readout``, ``pca_labels``.  The summary holds the full
    configuration, final accuracy, PR(h_T) before/after, top exponents and the orthogonal
    compression ratio of h_T (both variants, final readout, no within-epoch averaging).
    """
    cfg = dict(cfg)
    name = cfg.pop("name", None)
    snapshots = cfg.pop("snapshots", False)
    do_holdout = cfg.pop("holdout", True)
    if "lyap_epochs" in cfg:
        cfg["lyap_epochs"] = tuple(cfg["lyap_epochs"])
    config = FarrellConfig(**cfg)
    try:
        run = train_farrell(config)
    except TrainingDivergedError as exc:  # saved as a diverged run: last good weights, no analyses
        net = exc.partial.net
        return ({"W": net.W, "b": net.b, "W_out": net.W_out, "b_out": net.b_out}, exc.partial.history,
                {"diverged": True, "diverged_step": exc.step, "diverged_reason": str(exc).split(";")[0]})
    pts = run.analysis_set.points
    arrays = {
        "pr_before": pr_over_time(run.net0, pts, config.t_max),
        "pr_after": pr_over_time(run.net, pts, config.t_max),
        "lyap_epochs": np.array(sorted(run.lyapunov)),
        "lyap_nats": np.array([run.lyapunov[e].exponents_nats for e in sorted(run.lyapunov)]),
        "W": run.net.W, "b": run.net.b, "W_out": run.net.W_out, "b_out": run.net.b_out,
    }
    if do_holdout:
        arrays["holdout_before"] = np.array(holdout_accuracy(run.net0, run.analysis_set, config.T,
                                                             n_clusters=config.n_clusters,
                                                             n_train_clusters=round(49 * config.n_clusters / 60)))
        arrays["holdout_after"] = np.array(holdout_accuracy(run.net, run.analysis_set, config.T,
                                                            n_clusters=config.n_clusters,
                                                            n_train_clusters=round(49 * config.n_clusters / 60)))
    if snapshots:
        rng = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(6)[5])
        snap = run.task.balanced(rng, 800)
        proj, ro = pca_snapshots(run.net, snap.points, 32)
        arrays.update(pca=proj, pca_readout=ro, pca_labels=snap.labels)
    H0 = states(run.net0, pts, config.T)[:, config.T]
    H1 = states(run.net, pts, config.T)[:, config.T]
    labels = run.analysis_set.labels
    summary = {
        **config.to_dict(),
        "orth_compression": orthogonal_compression(H0, H1, labels, run.net0.W_out, run.net.W_out),
        "orth_compression_mean_diff": orthogonal_compression(H0, H1, labels, run.net0.W_out,
                                                             run.net.W_out, variant="mean_diff"),
        "final_accuracy": run.history["accuracy"][-1],
        "pr_T_before": float(arrays["pr_before"][config.T]),
        "pr_T_after": float(arrays["pr_after"][config.T]),
        "top_lyap_before": float(arrays["lyap_nats"][0, 0]) if 0 in run.lyapunov else float("nan"),
        "top_lyap_after": float(arrays["lyap_nats"][-1, 0]),
        "diverged": False,
    }
    return arrays, run.history, summary
