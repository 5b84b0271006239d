"""Run folders on disk, written atomically.

A run folder holds ``config.json`` (parameters, seeds, summary numbers), ``arrays.npz``
(weights and other arrays) and ``history.csv`` (one row per recorded step).  Writers
build the folder under a temporary name in the same parent and :func:`os.rename` it
into place, so a folder that exists is complete: an interrupted run leaves at most a
``.tmp-rnn-theory+…`` folder, which the next writer into that parent removes.  Every
folder written by :func:`save_run` carries the marker ``.rnn-theory`` (``kind: run``), and
an existing path is replaced only when it is such a folder *and* ``overwrite`` is asked
for; the rules (and what "written by this package" means) are in
:mod:`rnn_theory.numerics.infra.outputs`.

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
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from rnn_theory.numerics.infra.outputs import (MARKER, RunMismatchError, check_file_target, check_run_target,
                                               check_writable, clean_stale_temporaries, is_run_dir,
                                               make_temp_dir, make_temp_file, umask_mode, write_marker)
from rnn_theory.numerics.infra.provenance import PROVENANCE_KEY, provenance
from rnn_theory.theory.errors import RNNTheoryError, ShapeError

__all__ = ["RunRecord", "save_run", "load_run", "run_complete", "write_csv", "read_csv", "atomic_write_text",
           "prepare_run", "stored_config"]

CONFIG, ARRAYS, HISTORY = "config.json", "arrays.npz", "history.csv"
SUMMARY_KEYS = "summary_keys"


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


def atomic_write_text(path: Path | str, text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` through a temporary file and :func:`os.replace`.

    An existing ``path`` is replaced only when the package may (see
    :func:`rnn_theory.numerics.infra.outputs.check_file_target`; ``overwrite=True`` allows
    replacing a user's regular file on explicit request).  Umask permissions.
    """
    path = check_file_target(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp_file(path.parent, path.name)
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


def write_csv(path: Path | str, columns: Mapping[str, Sequence], *, overwrite: bool = False) -> Path:
    """Write a dict of equal-length columns as a CSV with a header row, atomically
    (same replacement rule as :func:`atomic_write_text`)."""
    return atomic_write_text(path, _csv_text(columns), overwrite=overwrite)


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


def stored_config(config: Mapping) -> dict:
    """The configuration part of a run's ``config.json``: without provenance and summary keys.

    This is what "the same run" compares (:func:`rnn_theory.numerics.infra.outputs.config_diff`):
    every resolved configuration field, seed included; never the provenance.
    """
    skip = set(config.get(SUMMARY_KEYS, [])) | {PROVENANCE_KEY, SUMMARY_KEYS}
    return {k: v for k, v in config.items() if k not in skip}


def _read_stored(path: Path) -> dict | None:
    try:
        return stored_config(load_run(path, arrays=False).config)
    except RNNTheoryError:
        return None


def save_run(path: Path | str, config: Mapping, arrays: Mapping[str, np.ndarray] | None = None,
             history: Mapping[str, Sequence] | None = None, summary: Mapping | None = None, *,
             overwrite: bool = False) -> Path:
    """Write a run folder atomically (see module docstring).

    ``config.json`` holds ``config`` (the complete resolved configuration), the
    ``summary`` numbers (their names listed under ``"summary_keys"``; a summary entry
    named like a configuration field is dropped) and, under
    ``"provenance"``, where the run came from (package version, source commit, library
    versions; :func:`rnn_theory.numerics.infra.provenance.provenance`).

    An existing ``path`` is replaced only if it is a run folder written by this package
    and ``overwrite`` is true; otherwise :class:`~rnn_theory.numerics.infra.outputs.OutputExistsError`
    (not a run folder) or :class:`~rnn_theory.numerics.infra.outputs.RunMismatchError`
    (a run folder) is raised and nothing is touched.  Cost: the size of the arrays.
    """
    path = Path(path)
    summary = dict(summary or {})
    config = dict(config)
    # the configuration wins over a summary entry of the same name, so that the stored
    # configuration is exactly the requested one
    full = {PROVENANCE_KEY: provenance(), **summary, **config,
            SUMMARY_KEYS: sorted(k for k in summary if k not in config)}
    if path.exists() or path.is_symlink():
        if not is_run_dir(path):
            check_run_target(path, None, None)  # raises with the reason
        if not overwrite:
            raise RunMismatchError(f"run folder {path} already exists; pass overwrite=True (--overwrite) "
                                   "to replace it")
    check_writable(path.parent, "run folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path.parent)
    tmp = make_temp_dir(path.parent, path.name)
    try:
        write_marker(tmp, "run")
        (tmp / CONFIG).write_text(json.dumps(_jsonable(full), indent=2, sort_keys=True))
        np.savez(tmp / ARRAYS, **{k: np.asarray(v) for k, v in (arrays or {}).items()})
        (tmp / HISTORY).write_text(_csv_text(history or {}))
        for name in (CONFIG, ARRAYS, HISTORY, MARKER):
            os.chmod(tmp / name, umask_mode("file"))
        if path.exists():
            old = make_temp_dir(path.parent, "old-" + path.name)
            os.rename(path, old / path.name)
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


def load_run(path: Path | str, *, arrays: bool = True) -> RunRecord:
    """Load a run folder written by :func:`save_run` (``arrays=False``: config and history only).

    Raises :class:`~rnn_theory.theory.errors.RNNTheoryError` naming the folder and what to do
    when it is incomplete or corrupt.
    """
    path = Path(path)
    if not run_complete(path):
        raise RNNTheoryError(f"{path} is not a complete run folder (needs {CONFIG}, {ARRAYS}, {HISTORY})")
    fix = "rerun with --overwrite to recompute it, or remove the folder"
    try:
        config = json.loads((path / CONFIG).read_text())
    except (OSError, ValueError) as exc:
        raise RNNTheoryError(f"run folder {path} is corrupt: {CONFIG} is not valid JSON ({exc}); {fix}") from None
    if not isinstance(config, dict) or not config:
        raise RNNTheoryError(f"run folder {path} is corrupt: {CONFIG} holds no configuration; {fix}")
    data = {}
    if arrays:
        try:
            with np.load(path / ARRAYS) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise RNNTheoryError(f"run folder {path} is corrupt: {ARRAYS} cannot be read ({exc}); {fix}") from None
    try:
        history = read_csv(path / HISTORY)
    except (OSError, ValueError, csv.Error, IndexError) as exc:
        raise RNNTheoryError(f"run folder {path} is corrupt: {HISTORY} cannot be read ({exc}); {fix}") from None
    return RunRecord(path, config, data, history)


def prepare_run(path: Path | str, config: Mapping, *, overwrite: bool = False) -> str:
    """Check a run folder target before any work: ``"new"``, ``"reuse"`` (same stored
    configuration) or ``"replace"`` (``overwrite``); raises otherwise (see
    :func:`rnn_theory.numerics.infra.outputs.check_run_target`)."""
    path = Path(path)
    stored = _read_stored(path) if is_run_dir(path) else None
    return check_run_target(path, _jsonable(dict(config)), stored, overwrite=overwrite)
