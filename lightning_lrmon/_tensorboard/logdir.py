"""Where events go in a run directory, and what is already there: the logger's own event file, the tags it wrote
and the key prefix they reveal, this package's earlier files, and the custom-scalars layout of the LR charts.

Examples:
    >>> key_prefix(["train-lr-SGD"], ["lr-SGD"])
    'train-'
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from tensorboard.compat.proto import event_pb2

from lightning_lrmon._tensorboard.encoding import frame

__all__ = [
    "PLAN_PREFIX",
    "SESSION_MARK_STEP",
    "key_prefix",
    "layout_for",
    "logger_event_file",
    "scalar_tags",
    "shared_event_file",
    "truncate_own_events",
]

#: Tag prefix of the planned series (``planned/lr-SGD``).
PLAN_PREFIX = "planned/"
#: The step of the ``SessionLog.START`` a fresh run begins with: past any real step, so it purges nothing
SESSION_MARK_STEP = 2**62


def layout_for(charts: list[tuple[str, list[str]]], with_plan: bool, prefix: str = "") -> Any:
    """A custom-scalars layout: one chart per optimizer with all its groups (and their planned series)."""
    from tensorboard.plugins.custom_scalar import layout_pb2

    out = []
    for base, names in charts:
        series = [prefix + n for n in names] + ([prefix + PLAN_PREFIX + n for n in names] if with_plan else [])
        out.append(
            layout_pb2.Chart(
                title=f"{base}: all param groups"
                + (
                    f" — actual: {base}…, planned: {PLAN_PREFIX}{base}… (the fit-start simulation)" if with_plan else ""
                ),
                multiline=layout_pb2.MultilineChartContent(tag=[f"^{re.escape(s)}$" for s in series]),
            )
        )
    return layout_pb2.Layout(category=[layout_pb2.Category(title="learning rate (lightning-lrmon)", chart=out)])


def truncate_own_events(log_dir: str, from_step: int) -> None:
    """Drop this package's events at ``step >= from_step`` from earlier files (a resume re-logs them)."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto import event_pb2

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
                fh.write(b"".join(frame(r) for r in kept))
            os.replace(tmp, path)


def logger_event_file(log_dir: str, exclude: str | None = None) -> str | None:
    """The newest non-empty event file another writer of this process keeps in ``log_dir`` (a logger's own file).

    Examples:
        >>> import tempfile
        >>> logger_event_file(tempfile.mkdtemp()) is None
        True
    """
    names = [n for n in os.listdir(log_dir) if n.startswith("events.out.tfevents.") and not n.endswith(".lrmon")]
    paths = [os.path.join(log_dir, n) for n in names]
    paths = [p for p in paths if p != exclude and os.path.getsize(p) > 0]
    mine = [p for p in paths if f".{os.getpid()}." in os.path.basename(p)]
    return max(mine or paths, key=os.path.getmtime) if (mine or paths) else None


def shared_event_file(log_dir: str, experiment: Any) -> str | None:
    """The logger's own event file, when appending whole records to it is safe; else ``None``.

    It is safe with TensorBoard's own writer (``torch.utils.tensorboard.SummaryWriter`` without TensorFlow): its
    file object appends each record to the file (tensorboard's ``GFile`` opens it in append mode for every write
    after the first), so records written by two appenders interleave whole. Writing into that one file keeps a run
    directory to a single growing file, which TensorBoard's Python loader needs: it reads a directory's files in
    name order and never goes back to an earlier one.
    """
    from tensorboard.compat import tf

    if getattr(tf, "__name__", "") != "tensorboard.compat.tensorflow_stub":
        return None  # TensorFlow's GFile keeps its own file offset: appending beside it would be overwritten
    if not type(experiment).__module__.startswith("torch.utils.tensorboard"):
        return None  # tensorboardX writes through its own file offset too
    experiment.flush()  # its first record, which truncates the file, is on disk before we append
    path = logger_event_file(log_dir)
    return path if path is not None and f".{os.getpid()}." in os.path.basename(path) else None


def scalar_tags(path: str) -> list[str]:
    """The scalar tags of every record in ``path``, in order (read with tensorboard's own record reader).

    Examples:
        >>> import tempfile
        >>> from lightning_lrmon._tensorboard.writer import EventWriter
        >>> w = EventWriter(tempfile.mkdtemp(), tag_prefix="train-")
        >>> w.add_scalars(0, ["lr-SGD", "lr-Adam"], [0.1, 0.2]); w.close()
        >>> scalar_tags(w.path)
        ['train-lr-SGD', 'train-lr-Adam']
    """
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader

    tags: list[str] = []
    for raw in RawEventFileLoader(path).Load():
        event = event_pb2.Event.FromString(raw)
        tags += [v.tag for v in event.summary.value if v.WhichOneof("value") == "simple_value"]
    return tags


def key_prefix(written: Sequence[str], keys: Sequence[str]) -> str | None:
    """The one prefix a logger put before each of ``keys`` (written in order), or ``None`` if it did otherwise.

    Examples:
        >>> key_prefix(["train-lr-SGD", "train-lr-SGD/pg2"], ["lr-SGD", "lr-SGD/pg2"])
        'train-'
        >>> key_prefix(["lr-SGD"], ["lr-SGD"]), key_prefix(["LR"], ["lr-SGD"])
        ('', None)
    """
    if len(written) != len(keys) or not keys or not all(w.endswith(k) for w, k in zip(written, keys)):
        return None
    found = {w[: len(w) - len(k)] for w, k in zip(written, keys)}
    return found.pop() if len(found) == 1 else None
