"""The one review pipeline: simulate a schedule, run the checks, describe its shape, pick the plan points.

Both doors use it: ``LRMonitor`` gathers a :class:`~lightning_lrmon._checks.Subject` from the live ``Trainer``,
``lrmon check`` from a config file; each then calls :func:`review` and formats the :class:`Review` it returns.
A review keeps a few numbers per group, not the simulated matrix (unless asked to, for plotting).

Example:
    >>> import torch
    >>> from torch.optim.lr_scheduler import LinearLR
    >>> from lightning_lrmon._checks import Subject
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    >>> r = review(Subject(LinearLR(opt, start_factor=0.5, total_iters=100), 100, label="lr-SGD", tags=["lr-SGD"]))
    >>> [f.code for f in r.findings], r.shape, r.groups[0].line()
    (['decay-increases'], 'decay', 'lr-SGD: 0.0005 -> peak 0.000995 @99 -> 0.000995 (end)')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lightning_lrmon._checks import Subject, describe_shape, run_checks
from lightning_lrmon._findings import Finding
from lightning_lrmon._registry import describe
from lightning_lrmon._simulate import simulate, simulate_groups
from lightning_lrmon._summary import plan_points, row_ranges

__all__ = ["GroupStats", "Plan", "Review", "review"]

#: row indices -> the optimizer step that first uses each row
RowSteps = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class GroupStats:
    """First, peak and last simulated LR of one param group."""

    tag: str
    first: float | None = None
    peak: float | None = None
    peak_at: int = 0
    end: float | None = None

    def line(self) -> str:
        """``tag: first -> peak P @k -> end (end)`` (or ``no steps``)."""
        if self.first is None:
            return f"{self.tag}: no steps"
        return f"{self.tag}: {self.first:.4g} -> peak {self.peak:.4g} @{self.peak_at} -> {self.end:.4g} (end)"


@dataclass(frozen=True)
class Plan:
    """Points of the planned series: ``steps[i]`` is an optimizer step, ``values[i]`` the LRs of the groups there."""

    steps: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.steps.shape[0])


_NO_PLAN = Plan(np.empty(0, dtype=np.int64), np.empty((0, 0)))


@dataclass
class Review:
    """What one schedule's review found.

    Attributes:
        label: the optimizer's label (tag without the group part).
        scheduler: the scheduler described with its arguments.
        shape: the shape it was judged by, in words.
        interval: ``"step"`` or ``"epoch"``.
        steps: scheduler steps reviewed.
        groups: first/peak/end LR of every group.
        findings: every finding, schedule problems and tooling notes.
        plan: the planned series at every step of a short run, else a few hundred points per group.
        lrs: the simulated matrix, only when :func:`review` was asked to keep it.
    """

    label: str
    scheduler: str
    shape: str
    interval: str
    steps: int
    groups: list[GroupStats]
    findings: list[Finding] = field(default_factory=list)
    plan: Plan = _NO_PLAN
    lrs: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def _stats(tags: list[str], lrs: np.ndarray, ratios: np.ndarray | None) -> list[GroupStats]:
    out = []
    shared = _column_stats(lrs[:, 0]) if ratios is not None else None  # proportional groups: one column
    for g, tag in enumerate(tags):
        got = shared if ratios is not None else _column_stats(lrs[:, g])
        if got is None:
            out.append(GroupStats(tag))
            continue
        first, peak, p, end = got
        r = 1.0 if ratios is None else float(ratios[g])
        out.append(GroupStats(tag, first * r, peak * r, p, end * r))
    return out


def _column_stats(col: np.ndarray) -> tuple[float, float, int, float] | None:
    """First, peak, position of the peak among the finite values, and last finite value, in chunks."""
    first = end = peak = None
    p = seen = 0
    for a, b in row_ranges(col.shape[0]):
        x = col[a:b]
        x = x[np.isfinite(x)]
        if x.size == 0:
            continue
        if first is None:
            first = float(x[0])
        k = int(np.argmax(x))
        if peak is None or float(x[k]) > peak:
            peak, p = float(x[k]), seen + k
        end, seen = float(x[-1]), seen + x.size
    if first is None or peak is None or end is None:
        return None
    return first, peak, p, end


#: up to this many values (steps x groups) the plan is written at every optimizer step, like the actual series, so
#: the two lines overlap under any smoothing; past it, a few hundred points per group
DENSE_PLAN_VALUES = 200_000


def _dense_rows(lrs: np.ndarray, row_steps: RowSteps) -> np.ndarray | None:
    n = lrs.shape[0]
    span = int(row_steps(np.asarray([n]))[0] - row_steps(np.asarray([0]))[0])
    if span * max(1, lrs.shape[1]) > DENSE_PLAN_VALUES:
        return None
    return np.arange(n)


def _plan(lrs: np.ndarray, row_steps: RowSteps, ratios: np.ndarray | None) -> Plan:
    """Plan points: every step for short runs (see :data:`DENSE_PLAN_VALUES`), else the rows :func:`plan_points`
    keeps; a row held over several optimizer steps (epoch interval, frequency) gets every step or both ends.
    Built with numpy: a dense plan of a few hundred thousand points costs milliseconds, not a Python loop."""
    n = lrs.shape[0]
    if n == 0:
        return _NO_PLAN
    dense = _dense_rows(lrs, row_steps)
    rows = dense if dense is not None else plan_points(lrs)
    starts = row_steps(rows).astype(np.int64)
    ends = row_steps(np.minimum(rows + 1, n)).astype(np.int64)  # first step of the next row
    held = np.maximum(ends - starts, 1)
    counts = held if dense is not None else 1 + (held > 1)  # every step of the row, or its first and last
    which = np.repeat(np.arange(rows.shape[0]), counts)
    pos = np.arange(which.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)  # index within the row
    steps = starts[which] + (pos if dense is not None else pos * (held[which] - 1))
    values = lrs[rows] if ratios is None else lrs[rows, :1] * ratios[None, :]
    return Plan(steps, values[which])


def review(subject: Subject, *, row_steps: RowSteps | None = None, keep_lrs: bool = False) -> Review:
    """Simulate and check ``subject``; return what a summary, a plan and a linter need.

    Args:
        subject: the schedule and the numbers around it.
        row_steps: maps simulated rows to the optimizer step that first uses them (default: ``step_offset + row``).
        keep_lrs: keep the simulated matrix in :attr:`Review.lrs` (for plots).
    """
    if keep_lrs:  # a plot wants every group's own column
        sim, ratios = simulate(subject.scheduler, subject.steps, budget_s=subject.budget_s), None
    else:
        sim, ratios = simulate_groups(subject.scheduler, subject.steps, budget_s=subject.budget_s)
    findings = run_checks(sim, subject, ratios)
    lrs = sim.lrs[: sim.valid_steps]
    n_groups = sim.lrs.shape[1] if ratios is None else len(ratios)
    tags = list(subject.tags or [])[:n_groups]
    tags += [f"group {g}" for g in range(len(tags), n_groups)]
    steps_of = row_steps or (lambda rows: subject.step_offset + rows)
    return Review(
        label=subject.label,
        scheduler=describe(subject.scheduler),
        shape=describe_shape(subject.scheduler, lrs, subject.expect) if sim.valid_steps else "not simulated",
        interval=subject.interval,
        steps=subject.steps,
        groups=_stats(tags, lrs, ratios),
        findings=findings,
        plan=_plan(lrs, steps_of, ratios),
        lrs=sim.lrs if keep_lrs else None,
    )
