"""What ``LRMonitor``'s hooks do, as small functions over a ``Trainer`` (public attributes only) and a Session.

Kept apart from ``_callback.py`` so the callback class stays a list of hooks; nothing here subclasses or imports a
Lightning class, so the ``lightning.pytorch`` and ``pytorch_lightning`` callbacks share it.

Examples:
    >>> validate("StepLR", Options())[0].spec
    {'class_path': 'StepLR', 'init_args': {}}
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import re
from dataclasses import dataclass
from typing import Any

from lightning_lrmon._exceptions import LRMonitorConfigError, LRScheduleError
from lightning_lrmon._findings import tooling
from lightning_lrmon._fit import live
from lightning_lrmon._fit.live import LengthWatch, SteppingCheck, scheduler_position
from lightning_lrmon._fit.session import Built, Session
from lightning_lrmon._fit.sinks import LoggerSink, TensorBoardSink
from lightning_lrmon._fit.tags import optimizer_label
from lightning_lrmon._review.checks import RUN_LENGTH_CODES, Subject
from lightning_lrmon._review.pipeline import GroupStats, Review, review, review_stack
from lightning_lrmon._review.render import markdown_summary
from lightning_lrmon._schedulers import describe
from lightning_lrmon._simulation.stack import stacked
from lightning_lrmon._spec.build import (
    build_scheduler,
    has_auto,
    is_per_optimizer,
    normalize_spec,
    resolve_class,
    spec_identity,
    split_per_optimizer,
)
from lightning_lrmon._stepping.runlength import (
    RunFacts,
    facts_from_trainer,
    opt_step_of_rows,
    scheduler_steps,
    steps_done,
    swa_start,
    unknown_length_reason,
)
from lightning_lrmon._tensorboard.logdir import PLAN_PREFIX, SESSION_MARK_STEP, shared_event_file, truncate_own_events
from lightning_lrmon._tensorboard.writer import EventWriter
from lightning_lrmon._vocab import INTERVALS, ON_MISCONFIG, SHAPES, Interval, check_word

__all__ = [
    "PLAN_PREFIX",
    "Options",
    "Output",
    "Spec",
    "build_all",
    "config_type",
    "decide_raise",
    "epoch_end_checks",
    "facts",
    "start",
    "state_of",
    "validate",
]


@dataclass(frozen=True)
class Options:
    """The arguments of ``LRMonitor`` that shape the schedule it builds and how it reacts."""

    interval: str = "step"
    frequency: int = 1
    expect: str | None = None
    on_misconfig: str = "warn"
    name: str | None = None
    monitor: str | None = None


@dataclass(frozen=True)
class Output:
    """The arguments of ``LRMonitor`` that say what it writes, and where."""

    log_plan: bool = True
    log_every_n_steps: int | None = None
    logging_interval: Interval | None = None
    tensorboard_every_n_steps: int | None = None
    package: str = "lightning.pytorch"  # whose LearningRateMonitor would log the same tags


@dataclass(frozen=True)
class Spec:
    """One optimizer's spec, normalised, and how messages name it."""

    index: int
    spec: Any
    where: str


def _check_options(o: Options) -> None:
    check_word("interval", o.interval, INTERVALS)
    if isinstance(o.frequency, bool) or not isinstance(o.frequency, int) or o.frequency < 1:
        raise LRMonitorConfigError(
            f"`frequency` must be a positive int (step the scheduler every N intervals), got {o.frequency!r}."
        )
    check_word("expect", o.expect, SHAPES, none_ok=True)
    check_word("on_misconfig", o.on_misconfig, ON_MISCONFIG)


def _check_needs_scheduler(o: Options) -> None:
    given = {"interval": o.interval != "step", "frequency": o.frequency != 1, "expect": o.expect is not None}
    given |= {"name": o.name is not None, "monitor": o.monitor is not None}
    used = [k for k, v in given.items() if v]
    if used:
        raise LRMonitorConfigError(
            f"LRMonitor({', '.join(f'{k}=...' for k in used)}) without `scheduler`: these arguments describe the "
            "scheduler LRMonitor builds, and there is none. LRMonitor always logs the LR of every optimizer step "
            "(what the step used). Pass scheduler=... to build one, or drop "
            f"{' and '.join(f'`{k}`' for k in used)}; for a scheduler from configure_optimizers, set interval and "
            "frequency in its lr_scheduler dict."
        )


