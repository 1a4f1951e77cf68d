"""``LoopMonitor`` in loops users write: real Fabric on CPU, plain PyTorch with a ``SummaryWriter``, an LR function
in the LitGPT shape, resume through ``fabric.save``/``fabric.load``, and the mistakes of such loops.

Every logged value is read back with tensorboard's own loader and compared with what torch's own stepping applied.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import math
import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from helpers import f32, read_scalars
from lightning.fabric import Fabric
from lightning.fabric.loggers import CSVLogger, TensorBoardLogger
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR
from torch.utils.tensorboard import SummaryWriter

from lightning_lrmon import LoopMonitor, LRMonitorConfigError, LRScheduleError, LRScheduleWarning, plot


def fabric(loggers: Any = None) -> Fabric:
    f = Fabric(accelerator="cpu", devices=1, loggers=loggers)
    f.launch()
    return f


def model_and_sgd(lr: float = 0.001) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def train(model: Any, optimizer: Any, steps: int, *, scheduler: Any = None, lr_fn: Any = None, backward=None) -> list:
    """A plain loop; the LR each step applied, read from the optimizer just before its step."""
    applied = []
    for it in range(steps):
        if lr_fn is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_fn(it)
        loss = model(torch.randn(8, 4)).pow(2).mean()
        (backward or (lambda t: t.backward()))(loss)
        applied.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        optimizer.zero_grad()
        if scheduler is not None:
            scheduler.step()
    return applied


def torch_linear(steps: int, *, lr: float = 0.001, start: float = 0.5, total: int = 100) -> list[float]:
    """The LRs torch's own LinearLR applies, stepped on an optimizer of its own."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = LinearLR(opt, start_factor=start, total_iters=total)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@contextlib.contextmanager
def recorded() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning of the block, recorded (none turned into an error)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        yield record


def test_fabric_seed_mistake_warned_at_the_first_step_and_every_step_logged(tmp_path):
    """The seed's mistake under Fabric: the warning points at the user's line, before any update; TensorBoard
    gets every step's LR (torch's own LinearLR's), in the logger's own file; the CSV logger every 50th and the last."""
    f = fabric([TensorBoardLogger(tmp_path, name="tb"), CSVLogger(tmp_path, name="csv")])
    model, optimizer = model_and_sgd()
    scheduler = LinearLR(optimizer, start_factor=0.5, total_iters=100)
    model, optimizer = f.setup(model, optimizer)
    with recorded() as record:
        monitor = LoopMonitor(optimizer, scheduler, total_steps=100, fabric=f)
        assert not record  # nothing is said before the loop runs (a checkpoint may still be loaded)
        applied = train(model, optimizer, 100, scheduler=scheduler, backward=f.backward)
    monitor.close()
    ours = [w for w in record if issubclass(w.category, LRScheduleWarning)]
    assert len(ours) == 1 and str(ours[0].message).startswith("decay-increases: LinearLR(start_factor=0.5")
    assert ours[0].filename == __file__  # the line that made the monitor
    run = os.path.join(tmp_path, "tb", "version_0")
    assert glob.glob(os.path.join(run, "events.out.tfevents.*")) == [monitor.event_file]  # one file: the logger's
    scalars = read_scalars(run)
    assert [s for s, _ in scalars["lr-SGD"]] == list(range(100))
    np.testing.assert_array_equal([v for _, v in scalars["lr-SGD"]], f32(torch_linear(100)))
    np.testing.assert_array_equal(f32([a[0] for a in applied]), f32(torch_linear(100)))
    assert "planned/lr-SGD" in scalars
    with open(os.path.join(tmp_path, "csv", "version_0", "metrics.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [49, 99]
    assert float(rows[1]["lr-SGD"]) == pytest.approx(torch_linear(100)[99])


def test_raise_stops_the_loop_before_its_first_update(tmp_path):
    model, optimizer = model_and_sgd()
    scheduler = LinearLR(optimizer, start_factor=0.5, total_iters=100)
    before = [p.detach().clone() for p in model.parameters()]
    with recorded(), pytest.raises(LRScheduleError, match="decay-increases"):
        LoopMonitor(optimizer, scheduler, total_steps=100, on_misconfig="raise")
        train(model, optimizer, 1, scheduler=scheduler)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_plain_loop_with_a_summary_writer(tmp_path):
    """A torch SummaryWriter: the LRs go into the writer's own event file, every step, next to what the user logs."""
    writer = SummaryWriter(str(tmp_path / "plain"))
    model, optimizer = model_and_sgd(0.1)
    scheduler = CosineAnnealingLR(optimizer, T_max=60)
    with recorded() as record:
        monitor = LoopMonitor(optimizer, scheduler, total_steps=60, logger=writer)
        applied = train(model, optimizer, 60, scheduler=scheduler)
        writer.add_scalar("loss", 1.0, 0)
    monitor.close()
    writer.close()
    assert not [w for w in record if issubclass(w.category, Warning) and "lrmon" in str(w.message).lower()]
    assert monitor.findings == []  # a healthy schedule, stepped right: silent
    files = glob.glob(str(tmp_path / "plain" / "events.out.tfevents.*"))
    assert files == [monitor.event_file]
    scalars = read_scalars(str(tmp_path / "plain"))
    np.testing.assert_array_equal([v for _, v in scalars["lr-SGD"]], f32([a[0] for a in applied]))
    assert "loss" in scalars


def litgpt_lr(warmup: int, max_iters: int, lr: float = 6e-4, min_lr: float = 6e-5) -> Any:
    def get_lr(it: int) -> float:  # LitGPT's / nanoGPT's shape: linear warm-up, then cosine to min_lr
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        ratio = (it - warmup) / max(1, max_iters - warmup)
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)

    return get_lr


@pytest.mark.parametrize(("warmup", "codes"), [(2, []), (29, ["warmup-too-long"])])
def test_an_lr_function_is_reviewed_and_its_writes_logged(tmp_path, warmup, codes):
    """The LitGPT loop writes ``get_lr(it)`` into the param groups; LoopMonitor reviews the function (a warm-up of 29
    steps in a 32-step run is said) and logs what each step used."""
    get_lr = litgpt_lr(warmup, 32)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=6e-4)
    writer = SummaryWriter(str(tmp_path))
    with recorded():
        monitor = LoopMonitor(optimizer, lr_fn=get_lr, total_steps=32, logger=writer)
        applied = train(model, optimizer, 32, lr_fn=get_lr)
    monitor.close()
    assert [f.code for f in monitor.findings] == codes
    if codes:
        assert "lr_fn get_lr on lr-AdamW warms up" in monitor.findings[0].message
    scalars = read_scalars(str(tmp_path))
    np.testing.assert_array_equal([v for _, v in scalars["lr-AdamW"]], f32([a[0] for a in applied]))
    np.testing.assert_allclose([v for _, v in scalars["planned/lr-AdamW"]], f32([get_lr(i) for i in range(32)]))
    lines = {line.get_label(): line for line in plot(monitor).axes[0].get_lines()}
    np.testing.assert_array_equal(lines["actual lr-AdamW"].get_ydata(), f32([a[0] for a in applied]))
    np.testing.assert_allclose(lines["planned lr-AdamW"].get_ydata(), [get_lr(i) for i in range(32)], rtol=1e-9)


