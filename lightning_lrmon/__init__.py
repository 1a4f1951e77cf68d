"""lightning-lrmon: build, log and check learning-rate schedules in PyTorch Lightning.

Example:
    >>> import torch
    >>> from torch.optim.lr_scheduler import LinearLR
    >>> import lightning_lrmon
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    >>> sched = LinearLR(opt, start_factor=0.5, total_iters=100)
    >>> [f.code for f in lightning_lrmon.check_schedule(sched, 100)]
    ['decay-increases']
    >>> callback = lightning_lrmon.LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
"""

from __future__ import annotations

from lightning_lrmon.checks import check_schedule
from lightning_lrmon.exceptions import LRMonitorConfigError, LRScheduleError, LRScheduleWarning
from lightning_lrmon.findings import Finding
from lightning_lrmon.lrmonitor import LRMonitor
from lightning_lrmon.simulate import simulate_schedule

__all__ = [
    "Finding",
    "LRMonitor",
    "LRMonitorConfigError",
    "LRScheduleError",
    "LRScheduleWarning",
    "check_schedule",
    "simulate_schedule",
]
__version__ = "0.1.0"
