"""With no TensorBoard writer (which logs every step), LRMonitor reads the LRs only at the steps a logger logs them
or a check needs them, so a CSV/MLflow/W&B run at Lightning's cadence costs no more than LearningRateMonitor
(``benchmarks/overhead.py --logger csv --log-every 50``). What it logs, counts and finds stays the same."""

from __future__ import annotations

import csv
import os
import re
import warnings
from typing import Any

import numpy as np
import torch
from helpers import SGD, TinyModule, loader, lr_warnings, trainer
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import CSVLogger

from lightning_lrmon import LRMonitor


def cosine(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=120)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def csv_points(root: Any, name: str) -> dict[int, float]:
    with open(os.path.join(str(root), name, "version_0", "metrics.csv"), newline="") as fh:
        return {int(r["step"]): float(r["lr-SGD"]) for r in csv.DictReader(fh) if r.get("lr-SGD")}


def fit_csv(tmp_path: Any, module: TinyModule, callbacks: list[Any], name: str, **kw: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(
            tmp_path, callbacks, logger=CSVLogger(str(tmp_path), name=name), log_every_n_steps=50, max_steps=120, **kw
        ).fit(module, loader(480, 4))
    return lr_warnings(record)


def test_keeps_exactly_the_points_it_logged_and_they_are_learningratemonitors(tmp_path):
    module, cb = TinyModule(cosine), LRMonitor()
    assert fit_csv(tmp_path, module, [cb], "ours") == []
    ours = csv_points(tmp_path, "ours")
    reference = TinyModule(cosine)
    fit_csv(tmp_path, reference, [LearningRateMonitor()], "ref")
    theirs = csv_points(tmp_path, "ref")
    assert {s: ours[s] for s in theirs} == theirs  # every point LearningRateMonitor logs, the same
    assert sorted(ours) == [49, 99, 119]  # and the run's last step
    steps, values = cb.logged["lr-SGD"]  # what plot(monitor) draws: the steps read (logged or checked), exact
    assert {49, 99, 119} <= set(steps.tolist()) and len(steps) < 12
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    np.testing.assert_array_equal(values, [applied[s] for s in steps])


def test_a_nan_lr_between_logging_steps_is_found_at_the_next_step_read(tmp_path):
    found = fit_csv(tmp_path, TinyModule(lambda m: SGD(m.parameters(), lr=0.1), nan_at_step=30), [LRMonitor()], "nan")
    (invalid,) = [w for w in found if w.startswith("lr-invalid")]
    step = int(re.match(r"lr-invalid: the LR of lr-SGD is nan at optimizer step (\d+)", invalid).group(1))
    assert 30 <= step <= 49  # at the latest the next logging step (exactly 30 where TensorBoard reads every step)


def test_a_progress_bar_lr_is_read_every_step(tmp_path):
    module = TinyModule(cosine)
    cb = LRMonitor(prog_bar=True)
    fit_csv(tmp_path, module, [cb], "bar")
    steps, _ = cb.logged["lr-SGD"]
    assert len(steps) == 120
