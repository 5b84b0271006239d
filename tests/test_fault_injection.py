"""Fault injection: the user's files survive, runs are reused only when identical, kills and
Ctrl-C lose nothing finished, diverging runs are never results, bad input is one line.

Every scenario of issue 10 ("Trustworthy runs and results") is exercised through the CLI
(:func:`rnn_theory.numerics.cli.main`, in-process, or ``python -m`` in a subprocess for
signals) and through the Python API.  Runs are tiny (toy sweep functions that sleep, or
N = 8 networks) so the whole file stays in the fast suite.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnn_theory.numerics.cli import main
from rnn_theory.numerics.infra import io, outputs, sweep
from rnn_theory.theory.errors import TrainingDivergedError

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _snapshot(folder: Path) -> dict:
    """Path -> (mode, sha256 or link target) of everything under ``folder``."""
    snap = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        if p.is_symlink():
            snap[str(p)] = ("link", os.readlink(p))
        elif p.is_file():
            snap[str(p)] = (st.st_mode, hashlib.sha256(p.read_bytes()).hexdigest())
        else:
            snap[str(p)] = (st.st_mode, "dir")
    return snap


def _cli(argv, capsys):
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def user_files(tmp_path):
    """A user's folder, file, symlink and a FIFO, all to be left untouched."""
    (tmp_path / "mythesis").mkdir()
    (tmp_path / "mythesis" / "chapter1.tex").write_text("my work\n")
    (tmp_path / "notes.txt").write_text("my notes\n")
    (tmp_path / "link").symlink_to(tmp_path / "notes.txt")
    os.mkfifo(tmp_path / "fifo")
    return tmp_path


TRAIN = ["train", "--task", "flipflop", "--n", "8", "--steps", "3", "--n-eval", "8", "--no-progress"]
SWEEP = ["sweep", "--g", "0.5", "--seeds", "0", "--n", "8", "--steps", "3", "--n-eval", "8", "--snapshots", "0",
         "--workers", "1", "--no-progress"]


