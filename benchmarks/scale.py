"""Fit start at scale: a real Trainer with and without LRMonitor, warmup+cosine SequentialLR, many param groups.

Each case runs in a fresh process (so the peak RSS is that case's own): the time from ``fit()`` to the first
training batch with LRMonitor (summary off; the plan series written to the TensorBoardLogger) and without it (same
model, data, scheduler and logger), the peak RSS rise over the process
before ``fit()``, and what LRMonitor still holds afterwards (tracemalloc of the callback's state). The groups use
layer-wise LR decay (different base LRs, one scheduler), the common case of hundreds of groups.

Usage: python benchmarks/scale.py [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

#: (steps, groups, eta_min): eta_min > 0 puts one absolute floor under groups with different base LRs, so they do not
#: stay proportional and every group is simulated
CASES = [(1_000_000, 4, 0.0), (1_000_000, 64, 0.0), (1_000_000, 256, 0.0), (10_000_000, 4, 0.0), (1_000_000, 64, 1e-6)]
SMOKE = [(10_000, 16, 1e-6)]  # run in this process: a smoke test of the code, not a measure


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one(steps: int, groups: int, with_monitor: bool, eta_min: float = 0.0) -> dict[str, Any]:
    import warnings

    import lightning.pytorch as pl
    import torch
    from lightning.pytorch.loggers import TensorBoardLogger
    from torch.optim import lr_scheduler as L
    from torch.utils.data import DataLoader, TensorDataset

    from lightning_lrmon import LRMonitor

    warnings.simplefilter("ignore")

    class Model(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Linear(2, 2) for _ in range(groups))

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x = batch[0]
            for layer in self.layers:
                x = layer(x)
            return x.pow(2).mean()

        def configure_optimizers(self) -> Any:
            params = [{"params": m.parameters(), "lr": 0.1 * 0.98**i} for i, m in enumerate(self.layers)]
            opt = torch.optim.SGD(params, lr=0.1)
            w = steps // 20
            cosine = L.CosineAnnealingLR(opt, steps - w, eta_min)
            sched = L.SequentialLR(opt, [L.LinearLR(opt, 0.01, 1.0, w), cosine], [w])
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    class FirstBatch(pl.Callback):
        t: float = 0.0

        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
            FirstBatch.t = time.perf_counter()
            trainer.should_stop = True

    loader = DataLoader(TensorDataset(torch.randn(64, 2)), batch_size=8)
    cbs: list[Any] = [FirstBatch()] + ([LRMonitor(summary=False)] if with_monitor else [])
    trainer = pl.Trainer(
        max_steps=steps,
        max_epochs=-1,
        logger=TensorBoardLogger(tempfile.mkdtemp(), name="scale"),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=cbs,
        accelerator="cpu",
    )
    rss0 = _rss_mib()
    t0 = time.perf_counter()
    trainer.fit(Model(), loader)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"fit_start_s": FirstBatch.t - t0, "peak_rise_mib": peak - rss0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), int(args.one[1]), args.one[2] == "1", float(args.one[3]))))
        return
    head = ("steps x groups", "fit start", "no LRMonitor", "LRMonitor adds", "peak RSS rise")
    print(f"{head[0]:>16}  {head[1]:>10}  {head[2]:>12}  {head[3]:>14}  {head[4]:>13}")
    for steps, groups, eta_min in SMOKE if args.smoke else CASES:
        res = {}
        for flag in ("0", "1"):
            if args.smoke:
                res[flag] = one(steps, groups, flag == "1", eta_min)
                continue
            out = (
                subprocess.run(
                    [sys.executable, __file__, "--one", str(steps), str(groups), flag, str(eta_min)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            res[flag] = json.loads(out)
        with_, without = res["1"], res["0"]
        tag = " eta_min" if eta_min else ""
        print(
            f"{steps:>10,} x {groups:<3}{tag}  {with_['fit_start_s']:>9.2f}s  {without['fit_start_s']:>11.2f}s  "
            f"{with_['fit_start_s'] - without['fit_start_s']:>13.2f}s  "
            f"{with_['peak_rise_mib']:>7.0f} MiB (without: {without['peak_rise_mib']:.0f})"
        )


if __name__ == "__main__":
    main()
