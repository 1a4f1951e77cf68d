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
from lightning_lrmon._columns import Columns, Unsteady
from lightning_lrmon._findings import Finding
from lightning_lrmon._schedulers import describe
from lightning_lrmon._simulate import Simulation, simulate, simulate_columns
from lightning_lrmon._summary import PlanSketch

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


def _stats(tags: list[str], cols: Columns, ratios: np.ndarray | None) -> list[GroupStats]:
    out = []
    shared = _column_stats(cols, 0) if ratios is not None else None  # proportional groups: one column
    for g, tag in enumerate(tags):
        got = shared if ratios is not None else _column_stats(cols, g)
        if got is None:
            out.append(GroupStats(tag))
            continue
        first, peak, p, end = got
        r = 1.0 if ratios is None else float(ratios[g])
        out.append(GroupStats(tag, first * r, peak * r, p, end * r))
    return out


def _column_stats(cols: Columns, g: int) -> tuple[float, float, int, float] | None:
    """First, peak, position of the peak among the finite values, and last finite value, from the chunk summaries
    (and the one chunk that holds the peak)."""
    got = cols.peak_at(g)
    if got is None:
        return None
    has = np.flatnonzero(cols.nfinite[:, g])
    return float(cols.ffirst[has[0], g]), got[0], got[1], float(cols.flast[has[-1], g])


#: up to this many values (steps x groups) the plan is written at every optimizer step, like the actual series, so
#: the two lines overlap under any smoothing; past it, a few hundred points per group
DENSE_PLAN_VALUES = 200_000


def _dense(n: int, groups: int, row_steps: RowSteps) -> bool:
    span = int(row_steps(np.asarray([n]))[0] - row_steps(np.asarray([0]))[0])
    return span * max(1, groups) <= DENSE_PLAN_VALUES


def _plan_rows(cols: Columns, sketch: PlanSketch | None, dense: bool) -> tuple[np.ndarray, np.ndarray]:
    """The plan's rows and their values: every row of a short run; else the sketch fed while simulating (or, when it
    did not see exactly these rows, one fed now from the chunks)."""
    n = cols.n
    if dense:
        return np.arange(n), cols.rows(0, n)
    if sketch is None or sketch.n != n or sketch.at != n:  # the run was cut short (a step error)
        sketch = PlanSketch(n)
        for j in range(cols.chunks):
            sketch.feed(cols.chunk(j))
    return sketch.finish()


def _plan(cols: Columns, sketch: PlanSketch | None, row_steps: RowSteps, ratios: np.ndarray | None) -> Plan:
    """Plan points: every step for short runs (see :data:`DENSE_PLAN_VALUES`), else the rows
    :class:`~lightning_lrmon._summary.PlanSketch` keeps; a row held over several optimizer steps (epoch interval,
    frequency) gets every step or both ends. Built with numpy: a dense plan of a few hundred thousand points costs
    milliseconds, not a Python loop."""
    n = cols.n
    if n == 0:
        return _NO_PLAN
    dense = _dense(n, cols.groups, row_steps)
    rows, values = _plan_rows(cols, sketch, dense)
    starts = row_steps(rows).astype(np.int64)
    ends = row_steps(np.minimum(rows + 1, n)).astype(np.int64)  # first step of the next row
    held = np.maximum(ends - starts, 1)
    counts = held if dense else 1 + (held > 1)  # every step of the row, or its first and last
    which = np.repeat(np.arange(rows.shape[0]), counts)
    pos = np.arange(which.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)  # index within the row
    steps = starts[which] + (pos if dense else pos * (held[which] - 1))
    if ratios is not None:
        values = values[:, :1] * ratios[None, :]
    return Plan(steps, values[which])


def review(subject: Subject, *, row_steps: RowSteps | None = None, keep_lrs: bool = False) -> Review:
    """Simulate and check ``subject``; return what a summary, a plan and a linter need.

    The rows are streamed in chunks (:func:`~lightning_lrmon._simulate.simulate_columns`): the checks and the plan
    read chunk summaries and look again only at the chunks that hold something, so memory stays bounded however
    long the run. A schedule whose chunks come out different when simulated again is reviewed whole.

    Args:
        subject: the schedule and the numbers around it.
        row_steps: maps simulated rows to the optimizer step that first uses them (default: ``step_offset + row``).
        keep_lrs: keep the simulated matrix in :attr:`Review.lrs` (for plots).
    """
    steps_of = row_steps or (lambda rows: subject.step_offset + rows)
    if not keep_lrs:
        try:
            return _review(subject, steps_of, whole=False)
        except Unsteady:
            got = _review(subject, steps_of, whole=True)
            got.lrs = None
            return got
    return _review(subject, steps_of, whole=True)


def _review(subject: Subject, steps_of: RowSteps, *, whole: bool) -> Review:
    """:func:`review` with the rows streamed, or (``whole``) simulated as one matrix kept in the review."""
    sketches: list[PlanSketch] = []

    def new_feed() -> Callable[[np.ndarray], None]:
        sketches.append(PlanSketch(subject.steps))
        return sketches[-1].feed

    if whole:  # a plot wants every group's own column, and the matrix
        sim = simulate(subject.scheduler, subject.steps, budget_s=subject.budget_s)
        cols, ratios = Columns.of_array(sim.lrs[: sim.valid_steps], feed=new_feed()), None
    else:
        sim, cols, ratios = simulate_columns(
            subject.scheduler, subject.steps, budget_s=subject.budget_s, new_feed=new_feed
        )
    got = assemble(subject, steps_of, sim, cols, ratios, sketches[-1])
    got.lrs = sim.lrs if whole else None
    return got


def assemble(
    subject: Subject,
    steps_of: RowSteps,
    sim: Simulation,
    cols: Columns,
    ratios: np.ndarray | None,
    sketch: PlanSketch | None = None,
) -> Review:
    """The review of simulated rows: checks, shape, group stats and plan (``sketch``: the plan fed while the rows
    were made). Every answer is the same however ``cols`` is chunked."""
    findings = run_checks(sim, subject, ratios, cols)
    n_groups = cols.groups if ratios is None else len(ratios)
    tags = list(subject.tags or [])[:n_groups]
    tags += [f"group {g}" for g in range(len(tags), n_groups)]
    return Review(
        label=subject.label,
        scheduler=describe(subject.scheduler),
        shape=describe_shape(subject.scheduler, cols, subject.expect) if sim.valid_steps else "not simulated",
        interval=subject.interval,
        steps=subject.steps,
        groups=_stats(tags, cols, ratios),
        findings=findings,
        plan=_plan(cols, sketch, steps_of, ratios),
    )
