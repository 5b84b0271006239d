"""Optional plotting support (``[plot]`` extra): matplotlib with the Agg backend.

Figures are a convenience on top of the CSV files that every reproduction writes;
without matplotlib :func:`pyplot` returns ``None`` and callers skip their PNGs.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["pyplot", "save_figure"]


def pyplot():
    """Return ``matplotlib.pyplot`` using the non-interactive Agg backend, or ``None``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_figure(fig, path, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG at ``path`` atomically (temporary file, then rename) and close it."""
    import matplotlib.pyplot as plt

    from rnn_theory.numerics.infra.outputs import check_file_target, make_temp_file

    path = check_file_target(path)  # never replaces a file the package did not write
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp_file(path.parent, path.name)  # umask permissions
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format=(path.suffix[1:] or "png"))
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
