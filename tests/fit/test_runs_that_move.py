"""Runs that move after fit start (issue 20): Lightning features that change how many optimizer or scheduler steps a
run takes. Real Trainer fits; each case failed on 0.2 (a wrong "auto", a false finding or a silent skip)."""

from __future__ import annotations

import os
import warnings
from typing import Any

import lightning.pytorch.callbacks
import numpy as np
import pytest
import torch
from helpers import SGD, TinyModule, f32, loader, read_scalars, read_texts, run_dir, series, trainer
from lightning.pytorch.callbacks import GradientAccumulationScheduler

from lightning_lrmon import LRMonitor, LRMonitorConfigError, LRMonitorNote, LRScheduleWarning

AUTO_COSINE = {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}


def notes(record: Any) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, LRMonitorNote)]


def schedule_warnings(record: Any) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]


@pytest.mark.parametrize(("interval", "frequency", "steps"), [("step", 1, 52), ("step", 3, 15), ("epoch", 1, 5)])
def test_gradient_accumulation_scheduler_binds_auto_to_the_steps_lightning_really_takes(
    tmp_path, interval, frequency, steps
):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor(AUTO_COSINE, interval=interval, frequency=frequency, on_misconfig="raise")
    accumulation = GradientAccumulationScheduler({0: 1, 2: 4, 3: 2})  # 16 + 16 + 4 + 8 + 8 optimizer steps
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        t = trainer(tmp_path, [cb, accumulation], max_steps=-1, max_epochs=5)
        t.fit(module, loader(64, 4))
    sched = t.lr_scheduler_configs[0].scheduler
    assert t.global_step == 52
    assert sched.T_max == steps and sched.last_epoch == steps  # 0.2 bound 80 (16 steps x 5 epochs)
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    at, logged = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    np.testing.assert_array_equal(logged, f32(applied))
    planned = dict(zip(*series(read_scalars(run_dir(tmp_path)), "planned/lr-SGD")))
    matched = [(planned[s], v) for s, v in zip(at, logged) if s in planned]
    assert len(matched) >= 50 and all(p == v for p, v in matched)  # the plan is the run, step for step
    assert cb.findings == []


def test_a_fixed_horizon_under_an_accumulation_schedule_is_judged_against_the_real_run(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": 160}})
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [cb, GradientAccumulationScheduler({0: 1, 2: 4})], max_steps=-1, max_epochs=4).fit(
            module, loader(64, 4)
        )
    (finding,) = [f for f in cb.findings if f.code == "horizon-too-long"]
    assert "use T_max=40" in finding.hint  # 16 + 16 + 4 + 4 optimizer steps
    assert any("horizon-too-long" in w for w in schedule_warnings(record))


def test_fast_dev_run_is_a_smoke_test_and_never_fails_on_a_horizon_the_real_run_fits(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": 64}}, on_misconfig="raise")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [cb], max_steps=-1, fast_dev_run=True).fit(module, loader(64, 4))
    assert schedule_warnings(record) == [] and [f.code for f in cb.findings] == ["not-judged"]
    (note,) = [n for n in notes(record) if n.startswith("not-judged")]
    assert "fast_dev_run=True" in note and "horizon-too-long not reported" in note
    (review,) = cb.reviews
    assert any("fast_dev_run" in n for n in review.notes)


def test_max_time_alone_with_auto_names_max_time(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(tmp_path, [LRMonitor(AUTO_COSINE)], logger=False, max_steps=-1, max_time={"seconds": 30})
    with pytest.raises(LRMonitorConfigError, match=r"limited only by max_time.*Trainer\(max_steps=N\)"):
        t.fit(module, loader(16, 4))


def test_max_time_with_a_scheduler_from_configure_optimizers_says_it_is_not_reviewed(tmp_path):
    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10)}

    module = TinyModule(configure)
    cb = LRMonitor()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        t = trainer(tmp_path, [cb], max_steps=-1, max_time={"seconds": 2})
        t.fit(module, loader(16, 4))
    (note,) = [n for n in notes(record) if n.startswith("not-judged")]
    assert "CosineAnnealingLR(T_max=10" in note and "max_time" in note
    (review,) = cb.reviews  # listed, with the reason, in the summary and TensorBoard's text
    assert review.shape == "not reviewed" and "limited only by max_time" in review.notes[0]
    (summary,) = read_texts(run_dir(tmp_path))["lrmon/summary"]
    assert "not reviewed: this run is limited only by max_time" in summary


