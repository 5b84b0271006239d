"""Regenerate the gallery images: run each reproduction in quick mode and copy its PNGs.

    python docs/gallery/make_gallery.py [NAME ...] [--work DIR]

Each NAME (default: every entry of GALLERY) runs ``rnn-theory reproduce NAME --quick``
in ``DIR/NAME`` (default: a temporary folder) and copies the listed PNGs to
``docs/gallery/images/NAME-<file>.png``.  The images are committed, so building the site
does not rerun the simulations (quick mode takes from seconds to about an hour on two busy
cores, see each page).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: reproduction -> PNG files it writes
GALLERY = {
    "schuessler-fig1": ["fig1.png"],
    "schuessler-fig2": ["fig2.png"],
    "schuessler-fig3": ["fig3.png"],
    "schuessler-fig4": ["fig4.png"],
    "schuessler-cosine": ["cosine.png"],
    "schuessler-nscaling": ["nscaling.png"],
    "zhu-linear": ["learning_curves.png", "angles.png", "landscape.png"],
    "farrell-fig2": ["pr.png", "lyapunov.png", "accuracy.png", "holdout.png"],
    "farrell-fig3": ["pr.png", "lyapunov.png", "accuracy.png", "holdout.png"],
    "farrell-fig4": ["pr.png", "lyapunov.png", "accuracy.png", "holdout.png"],
    "farrell-fig5": ["pr.png", "pr_lowd.png", "pr_noise.png"],
    "schuessler-lstm": ["truncation.png", "singular_values.png"],
    "zhu-digits": ["digits.png", "two_layer_digits.png"],
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(GALLERY))
    ap.add_argument("--work", type=Path, default=None, help="folder for the runs (default: temporary)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="rnn-gallery-"))
    (HERE / "images").mkdir(exist_ok=True)
    for name in args.names:
        out = work / name
        subprocess.run([sys.executable, "-m", "rnn_theory.numerics", "reproduce", name, "--quick",
                        "--out", str(out)], check=True)
        for png in GALLERY[name]:
            shutil.copyfile(out / png, HERE / "images" / f"{name}-{png}")
            print(HERE / "images" / f"{name}-{png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
