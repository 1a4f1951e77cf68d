"""Where logged LRs go: LRMonitor's own TensorBoard writer, and every other logger. No Lightning in here.

Each sink owns its state and declares it. ``TensorBoardSink`` is a small state machine over the logger's key
prefix: ``"learning"`` until the first logged step (which goes through the logger's own ``log_metrics`` and shows
which prefix it applies), then ``"ready"``; what the run writes before that (the planned series, the summary, the
layout, findings) waits as data and is written when the prefix is known. ``"closed"`` after ``close()`` or a write
failure. A sink never raises into training: a failure comes back as a ``logger-failed`` finding and the sink steps
aside.

Examples:
    >>> import tempfile
    >>> from lightning_lrmon._tensorboard.writer import EventWriter
    >>> sink = TensorBoardSink(EventWriter(tempfile.mkdtemp()), logger=None)
    >>> sink.state
    'ready'
    >>> sink.scalars(0, ["lr-SGD"], [0.1]) is None
    True
    >>> sink.close(); sink.state
    'closed'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from lightning_lrmon._findings import Finding, tooling
from lightning_lrmon._tensorboard.logdir import PLAN_PREFIX, key_prefix, layout_for, logger_event_file, scalar_tags
from lightning_lrmon._tensorboard.writer import EventWriter

__all__ = ["LoggerSink", "TensorBoardSink"]

PrefixState = Literal["learning", "ready", "closed"]
#: a write that waits for the prefix: ("text", (tag, markdown, step)), ("series", (steps, tags, values)), ...
_Waiting = tuple[str, tuple[Any, ...]]


class TensorBoardSink:
    """LRMonitor's event writer beside a ``TensorBoardLogger``, every ``every``-th step.

    Args:
        writer: the event writer (appending to the logger's file, or a file of its own).
        logger: the TensorBoardLogger whose key prefix to learn; ``None``: no prefix to learn.
        every: write the LRs at steps divisible by this.
    """

    def __init__(self, writer: EventWriter, logger: Any | None, every: int = 1) -> None:
        self.writer = writer
        self.every = every
        self.state: PrefixState = "learning" if logger is not None else "ready"
        self._logger = logger
        self._waiting: list[_Waiting] = []
        #: the writer, once the per-step path may append to it itself (prefix known, every step written, tapped)
        self.direct: EventWriter | None = None
        self._tap: Callable[[list[Any]], None] | None = None

    def lend(self, tap: Callable[[list[Any]], None]) -> Finding | None:
        """Let the per-step path append to the writer itself once the prefix is known and every step is written;
        ``tap`` then gets the buffered steps at each flush (one call per flush instead of one per step)."""
        self._tap = tap
        return self._go_direct()

    def _go_direct(self) -> Finding | None:
        if self._tap is None or self.state != "ready" or self.every != 1 or self.direct is not None:
            return None
        failed = self._write("flush", ())  # the steps buffered so far were kept by the caller: not through the tap
        if self.state == "ready":
            self.writer.tap, self.direct = self._tap, self.writer
        return failed

    # -- per step ------------------------------------------------------------------------------------------------

    def scalars(self, step: int, tags: list[str], values: list[float]) -> Finding | None:
        """Write one step's LRs (the hot path: one buffered append)."""
        if step % self.every:
            return None
        if self.state == "ready":
            try:
                self.writer.add_scalars(step, tags, values)
            except OSError as err:
                return self.failed(err)
            return None
        if self.state == "learning":
            return self._learn(step, tags, values)
        return None

    def _learn(self, step: int, tags: list[str], values: list[float]) -> Finding | None:
        """The first logged value goes through the logger's own ``log_metrics``, which applies its key ``prefix``
        (``TensorBoardLogger(prefix="train")`` writes ``train-lr-SGD``); the tags it wrote give the prefix."""
        logger: Any = self._logger
        own = None if self.writer.shared else self.writer.path
        written, prefix = False, None
        try:
            logger.experiment.flush()
            path = logger_event_file(str(logger.log_dir), exclude=own)
            before = len(scalar_tags(path)) if path else 0
            logger.log_metrics({tags[0]: values[0]}, step=step)  # one value: SummaryWriter costs ~50 us per value
            written = True
            logger.experiment.flush()
            now = logger_event_file(str(logger.log_dir), exclude=own)
            if now is not None and now != path:  # the logger's writer had been closed and opened a new file
                path, before = now, 0
                if self.writer.shared:
                    self.writer.move_to(now)
            prefix = key_prefix(scalar_tags(path)[before:], tags[:1]) if path else None
        except Exception:  # a logger that cannot write or be read back: the writer uses the names it has
            pass
        failed = self._prefix_known(prefix or "")
        rest = slice(1 if written else 0, None)
        if self.state == "ready" and tags[rest]:  # a waiting write that failed does not drop this step's values
            failed = self.scalars(step, tags[rest], values[rest]) or failed
        return self._go_direct() or failed

    def _prefix_known(self, prefix: str) -> Finding | None:
        """Write what waited for the prefix; from now on every step goes straight to the writer."""
        self.writer.tag_prefix = prefix
        self.state = "ready"
        waiting, self._waiting = self._waiting, []
        failures = [self._write(kind, args) for kind, args in waiting]  # one failed write does not stop the others
        return next((f for f in failures if f is not None), None)

    # -- everything else -----------------------------------------------------------------------------------------

    def text(self, tag: str, markdown: str, step: int) -> Finding | None:
        return self._write("text", (tag, markdown, step))

    def series(self, steps: np.ndarray, tags: Sequence[str], values: np.ndarray) -> Finding | None:
        """The planned series (``planned/<tag>``)."""
        if not steps.shape[0]:
            return None
        return self._write("series", (steps, [PLAN_PREFIX + t for t in tags][: values.shape[1]], values))

    def layout(self, charts: list[tuple[str, list[str]]], with_plan: bool) -> Finding | None:
        return self._write("layout", (charts, with_plan))

    def flush(self) -> Finding | None:
        return self._write("flush", ())

    def close(self) -> Finding | None:
        if self.state == "learning":  # no step was logged: the prefix never mattered for a scalar of this run
            failed = self._prefix_known("")
            if failed is not None:
                return failed
        failed = self._write("close", ())
        self.state, self.direct = "closed", None
        return failed

    def _write(self, kind: str, args: tuple[Any, ...]) -> Finding | None:
        if self.state == "learning":
            self._waiting.append((kind, args))
            return None
        if self.state == "closed":
            return None
        try:
            self._do(kind, args)
        except OSError as err:  # a full or vanished disk must not kill training
            return self.failed(err)
        except Exception as err:  # runs inside an optimizer-step hook: nothing may escape into training
            return tooling(
                "logger-failed",
                f"writing the plan, summary or layout to TensorBoard raised {err!r}; LRMonitor keeps training and "
                "logging the LRs.",
                "report it to lightning-lrmon with the scheduler and logger you use.",
            )
        return None

    def _do(self, kind: str, args: tuple[Any, ...]) -> None:
        _WRITES[kind](self.writer, *args)

    def failed(self, err: OSError) -> Finding:
        """A write raised ``err``: drop the file and step aside, said as a ``logger-failed`` note."""
        self.writer.abandon()
        self.state, self.direct = "closed", None
        return tooling(
            "logger-failed",
            f"writing TensorBoard events to {self.writer.path} failed ({err}); LRMonitor keeps training, stops "
            "writing events, and still checks the schedule.",
            "free disk space or point the logger's save_dir somewhere writable.",
        )


def _layout(w: EventWriter, charts: list[tuple[str, list[str]]], with_plan: bool) -> None:
    w.add_layout(layout_for(charts, with_plan, w.tag_prefix))


#: what each waiting write does to the writer
_WRITES: dict[str, Callable[..., None]] = {
    "text": EventWriter.add_text,
    "series": lambda w, steps, tags, values: w.add_scalar_block(steps, tags, values),
    "layout": _layout,
    "flush": lambda w: w.flush(),
    "close": EventWriter.close,
}


class LoggerSink:
    """Every logger but LRMonitor's TensorBoard writer (CSV, MLflow, W&B, ...), at the points LearningRateMonitor
    logs: Lightning's logging steps (``(step + 1) % every == 0``, where ``self.log`` writes too) unless
    ``logging_interval="epoch"``, and each epoch's first step unless ``logging_interval="step"``; the session adds
    the run's last step. A logger that raises is dropped, once.

    Examples:
        >>> sink = LoggerSink([], every=50)
        >>> [s for s in range(200) if sink.on_cadence(s)]
        [49, 99, 149, 199]
    """

    def __init__(self, loggers: Sequence[Any], every: int = 1, logging_interval: str | None = None) -> None:
        self.loggers = list(loggers)
        self.every = every
        self.by_step = logging_interval != "epoch"
        self.at_epoch_start = logging_interval != "step"

    def on_cadence(self, step: int) -> bool:
        """``step`` is one of Lightning's logging steps (and the sink logs by step)."""
        return self.by_step and not (step + 1) % self.every

    def scalars(self, step: int, tags: list[str], values: list[float]) -> Finding | None:
        failed = None
        for logger in list(self.loggers):
            try:
                logger.log_metrics(dict(zip(tags, values)), step=step)
            except Exception as err:
                self.loggers = [lg for lg in self.loggers if lg is not logger]
                failed = tooling(
                    "logger-failed",
                    f"{type(logger).__name__}.log_metrics raised {err!r}; LRMonitor keeps training and stops "
                    "logging to it.",
                    "check the logger's configuration (credentials, disk, server).",
                )
        return failed
