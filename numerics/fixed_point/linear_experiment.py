r"""Linear fixed-point learning (Zhu & Rosenbaum 2024, spec §5–6).

Linear model :math:`r = G(Wr + x)` with constant gain :math:`G = gI`: the fixed point is
:math:`r^* = Ax` with :math:`A = (G^{-1} - W)^{-1}`.  **Orientation:** as in the paper, the
data matrices hold samples as *columns*: :math:`X \in \mathbb R^{n\times m}` (inputs) and
:math:`\hat R \in \mathbb R^{n\times m}` (targets).  The loss has no ½ and is divided by
:math:`m` only:

.. math:: J(W) = \tfrac1m\|AX - \hat R\|_F^2,\qquad
          D \equiv \partial J/\partial A = \tfrac2m (AX - \hat R)X^\top .

Rules (``W <- W - lr * direction``):

* **dW1** (Euclidean): :math:`\nabla_W J = A^\top D A^\top = \frac2m A^\top(AX-\hat R)(AX)^\top`,
  :math:`O(n^3 + n^2m)`.
* **dW2** (gradient descent on :math:`A`): :math:`A' = A - \eta D`,
  :math:`W' = G^{-1} - A'^{-1}`; two inverses, :math:`O(n^3)`.
* **dW3** (first-order part of dW2): :math:`M D M` with :math:`M = G^{-1} - W`, computed
  as :math:`\frac2m (X - M\hat R)X^\top M` — no inverse, :math:`O(n^2 m + n^3)` (one
  :math:`n\times n` product).

Experiments: :func:`one_dimensional` (§6.1), :func:`make_problem` (§6.2),
:func:`landscape` (§6.3), :func:`learning_curve` (§6.4) and :func:`angles` (§6.5).

``variant="paper"`` selects the authors' definitions where they differ (docs/differences.md):
in :func:`learning_curve`, dW2 evaluates :math:`D` at the *updated* :math:`A`
(:math:`A' = A - \eta D(A)`, then :math:`A \leftarrow A - \eta D(A')`); in :func:`angles`,
θ23's dW2 step uses the one-step-stale activity :math:`r = A_{k-1}X`, carried over from one
learning rate to the next.  The default, ``variant="clean"``, is the spec's definition.

>>> rng = np.random.default_rng(0)
>>> p = make_problem(rng, n=20, m=10)
>>> bool(loss(p.W0, p.X, p.R_hat) < 1e-20)    # W0 = (R - X) R^+ is an exact minimiser
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_theory.theory.errors import DomainError, ShapeError, check_finite, check_positive

from rnn_theory.numerics.rate.analysis import max_real_eig

__all__ = [
    "LinearProblem",
    "make_problem",
    "resolvent",
    "loss",
    "loss_a",
    "grad_a",
    "dW1",
    "dW2_step",
    "dW2_direction",
    "dW3",
    "LINEAR_RULES",
    "learning_curve",
    "angles",
    "angle_deg",
    "landscape",
    "landscape_2d",
    "one_dimensional",
]

LINEAR_RULES = ("dW1", "dW2", "dW3")


def _check(W, X, R_hat):
    W = check_finite("W", np.asarray(W, dtype=float))
    X = check_finite("X", np.asarray(X, dtype=float))
    R_hat = check_finite("R_hat", np.asarray(R_hat, dtype=float))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ShapeError(f"W has shape {W.shape}; expected a square n x n matrix")
    n = W.shape[0]
    if X.ndim != 2 or X.shape[0] != n:
        raise ShapeError(f"X has shape {X.shape}; expected ({n}, m) with samples as columns")
    if R_hat.shape != X.shape:
        raise ShapeError(f"R_hat has shape {R_hat.shape}; expected {X.shape} like X")
    return W, X, R_hat


@dataclass(frozen=True)
class LinearProblem:
    """The N-dimensional linear problem of spec §6.2 (samples as columns)."""

    X: np.ndarray
    R_hat: np.ndarray
    W_true: np.ndarray
    W0: np.ndarray
    W_init: np.ndarray
    g: float = 1.0

    def __post_init__(self):
        _check(self.W_true, self.X, self.R_hat)
        check_positive("g", self.g)


def make_problem(rng: np.random.Generator, n: int = 200, m: int = 100, *, noise: float = 0.01,
                 x_scale: float = 0.1, true_scale: float = 0.5, init_scale: float = 0.75) -> LinearProblem:
    r"""Draw the §6.2 problem: :math:`X_{ij} \sim 0.1\,\mathcal N(0,1)`,
    :math:`W_{\rm true} \sim 0.5\,\mathcal N(0,1)/\sqrt n`,
    :math:`\hat R = (I - W_{\rm true})^{-1}X + 0.01\,\mathcal N(0,1)`,
    :math:`W_0 = (\hat R - X)\hat R^+` (exact zero-loss minimiser when :math:`m < n`),
    :math:`W_{\rm init} \sim 0.75\,\mathcal N(0,1)/\sqrt n`.  :math:`O(n^3)`.
    """
    if n < 1 or m < 1:
        raise DomainError(f"n and m must be positive, got n={n}, m={m}")
    X = x_scale * rng.standard_normal((n, m))
    W_true = true_scale * rng.standard_normal((n, n)) / np.sqrt(n)
    R_hat = np.linalg.solve(np.eye(n) - W_true, X) + noise * rng.standard_normal((n, m))
    W0 = (R_hat - X) @ np.linalg.pinv(R_hat)
    W_init = init_scale * rng.standard_normal((n, n)) / np.sqrt(n)
    return LinearProblem(X, R_hat, W_true, W0, W_init, 1.0)


def resolvent(W, g: float = 1.0) -> np.ndarray:
    r""":math:`A = (g^{-1}I - W)^{-1}`, :math:`O(n^3)`.  Infinite entries mean :math:`W` sits on
    the singular set :math:`\det(I - gW) = 0` (a pole of the loss)."""
    W = np.asarray(W)
    W = W if W.dtype in (np.float32, np.float64) else W.astype(float)   # float32 stays float32
    n = W.shape[0]
    with np.errstate(all="ignore"):
        try:
            return np.linalg.inv(np.eye(n, dtype=W.dtype) / g - W)
        except np.linalg.LinAlgError:
            return np.full((n, n), np.inf)


def loss_a(A, X, R_hat) -> float:
    """:math:`J = \\frac1m\\|AX - \\hat R\\|_F^2` as a function of :math:`A` (convex quadratic)."""
    E = A @ X - R_hat
    return float(np.sum(E * E) / X.shape[1])


def loss(W, X, R_hat, g: float = 1.0) -> float:
    """:math:`J(W) = \\frac1m\\|(g^{-1}I-W)^{-1}X - \\hat R\\|_F^2`, :math:`O(n^3 + n^2 m)`.

    >>> float(loss(np.zeros((1, 1)), np.array([[1.0, 2.0]]), np.array([[1.0, 0.0]])))
    2.0
    """
    W, X, R_hat = _check(W, X, R_hat)
    with np.errstate(all="ignore"):
        val = loss_a(resolvent(W, g), X, R_hat)
    return val if np.isfinite(val) else float("inf")


def grad_a(A, X, R_hat) -> np.ndarray:
    """:math:`D = \\partial J/\\partial A = \\frac2m(AX - \\hat R)X^\\top`."""
    return 2.0 / X.shape[1] * (A @ X - R_hat) @ X.T


def dW1(W, X, R_hat, g: float = 1.0) -> np.ndarray:
    """Euclidean gradient :math:`\\frac2m A^\\top(AX-\\hat R)(AX)^\\top`, :math:`O(n^3 + n^2m)`."""
    W, X, R_hat = _check(W, X, R_hat)
    A = resolvent(W, g)
    AX = A @ X
    return 2.0 / X.shape[1] * A.T @ (AX - R_hat) @ AX.T


def dW2_step(W, X, R_hat, lr: float, g: float = 1.0) -> np.ndarray:
    """One dW2 step: :math:`A' = A - \\eta D`, returns :math:`W' = g^{-1}I - A'^{-1}`, :math:`O(n^3)`."""
    W, X, R_hat = _check(W, X, R_hat)
    A = resolvent(W, g)
    A_new = A - lr * grad_a(A, X, R_hat)
    return np.eye(W.shape[0]) / g - np.linalg.inv(A_new)


def dW2_direction(W, X, R_hat, lr: float, g: float = 1.0) -> np.ndarray:
    """Effective dW2 direction :math:`(W - W')/\\eta` (depends on :math:`\\eta`)."""
    return (np.asarray(W, dtype=float) - dW2_step(W, X, R_hat, lr, g)) / lr


def dW3(W, X, R_hat, g: float = 1.0) -> np.ndarray:
    """Metric rule :math:`\\frac2m(X - M\\hat R)X^\\top M`, :math:`M = g^{-1}I - W`; no inverse.

    Equal to :math:`M D M` because :math:`X - M\\hat R = M(AX - \\hat R)`.

    >>> W = np.array([[0.2]]); X = np.array([[1.0]]); R = np.array([[2.0]])
    >>> float(dW3(W, X, R)[0, 0]) == float(0.8 * grad_a(1 / 0.8 * np.eye(1), X, R)[0, 0] * 0.8)
    True
    """
    W, X, R_hat = _check(W, X, R_hat)
    M = np.eye(W.shape[0]) / g - W
    return 2.0 / X.shape[1] * ((X - M @ R_hat) @ X.T) @ M


def _dW3(W, X, R_hat, g):
    M = np.eye(W.shape[0], dtype=W.dtype) / g - W
    return 2.0 / X.shape[1] * ((X - M @ R_hat) @ X.T) @ M


def _float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise DomainError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def angle_deg(a, b) -> float:
    """Angle :math:`\\arccos(\\langle a,b\\rangle_F/\\|a\\|\\|b\\|)` in degrees between flattened arrays."""
    a = np.ravel(a)
    b = np.ravel(b)
    ua = a / np.linalg.norm(a)
    ub = b / np.linalg.norm(b)
    # 2 atan2(|ua - ub|, |ua + ub|) equals arccos(ua . ub) but stays accurate near 0 and 180 degrees
    return float(np.degrees(2.0 * np.arctan2(np.linalg.norm(ua - ub), np.linalg.norm(ua + ub))))


VARIANTS = ("clean", "paper")


def _check_variant(variant):
    if variant not in VARIANTS:
        raise DomainError(f"variant must be one of {VARIANTS}, got {variant!r}")


def _step(rule, W, A, X, R_hat, lr, g, variant="clean"):
    """One update given the current resolvent ``A`` (so the loss and the step share it)."""
    if rule == "dW1":
        AX = A @ X
        return W - lr * (2.0 / X.shape[1]) * A.T @ (AX - R_hat) @ AX.T
    if rule == "dW2":
        D = grad_a(A, X, R_hat)
        if variant == "paper":   # the authors: D evaluated at the already updated A
            D = grad_a(A - lr * D, X, R_hat)
        return np.eye(W.shape[0], dtype=W.dtype) / g - np.linalg.inv(A - lr * D)
    if rule == "dW3":
        return W - lr * _dW3(W, X, R_hat, g)
    raise DomainError(f"rule must be one of {LINEAR_RULES}, got {rule!r}")


def learning_curve(problem: LinearProblem, rule: str, lr: float, iterations: int,
                   W_start=None, eig_every: int = 100, variant: str = "clean", dtype=np.float64) -> dict:
    r"""Full-batch training from ``W_init`` (or ``W_start``) with one rule.

    ``variant="paper"``: dW2 as the authors computed it (module docstring; the other rules
    are unchanged).  ``dtype``: float64 (default) or float32 (the authors' precision) for
    the weights and data during training.

    Returns ``loss`` (length ``iterations + 1``, :math:`J` before each step and after the
    last), ``max_real_eig`` of :math:`W` per iteration, the final ``W`` and
    ``diverged_at`` (first iteration whose loss is not finite, or -1; the curve is cut
    there).  :math:`O(n^3)` per iteration.
    """
    check_positive("lr", lr)
    if rule not in LINEAR_RULES:
        raise DomainError(f"rule must be one of {LINEAR_RULES}, got {rule!r}")
    _check_variant(variant)
    dtype = _float_dtype(dtype)
    X, R_hat, g = problem.X.astype(dtype), problem.R_hat.astype(dtype), problem.g
    W = np.array(problem.W_init if W_start is None else W_start, dtype=dtype)
    losses, eigs, eig_its = [], [], []
    diverged = -1
    for it in range(iterations + 1):
        A = resolvent(W, g)
        with np.errstate(all="ignore"):
            J = loss_a(A, X, R_hat)
        if not np.isfinite(J) or J > 1e30:
            diverged = it
            break
        losses.append(J)
        if it % eig_every == 0 or it == iterations:
            eigs.append(max_real_eig(W))
            eig_its.append(it)
        if it == iterations:
            break
        with np.errstate(all="ignore"):
            try:
                W = _step(rule, W, A, X, R_hat, dtype.type(lr), g, variant)
            except np.linalg.LinAlgError:
                diverged = it + 1
                break
        if not np.all(np.isfinite(W)):
            diverged = it + 1
            break
    return {"loss": np.array(losses), "max_real_eig": np.array(eigs), "eig_iterations": np.array(eig_its),
            "W": W, "diverged_at": diverged}


def angles(problem: LinearProblem, lr: float, iterations: int, variant: str = "clean",
           r_stale=None, dtype=np.float64) -> dict:
    r"""Angles between rules (spec §6.5), fresh activity each iteration (``variant="clean"``).

    ``angle_12[k]``: Euclidean gradient vs the dW2 step while :math:`W` follows dW2;
    ``angle_23[k]``: dW2 step vs dW3 step while :math:`W` follows dW3 (degrees).
    ``variant="paper"``: θ23's dW2 step uses the previous iteration's activity
    :math:`r = A_{k-1}X` (``r_stale`` before the first iteration: pass the ``r_last`` of the
    previous learning rate to chain runs as the authors did; ``None``: fresh).  Returns
    also ``r_last``.  :math:`O(n^3)` per iteration.
    """
    _check_variant(variant)
    dtype = _float_dtype(dtype)
    X, R_hat, g = problem.X.astype(dtype), problem.R_hat.astype(dtype), problem.g
    W2 = np.array(problem.W_init, dtype=dtype)
    W3 = W2.copy()
    a12, a23 = [], []
    n = W2.shape[0]
    r_prev = None if r_stale is None else np.asarray(r_stale, dtype=dtype)
    for _ in range(iterations):
        A = resolvent(W2, g)                     # shared by the gradient and the dW2 step
        AX = A @ X
        grad = 2.0 / X.shape[1] * A.T @ (AX - R_hat) @ AX.T
        d2 = (W2 - (np.eye(n, dtype=dtype) / g - np.linalg.inv(A - lr * grad_a(A, X, R_hat)))) / lr
        a12.append(angle_deg(grad, d2))
        W2 = W2 - lr * d2
        d3 = _dW3(W3, X, R_hat, g)
        A3 = resolvent(W3, g)
        r_now = A3 @ X
        r_use = r_now if variant == "clean" or r_prev is None else r_prev
        A3n = A3 - lr * (2.0 / X.shape[1]) * (r_use - R_hat) @ X.T
        a23.append(angle_deg((W3 - (np.eye(n, dtype=dtype) / g - np.linalg.inv(A3n))) / lr, d3))
        r_prev = r_now
        W3 = W3 - lr * d3
    return {"angle_12": np.array(a12), "angle_23": np.array(a23), "r_last": r_prev}


def landscape(problem: LinearProblem, rng: np.random.Generator, t=None, n_lines: int = 3,
              direction_scale: float = 2.5) -> dict:
    r"""Loss along random lines :math:`W_0 + tW_1` (spec §6.3), and the same slice in A-space.

    :math:`W_1 \sim 2.5\,\mathcal N(0,1)/\sqrt n`.  The A-space slice is
    :math:`A_0 + tA_1` with :math:`A_1 = A_0W_1A_0` (the image of :math:`W_1` under
    :math:`dA = A\,dW\,A`, so both slices are tangent at :math:`t = 0`); it is a convex
    quadratic in :math:`t`.  Also returned per line: ``max_real_eig`` of :math:`W(t)`,
    ``det_sign`` of :math:`\det(I - W(t))` and ``t_boundary`` :math:`=\sqrt{0.75}/2.5`
    (circular-law estimate of where the max real eigenvalue reaches 1).
    Cost :math:`O(n^3)` per point.
    """
    t = np.round(np.arange(-1.0, 1.0 + 1e-9, 0.01), 10) if t is None else np.asarray(t, dtype=float)
    X, R_hat, g = problem.X, problem.R_hat, problem.g
    n = X.shape[0]
    W0 = problem.W0
    A0 = resolvent(W0, g)
    shape = (n_lines, len(t))
    out = {k: np.empty(shape) for k in ("loss_w", "loss_a", "max_real_eig", "det_sign")}
    for k in range(n_lines):
        W1 = direction_scale * rng.standard_normal((n, n)) / np.sqrt(n)
        A1 = A0 @ W1 @ A0
        for j, tj in enumerate(t):
            Wt = W0 + tj * W1
            out["loss_w"][k, j] = loss(Wt, X, R_hat, g)
            out["loss_a"][k, j] = loss_a(A0 + tj * A1, X, R_hat)
            out["max_real_eig"][k, j] = max_real_eig(Wt)
            out["det_sign"][k, j] = np.linalg.slogdet(np.eye(n) / g - Wt)[0]
    out["t"] = t
    out["t_boundary"] = float(np.sqrt(0.75) / direction_scale)
    return out


def landscape_2d(problem: LinearProblem, rng: np.random.Generator, t=None, direction_scale: float = 2.5,
                 clip: float = 1000.0) -> dict:
    """:math:`J(W_0 + t_1W_1 + t_2W_2)` on a grid (clipped at ``clip``) and the A-space slice.
    :math:`O(n^3)` per grid point."""
    t = np.linspace(-1, 1, 41) if t is None else np.asarray(t, dtype=float)
    X, R_hat, g = problem.X, problem.R_hat, problem.g
    n = X.shape[0]
    W1, W2 = direction_scale * rng.standard_normal((2, n, n)) / np.sqrt(n)
    A0 = resolvent(problem.W0, g)
    A1, A2 = A0 @ W1 @ A0, A0 @ W2 @ A0
    T1, T2 = np.meshgrid(t, t, indexing="ij")
    lw = np.empty(T1.shape)
    la = np.empty(T1.shape)
    for i in range(len(t)):
        for j in range(len(t)):
            lw[i, j] = min(loss(problem.W0 + t[i] * W1 + t[j] * W2, X, R_hat, g), clip)
            la[i, j] = min(loss_a(A0 + t[i] * A1 + t[j] * A2, X, R_hat), clip)
    return {"t1": T1, "t2": T2, "loss_w": lw, "loss_a": la}


def one_dimensional(rng: np.random.Generator, *, m: int = 500, w_true: float = -1.0, g: float = 1.0,
                    starts=(-2.0, 0.0), lrs_w=(0.02, 0.2, 2.0, 20.0), lrs_a=(0.02, 0.2, 2.0),
                    iterations: int = 1000, w_grid=None) -> dict:
    r"""The 1-D case (spec §6.1): :math:`a = 1/(g^{-1} - w)`, :math:`J = \frac1m\sum(ax - y)^2`.

    Data :math:`x \sim 0.1\,\mathcal N(0,1)`, :math:`y = \hat a x + 0.02\,\mathcal N(0,1)`
    with :math:`\hat a = 1/(g^{-1} - \hat w)`.  Runs, for each start :math:`w_0`:

    * ``"w"`` — Euclidean descent :math:`\Delta w = -\eta\,a^2\,dJ/da`,
    * ``"a"`` — gradient descent on :math:`a` (reported through :math:`w = g^{-1} - 1/a`),
    * ``"metric"`` — :math:`\Delta w = -\eta (g^{-1} - w)^2 dJ/da` (the 1-D dW3).

    Returns ``x, y, a_star, w_star, w_grid, loss_grid`` and ``runs``: a list of dicts
    with ``start, rule, lr, loss`` (length ``iterations + 1``; cut where non-finite).
    """
    x = 0.1 * rng.standard_normal(m)
    a_true = 1.0 / (1.0 / g - w_true)
    y = a_true * x + 0.02 * rng.standard_normal(m)
    a_star = float(np.dot(x, y) / np.dot(x, x))
    w_star = 1.0 / g - 1.0 / a_star
    J_a = lambda a: float(np.mean((a * x - y) ** 2))  # noqa: E731
    dJ_da = lambda a: float(2.0 * np.mean((a * x - y) * x))  # noqa: E731
    w_grid = np.linspace(-6, 3, 901) if w_grid is None else np.asarray(w_grid, dtype=float)
    with np.errstate(divide="ignore"):
        a_grid = 1.0 / (1.0 / g - w_grid)
    loss_grid = np.array([J_a(a) if np.isfinite(a) else np.inf for a in a_grid])
    runs = []
    for w0 in starts:
        for rule, lrs in (("w", lrs_w), ("a", lrs_a), ("metric", lrs_w)):
            for lr in lrs:
                w = float(w0)
                a = 1.0 / (1.0 / g - w)
                curve = []
                for _ in range(iterations + 1):
                    J = J_a(a)
                    if not np.isfinite(J):
                        break
                    curve.append(J)
                    if rule == "w":
                        w = w - lr * a * a * dJ_da(a)
                        a = 1.0 / (1.0 / g - w) if w != 1.0 / g else np.inf
                    elif rule == "a":
                        a = a - lr * dJ_da(a)
                    else:
                        w = w - lr * (1.0 / g - w) ** 2 * dJ_da(a)
                        a = 1.0 / (1.0 / g - w) if w != 1.0 / g else np.inf
                runs.append({"start": float(w0), "rule": rule, "lr": float(lr), "loss": np.array(curve)})
    return {"x": x, "y": y, "a_star": a_star, "w_star": w_star, "w_grid": w_grid,
            "loss_grid": loss_grid, "loss_min": J_a(a_star), "runs": runs}