def validate(scheduler: Any, options: Options) -> list[Spec]:
    """Check the arguments and normalise the spec(s); raises :class:`LRMonitorConfigError` with the fix."""
    _check_options(options)
    if scheduler is None:
        _check_needs_scheduler(options)
        return []
    per_optimizer = is_per_optimizer(scheduler)
    out = []
    for idx, spec in split_per_optimizer(scheduler).items():
        where = f"scheduler[{idx}]" if per_optimizer else "scheduler"
        norm = normalize_spec(spec, where=where)
        if isinstance(norm, dict):
            resolve_class(norm["class_path"], where=where)
        out.append(Spec(idx, norm, where))
    if options.name is not None and len(out) > 1:
        raise LRMonitorConfigError(
            f"`name`={options.name!r} with {len(out)} schedulers would log both optimizers under one tag. Drop "
            "`name` (tags are then lr-<Optimizer>, made unique like LearningRateMonitor's) or use one scheduler."
        )
    return out


def facts(trainer: Any) -> RunFacts:
    return facts_from_trainer(trainer)


def config_type(package: str) -> Any:
    return importlib.import_module(f"{package}.utilities.types").LRSchedulerConfig


def _refuse_second_scheduler(spec: Spec, optimizer: Any, configs: list[Any]) -> None:
    for config in configs:
        if config.scheduler.optimizer is optimizer:
            raise LRMonitorConfigError(
                f"`{spec.where}`: configure_optimizers already attached {describe(config.scheduler)} to optimizer "
                f"{spec.index} ({type(optimizer).__name__}); LRMonitor would add {spec_identity(spec.spec)} on top, "
                "and two schedulers on one optimizer fight over its LR. Remove the scheduler from "
                "configure_optimizers (LRMonitor monitors and checks it when scheduler=None), or drop "
                "LRMonitor's scheduler."
            )


def _bound_steps(spec: Spec, options: Options, facts: RunFacts) -> int | None:
    steps = scheduler_steps(facts, options.interval, options.frequency)  # type: ignore[arg-type]
    if steps is None and isinstance(spec.spec, dict) and has_auto(spec.spec):
        raise LRMonitorConfigError(
            f"`{spec.where}` uses 'auto' or 'N%', which binds to the run's length, but "
            f"{unknown_length_reason(facts, options.interval)}, or give the horizon as a number."  # type: ignore[arg-type]
        )
    return steps


def build_all(
    specs: list[Spec], options: Options, optimizers: list[Any], configs: list[Any], facts: RunFacts, config_type: Any
) -> list[Built]:
    """Build every spec on its optimizer and append a scheduler config, so Lightning steps and checkpoints it."""
    built = []
    for spec in specs:
        if not 0 <= spec.index < len(optimizers):
            raise LRMonitorConfigError(
                f"`{spec.where}` targets optimizer index {spec.index}, but configure_optimizers returned "
                f"{len(optimizers)} optimizer(s). Use indices 0..{len(optimizers) - 1}."
            )
        optimizer = optimizers[spec.index]
        _refuse_second_scheduler(spec, optimizer, configs)
        steps = _bound_steps(spec, options, facts)
        configured = [float(g["lr"]) for g in optimizer.param_groups]
        before = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        sched = build_scheduler(spec.spec, optimizer, total_steps=steps, where=spec.where, normalized=True)
        config = _make_config(config_type, sched, options)
        configs.append(config)
        identity = spec_identity(spec.spec)
        built.append(Built(spec.index, spec.where, spec.spec, identity, steps, configured, config, before))
    return built


def rebind(built: list[Built], options: Options, run: RunFacts) -> None:
    """On a fresh run, after every callback's ``on_fit_start`` (``StochasticWeightAveraging`` adds an epoch and
    takes the LR over there): re-build each ``"auto"`` scheduler whose run length changed since it was bound.

    The param groups get back what they held before the first build, so the new scheduler starts exactly as if it
    had been built first; nothing has stepped yet.
    """
    for b in built:
        if not (isinstance(b.spec, dict) and has_auto(b.spec)) or len(b.groups_before) != len(
            groups := b.config.scheduler.optimizer.param_groups
        ):
            continue
        steps = _bound_steps(Spec(b.index, b.spec, b.where), options, run)
        if steps is None or steps == b.steps:
            continue
        for group, saved in zip(groups, b.groups_before):
            for key in [k for k in group if k != "params" and k not in saved]:
                del group[key]
            group.update(saved)
        b.config.scheduler = build_scheduler(
            b.spec, b.config.scheduler.optimizer, total_steps=steps, where=b.where, normalized=True
        )
        b.steps = steps


