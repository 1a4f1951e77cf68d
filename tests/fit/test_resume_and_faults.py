"""Resume continues the schedule exactly; crashes, Ctrl-C and failing loggers lose nothing; bad input fails early."""

from __future__ import annotations

import os
import warnings
from functools import partial
from typing import Any

import numpy as np
import pytest
import torch
from helpers import SGD, TinyModule, f32, loader, lr_warnings, read_scalars, read_texts, run_dir, series, trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import Logger
from torch.optim.lr_scheduler import CosineAnnealingLR

from lightning_lrmon import LRMonitor, LRMonitorConfigError, LRMonitorNote, LRScheduleWarning

SPECS = {
    "fixed": {"class_path": "CosineAnnealingLR", "init_args": {"T_max": 40}},
    "auto": {
        "class_path": "SequentialLR",
        "init_args": {
            "milestones": ["10%"],
            "schedulers": [
                {"class_path": "LinearLR", "init_args": {"start_factor": 0.1, "total_iters": "auto"}},
                {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}},
            ],
        },
    },
}


def module(**kw: Any) -> TinyModule:
    return TinyModule(lambda m: SGD(m.parameters(), lr=0.1), **kw)


def applied(m: TinyModule) -> np.ndarray:
    return np.asarray(m.optimizers().optimizer.applied)[:, 0]


@pytest.mark.parametrize("kind", list(SPECS))
def test_preempted_and_resumed_run_applies_exactly_the_uninterrupted_lrs(tmp_path, kind):
    spec = SPECS[kind]
    full = module()
    trainer(tmp_path / "a", [LRMonitor(spec)], max_steps=40, max_epochs=-1).fit(full, loader(64, 4))
    reference = applied(full)

    ckpt = _ckpt(tmp_path / "ckpt")
    crashed = module(fail_at_step=35)
    with pytest.raises(RuntimeError, match="boom"):
        trainer(tmp_path / "b", [LRMonitor(spec), ckpt], max_steps=40, max_epochs=-1, enable_checkpointing=True).fit(
            crashed, loader(64, 4)
        )
    np.testing.assert_array_equal(applied(crashed), reference[:35])

    resumed = module()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        trainer(
            tmp_path / "b",
            [LRMonitor(spec), _ckpt(tmp_path / "ckpt")],
            max_steps=40,
            max_epochs=-1,
            enable_checkpointing=True,
        ).fit(resumed, loader(64, 4), ckpt_path=str(tmp_path / "ckpt" / "epoch=1-step=32.ckpt"))
    np.testing.assert_array_equal(applied(resumed), reference[32:])
    # same run directory: every step exactly once, the values of the uninterrupted run
    steps, values = series(read_scalars(run_dir(tmp_path / "b")), "lr-SGD")
    assert steps == list(range(40))
    np.testing.assert_array_equal(values, f32(reference))


def _ckpt(path, **kw):
    return ModelCheckpoint(dirpath=path, every_n_epochs=1, save_top_k=-1, **kw)  # end of epoch: 16 steps


def _resume(tmp_path, spec, path, **limits):
    return trainer(tmp_path, [LRMonitor(spec), _ckpt(tmp_path / "ckpt")], enable_checkpointing=True, **limits).fit(
        module(), loader(64, 4), ckpt_path=path
    )


def _ckpt_run(tmp_path, spec, **kw):
    ckpt = _ckpt(tmp_path / "ckpt", **kw)
    trainer(tmp_path, [LRMonitor(spec), ckpt], max_steps=32, max_epochs=-1, enable_checkpointing=True).fit(
        module(), loader(64, 4)
    )
    return str(tmp_path / "ckpt" / "epoch=1-step=32.ckpt")


