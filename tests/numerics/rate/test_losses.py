"""Losses: values against direct formulas, gradients against central differences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.errors import DomainError, ShapeError
from rnn_theory.numerics.rate.losses import cross_entropy, get_loss, masked_mse, mse


def _fd(loss, z, y, m, h=1e-6):
    fd = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h; zm[idx] -= h
        fd[idx] = (loss(zp, y, m)[0] - loss(zm, y, m)[0]) / (2 * h)
    return fd


@settings(max_examples=20)
@given(seed=st.integers(0, 2**31 - 1), B=st.integers(1, 3), T=st.integers(1, 4), C=st.integers(1, 4),
       mask_kind=st.sampled_from(["full", "bt", "bt1"]))
def test_gradients_match_finite_differences(seed, B, T, C, mask_kind):
    rng = np.random.default_rng(seed)
    z = 3 * rng.standard_normal((B, T, C))
    y = rng.standard_normal((B, T, C))
    shape = {"full": (B, T, C), "bt": (B, T), "bt1": (B, T, 1)}[mask_kind]
    m = (rng.random(shape) < 0.6).astype(float)
    m.flat[0] = 1.0
    for loss in (masked_mse, mse):
        L, dz = loss(z, y, m)
        assert np.linalg.norm(_fd(loss, z, y, m) - dz) <= 1e-7 * max(1, np.linalg.norm(dz))
    if mask_kind != "full":
        p = rng.random((B, T, C)); p /= p.sum(-1, keepdims=True)
        L, dz = cross_entropy(z, p, m)
        assert np.linalg.norm(_fd(cross_entropy, z, p, m) - dz) <= 1e-7 * max(1, np.linalg.norm(dz))


def test_values_against_direct_formulas():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 2))
    m = np.ones((2, 3, 2)); m[:, 1] = 0
    L, _ = masked_mse(z, y, m)
    assert L == pytest.approx(0.5 * np.mean((z[:, [0, 2]] - y[:, [0, 2]]) ** 2), rel=1e-14)
    assert mse(z, y, m)[0] == pytest.approx(2 * L, rel=1e-14)
    # mask (B, T) broadcast over channels counts channels in the denominator
    assert masked_mse(z, y, m[..., 0])[0] == pytest.approx(L, rel=1e-14)
    # cross-entropy with one-hot targets = mean negative log-probability of the labels
    lab = rng.integers(0, 2, size=(2, 3))
    yy = np.eye(2)[lab]
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    direct = -np.mean(np.take_along_axis(logp, lab[..., None], -1))
    assert cross_entropy(z, yy, np.ones((2, 3)))[0] == pytest.approx(direct, rel=1e-14)
    # no overflow for huge logits
    L, dz = cross_entropy(np.array([[[1000.0, -1000.0]]]), np.array([[[0.0, 1.0]]]), np.ones((1, 1)))
    assert L == pytest.approx(2000.0) and np.all(np.isfinite(dz))


def test_bad_input():
    z = np.zeros((2, 3, 2))
    with pytest.raises(ShapeError, match="target"):
        masked_mse(z, np.zeros((2, 3, 1)), np.ones((2, 3, 2)))
    with pytest.raises(ShapeError, match="mask"):
        masked_mse(z, z, np.ones((2, 4, 2)))
    m = np.ones((2, 3, 2)); m[0, 0, 1] = 0
    with pytest.raises(ShapeError, match="mask"):
        cross_entropy(z, z, m)  # differs between channels
    y = np.eye(2)[[[0, 1, 0], [1, 1, 0]]]
    assert cross_entropy(z, y, np.ones((2, 3, 2)))[0] == cross_entropy(z, y, np.ones((2, 3)))[0]
    with pytest.raises(DomainError, match="no entries"):
        masked_mse(z, z, np.zeros((2, 3, 2)))
    with pytest.raises(DomainError):
        get_loss("hinge")
    assert get_loss("mse") is mse
