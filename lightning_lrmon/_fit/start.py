"""Train start: the session wired (sinks, live checks), resume checks, the review, the planned series, the summary."""

from __future__ import annotations

import inspect
import os
from typing import Any

from lightning_lrmon._fit import plateau, runtime
from lightning_lrmon._fit.build import rebind
from lightning_lrmon._fit.live import LengthWatch, SteppingCheck
from lightning_lrmon._fit.observed import ObservedStepping, gated_configs
from lightning_lrmon._fit.options import Options, Output
from lightning_lrmon._fit.outputs import choose_sinks, logger_notes, logging_cadence, lr_logged_twice
from lightning_lrmon._fit.position import scheduler_position
from lightning_lrmon._fit.reviews import review_configs, scheduler_steps_done
from lightning_lrmon._fit.session import Built, Session
from lightning_lrmon._fit.unreturned import unreturned
from lightning_lrmon._review.pipeline import Review
from lightning_lrmon._review.render import markdown_summary
from lightning_lrmon._schedulers import describe
from lightning_lrmon._spec.bind import has_auto
from lightning_lrmon._stepping.contract import frequency_past_the_epoch, overrides_step, read_contract, stepping_hook
from lightning_lrmon._stepping.runlength import RunFacts, facts_from_trainer, steps_done

__all__ = ["read_sparsely", "train_start", "user_location"]


def _resume_checks(
    session: Session, trainer: Any, built: list[Built], restored: dict[str, Any] | None, facts: RunFacts
) -> None:
    if trainer.global_step == 0:
        return
    for b in built:
        session.emit(
            runtime.scheduler_out_of_place(
                describe(b.config.scheduler),
                position=scheduler_position(b.config.scheduler),
                expected=scheduler_steps_done(facts, b.config, trainer),
                step=trainer.global_step,
            )
        )
    if restored is None:
        return
    now = {str(b.index): b.identity for b in built}
    session.emit(runtime.spec_changed(restored.get("specs", now), now, trainer.global_step))
    before = restored.get("bound_steps", {})
    for b in built:
        uses_auto = isinstance(b.spec, dict) and has_auto(b.spec)
        session.emit(
            runtime.run_length_changed(before.get(str(b.index)), b.steps, uses_auto=uses_auto, step=trainer.global_step)
        )


def train_start(
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
    run = facts_from_trainer(trainer)
    if restored is None and trainer.global_step == 0:
        rebind(built, options, run)
    session.tracker.start(trainer.optimizers, list(trainer.lr_scheduler_configs))
    automatic = getattr(pl_module, "automatic_optimization", True)
    configs, g0, e0 = trainer.lr_scheduler_configs, trainer.global_step, trainer.current_epoch
    hook, owner, gated = stepping_hook(pl_module), trainer.strategy, gated_configs(pl_module, configs)
    stepping = SteppingCheck(configs, run, g0, epoch=e0, hook=hook, owner=owner, gated=gated) if automatic else None
    hidden = unreturned(pl_module, trainer.optimizers, configs)
    observe = ([] if automatic else list(configs)) + [c for _, c in hidden] + gated
    names = {id(c): name for name, c in hidden}
    ours, by_hook = {id(b.config) for b in built}, {id(c) for c in gated}
    session.observed = ObservedStepping(observe, names=names, built=ours, overridden=by_hook) if observe else None
    watch = LengthWatch(configs, run, global_step=g0, epoch=e0)
    cadence = logging_cadence(trainer, output, run, sum(len(t.tags) for t in session.tracker.tracks()))
    session.attach(*choose_sinks(trainer, cadence, output), stepping, watch)
    logger_notes(trainer, session)
    lr_logged_twice(trainer, session, output.package)
    _resume_checks(session, trainer, built, restored, run)
    for config in configs:
        _plateau_before_validation(session, trainer, config)
        _frequency_past_the_epoch(session, trainer, config, run, built, automatic)
    plans: dict[int, Any] = {}
    reviews = review_configs(session, trainer, pl_module, built, options, run, plans)
    session.follow(plans)
    if session.tensorboard is not None and reviews:
        if output.log_plan:
            for r in reviews:
                session.write_series(r.plan, [g.tag for g in r.groups])
        session.write_text("lrmon/summary", markdown_summary(reviews), trainer.global_step)
        session.write_layout(session.tracker.charts(), output.log_plan)
    return reviews


def _frequency_past_the_epoch(
    session: Session, trainer: Any, config: Any, run: RunFacts, built: list[Built], automatic: bool
) -> None:
    """A per-step scheduler whose ``frequency`` is more than an epoch's batches: Lightning never steps it."""
    if run.batches_per_epoch is None or run.varies() or config.reduce_on_plateau:
        return
    ours = any(b.config is config for b in built)
    contract = read_contract(config, automatic=automatic, overrides_step=False, built=ours)
    what, batches, freq = describe(config.scheduler), run.batches_per_epoch, max(1, int(config.frequency))
    per_epoch = steps_done(run, "step", freq, global_step=run.optimizer_steps_per_epoch() or 0, epoch=0)
    found = frequency_past_the_epoch(what, contract, batches=batches, per_epoch=per_epoch, step=trainer.global_step)
    session.emit(found)


def _plateau_before_validation(session: Session, trainer: Any, config: Any) -> None:
    """A ReduceLROnPlateau on a validation metric that Lightning will step before (or without) a validation."""
    if not config.reduce_on_plateau or not config.monitor or not getattr(config, "strict", True):
        return
    monitor, freq, g0 = str(config.monitor), max(1, int(config.frequency)), trainer.global_step
    if config.interval == "step":
        session.emit(
            plateau.plateau_per_step(monitor, step=g0, frequency=freq, first_validation=first_validation(trainer))
        )
        return
    val_every = trainer.check_val_every_n_epoch if _validates(trainer) else None
    first, last = trainer.current_epoch, trainer.max_epochs
    session.emit(
        plateau.plateau_every_epochs(
            monitor, step=g0, frequency=freq, val_every=val_every, first_epoch=first, max_epochs=last
        )
    )


def _validates(trainer: Any) -> bool:
    """The fit will validate: the module has its own ``validation_step`` and ``limit_val_batches`` is not 0 (the
    validation loaders are only set up when validation first runs)."""
    own = overrides_step(trainer.lightning_module, "validation_step")
    return own and trainer.limit_val_batches != 0


def first_validation(trainer: Any) -> int | None:
    """The batch of the first epoch after which validation first runs (``None``: none runs in the first epoch), from
    the Trainer's public attributes at train start."""
    every, epochs = getattr(trainer, "val_check_batch", None), getattr(trainer, "check_val_every_n_epoch", 1)
    batches = getattr(trainer, "num_val_batches", None) or []
    if epochs not in (1, None) or not sum(b for b in batches if isinstance(b, (int, float))):
        return None
    if not isinstance(every, (int, float)) or not 0 < every < float("inf"):
        return None
    return int(every)


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


def read_sparsely(session: Session, trainer: Any, *, prog_bar: bool, manual: bool) -> None:
    """Under automatic optimization, with no progress-bar LR and a run of known length: the session reads the LRs
    only at the steps something logs or checks them (see ``Session.read_sparsely``)."""
    if prog_bar or manual:
        return
    total = facts_from_trainer(trainer).optimizer_steps()
    session.read_sparsely(None if total is None else total - 1)
