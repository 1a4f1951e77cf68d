"""Train start: where the LRs go for this Trainer (the sinks, their cadence) and the notes about its loggers."""

from __future__ import annotations

import importlib
import math
import os
import re
from typing import Any

from lightning_lrmon._findings import tooling
from lightning_lrmon._fit.options import Output
from lightning_lrmon._fit.session import Session
from lightning_lrmon._fit.sinks import LoggerSink, TensorBoardSink
from lightning_lrmon._stepping.runlength import RunFacts
from lightning_lrmon._tensorboard.logdir import SESSION_MARK_STEP, shared_event_file, truncate_own_events
from lightning_lrmon._tensorboard.writer import EventWriter

__all__ = [
    "TENSORBOARD_VALUES",
    "event_writer",
    "is_remote",
    "is_tensorboard",
    "logging_cadence",
    "publish_every",
    "tensorboard_every",
    "trainer_log_every",
]


# ---------------------------------------------------------------------------------------------------------------
# train start


def is_tensorboard(logger: Any) -> bool:
    return any(c.__name__ == "TensorBoardLogger" for c in type(logger).__mro__) and hasattr(logger, "log_dir")


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_remote(path: str) -> bool:
    """A log directory on a filesystem other than the local one (``s3://``, ``memory://``, ...)."""
    return bool(_URL.match(path)) and not path.startswith("file://")


def event_writer(log_dir: str, experiment: Any, resumed_at: int) -> EventWriter:
    """Our writer for a local TensorBoard run directory whose ``experiment`` (a ``SummaryWriter``) writes there:
    appending to that writer's own event file where that is safe."""
    if resumed_at > 0:
        truncate_own_events(log_dir, resumed_at)  # files of lightning-lrmon 0.1, which wrote a file of its own
    try:
        shared = shared_event_file(log_dir, experiment) if os.path.isdir(log_dir) else None
    except Exception:  # finding the logger's file is a nicety: our own file works for every loader but one
        shared = None
    writer = EventWriter(log_dir, append_to=shared)
    # each step once after a resume: a SessionLog.START at the resumed step makes loaders drop what earlier files
    # logged from there on. TensorBoard's Python loader takes the first START of a run as its start and purges only
    # on a later one, so a fresh run begins with a START that purges nothing (its step lies past any real step)
    writer.add_session_start(resumed_at if resumed_at > 0 else SESSION_MARK_STEP)
    return writer


def choose_sinks(
    trainer: Any, cadence: tuple[int, int], output: Output
) -> tuple[TensorBoardSink | None, LoggerSink | None]:
    """LRMonitor's writer beside the first local TensorBoardLogger (rank zero only), every other logger as is."""
    tensorboard, others = None, []
    for logger in trainer.loggers:
        if is_tensorboard(logger) and tensorboard is None and not is_remote(str(logger.log_dir)):
            if trainer.is_global_zero:
                writer = event_writer(str(logger.log_dir), logger.experiment, trainer.global_step)
                tensorboard = TensorBoardSink(writer, logger, every=cadence[0])
        else:
            others.append(logger)
    sink = LoggerSink(others, every=cadence[1], logging_interval=output.logging_interval) if others else None
    return tensorboard, sink


def lr_logged_twice(trainer: Any, session: Session, package: str) -> None:
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


def logger_notes(trainer: Any, session: Session) -> None:
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


#: the LR values (steps x tags) a run writes to TensorBoard at most by default: every step of a 1M-step run with 4
#: groups; a longer or wider run thins its steps so the event file stays near 100 MB and loads in about a minute
TENSORBOARD_VALUES = 4_000_000


def tensorboard_every(steps: int | None, tags: int, every: int | None = None) -> int:
    """Steps between TensorBoard writes: ``every`` if given, else every step up to ``TENSORBOARD_VALUES``.

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
