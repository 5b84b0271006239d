"""The Farrell et al. claims of ``rnn-theory report`` (spec ``dimensionality.md`` §9), judged
on result folders whose truth is known by construction.

A folder is built from per-(γ, seed) curves shaped like the paper's (``_world``); each test
then changes one ingredient so that one condition of one claim fails, and checks that the
verdict moves from *holds* to *partly* or *does not* — and that the rows' order in the
CSVs, or another seed count, does not matter.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from rnn_theory.numerics.infra.io import write_csv
from rnn_theory.numerics.reproduce.claims import CLAIMS, FAILS, HOLDS, NO_DATA, PARTLY, judge

CLAIM = {c.key: c for c in CLAIMS}
T = np.arange(16)


def _pr_before(gamma):
    """High-d PR before training: PR(0) = PR(1) = 45, slow decay at γ = 20, fast to a plateau at 250."""
    if gamma == 20:
        return np.r_[45.0, 45.0 * 0.97 ** (T[1:] - 1)]
    return np.r_[45.0, 21.0 + 24.0 * np.exp(-(T[1:] - 1) / 2.0)]


def _pr_after(gamma):
    """After training: γ = 20 compressed from t = 3 on, γ = 250 large at t = 5 and small at 10."""
    if gamma == 20:
        return np.maximum(45.0 * 0.3 ** T, 2.0)
    return np.maximum(45.0 - 4.0 * T, 5.0) * np.where(T >= 10, 0.2, 1.0) + 1.0


def _lowd_before(gamma):
    """d = 2: chaos expands (γ = 250: 1.5 → 12), the edge of chaos stays near the input's PR."""
    return np.full(16, 1.6) if gamma == 20 else np.r_[1.5, 1.5 + 1.2 * (T[1:] - 1)]


def _lowd_after(gamma):
    """After training, γ = 250 peaks at t = 5 and compresses by t = 10."""
    return np.full(16, 1.5) if gamma == 20 else 1.5 + 8.0 * np.exp(-((T - 5.0) / 2.5) ** 2)


def _rows(cols, gamma, seed, **kv):
    for k, v in (("gamma", gamma), ("seed", seed), *kv.items()):
        cols.setdefault(k, []).append(v)


def _write(path, name, cols, rng=None):
    """Write ``cols`` to ``path/name``, rows in random order when ``rng`` is given."""
    path.mkdir(parents=True, exist_ok=True)
    n = len(next(iter(cols.values())))
    order = rng.permutation(n) if rng is not None else np.arange(n)
    write_csv(path / name, {k: [v[i] for i in order] for k, v in cols.items()})
    return path


def _pr_csv(path, before, after, seeds, jitter, rng, name="pr.csv", extra=None):
    cols: dict = {}
    for g in (20.0, 250.0):
        for sd in seeds:
            for stage, f in (("before", before), ("after", after)):
                curve = f(g) * (1 + jitter * rng.standard_normal(16))
                for t, v in enumerate(curve):
                    _rows(cols, g, sd, **(extra or {}), stage=stage, t=t, pr=float(v))
    return _write(path, name, cols, rng)


def _lyap_csv(path, init, final, seeds, jitter, rng, epochs=(0, 1, 40)):
    """λ₁ (index 0) goes linearly from ``init[γ]`` to ``final[γ]`` over ``epochs``; index 1 is
    far below, so a claim reading the wrong index sees other numbers."""
    cols: dict = {}
    for g in (20.0, 250.0):
        for sd in seeds:
            for i, e in enumerate(epochs):
                lam = init[g] + (final[g] - init[g]) * i / (len(epochs) - 1) + jitter * rng.standard_normal()
                for idx, v in enumerate((lam, lam - 3.0)):
                    _rows(cols, g, sd, epoch=e, index=idx, exponent_nats=float(v))
    return _write(path, "lyapunov.csv", cols, rng)


