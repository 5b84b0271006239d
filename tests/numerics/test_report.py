"""``rnn-theory report``: claims judged on result folders whose truth is known by construction."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from rnn_theory.numerics.cli import main
from rnn_theory.numerics.infra.io import write_csv
from rnn_theory.numerics.reproduce.claims import CLAIMS, HOLDS, NO_DATA, PARTLY, FAILS, judge

CLAIM = {c.key: c for c in CLAIMS}


def _fig2_folder(path, rank_means, seeds=5, spread=0.3, rng=None, shuffle=(0.01, 1.0)):
    """A Fig. 2 summary: functional rank ~ N(mean, spread) per task at g = 0.9; ΔW norm falling with g."""
    rng = rng or np.random.default_rng(0)
    cols = {k: [] for k in ("task", "g", "seed", "converged_step", "dw_norm", "functional_rank",
                            "shuffle_loss_ratio")}
    for task, mean in zip(("flipflop", "mante", "romo"), rank_means):
        for g in (0.0, 0.9, 1.2, 1.8):
            for s in range(seeds):
                cols["task"].append(task)
                cols["g"].append(g)
                cols["seed"].append(s)
                cols["converged_step"].append(100 + 50 * abs(g - 1.2) + s)
                cols["dw_norm"].append(5.0 / (1 + g))
                cols["functional_rank"].append(mean + spread * rng.standard_normal())
                cols["shuffle_loss_ratio"].append(shuffle[0] if g == 0 else shuffle[1])
    path.mkdir(parents=True)
    write_csv(path / "summary.csv", cols)
    return path


@given(seed=st.integers(0, 2**31 - 1), gap=st.floats(2.0, 20.0), seeds=st.integers(3, 8))
@settings(deadline=None, max_examples=25)
@example(seed=0, gap=2.0, seeds=3)
def test_rank_order_verdict_follows_construction(tmp_path_factory, seed, gap, seeds):
    rng = np.random.default_rng(seed)
    base = tmp_path_factory.mktemp("r")
    c = CLAIM["fig2-functional-rank-order"]
    # gaps of >= 2 with spread 0.3: separated by far more than 2 standard errors
    ordered = _fig2_folder(base / "a", (2.0, 2.0 + gap, 2.0 + 2 * gap), seeds, 0.3, rng)
    assert judge(c, [ordered]).verdict == HOLDS
    reversed_ = _fig2_folder(base / "b", (2.0 + 2 * gap, 2.0 + gap, 2.0), seeds, 0.3, rng)
    assert judge(c, [reversed_]).verdict == FAILS


def test_rank_order_partly_when_means_ordered_but_not_separated(tmp_path):
    c = CLAIM["fig2-functional-rank-order"]
    cols = {"task": [], "g": [], "seed": [], "converged_step": [], "dw_norm": [], "functional_rank": [],
            "shuffle_loss_ratio": []}
    # exact values: means 2.0 < 2.2 < 2.4, each group's standard deviation 2 (n = 2): not separated
    for task, vals in (("flipflop", (0.0, 4.0)), ("mante", (0.2, 4.2)), ("romo", (0.4, 4.4))):
        for s, v in enumerate(vals):
            for k, x in zip(cols, (task, 0.9, s, 10, 1.0, v, 1.0)):
                cols[k].append(x)
    tmp_path.mkdir(exist_ok=True)
    write_csv(tmp_path / "summary.csv", cols)
    assert judge(c, [tmp_path]).verdict == PARTLY


def test_other_fig2_claims(tmp_path):
    f = _fig2_folder(tmp_path / "f", (2, 4, 6))
    assert judge(CLAIM["fig2-shuffle"], [f]).verdict == HOLDS
    assert judge(CLAIM["fig2-dw-norm"], [f]).verdict == HOLDS
    assert judge(CLAIM["fig2-convergence"], [f]).verdict == HOLDS  # fastest at g = 1.2 by construction
    bad = _fig2_folder(tmp_path / "b", (2, 4, 6), shuffle=(0.9, 0.05))
    assert judge(CLAIM["fig2-shuffle"], [bad]).verdict == FAILS
    assert judge(CLAIM["fig2-shuffle"], []).verdict == NO_DATA


def test_dw_norm_names_the_gains_where_it_rises(tmp_path):
    """‖ΔW‖ falling overall but rising from g = 1.2 to 1.8 in one task: partly, and the rise is named."""
    from rnn_theory.numerics.infra.io import read_csv

    f = _fig2_folder(tmp_path / "f", (2, 4, 6))
    cols = read_csv(f / "summary.csv")
    cols["dw_norm"] = [3.0 if (t == "mante" and g == 1.8) else w
                       for t, g, w in zip(cols["task"], cols["g"], cols["dw_norm"])]
    write_csv(f / "summary.csv", cols, overwrite=True)
    j = judge(CLAIM["fig2-dw-norm"], [f])
    assert j.verdict == PARTLY
    assert "mante: 5 (g=0) → 3 (g=1.8), rises at g = 1.2→1.8 (2.27→3, > 2 SE)" in j.value
    assert "flipflop: 5 (g=0) → 1.79 (g=1.8);" in j.value      # monotone: no rise listed
    # a rise within the seeds' noise is named as such and does not cost the verdict
    noisy = read_csv(f / "summary.csv")
    jitter = (0.5, -0.5, 0.5, -0.5, 0.0)       # per seed: sd 0.45, so a rise of 0.07 is noise
    noisy["dw_norm"] = [(2.7 if g == 1.2 else 5.0 / (1 + g)) + (jitter[sd] if g >= 0.9 else 0.0)
                        for g, sd in zip(noisy["g"], noisy["seed"])]
    write_csv(f / "summary.csv", noisy, overwrite=True)
    j = judge(CLAIM["fig2-dw-norm"], [f])
    assert "within 2 SE" in j.value and "> 2 SE" not in j.value and j.verdict == HOLDS, j.value


def test_trends_need_several_gains(tmp_path):
    """A folder with runs at g = 0.9 only says nothing about trends in g (no data, not 'holds')."""
    cols = {"task": [], "g": [], "seed": [], "converged_step": [], "dw_norm": [], "functional_rank": [],
            "shuffle_loss_ratio": []}
    for task in ("flipflop", "mante", "romo"):
        for s in range(3):
            for k, x in zip(cols, (task, 0.9, s, 10, 1.0, 3, 1.0)):
                cols[k].append(x)
    write_csv(tmp_path / "summary.csv", cols)
    for key in ("fig2-shuffle", "fig2-dw-norm", "fig2-convergence"):
        assert judge(CLAIM[key], [tmp_path]).verdict == NO_DATA, key


def _digits_folder(path, acc):
    path.mkdir(parents=True)
    rules = [r for r in acc for _ in range(2)]
    write_csv(path / "runs.csv", {"rule": rules, "lr": [0.1, 1.0] * len(acc),
                                  "diverged_step": [-1] * len(rules),
                                  "best_test_accuracy": [a - d for r in acc for a, d in ((acc[r], 0.0),
                                                                                         (acc[r], 0.1))],
                                  "wall_time": [1.0] * len(rules)})
    return path


def test_digits_ranking_pools_seeds(tmp_path):
    c = CLAIM["digits-ranking"]
    paper = [_digits_folder(tmp_path / f"p{s}", {"dW1": 0.80 + 0.01 * s, "dW3": 0.95 + 0.01 * s,
                                                   "dW4": 0.90 - 0.01 * s}) for s in range(3)]
    assert judge(c, paper).verdict == HOLDS
    swapped = [_digits_folder(tmp_path / f"s{s}", {"dW1": 0.90 + 0.01 * s, "dW3": 0.95, "dW4": 0.85})
               for s in range(3)]
    assert judge(c, swapped).verdict == FAILS


def _fig3_folder(path, rate_at_g06, seeds=(0, 1)):
    """loss = L0·exp(−r τ̃) with r = 1 at g = 0 and ``rate_at_g06`` at g = 0.6 (their τ̃ ranges
    differ, as in the reproduction), plus theory rows the claim must ignore."""
    cols = {k: [] for k in ("zhat", "g", "seed", "source", "tau", "tau_tilde", "loss")}
    for zh in (0.5, 2.0):
        for g, rate, top in ((0.0, 1.0, 3.0), (0.6, rate_at_g06, 4.5)):
            for sd in (*seeds, -1):
                tt = np.linspace(0, top, 61)
                loss = zh * zh / 2 * (np.exp(-rate * tt) if sd >= 0 else np.ones_like(tt))  # theory: flat
                for k, v in (("zhat", zh), ("g", g), ("seed", sd), ("source", "simulation" if sd >= 0 else "x")):
                    cols[k].extend([v] * tt.size)
                cols["tau"].extend(tt); cols["tau_tilde"].extend(tt); cols["loss"].extend(loss)
    path.mkdir(parents=True)
    write_csv(path / "loss.csv", cols)
    return path


def test_fig3_collapse_verdict_follows_construction(tmp_path):
    assert judge(CLAIM["fig3-collapse"], [_fig3_folder(tmp_path / "a", 1.0)]).verdict == HOLDS
    # exp(-τ̃) vs exp(-1.1 τ̃): largest gap max(e^-x - e^-1.1x) ≈ 0.035·L0 < 0.05
    assert judge(CLAIM["fig3-collapse"], [_fig3_folder(tmp_path / "b", 1.1)]).verdict == HOLDS
    # exp(-τ̃) vs exp(-1.5 τ̃): gap ≈ 0.15·L0
    bad = judge(CLAIM["fig3-collapse"], [_fig3_folder(tmp_path / "c", 1.5)])
    assert bad.verdict == FAILS and "0.148" in bad.value, bad.value


def _fig4_folder(path, dev, shuffle_offset):
    """normalised.csv whose seed means deviate from the laws by the factor 1 + dev[ẑ] (the
    shuffle ratio by + shuffle_offset[ẑ])."""
    cols = {k: [] for k in ("zhat", "g", "quantity", "mean", "std", "n", "theory")}
    for zh in (0.5, 1.0, 2.0):
        for g in np.round(np.arange(10) * 0.1, 1):
            laws = {"tau_c": (1 - g * g) ** 2, "dw_norm": 1 - g * g, "mean_grad": 1 / (1 - g * g),
                    "shuffle_loss_ratio": g ** 4 * (2 - g * g) ** 2}
            for q, law in laws.items():
                mean = law + shuffle_offset[zh] if q == "shuffle_loss_ratio" else law * (1 + dev[zh])
                for k, v in (("zhat", zh), ("g", g), ("quantity", q), ("mean", mean), ("std", 0.01), ("n", 5),
                             ("theory", law)):
                    cols[k].append(v)
    path.mkdir(parents=True)
    write_csv(path / "normalised.csv", cols)
    return path


@pytest.mark.parametrize("dev, verdict", [({0.5: 0.02, 1.0: 0.05, 2.0: 0.2}, HOLDS),
                                          ({0.5: -0.03, 1.0: 0.03, 2.0: -0.03}, PARTLY),   # close, not growing
                                          ({0.5: 0.3, 1.0: 0.4, 2.0: 0.5}, PARTLY),       # growing, not close
                                          ({0.5: 0.3, 1.0: 0.2, 2.0: 0.1}, FAILS)])
def test_fig4_laws_verdict_follows_construction(tmp_path, dev, verdict):
    j = judge(CLAIM["fig4-first-order-laws"], [_fig4_folder(tmp_path / "f", dev, {0.5: 0, 1.0: 0, 2.0: 0})])
    assert j.verdict == verdict, j.value
    assert f"{abs(dev[0.5]):.3f} (ẑ = 0.5)" in j.value


@pytest.mark.parametrize("offset, verdict", [({0.5: 0.01, 1.0: 0.05, 2.0: 0.2}, HOLDS),
                                             ({0.5: 0.1, 1.0: 0.1, 2.0: 0.2}, PARTLY),
                                             ({0.5: 0.1, 1.0: 0.0, 2.0: -0.1}, FAILS)])
def test_fig4_shuffle_verdict_follows_construction(tmp_path, offset, verdict):
    j = judge(CLAIM["fig4-shuffle"], [_fig4_folder(tmp_path / "f", {0.5: 0, 1.0: 0, 2.0: 0}, offset)])
    assert j.verdict == verdict, j.value


def test_fig3_fig4_claims_say_no_data_without_their_csvs(tmp_path):
    (tmp_path / "empty").mkdir()
    for key in ("fig3-collapse", "fig4-first-order-laws", "fig4-shuffle"):
        assert judge(CLAIM[key], [tmp_path / "empty"]).verdict == NO_DATA


def test_report_table_rows_keep_their_five_cells(tmp_path):
    """Claim values with |x| (absolute values) are escaped: every row of the claims table
    has five cells, so the verdict stays in the verdict column."""
    import re

    _fig4_folder(tmp_path / "res" / "schuessler-fig4-a", {0.5: 0.02, 1.0: 0.05, 2.0: 0.2},
                 {0.5: 0.01, 1.0: 0.05, 2.0: 0.2})
    assert main(["report", str(tmp_path / "res")]) == 0
    rows = [ln for ln in (tmp_path / "res" / "reproductions.md").read_text().splitlines() if ln.startswith("| `")]
    assert any("fig4-first-order-laws" in r and "\\|" in r for r in rows)
    for r in rows:
        cells = re.split(r"(?<!\\)\|", r)[1:-1]
        assert len(cells) == 5, r


def test_cli_writes_report_and_protects_foreign_files(tmp_path, capsys):
    res = tmp_path / "results"
    _fig2_folder(res / "schuessler-fig2", (2, 4, 6))
    for s in range(2):
        _digits_folder(res / f"zhu-digits-seed{s}", {"dW1": 0.8, "dW3": 0.95 + 0.001 * s, "dW4": 0.9})
    assert main(["report", str(res)]) == 0
    text = (res / "reproductions.md").read_text()
    assert "`fig2-functional-rank-order`" in text and "**holds**" in text and "**no data**" in text
    assert "zhu-digits-seed1" in text
    assert main(["report", str(res)]) == 0  # its own file is replaced
    foreign = tmp_path / "notes.md"
    foreign.write_text("my notes\n")
    assert main(["report", str(res), "--out", str(foreign)]) == 2
    assert foreign.read_text() == "my notes\n"
    assert main(["report", str(tmp_path / "missing")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    assert "no reproduction folders" in capsys.readouterr().err


def _fake_target(monkeypatch, fig):
    import sys
    import types

    from rnn_theory.numerics.cli.commands import reproduce

    mod = types.ModuleType("_fake_fig")
    mod.fig = fig
    monkeypatch.setitem(sys.modules, "_fake_fig", mod)
    monkeypatch.setitem(reproduce.TARGETS, "schuessler-fig2", ("_fake_fig", "fig", "test"))


def test_reproduce_records_name_and_wall_time_for_report(tmp_path, monkeypatch):
    import json

    def fig(out, *, quick, seed, workers, show_progress):
        _fig2_folder(out / "inner", (2, 4, 6))
        (out / "summary.csv").write_text((out / "inner" / "summary.csv").read_text())
        return [out / "summary.csv"]

    _fake_target(monkeypatch, fig)
    out = tmp_path / "res" / "my-run"  # a name that matches no reproduction
    assert main(["reproduce", "schuessler-fig2", "--out", str(out), "--seed", "3", "--no-progress"]) == 0
    record = json.loads((out / "provenance.json").read_text())
    meta = record["settings"]
    assert meta["name"] == "schuessler-fig2" and meta["seed"] == 3 and meta["quick"] is False
    assert meta["wall_seconds"] >= 0 and record["provenance"]["package"] == "rnn-theory"
    assert main(["report", str(tmp_path / "res")]) == 0
    text = (tmp_path / "res" / "reproductions.md").read_text()
    assert "| schuessler-fig2 | `my-run` | False | 3 |" in text


def test_wall_time_adds_up_over_invocations_into_one_folder(tmp_path, monkeypatch):
    """A rerun that reuses finished runs records its own seconds, and the folder's total keeps
    the earlier invocation's time (report shows the total)."""
    import json
    import time

    calls = []

    def fig(out, *, quick, seed, workers, show_progress):
        if not calls:                # the first invocation computes
            time.sleep(0.6)
            _fig2_folder(out / "inner", (2, 4, 6))
            (out / "summary.csv").write_text((out / "inner" / "summary.csv").read_text())
        calls.append(1)              # the rerun finds everything done
        return [out / "summary.csv"]

    _fake_target(monkeypatch, fig)
    out = tmp_path / "res" / "schuessler-fig2-x"
    for _ in range(2):
        assert main(["reproduce", "schuessler-fig2", "--out", str(out), "--no-progress"]) == 0
    meta = json.loads((out / "provenance.json").read_text())["settings"]
    assert meta["wall_seconds"] < 0.5 <= meta["total_wall_seconds"]
    assert main(["report", str(tmp_path / "res")]) == 0
    row = next(line for line in (tmp_path / "res" / "reproductions.md").read_text().splitlines()
               if "`schuessler-fig2-x`" in line)
    assert row.endswith(f"| {meta['total_wall_seconds'] / 60:.1f} min |")


