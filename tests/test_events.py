"""The event writer: byte-for-byte what tensorboard's protobuf classes produce; read back by tensorboard."""

from __future__ import annotations

import random

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

from lightning_lrmon._events import EventWriter

TAGS = ["lr-SGD/backbone", "lr-SGD/pg2", "lr-SGD/head", "lr-SGD/pg4"]
STEPS = [0, 1, 2, 127, 128, 129, 16383, 16384, 2**21, 2**40, 5]


def reference_bytes(path, rows):
    """The same events written by tensorboard's own protobuf classes and RecordWriter."""
    with open(path, "wb") as fh:
        rec = RecordWriter(fh)
        for wall, step, values in rows:
            summary = summary_pb2.Summary()
            for tag, v in zip(TAGS, values):
                summary.value.add(tag=tag, simple_value=v)  # what SummaryWriter.add_scalar writes
            rec.write(event_pb2.Event(wall_time=wall, step=step, summary=summary).SerializeToString())
    with open(path, "rb") as fh:
        return fh.read()


def test_batched_encoding_is_byte_identical_to_tensorboards_own(tmp_path):
    rng = random.Random(0)
    rows = [
        (1000.0 + i * 0.25, step, [rng.random() * 10 ** rng.randint(-9, 1) for _ in TAGS])
        for i, step in enumerate(STEPS)
    ]
    rows.append((2000.0, 7, [0.0, -0.0, float("inf"), 1e-45]))
    w = EventWriter(str(tmp_path / "ours"), max_pending=10**6)
    for wall, step, values in rows:
        w.add_scalars(step, TAGS, values, wall_time=wall)
    w.close()
    with open(w.path, "rb") as fh:
        ours = fh.read()
    theirs = reference_bytes(tmp_path / "theirs", rows)
    header = len(ours) - len(theirs)
    assert ours[header:] == theirs  # after our file_version record


def test_tensorboard_reads_every_value(tmp_path):
    w = EventWriter(str(tmp_path), max_pending=7)
    values = np.linspace(1e-6, 1.0, 1000)
    for step, v in enumerate(values):
        w.add_scalars(step, ["lr-SGD"], [float(v)])
    w.close()
    events = [e for e in EventFileLoader(w.path).Load() if e.HasField("summary")]
    assert [e.step for e in events] == list(range(1000))
    got = np.asarray([e.summary.value[0].tensor.float_val[0] for e in events])  # the loader's migrated form
    np.testing.assert_array_equal(got, values.astype(np.float32))
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(tmp_path), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    scalars = acc.Scalars("lr-SGD")  # scripts written for LearningRateMonitor's output read ours the same way
    assert [s.step for s in scalars] == list(range(1000))
    np.testing.assert_array_equal([s.value for s in scalars], values.astype(np.float32))


@pytest.mark.parametrize("n_pending", [0, 3])
def test_text_and_close_flush_everything(tmp_path, n_pending):
    w = EventWriter(str(tmp_path))
    for step in range(n_pending):
        w.add_scalars(step, ["a"], [1.0])
    w.add_text("lrmon/summary", "**hello**", step=0)
    w.close()
    w.close()  # idempotent
    events = [e for e in EventFileLoader(w.path).Load() if e.HasField("summary")]
    assert len(events) == n_pending + 1
