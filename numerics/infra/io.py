"""Run folders on disk, written atomically.

A run folder holds ``config.json`` (parameters, seeds, summary numbers), ``arrays.npz``
(weights and other arrays) and ``history.csv`` (one row per recorded step).  Writers
build the folder under a temporary name in the same parent and :func:`os.rename` it
into place, so a folder that exists is complete: an interrupted run leaves at most a
``.tmp-*`` folder, which the next run ignores and replaces.

>>> import tempfile, numpy as np, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> _ = save_run(d, {"g": 0.5}, {"W": np.eye(2)}, {"step": [0, 1], "loss": [1.0, 0.5]})
>>> r = load_run(d)
>>> r.config["g"], r.arrays["W"].shape, list(r.history["loss"])
(0.5, (2, 2), [1.0, 0.5])
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from rnn_theory.numerics.infra.provenance import PROVENANCE_KEY, provenance
from rnn_theory.theory.errors import RNNTheoryError, ShapeError

__all__ = ["RunRecord", "save_run", "load_run", "run_complete", "write_csv", "read_csv", "atomic_write_text"]

CONFIG, ARRAYS, HISTORY = "config.json", "arrays.npz", "history.csv"


@dataclass
class RunRecord:
    """A loaded run folder."""

    path: Path
    config: dict
    arrays: dict
    history: dict


def _jsonable(obj):
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_text(path: Path | str, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and :func:`os.replace`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _csv_text(columns: Mapping[str, Sequence]) -> str:
    names = list(columns)
    cols = [list(np.asarray(columns[n]).tolist()) if not isinstance(columns[n], list) else columns[n]
            for n in names]
    lengths = {len(c) for c in cols}
    if len(lengths) > 1:
        raise ShapeError(f"CSV columns have different lengths: {dict(zip(names, map(len, cols)))}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for row in zip(*cols):
        w.writerow(row)
    return buf.getvalue()


def write_csv(path: Path | str, columns: Mapping[str, Sequence]) -> Path:
    """Write a dict of equal-length columns as a CSV with a header row, atomically."""
    return atomic_write_text(path, _csv_text(columns))


def _parse(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def read_csv(path: Path | str) -> dict:
    """Read a CSV written by :func:`write_csv` into a dict of lists (numbers parsed)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    return {h: [_parse(r[i]) for r in body] for i, h in enumerate(header)}


def save_run(path: Path | str, config: Mapping, arrays: Mapping[str, np.ndarray] | None = None,
             history: Mapping[str, Sequence] | None = None) -> Path:
    """Write a run folder atomically (see module docstring); replaces an existing one.

    ``config.json`` also records where the run came from under the key ``"provenance"``
    (package version, source commit, library versions; see
    :func:`rnn_theory.numerics.infra.provenance.provenance`) unless ``config`` has it.
    """
    path = Path(path)
    config = {PROVENANCE_KEY: provenance(), **dict(config)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name}-", dir=path.parent))
    try:
        (tmp / CONFIG).write_text(json.dumps(_jsonable(dict(config)), indent=2, sort_keys=True))
        np.savez(tmp / ARRAYS, **{k: np.asarray(v) for k, v in (arrays or {}).items()})
        (tmp / HISTORY).write_text(_csv_text(history or {}))
        if path.exists():
            old = path.with_name(f".old-{path.name}-{os.getpid()}")
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def run_complete(path: Path | str) -> bool:
    """True when ``path`` is a complete run folder (all three files present)."""
    path = Path(path)
    return all((path / n).is_file() for n in (CONFIG, ARRAYS, HISTORY))


def load_run(path: Path | str) -> RunRecord:
    """Load a run folder written by :func:`save_run`."""
    path = Path(path)
    if not run_complete(path):
        raise RNNTheoryError(f"{path} is not a complete run folder (needs {CONFIG}, {ARRAYS}, {HISTORY})")
    config = json.loads((path / CONFIG).read_text())
    with np.load(path / ARRAYS) as z:
        arrays = {k: z[k] for k in z.files}
    return RunRecord(path, config, arrays, read_csv(path / HISTORY))
