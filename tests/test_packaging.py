"""The package installs under its own namespace and records where results come from."""
import ast
import configparser
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import rnn_theory
from rnn_theory.numerics.infra.io import load_run, save_run
from rnn_theory.numerics.infra.provenance import provenance

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"rnn_theory": ROOT / "src" / "rnn_theory", "rnn_theory.theory": ROOT / "theory",
           "rnn_theory.numerics": ROOT / "numerics"}


def _listed_packages():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return set(cfg["options"]["packages"].split())


def test_every_package_folder_is_listed_in_setup_cfg():
    found = set()
    for name, folder in FOLDERS.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder).parts
            found.add(".".join((name, *rel)))
    assert found == _listed_packages()


def test_no_module_imports_the_bare_top_level_names():
    """Inside the package every import is relative or starts with ``rnn_theory.``."""
    bad = []
    for folder in FOLDERS.values():
        for py in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                bad += [f"{py}:{node.lineno} {n}" for n in names if n.split(".")[0] in ("theory", "numerics")]
    assert bad == []


def test_user_files_named_theory_and_numerics_do_not_shadow_the_package(tmp_path):
    (tmp_path / "theory.py").write_text("raise SystemExit('the user theory.py was imported')\n")
    (tmp_path / "numerics.py").write_text("raise SystemExit('the user numerics.py was imported')\n")
    (tmp_path / "notes").mkdir()
    code = ("import rnn_theory.theory.linear as tl, rnn_theory.numerics.linear as nl\n"
        "from rnn_theory.theory.exact_g0 import final_state\n"
        "print(round(final_state(1.0)['b'], 6), tl.speedup(0.6), callable(nl.train_linear))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.593926", "2.44140625", "True"]
    cli = subprocess.run([sys.executable, "-m", "rnn_theory", "--version"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert cli.returncode == 0 and cli.stdout.strip() == f"rnn-theory {rnn_theory.__version__}"


def test_run_folder_records_provenance(tmp_path):
    d = save_run(tmp_path / "run", {"g": 0.5, "seed": 3}, {"W": np.eye(2)}, {"step": [0]})
    cfg = load_run(d).config
    assert cfg["g"] == 0.5 and cfg["seed"] == 3
    p = cfg["provenance"]
    assert p["version"] == rnn_theory.__version__
    assert set(p["libraries"]) == {"numpy", "scipy", "sympy", "mpmath"}
    assert p["libraries"]["numpy"] == np.__version__
    assert p["python"] == ".".join(map(str, sys.version_info[:3]))
    on_disk = json.loads((d / "config.json").read_text())
    assert on_disk["provenance"] == provenance()


def test_no_control_characters_in_sources():
    """A docstring written through a non-raw string turns ``\\tau`` into a TAB and ``\\varphi``
    into a vertical tab; the rendered maths is then wrong.  No source has them."""
    bad = [f"{py}:{i}" for folder in FOLDERS.values() for py in folder.rglob("*.py")
           for i, line in enumerate(py.read_text(encoding="utf-8").splitlines(), 1)
           if any(ch in line for ch in "\t\x0b\x0c\r")]
    assert bad == []


def test_command_descriptions_use_no_sphinx_roles():
    """Each command's description (its module docstring) is rendered in the CLI reference by
    sphinx-argparse with a bare docutils parser, where a Sphinx role (:func:`x`) crashes the
    docs build: plain ``literals`` only."""
    import re

    from rnn_theory.numerics.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        roles = re.findall(r":[a-z]+:`[^`]*`", p.description or "")
        assert not roles, (name, roles)
