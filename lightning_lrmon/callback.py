"""``LRMonitor``: the Lightning wiring. Every decision lives in the pure modules; the hooks only connect them.

Example:
    >>> from lightning_lrmon import LRMonitor
    >>> cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    >>> cb.interval, cb.frequency
    ('step', 1)
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import math
import os
import re
import warnings
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Dict, Literal, Optional, Union  # noqa: UP035 - jsonargparse reads these annotations

import numpy as np
from torch.optim import Optimizer
from torch.optim import lr_scheduler as tls
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from lightning_lrmon import runtime
from lightning_lrmon.checks import check_simulation, describe_shape
from lightning_lrmon.events import EventWriter
from lightning_lrmon.exceptions import LRMonitorConfigError, LRScheduleError, LRScheduleWarning
from lightning_lrmon.findings import Finding
from lightning_lrmon.registry import SHAPES, describe
from lightning_lrmon.simulate import simulate
from lightning_lrmon.spec import build_scheduler, has_auto, normalize_spec, resolve_class, split_per_optimizer
from lightning_lrmon.summary import ScheduleReport, format_markdown, format_summary, plan_points
from lightning_lrmon.tags import tag_names

__all__ = ["PLAN_PREFIX", "LRMonitorBase", "SchedulerSpec", "make_callback_class"]

#: Tag prefix of the planned series (``planned/lr-SGD``).
PLAN_PREFIX = "planned/"
_ON_MISCONFIG = ("warn", "raise", "ignore")
#: What ``scheduler=`` accepts, spelled so LightningCLI/jsonargparse parses both a dotted or bare ``class_path``
#: (as a callable) and a spec containing ``"auto"`` (as a plain dict).
SchedulerSpec = Optional[  # noqa: UP045
    Union[Callable[[Optimizer], Union[LRScheduler, ReduceLROnPlateau]], Dict[str, Any]]
]
_LIVE_WRITERS: weakref.WeakSet[EventWriter] = weakref.WeakSet()


@atexit.register
def _close_live_writers() -> None:  # pragma: no cover - runs at interpreter exit
    for writer in list(_LIVE_WRITERS):
        with contextlib.suppress(Exception):
            writer.close()


def _fingerprint(spec: Any) -> str:
    if isinstance(spec, dict):
        return hashlib.sha1(json.dumps(spec, sort_keys=True, default=repr).encode()).hexdigest()[:12]
    return repr(getattr(spec, "func", spec))[:80]


class LRMonitorBase:
    """Framework-independent body of ``LRMonitor`` (mixed into ``lightning.pytorch.Callback`` or
    ``pytorch_lightning.Callback``; ``_pl`` is that package)."""

    _pl: Any = None

    def __init__(
        self,
        scheduler: SchedulerSpec = None,
        *,
        interval: Literal["step", "epoch"] = "step",
        frequency: int = 1,
        expect: str | None = None,
        on_misconfig: Literal["warn", "raise", "ignore"] = "warn",
        log_momentum: bool = False,
        log_weight_decay: bool = False,
        name: str | None = None,
        monitor: str | None = None,
        prog_bar: bool = False,
        log_plan: bool = True,
        summary: bool = True,
    ) -> None:
        if interval not in ("step", "epoch"):
            raise LRMonitorConfigError(f"`interval` must be 'step' or 'epoch', got {interval!r}.")
        if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
            raise LRMonitorConfigError(
                f"`frequency` must be a positive int (step the scheduler every N intervals), got {frequency!r}."
            )
        if expect is not None and expect not in SHAPES:
            raise LRMonitorConfigError(f"`expect` must be one of {list(SHAPES)} or None (infer), got {expect!r}.")
        if on_misconfig not in _ON_MISCONFIG:
            raise LRMonitorConfigError(f"`on_misconfig` must be one of {list(_ON_MISCONFIG)}, got {on_misconfig!r}.")
        self.interval = interval
        self.frequency = frequency
        self.expect = expect
        self.on_misconfig = on_misconfig
        self.log_momentum = log_momentum
        self.log_weight_decay = log_weight_decay
        self.name = name
        self.monitor = monitor
        self.prog_bar = prog_bar
        self.log_plan = log_plan
        self.summary = summary
        self._state_key = f"LRMonitor{{'interval': {interval!r}, 'name': {name!r}}}"
        self._specs: dict[int, Any] = {}
        self._where: dict[int, str] = {}  # how messages name each spec's argument
        if scheduler is not None:
            per_optimizer = isinstance(scheduler, Mapping) and "class_path" not in scheduler
            for idx, spec in split_per_optimizer(scheduler).items():
                where = f"scheduler[{idx}]" if per_optimizer else "scheduler"
                norm = normalize_spec(spec, where=where)
                if isinstance(norm, dict):
                    resolve_class(norm["class_path"], where=where)
                self._specs[idx] = norm
                self._where[idx] = where
        self._reset_run_state()
        self._restored: dict[str, Any] | None = None

    # ------------------------------------------------------------------------------------------------------------
    # state

    def _reset_run_state(self) -> None:
        self.findings: list[Finding] = []
        self.reports: list[ScheduleReport] = []
        self._configs: list[Any] = []  # LRSchedulerConfigs we appended
        self._bound_steps: dict[int, int | None] = {}
        self._writer: EventWriter | None = None
        self._other_loggers: list[Any] = []
        self._tags: dict[int, list[str]] = {}
        self._hot: dict[int, tuple[Any, list[str], list[str]]] = {}
        self._warned: set[str] = set()
        self._runtime_done: set[str] = set()
        self._sched_start: dict[int, tuple[Any, int]] = {}  # scheduler id -> (config, position at train start)
        self._opt_steps: dict[int, int] = {}
        self._log_failed = False

    @property
    def state_key(self) -> str:
        # Lightning reads this at every hook call (profiler names): keep it a plain attribute read
        return self._state_key

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "specs": {str(k): _fingerprint(v) for k, v in self._specs.items()},
            "bound_steps": {str(k): v for k, v in self._bound_steps.items()},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._restored = dict(state_dict)

    # ------------------------------------------------------------------------------------------------------------
    # helpers

    def _warn(self, finding_or_text: Finding | str, trainer: Any) -> None:
        text = str(finding_or_text)
        if text in self._warned:
            return
        self._warned.add(text)
        if trainer.is_global_zero:
            warnings.warn(text, LRScheduleWarning, stacklevel=3)

    def _run_steps(self, trainer: Any, interval: str, frequency: int) -> int | None:
        """Scheduler steps in the whole run for a config with this interval/frequency (None = endless)."""
        if interval == "epoch":
            max_epochs = trainer.max_epochs
            if max_epochs is None or max_epochs < 0:
                return None  # epochs are only bounded by max_steps: the number of epoch steps is unknown
            return int(max_epochs) // frequency
        est = trainer.estimated_stepping_batches
        if not math.isfinite(est) or est < 0:
            return None
        return int(est) // frequency

    def _steps_per_epoch(self, trainer: Any) -> int | None:
        try:
            nb = trainer.num_training_batches
        except Exception:
            return None
        if not isinstance(nb, int) and not (isinstance(nb, float) and math.isfinite(nb)):
            return None
        return max(1, int(math.ceil(nb / max(1, trainer.accumulate_grad_batches))))

    def _logger_classes(self) -> tuple[type, ...]:
        classes = []
        for mod in ("lightning.pytorch.loggers", "pytorch_lightning.loggers"):
            try:
                module = __import__(mod, fromlist=["TensorBoardLogger"])
                classes.append(module.TensorBoardLogger)
            except Exception:
                continue
        return tuple(classes)

    # ------------------------------------------------------------------------------------------------------------
    # fit start: build and attach

    def _on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        self._reset_run_state()
        if not self._specs:
            return
        optimizers = trainer.optimizers
        configs = trainer.strategy.lr_scheduler_configs
        for idx, spec in sorted(self._specs.items()):
            where = self._where[idx]
            if idx >= len(optimizers) or idx < 0:
                raise LRMonitorConfigError(
                    f"`{where}` targets optimizer index {idx}, but configure_optimizers returned "
                    f"{len(optimizers)} optimizer(s). Use indices 0..{len(optimizers) - 1}."
                )
            optimizer = optimizers[idx]
            for config in configs:
                if config.scheduler.optimizer is optimizer:
                    raise LRMonitorConfigError(
                        f"`{where}`: configure_optimizers already attached {describe(config.scheduler)} to optimizer "
                        f"{idx} ({type(optimizer).__name__}); LRMonitor would add "
                        f"{spec.get('class_path') if isinstance(spec, dict) else getattr(spec, 'func', spec)!r} on "
                        "top, and two schedulers on one optimizer fight over its LR. Remove the scheduler from "
                        "configure_optimizers (LRMonitor monitors and checks it when scheduler=None), or drop "
                        "LRMonitor's scheduler."
                    )
            steps = self._run_steps(trainer, self.interval, self.frequency)
            if isinstance(spec, dict) and has_auto(spec) and steps is None:
                raise LRMonitorConfigError(
                    f"`{where}` uses 'auto' or 'N%', which binds to the run's length, but this run is endless "
                    f"(max_steps={trainer.max_steps}, max_epochs={trainer.max_epochs}). Set Trainer(max_steps=...) "
                    "or Trainer(max_epochs=...), or give the horizon as a number."
                )
            configured = [float(g["lr"]) for g in optimizer.param_groups]
            sched = build_scheduler(spec, optimizer, total_steps=steps, where=where)
            sched._lrmon_configured_lrs = configured
            config = self._make_config(sched)
            configs.append(config)
            self._configs.append(config)
            self._bound_steps[idx] = steps

    def _make_config(self, sched: Any) -> Any:
        from importlib import import_module

        types_mod = import_module(f"{self._pl.__name__}.utilities.types")
        plateau = isinstance(sched, tls.ReduceLROnPlateau)
        if plateau and not self.monitor:
            raise LRMonitorConfigError(
                "`scheduler` is ReduceLROnPlateau, which needs the metric to watch: pass LRMonitor(monitor='val_loss')"
                " (a key you self.log)."
            )
        return types_mod.LRSchedulerConfig(
            scheduler=sched,
            name=self.name,
            interval=self.interval,
            frequency=self.frequency,
            reduce_on_plateau=plateau,
            monitor=self.monitor,
        )

    # ------------------------------------------------------------------------------------------------------------
    # train start: names, writers, simulation and checks (after a resume's restore)

    def _on_train_start(self, trainer: Any, pl_module: Any) -> None:
        optimizers = [getattr(o, "optimizer", o) for o in trainer.optimizers]
        configs = list(trainer.lr_scheduler_configs)
        names = tag_names(optimizers, configs)
        for opt, opt_names in zip(optimizers, names):
            self._tags[id(opt)] = opt_names
            self._opt_steps[id(opt)] = 0
        self._setup_loggers(trainer)
        self._check_resume(trainer)
        for config in configs:
            self._sched_start[id(config.scheduler)] = (config, self._sched_pos(config.scheduler))
        self._run_checks(trainer, optimizers, configs)

    def _extra_names(self, names: list[str]) -> list[str]:
        out = []
        if self.log_momentum:
            out += [f"{n}-momentum" for n in names]
        if self.log_weight_decay:
            out += [f"{n}-weight_decay" for n in names]
        return out

    def _setup_loggers(self, trainer: Any) -> None:
        tb_classes = self._logger_classes()
        loggers = list(trainer.loggers)
        if not loggers:
            self._warn(  # once: _warn keeps what it said
                "no-logger: the Trainer has no logger, so LRMonitor logs nothing; the schedule is still "
                "checked. Fix: pass Trainer(logger=TensorBoardLogger(...)) to see the LR per step.",
                trainer,
            )
            return
        for logger in loggers:
            if isinstance(logger, tb_classes) and self._writer is None:
                if trainer.is_global_zero:
                    log_dir = str(logger.log_dir)  # type: ignore[attr-defined]
                    if trainer.global_step > 0:
                        _truncate_own_events(log_dir, trainer.global_step)
                    self._writer = EventWriter(log_dir)
                    _LIVE_WRITERS.add(self._writer)
            else:
                self._other_loggers.append(logger)

    def _sched_pos(self, sched: Any) -> int:
        # last_epoch counts .step() calls for every torch scheduler (SequentialLR does not bump _step_count)
        pos = getattr(sched, "last_epoch", None)
        return pos if isinstance(pos, int) else int(getattr(sched, "_step_count", 0))

    def _check_resume(self, trainer: Any) -> None:
        restored = self._restored
        self._restored = None
        if trainer.global_step == 0:
            return
        self._check_positions(trainer)
        if restored is None:
            return
        now_specs = {str(k): _fingerprint(v) for k, v in self._specs.items()}
        self._emit_runtime(
            trainer, runtime.spec_changed(restored.get("specs", now_specs), now_specs, trainer.global_step)
        )
        before = restored.get("bound_steps", {})
        for key, steps in self._bound_steps.items():
            spec = self._specs.get(key)
            uses_auto = isinstance(spec, dict) and has_auto(spec)
            self._emit_runtime(
                trainer,
                runtime.run_length_changed(before.get(str(key)), steps, uses_auto=uses_auto, step=trainer.global_step),
            )

    def _check_positions(self, trainer: Any) -> None:
        """After a resume, each scheduler LRMonitor built must be where the run is (not restarted at 0)."""
        for config in self._configs:
            pos = getattr(config.scheduler, "last_epoch", None)
            self._emit_runtime(
                trainer,
                runtime.scheduler_out_of_place(
                    describe(config.scheduler),
                    position=pos if isinstance(pos, int) else None,
                    expected=_expected_sched_steps(trainer, config),
                    step=trainer.global_step,
                ),
            )

    def _run_checks(self, trainer: Any, optimizers: list[Any], configs: list[Any]) -> None:
        spe = self._steps_per_epoch(trainer)
        reports: list[ScheduleReport] = []
        for config in configs:
            sched = config.scheduler
            opt = sched.optimizer
            tags = self._tags.get(id(opt)) or [f"lr-{type(opt).__name__}"]
            label = tags[0].split("/")[0] if len(tags) > 1 or "/" not in tags[0] else tags[0].rsplit("/", 1)[0]
            total = self._run_steps(trainer, config.interval, config.frequency)
            if total is None:
                if trainer.is_global_zero:
                    logging.getLogger(f"{self._pl.__name__}.callbacks.lrmon").info(
                        "LRMonitor: %s on %s not checked: the run's length in %ss is unknown (set max_steps or "
                        "max_epochs).",
                        describe(sched),
                        label,
                        config.interval,
                    )
                continue
            done = _expected_sched_steps(trainer, config) or 0
            remaining = max(total - done, 0)
            ours = config in self._configs
            expect = self.expect if ours else None
            configured = getattr(sched, "_lrmon_configured_lrs", None)
            group_names = [f"group '{t.rsplit('/', 1)[-1]}'" if len(tags) > 1 else "" for t in tags]
            try:
                sim = simulate(sched, remaining)
                findings = check_simulation(
                    sim,
                    sched,
                    remaining,
                    expect=expect,
                    configured_lrs=configured,
                    optimizer_label=label,
                    group_names=group_names[: sim.lrs.shape[1]],
                    steps_per_epoch=spe if config.interval == "step" else None,
                    step_offset=trainer.global_step if config.interval == "step" and config.frequency == 1 else 0,
                )
                shape = describe_shape(sched, sim.lrs[: sim.valid_steps], expect)
            except LRMonitorConfigError:
                raise
            except Exception as err:  # the checker must never be what kills a training run
                self._warn(
                    f"check-failed: lightning-lrmon could not simulate {describe(sched)} on {label} "
                    f"({type(err).__name__}: {err}); training goes on unchecked. Fix: please report this with the "
                    "scheduler's arguments.",
                    trainer,
                )
                continue
            reports.append(
                ScheduleReport(
                    label,
                    describe(sched),
                    shape,
                    config.interval,
                    remaining,
                    sim.lrs,
                    [t for t in tags][: sim.lrs.shape[1]],
                    findings,
                )
            )
            self.findings.extend(findings)
            steps_per_sched = config.frequency * (1 if config.interval == "step" else (spe or 0))
            if self._writer is not None and self.log_plan and sim.valid_steps and steps_per_sched:
                try:
                    self._log_plan(trainer, steps_per_sched, tags, sim.lrs[: sim.valid_steps])
                except OSError as err:
                    self._writer_failed(err)
        self.reports = reports
        if self.summary and trainer.is_global_zero and reports:
            logging.getLogger(f"{self._pl.__name__}.callbacks.lrmon").info(format_summary(reports))
        if self._writer is not None and reports:
            try:
                self._writer.add_text("lrmon/summary", format_markdown(reports), step=trainer.global_step)
                self._writer.add_layout(_layout(self._tags, optimizers, self.log_plan))
            except OSError as err:
                self._writer_failed(err)
        if self.findings and self.on_misconfig == "raise":
            text = "\n".join(str(f) for f in self.findings)
            raise LRScheduleError(f"LRMonitor found {len(self.findings)} schedule problem(s):\n{text}", self.findings)
        if self.on_misconfig == "warn":
            for f in self.findings:
                self._warn(f, trainer)

    def _log_plan(self, trainer: Any, steps_per_sched: int, tags: list[str], lrs: np.ndarray) -> None:
        """Log the simulated schedule as ``planned/<tag>``: scheduler step ``k`` starts at optimizer step
        ``start + k * steps_per_sched`` (an epoch interval holds each value for a whole epoch: both ends are logged).
        """
        assert self._writer is not None
        start = trainer.global_step
        plan_tags = [PLAN_PREFIX + t for t in tags[: lrs.shape[1]]]
        for k in plan_points(lrs).tolist():
            values = [float(v) for v in lrs[k]]
            self._writer.add_scalars(start + k * steps_per_sched, plan_tags, values)
            if steps_per_sched > 1:
                self._writer.add_scalars(start + (k + 1) * steps_per_sched - 1, plan_tags, values)
        self._writer.flush()

    # ------------------------------------------------------------------------------------------------------------
    # per step

    def _on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        entry = self._hot.get(id(optimizer))
        if entry is None:
            entry = self._hot_entry(optimizer)
            if entry is None:
                return
        opt, tags, all_tags = entry
        groups = opt.param_groups
        values = [float(g["lr"]) for g in groups] if all_tags is tags else self._values_with_extras(opt, groups)
        step = trainer.fit_loop.epoch_loop._batches_that_stepped
        writer = self._writer
        if writer is not None:
            try:
                writer.add_scalars(step, all_tags, values)
            except OSError as err:  # a full or vanished disk must not kill training
                self._writer_failed(err)
        if self._other_loggers:
            self._log_other(step, all_tags, values)
        if self.prog_bar:
            pl_module.log(tags[0], values[0], prog_bar=True, logger=False, on_step=True, on_epoch=False)
        if not (min(values) >= 0 and max(values) < math.inf):  # NaN fails both comparisons
            self._runtime_lr_invalid(trainer, tags, values, step)
        n = self._opt_steps[id(opt)] = self._opt_steps[id(opt)] + 1
        if n in (2, 3, 10) or not n & 255:
            self._check_double_step(trainer, opt, n)

    def _hot_entry(self, optimizer: Any) -> tuple[Any, list[str], list[str]] | None:
        opt = getattr(optimizer, "optimizer", optimizer)
        tags = self._tags.get(id(opt))
        if tags is None:
            return None
        extra = self._extra_names(tags)
        entry = (opt, tags, tags + extra if extra else tags)
        self._hot[id(optimizer)] = entry
        return entry

    def _values_with_extras(self, opt: Any, groups: list[dict[str, Any]]) -> list[float]:
        values = [float(g["lr"]) for g in groups]
        use_betas = "betas" in opt.defaults
        if self.log_momentum:
            values += [float(g["betas"][0] if use_betas else g.get("momentum", 0)) for g in groups]
        if self.log_weight_decay:
            values += [float(g.get("weight_decay", 0)) for g in groups]
        return values

    def _log_other(self, step: int, tags: list[str], values: list[float]) -> None:
        for logger in self._other_loggers:
            try:
                logger.log_metrics(dict(zip(tags, values)), step=step)
            except Exception as err:
                if not self._log_failed:
                    self._log_failed = True
                    warnings.warn(
                        f"logger-failed: {type(logger).__name__}.log_metrics raised {err!r}; LRMonitor "
                        "keeps training and stops logging to it.",
                        LRScheduleWarning,
                        stacklevel=2,
                    )
                self._other_loggers = [lg for lg in self._other_loggers if lg is not logger]

    def _runtime_lr_invalid(self, trainer: Any, tags: list[str], values: list[float], step: int) -> None:
        self._emit_runtime(trainer, runtime.lr_invalid_at_runtime(tags, values, step))

    def _check_double_step(self, trainer: Any, opt: Any, n_opt_steps: int) -> None:
        for config, pos0 in self._sched_start.values():
            sched = config.scheduler
            if sched.optimizer is not opt or config.interval != "step" or "double-step" in self._runtime_done:
                continue
            finding = runtime.double_step(
                describe(sched),
                moved=self._sched_pos(sched) - pos0,
                n_opt_steps=n_opt_steps,
                frequency=config.frequency,
                step=trainer.global_step,
            )
            self._emit_runtime(trainer, finding)

    def _emit_runtime(self, trainer: Any, finding: Finding | None) -> None:
        if finding is None or finding.code in self._runtime_done:
            return
        self._runtime_done.add(finding.code)
        self.findings.append(finding)
        if self.on_misconfig == "raise":
            raise LRScheduleError(str(finding), [finding])
        if self.on_misconfig == "warn":
            self._warn(finding, trainer)
        if self._writer is not None:
            try:
                self._writer.add_text(
                    f"lrmon/{finding.code}",
                    f"**{finding.code}**: {finding.message} *Fix:* {finding.hint}",
                    step=finding.step or 0,
                )
            except OSError as err:
                self._writer_failed(err)

    def _on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        for config in trainer.lr_scheduler_configs:
            if not config.reduce_on_plateau or "plateau-monitor-missing" in self._runtime_done:
                continue
            if config.monitor is None or config.monitor in trainer.callback_metrics:
                continue
            if not self._validation_ran_this_epoch(trainer):
                continue  # a validation metric may still come in a later epoch
            finding = runtime.plateau_monitor_missing(
                config.monitor,
                epoch=trainer.current_epoch,
                available=list(trainer.callback_metrics),
                step=trainer.global_step,
            )
            self._emit_runtime(trainer, finding)

    def _validation_ran_this_epoch(self, trainer: Any) -> bool:
        """False while a validation loop exists that has not run in this epoch yet."""
        from importlib import import_module

        is_overridden = import_module(f"{self._pl.__name__}.utilities.model_helpers").is_overridden
        has_val = is_overridden("validation_step", trainer.lightning_module) and trainer.limit_val_batches != 0
        if not has_val:
            return True  # no validation at all: every metric there will be is logged by now
        every = trainer.check_val_every_n_epoch
        return every is None or (trainer.current_epoch + 1) % every == 0

    def _writer_failed(self, err: OSError) -> None:
        path = self._writer.path if self._writer is not None else "?"
        if self._writer is not None:
            self._writer.abandon()
        self._writer = None
        if not self._log_failed:
            self._log_failed = True
            warnings.warn(
                f"logger-failed: writing TensorBoard events to {path} failed ({err}); LRMonitor keeps training, "
                "stops writing events, and still checks the schedule. Fix: free disk space or point the logger's "
                "save_dir somewhere writable.",
                LRScheduleWarning,
                stacklevel=3,
            )

    def _flush(self) -> None:
        if self._writer is not None:
            try:
                self._writer.flush()
            except OSError as err:
                self._writer_failed(err)

    def _close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError as err:
                self._writer_failed(err)
            self._writer = None


def _expected_sched_steps(trainer: Any, config: Any) -> int | None:
    """How many times Lightning has stepped ``config``'s scheduler at the current point of the run."""
    freq = max(1, int(config.frequency))
    if config.interval == "epoch":
        return int(trainer.current_epoch) // freq
    if freq == 1:
        return int(trainer.global_step)
    return None


