"""A real Ctrl-C: the process sends itself SIGINT at optimizer step 37 (usage: interrupted_run.py OUT_DIR)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from helpers import SGD, TinyModule, loader, trainer

from lightning_lrmon import LRMonitor

OUT = sys.argv[1]


class Interrupted(TinyModule):
    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.global_step == 37:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does
        return super().training_step(batch, batch_idx)


class SaveApplied(pl.Callback):
    """Saves the LRs the optimizer really applied, when Lightning handles the interrupt."""

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        np.save(os.path.join(OUT, "applied.npy"), np.asarray(pl_module.optimizers().optimizer.applied)[:, 0])


if __name__ == "__main__":
    # Python's own Ctrl-C handler, whatever this process inherited: a shell starts background jobs with SIGINT
    # ignored, and Python then leaves it ignored (a test suite run in the background would never see the interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    m = Interrupted(lambda mod: SGD(mod.parameters(), lr=0.1))
    spec = {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}
    trainer(OUT, [LRMonitor(spec), SaveApplied()], max_steps=200, max_epochs=-1).fit(m, loader(64, 4))