def _acc_csv(path, curves, seeds, jitter, rng, epochs=11):
    """Accuracy ``curves[γ](epoch, seed)`` plus Gaussian noise of sd ``jitter``."""
    cols: dict = {}
    for g in (20.0, 250.0):
        for sd in seeds:
            for e in range(epochs):
                a = float(np.clip(curves[g](e, sd) + jitter * rng.standard_normal(), 0, 1))
                _rows(cols, g, sd, epoch=e, accuracy=a)
    return _write(path, "accuracy.csv", cols, rng)


def _holdout_csv(path, before, after, seeds, rng):
    cols: dict = {}
    for g in (20.0, 250.0):
        for sd in seeds:
            for stage, acc in (("before", before), ("after", after)):
                for t in range(16):
                    _rows(cols, g, sd, stage=stage, t=t, train_accuracy=1.0, test_accuracy=acc if t == 10 else 0.5)
    return _write(path, "holdout.csv", cols, rng)


def _fig2(path, seeds=(0, 1, 2), jitter=0.0, rng=None, before=_pr_before, after=_pr_after,
          init=None, final=None, acc=None):
    rng = rng or np.random.default_rng(0)
    _pr_csv(path, before, after, seeds, jitter, rng)
    _lyap_csv(path, init or {20.0: 0.03, 250.0: 0.22}, final or {20.0: -1.0, 250.0: 0.19}, seeds, jitter / 10, rng)
    _acc_csv(path, acc or {20.0: lambda e, s: min(1.0, 0.5 + 0.2 * e), 250.0: lambda e, s: min(1.0, 0.5 + 0.1 * e)},
             seeds, 0.0, rng)
    return path


@given(seed=st.integers(0, 2**32 - 1), n_seeds=st.integers(2, 6))
@example(seed=0, n_seeds=2)
@settings(deadline=None, max_examples=15)
def test_a_paper_like_fig2_holds_on_every_claim_whatever_the_row_order_and_seed_count(tmp_path_factory, seed,
                                                                                         n_seeds):
    rng = np.random.default_rng(seed)
    folder = _fig2(tmp_path_factory.mktemp("fig2"), seeds=range(n_seeds), jitter=0.002, rng=rng)
    for key in ("farrell-initial-chaos", "farrell-compression", "farrell-edge-earlier", "farrell-attractors",
                "farrell-accuracy-highd", "farrell-highd-before"):
        j = judge(CLAIM[key], [folder])
        assert j.verdict == HOLDS, (key, j.value)
        assert f"(n={n_seeds})" in j.value or key == "farrell-highd-before", (key, j.value)


@pytest.mark.parametrize("init, final, chaos, attractors", [
    ({20.0: 0.03, 250.0: 0.22}, {20.0: -1.0, 250.0: 0.19}, HOLDS, HOLDS),
    ({20.0: 0.20, 250.0: 0.22}, {20.0: -1.0, 250.0: -0.1}, PARTLY, PARTLY),   # γ = 20 chaotic / 250 not at the end
    ({20.0: 0.20, 250.0: 0.05}, {20.0: 0.5, 250.0: -0.1}, FAILS, FAILS),
])
def test_lyapunov_claims_read_lambda_1_at_the_first_and_at_the_last_epoch(tmp_path, init, final, chaos, attractors):
    folder = _fig2(tmp_path / "f", init=init, final=final)
    assert judge(CLAIM["farrell-initial-chaos"], [folder]).verdict == chaos
    assert judge(CLAIM["farrell-attractors"], [folder]).verdict == attractors


def test_initial_chaos_needs_epoch_0(tmp_path):
    """Runs recorded only from epoch 1 have no initial exponent: no data, not epoch 1's value."""
    rng = np.random.default_rng(0)
    _lyap_csv(tmp_path, {20.0: 0.03, 250.0: 0.22}, {20.0: -1.0, 250.0: 0.19}, (0, 1), 0.0, rng, epochs=(1, 40))
    assert judge(CLAIM["farrell-initial-chaos"], [tmp_path]).verdict == NO_DATA
    assert judge(CLAIM["farrell-attractors"], [tmp_path]).verdict == HOLDS


