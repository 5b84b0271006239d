"""Resumable sweeps over any :class:`concurrent.futures.Executor`.

A sweep is a list of configurations (dicts, JSON-serialisable) and a module-level
function ``fn(config) -> (arrays, history, summary)``.  Each configuration runs in the
folder ``out_dir / config["name"]``; a folder that already holds a complete run
(:func:`rnn_theory.numerics.infra.io.run_complete`) is skipped, so killing a sweep and rerunning it loses
nothing and recomputes nothing.  Results are written by the parent process, atomically.

The default executor is a local :class:`~concurrent.futures.ProcessPoolExecutor`; any
other executor works, e.g. ``dask.distributed.Client(...).get_executor()`` (``[dask]``
extra) to run the same sweep on a cluster, or ``executor="serial"`` to run in-process.
"""
from __future__ import annotations

import os
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Mapping

from rnn_theory.theory.errors import RNNTheoryError

from rnn_theory.numerics.infra.io import load_run, run_complete, save_run
from rnn_theory.numerics.infra.progress import progress

__all__ = ["run_sweep", "SerialExecutor"]


class SerialExecutor(Executor):
    """An executor that runs each task immediately in the calling process."""

    def submit(self, fn, /, *args, **kwargs):
        from concurrent.futures import Future

        fut = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut


def run_sweep(fn: Callable[[dict], tuple], configs: Iterable[Mapping], out_dir, *,
              executor: Executor | str | None = None, max_workers: int | None = None,
              show_progress: bool = True) -> dict:
    """Run ``fn`` on every configuration not already finished; return ``{name: RunRecord}``.

    Parameters
    ----------
    fn : callable
        Module-level (picklable) function ``config -> (arrays, history, summary)``;
        ``summary`` is merged into the saved ``config.json``.
    configs : iterable of dict
        Each needs a unique ``"name"`` (the run folder's name).
    out_dir : path
        Parent folder of the run folders.
    executor : Executor, "serial" or None
        None creates (and shuts down) a local process pool with ``max_workers``
        (default: ``os.cpu_count()``).
    """
    out_dir = Path(out_dir)
    configs = [dict(c) for c in configs]
    names = [c.get("name") for c in configs]
    if any(not isinstance(n, str) or not n for n in names):
        raise RNNTheoryError("every sweep configuration needs a non-empty string 'name'")
    if len(set(names)) != len(names):
        raise RNNTheoryError("sweep configuration names must be unique")
    todo = [c for c in configs if not run_complete(out_dir / c["name"])]
    own = executor is None
    if executor == "serial":
        executor = SerialExecutor()
    elif own:
        executor = ProcessPoolExecutor(max_workers=max_workers or os.cpu_count())
    try:
        futures = {executor.submit(fn, c): c for c in todo}
        for fut in progress(as_completed(futures), total=len(futures), desc="sweep",
                            enabled=show_progress and len(futures) > 1):
            c = futures[fut]
            arrays, history, summary = fut.result()
            save_run(out_dir / c["name"], {**c, **(summary or {})}, arrays, history)
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
    return {n: load_run(out_dir / n) for n in names}
