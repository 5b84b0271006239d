"""Finite-N extrapolation (numerics.linear.finite_n) and the beyond-the-paper run script."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.linear.finite_n import curve_observables, extrapolate_inverse_n, extrapolate_pooled
from rnn_theory.numerics.reproduce import beyond_paper as BP
from rnn_theory.theory.errors import RNNTheoryError


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 2**31 - 1), x_inf=st.floats(-2, 2), a=st.floats(-50, 50), c1=st.floats(-3, 3))
def test_pooled_fit_recovers_limit_within_its_error(seed, x_inf, a, c1):
    rng = np.random.default_rng(seed)
    ns = np.repeat([500, 1000, 2000, 4000], 10)
    G = 4 + 2 * rng.standard_normal(ns.size) / np.sqrt(ns)
    z0 = rng.standard_normal(ns.size) / np.sqrt(ns)
    noise = 0.3 * rng.standard_normal(ns.size) / np.sqrt(ns)
    out = extrapolate_pooled(ns, x_inf + a / ns + c1 * (G - 4) + 0.5 * z0 + noise, G, z0, 2.0)
    # 5 standard errors: a false failure has probability < 1e-5 per example
    assert abs(out["x_inf"] - x_inf) < 5 * out["err"]
    assert out["dof"] == ns.size - 4


def test_fits_reject_bad_input():
    with pytest.raises(RNNTheoryError):
        extrapolate_inverse_n([1000], [1.0], [0.1])
    with pytest.raises(RNNTheoryError):
        extrapolate_inverse_n([1000, 2000], [1.0, 1.0], [0.1, 0.0])
    with pytest.raises(RNNTheoryError):
        extrapolate_pooled([1000] * 8, np.ones(8), np.ones(8), np.zeros(8), 1.0)
    with pytest.raises(RNNTheoryError):
        extrapolate_pooled([1000, 2000] * 4, np.r_[np.ones(7), np.nan], np.ones(8), np.zeros(8), 1.0)


def test_curve_observables_consistent_with_trainer():
    from rnn_theory.numerics.linear import train_linear

    out = curve_observables(48, 0.5, 1.5, 0.01, 12, 3, every=4)
    r = train_linear(48, 0.5, 1.5, 0.01, 12, np.random.default_rng(3), check_stability=False)
    idx = [0, 4, 8, 12]
    assert np.allclose(out["z"], r.z[idx] - r.z0) and out["z"][0] == 0
    assert np.allclose(out["s1"], r.sv[idx, 0]) and np.allclose(out["dw_norm"], r.dw_norm[idx])
    assert np.allclose(out["G"], r.grad_norm[idx] ** 2 / (1.5 - r.z[idx]) ** 2)


def test_run_plan_resumes_and_tabulates(tmp_path):
    plan = [(0.5, 1.0, 0.01, 8, 4, {32: 4, 64: 4}), (0.5, 1.0, 0.005, 16, 8, {64: 2})]
    path = BP.run_plan(plan, tmp_path / "runs.csv", verbose=False)
    text = path.read_text()
    BP.run_plan(plan, path, verbose=False)  # nothing new: every run is already in the file
    assert path.read_text() == text
    tab = BP.extrapolated_table(path, lr0=0.01, lr0_half=0.005)
    assert {r["quantity"] for r in tab} >= {"z", "s1", "dw_norm"}
    assert sorted({r["tau_tilde"] for r in tab}) == [0.0, 0.04, 0.08]
    assert all(np.isfinite(r["flow"]) for r in tab if r["tau_tilde"] > 0)


def test_curves_command_beyond(tmp_path):
    from rnn_theory.numerics.cli import main
    from rnn_theory.numerics.infra.io import read_csv
    from rnn_theory.theory import exact_g0

    assert main(["curves", "--out", str(tmp_path), "--samples", "0", "--g", "0", "0.6", "--zhat", "1",
                 "--steps", "50", "--beyond"]) == 0
    th = read_csv(tmp_path / "beyond_curves.csv")
    assert set(th["source"]) == {"order5", "mapped_g0"}
    # at g = 0 the mapped curve is the exact solution
    sel = [i for i, (s, g) in enumerate(zip(th["source"], th["g"])) if s == "mapped_g0" and g == 0]
    tt = np.array([th["tau_tilde"][i] for i in sel])
    assert np.allclose([th["z"][i] for i in sel], exact_g0.solve(1.0, tt)["z"])
