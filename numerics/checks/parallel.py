"""Map a check's runs over a process pool (or serially), with progress.

The run functions live at module level in the check modules so that they pickle for the
``spawn`` pool; each worker gets one BLAS thread.
"""
from __future__ import annotations

import os

from rnn_theory.numerics.checks.report import Settings

__all__ = []


def _pmap(fn, configs, settings: Settings, desc: str):
    """Map ``fn`` over configs (serially or in a process pool), with progress."""
    from rnn_theory.numerics.infra.progress import progress

    configs = list(configs)
    if settings.workers <= 1 or len(configs) < 2:
        return [fn(c) for c in progress(configs, total=len(configs), desc=desc,
                                        enabled=settings.show_progress and len(configs) > 1)]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # one BLAS thread per worker process (set before the children import numpy)
    old = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    for k in old:
        os.environ[k] = "1"
    try:
        with ProcessPoolExecutor(max_workers=settings.workers, mp_context=mp.get_context("spawn")) as ex:
            futs = [ex.submit(fn, c) for c in configs]
            out = [f.result() for f in progress(futs, total=len(futs), desc=desc, enabled=settings.show_progress)]
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return out
