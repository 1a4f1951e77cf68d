"""Per step and per epoch: the logging step, the re-count at an epoch start, the end-of-epoch checks, the raise."""

from __future__ import annotations

import importlib
import math
from typing import Any

from lightning_lrmon._exceptions import LRScheduleError
from lightning_lrmon._findings import Finding
from lightning_lrmon._fit import runtime
from lightning_lrmon._fit.observed import ObservedStepping
from lightning_lrmon._fit.plateau import plateau_monitor_missing
from lightning_lrmon._fit.reviews import review_observed
from lightning_lrmon._fit.session import Session
from lightning_lrmon._schedulers import describe
from lightning_lrmon._stepping.runlength import facts_from_trainer

__all__ = ["decide_raise", "epoch_end_checks", "manual_step", "recount"]


def recount(session: Session, trainer: Any) -> None:
    """At an epoch start: when the training loader's length changed, the findings of schedulers whose run length
    changed, and the stepping check counts with the new length."""
    judge_the_users_stepping(session, trainer)
    session.epoch_boundary(epochs_done=trainer.current_epoch, global_step=trainer.global_step)  # after the module's
    # own on_train_epoch_end: a step() the user adds there shows from here on
    nb = trainer.num_training_batches
    batches = int(nb) if isinstance(nb, (int, float)) and math.isfinite(nb) else None
    watch = session.length_watch
    if watch is None or trainer.current_epoch == 0 or batches is None:
        return
    changed, findings = watch.epoch_started(
        batches, epoch=trainer.current_epoch, global_step=trainer.global_step, live=trainer.lr_scheduler_configs
    )
    for finding in findings:
        session.emit(finding, once_per_code=False)
    if changed:
        session.rebase_stepping(watch.facts)


def manual_step(trainer: Any) -> int:
    """Under manual optimization, the step ``self.log`` logs at: the batches completed (``global_step`` counts every
    optimizer's steps)."""
    return int(trainer.fit_loop.epoch_loop.batch_progress.total.completed)


def decide_raise(session: Session, trainer: Any) -> None:
    """``on_misconfig="raise"``: every rank raises, or none (decided by a collective vote where there are ranks)."""
    log = session.log
    if log.on_misconfig != "raise":
        return
    vote = None
    if trainer.world_size > 1:
        vote = bool(trainer.strategy.reduce_boolean_decision(log.wants_raise, all=False))
    if not log.raise_now(vote):
        return
    problems = log.schedule_problems()
    text = "\n".join(str(f) for f in problems) or "another rank found schedule problems (see its message)."
    raise LRScheduleError(f"LRMonitor found {len(problems)} schedule problem(s):\n{text}", problems)


def _validation_ran_this_epoch(trainer: Any, pl_module: Any, package: str) -> bool:
    """False while a validation loop exists that has not run in this epoch yet."""
    is_overridden = importlib.import_module(f"{package}.utilities.model_helpers").is_overridden
    has_val = is_overridden("validation_step", pl_module) and trainer.limit_val_batches != 0
    if not has_val:
        return True
    every = trainer.check_val_every_n_epoch
    return every is None or (trainer.current_epoch + 1) % every == 0


def epoch_end_checks(session: Session, trainer: Any, pl_module: Any, package: str) -> None:
    """Runtime checks at an epoch's end: the stepping check at the boundary (the run held against its plan), a
    missing plateau metric."""
    session.epoch_boundary(epochs_done=trainer.current_epoch + 1, global_step=trainer.global_step)
    for config in trainer.lr_scheduler_configs:
        if not config.reduce_on_plateau or config.monitor is None or config.monitor in trainer.callback_metrics:
            continue
        if _validation_ran_this_epoch(trainer, pl_module, package):
            session.emit(
                plateau_monitor_missing(
                    config.monitor,
                    epoch=trainer.current_epoch,
                    available=list(trainer.callback_metrics),
                    step=trainer.global_step,
                )
            )


def judge_the_users_stepping(session: Session, trainer: Any, *, final: bool = False) -> None:
    """Manual optimization, once the first epoch is over (the next epoch's start, or the fit's end): a scheduler
    nobody steps, or the horizon findings for the stepping the user does. Not at the epoch's end: the module's own
    ``on_train_epoch_end``, where users step per-epoch schedulers, runs after the callbacks'."""
    observed = session.observed
    if observed is None:
        return
    if not observed.begun:
        for found in observed.begin(trainer.current_epoch, trainer.global_step):
            session.emit(found, once_per_code=False)
        return
    run, step = facts_from_trainer(trainer), trainer.global_step
    for config, moved, calls, taken in observed.cadence(trainer.current_epoch, step, final=final):
        _judge_the_overrides_cadence(session, trainer, config, (moved, calls, taken), final=final)
    for config, per_epoch in observed.first_epoch_ended(trainer.current_epoch, final=final):
        name = observed.unreturned(config)
        if per_epoch == 0 and step > 0:
            if final or not review_observed(session, trainer, config, step, run, unreturned=name):
                # sized for a step() per optimizer step (or the fit is over): not stepped at all is a mistake now
                found = runtime.not_stepped(
                    describe(config.scheduler), expected=None, done=step, step=step, unreturned=name
                )
                session.emit(found, once_per_code=False)
            else:
                observed.wait(config)  # perhaps stepped every few epochs: judged when it moves or the fit ends
            continue
        for finding in review_observed(session, trainer, config, per_epoch, run, unreturned=name):
            session.emit(finding, once_per_code=False)
    _never_moved(session, observed, step, final=final)


def _never_moved(session: Session, observed: ObservedStepping, step: int, *, final: bool) -> None:
    """The schedulers waited for after the first epoch that have not moved by the fit's end."""
    for config in observed.never_moved(final=final):
        name, what = observed.unreturned(config), describe(config.scheduler)
        found: Finding | None
        if observed.by_override(config):
            found = runtime.never_stepped_by_hook(what, done=step - observed.g0, step=step)
        else:
            found = runtime.not_stepped(what, expected=None, done=step, step=step, unreturned=name)
        session.emit(found, once_per_code=False)


def _judge_the_overrides_cadence(
    session: Session, trainer: Any, config: Any, seen: tuple[int, int, int], *, final: bool
) -> None:
    """A per-step scheduler an ``lr_scheduler_step`` override steps on a condition, once its cadence is seen
    (``seen``: the steps it took in an epoch, Lightning's calls in it, its steps since the fit began): the horizon
    findings for the steps it took and, at that cadence, will take by the run's end; one not stepped yet is waited
    for (a start after a warm-up longer than an epoch) and said if it never moves."""
    observed, step = session.observed, trainer.global_step
    assert observed is not None
    moved, calls, taken = seen
    if taken == 0:
        if final:
            session.emit(runtime.never_stepped_by_hook(describe(config.scheduler), done=step - observed.g0, step=step))
        else:
            observed.wait(config)
        return
    run = facts_from_trainer(trainer)
    ope, steps = run.optimizer_steps_per_epoch(), run.optimizer_steps()
    if calls <= 0 or not ope or steps is None:
        return
    start = observed.at_start(config)
    total = (start[1] if start is not None else 0) + taken + round(moved * max(steps - step, 0) / calls)
    per_epoch = max(1, round(moved * ope / calls))
    found = review_observed(session, trainer, config, per_epoch, run, calls=calls, total=total, taken=taken)
    for finding in found:
        session.emit(finding, once_per_code=False)
