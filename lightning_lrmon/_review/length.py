"""The checks that hold a schedule against the run's length: horizons, warm-ups, an LR at zero early, overruns."""

from __future__ import annotations

from typing import Any

import numpy as np

from lightning_lrmon._findings import Finding
from lightning_lrmon._review.context import (
    HORIZON_LONG_COVERAGE,
    HORIZON_SHORT_FRACTION,
    WARMUP_MAX_FRACTION,
    ZERO_RATIO,
    ZERO_TAIL_FRACTION,
    CheckContext,
    Segment,
    epochs_remark,
    finding,
)
from lightning_lrmon._review.horizons import (
    horizon_fix,
    lambda_too_long,
    lambda_too_short,
    named_horizon,
    phases_too_long,
    steps_so_far,
    unit_remark,
)
from lightning_lrmon._review.negative import lambda_negative, phase_negative
from lightning_lrmon._schedulers import SchedulerRecord, describe, horizon_of, init_args_of, lookup

__all__ = [
    "check_horizon_too_long",
    "check_horizon_too_short",
    "check_lr_zero_early",
    "check_scheduler_overrun",
    "check_warmup_too_long",
]


def _steps_before(seg: Segment) -> int:
    """The steps ``seg``'s scheduler took before the review: a resumed one's, for the phase that starts the run
    (a later phase starts from its own step 0)."""
    return 0 if seg.start > 0 else steps_so_far(seg.scheduler)


