"""Measure the effect of each difference from the published code (docs/differences.md).

Usage: ``python benchmarks/differences.py [--quick] [PART ...]`` with PART in ``zhu_dw2``,
``zhu_angles``, ``digits``, ``lyapunov``, ``float32``, ``linear_readout`` (default: all);
``--quick`` runs the zhu parts at the reproduction's quick size (n = 60, m = 30, 600 iterations).
Prints one block of numbers per part; every number in docs/differences.md comes from here.
Single process; minutes per part on a loaded 2-core machine.
"""
from __future__ import annotations

import sys
import time

import numpy as np


SIZE = {"n": 200, "m": 100, "iterations": 3500}


def zhu_dw2():
    from rnn_theory.numerics.fixed_point.linear_experiment import learning_curve, make_problem

    n, m, its = SIZE["n"], SIZE["m"], SIZE["iterations"]
    p = make_problem(np.random.default_rng(0), n=n, m=m)      # the reproduction's seed-0 problem
    print(f"zhu_dw2: n = {n}, m = {m}, {its} iterations; |J_paper - J_clean| / J_clean")
    for lr in (0.03, 0.1, 0.3, 1.0, 3.0):
        c = learning_curve(p, "dW2", lr, its)["loss"]
        q = learning_curve(p, "dW2", lr, its, variant="paper")["loss"]
        k = min(len(c), len(q))
        rel = np.abs(q[:k] - c[:k]) / c[:k]
        ok = c[:k] > 1e-12 * c[0]          # above round-off: near 1e-29 the ratio is noise
        j = np.flatnonzero(ok)[rel[ok].argmax()]
        print(f"  lr {lr:<5g} max while J > 1e-12 J0: {rel[ok].max():.3g} (at it {j}), "
              f"at it 100 {rel[100]:.3g}, final J clean {c[-1]:.3g} paper {q[-1]:.3g}")


def zhu_angles():
    from rnn_theory.numerics.fixed_point.linear_experiment import angles, make_problem

    n, m, iterations = SIZE["n"], SIZE["m"], SIZE["iterations"] // 2
    p = make_problem(np.random.default_rng(0), n=n, m=m)
    print(f"zhu_angles: n = {n}, m = {m}, {iterations} iterations; theta23 mean (deg) clean / paper")
    r = None
    for lr in (0.03, 0.1, 0.3, 1.0):
        c = angles(p, lr, iterations)["angle_23"]
        a = angles(p, lr, iterations, variant="paper", r_stale=r)
        r = a["r_last"]
        q = a["angle_23"]
        print(f"  lr {lr:<5g} clean {c.mean():.4g} paper {q.mean():.4g} ratio {q.mean() / c.mean():.3g} "
              f"(first iteration: {c[0]:.3g} vs {q[0]:.3g})")


def digits():
    from rnn_theory.numerics.fixed_point import backprop_fixed_point, output_error, solve_fixed_point
    from rnn_theory.numerics.fixed_point.digits import load_digits_split
    from rnn_theory.numerics.fixed_point.euler_bptt import euler_bptt_factors
    from rnn_theory.numerics.fixed_point.network import FixedPointNet
    from rnn_theory.numerics.fixed_point.solver import euler_fixed_point

    data = load_digits_split(np.random.default_rng(0))
    net = FixedPointNet.init(np.random.default_rng([0, 1]), data.n_features, (100,), 10)
    x, y = data.X_train[:512], data.y_train[:512]
    W, U, R = net.Ws[0], net.Us[0], net.R
    h = x @ U.T
    r_star = solve_fixed_point(W, h).r
    r_e = euler_fixed_point(W, h)
    rel_state = np.linalg.norm(r_e - r_star, axis=1) / np.linalg.norm(r_star, axis=1)
    _, d_star = output_error(R, r_star, y)
    _, d_e = output_error(R, r_e, y)
    implicit = backprop_fixed_point(W, r_star, d_star).T @ r_star
    bptt = euler_bptt_factors(W, h, d_e)[0]
    print("digits: N = 100, rho = 0.5, 512 training images, at initialisation")
    print(f"  Euler state (500 steps, dt/tau = 0.01) vs fixed point: relative error median "
          f"{np.median(rel_state):.3g}, max {rel_state.max():.3g}")
    print(f"  BPTT gradient vs implicit gradient: |diff|/|implicit| = "
          f"{np.linalg.norm(bptt - implicit) / np.linalg.norm(implicit):.3g}")


