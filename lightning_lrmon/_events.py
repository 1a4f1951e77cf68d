"""A small, fast TensorBoard event-file writer for per-step scalars, text and custom-scalar layouts.

Why not ``SummaryWriter``: it builds one event per scalar and pushes each through a blocking queue to a thread
that computes a pure-Python CRC — about 0.1 ms per scalar. Here a step's values are kept as plain floats in a
list (no per-step protobuf, no queue) and serialised in batches with tensorboard's own protobuf classes, framed
with a C CRC-32C (``google-crc32c``). Values are written as ordinary float32 scalars (``simple_value``, what
``SummaryWriter.add_scalar`` writes), which every reader takes as scalars — the Rust data server,
``--load_fast=false``, ``EventAccumulator.Scalars()``: the logged LR is the LR the step used, rounded to float32
exactly as every TensorBoard scalar is. The file is a normal ``events.out.tfevents.*`` file.

Example:
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
import re
import socket
import struct
import threading
import time
from collections.abc import Sequence
from itertools import chain, pairwise
from typing import Any

import google_crc32c
import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.plugins.text import metadata as text_metadata

__all__ = [
    "PLAN_PREFIX",
    "EventWriter",
    "key_prefix",
    "layout_for",
    "logger_event_file",
    "masked_crc32c",
    "scalar_tags",
    "shared_event_file",
    "truncate_own_events",
]

#: Tag prefix of the planned series (``planned/lr-SGD``).
PLAN_PREFIX = "planned/"

_SCALAR_METADATA = scalar_metadata.create_summary_metadata(display_name="", description="")
_TEXT_METADATA = text_metadata.create_summary_metadata(display_name="", description="")
_SCALAR_SHAPE = tensor_shape_pb2.TensorShapeProto()
_MASK = 0xA282EAD8
_FILE_COUNTER = 0
_now = time.time
_COUNTER_LOCK = threading.Lock()


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data`` (the C CRC of google-crc32c; same result as tensorboard's own).

    Example:
        >>> from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tensorboard_crc
        >>> masked_crc32c(b"hello") == tensorboard_crc(b"hello")
        True
    """
    crc = google_crc32c.value(data)
    return int((((crc >> 15) | (crc << 17)) + _MASK) & 0xFFFFFFFF)


def _varint(n: int) -> bytes:
    """Protobuf's base-128 varint of a non-negative int (the length prefix of a length-delimited field).

    Example:
        >>> _varint(1), _varint(300)
        (b'\\x01', b'\\xac\\x02')
    """
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