@pytest.mark.parametrize("change, key, verdict", [
    (dict(after=lambda g: _pr_after(g) * (8.0 if g == 250 else 1.0)), "farrell-compression", PARTLY),
    (dict(after=lambda g: _pr_after(20.0) + (4.5 if g == 20 else 0.0)), "farrell-edge-earlier", FAILS),
    (dict(after=lambda g: _pr_after(g) + (4.5 if g == 20 else 0.0)), "farrell-edge-earlier", PARTLY),
    (dict(before=lambda g: _pr_before(20.0)), "farrell-highd-before", PARTLY),
    (dict(before=lambda g: np.r_[45.0, 60.0 - 2 * T[1:]]), "farrell-highd-before", PARTLY),
    # γ = 250 decays fast but keeps decaying (no plateau): only that condition fails
    (dict(before=lambda g: _pr_before(g) if g == 20 else 45.0 * 0.9 ** np.maximum(T - 1, 0)), "farrell-highd-before",
     PARTLY),
    (dict(acc={20.0: lambda e, s: 0.9, 250.0: lambda e, s: 1.0}), "farrell-accuracy-highd", PARTLY),
    (dict(acc={20.0: lambda e, s: 0.9, 250.0: lambda e, s: 0.97}), "farrell-accuracy-highd", FAILS),
])
def test_breaking_one_ingredient_moves_the_verdict(tmp_path, change, key, verdict):
    assert judge(CLAIM[key], [_fig2(tmp_path / "paper")]).verdict == HOLDS
    assert judge(CLAIM[key], [_fig2(tmp_path / "changed", **change)]).verdict == verdict


def _fig3(path, seeds=(0, 1, 2), before=_lowd_before, after=_lowd_after, acc=None, holdout=(0.55, 0.95)):
    rng = np.random.default_rng(1)
    _pr_csv(path, before, after, seeds, 0.0, rng)
    _acc_csv(path, acc or {20.0: lambda e, s: 0.6, 250.0: lambda e, s: min(1.0, 0.6 + 0.05 * e)}, seeds, 0.0, rng,
             epochs=81)
    _holdout_csv(path, *holdout, seeds, rng)
    return path


@pytest.mark.parametrize("change, key, verdict", [
    (dict(before=lambda g: _lowd_before(20.0)), "farrell-expansion-lowd", PARTLY),           # no expansion at 250
    (dict(before=lambda g: _lowd_before(250.0)), "farrell-expansion-lowd", PARTLY),          # γ = 20 expands too
    # γ = 20 flat from t = 1 but 60 % above the input's PR(0): not "close to the input's"
    (dict(before=lambda g: _lowd_before(g) if g == 250 else np.r_[1.0, np.full(15, 1.6)]), "farrell-expansion-lowd",
     PARTLY),
    (dict(after=lambda g: 1.5 + 0.5 * T), "farrell-expand-then-compress", FAILS),             # peak at t = 10
    (dict(after=lambda g: 9.0 - 0.5 * T), "farrell-expand-then-compress", FAILS),             # peak at t = 1
    (dict(acc={20.0: lambda e, s: 0.7, 250.0: lambda e, s: 0.6}), "farrell-accuracy-lowd", FAILS),
    # seeds 0.55 / 0.60 / 0.65 against 0.56 / 0.61 / 0.66: higher by 0.01, 2 SE = 0.067
    (dict(acc={20.0: lambda e, s: 0.55 + 0.05 * s, 250.0: lambda e, s: 0.56 + 0.05 * s}), "farrell-accuracy-lowd",
     PARTLY),
    (dict(holdout=(0.55, 0.75)), "farrell-holdout-lowd", FAILS),
    (dict(holdout=(0.75, 0.95)), "farrell-holdout-lowd", PARTLY),
])
def test_low_d_claims_follow_construction(tmp_path, change, key, verdict):
    assert judge(CLAIM[key], [_fig3(tmp_path / "paper")]).verdict == HOLDS
    assert judge(CLAIM[key], [_fig3(tmp_path / "changed", **change)]).verdict == verdict


