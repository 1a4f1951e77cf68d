"""The seed scenario: ``LinearLR(start_factor=0.5, total_iters=100)`` on ``SGD(lr=0.001)``, meant as a decay.

Run: ``make demo`` (or ``python examples/demo.py``). It trains a tiny regression model for 100 optimizer steps
with lightning-lrmon's ``LRMonitor`` building the scheduler, shows the ``decay-increases`` warning and writes
TensorBoard logs to ``runs/demo``. Pass ``--fixed`` to train with the fix (``start_factor=1.0, end_factor=0.1``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import warnings
from functools import partial

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch.optim.lr_scheduler import LinearLR
from torch.utils.data import DataLoader, TensorDataset

from lightning_lrmon import LRMonitor, LRScheduleWarning


class TinyRegressor(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(8, 1)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.001)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixed", action="store_true", help="use the fixed schedule")
    parser.add_argument("--out", default="runs", help="TensorBoard root directory")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(800, 8), torch.randn(800, 1))
    if args.fixed:
        schedule = partial(LinearLR, start_factor=1.0, end_factor=0.1, total_iters=100)
    else:
        schedule = partial(LinearLR, start_factor=0.5, total_iters=100)  # the seed: documented "decay", rises
    warnings.simplefilter("always", LRScheduleWarning)
    name = "demo-fixed" if args.fixed else "demo"
    shutil.rmtree(os.path.join(args.out, name, "version_0"), ignore_errors=True)  # a re-run replaces the last one
    trainer = pl.Trainer(
        max_steps=100,
        logger=TensorBoardLogger(args.out, name=name, version=0),
        callbacks=[LRMonitor(schedule)],
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=False,
        accelerator="cpu",
    )
    trainer.fit(TinyRegressor(), DataLoader(data, batch_size=8))
    print(f"TensorBoard logs: {trainer.logger.log_dir}  (open with: make tensorboard)")


if __name__ == "__main__":
    main()
