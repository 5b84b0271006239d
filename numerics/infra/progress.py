"""Progress with an ETA on stderr, from the first second, silenceable.

:class:`Progress` is driven by whoever knows that work finished: a training loop per step,
a sweep per finished run (``bar.update()`` after each future completes).  It prints a
first line as soon as it starts, then

* on a terminal: one line redrawn in place about once a second (a heartbeat thread keeps
  the elapsed time moving while a long run is still busy);
* in a log file or pipe: plain lines (no carriage returns) -- one as soon as an ETA can be
  estimated, then one at each further 10 % of the work (but no closer together than
  ``interval / 5``) and one at least every ``interval`` seconds (15 s by default), so a log
  shows life and an estimate long before the first run ends.

**Progress within a run.** A sweep cannot see inside a run, so a run that takes minutes
would leave the ETA unknown until it ends.  While a sweep runs a configuration it installs a
*run reporter* (:func:`reporting_to`); the first :func:`progress` loop with a known length
inside the run (the training loop over steps) then reports ``(steps done, steps)`` to it --
even when that loop prints nothing itself (``enabled=False``).  The sweep counts the run as
that fraction finished: ``done = finished runs + Σ fractions of the runs in flight``.  Runs in
worker processes report through a small file per run (:class:`FileReporter`, at most one
write a second), which the sweep's heartbeat reads.

The ETA is ``elapsed × (1 − f) / f`` for the work fraction ``f`` once a whole unit (a run, a
step) has finished.  Before that, while only runs in flight report their steps, it is
measured from the first report on: ``(now − t₁) × (1 − f) / (f − f₁)`` with ``(t₁, f₁)`` the
time and fraction of the first report, so the start-up (worker processes, imports, data)
does not count as if it were a share of the work -- at the first report that share is a
single training step, and the elapsed-time formula would say hours.  The ETA is ``?``
until a second report shows progress (about a second into the first run).
Silence it with ``enabled=False`` (the CLI's ``--no-progress``) or by setting the
environment variable ``RNN_THEORY_NO_PROGRESS=1``.  No third-party library is needed.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

__all__ = ["progress", "Progress", "format_seconds", "reporting_to", "FileReporter", "read_fraction"]


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
        Longest gap between two lines in a non-terminal stream (default 15 s), or between
        redraws on a terminal (default 1 s).
    partial : callable, optional
        ``partial() -> float``: units of work in flight that are already partly done (e.g.
        the step fraction of a run still training); added to the finished units for the
        percentage and the ETA.  It is called from the heartbeat thread.

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
                 stream=None, interval: float | None = None, partial=None, fraction=None):
        self.total = None if total is None else int(total)
        self.desc, self.unit = desc, unit
        self.enabled = bool(enabled) and not _silenced()
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = float(interval) if interval is not None else (1.0 if self.tty else 15.0)
        self.partial = partial
        self.fraction = fraction
        self.done = 0.0
        self._t0 = None
        self._last_print = 0.0
        self._last_decile = -1
        self._eta_shown = False
        self._first_report = None   # (time, fraction) of the first partial progress
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
        self._thread = threading.Thread(target=self._beat, daemon=True, name="progress-heartbeat")
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

    def progress_done(self) -> float:
        """Finished units plus the in-flight fraction (``partial``), capped at ``total``."""
        extra = 0.0
        if self.partial is not None and not self._stop.is_set():
            try:
                extra = max(0.0, float(self.partial()))
            except Exception:  # noqa: BLE001 - a progress estimate must never stop the work
                extra = 0.0
        d = self.done + extra
        return min(d, float(self.total)) if self.total else d

    def work_fraction(self, done: float | None = None) -> float | None:
        """Fraction of the work done: ``fraction()`` when given, else units done / total
        (``done`` defaults to :meth:`progress_done`); None when the total is unknown.  The
        final line uses ``fraction()`` too, so an interrupted sweep's last line keeps the
        weighted percentage of the lines before it."""
        if self.fraction is not None:
            try:
                return min(1.0, max(0.0, float(self.fraction())))
            except Exception:  # noqa: BLE001 - a progress estimate must never stop the work
                pass
        if not self.total:
            return None
        return (self.progress_done() if done is None else done) / self.total

    def eta(self, done: float | None = None):
        """Seconds left (``None`` when unknown)."""
        return self._eta_of(self.work_fraction(done))

    def _eta_of(self, frac: float | None):
        if self._t0 is None or not frac:
            return None
        now = time.monotonic()
        if self.done >= 1:       # whole units finished: their time includes their start-up
            return (now - self._t0) * (1.0 - frac) / frac
        if self._first_report is None:   # only partial progress: measure from its first report
            self._first_report = (now, frac)
        t1, f1 = self._first_report
        return (now - t1) * (1.0 - frac) / (frac - f1) if frac > f1 else None

    def line(self, done: float | None = None) -> str:
        """The current progress line (no newline)."""
        frac = self.work_fraction(done)
        return self._text(frac, self._eta_of(frac))

    def _text(self, frac: float | None, eta: float | None) -> str:
        elapsed = 0.0 if self._t0 is None else time.monotonic() - self._t0
        fin = f"{self.done:g}" if self.done != int(self.done) else str(int(self.done))
        count = f"{fin}/{self.total}" if self.total else fin
        unit = f" {self.unit}" if self.unit else ""
        if not self.total:
            return f"{self.desc}: {count}{unit}, {format_seconds(elapsed)} elapsed"
        return (f"{self.desc}: {count}{unit} ({100 * frac:.0f}%), {format_seconds(elapsed)} elapsed, "
                f"ETA {format_seconds(eta)}")

    # -- output
    def _beat(self):
        # four looks a second until the first ETA (two reports are needed), then one
        while not self._stop.wait(min(self.interval, 1.0 if self._eta_shown else 0.25)):
            self._emit(heartbeat=True)

    def _emit(self, force=False, heartbeat=False, final=False):
        now = time.monotonic()
        with self._lock:
            frac = self.work_fraction()   # read once per line: it may read the workers' report files
            eta = self._eta_of(frac)
            decile = int(10 * frac) if frac is not None else -1
            since = now - self._last_print
            if self.tty:
                due = force or since >= (self.interval if heartbeat else 0.1)
            else:
                first_eta = not self._eta_shown and eta is not None
                due = (force or first_eta or since >= self.interval
                       or (decile > self._last_decile and since >= self.interval / 5))
            if not due:
                return
            self._last_print, self._last_decile = now, max(decile, self._last_decile)
            text = self._text(frac, eta)
            self._eta_shown = self._eta_shown or eta is not None or not self.total  # no total: no ETA to await
            if final and text == self._last_text and not self.tty:
                return
            self._last_text = text
            if self.tty:
                end = "\n" if final else ""
                self.stream.write("\r\033[K" + text + end)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()


# ------------------------------------------------------------------ progress within a run
class _Reporter:
    """The run reporter installed by :func:`reporting_to`: only the first loop that claims it
    reports (later loops of the run, e.g. its analyses, do not restart the count)."""

    def __init__(self, report):
        self.report = report
        self.claimed = False


_REPORTER: _Reporter | None = None


@contextlib.contextmanager
def reporting_to(report):
    """Within the block, the first :func:`progress` loop of known length calls ``report(done, total)``.

    Only that loop reports, also after it ended (a run's training loop comes first; its
    analyses then do not restart the count).  ``report`` is called after every item of
    that loop (it should be cheap or rate-limit itself, like :class:`FileReporter`);
    ``report=None`` installs nothing.  Blocks nest (the previous reporter is restored on
    exit).

    >>> seen = []
    >>> with reporting_to(lambda d, t: seen.append((d, t))):
    ...     for _ in progress(range(3), enabled=False):
    ...         pass
    >>> seen
    [(1, 3), (2, 3), (3, 3)]
    """
    global _REPORTER
    prev = _REPORTER
    _REPORTER = None if report is None else _Reporter(report)
    try:
        yield
    finally:
        _REPORTER = prev


def _claim(total):
    """The active reporter's callback if a loop of length ``total`` may report to it, else None."""
    r = _REPORTER
    if r is None or r.claimed or not total:
        return None
    r.claimed = True
    return r


