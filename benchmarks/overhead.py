"""Per-step cost of logging the LR at every step: no callback vs LearningRateMonitor vs LRMonitor.

One process, interleaved repetitions, medians. Each configuration trains the same tiny model (4 param groups)
with a TensorBoardLogger and ``log_every_n_steps=1`` for N optimizer steps. The cost of a callback is the
process CPU time (all threads: TensorBoard's writer thread included) and the wall time of its fit minus those
of the fit without it, per step. The CPU spent inside the callbacks' own hooks is also measured directly.

A second table does the same for a Fabric loop (``LoopMonitor`` against the ``fabric.log_dict`` users write by
hand), and times the optimizer step pre-hook ``LoopMonitor`` registers against an explicit call after the step.

Usage: python benchmarks/overhead.py [--steps N] [--reps R] [--groups G] [--logger tensorboard|csv|mlflow] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from torch.utils.data import DataLoader, TensorDataset

from lightning_lrmon import LoopMonitor, LRMonitor
from lightning_lrmon._fit.hotpath import HotPath, hot_path

torch.set_num_threads(1)
warnings.filterwarnings("ignore")
logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)


GROUPS = 4
NO_PLAN_HOLD = "LRMonitor, plan off"


class FourGroups(pl.LightningModule):
    """One param group per layer (``GROUPS`` of them; 4 by default)."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(4, 4) for _ in range(GROUPS))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x = batch[0]
        for layer in self.layers:
            x = layer(x)
        return x.pow(2).mean()

    def configure_optimizers(self) -> Any:
        groups = [{"params": layer.parameters(), "lr": 0.1 / (i + 1)} for i, layer in enumerate(self.layers)]
        opt = torch.optim.SGD(groups, lr=0.1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_steps)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def timed(cls: type, hooks: tuple[str, ...]) -> type:
    """A subclass that accumulates this thread's CPU time spent in each of ``hooks`` (and counts the calls)."""

    def make(name: str) -> Any:
        def hook(self: Any, *args: Any, **kwargs: Any) -> None:
            t0 = time.thread_time()
            getattr(super(sub, self), name)(*args, **kwargs)
            self.hook_cpu += time.thread_time() - t0
            self.hook_calls += 1

        return hook

    sub = type(f"Timed{cls.__name__}", (cls,), {name: make(name) for name in hooks})
    sub.hook_cpu = 0.0  # type: ignore[attr-defined]
    sub.hook_calls = 0  # type: ignore[attr-defined]
    return sub


# every hook each callback implements
TimedLRM = timed(LearningRateMonitor, ("on_train_start", "on_train_batch_start", "on_train_epoch_start"))
LRMON_HOOKS = (
    "on_fit_start",
    "on_train_start",
    "on_before_optimizer_step",
    "on_train_epoch_start",
    "on_train_epoch_end",
    "on_validation_start",
    "setup",
    "on_exception",
    "on_fit_end",
    "teardown",
)
TimedLRMon = timed(LRMonitor, LRMON_HOOKS)


class HotPathWithoutPlan(HotPath):
    """``HotPath.take`` less the plan's band: every ordinary step is buffered without being held against the plan."""

    __slots__ = ()

    def take(self, optimizer: Any, step: int) -> bool:
        c = self.count + 1
        groups = self.groups
        if c >= self.until or optimizer is not self.wrapper or len(groups) != self.n:
            return False
        values = [float(g["lr"]) for g in groups]
        wall = time.time()
        if wall > self.flush_at:
            return False
        self.pending.append((wall, step, self.tags, values))
        self.values, self.count = values, c
        return True


@contextlib.contextmanager
def without_plan_hold() -> Iterator[None]:
    """LRMonitor with the per-step hold of the run against its plan switched off on its ordinary steps (the steps
    its full path takes, every 256th and the check counts, keep it): what that comparison costs is the difference
    between the two rows. Swaps the hot path's class for the length of one fit."""
    from lightning_lrmon import _callback

    def build(session: Any, optimizer: Any) -> HotPath | None:
        hot = hot_path(session, optimizer)
        if hot is not None:
            hot.__class__ = HotPathWithoutPlan
        return hot

    _callback.hot_path = build  # type: ignore[attr-defined]
    try:
        yield
    finally:
        _callback.hot_path = hot_path  # type: ignore[attr-defined]


