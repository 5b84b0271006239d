"""The authors' variants of the linear fixed-point experiment (docs/differences.md)."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.fixed_point.linear_experiment import (
    angle_deg,
    angles,
    learning_curve,
    make_problem,
    resolvent,
)
from rnn_theory.theory.errors import DomainError


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 12), m=st.integers(1, 12), lr=st.floats(0.01, 3.0))
@example(seed=0, n=12, m=6, lr=3.0)
def test_paper_dw2_is_the_lookahead_step_in_A_space(seed, n, m, lr):
    """One paper dW2 step from W: in A-space, with D(A) = A H - C (H = 2XX^T/m,
    C = 2 R X^T/m), A_1 = A (I - lr H + lr^2 H^2) + lr C (I - lr H): a polynomial in H
    written out independently of the code's two gradient evaluations."""
    p = make_problem(np.random.default_rng(seed), n=n, m=m)
    H = 2.0 / m * p.X @ p.X.T
    C = 2.0 / m * p.R_hat @ p.X.T
    A0 = resolvent(p.W_init)
    I = np.eye(n)
    expected = A0 @ (I - lr * H + lr**2 * H @ H) + lr * C @ (I - lr * H)
    W1 = learning_curve(p, "dW2", lr, 1, variant="paper")["W"]
    A1 = resolvent(W1)
    scale = np.linalg.norm(expected) * np.linalg.cond(expected)
    assert np.linalg.norm(A1 - expected) <= 1e-12 * scale


def test_paper_dw2_differs_at_second_order_in_lr():
    """The lookahead changes the step by lr^2 D(D): halving lr shrinks the gap ~4x."""
    p = make_problem(np.random.default_rng(1), n=20, m=10)
    gaps = []
    for lr in (0.04, 0.02):
        a = learning_curve(p, "dW2", lr, 1)["W"]
        b = learning_curve(p, "dW2", lr, 1, variant="paper")["W"]
        gaps.append(np.linalg.norm(a - b))
    assert 3.6 < gaps[0] / gaps[1] < 4.4
    for rule in ("dW1", "dW3"):   # only dW2 changes
        np.testing.assert_array_equal(learning_curve(p, rule, 0.1, 3)["W"],
                                      learning_curve(p, rule, 0.1, 3, variant="paper")["W"])


def test_paper_angles_use_the_previous_activity():
    p = make_problem(np.random.default_rng(2), n=16, m=8)
    lr, k = 0.3, 6
    clean = angles(p, lr, k)
    paper = angles(p, lr, k, variant="paper")
    # first iteration: no previous activity, both fresh; theta12 is never changed
    assert paper["angle_23"][0] == clean["angle_23"][0]
    np.testing.assert_array_equal(paper["angle_12"], clean["angle_12"])
    # by hand: follow dW3 and build the dW2 step at W3_k from r = A(W3_{k-1}) X
    W3 = p.W_init.copy()
    Ws = []
    for _ in range(k):
        Ws.append(W3)
        M = np.eye(16) - W3
        W3 = W3 - lr * 2.0 / 8 * (p.X - M @ p.R_hat) @ p.X.T @ M
    for j in range(1, k):
        A = resolvent(Ws[j])
        r_old = resolvent(Ws[j - 1]) @ p.X
        W2 = np.eye(16) - np.linalg.inv(A - lr * 2.0 / 8 * (r_old - p.R_hat) @ p.X.T)
        M = np.eye(16) - Ws[j]
        d3 = 2.0 / 8 * (p.X - M @ p.R_hat) @ p.X.T @ M
        assert paper["angle_23"][j] == pytest.approx(angle_deg(Ws[j] - W2, d3), abs=1e-9)
    # the stale activity carried into the next learning rate changes its first angle
    chained = angles(p, 0.1, 2, variant="paper", r_stale=paper["r_last"])
    assert abs(chained["angle_23"][0] - angles(p, 0.1, 2)["angle_23"][0]) > 1e-3
    with pytest.raises(DomainError, match="variant"):
        angles(p, 0.1, 2, variant="authors")


def test_float32_curve_agrees_with_float64_within_the_spread_over_seeds():
    """Float32 (the authors' precision) changes the final loss by less than the spread of
    the float64 final loss over problem seeds."""
    finals64, diffs = [], []
    for seed in range(4):
        p = make_problem(np.random.default_rng(seed), n=30, m=15)
        f64 = learning_curve(p, "dW3", 1.0, 300)
        f32 = learning_curve(p, "dW3", 1.0, 300, dtype=np.float32)
        assert f32["W"].dtype == np.float32
        finals64.append(np.log(f64["loss"][100]))
        diffs.append(abs(np.log(f32["loss"][100]) - np.log(f64["loss"][100])))
    assert max(diffs) < np.std(finals64, ddof=1)
    with pytest.raises(DomainError, match="dtype"):
        learning_curve(p, "dW3", 1.0, 3, dtype=np.int64)
