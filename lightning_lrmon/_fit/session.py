"""The state of one ``fit`` as LRMonitor sees it, with no Lightning in it: the finding log, the sinks, the tracker.

The callback creates a ``Session`` at train start, hands it the objects it owns (sinks, the stepping check)
and afterwards only forwards numbers to it. ``FindingLog`` keeps every finding and decides, in a pure method,
whether the fit must stop. Nothing here raises into training: a failing logger, disk or check says so once and
steps aside.

Examples:
    >>> import torch
    >>> from lightning_lrmon._findings import Finding
    >>> sgd = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = Session(on_misconfig="ignore", is_zero=True)
    >>> s.tracker.start([sgd], [])
    >>> s.log_step(sgd, 0)
    [0.1]
    >>> s.emit(Finding("lr-jump", "warning", "m")); [f.code for f in s.findings], s.log.wants_raise
    (['lr-jump'], False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lightning_lrmon._findings import Finding
from lightning_lrmon._fit.findinglog import FindingLog
from lightning_lrmon._fit.kept import Kept
from lightning_lrmon._fit.live import LengthWatch, SteppingCheck
from lightning_lrmon._fit.observed import ObservedStepping
from lightning_lrmon._fit.runtime import lr_invalid_at_runtime, lr_invalid_in_rows
from lightning_lrmon._fit.sinks import LoggerSink, TensorBoardSink
from lightning_lrmon._fit.track import LRTracker, Track
from lightning_lrmon._review.render import finding_markdown
from lightning_lrmon._vocab import OnMisconfig

if TYPE_CHECKING:
    from lightning_lrmon._review.series import PlannedSeries

__all__ = ["Built", "Session"]

#: optimizer-step counts at which the stepping checks run (then every 1024 steps)
_CHECK_AT = frozenset((2, 3, 10))


def next_check(n: int) -> int:
    """The first optimizer-step count after ``n`` at which the stepping checks run.

    Examples:
        >>> next_check(0), next_check(3), next_check(10), next_check(2048)
        (2, 10, 1024, 3072)
    """
    return min(c for c in (*_CHECK_AT, (n // 1024 + 1) * 1024) if c > n)


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
    groups_before: list[dict[str, Any]] = field(default_factory=list)  # the param groups' keys before the build


class Session:
    """One fit's finding log, tracker and sinks.

    Args:
        on_misconfig: ``"warn"``, ``"raise"`` or ``"ignore"``.
        is_zero: this process is rank zero (only it warns and writes).
        log_momentum: also track momentum; ``log_weight_decay``: also track weight decay.
    """

    def __init__(
        self,
        on_misconfig: OnMisconfig | str,
        is_zero: bool,
        *,
        log_momentum: bool = False,
        log_weight_decay: bool = False,
    ) -> None:
        self.log = FindingLog(on_misconfig, is_zero)
        self.tracker = LRTracker(log_momentum=log_momentum, log_weight_decay=log_weight_decay)
        #: what was logged, thinned, for ``plot`` whatever the logger
        self.kept = Kept()
        self._tensorboard: TensorBoardSink | None = None
        self.others: LoggerSink | None = None
        self._stepping: SteppingCheck | None = None
        #: the re-count at each epoch start (a loader whose length changes between epochs)
        self.length_watch: LengthWatch | None = None
        #: under manual optimization, the stepping the user does (observed over the first epoch)
        self.observed: ObservedStepping | None = None
        #: with no TensorBoard writer, the last step of the run: before it, the LRs are read only at the steps that
        #: log them or check them (``None``: read at every step)
        self.sparse_until: int | None = None
        #: sparse reading: the next step whose LRs are read (the caller skips ``log_step`` before it; -1: every step)
        self.next_read = -1
        self._sparse_every = 0  # the other loggers' cadence in steps (0: they log by epoch)
        self._read_at: int | None = None  # the step of the last read
        self.late: list[Finding] = []  # found at a flush of the writer, said once it has let go of its file

    @property
    def findings(self) -> list[Finding]:
        return self.log.findings

    @property
    def tensorboard(self) -> TensorBoardSink | None:
        """LRMonitor's TensorBoard writer, while it works."""
        return self._tensorboard

    # -- what the callback hands over ----------------------------------------------------------------------------

    def attach(
        self,
        tensorboard: TensorBoardSink | None,
        others: LoggerSink | None,
        stepping: SteppingCheck | None = None,
        length_watch: LengthWatch | None = None,
    ) -> None:
        """The sinks, the stepping check and the length watch of this fit (owned by the session from now on)."""
        self._tensorboard, self.others, self._stepping = tensorboard, others, stepping
        self.length_watch = length_watch
        if tensorboard is not None:
            self._after_tensorboard(tensorboard, tensorboard.lend(self._tapped))

    def read_sparsely(self, last_step: int | None) -> None:
        """With no TensorBoard writer (it logs every step), read the LRs only at the steps the other loggers log at
        (Lightning's cadence, each epoch's first) and the checks run at, until ``last_step`` (the run's last, read
        for the final row); ``None``: the run's length is unknown, read every step. A timm-style scheduler is judged
        from the LRs of each epoch's last step, so it keeps every step read."""
        if last_step is None or self._tensorboard is not None or self.others is None:
            return
        if getattr(self._stepping, "needs_every_step", False):
            return
        self._sparse_every = self.others.every if self.others.by_step else 0
        self.sparse_until, self.next_read = last_step, 0

    def follow(self, plans: Any) -> None:
        """The stepping check holds the run against ``plans`` (``PlanRows`` by ``id`` of the scheduler config) from
        now on; each optimizer's per-step plan is read at every step its LRs are read."""
        stepping = self._stepping
        if stepping is None:
            return
        stepping.follow(plans)
        for track in self.tracker.tracks():
            track.plan = stepping.cursor_of(track.opt)

    def watch(self, stepping: Any) -> None:
        """The live check that ``log_step`` runs at its check counts (anything with ``check(optimizer, n, step)``)."""
        self._stepping = stepping

    # -- findings ------------------------------------------------------------------------------------------------

    def emit(self, finding: Finding | None, *, once_per_code: bool = True) -> None:
        """Record a finding (warn once on rank zero, or mark it for raising) and write it to the Text tab."""
        if finding is None or not self.log.add(finding, once_per_code=once_per_code):
            return
        self._to_tensorboard("text", f"lrmon/{finding.code}", finding_markdown(finding), finding.step or 0)

    def _to_tensorboard(self, kind: str, *args: Any) -> None:
        sink = self._tensorboard
        if sink is None:
            return
        self._after_tensorboard(sink, getattr(sink, kind)(*args))

    def _log_the_idle(self, others: LoggerSink, stepping: Track, step: int) -> None:
        """At a logging step, the other optimizers that have not stepped at it: their LR now, as LearningRateMonitor
        logs every optimizer at its points (an optimizer idle for an epoch under manual optimization keeps them)."""
        for track in self.tracker.tracks():
            if track is stepping or track.sent_step == step or not (track.epoch_due or others.on_cadence(step)):
                continue
            if self.tracker.read(track.opt) is None:
                continue
            track.epoch_due, track.sent_step, track.last_step = False, step, step
            self.emit(others.scalars(step, track.all_tags, track.values))

    def _after_tensorboard(self, sink: TensorBoardSink, failed: Finding | None) -> None:
        """Say a failed TensorBoard write once; drop the sink when it closed itself."""
        if failed is not None:
            self._tensorboard = None if sink.state == "closed" else sink
            self.emit(failed)

    # -- sinks ---------------------------------------------------------------------------------------------------

    def write_series(self, series: PlannedSeries, tags: Sequence[str]) -> None:
        self._to_tensorboard("series", series.steps, list(tags), series.values)

    def write_text(self, tag: str, text: str, step: int) -> None:
        self._to_tensorboard("text", tag, text, step)

    def write_layout(self, charts: list[tuple[str, list[str]]], with_plan: bool) -> None:
        self._to_tensorboard("layout", charts, with_plan)

    def flush(self) -> None:
        self._to_tensorboard("flush")
        self._say_late()

    def logged(self) -> dict[str, Any]:
        """``{tag: (steps, values)}`` of what was logged so far (the writer's buffered steps flushed first)."""
        self.flush()
        return self.kept.series()

    def rebase_stepping(self, facts: Any) -> None:
        """The loader's length changed: the stepping check counts from here with ``facts``."""
        if self._stepping is not None:
            self._stepping.rebase(facts, {id(t.opt): t.count for t in self.tracker.tracks()})
            for track in self.tracker.tracks():
                track.plan = None  # the plan was for the old length (the stepping check dropped its cursors too)

    def epoch_boundary(self, *, epochs_done: int, global_step: int) -> None:
        """An epoch ended (or the next began): the stepping check of the epoch-interval schedulers."""
        if self._stepping is not None:
            tracks = self.tracker.tracks()
            if self.sparse_until is not None and len(tracks) == 1 and global_step > 0:
                self._catch_up(tracks[0], global_step - 1)  # every step of the epoch counted
            steps = [(t.opt, t.count) for t in tracks]
            used = {id(t.opt): t.values[: t.n] for t in tracks}
            found = self._stepping.at_epoch_boundary(
                epochs_done=epochs_done, global_step=global_step, steps=steps, used=used
            )
            for finding in found:
                self.emit(finding)

    def epoch_started(self) -> None:
        """A training epoch begins: each optimizer's next step goes to the other loggers (LearningRateMonitor logs
        at every epoch start)."""
        others = self.others
        if others is not None and others.at_epoch_start:
            for track in self.tracker.tracks():
                track.epoch_due = track.by_epoch or not others.by_step  # logging_interval="epoch": every optimizer
                if track.epoch_due and self.sparse_until is not None:
                    self.next_read = -1  # read the epoch's first step

    def close(self) -> None:
        """The run's last step to the other loggers (when it was not logged), then the TensorBoard file."""
        others = self.others
        if others is not None:
            for track in self.tracker.tracks():
                if track.values and track.last_step > track.sent_step:
                    track.sent_step = track.last_step
                    self.emit(others.scalars(track.last_step, track.all_tags, track.values))
        self._to_tensorboard("close")
        self._tensorboard = None
        self._say_late()

    # -- per optimizer step --------------------------------------------------------------------------------------

    def log_step(self, optimizer: Any, step: int) -> list[float] | None:
        """Log the LRs ``optimizer``'s coming step uses at ``step``; returns the values (``None``: not ours).

        The per-step path, kept lean (it runs between the backward pass and the update, with cold caches): one
        read, one buffered append, one counter and two comparisons against the plan; under sparse reading a step
        that nothing logs or checks is only counted (the LRs are not read).
        """
        track = self.tracker.read(optimizer)
        if track is None:
            return None
        if self.sparse_until is not None:
            self._catch_up(track, step - 1)
        self._log(optimizer, track, step)
        if self.sparse_until is not None:
            self._plan_next_read(track, step)
        return track.values

    def _catch_up(self, track: Track, last: int) -> None:
        """Sparse reading: count the steps up to ``last`` that were skipped since the last read."""
        if self._read_at is not None and last > self._read_at:
            track.count += last - self._read_at
        self._read_at = last

    def _plan_next_read(self, track: Track, step: int) -> None:
        """Sparse reading, after the read at ``step``: the next step a logger logs at or a check runs at."""
        n = track.count
        check = next_check(n)
        at = step + check - n
        every = self._sparse_every
        if every:
            at = min(at, step + every - (step + 1) % every)
        self._read_at = step
        self.next_read = min(at, int(self.sparse_until or 0))

    def _to_others(self, others: LoggerSink, track: Track, step: int) -> None:
        """The other loggers, at LearningRateMonitor's points."""
        track.last_step = step
        if (track.epoch_due or others.on_cadence(step)) and track.sent_step != step:
            track.epoch_due, track.sent_step = False, step
            self.emit(others.scalars(step, track.all_tags, track.values))
            self._log_the_idle(others, track, step)

    def _log(self, optimizer: Any, track: Track, step: int) -> None:
        """The values just read into ``track``: written, kept, validated, counted and held against the plan.

        With LRMonitor's TensorBoard writer taking every step, its buffer is the only per-step copy: the kept series
        and the validity of every group are done at each flush (``_tapped``); the step itself holds the first group
        in the plan's noise band (a valid LR), and validates at once only outside it or with no plan.
        """
        tags, values = track.all_tags, track.values
        tb = self._tensorboard
        direct = tb.direct if tb is not None else None
        if direct is not None:
            try:
                direct.add_scalars(step, tags, values)
            except OSError as err:
                assert tb is not None  # the writer is lent by this sink
                self._after_tensorboard(tb, tb.failed(err))
            if self.late:
                self._say_late()
        else:
            self._keep_and_validate(tb, step, tags, values)
        others = self.others
        if others is not None:
            self._to_others(others, track, step)
        n = track.count = track.count + 1
        plan = track.plan
        if plan is not None and n & 1023 and n not in _CHECK_AT:
            i = n - 1 - plan.a
            if 0 <= i < plan.size and plan.lo[i] <= values[0] <= plan.hi[i]:
                return
        if direct is not None:
            self._validate(tags, values, step)
        self._hold(optimizer, track, n, step, values)

    def _keep_and_validate(self, tb: TensorBoardSink | None, step: int, tags: list[str], values: list[float]) -> None:
        """No writer takes every step: keep and validate this one now, and hand it to the writer's cadence."""
        self.kept.add(step, tags, values)
        if tb is not None:
            self._after_tensorboard(tb, tb.scalars(step, tags, values))
        self._validate(tags, values, step)

    def _validate(self, tags: list[str], values: list[float], step: int) -> None:
        if not (min(values) >= 0.0 and max(values) < _INF):  # NaN fails both comparisons
            self.emit(lr_invalid_at_runtime(tags, values, step))

    def _tapped(self, rows: list[Any]) -> None:
        """The writer's buffered steps, at its flush: kept for ``plot``, and their LRs validated (the first invalid
        one is said once the writer has let go of its file: ``_say_late``)."""
        self.kept.add_rows(rows)
        found = lr_invalid_in_rows(rows)
        if found is not None:
            self.late.append(found)

    def _say_late(self) -> None:
        late, self.late = self.late, []
        for finding in late:
            self.emit(finding)

    def _hold(self, optimizer: Any, track: Track, n: int, step: int, values: list[float]) -> None:
        """The ``n``-th step held against the plan where the first group's band did not settle it: all of it at
        the check counts, else each group on a miss."""
        stepping = self._stepping
        if stepping is None:
            return
        found: Sequence[Finding | None]
        if n & 1023 == 0 or n in _CHECK_AT:
            found = stepping.check(optimizer, n, step)
        else:
            plan = track.plan
            if plan is None:
                return
            found, keep = stepping.compare(optimizer, n, step, values)
            if not keep:
                track.plan = None
        for finding in found:
            self.emit(finding)
