"""Resumable sweep over tasks, gains g and seeds (one run folder each; finished runs are skipped).

Example::

    rnn-theory sweep --tasks flipflop,mante --g 0,0.9,1.8 --seeds 0,1,2 --n 128 --out sweeps/a

Writes ``DIR/runs/<name>/`` per run (saved as soon as it finishes), ``DIR/summary.csv``
(task, n, g, seed, converged_step, dw_norm, functional_rank, shuffle_loss_ratio,
diverged) and ``DIR/provenance.json``.  ``DIR`` must be new, empty or an rnn-theory output
folder.  Runs go in parallel, one process per core with one BLAS thread each
(``--workers 1`` = serial).  Kill it (or Ctrl-C) and rerun the same command to resume;
a run folder holding different settings is an error unless ``--overwrite``.  ``--dask
ADDRESS`` runs on a dask.distributed scheduler (``--dask local`` starts a LocalCluster
with ``--workers`` processes); needs the ``[dask]`` extra.  Exit status 3 if a run
diverged (its row says ``diverged = 1``; its numbers are NaN).
"""
from __future__ import annotations

from pathlib import Path

from rnn_theory.numerics.cli.validate import integer, ints, names, positive_int, positive_real, reals

TASKS = ("flipflop", "mante", "romo")


def add_arguments(p):
    p.add_argument("--tasks", type=names(TASKS), default=["flipflop"], help="comma-separated: flipflop,mante,romo")
    p.add_argument("--g", type=reals(0.0), default=[0.0, 0.9, 1.8], help="comma-separated gains >= 0")
    p.add_argument("--seeds", type=ints(0), default=[0, 1, 2], help="comma-separated seeds >= 0")
    p.add_argument("--n", type=ints(2), default=[256], help="comma-separated network sizes N >= 2")
    p.add_argument("--steps", type=positive_int(), default=None, help="Adam steps >= 1 (default: the paper's per task)")
    p.add_argument("--batch-size", type=positive_int(), default=32, help="trials per step >= 1")
    p.add_argument("--lr", type=positive_real(), default=None, help="learning rate > 0 (default 0.05/N)")
    p.add_argument("--snapshots", type=integer(0), default=200, help="SVD snapshots >= 0")
    p.add_argument("--n-eval", type=positive_int(), default=512, help="evaluation trials >= 1")
    p.add_argument("--float32", action="store_true")
    p.add_argument("--workers", type=positive_int(), default=None,
                   help="local processes >= 1 (default: all cores; 1 = serial)")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="dask scheduler address, or 'local' for a LocalCluster ([dask] extra)")
    p.add_argument("--overwrite", action="store_true",
                   help="recompute run folders whose stored settings differ (only ever run folders)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", type=Path, required=True, help="output folder (new, empty or an rnn-theory output)")


def _dask_executor(address: str, workers):
    from rnn_theory.theory.errors import RNNTheoryError

    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise RNNTheoryError("--dask needs dask.distributed: pip install 'rnn-theory[dask]'") from None
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address, timeout=10)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise RNNTheoryError(f"--dask {address}: cannot connect to a dask scheduler there ({exc}); give "
                             "an address like tcp://host:8786, or 'local'") from None
    return client, cluster


def summary_columns(configs, runs) -> dict:
    """The rows of ``summary.csv``: one per configuration; diverged runs get NaN numbers."""
    keys = ("task", "n", "g", "seed", "converged_step", "dw_norm", "functional_rank", "shuffle_loss_ratio",
            "diverged")
    cols = {k: [] for k in keys}
    for c in configs:
        cfg = runs[c["name"]].config
        diverged = bool(cfg.get("diverged"))
        for k in keys:
            if k == "diverged":
                cols[k].append(int(diverged))
                continue
            v = c[k] if k in c else None if diverged else cfg.get(k)
            cols[k].append(float("nan") if v is None else v)
    return cols


def run(args) -> int:
    import json
    import sys

    from rnn_theory.numerics.cli.validate import EXIT_DIVERGED
    from rnn_theory.numerics.infra.io import atomic_write_text, write_csv
    from rnn_theory.numerics.infra.outputs import prepare_output_dir
    from rnn_theory.numerics.infra.provenance import provenance
    from rnn_theory.numerics.infra.sweep import run_sweep
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import make_config, run_config, run_cost

    configs = [make_config(t, g, s, n=n, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                           n_snapshots=args.snapshots, n_eval=args.n_eval,
                           dtype="float32" if args.float32 else "float64")
               for t in args.tasks for n in args.n for g in args.g for s in args.seeds]
    out = prepare_output_dir(args.out)
    client = cluster = None
    executor = "serial" if args.workers == 1 and not args.dask else None
    if args.dask:
        client, cluster = _dask_executor(args.dask, args.workers)
        executor = client.get_executor()
    try:
        runs = run_sweep(run_config, configs, out / "runs", executor=executor,
                         max_workers=None if args.dask else args.workers,
                         show_progress=not args.no_progress, overwrite=args.overwrite, cost=run_cost)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    cols = summary_columns(configs, runs)
    path = write_csv(out / "summary.csv", cols)
    atomic_write_text(out / "provenance.json", json.dumps({"provenance": provenance(), "command": "sweep",
                                                           "runs": len(configs)}, indent=2))
    print(path)
    n_div = sum(cols["diverged"])
    if n_div:
        print(f"rnn-theory sweep: {n_div} of {len(configs)} runs diverged (diverged = 1 in {path}; "
              "their numbers are NaN)", file=sys.stderr)
        return EXIT_DIVERGED
    return 0
