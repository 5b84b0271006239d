"""Task generators: time alignment of inputs, targets and masks (spec §5), statistics, errors.

The targets are reconstructed from the inputs by an independent route (e.g. a
"last pulse wins" memory read 10 steps after each pulse) rather than compared with
hard-coded arrays.
"""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.errors import DomainError, RNNTheoryError, ShapeError
from rnn_theory.numerics.rate.tasks import (TASK_SIZES, TASKS, Trials, cosine, cosine_network, fixed_point, flipflop,
                            get_task, mante, romo)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31 - 1))
@example(seed=0)
def test_flipflop_alignment(seed):
    tr = flipflop(np.random.default_rng(seed), 16)
    u, y, m = tr.inputs, tr.targets, tr.mask
    assert u.shape == y.shape == m.shape == (16, 100, 2)
    for i in range(16):
        active = np.nonzero(np.any(u[i] != 0, axis=1))[0]
        onsets = active[::2]
        assert onsets[0] == 2                                   # first onset at p = 2
        np.testing.assert_array_equal(active[1::2], onsets[:len(active[1::2])] + 1)  # 2-step pulses
        gaps = np.diff(onsets)
        assert np.all((gaps >= 20) & (gaps < 60))               # n = int((δ+5)/dt), δ ~ U(5, 25)
        for p in onsets:
            ch = np.nonzero(u[i, p])[0]
            assert len(ch) == 1 and abs(u[i, p, ch[0]]) == 1.0  # one channel, amplitude 1
        # independent route: last pulse wins, read out 10 steps after the onset
        want_y = np.zeros((100, 2)); want_m = np.zeros((100, 2))
        for j, p in enumerate(onsets):
            end = onsets[j + 1] if j + 1 < len(onsets) else 100 + 100
            c = int(np.nonzero(u[i, p])[0][0])
            want_y[p + 10:end, :] = 0.0
            want_y[p + 10:end, c] = 0.5 * u[i, p, c]
            want_m[p + 10:end, :] = 1.0
        np.testing.assert_array_equal(y[i], want_y)
        np.testing.assert_array_equal(m[i], want_m)
        assert not np.any(m[i, :12])                            # masked out before first window


def test_flipflop_statistics():
    tr = flipflop(np.random.default_rng(1), 2000)
    onsets = tr.inputs[:, :, :] != 0
    per_trial = onsets.any(axis=2).sum(axis=1) // 2 + (onsets.any(axis=2).sum(axis=1) % 2)
    assert per_trial.min() >= 1 and per_trial.max() <= 5
    vals = tr.inputs[tr.inputs != 0]
    # signs and channels uniform: proportion within 5 binomial sd of 1/2
    n = vals.size
    assert abs(np.mean(vals > 0) - 0.5) < 5 * 0.5 / np.sqrt(n)
    ch0 = np.count_nonzero(tr.inputs[..., 0]) / n
    assert abs(ch0 - 0.5) < 5 * 0.5 / np.sqrt(n)


def test_mante_alignment_and_noise():
    B = 4000
    tr = mante(np.random.default_rng(2), B)
    u, y, m = tr.inputs, tr.targets, tr.mask
    assert u.shape == (B, 96, 4) and y.shape == m.shape == (B, 96, 1)
    ctx = u[:, :, :2]
    k = ctx[:, 10].argmax(axis=1)
    assert set(np.unique(ctx)) <= {0.0, 1.0}
    np.testing.assert_array_equal(ctx.sum(axis=2), np.r_[np.zeros(6), np.ones(40), np.zeros(50)][None].repeat(B, 0))
    # coherence recovered from the stimulus mean (noise sd 0.05/sqrt(0.5)/sqrt(40) = 0.011 << 1/16)
    coh = u[:, 6:46, 2:].mean(axis=1)
    grid = np.array([-1, -0.5, -0.25, -0.125, 0.125, 0.25, 0.5, 1.0])
    c = grid[np.abs(coh[..., None] - grid).argmin(axis=-1)]
    want = np.zeros((B, 96)); want[:, 56:] = 0.5 * np.sign(c[np.arange(B), k])[:, None]
    np.testing.assert_array_equal(y[..., 0], want)
    np.testing.assert_array_equal(m[..., 0], np.r_[np.ones(46), np.zeros(10), np.ones(40)][None].repeat(B, 0))
    # noise on every step of both sensory channels with sd 0.05/sqrt(dt); sd estimate rel. error ~ 1/sqrt(2n)
    resid = u[:, :, 2:] - np.where((np.arange(96) >= 6) & (np.arange(96) < 46), 1.0, 0.0)[None, :, None] * c[:, None, :]
    sd = 0.05 / np.sqrt(0.5)
    for sl in (slice(0, 6), slice(6, 46), slice(46, 96)):
        est = resid[:, sl].std()
        assert abs(est / sd - 1) < 5 / np.sqrt(2 * resid[:, sl].size)
    # coherence draws are uniform over the 8 values (chi-square-like bound)
    counts = np.array([(c == v).sum() for v in grid])
    assert np.all(np.abs(counts - 2 * B / 8) < 5 * np.sqrt(2 * B / 8))


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31 - 1))
@example(seed=0)
def test_romo_alignment(seed):
    tr = romo(np.random.default_rng(seed), 32)
    u, y, m = tr.inputs[..., 0], tr.targets, tr.mask
    assert u.shape == (32, 56) and y.shape == m.shape == (32, 56, 2)
    for i in range(32):
        on = np.nonzero(u[i])[0]
        assert on[0] == 6 and on[1] == 7 and len(on) == 4
        k = on[2] - 8
        assert on[3] == on[2] + 1 and 4 <= k <= 15              # k = int(δ/dt), δ ~ U(2, 8)
        f1, f2 = u[i, 6], u[i, 8 + k]
        assert 0.5 <= min(f1, f2) and max(f1, f2) <= 1.5 and abs(f1 - f2) >= 0.2
        want_y = np.zeros((56, 2)); want_y[20 + k:40 + k, 0 if f1 > f2 else 1] = 0.5
        want_m = np.zeros((56, 2)); want_m[:10 + k] = 1; want_m[20 + k:40 + k] = 1
        np.testing.assert_array_equal(y[i], want_y)
        np.testing.assert_array_equal(m[i], want_m)


