r"""Configuration and initial network of a Farrell et al. (2022) run (spec ``dimensionality.md`` §3).

:class:`FarrellConfig` holds and validates the hyper-parameters; :func:`init_farrell`
draws the task and the initial :class:`~rnn_theory.numerics.rate.model.RateRNN` with
:math:`W = 0.99\,I + 0.01\,\gamma\,\hat J` (:func:`farrell_W`) and a frozen input matrix
(:func:`orthogonal_input` or :math:`I_{N\times d}`).  Overview of the model, conventions
and seeding: :mod:`rnn_theory.numerics.representations.dimensionality`.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np

from rnn_theory.theory.errors import DomainError
from rnn_theory.numerics.infra.optim import make_optimizer
from rnn_theory.numerics.rate.model import RateRNN
from rnn_theory.numerics.representations.clusters import ClusterTask

__all__ = ["FarrellConfig", "farrell_W", "orthogonal_input", "init_farrell", "LOSS_NAMES", "TRAINED"]

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
    dtype: str = "float64"
    lyapunov: str = "clean"

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
        if self.dtype not in ("float32", "float64"):
            raise DomainError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.lyapunov not in ("clean", "paper"):
            raise DomainError(f"lyapunov must be 'clean' or 'paper' (the authors' Jacobian one step "
                              f"later and stopping rule), got {self.lyapunov!r}")
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
    return task, net.astype(config.dtype)
