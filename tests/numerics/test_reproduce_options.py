"""``reproduce --float32 / --as-published``: argument plumbing and the output-folder guard."""
import argparse
import json

import pytest

from rnn_theory.numerics.cli.commands import reproduce as R
from rnn_theory.theory.errors import DomainError, RNNTheoryError


def _args(name, **kw):
    return argparse.Namespace(name=name, float32=kw.get("float32", False),
                              as_published=kw.get("as_published", False))


def _fn(name):
    import importlib

    mod, fn, _ = R.TARGETS[name]
    return getattr(importlib.import_module(mod), fn)


@pytest.mark.parametrize("name", sorted(R.TARGETS))
def test_every_reproduction_takes_a_dtype(name):
    import inspect

    assert "dtype" in inspect.signature(_fn(name)).parameters
    assert R._variant_kwargs(_args(name, float32=True), _fn(name)) == {"dtype": "float32"}
    assert R._variant_kwargs(_args(name), _fn(name)) == {}


def test_as_published_only_where_it_applies():
    assert R._variant_kwargs(_args("zhu-linear", as_published=True), _fn("zhu-linear")) == {"as_published": True}
    with pytest.raises(RNNTheoryError, match="does not apply to schuessler-fig2.*zhu-linear"):
        R._variant_kwargs(_args("schuessler-fig2", as_published=True), _fn("schuessler-fig2"))


def test_options_are_recorded_and_never_mixed(tmp_path):
    R._record_options(tmp_path, "zhu-linear", {"dtype": "float32"})
    assert json.loads((tmp_path / "reproduce-options.json").read_text())["dtype"] == "float32"
    R._record_options(tmp_path, "zhu-linear", {"dtype": "float32"})            # same options: resume
    with pytest.raises(RNNTheoryError, match="do not mix"):
        R._record_options(tmp_path, "zhu-linear", {})
    old = tmp_path / "old"
    (old / "runs").mkdir(parents=True)                                        # made before the options file
    R._record_options(old, "zhu-linear", {})
    (old / "reproduce-options.json").unlink()
    with pytest.raises(RNNTheoryError, match="before options were recorded"):
        R._record_options(old, "zhu-linear", {"as_published": True})


def test_float64_only_reproductions_say_so(tmp_path):
    with pytest.raises(RNNTheoryError, match="float64 only"):
        _fn("schuessler-fig3")(tmp_path, quick=True, seed=0, workers=1, show_progress=False, dtype="float32")
    with pytest.raises(RNNTheoryError, match="float64 only"):
        _fn("zhu-digits")(tmp_path, quick=True, seed=0, workers=1, show_progress=False, dtype="float32")
    assert not (tmp_path / "runs").exists()


def test_farrell_config_options():
    from rnn_theory.numerics.representations.farrell_model import FarrellConfig, init_farrell

    _, net = init_farrell(FarrellConfig(N=20, d=20, dtype="float32", lyapunov="paper", lyap_exponents=5))
    assert str(net.dtype) == "float32"
    with pytest.raises(DomainError, match="dtype"):
        FarrellConfig(dtype="float16")
    with pytest.raises(DomainError, match="lyapunov"):
        FarrellConfig(lyapunov="authors")
