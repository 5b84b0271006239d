"""Reproduce a paper figure's data: ``rnn-theory reproduce NAME --out DIR [--quick]``.

Each NAME maps to a function ``fn(out: Path, *, quick: bool, seed: int, workers: int | None,
show_progress: bool) -> list[Path]`` that writes one CSV per panel (long format, header
row) and, when matplotlib is installed (``[plot]`` extra), PNGs.  ``DIR`` must be new, empty
or an rnn-theory output folder (anything else is refused before any work).  Runs go in
parallel (one process per core, one BLAS thread each; ``--workers 1`` = serial), each is
saved in ``DIR/runs`` as soon as it finishes and skipped when rerun with the same
settings, so an interrupted reproduction resumes (Ctrl-C and SIGTERM, e.g. a batch
system's time limit, stop it the same way).  ``DIR/provenance.json`` records the
package version, commit and libraries, this invocation's wall time and the total over
every invocation into ``DIR``, which ``DIR/reproduce-invocations.json`` lists (interrupted
ones included; ``log_invocation`` in this module).  Exit status 3 if a run diverged (the figure
functions mark or refuse diverged runs; see their summaries' ``diverged`` column).

``--float32`` trains in float32, as the papers' code did (passed as ``dtype="float32"``;
the default stays float64).  ``--as-published`` selects the authors' definitions where
they differ from the package's (``as_published=True``; docs/differences.md); it applies to
the reproductions whose function takes it (zhu-linear, zhu-digits, ``farrell-*``).  The
choice is recorded in ``DIR/reproduce-options.json``; rerunning into the same folder with
other options is an error, so runs of different precision or definitions never mix.
"""
from __future__ import annotations

import importlib
import inspect
import json
import time
from pathlib import Path

from rnn_theory.theory.errors import RNNTheoryError

from rnn_theory.numerics.cli.validate import integer, positive_int
from rnn_theory.numerics.infra.plotting import add_format_argument, figure_formats

# name -> (module, function, one-line description)
TARGETS = {
    "schuessler-fig1": ("rnn_theory.numerics.reproduce.schuessler_nonlinear", "fig1",
                        "per task: loss, singular values of dW, truncation loss (g = 0, 0.9)"),
    "schuessler-fig2": ("rnn_theory.numerics.reproduce.schuessler_nonlinear", "fig2",
                        "against g: convergence time, ||dW||, shuffle loss, functional rank"),
    "schuessler-fig3": ("rnn_theory.numerics.reproduce.schuessler_linear", "fig3",
                        "linear task: loss and singular values vs tau-tilde, with theory"),
    "schuessler-fig4": ("rnn_theory.numerics.reproduce.schuessler_linear", "fig4",
                        "linear task: normalised tau_c, ||dW||, mean gradient, shuffle vs g"),
    "schuessler-nscaling": ("rnn_theory.numerics.reproduce.schuessler_nonlinear", "nscaling",
                            "supplement: convergence, ||dW||, ||W0||, functional rank vs N"),
    "schuessler-cosine": ("rnn_theory.numerics.reproduce.schuessler_nonlinear", "cosine",
                          "supplement: cosine generation needs random connectivity"),
    "schuessler-lstm": ("rnn_theory.numerics.reproduce.lstm", "lstm",
                        "two-layer LSTM: truncation of dW vs W, singular values"),
    "zhu-linear": ("rnn_theory.numerics.reproduce.zhu", "linear",
                   "fixed-point learning rules on the linear problem"),
    "zhu-digits": ("rnn_theory.numerics.reproduce.zhu", "digits",
                   "fixed-point learning rules on 8x8 digits ([digits] extra)"),
    "farrell-fig2": ("rnn_theory.numerics.reproduce.farrell", "fig2", "high-d input, CE: chaos, PR, accuracy"),
    "farrell-fig3": ("rnn_theory.numerics.reproduce.farrell", "fig3", "low-d input, orthogonal W_in"),
    "farrell-fig4": ("rnn_theory.numerics.reproduce.farrell", "fig4", "low-d input into two neurons"),
    "farrell-fig5": ("rnn_theory.numerics.reproduce.farrell", "fig5", "MSE loss: compression needs noise"),
}


