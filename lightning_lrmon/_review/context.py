"""What a check looks at: the ``CheckContext``, the segments of the run judged by one shape, the thresholds,
and the one way a check makes a ``Finding``.

The checks (``checks``, ``horizons`` beside it) import this module and nothing of each
other. A check that defers to another reads ``ctx.found`` (the findings made so far, in the order of
``CHECKS``) and ``ctx.claimed`` (rows another finding explains); which check reads
which is declared in ``READS``, and the order is checked at import.

Examples:
    >>> import numpy as np
    >>> from lightning_lrmon._simulation.columns import Columns
    >>> from lightning_lrmon._schedulers import Phases
    >>> cols = Columns.of_array(np.array([[0.1], [0.5], [1.0], [0.9], [0.8]]))
    >>> [(s.start, s.stop, s.shape) for s in phase_segments(Phases([object(), object()], [2], 0), cols)]
    [(0, 2, 'warmup'), (2, 5, None)]
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lightning_lrmon._findings import Finding, Severity
from lightning_lrmon._schedulers import Phases, lookup
from lightning_lrmon._simulation.columns import Columns
from lightning_lrmon._simulation.shadow import Simulation

__all__ = [
    "HORIZON_LONG_COVERAGE",
    "HORIZON_SHORT_FRACTION",
    "JUMP_PEAK_FRACTION",
    "WARMUP_MAX_FRACTION",
    "ZERO_RATIO",
    "ZERO_TAIL_FRACTION",
    "CheckContext",
    "Segment",
    "epochs_remark",
    "finding",
    "phase_segments",
    "segments",
]

#: ``horizon-too-short``: the schedule's own horizon ends before this fraction of the run.
HORIZON_SHORT_FRACTION = 0.5
#: ``horizon-too-long``: the run covers less than this fraction of the schedule's horizon.
HORIZON_LONG_COVERAGE = 0.5
#: ``lr-zero-early``: the LR counts as zero below this fraction of the group's peak LR ...
ZERO_RATIO = 1e-6
#: ... and the finding needs it to stay there for more than this fraction of the run (a decay reaching 0 *at*
#: the end is normal).
ZERO_TAIL_FRACTION = 0.1
#: ``warmup-too-long``: the first peak of a rise-then-fall schedule lies after this fraction of the run.
WARMUP_MAX_FRACTION = 0.5
#: ``lr-jump``: one step multiplies the LR by at least ``JUMP_RATIO`` and moves it by at least this
#: fraction of the group's peak LR, after the LR had come down.
JUMP_PEAK_FRACTION = 0.2


@dataclass
class CheckContext:
    """Everything a check may look at. Built by ``run_checks``."""

    scheduler: Any
    sim: Simulation
    total_steps: int
    expect: str | None
    configured_lrs: list[float] | None
    optimizer_label: str
    group_names: list[str]
    steps_per_epoch: int | None
    cols: Columns  # the simulated LRs (valid rows only), read through chunk summaries
    accumulate: int = 1
    ratios: np.ndarray | None = None  # groups proportional: group g is ratios[g] x the one simulated column
    segments: list[Segment] = field(default_factory=list)
    claims: list[tuple[int | None, int, int]] = field(default_factory=list)  # (group or all, rows [a, b)) explained
    found: list[Finding] = field(default_factory=list)  # findings so far: a check may defer to a specific one
    offset: int = 0  # optimizer step of row 0 (a resumed run starts part-way)
    auto_ok: bool = True  # the door binds 'auto' (LightningCLI's top-level lr_scheduler: does not)
    resumed: bool | None = None  # its state came from a checkpoint (None: it was stepped before the review)

    def at(self, row: int) -> int:
        """The run's optimizer step of simulation row ``row``."""
        return row + self.offset

    def or_auto(self, arg: str | None) -> str:
        """`` or {arg}='auto'`` where the door binds ``'auto'``, else nothing (a fix never names what fails)."""
        return f" or {arg}='auto'" if self.auto_ok else ""

    def claim(self, a: int, b: int, group: int | None = None) -> None:
        """Rows ``[a, b)`` of ``group`` (of every group when ``None``) are explained by a finding already made."""
        self.claims.append((group, a, b))

    def claimed(self, group: int, row: int) -> bool:
        return any(a <= row < b and g in (None, group) for g, a, b in self.claims)

    def where(self, group: int) -> str:
        return f"{self.optimizer_label} {self.group_names[group]}".strip()


@dataclass
class Segment:
    start: int
    stop: int
    shape: str | None
    scheduler: Any
    warmup_phase: bool = False


def segments(ctx: CheckContext) -> list[Segment]:
    """Which rows are judged by which shape: the declared one; each phase of a scheduler made of phases; a chain of
    decays as a warmup then a decay; else the class's own."""
    s, n = ctx.scheduler, ctx.cols.n
    if ctx.expect is not None:
        return [Segment(0, n, ctx.expect, s)]
    record = lookup(s)
    if record is not None and record.phases is not None:
        return phase_segments(record.phases(s), ctx.cols)
    if record is not None and record.children is not None:
        shapes = {_shape(c) for c in record.children(s)}
        return [Segment(0, n, "warmup_decay" if shapes == {"decay"} else None, s)]
    return [Segment(0, n, _shape(s), s)]


def _shape(s: Any) -> str | None:
    record = lookup(s)
    return record.shape if record is not None else None


def phase_segments(phases: Phases, cols: Columns) -> list[Segment]:
    """One segment per phase still ahead; a rising first phase is a warmup, later ones keep their class's shape."""
    n = cols.n
    milestones, l0 = phases.milestones, phases.epoch
    bounds = [m - l0 for m in milestones]
    out: list[Segment] = []
    start = 0
    idx0 = bisect_right(milestones, l0)
    for p in range(idx0, len(phases.children)):
        stop = min(bounds[p], n) if p < len(bounds) else n
        if stop <= start and p < len(bounds):
            continue
        child = phases.children[p]
        shape = _shape(child)
        warm = False
        if p == 0 and shape != "cyclic" and stop - start > 1 and next(cols.rises(start, stop, None), None) is not None:
            shape, warm = "warmup", True
        # the step into this phase (from row start-1 to start) belongs to no phase: judged by lr-jump only
        out.append(Segment(start, stop, shape, child, warmup_phase=warm))
        start = stop
        if start >= n:
            break
    return out


def finding(
    ctx: CheckContext,
    code: str,
    severity: Severity,
    message: str,
    step: int | None,
    hint: str,
    group: int | None = None,
    **data: Any,
) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        message=message,
        step=None if step is None else step + ctx.offset,
        hint=hint,
        optimizer=ctx.optimizer_label,
        group=group,
        data=data,
    )


def epochs_remark(ctx: CheckContext, value: int, wanted: int) -> str:
    spe = ctx.steps_per_epoch
    if spe and spe > 1 and abs(value * spe - wanted) <= max(1, spe):
        return f" {value} looks like epochs: this run steps the scheduler {spe} times per epoch."
    return ""
