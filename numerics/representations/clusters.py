r"""Cluster-classification task of Farrell et al. (2022).

Sixty cluster centres :math:`\mu_k \in [-2, 2]^d` are drawn by rejection sampling with
a minimum pairwise distance; cluster :math:`k` belongs to class :math:`k \bmod C`
(:math:`C = 2` classes, 30 clusters each).  A sample of cluster :math:`k` is
:math:`x = \mu_k + \sigma \xi`, :math:`\xi \sim \mathcal N(0, I_d)`, :math:`\sigma = 0.02`.

The stimulus is presented at the first of :math:`T = 10` steps only, so a trial has
``inputs[:, 0] = x`` and zeros afterwards (shape ``(batch, T, d)``).  The loss uses the
last step only: ``targets`` is the one-hot class at every step and ``mask`` is 1 at the
last step, 0 elsewhere (shape ``(batch, T, 1)``).

Minimum separation (the authors' empirical fit)::

    min_sep = sigma * (0.59943537 * (d - 1) ** 0.57832581 + 4.891638480163717)

>>> import numpy as np
>>> round(min_separation(2), 4), round(min_separation(200), 4)
(0.1098, 0.3538)
>>> task = ClusterTask.make(2, np.random.default_rng(0))
>>> task.centers.shape, task.labels[:4].tolist()
((60, 2), [0, 1, 0, 1])
>>> b = task.balanced(np.random.default_rng(1), 130)
>>> b.inputs.shape, int(np.bincount(b.cluster).min()), int(np.bincount(b.cluster).max())
((130, 10, 2), 2, 3)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError, check_finite

__all__ = ["SIGMA", "N_CLUSTERS", "T_STEPS", "min_separation", "draw_centers", "ClusterTask",
           "ClusterBatch", "holdout_split"]

SIGMA = 0.02
N_CLUSTERS = 60
T_STEPS = 10
BOX = 2.0


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DomainError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise DomainError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def min_separation(d: int, sigma: float = SIGMA) -> float:
    r"""Minimum distance between cluster centres (the authors' empirical fit).

    :math:`s(d) = \sigma\,(0.59943537\,(d-1)^{0.57832581} + 4.891638480163717)`.
    """
    d = _check_int("d (input dimension)", d, 1)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise DomainError(f"sigma must be a finite number >= 0, got {sigma!r}")
    return float(sigma * (0.59943537 * (d - 1) ** 0.57832581 + 4.891638480163717))


def _packing_impossible(n: int, d: int, sep: float, box: float) -> bool:
    """True when ``n`` points with pairwise distance >= sep provably cannot fit in the box.

    Balls of radius sep/2 around the points are disjoint and lie in the box grown by
    sep/2 on every side, so n * V_d (sep/2)^d <= (2 box + sep)^d is necessary.  (Checked
    in logs; for d = 1 the bound is exact: (n - 1) sep <= 2 box.)
    """
    if n <= 1 or sep <= 0:
        return False
    if d == 1:
        return (n - 1) * sep > 2 * box * (1 + 1e-12)
    if sep > 2 * box * math.sqrt(d):  # larger than the box diagonal
        return True
    log_ball = (d / 2) * math.log(math.pi) - math.lgamma(d / 2 + 1) + d * math.log(sep / 2)
    return math.log(n) + log_ball > d * math.log(2 * box + sep)


def draw_centers(d: int, rng: np.random.Generator, *, n_clusters: int = N_CLUSTERS,
                 min_sep: float | None = None, sigma: float = SIGMA, box: float = BOX,
                 max_attempts: int = 20_000) -> np.ndarray:
    r"""Cluster centres in :math:`[-\mathrm{box}, \mathrm{box}]^d` by sequential rejection.

    A uniform candidate is kept if its distance to every centre kept so far is
    ``>= min_sep`` (default :func:`min_separation`); the first candidate is always kept.
    At most ``max_attempts`` candidates are drawn; if the constraint is provably
    impossible (a volume/packing bound) or the attempts run out, a :class:`DomainError`
    says so instead of looping forever.  Cost :math:`O(\text{attempts}\cdot K d)`.
    """
    d = _check_int("d (input dimension)", d, 1)
    n_clusters = _check_int("n_clusters", n_clusters, 1)
    max_attempts = _check_int("max_attempts", max_attempts, 1)
    if not (np.isfinite(box) and box > 0):
        raise DomainError(f"box must be a finite number > 0, got {box!r}")
    sep = min_separation(d, sigma) if min_sep is None else float(min_sep)
    if not (np.isfinite(sep) and sep >= 0):
        raise DomainError(f"min_sep must be a finite number >= 0, got {min_sep!r}")
    if _packing_impossible(n_clusters, d, sep, box):
        raise DomainError(
            f"cannot place {n_clusters} centres in [-{box}, {box}]^{d} with pairwise distance "
            f">= {sep:.4g} (violates a volume bound); use fewer clusters, a smaller min_sep "
            "or sigma, or a larger box")
    centers = np.empty((n_clusters, d))
    k, attempts, chunk = 0, 0, 256
    sep2 = sep * sep
    while k < n_clusters:
        cand = rng.uniform(-box, box, size=(chunk, d))
        for c in cand:
            attempts += 1
            if k == 0 or np.min(np.sum((centers[:k] - c) ** 2, axis=1)) >= sep2:
                centers[k] = c
                k += 1
                if k == n_clusters:
                    break
            if attempts >= max_attempts:
                raise DomainError(
                    f"rejection sampling placed only {k} of {n_clusters} centres in "
                    f"{max_attempts} attempts (d = {d}, min_sep = {sep:.4g}); the separation "
                    "constraint is (nearly) impossible: use fewer clusters, a smaller min_sep "
                    "or sigma, or raise max_attempts")
    return centers


@dataclass(frozen=True, eq=False)
class ClusterBatch:
    """Samples of the cluster task with their identities.

    Attributes
    ----------
    points : (n, d) stimuli; cluster : (n,) cluster ids; labels : (n,) class ids;
    inputs : (n, T, d) stimulus at step 0, zero afterwards;
    targets : (n, T, C) one-hot class at every step; mask : (n, T, 1) 1 at the last step.
    """

    points: np.ndarray
    cluster: np.ndarray
    labels: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def select(self, index) -> "ClusterBatch":
        """Subset of the samples (boolean mask or integer index)."""
        return ClusterBatch(*(getattr(self, f)[index] for f in
                              ("points", "cluster", "labels", "inputs", "targets", "mask")))


@dataclass(frozen=True, eq=False)
class ClusterTask:
    """A fixed set of cluster centres and the rules for sampling trials.

    Build with :meth:`make` (draws the centres) or directly from ``centers``.
    """

    centers: np.ndarray
    n_classes: int = 2
    sigma: float = SIGMA
    T: int = T_STEPS
    labels: np.ndarray = field(init=False)

    def __post_init__(self):
        c = check_finite("centers", np.asarray(self.centers, dtype=float))
        if c.ndim != 2 or c.shape[1] < 1:
            raise ShapeError(f"centers must be (n_clusters, d) with d >= 1, got shape {c.shape}")
        _check_int("n_classes", self.n_classes, 2)
        if c.shape[0] < self.n_classes:
            raise DomainError(
                f"{c.shape[0]} clusters cannot cover {self.n_classes} classes (labels are "
                "cluster id mod n_classes); use at least as many clusters as classes")
        if not (isinstance(self.sigma, numbers.Real) and np.isfinite(self.sigma) and self.sigma >= 0):
            raise DomainError(f"sigma must be a finite number >= 0, got {self.sigma!r}")
        _check_int("T", self.T, 1)
        object.__setattr__(self, "centers", c)
        object.__setattr__(self, "labels", np.arange(c.shape[0]) % self.n_classes)

    @classmethod
    def make(cls, d: int, rng: np.random.Generator, *, n_clusters: int = N_CLUSTERS,
             n_classes: int = 2, sigma: float = SIGMA, T: int = T_STEPS,
             min_sep: float | None = None, box: float = BOX,
             max_attempts: int = 20_000) -> "ClusterTask":
        """Draw centres (:func:`draw_centers`) and build the task.  Validates first."""
        d = _check_int("d (input dimension)", d, 1)
        n_clusters = _check_int("n_clusters", n_clusters, 1)
        n_classes = _check_int("n_classes", n_classes, 2)
        if n_clusters < n_classes:
            raise DomainError(
                f"{n_clusters} clusters cannot cover {n_classes} classes; use at least as "
                "many clusters as classes")
        centers = draw_centers(d, rng, n_clusters=n_clusters, min_sep=min_sep, sigma=sigma,
                               box=box, max_attempts=max_attempts)
        return cls(centers, n_classes=n_classes, sigma=sigma, T=T)

    @property
    def d(self) -> int:
        return int(self.centers.shape[1])

    @property
    def n_clusters(self) -> int:
        return int(self.centers.shape[0])

    def batch(self, cluster, rng: np.random.Generator) -> ClusterBatch:
        """Noisy samples of the given cluster ids (fresh noise), as trials."""
        cluster = np.asarray(cluster, dtype=int)
        if cluster.ndim != 1 or (cluster.size and (cluster.min() < 0 or cluster.max() >= self.n_clusters)):
            raise ShapeError(f"cluster ids must be a 1-d array in [0, {self.n_clusters})")
        n = cluster.size
        points = self.centers[cluster] + self.sigma * rng.standard_normal((n, self.d))
        labels = self.labels[cluster]
        inputs = np.zeros((n, self.T, self.d))
        inputs[:, 0] = points
        targets = np.zeros((n, self.T, self.n_classes))
        targets[np.arange(n), :, labels] = 1.0
        mask = np.zeros((n, self.T, 1))
        mask[:, -1] = 1.0
        return ClusterBatch(points, cluster, labels, inputs, targets, mask)

    def sample(self, rng: np.random.Generator, n: int) -> ClusterBatch:
        """Online training samples: clusters i.i.d. uniform, fresh noise."""
        n = _check_int("n (samples)", n, 1)
        return self.batch(rng.integers(0, self.n_clusters, size=n), rng)

    def balanced(self, rng: np.random.Generator, n: int) -> ClusterBatch:
        """Balanced analysis set: ids 0..K-1 repeated n // K times, the n mod K leftover
        slots filled with distinct random clusters, then shuffled."""
        n = _check_int("n (samples)", n, 1)
        K = self.n_clusters
        ids = np.concatenate([np.tile(np.arange(K), n // K),
                              rng.choice(K, size=n % K, replace=False)])
        return self.batch(rng.permutation(ids), rng)

    def __call__(self, rng: np.random.Generator, batch_size: int) -> ClusterBatch:
        """Task-function form ``task(rng, batch_size)`` (online samples)."""
        return self.sample(rng, batch_size)


def holdout_split(cluster, n_train_clusters: int = 49, *, n_clusters: int = N_CLUSTERS,
                  rng: np.random.Generator | None = None):
    """Boolean masks (train, test) over samples for held-out-cluster generalisation.

    Default: clusters ``0 .. n_train_clusters-1`` train, the rest test (the authors'
    effective 49/11 split).  With ``rng``, a random set of ``n_train_clusters`` clusters.
    """
    cluster = np.asarray(cluster, dtype=int)
    n_train_clusters = _check_int("n_train_clusters", n_train_clusters, 1)
    if n_train_clusters >= n_clusters:
        raise DomainError(f"n_train_clusters must be < n_clusters = {n_clusters}")
    if rng is None:
        train_ids = np.arange(n_train_clusters)
    else:
        train_ids = rng.choice(n_clusters, size=n_train_clusters, replace=False)
    train = np.isin(cluster, train_ids)
    if train.all() or not train.any():
        raise RNNTheoryError("holdout split left one side empty; use a larger balanced set")
    return train, ~train