def _make_config(config_type: Any, sched: Any, options: Options) -> Any:
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    plateau = isinstance(sched, ReduceLROnPlateau)
    if plateau and not options.monitor:
        raise LRMonitorConfigError(
            "`scheduler` is ReduceLROnPlateau, which needs the metric to watch: pass LRMonitor(monitor='val_loss')"
            " (a key you self.log)."
        )
    return config_type(
        scheduler=sched,
        name=options.name,
        interval=options.interval,
        frequency=options.frequency,
        reduce_on_plateau=plateau,
        monitor=options.monitor,
    )


def state_of(built: list[Built]) -> dict[str, Any]:
    return {
        "version": 2,
        "specs": {str(b.index): b.identity for b in built},
        "bound_steps": {str(b.index): b.steps for b in built},
    }


# ---------------------------------------------------------------------------------------------------------------
# train start


def _is_tensorboard(logger: Any) -> bool:
    return any(c.__name__ == "TensorBoardLogger" for c in type(logger).__mro__) and hasattr(logger, "log_dir")


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _is_remote(path: str) -> bool:
    """A log directory on a filesystem other than the local one (``s3://``, ``memory://``, ...)."""
    return bool(_URL.match(path)) and not path.startswith("file://")


def _event_writer(logger: Any, resumed_at: int) -> EventWriter:
    """Our writer for a local TensorBoardLogger: appending to the logger's own event file where that is safe."""
    log_dir = str(logger.log_dir)
    if resumed_at > 0:
        truncate_own_events(log_dir, resumed_at)  # files of lightning-lrmon 0.1, which wrote a file of its own
    try:
        shared = shared_event_file(log_dir, logger.experiment) if os.path.isdir(log_dir) else None
    except Exception:  # finding the logger's file is a nicety: our own file works for every loader but one
        shared = None
    writer = EventWriter(log_dir, append_to=shared)
    # each step once after a resume: a SessionLog.START at the resumed step makes loaders drop what earlier files
    # logged from there on. TensorBoard's Python loader takes the first START of a run as its start and purges only
    # on a later one, so a fresh run begins with a START that purges nothing (its step lies past any real step)
    writer.add_session_start(resumed_at if resumed_at > 0 else SESSION_MARK_STEP)
    return writer


def _sinks(trainer: Any, cadence: tuple[int, int], output: Output) -> tuple[TensorBoardSink | None, LoggerSink | None]:
    """LRMonitor's writer beside the first local TensorBoardLogger (rank zero only), every other logger as is."""
    tensorboard, others = None, []
    for logger in trainer.loggers:
        if _is_tensorboard(logger) and tensorboard is None and not _is_remote(str(logger.log_dir)):
            if trainer.is_global_zero:
                tensorboard = TensorBoardSink(_event_writer(logger, trainer.global_step), logger, every=cadence[0])
        else:
            others.append(logger)
    sink = LoggerSink(others, every=cadence[1], logging_interval=output.logging_interval) if others else None
    return tensorboard, sink


def _lr_logged_twice(trainer: Any, session: Session, package: str) -> None:
    """A LearningRateMonitor on the same Trainer writes the same tags at the same steps as LRMonitor."""
    reference = importlib.import_module(f"{package}.callbacks").LearningRateMonitor
    if any(isinstance(cb, reference) for cb in trainer.callbacks):
        session.emit(
            tooling(
                "lr-logged-twice",
                "the Trainer also has a LearningRateMonitor: both write the same tags (lr-...) at the same steps, so "
                "every logger gets each LR twice.",
                "remove LearningRateMonitor: LRMonitor logs every point it logs (the same tags, steps and values) "
                "and accepts its logging_interval.",
            )
        )


def _logger_notes(trainer: Any, session: Session) -> None:
    if not trainer.loggers:
        session.emit(
            tooling(
                "no-logger",
                "the Trainer has no logger, so LRMonitor logs nothing; the schedule is still checked.",
                "pass Trainer(logger=TensorBoardLogger(...)) to see the LR per step.",
            )
        )
    for chart in session.tracker.without_momentum():
        session.emit(
            tooling(
                "log-momentum-unavailable",
                f"log_momentum=True, but {chart} has no momentum; its momentum is logged as 0 (as "
                "LearningRateMonitor does).",
                "drop log_momentum, or use an optimizer with momentum/betas.",
            ),
            once_per_code=False,
        )


