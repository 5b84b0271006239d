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
    assert list(summ) == ["zhat", "g", "seed", "tau_c", "dw_norm", "mean_grad", "shuffle_loss_ratio"]
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
