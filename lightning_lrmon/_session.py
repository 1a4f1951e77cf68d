"""The state of one ``fit`` as LRMonitor sees it, with no Lightning in it: findings, sinks, runtime bookkeeping.

The callback creates a :class:`Session` at train start and forwards numbers to it. Everything here is guarded so
that a failing logger, disk or check never reaches the training loop: the session says so once and steps aside.

Example:
    >>> import torch
    >>> from lightning_lrmon._findings import Finding
    >>> sgd = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = Session(on_misconfig="ignore", is_zero=True)
    >>> s.tracker.start([sgd], [])
    >>> s.log_step(sgd, 0)
    [0.1]
    >>> s.emit(Finding("lr-jump", "warning", "m")); [f.code for f in s.findings], s.wants_raise
    (['lr-jump'], False)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lightning_lrmon._event_files import PLAN_PREFIX, layout_for
from lightning_lrmon._events import EventWriter
from lightning_lrmon._exceptions import LRScheduleWarning
from lightning_lrmon._findings import Finding, tooling
from lightning_lrmon._runtime import lr_invalid_at_runtime
from lightning_lrmon._track import LRTracker

if TYPE_CHECKING:
    from lightning_lrmon._review import Plan

__all__ = ["Built", "Session"]

#: optimizer-step counts at which the stepping checks run (then every 1024 steps)
_CHECK_AT = frozenset((2, 3, 10))
_INF = math.inf


@dataclass
class Built:
    """A scheduler LRMonitor built: what it came from and what it was bound to (kept here, not on torch objects)."""

    index: int
    where: str
    spec: Any
    identity: str
    steps: int | None
    configured_lrs: list[float]
    config: Any = None


@dataclass
class Session:
    """One fit's findings and sinks.

    Attributes:
        on_misconfig: ``"warn"``, ``"raise"`` or ``"ignore"``.
        is_zero: this process is rank zero (only it warns and writes).
        findings: everything found, in order (schedule problems and tooling notes).
    """

    on_misconfig: str
    is_zero: bool
    log_momentum: bool = False
    log_weight_decay: bool = False
    findings: list[Finding] = field(default_factory=list)
    writer: EventWriter | None = None
    other_loggers: list[Any] = field(default_factory=list)
    writer_every: int = 1  # log to the event writer at steps divisible by this
    others_every: int = 1  # ... and to the other loggers (they pay per call)
    stepping_check: Callable[[Any, int], list[Finding | None]] | None = None
    #: set while the TensorBoard logger's key prefix is unknown: writes the first logged step through the logger
    #: and learns it; until then, event writes wait in ``_deferred``
    first_write: Callable[[int, list[str], list[float]], None] | None = None
    wants_raise: bool = False
    _said: set[str] = field(default_factory=set)
    _deferred: list[Callable[[EventWriter], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tracker = LRTracker(log_momentum=self.log_momentum, log_weight_decay=self.log_weight_decay)

    # -- findings ----------------------------------------------------------------------------------------------

    def emit(self, finding: Finding | None, *, once_per_code: bool = True) -> None:
        """Record a finding; warn (rank zero, once) or mark it for raising; write it to the Text tab."""
        if finding is None:
            return
        if once_per_code and any(f.code == finding.code for f in self.findings):
            return
        if str(finding) in self._said:
            return
        self._said.add(str(finding))
        self.findings.append(finding)
        if self.on_misconfig == "raise" and finding.is_schedule_problem:
            self.wants_raise = True
        elif self.on_misconfig != "ignore" and self.is_zero:
            warnings.warn(str(finding), LRScheduleWarning, stacklevel=4)
        if self.writer is not None:
            text = f"**{finding.code}**: {finding.message} *Fix:* {finding.hint}"
            self._guard_write(lambda w: w.add_text(f"lrmon/{finding.code}", text, finding.step or 0))

    def schedule_problems(self) -> list[Finding]:
        return [f for f in self.findings if f.is_schedule_problem]

    # -- sinks -------------------------------------------------------------------------------------------------

    def _guard_write(self, action: Callable[[EventWriter], None]) -> None:
        writer = self.writer
        if writer is None:
            return
        if self.first_write is not None:  # tags wait for the logger's prefix
            self._deferred.append(action)
            return
        try:
            action(writer)
        except OSError as err:  # a full or vanished disk must not kill training
            writer.abandon()
            self.writer = None
            self.emit(
                tooling(
                    "logger-failed",
                    f"writing TensorBoard events to {writer.path} failed ({err}); LRMonitor keeps training, stops "
                    "writing events, and still checks the schedule.",
                    "free disk space or point the logger's save_dir somewhere writable.",
                )
            )

    def _log_other(self, step: int, tags: list[str], values: list[float]) -> None:
        for logger in list(self.other_loggers):
            try:
                logger.log_metrics(dict(zip(tags, values)), step=step)
            except Exception as err:
                self.other_loggers = [lg for lg in self.other_loggers if lg is not logger]
                self.emit(
                    tooling(
                        "logger-failed",
                        f"{type(logger).__name__}.log_metrics raised {err!r}; LRMonitor keeps training and stops "
                        "logging to it.",
                        "check the logger's configuration (credentials, disk, server).",
                    )
                )

    def write_plan(self, plan: Plan, tags: list[str]) -> None:
        if not len(plan):
            return
        plan_tags = [PLAN_PREFIX + t for t in tags][: plan.values.shape[1]]
        self._guard_write(lambda w: w.add_scalar_block(plan.steps, plan_tags, plan.values))

    def write_text(self, tag: str, text: str, step: int) -> None:
        self._guard_write(lambda w: w.add_text(tag, text, step=step))

    def write_layout(self, charts: list[tuple[str, list[str]]], with_plan: bool) -> None:
        self._guard_write(lambda w: w.add_layout(layout_for(charts, with_plan, w.tag_prefix)))

    def prefix_known(self, prefix: str) -> None:
        """The logger's key prefix is ``prefix``: write what waited for it, and every step from now on."""
        self.first_write = None
        if self.writer is not None:
            self.writer.tag_prefix = prefix
        deferred, self._deferred = self._deferred, []
        for action in deferred:  # runs inside an optimizer-step hook now: nothing may escape into training
            try:
                self._guard_write(action)
            except Exception as err:
                self.emit(
                    tooling(
                        "logger-failed",
                        f"writing the plan, summary or layout to TensorBoard raised {err!r}; LRMonitor keeps "
                        "training and logging the LRs.",
                        "report it to lightning-lrmon with the scheduler and logger you use.",
                    )
                )

    def flush(self) -> None:
        self._guard_write(lambda w: w.flush())

    def close(self) -> None:
        if self.first_write is not None:  # no step was logged: the prefix never mattered for a scalar of this run
            self.prefix_known("")
        self._guard_write(lambda w: w.close())
        self.writer = None

    # -- per optimizer step --------------------------------------------------------------------------------------

    def log_step(self, optimizer: Any, step: int) -> list[float] | None:
        """Log the LRs ``optimizer``'s coming step uses at ``step``; returns the values (``None``: not ours).

        The per-step path, kept lean (it runs between the backward pass and the update, with cold caches): one
        read, one buffered append, one validity test, one counter.
        """
        track = self.tracker.read(optimizer)
        if track is None:
            return None
        tags, values = track.all_tags, track.values
        writer = self.writer
        if writer is not None and not step % self.writer_every:
            if self.first_write is None:
                try:
                    writer.add_scalars(step, tags, values)
                except OSError:
                    self._guard_write(lambda w: w.flush())  # reports once and drops the writer
            else:
                self.first_write(step, tags, values)
        if self.other_loggers and not step % self.others_every:
            self._log_other(step, tags, values)
        if not (min(values) >= 0.0 and max(values) < _INF):  # NaN fails both comparisons
            self.emit(lr_invalid_at_runtime(tags, values, step))
        n = track.count = track.count + 1
        if (n & 1023 == 0 or n in _CHECK_AT) and self.stepping_check is not None:
            for finding in self.stepping_check(optimizer, n):
                self.emit(finding)
        return values