def _steps_done(facts: RunFacts, config: Any, trainer: Any) -> int:
    return steps_done(
        facts,
        config.interval,
        max(1, int(config.frequency)),
        global_step=trainer.global_step,
        epoch=trainer.current_epoch,
    )


def _resume_checks(
    session: Session, trainer: Any, built: list[Built], restored: dict[str, Any] | None, facts: RunFacts
) -> None:
    if trainer.global_step == 0:
        return
    for b in built:
        session.emit(
            live.scheduler_out_of_place(
                describe(b.config.scheduler),
                position=scheduler_position(b.config.scheduler),
                expected=_steps_done(facts, b.config, trainer),
                step=trainer.global_step,
            )
        )
    if restored is None:
        return
    now = {str(b.index): b.identity for b in built}
    session.emit(live.spec_changed(restored.get("specs", now), now, trainer.global_step))
    before = restored.get("bound_steps", {})
    for b in built:
        uses_auto = isinstance(b.spec, dict) and has_auto(b.spec)
        session.emit(
            live.run_length_changed(before.get(str(b.index)), b.steps, uses_auto=uses_auto, step=trainer.global_step)
        )


def _subject(
    config: Any, trainer: Any, facts: RunFacts, built: Built | None, options: Options, tags: list[str]
) -> Subject | None:
    interval, freq = config.interval, max(1, int(config.frequency))
    total = scheduler_steps(facts, interval, freq)
    if total is None:
        return None
    done = _steps_done(facts, config, trainer)
    label = optimizer_label(tags, config.scheduler.optimizer.param_groups)
    per_epoch = scheduler_steps(RunFacts(-1, 1, facts.batches_per_epoch, facts.accumulate), "step", freq)
    return Subject(
        config.scheduler,
        max(total - done, 0),
        expect=options.expect if built is not None else None,
        configured_lrs=built.configured_lrs if built is not None else None,
        label=label,
        tags=tags,
        steps_per_epoch=per_epoch if interval == "step" else None,
        step_offset=trainer.global_step if interval == "step" else 0,
        interval=interval,
        accumulate=facts.accumulate if interval == "step" else 1,
    )


def _review_one(session: Session, subject: Subject, row_steps: Any) -> Review | None:
    try:
        return review(subject, row_steps=row_steps)
    except LRMonitorConfigError:
        raise
    except Exception as err:  # the checker must never be what kills a training run
        session.emit(
            tooling(
                "check-failed",
                f"lightning-lrmon could not simulate {describe(subject.scheduler)} on {subject.label} "
                f"({type(err).__name__}: {err}); training goes on unchecked.",
                "please report this with the scheduler's arguments.",
            ),
            once_per_code=False,
        )
        return None


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


def _who_steps(pl_module: Any, built: Built | None) -> list[str]:
    if built is None or getattr(pl_module, "automatic_optimization", True):
        return []
    return [
        "manual optimization: Lightning does not step this scheduler; call self.lr_schedulers().step() in "
        "training_step (LRMonitor warns if it is never stepped)."
    ]


def _tags_of(session: Session, optimizer: Any) -> list[str]:
    return session.tracker.tags_of(optimizer) or [f"lr-{type(optimizer).__name__}"]


def _review_config(
    session: Session, trainer: Any, config: Any, facts: RunFacts, b: Built | None, options: Options
) -> Review | None:
    """One scheduler alone on its optimizer (``None``: its run length is unknown, said in a note, or it failed)."""
    subject = _subject(config, trainer, facts, b, options, _tags_of(session, config.scheduler.optimizer))
    if subject is None:
        return _unreviewed(session, config, facts)
    start = trainer.global_step
    interval, freq = config.interval, max(1, int(config.frequency))

    def rows_to_steps(rows: Any, _i: str = interval, _f: int = freq, _s: int = start) -> Any:
        return opt_step_of_rows(facts, _i, _f, rows, _s)  # type: ignore[arg-type]

    return _review_one(session, subject, rows_to_steps)


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
        session.emit(
            tooling(
                "check-failed",
                f"lightning-lrmon could not simulate the schedulers of "
                f"{type(optimizer).__name__} together ({type(err).__name__}: {err}).",
                "please report this with the schedulers' arguments.",
            ),
            once_per_code=False,
        )
        return None


