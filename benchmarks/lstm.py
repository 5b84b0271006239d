"""Seconds per LSTM training step: NumPy (rnn_theory.numerics.lstm.model) vs PyTorch CPU when installed.

Setting: two layers, hidden 256, batch 64, sequence length 20, input size 100 (GloVe-100),
dropout 0.5, one forward + exact BPTT + Adam step.  PyTorch is never a dependency: the
comparison runs only if ``import torch`` succeeds.  Run with a fixed thread count for a
fair ratio, e.g.::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/lstm.py
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/lstm.py --hidden 64 --repeat 20

Prints one line per implementation and the ratio numpy / torch (lower is better for numpy),
then the *matrix products alone*: the step's GEMMs with the same shapes (per layer l, with
input size n_l = 100 or 256 and 4H gate rows: the input projection over all B·T pairs, T
recurrent products (B×H)·(H×4H) forward and T (B×4H)·(4H×H) backward, the weight
gradients over all B·T pairs and, for layer 2, the gradient to layer 1's outputs), timed in
NumPy and in PyTorch in the same run.  The ratio of the two product times is what the
libraries' BLAS (OpenBLAS in NumPy's wheels, MKL in PyTorch's x86 CPU wheels) alone make
of the step ratio; ``step / products`` is how close each step is to its own products.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from rnn_theory.numerics.lstm.model import dropout_masks, init_lstm, loss_and_grads
from rnn_theory.numerics.infra.optim import Adam


def _cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def numpy_step(hidden, batch, length, n_in, dtype):
    """A callable doing one NumPy training step (after a warm-up step)."""
    rng = np.random.default_rng(0)
    params = init_lstm(n_in, hidden, rng, dtype=dtype)
    x = rng.normal(size=(batch, length, n_in)).astype(dtype)
    lengths = np.full(batch, length)
    y = (rng.random(batch) < 0.5).astype(float)
    opt = Adam(lr=1e-3)
    state = opt.init(params)

    def step(params, state):
        masks = dropout_masks(rng, batch, length, hidden, 2, 0.5, dtype)
        _, grads, _ = loss_and_grads(params, x, lengths, y, masks=masks)
        return opt.step(params, grads, state)

    cur = list(step(params, state))  # warm-up

    def run():
        cur[:] = step(*cur)
    return run


def torch_step(hidden, batch, length, n_in, dtype):
    """A callable doing one PyTorch training step (after a warm-up step)."""
    import torch

    torch.manual_seed(0)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    lstm = torch.nn.LSTM(n_in, hidden, num_layers=2, dropout=0.5, batch_first=True).to(tdtype)
    dec = torch.nn.Linear(hidden, 1).to(tdtype)
    drop = torch.nn.Dropout(0.5)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(dec.parameters()), lr=1e-3)
    x = torch.randn(batch, length, n_in, dtype=tdtype)
    y = (torch.rand(batch) < 0.5).to(tdtype)
    lossf = torch.nn.BCEWithLogitsLoss()

    def step():
        opt.zero_grad()
        out, _ = lstm(x)
        loss = lossf(dec(drop(out[:, -1])).squeeze(1), y)
        loss.backward()
        opt.step()

    step()
    return step


def products(hidden, batch, length, n_in, dtype, lib="numpy"):
    """A callable doing only the LSTM step's matrix products (shapes in the module docstring)."""
    rng = np.random.default_rng(0)
    H, B, T = hidden, batch, length
    shapes = []
    for n_l, need_dx in ((n_in, False), (H, True)):
        shapes += [(T * B, n_l, 4 * H)] + [(B, H, 4 * H)] * T + [(B, 4 * H, H)] * T
        shapes += [(4 * H, T * B, n_l), (4 * H, T * B, H)] + ([(T * B, 4 * H, n_l)] if need_dx else [])
    pairs = [(rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype))
             for m, k, n in shapes]
    if lib == "torch":
        import torch

        pairs = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in pairs]
        mm = torch.mm
    else:
        mm = np.matmul

    def run():
        for a, b in pairs:
            mm(a, b)
    run()
    return run, sum(2 * m * k * n for m, k, n in shapes)


def _interleaved(f_np, f_pt, repeat):
    """CPU times of ``repeat`` alternating calls (so that changes in load hit both alike)."""
    t_np, t_pt = [], []
    for _ in range(repeat):
        t_np.append(_cpu(f_np))
        if f_pt is not None:
            t_pt.append(_cpu(f_pt))
    return t_np, t_pt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--length", type=int, default=20)
    ap.add_argument("--n-in", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args(argv)
    print(f"LSTM training step: 2 layers, hidden {args.hidden}, batch {args.batch}, length {args.length}, "
          f"input {args.n_in}; threads OMP={os.environ.get('OMP_NUM_THREADS', 'unset')}; CPU time per step, "
          f"min / median of {args.repeat} interleaved repeats")
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
        have_torch = True
    except ImportError:
        have_torch = False
    for dtype in (np.float64, np.float32):
        f_np = numpy_step(args.hidden, args.batch, args.length, args.n_in, dtype)
        f_pt = torch_step(args.hidden, args.batch, args.length, args.n_in, dtype) if have_torch else None
        t_np, t_pt = _interleaved(f_np, f_pt, args.repeat)
        line = (f"{np.dtype(dtype).name:8s} numpy {min(t_np) * 1e3:8.2f} ms/step "
                f"(median {np.median(t_np) * 1e3:8.2f})")
        if f_pt is not None:
            line += (f"   torch {min(t_pt) * 1e3:8.2f} ms/step (median {np.median(t_pt) * 1e3:8.2f})   "
                     f"ratio numpy/torch = {min(t_np) / min(t_pt):5.2f} (medians "
                     f"{np.median(t_np) / np.median(t_pt):5.2f}; target <= 1)")
        else:
            line += "   (torch not installed: no comparison)"
        print(line)
        g_np, flops = products(args.hidden, args.batch, args.length, args.n_in, dtype)
        g_pt = products(args.hidden, args.batch, args.length, args.n_in, dtype, "torch")[0] if have_torch else None
        p_np, p_pt = _interleaved(g_np, g_pt, args.repeat)
        line = (f"         products alone ({flops / 1e9:.2f} GFLOP): numpy {min(p_np) * 1e3:8.2f} ms "
                f"({flops / min(p_np) / 1e9:5.1f} GFLOP/s, step / products {min(t_np) / min(p_np):4.2f})")
        if g_pt is not None:
            line += (f"   torch {min(p_pt) * 1e3:8.2f} ms ({flops / min(p_pt) / 1e9:5.1f} GFLOP/s, step / products "
                     f"{min(t_pt) / min(p_pt):4.2f})   products numpy/torch = {min(p_np) / min(p_pt):5.2f}")
        print(line)

if __name__ == "__main__":
    main()
