"""Patterns Lightning users really have: LRMonitor must not crash the run, change it, or mislead (real Trainer fits)."""

from __future__ import annotations

import itertools
import os
import random
import re
import warnings
from functools import partial
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from helpers import SGD, TinyModule, f32, loader, read_scalars, run_dir, series, trainer
from lightning.pytorch.callbacks import BackboneFinetuning, EarlyStopping
from lightning.pytorch.loggers import CSVLogger
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler, StepLR
from torch.utils.data import DataLoader, IterableDataset

from lightning_lrmon import LRMonitor, LRMonitorConfigError, LRMonitorNote, LRScheduleWarning


def lr_warnings(record: Any) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]


# ---------------------------------------------------------------------------------------------------------------
# never crash: param groups added during training (Lightning's own BackboneFinetuning)


class Finetune(TinyModule):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = self.body

    def configure_optimizers(self) -> Any:
        return SGD([p for p in self.parameters() if p.requires_grad], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("log_momentum", [False, True])
def test_backbone_finetuning_adds_a_group_and_every_step_is_logged_exactly(tmp_path, log_momentum):
    module = Finetune()
    finetune = BackboneFinetuning(unfreeze_backbone_at_epoch=1, backbone_initial_ratio_lr=0.5)
    cb = LRMonitor(partial(StepLR, step_size=4, gamma=0.5), log_momentum=log_momentum)
    t = trainer(tmp_path, [finetune, cb], max_steps=-1, max_epochs=2)
    t.fit(module, loader(32, 4))  # 8 steps per epoch; the backbone group arrives at step 8
    applied = module.optimizers().optimizer.applied
    assert [len(a) for a in applied] == [1] * 8 + [2] * 8
    scalars = read_scalars(run_dir(tmp_path))
    steps, values = series(scalars, "lr-SGD")
    assert steps == list(range(8))
    np.testing.assert_array_equal(values, f32([a[0] for a in applied[:8]]))
    for g, tag in enumerate(["lr-SGD/pg1", "lr-SGD/pg2"]):  # LearningRateMonitor's names once there are two
        steps, values = series(scalars, tag)
        assert steps == list(range(8, 16))
        np.testing.assert_array_equal(values, f32([a[g] for a in applied[8:]]))
    if log_momentum:
        steps, values = series(scalars, "lr-SGD/pg2-momentum")
        assert steps == list(range(8, 16)) and np.all(values == f32(0.9))


def test_an_added_group_reaches_other_loggers_under_its_own_tag(tmp_path):
    module = Finetune()
    finetune = BackboneFinetuning(unfreeze_backbone_at_epoch=1)
    t = trainer(tmp_path, [finetune, LRMonitor()], logger=CSVLogger(str(tmp_path), name="csv"), max_epochs=2)
    t.fit(module, loader(32, 4))
    import csv

    with open(f"{t.logger.log_dir}/metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    second = [r for r in rows if r.get("lr-SGD/pg2")]
    assert len(second) == 8 and all(float(r["lr-SGD/pg2"]) == module.optimizers().param_groups[1]["lr"] for r in second)


# ---------------------------------------------------------------------------------------------------------------
# never crash, never a false finding: a scheduler that is not a torch LRScheduler (timm's shape)


class TimmShaped:
    """The API of timm's ``Scheduler`` (timm itself needs torchvision, which does not import beside the pinned CPU
    torch): ``_get_lr(t)`` is the LR as a pure function of t, ``step(epoch)`` / ``step_update(num_updates)`` set it,
    and the constructor sets the LR of t=0. Not a torch ``LRScheduler``."""

    def __init__(self, optimizer: torch.optim.Optimizer, lr_of_t: Any, t_in_epochs: bool = True) -> None:
        self.optimizer = optimizer
        self.base_values = [g["lr"] for g in optimizer.param_groups]
        self.lr_of_t = lr_of_t
        self.t_in_epochs = t_in_epochs
        self._set(self._get_lr(0))

    def _get_lr(self, t: int) -> list[float]:
        return [self.lr_of_t(b, t) for b in self.base_values]

    def _set(self, values: list[float]) -> None:
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = lr

    def step(self, epoch: int, metric: Any = None) -> None:
        if self.t_in_epochs:
            self._set(self._get_lr(epoch))

    def step_update(self, num_updates: int, metric: Any = None) -> None:
        if not self.t_in_epochs:
            self._set(self._get_lr(num_updates))

    def state_dict(self) -> dict[str, Any]:
        return {"t_in_epochs": self.t_in_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t_in_epochs = state["t_in_epochs"]


class TimmStyle(TinyModule):
    """Lightning's documented way to use a timm scheduler: override ``lr_scheduler_step``."""

    def __init__(self, lr_of_t: Any, interval: str = "epoch") -> None:
        super().__init__()
        self.lr_of_t = lr_of_t
        self.interval = interval

    def configure_optimizers(self) -> Any:
        opt = SGD(self.parameters(), lr=0.1)
        sched = TimmShaped(opt, self.lr_of_t, t_in_epochs=self.interval == "epoch")
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": self.interval}}

    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        if self.interval == "epoch":
            scheduler.step(epoch=self.current_epoch + 1)  # timm's own loop passes epoch + 1
        else:
            scheduler.step_update(num_updates=self.global_step)


def halving(base: float, t: int) -> float:
    return base * 0.5**t


def linear_to_zero_in_two(base: float, t: int) -> float:
    return base * max(0.0, 1.0 - t / 2)


def test_a_timm_shaped_scheduler_is_logged_exactly_and_never_raises_a_false_finding(tmp_path):
    module = TimmStyle(halving)
    cb = LRMonitor(on_misconfig="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        trainer(tmp_path, [cb], max_steps=-1, max_epochs=3).fit(module, loader(32, 4))
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert applied == [0.1] * 8 + [0.05] * 8 + [0.025] * 8
    _, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    np.testing.assert_array_equal(values, f32(applied))
    assert cb.findings == []
    (review,) = cb.reviews  # simulated through _get_lr(t): the plan is the run
    assert [g.line() for g in review.groups] == ["lr-SGD: 0.1 -> peak 0.1 @0 -> 0.025 (end)"]


def test_a_timm_shaped_schedule_that_reaches_zero_early_is_found(tmp_path):
    module = TimmStyle(linear_to_zero_in_two, interval="step")
    with pytest.warns(LRScheduleWarning, match="^lr-zero-early: TimmShaped") as record:
        trainer(tmp_path, [LRMonitor()], max_steps=24, max_epochs=-1).fit(module, loader(32, 4))
    assert len(lr_warnings(record)) == 1
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert applied[:3] == [0.1, 0.05, 0.0] and set(applied[2:]) == {0.0}


class Opaque:
    """A foreign scheduler with no function of t: only ``step(epoch)``."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer

    def step(self, epoch: int, metric: Any = None) -> None:
        for g in self.optimizer.param_groups:
            g["lr"] *= 0.5

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class OpaqueStyle(TimmStyle):
    def configure_optimizers(self) -> Any:
        opt = SGD(self.parameters(), lr=0.1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": Opaque(opt), "interval": "epoch"}}


def test_a_scheduler_without_an_lr_of_t_is_logged_and_noted(tmp_path):
    cb = LRMonitor(on_misconfig="raise")
    with pytest.warns(LRMonitorNote, match="^not-simulated: Opaque"):
        trainer(tmp_path, [cb], max_steps=-1, max_epochs=2).fit(OpaqueStyle(halving), loader(32, 4))
    assert [f.kind for f in cb.findings] == ["tooling"]


# ---------------------------------------------------------------------------------------------------------------
# never change training: stateful lambdas, callable objects, bound methods, custom classes, random draws


def closure_lambda() -> Any:
    factor = 1.0

    def lam(step: int) -> float:
        nonlocal factor
        factor *= 0.99
        return factor

    return lam


class Decay:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, step: int) -> float:
        self.calls += 1
        return 0.98**self.calls

    def method(self, step: int) -> float:
        self.calls += 1
        return 1.0 / (1 + 0.1 * self.calls)


class Noisy:
    """A lambda that draws from Python's, NumPy's and torch's global generators."""

    def __call__(self, step: int) -> float:
        return 0.5 + 0.1 * random.random() + 0.1 * float(np.random.rand()) + 0.1 * float(torch.rand(()))


class CountingScheduler(LRScheduler):
    """A custom class whose LR depends on how often get_lr was called (state on the scheduler)."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.calls = 0
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        self.calls += 1
        return [b * 0.97**self.calls for b in self.base_lrs]


STATEFUL = {
    "closure": lambda opt: LambdaLR(opt, closure_lambda()),
    "callable-object": lambda opt: LambdaLR(opt, Decay()),
    "bound-method": lambda opt: LambdaLR(opt, Decay().method),
    "random-draws": lambda opt: LambdaLR(opt, Noisy()),
    "custom-class": CountingScheduler,
}


def _run(tmp_path: Any, build: Any, with_monitor: bool) -> tuple[list[list[float]], list[torch.Tensor]]:
    pl.seed_everything(7, verbose=False)
    module = TinyModule(
        lambda m: {
            "optimizer": (o := SGD(m.parameters(), lr=0.1)),
            "lr_scheduler": {"scheduler": build(o), "interval": "step"},
        }
    )
    cbs = [LRMonitor()] if with_monitor else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LRScheduleWarning)
        trainer(tmp_path, cbs, max_steps=30, max_epochs=-1).fit(module, loader(64, 2))
    return module.optimizers().optimizer.applied, [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("kind", list(STATEFUL))
def test_stateful_schedules_apply_bit_identical_lrs_with_and_without_lrmonitor(tmp_path, kind):
    lrs_without, weights_without = _run(tmp_path / "a", STATEFUL[kind], False)
    lrs_with, weights_with = _run(tmp_path / "b", STATEFUL[kind], True)
    assert lrs_with == lrs_without  # bit for bit
    for a, b in zip(weights_with, weights_without):
        assert torch.equal(a, b)  # same RNG draws, same updates


def test_a_lambda_that_cannot_be_isolated_is_not_simulated_and_says_so(tmp_path):
    module = TinyModule(
        lambda m: {
            "optimizer": (o := SGD(m.parameters(), lr=0.1)),
            "lr_scheduler": {"scheduler": LambdaLR(o, _global_counter), "interval": "step"},
        }
    )
    cb = LRMonitor(on_misconfig="raise")  # a tooling note never raises
    with pytest.warns(LRMonitorNote, match="^not-simulated: LambdaLR"):
        trainer(tmp_path, [cb], max_steps=10).fit(module, loader())
    assert _CALLS == 11  # torch's own calls only (1 at construction + 10 steps)


_CALLS = 0


def _global_counter(step: int) -> float:
    global _CALLS
    _CALLS += 1
    return 1.0


# ---------------------------------------------------------------------------------------------------------------
# behave like LearningRateMonitor where users rely on it


class EpochStepLR(TinyModule):
    def configure_optimizers(self) -> Any:
        opt = SGD(self.parameters(), lr=0.1)
        return [opt], [StepLR(opt, step_size=1, gamma=0.5)]


def test_early_stopping_on_the_lr_works_like_with_learning_rate_monitor(tmp_path):
    # Lightning's own test_lr_monitor_update_callback_metrics, with LRMonitor
    stop = EarlyStopping(monitor="lr-SGD", mode="min", stopping_threshold=0.02, check_on_train_epoch_end=True)
    t = trainer(tmp_path, [LRMonitor(), stop], max_steps=-1, max_epochs=5, limit_val_batches=0, limit_train_batches=2)
    t.fit(EpochStepLR(), loader())
    assert "lr-SGD" in t.callback_metrics
    assert stop.stopped_epoch == 3 and t.current_epoch - 1 == 3


def test_log_momentum_without_momentum_warns_like_learning_rate_monitor(tmp_path):
    module = TinyModule(lambda m: torch.optim.Adagrad(m.parameters(), lr=0.1))
    with pytest.warns(LRMonitorNote, match="^log-momentum-unavailable: log_momentum=True, but lr-Adagrad"):
        trainer(tmp_path, [LRMonitor(log_momentum=True)], max_steps=3).fit(module, loader())


def test_two_optimizers_never_share_a_tag(tmp_path):
    with pytest.raises(LRMonitorConfigError, match="would log both optimizers under one tag"):
        LRMonitor({0: "ExponentialLR", 1: "ExponentialLR"}, name="lr")

    def configure(m: Any) -> Any:
        a, b = SGD(m.body.parameters(), lr=0.1), SGD(m.head.parameters(), lr=0.01)
        return [a, b], [{"scheduler": StepLR(a, 5), "name": "lr-SGD"}]

    from helpers import TwoOptimizerModule

    t = trainer(tmp_path, [LRMonitor()], max_steps=4)
    t.fit(TwoOptimizerModule(configure), loader())
    scalars = read_scalars(run_dir(tmp_path))
    assert {k for k in scalars if k.startswith("lr-")} == {"lr-SGD", "lr-SGD-1"}
    assert {v for _, v in scalars["lr-SGD"]} == {float(f32(0.1))}
    assert {v for _, v in scalars["lr-SGD-1"]} == {float(f32(0.01))}


def test_two_lrmonitors_on_one_trainer_are_refused(tmp_path):
    with pytest.raises(LRMonitorConfigError, match="more than one LRMonitor"):
        trainer(tmp_path, [LRMonitor(), LRMonitor(partial(StepLR, step_size=5), name="a")], max_steps=2).fit(
            TinyModule(), loader()
        )


# ---------------------------------------------------------------------------------------------------------------
# "auto" binds to what Lightning really does


def test_auto_with_frequency_and_accumulation_counts_lightnings_real_steps(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}, frequency=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        t = trainer(tmp_path, [cb], max_steps=-1, max_epochs=8, accumulate_grad_batches=2)
        t.fit(module, loader(32, 4))  # 8 batches -> 4 optimizer steps per epoch, each on an even batch
    sched = t.lr_scheduler_configs[0].scheduler
    assert sched.T_max == 32 and sched.last_epoch == 32  # bound to the 32 steps Lightning took
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert applied[-1] < 0.001 and all(b <= a for a, b in itertools.pairwise(applied))  # never climbs back


def test_auto_with_frequency_three_ends_at_the_floor(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor(
        {"class_path": "LinearLR", "init_args": {"start_factor": 1.0, "end_factor": 0.0, "total_iters": "auto"}},
        frequency=3,
    )
    t = trainer(tmp_path, [cb], max_steps=-1, max_epochs=4)
    t.fit(module, loader(40, 4))  # 10 batches per epoch: steps at batch 3, 6, 9 -> 3 per epoch
    sched = t.lr_scheduler_configs[0].scheduler
    assert sched.total_iters == 12 and sched.last_epoch == 12 and sched.get_last_lr()[0] == 0.0


def test_epoch_interval_auto_respects_max_steps(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}, interval="epoch")
    t = trainer(tmp_path, [cb], max_steps=32, max_epochs=10)
    t.fit(module, loader(64, 4))  # 16 steps per epoch: max_steps ends the run after 2 epochs
    assert t.lr_scheduler_configs[0].scheduler.T_max == 2


class Endless(IterableDataset):  # type: ignore[type-arg]
    def __iter__(self) -> Any:
        g = torch.Generator().manual_seed(0)
        for _ in range(16):
            yield torch.randn(4, generator=g), torch.randn(1, generator=g)


def test_a_loader_without_length_names_itself_in_the_error(tmp_path):
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    with pytest.raises(LRMonitorConfigError, match=r"DataLoader has no length.*max_steps"):
        trainer(tmp_path, [cb], max_steps=-1, max_epochs=3).fit(TinyModule(), DataLoader(Endless(), batch_size=4))


class ManualNoStep(TinyModule):
    def __init__(self) -> None:
        super().__init__(lambda m: SGD(m.parameters(), lr=0.1))
        self.automatic_optimization = False

    def training_step(self, batch: Any, batch_idx: int) -> None:
        opt = self.optimizers()
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()


def test_manual_optimization_that_never_steps_the_built_scheduler_is_reported(tmp_path, caplog):
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    with caplog.at_level("INFO"), pytest.warns(LRScheduleWarning, match="^scheduler-not-stepped") as record:
        trainer(tmp_path, [cb], max_steps=-1, max_epochs=2).fit(ManualNoStep(), loader())
    assert len(lr_warnings(record)) == 1
    assert "manual optimization: Lightning does not step this scheduler" in caplog.text


class SkipSome(TinyModule):
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if batch_idx % 3 == 1:
            return None  # Lightning skips this update
        return super().training_step(batch, batch_idx)


@pytest.mark.filterwarnings("ignore:`training_step` returned `None`:UserWarning")
def test_a_skipped_update_is_logged_at_its_step_with_the_lr_in_effect(tmp_path):
    module = SkipSome(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(tmp_path, [LRMonitor(partial(CosineAnnealingLR, T_max=12))], max_steps=12)
    t.fit(module, loader(48, 4))
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    assert steps == list(range(12)) and len(applied) == 12
    np.testing.assert_array_equal(values, f32(applied))


class StepStamped(SGD):  # type: ignore[misc, valid-type]
    """Records (optimizer step, LR) whenever an update really happens."""

    now = -1

    def step(self, closure: Any = None) -> Any:
        loss = super().step(closure)
        self.stamped = [*getattr(self, "stamped", []), (self.now, self.applied[-1][0])]
        return loss


class InfAtStep3(TinyModule):
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        self.optimizers().optimizer.now = self.global_step
        loss = super().training_step(batch, batch_idx)
        return loss * float("inf") if self.global_step == 3 else loss  # GradScaler skips this update


def test_an_update_skipped_by_the_grad_scaler_is_logged_with_the_lr_in_effect(tmp_path):
    from lightning.pytorch.plugins import MixedPrecision

    module = InfAtStep3(lambda m: StepStamped(m.parameters(), lr=0.1))
    amp = MixedPrecision("16-mixed", "cpu", scaler=torch.amp.GradScaler("cpu"))
    t = trainer(tmp_path, [LRMonitor(partial(StepLR, step_size=2, gamma=0.5))], plugins=[amp], max_steps=8)
    t.fit(module, loader())
    stamped = dict(module.optimizers().optimizer.stamped)
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-StepStamped")
    assert steps == list(range(8)) and 3 not in stamped and len(stamped) < 8  # skipped updates happened
    np.testing.assert_array_equal(values, f32([0.1 * 0.5 ** (k // 2) for k in range(8)]))  # the LR in effect
    for step, lr in stamped.items():
        assert values[step] == f32(lr)  # where an update happened, it used the logged LR
    assert t.lr_scheduler_configs[0].scheduler.last_epoch == 8  # Lightning stepped the scheduler regardless


def test_a_remote_tensorboard_logger_gets_the_lrs_through_its_own_filesystem(tmp_path, monkeypatch):
    import fsspec
    from lightning.pytorch.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing import event_accumulator as ea

    monkeypatch.chdir(tmp_path)
    logger = TensorBoardLogger("memory://lrmon-test", name="tb", version=0)
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    trainer(tmp_path / "root", [LRMonitor(partial(StepLR, step_size=3, gamma=0.5))], logger=logger, max_steps=7).fit(
        module, loader()
    )
    assert not (tmp_path / "memory:").exists()  # nothing written into the working directory
    fs = fsspec.filesystem("memory")
    local = tmp_path / "copy"
    fs.get("/lrmon-test/tb/version_0/", str(local), recursive=True)
    acc = ea.EventAccumulator(str(local), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    got = [(s.step, s.value) for s in acc.Scalars("lr-SGD")]
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert [s for s, _ in got] == list(range(7))
    np.testing.assert_array_equal([v for _, v in got], f32(applied))
    fs.rm("/lrmon-test", recursive=True)


def test_model_checkpoint_on_the_lr_every_n_train_steps(tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint

    ckpt = ModelCheckpoint(dirpath=str(tmp_path / "ck"), monitor="lr-SGD", mode="min", every_n_train_steps=4)
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(
        tmp_path, [LRMonitor(partial(StepLR, step_size=2, gamma=0.5)), ckpt], max_steps=12, enable_checkpointing=True
    )
    t.fit(module, loader())
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    # saved at steps 4, 8, 12: the LR of the step just taken (steps 3, 7, 11), the smallest at step 11
    assert float(ckpt.best_model_score) == pytest.approx(applied[11])


def test_other_loggers_get_the_lrs_at_the_trainers_cadence_tensorboard_every_step(tmp_path):
    import csv

    from lightning.pytorch.loggers import CSVLogger

    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    logger = CSVLogger(str(tmp_path), name="csv", version=0)
    t = trainer(tmp_path, [LRMonitor(partial(StepLR, step_size=3))], logger=logger, max_steps=20, log_every_n_steps=5)
    t.fit(module, loader())
    with open(tmp_path / "csv" / "version_0" / "metrics.csv") as fh:
        steps = [int(r["step"]) for r in csv.DictReader(fh) if r.get("lr-SGD")]
    assert steps == [4, 9, 14, 19]  # Lightning's logging steps, where self.log writes (the last step is one)


def test_tensorboard_has_a_cadence_of_its_own(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    monitor = LRMonitor(partial(StepLR, step_size=3), log_every_n_steps=5, tensorboard_every_n_steps=4)
    trainer(tmp_path, [monitor], max_steps=20).fit(module, loader())
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert steps == [0, 4, 8, 12, 16]
    np.testing.assert_array_equal(values, f32([applied[s] for s in steps]))
    with pytest.raises(LRMonitorConfigError, match="log_every_n_steps"):
        LRMonitor(log_every_n_steps=0)
    with pytest.raises(LRMonitorConfigError, match="tensorboard_every_n_steps"):
        LRMonitor(tensorboard_every_n_steps=0)


class ReadLive(pl.Callback):
    """Polls the run directory with TensorBoard's Python loader (`--load_fast=false`) at steps 50 and 100."""

    def __init__(self, run: str) -> None:
        self.run = run
        self.acc: Any = None
        self.seen: dict[str, int] = {}

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        from tensorboard.backend.event_processing import event_accumulator as ea

        if trainer.global_step == 50:
            self.acc = ea.EventAccumulator(self.run, size_guidance={ea.SCALARS: 0})
            self.acc.Reload()
        if trainer.global_step == 100:
            self.acc.Reload()  # the same loader, polled again: it never goes back to an earlier file
            self.seen = {tag: max(e.step for e in self.acc.Scalars(tag)) for tag in self.acc.Tags()["scalars"]}


def test_a_live_run_is_complete_for_tensorboards_python_loader(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    live = ReadLive(run_dir(tmp_path))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    trainer(tmp_path, [cb, live], max_steps=300, max_epochs=-1).fit(module, loader(64, 4))  # epochs of 16 steps
    # the user's own metric and the LRs both up to the last epoch end (where lightning-lrmon flushes)
    assert live.seen["train_loss"] >= 90 and live.seen["lr-SGD"] >= 90, live.seen
    files = [f for f in os.listdir(run_dir(tmp_path)) if f.startswith("events.out.tfevents.")]
    assert len(files) == 1  # one growing file: the logger's own, with our records appended whole


def _two_group_module() -> TinyModule:
    return TinyModule(
        lambda m: SGD([{"params": m.body.parameters()}, {"params": m.head.parameters(), "lr": 0.01}], lr=0.1)
    )


def test_tensorboard_logger_prefix_gives_the_names_learning_rate_monitor_gives(tmp_path):
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import TensorBoardLogger

    def fit(callbacks: list[Any], name: str, module: TinyModule) -> dict[str, list[tuple[int, float]]]:
        logger = TensorBoardLogger(str(tmp_path), name=name, version=0, prefix="train")
        t = trainer(tmp_path, callbacks, logger=logger, max_steps=12)
        t.fit(module, loader())
        return read_scalars(str(tmp_path / name / "version_0"))

    theirs_module = _two_group_module()
    theirs_module.configure_optimizers = lambda: {  # type: ignore[method-assign]
        "optimizer": (opt := theirs_module._configure(theirs_module)),
        "lr_scheduler": {"scheduler": StepLR(opt, step_size=5, gamma=0.5), "interval": "step"},
    }
    theirs = fit([LearningRateMonitor(logging_interval="step")], "lrm", theirs_module)
    module = _two_group_module()
    ours = fit([LRMonitor(partial(StepLR, step_size=5, gamma=0.5))], "ours", module)
    lr_tags = sorted(t for t in theirs if "lr-" in t)
    assert lr_tags == ["train-lr-SGD/pg1", "train-lr-SGD/pg2"]
    assert sorted(t for t in ours if "lr-" in t and "planned/" not in t) == lr_tags
    assert sorted(t for t in ours if "planned/" in t) == ["train-planned/lr-SGD/pg1", "train-planned/lr-SGD/pg2"]
    applied = np.asarray(module.optimizers().optimizer.applied)
    for g, tag in enumerate(lr_tags):
        assert [s for s, _ in ours[tag]] == list(range(12))  # each step once, the first one too
        np.testing.assert_array_equal([v for _, v in ours[tag]], f32(applied[:, g]))
        assert ours[tag] == theirs[tag]
    layout = _layout_tags(str(tmp_path / "ours" / "version_0"))
    assert len(layout) == 4 and all(t.startswith("^" + re.escape("train-")) for t in layout)


def _layout_tags(log_dir: str) -> list[str]:
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.custom_scalar import layout_pb2

    acc = ea.EventAccumulator(log_dir, size_guidance={ea.TENSORS: 0})
    acc.Reload()
    (event,) = acc.Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(event.tensor_proto.string_val[0])
    return [t for cat in layout.category for chart in cat.chart for t in chart.multiline.tag]


def test_prefix_on_a_remote_tensorboard_logger(tmp_path, monkeypatch):
    import fsspec
    from lightning.pytorch.loggers import TensorBoardLogger

    monkeypatch.chdir(tmp_path)
    logger = TensorBoardLogger("memory://lrmon-prefix", name="tb", version=0, prefix="train")
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    trainer(tmp_path / "root", [LRMonitor(partial(StepLR, step_size=3, gamma=0.5))], logger=logger, max_steps=7).fit(
        module, loader()
    )
    assert not (tmp_path / "memory:").exists()  # nothing written into the working directory
    fs = fsspec.filesystem("memory")
    fs.get("/lrmon-prefix/tb/version_0/", str(tmp_path / "copy"), recursive=True)
    got = read_scalars(str(tmp_path / "copy"))
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert "lr-SGD" not in got
    assert [s for s, _ in got["train-lr-SGD"]] == list(range(7))
    np.testing.assert_array_equal([v for _, v in got["train-lr-SGD"]], f32(applied))
    fs.rm("/lrmon-prefix", recursive=True)
