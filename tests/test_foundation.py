"""Tests of the shared foundation: errors, optimisers, run folders, sweeps, CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from rnn_theory.numerics.infra import io

from rnn_theory.numerics.infra import optim

from rnn_theory.numerics.infra import sweep
from rnn_theory.numerics.cli import COMMANDS, build_parser
from rnn_theory.theory.errors import DomainError, NonFiniteError, RNNTheoryError, ShapeError, check_gain


def _quadratic_run(opt, steps=2000):
    target = np.array([1.0, -2.0, 0.5])
    p = {"x": np.zeros(3)}
    s = opt.init(p)
    for _ in range(steps):
        p, s = opt.step(p, {"x": 2 * (p["x"] - target)}, s)
    return p["x"], target


@pytest.mark.parametrize("opt", [optim.SGD(0.1), optim.SGD(0.05, momentum=0.9), optim.Adam(0.01),
                                 optim.RMSprop(0.01, alpha=0.9)])
def test_optimisers_minimise_a_quadratic(opt):
    x, target = _quadratic_run(opt)
    assert np.allclose(x, target, atol=2e-2)


def test_adam_matches_hand_computed_two_steps():
    opt = optim.Adam(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    p = {"w": np.array([0.0])}
    s = opt.init(p)
    g1, g2 = 1.0, -3.0
    p, s = opt.step(p, {"w": np.array([g1])}, s)
    p, s = opt.step(p, {"w": np.array([g2])}, s)
    m = 0.9 * (0.1 * g1) + 0.1 * g2
    v = 0.999 * (0.001 * g1**2) + 0.001 * g2**2
    expected = -0.1 / (1.0 + 1e-8) - 0.1 * (m / (1 - 0.81)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    assert p["w"][0] == pytest.approx(expected, rel=1e-12)


def test_rmsprop_matches_hand_computed_step():
    opt = optim.RMSprop(lr=0.01, alpha=0.9)
    p, s = {"w": np.array([1.0])}, None
    s = opt.init(p)
    p, s = opt.step(p, {"w": np.array([2.0])}, s)
    assert p["w"][0] == pytest.approx(1.0 - 0.01 * 2.0 / (np.sqrt(0.1 * 4.0) + 1e-8), rel=1e-14)


def test_optimiser_inputs_not_modified_and_subset_update():
    p = {"a": np.ones(2), "b": np.ones(2)}
    opt = optim.SGD(0.5)
    s = opt.init(p)
    q, _ = opt.step(p, {"a": np.ones(2)}, s)
    assert np.all(p["a"] == 1) and np.all(q["a"] == 0.5) and q["b"] is p["b"]


def test_optimiser_bad_input():
    with pytest.raises(DomainError, match="learning rate"):
        optim.Adam(lr=0.0)
    with pytest.raises(DomainError, match="unknown optimizer"):
        optim.make_optimizer("lbfgs", 0.1)
    opt = optim.SGD(0.1)
    with pytest.raises(ShapeError):
        opt.step({"a": np.ones(2)}, {"a": np.ones(3)}, opt.init({"a": np.ones(2)}))


def test_check_gain_symbolic_and_errors():
    import sympy as sp

    g = sp.Symbol("g")
    assert check_gain(g) is g
    with pytest.raises(DomainError, match="0 <= g < 1"):
        check_gain(1)
    with pytest.raises(DomainError):
        check_gain(-0.1)
    with pytest.raises(DomainError):
        check_gain(float("nan"))
    assert issubclass(NonFiniteError, RNNTheoryError) and issubclass(RNNTheoryError, ValueError)


@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.floats(-1e6, 1e6), min_size=1))
def test_run_folder_roundtrip(tmp_path_factory, cfg):
    d = tmp_path_factory.mktemp("r") / "run"
    arr = np.arange(6.0).reshape(2, 3)
    io.save_run(d, cfg, {"A": arr}, {"step": [0, 1], "loss": [0.5, 0.25]})
    rec = io.load_run(d)
    assert rec.config["provenance"]["package"] == "rnn-theory"
    assert io.stored_config(rec.config) == cfg and np.array_equal(rec.arrays["A"], arr)
    assert rec.history == {"step": [0, 1], "loss": [0.5, 0.25]}
    assert not [p for p in d.parent.iterdir() if p.name.startswith(".tmp")]


def _toy_run(config):
    rng = np.random.default_rng(config["seed"])
    x = rng.normal(size=3)
    return {"x": x}, {"step": [0]}, {"norm": float(np.linalg.norm(x))}


def test_sweep_skips_finished_runs_and_is_deterministic(tmp_path):
    configs = [{"name": f"s{k}", "seed": k} for k in range(3)]
    first = sweep.run_sweep(_toy_run, configs, tmp_path, executor="serial", show_progress=False)
    stamp = {n: (tmp_path / n / "config.json").stat().st_mtime_ns for n in first}
    again = sweep.run_sweep(_toy_run, configs, tmp_path, executor="serial", show_progress=False)
    assert {n: (tmp_path / n / "config.json").stat().st_mtime_ns for n in again} == stamp
    for n in first:
        assert np.array_equal(first[n].arrays["x"], again[n].arrays["x"])
    # an interrupted sweep: delete one run, rerun in a process pool; only it is recomputed
    import shutil

    shutil.rmtree(tmp_path / "s1")
    third = sweep.run_sweep(_toy_run, configs, tmp_path, max_workers=2, show_progress=False)
    assert np.array_equal(third["s1"].arrays["x"], first["s1"].arrays["x"])
    assert json.loads((tmp_path / "s1" / "config.json").read_text())["norm"] > 0


def test_sweep_rejects_duplicate_names(tmp_path):
    with pytest.raises(RNNTheoryError, match="unique"):
        sweep.run_sweep(_toy_run, [{"name": "a", "seed": 0}] * 2, tmp_path, executor="serial")


def test_cli_lists_every_command():
    parser = build_parser()
    text = parser.format_help()
    for name in COMMANDS:
        assert name in text
    out = subprocess.run([sys.executable, "-m", "numerics", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "reproduce" in out.stdout


def test_readme_examples_run():
    """The Python examples in README.md are doctests; keep them true."""
    import doctest
    from pathlib import Path

    readme = Path(__file__).resolve().parents[1] / "README.md"
    result = doctest.testfile(str(readme), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0
