"""Lightning's real `ddp` strategy on 2 CPU processes (gloo). Usage: ddp_run.py OUT_DIR MODE (seed|fixed|raise).

Lightning re-launches this script for rank 1; every rank writes what it saw to OUT_DIR.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from functools import partial

import numpy as np
from torch.optim.lr_scheduler import LinearLR

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from helpers import SGD, TinyModule, loader, trainer

from lightning_lrmon import LRMonitor, LRScheduleError, LRScheduleWarning

OUT, MODE = sys.argv[1], sys.argv[2]

if __name__ == "__main__":
    schedule = {
        "seed": partial(LinearLR, start_factor=0.5, total_iters=40),
        "raise": partial(LinearLR, start_factor=0.5, total_iters=40),
        "fixed": {
            "class_path": "LinearLR",
            "init_args": {"start_factor": 1.0, "end_factor": 0.1, "total_iters": "auto"},
        },
    }[MODE]
    m = TinyModule(lambda mod: SGD(mod.parameters(), lr=0.001))
    t = trainer(
        OUT,
        [LRMonitor(schedule, on_misconfig="raise" if MODE == "raise" else "warn")],
        strategy="ddp",
        devices=2,
        max_steps=-1,
        max_epochs=5,
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        try:
            t.fit(m, loader(64, 4))  # 16 batches, 8 per rank per epoch -> 40 optimizer steps
            status = "ok"
        except LRScheduleError as err:
            status = f"raised: {str(err).splitlines()[0]}"
    rank = t.global_rank
    np.save(os.path.join(OUT, f"applied_rank{rank}.npy"), np.asarray(m.optimizers().optimizer.applied))
    with open(os.path.join(OUT, f"rank{rank}.json"), "w") as fh:
        json.dump(
            {
                "status": status,
                "world_size": t.world_size,
                "warnings": [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)],
            },
            fh,
        )
    sys.exit(3 if status != "ok" else 0)