def _run_notes(session: Session, trainer: Any, r: Review, facts: RunFacts) -> None:
    """What the run does to the review: a smoke test, SWA taking over, a time limit."""
    _smoke_test(session, trainer, r)
    if (swa := swa_start(trainer)) is not None:
        r.notes.append(
            f"StochasticWeightAveraging replaces the schedule with its SWALR from epoch {swa}: reviewed for the "
            f"{r.steps} scheduler steps before"
        )
    if facts.time_limited:
        r.notes.append(
            f"max_time may stop the run before its {r.steps} scheduler steps; horizons are judged against "
            "max_steps/max_epochs"
        )


def _reviews(
    session: Session, trainer: Any, pl_module: Any, built: list[Built], options: Options, facts: RunFacts
) -> list[Review]:
    ours = {id(b.config): b for b in built}
    stack_of = {id(c): group for group in stacked(trainer.lr_scheduler_configs) for c in group}
    out = []
    for config in trainer.lr_scheduler_configs:
        group = stack_of.get(id(config))
        if group is not None:
            if group[0] is not config:
                continue  # reviewed with the first of its optimizer's schedulers
            r = _review_stacked(session, trainer, group, facts)
        else:
            r = _review_config(session, trainer, config, facts, ours.get(id(config)), options)
            if r is not None:
                r.notes.extend(_who_steps(pl_module, ours.get(id(config))))
        if r is None:
            continue
        _run_notes(session, trainer, r, facts)
        out.append(r)
        for finding in r.findings:
            session.emit(finding, once_per_code=False)
    return out


def start(
    session: Session,
    trainer: Any,
    pl_module: Any,
    built: list[Built],
    restored: dict[str, Any] | None,
    options: Options,
    output: Output,
) -> list[Review]:
    """Train start: "auto" bound again on a fresh run, names, sinks, the stepping check and the length watch, resume
    checks, the fit-start review, the planned series and the summary."""
    run = facts(trainer)
    if restored is None and trainer.global_step == 0:
        rebind(built, options, run)
    session.tracker.start(trainer.optimizers, list(trainer.lr_scheduler_configs))
    automatic = getattr(pl_module, "automatic_optimization", True)
    stepping = SteppingCheck(trainer.lr_scheduler_configs, run, trainer.global_step) if automatic else None
    watch = LengthWatch(trainer.lr_scheduler_configs, run, global_step=trainer.global_step, epoch=trainer.current_epoch)
    cadence = logging_cadence(trainer, output, run, sum(len(t.tags) for t in session.tracker.tracks()))
    session.attach(*_sinks(trainer, cadence, output), stepping, watch)
    _logger_notes(trainer, session)
    _lr_logged_twice(trainer, session, output.package)
    _resume_checks(session, trainer, built, restored, run)
    reviews = _reviews(session, trainer, pl_module, built, options, run)
    if session.tensorboard is not None and reviews:
        if output.log_plan:
            for r in reviews:
                session.write_series(r.plan, [g.tag for g in r.groups])
        session.write_text("lrmon/summary", markdown_summary(reviews), trainer.global_step)
        session.write_layout(session.tracker.charts(), output.log_plan)
    return reviews


def recount(session: Session, trainer: Any) -> None:
    """At an epoch start: when the training loader's length changed, the findings of schedulers whose run length
    changed, and the stepping check counts with the new length."""
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


def user_location(pl_module: Any) -> tuple[str, int, str] | None:
    """``(file, line, module)`` of the module's own ``configure_optimizers`` (else of its class): where a warning
    about its schedule is worth pointing."""
    cls = type(pl_module)
    for target in (getattr(cls, "configure_optimizers", None), cls):
        try:
            path = inspect.getsourcefile(target)  # type: ignore[arg-type]
            line = inspect.getsourcelines(target)[1]  # type: ignore[arg-type]
        except (TypeError, OSError):
            continue
        if path and f"{os.sep}lightning{os.sep}" not in path and f"{os.sep}pytorch_lightning{os.sep}" not in path:
            return path, max(int(line), 1), cls.__module__
    return None


def manual_step(trainer: Any) -> int:
    """Under manual optimization, the step ``self.log`` logs at: the batches completed (``global_step`` counts every
    optimizer's steps)."""
    return int(trainer.fit_loop.epoch_loop.batch_progress.total.completed)


