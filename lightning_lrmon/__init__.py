"""lightning-lrmon: build, log and check learning-rate schedules in PyTorch Lightning.

The public surface is this package's ``__all__`` (and ``lightning_lrmon.pl.LRMonitor`` for ``pytorch_lightning``);
modules whose names start with ``_`` are internal. Names are imported on first use, so ``import lightning_lrmon``
costs nothing and the ``lrmon`` command starts without Lightning.

Examples:
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

import importlib
from typing import TYPE_CHECKING, Any

from lightning_lrmon._exceptions import LRMonitorConfigError, LRMonitorNote, LRScheduleError, LRScheduleWarning
from lightning_lrmon._version import __version__ as __version__

if TYPE_CHECKING:
    from lightning_lrmon._callback import LRMonitor
    from lightning_lrmon._findings import CODES, Finding
    from lightning_lrmon._loop.monitor import LoopMonitor
    from lightning_lrmon._plot import plot
    from lightning_lrmon._review.pipeline import GroupStats, Review, check_schedule
    from lightning_lrmon._schedulers import SchedulerRecord, register_scheduler
    from lightning_lrmon._simulation.simulate import simulate_schedule

__all__ = [
    "CODES",
    "Finding",
    "GroupStats",
    "LRMonitor",
    "LRMonitorConfigError",
    "LRMonitorNote",
    "LRScheduleError",
    "LRScheduleWarning",
    "LoopMonitor",
    "Review",
    "SchedulerRecord",
    "check_schedule",
    "plot",
    "register_scheduler",
    "simulate_schedule",
]

_LAZY = {
    "CODES": "lightning_lrmon._findings",
    "Finding": "lightning_lrmon._findings",
    "GroupStats": "lightning_lrmon._review.pipeline",
    "LRMonitor": "lightning_lrmon._callback",
    "LoopMonitor": "lightning_lrmon._loop.monitor",
    "Review": "lightning_lrmon._review.pipeline",
    "plot": "lightning_lrmon._plot",
    "SchedulerRecord": "lightning_lrmon._schedulers",
    "check_schedule": "lightning_lrmon._review.pipeline",
    "register_scheduler": "lightning_lrmon._schedulers",
    "simulate_schedule": "lightning_lrmon._simulation.simulate",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lightning_lrmon' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