def _layout(tags: dict[int, list[str]], optimizers: list[Any], with_plan: bool) -> Any:
    from tensorboard.plugins.custom_scalar import layout_pb2

    charts = []
    for opt in optimizers:
        names = tags.get(id(opt), [])
        if not names:
            continue
        base = names[0].split("/")[0] if len(names) > 1 else names[0]
        series = list(names) + ([PLAN_PREFIX + n for n in names] if with_plan else [])
        charts.append(
            layout_pb2.Chart(
                title=f"{base}: all param groups" + (" (actual vs planned)" if with_plan else ""),
                multiline=layout_pb2.MultilineChartContent(tag=[f"^{re.escape(s)}$" for s in series]),
            )
        )
    return layout_pb2.Layout(category=[layout_pb2.Category(title="learning rate (lightning-lrmon)", chart=charts)])


def _truncate_own_events(log_dir: str, from_step: int) -> None:
    """Drop this package's events at ``step >= from_step`` from earlier files (a resume re-logs them)."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto import event_pb2

    from lightning_lrmon.events import _record

    if not os.path.isdir(log_dir):
        return
    for fname in sorted(os.listdir(log_dir)):
        if not (fname.startswith("events.out.tfevents.") and fname.endswith(".lrmon")):
            continue
        path = os.path.join(log_dir, fname)
        kept = []
        changed = False
        for raw in RawEventFileLoader(path).Load():
            event = event_pb2.Event.FromString(raw)
            if event.HasField("summary") and event.step >= from_step:
                changed = True
                continue
            kept.append(raw)
        if changed:
            tmp = path + ".tmp"
            with open(tmp, "wb") as fh:
                fh.write(b"".join(_record(r) for r in kept))
            os.replace(tmp, path)


def make_callback_class(pl_pkg: Any) -> type:
    """The ``LRMonitor`` class for one Lightning package (``lightning.pytorch`` or ``pytorch_lightning``).

    A callback must subclass the ``Callback`` of the package whose ``Trainer`` runs it, so each package gets
    its own class around the same body.
    """
    from typing_extensions import override

    base = pl_pkg.Callback

    class LRMonitor(LRMonitorBase, base):  # type: ignore[valid-type,misc]
        _pl = pl_pkg

        @override
        def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
            self._on_fit_start(trainer, pl_module)

        @override
        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            self._on_train_start(trainer, pl_module)

        @override
        def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
            self._on_before_optimizer_step(trainer, pl_module, optimizer)

        @override
        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            self._on_train_epoch_end(trainer, pl_module)
            self._flush()

        @override
        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            self._close()

        @override
        def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
            self._close()

        @override
        def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
            self._close()

    LRMonitor.__module__ = "lightning_lrmon"
    LRMonitor.__qualname__ = "LRMonitor"
    LRMonitor.__doc__ = _LRMONITOR_DOC
    return LRMonitor


_LRMONITOR_DOC = """Build the configured LR scheduler, log every group's LR at every optimizer step, check the schedule.

    Args:
        scheduler: what to build for the trainer's optimizer(s): ``None`` (build nothing; monitor and check what
            ``configure_optimizers`` returned), a callable ``optimizer -> LRScheduler``, a LightningCLI-style
            ``{"class_path": ..., "init_args": {...}}`` dict or YAML text, or ``{optimizer_index: spec}``. Any
            init arg ``"auto"`` binds to the run's scheduler steps, ``"N%"`` to that share.
        interval: ``"step"`` (default) or ``"epoch"``, as in Lightning's ``lr_scheduler`` dict.
        frequency: step the scheduler every ``frequency`` intervals.
        expect: the intended shape (``"decay"``, ``"warmup"``, ``"warmup_decay"``, ``"constant"``, ``"cyclic"``);
            ``None`` infers it from the scheduler class.
        on_misconfig: ``"warn"`` (an :class:`LRScheduleWarning` per finding, once, rank zero), ``"raise"``
            (:class:`LRScheduleError` before the first optimizer step) or ``"ignore"``.
        log_momentum: also log ``<tag>-momentum`` (``betas[0]`` for Adam-style optimizers).
        log_weight_decay: also log ``<tag>-weight_decay``.
        name: tag name for the built scheduler (replaces ``lr-<Optimizer>``), as a scheduler config ``name``.
        monitor: the metric a ``ReduceLROnPlateau`` built from ``scheduler`` watches.
        prog_bar: show the first group's LR of each optimizer in the progress bar.
        log_plan: log the simulated schedule as ``planned/<tag>`` next to the actual series.
        summary: print the fit-start schedule summary (rank zero).

    Example:
        >>> from lightning_lrmon import LRMonitor
        >>> LRMonitor("LinearLR", interval="batch")
        Traceback (most recent call last):
        ...
        lightning_lrmon.exceptions.LRMonitorConfigError: `interval` must be 'step' or 'epoch', got 'batch'.
    """