def publish_every(trainer: Any, session: Session) -> int:
    """How often (in optimizer steps) to copy the LRs into ``trainer.callback_metrics`` between epoch ends.

    Only when a callback monitors one of the LR tags (a ModelCheckpoint or EarlyStopping on ``lr-SGD``), at the
    Trainer's ``log_every_n_steps`` as LearningRateMonitor does; otherwise 0 (epoch ends and validation starts
    only, where EarlyStopping and ModelCheckpoint read by default), so a run nobody monitors pays nothing per step.
    """
    tags = {t for _, names in session.tracker.charts() for t in names}
    if not any(getattr(cb, "monitor", None) in tags for cb in trainer.callbacks):
        return 0
    return trainer_log_every(trainer)


def trainer_log_every(trainer: Any) -> int:
    """``Trainer(log_every_n_steps)``: the steps ``self.log`` writes at (50 when unset or 0)."""
    return max(1, int(getattr(trainer, "log_every_n_steps", 50) or 50))


_EVERY_DEFAULT = {
    "log_every_n_steps": "the Trainer's log_every_n_steps, the steps self.log writes at",
    "tensorboard_every_n_steps": "every step, thinned only for runs over 4M values",
}


def check_every(argument: str, value: Any) -> int | None:
    """Validate ``log_every_n_steps`` or ``tensorboard_every_n_steps``.

    Examples:
        >>> check_every("log_every_n_steps", 0)
        Traceback (most recent call last):
        ...
        lightning_lrmon.LRMonitorConfigError: `log_every_n_steps` must be a positive int or None (the Trainer's \
log_every_n_steps, the steps self.log writes at), got 0.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LRMonitorConfigError(
            f"`{argument}` must be a positive int or None ({_EVERY_DEFAULT[argument]}), got {value!r}."
        )
    return value


#: the LR values (steps x tags) a run writes to TensorBoard at most by default: every step of a 1M-step run with 4
#: groups; a longer or wider run thins its steps so the event file stays near 100 MB and loads in about a minute
TENSORBOARD_VALUES = 4_000_000


def tensorboard_every(steps: int | None, tags: int, every: int | None = None) -> int:
    """Steps between TensorBoard writes: ``every`` if given, else every step up to :data:`TENSORBOARD_VALUES`.

    Examples:
        >>> tensorboard_every(1_000_000, 4), tensorboard_every(1_000_000, 64), tensorboard_every(None, 64)
        (1, 16, 1)
    """
    if every is not None:
        return every
    if steps is None or steps * tags <= TENSORBOARD_VALUES:
        return 1
    return math.ceil(steps * tags / TENSORBOARD_VALUES)


def logging_cadence(trainer: Any, output: Output, run: RunFacts, tags: int) -> tuple[int, int]:
    """Steps between logged values: (lightning-lrmon's TensorBoard writer, Lightning's logging steps for the other
    loggers: ``LRMonitor(log_every_n_steps)`` or the Trainer's)."""
    others = output.log_every_n_steps or trainer_log_every(trainer)
    return tensorboard_every(run.optimizer_steps(), tags, output.tensorboard_every_n_steps), others


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


def epoch_end_checks(session: Session, trainer: Any, pl_module: Any, built: list[Built], package: str) -> None:
    """Runtime checks at an epoch's end: a missing plateau metric, a built scheduler nobody steps."""
    for config in trainer.lr_scheduler_configs:
        if not config.reduce_on_plateau or config.monitor is None or config.monitor in trainer.callback_metrics:
            continue
        if _validation_ran_this_epoch(trainer, pl_module, package):
            session.emit(
                live.plateau_monitor_missing(
                    config.monitor,
                    epoch=trainer.current_epoch,
                    available=list(trainer.callback_metrics),
                    step=trainer.global_step,
                )
            )
    if getattr(pl_module, "automatic_optimization", True):
        return
    run = facts(trainer)
    for b in built:
        expected = steps_done(
            run,
            b.config.interval,
            max(1, int(b.config.frequency)),
            global_step=trainer.global_step,
            epoch=trainer.current_epoch + 1,
        )
        if scheduler_position(b.config.scheduler) == 0 and trainer.global_step > 0:
            session.emit(
                live.not_stepped(
                    describe(b.config.scheduler), expected=expected, done=trainer.global_step, step=trainer.global_step
                )
            )
