"""timm's stepping convention held against the run: a timm-style scheduler keeps no step counter, so the t each
epoch's last step used is read off the LR it applied (``_get_lr(t)`` on an isolated copy) and compared with the t
timm's own training loop gives it.

timm's loop calls ``scheduler.step(epoch + 1)`` at the end of epoch ``epoch`` and
``scheduler.step_update(num_updates=n)`` after the ``n``-th optimizer update: epoch ``e`` trains at ``_get_lr(e)``
(``t_in_epochs=True``), optimizer step ``k`` at ``_get_lr(k)`` (``t_in_epochs=False``).

Examples:
    >>> halving = lambda t: [0.1 * 0.5 ** t]
    >>> f = t_mismatch("Cosine", halving, [0.1 * 0.5 ** 2], unit="epoch", interval="epoch", epoch=3, epoch_start=48,
    ...                global_step=64, total=160, per_epoch=16)
    >>> f.code, f.message.split(":")[0]
    ('scheduler-not-stepped', "Cosine runs one epoch behind timm's convention")
    >>> t_mismatch("Cosine", halving, [0.1 * 0.5 ** 3], unit="epoch", interval="epoch", epoch=3, epoch_start=48,
    ...            global_step=64, total=160, per_epoch=16) is None
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from lightning_lrmon._findings import Finding
from lightning_lrmon._fit.cursor import parted_groups

__all__ = ["t_mismatch"]

#: what a mismatch means: (code, what the run does, the fix), by (unit, how the observed t relates to timm's)
_CAUSES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("epoch", "behind"): (
        "scheduler-not-stepped",
        "runs one epoch behind timm's convention: your lr_scheduler_step passes the epoch that just ended "
        "(scheduler.step(epoch=self.current_epoch)), so each epoch trains at the LR of the one before and the "
        "schedule ends an epoch late",
        "pass the next epoch, as timm's own training loop does: scheduler.step(epoch=self.current_epoch + 1) with "
        "'interval': 'epoch'.",
    ),
    ("epoch", "ahead"): (
        "double-step",
        "runs one epoch ahead of timm's convention: Lightning calls your lr_scheduler_step after every optimizer "
        "step ('interval': 'step') and it passes the next epoch (scheduler.step(epoch=self.current_epoch + 1)), so "
        "each epoch trains at the LR of the one after",
        "with 'interval': 'step' pass the epoch under way (scheduler.step(epoch=self.current_epoch)); or use "
        "'interval': 'epoch' with scheduler.step(epoch=self.current_epoch + 1).",
    ),
    ("epoch", "start"): (
        "scheduler-not-stepped",
        "never moves: its t counts epochs (t_in_epochs=True), so it ignores step_update() and only "
        "step(epoch=...) sets its LR",
        "call scheduler.step(epoch=self.current_epoch + 1) with 'interval': 'epoch' in lr_scheduler_step; or "
        "create it with t_in_epochs=False to step it per optimizer update with step_update().",
    ),
    ("step", "per-epoch"): (
        "scheduler-not-stepped",
        "moves once per epoch: its t counts optimizer updates (t_in_epochs=False), but it is updated only at "
        "epoch ends, so every step of an epoch trains at the LR of the epoch's first",
        "return 'interval': 'step' in the lr_scheduler dict and call scheduler.step_update(num_updates="
        "self.global_step) in lr_scheduler_step.",
    ),
    ("step", "start"): (
        "scheduler-not-stepped",
        "never moves: its t counts optimizer updates (t_in_epochs=False), so it ignores step(epoch=...) and only "
        "step_update(num_updates=...) sets its LR",
        "call scheduler.step_update(num_updates=self.global_step) in lr_scheduler_step, with 'interval': 'step'.",
    ),
    ("step", "epoch"): (
        "scheduler-not-stepped",
        "moves with the epoch: its t counts optimizer updates (t_in_epochs=False), but it is given the epoch",
        "call scheduler.step_update(num_updates=self.global_step) in lr_scheduler_step, with 'interval': 'step'.",
    ),
}


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-12) for x, y in zip(a, b))


def _candidates(
    unit: str, interval: str, *, epoch: int, epoch_start: int, global_step: int
) -> tuple[int, dict[str, int]]:
    """The t timm's convention gives the epoch's last step, and the usual wrong ones by name, likeliest first for
    the interval (where two give the same t, their fixes agree)."""
    if unit == "epoch":
        if interval == "epoch":  # Lightning's docstring recipe passes the epoch that ended
            return epoch, {"behind": epoch - 1, "start": 0, "ahead": epoch + 1}
        return epoch, {"start": 0, "ahead": epoch + 1, "behind": epoch - 1}
    if epoch_start == 0:  # the first epoch cannot tell "never" from "once per epoch"
        return global_step - 1, {}
    if interval == "epoch":  # once per epoch is the interval's doing, named at fit start
        return global_step - 1, {"fine": epoch_start, "start": 0, "epoch": epoch}
    return global_step - 1, {"start": 0, "per-epoch": epoch_start, "epoch": epoch}


def t_mismatch(
    name: str,
    lrs: Callable[[int], list[float]],
    used: list[float],
    *,
    unit: str,
    interval: str,
    epoch: int,
    epoch_start: int,
    global_step: int,
    total: int | None,
    per_epoch: int | None,
) -> Finding | None:
    """The stepping finding for a timm-style scheduler whose epoch ``epoch`` (begun at optimizer step
    ``epoch_start``) ended on a step that used the LRs ``used``; ``None`` when that is timm's t, or no usual cause
    explains it (an LR written on purpose, said by other checks)."""
    expected, wrong = _candidates(unit, interval, epoch=epoch, epoch_start=epoch_start, global_step=global_step)
    try:
        planned = lrs(expected)
        if _same(used, planned):
            return None
        for why, t in wrong.items():
            if t < 0 or t == expected:
                continue
            if _same(used, lrs(t)):
                if why == "fine":
                    return None
                return _finding(name, why, unit, used, planned, global_step, epoch, total, per_epoch)
    except Exception:  # the scheduler's own code failed on a copy: nothing to say about the run
        return None
    return None


def _finding(
    name: str,
    why: str,
    unit: str,
    used: list[float],
    planned: list[float],
    step: int,
    epoch: int,
    total: int | None,
    per_epoch: int | None,
) -> Finding:
    code, what, fix = _CAUSES[(unit, why)]
    g = parted_groups(used, planned)[0]
    share = ""
    if why in ("behind", "ahead") and total and per_epoch and total > per_epoch:
        # behind: every epoch but the first; ahead: every step but each epoch's first
        off = total - per_epoch if why == "behind" else total - -(-total // per_epoch)
        share = f" ({off} of this run's {total} optimizer steps at another epoch's LR)"
    where = (
        f"the last step of epoch {epoch} (optimizer step {step - 1}) used {used[g]:.6g} in group {g} where timm's "
        f"convention gives {planned[g]:.6g}"
    )
    return Finding(code, "warning", f"{name} {what}{share}. The applied LR left the plan: {where}.", step, fix)
