r"""Task generators of Schuessler et al. (2020): flip-flop, Mante, Romo, cosine, fixed point.

Every generator has the signature ``task(rng, batch_size, **options) -> Trials`` and
returns ``inputs`` (B, T, n_in), ``targets`` (B, T, n_out) and ``mask`` (B, T, n_out).

**Time alignment** (all tasks): index ``t`` is one Euler step of length ``dt`` (0.5
unless stated), a duration D spans ``int(D/dt)`` steps, and ``targets[:, t]`` is
compared with the output read from the state *after* the update that consumed
``inputs[:, t]`` (:func:`rnn_theory.numerics.rate.model.forward`: :math:`z_t = W_{\rm out}\phi(x_{t+1})`).
Everything not stated is 0 and slices are clipped at the trial end.

Draw order (for reproducibility with a seeded ``rng``) is documented per task; one
``rng`` drives the whole batch, trial after trial.  Cost :math:`O(B\,T\,n)`.

>>> import numpy as np
>>> tr = flipflop(np.random.default_rng(0), 4)
>>> tr.inputs.shape, tr.targets.shape, tr.mask.shape
((4, 100, 2), (4, 100, 2), (4, 100, 2))
>>> get_task("romo")(np.random.default_rng(0), 2).inputs.shape
(2, 56, 1)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError, check_finite

from rnn_theory.numerics.representations.clusters import ClusterTask  # Farrell et al. cluster classification (rnn_theory.numerics.representations.clusters)

__all__ = ["ClusterTask", "Trials", "flipflop", "mante", "romo", "cosine", "fixed_point", "get_task", "TASKS",
           "TASK_SIZES", "cosine_network"]


@dataclass(frozen=True, eq=False)
class Trials:
    """A batch of trials: ``inputs`` (B, T, n_in), ``targets`` and ``mask`` (B, T, n_out).

    Validated at construction: 3-D, equal batch and time sizes, finite, mask >= 0.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray

    def __post_init__(self):
        u = check_finite("inputs", np.asarray(self.inputs, dtype=float))
        y = check_finite("targets", np.asarray(self.targets, dtype=float))
        m = check_finite("mask", np.asarray(self.mask, dtype=float))
        if u.ndim != 3 or y.ndim != 3:
            raise ShapeError(f"inputs and targets must be (batch, time, features); got {u.shape}, {y.shape}")
        if u.shape[:2] != y.shape[:2]:
            raise ShapeError(f"inputs {u.shape} and targets {y.shape} differ in batch or time size")
        if m.shape != y.shape:
            raise ShapeError(f"mask {m.shape} must have the targets' shape {y.shape}")
        if np.any(m < 0):
            raise RNNTheoryError("mask entries must be >= 0")
        object.__setattr__(self, "inputs", u)
        object.__setattr__(self, "targets", y)
        object.__setattr__(self, "mask", m)

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]

    @property
    def steps(self) -> int:
        return self.inputs.shape[1]

    @property
    def n_in(self) -> int:
        return self.inputs.shape[2]

    @property
    def n_out(self) -> int:
        return self.targets.shape[2]


def _check(rng, batch_size):
    if not isinstance(rng, np.random.Generator):
        raise RNNTheoryError("rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed))")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DomainError(f"batch_size must be a positive integer, got {batch_size!r}")


def _check_dt(dt):
    if not (isinstance(dt, (int, float)) and 0 < dt <= 1):
        raise DomainError(f"dt must be a number in (0, 1], got {dt!r}")


