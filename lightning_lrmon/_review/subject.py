"""What the review looks at: the scheduler, the steps it will take and how the run names it; its shape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lightning_lrmon._review.context import phase_segments
from lightning_lrmon._schedulers import lookup
from lightning_lrmon._simulation.columns import Columns
from lightning_lrmon._simulation.shadow import DEFAULT_FALLBACK_BUDGET_S
from lightning_lrmon._vocab import SHAPES, check_word

__all__ = ["Subject", "describe_shape"]


def describe_shape(scheduler: Any, lrs: np.ndarray | Columns, expect: str | None = None) -> str:
    """The shape the checks judge ``scheduler`` by, in words (for summaries).

    Examples:
        >>> import torch
        >>> from torch.optim import lr_scheduler as L
        >>> from lightning_lrmon._simulation.simulate import simulate_schedule
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> s = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, 1.0, 10), L.CosineAnnealingLR(opt, 90)], [10])
        >>> describe_shape(s, simulate_schedule(s, 100))
        'warmup (LinearLR) -> decay (CosineAnnealingLR)'
    """
    if expect is not None:
        return f"{expect} (declared)"
    info = lookup(scheduler)
    if info is not None and info.phases is not None:
        cols = lrs if isinstance(lrs, Columns) else Columns.of_array(lrs)
        return " -> ".join(
            f"{seg.shape or 'custom'} ({type(seg.scheduler).__name__})"
            for seg in phase_segments(info.phases(scheduler), cols)
        )
    if info is not None and info.children is not None:
        return "chained: " + ", ".join(type(c).__name__ for c in info.children(scheduler))
    return info.shape if info and info.shape else "not declared (validity checks only)"


@dataclass(frozen=True)
class Subject:
    """One schedule to review and the numbers around it (what a door — the callback or ``lrmon`` — gathers).

    Attributes:
        scheduler: the scheduler, in its current state (never modified).
        steps: scheduler steps the run still takes (one per optimizer step for ``interval="step"``).
        expect: the intended shape, or ``None`` to infer it from the class.
        configured_lrs: the groups' LRs before the scheduler was built (OneCycleLR/CyclicLR overwrite them).
        label: how messages name the optimizer (the tag, e.g. ``"lr-SGD"``).
        tags: the tag of each param group (messages say ``group 'pg1'`` when there are several).
        steps_per_epoch: scheduler steps per epoch, to recognise horizons given in epochs.
        accumulate: ``accumulate_grad_batches``, to recognise horizons counted in micro-batches.
        step_offset: the run's optimizer step of simulation row 0 (a resumed run starts part-way).
        interval: ``"step"`` or ``"epoch"`` (for summaries).
        budget_s: time budget of exact stepping for classes without a fast simulator.
        auto_ok: whether fixes may suggest ``'auto'`` (not for LightningCLI's top-level ``lr_scheduler:``).
        resumed: the scheduler's state came from a checkpoint (``None``: it has been stepped before the review).
    """

    scheduler: Any
    steps: int
    expect: str | None = None
    configured_lrs: Sequence[float] | None = None
    label: str = "the optimizer"
    tags: Sequence[str] | None = None
    steps_per_epoch: int | None = None
    step_offset: int = 0
    interval: str = "step"
    budget_s: float = DEFAULT_FALLBACK_BUDGET_S
    accumulate: int = 1
    auto_ok: bool = True
    resumed: bool | None = None

    def __post_init__(self) -> None:
        check_word("expect", self.expect, SHAPES, none_ok=True)  # every door builds a Subject: checked here once

    def group_names(self, n_groups: int) -> list[str]:
        """How messages name each group: ``group 'pg1'`` (from the tags), ``group 0``, or nothing for one group."""
        if self.tags is not None and len(self.tags) >= n_groups:
            return [f"group '{t.rsplit('/', 1)[-1]}'" if n_groups > 1 else "" for t in self.tags[:n_groups]]
        return [f"group {g}" if n_groups > 1 else "" for g in range(n_groups)]
