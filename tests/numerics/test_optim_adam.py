"""Adam's in-place update against the textbook formula evaluated directly (bit for bit)."""
from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings, strategies as st

from rnn_theory.numerics.infra.optim import Adam


@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 40), steps=st.integers(1, 6),
       dtype=st.sampled_from([np.float32, np.float64]))
@settings(deadline=None, max_examples=40)
@example(seed=0, n=1, steps=1, dtype=np.float32)
def test_adam_matches_formula(seed, n, steps, dtype):
    rng = np.random.default_rng(seed)
    opt = Adam(lr=1e-2)
    p = {"w": rng.standard_normal((n, 3)).astype(dtype)}
    p_in = {"w": p["w"].copy()}
    state = opt.init(p)
    m = np.zeros_like(p["w"])
    v = np.zeros_like(p["w"])
    w = p["w"].copy()
    for t in range(1, steps + 1):
        g = rng.standard_normal((n, 3)).astype(dtype)
        g_in = g.copy()
        p, state = opt.step(p, {"w": g}, state)
        m = 0.9 * m + (1 - 0.9) * g
        v = 0.999 * v + (1 - 0.999) * (g * g)
        w = w - 1e-2 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        assert np.array_equal(g, g_in)  # inputs are not modified
        assert p["w"].dtype == dtype
        assert np.array_equal(p["w"], w)
        assert np.array_equal(state["m"]["w"], m) and np.array_equal(state["v"]["w"], v)
    assert not np.array_equal(p_in["w"], p["w"])
