"""Science of linear-RNN training against the closed forms of `theory/` (fast and slow),
and the reproduction/curves outputs."""
import numpy as np
import pytest

from rnn_theory.numerics import checks
from rnn_theory.numerics.infra.io import read_csv
from rnn_theory.numerics.linear import train_linear
from rnn_theory.numerics.testing import assert_close_to_theory
from rnn_theory.theory.linear import first_order, speedup


def test_first_order_regime_learning_curve():
    """Small zhat: (zhat - z)/(zhat - z0) at tau~ = 1 follows exp(-tau~) (R5) across seeds.

    Tolerance: Student-t bound over 8 seeds + the neglected relative O(zhat^2 beta) term.
    """
    g, zhat, n = 0.5, 0.2, 256
    vals = []
    for s in range(8):
        r = train_linear(n, g, zhat, 0.01, 100, np.random.default_rng(s), check_stability=False)
        vals.append((zhat - r.z[-1]) / (zhat - r.z0))
    theory = 1 - first_order(g, 1.0, [1.0], tilde=True)["z"][0]  # exp(-1)
    beta = 1 / (1 - g * g)
    assert_close_to_theory("first-order residual at tau~=1", theory, vals,
                           systematic=zhat**2 * beta * theory + 0.01 * 1.0 / 2,  # + GD bias lr0/2
                           note="zhat^2 beta correction + GD discretisation")


def test_initial_gain_is_the_speedup():
    g, n = 0.6, 400
    G0 = [train_linear(n, g, 1.0, 0.01, 0, np.random.default_rng(s), check_stability=False).G[0]
          for s in range(10)]
    assert_close_to_theory("G(0)", speedup(g), G0)


def test_curves_and_reproduction_outputs(tmp_path, monkeypatch):
    from rnn_theory.numerics.reproduce import schuessler_linear as S

    monkeypatch.setattr(S, "QUICK_SIZE", (24, 1))
    paths = S.fig4(tmp_path / "f4", quick=True, seed=0, workers=1, show_progress=False)
    summ = read_csv(tmp_path / "f4" / "summary.csv")
    assert list(summ) == ["zhat", "g", "seed", "tau_c", "dw_norm", "mean_grad", "shuffle_loss_ratio", "diverged"]
    assert len(summ["g"]) == 30 and sorted(set(summ["zhat"])) == [0.5, 1.0, 2.0]
    norm = read_csv(tmp_path / "f4" / "normalised.csv")
    assert set(norm["quantity"]) == {"tau_c", "dw_norm", "mean_grad", "shuffle_loss_ratio"}
    # rerun: every run folder exists, nothing is recomputed, same output
    before = (tmp_path / "f4" / "summary.csv").read_text()
    S.fig4(tmp_path / "f4", quick=True, seed=0, workers=1, show_progress=False)
    assert (tmp_path / "f4" / "summary.csv").read_text() == before
    assert all(p.exists() for p in paths)
    S.fig3(tmp_path / "f3", quick=True, seed=0, workers=1, show_progress=False)
    loss = read_csv(tmp_path / "f3" / "loss.csv")
    assert set(loss["source"]) == {"simulation", "first_order", "third_order", "exact_g0"}
    sv = read_csv(tmp_path / "f3" / "singular_values.csv")
    assert set(sv["index"]) == {1, 2, 3, 4, 5}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["early", "g0", "sweep", "beyond"])
def test_full_mode_checks_pass(name):
    rep = checks.run_checks(quick=False, only=[name], workers=2, show_progress=False)
    assert rep.passed, rep.table()


def test_curves_command(tmp_path):
    from rnn_theory.numerics.cli import main

    assert main(["curves", "--out", str(tmp_path / "th"), "--samples", "0", "--g", "0", "0.5", "--zhat", "1"]) == 0
    th = read_csv(tmp_path / "th" / "loss.csv")  # the documented files, as with simulations
    assert set(read_csv(tmp_path / "th" / "singular_values.csv")["index"]) == {1, 2}
    assert set(th["source"]) == {"first_order", "third_order", "exact_g0"}
    # first-order loss is exactly L0 exp(-2 tau~)
    sel = [i for i, s in enumerate(th["source"]) if s == "first_order"]
    tt = np.array([th["tau_tilde"][i] for i in sel])
    assert np.allclose([th["loss"][i] for i in sel], 0.5 * np.exp(-2 * tt))
    assert main(["curves", "--out", str(tmp_path / "sim"), "--n", "16", "--samples", "1", "--steps", "10",
                 "--g", "0.3", "--zhat", "1", "--workers", "1", "--no-progress"]) == 0
    assert "simulation" in set(read_csv(tmp_path / "sim" / "loss.csv")["source"])
    assert main(["curves", "--out", str(tmp_path / "bad"), "--samples", "-1"]) == 2