def flipflop(rng: np.random.Generator, batch_size: int, *, dt: float = 0.5, steps: int = 100,
             amplitude: float = 1.0, target_amplitude: float = 0.5) -> Trials:
    r"""Flip-flop, Schuessler et al.'s variant ("last pulse wins"), n_in = n_out = 2.

    Pulse onsets start at ``p = 2``; while ``p <= steps``: draw :math:`\delta\sim U(5, 25)`
    and set ``n = int((δ + 5)/dt)``; draw channel ``c ∈ {0, 1}`` then sign ``s = ±1``;
    input ``c`` is ``s·amplitude`` on steps ``[p, p+2)``; on ``[p+10, p+n)`` the target of
    channel ``c`` is ``s·target_amplitude`` and that of the other channel 0, and the mask
    is 1 on both channels; then ``p += n``.  The mask is 0 before the first decision window
    and in the 10-step delay after each pulse.  Draw order per trial: δ, c, s per pulse.
    """
    _check(rng, batch_size)
    _check_dt(dt)
    u = np.zeros((batch_size, steps, 2))
    y = np.zeros((batch_size, steps, 2))
    m = np.zeros((batch_size, steps, 2))
    for i in range(batch_size):
        p = 2
        while p <= steps:
            delta = rng.uniform(5.0, 25.0)
            n = int((delta + 5.0) / dt)
            c = int(rng.integers(0, 2))
            s = 1.0 if rng.integers(0, 2) else -1.0
            u[i, p:p + 2, c] = s * amplitude
            y[i, p + 10:p + n, :] = 0.0
            y[i, p + 10:p + n, c] = s * target_amplitude
            m[i, p + 10:p + n, :] = 1.0
            p += n
    return Trials(u, y, m)


MANTE_COHERENCES = np.array([-1.0, -0.5, -0.25, -0.125, 0.125, 0.25, 0.5, 1.0])


def mante(rng: np.random.Generator, batch_size: int, *, dt: float = 0.5, noise: float = 0.05,
          target_amplitude: float = 0.5) -> Trials:
    r"""Context-dependent integration (Mante et al. 2013), n_in = 4, n_out = 1, 96 steps.

    Inputs ``[ctx1, ctx2, sens1, sens2]``.  Epochs (steps): fixation 0–5, stimulus 6–45,
    delay 46–55, decision 56–95.  Per trial draw coherences :math:`c_1, c_2` from
    :math:`\{\pm1/8,\pm1/4,\pm1/2,\pm1\}` and a context ``k``; sensory channel ``j``
    carries :math:`c_j` during the stimulus plus Gaussian noise of std
    :math:`\text{noise}/\sqrt{dt}` on *every* step; context channel ``k`` is 1 during the
    stimulus (noise-free).  Target :math:`0.5\,\mathrm{sign}(c_k)` over the decision epoch;
    mask 1 on steps 0–45 (target 0) and 56–95, 0 during the delay.
    Draw order: c1, c2, k for all trials (vectorised), then the noise (B, 96, 2).
    """
    _check(rng, batch_size)
    _check_dt(dt)
    T = 96
    B = batch_size
    c = MANTE_COHERENCES[rng.integers(0, 8, size=(B, 2))]
    k = rng.integers(0, 2, size=B)
    u = np.zeros((B, T, 4))
    u[:, 6:46, 0] = (k == 0)[:, None]
    u[:, 6:46, 1] = (k == 1)[:, None]
    u[:, 6:46, 2:4] = c[:, None, :]
    u[:, :, 2:4] += (noise / np.sqrt(dt)) * rng.standard_normal((B, T, 2))
    y = np.zeros((B, T, 1))
    y[:, 56:96, 0] = (target_amplitude * np.sign(c[np.arange(B), k]))[:, None]
    m = np.zeros((B, T, 1))
    m[:, 0:46] = 1.0
    m[:, 56:96] = 1.0
    return Trials(u, y, m)


def romo(rng: np.random.Generator, batch_size: int, *, dt: float = 0.5,
         target_amplitude: float = 0.5, min_gap: float = 0.2) -> Trials:
    r"""Parametric working memory (Romo et al. 1999), two-output variant; n_in = 1, n_out = 2, 56 steps.

    Per trial: :math:`f_1, f_2 \sim U(0.5, 1.5)` redrawn (as a pair) until
    :math:`|f_1 - f_2| \ge 0.2`; delay :math:`\delta\sim U(2, 8)`, ``k = int(δ/dt)``.
    Input ``f1`` on steps ``[6, 8)`` and ``f2`` on ``[8+k, 10+k)``.  Decision window
    ``[20+k, 40+k)``: target channel ``argmax(f1, f2)`` = 0.5, the other 0.  Mask 1 on both
    channels over ``[0, 10+k)`` (target 0) and over the decision window; 0 in the
    decision delay ``[10+k, 20+k)`` and on leftover steps at the end.
    Draw order per trial: (f1, f2) until accepted, then δ.
    """
    _check(rng, batch_size)
    _check_dt(dt)
    T = 56
    u = np.zeros((batch_size, T, 1))
    y = np.zeros((batch_size, T, 2))
    m = np.zeros((batch_size, T, 2))
    for i in range(batch_size):
        while True:
            f1, f2 = rng.uniform(0.5, 1.5, size=2)
            if abs(f1 - f2) >= min_gap:
                break
        k = int(rng.uniform(2.0, 8.0) / dt)
        u[i, 6:8, 0] = f1
        u[i, 8 + k:10 + k, 0] = f2
        y[i, 20 + k:40 + k, int(f2 > f1)] = target_amplitude
        m[i, 0:10 + k, :] = 1.0
        m[i, 20 + k:40 + k, :] = 1.0
    return Trials(u, y, m)