def lyapunov():
    from rnn_theory.numerics.representations.farrell_model import farrell_W
    from rnn_theory.numerics.representations.lyapunov import lyapunov_spectrum

    print("lyapunov: N = 200, 10 exponents (bits/step), Farrell's stopping rules")
    for gamma in (20.0, 250.0):
        W = farrell_W(200, gamma, np.random.default_rng(0))
        out = {}
        for label, kw in (("clean", {}), ("qr order", {"order": "qr"}), ("jacobian next", {"jacobian": "next"}),
                          ("paper stopping", {"stopping": "paper"}),
                          ("paper (both)", {"jacobian": "next", "stopping": "paper"})):
            t0 = time.perf_counter()
            res = lyapunov_spectrum(W, rng=np.random.default_rng(1), n_exponents=10, **kw)
            out[label] = res
            inv = int(np.sum(np.diff(res.exponents_bits) > 0))
            print(f"  gamma {gamma:g} {label:15s} top3 {np.round(res.exponents_bits[:3], 5)} "
                  f"chaoticity {res.chaoticity():.5f} inits {res.n_init} steps {res.steps.tolist()} "
                  f"order inversions {inv} ({time.perf_counter() - t0:.1f} s)")


def float32(seeds=(0, 1, 2)):
    from rnn_theory.numerics.fixed_point.linear_experiment import learning_curve, make_problem
    from rnn_theory.numerics.reproduce.schuessler_nonlinear import make_config, run_config

    print("float32 vs float64 (difference against the spread over seeds)")
    f64, d = [], []
    for s in seeds:
        p = make_problem(np.random.default_rng(s), n=60, m=30)
        a = np.log10(learning_curve(p, "dW3", 1.0, 600)["loss"][[100, 600]])
        b = np.log10(learning_curve(p, "dW3", 1.0, 600, dtype=np.float32)["loss"][[100, 600]])
        f64.append(a)
        d.append(np.abs(a - b))
    f64, d = np.array(f64), np.array(d)
    print(f"  zhu-linear quick (n 60, dW3, lr 1): log10 J at it 100 / 600: f64 sd over seeds "
          f"{np.std(f64, axis=0, ddof=1).round(3)}, max |f32 - f64| {d.max(axis=0).round(4)}")
    fin = {"float64": [], "float32": []}
    for s in seeds:
        for dt in fin:
            cfg = make_config("flipflop", 0.9, s, n=64, steps=200, n_snapshots=0, dtype=dt, analyze=False)
            _, hist, _ = run_config(cfg)
            fin[dt].append(np.log10(np.mean(hist["loss"][-20:])))
    a, b = np.array(fin["float64"]), np.array(fin["float32"])
    print(f"  flip-flop N 64, g 0.9, 200 Adam steps: log10 final loss f64 {a.round(3)} (sd {a.std(ddof=1):.3f}), "
          f"max |f32 - f64| {np.abs(a - b).max():.4f}")


def linear_readout():
    from rnn_theory.numerics.linear import train_linear

    print("linear_readout: N = 256, g = 0.6, lr0 = 0.006, 200 steps; fixed-point vs Euler/BPTT (202 steps)")
    for zh in (0.5, 2.0):
        a = train_linear(256, 0.6, zh, 0.006, 200, np.random.default_rng(0))
        b = train_linear(256, 0.6, zh, 0.006, 200, np.random.default_rng(0), method="bptt")
        rel = np.linalg.norm(a.dW - b.dW) / np.linalg.norm(a.dW)
        print(f"  zhat {zh}: |dW_fp - dW_bptt| / |dW_fp| = {rel:.3g}; final loss {a.loss[-1]:.4g} vs {b.loss[-1]:.4g}")


PARTS = {f.__name__: f for f in (zhu_dw2, zhu_angles, digits, lyapunov, float32, linear_readout)}

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--quick" in args:
        args.remove("--quick")
        SIZE.update(n=60, m=30, iterations=600)
    for name in args or PARTS:
        t0 = time.perf_counter()
        PARTS[name]()
        print(f"  [{name}: {time.perf_counter() - t0:.0f} s wall, loaded machine]", flush=True)
