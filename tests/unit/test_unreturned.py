"""Schedulers kept on the module and not returned from configure_optimizers: which ones are found."""

from __future__ import annotations

import torch
from lightning.pytorch.utilities.types import LRSchedulerConfig
from torch.optim.lr_scheduler import StepLR

from lightning_lrmon._fit.unreturned import unreturned


def test_kept_schedulers_are_found_by_the_name_code_uses():
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    other = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    returned = StepLR(opt, step_size=3)
    net.scheduler = StepLR(opt, step_size=5)
    net.schedulers = [StepLR(opt, step_size=7)]
    net.by_name = {"main": StepLR(opt, step_size=9)}
    net.returned = returned  # the Trainer has it
    net.elsewhere = StepLR(other, step_size=2)  # drives an optimizer the run does not have
    net.samples = [0] * 16 + [StepLR(opt, step_size=11)]  # a long list is data: not looked into
    found = unreturned(net, [opt], [LRSchedulerConfig(scheduler=returned)])
    assert [name for name, _ in found] == ["self.scheduler", "self.schedulers[0]", "self.by_name['main']"]
    assert all(config.interval == "step" and config.scheduler.optimizer is opt for _, config in found)
