"""Offline image data for the fixed-point benchmark (spec §9).

* :func:`load_digits_split` — scikit-learn's bundled 8×8 digits (1797 images, values
  0–16, scaled by 1/16 to [0, 1]) with a seeded, stratified train/test split.  Needs the
  optional ``[digits]`` extra (``pip install rnn-theory[digits]`` or
  ``pip install scikit-learn``).
* :func:`load_mnist_idx` — the standard MNIST IDX files (``train-images-idx3-ubyte`` etc.,
  optionally ``.gz``) from a user-given path: big-endian header, magic 0x00000803 for
  images and 0x00000801 for labels, shapes validated, pixels scaled by 1/255.

Images are returned as ``(samples, pixels)`` float64 arrays and labels as int64; the
same preprocessing is applied to training and test data (spec §8, quirk 2).

>>> import numpy as np
>>> y = np.repeat(np.arange(3), 10)
>>> tr, te = stratified_split(y, 0.2, np.random.default_rng(0))
>>> len(te), sorted(np.bincount(y[te]).tolist())
(6, [2, 2, 2])
"""
from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_theory.theory.errors import DomainError, RNNTheoryError, ShapeError

__all__ = ["Dataset", "stratified_split", "load_digits_split", "read_idx", "load_mnist_idx", "load_mnist_split"]

IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801


@dataclass(frozen=True)
class Dataset:
    """A train/test split: ``X_*`` (samples, features) in [0, 1], ``y_*`` integer labels."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str = ""

    def __post_init__(self):
        for X, y, part in ((self.X_train, self.y_train, "train"), (self.X_test, self.y_test, "test")):
            if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
                raise ShapeError(f"{part} data: X {X.shape} and y {y.shape} must be (n, d) and (n,)")
        if self.X_train.shape[1] != self.X_test.shape[1]:
            raise ShapeError("train and test images have different numbers of pixels")

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]


def stratified_split(y, test_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)``: each class contributes ``round(test_fraction * count)`` test samples.

    Deterministic given ``rng``; both index arrays are shuffled.  :math:`O(n)`.
    """
    y = np.asarray(y)
    if not 0 < test_fraction < 1:
        raise DomainError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(test_fraction * len(idx)))
        test.append(idx[:k])
        train.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_digits_split(rng: np.random.Generator, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's 8×8 digits, pixels/16, seeded stratified split (default 1437/360).

    Raises
    ------
    RNNTheoryError
        If scikit-learn is not installed (install the ``[digits]`` extra).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise RNNTheoryError(
            "the digits benchmark needs scikit-learn: install the optional extra with "
            "`pip install rnn-theory[digits]` (or `pip install scikit-learn`)") from exc
    d = load_digits()
    X = d.data.astype(float) / 16.0
    y = d.target.astype(np.int64)
    tr, te = stratified_split(y, test_fraction, rng)
    return Dataset(X[tr], y[tr], X[te], y[te], 10, "digits")


def _open(path: Path):
    with open(path, "rb") as f:
        head = f.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def read_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (big-endian; optional gzip, detected from its content) as a uint8 array.

    Validates the magic number (0x0803 images, 0x0801 labels) and that the payload size
    matches the header's dimensions.
    """
    path = Path(path)
    if not path.is_file():
        raise RNNTheoryError(f"IDX file {path} not found; pass the path to the MNIST files you downloaded")
    with _open(path) as f:
        data = f.read()
    if len(data) < 4:
        raise RNNTheoryError(f"{path} is too short to be an IDX file")
    magic = struct.unpack(">I", data[:4])[0]
    if magic not in (IMAGE_MAGIC, LABEL_MAGIC) or (expected_magic is not None and magic != expected_magic):
        want = f"0x{expected_magic:08x}" if expected_magic is not None else "0x00000803 or 0x00000801"
        raise RNNTheoryError(f"{path} has magic number 0x{magic:08x}; expected {want} (an MNIST IDX file)")
    ndim = magic & 0xFF
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    payload = data[4 + 4 * ndim:]
    if len(payload) != int(np.prod(dims)):
        raise ShapeError(f"{path}: header says shape {dims} ({int(np.prod(dims))} bytes) but the file holds "
                         f"{len(payload)} bytes; the file is truncated or corrupt")
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims)


def load_mnist_idx(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, rows*cols) scaled by 1/255 and labels (n,) from a pair of IDX files."""
    img = read_idx(images_path, IMAGE_MAGIC)
    lab = read_idx(labels_path, LABEL_MAGIC)
    if img.ndim != 3:
        raise ShapeError(f"{images_path}: image file has {img.ndim} dimensions; expected 3 (n, rows, cols)")
    if lab.ndim != 1 or len(lab) != len(img):
        raise ShapeError(f"{labels_path}: {lab.shape} labels for {len(img)} images")
    if lab.size and lab.max() > 9:
        raise RNNTheoryError(f"{labels_path}: labels must be digits 0-9, found {int(lab.max())}")
    return img.reshape(len(img), -1).astype(float) / 255.0, lab.astype(np.int64)


def load_mnist_split(folder) -> Dataset:
    """The standard MNIST train/test files in ``folder`` (``.gz`` or not)."""
    folder = Path(folder)

    def find(stem):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
        raise RNNTheoryError(f"{folder} has no {stem}[.gz]; expected the four standard MNIST IDX files")

    Xtr, ytr = load_mnist_idx(find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte"))
    Xte, yte = load_mnist_idx(find("t10k-images-idx3-ubyte"), find("t10k-labels-idx1-ubyte"))
    return Dataset(Xtr, ytr, Xte, yte, 10, "mnist")
