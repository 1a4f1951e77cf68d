"""The contract a user relies on, in real fits: the callback and lrmon agree, specs checkpoint, torch untouched."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from helpers import SGD, TinyModule, loader, trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from lightning_lrmon import LRMonitor, LRScheduleWarning
from lightning_lrmon._cli.main import main

SEED_YAML = """
trainer:
  max_steps: 100
  callbacks:
    - class_path: lightning_lrmon.LRMonitor
      init_args:
        scheduler: {class_path: torch.optim.lr_scheduler.LinearLR, init_args: {start_factor: 0.5, total_iters: auto}}
optimizer: {class_path: torch.optim.SGD, init_args: {lr: 0.001}}
"""


def test_the_callback_and_lrmon_give_the_same_report(tmp_path, capsys):
    path = tmp_path / "seed.yaml"
    path.write_text(SEED_YAML)
    assert main(["check", str(path), "--format", "json"]) == 1
    cli = json.loads(capsys.readouterr().out)["schedules"][0]
    cb = LRMonitor({"class_path": "LinearLR", "init_args": {"start_factor": 0.5, "total_iters": "auto"}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LRScheduleWarning)
        trainer(tmp_path, [cb], max_steps=100, max_epochs=-1).fit(
            TinyModule(lambda m: SGD(m.parameters(), lr=0.001)), loader(64, 1)
        )
    (review,) = cb.reviews
    assert [f.to_dict() for f in cb.findings] == cli["findings"]
    assert (review.scheduler, review.shape, review.steps) == (cli["scheduler"], cli["shape"], cli["steps"])
    assert cli["findings"][0]["code"] == "decay-increases" and "lr-SGD" in cli["findings"][0]["message"]


@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended before the epoch ended")
def test_a_lambda_in_a_dict_spec_checkpoints_and_resumes(tmp_path):
    spec = {"class_path": "LambdaLR", "init_args": {"lr_lambda": lambda s: 0.9**s}}
    ckpt = ModelCheckpoint(dirpath=str(tmp_path / "ckpt"), every_n_train_steps=5, save_top_k=-1)
    first = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(tmp_path, [LRMonitor(spec), ckpt], max_steps=10, enable_checkpointing=True)
    t.fit(first, loader())
    assert not [k for k in vars(t.lr_scheduler_configs[0].scheduler) if k.startswith("_lrmon")]
    second = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    again = ModelCheckpoint(dirpath=str(tmp_path / "ckpt"), every_n_train_steps=5, save_top_k=-1)
    t2 = trainer(tmp_path, [LRMonitor(spec), again], max_steps=15, version=1, enable_checkpointing=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        t2.fit(second, loader(), ckpt_path=str(tmp_path / "ckpt" / "epoch=0-step=5.ckpt"))
    applied = [a[0] for a in second.optimizers().optimizer.applied]
    np.testing.assert_allclose(applied, [0.1 * 0.9**s for s in range(5, 15)], rtol=1e-12)


def test_nothing_is_written_onto_torch_objects(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(tmp_path, [LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})], max_steps=4)
    t.fit(module, loader())
    sched = t.lr_scheduler_configs[0].scheduler
    assert set(sched.state_dict()) == set(
        torch.optim.lr_scheduler.CosineAnnealingLR(
            torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), T_max=4
        ).state_dict()
    )
