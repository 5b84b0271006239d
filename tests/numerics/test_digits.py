"""Tests of rnn_theory.numerics.fixed_point.digits: stratified split, IDX reader (synthetic files), sklearn digits."""
import gzip
import struct

import numpy as np
import pytest

from rnn_theory.numerics.fixed_point.digits import Dataset, load_digits_split, load_mnist_idx, load_mnist_split, read_idx, stratified_split
from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError


def _write_idx(path, arr, magic, compress=False):
    arr = np.asarray(arr, dtype=np.uint8)
    head = struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = head + arr.tobytes()
    if compress:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, compress):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (7, 28, 28))
    lab = rng.integers(0, 10, 7)
    ip = _write_idx(tmp_path / "img", img, 0x803, compress)
    lp = _write_idx(tmp_path / "lab", lab, 0x801, compress)
    X, y = load_mnist_idx(ip, lp)
    assert X.shape == (7, 784) and y.dtype == np.int64
    assert np.array_equal(X, img.reshape(7, -1) / 255.0) and np.array_equal(y, lab)
    assert X.max() <= 1.0


def test_idx_validation(tmp_path):
    img = np.zeros((3, 4, 4))
    ip = _write_idx(tmp_path / "img", img, 0x803)
    lp = _write_idx(tmp_path / "lab", np.zeros(3), 0x801)
    with pytest.raises(RNNTheoryError, match="magic"):
        load_mnist_idx(lp, lp)                      # label file passed as images
    bad = _write_idx(tmp_path / "bad", img, 0x1234)
    with pytest.raises(RNNTheoryError, match="magic"):
        read_idx(bad)
    trunc = tmp_path / "trunc"
    trunc.write_bytes(ip.read_bytes()[:-5])
    with pytest.raises(ShapeError, match="truncated"):
        read_idx(trunc)
    lp4 = _write_idx(tmp_path / "lab4", np.zeros(4), 0x801)
    with pytest.raises(ShapeError):
        load_mnist_idx(ip, lp4)                     # 4 labels for 3 images
    with pytest.raises(RNNTheoryError, match="not found"):
        read_idx(tmp_path / "missing")
    with pytest.raises(RNNTheoryError, match="no train-images"):
        load_mnist_split(tmp_path)


def test_mnist_split_folder(tmp_path):
    for stem, arr, magic in (("train-images-idx3-ubyte", np.ones((4, 2, 2)), 0x803),
                             ("train-labels-idx1-ubyte", np.arange(4), 0x801),
                             ("t10k-images-idx3-ubyte", np.ones((2, 2, 2)), 0x803),
                             ("t10k-labels-idx1-ubyte", np.arange(2), 0x801)):
        _write_idx(tmp_path / (stem + ".gz"), arr, magic, compress=True)
    d = load_mnist_split(tmp_path)
    assert d.X_train.shape == (4, 4) and d.X_test.shape == (2, 4) and d.n_features == 4


def test_stratified_split_is_seeded_and_stratified():
    y = np.repeat(np.arange(5), [20, 30, 40, 10, 50])
    a = stratified_split(y, 0.25, np.random.default_rng(1))
    b = stratified_split(y, 0.25, np.random.default_rng(1))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    tr, te = a
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == len(y)
    assert np.array_equal(np.bincount(y[te]), np.round(0.25 * np.bincount(y)).astype(int))
    with pytest.raises(DomainError):
        stratified_split(y, 1.5, np.random.default_rng(0))


def test_dataset_shape_checks():
    with pytest.raises(ShapeError):
        Dataset(np.zeros((3, 2)), np.zeros(4, int), np.zeros((1, 2)), np.zeros(1, int), 2)


def test_sklearn_digits():
    pytest.importorskip("sklearn", reason="optional extra [digits] not installed: pip install \".[digits]\"")
    d = load_digits_split(np.random.default_rng(0))
    assert d.X_train.shape[1] == 64 and len(d.y_train) + len(d.y_test) == 1797
    assert 0 <= d.X_train.min() and d.X_train.max() <= 1.0 and d.X_test.max() <= 1.0
    assert set(np.unique(d.y_test)) == set(range(10))


def test_missing_sklearn_message(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(RNNTheoryError, match=r"\[digits\]"):
        load_digits_split(np.random.default_rng(0))
