"""The event writer: byte-for-byte what tensorboard's protobuf classes produce; read back by tensorboard."""

from __future__ import annotations

import random

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

from lightning_lrmon._fit.sinks import TensorBoardSink
from lightning_lrmon._tensorboard.writer import EventWriter

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


def test_a_block_of_steps_is_byte_identical_to_tensorboards_own(tmp_path, monkeypatch):
    import lightning_lrmon._tensorboard.writer as events

    rng = np.random.default_rng(0)
    steps = np.asarray(STEPS + list(range(300, 340)), dtype=np.int64)
    values = rng.random((steps.shape[0], len(TAGS))) * 10.0 ** rng.integers(-9, 2, (steps.shape[0], len(TAGS)))
    values[3] = [0.0, -0.0, float("inf"), 1e-45]
    monkeypatch.setattr(events, "_now", lambda: 1234.5)  # one wall time for the block, as the writer takes it
    w = EventWriter(str(tmp_path / "ours"))
    w.add_scalar_block(steps, TAGS, values)
    w.close()
    with open(w.path, "rb") as fh:
        ours = fh.read()
    theirs = reference_bytes(tmp_path / "theirs", [(1234.5, int(s), v.tolist()) for s, v in zip(steps, values)])
    assert ours[len(ours) - len(theirs) :] == theirs


def test_buffered_steps_reach_the_file_within_the_age_limit(tmp_path):
    w = EventWriter(str(tmp_path), max_age_s=5.0)
    w.add_scalars(0, ["lr"], [0.1], wall_time=100.0)
    w.add_scalars(1, ["lr"], [0.1], wall_time=104.0)
    assert w.pending == 2  # younger than 5 s: still buffered
    w.add_scalars(2, ["lr"], [0.1], wall_time=105.5)
    assert w.pending == 0  # the oldest was 5.5 s old: all written
    w.close()


def test_lrmonitors_per_step_path_keeps_the_age_limit(tmp_path):
    import time

    import torch

    from lightning_lrmon._fit.session import Session

    sgd = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    session = Session(on_misconfig="warn", is_zero=True)
    session.tracker.start([sgd], [])
    writer = EventWriter(str(tmp_path), max_age_s=0.05)
    session.attach(TensorBoardSink(writer, logger=None), None)
    session.log_step(sgd, 0)
    assert writer.pending == 1
    time.sleep(0.1)
    session.log_step(sgd, 1)
    assert writer.pending == 0
    events = [e for e in EventFileLoader(writer.path).Load() if e.HasField("summary")]
    assert [e.step for e in events] == [0, 1]
    session.close()


def test_a_failing_deferred_write_never_reaches_the_training_loop(tmp_path):
    import torch

    from lightning_lrmon._fit.session import Session

    sgd = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    session = Session(on_misconfig="ignore", is_zero=True)
    session.tracker.start([sgd], [])
    writer = EventWriter(str(tmp_path))
    sink = TensorBoardSink(writer, logger=object())  # a logger that cannot be read back: no prefix is learned
    session.attach(sink, None)
    assert sink.state == "learning"
    session.write_text("lrmon/summary", "**ok**", 0)
    sink._waiting.insert(0, ("series", (np.arange(1), ["a", "b"], np.ones((1, 1)))))  # a broken write
    assert session.log_step(sgd, 0) == [0.1]  # the first step learns the prefix and runs what waited
    assert [f.code for f in session.findings] == ["logger-failed"]
    path = writer.path
    session.log_step(sgd, 1)
    session.close()
    events = [e for e in EventFileLoader(path).Load() if e.HasField("summary")]
    written = {(v.tag, e.step) for e in events for v in e.summary.value}
    assert ("lrmon/summary", 0) in written and ("lr-SGD", 1) in written  # what came after the failure is there
    assert ("lr-SGD", 0) in written  # and the step whose write ran what waited keeps its own values