@pytest.mark.parametrize("stop", ["interrupted", "terminated", "failed: OSError"])
def test_time_of_a_stopped_invocation_counts_towards_the_total(tmp_path, monkeypatch, stop):
    """A full-size reproduction stopped (Ctrl-C, SIGTERM at a batch time limit, an error) and
    resumed: the stopped invocation's seconds are logged and counted in the final total."""
    import json
    import time

    from rnn_theory.numerics.cli import Terminated

    calls = []

    def fig(out, *, quick, seed, workers, show_progress):
        calls.append(1)
        if len(calls) == 1:          # computes for a while, then is stopped
            time.sleep(0.6)
            raise {"interrupted": KeyboardInterrupt(), "terminated": Terminated(),
                   "failed: OSError": OSError(28, "No space left on device")}[stop]
        (out / "summary.csv").write_text("task\nflipflop\n")
        return [out / "summary.csv"]

    _fake_target(monkeypatch, fig)
    out = tmp_path / "res"
    first = main(["reproduce", "schuessler-fig2", "--out", str(out), "--no-progress"])
    assert first == {"interrupted": 130, "terminated": 143, "failed: OSError": 2}[stop]
    assert main(["reproduce", "schuessler-fig2", "--out", str(out), "--no-progress"]) == 0
    log = json.loads((out / "reproduce-invocations.json").read_text())
    assert [e["outcome"] for e in log] == [stop, "finished"]
    meta = json.loads((out / "provenance.json").read_text())["settings"]
    assert meta["invocations"] == 2 and meta["wall_seconds"] < 0.5 <= meta["total_wall_seconds"]
    assert meta["total_wall_seconds"] == pytest.approx(sum(e["wall_seconds"] for e in log))


