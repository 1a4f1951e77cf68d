"""Horizons of schedules that have no horizon argument of their own: user formulas of the step, and phases.

A lambda schedule (transformers' ``get_*_schedule_with_warmup``, a hand-written warmup + decay) says nothing about
where its decay ends; the simulated run and a look past its end (on isolated copies of the lambda) do. A phase of
a scheduler made of phases has its own horizon, which a milestone may cut short; a phase may lie entirely after the
run (a warmup-stable-decay whose decay never starts). The findings use the catalogue's ``horizon-too-short`` and
``horizon-too-long`` codes, naming the argument (a ``partial``'s keyword, the milestone) and the value to use.

Examples:
    >>> import functools, torch
    >>> from lightning_lrmon import check_schedule
    >>> def hf_linear(step, *, num_warmup_steps, num_training_steps):
    ...     if step < num_warmup_steps:
    ...         return step / max(1, num_warmup_steps)
    ...     return max(0.0, (num_training_steps - step) / max(1, num_training_steps - num_warmup_steps))
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> lam = functools.partial(hf_linear, num_warmup_steps=50, num_training_steps=4000)
    >>> [f.code for f in check_schedule(torch.optim.lr_scheduler.LambdaLR(opt, lam), 1000)]
    ['horizon-too-long']
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.optim import lr_scheduler as tls

from lightning_lrmon._findings import Finding
from lightning_lrmon._review.context import HORIZON_LONG_COVERAGE, HORIZON_SHORT_FRACTION, CheckContext, finding
from lightning_lrmon._schedulers import Phases, describe, horizon_of, lookup
from lightning_lrmon._simulation.columns import Columns
from lightning_lrmon._simulation.shadow import probe_lambda

__all__ = ["HORIZON_NAME", "closure_values", "lambda_too_long", "lambda_too_short", "phases_too_long", "unit_remark"]

#: a phase counts as cut when its own horizon is at least this many times the span its milestone gives it
PHASE_CUT_RATIO = 2.0
#: how far past the run the lambda is probed (in multiples of the run) and at how many points
PROBE_RUNS, PROBE_POINTS = 16, 2048


#: init arguments that name where a schedule ends (bolts' ``max_epochs``, ``total_steps``, ``max_iters``, ...)
HORIZON_NAME = re.compile(
    r"^(t_max|epochs?|(max|total|num|training)_?(training_)?(epochs?|steps?|iters?|iterations?|updates?))$"
)


def _unrecorded(s: Any) -> bool:
    """A torch ``LRScheduler`` subclass lightning-lrmon has no record of (stepped exactly on a copy)."""
    return isinstance(s, tls.LRScheduler) and lookup(s) is None


def _init_args(s: Any) -> dict[str, Any]:
    """The attributes of an unrecorded scheduler that its ``__init__`` takes by the same name."""
    try:
        names = set(inspect.signature(type(s).__init__).parameters)
    except (TypeError, ValueError):
        return {}
    return {k: v for k, v in vars(s).items() if k in names}


def _lambda_arg(s: Any, value: int) -> tuple[str, int] | None:
    """The horizon argument: a ``partial`` lambda's keyword, a foreign scheduler's int attribute, or an unrecorded
    scheduler's init argument, equal to ``value`` (within 1%)."""
    fn = s.lr_lambdas[0] if getattr(s, "lr_lambdas", None) else None
    if isinstance(fn, functools.partial):
        candidates = fn.keywords
    elif fn is not None:
        candidates = module_values(fn)
    elif not isinstance(s, tls.LRScheduler):
        candidates = {k: v for k, v in vars(s).items() if not k.startswith("_")}
    elif _unrecorded(s):
        candidates = {k: v for k, v in _init_args(s).items() if HORIZON_NAME.match(k.lower())}
    else:
        return None
    for key, v in candidates.items():
        if isinstance(v, int) and not isinstance(v, bool) and abs(v - value) <= max(2, 0.01 * value):
            return key, v
    return None


