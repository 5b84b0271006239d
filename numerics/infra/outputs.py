r"""Who may write where: markers, safe output targets, permissions, stale temporaries.

The package never deletes, moves or replaces anything it did not create.  To tell its
own folders from a user's, it leaves a *marker file* ``.rnn-theory`` (JSON: ``kind``,
package ``version``) in every folder it creates:

* **run folder written by this package** — a real directory (not a symlink) holding a
  marker with ``"kind": "run"`` and otherwise only the names in :data:`RUN_FILES`
  (``config.json``, ``arrays.npz``, ``history.csv`` and the files ``rnn-theory analyze``
  adds).  Only such a folder may be reused or replaced (replacing needs ``overwrite``).
* **output folder written by this package** — a real directory holding a marker with
  ``"kind": "output"`` (reproductions, ``sweep``, ``curves``).  Files inside it may be
  rewritten; an existing *empty* directory is adopted (marked) as an output folder.
* A single output file (``check --json FILE``, a CSV outside an output folder) may be
  replaced only when it does not exist yet, or lies in a package folder, or — for JSON —
  it is a JSON object whose ``provenance.package`` is ``"rnn-theory"``.

Anything else at a target path — a user's file or folder, a symlink, a device or other
special file — is refused with :class:`~rnn_theory.theory.errors.OutputExistsError`
*before* any work starts.

One writer at a time: ``reproduce`` and every sweep hold the folder's *writer lock*
(:func:`writer_lock`, the file ``.rnn-theory.lock``) while they write, so a second command
started into the same folder stops at once with :class:`FolderBusyError` instead of
running the same runs again beside the first.

Temporary names are ``.tmp-rnn-theory+HOST+PID+NAME+RANDOM``; a temporary left by a
killed process (same host, PID no longer alive) is removed by the next writer into that
folder (:func:`clean_stale_temporaries`), nothing else.  Files and folders are created with
the permissions the umask allows (``0666 & ~umask`` and ``0777 & ~umask``), like ``open``
and ``mkdir`` do.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> prepare_output_dir(d) == d, is_output_dir(d), is_run_dir(d)
(True, True, False)
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
import re
import shutil
import socket
import stat
import tempfile
from pathlib import Path
from typing import Mapping

from rnn_theory.theory.errors import RNNTheoryError

__all__ = ["MARKER", "RUN_FILES", "LOCK", "OutputExistsError", "RunMismatchError", "FolderBusyError", "writer_lock",
           "is_run_dir", "is_output_dir",
           "write_marker", "prepare_output_dir", "check_file_target", "check_run_target", "check_writable",
           "make_temp_dir", "make_temp_file", "clean_stale_temporaries", "umask_mode", "config_diff", "num_tag"]

MARKER = ".rnn-theory"
RUN_FILES = frozenset({MARKER, "config.json", "arrays.npz", "history.csv", "truncation.csv",
                       "singular_values.csv", "analysis.json"})
LOCK = ".rnn-theory.lock"
_LOCK_SIGNATURE = "rnn-theory writer lock"
_TMP = ".tmp-rnn-theory"
_TMP_RE = re.compile(r"^\.tmp-rnn-theory\+(?P<host>[^+]*)\+(?P<pid>\d+)\+")


class OutputExistsError(RNNTheoryError):
    """An output path exists and is not something this package wrote (or needs ``overwrite``)."""


class RunMismatchError(RNNTheoryError):
    """A run folder exists with a different configuration than the one requested."""


class FolderBusyError(RNNTheoryError):
    """Another process holds the writer lock of the folder (see :func:`writer_lock`)."""


def _lock_text(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace")
    except OSError:
        return ""


@contextmanager
def writer_lock(folder: Path | str, what: str = "output folder"):
    r"""Hold ``folder``'s writer lock for the ``with`` block; refuse if another process holds it.

    The lock is an exclusive, non-blocking ``flock`` on ``folder/.rnn-theory.lock``, a file
    naming the holder (``pid`` and host).  A second writer gets :class:`FolderBusyError`
    (which folder, which process) before it does any work.  On leaving the block the file
    is removed; if the holder dies, even by ``kill -9``, the kernel releases the lock and
    the next writer takes the left-over file over.  The file is created with its content in
    one step, so a file of that name without the signature (empty included) is not
    rnn-theory's and is never touched: :class:`OutputExistsError`.  Without ``fcntl`` (Windows) there is no lock.  The lock
    is advisory and local: processes on other hosts sharing a network file system may not
    see it.  Cost: a few system calls.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with writer_lock(d):
    ...     try:
    ...         with writer_lock(d):
    ...             pass
    ...     except FolderBusyError as exc:
    ...         print("busy")
    busy
    >>> (d / LOCK).exists()
    False
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no flock
        yield None
        return
    path = Path(folder) / LOCK
    signature = f"{_LOCK_SIGNATURE}: pid {os.getpid()} on {_host()}\n".encode()
    while True:
        # create it with its content in one step (a temporary linked to the name), so a
        # lock file of ours is never empty and one without the signature is never ours
        fd, tmp = make_temp_file(Path(folder), "lock")
        try:
            os.write(fd, signature)
            os.link(tmp, path)
            created = True
        except FileExistsError:
            os.close(fd)
            created = False
        except OSError:  # no hard links on this file system: create it in place, then write
            os.close(fd)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, umask_mode())
                os.write(fd, signature)
                created = True
            except FileExistsError:
                created = False
        finally:
            os.unlink(tmp)
        if not created:
            try:
                fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
            except FileNotFoundError:
                continue  # its holder removed it meanwhile: try again
            except OSError as exc:
                raise OutputExistsError(f"{path} exists and is {_describe(path)}, not rnn-theory's lock file "
                                        f"({exc.strerror}); it is left as it is — remove it or choose another "
                                        f"{what}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _lock_text(fd).strip().removeprefix(_LOCK_SIGNATURE + ": ") or "another process"
            os.close(fd)
            raise FolderBusyError(f"{what} {folder} is being written by another rnn-theory command ({holder}); "
                                  "wait for it to finish, or stop it (it resumes later), or choose another "
                                  "folder") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if not same:  # removed (or replaced) by its previous holder between our open and flock
            os.close(fd)
            continue
        if not created:  # left by a killed holder, or not ours at all
            if not (stat.S_ISREG(os.fstat(fd).st_mode) and _lock_text(fd).startswith(_LOCK_SIGNATURE)):
                os.close(fd)
                raise OutputExistsError(f"{path} exists and is not rnn-theory's lock file; it is left as it is "
                                        f"— remove it or choose another {what}")
            os.ftruncate(fd, 0)
            os.pwrite(fd, signature, 0)
        break
    try:
        yield path
    finally:
        try:
            path.unlink()  # while still locked, so no second writer can lock this file afterwards
        except OSError:
            pass
        os.close(fd)


def umask_mode(kind: str = "file") -> int:
    """Permission bits a new ``file`` (0o666) or ``dir`` (0o777) gets under the current umask."""
    old = os.umask(0o022)
    os.umask(old)
    return (0o777 if kind == "dir" else 0o666) & ~old


def _host() -> str:
    return socket.gethostname().replace("+", "_")


def _tmp_prefix(name: str) -> str:
    return f"{_TMP}+{_host()}+{os.getpid()}+{name}+"


def make_temp_dir(parent: Path, name: str) -> Path:
    """A fresh temporary folder in ``parent`` (marked, umask permissions)."""
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(name), dir=parent))
    os.chmod(tmp, umask_mode("dir"))
    return tmp


