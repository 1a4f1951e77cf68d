"""Lightning's real `ddp` strategy on 2 CPU processes (gloo), every case in one launch.

Usage: ddp_run.py OUT_DIR. Lightning re-launches this script for rank 1 at the first fit; both ranks then run the
cases below one after the other (later fits reuse the processes and the process group). Each rank writes what it saw
to OUT_DIR/<case>/. FSDP is not among them: Lightning (and torch's FSDP itself) refuse it without a GPU.
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

SEED = partial(LinearLR, start_factor=0.5, total_iters=40)
FIXED = {"class_path": "LinearLR", "init_args": {"start_factor": 1.0, "end_factor": 0.1, "total_iters": "auto"}}
#: case -> (strategy, schedule, on_misconfig); "raise" last: a fit that raises tears its strategy down
CASES = {
    "ddp-seed": ("ddp", SEED, "warn"),
    "ddp-fixed": ("ddp", FIXED, "warn"),
    "ddp-raise": ("ddp", SEED, "raise"),
}


def run_case(out: str, strategy: str, schedule: object, on_misconfig: str) -> None:
    m = TinyModule(lambda mod: SGD(mod.parameters(), lr=0.001))
    t = trainer(
        out, [LRMonitor(schedule, on_misconfig=on_misconfig)], strategy=strategy, devices=2, max_steps=-1, max_epochs=5
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        try:
            t.fit(m, loader(64, 4))  # 16 batches, 8 per rank per epoch -> 40 optimizer steps
            status = "ok"
        except LRScheduleError as err:
            status = f"raised: {str(err).splitlines()[0]}"
    rank = t.global_rank
    np.save(os.path.join(out, f"applied_rank{rank}.npy"), np.asarray(m.optimizers().optimizer.applied))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        seen = [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]
        json.dump({"status": status, "world_size": t.world_size, "warnings": seen}, fh)


if __name__ == "__main__":
    for case, (strategy, schedule, on_misconfig) in CASES.items():
        out = os.path.join(sys.argv[1], case)
        os.makedirs(out, exist_ok=True)
        for stream in (sys.stdout, sys.stderr):  # marks where the case's output starts, in both streams
            print(f"== case {case}", file=stream, flush=True)
        run_case(out, strategy, schedule, on_misconfig)
