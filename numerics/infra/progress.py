"""Optional progress bars: tqdm when installed (``[progress]`` extra), silent otherwise."""
from __future__ import annotations

import sys

__all__ = ["progress"]


def progress(iterable=None, *, total=None, desc=None, enabled=True):
    """Wrap ``iterable`` in a tqdm bar on stderr if tqdm is available and ``enabled``.

    Without tqdm, an enabled bar prints a plain ``desc: k/total`` line at about every
    10% to stderr; ``enabled=False`` returns the iterable unchanged.
    """
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _plain(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False)


def _plain(iterable, total, desc):
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    every = max(1, (total or 10) // 10)
    for k, item in enumerate(iterable, 1):
        yield item
        if total and (k % every == 0 or k == total):
            print(f"{desc or 'progress'}: {k}/{total}", file=sys.stderr, flush=True)
