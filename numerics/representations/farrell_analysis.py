r"""Analyses of a Farrell et al. (2022) network (spec ``dimensionality.md`` §5): hidden
states, participation ratio per layer, held-out-cluster separability, accuracy, PCA
snapshots, the Lyapunov spectrum and the compression orthogonal to the readout.

All analyses are noise-free (no hidden noise, no dropout).
"""
from __future__ import annotations

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError
from rnn_theory.numerics.rate.analysis import participation_ratio
from rnn_theory.numerics.rate.model import RateRNN, forward
from rnn_theory.numerics.representations.clusters import holdout_split
from rnn_theory.numerics.representations.logistic import fit_logistic
from rnn_theory.numerics.representations.lyapunov import LyapunovResult, lyapunov_spectrum

__all__ = ["states", "pr_over_time", "holdout_accuracy", "accuracy", "pca_snapshots", "net_lyapunov",
           "orthogonal_compression"]


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
