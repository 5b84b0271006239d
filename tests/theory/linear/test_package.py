"""The package ``rnn_theory.theory.linear``: re-exported names and the derivation registry."""
import importlib

import pytest

from rnn_theory.theory import linear as L


def test_derivations_all_pass():
    ds = L.derivations()
    keys = [d.key for d in ds]
    for k in ("R1.gradient", "R2.identities", "R4.G0", "R5.tau_c", "R6.z", "R6.s2", "R7.shuffle"):
        assert k in keys
    bad = [(d.key, c.description) for d in ds for c in d.checks if not c.passed]
    assert not bad


@pytest.mark.parametrize("name", L.__all__ + ["g", "beta", "tau", "tau_t", "zhat", "z0", "p_w", "p_m"])
def test_names_are_reexported(name):
    assert hasattr(L, name)


def test_reexports_are_the_submodule_objects():
    for mod, names in {"curves": ["third_order", "series_curves", "curve_function"],
                       "first_order": ["speedup", "first_order", "convergence_time"],
                       "shuffle": ["shuffle_loss_ratio", "shuffle_derivation"],
                       "third_order": ["third_order_series"], "higher_order": ["series_solution"],
                       "gradient": ["readout_gradient"], "identities": ["identities_derivation"],
                       "symbols": ["g", "beta", "tau_t", "zhat"]}.items():
        sub = importlib.import_module(f"rnn_theory.theory.linear.{mod}")
        for n in names:
            assert getattr(L, n) is getattr(sub, n), (mod, n)
