r"""``rnn-theory reproduce schuessler-lstm``: low-rank ΔW in a two-layer LSTM (sentiment).

Trains a two-layer LSTM (:mod:`rnn_theory.numerics.lstm.model`) on the synthetic sentiment grammar
(:mod:`rnn_theory.numerics.lstm.sentiment`), then truncates ``W_hh1``, ``W_ih2``, ``W_hh2`` (and all three
at once, ``weight = "all"``) to rank R as :math:`W_0 + \mathrm{rank}_R(\Delta W)` (``dW``)
or :math:`\mathrm{rank}_R(W)` (``W``) and measures held-out accuracy
(:mod:`rnn_theory.numerics.lstm.truncation`).

Files written to ``out``:

* ``truncation.csv`` -- ``weight, mode, rank, accuracy``;
* ``singular_values.csv`` -- ``weight, kind, index, value`` (``kind`` is ``dW``, ``W``, ``W0``);
* ``summary.csv`` -- ``name, hidden, steps, lstm_accuracy, bow_accuracy, chance``
  (trained held-out accuracy, the bag-of-words baseline, majority-class rate);
* ``truncation.png``, ``singular_values.png`` with the ``[plot]`` extra;
* ``runs/<name>/`` -- the trained network (``W0/*`` initial and trained parameters),
  its loss history; rerunning skips training.

Quick mode (``--quick``, :data:`QUICK`): hidden 64, initial gain g = 3, dropout 0.5, 1600
Adam steps (lr 1e-3, batch 64) on 10000 synthetic sentences, float32 -- about 1-2 minutes
on one idle core.  Full mode (:data:`FULL`): the paper's hidden size 256 with the learning
rate scaled by 64/256, 8000 steps on 40000 sentences -- roughly an hour on one core.  For SST + GloVe use
:func:`run_experiment` with :func:`rnn_theory.numerics.lstm.sentiment.sst_task` (see ``docs/lstm.md``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rnn_theory.numerics.infra.plotting import pyplot, save_figure
from rnn_theory.numerics.infra.outputs import prepare_output_dir

from rnn_theory.theory.errors import DomainError

__all__ = ["LSTMExperiment", "QUICK", "FULL", "train_run", "run_experiment", "lstm"]


@dataclass(frozen=True)
class LSTMExperiment:
    """Hyper-parameters of one LSTM low-rank experiment (validated at construction)."""

    name: str
    hidden: int = 64
    dim: int = 32
    n_train: int = 10000
    n_test: int = 1000
    steps: int = 1600
    batch_size: int = 64
    lr: float = 1e-3
    dropout: float = 0.5
    gain: float = 3.0
    dtype: str = "float32"
    seed: int = 0

    def __post_init__(self):
        for f in ("hidden", "dim", "n_train", "n_test", "steps", "batch_size"):
            v = getattr(self, f)
            if not isinstance(v, int) or v < 1:
                raise DomainError(f"{f} must be a positive integer, got {v!r}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise DomainError(f"lr must be > 0, got {self.lr!r}")
        if not 0 <= self.dropout < 1:
            raise DomainError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not (np.isfinite(self.gain) and self.gain > 0):
            raise DomainError(f"gain must be > 0, got {self.gain!r}")
        if self.dtype not in ("float32", "float64"):
            raise DomainError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.batch_size > self.n_train:
            raise DomainError("batch_size cannot exceed n_train")


QUICK = LSTMExperiment(name="quick")
FULL = LSTMExperiment(name="full", hidden=256, dim=64, n_train=40000, n_test=2000, steps=8000,
                      lr=2.5e-4)


def _task(cfg: dict):
    from rnn_theory.numerics.lstm.sentiment import synthetic_sentiment

    rng = np.random.default_rng([cfg["seed"], 7])
    return synthetic_sentiment(rng, n_train=cfg["n_train"], n_test=cfg["n_test"], dim=cfg["dim"])


def train_run(cfg: dict):
    """Sweep worker: train one LSTM; returns ``(arrays, history, summary)``."""
    from rnn_theory.numerics.lstm.model import accuracy, init_lstm, train_lstm
    from rnn_theory.numerics.lstm.sentiment import fit_bow

    task = _task(cfg)
    rng = np.random.default_rng([cfg["seed"], 11])
    params = init_lstm(cfg["dim"], cfg["hidden"], rng, gain=cfg["gain"], dtype=np.dtype(cfg["dtype"]))
    res = train_lstm(params, task.embedding, task.train, steps=cfg["steps"], batch_size=cfg["batch_size"],
                     lr=cfg["lr"], rng=rng, dropout=cfg["dropout"])
    bow = fit_bow(task.train, len(task.vocab))
    arrays = {**res.params, **{f"W0/{k}": v for k, v in res.params0.items()}}
    history = {"step": np.arange(1, cfg["steps"] + 1), "loss": res.loss}
    y = task.test.labels
    summary = {"lstm_accuracy": accuracy(res.params, task.embedding, task.test),
               "bow_accuracy": bow.accuracy(task.test), "chance": float(max(y.mean(), 1 - y.mean()))}
    return arrays, history, summary


def run_experiment(params: dict, params0: dict, embedding, test, *, ranks=None) -> dict:
    """Singular values and truncation curves of a trained network (any sentiment task).

    Returns ``{"truncation": columns, "singular_values": columns}`` in the CSV layouts above.
    """
    from rnn_theory.numerics.lstm.truncation import singular_values, truncation_curves

    trunc = truncation_curves(params, params0, embedding, test, ranks=ranks)
    sv = {"weight": [], "kind": [], "index": [], "value": []}
    for w, kinds in singular_values(params, params0).items():
        for kind, s in kinds.items():
            sv["weight"] += [w] * len(s)
            sv["kind"] += [kind] * len(s)
            sv["index"] += list(range(1, len(s) + 1))
            sv["value"] += [float(v) for v in s]
    return {"truncation": trunc, "singular_values": sv}


WEIGHT_TITLE = {"W_hh1": r"layer-1 recurrent $W_{hh}^{(1)}$", "W_ih2": r"layer-2 input $W_{ih}^{(2)}$",
                "W_hh2": r"layer-2 recurrent $W_{hh}^{(2)}$", "all": "all three truncated together"}
KIND_LABEL = {"dW": r"$\Delta W = W - W_0$", "W": r"trained $W$", "W0": r"initial $W_0$"}


def _plots(out: Path, trunc: dict, sv: dict, summary: dict | None = None) -> list:
    r"""``truncation.png`` (held-out accuracy against rank R for :math:`W_0 + \mathrm{rank}_R(\Delta W)`
    and :math:`\mathrm{rank}_R(W)`, per weight; the trained accuracy and chance as reference
    lines when ``summary`` is given) and ``singular_values.png`` (:math:`s_k` of ΔW, W, W0)."""
    plt = pyplot()
    if plt is None:
        return []
    paths = []
    weights = list(dict.fromkeys(trunc["weight"]))
    fig, axes = plt.subplots(1, len(weights), figsize=(3.4 * len(weights), 3.2), sharey=True, squeeze=False)
    for ax, w in zip(axes[0], weights):
        for mode, style in (("dW", "o-"), ("W", "s--")):
            pts = [(r, a) for ww, m, r, a in zip(*trunc.values()) if ww == w and m == mode]
            r, a = zip(*pts)
            ax.plot(np.array(r) + 1, a, style, ms=3,
                    label=r"$W_0+\mathrm{rank}_R(\Delta W)$" if mode == "dW" else r"$\mathrm{rank}_R(W)$")
        if summary is not None:
            ax.axhline(summary["lstm_accuracy"], color="0.3", ls=":", lw=1, label="trained, untruncated")
            ax.axhline(summary["chance"], color="0.6", ls="-.", lw=1, label="chance (majority class)")
        ax.set_xscale("log")
        ax.set_title(WEIGHT_TITLE.get(w, w))
        ax.set_xlabel(r"rank $R$ (axis at $R+1$)")
        ax.set_ylabel("held-out accuracy (fraction)")
        ax.legend(fontsize=6.5, loc="center right")
    fig.tight_layout()
    paths.append(out / "truncation.png")
    save_figure(fig, paths[-1], dpi=120)
    sw = list(dict.fromkeys(sv["weight"]))
    fig, axes = plt.subplots(1, len(sw), figsize=(3.4 * len(sw), 3.2), squeeze=False)
    for ax, w in zip(axes[0], sw):
        for kind in ("dW", "W", "W0"):
            vals = [v for ww, k, _, v in zip(*sv.values()) if ww == w and k == kind]
            ax.semilogy(np.arange(1, len(vals) + 1), vals, label=KIND_LABEL.get(kind, kind))
        ax.set_title(WEIGHT_TITLE.get(w, w))
        ax.set_xlabel("index $k$ (decreasing)")
        ax.set_ylabel("singular value $s_k$")
        ax.legend(fontsize=6.5)
    fig.tight_layout()
    paths.append(out / "singular_values.png")
    save_figure(fig, paths[-1], dpi=120)
    return paths


def lstm(out: Path, *, quick: bool, seed: int, workers: int | None, show_progress: bool,
         dtype: str | None = None) -> list[Path]:
    """Reproduce the LSTM low-rank figure (see module docstring); returns the written files.

    ``dtype`` overrides the experiment's precision (float32 already by default here)."""
    from rnn_theory.numerics.infra.io import write_csv
    from rnn_theory.numerics.infra.sweep import run_sweep

    out = prepare_output_dir(out)
    base = QUICK if quick else FULL
    cfg = asdict(base)
    cfg.update(seed=int(seed), name=f"{base.name}-N{base.hidden}-seed{seed}")
    if dtype is not None and dtype != cfg["dtype"]:
        cfg.update(dtype=str(dtype), name=f"{cfg['name']}-{dtype}")
    LSTMExperiment(**cfg)  # validate
    rec = run_sweep(train_run, [cfg], out / "runs", executor="serial", show_progress=show_progress)[cfg["name"]]
    params = {k: v for k, v in rec.arrays.items() if not k.startswith("W0/")}
    params0 = {k[3:]: v for k, v in rec.arrays.items() if k.startswith("W0/")}
    task = _task(cfg)
    res = run_experiment(params, params0, task.embedding, task.test)
    c = rec.config
    paths = [
        write_csv(out / "truncation.csv", res["truncation"]),
        write_csv(out / "singular_values.csv", res["singular_values"]),
        write_csv(out / "summary.csv", {"name": [c["name"]], "hidden": [c["hidden"]], "steps": [c["steps"]],
                                        "lstm_accuracy": [c["lstm_accuracy"]],
                                        "bow_accuracy": [c["bow_accuracy"]], "chance": [c["chance"]]}),
    ]
    paths += _plots(out, res["truncation"], res["singular_values"], c)
    return paths
