"""R7 shuffle law: symbolic targets, Sherman-Morrison, simulation at N = 1000."""
import numpy as np
import pytest
import sympy as sp

from rnn_theory.theory import linear as L

g, zhat = L.g, L.zhat


# ----------------------------------------------------------------------------- R7 shuffle
def test_shuffle_targets_symbolic():
    sh = L.shuffle_derivation()
    assert sh["sherman_morrison_ok"]
    assert sp.simplify(sh["z_shuffle_g"] - zhat * (1 - g**2) ** 2) == 0
    assert sp.simplify(sh["ratio"] - g**4 * (2 - g**2) ** 2) == 0
    assert abs(L.shuffle_loss_ratio(0.6) - 0.6**4 * (2 - 0.36) ** 2) < 1e-15


def test_sherman_morrison_numeric():
    rng = np.random.default_rng(0)
    A = np.eye(6) + 0.3 * rng.normal(size=(6, 6))
    a, b_ = rng.normal(size=6), rng.normal(size=6)
    k = 0.4
    Ai = np.linalg.inv(A)
    sm = Ai + k * np.outer(Ai @ a, b_ @ Ai) / (1 - k * b_ @ Ai @ a)
    np.testing.assert_allclose(sm, np.linalg.inv(A - k * np.outer(a, b_)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("gv", [0.4, 0.6])
def test_shuffle_law_vs_simulation(gv):
    """Converged first-order dW on a shuffled W0 (all N^2 entries permuted), N = 1000:
    z' - w^T B' m vs zhat (1-g^2)^2 within a few % of zhat (O(N^-1/2) fluctuations)."""
    n, zh = 1000, 1.0
    rng = np.random.default_rng(int(gv * 10))
    W0 = gv * rng.normal(size=(n, n)) / np.sqrt(n)
    m = rng.normal(size=n); m *= np.sqrt(n) / np.linalg.norm(m)
    w = rng.normal(size=n); w *= np.sqrt(n) / np.linalg.norm(w) / n
    b = 1 / (1 - gv**2)
    u0 = np.linalg.solve(np.eye(n) - W0.T, w)
    v0 = np.linalg.solve(np.eye(n) - W0, m)
    dW = (zh / b**2) * np.outer(u0, v0)
    W0s = rng.permutation(W0.ravel()).reshape(n, n)
    zs = w @ np.linalg.solve(np.eye(n) - W0s - dW, m)
    off = w @ np.linalg.solve(np.eye(n) - W0s, m)
    z_th = zh * (1 - gv**2) ** 2
    assert abs((zs - off) - z_th) < 0.05 * zh
    ratio_th = L.shuffle_loss_ratio(gv)
    assert abs((zh - (zs - off)) ** 2 / zh**2 - ratio_th) < 0.1 * ratio_th + 0.01
