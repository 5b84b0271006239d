"""The check table (`rnn-theory check`): rows, verdicts, exit status, JSON."""
import json

import numpy as np
import pytest

from rnn_theory.numerics import checks
from rnn_theory.numerics.cli import main


def test_identity_rows_pass_and_a_wrong_identity_fails(monkeypatch):
    """R2 rows evaluate the derivation's expressions; doubling dG/dtau (a wrong factor) fails."""
    from rnn_theory.numerics.checks import identities as I
    from rnn_theory.theory import linear as TL

    rows = I.check_identities(checks.Settings(quick=True))
    assert len(rows) == 4 and all(r.passed for r in rows)
    d = next(x for x in TL.identities_derivation() if x.key == "R2.identities")
    wrong = dict(d.expr, **{"dG/dtau": d.expr["dG/dtau"] / 2})
    monkeypatch.setattr(TL, "identities_derivation", lambda: [type(d)(d.key, d.statement, wrong, d.checks)])
    bad = I.check_identities(checks.Settings(quick=True))
    assert [r.passed for r in bad] == [True, False, True, True]


def test_evaluate_words_products():
    import sympy as sp
    from rnn_theory.numerics.checks.identities import evaluate_words

    rng = np.random.default_rng(0)
    B = rng.standard_normal((4, 4))
    w, m = rng.standard_normal(4), rng.standard_normal(4)
    mats = {"B": B, "Bt": B.T, "w": w[:, None], "m": m[:, None], "wt": w[None, :], "mt": m[None, :]}
    Bs, Bts, ms = (sp.Symbol(k, commutative=False) for k in ("B", "Bt", "m"))
    ov = sp.Symbol("(wt B Bt w)")
    got = evaluate_words(3 * ov * sp.Symbol("epsilon") * Bts * Bs * ms, mats, {"epsilon": 0.5})
    np.testing.assert_allclose(np.ravel(got), 1.5 * (w @ B @ B.T @ w) * (B.T @ B @ m), rtol=1e-13)


def test_gradient_check_rows_pass_and_state_tolerances():
    rows = checks.check_gradients(checks.Settings(quick=True))
    assert len(rows) == 5 and all(r.passed for r in rows)
    assert any("sympy-derived dL/dW" in r.name for r in rows)  # the derivation itself vs BPTT
    for r in rows:
        assert np.isfinite(r.tolerance) and r.tolerance > 0 and r.note


def test_report_verdicts_and_table():
    ok = checks._row("demo", "ok row", 1.0, 1.01, stat=0.02)
    bad = checks._row("demo", "bad row", 1.0, 1.5, stat=0.02, sys_=0.1)
    info = checks._row("demo", "info row", 1.0, 3.0, stat=0.02, info=True)
    rep = checks.CheckReport([ok, info], {"demo": 0.1}, quick=True)
    assert rep.passed and rep.n_failed == 0
    rep.rows.append(bad)
    assert not rep.passed and rep.n_failed == 1
    text = rep.table()
    assert "PASS" in text and "FAIL" in text and "info" in text and "1 failed" in text
    data = json.loads(rep.to_json())
    assert data["passed"] is False and len(data["rows"]) == 3
    assert data["rows"][2]["tolerance"] == pytest.approx(0.12)