def test_max_time_beside_max_steps_is_said_in_the_review(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor(AUTO_COSINE)
    trainer(tmp_path, [cb], max_steps=8, max_time={"hours": 1}).fit(module, loader(16, 4))
    (review,) = cb.reviews
    assert any("max_time may stop the run" in n for n in review.notes)


class Growing(TinyModule):
    """A loader that grows after the first epoch (a curriculum): 4 batches, then 16."""

    def __init__(self, sizes: tuple[int, int] = (16, 64)) -> None:
        super().__init__(lambda m: SGD(m.parameters(), lr=0.1))
        self.sizes = sizes

    def train_dataloader(self) -> Any:
        from helpers import dataset
        from torch.utils.data import DataLoader

        return DataLoader(dataset(self.sizes[0] if self.current_epoch == 0 else self.sizes[1]), batch_size=4)


def test_a_loader_that_grows_is_recounted_and_warned_once_with_the_corrected_value(tmp_path):
    module = Growing()
    cb = LRMonitor(AUTO_COSINE)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        t = trainer(tmp_path, [cb], max_steps=-1, max_epochs=3, reload_dataloaders_every_n_epochs=1)
        t.fit(module)
    assert t.global_step == 36 and t.lr_scheduler_configs[0].scheduler.T_max == 12  # never changed behind your back
    (warning,) = schedule_warnings(record)
    assert warning.startswith("run-length-changed") and "16 batches per epoch from epoch 1 (was 4)" in warning
    assert "use T_max=36" in warning
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    np.testing.assert_array_equal(series(read_scalars(run_dir(tmp_path)), "lr-SGD")[1], f32(applied))


def test_a_reloaded_loader_of_the_same_length_says_nothing(tmp_path):
    module = Growing(sizes=(32, 32))
    cb = LRMonitor(AUTO_COSINE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        trainer(tmp_path, [cb], max_steps=-1, max_epochs=3, reload_dataloaders_every_n_epochs=1).fit(module)
    assert cb.findings == []


def test_a_grown_loader_under_frequency_two_keeps_the_stepping_check_quiet(tmp_path):
    module = Growing(sizes=(16, 40))  # 4 then 10 batches: frequency 2 steps at 2, 4 / 2, 4, 6, 8, 10
    cb = LRMonitor(AUTO_COSINE, frequency=2)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        t = trainer(tmp_path, [cb], max_steps=-1, max_epochs=3, reload_dataloaders_every_n_epochs=1)
        t.fit(module)
    assert t.lr_scheduler_configs[0].scheduler.last_epoch == 12
    codes = [w.split(":")[0] for w in schedule_warnings(record)]
    assert codes == ["run-length-changed"]  # 4 bound, 12 taken; no false double-step


class Normed(TinyModule):
    """A model with BatchNorm: StochasticWeightAveraging adds an epoch to update its statistics."""

    def __init__(self) -> None:
        super().__init__(lambda m: SGD(m.parameters(), lr=0.1))
        self.norm = torch.nn.BatchNorm1d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.norm(self.body(x))))


@pytest.mark.parametrize("lrmonitor_first", [True, False])
def test_swa_takes_over_and_auto_is_bound_to_the_steps_before_it_in_either_callback_order(tmp_path, lrmonitor_first):
    from lightning.pytorch.callbacks import StochasticWeightAveraging

    module = Normed()
    cb = LRMonitor(AUTO_COSINE)
    swa = StochasticWeightAveraging(swa_lrs=0.05, swa_epoch_start=3)  # SWALR from epoch 2 (0-based)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        t = trainer(tmp_path, [cb, swa] if lrmonitor_first else [swa, cb], max_steps=-1, max_epochs=4)
        t.fit(module, loader(64, 4))
    assert schedule_warnings(record) == []  # 0.2: a false horizon-too-short ("use T_max=...") with LRMonitor first
    cosine = cb._built[0].config.scheduler
    assert (cosine.T_max, cosine.last_epoch) == (32, 32)  # 2 epochs x 16 steps, then SWALR
    assert type(t.lr_scheduler_configs[0].scheduler).__name__ == "SWALR"
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert applied[31] < 0.001 < applied[0]  # the cosine reaches its floor where SWA takes over
    np.testing.assert_array_equal(series(read_scalars(run_dir(tmp_path)), "lr-SGD")[1], f32(applied))
    (review,) = cb.reviews
    assert any("StochasticWeightAveraging replaces the schedule" in n for n in review.notes)


def test_rebinding_after_other_callbacks_starts_the_scheduler_exactly_as_a_first_build(tmp_path):
    """The re-built scheduler gives bit-identical LRs to a cosine given T_max=32 from the start."""
    from lightning.pytorch.callbacks import StochasticWeightAveraging

    runs = []
    for spec in (AUTO_COSINE, {"class_path": "CosineAnnealingLR", "init_args": {"T_max": 32}}):
        module = Normed()
        torch.manual_seed(0)
        swa = StochasticWeightAveraging(swa_lrs=0.05, swa_epoch_start=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer(tmp_path, [LRMonitor(spec), swa], logger=False, max_steps=-1, max_epochs=4).fit(
                module, loader(64, 4)
            )
        runs.append([a[0] for a in module.optimizers().optimizer.applied])
    assert runs[0] == runs[1]


def stacked_module(chainable: bool) -> TinyModule:
    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        if chainable:  # LinearLR multiplies what it finds: both schedules shape the run
            warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.125, total_iters=7)
        else:  # LambdaLR sets lr = base * factor at every step: StepLR's decay is undone one step later
            warm = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 8))
        decay = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
        return [opt], [{"scheduler": warm, "interval": "step"}, {"scheduler": decay, "interval": "epoch"}]

    return TinyModule(configure)