def test_resume_with_a_changed_run_length_under_auto_is_reported(tmp_path):
    path = _ckpt_run(tmp_path, SPECS["auto"])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        _resume(tmp_path, SPECS["auto"], path, max_steps=64, max_epochs=-1)
    found = [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]
    mismatch = [m for m in found if m.startswith("resume-mismatch")]
    assert len(mismatch) == 1 and "32 -> 64 scheduler steps" in mismatch[0]
    # and the bent schedule itself: the restored cosine ends at step 32 of 64 and climbs back
    assert any(m.startswith("horizon-too-short") for m in found)


def test_resume_with_a_changed_spec_is_reported(tmp_path):
    path = _ckpt_run(tmp_path, SPECS["fixed"])
    other = {"class_path": "CosineAnnealingLR", "init_args": {"T_max": 80}}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        _resume(tmp_path, other, path, max_steps=48, max_epochs=-1)
    found = [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]
    assert any(m.startswith("resume-mismatch") and "spec changed" in m for m in found)
    # the restored scheduler (T_max=40) is what really runs: its climb after step 40 is reported in run steps
    assert any(m.startswith("horizon-too-short") and "ends at step 40" in m for m in found)


def test_crash_leaves_every_logged_step_on_disk(tmp_path):
    m = module(fail_at_step=33)
    with pytest.raises(RuntimeError, match="boom"):
        trainer(tmp_path, [LRMonitor(SPECS["fixed"])], max_steps=40, max_epochs=-1).fit(m, loader(64, 4))
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    assert steps == list(range(33))
    np.testing.assert_array_equal(values, f32(applied(m)))


class BrokenDiskLogger(Logger):
    """A real Lightning Logger whose writes fail, as on a full or vanished disk."""

    @property
    def name(self) -> str:
        return "broken"

    @property
    def version(self) -> int:
        return 0

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if any(k.startswith("lr-") for k in metrics):
            raise OSError(28, "No space left on device")


def test_a_failing_logger_does_not_kill_training(tmp_path):
    m = module()
    with pytest.warns(LRMonitorNote, match="^logger-failed") as record:
        trainer(tmp_path, [LRMonitor(SPECS["fixed"])], logger=BrokenDiskLogger(), max_steps=40, max_epochs=-1).fit(
            m, loader(64, 4)
        )
    assert len(applied(m)) == 40
    assert len([w for w in record if "logger-failed" in str(w.message)]) == 1


class DiskVanishes(Callback):
    """At step 10 the event file's descriptor stops working (as when its disk goes away)."""

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if trainer.global_step == 10:
            monitor = next(cb for cb in trainer.callbacks if isinstance(cb, LRMonitor))
            os.close(monitor.session.tensorboard.writer._fh.fileno())


def test_a_failing_event_file_does_not_kill_training(tmp_path):
    m = module()
    with pytest.warns(LRMonitorNote, match="^logger-failed: writing TensorBoard events") as record:
        trainer(tmp_path, [LRMonitor(SPECS["auto"]), DiskVanishes()], max_steps=300, max_epochs=-1).fit(
            m, loader(64, 1)
        )
    assert len(applied(m)) == 300
    assert len([w for w in record if "logger-failed" in str(w.message)]) == 1


def test_nan_lr_at_runtime_is_reported_once_with_its_step(tmp_path):
    m = TinyModule(lambda mod: SGD(mod.parameters(), lr=0.1), nan_at_step=7)
    with pytest.warns(LRScheduleWarning, match=r"^lr-invalid: the LR of lr-SGD is nan at optimizer step 7") as rec:
        trainer(tmp_path, [LRMonitor()], max_steps=12).fit(m, loader(64, 4))
    assert len([w for w in rec if str(w.message).startswith("lr-invalid")]) == 1
    assert "lrmon/lr-invalid" in read_texts(run_dir(tmp_path))


class WritesNaN(Callback):
    """Something outside the scheduler writes a NaN into one group's LR at optimizer step ``at``."""

    def __init__(self, group: int, at: int) -> None:
        self.group, self.at = group, at

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if trainer.global_step == self.at:
            trainer.optimizers[0].param_groups[self.group]["lr"] = float("nan")


