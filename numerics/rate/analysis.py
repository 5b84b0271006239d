r"""Analyses of trained networks: dimensionality, SVD of ΔW, truncation, shuffle test.

(Module shared by the nonlinear-task and dimensionality work; one concept per function.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

import numpy as np

from rnn_theory.theory.errors import DomainError, NonFiniteError, RNNTheoryError, ShapeError, check_finite

from rnn_theory.numerics.representations.lyapunov import lyapunov_spectrum  # noqa: F401  (QR/Benettin; defined in rnn_theory.numerics.representations.lyapunov)

__all__ = [
    "max_real_eig",
    "participation_ratio",
    "lyapunov_spectrum",
    "evaluate",
    "dw_svd",
    "truncate",
    "truncation_losses",
    "functional_rank",
    "shuffle_loss",
    "convergence_step",
    "analyze_run",
    "RunAnalysis",
]


def max_real_eig(W) -> float:
    r"""Largest real part of an eigenvalue of a square matrix (dense, :math:`O(N^3)`).

    A fixed point of :math:`\dot x = -x + Wx + \dots` is stable iff this is below 1.

    >>> max_real_eig(np.array([[0.5, 1.0], [0.0, -0.2]]))
    0.5
    """
    return float(np.max(np.linalg.eigvals(np.asarray(W, dtype=float)).real))


def participation_ratio(X) -> float:
    r"""Participation ratio of the rows of ``X`` (samples × features).

    .. math::
        \mathrm{PR} = \frac{(\operatorname{tr} C)^2}{\operatorname{tr} C^2}
        = \frac{(\sum_i \lambda_i)^2}{\sum_i \lambda_i^2},

    with :math:`C` the covariance of the column-centred data.  Computed from whichever
    of the covariance (features × features) or Gram (samples × samples) matrix is
    smaller, which have the same non-zero spectrum: cost
    :math:`O(n\,d\,\min(n, d))` for ``n`` samples and ``d`` features.
    The normalisation of :math:`C` cancels, so PR is scale invariant and lies in
    :math:`[1, \operatorname{rank}]`.

    >>> rng = np.random.default_rng(0)
    >>> round(participation_ratio(np.outer(rng.normal(size=50), rng.normal(size=4))), 6)
    1.0
    >>> round(participation_ratio(np.vstack([np.eye(3), -np.eye(3)])), 6)
    3.0
    """
    X = check_finite("X", np.asarray(X, dtype=float))
    if X.ndim != 2 or X.shape[0] < 2:
        raise ShapeError(f"X must be a (samples, features) array with >= 2 samples, got shape {X.shape}")
    Xc = X - X.mean(axis=0, keepdims=True)
    M = Xc.T @ Xc if X.shape[1] <= X.shape[0] else Xc @ Xc.T
    tr = np.trace(M)
    tr2 = np.sum(M * M)  # tr(M^2) for symmetric M
    if tr2 == 0:
        raise ShapeError("X has zero variance: the participation ratio is undefined")
    return float(tr * tr / tr2)


# ---------------------------------------------------------------------------------------
# Low-rank structure of the learned connectivity (Schuessler et al. 2020, §6 of the spec)
# ---------------------------------------------------------------------------------------
def evaluate(net, trials, *, loss="masked_mse", x0=None, chunk: int = 256) -> float:
    """Noise-free loss of ``net`` on ``trials`` (``rnn_theory.numerics.rate.tasks.Trials``).

    Uses :func:`rnn_theory.numerics.rate.model.predict` (memory :math:`O(\\text{chunk}\\,N)`), cost :math:`O(BTN^2)`.
    """
    from rnn_theory.numerics.rate.losses import get_loss
    from rnn_theory.numerics.rate.model import predict

    if trials.n_in != net.n_in or trials.n_out != net.n_out:
        raise ShapeError(f"trials have n_in = {trials.n_in}, n_out = {trials.n_out}; the network has "
                         f"n_in = {net.n_in}, n_out = {net.n_out}")
    z = predict(net, trials.inputs, x0=x0, chunk=chunk)
    return float(get_loss(loss)(z, trials.targets, trials.mask)[0])


def _square(name, A, n=None):
    A = check_finite(name, np.asarray(A, dtype=float))
    if A.ndim != 2 or A.shape[0] != A.shape[1] or (n is not None and A.shape[0] != n):
        raise ShapeError(f"{name} must be a square ({n or 'N'}, {n or 'N'}) matrix, got shape {A.shape}")
    return A


def dw_svd(W, W0):
    r"""SVD of :math:`\Delta W = W - W_0 = U S V^\top`: returns ``(U, s, Vt)``, ``s`` descending.

    Cost :math:`O(N^3)`.

    >>> import numpy as np
    >>> u = np.array([1.0, 0, 0]); v = np.array([0, 1.0, 0])
    >>> U, s, Vt = dw_svd(np.eye(3) + 2 * np.outer(u, v), np.eye(3))
    >>> np.round(s, 12).tolist()
    [2.0, 0.0, 0.0]
    """
    W = _square("W", W)
    W0 = _square("W0", W0, W.shape[0])
    return np.linalg.svd(W - W0)


def truncate(W0, svd, R: int) -> np.ndarray:
    r""":math:`W_R = W_0 + \sum_{r\le R} s_r u_r v_r^\top` from ``svd = dw_svd(W, W0)``. Cost :math:`O(N^2R)`."""
    U, s, Vt = svd
    if not isinstance(R, (int, np.integer)) or R < 0:
        raise DomainError(f"rank R must be an integer >= 0, got {R!r}")
    R = min(int(R), len(s))
    return np.asarray(W0, float) + (U[:, :R] * s[:R]) @ Vt[:R]


def truncation_losses(net, W0, trials, *, ranks: Iterable[int] = range(26), loss="masked_mse",
                      x0=None) -> dict:
    r"""Loss of :math:`W_0 + \mathrm{rank}_R(\Delta W)` with the *trained* ``W_in``, ``W_out``.

    Returns a dict of arrays over ``ranks`` (ranks above N are dropped): ``rank``,
    ``loss`` :math:`L_R`, ``residual_norm`` :math:`\|\Delta W_R - \Delta W\|_F` and
    ``explained`` :math:`\sum_{r\le R}s_r^2/\sum_r s_r^2`.  One fixed evaluation batch
    (``trials``) is used for all R.  Cost :math:`O(N^3 + |\text{ranks}|\,BTN^2)`.
    """
    svd = dw_svd(net.W, W0)
    s = svd[1]
    ranks = np.array(sorted({int(r) for r in ranks if 0 <= int(r) <= net.n}), dtype=int)
    if ranks.size == 0:
        raise DomainError(f"no valid rank in 0..N = 0..{net.n}")
    tot = float(np.sum(s**2))
    csum = np.concatenate([[0.0], np.cumsum(s**2)])
    out = {"rank": ranks, "loss": np.zeros(len(ranks)),
           "residual_norm": np.sqrt(np.maximum(tot - csum[ranks], 0.0)),
           "explained": csum[ranks] / tot if tot > 0 else np.ones(len(ranks))}
    for i, R in enumerate(ranks):
        WR = truncate(W0, svd, int(R)).astype(net.dtype)
        out["loss"][i] = evaluate(net.replace(W=WR), trials, loss=loss, x0=x0)
    return out


def functional_rank(ranks, losses, *, threshold: float = 0.05):
    """Smallest R >= 1 with :math:`L_R <` ``threshold`` · :math:`L_0`; ``None`` if none qualifies.

    ``ranks`` must contain 0 (the reference :math:`L_0`, with the trained W_in and W_out).

    >>> functional_rank([0, 1, 2, 3], [1.0, 0.5, 0.04, 0.01])
    2
    >>> functional_rank([0, 1], [1.0, 0.5]) is None
    True
    """
    ranks = np.asarray(ranks)
    losses = np.asarray(losses, dtype=float)
    if ranks.shape != losses.shape or ranks.ndim != 1:
        raise ShapeError(f"ranks {ranks.shape} and losses {losses.shape} must be 1-D of equal length")
    zero = np.nonzero(ranks == 0)[0]
    if zero.size == 0:
        raise RNNTheoryError("ranks must include 0 (the loss of W0 with the trained input and output weights)")
    L0 = losses[zero[0]]
    ok = (ranks >= 1) & (losses < threshold * L0)
    return int(ranks[ok].min()) if np.any(ok) else None


def shuffle_loss(net, W0, trials, rng: np.random.Generator, *, loss="masked_mse", x0=None) -> float:
    r"""Loss of :math:`\pi(W_0) + \Delta W` with the trained ``W_in``, ``W_out``.

    :math:`\pi` is one random permutation of all :math:`N^2` entries of :math:`W_0`
    (destroying any correlation between :math:`W_0` and :math:`\Delta W` while keeping
    the entry distribution).  Divide by the step-0 training loss for the spec's ratio.
    Cost :math:`O(N^2 + BTN^2)`.
    """
    if not isinstance(rng, np.random.Generator):
        raise RNNTheoryError("rng must be a numpy.random.Generator")
    W0 = _square("W0", W0, net.n)
    dW = net.W - W0
    Ws = W0.ravel()[rng.permutation(W0.size)].reshape(W0.shape) + dW
    return evaluate(net.replace(W=Ws.astype(net.dtype)), trials, loss=loss, x0=x0)


def convergence_step(loss, *, threshold: float = 0.05):
    """First step whose (noisy batch) loss is < ``threshold`` × ``loss[0]``; ``None`` if never.

    ``None`` means the finite history never crossed the threshold.  A history with NaN or
    infinity (a diverged run) has no convergence step and raises
    :class:`~rnn_theory.theory.errors.NonFiniteError` naming the first bad step.

    >>> convergence_step([1.0, 0.5, 0.2, 0.04, 0.01])
    3
    >>> convergence_step([1.0, 0.9]) is None
    True
    >>> convergence_step([1.0, float("nan"), 0.01])
    Traceback (most recent call last):
    ...
    rnn_theory.theory.errors.NonFiniteError: loss is NaN or infinite from step 1 on (1 of 3 steps): a diverged run has no convergence step
    """
    loss = np.asarray(loss, dtype=float)
    if loss.ndim != 1 or loss.size == 0:
        raise ShapeError(f"loss must be a non-empty 1-D history, got shape {loss.shape}")
    bad = np.flatnonzero(~np.isfinite(loss))
    if bad.size:
        raise NonFiniteError(f"loss is NaN or infinite from step {int(bad[0])} on ({bad.size} of {loss.size} "
                             "steps): a diverged run has no convergence step")
    hit = np.nonzero(loss < threshold * loss[0])[0]
    return int(hit[0]) if hit.size else None


@dataclass
class RunAnalysis:
    """Summary of one trained run (see :func:`analyze_run`)."""

    converged_step: int | None
    dw_norm: float
    w0_norm: float
    functional_rank: int | None
    shuffle_loss: float
    shuffle_loss_ratio: float
    initial_loss: float
    final_eval_loss: float
    singular_values: np.ndarray
    truncation: dict

    def summary(self) -> dict:
        """Scalars only (JSON-friendly; ``None`` for not converged / not found)."""
        return {k: getattr(self, k) for k in ("converged_step", "dw_norm", "w0_norm", "functional_rank",
                                              "shuffle_loss", "shuffle_loss_ratio", "initial_loss",
                                              "final_eval_loss")}


def analyze_run(net, W0, train_loss, task: Callable, rng: np.random.Generator, *, n_eval: int = 512,
                ranks: Iterable[int] = range(26), loss="masked_mse", task_kwargs: Mapping | None = None,
                x0=None, threshold: float = 0.05) -> RunAnalysis:
    r"""All per-run analyses of the spec (§6) on one fixed batch of ``n_eval`` fresh trials.

    SVD of :math:`\Delta W`, truncation losses for ``ranks``, functional rank, shuffle test
    (normalised by ``train_loss[0]``, the step-0 training loss), convergence step of the
    training history, :math:`\|\Delta W\|_F` and :math:`\|W_0\|_F`.
    Draw order from ``rng``: evaluation trials, then the shuffle permutation.
    Cost :math:`O(N^3 + (|\text{ranks}|+1)\,n_{\rm eval} T N^2)`.
    """
    W0 = _square("W0", W0, net.n)
    train_loss = np.asarray(train_loss, dtype=float)
    trials = task(rng, n_eval, **dict(task_kwargs or {}))
    tr = truncation_losses(net, W0, trials, ranks=ranks, loss=loss, x0=x0)
    sh = shuffle_loss(net, W0, trials, rng, loss=loss, x0=x0)
    L0 = float(train_loss[0])
    return RunAnalysis(
        converged_step=convergence_step(train_loss, threshold=threshold),
        dw_norm=float(np.linalg.norm(net.W - W0)),
        w0_norm=float(np.linalg.norm(W0)),
        functional_rank=functional_rank(tr["rank"], tr["loss"], threshold=threshold),
        shuffle_loss=sh,
        shuffle_loss_ratio=sh / L0 if L0 > 0 else float("nan"),
        initial_loss=L0,
        final_eval_loss=evaluate(net, trials, loss=loss, x0=x0),
        singular_values=np.linalg.svd(net.W - W0, compute_uv=False),
        truncation=tr,
    )
