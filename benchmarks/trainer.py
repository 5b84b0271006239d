"""Speed of one Adam training step of the NumPy rate-RNN trainer against its matrix-product bound.

Setting: flip-flop, N = 256, batch 32, 100 time steps, training W_in, W and W_out
(task generation + forward + loss + BPTT + Adam update).  For float64 and float32 it
prints, as min and median over ``--repeats`` timings of ``--steps`` steps each:

* the time per training step;
* the *matrix-product bound*: the same recurrent GEMM shapes timed alone in the same
  run, interleaved with the step timings — T products (B×N)·(N×N) of the forward
  pass, T-1 of the adjoint recursion and the ΔW gradient (N×BT)·(BT×N) with a
  transposed first operand (6·B·T·N² flops in all);
* the fraction bound / step (target >= 0.80);
* the *activation floor*: the T evaluations of tanh on a (B×N) block that the forward
  pass cannot fold into a product (each needs the previous step's GEMM), timed alone
  in the same run, and the *ceiling* bound / (bound + floor): the best fraction any
  NumPy step can reach here even if every other element-wise pass, the task, the loss
  and Adam cost nothing.

When PyTorch (eager autograd, torch.optim.Adam) or JAX (jit, lax.scan, hand-written
Adam) happen to be importable — never dependencies — the same step is timed in them and
the ratios printed.  Run single-threaded::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/trainer.py

Times are CPU times of this process (``time.process_time``), less sensitive to other jobs
on a shared machine than wall-clock times; the fraction and ratios, measured in one run
with interleaved repeats, are what carries over between machines.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from rnn_theory.numerics.rate.model import RateRNN
from rnn_theory.numerics.rate.tasks import flipflop
from rnn_theory.numerics.rate.train import train

T_STEPS = 100


def _cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def numpy_step(n, batch, dtype, steps):
    """A callable running ``steps`` training steps (after one warm-up run)."""
    rng = np.random.default_rng(0)
    net = RateRNN.init(n, 2, 2, 0.9, rng, dtype=dtype)
    train(net, flipflop, 2, batch, 0.05 / n, rng)
    return lambda: train(net, flipflop, steps, batch, 0.05 / n, np.random.default_rng(1))


def bound_run(n, batch, dtype):
    """A callable doing the step's recurrent matrix products alone (same shapes, out= buffers)."""
    rng = np.random.default_rng(0)
    T = T_STEPS
    R = rng.standard_normal((T + 1, batch, n)).astype(dtype)
    A = rng.standard_normal((T, batch, n)).astype(dtype)
    W = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)  # float32 stays float32
    WT = np.ascontiguousarray(W.T)
    X = np.empty((T + 1, batch, n), dtype)
    A2 = np.empty((T, batch, n), dtype)

    def run():
        for t in range(T):              # forward: x_{t+1} <- r_t (dt W)^T
            np.matmul(R[t], WT, out=X[t + 1])
        for t in range(T - 1, 0, -1):   # adjoints: a_t <- a_{t+1} (dt W)
            np.matmul(A[t], W, out=A2[t - 1])
        A.reshape(T * batch, n).T @ R[:T].reshape(T * batch, n)  # grad W
    run()
    return run


def activation_floor(n, batch, dtype):
    """A callable doing only the forward pass's T activations tanh(x_t) on (B, N) blocks."""
    from rnn_theory.numerics.infra.fastmath import tanh_into

    X = np.random.default_rng(0).standard_normal((T_STEPS, batch, n)).astype(dtype)
    H = np.empty_like(X)
    work: dict = {}

    def run():
        for t in range(T_STEPS):
            tanh_into(X[t], H[t], work)
    run()
    return run


def torch_step(n, batch, dtype_name, steps):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    dtype = getattr(torch, dtype_name)
    net = RateRNN.init(n, 2, 2, 0.9, np.random.default_rng(0))
    W, W_in, W_out = (torch.tensor(a, dtype=dtype, requires_grad=True) for a in (net.W, net.W_in, net.W_out))
    opt = torch.optim.Adam([W, W_in, W_out], lr=0.05 / n)
    dt = net.dt
    data_rng = np.random.default_rng(1)

    def step():
        tr = flipflop(data_rng, batch)
        u, y, m = (torch.tensor(a, dtype=dtype) for a in (tr.inputs, tr.targets, tr.mask))
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
    return lambda: [step() for _ in range(steps)]