# the timer's own cost: the same hooks, timed the same way, doing nothing (Lightning's no-op Callback hooks)
TimedNoop = timed(pl.Callback, LRMON_HOOKS)


class ReadAndBuffer(pl.Callback):
    """The floor of any per-step LR logger: read every group's LR and keep it in a list (nothing is ever written)."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, int, list[float]]] = []

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        self.rows.append((time.time(), trainer.global_step, [float(g["lr"]) for g in optimizer.param_groups]))
        if len(self.rows) >= 1024:
            self.rows = []


TimedFloor = timed(ReadAndBuffer, ("on_before_optimizer_step",))


def make_logger(logger_kind: str, root: str, kind: str) -> Any:
    if logger_kind == "tensorboard":
        return TensorBoardLogger(root, name=kind)
    if logger_kind == "csv":
        return CSVLogger(root, name=kind)
    from lightning.pytorch.loggers import MLFlowLogger  # needs mlflow (e.g. pip install mlflow-skinny)

    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # a local file store: no server, no database
    return MLFlowLogger(experiment_name=kind.replace(" ", "-"), tracking_uri=f"file:{root}/mlruns")


def fit(kind: str, steps: int, root: str, logger_kind: str = "tensorboard", every: int = 1) -> dict[str, float]:
    callbacks: list[Any] = []
    if kind == "LearningRateMonitor":
        callbacks = [TimedLRM(logging_interval="step")]
    elif kind in ("LRMonitor", NO_PLAN_HOLD):  # the latter with the plan's band off on ordinary steps (fit below)
        callbacks = [TimedLRMon(summary=False)]
    elif kind == "no-op Callback":
        callbacks = [pl.Callback()]
    elif kind == "timed no-op":
        callbacks = [TimedNoop()]
    elif kind == "floor: read + buffer":
        callbacks = [TimedFloor()]
    data = DataLoader(TensorDataset(torch.randn(steps * 4, 4)), batch_size=4)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=steps,
        logger=make_logger(logger_kind, root, kind),
        callbacks=callbacks,
        log_every_n_steps=every,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=False,
    )
    gc.collect()
    c0, w0, t0 = time.process_time(), time.perf_counter(), time.thread_time()
    with without_plan_hold() if kind == NO_PLAN_HOLD else contextlib.nullcontext():
        trainer.fit(FourGroups(), data)
    for logger in trainer.loggers:
        logger.finalize("success")  # flush SummaryWriter's queue: its CPU belongs to the measurement
    c1, w1, t1 = time.process_time(), time.perf_counter(), time.thread_time()
    out = {
        "cpu": c1 - c0,
        "wall": w1 - w0,
        "hook": getattr(callbacks[0], "hook_cpu", 0.0) if callbacks else 0.0,
        "calls": float(getattr(callbacks[0], "hook_calls", 0)) if callbacks else 0.0,
        # CPU of every other thread (SummaryWriter's writer thread): process CPU minus this thread's
        "threads": (c1 - c0) - (t1 - t0),
    }
    if kind == "LearningRateMonitor":
        out["kept"] = float(sum(len(v) for v in callbacks[0].lrs.values()))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Fabric loops


def fabric_loop(kind: str, steps: int, root: str) -> dict[str, float]:
    """``steps`` optimizer steps of a Fabric loop with a TensorBoardLogger: process CPU (all threads), the main
    thread's CPU, and the CPU timed inside the LR logging (the hand-written ``fabric.log_dict`` call, or the optimizer
    step pre-hooks between two timing hooks)."""
    from lightning.fabric import Fabric
    from lightning.fabric.loggers import TensorBoardLogger as FabricTB

    fabric = Fabric(accelerator="cpu", devices=1, loggers=FabricTB(root, name=kind.replace(" ", "_")))
    model = torch.nn.ModuleList(torch.nn.Linear(4, 4) for _ in range(GROUPS))
    groups = [{"params": layer.parameters(), "lr": 0.1 / (i + 1)} for i, layer in enumerate(model)]
    optimizer = torch.optim.SGD(groups, lr=0.1)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    model, optimizer = fabric.setup(model, optimizer)
    timed = [0.0, 0.0]  # total, start of the current call
    clock = time.thread_time
    hooked = kind in ("timed empty pre-hook", "LoopMonitor (pre-hook)")
    if hooked:  # hooks run in registration order: the monitor's runs between these two
        optimizer.optimizer.register_step_pre_hook(lambda *a: timed.__setitem__(1, clock()))
    monitor = LoopMonitor(optimizer, scheduler, total_steps=steps, fabric=fabric) if "LoopMonitor" in kind else None
    if hooked:
        optimizer.optimizer.register_step_pre_hook(lambda *a: timed.__setitem__(0, timed[0] + clock() - timed[1]))
    batch = torch.randn(8, 4)
    logger = fabric.loggers[0]
    _ = logger.experiment  # the writer exists before the clock starts, in every configuration
    if monitor is not None:
        monitor.start()  # the review is a start cost (benchmarks/startup.py), not a per-step one
    gc.collect()
    cpu, main = time.process_time(), time.thread_time()
    for step in range(steps):
        x = batch
        for layer in model.module:
            x = layer(x)
        fabric.backward(x.pow(2).mean())
        if kind == "fabric.log_dict by hand":
            t0 = clock()
            fabric.log_dict({f"lr-SGD/pg{i + 1}": g["lr"] for i, g in enumerate(optimizer.param_groups)}, step=step)
            timed[0] += clock() - t0
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
    if monitor is not None:
        t0 = clock()
        monitor.close()  # its last flush is part of its cost
        timed[0] += clock() - t0
    logger.finalize("success")
    cpu, main = time.process_time() - cpu, time.thread_time() - main
    return {"cpu": cpu, "threads": cpu - main, "timed": timed[0]}


def fabric_table(steps: int, reps: int, own_lrmonitor: float | None) -> None:
    kinds = ["no LR logging", "timed empty pre-hook", "fabric.log_dict by hand", "LoopMonitor (pre-hook)"]
    results: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as root:
        fabric_loop("no LR logging", min(steps, 50), root)
        for rep in range(reps):
            for kind in kinds if rep % 2 == 0 else kinds[::-1]:
                results[kind].append(fabric_loop(kind, steps, root))
    med = {
        k: {m: statistics.median(r[m] for r in v) / steps for m in ("cpu", "threads", "timed")}
        for k, v in results.items()
    }
    bias = med["timed empty pre-hook"]["timed"]  # the two timing hooks around nothing
    own = {
        "fabric.log_dict by hand": med["fabric.log_dict by hand"]["timed"],
        "LoopMonitor (pre-hook)": max(0.0, med["LoopMonitor (pre-hook)"]["timed"] - bias),
    }
    for kind in own:  # the writer thread of SummaryWriter (log_dict) or nothing (LoopMonitor writes in the hook)
        own[kind] += max(0.0, med[kind]["threads"] - med["no LR logging"]["threads"])
    print(f"Fabric loop, {steps} optimizer steps, {GROUPS} param groups, TensorBoardLogger, every step (medians)")
    print(f"{'':26}{'loop CPU/step':>14}{'other threads':>15}{'timed':>10}{'own cost':>11}")
    for kind in kinds:
        m = med[kind]
        cost = f"{own[kind] * 1e6:>8.1f} us" if kind in own else f"{'':>11}"
        print(f"{kind:26}{m['cpu'] * 1e6:>11.1f} us{m['threads'] * 1e6:>12.1f} us{m['timed'] * 1e6:>7.1f} us{cost}")
    ours, hand = own["LoopMonitor (pre-hook)"], own["fabric.log_dict by hand"]
    line = f"ratio LoopMonitor / fabric.log_dict by hand, own cost per step: {ours / hand:.3f}"
    if own_lrmonitor:
        line += f"; LoopMonitor / LRMonitor's own cost (table above): {ours / own_lrmonitor:.3f}"
    print(line)
    print(
        f"the pre-hook's dispatch: {bias * 1e6:.2f} us per step for two empty timing hooks, timed from inside them "
        "(an explicit call after optimizer.step() would cost one Python call instead)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny run, for the test suite")
    parser.add_argument("--logger", choices=("tensorboard", "csv", "mlflow"), default="tensorboard")
    parser.add_argument("--groups", type=int, default=4, help="param groups (one per layer)")
    parser.add_argument("--log-every", type=int, default=1, help="Trainer(log_every_n_steps=...)")
    parser.add_argument("--fabric-only", action="store_true", help="only the Fabric loop table")
    args = parser.parse_args()
    global GROUPS
    GROUPS = args.groups
    steps, reps = (60, 1) if args.smoke else (args.steps, args.reps)
    if args.fabric_only:
        fabric_table(steps, reps, None)
        return
    kinds = [
        "none",
        "no-op Callback",
        "timed no-op",
        "floor: read + buffer",
        "LearningRateMonitor",
        "LRMonitor",
        NO_PLAN_HOLD,
    ]
    results: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as root:
        fit("none", min(steps, 50), root, args.logger, args.log_every)  # warm-up: imports, first-fit costs
        for rep in range(reps):
            order = kinds if rep % 2 == 0 else kinds[::-1]
            for kind in order:
                results[kind].append(fit(kind, steps, root, args.logger, args.log_every))
    metrics = ("cpu", "wall", "hook", "threads", "calls")
    med = {k: {m: statistics.median(r[m] for r in results[k]) for m in metrics} for k in kinds}
    cadence = "log every step" if args.log_every == 1 else f"Trainer(log_every_n_steps={args.log_every})"
    print(
        f"{steps} optimizer steps, {GROUPS} param groups, {args.logger} logger, {cadence}, {reps} interleaved "
        "repetitions (medians)"
    )
    print(
        f"{'':22}{'fit CPU/step':>14}{'fit wall/step':>15}{'hooks CPU':>12}{'other threads':>15}"
        f"{'own cost':>11}{'fit - no callback':>19}"
    )
    # what one timed call costs when the hook does nothing: the timer's bias, taken off every timed call below
    bias = med["timed no-op"]["hook"] / max(med["timed no-op"]["calls"], 1.0)
    own, total = {}, {}
    for kind in kinds:
        m = med[kind]
        extra_threads = max(0.0, m["threads"] - med["none"]["threads"])
        hooks = max(0.0, m["hook"] - bias * m["calls"])
        own[kind] = (hooks + extra_threads) / steps
        total[kind] = (m["cpu"] - med["none"]["cpu"]) / steps
        print(
            f"{kind:22}{m['cpu'] / steps * 1e6:>11.1f} us{m['wall'] / steps * 1e6:>12.1f} us"
            f"{hooks / steps * 1e6:>9.1f} us{m['threads'] / steps * 1e6:>12.1f} us{own[kind] * 1e6:>8.1f} us"
            f"{total[kind] * 1e6:>16.1f} us"
        )
    lrm, ours = "LearningRateMonitor", "LRMonitor"
    noop = total["no-op Callback"]
    print(
        f"ratio LRMonitor / LearningRateMonitor, own cost per step: {own[ours] / own[lrm]:.3f}; "
        f"whole-fit difference net of hook dispatch: {(total[ours] - noop) / (total[lrm] - noop):.3f}"
    )
    print(
        "own cost = CPU inside all of the callback's hooks (timed per hook with thread_time, less the timer's own "
        f"cost: {bias * 1e6:.2f} us per timed call, what the same hooks cost timed the same way when they do "
        "nothing, the 'timed no-op' row) + the extra CPU of other threads (SummaryWriter's writer thread) over the "
        "run without callbacks. 'fit - no callback' is the whole-fit difference: it also holds Lightning's dispatch "
        "of hooks, paid by any callback (no-op Callback row), and run-to-run noise of tens of us."
    )
    print(
        f"the run held against its plan at every step read: {(own[ours] - own[NO_PLAN_HOLD]) * 1e6:.1f} us per step "
        f"(LRMonitor minus the '{NO_PLAN_HOLD}' row)"
    )
    kept = statistics.median(r["kept"] for r in results["LearningRateMonitor"])
    print(f"memory: LearningRateMonitor keeps {kept:.0f} values in `lrs` after {steps} steps; LRMonitor keeps none")
    print()
    fabric_table(steps, reps, own[ours])


if __name__ == "__main__":
    main()
