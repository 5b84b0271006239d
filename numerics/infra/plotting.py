r"""Optional plotting support (``[plot]`` extra): matplotlib with the Agg backend and one style.

Figures are a convenience on top of the CSV files that every reproduction writes.  Every
figure of the package goes through this module, so they share

* one style (:data:`STYLE`: sizes, fonts, mathtext, grid) applied by :func:`pyplot`;
* one colour per parameter value (:func:`param_color`): the same g has the same colour in
  every figure (a fixed colour map over a fixed range per parameter, not per figure);
* the output formats: PNG always, plus PDF/SVG when requested
  (:func:`figure_formats`, the CLI's ``--format pdf``);
* helpers that make a figure stand alone: :func:`log_ylim` (y-limits that show the data,
  not the floating-point floor), :func:`mark_unconverged` (a visible note on runs that did
  not converge or diverged).

Without matplotlib, :func:`pyplot` returns ``None`` and prints, once per process, a one-line
note naming the extra to install; callers then skip their figures (the CSVs are written).
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["pyplot", "save_figure", "figure_formats", "param_color", "log_ylim", "mark_unconverged",
           "STYLE", "PARAM_RANGES", "LOG_PARAMS", "MISSING_NOTE",
           "add_format_argument", "current_formats"]

#: rcParams shared by every figure (applied by :func:`pyplot`)
STYLE = {
    "figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight",
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 7.5,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "lines.linewidth": 1.3, "lines.markersize": 3.5,
    "axes.grid": True, "grid.alpha": 0.25, "grid.linewidth": 0.5, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "mathtext.fontset": "cm",
    "axes.formatter.use_mathtext": True,
}
#: the value range mapped onto the colour map for each named parameter
#: (log10 of the value for the names in :data:`LOG_PARAMS`)
PARAM_RANGES = {"g": (0.0, 2.0), "gamma": (1.0, 3.0), "zhat": (0.0, 2.5), "lr": (-2.0, 0.6), "n": (4.0, 11.0)}
#: parameters placed on their colour range by log10: learning rate, network size and Farrell's
#: γ (γ = 20 and 250 differ by a factor, and γ ∈ [10, 1000] spans the map)
LOG_PARAMS = ("lr", "n", "gamma")
_CMAP = "plasma"
MISSING_NOTE = ("rnn-theory: matplotlib is not installed, so no figure was written (the CSV files were); "
                "install the plot extra: pip install 'rnn-theory[plot]'")
_FORMATS = ["png"]
_noted = False


def pyplot(note: bool = True):
    """Return ``matplotlib.pyplot`` (Agg backend, :data:`STYLE` applied), or ``None``.

    Without matplotlib, returns ``None`` and, if ``note``, prints :data:`MISSING_NOTE` to
    stderr once per process.
    """
    global _noted
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if note and not _noted:
            print(MISSING_NOTE, file=sys.stderr, flush=True)
            _noted = True
        return None
    plt.rcParams.update(STYLE)
    return plt


@contextlib.contextmanager
def figure_formats(formats):
    """Within the block, :func:`save_figure` also writes these formats (PNG is always written).

    >>> with figure_formats(["pdf"]):
    ...     current_formats()
    ['png', 'pdf']
    >>> current_formats()
    ['png']
    """
    global _FORMATS
    extra = [f.lower().lstrip(".") for f in (formats or [])]
    bad = sorted(set(extra) - {"png", "pdf", "svg"})
    if bad:
        from rnn_theory.theory.errors import RNNTheoryError

        raise RNNTheoryError(f"figure format {bad[0]!r} is not supported; use png, pdf or svg")
    old = _FORMATS
    _FORMATS = ["png"] + [f for f in dict.fromkeys(extra) if f != "png"]
    try:
        yield list(_FORMATS)
    finally:
        _FORMATS = old


def add_format_argument(parser):
    """Add ``--format {pdf,svg} ...`` (figures also in vector formats; PNG is always written)."""
    parser.add_argument("--format", nargs="+", choices=("png", "pdf", "svg"), default=[], metavar="FMT",
                        help="also write each figure as FMT (pdf, svg); a PNG is always written")


def current_formats() -> list:
    """The formats :func:`save_figure` writes now (``['png']`` unless :func:`figure_formats`)."""
    return list(_FORMATS)


def save_figure(fig, path, dpi: int | None = None) -> Path:
    """Save ``fig`` as PNG at ``path`` (and each :func:`current_formats` beside it), atomically.

    Each file is written to a temporary name and renamed; the figure is closed.  Returns the
    PNG path.
    """
    import matplotlib.pyplot as plt

    from rnn_theory.numerics.infra.outputs import check_file_target, make_temp_file

    path = Path(path).with_suffix(".png")
    try:
        for fmt in current_formats():
            # never replaces a file the package did not write; umask permissions
            target = check_file_target(path.with_suffix("." + fmt))
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = make_temp_file(target.parent, target.name)
            os.close(fd)
            try:
                fig.savefig(tmp, dpi=dpi or STYLE["savefig.dpi"], format=fmt)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    finally:
        plt.close(fig)
    return path


def param_color(value: float, name: str = "g"):
    """The colour of parameter ``name`` at ``value``: the same in every figure.

    ``value`` is placed on :data:`PARAM_RANGES` ``[name]`` (log10 for the names in
    :data:`LOG_PARAMS`: ``lr``, ``n`` and ``gamma``) and read off the plasma map, truncated at
    0.9 so that no curve is pale yellow.

    >>> param_color(0.0) == param_color(0.0)
    True
    >>> param_color(0.0) != param_color(0.9)
    True
    """
    import matplotlib

    lo, hi = PARAM_RANGES.get(name, (0.0, 1.0))
    v = float(value)
    if name in LOG_PARAMS:
        v = np.log10(max(v, 1e-300))
    x = 0.9 * float(np.clip((v - lo) / (hi - lo), 0.0, 1.0))
    return matplotlib.colormaps[_CMAP](x)


def log_ylim(ax, values, *, floor: float = 1e-10, pad: float = 2.0, note=True):
    r"""Log-scale y-limits that show ``values`` down to ``floor`` times their maximum.

    Simulated losses that reach the floating-point floor (:math:`10^{-30}`) would otherwise
    stretch the axis over thirty decades.  Values below ``floor``·max stay drawn but fall
    off the axis; with ``note`` the panel says so (``note`` may be a format string with
    ``{lo}``; the default names round-off as the reason).  Returns the limits, or ``None`` when
    nothing is finite and positive.
    """
    arrays = [np.ravel(np.asarray(x, float)) for x in values]
    v = np.concatenate(arrays) if arrays else np.zeros(0)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return None
    hi = float(v.max())
    lo = max(float(v.min()), hi * floor)
    lims = (lo / pad, hi * pad)
    ax.set_yscale("log")
    ax.set_ylim(*lims)
    if note and float(v.min()) < lims[0]:
        text = note if isinstance(note, str) else "values below {lo} (round-off) off axis"
        ax.text(0.02, 0.02, text.format(lo=f"{lims[0]:.0e}"), transform=ax.transAxes,
                fontsize=6.5, color="0.35", va="bottom")
    return lims


def mark_unconverged(ax, x, y, text: str, color="k"):
    """Mark a run that did not converge or diverged: a cross at ``(x, y)`` and a short note.

    The marker carries a legend label, so the legend explains it.
    """
    ax.plot([x], [y], marker="x", ms=8, mew=2, color=color, ls="none", label=text, zorder=5)
    ax.annotate(text, (x, y), xytext=(-4, 6), textcoords="offset points", fontsize=7, color=color,
                ha="right")
