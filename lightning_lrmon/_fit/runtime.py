"""The runtime checks of the catalogue as pure functions: numbers in, a ``Finding`` (or ``None``) out.

``LRMonitor`` gathers the numbers from the live run (scheduler positions, optimizer step counts, logged metric
names, the restored callback state) and emits what these return, once each.

Examples:
    >>> f = double_step("StepLR(step_size=5)", moved=20, allowed=10, done=10, step=10)
    >>> f.code, f.message.split(" (")[0]
    ('double-step', 'StepLR(step_size=5) was stepped 20 times by optimizer step 10')
    >>> double_step("StepLR(step_size=5)", moved=10, allowed=10, done=10, step=10) is None
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np

from lightning_lrmon._findings import Finding, tooling
from lightning_lrmon._fit.unreturned import NOT_RETURNED_FIX
from lightning_lrmon._fit.voice import LIGHTNING, Voice
from lightning_lrmon._schedulers import describe, horizon_of, lookup

__all__ = [
    "double_step",
    "loader_length_changed",
    "lr_invalid_at_runtime",
    "lr_invalid_in_rows",
    "lr_outside_plan",
    "not_stepped",
    "off_count",
    "run_length_changed",
    "scheduler_out_of_place",
    "spec_changed",
    "stalled",
    "user_stepping_note",
]


def double_step(
    scheduler: str,
    *,
    moved: int,
    allowed: int,
    done: int,
    step: int,
    voice: Voice = LIGHTNING,
    rate: float | None = None,
) -> Finding | None:
    """``double-step``: the scheduler moved at least twice as often as Lightning steps it.

    Args:
        scheduler: the scheduler's description.
        moved: scheduler steps since the check started.
        allowed: scheduler steps Lightning takes over the same optimizer steps.
        done: optimizer steps completed since the check started.
        step: the run's optimizer step, for the finding.
        rate: scheduler steps per step Lightning takes, measured (default ``moved / allowed``).
    """
    rate = moved / max(allowed, 1) if rate is None else rate
    if moved <= allowed + 1 or moved < 2 * max(allowed, 1) or rate < 1.5:
        return None
    return Finding(
        "double-step",
        "warning",
        f"{scheduler} was stepped {_times(moved)} by optimizer step {step} "
        f"({voice.steps_it.format(n=_times(allowed))}): the schedule runs {rate:.1f}x too fast.",
        step,
        voice.fix_extra,
    )


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def lr_outside_plan(
    scheduler: str, *, group: int, applied: float, planned: float, step: int, voice: Voice = LIGHTNING
) -> Finding:
    """``lr-outside-plan`` (a note): the LR a step used is not the planned one, while the scheduler is where
    Lightning's stepping puts it: something else writes the LR (a warm-up in ``optimizer_step``, a finder, a
    callback). Legitimate when meant; never a schedule finding.

    Examples:
        >>> lr_outside_plan("LinearLR(...)", group=0, applied=0.001, planned=0.1, step=3).kind
        'tooling'
    """
    return tooling(
        "lr-outside-plan",
        f"at optimizer step {step} group {group} uses LR {applied:.6g} where the plan of {scheduler} has "
        f"{planned:.6g}, and {voice.in_place}: something else writes the LR (a "
        "warm-up in optimizer_step, an LR finder, a callback). The planned-vs-actual chart shows the difference.",
        "nothing to fix when you write the LR on purpose; otherwise look for code that sets param_groups[i]['lr'].",
    )


def off_count(scheduler: str, *, moved: int, allowed: int, step: int, voice: Voice = LIGHTNING) -> Finding:
    """A scheduler whose step count is off Lightning's and whose LR left the plan: ``double-step`` when it was
    stepped more often (an extra ``step()`` now and then), ``scheduler-not-stepped`` when less.

    Examples:
        >>> off_count("StepLR(step_size=5)", moved=34, allowed=32, step=32).code
        'double-step'
        >>> off_count("StepLR(step_size=5)", moved=30, allowed=32, step=32).code
        'scheduler-not-stepped'
    """
    if moved > allowed:
        return Finding(
            "double-step",
            "warning",
            f"{scheduler} was stepped {moved} times where {voice.stepped_it.format(n=allowed)}: {moved - allowed} "
            "extra step() call(s) moved the schedule ahead.",
            step,
            voice.fix_extra,
        )
    return Finding(
        "scheduler-not-stepped",
        "warning",
        f"{scheduler} was stepped {moved} times where {voice.stepped_it.format(n=allowed)}: {allowed - moved} "
        "step(s) were skipped, so the schedule lags.",
        step,
        voice.fix_skipped,
    )


#: why a scheduler Lightning steps through the module's ``lr_scheduler_step`` barely moves, and the fix, by what
#: the override's code calls and what it did: ``"steps"`` (it moved about once per epoch: it passes the epoch),
#: ``"some"`` (more, on some calls only), ``"never"`` (its code names no step)
HOOK_STALLS: dict[str, tuple[str, str]] = {
    "steps": (
        "your lr_scheduler_step override does not advance it once per call: passing the epoch "
        "(scheduler.step(epoch=self.current_epoch)) moves it once per epoch, so the schedule runs an epoch at a time",
        LIGHTNING.fix_stall,
    ),
    "some": (
        "your lr_scheduler_step override steps it on some calls only, so the schedule falls behind the one Lightning "
        "would step",
        "call scheduler.step() on every call of lr_scheduler_step; if skipping is deliberate (a delayed start, a step "
        "every few calls), size the schedule for the steps it really takes.",
    ),
    "never": (
        "your lr_scheduler_step override never calls scheduler.step(), and Lightning steps schedulers only through "
        "it, so the LR stays at its start",
        "call scheduler.step() in lr_scheduler_step (or remove the override: Lightning's own steps it), unless you "
        "step the scheduler elsewhere on purpose.",
    ),
}


def stalled(
    scheduler: str, *, moved: int, allowed: int, done: int, step: int, hook: str = "", voice: Voice = LIGHTNING
) -> Finding | None:
    """``scheduler-not-stepped``: a step-interval scheduler that Lightning steps every optimizer step barely moves
    (an ``lr_scheduler_step`` that passes the epoch, ``scheduler.step(epoch=self.current_epoch)``, or skips the call).
    ``hook``: what the module's ``lr_scheduler_step`` override calls (a key of ``HOOK_STALLS``; "": no override).

    Examples:
        >>> stalled("OneCycleLR(total_steps=300)", moved=0, allowed=9, done=9, step=9, hook="steps").code
        'scheduler-not-stepped'
        >>> stalled("OneCycleLR(total_steps=300)", moved=9, allowed=9, done=9, step=9, hook="steps") is None
        True
    """
    if allowed < 4 or 2 * moved >= allowed:
        return None
    why, fix = HOOK_STALLS.get(hook, (voice.stall_why, voice.fix_stall))
    return Finding(
        "scheduler-not-stepped",
        "warning",
        f"{scheduler} moved {moved} steps in the first {done} optimizer steps, while "
        f"{voice.stepped_it.format(n=allowed)}{voice.per_step}: {why}.",
        step,
        fix,
    )


def not_stepped(
    scheduler: str, *, expected: int | None, done: int, step: int, unreturned: str | None = None
) -> Finding | None:
    """``scheduler-not-stepped``: under manual optimization nobody steps the scheduler LRMonitor built; or nobody
    steps a scheduler kept on the module (``unreturned``: its name, ``self.scheduler``) that Lightning never sees.

    Examples:
        >>> not_stepped("CosineAnnealingLR(T_max=300)", expected=300, done=300, step=300).code
        'scheduler-not-stepped'
        >>> "not returned" in not_stepped("StepLR()", expected=None, done=9, step=9, unreturned="self.sch").message
        True
    """
    if expected is not None and expected < 2:
        return None
    plan = f" (the plan stepped it {expected} times)" if expected is not None else ""
    if unreturned is not None:
        return Finding(
            "scheduler-not-stepped",
            "warning",
            f"{unreturned} ({scheduler}) was never stepped in {done} optimizer steps: it is not returned from "
            "configure_optimizers, so Lightning does not step it, and the LR stays at its start.",
            step,
            NOT_RETURNED_FIX,
        )
    return Finding(
        "scheduler-not-stepped",
        "warning",
        f"{scheduler} was never stepped in {done} optimizer steps{plan}: with manual optimization Lightning does not "
        "step schedulers, so the LR stays at its start.",
        step,
        "call self.lr_schedulers().step() in training_step after opt.step() (once per optimizer step for "
        "interval='step'), or use automatic optimization.",
    )


def never_stepped_by_hook(scheduler: str, *, done: int, step: int) -> Finding:
    """``scheduler-not-stepped``: an ``lr_scheduler_step`` override that steps on a condition never stepped it.

    Examples:
        >>> never_stepped_by_hook("StepLR(step_size=2)", done=64, step=64).code
        'scheduler-not-stepped'
    """
    return Finding(
        "scheduler-not-stepped",
        "warning",
        f"{scheduler} was never stepped in {done} optimizer steps: your lr_scheduler_step override steps it on a "
        "condition that was never true in this run, so the LR stays at its start.",
        step,
        "check the condition in lr_scheduler_step (or call scheduler.step() on every call, as Lightning's own does).",
    )


def lr_invalid_at_runtime(tags: Sequence[str], values: Sequence[float], step: int) -> Finding | None:
    """``lr-invalid`` during the run: the first NaN, infinite or negative LR among ``values``.

    Examples:
        >>> lr_invalid_at_runtime(["lr-SGD"], [float("nan")], 7).message
        'the LR of lr-SGD is nan at optimizer step 7.'
    """
    bad = [(t, v) for t, v in zip(tags, values) if not (v >= 0 and v != float("inf"))]
    if not bad:
        return None
    return Finding(
        "lr-invalid",
        "error",
        f"the LR of {bad[0][0]} is {bad[0][1]!r} at optimizer step {step}.",
        step,
        "check the scheduler's formula and its horizon; a NaN/inf/negative LR destroys the weights.",
    )


def lr_invalid_in_rows(rows: Sequence[tuple[float, int, Sequence[str], Sequence[float]]]) -> Finding | None:
    """``lr-invalid`` for the first invalid LR among buffered rows ``(wall, step, tags, values)``, tested at once.

    Examples:
        >>> lr_invalid_in_rows([(0.0, 3, ["lr-SGD"], [0.1]), (0.0, 4, ["lr-SGD"], [-0.1])]).message
        'the LR of lr-SGD is -0.1 at optimizer step 4.'
    """
    flat = np.fromiter(chain.from_iterable(row[3] for row in rows), dtype=np.float64)
    if bool(np.all(flat >= 0.0)) and bool(np.all(flat < np.inf)):  # NaN fails both
        return None
    found = (lr_invalid_at_runtime(tags, values, step) for _, step, tags, values in rows)
    return next((f for f in found if f is not None), None)


def spec_changed(saved: Mapping[str, str], now: Mapping[str, str], step: int) -> Finding | None:
    """``resume-mismatch``: the scheduler spec differs from the checkpoint's; the message shows what changed.

    Examples:
        >>> spec_changed({"0": "LinearLR(total_iters=40)"}, {"0": "LinearLR(total_iters=40)"}, 32) is None
        True
        >>> f = spec_changed({"0": "LinearLR(total_iters=40)"}, {"0": "LinearLR(total_iters=400)"}, 32)
        >>> f.message.split("; ")[0].split(" (")[1]
        'scheduler[0]: LinearLR(total_iters=40) -> LinearLR(total_iters=400))'
    """
    if dict(saved) == dict(now):
        return None
    keys = sorted(set(saved) | set(now))
    changes = "; ".join(
        f"scheduler[{k}]: {saved.get(k, 'none')} -> {now.get(k, 'none')}" for k in keys if saved.get(k) != now.get(k)
    )
    return Finding(
        "resume-mismatch",
        "warning",
        f"the scheduler spec changed since the checkpoint was saved ({changes}); the restored "
        "scheduler state belongs to the old spec, so the schedule bends at the resume step.",
        step,
        "resume with the spec the checkpoint was trained with, or start a fresh run (no ckpt_path).",
    )


def run_length_changed(saved: int | None, now: int | None, *, uses_auto: bool, step: int) -> Finding | None:
    """``resume-mismatch``: the run's scheduler steps changed under an ``"auto"`` horizon.

    Examples:
        >>> run_length_changed(32, 64, uses_auto=True, step=32).message.split(" and ")[0]
        "the run's length changed since the checkpoint (32 -> 64 scheduler steps)"
    """
    if not uses_auto or saved is None or now is None or saved == now:
        return None
    return Finding(
        "resume-mismatch",
        "warning",
        f"the run's length changed since the checkpoint ({saved} -> {now} scheduler steps) and the scheduler's "
        f"horizon is 'auto': the restored scheduler keeps the old horizon ({saved}), so the schedule does not end "
        "where this run ends.",
        step,
        f"resume with the original length (max_steps/max_epochs giving {saved} steps), or start a fresh run to "
        "re-bind 'auto'.",
    )


def scheduler_out_of_place(
    scheduler: str, *, position: int | None, expected: int | None, step: int, voice: Voice = LIGHTNING
) -> Finding | None:
    """``resume-mismatch``: after a resume the scheduler is not at the run's step (e.g. restarted at 0).

    Examples:
        >>> scheduler_out_of_place("LinearLR(...)", position=0, expected=32, step=32).code
        'resume-mismatch'
    """
    if position is None or expected is None or position == expected:
        return None
    return Finding(
        "resume-mismatch",
        "warning",
        f"after the resume {scheduler} is at step {position}, but the run is at optimizer step {step} (expected "
        f"scheduler step {expected}): the schedule is out of place (a warmup would restart).",
        step,
        voice.fix_resume,
    )


def loader_length_changed(
    scheduler: Any, *, was: int, now: int, epoch: int, reviewed: int, total: int, step: int
) -> Finding:
    """``run-length-changed``: the training loader's length changed between epochs, and with it the run's
    scheduler steps; the scheduler keeps the horizon it was given.

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> f = loader_length_changed(torch.optim.lr_scheduler.CosineAnnealingLR(opt, 16), was=4, now=16, epoch=1,
        ...                           reviewed=16, total=52, step=4)
        >>> f.hint
        "use T_max=52, the run's real length (LRMonitor never changes a schedule during training)."
    """
    record, h = lookup(scheduler), horizon_of(scheduler)
    arg = record.horizon_arg if record is not None else None
    fix = (
        f"use {arg}={h - reviewed + total}, the run's real length"
        if arg and h is not None
        else "size the schedule for the run's real length"
    )
    return Finding(
        "run-length-changed",
        "warning",
        f"the training loader has {now} batches per epoch from epoch {epoch} (was {was}), so this run takes {total} "
        f"scheduler steps of {describe(scheduler)}, not the {reviewed} it was reviewed and bound for"
        + (f"; its horizon {arg}={h} no longer ends with the run." if arg and h is not None else "."),
        step,
        f"{fix} (LRMonitor never changes a schedule during training).",
    )


def user_stepping_note(
    finding: Finding, *, per_epoch: int, total: int, unreturned: str | None = None, calls: int | None = None
) -> Finding:
    """A horizon finding judged from the stepping the user really does under manual optimization (or of a scheduler
    kept on the module, ``unreturned``, that Lightning never sees; or stepped by an ``lr_scheduler_step`` override on
    some of the ``calls`` Lightning makes in the first epoch).

    Examples:
        >>> f = Finding("horizon-too-short", "warning", "CosineAnnealingLR(T_max=5) ends early.", 5, "use T_max=80.")
        >>> user_stepping_note(f, per_epoch=16, total=80).message
        'CosineAnnealingLR(T_max=5) ends early. Under manual optimization you step it yourself: 16 times in the \
first epoch, so 80 times in this run.'
    """
    who = (
        "Under manual optimization you step it yourself"
        if unreturned is None
        else f"It is {unreturned}, not returned from configure_optimizers: you step it yourself"
    )
    times = f"{per_epoch} time{'s' if per_epoch != 1 else ''} in the first epoch"
    if calls is not None:
        who = "Your lr_scheduler_step override steps it"
        times = f"{per_epoch} time{'s' if per_epoch != 1 else ''} per epoch (seen over {calls} of Lightning's calls)"
    message = f"{finding.message} {who}: {times}, so {total} times in this run."
    return dataclasses.replace(finding, message=message)
