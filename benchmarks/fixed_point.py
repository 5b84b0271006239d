"""Speed targets for fixed-point learning (issue 5).  Run: ``python benchmarks/fixed_point.py``.

1. Per-step update direction at N = 300, batch 512 (MNIST-like inputs, solved fixed
   points): dW1 (one N×N solve per sample, O(BN³)) vs dW3 (matrix–vector products,
   O(BN²)).  Target: dW3 ≥ 5× faster.  Also the whole step including the fixed-point solve.
2. Fixed-point solver vs the authors' 500 Euler steps (dt/τ = 0.01) at equal or better
   accuracy.  Target: ≥ 10× faster.  Reported: the default solver (``method="auto"``:
   Newton with a Picard predictor), pure Newton with matrix-free GMRES Newton systems,
   Picard and Anderson (``--with-lu`` adds Newton with dense LU, O(BN³) per iteration).
   At rho = 0.5 the default's Picard fast path is certified stable by contraction (no
   extra cost).  ``[boundary]``: at rho = 1.2 (the map stalls) the default relaxes along
   the dynamics, polishes by Newton and checks eigenvalues (O(N³) per sample) — the price
   of returning the stable fixed point the dynamics reach, vs plain Newton.

Times are CPU seconds of this process (``time.process_time``; run with
OMP_NUM_THREADS=1 so that equals single-core time and is robust to other load), minimum
over ``--repeats``; ratios are measured in one run.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from rnn_theory.numerics.fixed_point import (
    euler_fixed_point,
    output_error,
    solve_fixed_point,
    stability_report,
    update_direction,
)
from rnn_theory.theory.errors import NoStableFixedPoint


def best(fn, repeats):
    t = []
    out = None
    for _ in range(repeats):
        t0 = time.process_time()
        out = fn()
        t.append(time.process_time() - t0)
    return min(t), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--with-lu", action="store_true", help="also time Newton with dense LU (slow)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    N, B, Nx = args.n, args.batch, 784
    W = 0.5 * rng.standard_normal((N, N)) / np.sqrt(N)
    Wx = rng.standard_normal((N, Nx)) / np.sqrt(Nx)
    R = rng.standard_normal((10, N)) / np.sqrt(N)
    x = rng.random((B, Nx))
    y = rng.integers(0, 10, B)
    h = x @ Wx.T
    print(f"fixed-point benchmark: N = {N}, batch = {B}, N_x = {Nx}, rho = 0.5")

    # ---- 2. solver: Newton vs 500 Euler steps
    exact = solve_fixed_point(W, h, tol=1e-13, linear_solver="lu").r
    rel = lambda r: float(np.linalg.norm(r - exact) / np.linalg.norm(exact))  # noqa: E731
    t_eu, r_eu = best(lambda: euler_fixed_point(W, h, 500, 0.01), args.repeats)
    print(f"\n[solver] Euler 500 steps (faithful mode):   {t_eu * 1e3:9.1f} ms   rel. error {rel(r_eu):.2e}")
    rows = {}
    cases = [("default (auto) tol 1e-10", dict(tol=1e-10)),
             ("Newton-GMRES tol 1e-10", dict(method="newton", tol=1e-10, linear_solver="gmres")),
             ("Newton-GMRES tol 1e-6", dict(method="newton", tol=1e-6, linear_solver="gmres")),
             ("Newton-GMRES tol 1e-3", dict(method="newton", tol=1e-3, linear_solver="gmres")),
             ("Picard tol 1e-10", dict(method="damped", beta=1.0, tol=1e-10)),
             ("Anderson tol 1e-10", dict(method="anderson", beta=1.0, anderson_m=3, tol=1e-10))]
    if args.with_lu:
        cases.append(("Newton-LU tol 1e-10", dict(method="newton", tol=1e-10, linear_solver="lu")))
    for label, kw in cases:
        t, fp = best(lambda kw=kw: solve_fixed_point(W, h, **kw), args.repeats)
        e = rel(fp.r)
        rows[label] = t
        print(f"[solver] {label:26s}         {t * 1e3:9.1f} ms   rel. error {e:.2e}   "
              f"speed-up vs Euler {t_eu / t:6.1f}x   ({'more' if e <= rel(r_eu) else 'LESS'} accurate; {fp.method})")
    ratio = t_eu / rows["default (auto) tol 1e-10"]
    print(f"[solver] target: default solver >= 10x faster than 500 Euler steps at better accuracy: "
          f"{ratio:.1f}x -> {'PASS' if ratio >= 10 else 'MISS'}; pure Newton-GMRES: "
          f"{t_eu / rows['Newton-GMRES tol 1e-10']:.1f}x (tol 1e-10), "
          f"{t_eu / rows['Newton-GMRES tol 1e-6']:.1f}x (tol 1e-6), "
          f"{t_eu / rows['Newton-GMRES tol 1e-3']:.1f}x (tol 1e-3, still far more accurate than Euler)")

    # ---- 2b. near the stability boundary: cost of returning the *stable* fixed point
    near_boundary(args, rng, Nx)

    # ---- 1. update direction: dW1 vs dW3
    r = exact
    _, delta = output_error(R, r, y)
    t1, d1 = best(lambda: update_direction("dW1", W, r, delta), args.repeats)
    t3, d3 = best(lambda: update_direction("dW3", W, r, delta), args.repeats)
    t4, _ = best(lambda: update_direction("dW4", W, r, delta), args.repeats)
    print(f"\n[rules] dW1 direction (O(BN^3)): {t1 * 1e3:9.1f} ms")
    print(f"[rules] dW3 direction (O(BN^2)): {t3 * 1e3:9.1f} ms   dW1/dW3 = {t1 / t3:6.1f}x  "
          f"(target >= 5x: {'PASS' if t1 / t3 >= 5 else 'MISS'})")
    print(f"[rules] dW4 direction (O(BN^2)): {t4 * 1e3:9.1f} ms   dW1/dW4 = {t1 / t4:6.1f}x")
    step = lambda rule: (lambda: update_direction(rule, W, solve_fixed_point(W, h, tol=1e-10).r,  # noqa: E731
                                                  output_error(R, solve_fixed_point(W, h, tol=1e-10).r, y)[1]))
    ts1, _ = best(step("dW1"), 1)
    ts3, _ = best(step("dW3"), 1)
    print(f"[rules] whole step incl. fixed point (solved twice here): dW1 {ts1 * 1e3:.0f} ms, "
          f"dW3 {ts3 * 1e3:.0f} ms, ratio {ts1 / ts3:.1f}x")
    print(f"[rules] <dW1, dW3>_F > 0: {float(np.sum(d1 * d3)) > 0}")
    return 0


def near_boundary(args, rng, Nx):
    """rho = 1.2 (the map stalls): the default (relaxation + Newton polish + eigenvalue check
    per sample) vs plain Newton (may return unstable points) and Newton + eigenvalue check."""
    N, B = args.n, min(args.batch, 128)
    W = 1.2 * rng.standard_normal((N, N)) / np.sqrt(N)
    h = rng.random((B, Nx)) @ (rng.standard_normal((N, Nx)) / np.sqrt(Nx)).T
    print(f"\n[boundary] rho = 1.2, N = {N}, batch = {B}")
    t_n, fp_n = best(lambda: solve_fixed_point(W, h, method="newton"), 1)
    unstable = int(np.sum(~stability_report(W, fp_n.r).stable))
    t_ne, _ = best(lambda: stability_report(W, fp_n.r), 1)
    try:
        t_a, fp_a = best(lambda: solve_fixed_point(W, h), 1)
        note = f"{fp_a.method}; {fp_a.certificate}"
    except NoStableFixedPoint as err:
        t_a, note = float("nan"), f"NoStableFixedPoint for {len(err.failing)} samples"
    print(f"[boundary] Newton (any fixed point):        {t_n * 1e3:9.1f} ms   ({unstable} of {B} unstable)")
    print(f"[boundary] Newton + eigenvalue check:       {(t_n + t_ne) * 1e3:9.1f} ms")
    print(f"[boundary] default (stable, reached):       {t_a * 1e3:9.1f} ms   ({note})")


if __name__ == "__main__":
    raise SystemExit(main())
