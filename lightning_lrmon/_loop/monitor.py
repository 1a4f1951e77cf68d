"""``LoopMonitor``: the callback's review, sinks and live checks for a loop of one's own (Fabric, plain PyTorch).

It registers a step pre-hook on the optimizer, so every ``optimizer.step()`` logs the LRs that step uses (also when
the loop writes ``param_group["lr"]`` itself just before), and reviews the whole schedule at the first step (after a
``load_state_dict``, from where the run resumes).

Examples:
    >>> import torch, warnings
    >>> from torch.optim.lr_scheduler import LinearLR
    >>> from lightning_lrmon import LoopMonitor
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    >>> sched = LinearLR(opt, start_factor=0.5, total_iters=100)
    >>> monitor = LoopMonitor(opt, sched, total_steps=100, on_misconfig="ignore")  # logger=: where the LRs go
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    >>> [f.code for f in monitor.findings], monitor.steps
    (['no-logger', 'decay-increases'], 3)
    >>> monitor.close()
"""

from __future__ import annotations

import atexit
import dataclasses
import weakref
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from lightning_lrmon._exceptions import LRMonitorConfigError, LRScheduleError
from lightning_lrmon._findings import Finding, tooling
from lightning_lrmon._fit.live import SteppingCheck
from lightning_lrmon._fit.options import Options, Spec, check_every, validate
from lightning_lrmon._fit.outputs import tensorboard_every
from lightning_lrmon._fit.position import counts_steps, scheduler_position
from lightning_lrmon._fit.reviews import check_failed
from lightning_lrmon._fit.runtime import scheduler_out_of_place
from lightning_lrmon._fit.session import Session
from lightning_lrmon._fit.tags import optimizer_label
from lightning_lrmon._fit.voice import LOOP
from lightning_lrmon._loop.checks import FunctionCheck, no_logger, not_judged
from lightning_lrmon._loop.outputs import loggers_of, loop_sinks
from lightning_lrmon._loop.process import any_rank, caller, closer, ranks
from lightning_lrmon._loop.schedule import LoopConfig, LRFunction, given, unwrap
from lightning_lrmon._review.pipeline import Review, review
from lightning_lrmon._review.render import markdown_summary
from lightning_lrmon._review.subject import Subject
from lightning_lrmon._schedulers import describe
from lightning_lrmon._schedulers.lambdas import function_scheduler
from lightning_lrmon._spec.bind import has_auto
from lightning_lrmon._spec.build import build_scheduler
from lightning_lrmon._stepping.runlength import RunFacts
from lightning_lrmon._vocab import OnMisconfig, Shape

__all__ = ["LoopMonitor"]

#: optimizer-step counts at which ranks vote on raising (the session's check counts; then every 1024 steps)
_VOTE_AT = frozenset((1, 2, 3, 10))


def _is_scheduler(value: Any) -> bool:
    return not isinstance(value, (type, dict, str)) and callable(getattr(value, "step", None))


def _is_plateau(scheduler: Any) -> bool:
    return isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)


