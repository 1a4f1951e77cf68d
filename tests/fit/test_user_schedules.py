"""Schedules people write (transformers' factories, accumulation, a negative LR) in real fits."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pytest
import torch
import transformers
import transformers.optimization
from helpers import SGD, TinyModule, loader, trainer
from torch.optim import lr_scheduler as L

from lightning_lrmon import LRMonitor, LRScheduleWarning


def opt(lr: float = 1e-3) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


# ---------------------------------------------------------------------------------------------------------------
# transformers' factories from a config, with "auto" and "N%"

HF_SPEC = {
    "class_path": "transformers.get_cosine_schedule_with_warmup",
    "init_args": {"num_warmup_steps": "5%", "num_training_steps": "auto"},
}


def test_a_transformers_factory_from_a_config_binds_auto_and_trains_silently(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        t = trainer(tmp_path, [LRMonitor(HF_SPEC)], max_steps=-1, max_epochs=4, accumulate_grad_batches=4)
        t.fit(module, loader(64, 1))  # 64 batches, 16 optimizer steps per epoch -> 64 steps
    lam = t.lr_scheduler_configs[0].scheduler.lr_lambdas[0]
    assert (lam.keywords["num_warmup_steps"], lam.keywords["num_training_steps"]) == (3, 64)
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    reference = transformers.get_cosine_schedule_with_warmup(opt(0.01), 3, 64)
    expected = []
    for _ in range(64):
        expected.append(reference.get_last_lr()[0])
        reference.optimizer.step()
        reference.step()
    np.testing.assert_array_equal(applied, expected)


def test_micro_batch_total_under_accumulation_warns_in_a_real_fit(tmp_path):
    spec = partial(transformers.get_linear_schedule_with_warmup, num_warmup_steps=2, num_training_steps=256)
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.01))
    with pytest.warns(LRScheduleWarning, match="^horizon-too-long") as record:
        trainer(tmp_path, [LRMonitor(spec)], max_steps=-1, max_epochs=4, accumulate_grad_batches=4).fit(
            module, loader(64, 1)
        )
    (msg,) = [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]
    assert "num_training_steps=256 looks like micro-batches: this run takes 64 optimizer steps" in msg


def test_a_negative_lr_is_reported_once(tmp_path):
    module = TinyModule(
        lambda m: {
            "optimizer": (o := SGD(m.parameters(), lr=0.1)),
            "lr_scheduler": {"scheduler": L.LambdaLR(o, lambda s: 1 - s / 10), "interval": "step"},
        }
    )
    with pytest.warns(LRScheduleWarning) as record:
        trainer(tmp_path, [LRMonitor()], max_steps=20).fit(module, loader())
    assert [str(w.message)[:10] for w in record if issubclass(w.category, LRScheduleWarning)] == ["lr-invalid"]
