"""Rate RNN: forward dynamics against independent routes, BPTT against finite differences
and against forward-mode sensitivities (RTRL)."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.errors import DomainError, NonFiniteError, RNNTheoryError, ShapeError
from rnn_theory.numerics.rate.losses import cross_entropy, masked_mse
from rnn_theory.numerics.rate.model import RateRNN, backward, forward, predict

ALL = ("W", "W_in", "W_out", "b", "b_out")


def _net(seed, n=5, n_in=2, n_out=3, g=1.2, dt=0.5, phi="tanh", bias=True):
    rng = np.random.default_rng(seed)
    net = RateRNN.init(n, n_in, n_out, g, rng, dt=dt, phi=phi, bias=bias, out_bias=bias)
    if bias:  # non-zero biases so that their gradients are generic
        net = net.replace(b=0.3 * rng.standard_normal(n), b_out=0.2 * rng.standard_normal(n_out))
    return net


def _data(seed, net, B=3, T=7):
    rng = np.random.default_rng(seed + 1000)
    u = rng.standard_normal((B, T, net.n_in))
    y = rng.standard_normal((B, T, net.n_out))
    m = (rng.random((B, T, net.n_out)) < 0.7).astype(float)
    m[0, -1, 0] = 1.0
    return u, y, m


def _loss(net, u, y, m, kw, seed=None, loss=masked_mse):
    rng = None if seed is None else np.random.default_rng(seed)
    traj = forward(net, u, rng=rng, **kw)
    L, dz = loss(traj.z, y, m)
    return L, traj, dz


def _fd_check(net, u, y, m, kw=None, noise_seed=None, loss=masked_mse, h=1e-6):
    """Return the relative error ||g_fd - g|| / ||g|| per parameter."""
    kw = kw or {}
    L, traj, dz = _loss(net, u, y, m, kw, noise_seed, loss)
    names = tuple(net.params())
    grads = backward(net, traj, dz, params=names)
    errs = {}
    for name in names:
        P = net.params()[name]
        fd = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            vals = []
            for s in (+1, -1):
                Q = P.copy()
                Q[idx] += s * h
                vals.append(_loss(net.replace(**{name: Q}), u, y, m, kw, noise_seed, loss)[0])
            fd[idx] = (vals[0] - vals[1]) / (2 * h)
        errs[name] = np.linalg.norm(fd - grads[name]) / max(np.linalg.norm(fd), 1e-300)
    return errs


@settings(max_examples=12)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 6), g=st.floats(0.0, 2.0),
       dt=st.sampled_from([0.1, 0.5, 1.0]), phi=st.sampled_from(["tanh", "linear"]),
       bias=st.booleans())
@example(seed=0, n=5, g=0.0, dt=0.5, phi="tanh", bias=False)  # W0 = 0 exactly
@example(seed=1, n=4, g=1.5, dt=1.0, phi="tanh", bias=True)   # Farrell's discrete map
@example(seed=2, n=4, g=0.9, dt=1.0, phi="linear", bias=True)
def test_bptt_matches_central_differences(seed, n, g, dt, phi, bias):
    net = _net(seed, n=n, g=g, dt=dt, phi=phi, bias=bias)
    u, y, m = _data(seed, net)
    errs = _fd_check(net, u, y, m)
    assert max(errs.values()) < 1e-6, errs


@pytest.mark.parametrize("kw", [
    {"state_noise": 0.3},
    {"act_noise": 0.2},
    {"dropout": 0.3},
    {"state_noise": 0.1, "act_noise": 0.1, "dropout": 0.25, "x0": np.linspace(-1, 1, 5)},
])
def test_bptt_with_noise_and_dropout(kw):
    """Same-seed rng → the finite differences see the same noise draw."""
    net = _net(3)
    u, y, m = _data(3, net)
    errs = _fd_check(net, u, y, m, kw=kw, noise_seed=42)
    assert max(errs.values()) < 1e-6, errs


def test_bptt_cross_entropy_and_x0_gradient():
    net = _net(4, n_out=3)
    u, y, _ = _data(4, net)
    rng = np.random.default_rng(5)
    y = np.eye(3)[rng.integers(0, 3, size=u.shape[:2])]
    m = np.zeros(u.shape[:2]); m[:, -2:] = 1
    errs = _fd_check(net, u, y, m, loss=cross_entropy)
    assert max(errs.values()) < 1e-6, errs
    # gradient with respect to the initial state (per trial)
    x0 = rng.standard_normal((u.shape[0], net.n))
    kw = {"x0": x0}
    L, traj, dz = _loss(net, u, y, m, kw, loss=cross_entropy)
    g0 = backward(net, traj, dz, params=("x0",))["x0"]
    fd = np.zeros_like(x0)
    h = 1e-6
    for idx in np.ndindex(x0.shape):
        xp, xm = x0.copy(), x0.copy()
        xp[idx] += h; xm[idx] -= h
        fd[idx] = (_loss(net, u, y, m, {"x0": xp}, loss=cross_entropy)[0]
                   - _loss(net, u, y, m, {"x0": xm}, loss=cross_entropy)[0]) / (2 * h)
    assert np.linalg.norm(fd - g0) / np.linalg.norm(fd) < 1e-6


def _rtrl_grads(net, u, dz, kw=None, seed=None):
    """Forward-mode sensitivities S_t = dx_t/dθ (RTRL), independent of the adjoint code."""
    kw = kw or {}
    traj = forward(net, u, rng=None if seed is None else np.random.default_rng(seed), **kw)
    B, T, _ = u.shape
    N, dt = net.n, net.dt
    n_in = net.n_in
    P = N * N + N * n_in + N  # W, W_in, b (row-major)
    gW = np.zeros(P)
    gWout = np.zeros_like(net.W_out)
    gbout = np.zeros(net.n_out)
    x, r, h = traj.x, traj.r, traj.h
    scale = None if traj.scale is None else traj.scale.swapaxes(0, 1)
    for b in range(B):
        S = np.zeros((N, P))
        for t in range(T):
            dphi = 1 - h[b, t] ** 2 if net.phi == "tanh" else np.ones(N)
            if scale is not None:
                dphi = dphi * scale[b, t]
            E = np.hstack([np.kron(np.eye(N), r[b, t][None, :]),
                           np.kron(np.eye(N), u[b, t][None, :]), np.eye(N)])
            S = (1 - dt) * S + dt * (net.W @ (dphi[:, None] * S) + E)
            dphi1 = 1 - h[b, t + 1] ** 2 if net.phi == "tanh" else np.ones(N)
            if scale is not None:
                dphi1 = dphi1 * scale[b, t + 1]
            gW += dz[b, t] @ net.W_out @ (dphi1[:, None] * S)
            gWout += np.outer(dz[b, t], r[b, t + 1])
            gbout += dz[b, t]
    return {"W": gW[:N * N].reshape(N, N), "W_in": gW[N * N:N * N + N * n_in].reshape(N, n_in),
            "b": gW[N * N + N * n_in:], "W_out": gWout, "b_out": gbout}


@pytest.mark.parametrize("phi,dt,kw", [("tanh", 0.5, {}), ("linear", 1.0, {}),
                                       ("tanh", 0.3, {"dropout": 0.2, "act_noise": 0.1, "state_noise": 0.2})])
def test_bptt_matches_rtrl(phi, dt, kw):
    net = _net(7, n=4, g=1.1, dt=dt, phi=phi)
    u, y, m = _data(7, net, B=2, T=6)
    L, traj, dz = _loss(net, u, y, m, kw, 11 if kw else None)
    bp = backward(net, traj, dz, params=ALL)
    rt = _rtrl_grads(net, u, dz, kw, 11 if kw else None)
    for k in ALL:
        assert np.linalg.norm(bp[k] - rt[k]) <= 1e-12 * max(1.0, np.linalg.norm(rt[k])), k


def test_linear_dt1_forward_matches_matrix_powers():
    """Exact solution: x_t = sum_s W^{t-1-s} (W_in u_s + b) for linear phi, dt = 1."""
    net = _net(8, n=6, g=0.8, dt=1.0, phi="linear")
    u = np.random.default_rng(9).standard_normal((2, 5, net.n_in))
    traj = forward(net, u)
    for t in range(1, 6):
        x = sum(np.linalg.matrix_power(net.W, t - 1 - s) @ (net.W_in @ u[:, s].T + net.b[:, None])
                for s in range(t))
        np.testing.assert_allclose(traj.x[:, t], x.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(traj.z, traj.x[:, 1:] @ net.W_out.T + net.b_out, rtol=1e-12, atol=1e-13)


def test_euler_step_and_readout_timing():
    """One step by hand: x_1 = (1-dt) x0 + dt (W tanh x0 + W_in u0 + b), z_0 = W_out tanh x_1."""
    net = _net(10, n=5, dt=0.5)
    rng = np.random.default_rng(0)
    u = rng.standard_normal((1, 3, net.n_in)); x0 = rng.standard_normal(5)
    traj = forward(net, u, x0=x0)
    x1 = 0.5 * x0 + 0.5 * (net.W @ np.tanh(x0) + net.W_in @ u[0, 0] + net.b)
    np.testing.assert_allclose(traj.x[0, 1], x1, rtol=1e-14)
    np.testing.assert_allclose(traj.z[0, 0], net.W_out @ np.tanh(x1) + net.b_out, rtol=1e-14)


def test_predict_matches_forward_and_noise_is_reproducible():
    net = _net(11, n=7)
    u = np.random.default_rng(1).standard_normal((5, 9, net.n_in))
    np.testing.assert_allclose(predict(net, u, chunk=2), forward(net, u).z, rtol=1e-12, atol=1e-14)
    a = forward(net, u, state_noise=0.1, dropout=0.2, rng=np.random.default_rng(3))
    b = forward(net, u, state_noise=0.1, dropout=0.2, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.z, b.z)
    # dropout scale is inverted: mean of the mask/(1-p) is 1
    big = forward(net.replace(W=np.zeros((7, 7))), np.zeros((200, 3, net.n_in)), dropout=0.5,
                  rng=np.random.default_rng(4))
    assert abs(big.scale.mean() - 1) < 5 * np.sqrt(1.0 / big.scale.size)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(20, 200),
       # g = 0, or large enough that W = g J / sqrt(N) stays out of the subnormal range
       g=st.one_of(st.just(0.0), st.floats(1e-290, 3.0)))
@example(seed=0, n=20, g=0.0)
@example(seed=0, n=20, g=1e-290)  # a fresh seed found g = 1e-303: g**2 underflowed in the old check
def test_init_statistics(seed, n, g):
    net = RateRNN.init(n, 3, 2, g, np.random.default_rng(seed))
    np.testing.assert_allclose(np.linalg.norm(net.W_in, axis=0), np.sqrt(n), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(net.W_out, axis=1), 1 / np.sqrt(n), rtol=1e-12)
    if g == 0:
        assert not np.any(net.W)
    else:
        # entries of W0 = g J have variance g^2/N; sample variance of N^2 entries has rel. sd sqrt(2)/N
        var = (net.W / g).var() * n   # W/g first: g**2 underflows for tiny g
        assert abs(var - 1) < 6 * np.sqrt(2) / n


def test_float32_option_close_to_float64():
    net = _net(12, n=30, n_in=2, n_out=2)
    u, y, m = _data(12, net, B=4, T=20)
    n32 = net.astype(np.float32)
    t64, t32 = forward(net, u), forward(n32, u)
    assert t32.z.dtype == np.float32
    np.testing.assert_allclose(t32.z, t64.z, rtol=1e-4, atol=1e-5)
    g64 = backward(net, t64, masked_mse(t64.z, y, m)[1])
    g32 = backward(n32, t32, masked_mse(t32.z, y, m)[1])
    for k in g64:
        assert g32[k].dtype == np.float32
        assert np.linalg.norm(g32[k] - g64[k]) < 1e-4 * np.linalg.norm(g64[k])


def test_bad_input_errors():
    net = _net(13)
    with pytest.raises(ShapeError, match="n_in"):
        forward(net, np.zeros((2, 3, 5)))
    with pytest.raises(ShapeError):
        forward(net, np.zeros((3, 2)))
    with pytest.raises(RNNTheoryError, match="rng"):
        forward(net, np.zeros((2, 3, 2)), state_noise=0.1)
    with pytest.raises(DomainError):
        forward(net, np.zeros((2, 3, 2)), dropout=1.0, rng=np.random.default_rng(0))
    with pytest.raises(ShapeError, match="W_in"):
        RateRNN(W=np.eye(3), W_in=np.zeros((2, 1)), W_out=np.zeros((1, 3)))
    with pytest.raises(ShapeError, match="square"):
        RateRNN(W=np.zeros((3, 2)), W_in=np.zeros((3, 1)), W_out=np.zeros((1, 3)))
    with pytest.raises(NonFiniteError):
        net.replace(W=np.full((5, 5), np.nan))
    with pytest.raises(DomainError, match="phi"):
        net.replace(phi="relu")
    with pytest.raises(DomainError, match="dt"):
        net.replace(dt=0.0)
    with pytest.raises(ShapeError, match="x0"):
        forward(net, np.zeros((2, 3, 2)), x0=np.zeros(4))
    traj = forward(net, np.zeros((2, 3, 2)))
    with pytest.raises(ShapeError, match="dz"):
        backward(net, traj, np.zeros((2, 3, 1)))
    with pytest.raises(RNNTheoryError, match="unknown parameter"):
        backward(net, traj, np.zeros((2, 3, 3)), params=("V",))
    with pytest.raises(RNNTheoryError, match="unknown RateRNN"):
        net.replace(V=1)
    with pytest.raises(DomainError):
        RateRNN.init(0, 1, 1, 1.0, np.random.default_rng(0))
    with pytest.raises(DomainError):
        RateRNN.init(4, 1, 1, -1.0, np.random.default_rng(0))


def test_workspace_reuse_gives_identical_results():
    net = _net(14, n=6)
    u, y, m = _data(14, net, B=3, T=8)
    ws = {}
    ref = []
    for kw in ({}, {"dropout": 0.2}, {}):
        rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
        t0 = forward(net, u, rng=rng_a if kw else None, **kw)
        g0 = backward(net, t0, masked_mse(t0.z, y, m)[1], params=ALL)
        t1 = forward(net, u, rng=rng_b if kw else None, workspace=ws, **kw)
        g1 = backward(net, t1, masked_mse(t1.z, y, m)[1], params=ALL, workspace=ws)
        for k in ALL:
            np.testing.assert_array_equal(g0[k], g1[k])
        ref.append(t1.x)
    assert np.shares_memory(ref[0], ref[2])  # the buffers really are reused
