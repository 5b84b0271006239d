"""A user's own derivations and checks go through `derive --module` and `check --module`."""
import shutil
import sys
from pathlib import Path

import pytest

from rnn_theory.numerics import cli
from rnn_theory.numerics.checks.user import user_check_modules
from rnn_theory.theory import registry

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "loss_fraction_time.py"


@pytest.fixture()
def modules(tmp_path):
    """The documented example (right) and the same with the documented deliberate bug."""
    good = tmp_path / "right_law.py"
    shutil.copy(EXAMPLE, good)
    bad = tmp_path / "wrong_law.py"
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "\nFACTOR = 2 " in text
    bad.write_text(text.replace("\nFACTOR = 2 ", "\nFACTOR = 1 "), encoding="utf-8")
    return good, bad


def test_derive_module_passes_and_fails(modules, capsys):
    good, bad = modules
    assert cli.main(["derive", "--module", str(good), "--only", "U1"]) == 0
    out = capsys.readouterr().out
    assert "[U1.tau_eps] (right_law)" in out and "2 checks, 0 failed" in out
    assert cli.main(["derive", "--module", str(good), "--module", str(bad), "--only", "U1", "--latex"]) == 1
    out = capsys.readouterr().out
    assert out.count(r"\begin{align}") == 2 and "% (wrong_law) FAILED" in out and "%   FAIL:" in out


def test_check_module_rows_pass_and_fail(modules, capsys):
    good, bad = modules
    rc = cli.main(["check", "--quick", "--no-progress", "--module", str(good), "--only", "right_law"])
    out = capsys.readouterr().out
    assert rc == 0 and "[right_law]" in out and "2 passed, 0 failed" in out
    rc = cli.main(["check", "--quick", "--no-progress", "--module", str(bad), "--only", "wrong_law"])
    out = capsys.readouterr().out
    assert rc == 1 and "0 passed, 2 failed" in out


@pytest.mark.parametrize("spec, message", [
    ("no_such_user_module_xyz", "cannot import it"),
    ("missing_file.py", "no such file"),
    ("json", "has no function derivations()"),
])
def test_bad_module_is_one_clear_error(spec, message, capsys):
    assert cli.main(["derive", "--module", spec, "--only", "R7"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_module_by_dotted_name_from_the_current_directory(tmp_path, monkeypatch, modules):
    good, _ = modules
    shutil.copy(good, tmp_path / "my_user_theory.py")
    monkeypatch.chdir(tmp_path)
    items = registry.all_derivations(modules=["rnn_theory.theory.random_matrix"], user_modules=["my_user_theory"])
    assert ("my_user_theory", "U1.tau_eps") in [(m, d.key) for m, d in items]
    sys.modules.pop("my_user_theory", None)


def test_entry_point_group_registers_modules(tmp_path, monkeypatch, modules):
    good, _ = modules
    shutil.copy(good, tmp_path / "ep_user_theory.py")
    dist = tmp_path / "ep_user_theory-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-user-theory\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[rnn_theory.derivations]\nmine = ep_user_theory\n\n"
                                           "[rnn_theory.checks]\nmine = ep_user_theory\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "ep_user_theory" in registry.registered_modules()
    assert [label for label, _ in user_check_modules()] == ["ep_user_theory"]
    sys.modules.pop("ep_user_theory", None)
