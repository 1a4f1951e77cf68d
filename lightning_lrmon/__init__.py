"""lightning-lrmon: build, log and check learning-rate schedules in PyTorch Lightning."""

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