def make_temp_file(parent: Path, name: str) -> tuple[int, str]:
    """``(fd, path)`` of a fresh temporary file in ``parent`` with umask permissions."""
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(name), dir=parent)
    os.fchmod(fd, umask_mode("file"))
    return fd, tmp


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temporaries(folder: Path) -> list[Path]:
    """Remove ``.tmp-rnn-theory+HOST+PID+…`` entries of ``folder`` left by dead processes
    of this host; returns what was removed.  Cost: one directory listing."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    host = _host()
    for e in entries:
        m = _TMP_RE.match(e.name)
        if not m or m["host"] != host or _pid_alive(int(m["pid"])):
            continue
        p = Path(e.path)
        if e.is_dir(follow_symlinks=False):
            shutil.rmtree(p, ignore_errors=True)
        else:
            try:
                p.unlink()
            except OSError:
                continue
        removed.append(p)
    return removed


def _marker_kind(folder: Path) -> str | None:
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


def is_run_dir(path: Path | str) -> bool:
    """True when ``path`` is a run folder written by this package (see module docstring)."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir() or _marker_kind(path) != "run":
        return False
    return all(e.name in RUN_FILES for e in os.scandir(path))


def is_output_dir(path: Path | str) -> bool:
    """True when ``path`` is an output folder written by this package (marker ``kind: output``)."""
    path = Path(path)
    return not path.is_symlink() and path.is_dir() and _marker_kind(path) == "output"