@pytest.mark.parametrize("group", [0, 1])
def test_nan_lr_in_any_group_of_a_held_plan_is_reported_with_its_step(tmp_path, group):
    """Every step goes to TensorBoard and the first group is held against a cosine plan: a NaN in the first group
    leaves the plan at once, one in the second is found among the buffered steps; both name the step and group."""

    def configure(mod):
        opt = SGD([{"params": mod.body.parameters()}, {"params": mod.head.parameters(), "lr": 0.05}], lr=0.1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": CosineAnnealingLR(opt, T_max=30), "interval": "step"}}

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [LRMonitor(), WritesNaN(group, 7)], max_steps=30).fit(TinyModule(configure), loader(64, 2))
    said = [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]
    invalid = [m for m in said if m.startswith("lr-invalid")]
    expected = f"lr-invalid: the LR of lr-SGD/pg{group + 1} is nan at optimizer step 7"
    assert len(invalid) == 1 and invalid[0].startswith(expected)


def test_double_step_is_reported(tmp_path):
    m = TinyModule(lambda mod: SGD(mod.parameters(), lr=0.1), extra_step=True)
    with pytest.warns(LRScheduleWarning, match="^double-step") as rec:
        trainer(tmp_path, [LRMonitor(partial(CosineAnnealingLR, T_max=40))], max_steps=40).fit(m, loader(64, 4))
    assert len([w for w in rec if str(w.message).startswith("double-step")]) == 1


def test_plateau_monitor_missing_is_reported_before_lightning_raises(tmp_path):
    def configure(mod):
        opt = SGD(mod.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_los"}}

    with (
        pytest.warns(LRScheduleWarning, match="^plateau-monitor-missing.*'val_los'.*train_loss"),
        pytest.raises(Exception, match="val_los"),
    ):
        trainer(tmp_path, [LRMonitor()], max_steps=-1, max_epochs=2).fit(TinyModule(configure), loader(32, 8))


@pytest.mark.parametrize("limits", [{"max_steps": -1, "max_epochs": -1}])
def test_auto_on_an_endless_run(tmp_path, limits):
    with pytest.raises(LRMonitorConfigError, match=r"endless.*max_steps"):
        trainer(tmp_path, [LRMonitor(SPECS["auto"])], **limits).fit(module(), loader())


def test_pytorch_lightning_package_is_supported(tmp_path):
    import pytorch_lightning as ptl
    from pytorch_lightning.loggers import TensorBoardLogger as PtlTB

    from lightning_lrmon.pl import LRMonitor as PtlLRMonitor

    class PtlModule(ptl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            return torch.nn.functional.mse_loss(self.layer(batch[0]), batch[1])

        def configure_optimizers(self) -> Any:
            return SGD(self.parameters(), lr=0.001)

    m = PtlModule()
    with pytest.warns(LRScheduleWarning, match="^decay-increases"):
        ptl.Trainer(
            accelerator="cpu",
            max_steps=30,
            logger=PtlTB(str(tmp_path), name="tb", version=0),
            callbacks=[PtlLRMonitor(partial(torch.optim.lr_scheduler.LinearLR, start_factor=0.5, total_iters=30))],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            log_every_n_steps=1,
        ).fit(m, loader())
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    np.testing.assert_array_equal(values, f32(np.asarray(m.optimizers().optimizer.applied)[:, 0]))


class WithValidation(TinyModule):
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))


def test_plateau_on_a_validation_metric_every_other_epoch_is_not_a_false_alarm(tmp_path):
    def configure(mod):
        opt = SGD(mod.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss", "strict": False}}

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")  # Lightning itself warns (RuntimeWarning) when strict=False skips an update
        trainer(
            tmp_path, [LRMonitor()], max_steps=-1, max_epochs=4, check_val_every_n_epoch=2, limit_val_batches=2
        ).fit(WithValidation(configure), loader(32, 8), loader(16, 8))
    assert [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)] == []


