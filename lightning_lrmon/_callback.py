"""``LRMonitor``: Lightning wiring only. It gathers numbers from the ``Trainer`` and hands them to the pure modules.

Examples:
    >>> from lightning_lrmon import LRMonitor
    >>> cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    >>> cb.interval, cb.frequency
    ('step', 1)
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable
from typing import Any, Dict, Optional, Union  # noqa: UP035 - jsonargparse reads these annotations

import numpy as np
import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import Callback
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from typing_extensions import override

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._findings import Finding
from lightning_lrmon._fit.build import build_all, config_type, state_of
from lightning_lrmon._fit.epoch import decide_raise, epoch_end_checks, judge_the_users_stepping, manual_step, recount
from lightning_lrmon._fit.hotpath import HotPath, hot_path
from lightning_lrmon._fit.options import Options, Output, check_every, validate
from lightning_lrmon._fit.outputs import publish_every
from lightning_lrmon._fit.session import Built, Session
from lightning_lrmon._fit.start import read_sparsely, train_start, user_location
from lightning_lrmon._review.pipeline import Review
from lightning_lrmon._review.render import console_summary
from lightning_lrmon._stepping.runlength import facts_from_trainer
from lightning_lrmon._vocab import INTERVALS, Interval, OnMisconfig, Shape, check_word

__all__ = ["LRMonitor", "SchedulerConfig", "SchedulerSpec"]


#: What ``scheduler=`` accepts, spelled so LightningCLI/jsonargparse parses both a dotted or bare ``class_path``
#: (as a callable) and a spec containing ``"auto"`` (as a plain dict); ``str`` is YAML text or a ``.yaml`` path.
class SchedulerConfig:
    """A scheduler spec as LightningCLI's parser hands it over: the value, untouched (see ``SchedulerSpec``).

    Examples:
        >>> SchedulerConfig({"class_path": "StepLR"}).value
        {'class_path': 'StepLR'}
    """

    def __init__(self, value: Any) -> None:
        self.value: Any = _unwrap(value)

    def __repr__(self) -> str:
        return f"SchedulerConfig({self.value!r})"


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, SchedulerConfig) else value


def register_with_jsonargparse() -> None:
    """Tell LightningCLI's parser (jsonargparse, when it is loaded) to pass a scheduler spec through untouched.

    jsonargparse would resolve a ``class_path`` mapping itself: it demands a dotted path when the spec holds
    ``"auto"`` (it checks ``"auto"`` against the scheduler's ``int`` annotation, then cannot import a bare name).
    Its public ``register_type`` makes ``SchedulerConfig``, the first member of ``SchedulerSpec``, take any
    value as it is; LRMonitor resolves bare torch names and binds ``"auto"`` itself. Registered when this module is
    imported, with jsonargparse imported for it where it is installed (about 25 ms): a script that imports
    lightning-lrmon before ``lightning.pytorch.cli`` has its specs passed through too.
    """
    module = sys.modules.get("jsonargparse.typing")
    if module is None and importlib.util.find_spec("jsonargparse") is not None:
        module = importlib.import_module("jsonargparse.typing")
    if module is not None:
        module.register_type(
            SchedulerConfig,
            serializer=_unwrap,
            deserializer=SchedulerConfig,
            type_check=lambda value, _t: isinstance(value, SchedulerConfig),
            fail_already_registered=False,
        )


register_with_jsonargparse()

#: What ``scheduler=`` accepts: a callable ``optimizer -> scheduler``, a class_path/init_args dict (also
#: ``{optimizer_index: spec}``), YAML text or a ``.yaml`` path; ``SchedulerConfig`` is how LightningCLI hands
#: any of them over.
SchedulerSpec = Optional[  # noqa: UP045
    Union[SchedulerConfig, Callable[[Optimizer], Union[LRScheduler, ReduceLROnPlateau]], Dict[str, Any], str]
]


class LRMonitor(Callback):
    """Build the configured LR scheduler, log every group's LR at every optimizer step, check the schedule.

    Args:
        scheduler: what to build for the trainer's optimizer(s): ``None`` (build nothing; monitor and check what
            ``configure_optimizers`` returned), a callable ``optimizer -> LRScheduler``, a LightningCLI-style
            ``{"class_path": ..., "init_args": {...}}`` dict or YAML text, or ``{optimizer_index: spec}``. Any
            init arg ``"auto"`` binds to the run's scheduler steps, ``"N%"`` to that share.
        interval: ``"step"`` (default) or ``"epoch"``, as in Lightning's ``lr_scheduler`` dict (for ``scheduler``).
        frequency: step the built scheduler every ``frequency`` intervals (Lightning counts batches for "step").
        expect: the intended shape of the built scheduler; ``None`` infers it from the class.
        on_misconfig: ``"warn"`` (an ``LRScheduleWarning`` per finding, once, rank zero), ``"raise"``
            (``LRScheduleError`` on every rank before the first optimizer step; only schedule problems
            count, tooling notes never do) or ``"ignore"``.
        log_momentum: also log ``<tag>-momentum`` (``betas[0]`` for Adam-style optimizers).
        log_weight_decay: also log ``<tag>-weight_decay``.
        name: tag name for the built scheduler (replaces ``lr-<Optimizer>``), as a scheduler config ``name``.
        monitor: the metric a ``ReduceLROnPlateau`` built from ``scheduler`` watches.
        prog_bar: show the first group's LR of each optimizer in the progress bar.
        log_plan: log the simulated schedule as ``planned/<tag>`` next to the actual series.
        summary: print the fit-start schedule summary (rank zero).
        log_every_n_steps: the logging steps of every logger but LRMonitor's TensorBoard writer (CSV, MLflow,
            W&B, ...): ``(step + 1) % N == 0``, where ``self.log`` writes too. ``None`` (default): the Trainer's
            ``log_every_n_steps``. Those loggers get at least every point ``LearningRateMonitor`` logs, plus the
            run's last step.
        logging_interval: ``LearningRateMonitor``'s argument, with its meaning for those loggers: ``None`` logs at
            the logging steps and at every epoch's start, ``"step"`` at the logging steps only, ``"epoch"`` at
            epoch starts only.
        tensorboard_every_n_steps: LRMonitor's TensorBoard writer logs every N-th optimizer step. ``None``
            (default): every step, unless the run's steps x LR tags exceed 4 million values (then thinned to about
            that many, so a long, wide run's event file stays quick to load). The checks look at every step.

    Examples:
        >>> from lightning_lrmon import LRMonitor
        >>> LRMonitor("LinearLR", interval="batch")  # type: ignore[arg-type]
        Traceback (most recent call last):
        ...
        lightning_lrmon.LRMonitorConfigError: `interval` must be 'step' or 'epoch', got 'batch'.
    """

    #: the Lightning package whose ``Trainer`` runs this class (``lightning_lrmon.pl.LRMonitor`` overrides it)
    _package = "lightning.pytorch"

    def __init__(
        self,
        scheduler: SchedulerSpec = None,
        *,
        interval: Interval = "step",
        frequency: int = 1,
        expect: Optional[Shape] = None,  # noqa: UP045
        on_misconfig: OnMisconfig = "warn",
        log_momentum: bool = False,
        log_weight_decay: bool = False,
        name: Optional[str] = None,  # noqa: UP045
        monitor: Optional[str] = None,  # noqa: UP045
        prog_bar: bool = False,
        log_plan: bool = True,
        summary: bool = True,
        log_every_n_steps: Optional[int] = None,  # noqa: UP045
        logging_interval: Optional[Interval] = None,  # noqa: UP045
        tensorboard_every_n_steps: Optional[int] = None,  # noqa: UP045
    ) -> None:
        options = Options(interval, frequency, expect, on_misconfig, name, monitor)
        self._specs = validate(_unwrap(scheduler), options)
        self.interval, self.frequency, self.expect = interval, frequency, expect
        self.on_misconfig, self.name, self.monitor = on_misconfig, name, monitor
        self.log_momentum, self.log_weight_decay = log_momentum, log_weight_decay
        self.prog_bar, self.log_plan, self.summary = prog_bar, log_plan, summary
        self._options = options
        self._state_key = f"LRMonitor{{'interval': {interval!r}, 'name': {name!r}}}"
        self._built: list[Built] = []
        self._restored: dict[str, Any] | None = None
        self._event_file: str | None = None  # where the last fit's LRs went (TensorBoard)
        self._publish_every = 0
        self._manual = False
        self._calls = 0  # on_before_optimizer_step calls this fit (automatic optimization: one optimizer)
        self._base = 0  # trainer.global_step - self._calls, re-read every 256 calls (every call once they drift)
        self._mask, self._drifted = 0, False  # re-read when not calls & mask
        self._hot: HotPath | None = None  # the ordinary step's path (rebuilt after any other hook or step)
        self._hot_ok = False  # a fit where it may be used (automatic optimization, one optimizer, no prog_bar)
        self.log_every_n_steps = check_every("log_every_n_steps", log_every_n_steps)
        self.tensorboard_every_n_steps = check_every("tensorboard_every_n_steps", tensorboard_every_n_steps)
        check_word("logging_interval", logging_interval, INTERVALS, none_ok=True)
        self.logging_interval = logging_interval
        self._output = Output(
            log_plan, self.log_every_n_steps, logging_interval, self.tensorboard_every_n_steps, self._package
        )
        self._reviews: list[Review] = []
        self.session = Session(on_misconfig, is_zero=True)

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the current (or last) fit: schedule problems and tooling notes."""
        return self.session.findings

    @property
    def reviews(self) -> list[Review]:
        """The fit-start review of every schedule (shape, first/peak/end LR per group, findings)."""
        return self._reviews

    @property
    def event_file(self) -> str | None:
        """The TensorBoard event file the last fit's LRs went to (``None``: no local TensorBoard logger)."""
        return self._event_file

    @property
    def logged(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What the last fit logged, ``{tag: (steps, values)}``: every step up to 65,536 values (steps x tags), then
        thinned by halves (bounded memory), whatever the logger."""
        return self.session.logged()

    @property
    @override
    def state_key(self) -> str:
        return self._state_key  # Lightning reads this at every hook call: keep it a plain attribute read

    @override
    def state_dict(self) -> dict[str, Any]:
        return state_of(self._built)

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._restored = dict(state_dict)

    @override
    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        others = [c for c in trainer.callbacks if isinstance(c, LRMonitor) and c is not self]  # type: ignore[attr-defined]
        if others:
            raise LRMonitorConfigError(
                "`callbacks` holds more than one LRMonitor; each would log every optimizer's LR under the same tags. "
                "Use one LRMonitor: give it a spec per optimizer as scheduler={0: spec0, 1: spec1}."
            )

    @override
    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        run = facts_from_trainer(trainer)
        self._built = build_all(
            self._specs,
            self._options,
            trainer.optimizers,
            trainer.strategy.lr_scheduler_configs,
            run,
            config_type=config_type(self._package),
        )

    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        session = Session(
            self.on_misconfig,
            trainer.is_global_zero,
            log_momentum=self.log_momentum,
            log_weight_decay=self.log_weight_decay,
        )
        self.session = session
        session.log.locate = functools.partial(user_location, pl_module)
        restored, self._restored = self._restored, None
        self._reviews = train_start(session, trainer, pl_module, self._built, restored, self._options, self._output)
        self._event_file = session.tensorboard.writer.path if session.tensorboard is not None else None
        self._publish_every = publish_every(trainer, session)
        self._manual = not getattr(pl_module, "automatic_optimization", True)
        self._calls, self._base = 0, trainer.global_step
        self._mask, self._drifted = 0, False
        read_sparsely(session, trainer, prog_bar=self.prog_bar, manual=self._manual)
        self._hot = None
        self._hot_ok = len(trainer.optimizers) == 1 and not (self._manual or self.prog_bar or self._publish_every)
        if self.summary and trainer.is_global_zero and self._reviews:
            logging.getLogger(f"{self._package}.callbacks.lrmon").info(console_summary(self._reviews))
        decide_raise(session, trainer)

    @override
    def on_before_optimizer_step(self, trainer: Trainer, pl_module: LightningModule, optimizer: Optimizer) -> None:
        # the step self.log and LearningRateMonitor log at, from public attributes: under automatic optimization
        # the optimizer steps taken (trainer.global_step: counted here, re-read every 256 calls, as reading it costs
        # more than the rest of this hook), under manual optimization the batches completed
        n = self._calls
        hot = self._hot
        if hot is not None:
            if n & self._mask and hot.take(optimizer, self._base + n):
                self._calls = n + 1
                return  # an ordinary step: read, held in the plan's band and buffered on one object
            self._drop_hot()
        self._calls = n + 1
        if self._manual:
            step = manual_step(trainer)
        else:
            if not n & self._mask:
                self._resync(trainer.global_step, n)
            step = self._base + n
        session = self.session
        if step < session.next_read:
            return  # sparse reading: nothing logs or checks this step's LRs (the session counts it at its next read)
        values = session.log_step(optimizer, step)
        if values is not None and self.prog_bar:
            tag = session.tracker.tags_of(optimizer)[0]
            pl_module.log(tag, values[0], prog_bar=True, logger=False, on_step=True, on_epoch=False)
        if self._publish_every and (step + 1) % self._publish_every == 0:
            _publish(trainer, session)  # for a callback that monitors an LR tag, at the Trainer's logging steps
        if session.log.wants_raise and trainer.world_size == 1:
            decide_raise(session, trainer)
        if self._hot_ok:
            self._hot = hot_path(session, optimizer)

    def _drop_hot(self) -> None:
        """A hook may read or change what the ordinary step relies on: the count handed back, the next step takes the
        full path."""
        hot, self._hot = self._hot, None
        if hot is not None:
            hot.sync()

    def _resync(self, global_step: int, n: int) -> None:
        """The Trainer's step re-read: read at the first calls, then every 256; every call once it has drifted from
        the count (an ``optimizer_step`` that skips ``optimizer.step()`` on some batches: Lightning counts the batch,
        and steps a per-step scheduler, but this hook does not run)."""
        base = global_step - n
        if n and base != self._base:
            self._drifted, self._mask = True, 0
        elif n >= 3 and not self._drifted:
            self._mask = 255
        self._base = base

    @override
    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._drop_hot()
        self.session.epoch_started()
        recount(self.session, trainer)

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._drop_hot()
        _publish(trainer, self.session)
        epoch_end_checks(self.session, trainer, pl_module, self._package)
        self.session.flush()
        decide_raise(self.session, trainer)

    @override
    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._drop_hot()
        if trainer.state.fn == "fit":
            _publish(trainer, self.session)

    @override
    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self._drop_hot()
        self.session.close()

    @override
    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._drop_hot()
        judge_the_users_stepping(self.session, trainer, final=True)  # a one-epoch run, manual optimization
        self.session.close()

    @override
    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self.session.close()


def _publish(trainer: Trainer, session: Session) -> None:
    """The LRs the last optimizer steps used, as ``trainer.callback_metrics`` (EarlyStopping, ModelCheckpoint)."""
    latest = session.tracker.latest()
    if latest:
        device = trainer.strategy.root_device
        values = torch.tensor(list(latest.values()), dtype=torch.float64, device=device).unbind()
        trainer.callback_metrics.update(zip(latest.keys(), values))
