"""Per-step cost of logging the LR at every step: no callback vs LearningRateMonitor vs LRMonitor.

One process, interleaved repetitions, medians. Each configuration trains the same tiny model (4 param groups)
with a TensorBoardLogger and ``log_every_n_steps=1`` for N optimizer steps. The cost of a callback is the
process CPU time (all threads: TensorBoard's writer thread included) and the wall time of its fit minus those
of the fit without it, per step. The CPU spent inside the callbacks' own hooks is also measured directly.

Usage: python benchmarks/overhead.py [--steps N] [--reps R] [--smoke]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import tempfile
import time
import warnings
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.data import DataLoader, TensorDataset

from lightning_lrmon import LRMonitor

torch.set_num_threads(1)
warnings.filterwarnings("ignore")
logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)


class FourGroups(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(4, 4) for _ in range(4))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x = batch[0]
        for layer in self.layers:
            x = layer(x)
        return x.pow(2).mean()

    def configure_optimizers(self) -> Any:
        groups = [{"params": layer.parameters(), "lr": 0.1 / (i + 1)} for i, layer in enumerate(self.layers)]
        opt = torch.optim.SGD(groups, lr=0.1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_steps)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class Timed:
    """Mixin: accumulate this thread's CPU time spent in the named hook."""

    hook_cpu = 0.0

    def _timed(self, name: str, *args: Any) -> None:
        t0 = time.thread_time()
        getattr(super(), name)(*args)
        self.hook_cpu += time.thread_time() - t0


class TimedLRM(Timed, LearningRateMonitor):
    def on_train_batch_start(self, *args: Any) -> None:
        self._timed("on_train_batch_start", *args)


class TimedLRMon(Timed, LRMonitor):  # type: ignore[misc,valid-type]
    def on_before_optimizer_step(self, *args: Any) -> None:
        self._timed("on_before_optimizer_step", *args)

    def on_train_epoch_end(self, *args: Any) -> None:
        self._timed("on_train_epoch_end", *args)

    def on_fit_end(self, *args: Any) -> None:
        self._timed("on_fit_end", *args)


def fit(kind: str, steps: int, root: str) -> dict[str, float]:
    callbacks: list[Any] = []
    if kind == "LearningRateMonitor":
        callbacks = [TimedLRM(logging_interval="step")]
    elif kind == "LRMonitor":
        callbacks = [TimedLRMon(summary=False)]
    elif kind == "no-op Callback":
        callbacks = [pl.Callback()]
    data = DataLoader(TensorDataset(torch.randn(steps * 4, 4)), batch_size=4)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=steps,
        logger=TensorBoardLogger(root, name=kind),
        callbacks=callbacks,
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=False,
    )
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    trainer.fit(FourGroups(), data)
    for logger in trainer.loggers:
        logger.finalize("success")  # flush SummaryWriter's queue: its CPU belongs to the measurement
    c1, w1 = time.process_time(), time.perf_counter()
    out = {"cpu": c1 - c0, "wall": w1 - w0, "hook": getattr(callbacks[0], "hook_cpu", 0.0) if callbacks else 0.0}
    if kind == "LearningRateMonitor":
        out["kept"] = float(sum(len(v) for v in callbacks[0].lrs.values()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny run, for the test suite")
    args = parser.parse_args()
    steps, reps = (60, 1) if args.smoke else (args.steps, args.reps)
    kinds = ["none", "no-op Callback", "LearningRateMonitor", "LRMonitor"]
    results: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as root:
        fit("none", min(steps, 50), root)  # warm-up: imports, first-fit costs
        for rep in range(reps):
            order = kinds if rep % 2 == 0 else kinds[::-1]
            for kind in order:
                results[kind].append(fit(kind, steps, root))
    med = {k: {m: statistics.median(r[m] for r in results[k]) for m in ("cpu", "wall", "hook")} for k in kinds}
    print(f"{steps} optimizer steps, 4 param groups, log every step, {reps} interleaved repetitions (medians)")
    print(
        f"{'':22}{'fit CPU/step':>14}{'fit wall/step':>15}{'hook CPU/step':>15}{'own cost/step':>15}"
        f"{'total cost/step':>17}"
    )
    own, total = {}, {}
    for kind in kinds:
        m = med[kind]
        total[kind] = (m["cpu"] - med["none"]["cpu"]) / steps
        own[kind] = (m["cpu"] - med["no-op Callback"]["cpu"]) / steps if kind not in ("none", "no-op Callback") else 0.0
        if kind == "LRMonitor":  # its events are written inside its hook: the hook CPU is a floor for its cost
            own[kind] = max(own[kind], m["hook"] / steps)
        print(
            f"{kind:22}{m['cpu'] / steps * 1e6:>11.1f} us{m['wall'] / steps * 1e6:>12.1f} us"
            f"{m['hook'] / steps * 1e6:>12.1f} us{own[kind] * 1e6:>12.1f} us{total[kind] * 1e6:>14.1f} us"
        )
    lrm, ours = "LearningRateMonitor", "LRMonitor"
    print(
        f"ratio LRMonitor / LearningRateMonitor: own cost {own[ours] / own[lrm]:.3f}, "
        f"total cost {total[ours] / total[lrm]:.3f}"
    )
    print(
        "own cost = process CPU (all threads) of the fit minus that of the fit with a no-op Callback, per step: the "
        "hooks and every CPU cycle spent writing the events; total cost also counts Lightning's own dispatch of "
        "callback hooks, which any callback pays (the no-op Callback row)."
    )
    kept = statistics.median(r["kept"] for r in results["LearningRateMonitor"])
    print(f"memory: LearningRateMonitor keeps {kept:.0f} values in `lrs` after {steps} steps; LRMonitor keeps none")


if __name__ == "__main__":
    main()