class LoopMonitor:
    """Review a loop's LR schedule before its first step, then log every param group's LR at every optimizer step.

    Args:
        optimizer: the optimizer (as ``fabric.setup`` returns it, or a torch optimizer).
        scheduler: a scheduler on ``optimizer`` that the loop steps once per optimizer step, or a spec LoopMonitor
            builds (``monitor.scheduler``): a callable ``optimizer -> scheduler``, a ``class_path``/``init_args``
            dict or YAML, where ``"auto"`` / ``"N%"`` bind to ``total_steps``.
        total_steps: the optimizer steps the run takes (``None``: logged, not reviewed).
        lr_fn: instead of a scheduler, the function the loop computes each step's LR with, ``f(step) -> lr`` (or one
            per param group); the loop writes it into ``param_groups`` itself.
        logger: where the LRs go: ``fabric.loggers``, a Lightning or Fabric logger, a torch ``SummaryWriter``, or a
            list of them; with ``fabric`` and no ``logger``, ``fabric.loggers``.
        fabric: the run's ``Fabric``: rank zero writes and warns, and all ranks decide a raise together.
        expect: the intended shape (``"decay"``, ``"warmup_decay"``, ...); ``None`` infers it from the class.
        on_misconfig: ``"warn"``, ``"raise"`` (``LRScheduleError`` at the first step) or ``"ignore"``.
        name: the tag instead of ``lr-<Optimizer>``.
        log_every_n_steps: loggers other than TensorBoard (CSV, MLflow, ...) get every N-th step and the last one.
        tensorboard_every_n_steps: lightning-lrmon's TensorBoard writer logs every N-th step (``None``: every step,
            thinned only past 4 million values).
        log_momentum: also log ``<tag>-momentum``; ``log_weight_decay``: also ``<tag>-weight_decay``.
        log_plan: also log the reviewed schedule as ``planned/<tag>`` (TensorBoard).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> LoopMonitor(opt, {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}, total_steps=None)
        Traceback (most recent call last):
        ...
        lightning_lrmon.LRMonitorConfigError: `scheduler` uses 'auto' or 'N%', which binds to the run's length: ...
    """

    def __init__(
        self,
        optimizer: Any,
        scheduler: Any = None,
        *,
        total_steps: int | None,
        lr_fn: LRFunction | None = None,
        logger: Any = None,
        fabric: Any = None,
        expect: Shape | None = None,
        on_misconfig: OnMisconfig = "warn",
        name: str | None = None,
        log_every_n_steps: int = 50,
        tensorboard_every_n_steps: int | None = None,
        log_momentum: bool = False,
        log_weight_decay: bool = False,
        log_plan: bool = True,
    ) -> None:
        self.optimizer = unwrap(optimizer)
        self.total_steps = _check_total(total_steps)
        self.expect, self.on_misconfig, self.name, self.log_plan = expect, on_misconfig, name, log_plan
        self.log_every_n_steps = check_every("log_every_n_steps", log_every_n_steps) or 50
        self.tensorboard_every_n_steps = check_every("tensorboard_every_n_steps", tensorboard_every_n_steps)
        self._fabric = fabric
        self._loggers = loggers_of(fabric.loggers if logger is None and fabric is not None else logger)
        self._location = caller()
        self._pending: list[Finding] = []
        self._spec: Spec | None = None
        self._configured = [float(g["lr"]) for g in self.optimizer.param_groups]
        self.scheduler = self._schedule(scheduler, lr_fn, Options("step", 1, expect, on_misconfig, name, None))
        self._lr_fn = function_scheduler(self.optimizer, lr_fn) if lr_fn is not None else None
        self._fn_name = f"lr_fn {getattr(lr_fn, '__name__', 'lr_fn')}"
        self.session = Session(on_misconfig, True, log_momentum=log_momentum, log_weight_decay=log_weight_decay)
        self._reviews: list[Review] = []
        self._steps, self._started, self._off, self._world = 0, False, False, 1
        self._event_file: str | None = None
        self._config: LoopConfig | None = None
        self._stepping: SteppingCheck | None = None
        self._handle = self.optimizer.register_step_pre_hook(self._before_step)
        self._at_exit = closer(weakref.ref(self))
        atexit.register(self._at_exit)

    # -- the schedule ------------------------------------------------------------------------------------------------

    def _schedule(self, scheduler: Any, lr_fn: Any, options: Options) -> Any:
        if scheduler is not None and lr_fn is not None:
            raise LRMonitorConfigError(
                "LoopMonitor got both `scheduler` and `lr_fn`; pass the one your loop uses to set the LR."
            )
        if scheduler is None or _is_scheduler(scheduler):
            scheduler, found = given(scheduler, self.optimizer)
            self._pending += found
            return scheduler
        specs = validate(scheduler, options)
        if len(specs) != 1 or specs[0].index != 0:
            raise LRMonitorConfigError("`scheduler` takes one spec: a loop monitor watches one optimizer.")
        spec = specs[0]
        if self.total_steps is None and isinstance(spec.spec, dict) and has_auto(spec.spec):
            raise LRMonitorConfigError(
                "`scheduler` uses 'auto' or 'N%', which binds to the run's length: pass total_steps=<the optimizer "
                "steps your loop takes>, or give the horizon as a number."
            )
        self._spec = spec
        return build_scheduler(
            spec.spec, self.optimizer, total_steps=self.total_steps, where="scheduler", normalized=True
        )

    # -- what a user reads -------------------------------------------------------------------------------------------

    @property
    def findings(self) -> list[Finding]:
        """Every finding so far: schedule problems and tooling notes."""
        return self.session.findings

    @property
    def reviews(self) -> list[Review]:
        """The review of the schedule (made at the first step, or by ``start()``)."""
        return self._reviews

    @property
    def steps(self) -> int:
        """Optimizer steps logged so far (restored by ``load_state_dict``)."""
        return self._steps

    @property
    def event_file(self) -> str | None:
        """The TensorBoard event file the LRs go to (``None``: no local TensorBoard logger)."""
        return self._event_file

    @property
    def logged(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What was logged, ``{tag: (steps, values)}``: every step up to 65,536 values, then thinned by halves."""
        return self.session.logged()

    def state_dict(self) -> dict[str, Any]:
        """What ``fabric.save`` keeps: the steps taken and, for a scheduler LoopMonitor built, its state."""
        built = self.scheduler.state_dict() if self._spec is not None else None
        return {"version": 1, "steps": self._steps, "total_steps": self.total_steps, "scheduler": built}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue from ``state_dict`` (before the first step of the resumed run)."""
        self._steps = int(state_dict.get("steps", 0))
        if self._spec is not None and state_dict.get("scheduler") is not None:
            self.scheduler.load_state_dict(state_dict["scheduler"])

    # -- the run -----------------------------------------------------------------------------------------------------

    def start(self) -> list[Review]:
        """Review the schedule now (the first optimizer step does it otherwise); returns the reviews."""
        if not self._started:
            self._started = True
            self._world, is_zero = ranks(self._fabric)
            self.session.log.is_zero = is_zero
            self.session.log.location = self._location
            self._wire(is_zero)
            tb = self.session.tensorboard
            self._event_file = tb.writer.path if tb is not None else None
            self._reviews = self._review()
            write_plan(self.session, self._reviews, self._steps, self.log_plan)
        return self._reviews

    def _wire(self, is_zero: bool) -> None:
        """Tags, sinks (rank zero) and the live check."""
        session, steps = self.session, self._steps
        config = LoopConfig(self.scheduler, self.name) if self.scheduler is not None else None
        named = config or (LoopConfig(SimpleNamespace(optimizer=self.optimizer), self.name) if self.name else None)
        session.tracker.start([self.optimizer], [named] if named else [])
        tags = sum(len(t.all_tags) for t in session.tracker.tracks())
        every = tensorboard_every(self.total_steps, tags, self.tensorboard_every_n_steps)
        sinks = (
            loop_sinks(self._loggers, tensorboard_every=every, every=self.log_every_n_steps, resumed_at=steps)
            if is_zero
            else (None, None)
        )
        stepping: SteppingCheck | None = None
        if (
            config is not None
            and counts_steps(self.scheduler)
            and callable(getattr(self.scheduler, "get_last_lr", None))
        ):
            facts = RunFacts(max_steps=self.total_steps if self.total_steps is not None else -1)
            stepping = SteppingCheck([config], facts, steps, voice=LOOP)
        self._config, self._stepping = config, stepping
        session.attach(*sinks, stepping)
        if not self._loggers:
            session.emit(no_logger())
        for finding in self._pending:
            session.emit(finding)
        if steps and self.scheduler is not None:
            where = scheduler_position(self.scheduler)
            session.emit(
                scheduler_out_of_place(describe(self.scheduler), position=where, expected=steps, step=steps, voice=LOOP)
            )

    def _review(self) -> list[Review]:
        subject_of = self._lr_fn if self._lr_fn is not None else self.scheduler
        if subject_of is None:
            return []
        what = self._fn_name if self._lr_fn is not None else describe(subject_of)
        if self.total_steps is None:
            self.session.emit(not_judged(what))
            return []
        tags = self.session.tracker.tags_of(self.optimizer)
        subject = Subject(
            subject_of,
            max(self.total_steps - self._steps, 0),
            expect=self.expect,
            configured_lrs=self._configured if self._spec is not None else None,
            label=optimizer_label(tags, self.optimizer.param_groups),
            tags=tags,
            step_offset=self._steps,
            auto_ok=self._spec is not None,
        )
        try:
            r = review(subject)
        except LRMonitorConfigError:
            raise
        except Exception as err:  # the checker must never be what kills a training run
            self.session.emit(check_failed(f"{what} on {subject.label}", err, "schedule's"))
            return []
        if self._lr_fn is not None:
            r = _named_as_lr_fn(r, describe(subject_of), self._fn_name)
        for finding in r.findings:
            self.session.emit(finding)
        self._follow(r)
        return [r]

    def _follow(self, r: Review) -> None:
        """The live check holds the run against the reviewed plan from now on."""
        if self._lr_fn is not None:
            self.session.watch(FunctionCheck(r.plan_rows, self._steps))
        elif self._stepping is not None:
            self.session.follow({id(self._config): r.plan_rows})

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        """The optimizer's step pre-hook: review at the first step, then log the LRs this step uses."""
        if self._off:
            return
        try:
            if not self._started:
                self.start()
            step = self._steps
            self._steps = step + 1
            self.session.log_step(self.optimizer, step)
        except (LRMonitorConfigError, Warning):  # a warning the user's filters turned into an error stays theirs
            raise
        except Exception as err:  # never crash the run: say it once and step aside
            self._step_aside(err)
            return
        if self.on_misconfig == "raise":
            self._decide_raise()

    def _decide_raise(self) -> None:
        """Every rank raises, or none: ranks vote at the steps they all check at."""
        log, n = self.session.log, self._steps
        vote = None
        if self._world > 1:
            if not (n in _VOTE_AT or n % 1024 == 0):
                return
            vote = any_rank(self._fabric, log.wants_raise)
        if log.raise_now(vote):
            problems = log.schedule_problems()
            text = "\n".join(str(f) for f in problems) or "another rank found schedule problems (see its message)."
            raise LRScheduleError(f"LoopMonitor found {len(problems)} schedule problem(s):\n{text}", problems)

    def _step_aside(self, err: Exception) -> None:
        self._off = True
        self.session.emit(
            tooling(
                "check-failed",
                f"LoopMonitor raised {type(err).__name__}: {err} while logging a step; training goes on, and it stops "
                "logging.",
                "please report this to lightning-lrmon with the optimizer and scheduler you use.",
            )
        )
        self.close()

    def close(self) -> None:
        """Write the last step to every logger and close the TensorBoard file (also done at exit)."""
        self._handle.remove()
        atexit.unregister(self._at_exit)
        self.session.close()

    def __enter__(self) -> LoopMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_plan(session: Session, reviews: list[Review], step: int, log_plan: bool) -> None:
    """The planned series, the summary and the chart layout to the TensorBoard writer (when there is one)."""
    if session.tensorboard is None or not reviews:
        return
    if log_plan:
        for r in reviews:
            session.write_series(r.plan, [g.tag for g in r.groups])
    session.write_text("lrmon/summary", markdown_summary(reviews), step)
    session.write_layout(session.tracker.charts(), log_plan)


def _named_as_lr_fn(r: Review, described: str, name: str) -> Review:
    """The review of an LR function in the user's words: ``lr_fn get_lr``, not the LambdaLR that simulates it."""
    found = [dataclasses.replace(f, message=f.message.replace(described, name)) for f in r.findings]
    return dataclasses.replace(r, scheduler=name, findings=found)


def _check_total(total_steps: Any) -> int | None:
    if total_steps is None:
        return None
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 0:
        raise LRMonitorConfigError(
            f"`total_steps` must be the optimizer steps the loop takes (an int >= 0) or None, got {total_steps!r}."
        )
    return total_steps