def test_early_accuracy_uses_epochs_1_to_10_only(tmp_path):
    """γ = 250 ahead in epochs 1–10, γ = 20 ahead afterwards: the claim is about early epochs."""
    acc = {20.0: lambda e, s: 0.6 if e <= 10 else 1.0, 250.0: lambda e, s: 0.8 if e <= 10 else 0.9}
    assert judge(CLAIM["farrell-accuracy-lowd"], [_fig3(tmp_path, acc=acc)]).verdict == HOLDS


@pytest.mark.parametrize("final, verdict", [
    ({20.0: 0.6, 250.0: 0.95}, HOLDS), ({20.0: 0.9, 250.0: 0.95}, PARTLY), ({20.0: 0.6, 250.0: 0.75}, PARTLY),
    ({20.0: 0.8, 250.0: 0.8}, FAILS)])
def test_two_neuron_accuracy_compares_the_last_epochs(tmp_path, final, verdict):
    rng = np.random.default_rng(2)
    _acc_csv(tmp_path, {g: (lambda e, s, a=a: a if e == 80 else 0.5) for g, a in final.items()}, (0, 1, 2), 0.0, rng,
             epochs=81)
    assert judge(CLAIM["farrell-two-neuron"], [tmp_path]).verdict == verdict


def _noise_folder(path, after0, after5, seeds=(0, 1)):
    rng = np.random.default_rng(3)
    cols: dict = {}
    for sig, after in ((0.0, after0), (0.5, after5)):
        for sd in seeds:
            for stage, v in (("before", 30.0), ("after", after)):
                for t in range(16):
                    _rows(cols, 250.0, sd, noise=sig, stage=stage, t=t, pr=v + 0.1 * t)
    return _write(path, "pr_noise.csv", cols, rng)


@pytest.mark.parametrize("after0, after5, verdict", [
    (25.0, 4.0, HOLDS),      # noise-free stays, noisy compresses
    (5.0, 4.0, PARTLY),      # compresses without noise too
    (25.0, 20.0, PARTLY),    # the noise does not compress
    (15.0, 9.0, PARTLY),     # both conditions on their own hold, but the noisy PR is not half the noise-free one
    (10.0, 20.0, FAILS),
])
def test_mse_needs_noise_follows_construction(tmp_path, after0, after5, verdict):
    assert judge(CLAIM["farrell-mse-needs-noise"], [_noise_folder(tmp_path, after0, after5)]).verdict == verdict


def test_farrell_claims_say_no_data_without_their_csvs_or_a_gamma(tmp_path):
    (tmp_path / "empty").mkdir()
    keys = [c.key for c in CLAIMS if c.reproduction.startswith("farrell")]
    assert len(keys) == 13
    for key in keys:
        assert judge(CLAIM[key], [tmp_path / "empty"]).verdict == NO_DATA, key
    rng = np.random.default_rng(0)
    cols: dict = {}
    for e in range(3):
        _rows(cols, 250.0, 0, epoch=e, accuracy=1.0)   # γ = 250 only
    _write(tmp_path / "one", "accuracy.csv", cols, rng)
    for key in ("farrell-accuracy-highd", "farrell-accuracy-lowd", "farrell-two-neuron"):
        assert judge(CLAIM[key], [tmp_path / "one"]).verdict == NO_DATA, key


def test_two_folders_with_the_same_seeds_are_pooled_as_separate_runs(tmp_path):
    """E.g. a float64 and a float32 reproduction, both of seeds 0–2: six runs, not three
    runs with doubled curves."""
    a = _fig2(tmp_path / "a")
    b = _fig2(tmp_path / "b", after=lambda g: _pr_after(g) * (1.2 if g == 20 else 1.0))
    for key in ("farrell-edge-earlier", "farrell-initial-chaos", "farrell-accuracy-highd", "farrell-highd-before",
                "farrell-compression"):
        j = judge(CLAIM[key], [a, b])
        assert j.verdict == HOLDS, (key, j.value)
        assert "(n=6)" in j.value or key == "farrell-highd-before", (key, j.value)
    e5 = judge(CLAIM["farrell-edge-earlier"], [a, b]).value
    assert "γ = 20: 2.2 ± 0.2 (n=6)" in e5, e5      # 2.0 in one folder, 2.4 in the other
