"""Resumable sweep over tasks, gains g and seeds (one run folder each; finished runs are skipped).

Example::

    rnn-theory sweep --tasks flipflop,mante --g 0,0.9,1.8 --seeds 0,1,2 --n 128 --out sweeps/a

Writes ``DIR/runs/<name>/`` per run and ``DIR/summary.csv`` (task, n, g, seed,
converged_step, dw_norm, functional_rank, shuffle_loss_ratio).  Kill it and rerun the same
command to resume.  ``--dask ADDRESS`` runs on a dask.distributed scheduler
(``--dask local`` starts a LocalCluster); needs the ``[dask]`` extra.
"""
from __future__ import annotations

from pathlib import Path


def _floats(s):
    return [float(v) for v in s.split(",") if v.strip()]


def _ints(s):
    return [int(v) for v in s.split(",") if v.strip()]


def add_arguments(p):
    p.add_argument("--tasks", default="flipflop", help="comma-separated: flipflop,mante,romo")
    p.add_argument("--g", type=_floats, default=[0.0, 0.9, 1.8], help="comma-separated gains")
    p.add_argument("--seeds", type=_ints, default=[0, 1, 2], help="comma-separated seeds")
    p.add_argument("--n", type=_ints, default=[256], help="comma-separated network sizes N")
    p.add_argument("--steps", type=int, default=None, help="Adam steps (default: the paper's per task)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 0.05/N)")
    p.add_argument("--snapshots", type=int, default=200)
    p.add_argument("--n-eval", type=int, default=512)
    p.add_argument("--float32", action="store_true")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: all cores; 1 = serial)")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="dask scheduler address, or 'local' for a LocalCluster ([dask] extra)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", type=Path, required=True)


def run(args) -> int:
    from rnn_theory.theory.errors import DomainError, RNNTheoryError

    from rnn_theory.numerics.infra.io import write_csv
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import make_config, run_config
    from rnn_theory.numerics.infra.sweep import run_sweep

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not tasks or not args.g or not args.seeds or not args.n:
        raise DomainError("need at least one task, gain, seed and N")
    if args.batch_size < 1 or (args.lr is not None and not args.lr > 0):
        raise DomainError("--batch-size must be >= 1 and --lr > 0")
    configs = [make_config(t, g, s, n=n, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                           n_snapshots=args.snapshots, n_eval=args.n_eval,
                           dtype="float32" if args.float32 else "float64")
               for t in tasks for n in args.n for g in args.g for s in args.seeds]
    client = cluster = None
    executor = "serial" if args.workers == 1 else None
    if args.dask:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise RNNTheoryError("--dask needs dask.distributed: pip install 'rnn-theory[dask]'") from None
        if args.dask == "local":
            cluster = LocalCluster(n_workers=args.workers or 2, threads_per_worker=1, processes=True)
            client = Client(cluster)
        else:
            client = Client(args.dask)
        executor = client.get_executor()
    try:
        runs = run_sweep(run_config, configs, args.out / "runs", executor=executor, max_workers=args.workers,
                         show_progress=not args.no_progress)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    cols = {k: [] for k in ("task", "n", "g", "seed", "converged_step", "dw_norm", "functional_rank",
                            "shuffle_loss_ratio")}
    for c in configs:
        cfg = runs[c["name"]].config
        for k in cols:
            v = cfg.get(k)
            cols[k].append(float("nan") if v is None else v)
    path = write_csv(args.out / "summary.csv", cols)
    print(path)
    return 0
