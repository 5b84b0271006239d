r"""Fixed-point recurrent classifiers trained with dW1, dW3 or dW4 (spec §7, §10).

A network of :math:`L` recurrent layers,

.. math:: r_\ell = \tanh(W_\ell r_\ell + U_\ell r_{\ell-1}),\quad r_0 = x,\qquad z = R\,r_L,

with cross-entropy on the logits :math:`z`.  :math:`L = 1` with fixed random read-in
:math:`U_1 = W_x` and readout :math:`R` is the paper's model; :math:`L \ge 1` with trained
:math:`U_\ell` and :math:`R` is the extension beyond the paper.

Backward pass (per sample, exact): :math:`\delta_L = R^\top(\mathrm{softmax}(z) - e_y)`,
:math:`v_\ell = G_\ell(I - W_\ell^\top G_\ell)^{-1}\delta_\ell`,
:math:`\nabla W_\ell = v_\ell r_\ell^\top`, :math:`\nabla U_\ell = v_\ell r_{\ell-1}^\top`,
:math:`\delta_{\ell-1} = U_\ell^\top v_\ell`, :math:`\nabla R = (\mathrm{softmax} - e_y) r_L^\top`.
Updates: the chosen rule on every :math:`W_\ell` (dW3/dW4 from :math:`\delta_\ell`, no
inverse), plain gradient steps on :math:`U_\ell` and :math:`R` when trained; plain SGD,
batch-mean directions, no momentum (spec §5).  Cost per step: :math:`O(BN^2)` for
dW3/dW4 with frozen read-in/readout and one layer; any layer whose input weights are
trained, or any layer below another, needs :math:`v_\ell`, :math:`O(BN^3)`.

Protocol (spec §8, decided): train on the training split only; evaluate on held-out
data with identical preprocessing; :math:`W`, :math:`U`, :math:`R` and the batch order
all come from the seeded generator and every model is returned/saved.  The authors'
quirk of updating on the test batch is available as ``update_on_test=True``.

**As in the paper** (``TrainConfig(variant="paper")``, docs/differences.md): the whole
benchmark as the authors ran it — fixed points by 500 Euler steps with :math:`dt/\tau = 0.01`
from :math:`r = 0` without a convergence check, the rules' gain :math:`G = 1 - r^2` at
that unconverged state, dW1 by backpropagation through the truncated trajectory
(:mod:`rnn_theory.numerics.fixed_point.euler_bptt`, :math:`O(500\,BN^2)`) instead of the
implicit gradient, and the update computed on the test batch.  One layer, fixed read-in
and readout only (the paper's model).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from rnn_theory.theory.errors import DomainError, FixedPointNotConverged, ShapeError, check_finite, check_positive
from rnn_theory.numerics.infra.optim import divergence_reason

from rnn_theory.numerics.fixed_point.digits import Dataset
from rnn_theory.numerics.fixed_point.euler_bptt import euler_bptt_factors
from rnn_theory.numerics.fixed_point import (
    RULES,
    backprop_fixed_point,
    cross_entropy,
    max_real_eig,
    output_error,
    rule_factors,
    solve_fixed_point,
)

__all__ = ["FixedPointNet", "TrainConfig", "TrainResult", "forward", "evaluate", "gradients", "train"]


@dataclass(frozen=True)
class FixedPointNet:
    """Weights of an :math:`L`-layer fixed-point network (math orientation).

    ``Ws[l]`` (N_l×N_l) recurrent, ``Us[l]`` (N_l×N_{l-1}) read-in (``Us[0]`` is
    :math:`W_x`), ``R`` (n_out×N_L) readout.
    """

    Ws: tuple
    Us: tuple
    R: np.ndarray

    def __post_init__(self):
        if len(self.Ws) != len(self.Us) or not self.Ws:
            raise ShapeError("need one read-in matrix U per recurrent layer W (at least one layer)")
        prev = None
        for k, (W, U) in enumerate(zip(self.Ws, self.Us)):
            if W.ndim != 2 or W.shape[0] != W.shape[1]:
                raise ShapeError(f"Ws[{k}] has shape {W.shape}; recurrent weights must be square")
            if U.shape[0] != W.shape[0] or (prev is not None and U.shape[1] != prev):
                raise ShapeError(f"Us[{k}] has shape {U.shape}; expected ({W.shape[0]}, {prev or 'n_in'})")
            prev = W.shape[0]
        if self.R.ndim != 2 or self.R.shape[1] != prev:
            raise ShapeError(f"R has shape {self.R.shape}; expected (n_out, {prev})")

    @classmethod
    def init(cls, rng: np.random.Generator, n_in: int, sizes=(100,), n_out: int = 10,
             rho: float = 0.5) -> "FixedPointNet":
        r"""Spec §2 initialisation: :math:`W \sim \mathcal N(0, \rho^2/N)`,
        :math:`U \sim \mathcal N(0, 1/N_{\rm in})`, :math:`R \sim \mathcal N(0, 1/N)`, drawn
        in that order (all layers' W, then U, then R) from ``rng``."""
        sizes = tuple(int(s) for s in sizes)
        if n_in < 1 or n_out < 1 or not sizes or min(sizes) < 1:
            raise DomainError(f"sizes must be positive, got n_in={n_in}, sizes={sizes}, n_out={n_out}")
        Ws = tuple(rho * rng.standard_normal((n, n)) / np.sqrt(n) for n in sizes)
        ins = (n_in,) + sizes[:-1]
        Us = tuple(rng.standard_normal((n, m)) / np.sqrt(m) for n, m in zip(sizes, ins))
        R = rng.standard_normal((n_out, sizes[-1])) / np.sqrt(sizes[-1])
        return cls(Ws, Us, R)

    @property
    def n_in(self) -> int:
        return self.Us[0].shape[1]

    def arrays(self) -> dict:
        out = {"R": self.R}
        for k, (W, U) in enumerate(zip(self.Ws, self.Us)):
            out[f"W{k + 1}"] = W
            out[f"U{k + 1}"] = U
        return out


def forward(net: FixedPointNet, x, **solver) -> tuple[list, np.ndarray]:
    """Fixed points of every layer (list of (B, N_l)) and logits (B, n_out)."""
    x = check_finite("x", np.asarray(x, dtype=float))
    if x.ndim != 2 or x.shape[1] != net.n_in:
        raise ShapeError(f"x has shape {x.shape}; expected (batch, {net.n_in})")
    rs = []
    inp = x
    for W, U in zip(net.Ws, net.Us):
        inp = solve_fixed_point(W, inp @ U.T, **solver).r
        rs.append(inp)
    return rs, inp @ net.R.T


def evaluate(net: FixedPointNet, x, y, **solver) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on ``(x, y)``."""
    _, z = forward(net, x, **solver)
    return cross_entropy(z, y), float(np.mean(np.argmax(z, axis=1) == y))


def gradients(net: FixedPointNet, x, y, rule: str = "dW1", *, train_readin: bool = False,
              train_readout: bool = False, euler_bptt: bool = False, **solver) -> tuple[float, float, dict]:
    """Loss, accuracy and update directions ``{"W1": ..., "U1": ..., "R": ...}`` (batch means).

    ``W*`` entries are the rule's direction; ``U*`` and ``R`` (only when trained) are
    exact gradients.  ``euler_bptt=True`` (one layer, with the ``"euler"`` solver): dW1 is
    the gradient through the Euler trajectory (the authors' choice) instead of the
    implicit gradient.
    """
    if rule not in RULES:
        raise DomainError(f"rule must be one of {RULES}, got {rule!r}")
    if euler_bptt and (len(net.Ws) != 1 or train_readin):
        raise DomainError("euler_bptt is for the paper's one-layer model with a fixed read-in")
    y = np.asarray(y)
    rs, z = forward(net, x, **solver)
    B = len(y)
    e, delta = output_error(net.R, rs[-1], y)
    out = {}
    if train_readout:
        out["R"] = e.T @ rs[-1] / B
    L = len(net.Ws)
    ins = [np.asarray(x, dtype=float)] + rs[:-1]
    for ell in range(L - 1, -1, -1):
        W, r = net.Ws[ell], rs[ell]
        if euler_bptt and rule == "dW1":
            h = np.asarray(x, dtype=W.dtype) @ net.Us[0].T
            out["W1"] = euler_bptt_factors(W, h, delta, solver.get("n_steps", 500),
                                           solver.get("dt_over_tau", 0.01))[0] / B
            continue
        u, v = rule_factors(rule, W, r, delta)
        out[f"W{ell + 1}"] = u.T @ v / B
        need_adjoint = train_readin or ell > 0
        if need_adjoint:
            adj = u if rule == "dW1" else backprop_fixed_point(W, r, delta)
            if train_readin:
                out[f"U{ell + 1}"] = adj.T @ ins[ell] / B
            if ell > 0:
                delta = adj @ net.Us[ell]
    acc = float(np.mean(np.argmax(z, axis=1) == y))
    return cross_entropy(z, y), acc, out


@dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters (validated).

    ``lr`` is the SGD rate for the recurrent weights; ``lr_readin``/``lr_readout`` default
    to ``lr``.  ``eval_batch`` test samples are drawn per step for the learning curve
    (``None``: the whole test split).
    """

    rule: str = "dW3"
    lr: float = 0.1
    epochs: int = 10
    batch_size: int = 64
    train_readin: bool = False
    train_readout: bool = False
    lr_readin: float | None = None
    lr_readout: float | None = None
    eval_batch: int | None = None
    update_on_test: bool = False
    tol: float = 1e-10
    solver: dict = field(default_factory=dict)
    variant: str = "clean"

    def __post_init__(self):
        if self.rule not in RULES:
            raise DomainError(f"rule must be one of {RULES}, got {self.rule!r}")
        if self.variant not in ("clean", "paper"):
            raise DomainError(f"variant must be 'clean' or 'paper', got {self.variant!r}")
        if self.variant == "paper" and (self.train_readin or self.train_readout):
            raise DomainError("variant='paper' is the paper's model: fixed read-in and readout")
        check_positive("lr", self.lr)
        if self.epochs < 1 or self.batch_size < 1:
            raise DomainError(f"epochs and batch_size must be >= 1, got {self.epochs}, {self.batch_size}")
        for name in ("lr_readin", "lr_readout"):
            if getattr(self, name) is not None:
                check_positive(name, getattr(self, name))


@dataclass
class TrainResult:
    """``net`` (final), ``net0`` (initial), ``history`` (per step), ``diverged_step`` (-1 if not)."""

    net: FixedPointNet
    net0: FixedPointNet
    history: dict
    diverged_step: int
    final_test_loss: float
    final_test_accuracy: float
    wall_time: float


def train(net: FixedPointNet, data: Dataset, config: TrainConfig, rng: np.random.Generator,
          show_progress: bool = False) -> TrainResult:
    r"""Train with plain SGD; history per step (values *before* the update):
    ``step, train_loss, train_accuracy`` (the training batch), ``test_loss, test_accuracy``
    (held-out batch), ``max_real_eig_w`` (largest real part of the eigenvalues of each
    :math:`W_\ell`, max over layers; :math:`\ge 1` flags the instability).

    If a fixed point cannot be found (W has left the stable regime), or the training loss
    is NaN/inf or exceeds 1000 x the step-0 loss
    (:func:`rnn_theory.numerics.infra.optim.divergence_reason`), training stops:
    ``diverged_step`` is set and the final accuracy is evaluated with the last model that
    had fixed points for its evaluation batch (NaN if even that model has none for some
    test sample).  Cost per step as in the module docstring plus :math:`O(N^3)` for
    the eigenvalues.
    """
    from rnn_theory.numerics.infra.progress import progress

    if data.n_features != net.n_in:
        raise ShapeError(f"data has {data.n_features} features but the network expects {net.n_in}")
    solver = {"tol": config.tol, **config.solver}
    paper = config.variant == "paper"
    if paper:
        if len(net.Ws) != 1:
            raise DomainError("variant='paper' is the paper's one-layer model")
        solver = {"method": "euler", "n_steps": 500, "dt_over_tau": 0.01, **config.solver}
    lr_in = config.lr_readin or config.lr
    lr_out = config.lr_readout or config.lr
    n_train = len(data.y_train)
    steps_per_epoch = max(1, n_train // config.batch_size)
    total = steps_per_epoch * config.epochs
    hist = {k: [] for k in ("step", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                            "max_real_eig_w")}
    net0 = net
    diverged = -1
    t0 = time.perf_counter()
    step = 0
    last_good = net
    bar = progress(range(total), total=total, desc=f"{config.rule} lr={config.lr:g}", enabled=show_progress)
    order = rng.permutation(n_train)
    for step in bar:
        if step % steps_per_epoch == 0 and step > 0:
            order = rng.permutation(n_train)
        k = step % steps_per_epoch
        idx = order[k * config.batch_size:(k + 1) * config.batch_size]
        xb, yb = data.X_train[idx], data.y_train[idx]
        if config.eval_batch is None or config.eval_batch >= len(data.y_test):
            te = np.arange(len(data.y_test))
        else:
            te = rng.choice(len(data.y_test), config.eval_batch, replace=False)
        xt, yt = data.X_test[te], data.y_test[te]
        try:
            tl, ta = evaluate(net, xt, yt, **solver)
            if config.update_on_test or paper:   # the authors' quirk: the update uses the test batch
                xb, yb = xt, yt
            loss, acc, d = gradients(net, xb, yb, config.rule, train_readin=config.train_readin,
                                     train_readout=config.train_readout, euler_bptt=paper, **solver)
        except FixedPointNotConverged:
            diverged = step
            break
        if divergence_reason(loss, loss if step == 0 else hist["train_loss"][0]) is not None:
            diverged = step
            net = last_good
            break
        hist["step"].append(step)
        hist["train_loss"].append(loss)
        hist["train_accuracy"].append(acc)
        hist["test_loss"].append(tl)
        hist["test_accuracy"].append(ta)
        hist["max_real_eig_w"].append(max(max_real_eig(W) for W in net.Ws))
        last_good = net
        Ws = tuple(W - config.lr * d[f"W{i + 1}"] for i, W in enumerate(net.Ws))
        Us = tuple(U - lr_in * d[f"U{i + 1}"] if f"U{i + 1}" in d else U for i, U in enumerate(net.Us))
        R = net.R - lr_out * d["R"] if "R" in d else net.R
        net = replace(net, Ws=Ws, Us=Us, R=R)
        if not all(np.all(np.isfinite(W)) for W in Ws):
            diverged = step + 1
            net = last_good
            break
    try:
        fl, fa = evaluate(net, data.X_test, data.y_test, **solver)
    except FixedPointNotConverged:
        if diverged < 0:
            diverged = total
        net = last_good
        try:
            fl, fa = evaluate(net, data.X_test, data.y_test, **solver)
        except FixedPointNotConverged:   # no model with fixed points for the whole test split
            fl, fa = float("nan"), float("nan")
    return TrainResult(net, net0, {k: np.asarray(v) for k, v in hist.items()}, diverged, fl, fa,
                       time.perf_counter() - t0)