def closure_values(fn: Any) -> list[tuple[str, Any]]:
    """A function's closure values by the variable names its code uses (empty cells left out).

    Examples:
        >>> total = 640
        >>> closure_values((lambda: lambda step: step / total)())
        []
        >>> closure_values((lambda t: lambda step: step / t)(640))
        [('t', 640)]
    """
    code, cells = getattr(fn, "__code__", None), getattr(fn, "__closure__", None) or ()
    out: list[tuple[str, Any]] = []
    for var, cell in zip(code.co_freevars if code is not None else (), cells):
        try:
            out.append((var, cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    return out


def module_values(fn: Any) -> dict[str, Any]:
    """The values a lambda defined in ``configure_optimizers`` reads from its module by name: ``self.<name>`` (a plain
    instance attribute) and ``self.hparams.<name>`` / ``self.hparams["<name>"]``, keyed as the code writes them.
    Read without running anything but the public ``hparams`` property.

    Examples:
        >>> import torch
        >>> class M(torch.nn.Module):
        ...     def __init__(self): super().__init__(); self.total_steps = 640
        ...     def lam(self): return lambda step: 1 - step / self.total_steps
        >>> module_values(M().lam())
        {'self.total_steps': 640}
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return {}
    names = set(code.co_names) | {c for c in code.co_consts if isinstance(c, str)}
    out: dict[str, Any] = {}
    for var, obj in closure_values(fn):
        if not isinstance(obj, torch.nn.Module):
            continue
        out.update({f"{var}.{n}": v for n, v in vars(obj).items() if n in names})
        hparams = getattr(obj, "hparams", None) if "hparams" in names else None
        if isinstance(hparams, Mapping):
            out.update({f"{var}.hparams.{n}": v for n, v in hparams.items() if n in names})
    return out


def steps_so_far(scheduler: Any) -> int:
    """The steps a scheduler has taken before the review (a resumed one's ``last_epoch``; 0 for a fresh one)."""
    return max(getattr(scheduler, "last_epoch", 0), 0)


def named_horizon(ctx: CheckContext, row: int) -> tuple[str, int] | None:
    """The init argument (a record's horizon argument, a ``partial`` lambda's keyword, an unrecorded class's
    horizon-like argument) whose value is the step ``row`` of the review, counted from the scheduler's epoch 0."""
    s = ctx.scheduler
    at = row + steps_so_far(s)
    record = lookup(s)
    if record is not None and record.horizon_arg is not None:
        value = getattr(s, record.horizon_arg, None)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value - at) <= max(2, 0.01 * at):
            return record.horizon_arg, value
        return None
    return _lambda_arg(s, at)


def horizon_fix(ctx: CheckContext, named: tuple[str, int]) -> tuple[str, str]:
    """The remark on ``named``'s unit and the fix that sizes it to the run (its steps so far counted)."""
    wanted = ctx.cols.n + steps_so_far(ctx.scheduler)
    return _fix(ctx, named, wanted)


def unit_remark(ctx: CheckContext, key: str, value: int, wanted: int) -> str:
    """What ``key=value`` looks like when it is not the run's ``wanted`` scheduler steps: micro-batches under
    gradient accumulation, or epochs of a scheduler stepped per step (else nothing)."""
    acc = ctx.accumulate
    if acc > 1 and abs(value - wanted * acc) <= max(acc, 0.01 * value):
        return (
            f" {key}={value} looks like micro-batches: this run takes {wanted} optimizer steps with "
            f"accumulate_grad_batches={acc}."
        )
    spe = ctx.steps_per_epoch
    if spe and spe > 1 and abs(value * spe - wanted) <= max(1, spe):
        return f" {key}={value} looks like epochs: this run steps the scheduler {spe} times per epoch."
    return ""


def _fix(ctx: CheckContext, named: tuple[str, int] | None, wanted: int) -> tuple[str, str]:
    if named is None:
        return "", f"make the lambda's horizon match the run's {wanted} scheduler steps ('auto' in a config)."
    key, value = named
    if "." in key:  # a value the lambda reads from its module (self.hparams.total_steps)
        return unit_remark(ctx, key, value, wanted), (
            f"the lambda reads {key}={value}: make it {wanted} (the run's scheduler steps), e.g. from "
            "self.trainer.estimated_stepping_batches."
        )
    return unit_remark(ctx, key, value, wanted), f"use {key}={wanted} (the run's scheduler steps){ctx.or_auto(key)}."


def _lambda_column(ctx: CheckContext) -> tuple[Columns, int, float] | None:
    s, cols = ctx.scheduler, ctx.cols
    if ctx.sim.method not in ("kernel", "lr-of-t", "shadow") or ctx.expect is not None or cols.n < 3:
        return None
    record = lookup(s)
    shadowed = ctx.sim.method == "shadow" and _unrecorded(s)
    if (record is None or record.lr_of_t is None) and ctx.sim.method != "lr-of-t" and not shadowed:
        return None
    if not cols.finite[:, 0].all() or cols.mx[:, 0].max() <= 0:
        return None
    peak_row = cols.first_at_least(0, cols.n, 0, float(cols.mx[:, 0].max()) * (1 - 1e-9)) or 0
    return cols, peak_row, float(cols.row(peak_row)[0])


def lambda_too_short(ctx: CheckContext) -> list[Finding]:
    """A lambda whose decay ends well before the run: it climbs back (a periodic formula) or sits at its floor."""
    got = _lambda_column(ctx)
    if got is None:
        return []
    cols, p, peak = got
    n = cols.n
    low = cols.first_at_most(p, n, 0, 0.1 * peak)
    if low is None:
        return []
    back = cols.first_at_least(low, n, 0, 0.5 * peak)
    stop = n if back is None else back
    end_row = cols.first_at_most(p, stop, 0, cols.min(p, stop, 0)) or p  # the first lowest row before a climb
    climbs = back is not None
    if not climbs and (end_row - p) >= HORIZON_SHORT_FRACTION * (n - p):
        return []
    floor_lr = float(cols.row(end_row)[0])
    if not climbs and cols.max(end_row, n, 0) > floor_lr * (1 + 1e-6) + peak * 1e-9:
        return []
    e0 = steps_so_far(ctx.scheduler)
    wanted = n + e0
    if climbs and _lambda_arg(ctx.scheduler, wanted) is not None:
        ctx.claim(end_row, n)  # sized to the run (num_training_steps): its restarts are its design, not jumps
        return []
    named = _lambda_arg(ctx.scheduler, end_row + e0)
    if named is None and (not climbs or _unrecorded(ctx.scheduler)):
        return []  # at its floor: lr-zero-early says it; an unrecorded class that cycles may mean to, unless named
    remark, fix = _fix(ctx, named, wanted)
    what = (
        "after it the LR climbs back up (the formula repeats past its horizon)"
        if climbs
        else f"the LR sits at its floor ({floor_lr:.3g}) for the rest of the run"
    )
    msg = (
        f"{describe(ctx.scheduler)} on {ctx.optimizer_label}: its decay ends at step {ctx.at(end_row)}, but this run "
        f"steps it {n} times; {what}.{remark}"
    )
    if climbs:
        ctx.claim(end_row, n)
    arg = None if named is None else named[0]
    return [finding(ctx, "horizon-too-short", "warning", msg, end_row, fix, arg=arg, suggested=wanted)]


def lambda_too_long(ctx: CheckContext) -> list[Finding]:
    """A lambda that has most of its decay still ahead when the run ends (looked up past the run's end)."""
    got = _lambda_column(ctx)
    if got is None or any(f.code == "horizon-too-short" for f in ctx.found):
        return []
    cols, p, peak = got
    n, last = cols.n, float(cols.row(-1)[0])
    e0 = steps_so_far(ctx.scheduler)
    ahead, future = _probe_past_the_run(ctx.scheduler, e0 + n, n)
    if future is None or not np.all(np.isfinite(future)) or future.min() < 0 or cols.mn[:, 0].min() < 0:
        return []  # past its domain (negative or NaN): lr-invalid's business, not a horizon
    floor = min(float(future.min()), cols.min(p, n, 0))
    total, remaining = peak - floor, last - floor
    if total <= 0 or remaining < (1 - HORIZON_LONG_COVERAGE) * total:
        return []
    end_t = _first_step_at_the_floor(ctx.scheduler, ahead, future, floor, total)
    wanted = n + e0
    if end_t <= wanted:
        return []  # the floor comes right after the last step (num_training_steps = the run): it ends with it
    named = _lambda_arg(ctx.scheduler, end_t)
    remark, fix = _fix(ctx, named, wanted)
    msg = (
        f"{describe(ctx.scheduler)} on {ctx.optimizer_label}: its decay ends at step {end_t}, "
        f"{end_t / max(wanted, 1):.1f}x the {wanted} scheduler steps of this run, so the run ends at "
        f"{100 * last / peak:.0f}% of its peak LR ({peak:.3g} -> {last:.3g}).{remark}"
    )
    arg = None if named is None else named[0]
    return [finding(ctx, "horizon-too-long", "warning", msg, None, fix, arg=arg, value=end_t, suggested=wanted)]


def _probe_past_the_run(scheduler: Any, start: int, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The lambda's LR at probe points past the run: over ``PROBE_RUNS`` runs, and further (x ``PROBE_RUNS`` each
    time, a few times) while the window ends at its lowest point still falling, so a long horizon is seen to its
    end."""
    span = max(n, 1) * PROBE_RUNS
    ahead = np.unique(np.linspace(start, start + span, PROBE_POINTS).astype(np.int64))
    future = probe_lambda(scheduler, ahead)
    for _ in range(3):
        if future is None or future.size < 2 or not future[-1] < future[-2] or future[-1] > future.min():
            break  # the floor is inside the window (a periodic formula climbs back: its first minimum is in it)
        if future[-1] <= 0:
            break
        wider = np.unique(np.linspace(start, start + span * PROBE_RUNS, PROBE_POINTS).astype(np.int64))
        more = probe_lambda(scheduler, wider)
        if more is None:
            break
        ahead, future, span = wider, more, span * PROBE_RUNS
    return ahead, future


def _first_step_at_the_floor(scheduler: Any, ahead: np.ndarray, future: np.ndarray, floor: float, total: float) -> int:
    """The first step at which the lambda reaches its floor, to the step: the first probe window that comes near
    the floor, then every step of it (probes alone land between steps, and near a later, deeper minimum of a
    periodic formula: transformers' cosine past num_training_steps)."""
    near = np.flatnonzero(future <= floor + 1e-3 * total)
    if near.size == 0:
        return int(ahead[int(np.argmin(future))])
    i = int(near[0])
    j = i
    while j + 1 < min(future.size, i + 64) and future[j + 1] <= floor + 1e-3 * total:
        j += 1  # (a flat floor is near to the window's end: its first step lies in the first few probes)
    lo, hi = int(ahead[max(i - 1, 0)]), int(ahead[min(j + 1, ahead.size - 1)])
    steps = np.arange(lo, hi + 1, dtype=np.int64)
    fine = probe_lambda(scheduler, steps)
    if fine is None or fine.size == 0:
        return int(ahead[i])
    return int(steps[int(np.argmin(fine))])  # the first step at the lowest value


def _phase_text(phases: Phases, i: int) -> str:
    return f"phase {i} ({describe(phases.children[i])})"


def _cut_phase(ctx: CheckContext, phases: Phases, i: int, starts: list[int]) -> Finding | None:
    child, span = phases.children[i], starts[i + 1] - starts[i]
    info, h = lookup(child), horizon_of(child)
    if info is None or info.horizon_arg is None or h is None or span <= 0 or h < PHASE_CUT_RATIO * span:
        return None
    milestone = phases.milestones[i]
    row = milestone - phases.epoch
    jump = ""
    if 0 < row < ctx.cols.n:
        a, b = float(ctx.cols.row(row - 1).max()), float(ctx.cols.row(row).max())
        if a > 0 and max(a, b) / min(a, b) >= 2:
            jump = f"; the LR jumps {b / a:.3g}x there ({a:.3g} -> {b:.3g})"
            ctx.claim(row - 1, row)
    msg = (
        f"{describe(ctx.scheduler)} on {ctx.optimizer_label}: milestone {milestone} cuts {_phase_text(phases, i)} "
        f"after {span} of its {info.horizon_arg}={h} steps ({100 * span / h:.0f}% of its own horizon){jump}."
    )
    fix = (
        f"give {_phase_text(phases, i)} {info.horizon_arg}={span} to match milestone {milestone}, or move the "
        "milestone."
    )
    return finding(ctx, "horizon-too-long", "warning", msg, max(row, 0), fix, milestone=milestone, value=h)


def _unreached_phases(ctx: CheckContext, phases: Phases, starts: list[int]) -> Finding | None:
    end = phases.epoch + ctx.cols.n  # the scheduler epoch at the run's end
    later = [i for i in range(1, len(phases.children)) if starts[i] >= end]
    decays = [i for i in later if getattr(lookup(phases.children[i]), "shape", None) == "decay"]
    if not decays:
        return None
    i = decays[0]
    msg = (
        f"{describe(ctx.scheduler)} on {ctx.optimizer_label}: the run ends at scheduler step {end}, before milestone "
        f"{starts[i]} where {_phase_text(phases, i)} begins, so that decay never runs and the LR ends at "
        f"{float(ctx.cols.row(-1).max()):.3g}."
    )
    fix = f"put the milestones within the run's {end} scheduler steps (e.g. as 'N%'), so the decay ends with the run."
    return finding(ctx, "horizon-too-long", "warning", msg, None, fix, milestone=starts[i])


def phases_too_long(ctx: CheckContext) -> list[Finding]:
    """Phases cut far from their own horizon by a milestone, and decay phases the run never reaches."""
    record = lookup(ctx.scheduler)
    if record is None or record.phases is None or ctx.expect is not None:
        return []
    phases = record.phases(ctx.scheduler)
    starts = [0, *phases.milestones]
    out = [
        f
        for i in range(len(phases.milestones))
        if phases.epoch < starts[i + 1]
        for f in [_cut_phase(ctx, phases, i, starts)]
    ]
    out.append(_unreached_phases(ctx, phases, starts))
    return [f for f in out if f is not None]
