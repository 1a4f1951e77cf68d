"""Fabric's real `ddp` strategy on 2 CPU processes (gloo): ``LoopMonitor`` in a Fabric loop.

Usage: fabric_ddp_run.py OUT_DIR. ``fabric.launch()`` starts rank 1 by running this script again; each rank writes
what it saw to OUT_DIR/rank<r>.json. Case "warn": the seed's mistake warned once, one writer. Case "raise": every
rank raises at its first step, none updates its weights.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

import torch
from lightning.fabric import Fabric
from lightning.fabric.loggers import TensorBoardLogger
from torch.optim.lr_scheduler import LinearLR

from lightning_lrmon import LoopMonitor, LRScheduleError, LRScheduleWarning


def run(fabric: Fabric, out: str, on_misconfig: str) -> dict:
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001)
    scheduler = LinearLR(optimizer, start_factor=0.5, total_iters=40)
    model, optimizer = fabric.setup(model, optimizer)
    before = [p.detach().clone() for p in model.parameters()]
    applied, raised = [], None
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        logger = TensorBoardLogger(out, name=on_misconfig)
        monitor = LoopMonitor(
            optimizer, scheduler, total_steps=40, fabric=fabric, logger=logger, on_misconfig=on_misconfig
        )
        try:
            for _ in range(40):
                loss = model(torch.randn(8, 4, device=fabric.device)).pow(2).mean()
                fabric.backward(loss)
                applied.append(optimizer.param_groups[0]["lr"])
                optimizer.step()
                optimizer.zero_grad()
                scheduler.step()
        except LRScheduleError as err:
            raised = str(err).splitlines()[0]
    monitor.close()
    unchanged = all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    return {
        "applied": applied,
        "warnings": [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)],
        "raised": raised,
        "unchanged": unchanged,
        "event_file": monitor.event_file,
    }


def main(out: str) -> None:
    fabric = Fabric(accelerator="cpu", devices=2, strategy="ddp")
    fabric.launch()
    seen = {case: run(fabric, out, case) for case in ("warn", "raise")}
    seen["world_size"] = fabric.world_size
    with open(os.path.join(out, f"rank{fabric.global_rank}.json"), "w") as fh:
        json.dump(seen, fh)


if __name__ == "__main__":
    main(sys.argv[1])
