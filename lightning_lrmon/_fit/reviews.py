"""Train start: every scheduler config Lightning holds reviewed (alone, or stacked with its optimizer's others)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._findings import Finding, tooling
from lightning_lrmon._fit.observed import hold_for_the_first_epoch
from lightning_lrmon._fit.options import Options
from lightning_lrmon._fit.runtime import user_stepping_note
from lightning_lrmon._fit.session import Built, Session
from lightning_lrmon._fit.tags import optimizer_label
from lightning_lrmon._review.checks import RUN_LENGTH_CODES
from lightning_lrmon._review.pipeline import GroupStats, PlanRows, Review, review, review_stack
from lightning_lrmon._review.subject import Subject
from lightning_lrmon._schedulers import describe
from lightning_lrmon._simulation.stack import stacked
from lightning_lrmon._stepping.contract import (
    Contract,
    configured_by_lightningcli,
    frequency_cause,
    overrides_step,
    per_epoch_cause,
    read_contract,
    t_unit,
)
from lightning_lrmon._stepping.runlength import (
    RunFacts,
    opt_step_of_rows,
    scheduler_steps,
    steps_done,
    swa_start,
    unknown_length_reason,
)

__all__ = ["check_failed"]


def scheduler_steps_done(facts: RunFacts, config: Any, trainer: Any) -> int:
    return steps_done(
        facts,
        config.interval,
        max(1, int(config.frequency)),
        global_step=trainer.global_step,
        epoch=trainer.current_epoch,
    )


def _subject(
    config: Any,
    trainer: Any,
    facts: RunFacts,
    built: Built | None,
    options: Options,
    tags: list[str],
    *,
    scheduler: Any = None,
) -> Subject | None:
    """What the review looks at for ``config`` (a scheduler config, or a ``Contract`` and ``scheduler``)."""
    scheduler = config.scheduler if scheduler is None else scheduler
    interval, freq = config.interval, max(1, int(config.frequency))
    total = scheduler_steps(facts, interval, freq)
    if total is None:
        return None
    done = scheduler_steps_done(facts, config, trainer)
    label = optimizer_label(tags, scheduler.optimizer.param_groups)
    per_epoch = scheduler_steps(RunFacts(-1, 1, facts.batches_per_epoch, facts.accumulate), "step", freq)
    return Subject(
        scheduler,
        max(total - done, 0),
        expect=options.expect if built is not None else None,
        configured_lrs=built.configured_lrs if built is not None else None,
        label=label,
        tags=tags,
        steps_per_epoch=per_epoch if interval == "step" else None,
        step_offset=trainer.global_step if interval == "step" else 0,
        interval=interval,
        accumulate=facts.accumulate if interval == "step" else 1,
        auto_ok=built is not None,  # 'auto' is bound by LRMonitor's own build: torch's classes reject it
    )


def check_failed(what: str, err: Exception, ask: str) -> Finding:
    """The note for a schedule the review could not simulate: training goes on unchecked."""
    return tooling(
        "check-failed",
        f"lightning-lrmon could not simulate {what} ({type(err).__name__}: {err}); training goes on unchecked.",
        f"please report this with the {ask} arguments.",
    )


def _unreviewed(session: Session, config: Any, facts: RunFacts) -> Review:
    """A scheduler the review cannot judge: said in a note, and listed in the summary and TensorBoard's text with
    the reason (nothing goes unchecked in silence)."""
    reason = unknown_length_reason(facts, config.interval)
    session.emit(
        tooling(
            "not-judged",
            f"{describe(config.scheduler)} is logged but its schedule is not reviewed: {reason}.",
            "give the run a length (max_steps or max_epochs with a sized loader) to have it reviewed.",
        ),
        once_per_code=False,
    )
    tags = _tags_of(session, config.scheduler.optimizer)
    return Review(
        label=optimizer_label(tags, config.scheduler.optimizer.param_groups),
        scheduler=describe(config.scheduler),
        shape="not reviewed",
        interval=config.interval,
        steps=0,
        groups=[GroupStats(t) for t in tags],
        notes=[f"not reviewed: {reason}"],
    )


def _smoke_test(session: Session, trainer: Any, r: Review) -> None:
    """Under ``fast_dev_run`` the run is a smoke test, not the run: horizons are not judged against it."""
    n = getattr(trainer, "fast_dev_run", False)
    if not n:
        return
    dropped = sorted({f.code for f in r.findings if f.code in RUN_LENGTH_CODES})
    r.findings[:] = [f for f in r.findings if f.code not in RUN_LENGTH_CODES]
    note = (
        f"fast_dev_run={n}: a smoke test, not the run; the horizon and warmup checks are skipped"
        + (f" ({', '.join(dropped)} not reported)" if dropped else "")
        + ". Run without fast_dev_run to have them judged."
    )
    r.notes.append(note)
    session.emit(tooling("not-judged", f"{r.label}: {note}", "run without fast_dev_run."), once_per_code=True)


def _tags_of(session: Session, optimizer: Any) -> list[str]:
    return session.tracker.tags_of(optimizer) or [f"lr-{type(optimizer).__name__}"]


def _review_config(
    session: Session, trainer: Any, config: Any, facts: RunFacts, b: Built | None, options: Options, contract: Contract
) -> Review | None:
    """One scheduler alone on its optimizer (``None``: its run length is unknown, said in a note, or it failed)."""
    stepping = _counted_in_epochs(config, contract)
    subject = _subject(
        stepping, trainer, facts, b, options, _tags_of(session, config.scheduler.optimizer), scheduler=config.scheduler
    )
    if subject is None:
        return _unreviewed(session, config, facts)
    start = trainer.global_step
    interval, freq = stepping.interval, max(1, int(stepping.frequency))

    def rows_to_steps(rows: Any, _i: str = interval, _f: int = freq, _s: int = start) -> Any:
        return opt_step_of_rows(facts, _i, _f, rows, _s)  # type: ignore[arg-type]

    try:
        r = review(subject, row_steps=rows_to_steps)
    except LRMonitorConfigError:
        raise
    except Exception as err:  # the checker must never be what kills a training run
        what = f"{describe(subject.scheduler)} on {subject.label}"
        session.emit(check_failed(what, err, "scheduler's"), once_per_code=False)
        return None
    if stepping is not config:
        r.notes.append(
            "t_in_epochs=True: its t counts epochs, so it is reviewed per epoch (the LR moves when the epoch your "
            "lr_scheduler_step passes changes), whatever the interval"
        )
    per_update = t_unit(config.scheduler) == "step" and contract.by == "lr_scheduler_step"
    tags = list(subject.tags or [])
    if (contract.by == "lightning" or per_update) and interval == "epoch" and not config.reduce_on_plateau:
        _name_the_interval(r, config, trainer, facts, contract, tags)
    elif contract.by == "lightning" and interval == "step" and not config.reduce_on_plateau:
        _name_the_frequency(r, config, trainer, facts, contract, tags)
    return r


def _counted_in_epochs(config: Any, contract: Contract) -> Any:
    """The stepping the plan follows: ``config``, or per epoch for a timm scheduler whose t counts epochs
    (``t_in_epochs=True``) that Lightning calls after every optimizer step (its LR moves with the epoch passed)."""
    if config.interval == "step" and t_unit(config.scheduler) == "epoch":
        return dataclasses.replace(contract, interval="epoch", frequency=1)
    return config


def _name_the_interval(
    r: Review, config: Any, trainer: Any, facts: RunFacts, contract: Contract, tags: list[str]
) -> None:
    """Horizon findings of a scheduler Lightning steps per epoch whose horizon fits the run when stepped per
    optimizer step: the interval is the cause, and ``"interval": "step"`` the fix (not a shorter horizon)."""
    if not any(f.code in RUN_LENGTH_CODES for f in r.findings):
        return
    per_step = dataclasses.replace(contract, interval="step", frequency=1)
    steps = _fits_when(per_step, trainer, facts, config, tags)
    if steps is not None:
        _recause(r, lambda f: per_epoch_cause(f, contract, epoch_steps=r.steps, optimizer_steps=steps))


def _name_the_frequency(
    r: Review, config: Any, trainer: Any, facts: RunFacts, contract: Contract, tags: list[str]
) -> None:
    """Horizon findings of a per-step scheduler whose horizon counts optimizer steps while Lightning steps it every
    ``frequency``-th one (a horizon in micro-batches is named by the review itself)."""
    if not any(f.code in RUN_LENGTH_CODES for f in r.findings):
        return
    if contract.frequency > 1:
        every = dataclasses.replace(contract, frequency=1)
        steps = _fits_when(every, trainer, facts, config, tags)
        if steps is not None:
            _recause(r, lambda f: frequency_cause(f, contract, optimizer_steps=steps, scheduler_steps=r.steps))


def _fits_when(stepping: Any, trainer: Any, facts: RunFacts, config: Any, tags: list[str]) -> int | None:
    """The scheduler steps of the run with ``stepping`` and ``facts`` when the scheduler's review there has no
    run-length finding (``None``: it would not fit either, or could not be reviewed)."""
    subject = _subject(stepping, trainer, facts, None, Options(), tags, scheduler=config.scheduler)
    if subject is None:
        return None
    try:
        other = review(subject, with_series=False)
    except Exception:  # the cause stays unnamed; the findings stand as they are
        return None
    return None if any(f.code in RUN_LENGTH_CODES for f in other.findings) else subject.steps


def _recause(r: Review, cause: Callable[[Finding], Finding]) -> None:
    r.findings[:] = [cause(f) if f.code in RUN_LENGTH_CODES else f for f in r.findings]


def _review_stacked(session: Session, trainer: Any, configs: list[Any], facts: RunFacts) -> Review | None:
    """Several schedulers on one optimizer, simulated together in Lightning's order: one review, one plan."""
    total = facts.optimizer_steps()
    if total is None:
        return _unreviewed(session, configs[0], facts)
    optimizer = configs[0].scheduler.optimizer
    tags = _tags_of(session, optimizer)
    try:
        return review_stack(
            configs,
            facts,
            max(total - trainer.global_step, 0),
            start=trainer.global_step,
            label=optimizer_label(tags, optimizer.param_groups),
            tags=tags,
        )
    except Exception as err:  # the checker must never be what kills a training run
        what = f"the schedulers of {type(optimizer).__name__} together"
        session.emit(check_failed(what, err, "schedulers'"), once_per_code=False)
        return None


