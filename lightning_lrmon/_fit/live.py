"""The runtime checks of the catalogue as pure functions: numbers in, a :class:`Finding` (or ``None``) out.

``LRMonitor`` gathers the numbers from the live run (scheduler positions, optimizer step counts, logged metric
names, the restored callback state) and emits what these return, once each.

Examples:
    >>> f = double_step("StepLR(step_size=5)", moved=20, allowed=10, done=10, step=10)
    >>> f.code, f.message.split(" (")[0]
    ('double-step', 'StepLR(step_size=5) was stepped 20 times in the first 10 optimizer steps')
    >>> double_step("StepLR(step_size=5)", moved=10, allowed=10, done=10, step=10) is None
    True
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lightning_lrmon._findings import Finding
from lightning_lrmon._schedulers import describe, horizon_of, lookup
from lightning_lrmon._stepping.runlength import RunFacts, scheduler_steps, steps_done

__all__ = [
    "LengthWatch",
    "ObservedStepping",
    "user_stepping_note",
    "loader_length_changed",
    "SteppingCheck",
    "double_step",
    "not_stepped",
    "stalled",
    "lr_invalid_at_runtime",
    "plateau_monitor_missing",
    "plateau_per_step",
    "run_length_changed",
    "scheduler_out_of_place",
    "scheduler_position",
    "spec_changed",
]


def double_step(scheduler: str, *, moved: int, allowed: int, done: int, step: int) -> Finding | None:
    """``double-step``: the scheduler moved at least twice as often as Lightning steps it.

    Args:
        scheduler: the scheduler's description.
        moved: scheduler steps since the check started.
        allowed: scheduler steps Lightning takes over the same optimizer steps.
        done: optimizer steps completed since the check started.
        step: the run's optimizer step, for the finding.
    """
    if moved <= allowed + 1 or moved < 2 * max(allowed, 1):
        return None
    return Finding(
        "double-step",
        "warning",
        f"{scheduler} was stepped {moved} times in the first {done} optimizer steps (Lightning steps it {allowed} "
        f"times there): the schedule runs {moved / max(allowed, 1):.1f}x too fast.",
        step,
        "remove the extra scheduler.step() call (e.g. in training_step); with automatic optimization Lightning "
        "steps the schedulers itself.",
    )


def stalled(scheduler: str, *, moved: int, allowed: int, done: int, step: int, hook: bool) -> Finding | None:
    """``scheduler-not-stepped``: a step-interval scheduler that Lightning steps every optimizer step barely moves
    (an ``lr_scheduler_step`` that passes the epoch, ``scheduler.step(epoch=self.current_epoch)``, or skips the call).

    Examples:
        >>> stalled("OneCycleLR(total_steps=300)", moved=0, allowed=9, done=9, step=9, hook=True).code
        'scheduler-not-stepped'
        >>> stalled("OneCycleLR(total_steps=300)", moved=9, allowed=9, done=9, step=9, hook=True) is None
        True
    """
    if allowed < 4 or 2 * moved >= allowed:
        return None
    why = (
        "your lr_scheduler_step override does not advance it once per call: passing the epoch "
        "(scheduler.step(epoch=self.current_epoch)) moves it once per epoch, so the schedule runs an epoch at a time"
        if hook
        else "its step() does not advance it"
    )
    return Finding(
        "scheduler-not-stepped",
        "warning",
        f"{scheduler} moved {moved} steps in the first {done} optimizer steps, while Lightning stepped it {allowed} "
        f"times (interval='step'): {why}.",
        step,
        "call scheduler.step() without the epoch in lr_scheduler_step (a timm scheduler stepped per optimizer step: "
        "scheduler.step_update(num_updates=self.global_step)); for a schedule counted in epochs, use "
        "'interval': 'epoch' and scheduler.step(epoch=self.current_epoch + 1).",
    )


def not_stepped(scheduler: str, *, expected: int | None, done: int, step: int) -> Finding | None:
    """``scheduler-not-stepped``: under manual optimization nobody steps the scheduler LRMonitor built.

    Examples:
        >>> not_stepped("CosineAnnealingLR(T_max=300)", expected=300, done=300, step=300).code
        'scheduler-not-stepped'
    """
    if expected is not None and expected < 2:
        return None
    plan = f" (the plan stepped it {expected} times)" if expected is not None else ""
    return Finding(
        "scheduler-not-stepped",
        "warning",
        f"{scheduler} was never stepped in {done} optimizer steps{plan}: with manual optimization Lightning does not "
        "step schedulers, so the LR stays at its start.",
        step,
        "call self.lr_schedulers().step() in training_step after opt.step() (once per optimizer step for "
        "interval='step'), or use automatic optimization.",
    )


def plateau_monitor_missing(monitor: str, *, epoch: int, available: Sequence[str], step: int) -> Finding:
    """``plateau-monitor-missing``: ReduceLROnPlateau's metric is not among the logged ones.

    Examples:
        >>> plateau_monitor_missing("val_los", epoch=0, available=["val_loss"], step=16).hint
        "self.log('val_los', ...) in training/validation, or set monitor to one of ['val_loss']."
    """
    names = sorted(available)
    return Finding(
        "plateau-monitor-missing",
        "warning",
        f"ReduceLROnPlateau watches {monitor!r}, but no such metric was logged in epoch {epoch}; available: {names}. "
        "It will never reduce the LR.",
        step,
        f"self.log({monitor!r}, ...) in training/validation, or set monitor to one of {names}.",
    )


_VALIDATION_METRIC = re.compile(r"(^|[_/.-])(val|valid|validation)([_/.-]|$)", re.IGNORECASE)


def plateau_per_step(monitor: str, *, step: int) -> Finding | None:
    """``plateau-monitor-missing`` before the first batch: ReduceLROnPlateau stepped after every optimizer step
    (``"interval": "step"``) on a validation metric, which does not exist yet then (Lightning raises after the
    first batch).

    Examples:
        >>> plateau_per_step("val_loss", step=0).code
        'plateau-monitor-missing'
        >>> plateau_per_step("train_loss", step=0) is None
        True
    """
    if not _VALIDATION_METRIC.search(monitor):
        return None
    return Finding(
        "plateau-monitor-missing",
        "warning",
        f"ReduceLROnPlateau watches {monitor!r} with interval='step': Lightning steps it after every optimizer step, "
        f"reading {monitor!r} then, but a validation metric is logged only when validation runs, so Lightning will "
        "raise after the first batch ('ReduceLROnPlateau conditioned on metric ... which is not available').",
        step,
        f"use 'interval': 'epoch' (Lightning steps it after validation, when {monitor!r} exists), or monitor a "
        "metric you self.log() in training_step.",
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


def scheduler_out_of_place(scheduler: str, *, position: int | None, expected: int | None, step: int) -> Finding | None:
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
        "the checkpoint holds no state for this scheduler (was LRMonitor added, or its scheduler count changed, "
        "since it was saved?): resume from a checkpoint saved with this LRMonitor, or start a fresh run.",
    )


def scheduler_position(scheduler: Any) -> int:
    """How many times ``scheduler`` was stepped (``last_epoch`` for every torch scheduler).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> scheduler_position(torch.optim.lr_scheduler.StepLR(opt, 5))
        0
    """
    pos = getattr(scheduler, "last_epoch", None)
    return pos if isinstance(pos, int) else int(getattr(scheduler, "_step_count", 0))


class SteppingCheck:
    """``double-step`` for the step-interval schedulers of a fit: how far each moved against how often Lightning
    steps it, from the optimizer steps a hook counted (``n`` calls since the check began).

    Args:
        configs: the Trainer's scheduler configs (``scheduler``, ``interval``, ``frequency``).
        facts: the run's numbers (for steps a ``frequency`` allows).
        global_step: the optimizer step the check begins at.
    """

    def __init__(
        self, configs: Sequence[Any], facts: RunFacts, global_step: int, *, epoch: int = 0, hook: bool = False
    ) -> None:
        self._facts, self._g0, self._hook = facts, global_step, hook  # hook: the module overrides lr_scheduler_step
        self._by_epoch = [  # epoch-interval schedulers, checked at epoch boundaries (a user's extra step() shows there)
            (c, scheduler_position(c.scheduler), epoch, describe(c.scheduler))
            for c in configs
            if c.interval == "epoch" and not c.reduce_on_plateau
        ]
        self._n0: dict[int, int] = {}  # optimizer steps counted before a rebase, by optimizer
        self._watched = [
            (
                c,
                scheduler_position(c.scheduler),
                steps_done(facts, "step", max(1, int(c.frequency)), global_step=global_step, epoch=0),
                describe(c.scheduler),  # once: describing a scheduler costs far more than the check
            )
            for c in configs
            if c.interval == "step"
        ]

    def check(self, optimizer: Any, n: int, step: int) -> list[Finding | None]:
        """The findings for ``optimizer``'s schedulers after its ``n``-th step since the check began."""
        opt = getattr(optimizer, "optimizer", optimizer)
        out: list[Finding | None] = []
        for config, pos0, done0, name in self._watched:
            if config.scheduler.optimizer is not opt:
                continue
            done = n - 1 - self._n0.get(id(opt), 0)
            freq = max(1, int(config.frequency))
            allowed = steps_done(self._facts, "step", freq, global_step=self._g0 + done, epoch=0) - done0
            moved = scheduler_position(config.scheduler) - pos0
            out.append(double_step(name, moved=moved, allowed=allowed, done=done, step=step))
            out.append(stalled(name, moved=moved, allowed=allowed, done=done, step=step, hook=self._hook))
        return out

    def at_epoch_boundary(self, *, epochs_done: int, global_step: int) -> list[Finding | None]:
        """The findings for the epoch-interval schedulers once ``epochs_done`` epochs have ended (Lightning steps
        each once per ``frequency`` epochs, at the epoch's last batch)."""
        out: list[Finding | None] = []
        for config, pos0, epoch0, name in self._by_epoch:
            freq = max(1, int(config.frequency))
            allowed = epochs_done // freq - epoch0 // freq
            moved = scheduler_position(config.scheduler) - pos0
            done = global_step - self._g0
            out.append(double_step(name, moved=moved, allowed=allowed, done=done, step=global_step))
        return out

    def rebase(self, facts: RunFacts, counts: Mapping[int, int]) -> None:
        """At an epoch start, when the loader's length changed: count from here with the new numbers (``counts``:
        the optimizer steps counted so far, by ``id`` of the optimizer)."""
        self._facts, self._g0 = dataclasses.replace(facts, max_steps=-1, max_epochs=None), 0
        self._n0 = dict(counts)
        self._watched = [(c, scheduler_position(c.scheduler), 0, name) for c, _p, _d, name in self._watched]


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