def planned_and_logged(tmp_path: Any) -> tuple[dict[int, float], list[int], np.ndarray]:
    scalars = read_scalars(run_dir(tmp_path))
    steps, logged = series(scalars, "lr-SGD")
    plan_steps, plan_values = series(scalars, "planned/lr-SGD")
    assert len(plan_steps) == len(set(plan_steps))  # 0.2: two series in one tag (96 points for 48 steps)
    return dict(zip(plan_steps, plan_values)), steps, logged


@pytest.mark.parametrize("chainable", [False, True])
def test_stacked_schedulers_are_simulated_together_in_lightnings_order(tmp_path, chainable):
    module = stacked_module(chainable)
    cb = LRMonitor()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [cb], max_steps=-1, max_epochs=3).fit(module, loader(64, 4))
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    plan, steps, logged = planned_and_logged(tmp_path)
    np.testing.assert_array_equal(logged, f32(applied))
    assert [plan[s] for s in steps] == list(logged)  # the plan is the run at every one of its 48 steps
    (review,) = cb.reviews
    assert review.scheduler.endswith("+ StepLR(step_size=1, gamma=0.1)")
    codes = [w.split(":")[0] for w in schedule_warnings(record)]
    if chainable:
        assert codes == [] and applied[16] == pytest.approx(0.01) and applied[40] == pytest.approx(0.001)
    else:
        assert applied[15:18] == [0.1, pytest.approx(0.01), 0.1]  # each decay lasts one step
        assert codes == ["schedulers-conflict"]  # not a misleading lr-jump fix
        (warning,) = schedule_warnings(record)
        assert warning.startswith("schedulers-conflict: StepLR(step_size=1, gamma=0.1) shares its optimizer")
        assert "last 2 of the run's 48 steps instead of the 32" in warning


# ---------------------------------------------------------------------------------------------------------------
# the rest of the Trainer's arguments and built-in callbacks that touch steps, optimizers, schedulers or logging:
# "auto" bound to the steps Lightning takes, logged = applied, no false finding


class FoundBatchSize(TinyModule):
    """A module whose loader reads ``self.batch_size`` (what BatchSizeFinder scales before the fit)."""

    def __init__(self) -> None:
        super().__init__(lambda m: SGD(m.parameters(), lr=0.1))
        self.batch_size = 4

    def train_dataloader(self) -> Any:
        from helpers import dataset
        from torch.utils.data import DataLoader

        return DataLoader(dataset(64), batch_size=self.batch_size)


def _bsf() -> Any:
    from lightning.pytorch.callbacks import BatchSizeFinder

    return BatchSizeFinder(mode="power", init_val=8, max_trials=2, steps_per_trial=1)  # ends at 16: 4 steps/epoch


def _callback(name: str) -> Any:
    import lightning.pytorch.callbacks as cbs

    return {
        "ema": lambda: cbs.EMAWeightAveraging(),
        "pruning": lambda: cbs.ModelPruning("l1_unstructured", amount=0.1),
    }[name]()


MATRIX: dict[str, tuple[dict[str, Any], int]] = {
    "barebones": ({"barebones": True, "logger": False, "log_every_n_steps": None}, 48),
    "overfit_batches": ({"overfit_batches": 3}, 9),
    "min_epochs": ({"min_epochs": 2}, 48),
    "min_steps": ({"max_epochs": -1, "max_steps": 20, "min_steps": 10}, 20),
    "log_every_n_steps=0": ({"log_every_n_steps": 0}, 48),
    "bf16-mixed": ({"precision": "bf16-mixed"}, 48),
    "val_check_interval": ({"val_check_interval": 5, "limit_val_batches": 1}, 48),
    "limit_train_batches+accumulate": ({"limit_train_batches": 5, "accumulate_grad_batches": 2}, 9),
    "ModelPruning": ({"callbacks": "pruning"}, 48),
    "BatchSizeFinder first": ({"callbacks": "bsf-first"}, 12),
    "BatchSizeFinder last": ({"callbacks": "bsf-last"}, 12),
}
if hasattr(lightning.pytorch.callbacks, "EMAWeightAveraging"):  # Lightning 2.6 and later
    MATRIX["EMAWeightAveraging"] = ({"callbacks": "ema"}, 48)