class EventWriter:
    """Writes one ``events.out.tfevents.*`` file in ``logdir``; scalars are buffered until :meth:`flush`.

    Args:
        logdir: the run directory (created if missing).
        filename_suffix: appended to the file name (TensorBoard reads every events file of a run directory).
        max_pending: buffered steps after which :meth:`add_scalars` flushes by itself ...
        max_age_s: ... or once the oldest buffered step is this old (what TensorBoard shows stays this fresh).

    Example:
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
        #: put before every scalar tag (a TensorBoardLogger's ``prefix`` with its join character, e.g. ``"train-"``)
        self.tag_prefix = tag_prefix
        # O_APPEND: every write lands whole at the end, also between the records of another appending writer
        self._fh = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
        self._pending: list[tuple[float, int, Sequence[str], list[float]]] = []
        self._seen_tags: set[str] = set()
        self._max_pending = max_pending
        self._max_age_s = max_age_s
        # wall time by which buffered steps are flushed (set when the first step of a batch is buffered)
        self._flush_at = math.inf
        self._lock = threading.Lock()
        self._templates: dict[str, tuple[bytes, bytes]] = {}
        self._layouts: dict[tuple[str, ...], tuple[list[bytes], bytes] | None] = {}
        self.closed = False
        if not self.shared:
            self._write([event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString()])

    @property
    def pending(self) -> int:
        """Buffered steps not yet on disk."""
        return len(self._pending)

    def add_scalars(self, step: int, tags: Sequence[str], values: list[float], wall_time: float | None = None) -> None:
        """Buffer one step's values (``tags`` may be shared between calls; it is not copied).

        Example:
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

    def _value_proto(self, tag: str, value: float, first: bool) -> summary_pb2.Summary.Value:
        # an ordinary float32 scalar, what SummaryWriter.add_scalar writes: every reader's Scalars() sees it
        return summary_pb2.Summary.Value(tag=self.tag_prefix + tag, simple_value=value)

    def _scalar_event_proto(self, wall_time: float, step: int, tags: Sequence[str], values: list[float]) -> bytes:
        """Reference serialisation with tensorboard's protobuf classes (used for first sightings and self-checks)."""
        first = [t not in self._seen_tags for t in tags]
        self._seen_tags.update(tags)
        summary = summary_pb2.Summary(value=[self._value_proto(t, v, f) for t, v, f in zip(tags, values, first)])
        return bytes(event_pb2.Event(wall_time=wall_time, step=step, summary=summary).SerializeToString())

    def _template(self, tag: str) -> tuple[bytes, bytes] | None:
        """(prefix, suffix) such that ``prefix + <4-byte float> + suffix`` is the serialised Summary.Value entry.

        Made once per tag by protobuf itself and checked against a second protobuf serialisation.
        """
        tpl = self._templates.get(tag)
        if tpl is None:
            probe = 1.2345678
            raw = self._value_proto(tag, probe, False).SerializeToString()
            packed = struct.pack("<f", probe)
            at = raw.find(packed)
            if at < 0 or raw.count(packed) != 1:
                return None
            entry = b"\x0a" + _varint(len(raw))  # Summary.value (field 1, length-delimited)
            tpl = (entry + raw[:at], raw[at + 4 :])
            check = self._value_proto(tag, 0.5, False).SerializeToString()
            if entry + check != tpl[0] + struct.pack("<f", 0.5) + tpl[1]:
                return None
            self._templates[tag] = tpl
        return tpl

    def _summary_layout(self, tags: Sequence[str]) -> tuple[list[bytes], bytes] | None:
        """The constant byte pieces of a Summary for this tag list, and its length-prefixed field header.

        ``consts[0] + f_0 + consts[1] + f_1 + ... + consts[-1]`` (each ``f_i`` a little-endian float32) is the
        serialised Summary; ``None`` when a tag's template could not be verified (protobuf is used instead).
        """
        key = tuple(tags)
        if key not in self._layouts:
            parts: list[bytes] = []
            for tag in tags:
                tpl = self._template(tag)
                if tpl is None:
                    self._layouts[key] = None
                    return None
                parts += tpl
            # constants between the floats: prefix_0, suffix_0 + prefix_1, ..., suffix_last
            consts = [parts[0]] + [parts[2 * i + 1] + parts[2 * i + 2] for i in range(len(tags) - 1)] + [parts[-1]]
            size = sum(len(c) for c in consts) + 4 * len(tags)
            self._layouts[key] = (consts, b"\x2a" + _varint(size))
        return self._layouts[key]

    def add_session_start(self, step: int) -> None:
        """A ``SessionLog.START`` at ``step``: TensorBoard's own way to drop what earlier files logged at ``step`` and
        later (a resumed run logs those steps again).

        Example:
            >>> import tempfile
            >>> w = EventWriter(tempfile.mkdtemp()); w.add_session_start(32); w.close()
        """
        event = event_pb2.Event(wall_time=time.time(), step=step, session_log=event_pb2.SessionLog(status=1))
        self.flush(extra=[event.SerializeToString()])

    def add_text(self, tag: str, markdown: str, step: int = 0) -> None:
        """Write a text summary (TensorBoard's Text tab renders markdown) at once.

        Example:
            >>> import tempfile
            >>> w = EventWriter(tempfile.mkdtemp()); w.add_text("lrmon/summary", "**ok**"); w.close()
        """
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]),
            string_val=[markdown.encode("utf-8")],
        )
        value = summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=_TEXT_METADATA)
        event = event_pb2.Event(wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value]))
        self.flush(extra=[event.SerializeToString()])

    def add_layout(self, layout: layout_pb2.Layout) -> None:
        """Write a custom-scalars layout (one chart per optimizer, several series per chart).

        Example:
            >>> import tempfile
            >>> from tensorboard.plugins.custom_scalar import layout_pb2
            >>> w = EventWriter(tempfile.mkdtemp()); w.add_layout(layout_pb2.Layout()); w.close()
        """
        from tensorboard.plugins.custom_scalar import metadata as cs_metadata

        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING, tensor_shape=_SCALAR_SHAPE, string_val=[layout.SerializeToString()]
        )
        value = summary_pb2.Summary.Value(
            tag=cs_metadata.CONFIG_SUMMARY_TAG, tensor=tensor, metadata=cs_metadata.create_summary_metadata()
        )
        event = event_pb2.Event(wall_time=time.time(), step=0, summary=summary_pb2.Summary(value=[value]))
        self.flush(extra=[event.SerializeToString()])

    def flush(self, extra: list[bytes] | None = None) -> None:
        """Serialise every buffered step and hand it to the OS (survives a Python crash or Ctrl-C)."""
        with self._lock:
            if self.closed:
                return
            pending, self._pending = self._pending, []
            self._flush_at = math.inf
            chunks = self._encode_pending(pending) if pending else []
            if extra:
                chunks.extend(_record(p) for p in extra)
            if chunks:
                self._fh.write(b"".join(chunks))

    def _encode_pending(self, pending: list[tuple[float, int, Sequence[str], list[float]]]) -> list[bytes]:
        """The buffered steps as columns, cut into runs that share one tag list (a tag list changes when a group
        is added), each encoded at once."""
        walls_t, steps_t, tags_t, values_t = zip(*pending)
        walls = np.asarray(walls_t, dtype=np.float64)
        steps = np.asarray(steps_t, dtype=np.int64)
        ids = np.fromiter(map(id, tags_t), dtype=np.int64, count=len(pending))
        bounds = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist(), len(pending)]
        chunks: list[bytes] = []
        for a, b in pairwise(bounds):
            tags = tags_t[a]
            values = np.fromiter(chain.from_iterable(values_t[a:b]), dtype=np.float64, count=(b - a) * len(tags))
            chunks += self._encode_columns(tags, walls[a:b], steps[a:b], values.reshape(b - a, len(tags)))
        return chunks

    def _encode_columns(
        self, tags: Sequence[str], walls: np.ndarray, steps: np.ndarray, values: np.ndarray
    ) -> list[bytes]:
        """Records for steps sharing ``tags``: protobuf itself writes a tag list's first row (and every row when no
        template of it could be verified), numpy the rest."""
        if self._summary_layout(tags) is None:
            first = steps.shape[0]
        else:
            first = 1 if any(t not in self._seen_tags for t in tags) else 0
        out = [
            _record(self._scalar_event_proto(float(walls[k]), int(steps[k]), tags, values[k].tolist()))
            for k in range(first)
        ]
        if steps.shape[0] > first:
            out.append(self._encode_arrays(tags, walls[first:], steps[first:], values[first:]))
        return out

    def add_scalar_block(self, steps: np.ndarray, tags: Sequence[str], values: np.ndarray) -> None:
        """Write many steps of the same tags at once (``values`` is ``(steps, tags)``), encoded column-wise.

        Example:
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
                self._fh.write(b"".join(self._encode_columns(tags, walls, steps, values)))

    def _encode_arrays(self, tags: Sequence[str], walls: np.ndarray, steps: np.ndarray, values: np.ndarray) -> bytes:
        """Framed records for steps with the same tags, built column-wise with numpy.

        Byte-for-byte what :meth:`_scalar_event_proto` (protobuf) produces: the same constant pieces, with the
        wall times, varint steps and float32 values filled in as columns, then one C CRC-32C per record.
        """
        layout = self._summary_layout(tags)
        assert layout is not None
        consts, summary_head = layout
        n = walls.shape[0]
        # varint length of each step (0: the field is omitted, as protobuf omits a zero int64)
        nbytes = np.zeros(n, dtype=np.int64)
        rest = steps.copy()
        while np.any(rest > 0):
            nbytes += rest > 0
            rest >>= 7
        out: list[bytes] = []
        start = 0
        cuts = np.flatnonzero(np.diff(nbytes)) + 1
        for stop in [*cuts.tolist(), n]:
            out.append(
                self._encode_block(
                    consts, summary_head, walls[start:stop], steps[start:stop], values[start:stop], int(nbytes[start])
                )
            )
            start = stop
        return b"".join(out)

    @staticmethod
    def _encode_block(
        consts: list[bytes], summary_head: bytes, walls: np.ndarray, steps: np.ndarray, values: np.ndarray, k: int
    ) -> bytes:
        fields: list[tuple[Any, ...]] = [("len", "<u8"), ("lcrc", "<u4"), ("t1", "u1"), ("wall", "<f8")]
        if k:
            fields += [("t2", "u1"), ("step", "u1", (k,))]
        fields.append(("sh", f"S{len(summary_head)}"))
        for i, c in enumerate(consts[:-1]):
            fields += [(f"c{i}", f"S{len(c)}"), (f"v{i}", "<f4")]
        fields += [("clast", f"S{len(consts[-1])}"), ("dcrc", "<u4")]
        dtype = np.dtype(fields)
        data_len = dtype.itemsize - 16
        arr = np.empty(walls.shape[0], dtype=dtype)
        arr["len"] = data_len
        arr["lcrc"] = masked_crc32c(struct.pack("<Q", data_len))
        arr["t1"] = 0x09
        arr["wall"] = walls
        if k:
            arr["t2"] = 0x10
            for j in range(k):
                byte = (steps >> (7 * j)) & 0x7F
                arr["step"][:, j] = byte | 0x80 if j < k - 1 else byte
        arr["sh"] = summary_head
        for i, c in enumerate(consts[:-1]):
            arr[f"c{i}"] = c
            arr[f"v{i}"] = values[:, i]
        arr["clast"] = consts[-1]
        raw = arr.tobytes()
        size = dtype.itemsize
        crc = google_crc32c.value
        crcs = np.fromiter(
            map(crc, [raw[off + 12 : off + 12 + data_len] for off in range(0, len(raw), size)]),
            dtype=np.uint64,
            count=walls.shape[0],
        )
        arr["dcrc"] = (((crcs >> 15) | (crcs << 17)) + _MASK) & 0xFFFFFFFF
        return arr.tobytes()

    def _write(self, payloads: list[bytes]) -> None:
        self._fh.write(b"".join(_record(p) for p in payloads))

    def abandon(self) -> None:
        """Drop what is buffered and release the file without writing (after a write failed)."""
        with self._lock:
            self._pending = []
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
                fh.write(b"".join(_record(r) for r in kept))
            os.replace(tmp, path)


def logger_event_file(log_dir: str, exclude: str | None = None) -> str | None:
    """The newest non-empty event file another writer of this process keeps in ``log_dir`` (a logger's own file).

    Example:
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

    Example:
        >>> import tempfile
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

    Example:
        >>> key_prefix(["train-lr-SGD", "train-lr-SGD/pg2"], ["lr-SGD", "lr-SGD/pg2"])
        'train-'
        >>> key_prefix(["lr-SGD"], ["lr-SGD"]), key_prefix(["LR"], ["lr-SGD"])
        ('', None)
    """
    if len(written) != len(keys) or not keys or not all(w.endswith(k) for w, k in zip(written, keys)):
        return None
    found = {w[: len(w) - len(k)] for w, k in zip(written, keys)}
    return found.pop() if len(found) == 1 else None
