"""Speed of one Adam training step of the NumPy rate-RNN trainer (issue 4).

Setting: flip-flop, N = 256, batch 32, 100 time steps, training W_in, W and W_out
(task generation + forward + loss + BPTT + Adam update).  Prints

* seconds per step in float64 and float32,
* the achieved GFLOP/s (counting the 6·B·T·N² flops of the recurrent products:
  forward, adjoint recursion and the ΔW gradient) against plain matrix-product
  measurements on the same machine: the per-time-step shape (B×N)·(N×N) and one
  large (B·T×N)ᵀ·(B·T×N) product,
* when PyTorch happens to be importable (never a dependency), an equivalent PyTorch CPU
  step (autograd, torch.optim.Adam) in float32 and float64 and the ratios.  Targets:
  NumPy float64 no slower than PyTorch float32; NumPy float32 at most 0.5× PyTorch
  float32's time.

Run single-threaded for comparable numbers::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/trainer.py

Times are CPU times of this process (``time.process_time``), which are far less
sensitive to other jobs on a shared machine than wall-clock times (everything runs on
one thread); the ratios (measured in one run) are what matters.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from rnn_theory.numerics.rate.model import RateRNN
from rnn_theory.numerics.rate.tasks import flipflop
from rnn_theory.numerics.rate.train import train


def _best(fn, repeats):
    ts = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        ts.append(time.process_time() - t)
    return float(np.median(ts)), float(np.min(ts))


def numpy_step_time(n, batch, dtype, steps, repeats):
    rng = np.random.default_rng(0)
    net = RateRNN.init(n, 2, 2, 0.9, rng, dtype=dtype)
    train(net, flipflop, 2, batch, 0.05 / n, rng)  # warm-up
    med, best = _best(lambda: train(net, flipflop, steps, batch, 0.05 / n, np.random.default_rng(1)), repeats)
    return med / steps, best / steps


def gemm_gflops(shape_a, shape_b, dtype, repeats=50):
    rng = np.random.default_rng(0)
    A = rng.standard_normal(shape_a).astype(dtype)
    B = rng.standard_normal(shape_b).astype(dtype)
    k = 20
    med, best = _best(lambda: [A @ B for _ in range(k)], repeats)
    return 2 * shape_a[0] * shape_a[1] * shape_b[1] * k / best / 1e9


def torch_step_time(n, batch, dtype_name, steps, repeats):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    dtype = getattr(torch, dtype_name)
    rng = np.random.default_rng(0)
    net = RateRNN.init(n, 2, 2, 0.9, rng)
    W = torch.tensor(net.W, dtype=dtype, requires_grad=True)
    W_in = torch.tensor(net.W_in, dtype=dtype, requires_grad=True)
    W_out = torch.tensor(net.W_out, dtype=dtype, requires_grad=True)
    opt = torch.optim.Adam([W, W_in, W_out], lr=0.05 / n)
    dt = net.dt
    data_rng = np.random.default_rng(1)

    def step():
        tr = flipflop(data_rng, batch)
        u = torch.tensor(tr.inputs, dtype=dtype)
        y = torch.tensor(tr.targets, dtype=dtype)
        m = torch.tensor(tr.mask, dtype=dtype)
        x = torch.zeros(batch, n, dtype=dtype)
        I = u @ W_in.T
        zs = []
        for t in range(u.shape[1]):
            x = (1 - dt) * x + dt * (torch.tanh(x) @ W.T + I[:, t])
            zs.append(torch.tanh(x) @ W_out.T)
        z = torch.stack(zs, 1)
        loss = 0.5 * (m * (y - z) ** 2).sum() / m.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    med, best = _best(lambda: [step() for _ in range(steps)], repeats)
    return med / steps, best / steps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10, help="steps per timing")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    n, B, T = a.n, a.batch, 100
    flops = 6 * B * T * n * n
    print(f"flip-flop Adam step: N={n}, batch={B}, T={T}; {flops / 1e9:.3f} GFLOP of recurrent products per step")
    res = {}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        med, best = numpy_step_time(n, B, dtype, a.steps, a.repeats)
        g_small = gemm_gflops((B, n), (n, n), dtype)
        g_big = gemm_gflops((n, B * T), (B * T, n), dtype, repeats=10)
        res[name] = best
        print(f"numpy {name}: {best * 1e3:8.2f} ms/step (median {med * 1e3:.2f}); "
              f"{flops / best / 1e9:6.2f} GFLOP/s achieved vs plain GEMM {g_small:6.2f} GFLOP/s "
              f"(B×N·N×N) and {g_big:6.2f} GFLOP/s (large); efficiency {flops / best / 1e9 / g_small:.2f} "
              "of the per-step GEMM")
    print(f"ratio numpy float32 / float64 time: {res['float32'] / res['float64']:.2f}")
    t32 = torch_step_time(n, B, "float32", a.steps, a.repeats)
    if t32 is None:
        print("PyTorch not importable: comparison skipped (optional; never a dependency)")
        return 0
    t64 = torch_step_time(n, B, "float64", a.steps, a.repeats)
    print(f"torch float32: {t32[1] * 1e3:8.2f} ms/step; torch float64: {t64[1] * 1e3:8.2f} ms/step")
    r64 = res["float64"] / t32[1]
    r32 = res["float32"] / t32[1]
    print(f"numpy float64 / torch float32 = {r64:.2f} (target <= 1: {'met' if r64 <= 1 else 'NOT met'})")
    print(f"numpy float32 / torch float32 = {r32:.2f} (target <= 0.5: {'met' if r32 <= 0.5 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
