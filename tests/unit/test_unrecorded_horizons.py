"""Scheduler classes without a record: the horizon argument found from the simulated curve (issue 30).

``WarmupCosine`` follows the chainable formula of lightning-bolts' ``LinearWarmupCosineAnnealingLR`` (widely copied):
a linear warm-up over ``warmup_epochs``, then a cosine that reaches ``eta_min`` at ``max_epochs`` and climbs back
after it. Stepped per optimizer step with ``max_epochs`` counted in epochs, its decay ends 50x too early.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch.optim.lr_scheduler import LRScheduler

from lightning_lrmon import check_schedule


class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup_epochs, max_epochs, warmup_start_lr=0.0, eta_min=0.0, last_epoch=-1):
        self.warmup_epochs, self.max_epochs = warmup_epochs, max_epochs
        self.warmup_start_lr, self.eta_min = warmup_start_lr, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, w, m, groups = self.last_epoch, self.warmup_epochs, self.max_epochs, self.optimizer.param_groups
        if e == 0:
            return [self.warmup_start_lr] * len(self.base_lrs)
        if e < w:
            return [g["lr"] + (b - self.warmup_start_lr) / (w - 1) for b, g in zip(self.base_lrs, groups)]
        if e == w:
            return list(self.base_lrs)
        span = m - w
        if (e - 1 - m) % (2 * span) == 0:
            step_up = (1 - math.cos(math.pi / span)) / 2
            return [g["lr"] + (b - self.eta_min) * step_up for b, g in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * (e - w) / span)) / (1 + math.cos(math.pi * (e - w - 1) / span))
        return [ratio * (g["lr"] - self.eta_min) + self.eta_min for g in groups]


class Triangle(LRScheduler):
    """A cyclic class of one's own: down and up every ``step_size`` steps (its climbs are its design)."""

    def __init__(self, optimizer, step_size, last_epoch=-1):
        self.step_size = step_size
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        phase = (self.last_epoch % (2 * self.step_size)) / self.step_size
        return [b * (0.1 + 0.9 * abs(1 - phase)) for b in self.base_lrs]


def sgd() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def test_a_warmup_cosine_sized_in_epochs_and_stepped_per_step_names_max_epochs():
    (found,) = check_schedule(WarmupCosine(sgd(), 10, 40), 2000, steps_per_epoch=50)
    assert found.code == "horizon-too-short"
    assert "its decay ends at step 40, but this run steps it 2000 times" in found.message
    assert "max_epochs=40 looks like epochs: this run steps the scheduler 50 times per epoch" in found.message
    assert found.hint.startswith("use max_epochs=2000 (the run's scheduler steps)")


def test_the_suggested_value_ends_the_decay_where_the_run_ends():
    """The fix, simulated by torch's own stepping: the LR reaches eta_min at the run's last step, no climb."""
    (found,) = check_schedule(WarmupCosine(sgd(), 10, 40), 2000, steps_per_epoch=50)
    fixed = WarmupCosine(sgd(), 10, found.data["suggested"])
    lrs = []
    for _ in range(2000):
        lrs.append(fixed.optimizer.param_groups[0]["lr"])
        fixed.optimizer.step()
        fixed.step()
    assert min(lrs) == lrs[-1] or lrs[-1] <= 1e-6 * max(lrs) + 1e-12
    assert all(b <= a + 1e-15 for a, b in itertools.pairwise(lrs[10:]))  # decays to the end, never climbs
    assert check_schedule(WarmupCosine(sgd(), 10, 2000), 2000, steps_per_epoch=50) == []


def test_a_cyclic_class_of_ones_own_is_not_a_short_horizon():
    assert [f.code for f in check_schedule(Triangle(sgd(), 8), 400)] == []
