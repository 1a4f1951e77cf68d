"""The ordinary step's path: between the steps the full path takes (the first ones, the check counts, every 256th
call, a flush of the TensorBoard writer every 1024 rows, a step off the plan's band), LRMonitor reads, holds and
buffers a step on one small object. Nothing it buffers may be lost or misplaced, and nothing the full path would
say may go unsaid."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from helpers import SGD, TinyModule, f32, loader, lr_warnings, read_scalars, run_dir, series, trainer
from torch.optim.lr_scheduler import CosineAnnealingLR

from lightning_lrmon import LRMonitor, LRScheduleWarning

STEPS = 2100  # past two 1024-row flushes, and a 256-call re-read of the Trainer's step


def cosine_over_the_run(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    sched = CosineAnnealingLR(opt, T_max=STEPS)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class DoubleStepsFrom(TinyModule):
    """Steps its scheduler a second time at every batch from optimizer step ``start`` on."""

    start = 1500

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if self.global_step >= self.start:
            self.lr_schedulers().step()
        return super().training_step(batch, batch_idx)


def fit(tmp_path: Any, module: TinyModule) -> tuple[LRMonitor, list[str]]:
    cb = LRMonitor()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        trainer(tmp_path, [cb], max_steps=STEPS).fit(module, loader(4 * STEPS, 4))
    return cb, lr_warnings(record)


def test_every_step_of_a_long_run_is_in_the_file_with_the_lr_it_used(tmp_path):
    module = TinyModule(cosine_over_the_run)
    cb, found = fit(tmp_path, module)
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert found == [] and len(applied) == STEPS
    assert steps == list(range(STEPS)) and np.array_equal(values, f32(applied))
    kept_steps, kept = cb.logged["lr-SGD"]
    assert kept_steps.tolist() == list(range(STEPS)) and np.array_equal(kept, np.asarray(applied))


def test_a_run_that_leaves_its_plan_after_many_ordinary_steps_is_said_at_that_step(tmp_path):
    _, found = fit(tmp_path, DoubleStepsFrom(cosine_over_the_run))
    assert [f.split(":")[0] for f in found] == ["double-step"], found
    assert f"left the plan: at optimizer step {DoubleStepsFrom.start}," in found[0], found[0]
