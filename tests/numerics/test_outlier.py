"""numerics.linear.outlier: the finite-N outlier of W0 + dW, and the outlier check (beyond the paper)."""
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from rnn_theory.numerics.linear.network import draw_network
from rnn_theory.numerics.linear.outlier import W0Spectrum, finite_n_outlier, outlier_trajectory
from rnn_theory.numerics.linear.training import train_fixed_point
from rnn_theory.theory.errors import DomainError


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(40, 160), g=st.floats(0.0, 0.9), s=st.floats(0.2, 1.5))
@example(seed=0, n=100, g=0.6, s=0.9)
@example(seed=1, n=60, g=0.0, s=0.5)
def test_finite_n_outlier_equals_dense_top_real_eigenvalue(seed, n, g, s):
    """The determinant route vs a dense eigensolver on W = W0 + dW with a rank-3 dW."""
    rng = np.random.default_rng(seed)
    W0, m, w = draw_network(n, g, rng)
    a, b, c = (x / np.linalg.norm(x) for x in rng.standard_normal((3, n)))
    dW = s * np.outer(a, a) + 0.3 * s * np.outer(b, c) + 0.1 * np.outer(c, a)
    spec = W0Spectrum(W0)
    lam, resid = finite_n_outlier(spec, dW)
    ev = np.linalg.eigvals(W0 + dW)
    real = ev.real[np.abs(ev.imag) <= 1e-9]
    top = real.max() if real.size else -np.inf
    assume(abs(top - spec.top_real) > 1e-6)  # a tie with the bulk's top real eigenvalue is ambiguous
    assert resid < 1e-12
    if top > spec.top_real:
        assert abs(lam - top) <= 1e-9 * max(1.0, abs(top))
    else:
        assert np.isnan(lam)


def test_segmented_training_equals_one_run():
    """GD is memoryless: two segments from W0 + dW reproduce one run (round-off)."""
    W0, m, w = draw_network(64, 0.5, np.random.default_rng(3))
    one = train_fixed_point(W0, m, w, 2.0, 0.01, 30)
    a = train_fixed_point(W0, m, w, 2.0, 0.01, 12)
    b = train_fixed_point(W0 + a.dW, m, w, 2.0, 0.01, 18)
    np.testing.assert_allclose(a.dW + b.dW, one.dW, atol=1e-12)


def test_trajectory_rejects_bad_checkpoints():
    with pytest.raises(DomainError):
        outlier_trajectory(32, 0.5, 1.0, 0.01, [10, 5], seed=0)


@pytest.mark.slow
def test_outlier_check_rows_pass_quick():
    """The judged rows of `rnn-theory check --only outlier --quick` (N = 512, 6 seeds)."""
    from rnn_theory.numerics.checks import Settings, check_outlier

    rows = check_outlier(Settings(quick=True, show_progress=False))
    assert rows and all(r.passed is not False for r in rows), [(r.name, r.theory, r.simulated, r.tolerance) for r in rows]


def test_curves_command_writes_the_outlier_curve(tmp_path):
    from rnn_theory.numerics.cli import main
    from rnn_theory.numerics.infra.io import read_csv
    from rnn_theory.theory import exact_g0
    from rnn_theory.theory.outlier import emergence_time

    assert main(["curves", "--out", str(tmp_path), "--samples", "0", "--g", "0", "0.6", "--zhat", "2",
                 "--steps", "80"]) == 0
    c = read_csv(tmp_path / "outlier.csv")
    g, tt, lam = (np.array(c[k], dtype=float) for k in ("g", "tau_tilde", "lambda_out"))
    s0 = (g == 0) & (tt > 0)
    np.testing.assert_allclose(lam[s0], exact_g0.solve(2.0, tt[s0])["top_eig"], rtol=1e-9)
    ttc = emergence_time(0.6, 2.0)[1]
    s6 = g == 0.6
    assert np.all(np.isnan(lam[s6 & (tt < 0.99 * ttc)])) and np.all(lam[s6 & (tt > 1.01 * ttc)] > 0.6)
