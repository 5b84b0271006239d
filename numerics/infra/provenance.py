"""Where a result came from: package version, source commit, library versions, machine.

Every run folder's ``config.json`` (key ``"provenance"``), every summary written by a
reproduction and ``rnn-theory check --json`` record :func:`provenance`, so that a number
can always be traced back to the code and libraries that produced it.

>>> p = provenance()
>>> sorted(p)  # doctest: +NORMALIZE_WHITESPACE
['git_commit', 'git_dirty', 'install', 'libraries', 'package', 'platform', 'python', 'source', 'version']
>>> p["package"], p["version"] == __import__("rnn_theory").__version__
('rnn-theory', True)
"""
from __future__ import annotations

import functools
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import rnn_theory

__all__ = ["provenance", "PROVENANCE_KEY"]

PROVENANCE_KEY = "provenance"
LIBRARIES = ("numpy", "scipy", "sympy", "mpmath")


def _git(source: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _install() -> tuple[str, Path | None, str | None]:
    """(kind, source folder or None, commit recorded by pip or None).

    The source folder of an editable install is the repository holding ``theory/``; for a
    regular install pip's ``direct_url.json`` names the folder or VCS URL it was built from.
    """
    repo = Path(__import__("rnn_theory.theory", fromlist=["x"]).__file__).resolve().parents[1]
    if (repo / "setup.cfg").is_file() and (repo / "theory").is_dir():
        return "editable", repo, None
    try:
        text = metadata.distribution("rnn-theory").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        text = None
    if not text:
        return "wheel", None, None
    info = json.loads(text)
    commit = info.get("vcs_info", {}).get("commit_id")
    url = urlparse(info.get("url", ""))
    source = Path(unquote(url.path)) if url.scheme == "file" else None
    return "checkout", source, commit


@functools.lru_cache(maxsize=1)
def _cached() -> dict:
    kind, source, commit = _install()
    dirty = None
    if commit is None and source is not None and (source / ".git").exists():
        commit = _git(source, "rev-parse", "HEAD")
        status = _git(source, "status", "--porcelain", "--untracked-files=no")
        dirty = None if status is None else bool(status)
    libs = {}
    for name in LIBRARIES:
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - required dependencies
            libs[name] = None
    return {
        "package": "rnn-theory",
        "version": rnn_theory.__version__,
        "install": kind,
        "source": None if source is None else str(source),
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "libraries": libs,
        "platform": f"{platform.system()} {platform.machine()}",
    }


def provenance() -> dict:
    """Provenance of the running package, as a JSON-ready dict.

    Keys: ``package``, ``version`` (``rnn_theory.__version__``), ``install`` (``editable``,
    ``checkout`` — built from a local folder or VCS URL — or ``wheel``), ``source`` (that
    folder, if known), ``git_commit`` (from pip's record of a VCS install, else the source
    checkout's ``HEAD`` when it is a git repository; ``None`` otherwise), ``git_dirty``
    (tracked files modified, when read from a checkout), ``python``, ``libraries``
    (numpy, scipy, sympy, mpmath versions) and ``platform``.

    For a regular ``pip install .`` the commit is the source folder's ``HEAD`` at run time,
    which equals the installed code only while that folder is unchanged. Cost: one ``git``
    call the first time in a process, then cached.
    """
    return json.loads(json.dumps(_cached()))


if __name__ == "__main__":  # pragma: no cover
    json.dump(provenance(), sys.stdout, indent=2)