class FileReporter:
    """Report ``(done, total)`` of a run to a small text file (``"done total"``), for a sweep
    in another process to read with :func:`read_fraction`.

    The first report is written at once, then at most one every ``every`` seconds and the
    last one of the loop (``done == total``).  Each write replaces the file atomically.  A
    failing write (e.g. the folder is on another machine) silences the reporter; the run is
    never disturbed.
    """

    def __init__(self, path, every: float = 1.0):
        self.path = str(path)
        self.every = float(every)
        self._last = None
        self._dead = False

    def __call__(self, done, total):
        if self._dead:
            return
        now = time.monotonic()
        if self._last is not None and now - self._last < self.every and done < total:
            return
        self._last = now
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w") as fh:
                fh.write(f"{done} {total}\n")
            os.replace(tmp, self.path)
        except OSError:
            self._dead = True


def read_fraction(path) -> float:
    """The fraction ``done / total`` written by a :class:`FileReporter` (0 if absent or unreadable)."""
    try:
        with open(path) as fh:
            done, total = fh.read().split()
        return min(1.0, max(0.0, float(done) / float(total)))
    except (OSError, ValueError, ZeroDivisionError):
        return 0.0


# ------------------------------------------------------------------ iterables
def progress(iterable=None, *, total=None, desc=None, enabled=True, unit=""):
    """Iterate over ``iterable`` with a :class:`Progress` line (one update per item).

    ``enabled=False`` prints nothing; the iterable is returned unchanged unless a run
    reporter is installed (:func:`reporting_to`), in which case the loop still reports its
    step count to it.

    >>> list(progress(range(3), enabled=False))
    [0, 1, 2]
    """
    show = enabled and not _silenced()
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    if not show and (_REPORTER is None or _REPORTER.claimed or not total):
        return iterable
    bar = Progress(total, desc or "progress", unit=unit) if show else None
    return _iterate(iterable, bar, total)


def _iterate(iterable, bar, total):
    reporter = _claim(total)
    try:
        if bar is not None:
            bar.start()
        for i, item in enumerate(iterable, 1):
            yield item
            if bar is not None:
                bar.update()
            if reporter is not None:
                reporter.report(i, total)
    finally:
        if bar is not None:
            bar.close()