def _from_epoch(facts: RunFacts, epoch: int) -> tuple[tuple[int, int], ...]:
    """The accumulation schedule counted from ``epoch`` (epoch 0 of the rest of the run)."""
    schedule = facts.accumulate_schedule
    if not schedule:
        return ()
    return ((0, facts.accumulate_at(epoch)), *((e - epoch, f) for e, f in schedule if e > epoch))


class LengthWatch:
    """Re-counts the run at each epoch start, for loaders whose length changes (``reload_dataloaders_every_n_epochs``,
    a growing dataset): each scheduler's real total against the total it was reviewed for, said once."""

    def __init__(self, configs: Sequence[Any], facts: RunFacts, *, global_step: int, epoch: int) -> None:
        self.facts = facts
        self._watched = {
            id(c): (
                c,
                scheduler_steps(facts, c.interval, max(1, int(c.frequency))),
                scheduler_position(c.scheduler)
                - steps_done(facts, c.interval, max(1, int(c.frequency)), global_step=global_step, epoch=epoch),
            )
            for c in configs
        }

    def epoch_started(
        self, batches: int | None, *, epoch: int, global_step: int, live: Sequence[Any] = ()
    ) -> tuple[bool, list[Finding]]:
        """Whether the loader's length changed, and a finding per scheduler (of those still in ``live``, the
        Trainer's configs: SWA replaces one) whose run length it changed."""
        was = self.facts.batches_per_epoch
        if batches is None or was is None or batches == was:
            return False, []
        left_epochs = int(self.facts.max_epochs or 0) - epoch if self.facts.epochs_limited else None
        left_steps = self.facts.max_steps - global_step if self.facts.max_steps >= 0 else -1
        rest = dataclasses.replace(
            self.facts,
            batches_per_epoch=batches,
            max_epochs=left_epochs,
            max_steps=left_steps,
            accumulate=self.facts.accumulate_at(epoch),
            accumulate_schedule=_from_epoch(self.facts, epoch),
        )
        out = []
        present = {id(c) for c in live}
        for key, (c, reviewed, pos0) in self._watched.items():
            if key not in present:
                continue
            more = scheduler_steps(rest, c.interval, max(1, int(c.frequency)))
            total = None if more is None else scheduler_position(c.scheduler) - pos0 + more
            if reviewed is None or total is None or total == reviewed:
                continue
            out.append(
                loader_length_changed(
                    c.scheduler, was=was, now=batches, epoch=epoch, reviewed=reviewed, total=total, step=global_step
                )
            )
            self._watched[key] = (c, total, pos0)
        self.facts = dataclasses.replace(self.facts, batches_per_epoch=batches)
        return True, out


