"""Resumable, interruptible sweeps over any :class:`concurrent.futures.Executor`.

A sweep is a list of configurations (dicts, JSON-serialisable) and a module-level
function ``fn(config) -> (arrays, history, summary)``.  Each configuration runs in the
folder ``out_dir / config["name"]`` (``out_dir`` is created if needed; it may hold other
things, which are never touched).  Before any work starts every
target is checked (:func:`rnn_theory.numerics.infra.io.prepare_run`): a run folder holding
the *same* configuration is reused, one holding a different configuration stops the
sweep with the difference (unless ``overwrite``), anything that is not a run folder of
the package is refused.

Every executor saves each run **as soon as it finishes** (the parent process writes it,
atomically), so killing a sweep at any moment and rerunning it loses nothing finished
and recomputes nothing finished.  Ctrl-C (``KeyboardInterrupt``; the CLI raises a subclass
of it on SIGTERM) stops promptly: runs in flight are cancelled (local worker processes are
terminated), finished runs stay saved.  One sweep at a time writes into ``out_dir``: it
holds the folder's writer lock (:func:`rnn_theory.numerics.infra.outputs.writer_lock`), and
a second sweep started into the same folder meanwhile stops before any work with
:class:`~rnn_theory.numerics.infra.outputs.FolderBusyError` naming the first one's process.
Local worker processes ignore SIGINT (the parent decides), use one BLAS thread each
(threadpoolctl when installed, else the ``*_NUM_THREADS`` variables) and exit by
themselves when their parent process dies (a watchdog thread polls the parent PID every
0.5 s), so ``kill -9`` of the parent leaves no orphans.

While runs are in flight the sweep's progress line counts each as the fraction of its
training steps already taken (:mod:`rnn_theory.numerics.infra.progress`, "progress within a
run"), so the line and its ETA move from the first steps of the first run, also for a
sweep of a single run.

The default executor is a local :class:`~concurrent.futures.ProcessPoolExecutor` with one
worker per available core; any other executor works, e.g.
``dask.distributed.Client(...).get_executor()`` to run the same sweep on a cluster, or
``executor="serial"`` to run in-process.
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Mapping

from rnn_theory.theory.errors import DomainError, RNNTheoryError

from rnn_theory.numerics.infra.io import load_run, prepare_run, save_run
from rnn_theory.numerics.infra.outputs import (OutputExistsError, check_writable, clean_stale_temporaries,
                                              writer_lock)
from rnn_theory.numerics.infra.progress import FileReporter, Progress, read_fraction, reporting_to

__all__ = ["run_sweep", "SerialExecutor", "default_workers", "worker_init"]

BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class SerialExecutor(Executor):
    """An executor that runs each task immediately in the calling process."""

    def submit(self, fn, /, *args, **kwargs):
        fut = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut


def default_workers() -> int:
    """Cores available to this process (``os.sched_getaffinity`` where it exists)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS/Windows
        return max(1, os.cpu_count() or 1)


def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(interval)


