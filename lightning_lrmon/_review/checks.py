"""The schedule doctor: static checks over a simulated schedule.

Each check is a plain function registered under its stable code in ``CHECKS``; ``check_schedule``
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

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from lightning_lrmon._findings import Finding, tooling
from lightning_lrmon._review.context import CheckContext, segments
from lightning_lrmon._review.length import (
    check_horizon_too_long,
    check_horizon_too_short,
    check_lr_zero_early,
    check_scheduler_overrun,
    check_warmup_too_long,
)
from lightning_lrmon._review.shape import check_decay_increases, check_groups_collapsed, check_lr_invalid, check_lr_jump
from lightning_lrmon._review.subject import Subject
from lightning_lrmon._review.verify import verify_fixes
from lightning_lrmon._schedulers import describe
from lightning_lrmon._simulation.columns import Columns
from lightning_lrmon._simulation.shadow import Simulation
from lightning_lrmon._simulation.simulate import simulate

__all__ = ["CHECKS", "READS", "RUN_LENGTH_CODES", "check_order", "run_checks"]


#: Findings that judge the schedule against the run's length: meaningless for a smoke test (``fast_dev_run``).
RUN_LENGTH_CODES = frozenset({"horizon-too-long", "horizon-too-short", "warmup-too-long", "lr-zero-early"})


#: finding code -> check, in the order findings are reported. Unknown codes raise in ``check_schedule``.
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
#: more specific finding. ``check_order`` keeps ``CHECKS`` in an order that honours it.
READS: dict[str, tuple[str, ...]] = {
    "horizon-too-long": ("horizon-too-short",),  # a lambda's decay ends early: not also "too long"
    "decay-increases": ("horizon-too-short", "horizon-too-long"),  # a climbing cosine, a milestone's jump
    "lr-zero-early": ("horizon-too-short",),
    "warmup-too-long": ("horizon-too-short",),  # a lambda that divides by -1 climbs: not a long warm-up
    "lr-jump": ("horizon-too-short", "horizon-too-long", "decay-increases"),
}


def check_order(checks: dict[str, Callable[[CheckContext], list[Finding]]]) -> None:
    """Raise when a check comes before a check it reads (see ``READS``).

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
    """Every check of ``CHECKS`` on a simulation of ``subject`` (plus a tooling note if it was cut short).

    ``cols`` holds the simulated rows (``simulate_columns``); without it they are
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
        resumed=subject.resumed,
    )
    out = _tooling_findings(sim, subject)
    if sim.method in ("static", "unavailable") or sim.valid_steps == 0:
        return out
    ctx.segments = segments(ctx)
    ctx.found = out
    for check in CHECKS.values():
        out.extend(check(ctx))
    return verify_fixes(ctx, out, functools.partial(_review_fixed, subject))


def _review_fixed(subject: Subject, fixed: Any, steps: int) -> tuple[list[Finding], np.ndarray]:
    """The findings and LRs of ``fixed`` (a fix of ``subject``'s scheduler) over ``steps`` steps."""
    sim = simulate(fixed, steps, budget_s=subject.budget_s)
    lrs = sim.lrs[: sim.valid_steps]
    fixed_subject = dataclasses.replace(subject, scheduler=fixed, steps=steps, step_offset=0)
    return run_checks(sim, fixed_subject), lrs