def test_romo_gap_statistics():
    """Rejection sampling: f1, f2 uniform on the allowed set; P(f1 > f2) = 1/2."""
    tr = romo(np.random.default_rng(5), 3000)
    first = tr.targets[:, :, 0].max(axis=1) > 0
    assert abs(first.mean() - 0.5) < 5 * 0.5 / np.sqrt(3000)
    f1 = tr.inputs[:, 6, 0]
    assert abs(f1.mean() - 1.0) < 5 * 0.29 / np.sqrt(3000)


def test_cosine_and_fixed_point():
    tr = cosine(np.random.default_rng(0), 2)
    assert tr.inputs.shape == (2, 200, 1) and not np.any(tr.inputs)
    i = np.arange(200)
    np.testing.assert_allclose(tr.targets[0, :, 0], np.cos(2 * np.pi * i * 0.1 / 5), rtol=0, atol=1e-15)
    # period of 5 time units = 50 steps at dt = 0.1; mask = two periods
    np.testing.assert_allclose(tr.targets[0, 50, 0], 1.0, atol=1e-12)
    np.testing.assert_array_equal(tr.mask[0, :, 0], (i < 100).astype(float))
    net, x0 = cosine_network(64, 0.4, np.random.default_rng(1))
    assert net.dt == 0.1 and net.phi == "linear"
    assert np.isclose(np.linalg.norm(x0), 8.0) and np.isclose((net.W_out @ x0)[0], 1.0)
    fp = fixed_point(np.random.default_rng(0), zhat=2.0)
    assert fp.inputs.shape == (1, 202, 1)
    np.testing.assert_array_equal(fp.inputs[0, :, 0], np.r_[0, 0, np.ones(200)])
    np.testing.assert_array_equal(fp.mask[0, :, 0], np.r_[np.zeros(200), 1, 1])
    np.testing.assert_array_equal(fp.targets[0, -2:, 0], [2.0, 2.0])
    assert fixed_point(np.random.default_rng(0), steps=402).steps == 402


@pytest.mark.parametrize("name", sorted(TASKS))
def test_registry_sizes_and_reproducibility(name):
    f = get_task(name)
    a, b = f(np.random.default_rng(7), 3), f(np.random.default_rng(7), 3)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert (a.n_in, a.n_out) == TASK_SIZES[name]
    assert a.batch_size == 3


def test_bad_input():
    with pytest.raises(RNNTheoryError, match="unknown task"):
        get_task("nback")
    with pytest.raises(DomainError):
        flipflop(np.random.default_rng(0), 0)
    with pytest.raises(RNNTheoryError, match="Generator"):
        romo(0, 3)
    with pytest.raises(ShapeError):
        Trials(np.zeros((2, 3, 1)), np.zeros((2, 4, 1)), np.zeros((2, 4, 1)))
    with pytest.raises(ShapeError):
        Trials(np.zeros((2, 3, 1)), np.zeros((2, 3, 1)), np.zeros((2, 3, 2)))