@pytest.mark.parametrize("target", ["mythesis", "notes.txt", "link", "fifo"])
@pytest.mark.parametrize("command", ["train", "sweep", "curves", "reproduce", "check-json"])
def test_user_paths_are_refused_before_any_work(user_files, capsys, target, command):
    before = _snapshot(user_files)
    out = user_files / target
    argv = {"train": TRAIN + ["--out", out], "sweep": SWEEP + ["--out", out],
            "curves": ["curves", "--samples", "0", "--out", out],
            "reproduce": ["reproduce", "zhu-linear", "--quick", "--out", out],
            "check-json": ["check", "--only", "gradient", "--json", out]}[command]
    if command == "check-json" and target == "mythesis":
        argv[-1] = out / "chapter1.tex"
    t0 = time.perf_counter()
    code, _, err = _cli(argv, capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "nothing was written" in err and "Traceback" not in err
    assert time.perf_counter() - t0 < 30  # refused up front, not after the work
    assert _snapshot(user_files) == before


def test_dev_null_is_never_replaced(capsys):
    st = os.stat("/dev/null")
    code, _, err = _cli(TRAIN + ["--out", "/dev/null"], capsys)
    assert code == 2 and "special file" in err
    assert os.stat("/dev/null").st_rdev == st.st_rdev and Path("/dev/null").is_char_device()


def test_save_run_never_replaces_a_user_folder_or_a_run_without_overwrite(user_files):
    before = _snapshot(user_files)
    for name in ("mythesis", "notes.txt", "link", "fifo"):
        with pytest.raises(outputs.OutputExistsError):
            io.save_run(user_files / name, {"a": 1}, overwrite=True)
    assert _snapshot(user_files) == before
    run = io.save_run(user_files / "run", {"a": 1})
    with pytest.raises(outputs.RunMismatchError):
        io.save_run(run, {"a": 2})
    io.save_run(run, {"a": 2}, overwrite=True)
    assert io.load_run(run).config["a"] == 2
    (run / "mine.txt").write_text("user file inside a run folder")  # no longer only ours
    with pytest.raises(outputs.OutputExistsError):
        io.save_run(run, {"a": 3}, overwrite=True)
    assert (run / "mine.txt").read_text() == "user file inside a run folder"


def test_csv_writers_replace_only_package_files(tmp_path):
    (tmp_path / "results.csv").write_text("user,data\n")
    with pytest.raises(outputs.OutputExistsError):
        io.write_csv(tmp_path / "results.csv", {"a": [1]})
    assert (tmp_path / "results.csv").read_text() == "user,data\n"
    out = outputs.prepare_output_dir(tmp_path / "out")
    io.write_csv(out / "x.csv", {"a": [1]})
    io.write_csv(out / "x.csv", {"a": [2]})  # ours: replaced
    assert io.read_csv(out / "x.csv") == {"a": [2]}


# ----------------------------------------------------------------------------- same run only
def test_train_reuses_only_the_same_run(tmp_path, capsys):
    out = tmp_path / "r10"
    code, _, _ = _cli(TRAIN + ["--out", out], capsys)
    assert code == 0
    stamp = (out / "config.json").stat().st_mtime_ns
    code, text, _ = _cli(TRAIN + ["--out", out], capsys)
    assert code == 0 and "not recomputed" in text and (out / "config.json").stat().st_mtime_ns == stamp
    for change in (["--g", "0.95"], ["--seed", "1"], ["--task", "mante"], ["--lr", "0.001"]):
        argv = TRAIN + ["--out", out] + change
        if change[0] == "--task":
            argv[argv.index("flipflop")] = "mante"
            argv = argv[:-2]
        code, _, err = _cli(argv, capsys)
        assert code == 2 and "holds a different run" in err and "--overwrite" in err, change
    assert (out / "config.json").stat().st_mtime_ns == stamp
    code, _, _ = _cli(TRAIN + ["--out", out, "--g", "0.95", "--overwrite"], capsys)
    assert code == 0 and io.load_run(out).config["g"] == 0.95


def test_curves_into_the_same_out_never_relabels(tmp_path, capsys):
    base = ["curves", "--n", "8", "--samples", "1", "--steps", "5", "--workers", "1", "--no-progress",
            "--zhat", "0.5", "--out", tmp_path / "c"]
    assert _cli(base + ["--g", "0.5"], capsys)[0] == 0
    code, _, err = _cli(base + ["--g", "0.45"], capsys)
    # the names carry g at full precision: a new run, never the 0.5 run relabelled
    assert code == 0, err
    rows = io.read_csv(tmp_path / "c" / "loss.csv")
    assert set(rows["g"]) == {0.45}
    names = sorted(p.name for p in (tmp_path / "c" / "runs").iterdir() if not p.name.startswith("."))
    assert len(names) == 2 and any("g0.45" in n for n in names) and any("g0.5" in n for n in names)


def test_provenance_does_not_take_part_in_the_comparison(tmp_path):
    cfg = {"name": "a", "seed": 0}
    io.save_run(tmp_path / "a", cfg, summary={"x": 1.0})
    raw = json.loads((tmp_path / "a" / "config.json").read_text())
    raw["provenance"]["version"] = "0.0.0-other"
    (tmp_path / "a" / "config.json").write_text(json.dumps(raw))
    assert io.prepare_run(tmp_path / "a", cfg) == "reuse"
    with pytest.raises(outputs.RunMismatchError, match="seed"):
        io.prepare_run(tmp_path / "a", {"name": "a", "seed": 1})


# ----------------------------------------------------------------------------- kill and resume
def _toy(config):
    """Sleeps ``config['sleep']`` s, records its PID and returns a seeded vector."""
    marks = Path(config["marks"])
    marks.mkdir(exist_ok=True)
    (marks / f"{config['name']}-{os.getpid()}-{time.time_ns()}").write_text("")
    if config.get("interrupt"):
        raise KeyboardInterrupt
    time.sleep(config.get("sleep", 0))
    x = np.random.default_rng(config["seed"]).normal(size=3)
    return {"x": x}, {"step": [0]}, {"norm": float(np.linalg.norm(x))}


def _calls(marks: Path, name: str) -> int:
    return sum(1 for p in marks.iterdir() if p.name.startswith(name + "-"))


def test_serial_sweep_saves_each_run_as_it_finishes(tmp_path):
    marks = tmp_path / "marks"
    configs = [{"name": f"s{k}", "seed": k, "marks": str(marks)} for k in range(4)]
    broken = [dict(c, interrupt=True) if c["name"] == "s2" else c for c in configs]  # Ctrl-C during s2
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(_toy, broken, tmp_path / "runs", executor="serial", show_progress=False)
    assert io.run_complete(tmp_path / "runs" / "s0") and io.run_complete(tmp_path / "runs" / "s1")
    assert not (tmp_path / "runs" / "s2").exists()
    sweep.run_sweep(_toy, configs, tmp_path / "runs", executor="serial", show_progress=False)  # resumes
    assert [_calls(marks, f"s{k}") for k in range(4)] == [1, 1, 2, 1]


SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {here!r})
    from test_fault_injection import _toy
    from rnn_theory.numerics.infra.sweep import run_sweep
    marks = {marks!r}
    configs = [{{"name": f"s{{k}}", "seed": k, "marks": marks, "sleep": 0.2 if k == 0 else 60}} for k in range(4)]
    run_sweep(_toy, configs, {out!r}, executor={executor!r}, max_workers=2, show_progress=False)
