"""Training loop: recorded quantities, reproducibility, subsets, divergence handling, errors."""
import numpy as np
import pytest

from rnn_theory.numerics.errors import DomainError, RNNTheoryError, ShapeError, TrainingDivergedError
from rnn_theory.numerics.rate.losses import masked_mse
from rnn_theory.numerics.rate.model import RateRNN, forward
from rnn_theory.numerics.rate.tasks import fixed_point, flipflop, mante
from rnn_theory.numerics.rate.train import loss_and_grads, train


def _net(n=24, g=0.9, seed=0, **kw):
    return RateRNN.init(n, 2, 2, g, np.random.default_rng(seed), **kw)


def test_loss_is_recorded_before_the_update_and_runs_reproduce():
    net = _net()
    res = train(net, flipflop, 4, 8, 1e-3, np.random.default_rng(1), n_snapshots=3,
                keep_snapshot_weights=True)
    # step 0: loss of the untrained network on the first batch (same rng sequence)
    trials = flipflop(np.random.default_rng(1), 8)
    L0 = masked_mse(forward(net, trials.inputs).z, trials.targets, trials.mask)[0]
    assert res.loss[0] == L0
    res2 = train(net, flipflop, 4, 8, 1e-3, np.random.default_rng(1), n_snapshots=3,
                 keep_snapshot_weights=True)
    np.testing.assert_array_equal(res.loss, res2.loss)
    np.testing.assert_array_equal(res.net.W, res2.net.W)
    # snapshots are taken before the update of their step: snapshot at step s == weights after s updates
    assert res.snapshot_steps.tolist() == [0, 2, 3]
    np.testing.assert_array_equal(res.snapshots["W"][0], net.W)
    short = train(net, flipflop, 2, 8, 1e-3, np.random.default_rng(1))
    np.testing.assert_array_equal(res.snapshots["W"][1], short.net.W)
    assert np.all(res.snapshot_sv[0] == 0)
    np.testing.assert_allclose(res.snapshot_sv[1], np.linalg.svd(short.net.W - net.W, compute_uv=False))
    assert np.all(res.grad_norm > 0)


def test_first_adam_step_is_lr_times_normalised_gradient():
    """Bias-corrected Adam: the first update is -lr g/(|g| + eps), with g the BPTT gradient."""
    net = _net()
    lr = 1e-3
    res = train(net, flipflop, 1, 8, lr, np.random.default_rng(3))
    trials = flipflop(np.random.default_rng(3), 8)
    _, grads, _ = loss_and_grads(net, trials)
    for k, g in grads.items():
        np.testing.assert_allclose(getattr(res.net, k) - getattr(net, k), -lr * g / (np.abs(g) + 1e-8),
                                   rtol=1e-9, atol=1e-15)


def test_trainable_subset_and_float32():
    net = _net(dtype=np.float32)
    res = train(net, flipflop, 3, 4, 1e-3, np.random.default_rng(0), trainable=("W",), optimizer="sgd")
    assert res.net.W.dtype == np.float32
    np.testing.assert_array_equal(res.net.W_in, net.W_in)
    np.testing.assert_array_equal(res.net.W_out, net.W_out)
    assert np.any(res.net.W != net.W)
    res = train(_net(bias=True, out_bias=True), flipflop, 2, 4, 1e-3, np.random.default_rng(0),
                trainable=("b", "b_out"), optimizer="rmsprop", optimizer_kwargs={"alpha": 0.9})
    assert np.any(res.net.b != 0) and np.array_equal(res.net.W, res.net0.W)


def test_learning_reduces_the_loss():
    """A small network learns flip-flop: late batch loss well below the initial one."""
    net = _net(n=32, g=0.9, seed=4)
    res = train(net, flipflop, 150, 16, 0.05 / 32 * 4, np.random.default_rng(4))
    assert res.loss[-20:].mean() < 0.3 * res.loss[0]


def test_divergence_is_reported_with_last_good_weights():
    # linear network driven to a huge fixed point with plain gradient descent: blows up
    rng = np.random.default_rng(0)
    net = RateRNN.init(8, 1, 1, 0.5, rng, phi="linear", dt=1.0)

    def task(rng, batch_size):
        return fixed_point(rng, batch_size, zhat=50.0, steps=30)

    with pytest.raises(TrainingDivergedError) as info:
        train(net, task, 200, 1, 10.0, rng, optimizer="sgd", trainable=("W",))
    err = info.value
    assert "step" in str(err) and err.step >= 1
    # loss diverged (NaN/inf or > 1000 x initial) or gradient non-finite at step k: the last good
    # network is the one after k - 1 updates (k - 1 recorded losses); update non-finite: k + 1
    recorded = err.step + 1 if "update" in str(err) else max(err.step - 1, 0)
    assert err.partial.loss.shape == (recorded,) and np.all(np.isfinite(err.partial.loss))
    assert np.all(np.isfinite(err.partial.net.W))