def test_cli_exit_status_and_json(tmp_path, monkeypatch, capsys):
    out = tmp_path / "rows.json"
    assert main(["check", "--only", "gradient", "--json", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text())
    assert data["passed"] and {r["check"] for r in data["rows"]} == {"R1 gradient"}
    assert "R1 gradient" in capsys.readouterr().out

    def failing(settings):
        return [checks._row("injected", "wrong closed form", 1.0, 2.0, stat=0.1)]

    def raising(settings):
        raise RuntimeError("boom")

    monkeypatch.setitem(checks.CHECKS, "failing", failing)
    monkeypatch.setitem(checks.CHECKS, "raising", raising)
    assert main(["check", "--only", "failing", "--no-progress"]) == 1
    assert main(["check", "--only", "raising", "--no-progress"]) == 1
    assert "RuntimeError: boom" in capsys.readouterr().out
    assert main(["check", "--only", "nonsense", "--no-progress"]) == 2


@pytest.mark.slow
def test_quick_check_table_passes():
    rep = checks.run_checks(quick=True, show_progress=False)
    assert rep.passed, rep.table()
    names = {r.check for r in rep.rows}
    for want in ("R1 gradient", "R3 moment rule", "R6 early curves", "R5 scaling with g (zhat=0.5)",
                 "R8 exact g=0 (zhat=2)", "collapse vs tau~"):
        assert want in names


def test_absolute_rows_pass_and_a_wrong_tau_c_threshold_fails(monkeypatch):
    """R5 absolute rows judge tau_c itself: the theory's threshold 1/10 instead of 1/20 fails
    (the ratio-to-g=0 rows were blind to it).  The simulations are run once and reused."""
    import importlib

    import sympy as sp

    from rnn_theory.numerics.checks import absolute as A

    FO = importlib.import_module("rnn_theory.theory.linear.first_order")  # the module, not the function

    monkeypatch.setattr(A, "GAINS", (0.0, 0.3))
    cache = {}

    def pmap_once(fn, cfgs, settings, label):
        if "runs" not in cache:
            cache["runs"] = [fn(c) for c in cfgs]
        return cache["runs"]

    monkeypatch.setattr(A, "_pmap", pmap_once)
    rows = A.check_absolute(checks.Settings(quick=True))
    assert len(rows) == 6 and all(r.passed for r in rows)
    assert all(0 < r.systematic < r.tolerance for r in rows)
    monkeypatch.setattr(FO, "TAU_C_THRESHOLD", sp.Rational(1, 10))
    FO.first_order_solution.cache_clear()
    A._first_order_fns.cache_clear()
    try:
        bad = A.check_absolute(checks.Settings(quick=True))
    finally:
        FO.first_order_solution.cache_clear()
        A._first_order_fns.cache_clear()
    by_name = {r.name: r.passed for r in bad}
    assert by_name["tau_c, g=0.0"] is False and by_name["mean gradient, g=0.0"] is False


def test_next_order_coefficients_match_the_exact_g0_taylor_limit():
    """c_x from two small zhat agrees with the same quotient at smaller zhat (O(zhat^2) remainder)."""
    from rnn_theory.numerics.checks.absolute import next_order_coefficients

    a, b = next_order_coefficients(), next_order_coefficients(0.02, 0.04)
    for k in a:
        assert abs(a[k] - b[k]) < 0.02 * abs(b[k])
    assert a["tau_c"] < 0 < a["mean_grad"]  # faster learning and larger gradients at larger zhat


def test_stability_rows_pass_and_a_wrong_end_gain_fails(monkeypatch):
    """lr_c = 2/G*: GD below it ends at the exact G*; a 10 % error in G* fails the row."""
    from rnn_theory.numerics.checks.stability import check_stability_threshold
    from rnn_theory.theory import exact_g0

    rows = check_stability_threshold(checks.Settings(quick=True))
    assert [r.passed for r in rows] == [True, True]
    solve = exact_g0.solve

    def wrong(*a, **k):
        out = dict(solve(*a, **k))
        out["G"] = out["G"] * 1.1
        return out

    monkeypatch.setattr(exact_g0, "solve", wrong)
    assert check_stability_threshold(checks.Settings(quick=True))[0].passed is False


def test_divergence_row_passes_and_a_trainer_stopping_early_fails(monkeypatch):
    """Spec R9: the stop lands exactly at the crossing (dense eigenvalues, independent of the
    trainer's det(I - W) test); a trainer that keeps the state one step before fails the row."""
    from rnn_theory.numerics.checks import divergence as D
    from rnn_theory.numerics.linear import training as T

    rows = D.check_divergence(checks.Settings(quick=True))
    assert [r.passed for r in rows] == [True, None]
    # the row's rebuilt "next state" is the trainer's next state (non-diverging run, same seed)
    r1 = T.train_linear(48, 0.5, 1.0, 0.01, 7, np.random.default_rng(3))
    r2 = T.train_linear(48, 0.5, 1.0, 0.01, 8, np.random.default_rng(3))
    _, lam_next = D._refused_state(r1)
    assert np.isclose(lam_next, T.max_real_eig(r2.W0 + r2.dW), rtol=0, atol=1e-12)

    descend = T._descend

    def early(*a, **k):   # seeded bug: keep the state one step before the refused update
        k_done, msg = descend(*a, **k)
        return (k_done - 1, msg) if msg else (k_done, msg)

    monkeypatch.setattr(T, "_descend", early)
    assert D.check_divergence(checks.Settings(quick=True))[0].passed is False
