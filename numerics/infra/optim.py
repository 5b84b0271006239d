r"""Optimisers as pure functions over parameter dicts.

Each optimiser is a frozen dataclass of hyper-parameters with two methods:

* ``init(params) -> state`` and
* ``step(params, grads, state) -> (new_params, new_state)``.

``params`` and ``grads`` are dicts ``name -> numpy.ndarray`` with matching keys; only the
keys present in ``grads`` are updated (the others are passed through unchanged), so a
caller trains a subset of parameters by passing only their gradients.  Inputs are never
modified in place.  Cost: O(P) per step for P parameters.

>>> import numpy as np
>>> opt = Adam(lr=0.1)
>>> p = {"w": np.array([1.0, -2.0])}
>>> s = opt.init(p)
>>> p, s = opt.step(p, {"w": np.array([0.5, -0.5])}, s)
>>> p["w"]  # first Adam step moves every coordinate by lr (bias-corrected)
array([ 0.9, -1.9])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError

__all__ = ["SGD", "Adam", "RMSprop", "make_optimizer", "DIVERGENCE_FACTOR", "divergence_reason"]

Params = Mapping[str, np.ndarray]


def _check_grads(params: Params, grads: Params) -> None:
    for k, gk in grads.items():
        if k not in params:
            raise ShapeError(f"gradient for unknown parameter {k!r}; parameters are {sorted(params)}")
        if np.shape(gk) != np.shape(params[k]):
            raise ShapeError(
                f"gradient of {k!r} has shape {np.shape(gk)}, parameter has {np.shape(params[k])}"
            )


def _check_lr(lr: float) -> None:
    if not (np.isfinite(lr) and lr > 0):
        raise DomainError(f"learning rate must be a finite number > 0, got {lr!r}")


@dataclass(frozen=True)
class SGD:
    r"""Plain (optionally momentum) gradient descent, :math:`\theta \leftarrow \theta - \eta g`.

    With ``momentum`` :math:`\mu > 0`: :math:`v \leftarrow \mu v + g`,
    :math:`\theta \leftarrow \theta - \eta v` (PyTorch convention).
    """

    lr: float
    momentum: float = 0.0

    def __post_init__(self):
        _check_lr(self.lr)
        if not 0 <= self.momentum < 1:
            raise DomainError(f"momentum must be in [0, 1), got {self.momentum!r}")

    def init(self, params: Params) -> dict:
        return {"t": 0, "v": {k: np.zeros_like(v) for k, v in params.items()}}

    def step(self, params: Params, grads: Params, state: dict, lr: float | None = None):
        _check_grads(params, grads)
        lr = self.lr if lr is None else lr
        new = dict(params)
        v = dict(state["v"])
        for k, gk in grads.items():
            if self.momentum:
                v[k] = self.momentum * v[k] + gk
                new[k] = params[k] - lr * v[k]
            else:
                new[k] = params[k] - lr * gk
        return new, {"t": state["t"] + 1, "v": v}


@dataclass(frozen=True)
class Adam:
    r"""Bias-corrected Adam with PyTorch's default constants.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \eta\,\frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}
    """

    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        _check_lr(self.lr)
        for name in ("beta1", "beta2"):
            b = getattr(self, name)
            if not 0 <= b < 1:
                raise DomainError(f"{name} must be in [0, 1), got {b!r}")

    def init(self, params: Params) -> dict:
        return {
            "t": 0,
            "m": {k: np.zeros_like(v) for k, v in params.items()},
            "v": {k: np.zeros_like(v) for k, v in params.items()},
        }

    def step(self, params: Params, grads: Params, state: dict, lr: float | None = None):
        _check_grads(params, grads)
        lr = self.lr if lr is None else lr
        t = state["t"] + 1
        m, v, new = dict(state["m"]), dict(state["v"]), dict(params)
        c1 = 1.0 - self.beta1**t
        c2 = 1.0 - self.beta2**t
        for k, gk in grads.items():
            # the same operations in the same order as
            # p - lr * (m/c1) / (sqrt(v/c2) + eps), with 4 new arrays instead of 11
            tmp = np.multiply(gk, 1.0 - self.beta1, dtype=np.result_type(m[k], gk))
            mk = m[k] = np.multiply(m[k], self.beta1)
            mk += tmp
            np.multiply(gk, gk, out=tmp)
            tmp *= 1.0 - self.beta2
            vk = v[k] = np.multiply(v[k], self.beta2)
            vk += tmp
            np.divide(vk, c2, out=tmp)
            np.sqrt(tmp, out=tmp)
            tmp += self.eps
            upd = np.divide(mk, c1)
            upd *= lr
            upd /= tmp
            new[k] = np.subtract(params[k], upd, out=upd)
        return new, {"t": t, "m": m, "v": v}


@dataclass(frozen=True)
class RMSprop:
    r"""RMSprop (not centred, no momentum) with smoothing constant ``alpha``.

    .. math::
        v \leftarrow \alpha v + (1-\alpha) g^2,\qquad
        \theta \leftarrow \theta - \eta\, g / (\sqrt{v} + \epsilon)

    PyTorch's default is ``alpha = 0.99``; Farrell et al. (2022) use ``alpha = 0.9``.
    """

    lr: float
    alpha: float = 0.99
    eps: float = 1e-8

    def __post_init__(self):
        _check_lr(self.lr)
        if not 0 <= self.alpha < 1:
            raise DomainError(f"alpha must be in [0, 1), got {self.alpha!r}")

    def init(self, params: Params) -> dict:
        return {"t": 0, "v": {k: np.zeros_like(v) for k, v in params.items()}}

    def step(self, params: Params, grads: Params, state: dict, lr: float | None = None):
        _check_grads(params, grads)
        lr = self.lr if lr is None else lr
        v, new = dict(state["v"]), dict(params)
        for k, gk in grads.items():
            v[k] = self.alpha * v[k] + (1.0 - self.alpha) * (gk * gk)
            new[k] = params[k] - lr * gk / (np.sqrt(v[k]) + self.eps)
        return new, {"t": state["t"] + 1, "v": v}


def make_optimizer(name: str, lr: float, **kwargs):
    """Build an optimiser by name: ``"sgd"``, ``"adam"`` or ``"rmsprop"``.

    >>> make_optimizer("rmsprop", 1e-3, alpha=0.9)
    RMSprop(lr=0.001, alpha=0.9, eps=1e-08)
    """
    table = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}
    try:
        cls = table[name.lower()]
    except (KeyError, AttributeError):
        raise DomainError(f"unknown optimizer {name!r}; choose one of {sorted(table)}") from None
    return cls(lr=lr, **kwargs)


DIVERGENCE_FACTOR = 1e3
r"""Default :math:`K` of the divergence rule (see :func:`divergence_reason`).