def test_schedule_added_on_resume_is_out_of_place_and_reported(tmp_path):
    """The checkpoint has no scheduler state (LRMonitor was added for the resume): warmup would restart at 0."""
    trainer(tmp_path, [_ckpt(tmp_path / "ckpt")], max_steps=32, max_epochs=-1, enable_checkpointing=True).fit(
        module(), loader(64, 4)
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        _resume(tmp_path, SPECS["fixed"], str(tmp_path / "ckpt" / "epoch=1-step=32.ckpt"), max_steps=40, max_epochs=-1)
    found = [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]
    assert any(m.startswith("resume-mismatch") and "is at step 0" in m and "optimizer step 32" in m for m in found)


def _multiplexer_steps(log_root: str, tag: str) -> list[int]:
    """Steps of ``tag`` as TensorBoard's Python loader serves them (``tensorboard --load_fast=false``)."""
    from tensorboard.backend.event_processing import plugin_event_multiplexer

    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(log_root)
    mux.Reload()
    (run,) = [r for r in mux.Runs() if tag in mux.Runs()[r].get("tensors", [])]
    return [e.step for e in mux.Tensors(run, tag)]


def test_tensorboards_python_loader_serves_each_step_once_after_a_crash_and_resume(tmp_path):
    spec = SPECS["auto"]
    ckpt = _ckpt(tmp_path / "ckpt")
    with pytest.raises(RuntimeError, match="boom"):
        trainer(tmp_path, [LRMonitor(spec), ckpt], max_steps=40, max_epochs=-1, enable_checkpointing=True).fit(
            module(fail_at_step=35), loader(64, 4)
        )
    _resume(tmp_path, spec, str(tmp_path / "ckpt" / "epoch=1-step=32.ckpt"), max_steps=40, max_epochs=-1)
    assert _multiplexer_steps(str(tmp_path), "lr-SGD") == list(range(40))
    # the resume's SessionLog.START also drops Lightning's own train_loss of steps 32-34 logged before the crash
    assert _multiplexer_steps(str(tmp_path), "train_loss") == list(range(40))


def test_a_resumed_and_extended_run_gets_a_horizon_counted_from_step_zero(tmp_path):
    """max_epochs 4 -> 8 with T_max=4 restored: the fix is T_max=8, not the T_max=4 already in use."""

    def cosine(m):
        opt = SGD(m.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}

    ckpt = _ckpt(tmp_path / "ckpt")
    trainer(tmp_path, [LRMonitor(), ckpt], max_epochs=4, max_steps=-1, enable_checkpointing=True).fit(
        TinyModule(cosine), loader(64, 4)
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        trainer(
            tmp_path, [LRMonitor(), _ckpt(tmp_path / "ckpt")], max_epochs=8, max_steps=-1, enable_checkpointing=True
        ).fit(TinyModule(cosine), loader(64, 4), ckpt_path=str(tmp_path / "ckpt" / "epoch=3-step=64.ckpt"))
    (short,) = [w for w in lr_warnings(record) if w.startswith("horizon-too-short")]
    assert "use T_max=8 (the run's scheduler steps)" in short, short
    assert "A resume restores T_max=4" in short, short

    def cosine8(m):  # the fix written into the code, then resumed from the same checkpoint
        opt = SGD(m.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}

    fixed = TinyModule(cosine8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LRScheduleWarning)
        trainer(
            tmp_path, [LRMonitor(), _ckpt(tmp_path / "ckpt")], max_epochs=8, max_steps=-1, enable_checkpointing=True
        ).fit(fixed, loader(64, 4), ckpt_path=str(tmp_path / "ckpt" / "epoch=3-step=64.ckpt"))
    assert fixed.trainer.lr_scheduler_configs[0].scheduler.T_max == 4  # what the remark says: the checkpoint's
