"""Slow: ``reproduce schuessler-lstm --quick`` end to end, and the low-rank claim it measures.

Run with ``python -m pytest -m slow tests/numerics/lstm/test_lstm_repro.py``.
"""
import numpy as np
import pytest

from rnn_theory.numerics.infra.io import read_csv
from rnn_theory.numerics.reproduce.lstm import QUICK, lstm

pytestmark = pytest.mark.slow


def _rank_needed(rows, weight, mode, target):
    """Smallest rank on the grid from which on the accuracy stays >= target."""
    pts = sorted((r, a) for w, m, r, a in zip(rows["weight"], rows["mode"], rows["rank"], rows["accuracy"])
                 if w == weight and m == mode)
    need = pts[-1][0]
    for r, a in reversed(pts):
        if a < target:
            break
        need = r
    return need


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from rnn_theory.numerics.cli import main

    out = tmp_path_factory.mktemp("lstm")
    # through the command line, as a user runs it
    assert main(["reproduce", "schuessler-lstm", "--quick", "--out", str(out), "--no-progress"]) == 0
    paths = sorted(out.glob("*.csv")) + sorted(out.glob("*.png"))
    return out, paths


def test_files_and_columns(quick_run):
    out, paths = quick_run
    names = {p.name for p in paths}
    assert {"truncation.csv", "singular_values.csv", "summary.csv"} <= names
    trunc = read_csv(out / "truncation.csv")
    assert list(trunc) == ["weight", "mode", "rank", "accuracy"]
    assert set(trunc["mode"]) == {"dW", "W"}
    assert set(trunc["weight"]) == {"W_hh1", "W_ih2", "W_hh2", "all"}
    assert min(trunc["rank"]) == 0 and max(trunc["rank"]) == QUICK.hidden
    assert all(0 <= a <= 1 for a in trunc["accuracy"])
    sv = read_csv(out / "singular_values.csv")
    assert list(sv) == ["weight", "kind", "index", "value"]
    assert set(sv["kind"]) == {"dW", "W", "W0"}
    for w in ("W_hh1", "W_ih2", "W_hh2"):
        vals = [v for ww, k, _, v in zip(*sv.values()) if ww == w and k == "dW"]
        assert len(vals) == QUICK.hidden and all(np.diff(vals) <= 1e-12)


def test_full_rank_is_the_trained_network(quick_run):
    out, _ = quick_run
    trunc, summ = read_csv(out / "truncation.csv"), read_csv(out / "summary.csv")
    full = [a for r, a in zip(trunc["rank"], trunc["accuracy"]) if r == QUICK.hidden]
    # full rank reproduces the trained accuracy up to float32 rounding of the reconstruction
    assert np.max(np.abs(np.array(full) - summ["lstm_accuracy"][0])) <= 0.005


def test_task_is_learnt_and_needs_memory(quick_run):
    out, _ = quick_run
    s = read_csv(out / "summary.csv")
    lstm_acc, bow_acc, chance = s["lstm_accuracy"][0], s["bow_accuracy"][0], s["chance"][0]
    assert chance < 0.56
    assert lstm_acc > 0.9  # well above chance
    assert bow_acc < lstm_acc - 0.2  # a bag of words cannot solve it


def _curve(rows, weight, mode):
    return dict(sorted((r, a) for w, m, r, a in zip(rows["weight"], rows["mode"], rows["rank"], rows["accuracy"])
                       if w == weight and m == mode))


def test_low_rank_dW_versus_W(quick_run):
    out, _ = quick_run
    trunc, s = read_csv(out / "truncation.csv"), read_csv(out / "summary.csv")
    acc, chance = s["lstm_accuracy"][0], s["chance"][0]
    N = QUICK.hidden
    dw, w = _curve(trunc, "all", "dW"), _curve(trunc, "all", "W")
    # a small-rank dW (R <= N/4) recovers the trained accuracy to within 0.02 ...
    r_small = min(r for r in dw if r >= 1 and dw[r] >= acc - 0.02)
    assert r_small <= N // 4, dw
    # ... while rank-R truncations of W stay below rank-R truncations of dW on the small ranks
    small = [r for r in dw if 1 <= r <= N // 4]
    gap = np.mean([dw[r] - w[r] for r in small])
    assert gap > 0.02, (gap, dw, w)
    # to recover 98% of the trained margin above chance, W needs at least twice dW's rank
    target = chance + 0.98 * (acc - chance)
    r_dw, r_w = _rank_needed(trunc, "all", "dW", target), _rank_needed(trunc, "all", "W", target)
    assert r_dw <= N // 4 and r_w >= 2 * r_dw, (r_dw, r_w)
    # rank 0: W0 alone keeps some function, the zero matrix gives chance
    assert abs(w[0] - chance) < 0.05 and dw[0] > w[0]


def test_rerun_resumes_and_is_identical(quick_run, tmp_path):
    out, _ = quick_run
    before = (out / "truncation.csv").read_text()
    lstm(out, quick=True, seed=0, workers=1, show_progress=False)  # training is skipped
    assert (out / "truncation.csv").read_text() == before