def test_an_lr_function_called_with_another_counter_is_noted():
    """The loop writes lr(4 * it) (a micro-batch counter) where the monitor reviewed lr(it): a note, not a warning."""
    model, optimizer = model_and_sgd(0.1)

    def lr(s: int) -> float:
        return 0.1 * max(0.0, 1 - s / 100)

    with recorded():
        monitor = LoopMonitor(optimizer, lr_fn=lr, total_steps=100, on_misconfig="raise")
        train(model, optimizer, 12, lr_fn=lambda it: lr(4 * it))
    monitor.close()
    (note,) = [f for f in monitor.findings if f.code == "lr-outside-plan"]
    assert note.kind == "tooling" and "lr_fn(1) gives 0.099" in note.message and "0.096" in note.message


@pytest.mark.parametrize(
    ("steps_per_call", "code", "words"),
    [
        (0, "scheduler-not-stepped", "your loop does not call its step() after each optimizer step"),
        (2, "double-step", "runs 2.0x too fast"),
    ],
)
def test_a_scheduler_stepped_twice_or_never_is_said_within_ten_steps(steps_per_call, code, words):
    model, optimizer = model_and_sgd(0.1)
    scheduler = CosineAnnealingLR(optimizer, T_max=100)

    def step_it() -> None:
        for _ in range(steps_per_call):
            scheduler.step()

    class Stepper:
        def step(self) -> None:
            step_it()

    with recorded():
        monitor = LoopMonitor(optimizer, scheduler, total_steps=100)
        train(model, optimizer, 10, scheduler=Stepper())
    monitor.close()
    (found,) = [f for f in monitor.findings if f.code == code]
    assert words in found.message and "The applied LR left the plan" in found.message
    assert "Lightning" not in found.message + found.hint


def test_a_scheduler_passed_to_fabric_setup_is_named_with_the_fix():
    """``fabric.setup(model, optimizer, scheduler)`` wraps the scheduler as an optimizer (a user's report)."""
    f = fabric()
    model, optimizer = model_and_sgd(0.1)
    scheduler = CosineAnnealingLR(optimizer, T_max=20)
    model, optimizer, scheduler = f.setup(model, optimizer, scheduler)
    with recorded():
        monitor = LoopMonitor(optimizer, scheduler, total_steps=20, fabric=f, on_misconfig="ignore")
        train(model, optimizer, 20, scheduler=scheduler, backward=f.backward)
    monitor.close()
    (found,) = [x for x in monitor.findings if x.code == "scheduler-in-setup"]
    assert "model, optimizer = fabric.setup(model, optimizer)" in found.hint
    assert "CosineAnnealingLR was passed to fabric.setup" in found.message


