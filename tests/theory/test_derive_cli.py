"""`rnn-theory derive`: prints every result with its checks, LaTeX mode, exit codes, docs."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_theory.numerics import cli
from rnn_theory.theory import registry
from rnn_theory.theory.derivation import Check, Derivation

MY_MODULES = ["rnn_theory.theory.linear", "rnn_theory.theory.random_matrix", "rnn_theory.theory.exact_g0",
              "rnn_theory.theory.exact_g0_eigen"]
DOC = Path(__file__).resolve().parents[2] / "docs" / "derivations.md"


def test_derive_prints_all_and_passes(capsys):
    rc = cli.main(["derive"])
    out = capsys.readouterr().out
    assert rc == 0, out
    for _, d in registry.all_derivations(MY_MODULES):
        assert f"[{d.key}]" in out
    for item in ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"):
        assert f"[{item}." in out
    assert "0 failed" in out and "✗" not in out


def test_derive_latex_and_only(capsys):
    rc = cli.main(["derive", "--latex", "--only", "R6"])
    out = capsys.readouterr().out
    assert rc == 0
    assert r"\begin{align}" in out and r"\tilde{\tau}" in out and "[R5." not in out
    assert "$$" not in out and "✓" not in out
    # every line outside the align environments is a LaTeX comment
    inside = False
    for line in out.splitlines():
        if line.startswith(r"\begin{align}"):
            inside = True
        elif line.startswith(r"\end{align}"):
            inside = False
        elif line and not inside:
            assert line.startswith("%"), line


def test_derive_only_without_match_is_an_error(capsys):
    rc = cli.main(["derive", "--only", "ZZ"])
    err = capsys.readouterr().err
    assert rc == 2 and "--only ZZ" in err and err.count("\n") == 1


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="pdflatex not installed (Debian: apt-get install texlive-latex-base); CI installs it")
def test_derive_latex_compiles_with_pdflatex(tmp_path, capsys):
    """The whole `derive --latex --standalone` output is a LaTeX document that compiles."""
    assert cli.main(["derive", "--latex", "--standalone"]) == 0
    tex = tmp_path / "derivations.tex"
    tex.write_text(capsys.readouterr().out, encoding="utf-8")
    out = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    assert (tmp_path / "derivations.pdf").stat().st_size > 0
    assert "Undefined control sequence" not in out.stdout


def test_derive_fails_on_a_failing_check(monkeypatch, capsys):
    bad = [("rnn_theory.theory.fake", Derivation("X.bad", "a deliberately wrong statement", 0, [Check("1 == 2", False)]))]
    monkeypatch.setattr(registry, "all_derivations", lambda modules=None, **kw: bad)
    rc = cli.main(["derive"])
    out = capsys.readouterr().out
    assert rc == 1 and "FAILED" in out and "✗ 1 == 2" in out


def test_registry_skips_only_missing_modules(monkeypatch):
    mods = registry.available_modules(["rnn_theory.theory.random_matrix", "rnn_theory.theory.no_such_module_xyz"])
    assert [m.__name__ for m in mods] == ["rnn_theory.theory.random_matrix"]
    # a module that exists but fails to import something else must not be hidden

    class Finder:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name == "rnn_theory.theory.broken_for_test":
                raise ModuleNotFoundError("No module named 'missing_dep'", name="missing_dep")
            return None

    monkeypatch.setattr(sys, "meta_path", [Finder()] + sys.meta_path)
    with pytest.raises(ModuleNotFoundError):
        registry.available_modules(["rnn_theory.theory.broken_for_test"])


def test_every_derivation_key_is_documented():
    text = DOC.read_text(encoding="utf-8")
    missing = [d.key for _, d in registry.all_derivations(MY_MODULES) if f"`{d.key}`" not in text]
    assert not missing, f"docs/derivations.md lacks {missing}; regenerate its appendix with rnn-theory derive --latex"


def test_documented_latex_is_current():
    """The appendix of docs/derivations.md is the output of `rnn-theory derive --latex`."""
    text = DOC.read_text(encoding="utf-8")
    stale = [d.key for _, d in registry.all_derivations(MY_MODULES) if d.latex() not in text]
    assert not stale, f"stale LaTeX for {stale}; regenerate with python -m rnn_theory.theory.registry --update docs/derivations.md"
    # exact comparison of the whole generated block (a substring test let "- \epsilon ..." pass
    # for "\epsilon ...": a sign flip of dL/dW survived it)
    block = text[text.index(registry.BEGIN) + len(registry.BEGIN): text.index(registry.END)]
    assert block == "\n\n" + registry.markdown(MY_MODULES) + "\n", \
        "docs/derivations.md appendix differs from the generated output; regenerate with --update"