def add_arguments(p):
    lines = "\n".join(f"  {k:17s} {v[2]}" for k, v in TARGETS.items())
    p.epilog = "figures:\n" + lines
    p.add_argument("name", choices=sorted(TARGETS), metavar="NAME", help="figure to reproduce (see below)")
    p.add_argument("--out", type=Path, required=True, help="output folder (new, empty or an rnn-theory output)")
    p.add_argument("--quick", action="store_true", help="small, fast configuration")
    p.add_argument("--seed", type=integer(0), default=0, help="base seed >= 0 (default 0)")
    p.add_argument("--workers", type=positive_int(), default=None, help="processes >= 1 (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="silence progress bars")
    p.add_argument("--float32", action="store_true",
                   help="train in float32, as the papers' code did (default float64)")
    p.add_argument("--as-published", action="store_true",
                   help="use the authors' definitions where they differ (docs/differences.md)")
    add_format_argument(p)


def run(args) -> int:
    mod_name, fn_name, _ = TARGETS[args.name]
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as exc:  # pragma: no cover - packaging error
        raise RNNTheoryError(f"reproduction {args.name!r} is not available: {exc}") from exc
    extra = _variant_kwargs(args, fn)
    from rnn_theory.numerics.infra.outputs import prepare_output_dir, writer_lock

    prepare_output_dir(args.out)
    with writer_lock(args.out):  # one reproduce per folder at a time
        return _run_locked(args, fn, extra)


def _run_locked(args, fn, extra) -> int:
    _record_options(args.out, args.name, extra)
    t0, started = time.time(), time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        with figure_formats(args.format):
            written = fn(args.out, quick=args.quick, seed=args.seed, workers=args.workers,
                         show_progress=not args.no_progress, **extra)
    except BaseException as exc:  # interrupted, terminated or failed: its time still counts
        _log_invocation_quietly(args.out, started, time.time() - t0, _outcome(exc))
        raise
    for path in written:
        print(path)
    wall = time.time() - t0
    total, invocations = log_invocation(args.out, started, wall, "finished")
    return finish_output(args.out, f"reproduce {args.name}", name=args.name, quick=bool(args.quick), seed=args.seed,
                         workers=args.workers, dtype=extra.get("dtype", "float64"),
                         as_published=bool(extra.get("as_published", False)),
                         wall_seconds=round(wall, 1), total_wall_seconds=round(total, 1),
                         invocations=invocations, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))


#: the log of every invocation into a reproduction folder (see :func:`log_invocation`)
INVOCATIONS = "reproduce-invocations.json"


def _outcome(exc: BaseException) -> str:
    from rnn_theory.numerics.cli import Terminated

    if isinstance(exc, KeyboardInterrupt):
        return "terminated" if isinstance(exc, Terminated) else "interrupted"
    return f"failed: {type(exc).__name__}"


def log_invocation(out: Path, started: str, wall: float, outcome: str) -> tuple[float, int]:
    """Append one invocation of ``reproduce`` to ``out/reproduce-invocations.json`` and return
    the wall seconds of all invocations into ``out`` and their number.

    A full-size reproduction may take several invocations: interrupted (Ctrl-C, SIGTERM from
    a batch system's time limit), then resumed; the finished runs are kept, so the time each
    invocation spent counts towards the folder's results.  Each entry is ``{started,
    wall_seconds, outcome}`` with ``outcome`` one of ``finished``, ``interrupted``,
    ``terminated`` or ``failed: <error>``.  Only ``kill -9`` (no chance to write) goes
    unrecorded.  A folder finished before this log existed contributes the
    ``total_wall_seconds`` its ``provenance.json`` recorded, as a first entry.  A log that
    is unreadable is left as it is (it is counted as nothing, with a warning on stderr).
    ``reproduce-options.json`` guarantees that every invocation into ``out`` had the same
    settings.  Cost: one small JSON read and atomic write.
    """
    import sys

    from rnn_theory.numerics.infra.io import atomic_write_text

    path = Path(out) / INVOCATIONS
    entries = []
    if path.exists():
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
            if not (isinstance(entries, list)
                    and all(isinstance(e, dict) and _seconds(e.get("wall_seconds")) is not None for e in entries)):
                raise ValueError("not a list of invocations")
        except (OSError, ValueError) as exc:
            print(f"rnn-theory reproduce: warning: {path} is unreadable ({exc}); it is left as it is and "
                  "the total wall time counts this invocation only", file=sys.stderr)
            return wall, 1
    else:
        earlier = _seconds(recorded_settings(Path(out)).get("total_wall_seconds"))
        if earlier:
            entries.append({"started": None, "wall_seconds": earlier,
                            "outcome": "finished, recorded in provenance.json before this log"})
    entries.append({"started": started, "wall_seconds": round(float(wall), 1), "outcome": outcome})
    atomic_write_text(path, json.dumps(entries, indent=1) + "\n")
    return float(sum(e["wall_seconds"] for e in entries)), len(entries)


