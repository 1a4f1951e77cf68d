"""A small, fast TensorBoard event-file writer for per-step scalars, text and custom-scalar layouts: the file and
the buffering policy (the bytes come from ``lightning_lrmon._tensorboard.encoding``).

Why not ``SummaryWriter``: it builds one event per scalar and pushes each through a blocking queue to a thread
that computes a pure-Python CRC — about 0.1 ms per scalar. Here a step's values are kept as plain floats in a
list (no per-step protobuf, no queue) and serialised in batches. Values are written as ordinary float32 scalars
(``simple_value``, what ``SummaryWriter.add_scalar`` writes), which every reader takes as scalars — the Rust data
server, ``--load_fast=false``, ``EventAccumulator.Scalars()``: the logged LR is the LR the step used, rounded to
float32 exactly as every TensorBoard scalar is. The file is a normal ``events.out.tfevents.*`` file.

Examples:
    >>> import tempfile
    >>> from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    >>> d = tempfile.mkdtemp()
    >>> w = EventWriter(d)
    >>> w.add_scalars(0, ["lr-SGD"], [0.001])
    >>> w.close()
    >>> events = list(EventFileLoader(w.path).Load())
    >>> events[1].summary.value[0].tag, events[1].step
    ('lr-SGD', 0)
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lightning_lrmon._tensorboard.encoding import (
    Pending,
    ScalarEncoder,
    frame,
    layout_event,
    session_start_event,
    text_event,
    version_event,
)

__all__ = ["EventWriter"]

_FILE_COUNTER = 0
_now = time.time
_COUNTER_LOCK = threading.Lock()


class EventWriter:
    """Writes one ``events.out.tfevents.*`` file in ``logdir``; scalars are buffered until ``flush``.

    Args:
        logdir: the run directory (created if missing).
        filename_suffix: appended to the file name (TensorBoard reads every events file of a run directory).
        max_pending: buffered steps after which ``add_scalars`` flushes by itself ...
        max_age_s: ... or once the oldest buffered step is this old (what TensorBoard shows stays this fresh).

    Examples:
        >>> import tempfile
        >>> w = EventWriter(tempfile.mkdtemp(), max_pending=2)
        >>> for step in range(3):
        ...     w.add_scalars(step, ["a", "b"], [0.1, 0.2])
        >>> w.pending
        1
        >>> w.close()
    """

    def __init__(
        self,
        logdir: str,
        *,
        filename_suffix: str = ".lrmon",
        max_pending: int = 1024,
        max_age_s: float = 5.0,
        append_to: str | None = None,
        tag_prefix: str = "",
    ) -> None:
        global _FILE_COUNTER
        os.makedirs(logdir, exist_ok=True)
        with _COUNTER_LOCK:
            _FILE_COUNTER += 1
            counter = _FILE_COUNTER
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{counter}{filename_suffix}"
        self.path = append_to or os.path.join(logdir, name)
        self.shared = append_to is not None
        self._encoder = ScalarEncoder(tag_prefix)
        # O_APPEND: every write lands whole at the end, also between the records of another appending writer
        self._fh = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
        self._pending: list[Pending] = []  # the same list for the writer's life (``quiet_window`` lends it)
        self._max_pending = max_pending
        self._max_age_s = max_age_s
        # wall time by which buffered steps are flushed (set when the first step of a batch is buffered)
        self._flush_at = math.inf
        self._lock = threading.Lock()
        self.closed = False
        #: called with the buffered steps just before they are encoded (or dropped): a reader of every step that
        #: needs no per-step call of its own (LRMonitor keeps and validates its series there); it must not write
        self.tap: Callable[[list[Pending]], None] | None = None
        if not self.shared:
            self._fh.write(frame(version_event()))

    @property
    def tag_prefix(self) -> str:
        """Put before every scalar tag (a TensorBoardLogger's ``prefix`` with its join character, e.g. ``"train-"``)."""
        return self._encoder.tag_prefix

    @tag_prefix.setter
    def tag_prefix(self, prefix: str) -> None:
        self._encoder.tag_prefix = prefix

    @property
    def pending(self) -> int:
        """Buffered steps not yet on disk."""
        return len(self._pending)

    def add_scalars(self, step: int, tags: Sequence[str], values: list[float], wall_time: float | None = None) -> None:
        """Buffer one step's values (``tags`` may be shared between calls; it is not copied).

        Examples:
            >>> import tempfile
            >>> w = EventWriter(tempfile.mkdtemp())
            >>> w.add_scalars(3, ["lr"], [0.5]); w.pending
            1
            >>> w.close()
        """
        pending = self._pending
        wall = _now() if wall_time is None else wall_time
        pending.append((wall, step, tags, values))
        if len(pending) >= self._max_pending or wall > self._flush_at:
            self.flush()
        elif len(pending) == 1:
            self._flush_at = wall + self._max_age_s

    def quiet_window(self) -> tuple[list[Pending], int, float]:
        """For a caller that buffers rows ``(wall, step, tags, values)`` itself between ``add_scalars`` calls: the
        buffer (the same list for the writer's life), how many rows it takes before a flush is due (0: none, the
        buffer is empty or the writer closed: the next row is ``add_scalars``'s), and the wall time a flush is due at.

        Examples:
            >>> import tempfile
            >>> w = EventWriter(tempfile.mkdtemp(), max_pending=4)
            >>> w.quiet_window()[1]
            0
            >>> w.add_scalars(3, ["lr"], [0.5]); w.quiet_window()[1]
            2
            >>> w.close()
        """
        pending = self._pending
        room = 0 if not pending or self.closed else max(0, self._max_pending - len(pending) - 1)
        return pending, room, self._flush_at

    def add_session_start(self, step: int) -> None:
        """A ``SessionLog.START`` at ``step``: TensorBoard's own way to drop what earlier files logged at ``step`` and
        later (a resumed run logs those steps again).

        Examples:
            >>> import tempfile
            >>> w = EventWriter(tempfile.mkdtemp()); w.add_session_start(32); w.close()
        """
        self.flush(extra=[session_start_event(step)])

    def add_text(self, tag: str, markdown: str, step: int = 0) -> None:
        """Write a text summary (TensorBoard's Text tab renders markdown) at once.

        Examples:
            >>> import tempfile
            >>> w = EventWriter(tempfile.mkdtemp()); w.add_text("lrmon/summary", "**ok**"); w.close()
        """
        self.flush(extra=[text_event(tag, markdown, step)])

    def add_layout(self, layout: Any) -> None:
        """Write a custom-scalars layout (one chart per optimizer, several series per chart).

        Examples:
            >>> import tempfile
            >>> from tensorboard.plugins.custom_scalar import layout_pb2
            >>> w = EventWriter(tempfile.mkdtemp()); w.add_layout(layout_pb2.Layout()); w.close()
        """
        self.flush(extra=[layout_event(layout)])

    def flush(self, extra: list[bytes] | None = None) -> None:
        """Serialise every buffered step and hand it to the OS (survives a Python crash or Ctrl-C)."""
        with self._lock:
            if self.closed:
                return
            pending = self._pending.copy()
            self._pending.clear()
            self._flush_at = math.inf
            if pending and self.tap is not None:
                self.tap(pending)
            chunks = self._encoder.encode_pending(pending) if pending else []
            if extra:
                chunks.extend(frame(p) for p in extra)
            if chunks:
                self._fh.write(b"".join(chunks))

    def add_scalar_block(self, steps: np.ndarray, tags: Sequence[str], values: np.ndarray) -> None:
        """Write many steps of the same tags at once (``values`` is ``(steps, tags)``), encoded column-wise.

        Examples:
            >>> import tempfile
            >>> w = EventWriter(tempfile.mkdtemp())
            >>> w.add_scalar_block(np.arange(3), ["planned/lr"], np.full((3, 1), 0.5)); w.close()
        """
        if steps.shape[0] == 0:
            return
        self.flush()
        walls = np.full(steps.shape[0], _now())
        steps = np.asarray(steps, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64).reshape(steps.shape[0], len(tags))
        with self._lock:
            if not self.closed:
                self._fh.write(b"".join(self._encoder.encode(tags, walls, steps, values)))

    def move_to(self, path: str) -> None:
        """Append from now on to ``path`` (the logger opened a new file of its own: a closed ``SummaryWriter``
        reopens in a new file on its next write, as after the Tuner's ``lr_find``); what was written stays."""
        self.flush()
        with self._lock:
            if self.closed or path == self.path:
                return
            self._fh.close()
            self._fh = open(path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
            self.path, self.shared = path, True

    def abandon(self) -> None:
        """Drop what is buffered and release the file without writing (after a write failed)."""
        with self._lock:
            pending = self._pending.copy()
            self._pending.clear()
            if pending and self.tap is not None:
                self.tap(pending)
            self.closed = True
            with contextlib.suppress(OSError):
                self._fh.close()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if self.closed:
            return
        self.flush()
        with self._lock:
            self.closed = True
            self._fh.close()