def test_diverged_runs_are_marked_never_averaged(tmp_path, monkeypatch):
    """Runs made to diverge (a step size far too large at ẑ = 2) are marked in summary.csv,
    left out of the normalised means, and labelled in the Fig 3 curves, so that neither the
    figure's bands nor the report's claims take an explosion for a result."""
    from rnn_theory.numerics.reproduce import schuessler_linear as S
    from rnn_theory.numerics.reproduce.claims import CLAIMS, judge

    monkeypatch.setattr(S, "QUICK_SIZE", (24, 1))   # seed 0: W0 stable at every g (N = 24)
    monkeypatch.setattr(S, "LR0", {0.5: 0.015, 1.0: 0.009, 2.0: 3.0})
    S.fig4(tmp_path / "f4", quick=True, seed=0, workers=1, show_progress=False)
    summ = read_csv(tmp_path / "f4" / "summary.csv")
    div = np.asarray(summ["diverged"]) == 1
    zh, g = np.asarray(summ["zhat"]), np.asarray(summ["g"])
    assert div[zh == 2.0].sum() >= 5 and not div[zh < 2.0].any()
    norm = read_csv(tmp_path / "f4" / "normalised.csv")
    for z, gv, q, k in zip(norm["zhat"], norm["g"], norm["quantity"], norm["n"]):
        if q == "dw_norm":      # finite for every run, so n counts exactly the runs averaged
            assert k == np.sum((zh == z) & (g == gv) & ~div), (z, gv)
    S.fig3(tmp_path / "f3", quick=True, seed=0, workers=1, show_progress=False)
    loss = read_csv(tmp_path / "f3" / "loss.csv")
    src, z = np.asarray(loss["source"]), np.asarray(loss["zhat"])
    runs = {(c["zhat"], c["g"]): c["diverged"] for c in
            (__import__("json").loads(f.read_text()) for f in (tmp_path / "f3" / "runs").glob("*/config.json"))}
    for (zv, gv), diverged in runs.items():
        rows = set(src[(z == zv) & (np.asarray(loss["g"]) == gv) & (np.asarray(loss["seed"]) >= 0)])
        assert rows == {"simulation-diverged" if diverged else "simulation"}, (zv, gv)
    assert runs[(2.0, 0.6)] and not runs[(0.5, 0.6)] and not runs[(0.5, 0.0)]
    collapse = judge(next(c for c in CLAIMS if c.key == "fig3-collapse"), [tmp_path / "f3"])
    assert "ẑ = 2" not in collapse.value and "ẑ = 0.5" in collapse.value   # one trained gain left at ẑ = 2


def test_a_loss_explosion_without_an_eigenvalue_crossing_is_a_divergence():
    """The full Fig 4 run at N = 1024, g = 0.9, ẑ = 2, seed 0: one step passes close to a
    singular I − W, the readout jumps from 1.3 to 2606 (loss 1.7e6 × L0) and ‖ΔW‖ to 1.7e8,
    with no eigenvalue crossing 1; the run then relearns and "converges".  It is a divergence
    by the package's rule (loss > 1000 × initial), stopped with its last good state."""
    from rnn_theory.numerics.reproduce.schuessler_linear import simulate_run

    arrays, history, summary = simulate_run({"n": 1024, "g": 0.9, "zhat": 2.0, "lr0": 0.003, "steps": 200,
                                             "seed": 0, "shuffle": False, "sv_every": 200})
    assert summary["diverged"] and "exceeds 1000 x the initial loss" in summary["message"]
    loss = np.asarray(history["loss"])
    assert loss.max() <= 1000 * loss[0] and summary["dw_norm"] < 1.0
    assert np.isnan(summary["tau_c"])      # never below 5 % of L0 before the explosion
