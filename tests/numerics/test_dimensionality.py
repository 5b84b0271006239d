"""Farrell et al. (2022) model, losses, regularisers, schedule and analyses (fast tests)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rnn_theory.numerics.representations.dimensionality import (
    FarrellConfig, PlateauSchedule, accuracy, farrell_W, farrell_run, holdout_accuracy,
    init_farrell, loss_and_grad, orthogonal_compression, orthogonal_input, pca_snapshots,
    pr_over_time, regulariser, states, train_farrell)
from rnn_theory.numerics.errors import DomainError

SMALL = dict(N=12, d=3, n_train=40, batch_size=10, epochs=2, n_analysis=120, n_accuracy=60,
             lyap_epochs=(0,), lyap_exponents=3, lyap_steps=50, lyap_inits=2, n_clusters=8)


# ----------------------------------------------------------------------------- model
@settings(max_examples=10)
@given(seed=st.integers(0, 10**6), N=st.integers(2, 60), gamma=st.floats(0.5, 400.0))
def test_W_has_exact_spectral_disc(seed, N, gamma):
    W = farrell_W(N, gamma, np.random.default_rng(seed))
    radius = np.max(np.abs(np.linalg.eigvals(W - 0.99 * np.eye(N))))
    assert radius == pytest.approx(0.01 * gamma, rel=1e-10)


def test_orthogonal_input_scale():
    N, d = 200, 2
    W_in = orthogonal_input(N, d, np.random.default_rng(0))
    G = W_in.T @ W_in
    s2 = G[0, 0]
    assert np.allclose(G, s2 * np.eye(d), atol=1e-10 * s2)
    # s = 1 / (mean|Q| sqrt d) ~ sqrt(pi N / (2 d)); mean|Q| over N d entries has relative
    # sd ~ sqrt((pi/2 - 1) / (N d)), so 5 sd
    assert math.sqrt(s2) == pytest.approx(math.sqrt(math.pi * N / (2 * d)),
                                          rel=5 * math.sqrt((math.pi / 2 - 1) / (N * d)))


def test_init_layout():
    task, net = init_farrell(FarrellConfig(gamma=250.0, d=2, input_mode="two_neurons", N=200))
    assert np.array_equal(net.W_in, np.eye(200, 2))
    assert net.dt == 1.0 and net.phi == "tanh"
    assert np.all(net.b == 0) and np.all(net.b_out == 0)
    assert net.W_out.shape == (2, 200)
    # W_out ~ N(0, (0.3/sqrt N)^2): sample sd of 400 entries within 5 standard errors
    assert np.std(net.W_out) == pytest.approx(0.3 / math.sqrt(200), rel=5 / math.sqrt(800))
    _, net1 = init_farrell(FarrellConfig(loss="scalar_mse", N=20, d=2))
    assert net1.W_out.shape == (1, 20)


def test_dynamics_match_direct_recursion():
    # independent implementation of h_t = tanh(W h_{t-1} + W_in x_{t-1} + b), o_t = W_out h_t + b_out
    task, net = init_farrell(FarrellConfig(**SMALL))
    rng = np.random.default_rng(1)
    net = net.replace(b=rng.normal(size=12), b_out=rng.normal(size=2))
    batch = task.sample(rng, 5)
    h = np.zeros((5, 12))
    hs = [h]
    for t in range(10):
        x = batch.inputs[:, t]
        h = np.tanh(h @ net.W.T + x @ net.W_in.T + net.b)
        hs.append(h)
    H = states(net, batch.points, 10)
    assert np.allclose(H, np.stack(hs, axis=1), atol=1e-13)
    from rnn_theory.numerics.rate.model import forward
    z = forward(net, batch.inputs).z
    assert np.allclose(z[:, 9], hs[10] @ net.W_out.T + net.b_out, atol=1e-13)


# ----------------------------------------------------------------------------- gradients
def _total_loss(net, batch, loss, l2, form, seed, noise, drop):
    L, g, _ = loss_and_grad(net, batch, loss, hidden_noise=noise, dropout=drop,
                            rng=np.random.default_rng(seed))
    R, rg = regulariser(net, l2, form)
    return L + R, {k: g[k] + rg[k] for k in g}


@pytest.mark.parametrize("loss,form,noise,drop", [
    ("ce", "farrell", 0.0, 0.0), ("mse", "squared", 0.3, 0.0), ("scalar_mse", "farrell", 0.0, 0.2),
    ("ce", "squared", 0.2, 0.1)])
def test_gradients_match_finite_differences(loss, form, noise, drop):
    cfg = FarrellConfig(**{**SMALL, "loss": loss, "gamma": 250.0})
    task, net = init_farrell(cfg)
    rng = np.random.default_rng(2)
    net = net.replace(b=0.1 * rng.normal(size=12), b_out=0.1 * rng.normal(size=net.n_out))
    batch = task.sample(rng, 6)
    L0, g = _total_loss(net, batch, loss, 5.0, form, 7, noise, drop)
    h = 1e-6
    for name in ("W", "b", "W_out", "b_out"):
        P = net.params()[name]
        idx = [tuple(rng.integers(0, s) for s in P.shape) for _ in range(4)]
        for i in idx:
            Pp, Pm = P.copy(), P.copy()
            Pp[i] += h
            Pm[i] -= h
            Lp = _total_loss(net.replace(**{name: Pp}), batch, loss, 5.0, form, 7, noise, drop)[0]
            Lm = _total_loss(net.replace(**{name: Pm}), batch, loss, 5.0, form, 7, noise, drop)[0]
            fd = (Lp - Lm) / (2 * h)
            assert g[name][i] == pytest.approx(fd, rel=1e-5, abs=1e-8), (name, i)


def test_regulariser_values():
    _, net = init_farrell(FarrellConfig(**SMALL))
    net = net.replace(b=np.ones(12), b_out=np.array([3.0, 4.0]))
    p = net.params()
    R, g = regulariser(net, 50.0, "farrell")
    expected = 50.0 / (5 * 12) * sum(np.sqrt(np.sum(p[k] ** 2)) for k in ("W_in", "W", "W_out", "b", "b_out"))
    assert R == pytest.approx(expected, rel=1e-12)
    assert "W_in" not in g  # frozen: in the penalty, not trained
    assert np.allclose(g["b_out"], 50.0 / 60 * np.array([0.6, 0.8]))
    R2, g2 = regulariser(net, 2.0, "squared")
    assert R2 == pytest.approx(sum(np.sum(p[k] ** 2) for k in ("W", "b", "W_out", "b_out")), rel=1e-12)
    assert np.allclose(g2["W"], 2.0 * p["W"])
    # zero bias: the non-squared norm has a kink; the subgradient 0 is used
    _, g0 = regulariser(net.replace(b=np.zeros(12)), 1.0, "farrell")
    assert np.all(g0["b"] == 0)


def test_plateau_rule():
    s = PlateauSchedule(lr=1e-3, patience=5, threshold=1e-7)
    lrs = [s.step(v) for v in [1.0] + [1.0 - 5e-8] * 6 + [0.5] + [0.5] * 6]
    # epochs 2..7: improvements smaller than 1e-7 are bad; the 6th bad epoch halves
    assert lrs[:6] == [1e-3] * 6 and lrs[6] == 5e-4
    assert lrs[7] == 5e-4  # 0.5 is a real improvement
    assert lrs[13] == 2.5e-4


# ----------------------------------------------------------------------------- training
def test_first_rmsprop_step_moves_by_lr_over_sqrt_one_minus_alpha():
    # one update: v = (1 - alpha) g^2, so each entry moves by lr * sign(g) / sqrt(1 - alpha)
    cfg = FarrellConfig(**{**SMALL, "n_train": 10, "epochs": 1})
    run = train_farrell(cfg)
    task, net0 = init_farrell(cfg)
    data = task.sample(cfg.streams()[2], 10)
    _, g, _ = loss_and_grad(net0, data, "ce")
    step = cfg.lr / math.sqrt(1 - 0.9)
    for k in ("W", "b", "W_out", "b_out"):
        # exact update: lr g / (sqrt(0.1) |g| + 1e-8); eps matters at relative 3e-8 / |g|
        big = np.abs(g[k]) > 1e-3
        assert big.sum() > 0
        dP = run.net.params()[k] - net0.params()[k]
        assert np.allclose(dP[big], -step * np.sign(g[k][big]), rtol=1e-4, atol=0)
        assert np.allclose(dP, -cfg.lr * g[k] / (math.sqrt(0.1) * np.abs(g[k]) + 1e-8), rtol=1e-9, atol=1e-15)


def test_training_reproducible_and_learns(tmp_path):
    cfg = FarrellConfig(**{**SMALL, "epochs": 3, "n_train": 200, "lr": 1e-2})
    a, b = train_farrell(cfg), train_farrell(cfg)
    assert np.array_equal(a.net.W, b.net.W)
    assert a.history["accuracy"] == b.history["accuracy"]
    assert a.history["epoch"] == [0, 1, 2, 3] and len(a.history["pr_T"]) == 4
    assert a.history["val_loss"][-1] < a.history["val_loss"][1] < math.log(2) + 0.2
    assert set(a.lyapunov) == {0, 3}
    assert np.array_equal(a.net.W_in, a.net0.W_in)  # W_in frozen
    c = train_farrell(FarrellConfig(**{**SMALL, "epochs": 1, "train_W_out": False}),
                      checkpoint_dir=tmp_path, keep_epochs=(0,))
    assert np.array_equal(c.net.W_out, c.net0.W_out) and not np.array_equal(c.net.W, c.net0.W)
    from rnn_theory.numerics.infra.io import load_run
    rec = load_run(tmp_path / "epoch-0001")
    assert np.array_equal(rec.arrays["W"], c.net.W) and rec.history["epoch"] == [0, 1]
    assert c.checkpoints[0] is c.net0


# ----------------------------------------------------------------------------- analyses
def test_pr_over_time_layer_zero_is_input():
    task, net = init_farrell(FarrellConfig(**SMALL))
    pts = task.balanced(np.random.default_rng(0), 120).points
    from rnn_theory.numerics.rate.analysis import participation_ratio
    pr = pr_over_time(net, pts, 15)
    assert pr.shape == (16,) and pr[0] == participation_ratio(pts)
    assert pr[4] == participation_ratio(states(net, pts, 15)[:, 4])


def test_holdout_and_accuracy_shapes_and_separable_input():
    cfg = FarrellConfig(N=30, d=30, lyap_epochs=(0,))
    task, net = init_farrell(cfg)
    b = task.balanced(np.random.default_rng(0), 500)
    tr, te = holdout_accuracy(net, b, 10)
    assert tr.shape == te.shape == (11,)
    assert tr[0] == 1.0  # 49 clusters in 30 dims with margin: separable at the input
    assert 0.0 <= accuracy(net, b) <= 1.0


def test_pca_snapshots_sign_alignment():
    task, net = init_farrell(FarrellConfig(**{**SMALL, "gamma": 250.0}))
    pts = task.balanced(np.random.default_rng(0), 200).points
    proj, ro = pca_snapshots(net, pts, 8)
    assert proj.shape == (8, 200, 2) and ro.shape == (8, 2, 2)
    H = states(net, pts, 8)[:, 1:]
    for i in range(8):
        X = H[:, i] - H[:, i].mean(0)
        _, s, Vt = np.linalg.svd(X, full_matrices=False)
        for k in range(2):  # each column is +- the k-th PC projection
            ref = X @ Vt[k]
            assert min(np.abs(proj[i, :, k] - ref).max(), np.abs(proj[i, :, k] + ref).max()) < 1e-9
        if i:
            assert np.all(np.sum(proj[i] * proj[i - 1], axis=0) >= 0)


def test_orthogonal_compression_exact_cases():
    rng = np.random.default_rng(0)
    H = rng.normal(size=(100, 20))
    labels = rng.integers(0, 2, 100)
    R = rng.normal(size=(2, 20))
    assert orthogonal_compression(H, H, labels, R, R) == pytest.approx(1.0)
    assert orthogonal_compression(H, 0.5 * H, labels, R, R) == pytest.approx(0.5)
    assert orthogonal_compression(H, 0.5 * H, labels, R, np.stack([R, R])) == pytest.approx(0.5)
    assert orthogonal_compression(H, 0.5 * H, labels, R, R, variant="mean_diff") == pytest.approx(0.5)
    # shrinking only along the readout direction leaves the orthogonal part unchanged
    r = R[0] / np.linalg.norm(R[0])
    H2 = H - 0.9 * np.outer(H @ r, r)
    Rsame = np.stack([R[0], R[0]])
    assert orthogonal_compression(H, H2, labels, Rsame, Rsame, n_pcs=20) == pytest.approx(1.0, rel=1e-9)


def test_farrell_run_outputs():
    arrays, hist, summary = farrell_run({**SMALL, "name": "x", "epochs": 1, "snapshots": True})
    assert arrays["pr_before"].shape == (16,) and arrays["holdout_after"].shape == (2, 11)
    assert arrays["lyap_nats"].shape == (2, 3) and list(arrays["lyap_epochs"]) == [0, 1]
    assert arrays["pca"].shape == (32, 800, 2)
    assert summary["pr_T_before"] == arrays["pr_before"][10]


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kw,match", [
    (dict(gamma=0.0), "gamma"), (dict(gamma=-20.0), "gamma"), (dict(d=0), "d"),
    (dict(n_clusters=1), "clusters"), (dict(dropout=1.0), "dropout"), (dict(loss="hinge"), "loss"),
    (dict(input_mode="two_neurons", d=300), "d <= N"), (dict(l2_form="l1"), "l2_form"),
    (dict(lr=0.0), "lr"), (dict(optimizer="lbfgs"), "optimizer"), (dict(t_max=5), "t_max")])
def test_bad_config(kw, match):
    with pytest.raises(DomainError, match=match):
        FarrellConfig(**kw)


def test_bad_gamma_direct():
    with pytest.raises(DomainError, match="gamma"):
        farrell_W(10, 0.0, np.random.default_rng(0))


# ----------------------------------------------------------------------------- reproduce
TINY = dict(seeds=1, highd=1, lowd=1, mse=1, acc_epochs=1, noise_epochs=1, lyap_inits=1,
            n_accuracy=60, N=12, n_train=20, lyap_steps=20)


@pytest.mark.parametrize("fig", ["fig2", "fig3", "fig4", "fig5"])
def test_reproduce_writes_the_documented_columns(fig, tmp_path, monkeypatch):
    from rnn_theory.numerics.infra.io import read_csv
    from rnn_theory.numerics.reproduce import farrell
    monkeypatch.setattr(farrell, "_settings", lambda quick: dict(TINY))
    paths = getattr(farrell, fig)(tmp_path, quick=True, seed=3, workers=1, show_progress=False)
    names = {p.name for p in paths}
    want = {"pr.csv": ["gamma", "seed", "stage", "t", "pr"],
            "accuracy.csv": ["gamma", "seed", "epoch", "accuracy"]}
    if fig != "fig5":
        want["lyapunov.csv"] = ["gamma", "seed", "epoch", "index", "exponent_nats"]
        want["holdout.csv"] = ["gamma", "seed", "stage", "t", "train_accuracy", "test_accuracy"]
    else:
        want["pr_noise.csv"] = ["gamma", "seed", "noise", "stage", "t", "pr"]
    for fname, cols in want.items():
        assert fname in names
        data = read_csv(tmp_path / fname)
        assert list(data) == cols
        assert len(data[cols[0]]) > 0
    pr = read_csv(tmp_path / "pr.csv")
    assert set(pr["stage"]) == {"before", "after"} and set(pr["gamma"]) == {20.0, 250.0}
    assert sorted(set(pr["t"])) == list(range(16)) and set(pr["seed"]) == {3}
    # rerun: finished runs are skipped (their folders are not rewritten)
    runs = sorted((tmp_path / "runs").iterdir())
    stamps = [(r / "config.json").stat().st_mtime_ns for r in runs]
    getattr(farrell, fig)(tmp_path, quick=True, seed=3, workers=1, show_progress=False)
    assert stamps == [(r / "config.json").stat().st_mtime_ns for r in runs]