@pytest.mark.parametrize("case", list(MATRIX))
def test_trainer_features_bind_auto_to_the_real_run_and_log_what_the_step_used(tmp_path, case):
    kwargs, steps = dict(MATRIX[case][0]), MATRIX[case][1]
    extra = kwargs.pop("callbacks", None)
    cb = LRMonitor(AUTO_COSINE)
    bsf = extra is not None and extra.startswith("bsf")
    module = FoundBatchSize() if bsf else TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    callbacks = [cb]
    if bsf:
        callbacks = [_bsf(), cb] if extra == "bsf-first" else [cb, _bsf()]
    elif extra is not None:
        callbacks.append(_callback(extra))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        t = trainer(tmp_path, callbacks, **{"max_steps": -1, "max_epochs": 3, **kwargs})
        t.fit(module, None if bsf else loader(64, 4))
    cosine = next(c.scheduler for c in t.lr_scheduler_configs)
    if bsf:  # the batch size the finder settles on differs across Lightning releases (16 from 2.6; 32 in 2.5)
        assert module.batch_size in (16, 32)
        steps = 3 * (64 // module.batch_size)
    assert t.global_step == steps and (cosine.T_max, cosine.last_epoch) == (steps, steps)
    assert schedule_warnings(record) == []
    if kwargs.get("logger", "tb") is not False:
        applied = [a[0] for a in module.optimizers().optimizer.applied][-steps:]  # after BatchSizeFinder's trials
        np.testing.assert_array_equal(series(read_scalars(run_dir(tmp_path)), "lr-SGD")[1], f32(applied))


class WithLR(TinyModule):
    """A module with an ``lr`` attribute, what the LR finder tunes."""

    def __init__(self) -> None:
        super().__init__()
        self.lr = 0.01

    def configure_optimizers(self) -> Any:
        return SGD(self.parameters(), lr=self.lr)


@pytest.mark.parametrize("how", ["Tuner.lr_find", "LearningRateFinder"])
def test_the_lr_finder_before_the_fit_leaves_one_growing_file_with_every_lr(tmp_path, how):
    from lightning.pytorch.callbacks import LearningRateFinder
    from lightning.pytorch.tuner import Tuner
    from tensorboard.backend.event_processing import event_file_loader

    module, cb = WithLR(), LRMonitor(AUTO_COSINE)
    finder = [LearningRateFinder(num_training_steps=8, early_stop_threshold=None)] if how != "Tuner.lr_find" else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the finder's own advice on tiny runs
        t = trainer(tmp_path, [*finder, cb], max_steps=-1, max_epochs=2)
        if how == "Tuner.lr_find":
            Tuner(t).lr_find(module, train_dataloaders=loader(64, 4), num_training=8, early_stop_threshold=None)
        t.fit(module, loader(64, 4))
    cosine = t.lr_scheduler_configs[0].scheduler
    assert (cosine.T_max, cosine.last_epoch) == (32, 32)
    applied = [a[0] for a in module.optimizers().optimizer.applied][-32:]  # after the finder's own steps
    steps, logged = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    assert steps == list(range(32))
    np.testing.assert_array_equal(logged, f32(applied))
    # the finder closed the logger's writer; it reopened in a new file: the LRs follow it there, beside train_loss
    # (TensorBoard's Python loader reads a run's files in name order and never goes back to an earlier one)
    files = sorted(f for f in os.listdir(run_dir(tmp_path)) if f.startswith("events.out.tfevents."))
    tags = [
        {
            v.tag
            for e in event_file_loader.EventFileLoader(os.path.join(run_dir(tmp_path), f)).Load()
            for v in e.summary.value
        }
        for f in files
    ]
    assert "lr-SGD" in tags[-1] and "train_loss" in tags[-1] and not any("lr-SGD" in t for t in tags[:-1])


def test_a_horizon_finding_on_the_part_swa_replaces_names_swa(tmp_path):
    """A cosine sized to 6 epochs of a 4-epoch run while StochasticWeightAveraging's SWALR takes over from epoch 2:
    the finding says SWA is why the schedule runs for only the 32 steps before, and sizes the fix to them."""
    from lightning.pytorch.callbacks import StochasticWeightAveraging

    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=96)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    module = Normed()
    module._configure = configure
    swa = StochasticWeightAveraging(swa_lrs=0.05, swa_epoch_start=3)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [LRMonitor(), swa], max_steps=-1, max_epochs=4).fit(module, loader(64, 4))
    (found,) = schedule_warnings(record)
    assert found.startswith("horizon-too-long: CosineAnnealingLR(T_max=96")
    assert "StochasticWeightAveraging replaces this schedule with its SWALR from epoch 2" in found
    assert "use T_max=32 (the scheduler steps before StochasticWeightAveraging takes over)" in found