def _hold_the_stack(r: Review | None, group: list[Any], automatic: bool, plans: dict[int, PlanRows] | None) -> None:
    """The plan of several schedulers on one optimizer (in optimizer steps, as Lightning steps them together) held
    against the run through its per-step schedulers stepped at every step (none: held at no step)."""
    if r is None or r.plan_rows is None or plans is None or not automatic:
        return
    if any(getattr(c, "reduce_on_plateau", False) for c in group):
        return  # a plateau cuts the LR when its metric stalls: the plan holds only until then
    for c in group:  # each per-step member reads the one plan: the one whose count is off says where it parted
        if c.interval == "step" and max(1, int(c.frequency)) == 1 and not getattr(c, "reduce_on_plateau", False):
            plans[id(c)] = r.plan_rows


def _run_notes(session: Session, trainer: Any, r: Review, facts: RunFacts) -> None:
    """What the run does to the review: a smoke test, SWA taking over, a time limit."""
    _smoke_test(session, trainer, r)
    if (swa := swa_start(trainer)) is not None:
        r.notes.append(
            f"StochasticWeightAveraging replaces the schedule with its SWALR from epoch {swa}: reviewed for the "
            f"{r.steps} scheduler steps before"
        )
        r.findings[:] = [_before_swa(f, swa, r.steps) if f.code in RUN_LENGTH_CODES else f for f in r.findings]
    if facts.time_limited:
        r.notes.append(
            f"max_time may stop the run before its {r.steps} scheduler steps; horizons are judged against "
            "max_steps/max_epochs"
        )


