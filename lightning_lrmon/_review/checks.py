"""The schedule doctor: static checks over a simulated schedule.

Each check is a plain function registered under its stable code in :data:`CHECKS`; :func:`check_schedule`
simulates once and runs them all. Thresholds are the module-level constants below, chosen so the everyday
schedules (cosine/linear/step decay over the run, warmup + cosine, HF-style LambdaLR warmup + decay to zero,
OneCycleLR, cyclic, warm restarts, per-group LRs) produce no finding.

Examples:
    >>> import torch
    >>> from torch.optim.lr_scheduler import LinearLR
    >>> from lightning_lrmon import check_schedule
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    >>> [f.code for f in check_schedule(LinearLR(opt, start_factor=0.5, total_iters=100), 100)]
    ['decay-increases']
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    >>> check_schedule(LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100), 100)
    []
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lightning_lrmon._findings import Finding, tooling
from lightning_lrmon._review.context import (
    HORIZON_LONG_COVERAGE,
    HORIZON_SHORT_FRACTION,
    JUMP_PEAK_FRACTION,
    WARMUP_MAX_FRACTION,
    ZERO_RATIO,
    ZERO_TAIL_FRACTION,
    CheckContext,
    Segment,
    epochs_remark,
    finding,
    phase_segments,
    segments,
)
from lightning_lrmon._review.horizons import lambda_too_long, lambda_too_short, phases_too_long
from lightning_lrmon._schedulers import SchedulerRecord, describe, horizon_of, lookup
from lightning_lrmon._simulation.columns import JUMP_RATIO, RISE_RTOL, Columns
from lightning_lrmon._simulation.simulate import DEFAULT_FALLBACK_BUDGET_S, Simulation
from lightning_lrmon._vocab import SHAPES, check_word

__all__ = [
    "CHECKS",
    "READS",
    "RUN_LENGTH_CODES",
    "check_order",
    "HORIZON_LONG_COVERAGE",
    "HORIZON_SHORT_FRACTION",
    "JUMP_PEAK_FRACTION",
    "JUMP_RATIO",
    "RISE_RTOL",
    "WARMUP_MAX_FRACTION",
    "ZERO_RATIO",
    "ZERO_TAIL_FRACTION",
    "describe_shape",
    "run_checks",
    "CheckContext",
    "Subject",
]

#: Findings that judge the schedule against the run's length: meaningless for a smoke test (``fast_dev_run``).
RUN_LENGTH_CODES = frozenset({"horizon-too-long", "horizon-too-short", "warmup-too-long", "lr-zero-early"})


def check_horizon_too_short(ctx: CheckContext) -> list[Finding]:
    out = lambda_too_short(ctx)
    for seg in ctx.segments:
        info = lookup(seg.scheduler)
        if seg.warmup_phase or info is None or info.horizon_arg is None or seg.shape != "decay":
            continue
        if not info.judges_short_horizon:
            continue
        h = horizon_of(seg.scheduler)
        if h is None or h <= 0:
            continue
        e_now = 0 if seg.start > 0 else max(getattr(seg.scheduler, "last_epoch", 0), 0)
        end_row = max(seg.start + h - e_now, 0)  # a resumed run can be past the horizon already
        span = seg.stop - seg.start
        if end_row >= seg.stop - 1:
            continue
        rise = next(ctx.cols.rises(max(seg.start, end_row - 1), seg.stop, None), None)
        climbs = bool(info.periodic and rise is not None)
        if not climbs and (end_row - seg.start) >= HORIZON_SHORT_FRACTION * span:
            continue
        out.append(_short_finding(ctx, seg, info, h, end_row, span, rise if climbs else None))
    return out


def _short_finding(
    ctx: CheckContext, seg: Segment, info: SchedulerRecord, h: int, end_row: int, span: int, climb: int | None
) -> Finding:
    """The ``horizon-too-short`` finding of one phase; a cosine that climbs back from row ``climb`` on claims the
    rest of the phase, so decay-increases and lr-jump do not report the climb again."""
    arg, wanted = info.horizon_arg, ctx.total_steps - seg.start  # the horizon that ends with the run
    if climb is not None:
        restarts = int(np.ceil((seg.stop - end_row) / (2 * h)))
        what = (
            f"after step {ctx.at(end_row)} the cosine climbs back up to the starting LR"
            f" ({restarts} time{'s' if restarts != 1 else ''} before the run ends)"
        )
        ctx.claim(climb, seg.stop)
    else:
        end_lr = float(ctx.cols.row(min(end_row, ctx.cols.n - 1)).max())
        what = f"the LR reaches its floor ({end_lr:.3g}) at step {ctx.at(end_row)} and stays flat until the end"
    msg = (
        f"{describe(seg.scheduler)} on {ctx.optimizer_label}: its horizon {arg}={h} ends at step "
        f"{ctx.at(end_row)}, "
        f"but this run steps it {span} times; {what}.{epochs_remark(ctx, h, wanted)}"
    )
    return finding(
        ctx,
        "horizon-too-short",
        "warning",
        msg,
        end_row,
        f"use {arg}={wanted} (the run's scheduler steps){ctx.or_auto(arg)}.",
        arg=arg,
        value=h,
        suggested=wanted,
    )


def check_horizon_too_long(ctx: CheckContext) -> list[Finding]:
    out = lambda_too_long(ctx) + phases_too_long(ctx)
    for seg in ctx.segments:
        info = lookup(seg.scheduler)
        if seg.warmup_phase or info is None or info.horizon_arg is None:
            continue
        if seg.stop < ctx.cols.n or seg.stop != ctx.total_steps:
            continue  # only the phase that ends the run can be too long for it
        h = horizon_of(seg.scheduler)
        if not h:
            continue
        e_now = 0 if seg.start > 0 else max(getattr(seg.scheduler, "last_epoch", 0), 0)
        remaining = h - e_now
        span = seg.stop - seg.start
        if remaining <= 0 or span >= HORIZON_LONG_COVERAGE * remaining:
            continue
        arg, wanted = info.horizon_arg, span + e_now
        first, last = float(ctx.cols.row(seg.start).max()), float(ctx.cols.row(seg.stop - 1).max())
        msg = (
            f"{describe(seg.scheduler)} on {ctx.optimizer_label}: its horizon {arg}={h} is "
            f"{remaining / max(span, 1):.1f}x longer than the {span} scheduler steps this run takes, so the run "
            f"ends {100 * span / remaining:.0f}% of the way through the schedule (LR {first:.3g} -> {last:.3g})."
        )
        if info.long_horizon_fix is not None:
            fix = info.long_horizon_fix(seg.scheduler, span)
        else:
            fix = f"use {arg}={wanted} (the run's scheduler steps){ctx.or_auto(arg)}."
        out.append(finding(ctx, "horizon-too-long", "warning", msg, None, fix, arg=arg, value=h, suggested=wanted))
    return out


def check_scheduler_overrun(ctx: CheckContext) -> list[Finding]:
    sim = ctx.sim
    if sim.error is None or sim.error_step is None:
        return []
    step = sim.error_step
    info = lookup(ctx.scheduler)
    arg = info.horizon_arg if info and info.horizon_arg else None
    fix = (
        f"set {arg}={ctx.total_steps} (this run's scheduler steps){ctx.or_auto(arg)}."
        if arg
        else "make the schedule at least as long as the run's scheduler steps."
    )
    msg = (
        f"{describe(ctx.scheduler)} on {ctx.optimizer_label} will crash at scheduler step {step} of the "
        f'{ctx.total_steps} this run takes: stepping it raises "{sim.error}".'
    )
    return [finding(ctx, "scheduler-overrun", "error", msg, max(step - 1, 0), fix)]


def check_lr_invalid(ctx: CheckContext) -> list[Finding]:
    cols = ctx.cols
    bad_chunks = np.flatnonzero(~(cols.finite & cols.nonneg).all(axis=1))  # NaN fails `>= 0`
    if cols.n == 0 or bad_chunks.size == 0:
        return []
    j = int(bad_chunks[0])
    x = cols.chunk(j)
    k, g = np.argwhere(~np.isfinite(x) | (x < 0))[0].tolist()
    value = float(x[k, g])
    k += int(cols.bounds[j])
    prev = f" (step {ctx.at(k - 1)}: {float(cols.row(k - 1)[g]):.4g})" if k > 0 else ""
    msg = (
        f"{describe(ctx.scheduler)} gives {ctx.where(g)} an invalid LR {value!r} at step {ctx.at(k)}{prev}; "
        "training with it diverges or fails."
    )
    hint = (
        "if a LambdaLR formula goes past its domain (e.g. 1 - step/total after total), clamp it "
        "(max(0.0, ...)) or make its horizon match the run's steps" + (" ('auto')." if ctx.auto_ok else ".")
    )
    return [finding(ctx, "lr-invalid", "error", msg, k, hint, group=g)]


def check_lr_zero_early(ctx: CheckContext) -> list[Finding]:
    cols, n = ctx.cols, ctx.cols.n
    out: list[Finding] = []
    if n == 0 or ctx.expect == "cyclic":
        return out
    peaks, end = np.fmax.reduce(cols.amax, axis=0), cols.row(-1)
    if not np.any(end <= peaks * ZERO_RATIO):  # the LR is not near zero at the end: nothing to find
        return out
    for g in range(cols.groups):
        if not (cols.finite[:, g].all() and cols.nonneg[:, g].all()):
            continue
        peak = float(cols.mx[:, g].max())
        threshold = peak * ZERO_RATIO if peak > 0 else np.inf
        if not end[g] <= threshold:
            continue
        above = cols.last_above(0, n, g, threshold)
        start = 0 if above is None else above + 1  # the first row of the run's last stretch at or below it
        if n - start <= ZERO_TAIL_FRACTION * n or (n - start) < 2:
            continue
        if any(f.code == "horizon-too-short" for f in ctx.found):
            continue
        msg = (
            f"{describe(ctx.scheduler)} drives {ctx.where(g)} to {float(cols.row(start)[g]):.3g} "
            f"(below {ZERO_RATIO:g} x "
            f"its peak {peak:.3g}) at step {ctx.at(start)} of {ctx.at(n)} and keeps it there: the last {n - start} "
            "steps "
            f"({100 * (n - start) / n:.0f}% of the run) train nothing."
        )
        hint = (
            "make the decay reach its floor at the end of the run: match the horizon to the run's steps"
            + (" ('auto')" if ctx.auto_ok else "")
            + ", raise gamma closer to 1, or set a floor (eta_min / end_factor / min LR)."
        )
        out.append(finding(ctx, "lr-zero-early", "warning", msg, start, hint, group=g))
        break
    return out


def check_warmup_too_long(ctx: CheckContext) -> list[Finding]:
    cols, n = ctx.cols, ctx.cols.n
    if n < 4:
        return []
    top = ctx.segments[0].shape if len(ctx.segments) == 1 else "warmup_decay"
    record = lookup(ctx.scheduler)
    if record is not None and record.phases is not None and ctx.expect is None:
        if not ctx.segments or not ctx.segments[0].warmup_phase:
            return []
        top = "warmup_decay"
    if top not in ("warmup_decay", None):
        return []
    for g in range(cols.groups):
        if not cols.finite[:, g].all():
            return []
        peak, first = float(cols.mx[:, g].max()), float(cols.row(0)[g])
        p = cols.first_at_least(0, n, g, peak * (1 - 1e-9)) or 0
        if p < WARMUP_MAX_FRACTION * n or not (peak > first * 1.5):
            continue
        never = p >= n - 1
        msg = (
            f"{describe(ctx.scheduler)} on {ctx.where(g)} warms up from {first:.3g} to its peak "
            f"{peak:.3g} at step {ctx.at(p)} of {ctx.at(n)} ({100 * p / n:.0f}% of the run)"
            + (": the peak never comes before the run ends." if never else "; little of the run is left to decay.")
        )
        hint = _warmup_hint(ctx, p, n)
        return [finding(ctx, "warmup-too-long", "warning", msg, p, hint, group=g, peak_step=p)]
    return []


def _warmup_hint(ctx: CheckContext, p: int, n: int) -> str:
    suggested = max(1, round(0.05 * n))
    record = lookup(ctx.scheduler)
    if record is not None and record.warmup_hint is not None:
        return record.warmup_hint(ctx.scheduler, suggested)
    return f"make the warmup about 5-10% of the run (e.g. {suggested} steps); check its unit (steps vs epochs)."


def _rise_finding(ctx: CheckContext, seg: Segment, g: int, k: int, stop: int) -> Finding:
    """The ``decay-increases`` finding for the rise of group ``g`` that starts at row ``k`` and goes on while the LR
    does not fall, before row ``stop`` (claims its steps)."""
    cols = ctx.cols
    j = stop - 1
    for row0, x in cols.windows(k + 1, stop, g, None):
        with np.errstate(invalid="ignore"):
            falls = np.flatnonzero(~(x[1:] >= x[:-1]))
        if falls.size:
            j = row0 + int(falls[0])
            break
    j = max(j, k + 1)
    a, b = float(cols.row(k)[g]), float(cols.row(j)[g])
    step = k
    info = lookup(seg.scheduler)
    hint = (
        info.decay_hint(seg.scheduler)
        if info
        else ("change the arguments so the LR never rises, or pass expect= with the shape you intend.")
    )
    declared = "declared" if ctx.expect else "documented"
    what = {"decay": "a decay", "warmup_decay": "a warmup followed by a decay"}[seg.shape or "decay"]
    msg = (
        f"{describe(seg.scheduler)} on {ctx.where(g)} is {declared} as {what} but raises the LR from "
        f"{a:.4g} to {b:.4g} ({b / a if a else float('inf'):.3g}x) over steps "
        f"{ctx.at(step)}-{ctx.at(j)} "
        f"({j - k} step{'s' if j - k != 1 else ''})."
    )
    ctx.claim(k, j, g)
    return finding(ctx, "decay-increases", "warning", msg, step, hint, group=g, lr_from=a, lr_to=b)


def check_decay_increases(ctx: CheckContext) -> list[Finding]:
    cols, limit = ctx.cols, ctx.cols.n
    if ctx.sim.error_step is not None:  # torch's last steps before a crash are not a shape
        limit = min(limit, max(ctx.sim.error_step - 2, 0))
    for seg in ctx.segments:
        if seg.shape not in ("decay", "warmup_decay"):
            continue
        start, stop = seg.start, min(seg.stop, limit)
        if stop - start < 2:
            continue
        for g in range(cols.groups):
            offset = start
            if seg.shape == "warmup_decay":
                if not cols.all_finite(start, stop, g):
                    continue
                offset = cols.first_at_least(start, stop, g, cols.max(start, stop, g) * (1 - 1e-9)) or start
            k = next((k for k in cols.rises(offset, stop, g) if not ctx.claimed(g, k)), None)
            if k is not None:
                return [_rise_finding(ctx, seg, g, k, stop)]
    return []


def check_lr_jump(ctx: CheckContext) -> list[Finding]:
    cols, n = ctx.cols, ctx.cols.n
    if n < 2 or any(seg.shape == "cyclic" for seg in ctx.segments) or ctx.expect in ("cyclic", "warmup"):
        return []
    if not cols.double.any():  # cheap pre-filter: no step even doubles the LR
        return []
    for g in range(cols.groups):
        if not cols.finite[:, g].all():
            continue
        peak = float(cols.mx[:, g].max())
        if peak <= 0:
            continue
        k = _first_jump(ctx, g, peak)
        if k is None:
            continue
        a, b = float(cols.row(k)[g]), float(cols.row(k + 1)[g])
        phase = ""
        record = lookup(ctx.scheduler)
        if record is not None and record.phases is not None:
            phase = f" at a {record.name} milestone (the next scheduler starts again from the base LR)"
        msg = (
            f"{describe(ctx.scheduler)} on {ctx.where(g)} jumps the LR from {a:.4g} to {b:.4g} "
            f"({b / a if a else float('inf'):.3g}x) in one step, at step {ctx.at(k + 1)}{phase}."
        )
        hint = (
            "make the next phase continue from where the previous one ended (e.g. a ConstantLR/LinearLR "
            "factor equal to the decayed ratio), or end the decay at the run's end instead of resetting."
        )
        return [finding(ctx, "lr-jump", "warning", msg, k + 1, hint, group=g, lr_from=a, lr_to=b)]
    return []


def _first_jump(ctx: CheckContext, g: int, peak: float) -> int | None:
    """The first unclaimed row after which group ``g``'s LR, having come down from its running max, at least
    doubles by a good part of its peak (only chunks with a doubling pair are read)."""
    cols = ctx.cols
    for row0, x in cols.windows(0, cols.n, g, cols.double[:, g]):
        j = cols.chunk_of(row0 + 1)
        before = float(cols.mx[:j, g].max()) if j else -np.inf  # the running max up to the chunk
        run_max = np.maximum.accumulate(np.maximum(x, before))
        prev, nxt = x[:-1], x[1:]
        came_down = prev < run_max[:-1] * (1 - 1e-9)
        jump = came_down & (nxt >= prev * JUMP_RATIO) & (nxt - prev >= JUMP_PEAK_FRACTION * peak)
        for i in np.flatnonzero(jump).tolist():
            if not ctx.claimed(g, row0 + i):
                return row0 + i
    return None


def _share_one_lr(ctx: CheckContext, first: np.ndarray) -> bool:
    """Every group gets the same LR at every step."""
    if ctx.ratios is not None:  # proportional groups (also from a warmup at 0): one LR exactly when every ratio is 1
        return bool(np.allclose(ctx.ratios, 1.0, rtol=1e-12, atol=0))
    return bool(np.allclose(first, first[0], rtol=1e-12, atol=0) and ctx.cols.all_same())


def check_groups_collapsed(ctx: CheckContext) -> list[Finding]:
    if ctx.cols.n == 0:
        return []
    first = ctx.cols.row(0) if ctx.ratios is None else ctx.cols.row(0)[:1] * ctx.ratios
    configured = ctx.configured_lrs
    if configured is None:
        configured = [float(b) for b in getattr(ctx.scheduler, "base_lrs", [])]
    if len(configured) < 2 or first.shape[0] < 2:
        return []
    cfg = np.asarray(configured, dtype=np.float64)
    if np.allclose(cfg, cfg[0], rtol=1e-9, atol=0):
        return []
    if not _share_one_lr(ctx, first):
        return []
    s = ctx.scheduler
    record = lookup(s)
    if record is not None and record.collapse_fix is not None:
        peak = float(np.fmax.reduce(ctx.cols.mx, axis=None)) * (
            float(ctx.ratios.max()) if ctx.ratios is not None else 1.0
        )
        fix = record.collapse_fix(s, peak, [float(c) for c in cfg])
    else:
        fix = "build the schedule from each group's own LR (group['initial_lr']) rather than one global value."
    msg = (
        f"{describe(s)} on {ctx.optimizer_label}: the param groups were configured with different LRs "
        f"{[float(f'{c:.4g}') for c in cfg]} but all get the same LR ({float(first[0]):.4g} at step 0)."
    )
    return [finding(ctx, "groups-collapsed", "warning", msg, 0, fix)]


#: finding code -> check, in the order findings are reported. Unknown codes raise in :func:`check_schedule`.
CHECKS: dict[str, Callable[[CheckContext], list[Finding]]] = {
    "scheduler-overrun": check_scheduler_overrun,
    "lr-invalid": check_lr_invalid,
    "horizon-too-short": check_horizon_too_short,
    "horizon-too-long": check_horizon_too_long,
    "decay-increases": check_decay_increases,
    "warmup-too-long": check_warmup_too_long,
    "lr-zero-early": check_lr_zero_early,
    "lr-jump": check_lr_jump,
    "groups-collapsed": check_groups_collapsed,
}

#: What each check reads of the checks before it (``ctx.found``, and rows they ``ctx.claim``): a check defers to a
#: more specific finding. :func:`check_order` keeps :data:`CHECKS` in an order that honours it.
READS: dict[str, tuple[str, ...]] = {
    "horizon-too-long": ("horizon-too-short",),  # a lambda's decay ends early: not also "too long"
    "decay-increases": ("horizon-too-short", "horizon-too-long"),  # a climbing cosine, a milestone's jump
    "lr-zero-early": ("horizon-too-short",),
    "lr-jump": ("horizon-too-short", "horizon-too-long", "decay-increases"),
}


def check_order(checks: dict[str, Callable[[CheckContext], list[Finding]]]) -> None:
    """Raise when a check comes before a check it reads (see :data:`READS`).

    Examples:
        >>> check_order(CHECKS)
        >>> check_order({"lr-jump": check_lr_jump, "decay-increases": check_decay_increases})
        Traceback (most recent call last):
        ...
        RuntimeError: check 'lr-jump' reads the findings of 'decay-increases', which must run before it
    """
    order = list(checks)
    for code, reads in READS.items():
        for earlier in reads:
            if code in checks and earlier in checks and order.index(earlier) > order.index(code):
                raise RuntimeError(f"check {code!r} reads the findings of {earlier!r}, which must run before it")


check_order(CHECKS)


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

    def __post_init__(self) -> None:
        check_word("expect", self.expect, SHAPES, none_ok=True)  # every door builds a Subject: checked here once

    def group_names(self, n_groups: int) -> list[str]:
        """How messages name each group: ``group 'pg1'`` (from the tags), ``group 0``, or nothing for one group."""
        if self.tags is not None and len(self.tags) >= n_groups:
            return [f"group '{t.rsplit('/', 1)[-1]}'" if n_groups > 1 else "" for t in self.tags[:n_groups]]
        return [f"group {g}" if n_groups > 1 else "" for g in range(n_groups)]


def _tooling_findings(sim: Simulation, subject: Subject) -> list[Finding]:
    name = describe(subject.scheduler)
    if sim.method == "unavailable" and not sim.truncated:
        why = sim.notes[0] if sim.notes else "it cannot be simulated safely"
        return [
            tooling(
                "not-simulated",
                f"{name} on {subject.label} was not simulated: {why}. The LR is still logged at every step.",
                "use a torch built-in scheduler (or a LambdaLR whose lambda keeps no state) to have it checked.",
                optimizer=subject.label,
            )
        ]
    if sim.truncated:
        why = sim.notes[0] if sim.notes else "exact stepping of a copy ran out of its time budget"
        return [
            tooling(
                "simulation-truncated",
                f"{name} is a class without a fast simulator; {why}: {sim.valid_steps} of {subject.steps} steps "
                "were checked.",
                "pass a larger budget, make the scheduler copyable (no locks/files in its attributes), or use a "
                "torch built-in scheduler.",
                optimizer=subject.label,
                step=sim.valid_steps + subject.step_offset,
            )
        ]
    return []


def run_checks(
    sim: Simulation, subject: Subject, ratios: np.ndarray | None = None, cols: Columns | None = None
) -> list[Finding]:
    """Every check of :data:`CHECKS` on a simulation of ``subject`` (plus a tooling note if it was cut short).

    ``cols`` holds the simulated rows (:func:`~.simulate_columns`); without it they are
    read from ``sim.lrs``.

    Examples:
        >>> import torch
        >>> from lightning_lrmon._simulation.simulate import simulate
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> s = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=1.01)
        >>> [f.code for f in run_checks(simulate(s, 50), Subject(s, 50))]
        ['decay-increases']
    """
    cols = cols if cols is not None else Columns.of_array(sim.lrs[: sim.valid_steps])
    ctx = CheckContext(
        subject.scheduler,
        sim,
        subject.steps,
        subject.expect,
        list(subject.configured_lrs) if subject.configured_lrs else None,
        subject.label,
        subject.group_names(cols.groups if ratios is None else len(ratios)),
        subject.steps_per_epoch,
        cols,
        accumulate=subject.accumulate,
        ratios=ratios,
        offset=subject.step_offset,
        auto_ok=subject.auto_ok,
    )
    out = _tooling_findings(sim, subject)
    if sim.method in ("static", "unavailable") or sim.valid_steps == 0:
        return out
    ctx.segments = segments(ctx)
    ctx.found = out
    for check in CHECKS.values():
        out.extend(check(ctx))
    return out
