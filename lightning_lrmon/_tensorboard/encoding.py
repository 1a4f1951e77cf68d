"""TensorBoard record framing and the fast scalar encoder: the bytes of an event file, no file in sight.

TFRecord framing (length, masked CRC-32C of the length, data, masked CRC-32C of the data; the C CRC of
``google-crc32c``) and ``ScalarEncoder``, which serialises steps of float32 scalars (``simple_value``, what
``SummaryWriter.add_scalar`` writes) byte for byte as tensorboard's protobuf classes do: protobuf writes a tag
list's first row and a template of each tag, numpy fills the rest column-wise. Text, layout and session-start
events are built with tensorboard's protobuf classes.

Examples:
    >>> import numpy as np
    >>> enc = ScalarEncoder()
    >>> records = enc.encode(["lr-SGD"], np.array([1.0]), np.array([0]), np.array([[0.1]]))
    >>> len(b"".join(records)) > 16
    True
"""

from __future__ import annotations

import struct
import time
from collections.abc import Sequence
from itertools import chain, pairwise
from typing import Any

import google_crc32c
import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.text import metadata as text_metadata

__all__ = [
    "ScalarEncoder",
    "frame",
    "layout_event",
    "masked_crc32c",
    "session_start_event",
    "text_event",
    "version_event",
]

_TEXT_METADATA = text_metadata.create_summary_metadata(display_name="", description="")
_SCALAR_SHAPE = tensor_shape_pb2.TensorShapeProto()
_MASK = 0xA282EAD8

#: one buffered step: (wall time, step, tags, values)
Pending = tuple[float, int, Sequence[str], list[float]]


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data`` (the C CRC of google-crc32c; same result as tensorboard's own).

    Examples:
        >>> from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tensorboard_crc
        >>> masked_crc32c(b"hello") == tensorboard_crc(b"hello")
        True
    """
    crc = google_crc32c.value(data)
    return int((((crc >> 15) | (crc << 17)) + _MASK) & 0xFFFFFFFF)


def _varint(n: int) -> bytes:
    """Protobuf's base-128 varint of a non-negative int (the length prefix of a length-delimited field).

    Examples:
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


def frame(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, its masked CRC."""
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


def version_event() -> bytes:
    """The first event of a file of its own (``file_version``)."""
    return bytes(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())


def session_start_event(step: int) -> bytes:
    """A ``SessionLog.START`` at ``step``: readers drop what earlier files logged at ``step`` and later."""
    event = event_pb2.Event(wall_time=time.time(), step=step, session_log=event_pb2.SessionLog(status=1))
    return bytes(event.SerializeToString())


def text_event(tag: str, markdown: str, step: int) -> bytes:
    """A text summary (TensorBoard's Text tab renders markdown)."""
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]),
        string_val=[markdown.encode("utf-8")],
    )
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=_TEXT_METADATA)
    event = event_pb2.Event(wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value]))
    return bytes(event.SerializeToString())


def layout_event(layout: Any) -> bytes:
    """A custom-scalars layout event."""
    from tensorboard.plugins.custom_scalar import metadata as cs_metadata

    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING, tensor_shape=_SCALAR_SHAPE, string_val=[layout.SerializeToString()]
    )
    value = summary_pb2.Summary.Value(
        tag=cs_metadata.CONFIG_SUMMARY_TAG, tensor=tensor, metadata=cs_metadata.create_summary_metadata()
    )
    event = event_pb2.Event(wall_time=time.time(), step=0, summary=summary_pb2.Summary(value=[value]))
    return bytes(event.SerializeToString())


class ScalarEncoder:
    """Serialises steps of scalars; remembers the tags it has written and a verified byte template per tag.

    Attributes:
        tag_prefix: put before every scalar tag (a TensorBoardLogger's ``prefix`` with its join character).
    """

    def __init__(self, tag_prefix: str = "") -> None:
        self.tag_prefix = tag_prefix
        self.seen_tags: set[str] = set()
        self._templates: dict[str, tuple[bytes, bytes]] = {}
        self._layouts: dict[tuple[str, ...], tuple[list[bytes], bytes] | None] = {}

    def _value_proto(self, tag: str, value: float, first: bool) -> summary_pb2.Summary.Value:
        # an ordinary float32 scalar, what SummaryWriter.add_scalar writes: every reader's Scalars() sees it
        return summary_pb2.Summary.Value(tag=self.tag_prefix + tag, simple_value=value)

    def _scalar_event_proto(self, wall_time: float, step: int, tags: Sequence[str], values: list[float]) -> bytes:
        """Reference serialisation with tensorboard's protobuf classes (used for first sightings and self-checks)."""
        first = [t not in self.seen_tags for t in tags]
        self.seen_tags.update(tags)
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

    def encode_pending(self, pending: list[Pending]) -> list[bytes]:
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
            chunks += self.encode(tags, walls[a:b], steps[a:b], values.reshape(b - a, len(tags)))
        return chunks

    def encode(self, tags: Sequence[str], walls: np.ndarray, steps: np.ndarray, values: np.ndarray) -> list[bytes]:
        """Records for steps sharing ``tags``: protobuf itself writes a tag list's first row (and every row when no
        template of it could be verified), numpy the rest."""
        if self._summary_layout(tags) is None:
            first = steps.shape[0]
        else:
            first = 1 if any(t not in self.seen_tags for t in tags) else 0
        out = [
            frame(self._scalar_event_proto(float(walls[k]), int(steps[k]), tags, values[k].tolist()))
            for k in range(first)
        ]
        if steps.shape[0] > first:
            out.append(self._encode_arrays(tags, walls[first:], steps[first:], values[first:]))
        return out

    def _encode_arrays(self, tags: Sequence[str], walls: np.ndarray, steps: np.ndarray, values: np.ndarray) -> bytes:
        """Framed records for steps with the same tags, built column-wise with numpy.

        Byte-for-byte what ``_scalar_event_proto`` (protobuf) produces: the same constant pieces, with the
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