def _before_swa(finding: Finding, epoch: int, steps: int) -> Finding:
    """A run-length finding of a schedule that StochasticWeightAveraging replaces from ``epoch``: its run is the
    ``steps`` scheduler steps before, and the finding says so."""
    message = (
        f"{finding.message} (StochasticWeightAveraging replaces this schedule with its SWALR from epoch {epoch}, so "
        f"the schedule runs for the {steps} scheduler steps before.)"
    )
    hint = (finding.hint or "").replace(
        "(the run's scheduler steps)", "(the scheduler steps before StochasticWeightAveraging takes over)"
    )
    return dataclasses.replace(finding, message=message, hint=hint)


def review_configs(
    session: Session,
    trainer: Any,
    pl_module: Any,
    built: list[Built],
    options: Options,
    facts: RunFacts,
    plans: dict[int, PlanRows] | None = None,
) -> list[Review]:
    """Every scheduler config reviewed (alone, or with its optimizer's others); ``plans`` gets each lone
    scheduler's planned LRs by ``id`` of its config, and each stack's under its first per-step scheduler, for the
    live check."""
    ours = {id(b.config): b for b in built}
    automatic = getattr(pl_module, "automatic_optimization", True)
    cli = configured_by_lightningcli(pl_module)
    stack_of = {id(c): group for group in stacked(trainer.lr_scheduler_configs) for c in group}
    observed = session.observed  # set before the review: it knows the schedulers an override steps on a condition
    out = []
    for config in trainer.lr_scheduler_configs:
        group = stack_of.get(id(config))
        if group is not None:
            if group[0] is not config:
                continue  # reviewed with the first of its optimizer's schedulers
            r = _review_stacked(session, trainer, group, facts)
            _hold_the_stack(r, group, automatic, plans)
        else:
            b = ours.get(id(config))
            hook = overrides_step(pl_module)
            contract = read_contract(config, automatic=automatic, overrides_step=hook, built=b is not None, cli=cli)
            r = _review_config(session, trainer, config, facts, b, options, contract)
            gated = observed is not None and observed.by_override(config)
            if r is not None and (contract.by == "user" or gated):
                hold_for_the_first_epoch(r, by_hook=contract.by != "user")
            if r is not None and r.plan_rows is not None and plans is not None and not config.reduce_on_plateau:
                plans[id(config)] = r.plan_rows
        if r is None:
            continue
        _run_notes(session, trainer, r, facts)
        out.append(r)
        for finding in r.findings:
            session.emit(finding, once_per_code=False)
    return out