def jax_step(n, batch, dtype_name, steps):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    if dtype_name == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = getattr(jnp, dtype_name)
    net = RateRNN.init(n, 2, 2, 0.9, np.random.default_rng(0))
    params = {k: jnp.asarray(v, dtype) for k, v in net.params().items()}
    dt, lr, b1, b2, eps = net.dt, 0.05 / n, 0.9, 0.999, 1e-8

    def loss_fn(p, u, y, m):
        I = jnp.einsum("bti,ni->tbn", u, p["W_in"])

        def body(x, i_t):
            x = (1 - dt) * x + dt * (jnp.tanh(x) @ p["W"].T + i_t)
            return x, jnp.tanh(x) @ p["W_out"].T
        _, z = jax.lax.scan(body, jnp.zeros((u.shape[0], n), dtype), I)
        return 0.5 * jnp.sum(m * (y - z.transpose(1, 0, 2)) ** 2) / jnp.sum(m)

    @jax.jit
    def update(p, mom, vel, t, u, y, m):
        g = jax.grad(loss_fn)(p, u, y, m)
        mom = {k: b1 * mom[k] + (1 - b1) * g[k] for k in p}
        vel = {k: b2 * vel[k] + (1 - b2) * g[k] ** 2 for k in p}
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        p = {k: p[k] - lr * (mom[k] / c1) / (jnp.sqrt(vel[k] / c2) + eps) for k in p}
        return p, mom, vel

    state = [params, {k: jnp.zeros_like(v) for k, v in params.items()},
             {k: jnp.zeros_like(v) for k, v in params.items()}, 0]
    data_rng = np.random.default_rng(1)

    def step():
        tr = flipflop(data_rng, batch)
        state[3] += 1
        p, mo, ve = update(state[0], state[1], state[2], float(state[3]), *(jnp.asarray(a, dtype) for a in
                                                                          (tr.inputs, tr.targets, tr.mask)))
        jax.block_until_ready(p)
        state[:3] = [p, mo, ve]

    for _ in range(2):
        step()
    return lambda: [step() for _ in range(steps)]


def _stats(ts, steps=1):
    a = np.asarray(ts) / steps
    return float(np.min(a)), float(np.median(a))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10, help="training steps per timing")
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args(argv)
    n, B, T = a.n, a.batch, T_STEPS
    flops = 6 * B * T * n * n
    print(f"flip-flop Adam step: N={n}, batch={B}, T={T}; {flops / 1e9:.3f} GFLOP of recurrent products per "
          f"step; min / median of {a.repeats} timings of {a.steps} steps (CPU time, one thread)")
    res = {}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        step, bound, act = numpy_step(n, B, dtype, a.steps), bound_run(n, B, dtype), activation_floor(n, B, dtype)
        ts, tb, ta = [], [], []
        for _ in range(a.repeats):  # interleaved, so that load changes hit all alike
            ts.append(_cpu(step) / a.steps)
            tb.append(_cpu(bound))
            ta.append(_cpu(act))
        (s_min, s_med), (b_min, b_med), (a_min, _) = _stats(ts), _stats(tb), _stats(ta)
        res[name] = (s_min, s_med)
        print(f"numpy {name}: step {s_min * 1e3:7.2f} ms (median {s_med * 1e3:7.2f}); bound {b_min * 1e3:7.2f} ms "
              f"(median {b_med * 1e3:7.2f}; {flops / b_min / 1e9:5.1f} GFLOP/s); fraction of the bound "
              f"{b_min / s_min:.2f} (medians {b_med / s_med:.2f}; target >= 0.80)")
        print(f"    activation floor {a_min * 1e3:6.2f} ms (T tanh of a {B}x{n} block); NumPy ceiling "
              f"bound / (bound + floor) = {b_min / (b_min + a_min):.2f}")
    for lib, make in (("torch", torch_step), ("jax", jax_step)):
        for name in ("float32", "float64"):
            fn = make(n, B, name, a.steps)
            if fn is None:
                print(f"{lib} not importable: comparison skipped (optional; never a dependency)")
                break
            t_min, t_med = _stats([_cpu(fn) for _ in range(a.repeats)], a.steps)
            print(f"{lib} {name}: step {t_min * 1e3:7.2f} ms (median {t_med * 1e3:7.2f}); numpy {name} / {lib} "
                  f"{name} = {res[name][0] / t_min:.2f} (medians {res[name][1] / t_med:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