def worker_init(parent_pid: int, blas_threads: int = 1) -> None:
    """Initializer of local worker processes: ignore SIGINT, one BLAS thread, die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in BLAS_VARS:
        os.environ[var] = str(blas_threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=blas_threads)
    except ImportError:  # pragma: no cover - the env variables act on libraries loaded later
        pass
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watchdog").start()


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    for p in list(getattr(pool, "_processes", {}).values()):
        try:
            p.terminate()
        except Exception:  # noqa: BLE001 - already gone
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def _plan(configs, out_dir: Path, overwrite: bool) -> list:
    """Check every target before any work; return ``[(config, action)]`` of runs to compute."""
    names = [c.get("name") for c in configs]
    for n in names:
        if not isinstance(n, str) or not n or n in (".", "..") or "/" in n or os.sep in n or n.startswith("."):
            raise RNNTheoryError(f"every sweep configuration needs a 'name' usable as a folder name, got {n!r}")
    if len(set(names)) != len(names):
        raise RNNTheoryError("sweep configuration names must be unique")
    plan, problems = [], []
    for c in configs:
        try:
            action = prepare_run(out_dir / c["name"], c, overwrite=overwrite)
        except RNNTheoryError as exc:
            problems.append(str(exc))
            continue
        if action != "reuse":
            plan.append((c, action))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RNNTheoryError(problems[0] + more)
    return plan


def run_sweep(fn: Callable[[dict], tuple], configs: Iterable[Mapping], out_dir, *,
              executor: Executor | str | None = None, max_workers: int | None = None,
              show_progress: bool = True, overwrite: bool = False,
              cost: Callable[[dict], float] | None = None) -> dict:
    """Run ``fn`` on every configuration not already finished; return ``{name: RunRecord}``.

    Parameters
    ----------
    fn : callable
        Module-level (picklable) function ``config -> (arrays, history, summary)``;
        ``summary`` is stored in ``config.json`` beside the configuration.
    configs : iterable of dict
        Each needs a unique ``"name"`` (the run folder's name).
    out_dir : path
        Parent folder of the run folders (created if needed).
    executor : Executor, "serial" or None
        None creates (and shuts down) a local process pool with ``max_workers``
        (default: :func:`default_workers`); ``max_workers == 1`` runs serially.
    overwrite : bool
        Recompute and replace run folders whose stored configuration differs.
    cost : callable, optional
        ``config -> float``, a run's expected cost in any unit (e.g. its flop count): the
        progress line's percentage and ETA then weight each run by it, so that a sweep
        whose cheap runs come first does not promise too early an end.  Default: all runs
        cost the same.

    Cost: the runs themselves plus one ``config.json`` read per existing run.
    """
    if max_workers is not None and (not isinstance(max_workers, int) or max_workers < 1):
        raise DomainError(f"max_workers (--workers) must be an integer >= 1, got {max_workers!r}")
    configs = [dict(c) for c in configs]
    out_dir = Path(out_dir)
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise OutputExistsError(f"runs folder {out_dir} exists and is not a folder; nothing was written")
    check_writable(out_dir, "runs folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    with writer_lock(out_dir, "runs folder"):  # a second sweep into out_dir stops here
        clean_stale_temporaries(out_dir)
        plan = _plan(configs, out_dir, overwrite)
        weights = _weights(plan, cost)
        if executor == "serial" or isinstance(executor, SerialExecutor) or (
                executor is None and (max_workers == 1 or len(plan) <= 1)):
            _run_serial(fn, plan, out_dir, show_progress, weights)
        else:
            _run_parallel(fn, plan, out_dir, executor, max_workers, show_progress, weights)
        return {c["name"]: load_run(out_dir / c["name"]) for c in configs}


def _weights(plan, cost) -> dict | None:
    """``{name: share of the sweep's expected cost}`` (summing to 1), or None for equal runs."""
    if cost is None or not plan:
        return None
    w = {c["name"]: float(cost(c)) for c, _ in plan}
    if not all(math.isfinite(v) and v > 0 for v in w.values()):
        raise DomainError("every run's cost(config) must be a finite number > 0")
    total = sum(w.values())
    return {k: v / total for k, v in w.items()}


def _work_fraction(weights, finished: list, in_flight) -> Callable[[], float] | None:
    """Share of the expected cost done: finished runs plus the step fraction of those in flight."""
    if weights is None:
        return None
    return lambda: sum(weights[n] for n in finished) + sum(weights[n] * f for n, f in in_flight().items())


def _save(out_dir: Path, c: dict, action: str, result) -> None:
    arrays, history, summary = result
    save_run(out_dir / c["name"], c, arrays, history, summary, overwrite=action == "replace")


def _run_serial(fn, plan, out_dir, show_progress, weights=None) -> None:
    in_flight: dict = {}   # name -> fraction of its steps done (one entry at most)
    finished: list = []
    with Progress(len(plan), "sweep", unit="runs", enabled=show_progress and bool(plan),
                  partial=lambda: sum(in_flight.values()),
                  fraction=_work_fraction(weights, finished, lambda: dict(in_flight))) as bar:
        for c, action in plan:
            name = c["name"]

            def report(done, total, name=name):
                in_flight[name] = done / total

            with reporting_to(report if bar.enabled else None):
                result = fn(c)
            _save(out_dir, c, action, result)
            finished.append(name)         # counted as finished before it leaves ``in_flight``
            in_flight.pop(name, None)
            bar.update()


def _reporting_call(fn, config, path):
    """Run ``fn(config)`` in a worker with its step count reported to the file ``path``."""
    with reporting_to(FileReporter(path) if path else None):
        return fn(config)


def _run_parallel(fn, plan, out_dir, executor, max_workers, show_progress, weights=None) -> None:
    own = executor is None
    if own:
        executor = ProcessPoolExecutor(max_workers=min(max_workers or default_workers(), len(plan)),
                                       initializer=worker_init, initargs=(os.getpid(),))
    futures: dict = {}
    errors = []
    pending: dict = {}   # name -> report file of a run not finished yet
    finished: list = []
    bar = Progress(len(plan), "sweep", unit="runs", enabled=show_progress and bool(plan),
                   partial=lambda: sum(read_fraction(p) for p in list(pending.values()) if p),
                   fraction=_work_fraction(weights, finished,
                                           lambda: {n: read_fraction(p) for n, p in list(pending.items()) if p}))
    # each worker reports its run's step count to a file here (read by the heartbeat)
    report_dir = tempfile.mkdtemp(prefix="rnn-theory-progress-") if bar.enabled else None
    try:
        for i, (c, action) in enumerate(plan):
            path = os.path.join(report_dir, f"{i}.progress") if report_dir else None
            futures[executor.submit(_reporting_call, fn, c, path)] = (c, action)
            pending[c["name"]] = path
        with bar:
            for fut in as_completed(futures):
                c, action = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - other runs are still saved, then re-raised
                    errors.append((c["name"], exc))
                else:
                    _save(out_dir, c, action, result)
                finished.append(c["name"])   # counted as finished before it leaves ``pending``
                pending.pop(c["name"], None)
                bar.update()
    except BaseException:
        for fut in futures:
            fut.cancel()
        if own:
            _kill_pool(executor)
            own = False
        raise
    finally:
        if own:
            executor.shutdown(wait=True)
        if report_dir:
            shutil.rmtree(report_dir, ignore_errors=True)
    if errors:
        name, exc = errors[0]
        if isinstance(exc, RNNTheoryError):
            raise type(exc)(f"run {name}: {exc}") from exc
        raise exc