""")


def _start(tmp_path, executor):
    marks, out = tmp_path / "marks", tmp_path / "runs"
    script = tmp_path / "sweep_script.py"
    script.write_text(SCRIPT.format(here=str(Path(__file__).parent), marks=str(marks), out=str(out),
                                    executor=executor))
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not io.run_complete(out / "s0"):
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "the first run was not saved"
        time.sleep(0.1)
    while executor is None and len(list(marks.iterdir())) < 2:  # the second worker is busy
        time.sleep(0.1)
    return proc, marks, out


def _worker_pids(marks: Path, parent: int) -> set:
    return {int(p.name.split("-")[1]) for p in marks.iterdir()} - {parent}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@pytest.mark.parametrize("executor", [None, "serial"])
def test_kill_9_of_the_parent_loses_nothing_and_leaves_no_workers(tmp_path, executor):
    proc, marks, out = _start(tmp_path, executor)
    workers = _worker_pids(marks, proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.time() + 10
    while any(_alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), "worker processes outlived their parent"
    assert io.run_complete(out / "s0")
    # rerun: s0 is not recomputed
    fast = [{"name": f"s{k}", "seed": k, "marks": str(marks)} for k in range(4)]
    fast[0]["sleep"] = 0.2
    runs = sweep.run_sweep(_toy, fast, out, executor="serial", show_progress=False)
    assert _calls(marks, "s0") == 1 and len(runs) == 4


def test_ctrl_c_stops_promptly_and_keeps_finished_runs(tmp_path):
    proc, marks, out = _start(tmp_path, None)
    workers = _worker_pids(marks, proc.pid)
    t0 = time.perf_counter()
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=20)
    assert time.perf_counter() - t0 < 15  # not the 60 s the runs in flight would take
    deadline = time.time() + 10
    while any(_alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)
    assert io.run_complete(out / "s0") and not io.run_complete(out / "s1")


@pytest.mark.parametrize("sig, status, said", [(signal.SIGINT, 130, "interrupted"),
                                               (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_cli_ctrl_c_and_sigterm_stop_a_sweep_with_their_status(tmp_path, sig, status, said):
    """Ctrl-C, or a batch system's time limit (SIGTERM): the sweep stops at once, without a
    traceback, its worker processes end, and the exit status says which."""
    out = tmp_path / "sw"
    proc = subprocess.Popen([sys.executable, "-m", "rnn_theory.numerics", "sweep", "--n", "32", "--g", "0,0.5",
                             "--seeds", "0", "--steps", "100000", "--no-progress", "--workers", "2",
                             "--out", str(out)], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "runs").exists() and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    children = _children(proc.pid)
    assert children  # the worker processes
    t0 = time.perf_counter()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.perf_counter() - t0 < 15
    assert proc.returncode == status, err
    assert "Traceback" not in err and said in err
    deadline = time.time() + 10
    while any(_alive(p) for p in children) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in children)


def _children(pid: int) -> set:
    """PIDs whose parent is ``pid`` (from /proc)."""
    kids = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.add(int(stat_file.parent.name))
    return kids


def test_a_second_writer_into_the_same_folder_stops_before_any_work(tmp_path, capsys, monkeypatch):
    """Two commands into one folder would run the same runs twice side by side: the second
    stops at once, in one line naming the first one's process, and writes nothing."""
    marks = tmp_path / "marks"
    configs = [{"name": f"s{k}", "seed": k, "marks": str(marks)} for k in range(2)]
    runs = tmp_path / "runs"
    runs.mkdir()
    with outputs.writer_lock(runs, "runs folder"):
        assert f"pid {os.getpid()}" in (runs / outputs.LOCK).read_text()
        with pytest.raises(outputs.FolderBusyError, match=rf"runs folder .*runs is being written .*pid {os.getpid()}"):
            sweep.run_sweep(_toy, configs, runs, executor="serial", show_progress=False)
        assert not marks.exists() and sorted(p.name for p in runs.iterdir()) == [outputs.LOCK]
    assert not (runs / outputs.LOCK).exists()  # released and removed
    sweep.run_sweep(_toy, configs, runs, executor="serial", show_progress=False)
    assert [_calls(marks, f"s{k}") for k in range(2)] == [1, 1] and not (runs / outputs.LOCK).exists()

    def fig(out, *, quick, seed, workers, show_progress):  # a reproduction writing one CSV
        return [io.write_csv(out / "loss.csv", {"t": [0, 1], "loss": [1.0, 0.5]}, overwrite=True)]

    import types
    from rnn_theory.numerics.cli.commands import reproduce

    mod = types.ModuleType("_fake_fig3")
    mod.fig = fig
    monkeypatch.setitem(sys.modules, "_fake_fig3", mod)
    monkeypatch.setitem(reproduce.TARGETS, "schuessler-fig3", ("_fake_fig3", "fig", "test"))
    out = tmp_path / "repro"
    assert main(["reproduce", "schuessler-fig3", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    before = _snapshot(out)
    assert str(out / "loss.csv") in before
    with outputs.writer_lock(out):
        code, _, err = _cli(["reproduce", "schuessler-fig3", "--out", out, "--no-progress"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "being written by another" in err, err
    assert _snapshot(out) == before


def test_the_lock_of_a_killed_writer_is_taken_over(tmp_path):
    """kill -9 of the holder: the kernel releases the lock, the file stays behind, and the
    next writer takes it over (and removes it when done)."""
    folder = tmp_path / "out"
    folder.mkdir()
    code = ("import sys, time; from rnn_theory.numerics.infra.outputs import writer_lock\n"
            f"with writer_lock({str(folder)!r}):\n    print('locked', flush=True); time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    with pytest.raises(outputs.FolderBusyError, match=f"pid {proc.pid}"):
        with outputs.writer_lock(folder):
            pass
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (folder / outputs.LOCK).exists()          # left behind by kill -9
    with outputs.writer_lock(folder):
        assert f"pid {os.getpid()}" in (folder / outputs.LOCK).read_text()
    assert not (folder / outputs.LOCK).exists()
    assert not list(folder.iterdir())                  # no temporary left either


def test_the_lock_works_where_hard_links_do_not(tmp_path, monkeypatch):
    """Some network and FAT file systems have no hard links: the lock file is then created in place."""
    def no_link(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    with outputs.writer_lock(tmp_path):
        assert f"pid {os.getpid()}" in (tmp_path / outputs.LOCK).read_text()
        with pytest.raises(outputs.FolderBusyError):
            with outputs.writer_lock(tmp_path):
                pass
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("kind", ["file", "empty", "link", "fifo"])
def test_a_users_file_named_like_the_lock_is_never_touched(tmp_path, kind):
    folder = tmp_path / "out"
    folder.mkdir()
    (tmp_path / "notes.txt").write_text("my notes\n")
    lock = folder / outputs.LOCK
    if kind == "file":
        lock.write_text("my own lock list\n")
    elif kind == "empty":                              # a lock of ours is never empty
        lock.write_text("")
    elif kind == "link":
        lock.symlink_to(tmp_path / "notes.txt")
    else:
        os.mkfifo(lock)
    before = _snapshot(tmp_path)
    with pytest.raises(outputs.OutputExistsError, match="not rnn-theory's lock file"):
        with outputs.writer_lock(folder):
            pass
    assert _snapshot(tmp_path) == before


def test_stale_temporaries_are_cleaned_and_only_ours(tmp_path):
    # a writer killed mid-write (a dead PID on this host) left a temporary run folder
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os
        from pathlib import Path
        from rnn_theory.numerics.infra.outputs import make_temp_dir
        d = make_temp_dir(Path({str(tmp_path)!r}), "run")
        (d / "config.json").write_text("{{}}")
        os._exit(9)""")])
    assert child.returncode == 9
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-rnn-theory")]
    assert len(left) == 1
    (tmp_path / ".tmp-users-own").mkdir()  # a user's folder with a similar name
    (tmp_path / ".tmp-rnn-theory-lookalike.txt").write_text("user")
    io.save_run(tmp_path / "run", {"a": 1})
    assert not left[0].exists()
    assert (tmp_path / ".tmp-users-own").is_dir() and (tmp_path / ".tmp-rnn-theory-lookalike.txt").exists()


# ----------------------------------------------------------------------------- divergence
@pytest.mark.parametrize("optimizer, lr", [("adam", 1e6), ("sgd", 1e4)])
def test_exploding_training_stops_with_the_last_good_state(optimizer, lr):
    from rnn_theory.numerics.rate.model import RateRNN
    from rnn_theory.numerics.rate.tasks import flipflop
    from rnn_theory.numerics.rate.train import train

    rng = np.random.default_rng(0)
    net = RateRNN.init(16, 2, 2, g=0.9, rng=rng)
    with pytest.raises(TrainingDivergedError) as info:
        train(net, flipflop, steps=50, batch_size=8, lr=lr, rng=rng, optimizer=optimizer)
    part = info.value.partial
    assert info.value.step < 50 and np.all(np.isfinite(part.net.W))
    assert len(part.loss) <= info.value.step and np.all(np.isfinite(part.loss))


def test_diverged_run_is_saved_marked_and_exits_3(tmp_path, capsys):
    out = tmp_path / "big"
    code, _, err = _cli(TRAIN + ["--lr", "1e6", "--out", out], capsys)
    assert code == 3 and "diverged" in err
    cfg = io.load_run(out).config
    assert cfg["diverged"] is True and "initial loss" in cfg["diverged_reason"]
    assert "functional_rank" not in cfg and np.all(np.isfinite(io.load_run(out).arrays["W"]))
    code, _, err = _cli(["analyze", out], capsys)
    assert code == 3 and "diverged" in err
    code, _, err = _cli(SWEEP[:-3] + ["--lr", "1e6", "--workers", "1", "--out", tmp_path / "sw"], capsys)
    assert code == 3
    rows = io.read_csv(tmp_path / "sw" / "summary.csv")
    assert rows["diverged"] == [1] and np.isnan(rows["dw_norm"][0]) and np.isnan(rows["functional_rank"][0])


def test_divergence_rule_is_explicit():
    from rnn_theory.numerics.infra.optim import DIVERGENCE_FACTOR, divergence_reason

    assert DIVERGENCE_FACTOR == 1e3
    assert divergence_reason(999.0, 1.0) is None and divergence_reason(1001.0, 1.0) is not None
    assert divergence_reason(float("inf"), 1.0) and divergence_reason(5.0, 0.0) is None


# ----------------------------------------------------------------------------- corrupt runs
@pytest.mark.parametrize("damage", ["truncated-npz", "invalid-json", "empty-json"])
def test_corrupt_run_folders_are_named(tmp_path, capsys, damage):
    out = tmp_path / "run"
    assert _cli(TRAIN + ["--out", out], capsys)[0] == 0
    if damage == "truncated-npz":
        data = (out / "arrays.npz").read_bytes()
        (out / "arrays.npz").write_bytes(data[: len(data) // 2])
    else:
        (out / "config.json").write_text("{" if damage == "invalid-json" else "{}")
    code, _, err = _cli(["analyze", out], capsys)
    assert code == 2 and str(out) in err and "corrupt" in err and "--overwrite" in err
    assert len(err.strip().splitlines()) == 1
    if damage != "truncated-npz":  # the same target for train: named, fixed by --overwrite
        code, _, err = _cli(TRAIN + ["--out", out], capsys)
        assert code == 2 and "corrupt" in err
        assert _cli(TRAIN + ["--out", out, "--overwrite"], capsys)[0] == 0


# ----------------------------------------------------------------------------- unwritable outputs
@pytest.mark.parametrize("command", ["train", "sweep", "check-json"])
def test_unwritable_outputs_are_refused_up_front(tmp_path, capsys, command):
    (tmp_path / "file.txt").write_text("x")
    targets = [tmp_path / "file.txt" / "out", Path("/proc/rnn-theory-out")]
    if not ROOT:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        targets.append(ro / "out")
    for target in targets:
        argv = {"train": TRAIN + ["--out", target], "sweep": SWEEP + ["--out", target],
                "check-json": ["check", "--only", "gradient", "--json", target]}[command]
        t0 = time.perf_counter()
        code, _, err = _cli(argv, capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert time.perf_counter() - t0 < 30


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        run = io.save_run(tmp_path / "run", {"a": 1})
        out = outputs.prepare_output_dir(tmp_path / "out")
        csv = io.write_csv(out / "x.csv", {"a": [1]})
        assert (run.stat().st_mode & 0o777) == 0o755 and (out.stat().st_mode & 0o777) == 0o755
        assert (run / "config.json").stat().st_mode & 0o777 == 0o644 and csv.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        csv2 = io.write_csv(out / "y.csv", {"a": [1]})
        assert csv2.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_worker_processes_use_one_blas_thread(tmp_path):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    del threadpoolctl
    runs = sweep.run_sweep(_blas_threads, [{"name": f"b{k}"} for k in range(2)], tmp_path, max_workers=2,
                           show_progress=False)
    for r in runs.values():
        assert r.config["blas_threads"] == 1 and r.config["omp"] == "1"


def _blas_threads(config):
    from threadpoolctl import threadpool_info

    info = threadpool_info()
    n = max((i["num_threads"] for i in info if i.get("user_api") == "blas"), default=1)
    return {}, {}, {"blas_threads": n, "omp": os.environ.get("OMP_NUM_THREADS")}


def test_broken_pipe_is_quiet():
    proc = subprocess.run(f"{sys.executable} -m rnn_theory.numerics derive --only R1 | head -1",
                          shell=True, capture_output=True, text=True, timeout=300)
    assert proc.stdout.count("\n") == 1 and proc.stderr == "", proc.stderr


# ----------------------------------------------------------------------------- bad input
_T = ["train", "--task", "flipflop", "--no-progress"]
_S = ["sweep", "--no-progress", "--workers", "1"]
_C = ["curves", "--no-progress"]
BAD_INPUTS = [
    (_T + ["--g", "-1"], "--g"), (_T + ["--g", "nan"], "--g"), (_T + ["--g", "inf"], "--g"),
    (_T + ["--n", "0"], "--n"), (_T + ["--n", "-3"], "--n"), (_T + ["--n", "abc"], "--n"),
    (_T + ["--seed", "-1"], "--seed"), (_T + ["--steps", "0"], "--steps"), (_T + ["--steps", "-5"], "--steps"),
    (_T + ["--batch-size", "0"], "--batch-size"), (_T + ["--lr", "0"], "--lr"), (_T + ["--lr", "-1"], "--lr"),
    (_T + ["--lr", "nan"], "--lr"), (_T + ["--lr", "inf"], "--lr"), (_T + ["--snapshots", "-1"], "--snapshots"),
    (_T + ["--n-eval", "0"], "--n-eval"), (_T + ["--trainable", "W,V"], "--trainable"),
    (["train", "--task", "nope", "--out", "x"], "--task"), (_T, "--out"),
    (_S + ["--seeds", "-1"], "--seeds"), (_S + ["--seeds", "0,,1"], "--seeds"), (_S + ["--n", "0"], "--n"),
    (_S + ["--g", "nan"], "--g"), (_S + ["--g", "-0.5"], "--g"), (_S + ["--g", "0.5,inf"], "--g"),
    (_S + ["--workers", "0"], "--workers"), (_S + ["--workers", "-2"], "--workers"),
    (_S + ["--n-eval", "0"], "--n-eval"), (_S + ["--tasks", "flipflop,nope"], "--tasks"),
    (_S + ["--batch-size", "0"], "--batch-size"), (_S + ["--lr", "-1"], "--lr"), (_S + ["--steps", "0"], "--steps"),
    (_S + ["--snapshots", "-2"], "--snapshots"),
    (["analyze", "/nonexistent/run"], "/nonexistent/run"), (["analyze", "RUN", "--n-eval", "0"], "--n-eval"),
    (["analyze", "RUN", "--max-rank", "-1"], "--max-rank"), (["analyze", "RUN", "--seed", "-1"], "--seed"),
    (_C + ["--g", "-1", "--out", "x"], "--g"), (_C + ["--g", "nan", "--out", "x"], "--g"),
    (_C + ["--zhat", "0", "--out", "x"], "--zhat"), (_C + ["--n", "1", "--out", "x"], "--n"),
    (_C + ["--samples", "-1", "--out", "x"], "--samples"), (_C + ["--steps", "0", "--out", "x"], "--steps"),
    (_C + ["--workers", "0", "--out", "x"], "--workers"), (_C + ["--seed", "-1", "--out", "x"], "--seed"),
    (["reproduce", "nope", "--out", "x"], "NAME"), (["reproduce", "zhu-linear", "--workers", "0", "--out", "x"],
                                                    "--workers"),
    (["reproduce", "zhu-linear", "--seed", "-1", "--out", "x"], "--seed"),
    (["check", "--workers", "0"], "--workers"), (["derive", "--only", "ZZZ"], "--only"),
    (["derive", "--standalone"], "--latex"), (["nope"], "COMMAND"), ([], "COMMAND"),
]


@pytest.mark.parametrize("argv, names", BAD_INPUTS, ids=[" ".join(a[1:]) or "empty" for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_naming_the_parameter(tmp_path, capsys, argv, names):
    argv = [str(tmp_path / "RUN") if a == "RUN" else a for a in argv]
    if "analyze" in argv and "RUN" not in names:
        io.save_run(tmp_path / "RUN", {"task": "flipflop"})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code, _, err = _cli(argv, capsys)
    finally:
        os.chdir(cwd)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert names in err, err
    assert not (tmp_path / "x").exists()  # nothing written


def test_unreachable_dask_scheduler_is_one_line(tmp_path, capsys):
    pytest.importorskip("dask.distributed", reason="the [dask] extra is not installed")
    code, _, err = _cli(SWEEP[:-3] + ["--dask", "tcp://127.0.0.1:9", "--out", tmp_path / "d"], capsys)
    assert code == 2 and "--dask" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.slow  # about 10 s idle, 30 s on a loaded 2-core machine (cluster start-up)
def test_sweep_on_a_dask_localcluster_equals_the_local_run(tmp_path, capsys):
    """The same ``sweep`` command on a real LocalCluster (2 worker processes) and on the
    local process pool: identical summaries and weights."""
    pytest.importorskip("dask.distributed", reason="the [dask] extra is not installed")
    base = ["sweep", "--g", "0.3,0.9", "--seeds", "0,1", "--n", "8", "--steps", "5", "--n-eval", "8",
            "--snapshots", "2", "--workers", "2", "--no-progress"]
    assert _cli(base + ["--out", tmp_path / "local"], capsys)[0] == 0
    assert _cli(base + ["--dask", "local", "--out", tmp_path / "dask"], capsys)[0] == 0
    assert (tmp_path / "local" / "summary.csv").read_text() == (tmp_path / "dask" / "summary.csv").read_text()
    names = sorted(p.name for p in (tmp_path / "local" / "runs").iterdir() if not p.name.startswith("."))
    assert len(names) == 4
    for n in names:
        a, b = io.load_run(tmp_path / "local" / "runs" / n), io.load_run(tmp_path / "dask" / "runs" / n)
        assert a.arrays.keys() == b.arrays.keys()
        for k in a.arrays:
            np.testing.assert_array_equal(a.arrays[k], b.arrays[k])


def test_exploding_lstm_stops_with_the_last_good_parameters():
    from rnn_theory.numerics.lstm.model import init_lstm, train_lstm
    from rnn_theory.numerics.lstm.sequences import Sequences

    rng = np.random.default_rng(0)
    params = init_lstm(3, 4, rng)
    tokens = rng.integers(0, 5, size=(8, 4))
    data = Sequences(tokens, [4, 3, 2, 4, 1, 4, 3, 2], [0, 1, 0, 1, 1, 0, 1, 0])
    emb = rng.normal(size=(5, 3))
    with pytest.raises(TrainingDivergedError) as info:
        train_lstm(params, emb, data, steps=30, batch_size=4, lr=1e6, rng=rng, dropout=0.0)
    part = info.value.partial
    assert "initial" in str(info.value) or "NaN" in str(info.value)
    assert all(np.all(np.isfinite(v)) for v in part.params.values())
    assert len(part.loss) <= info.value.step and np.all(np.isfinite(part.loss))
    ok = train_lstm(params, emb, data, steps=5, batch_size=4, lr=1e-3, rng=np.random.default_rng(1))
    assert np.all(np.isfinite(ok.loss))  # a sane rate is not flagged
