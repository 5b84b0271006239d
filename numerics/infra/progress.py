"""Progress with an ETA on stderr, from the first second, silenceable.

:class:`Progress` is driven by whoever knows that work finished: a training loop per step,
a sweep per finished run (``bar.update()`` after each future completes).  It prints a
first line as soon as it starts, then

* on a terminal: one line redrawn in place about once a second (a heartbeat thread keeps
  the elapsed time moving while a long run is still busy);
* in a log file or pipe: a new line at every 10 % and at least every ``interval`` seconds
  (30 s by default), so a log shows life long before the first run ends.

The ETA is ``elapsed × (total − done) / done`` once something finished (``?`` before).
Silence it with ``enabled=False`` (the CLI's ``--no-progress``) or by setting the
environment variable ``RNN_THEORY_NO_PROGRESS=1``.  No third-party library is needed.
"""
from __future__ import annotations

import os
import sys
import threading
import time

__all__ = ["progress", "Progress", "format_seconds"]


def format_seconds(s: float) -> str:
    """``h:mm:ss`` or ``m:ss``; ``?`` for an unknown (None/inf/nan) duration.

    >>> format_seconds(75), format_seconds(3725), format_seconds(None)
    ('1:15', '1:02:05', '?')
    """
    if s is None or s != s or s in (float("inf"), float("-inf")):
        return "?"
    s = int(round(max(0.0, s)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _silenced() -> bool:
    return os.environ.get("RNN_THEORY_NO_PROGRESS", "").strip() not in ("", "0")


class Progress:
    """A progress line with elapsed time and ETA; use as a context manager.

    Parameters
    ----------
    total : int or None
        Number of units (runs, steps); None = unknown (no ETA).
    desc : str
        Label at the start of the line.
    enabled : bool
        False (or ``RNN_THEORY_NO_PROGRESS=1``) makes every method a no-op.
    unit : str
        Name of a unit in the line (``"runs"``, ``"steps"``).
    stream : file, optional
        Default ``sys.stderr``.
    interval : float, optional
        Seconds between lines in a non-terminal stream (default 30) or between redraws on
        a terminal (default 1).

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> with Progress(4, "sweep", unit="runs", stream=buf) as bar:
    ...     for _ in range(4):
    ...         bar.update()
    >>> lines = buf.getvalue().splitlines()
    >>> lines[0].startswith("sweep: 0/4 runs")
    True
    >>> lines[-1].startswith("sweep: 4/4 runs")
    True
    """

    def __init__(self, total=None, desc: str = "progress", *, enabled: bool = True, unit: str = "",
                 stream=None, interval: float | None = None):
        self.total = None if total is None else int(total)
        self.desc, self.unit = desc, unit
        self.enabled = bool(enabled) and not _silenced()
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (1.0 if self.tty else 30.0)
        self.done = 0.0
        self._t0 = None
        self._last_print = 0.0
        self._last_decile = -1
        self._last_text = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    # -- lifecycle
    def start(self) -> "Progress":
        """Print the first line now and start the heartbeat."""
        if not self.enabled or self._t0 is not None:
            return self
        self._t0 = time.monotonic()
        self._emit(force=True)
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()
        return self

    def close(self):
        """Print the final line and stop the heartbeat."""
        if not self.enabled or self._t0 is None or self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._emit(force=True, final=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    # -- driving
    def update(self, n: float = 1):
        """Record ``n`` more finished units (fractions allowed)."""
        if not self.enabled:
            return
        if self._t0 is None:
            self.start()
        with self._lock:
            self.done += n
        self._emit()

    def eta(self):
        """Seconds left (``None`` when unknown)."""
        if self._t0 is None or not self.total or self.done <= 0:
            return None
        return (time.monotonic() - self._t0) * (self.total - self.done) / self.done

    def line(self) -> str:
        """The current progress line (no newline)."""
        elapsed = 0.0 if self._t0 is None else time.monotonic() - self._t0
        done = f"{self.done:g}" if self.done != int(self.done) else str(int(self.done))
        count = f"{done}/{self.total}" if self.total else done
        unit = f" {self.unit}" if self.unit else ""
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        eta = f", ETA {format_seconds(self.eta())}" if self.total else ""
        return f"{self.desc}: {count}{unit}{pct}, {format_seconds(elapsed)} elapsed{eta}"

    # -- output
    def _beat(self):
        while not self._stop.wait(self.interval):
            self._emit(heartbeat=True)

    def _emit(self, force=False, heartbeat=False, final=False):
        now = time.monotonic()
        with self._lock:
            decile = int(10 * self.done / self.total) if self.total else -1
            if self.tty:
                due = force or heartbeat or now - self._last_print >= 0.1
            else:
                due = force or decile > self._last_decile or now - self._last_print >= self.interval
            if not due:
                return
            self._last_print, self._last_decile = now, max(decile, self._last_decile)
            text = self.line()
            if final and text == self._last_text and not self.tty:
                return
            self._last_text = text
            if self.tty:
                end = "\n" if final else ""
                self.stream.write("\r\033[K" + text + end)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()


def progress(iterable=None, *, total=None, desc=None, enabled=True, unit=""):
    """Iterate over ``iterable`` with a :class:`Progress` line (one update per item).

    ``enabled=False`` returns the iterable unchanged.

    >>> list(progress(range(3), enabled=False))
    [0, 1, 2]
    """
    if not enabled or _silenced():
        return iterable
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    return _iterate(iterable, Progress(total, desc or "progress", unit=unit))


def _iterate(iterable, bar):
    with bar:
        for item in iterable:
            yield item
            bar.update()
