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
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError, TrainingDivergedError
from rnn_theory.numerics.rate.analysis import participation_ratio
from rnn_theory.numerics.representations.clusters import ClusterTask, holdout_split
from rnn_theory.numerics.representations.logistic import fit_logistic
from rnn_theory.numerics.rate.losses import cross_entropy, mse
from rnn_theory.numerics.representations.lyapunov import LyapunovResult, lyapunov_spectrum
from rnn_theory.numerics.infra.optim import make_optimizer
from rnn_theory.numerics.rate.model import RateRNN, backward, forward

__all__ = [
    "FarrellConfig", "FarrellRun", "farrell_W", "orthogonal_input", "init_farrell",
    "loss_and_grad", "regulariser", "PlateauSchedule", "train_farrell",
    "states", "pr_over_time", "holdout_accuracy", "accuracy", "pca_snapshots",
    "net_lyapunov", "orthogonal_compression", "farrell_run",
]

LOSS_NAMES = ("ce", "mse", "scalar_mse")
TRAINED = ("W", "b", "W_out", "b_out")


# ----------------------------------------------------------------------------- config
@dataclass(frozen=True)
class FarrellConfig:
    r"""Hyper-parameters of one training run (defaults = the paper's high-d CE run).

    ``gamma`` is the paper's chaos parameter γ (> 0).  ``input_mode`` is
    ``"orthogonal"`` (scaled orthonormal columns) or ``"two_neurons"`` (:math:`I_{N\times d}`).
    ``loss``: ``"ce"`` (softmax cross-entropy), ``"mse"`` (mean over batch × classes of
    :math:`(o_{10} - 0.7\,\mathrm{onehot})^2`) or ``"scalar_mse"`` (one output, target
    ±0.7).  ``l2_form``: ``"farrell"`` (the authors' non-squared
    :math:`\frac{\lambda}{5N}\sum_p\lVert p\rVert_F` over the five tensors) or
    ``"squared"`` (:math:`\frac\lambda2\sum\lVert p\rVert^2` over trained tensors).
    ``schedule``: ``"plateau"`` (halve lr after more than ``patience`` epochs without
    validation improvement by ``threshold``) or ``"constant"``.
    ``lyap_epochs``: checkpoints at which the Lyapunov spectrum is computed (the final
    epoch is always added); ``lyap_steps``/``lyap_inits`` shrink it for quick runs.
    """

    gamma: float = 20.0
    d: int = 200
    N: int = 200
    input_mode: str = "orthogonal"
    loss: str = "ce"
    optimizer: str = "rmsprop"
    lr: float = 1e-3
    alpha: float = 0.9
    batch_size: int = 10
    n_train: int = 800
    n_val: int | None = None
    epochs: int = 40
    T: int = 10
    hidden_noise: float = 0.0
    dropout: float = 0.0
    l2: float = 0.0
    l2_form: str = "farrell"
    schedule: str = "plateau"
    patience: int = 5
    threshold: float = 1e-7
    factor: float = 0.5
    train_W_out: bool = True
    n_clusters: int = 60
    sigma: float = 0.02
    n_analysis: int = 500
    n_accuracy: int = 1000
    t_max: int = 15
    lyap_epochs: tuple = (0, 1, 5, 10)
    lyap_exponents: int = 10
    lyap_steps: int = 1000
    lyap_inits: int = 10
    seed: int = 0

    def __post_init__(self):
        def pos_int(name, low=1):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
                raise DomainError(f"{name} must be an integer >= {low}, got {v!r}")

        for name in ("d", "N", "batch_size", "n_train", "T", "n_clusters", "n_accuracy",
                     "lyap_exponents", "lyap_steps", "lyap_inits", "patience"):
            pos_int(name)
        pos_int("epochs", 0)
        pos_int("n_analysis", 2)
        pos_int("t_max", self.T)
        if not (isinstance(self.gamma, numbers.Real) and math.isfinite(self.gamma) and self.gamma > 0):
            raise DomainError(f"gamma must be a finite number > 0 (W = 0.99 I + 0.01 gamma J), got {self.gamma!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise DomainError(f"lr must be a finite number > 0, got {self.lr!r}")
        for name in ("sigma", "hidden_noise", "l2", "threshold"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise DomainError(f"{name} must be a finite number >= 0, got {v!r}")
        if not 0 <= self.dropout < 1:
            raise DomainError(f"dropout must be a probability in [0, 1), got {self.dropout!r}")
        if not 0 < self.factor < 1:
            raise DomainError(f"factor must lie in (0, 1), got {self.factor!r}")
        if self.input_mode not in ("orthogonal", "two_neurons"):
            raise DomainError(f"input_mode must be 'orthogonal' or 'two_neurons', got {self.input_mode!r}")
        if self.input_mode == "two_neurons" and self.d > self.N:
            raise DomainError(f"two_neurons input (W_in = I_(N x d)) needs d <= N, got d={self.d}, N={self.N}")
        if self.input_mode == "orthogonal" and self.d > self.N:
            raise DomainError(f"orthonormal input columns need d <= N, got d={self.d}, N={self.N}")
        if self.loss not in LOSS_NAMES:
            raise DomainError(f"loss must be one of {LOSS_NAMES}, got {self.loss!r}")
        if self.l2_form not in ("farrell", "squared"):
            raise DomainError(f"l2_form must be 'farrell' or 'squared', got {self.l2_form!r}")
        if self.schedule not in ("plateau", "constant"):
            raise DomainError(f"schedule must be 'plateau' or 'constant', got {self.schedule!r}")
        if self.n_clusters < 2:
            raise DomainError("need at least 2 clusters for 2 classes")
        if self.lyap_exponents > self.N:
            raise DomainError(f"lyap_exponents must be <= N = {self.N}")
        object.__setattr__(self, "lyap_epochs", tuple(int(e) for e in self.lyap_epochs))
        make_optimizer(self.optimizer, self.lr)  # validates the name

    @property
    def n_out(self) -> int:
        return 1 if self.loss == "scalar_mse" else 2

    @property
    def n_validation(self) -> int:
        return int(round(0.15 * self.n_train)) if self.n_val is None else int(self.n_val)

    def streams(self):
        """Independent generators (task, net, train, analysis) spawned from ``seed``."""
        return [np.random.default_rng(s) for s in np.random.SeedSequence(self.seed).spawn(4)]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["lyap_epochs"] = list(self.lyap_epochs)
        return out


# ----------------------------------------------------------------------------- model
def farrell_W(N: int, gamma: float, rng: np.random.Generator) -> np.ndarray:
    r""":math:`W = 0.99 I + 0.01\gamma \hat J`, :math:`\hat J = J/\rho(J)` with
    :math:`\rho(\hat J) = 1` exactly (to rounding).  Cost :math:`O(N^3)` (eigenvalues).

    >>> W = farrell_W(50, 20.0, np.random.default_rng(0))
    >>> round(float(np.max(np.abs(np.linalg.eigvals((W - 0.99 * np.eye(50)) / 0.2)))), 12)
    1.0
    """
    if not (isinstance(gamma, numbers.Real) and math.isfinite(gamma) and gamma > 0):
        raise DomainError(f"gamma must be a finite number > 0, got {gamma!r}")
    J = rng.standard_normal((N, N)) / math.sqrt(N)
    J /= np.max(np.abs(np.linalg.eigvals(J)))
    return 0.99 * np.eye(N) + 0.01 * gamma * J


def orthogonal_input(N: int, d: int, rng: np.random.Generator) -> np.ndarray:
    r"""Scaled orthonormal input: :math:`Q/(\overline{|Q_{ij}|}\sqrt d)`, ``Q`` the QR factor
    of an N×d Gaussian matrix with signs fixed by diag(R) (≈ :math:`\sqrt{\pi N/(2d)}\,Q`)."""
    if d > N:
        raise DomainError(f"need d <= N for orthonormal columns, got d={d}, N={N}")
    Q, R = np.linalg.qr(rng.standard_normal((N, d)))
    Q = Q * np.where(np.diagonal(R) < 0, -1.0, 1.0)
    return Q / (np.mean(np.abs(Q)) * math.sqrt(d))


def init_farrell(config: FarrellConfig):
    """The task and the initial network of a run: ``(task, net0)``.

    Draw order: task centres from the ``task`` stream; J, W_in, W_out from ``net``.
    """
    rng_task, rng_net, _, _ = config.streams()
    task = ClusterTask.make(config.d, rng_task, n_clusters=config.n_clusters, sigma=config.sigma,
                            T=config.T)
    N = config.N
    W = farrell_W(N, float(config.gamma), rng_net)
    if config.input_mode == "orthogonal":
        W_in = orthogonal_input(N, config.d, rng_net)
    else:
        W_in = np.eye(N, config.d)
    W_out = rng_net.normal(0.0, 0.3 / math.sqrt(N), size=(config.n_out, N))
    net = RateRNN(W=W, W_in=W_in, W_out=W_out, b=np.zeros(N), b_out=np.zeros(config.n_out),
                  dt=1.0, phi="tanh")
    return task, net


# ----------------------------------------------------------------------------- loss
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


# ----------------------------------------------------------------------------- analyses
def states(net: RateRNN, points, t_max: int = 15) -> np.ndarray:
    r"""Noise-free hidden states :math:`h_0 \ldots h_{t_{\max}}` for stimuli ``points`` (n, d)
    shown at the first step: array (n, t_max + 1, N); ``[:, 0]`` is :math:`h_0 = 0`."""
    points = np.asarray(points, dtype=float)
    u = np.zeros((points.shape[0], t_max, points.shape[1]))
    u[:, 0] = points
    return forward(net, u).r


def pr_over_time(net: RateRNN, points, t_max: int = 15) -> np.ndarray:
    r"""Participation ratio per layer ``t = 0 … t_max`` (``t = 0``: the inputs themselves).

    Uses :func:`rnn_theory.numerics.rate.analysis.participation_ratio` (smaller of Gram/covariance).
    Cost :math:`O(t_{\max}(nN^2 + n N\min(n, N)))`."""
    H = states(net, points, t_max)
    return np.array([participation_ratio(points)] +
                    [participation_ratio(H[:, t]) for t in range(1, t_max + 1)])


def holdout_accuracy(net: RateRNN, batch, t_max: int = 10, *, n_train_clusters: int = 49,
                     n_clusters: int = 60, C: float = 1.0, max_iter: int = 100, rng=None):
    """Logistic-regression separability and held-out-cluster accuracy per layer.

    Trains :func:`rnn_theory.numerics.representations.logistic.fit_logistic` (C = 1) on the samples of clusters
    ``0 … n_train_clusters-1`` and tests on the others, at each ``t = 0 … t_max``
    (``t = 0``: the inputs); with ``rng``, a random set of training clusters instead
    (the authors' intended random split).  Returns ``(train_accuracy, test_accuracy)``."""
    tr, te = holdout_split(batch.cluster, n_train_clusters, n_clusters=n_clusters, rng=rng)
    H = states(net, batch.points, t_max)
    tr_acc, te_acc = np.empty(t_max + 1), np.empty(t_max + 1)
    for t in range(t_max + 1):
        X = batch.points if t == 0 else H[:, t]
        fit = fit_logistic(X[tr], batch.labels[tr], C=C, max_iter=max_iter)
        tr_acc[t] = fit.score(X[tr], batch.labels[tr])
        te_acc[t] = fit.score(X[te], batch.labels[te])
    return tr_acc, te_acc


def accuracy(net: RateRNN, batch) -> float:
    """Fraction correct: argmax of :math:`o_T` (sign for a scalar output), noise-free."""
    z = forward(net, batch.inputs).z[:, -1]
    pred = (z[:, 0] > 0).astype(int) if z.shape[1] == 1 else np.argmax(z, axis=1)
    return float(np.mean(pred == batch.labels))


def pca_snapshots(net: RateRNN, points, steps: int = 32):
    r"""Top-2 PC projections of :math:`h_{i+1}`, ``i = 0 … steps-1``, with sign alignment.

    At each step the PC signs (4 options) are chosen to minimise the Frobenius distance to
    the previous step's projection; for each PC separately this is
    :math:`s_k = \operatorname{sign}\langle P_i[:,k], P_{i-1}[:,k]\rangle`.
    Returns ``(proj (steps, n, 2), readout (steps, n_out, 2))``, the latter the rows of
    ``W_out`` projected on the same (signed) PCs.  Cost :math:`O(\text{steps}\,nN\min(n,N))`.
    """
    H = states(net, points, steps)[:, 1:]
    n = H.shape[0]
    proj = np.empty((steps, n, 2))
    ro = np.empty((steps, net.n_out, 2))
    for i in range(steps):
        X = H[:, i] - H[:, i].mean(axis=0)
        _, _, Vt = np.linalg.svd(X, full_matrices=False)
        V = Vt[:2].T
        if V.shape[1] < 2:  # degenerate (n = 1 or N = 1)
            V = np.pad(V, ((0, 0), (0, 2 - V.shape[1])))
        P = X @ V
        if i > 0:
            s = np.sign(np.sum(P * proj[i - 1], axis=0))
            s[s == 0] = 1.0
            P, V = P * s, V * s
        proj[i] = P
        ro[i] = net.W_out @ V
    return proj, ro


def net_lyapunov(net: RateRNN, rng: np.random.Generator, **kw) -> LyapunovResult:
    r"""Lyapunov spectrum of the autonomous map :math:`h \mapsto \tanh(Wh + b)` of ``net``
    (:func:`rnn_theory.numerics.representations.lyapunov.lyapunov_spectrum`, Farrell's stopping rules by default)."""
    return lyapunov_spectrum(net.W, net.b, rng=rng, **kw)


def orthogonal_compression(H_before, H_after, labels, readout_before, readout_after, *,
                           n_pcs: int | None = None, variant: str = "pca") -> float:
    r"""Compression orthogonal to the readout (spec §5.6); < 1 means task-irrelevant
    directions shrank during training.

    ``H_before``, ``H_after``: (n, N) readout-time states of the *same* samples before and
    after training; ``readout_*``: (C, N) readout rows, or (S, C, N) saves averaged over
    S (removes SGD jitter).  Variant ``"pca"``: each set is centred and expressed in its
    **own** top-``n_pcs`` PC basis (fixing the authors' branch that used the "after" basis
    for "before"), the class-``c`` readout row (or the single row for a scalar readout)
    likewise; points of class ``c`` are projected with
    :math:`P_\perp = I - r r^\top/r^\top r`; the ratio
    :math:`\lVert P_\perp h_{\rm after}\rVert/\lVert P_\perp h_{\rm before}\rVert` is
    averaged over the points of a class, then over classes.  Variant ``"mean_diff"``: the
    direction is the class-mean difference of each set, no PCA.
    """
    labels = np.asarray(labels)
    Hb, Ha = np.asarray(H_before, float), np.asarray(H_after, float)
    if Hb.shape != Ha.shape or Hb.ndim != 2 or labels.shape != (Hb.shape[0],):
        raise ShapeError("H_before and H_after must be (n, N) arrays of the same samples, labels (n,)")

    def readouts(R):
        R = np.asarray(R, float)
        return R.mean(axis=0) if R.ndim == 3 else R

    classes = np.unique(labels)

    def coords(H, R):
        Hc = H - H.mean(axis=0)
        if variant == "mean_diff":
            diff = H[labels == classes[-1]].mean(0) - H[labels == classes[0]].mean(0)
            return Hc, np.tile(diff, (len(classes), 1))
        k = min(Hc.shape) if n_pcs is None else int(n_pcs)
        _, _, Vt = np.linalg.svd(Hc, full_matrices=False)
        V = Vt[:k].T
        R = readouts(R)
        return Hc @ V, R @ V

    if variant not in ("pca", "mean_diff"):
        raise DomainError(f"variant must be 'pca' or 'mean_diff', got {variant!r}")
    Cb, Rb = coords(Hb, readout_before)
    Ca, Ra = coords(Ha, readout_after)
    ratios = []
    for i, c in enumerate(classes):
        sel = labels == c
        j = min(i, Rb.shape[0] - 1)  # scalar readout: one row serves both classes

        def perp(X, r):
            return X - np.outer(X @ r, r) / (r @ r)

        num = np.linalg.norm(perp(Ca[sel], Ra[j]), axis=1)
        den = np.linalg.norm(perp(Cb[sel], Rb[j]), axis=1)
        ratios.append(np.mean(num / den))
    return float(np.mean(ratios))


# ----------------------------------------------------------------------------- training
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
    Raises :class:`TrainingDivergedError` (with ``.partial``) if the loss becomes NaN/inf.
    """
    from rnn_theory.numerics.infra.progress import progress

    rng_task, rng_net, rng_train, rng_an = config.streams()
    task, net = init_farrell(config)
    analysis = task.balanced(rng_an, config.n_analysis)
    rng_lyap = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(5)[4])
    opt = make_optimizer(config.optimizer, config.lr,
                         **({"alpha": config.alpha} if config.optimizer == "rmsprop" else {}))
    trained = tuple(k for k in TRAINED if config.train_W_out or k not in ("W_out", "b_out"))
    state = opt.init({k: v for k, v in net.params().items() if k in trained})
    sched = PlateauSchedule(config.lr, config.patience, config.factor, config.threshold)
    lr = config.lr
    hist = {k: [] for k in ("epoch", "lr", "train_loss", "val_loss", "accuracy", "pr_T")}
    run = FarrellRun(config, task, net, net, hist, analysis_set=analysis)
    lyap_epochs = set(config.lyap_epochs) | {config.epochs}
    keep = set(keep_epochs)

    def checkpoint(epoch, net, train_loss, val_loss):
        hist["epoch"].append(epoch)
        hist["lr"].append(lr)
        hist["train_loss"].append(train_loss)
        hist["val_loss"].append(val_loss)
        hist["accuracy"].append(accuracy(net, task.balanced(rng_an, config.n_accuracy)))
        hist["pr_T"].append(participation_ratio(states(net, analysis.points, config.T)[:, config.T]))
        if epoch in lyap_epochs:
            run.lyapunov[epoch] = net_lyapunov(net, rng_lyap, n_exponents=config.lyap_exponents,
                                               max_steps=config.lyap_steps,
                                               max_init=config.lyap_inits,
                                               min_init=min(4, config.lyap_inits))
        if epoch in keep:
            run.checkpoints[epoch] = net
        if checkpoint_dir is not None:
            from rnn_theory.numerics.infra.io import save_run
            save_run(Path(checkpoint_dir) / f"epoch-{epoch:04d}", {**config.to_dict(), "epoch": epoch},
                     net.params(), hist)
        run.net = net
        if on_epoch is not None:
            on_epoch(epoch, net, run)

    checkpoint(0, net, math.nan, math.nan)
    nb = math.ceil(config.n_train / config.batch_size)
    fn = cross_entropy if config.loss == "ce" else mse
    for epoch in progress(range(1, config.epochs + 1), total=config.epochs, desc="epochs",
                          enabled=show_progress):
        data = task.sample(rng_train, config.n_train)
        losses = []
        for i in range(nb):
            batch = data.select(slice(i * config.batch_size, (i + 1) * config.batch_size))
            L, grads, _ = loss_and_grad(net, batch, config.loss, hidden_noise=config.hidden_noise,
                                        dropout=config.dropout, rng=rng_train, params=trained)
            if not math.isfinite(L):
                raise TrainingDivergedError(
                    f"loss became {L} at epoch {epoch}, batch {i}; lower the learning rate",
                    step=(epoch - 1) * nb + i, partial=run)
            losses.append(L)
            if config.l2 > 0:
                _, rg = regulariser(net, config.l2, config.l2_form, trained)
                grads = {k: grads[k] + rg[k] for k in grads}
            elif L == 0.0:
                continue  # the authors skip the update of a batch with zero loss
            params = {k: v for k, v in net.params().items() if k in trained}
            params, state = opt.step(params, grads, state, lr=lr)
            net = net.replace(**params)
        val = task.sample(rng_train, config.n_validation)
        z = forward(net, val.inputs).z
        val_loss, _ = fn(z, _targets(config.loss, val), val.mask)
        if config.schedule == "plateau":
            lr = sched.step(val_loss)
        checkpoint(epoch, net, float(np.mean(losses)), float(val_loss))
    return run


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
    run = train_farrell(config)
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
    }
    return arrays, run.history, summary