def test_a_dead_worker_process_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    """The OOM killer ends a worker: the pool breaks; the command says so in one line."""
    import json
    from concurrent.futures.process import BrokenProcessPool

    def fig(out, *, quick, seed, workers, show_progress):
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    _fake_target(monkeypatch, fig)
    assert main(["reproduce", "schuessler-fig2", "--out", str(tmp_path / "r"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "worker process died" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    log = json.loads((tmp_path / "r" / "reproduce-invocations.json").read_text())
    assert [e["outcome"] for e in log] == ["failed: BrokenProcessPool"]


def test_invocation_log_starts_from_an_older_folders_total_and_never_rewrites_a_broken_log(
        tmp_path, monkeypatch, capsys):
    import json

    from rnn_theory.numerics.infra.outputs import prepare_output_dir

    def fig(out, *, quick, seed, workers, show_progress):
        return []

    _fake_target(monkeypatch, fig)
    old = prepare_output_dir(tmp_path / "old")   # finished before the log existed: 100 s on record
    (old / "provenance.json").write_text(json.dumps({"provenance": {"package": "rnn-theory"},
                                                     "settings": {"total_wall_seconds": 100.0}}))
    assert main(["reproduce", "schuessler-fig2", "--out", str(old), "--no-progress"]) == 0
    meta = json.loads((old / "provenance.json").read_text())["settings"]
    assert 100.0 <= meta["total_wall_seconds"] < 101 and meta["invocations"] == 2
    broken = prepare_output_dir(tmp_path / "broken")
    (broken / "reproduce-invocations.json").write_text("[{half a log")
    assert main(["reproduce", "schuessler-fig2", "--out", str(broken), "--no-progress"]) == 0
    assert (broken / "reproduce-invocations.json").read_text() == "[{half a log"   # left as it was
    assert "unreadable" in capsys.readouterr().err
    assert json.loads((broken / "provenance.json").read_text())["settings"]["invocations"] == 1


def test_one_seed_is_at_most_partly(tmp_path):
    """One folder (one seed) has no spread over seeds: an ordering it shows is PARTLY, never
    HOLDS; three seeds with the same order and spread separate (HOLDS)."""
    c = CLAIM["digits-ranking"]
    one = [_digits_folder(tmp_path / "one", {"dW1": 0.64, "dW3": 0.84, "dW4": 0.66})]
    assert judge(c, one).verdict == PARTLY
    three = [_digits_folder(tmp_path / f"t{s}", {"dW1": 0.64 + 0.01 * s, "dW3": 0.84 + 0.01 * s,
                                                 "dW4": 0.74 - 0.01 * s}) for s in range(3)]
    assert judge(c, three).verdict == HOLDS


def _nscaling_folder(path, dw):
    """nscaling.csv with ‖ΔW‖ = dw[g](N) · (1 ± 1 %) over three seeds."""
    cols = {k: [] for k in ("task", "n", "g", "seed", "converged_step", "dw_norm", "w0_norm", "functional_rank",
                            "diverged")}
    for g, f in dw.items():
        for n in (64, 128, 256):
            for sd, eps in enumerate((-0.01, 0.0, 0.01)):
                for k, v in (("task", "flipflop"), ("n", n), ("g", g), ("seed", sd), ("converged_step", 50),
                             ("dw_norm", f(n) * (1 + eps)), ("w0_norm", g * np.sqrt(n)), ("functional_rank", 3),
                             ("diverged", 0)):
                    cols[k].append(v)
    path.mkdir(parents=True)
    write_csv(path / "nscaling.csv", cols)
    return path


@pytest.mark.parametrize("dw, verdict", [
    ({0.0: lambda n: 2.0, 0.9: lambda n: 1.3}, HOLDS),
    ({0.0: lambda n: 2.0, 0.9: lambda n: 1.3 * np.sqrt(n / 64)}, PARTLY),    # grows 2x at g = 0.9
    ({0.0: lambda n: 2.0 * 64 / n, 0.9: lambda n: 1.3 * np.sqrt(n / 64)}, FAILS),
])
def test_nscaling_verdict_follows_construction_and_shows_the_spread(tmp_path, dw, verdict):
    j = judge(CLAIM["nscaling-dw-flat"], [_nscaling_folder(tmp_path / "ns", dw)])
    assert j.verdict == verdict, j.value
    assert "at N = 64" in j.value and "at N = 256" in j.value and "(n=3)" in j.value
