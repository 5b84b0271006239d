"""Low-rank analyses of ΔW: truncation, functional rank, shuffle test, convergence step."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.rate.analysis import (analyze_run, convergence_step, dw_svd, evaluate, functional_rank,
                               shuffle_loss, truncate, truncation_losses)
from rnn_theory.numerics.errors import RNNTheoryError, ShapeError
from rnn_theory.numerics.rate.losses import masked_mse
from rnn_theory.numerics.rate.model import RateRNN, forward
from rnn_theory.numerics.rate.tasks import flipflop
from rnn_theory.numerics.rate.train import train


def _lowrank_net(n=20, g=0.8, rank=2, seed=0):
    rng = np.random.default_rng(seed)
    net0 = RateRNN.init(n, 2, 2, g, rng)
    U = rng.standard_normal((n, rank)); V = rng.standard_normal((n, rank))
    dW = U @ np.diag(np.arange(rank, 0, -1.0)) @ V.T / n
    return net0.replace(W=net0.W + dW), net0.W, dW


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(3, 30), rank=st.integers(0, 3))
def test_truncation_exact_for_low_rank_dw(seed, n, rank):
    net, W0, dW = _lowrank_net(n=n, rank=min(rank, n), seed=seed)
    trials = flipflop(np.random.default_rng(seed), 4)
    tr = truncation_losses(net, W0, trials, ranks=range(6))
    full = evaluate(net, trials)
    r = min(rank, n)
    for R, L, res, ex in zip(tr["rank"], tr["loss"], tr["residual_norm"], tr["explained"]):
        WR = truncate(W0, dw_svd(net.W, W0), int(R))
        # residual norm from the singular values equals the direct Frobenius norm
        assert res == pytest.approx(np.linalg.norm(WR - net.W), abs=1e-10)
        if R >= r:
            assert L == pytest.approx(full, rel=1e-9, abs=1e-14)
            assert res == pytest.approx(0.0, abs=1e-10)
            assert ex == pytest.approx(1.0)
    if r == 0:
        assert np.all(tr["explained"] == 1.0)
    assert tr["loss"][0] == pytest.approx(evaluate(net.replace(W=W0), trials), rel=1e-12)


def test_evaluate_matches_forward_loss():
    net, W0, _ = _lowrank_net()
    trials = flipflop(np.random.default_rng(1), 5)
    z = forward(net, trials.inputs).z
    assert evaluate(net, trials) == pytest.approx(masked_mse(z, trials.targets, trials.mask)[0], rel=1e-12)


def test_functional_rank_and_convergence_edge_cases():
    assert functional_rank([0, 1, 2], [1.0, 0.06, 0.049]) == 2
    assert functional_rank([0, 1, 2], [1.0, 0.05, 0.05]) is None    # strict inequality
    assert functional_rank([2, 0, 1], [0.0, 1.0, 0.5]) == 2          # order-free
    with pytest.raises(RNNTheoryError, match="include 0"):
        functional_rank([1, 2], [1.0, 0.5])
    assert convergence_step([2.0, 0.1, 0.09]) == 2
    assert convergence_step([0.0, 0.0]) is None                      # nothing below 0
    with pytest.raises(ShapeError):
        convergence_step([])


def test_shuffle_is_exact_at_g0_and_destroys_structure_otherwise():
    # g = 0: W0 = 0, so any permutation leaves W unchanged → shuffle loss = trained loss
    net0 = RateRNN.init(16, 2, 2, 0.0, np.random.default_rng(0))
    res = train(net0, flipflop, 20, 8, 5e-3, np.random.default_rng(1))
    trials = flipflop(np.random.default_rng(2), 16)
    assert shuffle_loss(res.net, net0.W, trials, np.random.default_rng(3)) == evaluate(res.net, trials)
    # the permutation changes W0 but keeps its entries
    net, W0, dW = _lowrank_net(g=1.0)
    rng = np.random.default_rng(4)
    Ls = shuffle_loss(net, W0, trials, rng)
    perm = np.random.default_rng(4).permutation(W0.size)
    Ws = W0.ravel()[perm].reshape(W0.shape) + dW
    assert Ls == pytest.approx(evaluate(net.replace(W=Ws), trials), rel=1e-12)


def test_analyze_run_end_to_end():
    net0 = RateRNN.init(16, 2, 2, 0.9, np.random.default_rng(0))
    res = train(net0, flipflop, 30, 8, 5e-3, np.random.default_rng(1))
    a = analyze_run(res.net, net0.W, res.loss, flipflop, np.random.default_rng(2), n_eval=32, ranks=range(5))
    s = a.summary()
    assert s["dw_norm"] == pytest.approx(np.linalg.norm(res.dW))
    assert s["w0_norm"] == pytest.approx(np.linalg.norm(net0.W))
    assert s["shuffle_loss_ratio"] == pytest.approx(s["shuffle_loss"] / res.loss[0])
    np.testing.assert_allclose(a.singular_values, np.linalg.svd(res.dW, compute_uv=False))
    assert list(a.truncation["rank"]) == [0, 1, 2, 3, 4]