def run_resumable(tmp_path: Any, steps: int, *, resume: bool) -> tuple[LoopMonitor, list]:
    """A spec-built cosine (``T_max="auto"``) over 100 steps, saved at ``steps`` or loaded and run to the end."""
    f = fabric(TensorBoardLogger(tmp_path, name="tb", version=0))
    model, optimizer = model_and_sgd(0.1)
    model, optimizer = f.setup(model, optimizer)
    spec = {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}
    monitor = LoopMonitor(optimizer, spec, total_steps=100, fabric=f)
    state = {"model": model, "optimizer": optimizer, "lrmon": monitor}
    if resume:
        f.load(tmp_path / "ckpt.pt", state)
    applied = train(model, optimizer, steps, scheduler=monitor.scheduler, backward=f.backward)
    if not resume:
        f.save(tmp_path / "ckpt.pt", state)
    monitor.close()
    return monitor, applied


def test_resume_through_fabric_save_and_load_continues_the_schedule(tmp_path):
    with recorded():
        first, head = run_resumable(tmp_path, 40, resume=False)
        second, tail = run_resumable(tmp_path, 60, resume=True)
    assert second.steps == 100 and second.findings == [] and first.findings == []
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    cosine = CosineAnnealingLR(reference, T_max=100)
    expected = []
    for _ in range(100):
        expected.append(reference.param_groups[0]["lr"])
        reference.step()
        cosine.step()
    np.testing.assert_allclose([a[0] for a in head + tail], expected, rtol=1e-12)
    points = read_scalars(os.path.join(tmp_path, "tb", "version_0"))["lr-SGD"]
    assert [s for s, _ in points] == list(range(100))  # each step once, across the two runs
    np.testing.assert_array_equal([v for _, v in points], f32(expected))


def test_the_run_is_bit_identical_with_and_without_the_monitor(tmp_path):
    def run(with_monitor: bool) -> tuple[list[torch.Tensor], torch.Tensor]:
        model, optimizer = model_and_sgd(0.1)
        scheduler = CosineAnnealingLR(optimizer, T_max=30)
        monitor = (
            LoopMonitor(optimizer, scheduler, total_steps=30, logger=SummaryWriter(str(tmp_path / str(with_monitor))))
            if with_monitor
            else None
        )
        train(model, optimizer, 30, scheduler=scheduler)
        if monitor is not None:
            monitor.close()
        return [p.detach().clone() for p in model.parameters()], torch.get_rng_state()

    with recorded():
        (p0, rng0), (p1, rng1) = run(False), run(True)
    assert all(torch.equal(a, b) for a, b in zip(p0, p1)) and torch.equal(rng0, rng1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"total_steps": -1}, r"`total_steps` must be the optimizer steps the loop takes"),
        ({"total_steps": 10, "logger": object()}, r"`logger` got object, which takes no metrics"),
        ({"total_steps": 10, "lr_fn": [abs, abs]}, r"`lr_fn` must be a function step -> lr, or a list of 1"),
        (
            {"total_steps": None, "scheduler": {"class_path": "StepLR", "init_args": {"step_size": "auto"}}},
            "pass total_steps=",
        ),
        ({"total_steps": 10, "scheduler": "other"}, r"built on another optimizer"),
        ({"total_steps": 10, "scheduler": {"class_path": "StepLR"}, "lr_fn": abs}, r"both `scheduler` and `lr_fn`"),
    ],
)
def test_bad_arguments_fail_at_construction_with_the_fix(kwargs, match):
    model, optimizer = model_and_sgd()
    if kwargs.get("scheduler") == "other":
        other = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        kwargs = {**kwargs, "scheduler": CosineAnnealingLR(other, T_max=5)}
    with pytest.raises(LRMonitorConfigError, match=match):
        LoopMonitor(optimizer, **kwargs)


def test_a_schedule_whose_lr_reads_zero_from_step_zero_is_said():
    """lightning-sam's report: a warm-up lambda whose LR stays 0 (``get_last_lr()`` reads 0): the whole run trains
    nothing, said with what to look at (was 'below 1e-06 x its peak 0')."""
    model, optimizer = model_and_sgd(0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.0)
    with recorded():
        monitor = LoopMonitor(optimizer, scheduler, total_steps=50)
        train(model, optimizer, 5, scheduler=scheduler)
    monitor.close()
    (found,) = [f for f in monitor.findings if f.code == "lr-zero-early"]
    assert "keeps the LR of lr-SGD at 0 from step 0 to the end of the run: all 50 steps train nothing" in found.message
    assert "fabric.setup" in found.hint
