"""A scheduler class lightning-lrmon has no record of (a StepLR in other words), and the one record that supports it:
the layout tests and a fit test show one record is all a new class needs."""

from __future__ import annotations

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler


class HalvingLR(LRScheduler):
    """Multiplies the LR by ``factor`` every ``every`` steps (a StepLR in other words)."""

    def __init__(self, optimizer: torch.optim.Optimizer, every: int, factor: float = 0.5, last_epoch: int = -1):
        self.every, self.factor = every, factor
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        hit = self.last_epoch > 0 and self.last_epoch % self.every == 0
        return [g["lr"] * (self.factor if hit else 1.0) for g in self.optimizer.param_groups]


def factors(s: HalvingLR, e0: int, n: int) -> np.ndarray:
    e = np.arange(e0 + 1, e0 + n + 1)
    return np.where(e % s.every == 0, s.factor, 1.0)


def register_halving():  # type: ignore[no-untyped-def]
    """Register the record (a fixture in conftest.py does, and takes it back after the test)."""
    from lightning_lrmon._schedulers import SchedulerRecord, lookup, register

    assert lookup(HalvingLR) is None
    return register(
        SchedulerRecord(
            HalvingLR,
            shape="decay",
            horizon_arg="every",
            arg_types={"every": int, "factor": float},
            judges_short_horizon=False,
            decay_hint=lambda s: f"factor={s.factor:g} raises the LR; use a factor below 1.",
            factors=factors,
            scales=lambda s, ratios: True,
        )
    )


def unregister_halving() -> None:
    from lightning_lrmon._schedulers.record import _RECORDS

    del _RECORDS[HalvingLR]  # the test's own record only