def cosine(rng: np.random.Generator, batch_size: int = 1, *, dt: float = 0.1, steps: int = 200,
           period: float = 5.0, masked_steps: int = 100) -> Trials:
    r"""Cosine generation (supplement): no input (one channel of zeros), n_out = 1.

    Target at index ``i``: :math:`\cos(2\pi\, i\, dt / \text{period})`, compared with the
    output read from :math:`x_{i+1}` (the package's readout convention; spec §5.5).  Mask 1
    on the first ``masked_steps`` steps (two periods).  Deterministic: ``rng`` is unused
    but kept for the common signature.  The network is special (``x0 = m``,
    ``W_out = mᵀ/N``, dt = 0.1): build it with :func:`cosine_network`.
    """
    _check(rng, batch_size)
    i = np.arange(steps)
    y = np.broadcast_to(np.cos(2 * np.pi * i * dt / period)[None, :, None], (batch_size, steps, 1))
    m = np.zeros((batch_size, steps, 1))
    m[:, :masked_steps] = 1.0
    return Trials(np.zeros((batch_size, steps, 1)), y.copy(), m)


def cosine_network(n: int, g: float, rng: np.random.Generator, *, phi: str = "linear", dt: float = 0.1):
    r"""Network and initial state for the cosine task: returns ``(net, x0)``.

    ``m`` is a standard Gaussian N-vector rescaled to norm :math:`\sqrt N`;
    :math:`x_0 = m`, ``W_out = mᵀ/N`` (so :math:`W_{\rm out}x_0 = 1`), :math:`W_0 = gJ`.
    ``W_in`` is an (irrelevant, the input is 0) normalised random column.  Only W is trained.
    Draw order: J, W_in, m.
    """
    from rnn_theory.numerics.rate.model import RateRNN

    base = RateRNN.init(n, 1, 1, g, rng, dt=dt, phi=phi)
    m = rng.standard_normal(n)
    m *= np.sqrt(n) / np.linalg.norm(m)
    return base.replace(W_out=(m / n)[None, :]), m


def fixed_point(rng: np.random.Generator, batch_size: int = 1, *, zhat: float = 1.0, steps: int = 202) -> Trials:
    r"""Input-driven fixed point (linear network), n_in = n_out = 1, ``steps`` = 202 (or 402).

    Input 0 for the first 2 steps, then 1 to the end; target ``zhat`` on the last 2 steps,
    which are the only masked steps.  In effect this reads the fixed point
    :math:`W_{\rm out}(I-W)^{-1}W_{\rm in}`.  Deterministic (``rng`` unused).
    """
    _check(rng, batch_size)
    if not isinstance(steps, (int, np.integer)) or steps < 3:
        raise DomainError(f"steps must be an integer >= 3, got {steps!r}")
    u = np.zeros((batch_size, steps, 1))
    u[:, 2:] = 1.0
    y = np.zeros((batch_size, steps, 1))
    m = np.zeros((batch_size, steps, 1))
    y[:, -2:] = zhat
    m[:, -2:] = 1.0
    return Trials(u, y, m)


TASKS: dict[str, Callable[..., Trials]] = {
    "flipflop": flipflop, "mante": mante, "romo": romo, "cosine": cosine, "fixed_point": fixed_point,
}
#: (n_in, n_out) of each task
TASK_SIZES = {"flipflop": (2, 2), "mante": (4, 1), "romo": (1, 2), "cosine": (1, 1), "fixed_point": (1, 1)}


def get_task(name: str) -> Callable[..., Trials]:
    """The task generator called ``name`` (one of :data:`TASKS`)."""
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise RNNTheoryError(f"unknown task {name!r}; choose one of {sorted(TASKS)}") from None