def check_horizon_too_short(ctx: CheckContext) -> list[Finding]:
    out = lambda_negative(ctx) or lambda_too_short(ctx)
    for seg in ctx.segments:
        info = lookup(seg.scheduler)
        if seg.warmup_phase or info is None or info.horizon_arg is None or seg.shape != "decay":
            continue
        if not info.judges_short_horizon:
            continue
        h = horizon_of(seg.scheduler)
        if h is not None and h < 0:
            out.append(phase_negative(ctx, seg, str(info.horizon_arg), h, _steps_before(seg)))
            continue
        if h is None or h == 0:
            continue
        e_now = _steps_before(seg)
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
    # the horizon that ends with the run, counted from the scheduler's own step 0 (a resumed or already stepped
    # scheduler is part-way through it)
    e_now = _steps_before(seg)
    arg, wanted = info.horizon_arg, ctx.total_steps - seg.start + e_now
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
    shown = info.arg_value(seg.scheduler) if info.arg_value is not None else h
    msg = (
        f"{describe(seg.scheduler)} on {ctx.optimizer_label}: its horizon {arg}={shown} ends at step "
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
        value=shown,
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
        if _no_drop_yet(ctx, seg, info, h):
            found: Finding | None = _no_drop_in_the_run(ctx, seg, info, h)
        else:
            found = _long_horizon(ctx, seg, info, h) if info.judges_short_horizon else None
        if found is not None:
            out.append(found)
    return out


def _long_fix(ctx: CheckContext, seg: Segment, info: SchedulerRecord, span: int, e_now: int) -> tuple[str, int | None]:
    """The fix of a horizon longer than the run, and the value it suggests for the horizon argument."""
    if info.long_horizon_fix is not None:
        return info.long_horizon_fix(seg.scheduler, span)
    arg, wanted = info.horizon_arg, span + e_now
    return f"use {arg}={wanted} (the run's scheduler steps){ctx.or_auto(arg)}.", wanted


def _long_horizon(ctx: CheckContext, seg: Segment, info: SchedulerRecord, h: int) -> Finding | None:
    """``horizon-too-long`` of a schedule whose decay ends at its horizon: the run covers too little of it."""
    e_now = _steps_before(seg)
    span = seg.stop - seg.start
    # a resumed scheduler is judged on what is left of it; one this fit stepped before the review (the user's
    # own stepping, observed in the first epoch) from its step 0, as the user counts it
    from_zero = ctx.resumed is False and e_now > 0
    runs, ahead = (span + e_now, h) if from_zero else (span, h - e_now)
    if ahead <= 0 or runs > HORIZON_LONG_COVERAGE * ahead:
        return None
    first, last = float(ctx.cols.row(seg.start).max()), float(ctx.cols.row(seg.stop - 1).max())
    shown = info.arg_value(seg.scheduler) if info.arg_value is not None else h
    whole = f" ({h} steps in all)" if shown != h else ""
    at = f" at scheduler step {e_now}" if from_zero else ""
    msg = (
        f"{describe(seg.scheduler)} on {ctx.optimizer_label}: its horizon {info.horizon_arg}={shown}{whole} is "
        f"{ahead / max(runs, 1):.1f}x longer than the {runs} scheduler steps this run takes, so the run "
        f"ends {100 * runs / ahead:.0f}% of the way through the schedule (LR {first:.3g}{at} -> {last:.3g})."
    )
    if isinstance(shown, int) and info.horizon_arg:
        msg += unit_remark(ctx, info.horizon_arg, shown, span + e_now)  # T_max in micro-batches, say
    fix, wanted = _long_fix(ctx, seg, info, span, e_now)
    arg = info.horizon_arg
    return finding(ctx, "horizon-too-long", "warning", msg, None, fix, arg=arg, value=shown, suggested=wanted)


def _no_drop_yet(ctx: CheckContext, seg: Segment, info: SchedulerRecord, h: int) -> bool:
    """A step decay whose LR stays flat over a run of a few steps or more, its drops (a period, or milestones
    still ahead) after the run's end."""
    span, e_now = seg.stop - seg.start, _steps_before(seg)
    if info.shape != "decay" or span < 4 or (info.judges_short_horizon and h - e_now < span):
        return False
    return bool(ctx.cols.max(seg.start, seg.stop, 0) <= ctx.cols.min(seg.start, seg.stop, 0))


def _no_drop_in_the_run(ctx: CheckContext, seg: Segment, info: SchedulerRecord, h: int) -> Finding:
    """``horizon-too-long`` of a step decay (StepLR, MultiStepLR) whose first drop comes after the run."""
    e_now = _steps_before(seg)
    span = seg.stop - seg.start
    runs = span + e_now if ctx.resumed is False else span  # stepped this fit before the review: from its step 0
    written = init_args_of(seg.scheduler).get(info.horizon_arg or "", h)  # MultiStepLR's milestones as a list
    msg = (
        f"{describe(seg.scheduler)} on {ctx.optimizer_label}: its first drop ({info.horizon_arg}={written}) comes "
        f"after the {runs} scheduler steps this run takes, so the LR stays at "
        f"{float(ctx.cols.row(seg.start).max()):.3g} for the whole run.{epochs_remark(ctx, h, span + e_now)}"
    )
    fix, wanted = _long_fix(ctx, seg, info, span, e_now)
    arg = info.horizon_arg
    return finding(ctx, "horizon-too-long", "warning", msg, None, fix, arg=arg, value=h, suggested=wanted)


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


def _zero_from_the_start(ctx: CheckContext, g: int, n: int) -> Finding:
    """``lr-zero-early`` for a schedule whose LR is 0 at every step: the whole run trains nothing."""
    msg = (
        f"{describe(ctx.scheduler)} keeps the LR of {ctx.where(g)} at 0 from step {ctx.at(0)} to the end of the run: "
        f"all {n} steps train nothing."
    )
    hint = (
        "check what the schedule multiplies: a lambda that returns 0 (a warm-up whose step count never advances), "
        "a base LR of 0, or (Fabric) a scheduler passed to fabric.setup, which wraps it as an optimizer."
    )
    return finding(ctx, "lr-zero-early", "warning", msg, 0, hint, group=g)


def _zero_tail(ctx: CheckContext, g: int, start: int, n: int, peak: float) -> tuple[str, str, dict[str, Any]]:
    """The message, fix and data of a run whose last ``n - start`` steps train at (near) zero LR."""
    msg = (
        f"{describe(ctx.scheduler)} drives {ctx.where(g)} to {float(ctx.cols.row(start)[g]):.3g} "
        f"(below {ZERO_RATIO:g} x its peak {peak:.3g}) at step {ctx.at(start)} of {ctx.at(n)} and keeps it there: "
        f"the last {n - start} steps ({100 * (n - start) / n:.0f}% of the run) train nothing."
    )
    named = named_horizon(ctx, start)
    if named is not None:  # the decay ends where a horizon argument says: that argument, sized to the run
        remark, hint = horizon_fix(ctx, named)
        data = {"arg": named[0], "value": named[1], "suggested": ctx.cols.n + steps_so_far(ctx.scheduler)}
        return f"{msg[:-1]}, because {named[0]}={named[1]} ends the decay there.{remark}", hint, data
    hint = (
        "make the decay reach its floor at the end of the run: match the horizon to the run's steps"
        + (" ('auto')" if ctx.auto_ok else "")
        + ", raise gamma closer to 1, or set a floor (eta_min / end_factor / min LR)."
    )
    lambda_fix = {"suggested": ctx.cols.n + steps_so_far(ctx.scheduler)} if hasattr(ctx.scheduler, "lr_lambdas") else {}
    return msg, hint, lambda_fix  # a lambda's horizon keyword is looked for by simulation (verify.py)


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
        if peak <= 0:  # never above 0: a schedule that trains nothing at all
            out.append(_zero_from_the_start(ctx, g, n))
            break
        msg, hint, data = _zero_tail(ctx, g, start, n, peak)
        out.append(finding(ctx, "lr-zero-early", "warning", msg, start, hint, group=g, **data))
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
        if p < WARMUP_MAX_FRACTION * n or not (peak > first * 1.5) or ctx.claimed(g, p):
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
    steps = f"{suggested} step{'s' if suggested != 1 else ''}"
    return f"make the warmup about 5-10% of the run (e.g. {steps}); check its unit (steps vs epochs)."
