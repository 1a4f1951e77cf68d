"""The one review pipeline: simulate a schedule, run the checks, describe its shape, pick the plan points.

Both doors use it: ``LRMonitor`` gathers a ``Subject`` from the live ``Trainer``,
``lrmon check`` from a config file; each then calls ``review`` and formats the ``Review`` it returns.
A review keeps a few numbers per group, not the simulated matrix (unless asked to, for plotting).

Examples:
    >>> import torch
    >>> from torch.optim.lr_scheduler import LinearLR
    >>> from lightning_lrmon._review.checks import Subject
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    >>> r = review(Subject(LinearLR(opt, start_factor=0.5, total_iters=100), 100, label="lr-SGD", tags=["lr-SGD"]))
    >>> [f.code for f in r.findings], r.shape, r.groups[0].line()
    (['decay-increases'], 'decay', 'lr-SGD: 0.0005 -> peak 0.000995 @99 -> 0.000995 (end)')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._findings import Finding
from lightning_lrmon._review.checks import run_checks
from lightning_lrmon._review.series import NO_SERIES, PlannedSeries, RowSteps, SeriesSketch, planned_series
from lightning_lrmon._review.subject import Subject, describe_shape
from lightning_lrmon._schedulers import describe
from lightning_lrmon._simulation.columns import Columns, Unsteady
from lightning_lrmon._simulation.shadow import Simulation
from lightning_lrmon._simulation.simulate import simulate, simulate_columns
from lightning_lrmon._simulation.stack import Stack, erasures, simulate_stack
from lightning_lrmon._stepping.runlength import RunFacts

__all__ = ["GroupStats", "PlanRows", "Review", "assemble", "check_schedule", "review", "review_stack"]


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


class PlanRows:
    """The planned LRs of a reviewed schedule by scheduler step, for checking the run against its plan: one row at a
    time, re-simulated from the review's chunks when asked (the memory the review already used, nothing per step).

    Args:
        cols: the review's simulated rows.
        ratios: each group's ratio to the one simulated column, when the groups stay proportional.
    """

    def __init__(self, cols: Columns, ratios: np.ndarray | None) -> None:
        self._cols, self._ratios = cols, ratios

    def at(self, row: int) -> np.ndarray | None:
        """Each group's planned LR after ``row`` scheduler steps (``None`` past the review, or when the schedule
        cannot be simulated again the same way)."""
        if not 0 <= row < self._cols.n:
            return None
        try:
            x = self._cols.row(row)
        except Exception:  # a schedule that is not a function of the step: no plan to hold the run against
            return None
        return x[0] * self._ratios if self._ratios is not None else x

    def rows(self, a: int, b: int) -> np.ndarray | None:
        """Rows ``[a, b)`` (clipped to the review; ``None`` when the schedule cannot be simulated again the same way),
        each group's planned LRs."""
        try:
            x = self._cols.rows(a, b)
        except Exception:  # a schedule that is not a function of the step
            return None
        return x[:, :1] * self._ratios[None, :] if self._ratios is not None else x


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
        lrs: the simulated matrix, only when ``review`` was asked to keep it.
    """

    label: str
    scheduler: str
    shape: str
    interval: str
    steps: int
    groups: list[GroupStats]
    findings: list[Finding] = field(default_factory=list)
    plan: PlannedSeries = NO_SERIES
    lrs: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    #: the planned LRs by scheduler step, for the live check of the run against its plan
    plan_rows: PlanRows | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        """One screen in a notebook: the numbers, not the arrays.

        Examples:
            >>> r = Review("lr-SGD", "StepLR(step_size=5, gamma=0.1)", "decay", "step", 10,
            ...            [GroupStats("lr-SGD", 0.1, 0.1, 0, 0.01)])
            >>> r  # doctest: +ELLIPSIS
            Review(lr-SGD: StepLR(step_size=5, gamma=0.1), shape decay, 10 scheduler steps ..., findings=[])
        """
        return (
            f"Review({self.label}: {self.scheduler}, shape {self.shape}, {self.steps} scheduler steps "
            f"(interval={self.interval}), groups={[g.line() for g in self.groups]}, "
            f"findings={[f.code for f in self.findings]})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: scheduler, shape, interval, steps, each group's first/peak/end, the findings, the notes."""
        return {
            "label": self.label,
            "scheduler": self.scheduler,
            "shape": self.shape,
            "interval": self.interval,
            "steps": self.steps,
            "groups": [
                {"tag": g.tag, "first": g.first, "peak": g.peak, "peak_step": g.peak_at, "end": g.end}
                for g in self.groups
            ],
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }


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


def review(
    subject: Subject, *, row_steps: RowSteps | None = None, keep_lrs: bool = False, with_series: bool = True
) -> Review:
    """Simulate and check ``subject``; return what a summary, a planned series and a linter need.

    The rows are streamed in chunks (``simulate_columns``): the checks and the
    planned series read chunk summaries and look again only at the chunks that hold something, so memory stays
    bounded however long the run. A schedule whose chunks come out different when simulated again (a lambda with
    state) is reviewed whole: this is the one place that falls back.

    Args:
        subject: the schedule and the numbers around it.
        row_steps: maps simulated rows to the optimizer step that first uses them (default: ``step_offset + row``).
        keep_lrs: keep the simulated matrix in ``Review.lrs`` (for plots).
        with_series: pick the planned series' points (``check_schedule`` only wants the findings).
    """
    steps_of = row_steps or (lambda rows: subject.step_offset + rows)
    for whole in (True,) if keep_lrs else (False, True):
        sim, cols, ratios, sketch = _simulated(subject, whole=whole, with_series=with_series)
        try:
            got = assemble(subject, steps_of, sim, cols, ratios, sketch, with_series=with_series)
        except Unsteady:
            continue  # streamed chunks came out different when simulated again: review the matrix whole
        got.lrs = sim.lrs if keep_lrs else None
        return got
    raise AssertionError("unreachable: the whole matrix is never unsteady")  # pragma: no cover