def _log_invocation_quietly(out, started, wall, outcome) -> None:
    """:func:`log_invocation` on the way out of an error: never hide the error itself."""
    try:
        log_invocation(out, started, wall, outcome)
    except Exception:  # noqa: BLE001 - the original exception is the one to report
        pass


def _seconds(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else None


def recorded_settings(folder: Path) -> dict:
    """The settings :func:`finish_output` recorded in ``folder/provenance.json`` (name, quick,
    seed, workers, wall_seconds, total_wall_seconds, …) with its ``"provenance"``;
    ``reproduction.json`` is the same record in older folders; ``{}`` when none is readable."""
    for fname in ("provenance.json", "reproduction.json"):
        f = Path(folder) / fname
        if f.is_file():
            try:
                data = json.loads(f.read_text())
            except (OSError, ValueError):
                return {}
            if not isinstance(data, dict):
                return {}
            settings = data.get("settings")
            return {**settings, "provenance": data.get("provenance")} if isinstance(settings, dict) else data
    return {}


def finish_output(out: Path, command: str, **settings) -> int:
    """Write ``out/provenance.json`` and return the exit status: 3 when a run under
    ``out/runs`` is marked diverged (named on stderr), else 0."""
    import json
    import sys

    from rnn_theory.numerics.cli.validate import EXIT_DIVERGED
    from rnn_theory.numerics.infra.io import atomic_write_text
    from rnn_theory.numerics.infra.provenance import provenance

    diverged = []
    for cfg in sorted((Path(out) / "runs").glob("*/config.json")):
        try:
            if json.loads(cfg.read_text()).get("diverged"):
                diverged.append(cfg.parent.name)
        except (OSError, ValueError, AttributeError):
            continue
    atomic_write_text(Path(out) / "provenance.json",
                      json.dumps({"provenance": provenance(), "command": command, "settings": settings,
                                  "diverged_runs": diverged}, indent=2))
    if diverged:
        print(f"rnn-theory {command}: {len(diverged)} run(s) diverged and are marked, not results: "
              f"{', '.join(diverged[:5])}", file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def _variant_kwargs(args, fn) -> dict:
    """``dtype`` / ``as_published`` keyword arguments for ``fn`` (only those asked for)."""
    extra = {}
    if getattr(args, "float32", False):
        extra["dtype"] = "float32"
    if getattr(args, "as_published", False):
        if "as_published" not in inspect.signature(fn).parameters:
            with_it = sorted(k for k, (m, f, _) in TARGETS.items()
                             if "as_published" in inspect.signature(getattr(importlib.import_module(m), f)).parameters)
            raise RNNTheoryError(f"--as-published does not apply to {args.name}: its definitions match the "
                                 f"authors' (see docs/differences.md); it applies to {', '.join(with_it)}")
        extra["as_published"] = True
    return extra


def _record_options(out: Path, name: str, extra: dict) -> None:
    """Write ``out/reproduce-options.json`` or check it matches (never mix precisions/definitions)."""
    path = out / "reproduce-options.json"
    want = {"dtype": extra.get("dtype", "float64"), "as_published": bool(extra.get("as_published", False))}
    if path.exists():
        try:
            have = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RNNTheoryError(f"{path} is unreadable ({exc}); use another --out folder") from exc
        have_opts = {k: have.get(k) for k in want}
        if have_opts != want:
            raise RNNTheoryError(f"--out {out} holds runs made with {have_opts}, not {want}: "
                                 "use another --out folder so that runs do not mix")
        return
    if (out / "runs").exists() and want != {"dtype": "float64", "as_published": False}:
        raise RNNTheoryError(f"--out {out} holds runs made before options were recorded (float64, the "
                             "package's definitions): use another --out folder so that runs do not mix")
    path.write_text(json.dumps({"name": name, **want}, indent=1) + "\n", encoding="utf-8")