def test_bad_input():
    net = _net()
    rng = np.random.default_rng(0)
    with pytest.raises(DomainError, match="lr"):
        train(net, flipflop, 2, 4, 0.0, rng)
    with pytest.raises(DomainError, match="batch_size"):
        train(net, flipflop, 2, 0, 1e-3, rng)
    with pytest.raises(ShapeError, match="n_in"):
        train(net, mante, 2, 4, 1e-3, rng)
    with pytest.raises(DomainError, match="optimizer"):
        train(net, flipflop, 2, 4, 1e-3, rng, optimizer="lbfgs")
    with pytest.raises(RNNTheoryError, match="bias"):
        train(net, flipflop, 2, 4, 1e-3, rng, trainable=("b",))
    with pytest.raises(DomainError, match="steps"):
        train(net, flipflop, -1, 4, 1e-3, rng)


def _tiny_configs():
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import make_config

    return [make_config(t, g, 0, n=8, steps=3, batch_size=2, n_snapshots=2, n_eval=4)
            for t in ("flipflop", "romo") for g in (0.0, 1.0)]


def test_sweep_cli_resumes_without_recomputing(tmp_path):
    from rnn_theory.numerics.cli import main
    from rnn_theory.numerics.infra.io import read_csv

    argv = ["sweep", "--tasks", "flipflop,romo", "--g", "0,1", "--seeds", "0", "--n", "8", "--steps", "3",
            "--batch-size", "2", "--snapshots", "2", "--n-eval", "4", "--workers", "1", "--no-progress",
            "--out", str(tmp_path)]
    assert main(argv) == 0
    summ = read_csv(tmp_path / "summary.csv")
    text = (tmp_path / "summary.csv").read_text()
    assert len(summ["task"]) == 4 and set(summ["task"]) == {"flipflop", "romo"}
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*/config.json")}
    assert len(stamps) == 4
    assert main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps      # nothing recomputed
    assert (tmp_path / "summary.csv").read_text() == text


def test_train_and_analyze_cli(tmp_path, capsys):
    from rnn_theory.numerics.cli import main

    run = tmp_path / "run"
    assert main(["train", "--task", "mante", "--n", "8", "--g", "0.5", "--steps", "3", "--n-eval", "4",
                 "--snapshots", "2", "--out", str(run)]) == 0
    assert main(["analyze", str(run), "--n-eval", "4", "--max-rank", "3"]) == 0
    assert (run / "truncation.csv").is_file() and (run / "analysis.json").is_file()
    capsys.readouterr()
    for bad, name in ((["--steps", "0"], "--steps"), (["--lr", "-1"], "--lr")):  # clear error, exit code 2
        assert main(["train", "--task", "mante", "--n", "8", "--out", str(tmp_path / "r2")] + bad) == 2
        err = capsys.readouterr().err
        assert name in err and len(err.strip().splitlines()) == 1


def test_analyze_reproduces_train_numbers(tmp_path, capsys):
    """`analyze` on a fresh `train` run draws the same evaluation batch: same numbers."""
    import json

    from rnn_theory.numerics.cli import main

    run = tmp_path / "run"
    assert main(["train", "--task", "flipflop", "--n", "16", "--g", "0.9", "--steps", "40", "--n-eval", "16",
                 "--snapshots", "2", "--no-progress", "--out", str(run)]) == 0
    trained = json.loads((run / "config.json").read_text())
    assert main(["analyze", str(run)]) == 0
    analysed = json.loads((run / "analysis.json").read_text())
    keys = ["functional_rank", "shuffle_loss_ratio", "dw_norm", "final_eval_loss", "converged_step"]
    assert {k: analysed[k] for k in keys} == {k: trained[k] for k in keys}
    assert main(["analyze", str(run), "--seed", "5"]) == 0       # another batch: another loss
    assert json.loads((run / "analysis.json").read_text())["final_eval_loss"] != trained["final_eval_loss"]
    capsys.readouterr()