def review_observed(
    session: Session,
    trainer: Any,
    config: Any,
    per_epoch: int,
    facts: RunFacts,
    *,
    unreturned: str | None = None,
    calls: int | None = None,
    total: int | None = None,
    taken: int | None = None,
) -> list[Finding]:
    """Under manual optimization (or for a scheduler kept on the module, ``unreturned``; or stepped on a condition
    by an ``lr_scheduler_step`` override in ``per_epoch`` of Lightning's ``calls``), once the first epoch is over:
    the horizon findings of ``config``'s scheduler for the stepping seen (``per_epoch`` steps in the first epoch),
    over the rest of the run (``total``: its steps in the whole run when known, ``taken``: this fit's so far)."""
    total = _user_steps_in_run(per_epoch, trainer, facts) if total is None else total
    if total is None:
        return []
    tags = _tags_of(session, config.scheduler.optimizer)
    observed = session.observed
    start = observed.at_start(config) if observed is not None else None
    # judged from the fit's start (a copy taken then), else from where it stands after the first epoch
    now = (config.scheduler, per_epoch if taken is None else taken, trainer.global_step)
    scheduler, done, offset = start if start is not None else now
    subject = Subject(
        scheduler,
        max(total - done, 0),
        label=optimizer_label(tags, config.scheduler.optimizer.param_groups),
        tags=tags,
        steps_per_epoch=per_epoch if per_epoch > 1 else None,
        step_offset=offset,
        interval="step" if per_epoch > 1 else "epoch",
        auto_ok=False,  # the user's own scheduler: torch's classes reject 'auto'
        resumed=trainer.ckpt_path is not None,  # stepped by the user this fit, not restored
    )
    try:
        r = review(subject, with_series=False)
    except Exception as err:  # the checker must never be what kills a training run
        session.emit(check_failed(f"{describe(config.scheduler)} on {subject.label}", err, "scheduler's"))
        return []
    timed = [f for f in r.findings if f.code in RUN_LENGTH_CODES]
    return [user_stepping_note(f, per_epoch=per_epoch, total=total, unreturned=unreturned, calls=calls) for f in timed]


def _user_steps_in_run(per_epoch: int, trainer: Any, facts: RunFacts) -> int | None:
    """The scheduler steps of the whole run at ``per_epoch`` a epoch (the epochs, or max_steps, whichever ends it)."""
    totals = []
    if facts.epochs_limited:
        totals.append(per_epoch * int(facts.max_epochs or 0))
    if facts.max_steps >= 0 and trainer.global_step > 0:
        totals.append(round(per_epoch * facts.max_steps / trainer.global_step))
    return min(totals) if totals else None