def write_marker(folder: Path, kind: str) -> None:
    """Write the marker file of ``kind`` (``"run"`` or ``"output"``) into ``folder``."""
    import rnn_theory

    text = json.dumps({"kind": kind, "package": "rnn-theory", "version": rnn_theory.__version__})
    fd = os.open(folder / MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def _describe(path: Path) -> str:
    try:
        st = path.lstat()
    except OSError:
        return "something"
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if stat.S_ISDIR(st.st_mode):
        return "a folder not written by rnn-theory"
    if stat.S_ISREG(st.st_mode):
        return "a file"
    return "a special file (device, pipe or socket)"


def check_writable(folder: Path, what: str = "output") -> None:
    """Raise unless ``folder`` (or its nearest existing ancestor) is a writable folder."""
    p = Path(folder).absolute()
    while not p.exists() and not p.is_symlink() and p != p.parent:
        p = p.parent
    if not p.is_dir():
        raise OutputExistsError(f"cannot write the {what} under {folder}: {p} is {_describe(p)}, not a folder")
    try:  # a real probe: permissions, read-only file systems, and root alike
        fd, probe = tempfile.mkstemp(prefix=_tmp_prefix("probe"), dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputExistsError(f"cannot write the {what} under {folder}: {p} is not writable "
                                f"({exc.strerror}); choose another location") from None


def prepare_output_dir(path: Path | str, what: str = "output folder") -> Path:
    """Create (or adopt when empty, or reuse when marked) an output folder; refuse anything else.

    Cleans stale temporaries inside it.  Raises :class:`OutputExistsError` naming the path.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if is_output_dir(path):
            if not os.access(path, os.W_OK | os.X_OK):
                raise OutputExistsError(f"{what} {path} is not writable")
            clean_stale_temporaries(path)
            return path
        if path.is_dir() and not path.is_symlink() and not any(os.scandir(path)):
            check_writable(path, what)
            write_marker(path, "output")
            return path
        raise OutputExistsError(f"{what} {path} exists and is {_describe(path)} (not an rnn-theory output "
                                "folder); nothing was written — choose a new or empty folder")
    check_writable(path.parent, what)
    path.mkdir(parents=True, mode=0o777)
    write_marker(path, "output")
    return path


def _ours_json(path: Path) -> bool:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    prov = data.get("provenance") if isinstance(data, dict) else None
    return isinstance(prov, dict) and prov.get("package") == "rnn-theory"


def check_file_target(path: Path | str, *, overwrite: bool = False) -> Path:
    """Raise unless the file ``path`` may be (re)written by the package (see module docstring).

    ``overwrite=True`` allows replacing an existing regular file that is not ours (an
    explicit user request); never a folder, symlink or special file.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode):
            raise OutputExistsError(f"output file {path} exists and is {_describe(path)}; nothing was written")
        parent = path.parent
        ours = (is_output_dir(parent) or _marker_kind(parent) == "run"
                or (path.suffix == ".json" and _ours_json(path)))
        if not (ours or overwrite):
            raise OutputExistsError(f"output file {path} exists and was not written by rnn-theory; "
                                    "nothing was written — choose another name (or pass --overwrite)")
    check_writable(path.parent, "output file")
    return path


def num_tag(x) -> str:
    """A number as written in run names: full precision (shortest round-trip repr), so two
    different parameters never share a name.

    >>> num_tag(0.95), num_tag(0.05 / 256), num_tag(3)
    ('0.95', '0.0001953125', '3')
    """
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return str(x)
    return repr(float(x))


def _normal(obj):
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def config_diff(stored: Mapping, requested: Mapping, ignore=("provenance",)) -> dict:
    """``{key: (stored, requested)}`` for every key whose JSON values differ (``ignore`` skipped).

    >>> config_diff({"g": 0.95, "seed": 0, "provenance": 1}, {"g": 0.9, "seed": 0})
    {'g': (0.95, 0.9)}
    """
    a, b = _normal(dict(stored)), _normal(dict(requested))
    keys = (set(a) | set(b)) - set(ignore)
    missing = object()
    return {k: (a.get(k), b.get(k)) for k in sorted(keys) if a.get(k, missing) != b.get(k, missing)}


def check_run_target(path: Path | str, requested: Mapping | None, stored: Mapping | None, *,
                     overwrite: bool = False) -> str:
    """Decide what to do with a run folder target: ``"new"``, ``"reuse"`` or ``"replace"``.

    ``stored`` is the stored configuration of an existing run folder (``None`` if it cannot
    be read).  Raises :class:`OutputExistsError` if ``path`` is not a run folder written
    by this package and :class:`RunMismatchError` (showing the difference) when the stored
    configuration differs and ``overwrite`` is false.
    """
    path = Path(path)
    if not (path.exists() or path.is_symlink()):
        check_writable(path.parent, "run folder")
        return "new"
    if not is_run_dir(path):
        what = _describe(path)
        if what.startswith("a folder"):
            what = "a folder that is not an rnn-theory run folder (or holds other files too)"
        raise OutputExistsError(f"{path} exists and is {what}; nothing was written — choose another path")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise OutputExistsError(f"cannot replace the run folder {path}: {path.parent} is not writable")
    if overwrite:
        return "replace"
    if stored is None:
        raise RunMismatchError(f"run folder {path} is corrupt (unreadable config.json, arrays.npz or "
                               "history.csv); rerun with --overwrite to recompute it, or remove it")
    diff = config_diff(stored, requested or {})
    if diff:
        shown = "; ".join(f"{k}: stored {a!r}, requested {b!r}" for k, a, b in
                          ((k, *v) for k, v in list(diff.items())[:6]))
        raise RunMismatchError(f"run folder {path} holds a different run ({shown}); use another output "
                               "path or --overwrite to recompute it")
    return "reuse"