class ObservedStepping:
    """Under manual optimization Lightning steps no scheduler: how often the user steps each one, observed over the
    first epoch of the fit (``None`` until that epoch ends).

    Args:
        configs: the Trainer's scheduler configs.
    """

    def __init__(self, configs: Sequence[Any], *, epoch: int) -> None:
        self._start = [(c, scheduler_position(c.scheduler)) for c in configs if not c.reduce_on_plateau]
        self._epoch, self._seen = epoch, False

    def first_epoch_ended(self, epoch: int, *, final: bool = False) -> list[tuple[Any, int]]:
        """Once, when the fit's first epoch is over (``epoch`` is past it, or ``final``: the fit ended): each config
        with the scheduler steps the user took in that epoch."""
        if self._seen or (epoch <= self._epoch and not final):
            return []
        self._seen = True
        return [(c, scheduler_position(c.scheduler) - p0) for c, p0 in self._start]


def user_stepping_note(finding: Finding, *, per_epoch: int, total: int) -> Finding:
    """A horizon finding judged from the stepping the user really does under manual optimization.

    Examples:
        >>> f = Finding("horizon-too-short", "warning", "CosineAnnealingLR(T_max=5) ends early.", 5, "use T_max=80.")
        >>> user_stepping_note(f, per_epoch=16, total=80).message
        'CosineAnnealingLR(T_max=5) ends early. Under manual optimization you step it yourself: 16 times in the \
first epoch, so 80 times in this run.'
    """
    message = (
        f"{finding.message} Under manual optimization you step it yourself: {per_epoch} time"
        f"{'s' if per_epoch != 1 else ''} in the first epoch, so {total} times in this run."
    )
    return dataclasses.replace(finding, message=message)