def test_same_sweep_through_dask_localcluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="optional extra [dask] not installed: pip install \".[dask]\"")
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import run_config
    from rnn_theory.numerics.infra.sweep import run_sweep

    configs = _tiny_configs()
    serial = run_sweep(run_config, configs, tmp_path / "serial", executor="serial", show_progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster, \
            distributed.Client(cluster) as client:
        viadask = run_sweep(run_config, configs, tmp_path / "dask", executor=client.get_executor(),
                            show_progress=False)
    for c in configs:
        np.testing.assert_array_equal(serial[c["name"]].arrays["W"], viadask[c["name"]].arrays["W"])


def test_cosine_at_g0_cannot_oscillate():
    """Spec §7: with W0 = 0 and x0 = m ∝ W_out, every gradient is ∝ m mᵀ, so W stays a
    symmetric rank-one matrix with one real eigenvalue: no oscillation can be learned."""
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import cosine_run
    from rnn_theory.numerics.rate.tasks import cosine_network

    cfg = {"n": 16, "g": 0.0, "seed": 0, "phi": "linear", "lr": 0.2, "steps": 25, "eig_every": 5}
    arrays, history, _ = cosine_run(cfg)
    _, m = cosine_network(16, 0.0, np.random.default_rng([0, 7, 0, 16]))
    W = arrays["W"]
    P = np.outer(m, m) / (m @ m)
    np.testing.assert_allclose(W, P @ W @ P, atol=1e-12 * max(1, np.abs(W).max()))  # W ∝ m mᵀ
    assert np.abs(np.linalg.eigvals(W).imag).max() < 1e-10
    assert np.abs(arrays["eigs"].imag).max() < 1e-8
    assert min(history["loss"]) > 0.1 * history["loss"][0]


def test_supplement_writers_tiny(tmp_path):
    from rnn_theory.numerics.infra.io import read_csv
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import cosine, nscaling

    nscaling(tmp_path / "ns", quick=True, seed=0, workers=1, show_progress=False, ns=(8, 12), gs=(0.0, 1.0),
             samples=1, steps=3, n_eval=4)
    ns = read_csv(tmp_path / "ns" / "nscaling.csv")
    assert ns["n"] == [8, 8, 12, 12] and all(w == 0 for w, g in zip(ns["w0_norm"], ns["g"]) if g == 0)
    cosine(tmp_path / "cos", quick=True, seed=0, workers=1, show_progress=False, n=8, steps=10)
    cl = read_csv(tmp_path / "cos" / "cosine_loss.csv")
    assert sorted(set(cl["g"])) == [0.0, 0.4, 0.8] and len(cl["step"]) == 30
    ce = read_csv(tmp_path / "cos" / "cosine_eigs.csv")
    assert set(ce["step"]) == {0, 5}


def test_fig1_fig2_writers_tiny(tmp_path):
    """Column sets of the figure CSVs (relied on by outside checks), on tiny runs."""
    from rnn_theory.numerics.infra.io import read_csv
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import fig1, fig2

    tiny = {"flipflop": 3, "mante": 3, "romo": 3}
    fig2(tmp_path / "f2", quick=True, seed=0, workers=1, show_progress=False, n=8, steps=tiny, samples=2,
         grid={"flipflop": [0.0, 0.9], "romo": [0.0]}, n_eval=4)
    summ = read_csv(tmp_path / "f2" / "summary.csv")
    assert list(summ) == ["task", "g", "seed", "converged_step", "dw_norm", "functional_rank",
                          "shuffle_loss_ratio"]
    assert list(zip(summ["task"], summ["g"], summ["seed"])) == [
        ("flipflop", 0.0, 0), ("flipflop", 0.0, 1), ("flipflop", 0.9, 0), ("flipflop", 0.9, 1),
        ("romo", 0.0, 0), ("romo", 0.0, 1)]
    agg = read_csv(tmp_path / "f2" / "aggregate.csv")
    assert agg["n_samples"] == [2, 2, 2]
    fig1(tmp_path / "f1", quick=True, seed=0, workers=1, show_progress=False, n=8, steps=tiny, n_eval=4)
    cols = {"loss.csv": ["task", "g", "seed", "step", "loss"],
            "singular_values.csv": ["task", "g", "seed", "index", "sv"],
            "truncation.csv": ["task", "g", "seed", "rank", "loss", "loss_ratio", "residual_norm", "explained"],
            "examples.csv": ["task", "g", "trial", "t", "kind", "channel", "value"],
            "spectra.csv": ["task", "g", "seed", "matrix", "index", "real", "imag"],
            "spectra_sv.csv": ["task", "g", "seed", "matrix", "index", "sv"]}
    for name, want in cols.items():
        data = read_csv(tmp_path / "f1" / name)
        assert list(data) == want, name
    tr = read_csv(tmp_path / "f1" / "truncation.csv")
    assert sorted(set(tr["rank"])) == list(range(9))   # R = 0..min(25, N)
    assert len(read_csv(tmp_path / "f1" / "loss.csv")["step"]) == 3 * 3 * 3   # tasks × g × steps
    sp = read_csv(tmp_path / "f1" / "spectra_sv.csv")
    assert len(sp["sv"]) == 3 * 3 * 3 * 8 and sorted(set(sp["matrix"])) == ["W", "W0", "dW"]
    assert sorted(set(sp["index"])) == list(range(1, 9))   # s_k, k = 1 … N, as in the figure
    sv = read_csv(tmp_path / "f1" / "singular_values.csv")
    assert sorted(set(sv["index"])) == list(range(1, 9))
    assert sorted(set(read_csv(tmp_path / "f1" / "spectra.csv")["index"])) == list(range(1, 9))