A loss :math:`K = 1000` times its initial value is far outside what a working optimiser
does: on the three rate-RNN tasks (g = 0.9, 2.4; ``benchmarks/divergence_ratio.py``) the
largest loss over training equals the initial loss at the papers' learning rate and
stays below 1.6 × it at ten times that rate, while an exploding run (lr = 1e6) passes
:math:`10^3` at its first update (``docs/foundation.md``).  Pass ``divergence_factor=None`` to the training loops to use only the
non-finite test.
"""


def divergence_reason(loss: float, initial_loss: float, factor: float | None = DIVERGENCE_FACTOR) -> str | None:
    r"""Why a training loss counts as diverged, or ``None``.

    The rule used by every training loop of the package: the loss is NaN or infinite, or
    :math:`L > K\,L_0` with :math:`L_0` the loss of the first step (the untrained
    network) and :math:`K` = ``factor`` (default :data:`DIVERGENCE_FACTOR`; ``None``
    disables the ratio test, and so does :math:`L_0 \le 0`).  Cost O(1).

    >>> divergence_reason(0.5, 0.1) is None, divergence_reason(float("nan"), 0.1)
    (True, 'the loss is NaN or infinite')
    >>> divergence_reason(3e11, 0.057)
    'the loss 3e+11 exceeds 1000 x the initial loss 0.057'
    """
    if not np.isfinite(loss):
        return "the loss is NaN or infinite"
    if factor is not None and np.isfinite(initial_loss) and initial_loss > 0 and loss > factor * initial_loss:
        return f"the loss {loss:.3g} exceeds {factor:g} x the initial loss {initial_loss:.3g}"
    return None
