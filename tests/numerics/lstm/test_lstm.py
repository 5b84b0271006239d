"""NumPy LSTM: exact BPTT against finite differences, masking, dropout, bad input, training."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.errors import DomainError, NonFiniteError, ShapeError
from rnn_theory.numerics.lstm.model import (
    Sequences,
    accuracy,
    bce_with_logits,
    dropout_masks,
    embed,
    forward,
    init_lstm,
    loss_and_grads,
    train_lstm,
)


def _fd_grads(params, x, lengths, y, masks, eps=1e-6):
    """Central finite differences of the loss for every entry of every parameter."""
    out = {}
    for k, v in params.items():
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            p = dict(params)
            p[k] = v.copy()
            p[k][idx] = v[idx] + eps
            lp = bce_with_logits(forward(p, x, lengths, masks=masks), y)
            p[k][idx] = v[idx] - eps
            lm = bce_with_logits(forward(p, x, lengths, masks=masks), y)
            g[idx] = (lp - lm) / (2 * eps)
        out[k] = g
    return out


def _setup(seed, N, layers, p_drop, scale=2.0, B=3, T=5, n_in=3):
    rng = np.random.default_rng(seed)
    params = {k: scale * v for k, v in init_lstm(n_in, N, rng, layers=layers).items()}
    x = rng.normal(size=(B, T, n_in))
    lengths = rng.integers(1, T + 1, size=B)
    lengths[0] = T  # one full-length sequence, the others padded
    y = (rng.random(B) < 0.5).astype(float)
    masks = dropout_masks(rng, B, T, N, layers, p_drop) if p_drop > 0 else None
    return params, x, lengths, y, masks


@settings(max_examples=6)
@given(seed=st.integers(0, 10**6), N=st.integers(1, 4), layers=st.integers(1, 2),
       p_drop=st.sampled_from([0.0, 0.3]))
@example(seed=0, N=3, layers=2, p_drop=0.5)  # the paper's architecture, with dropout
@example(seed=1, N=1, layers=1, p_drop=0.0)
@example(seed=2, N=2, layers=3, p_drop=0.3)
@example(seed=1, N=1, layers=2, p_drop=0.0)  # |dL/dW_hh1| = 7e-6: round-off of the differences dominates
def test_bptt_matches_finite_differences_for_every_parameter(seed, N, layers, p_drop):
    params, x, lengths, y, masks = _setup(seed, N, layers, p_drop)
    loss, grads, _ = loss_and_grads(params, x, lengths, y, masks=masks)
    assert set(grads) == set(params)
    eps = 1e-6
    fd = _fd_grads(params, x, lengths, y, masks, eps=eps)
    for k in params:
        assert grads[k].shape == params[k].shape
        err = np.linalg.norm(grads[k] - fd[k])
        # central differences: truncation eps^2 f'''/6 (~1e-12) plus round-off; each loss is
        # evaluated to within ~100 ulp of |L|, so an entry's difference quotient carries up to
        # 100 u |L| / eps (1.5e-8 here) -- it dominates where a parameter's gradient is tiny
        roundoff = 100 * np.finfo(float).eps * max(abs(loss), 1.0) / eps * np.sqrt(fd[k].size)
        assert err <= 1e-6 * np.linalg.norm(fd[k]) + roundoff, (k, err, np.linalg.norm(fd[k]), roundoff)


def _reference_logit(params, x, layers):
    """Straight-from-the-equations single-sequence LSTM with separate gate matrices."""
    N = params["W_hh1"].shape[1]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    seq = list(x)
    for l in range(1, layers + 1):
        Wi, Wh, b = params[f"W_ih{l}"], params[f"W_hh{l}"], params[f"b{l}"]
        gate = {name: (Wi[k * N:(k + 1) * N], Wh[k * N:(k + 1) * N], b[k * N:(k + 1) * N])
                for k, name in enumerate("ifgo")}
        h, c, out = np.zeros(N), np.zeros(N), []
        for xt in seq:
            z = {n: Wi_ @ xt + Wh_ @ h + b_ for n, (Wi_, Wh_, b_) in gate.items()}
            c = sig(z["f"]) * c + sig(z["i"]) * np.tanh(z["g"])
            h = sig(z["o"]) * np.tanh(c)
            out.append(h)
        seq = out
    return float(params["W_out"][0] @ seq[-1] + params["b_out"][0])


def test_forward_matches_reference_and_masking_equals_truncation():
    params, x, lengths, y, _ = _setup(5, 4, 2, 0.0, scale=1.0, B=4, T=6)
    logits = forward(params, x, lengths)
    for b in range(4):
        # each padded sequence gives the logit of its own unpadded prefix
        ref = _reference_logit(params, x[b, :lengths[b]], 2)
        assert abs(logits[b] - ref) < 1e-12
    # padding content changes nothing, neither logits nor gradients
    x2 = x.copy()
    for b in range(4):
        x2[b, lengths[b]:] = 7.0
    _, g1, _ = loss_and_grads(params, x, lengths, y)
    _, g2, _ = loss_and_grads(params, x2, lengths, y)
    for k in g1:
        np.testing.assert_allclose(g1[k], g2[k], rtol=0, atol=1e-14)


def test_dropout_masks_and_eval_mode():
    rng = np.random.default_rng(0)
    params, x, lengths, y, _ = _setup(2, 3, 2, 0.0)
    ones = dropout_masks(rng, 3, 5, 3, 2, 0.0)
    np.testing.assert_array_equal(forward(params, x, lengths, masks=ones), forward(params, x, lengths))
    m = dropout_masks(rng, 2000, 5, 3, 2, 0.5)
    vals = np.unique(m["out"])
    np.testing.assert_array_equal(vals, [0.0, 2.0])
    # fraction kept ~ 0.5 (binomial sd over 30000 entries = 0.003)
    assert abs(np.mean(m["between"][0] > 0) - 0.5) < 0.02
    with pytest.raises(DomainError):
        dropout_masks(rng, 2, 5, 3, 2, 1.0)
    with pytest.raises(ShapeError, match="decoder dropout"):
        forward(params, x, lengths, masks={"between": [ones["between"][0]], "out": np.ones((2, 3))})


def test_float32_follows_float64():
    params, x, lengths, y, masks = _setup(3, 4, 2, 0.3, scale=1.0)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    l64, g64, _ = loss_and_grads(params, x, lengths, y, masks=masks)
    l32, g32, _ = loss_and_grads(p32, x.astype(np.float32), lengths, y, masks=masks)
    assert abs(l32 - l64) < 1e-5
    for k in g64:
        assert g32[k].dtype == np.float32
        assert np.linalg.norm(g32[k] - g64[k]) <= 1e-4 * max(np.linalg.norm(g64[k]), 1e-3)
    assert init_lstm(3, 4, np.random.default_rng(0), dtype=np.float32)["W_hh1"].dtype == np.float32


def test_bad_input_errors():
    rng = np.random.default_rng(0)
    params, x, lengths, y, _ = _setup(0, 3, 2, 0.0)
    with pytest.raises(DomainError, match="empty or all padding"):
        forward(params, x, np.array([5, 0, 2]))
    with pytest.raises(DomainError, match="exceeds"):
        forward(params, x, np.array([6, 1, 2]))
    with pytest.raises(ShapeError, match="does not match the LSTM's input size"):
        forward(params, x[:, :, :2], lengths)
    with pytest.raises(ShapeError, match="batch, time, features"):
        forward(params, x[0], lengths)
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(NonFiniteError):
        forward(params, bad, lengths)
    E = rng.normal(size=(10, 3))
    with pytest.raises(DomainError, match="token ids must lie in"):
        embed(E, np.array([[1, 10]]))
    with pytest.raises(DomainError, match="token ids must lie in"):
        embed(E, np.array([[-1, 2]]))
    with pytest.raises(ShapeError, match="labels"):
        loss_and_grads(params, x, lengths, np.zeros(2))
    with pytest.raises(DomainError):
        init_lstm(0, 3, rng)
    with pytest.raises(ShapeError, match="W_hh2"):
        p = dict(params)
        p["W_hh2"] = np.zeros((12, 2))
        forward(p, x, lengths)
    data = Sequences(np.ones((4, 3), int), [3, 2, 1, 3], [0, 1, 0, 1])
    with pytest.raises(ShapeError, match="embedding"):
        train_lstm(params, rng.normal(size=(5, 4)), data, steps=1, batch_size=2, lr=0.01, rng=rng)
    with pytest.raises(DomainError, match="token ids"):
        train_lstm(params, rng.normal(size=(1, 3)), data, steps=1, batch_size=2, lr=0.01, rng=rng)
    with pytest.raises(DomainError, match="dropout"):
        train_lstm(params, rng.normal(size=(5, 3)), data, steps=1, batch_size=2, lr=0.01, rng=rng, dropout=1.0)
    with pytest.raises(DomainError, match="no sequences"):
        Sequences(np.zeros((0, 3), int), np.zeros(0, int), np.zeros(0))
    with pytest.raises(DomainError, match="batch_size"):
        train_lstm(params, rng.normal(size=(5, 3)), data, steps=1, batch_size=9, lr=0.01, rng=rng)


def _toy_memory_task(rng, M, T=6):
    """Label = the first token (a 'sign' word) of each sequence; the rest is noise."""
    tokens = rng.integers(2, 6, size=(M, T))
    lengths = rng.integers(2, T + 1, size=M)
    tokens[np.arange(T)[None] >= lengths[:, None]] = 0
    labels = (tokens[:, 0] >= 4).astype(float)
    return Sequences(tokens, lengths, labels)


def test_training_learns_a_memory_task_and_is_reproducible():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(6, 4)) / 2
    E[0] = 0
    train, test = _toy_memory_task(rng, 400), _toy_memory_task(rng, 200)

    def run(seed):
        r = np.random.default_rng(seed)
        p = init_lstm(4, 8, r)
        return train_lstm(p, E, train, steps=150, batch_size=32, lr=0.02, rng=r, dropout=0.1,
                          eval_data=test, eval_every=50)

    a, b = run(1), run(1)
    np.testing.assert_array_equal(a.loss, b.loss)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
        np.testing.assert_array_equal(a.params0[k], init_lstm(4, 8, np.random.default_rng(1))[k])
    assert np.mean(a.loss[-20:]) < 0.5 * np.mean(a.loss[:5])
    assert a.eval_accuracy[-1] > 0.9 and accuracy(a.params, E, test) == a.eval_accuracy[-1]


# ----------------------------------------------------------------------------- analysis

from rnn_theory.numerics.lstm.truncation import rank_grid, singular_values, truncate, truncation_curves  # noqa: E402


@settings(max_examples=10)
@given(seed=st.integers(0, 10**6), rows=st.integers(1, 12), cols=st.integers(1, 6))
def test_truncate_is_eckart_young(seed, rows, cols):
    M = np.random.default_rng(seed).normal(size=(rows, cols))
    s = np.linalg.svd(M, compute_uv=False)
    for R in range(min(rows, cols) + 1):
        T = truncate(M, R)
        assert np.linalg.matrix_rank(T, tol=1e-9) == min(R, np.sum(s > 1e-9))
        # Frobenius error of the best rank-R approximation = norm of the dropped singular values
        assert abs(np.linalg.norm(M - T) - np.sqrt(np.sum(s[R:] ** 2))) < 1e-10 * max(1, s[0])


def test_rank_grid_and_errors():
    assert rank_grid(4) == [0, 1, 2, 3, 4]
    g = rank_grid(256)
    assert g[0] == 0 and g[-1] == 256 and g == sorted(set(g))
    with pytest.raises(DomainError):
        truncate(np.eye(3), 4)
    with pytest.raises(DomainError):
        rank_grid(-1)


def test_truncation_curves_limits():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(6, 4)) / 2
    E[0] = 0
    data = _toy_memory_task(rng, 60)
    p0 = init_lstm(4, 5, rng)
    p = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in p0.items()}
    rows = truncation_curves(p, p0, E, data, ranks=[0, 2, 5])
    acc_full = accuracy(p, E, data)
    for w, m, r, a in zip(*rows.values()):
        if r == 5:  # full rank: the trained network in both modes
            assert a == acc_full
        if r == 0 and m == "dW" and w != "all":
            q = dict(p)
            q[w] = p0[w]
            assert a == accuracy(q, E, data)
    assert set(rows["weight"]) == {"W_hh1", "W_ih2", "W_hh2", "all"} and set(rows["mode"]) == {"dW", "W"}
    sv = singular_values(p, p0)
    np.testing.assert_allclose(sv["W_hh2"]["dW"], np.linalg.svd(p["W_hh2"] - p0["W_hh2"], compute_uv=False))
    with pytest.raises(DomainError, match="not a parameter"):
        singular_values(p, p0, weights=("W_hh9",))
