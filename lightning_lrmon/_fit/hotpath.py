"""The per-step path of the common case, on one small object: one optimizer, LRMonitor's TensorBoard writer taking
every step, a plan to hold the run against, nothing waiting to be said.

Measured (``benchmarks/overhead.py``): between the backward pass and the update the caches are cold, and what a step
costs there follows the objects it touches more than the work it does. The full path (the callback, the session,
the tracker, the track, the sink, the writer, the plan) is kept for every step this one declines: the first steps,
every 256th call (the Trainer's step re-read), the check counts, a step off the plan's band, a flush, a group added.

Examples:
    >>> import tempfile, torch
    >>> from types import SimpleNamespace
    >>> from lightning_lrmon._fit.track import Track
    >>> from lightning_lrmon._tensorboard.writer import EventWriter
    >>> opt = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    >>> track, writer = Track(opt, ["lr-SGD"], []), EventWriter(tempfile.mkdtemp())
    >>> track.plan = SimpleNamespace(a=0, size=8, lo=[0.1] * 8, hi=[0.1] * 8)  # the plan's band: 0.1 for 8 steps
    >>> writer.add_scalars(0, track.tags, [0.1])  # a batch's first row is the full path's
    >>> hot = HotPath(opt, track, writer)
    >>> hot.take(opt, 1), hot.take(opt, 2)  # step 2 is a check count: the full path's
    (True, False)
    >>> hot.sync(); track.count
    1
    >>> writer.close()
"""

from __future__ import annotations

import time
from typing import Any

from lightning_lrmon._fit.session import next_check
from lightning_lrmon._fit.track import Track
from lightning_lrmon._tensorboard.writer import EventWriter

__all__ = ["HotPath", "hot_path"]

_now = time.time


class HotPath:
    """One optimizer's ordinary step: read its LRs, hold the first group in the plan's band, buffer the row.

    Args:
        wrapper: the optimizer object the Trainer hands to ``on_before_optimizer_step``.
        track: its ``Track`` (its count, last values and plan are the full path's too).
        writer: LRMonitor's TensorBoard writer, taking every step.
    """

    __slots__ = (
        "a",
        "count",
        "flush_at",
        "groups",
        "hi",
        "lo",
        "n",
        "pending",
        "tags",
        "track",
        "until",
        "values",
        "wrapper",
    )

    def __init__(self, wrapper: Any, track: Track, writer: EventWriter) -> None:
        self.wrapper, self.track = wrapper, track
        self.groups, self.n, self.tags = track.opt.param_groups, track.n, track.tags
        self.count, self.values = track.count, track.values
        self.pending, room, self.flush_at = writer.quiet_window()
        plan = track.plan  # its window (moved by the full path only, after which this path is built again)
        self.a, self.lo, self.hi = plan.a, plan.lo, plan.hi
        c = track.count
        # the first count this path declines: a check count, the writer's flush by size, the end of the plan's window
        self.until = min(next_check(c), c + 1 + room, plan.a + plan.size + 1)

    def take(self, optimizer: Any, step: int) -> bool:
        """Log ``step``'s LRs (``True``); ``False``: not an ordinary step, nothing was done (the caller hands the
        count back with ``sync`` and takes the full path)."""
        c = self.count + 1
        groups = self.groups
        if c >= self.until or optimizer is not self.wrapper or len(groups) != self.n:
            return False
        values = [float(g["lr"]) for g in groups]
        i = c - 1 - self.a
        if not self.lo[i] <= values[0] <= self.hi[i]:
            return False
        wall = _now()
        if wall > self.flush_at:
            return False
        self.pending.append((wall, step, self.tags, values))
        self.values, self.count = values, c
        return True

    def sync(self) -> None:
        """Hand the count and the last values to the track (before anything else reads them)."""
        track = self.track
        track.count, track.values = self.count, self.values


def hot_path(session: Any, optimizer: Any) -> HotPath | None:
    """The hot path for ``optimizer`` as the session stands now (``None``: the full path is needed at every step)."""
    tb = session.tensorboard
    writer = tb.direct if tb is not None else None
    if writer is None or session.sparse_until is not None or session.others is not None:
        return None
    if session.late or session.log.wants_raise:
        return None
    track = session.tracker.track_of(optimizer)
    if track is None or track.plan is None or track.all_tags is not track.tags or track.count < track.plan.a:
        return None
    return HotPath(optimizer, track, writer)