def _simulated(
    subject: Subject, *, whole: bool, with_series: bool
) -> tuple[Simulation, Columns, np.ndarray | None, SeriesSketch | None]:
    """The rows streamed in chunks, or (``whole``) simulated as one matrix; a planned-series sketch fed with them."""
    sketch = SeriesSketch(subject.steps) if with_series else None
    if whole:  # a plot wants every group's own column, and the matrix
        sim = simulate(subject.scheduler, subject.steps, budget_s=subject.budget_s)
        feed = sketch.feed if sketch is not None else None
        return sim, Columns.of_array(sim.lrs[: sim.valid_steps], feed=feed), None, sketch
    sim, cols, ratios = simulate_columns(subject.scheduler, subject.steps, budget_s=subject.budget_s, consumer=sketch)
    return sim, cols, ratios, sketch


def assemble(
    subject: Subject,
    steps_of: RowSteps,
    sim: Simulation,
    cols: Columns,
    ratios: np.ndarray | None,
    sketch: SeriesSketch | None = None,
    *,
    with_series: bool = True,
) -> Review:
    """The review of simulated rows: checks, shape, group stats and the planned series (``sketch``: fed while the
    rows were made). Every answer is the same however ``cols`` is chunked."""
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
        plan=planned_series(cols, sketch, steps_of, ratios) if with_series else NO_SERIES,
        plan_rows=PlanRows(cols, ratios) if with_series and sim.valid_steps else None,
    )


def review_stack(
    configs: Sequence[Any], facts: RunFacts, steps: int, *, start: int = 0, label: str, tags: Sequence[str]
) -> Review:
    """The review of several schedulers on one optimizer (Lightning's scheduler configs, in their order): the run's
    LRs simulated with all of them stepping as Lightning steps them, the validity checks on those LRs, one planned
    series per group, and ``schedulers-conflict`` for a scheduler the others erase."""
    sim = simulate_stack(configs, facts, steps, start=start)
    stack = Stack([c.scheduler for c in configs])
    subject = Subject(stack, steps, label=label, tags=list(tags), step_offset=start, interval="step")
    sketch = SeriesSketch(steps)
    cols = Columns.of_array(sim.lrs[: sim.valid_steps], feed=sketch.feed)
    got = assemble(subject, lambda rows: start + rows, sim, cols, None, sketch)
    conflicts = erasures(configs, facts, steps, sim, start=start)
    if conflicts:  # the jumps are the erasing itself: one finding says it, with the fix
        got.findings[:] = [f for f in got.findings if f.code != "lr-jump"]
    got.findings[:0] = conflicts
    got.shape = "stacked (simulated together, in Lightning's order)"
    got.notes.append(
        f"{len(configs)} schedulers on one optimizer: simulated together as Lightning steps them "
        "(step-interval ones after each optimizer step, epoch-interval ones at epoch end, in config order)"
    )
    return got


def check_schedule(
    scheduler: Any,
    total_steps: int,
    *,
    expect: str | None = None,
    configured_lrs: Sequence[float] | None = None,
    optimizer_label: str = "the optimizer",
    group_names: Sequence[str] | None = None,
    steps_per_epoch: int | None = None,
    accumulate_grad_batches: int = 1,
    budget_s: float = 5.0,
) -> list[Finding]:
    """Simulate ``scheduler`` over ``total_steps`` optimizer steps and return every finding (empty = healthy).

    Args:
        scheduler: a torch LR scheduler, in its current state (it is not modified).
        total_steps: scheduler steps the run will take (one per optimizer step for ``interval="step"``).
        expect: the intended shape (``"decay"``, ``"warmup"``, ``"warmup_decay"``, ``"constant"``, ``"cyclic"``),
            or ``None`` to infer it from the class.
        configured_lrs: the groups' LRs before the scheduler was built (OneCycleLR/CyclicLR overwrite them);
            defaults to the scheduler's ``base_lrs``.
        optimizer_label: how messages name the optimizer (``LRMonitor`` passes the tag, e.g. ``"lr-SGD"``).
        group_names: the tag of each param group, for messages.
        steps_per_epoch: scheduler steps per epoch, to recognise horizons given in epochs.
        accumulate_grad_batches: the run's gradient accumulation, to recognise horizons counted in micro-batches.
        budget_s: seconds of exact stepping for classes without a kernel (then ``simulation-truncated``).

    Returns:
        The findings, most severe causes first.

    Examples:
        >>> import torch
        >>> from torch.optim.lr_scheduler import CosineAnnealingLR
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> [f.code for f in check_schedule(CosineAnnealingLR(opt, T_max=100), 1000)]
        ['horizon-too-short']
    """
    if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) or total_steps < 0:
        raise LRMonitorConfigError(f"`total_steps` must be a non-negative int, got {total_steps!r}.")
    subject = Subject(
        scheduler,
        int(total_steps),
        expect=expect,
        configured_lrs=configured_lrs,
        label=optimizer_label,
        tags=group_names,
        steps_per_epoch=steps_per_epoch,
        budget_s=budget_s,
        accumulate=accumulate_grad_batches,
    )
    return review(subject, with_series=False).findings
