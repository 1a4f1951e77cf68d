"""Who steps the scheduler: LRMonitor holds the plan against the stepping that really happens, and names the cause.

Each case is a situation from Lightning users' reports: a per-step schedule returned without ``"interval"``, a
scheduler stepped twice, manual optimization, a resume from a checkpoint saved at validation end.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
import torch
from helpers import SGD, TinyModule, f32, loader, lr_warnings, read_scalars, run_dir, series, trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LinearLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)

from lightning_lrmon import LRMonitor, LRMonitorNote, LRScheduleWarning


class WithValidation(TinyModule):
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))


def fit(tmp_path, module, *, callbacks=(), data=None, val=None, ckpt_path=None, monitor=None, **kw) -> list[str]:
    """A real fit with LRMonitor; the LRScheduleWarnings it gave."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        cb = monitor or LRMonitor()
        trainer(tmp_path, [cb, *callbacks], **kw).fit(module, data or loader(64, 4), val, ckpt_path=ckpt_path)
    return lr_warnings(record)


def epoch_scheduler(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": StepLR(opt, step_size=2, gamma=0.5), "interval": "epoch"}}


def test_resume_from_a_checkpoint_saved_at_validation_end_is_in_place(tmp_path):
    """Lightning steps an epoch-interval scheduler before the validation that ends the epoch: a checkpoint saved
    there holds the scheduler one step further than ``current_epoch`` says (was a false resume-mismatch)."""

    def ckpt() -> ModelCheckpoint:
        return ModelCheckpoint(dirpath=tmp_path / "ckpt", save_top_k=-1, save_on_train_epoch_end=False)

    kw = dict(max_epochs=4, max_steps=-1, check_val_every_n_epoch=2, enable_checkpointing=True)
    data = loader(64, 8)  # 8 steps per epoch
    spec = {"class_path": "StepLR", "init_args": {"step_size": 2, "gamma": 0.5}}

    def monitor() -> LRMonitor:
        return LRMonitor(spec, interval="epoch")

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", LRScheduleWarning)
        trainer(tmp_path / "a", [monitor(), ckpt()], **kw).fit(WithValidation(), data, loader(16, 8))
    path = str(tmp_path / "ckpt" / "epoch=1-step=16.ckpt")
    state = torch.load(path, weights_only=False)
    assert state["lr_schedulers"][0]["last_epoch"] == 2 and state["epoch"] == 1  # stepped, epoch not yet done
    resumed = WithValidation()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        trainer(tmp_path / "b", [monitor(), ckpt()], **kw).fit(resumed, data, loader(16, 8), ckpt_path=path)
    assert [w for w in lr_warnings(record) if w.startswith("resume-mismatch")] == []


def steps_of(m: TinyModule) -> int:
    return int(m.trainer.estimated_stepping_batches)


def onecycle(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.01)
    return [opt], [OneCycleLR(opt, max_lr=0.1, epochs=m.trainer.max_epochs, steps_per_epoch=16)]


def hf_linear(m: TinyModule) -> Any:
    from transformers import get_linear_schedule_with_warmup

    opt = SGD(m.parameters(), lr=0.1)
    return [opt], [get_linear_schedule_with_warmup(opt, num_warmup_steps=8, num_training_steps=steps_of(m))]


def cyclic(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    return [opt], [CyclicLR(opt, base_lr=0.001, max_lr=0.1, step_size_up=8)]


def step_late(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    return [opt], [StepLR(opt, step_size=int(0.95 * steps_of(m)), gamma=0.1)]


def cosine_steps(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    return [opt], [CosineAnnealingLR(opt, T_max=steps_of(m))]


PER_STEP = {"onecycle": onecycle, "hf-linear": hf_linear, "cyclic": cyclic, "step-late": step_late}
PER_STEP["cosine"] = cosine_steps


def with_interval(configure, interval: str):
    def configure_with(m: TinyModule) -> Any:
        (opt,), (sched,) = configure(m)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": interval}}

    return configure_with


@pytest.mark.parametrize("name", sorted(PER_STEP))
def test_a_per_step_schedule_returned_without_interval_names_the_interval(tmp_path, name):
    """Lightning steps a scheduler without "interval" once per epoch: the finding names that cause and gives
    "interval": "step" as the fix, never a horizon shrunk to the number of epochs (which breaks a correct schedule).
    """
    found = fit(tmp_path, TinyModule(PER_STEP[name]), max_epochs=5, max_steps=-1)
    timed = [w for w in found if w.split(":")[0] in ("horizon-too-long", "warmup-too-long", "horizon-too-short")]
    assert timed, found
    for w in timed:
        assert "Lightning steps it once per epoch, 5 times in this run" in w, w
        assert "optimizer steps (80 in this run)" in w, w
        assert w.endswith(
            '"interval": "step"}} from configure_optimizers, so Lightning steps it after every optimizer step.'
        ), w


@pytest.mark.parametrize("name", sorted(PER_STEP))
def test_the_same_schedule_stepped_per_step_is_silent(tmp_path, name):
    found = fit(tmp_path, TinyModule(with_interval(PER_STEP[name], "step")), max_epochs=5, max_steps=-1)
    assert found == []


def cosine_every(total, frequency: int = 1):
    """A per-step cosine whose T_max is ``total(module)``, stepped every ``frequency`` optimizer steps."""

    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        config = {"scheduler": CosineAnnealingLR(opt, T_max=total(m)), "interval": "step", "frequency": frequency}
        return {"optimizer": opt, "lr_scheduler": config}

    return configure


@pytest.mark.parametrize("frequency", [2, 4])
def test_a_horizon_in_optimizer_steps_stepped_every_few_steps_names_the_frequency(tmp_path, frequency):
    """T_max = estimated_stepping_batches with "frequency": N: Lightning steps it N times less, so the cosine ends a
    fraction of the way (at N=2 exactly half way: 0.3 said nothing there, and never named the frequency)."""
    found = fit(tmp_path, TinyModule(cosine_every(steps_of, frequency)), max_epochs=5, max_steps=-1)
    (long,) = [w for w in found if w.startswith("horizon-too-long")]
    assert f'with "frequency": {frequency} Lightning steps it once every {frequency} optimizer steps' in long
    assert "its horizon counts optimizer steps (80 in this run)" in long
    assert f'Fix: drop "frequency": {frequency} from the lr_scheduler dict' in long
    assert long.endswith(f"or keep it and use T_max={80 // frequency} (the run's scheduler steps).")


def test_a_horizon_from_max_steps_in_a_run_that_max_epochs_ends_is_named(tmp_path):
    """T_max=self.trainer.max_steps with only max_epochs set: T_max=-1. 0.3 said decay-increases with the fix "use a
    smaller eta_min (e.g. 0)" (it was 0 already) and an lr-jump; the cause is the horizon."""
    found = fit(tmp_path, TinyModule(cosine_every(lambda m: m.trainer.max_steps)), max_epochs=5, max_steps=-1)
    (short,) = found
    assert short.startswith("horizon-too-short: CosineAnnealingLR(T_max=-1, eta_min=0) on lr-SGD: its horizon T_max=-1")
    assert "-1 is Trainer.max_steps when max_epochs ends the run" in short
    assert short.endswith("Fix: use T_max=80 (the run's scheduler steps, self.trainer.estimated_stepping_batches).")


def test_a_horizon_sized_for_the_frequency_is_silent(tmp_path):
    assert fit(tmp_path, TinyModule(cosine_every(lambda m: steps_of(m) // 2, 2)), max_epochs=5, max_steps=-1) == []


@pytest.mark.parametrize("accumulate", [2, 4])
def test_a_horizon_in_batches_under_gradient_accumulation_is_named(tmp_path, accumulate):
    """T_max = len(loader) * max_epochs under accumulate_grad_batches: the horizon counts batches, the scheduler
    optimizer steps (at 2, exactly half of the cosine runs: 0.3 said nothing). The fix is a number: 'auto' is
    LRMonitor's own spec word, and torch's CosineAnnealingLR in configure_optimizers would reject it."""
    total = 16 * 5
    found = fit(
        tmp_path,
        TinyModule(cosine_every(lambda m: total)),
        max_epochs=5,
        max_steps=-1,
        accumulate_grad_batches=accumulate,
    )
    (long,) = [w for w in found if w.startswith("horizon-too-long")]
    steps = total // accumulate
    assert f"T_max={total} looks like micro-batches: this run takes {steps} optimizer steps" in long
    assert long.endswith(f"Fix: use T_max={steps} (the run's scheduler steps).") and "'auto'" not in long


def test_a_horizon_from_estimated_stepping_batches_under_accumulation_is_silent(tmp_path):
    module = TinyModule(cosine_every(steps_of))
    assert fit(tmp_path, module, max_epochs=5, max_steps=-1, accumulate_grad_batches=2) == []


def test_an_epoch_schedule_sized_in_epochs_keeps_its_own_fix(tmp_path):
    """A cosine that really counts epochs but is sized for another run: the interval is not the cause."""

    def cosine_epochs(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        return [opt], [CosineAnnealingLR(opt, T_max=50)]

    found = fit(tmp_path, TinyModule(cosine_epochs), max_epochs=5, max_steps=-1)
    (long,) = [w for w in found if w.startswith("horizon-too-long")]
    assert "once per epoch" not in long and "T_max=5" in long


class AlsoStepsAtEpochEnd(TinyModule):
    def on_train_epoch_end(self) -> None:
        self.lr_schedulers().step()  # the user steps it too: twice per epoch


class AlsoStepsInTrainingStep(TinyModule):
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        self.lr_schedulers().step()  # the user steps it too: every batch, on top of Lightning's epoch step
        return super().training_step(batch, batch_idx)


@pytest.mark.parametrize("module", [AlsoStepsAtEpochEnd, AlsoStepsInTrainingStep])
def test_an_epoch_scheduler_the_user_also_steps_is_a_double_step(tmp_path, module):
    found = fit(tmp_path, module(epoch_scheduler), max_epochs=3, max_steps=-1)
    (double,) = [w for w in found if w.startswith("double-step")]
    assert "StepLR(step_size=2, gamma=0.5) was stepped" in double and "remove the extra scheduler.step()" in double
    # held at every step read, though Lightning steps it per epoch: the finding names the step where the LR parted
    # (torch's StepLR(step_size=2, gamma=0.5) after 2 steps: 0.05), said at the epoch's end where the count shows
    at = 1 if module is AlsoStepsInTrainingStep else 16
    assert f"The applied LR left the plan: at optimizer step {at}, group 0 uses 0.05 where the plan has 0.1." in double


def test_an_epoch_scheduler_stepped_by_lightning_alone_is_silent(tmp_path):
    assert fit(tmp_path, TinyModule(epoch_scheduler), max_epochs=3, max_steps=-1) == []


class Manual(TinyModule):
    """Manual optimization; the user steps the scheduler every batch (``every=True``), or never."""

    def __init__(self, configure, *, steps_scheduler: bool) -> None:
        super().__init__(configure)
        self.automatic_optimization = False
        self.steps_scheduler = steps_scheduler

    def training_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        opt = self.optimizers()
        loss = torch.nn.functional.mse_loss(self(x), y)
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        if self.steps_scheduler:
            self.lr_schedulers().step()


def warmup_cosine(m: TinyModule) -> Any:
    from transformers import get_cosine_schedule_with_warmup

    opt = SGD(m.parameters(), lr=0.1)
    total = int(m.trainer.estimated_stepping_batches)
    return [opt], [get_cosine_schedule_with_warmup(opt, num_warmup_steps=8, num_training_steps=total)]


def test_manual_optimization_stepped_every_batch_by_the_user_is_judged_by_that_stepping(tmp_path):
    """A healthy warmup-cosine the user steps every batch (no "interval": it does not matter here) is silent; 0.3
    judged it as stepped per epoch (a false horizon-too-long and warmup-too-long)."""
    m = Manual(warmup_cosine, steps_scheduler=True)
    assert fit(tmp_path, m, max_epochs=5, max_steps=-1) == []
    assert m.lr_schedulers().last_epoch == 80


def test_manual_optimization_nobody_steps_is_scheduler_not_stepped(tmp_path):
    (found,) = fit(tmp_path, Manual(warmup_cosine, steps_scheduler=False), max_epochs=5, max_steps=-1)
    assert found.startswith("scheduler-not-stepped: LambdaLR(") and "never stepped in 16 optimizer steps" in found


def test_manual_optimization_an_epoch_sized_horizon_stepped_every_batch_is_too_short(tmp_path):
    """Declared "interval": "epoch" and T_max in epochs, stepped by the user every batch: the cosine ends after 5 of
    80 steps and climbs back (0.3 said nothing)."""

    def cosine_epochs(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": CosineAnnealingLR(opt, T_max=5), "interval": "epoch"}}

    found = fit(tmp_path, Manual(cosine_epochs, steps_scheduler=True), max_epochs=5, max_steps=-1)
    (short,) = [w for w in found if w.startswith("horizon-too-short")]
    assert "you step it yourself: 16 times in the first epoch, so 80 times in this run" in short
    # judged from the fit's start (0.3: "ends at step 16, but this run steps it 64 times", the steps left)
    assert "its horizon T_max=5 ends at step 5, but this run steps it 80 times" in short
    # the user's own CosineAnnealingLR takes no 'auto', and a scheduler stepped this fit was not resumed
    assert short.endswith("Fix: use T_max=80 (the run's scheduler steps).")


def test_manual_optimization_with_two_optimizers_each_stepped_is_silent(tmp_path):
    from helpers import TwoOptimizerModule

    def two(m: TinyModule) -> Any:
        g, d = SGD(m.body.parameters(), lr=0.1), SGD(m.head.parameters(), lr=0.1)
        total = 5 * 16
        return [g, d], [CosineAnnealingLR(g, T_max=total), CosineAnnealingLR(d, T_max=total)]

    assert fit(tmp_path, TwoOptimizerModule(two), max_epochs=5, max_steps=-1) == []


class ManualPerEpoch(Manual):
    """Manual optimization; the user steps the scheduler once per epoch, in on_train_epoch_end."""

    def on_train_epoch_end(self) -> None:
        self.lr_schedulers().step()


def test_manual_optimization_stepped_per_epoch_in_on_train_epoch_end(tmp_path):
    def cosine(t_max: int):
        def configure(m: TinyModule) -> Any:
            opt = SGD(m.parameters(), lr=0.1)
            return [opt], [CosineAnnealingLR(opt, T_max=t_max)]

        return configure

    assert fit(tmp_path / "a", ManualPerEpoch(cosine(5), steps_scheduler=False), max_epochs=5, max_steps=-1) == []
    found = fit(tmp_path / "b", ManualPerEpoch(cosine(80), steps_scheduler=False), max_epochs=5, max_steps=-1)
    (long,) = [w for w in found if w.startswith("horizon-too-long")]
    assert "you step it yourself: 1 time in the first epoch, so 5 times in this run" in long


class ManualEveryTwoEpochs(Manual):
    """Lightning's documented "step every N epochs" under manual optimization, N = 2 (``stepping``: at all)."""

    def __init__(self, configure: Any, *, stepping: bool = True) -> None:
        super().__init__(configure, steps_scheduler=False)
        self.stepping = stepping

    def training_step(self, batch: Any, batch_idx: int) -> None:
        super().training_step(batch, batch_idx)
        if self.stepping and self.trainer.is_last_batch and (self.trainer.current_epoch + 1) % 2 == 0:
            self.lr_schedulers().step()


def halving(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    return [opt], [StepLR(opt, step_size=1, gamma=0.5)]


def test_manual_optimization_stepped_every_few_epochs_is_silent(tmp_path):
    # before: scheduler-not-stepped after the first epoch ("was never stepped in 16 optimizer steps")
    module = ManualEveryTwoEpochs(halving)
    assert fit(tmp_path, module, max_epochs=4, max_steps=-1) == []
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert applied[0] == applied[31] == 0.1 and applied[32] == applied[63] == 0.05  # stepped at epoch 2's end


def test_manual_optimization_never_stepped_is_said_by_the_fits_end_when_not_sized_per_step(tmp_path):
    found = fit(tmp_path, ManualEveryTwoEpochs(halving, stepping=False), max_epochs=4, max_steps=-1)
    assert [w.split(":")[0] for w in found] == ["scheduler-not-stepped"]
    assert "was never stepped in 64 optimizer steps" in found[0]


def test_manual_optimization_one_epoch_nobody_steps(tmp_path):
    found = fit(tmp_path, Manual(warmup_cosine, steps_scheduler=False), max_epochs=1, max_steps=-1)
    assert [w.split(":")[0] for w in found] == ["scheduler-not-stepped"]


class ManualAccumulation(Manual):
    """Manual optimization with the gradient accumulation of Lightning's docs: the optimizer and the scheduler step
    every 2nd batch."""

    def training_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.manual_backward(torch.nn.functional.mse_loss(self(x), y) / 2)
        if (batch_idx + 1) % 2 == 0:
            self.optimizers().step()
            self.optimizers().zero_grad()
            self.lr_schedulers().step()


class ManualOnLastBatch(Manual):
    """Manual optimization, the scheduler stepped on each epoch's last batch (Lightning's docs)."""

    def training_step(self, batch: Any, batch_idx: int) -> None:
        super().training_step(batch, batch_idx)
        if self.trainer.is_last_batch:
            self.lr_schedulers().step()


def cosine_of(total) -> Any:
    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        return [opt], [CosineAnnealingLR(opt, T_max=total(m))]

    return configure


@pytest.mark.parametrize(
    "module, t_max, runs",
    [(ManualAccumulation, steps_of, 40), (ManualOnLastBatch, lambda m: 80, 5)],
    ids=["every-2nd-batch", "last-batch"],
)
def test_manual_stepping_counts_the_horizon_from_the_schedulers_step_0(tmp_path, module, t_max, runs):
    """The horizon judged after the first epoch (the user's stepping observed) is judged from the scheduler as the fit
    started, as the user counts it: 0.3 said "2.2x longer than the 32 scheduler steps this run takes" (the steps
    left) next to "so 40 times in this run"."""
    m = module(cosine_of(t_max), steps_scheduler=False)
    found = fit(tmp_path, m, max_epochs=5, max_steps=-1)
    assert m.lr_schedulers().last_epoch == runs  # the scheduler steps the run really took
    (long,) = [w for w in found if w.startswith("horizon-too-long")]
    ratio, share = 80 / runs, 100 * runs / 80
    assert f"is {ratio:.1f}x longer than the {runs} scheduler steps this run takes" in long
    assert f"the run ends {share:.0f}% of the way through the schedule" in long
    assert f"so {runs} times in this run" in long
    assert long.endswith(f"Fix: use T_max={runs} (the run's scheduler steps).")
    at = CosineAnnealingLR(SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), T_max=80)
    for _ in range(runs - 1):
        at.optimizer.step()
        at.step()
    assert f"(LR 0.1 -> {at.get_last_lr()[0]:.3g})" in long  # from the start to torch's own LR at the run's last step


def test_manual_stepping_sized_to_the_users_steps_is_silent(tmp_path):
    m = ManualAccumulation(cosine_of(lambda m: 40), steps_scheduler=False)
    assert fit(tmp_path, m, max_epochs=5, max_steps=-1) == []
    assert m.lr_schedulers().last_epoch == 40


class NeverSteps(TinyModule):
    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        pass  # e.g. left from a refactor: Lightning steps schedulers only through this hook


def test_an_lr_scheduler_step_that_never_steps_says_so(tmp_path):
    """0.3 said the override passes the epoch, with the fix "call scheduler.step() without the epoch"."""
    found = fit(tmp_path, NeverSteps(with_interval(onecycle, "step")), max_epochs=5, max_steps=-1)
    (stall,) = [w for w in found if w.startswith("scheduler-not-stepped")]
    assert "moved 0 steps in the first 4 optimizer steps" in stall
    assert "your lr_scheduler_step override never calls scheduler.step()" in stall and "epoch" not in stall
    assert "Fix: call scheduler.step() in lr_scheduler_step (or remove the override" in stall


class StepsWithTheEpoch(TinyModule):
    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        scheduler.step(epoch=self.current_epoch)  # moves a per-step schedule once per epoch


def test_an_lr_scheduler_step_that_passes_the_epoch_is_named(tmp_path):
    found = fit(tmp_path, StepsWithTheEpoch(with_interval(onecycle, "step")), max_epochs=5, max_steps=-1)
    (stall,) = [w for w in found if w.startswith("scheduler-not-stepped")]
    # judged at the first epoch's end, where passing the epoch shows as one step per epoch (a delayed start would not)
    assert "moved 0 steps in the first 16 optimizer steps, while Lightning stepped it 16 times" in stall
    assert "The applied LR left the plan: at optimizer step 1, group 0 uses 0.004 where" in stall  # where it parted
    assert "passing the epoch" in stall and "scheduler.step() without the epoch" in stall


class StepsPlainly(TinyModule):
    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        scheduler.step()


def plateau_every(frequency: int) -> Any:
    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        sched = ReduceLROnPlateau(opt, patience=0, threshold=10.0)  # cuts at each step it takes
        config = {"scheduler": sched, "monitor": "val_loss", "interval": "step", "frequency": frequency}
        return {"optimizer": opt, "lr_scheduler": config}

    return configure


@pytest.mark.parametrize("frequency", [8, 12])
def test_reduce_on_plateau_stepped_at_or_after_the_first_validation_is_silent(tmp_path, frequency):
    # Lightning's documented pattern, "frequency" = val_check_interval: before, a false plateau-monitor-missing
    # ("Lightning will raise after the first batch") and each of the plateau's own cuts an lr-outside-plan note
    module = WithValidation(plateau_every(frequency))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [LRMonitor()], max_epochs=2, max_steps=-1, val_check_interval=8, limit_val_batches=2).fit(
            module, loader(64, 4), loader(16, 4)
        )
    assert [str(w.message) for w in record if issubclass(w.category, (LRScheduleWarning, LRMonitorNote))] == []
    assert len({a[0] for a in module.optimizers().optimizer.applied}) > 1  # the plateau did cut the LR


def test_reduce_on_plateau_stepped_before_the_first_validation_is_said_before_lightning_raises(tmp_path):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        with pytest.raises(Exception, match="val_loss"):  # Lightning's own error, at the plateau's first step
            trainer(tmp_path, [LRMonitor()], max_epochs=2, max_steps=-1, val_check_interval=8).fit(
                WithValidation(plateau_every(4)), loader(64, 4), loader(16, 4)
            )
    (found,) = lr_warnings(record)
    assert "every 4 optimizer steps" in found and "after the first validation, after batch 8" in found, found


class StepsByEpochFraction(TinyModule):
    """CosineAnnealingWarmRestarts as its docstring steps it, by the fraction of epochs done, through
    ``lr_scheduler_step`` (``whole``: by the epoch alone, which stalls it for a whole epoch)."""

    def __init__(self, configure: Any, whole: bool = False) -> None:
        super().__init__(configure)
        self.whole = whole

    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        done = (self.trainer.fit_loop.epoch_loop.batch_idx + 1) / self.trainer.num_training_batches
        scheduler.step(self.current_epoch if self.whole else self.current_epoch + done)


def warm_restarts_per_step(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    sched = CosineAnnealingWarmRestarts(opt, T_0=2)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def test_warm_restarts_stepped_by_the_fraction_of_epochs_is_silent(tmp_path):
    # before: scheduler-not-stepped ("moved 0 steps ... passing the epoch"), whose fix breaks this documented use
    module = StepsByEpochFraction(warm_restarts_per_step)
    assert fit(tmp_path, module, max_epochs=4, max_steps=-1) == []
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert len(set(applied[:16])) == 16  # the LR moves every step, though last_epoch moves once per epoch


def test_warm_restarts_stepped_by_the_whole_epoch_is_still_said(tmp_path):
    found = fit(tmp_path, StepsByEpochFraction(warm_restarts_per_step, whole=True), max_epochs=4, max_steps=-1)
    assert [w.split(":")[0] for w in found] == ["scheduler-not-stepped"], found


def test_an_lr_scheduler_step_that_steps_plainly_is_silent(tmp_path):
    assert fit(tmp_path, StepsPlainly(with_interval(onecycle, "step")), max_epochs=5, max_steps=-1) == []


def test_reduce_on_plateau_per_step_on_a_validation_metric_is_said_before_lightning_raises(tmp_path):
    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss", "interval": "step"}}

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        with pytest.raises(Exception, match="val_loss"):  # Lightning's own error, after the first batch
            trainer(tmp_path, [LRMonitor()], max_epochs=2, max_steps=-1).fit(
                WithValidation(configure), loader(64, 4), loader(16, 4)
            )
    (found,) = lr_warnings(record)
    assert found.startswith("plateau-monitor-missing: ReduceLROnPlateau watches 'val_loss' with interval='step'")
    assert "use 'interval': 'epoch'" in found


def plateau_per_epoch(frequency: int, **extra: Any):
    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        config = {"scheduler": sched, "monitor": "val_loss", "interval": "epoch", "frequency": frequency, **extra}
        return {"optimizer": opt, "lr_scheduler": config}

    return configure


def test_reduce_on_plateau_per_epoch_between_validations_is_said_before_lightning_raises(tmp_path):
    """check_val_every_n_epoch=2 and a ReduceLROnPlateau on val_loss stepped every epoch: Lightning raises at the end
    of epoch 0, where no validation ran (0.3 said nothing)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(Exception, match="val_loss"):  # Lightning's own error, at the end of epoch 0
            trainer(tmp_path, [LRMonitor()], max_epochs=4, max_steps=-1, check_val_every_n_epoch=2).fit(
                WithValidation(plateau_per_epoch(1)), loader(64, 4), loader(16, 4)
            )
    (found,) = lr_warnings(record)
    assert found.startswith("plateau-monitor-missing: ReduceLROnPlateau watches 'val_loss' with interval='epoch'")
    assert "check_val_every_n_epoch=2" in found and "at the end of epoch 0" in found
    assert "Fix: set 'frequency': 2 in the lr_scheduler dict" in found


@pytest.mark.parametrize("extra", [{"frequency": 2}, {"frequency": 1, "strict": False}])
def test_reduce_on_plateau_stepped_after_each_validation_or_not_strict_is_silent(tmp_path, extra):
    m = WithValidation(plateau_per_epoch(**extra))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*strict is set to `False`")  # Lightning's own, when it skips
        found = fit(tmp_path, m, max_epochs=4, max_steps=-1, check_val_every_n_epoch=2, val=loader(16, 4))
    assert found == [] and m.current_epoch == 4


class WarmupInOptimizerStep(TinyModule):
    """The warm-up of Lightning's docs: the LR written into param_groups in optimizer_step for the first 8 steps."""

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_closure: Any = None) -> None:
        optimizer.step(closure=optimizer_closure)
        if self.trainer.global_step < 8:
            scale = min(1.0, float(self.trainer.global_step + 1) / 8)
            for pg in optimizer.param_groups:
                pg["lr"] = scale * 0.1


def test_a_warmup_written_in_optimizer_step_is_a_note_never_a_schedule_finding(tmp_path):

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [LRMonitor()], max_epochs=2, max_steps=-1).fit(
            WarmupInOptimizerStep(with_interval(cosine_steps, "step")), loader(64, 4)
        )
    assert lr_warnings(record) == []
    notes = [str(w.message) for w in record if issubclass(w.category, LRMonitorNote)]
    (outside,) = [n for n in notes if n.startswith("lr-outside-plan")]
    assert "something else writes the LR" in outside


def test_a_warmup_in_optimizer_step_over_an_epoch_scheduler_is_never_a_schedule_finding(tmp_path):
    """The epoch scheduler is held at every step read: the warm-up's writes part from its plan for 8 steps, and a
    later epoch that is in place must not turn them into a finding."""
    module = WarmupInOptimizerStep(epoch_scheduler)
    assert fit(tmp_path, module, max_epochs=4, max_steps=-1) == []
    assert module.lr_schedulers().last_epoch == 4


def test_a_double_step_says_where_the_applied_lr_left_the_plan(tmp_path):
    found = fit(tmp_path, TinyModule(with_interval(cosine_steps, "step"), extra_step=True), max_epochs=2, max_steps=-1)
    (double,) = [w for w in found if w.startswith("double-step")]
    # the first optimizer step should use the cosine's (T_max=32, lr 0.1) start, 0.1; stepped once in training_step
    # before it, it uses 0.1 (1 + cos(pi/32)) / 2: the run left its plan at step 0, said at step 1 with the count
    expected = "at optimizer step 0, group 0 uses 0.0997592 where the plan has 0.1"
    assert f"The applied LR left the plan: {expected}." in double
    # the count as read at step 1 (after training_step's extra step() for that batch); the rate between checks
    assert "was stepped 3 times by optimizer step 1 (Lightning steps it once by then)" in double, double
    assert "the schedule runs 2.0x too fast" in double


class ExtraStepFromEpochTwo(TinyModule):
    """From epoch 2 on, one extra scheduler.step() at each epoch's first batch (not a 2x double step)."""

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if self.current_epoch >= 2 and batch_idx == 0:
            self.lr_schedulers().step()
        return super().training_step(batch, batch_idx)


@pytest.mark.parametrize("logger", ["tb", "csv"])  # csv at Lightning's cadence: LRs read only where logged or checked
def test_an_occasional_extra_step_is_said_in_the_epoch_the_run_leaves_its_plan(tmp_path, logger):
    module = ExtraStepFromEpochTwo(with_interval(cosine_steps, "step"))
    cb = LRMonitor()
    kw: dict[str, Any] = {"logger": CSVLogger(tmp_path), "log_every_n_steps": 50} if logger == "csv" else {}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        trainer(tmp_path, [cb], max_epochs=5, max_steps=-1, **kw).fit(module, loader(64, 4))
    (double,) = [w for w in lr_warnings(record) if w.startswith("double-step")]
    # with TensorBoard every step is read and held against the plan: said at step 32, where the extra step() moved
    # it; with CSV at Lightning's cadence the LRs are read where logged or checked: said at the end of epoch 2
    at = 32 if logger == "tb" else 48
    assert f"was stepped {at + 1} times where Lightning stepped it {at} times: 1 extra step() call(s)" in double
    (finding,) = [f for f in cb.findings if f.code == "double-step"]
    assert finding.step == at and f"The applied LR left the plan: at optimizer step {at}" in double


def warmup_and_decay_stacked(m: TinyModule) -> Any:
    """Two per-step schedulers on one optimizer (a warm-up and a decay, both stepped by Lightning)."""
    opt = SGD(m.parameters(), lr=0.1)
    warmup = {"scheduler": LinearLR(opt, start_factor=0.25, total_iters=8), "interval": "step"}
    decay = {"scheduler": ExponentialLR(opt, gamma=0.97), "interval": "step"}
    return [opt], [warmup, decay]


class ExtraDecayStepFromEpochTwo(TinyModule):
    """From epoch 2 on, one extra step() of the stack's decay at each epoch's first batch."""

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if self.current_epoch >= 2 and batch_idx == 0:
            self.lr_schedulers()[1].step()
        return super().training_step(batch, batch_idx)


def test_a_stack_is_held_against_its_plan_and_names_the_scheduler_stepped_once_too_often(tmp_path):
    cb = LRMonitor()
    found = fit(tmp_path, ExtraDecayStepFromEpochTwo(warmup_and_decay_stacked), max_epochs=4, max_steps=-1, monitor=cb)
    (double,) = [w for w in found if w.startswith("double-step")]
    assert double.startswith("double-step: ExponentialLR(gamma=0.97) was stepped 33 times where Lightning stepped it "
                             "32 times: 1 extra step() call(s)"), double  # fmt: skip
    (finding,) = [f for f in cb.findings if f.code == "double-step"]
    assert finding.step == 32 and "The applied LR left the plan: at optimizer step 32" in double
    assert not [f for f in cb.findings if f.code == "lr-outside-plan"]  # the warm-up is in place: not blamed


def warmup_then_plateau(m: TinyModule) -> Any:
    """A per-step warm-up, then ReduceLROnPlateau per epoch, on one optimizer (set to cut the LR every epoch)."""
    opt = SGD(m.parameters(), lr=0.1)
    warmup = {"scheduler": LinearLR(opt, start_factor=0.25, total_iters=8), "interval": "step"}
    plateau = ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=10.0)
    return [opt], [warmup, {"scheduler": plateau, "interval": "epoch", "monitor": "train_loss"}]


def test_a_warm_up_before_reduce_on_plateau_is_a_warm_up_and_the_plateaus_cuts_are_not_outside_writes(tmp_path):
    # before: the warm-up was reviewed alone, as LinearLR's documented decay: horizon-too-short and decay-increases;
    # the plateau's first cut was an lr-outside-plan note ("something else writes the LR")
    module = TinyModule(warmup_then_plateau)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [LRMonitor()], max_epochs=4, max_steps=-1).fit(module, loader(64, 4))
    assert [str(w.message) for w in record if issubclass(w.category, (LRScheduleWarning, LRMonitorNote))] == []
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert applied[0] == 0.025 and max(applied) == pytest.approx(0.1) and applied[-1] == pytest.approx(0.1 * 0.5**3)
    assert len(set(applied[8:])) == 4  # the peak, then one cut at each of 3 epoch ends


class SkipsOddBatches(TinyModule):
    """An ``optimizer_step`` that runs the closure on every batch but ``optimizer.step()`` only on even ones:
    Lightning still counts each batch in ``global_step`` and steps a per-step scheduler after it."""

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_closure: Any = None) -> None:
        if batch_idx % 2 == 0:
            optimizer.step(closure=optimizer_closure)
        else:
            optimizer_closure()


def per_batch_cosine(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    sched = CosineAnnealingLR(opt, T_max=int(m.trainer.estimated_stepping_batches))
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def test_an_optimizer_step_that_skips_some_steps_is_logged_at_the_trainers_steps_in_silence(tmp_path):
    # before: a false double-step ("remove the extra scheduler.step() call": there is none, Lightning steps it per
    # batch) and the LRs logged at steps 0..15 where the steps that used them were 0, 2, ..., 30
    from lightning.pytorch.callbacks import LearningRateMonitor

    lrs = {}
    for name, cb in {"ours": LRMonitor(), "lightning": LearningRateMonitor(logging_interval="step")}.items():
        module = SkipsOddBatches(per_batch_cosine)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            trainer(tmp_path / name, [cb], max_epochs=2, max_steps=-1, log_every_n_steps=1).fit(module, loader(64, 4))
        assert [str(w.message) for w in record if issubclass(w.category, (LRScheduleWarning, LRMonitorNote))] == []
        steps, values = series(read_scalars(run_dir(tmp_path / name)), "lr-SGD")
        lrs[name] = dict(zip(steps, values))
        if name == "ours":
            applied = [a[0] for a in module.optimizers().optimizer.applied]
            assert list(steps) == list(range(0, 32, 2)) and list(values) == list(f32(applied))
    assert all(lrs["lightning"][s] == v for s, v in lrs["ours"].items())  # LearningRateMonitor's points there


def test_a_healthy_stack_stays_silent_at_every_step(tmp_path):
    assert fit(tmp_path, TinyModule(warmup_and_decay_stacked), max_epochs=4, max_steps=-1) == []


# ---------------------------------------------------------------------------------------------------------------
# timm's convention: t_in_epochs, step(epoch) and step_update(num_updates), through lr_scheduler_step


class TimmCosine:
    """timm's ``CosineLRScheduler`` as its API is (timm itself needs torchvision, which does not import beside the
    pinned CPU torch): ``t_in_epochs`` says whether ``step(epoch)`` or ``step_update(num_updates)`` sets the LR,
    ``_get_lr(t)`` is the LR of t; no step counter is kept."""

    def __init__(self, optimizer: Any, t_initial: int, t_in_epochs: bool = True, lr_min: float = 0.0) -> None:
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_values = [group["initial_lr"] for group in optimizer.param_groups]
        self.t_initial, self.t_in_epochs, self.lr_min = t_initial, t_in_epochs, lr_min

    def _get_lr(self, t: int) -> list[float]:
        if t >= self.t_initial:
            return [self.lr_min for _ in self.base_values]
        cos = 1 + math.cos(math.pi * t / self.t_initial)
        return [self.lr_min + 0.5 * (b - self.lr_min) * cos for b in self.base_values]

    def _set(self, t: int, on_epoch: bool) -> None:
        if on_epoch == self.t_in_epochs:
            for group, lr in zip(self.optimizer.param_groups, self._get_lr(t)):
                group["lr"] = lr

    def step(self, epoch: int, metric: Any = None) -> None:
        self._set(epoch, on_epoch=True)

    def step_update(self, num_updates: int, metric: Any = None) -> None:
        self._set(num_updates, on_epoch=False)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        vars(self).update(state)


class WithTimm(TinyModule):
    """A timm cosine stepped by ``lr_scheduler_step`` as ``how`` says: ``"epoch"`` (Lightning's docstring:
    ``step(epoch=self.current_epoch)``), ``"epoch+1"`` (timm's own loop), ``"updates"`` (``step_update``)."""

    def __init__(self, interval: str, how: str, t_in_epochs: bool, t_initial: int) -> None:
        super().__init__()
        self.interval, self.how, self.t_in_epochs, self.t_initial = interval, how, t_in_epochs, t_initial

    def configure_optimizers(self) -> Any:
        opt = SGD(self.parameters(), lr=0.1)
        sched = TimmCosine(opt, self.t_initial, t_in_epochs=self.t_in_epochs)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": self.interval}}

    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        if self.how == "updates":
            scheduler.step_update(num_updates=self.global_step)
        else:
            scheduler.step(epoch=self.current_epoch + (self.how == "epoch+1"))


def fit_timm(tmp_path: Any, *args: Any) -> tuple[list[str], LRMonitor, WithTimm]:
    module, cb = WithTimm(*args), LRMonitor()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        trainer(tmp_path, [cb], max_epochs=10, max_steps=-1).fit(module, loader(64, 4))  # 16 steps an epoch
    return lr_warnings(record), cb, module


@pytest.mark.parametrize(
    "args",
    [
        ("epoch", "epoch+1", True, 10),  # timm's own loop
        ("step", "updates", False, 160),  # timm's step_update after every optimizer update
        ("step", "epoch", True, 10),  # t in epochs, called after every step with the epoch under way
    ],
)
def test_timm_schedulers_stepped_by_timms_convention_are_silent(tmp_path, args):
    found, cb, _ = fit_timm(tmp_path, *args)
    assert found == [] and cb.findings == []


def test_t_in_epochs_called_every_step_is_reviewed_per_epoch(tmp_path):
    _, cb, module = fit_timm(tmp_path, "step", "epoch", True, 10)
    (review,) = cb.reviews
    assert review.steps == 10 and any("t_in_epochs=True: its t counts epochs" in n for n in review.notes)
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert applied[-1] == pytest.approx(0.05 * (1 + math.cos(math.pi * 9 / 10)))  # epoch 9 ends at the LR of t=9


def test_lightnings_docstring_recipe_runs_one_epoch_behind_timm_and_says_so_in_epoch_one(tmp_path):
    found, cb, module = fit_timm(tmp_path, "epoch", "epoch", True, 10)
    (behind,) = found
    assert behind.startswith("scheduler-not-stepped: TimmCosine(t_initial=10")
    assert "runs one epoch behind timm's convention" in behind
    assert "(144 of this run's 160 optimizer steps at another epoch's LR)" in behind
    assert "scheduler.step(epoch=self.current_epoch + 1)" in behind
    (finding,) = cb.findings
    assert finding.step == 32  # the end of epoch 1, the first epoch whose LR is not timm's
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    assert applied[16] == applied[0] == 0.1  # epoch 1 trains at the LR of epoch 0


def test_the_next_epoch_passed_every_step_runs_one_epoch_ahead(tmp_path):
    (ahead,), _, _ = fit_timm(tmp_path, "step", "epoch+1", True, 10)
    assert ahead.startswith("double-step: TimmCosine") and "runs one epoch ahead of timm's convention" in ahead


def test_step_update_on_a_schedule_in_epochs_never_moves(tmp_path):
    (never,), _, module = fit_timm(tmp_path, "step", "updates", True, 10)
    assert never.startswith("scheduler-not-stepped") and "ignores step_update()" in never
    assert {a[0] for a in module.optimizers().optimizer.applied} == {0.1}


def test_a_schedule_in_updates_stepped_per_epoch_names_the_interval_at_fit_start(tmp_path):
    (found,), cb, _ = fit_timm(tmp_path, "epoch", "updates", False, 160)
    assert found.startswith("horizon-too-long: TimmCosine(t_initial=160")
    assert "Lightning calls your lr_scheduler_step once per epoch, 10 times in this run" in found
    assert '"interval": "step"' in found and "scheduler.step_update(num_updates=self.global_step)" in found
    assert cb.findings[0].step is None  # a fit-start finding, said before the first step


# ---------------------------------------------------------------------------------------------------------------
# resume from every place Lightning saves a checkpoint: mid-epoch, train-epoch end, validation end


def per_epoch_halving(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": StepLR(opt, step_size=1, gamma=0.5), "interval": "epoch"}}


def per_step_cosine(m: TinyModule) -> Any:
    opt = SGD(m.parameters(), lr=0.1)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": CosineAnnealingLR(opt, T_max=64), "interval": "step"}}


SAVED_AT = {
    "mid-epoch": ({"every_n_train_steps": 10}, "epoch=1-step=20.ckpt"),
    "train-epoch end": ({"save_on_train_epoch_end": True}, "epoch=1-step=32.ckpt"),
    "validation end": ({"save_on_train_epoch_end": False}, "epoch=1-step=32.ckpt"),
}


def warmup_then_halving(m: TinyModule) -> Any:
    """A stack: a per-step warm-up and a per-epoch halving on one optimizer (held against one plan)."""
    opt = SGD(m.parameters(), lr=0.1)
    warmup = {"scheduler": LinearLR(opt, start_factor=0.25, total_iters=8), "interval": "step"}
    return [opt], [warmup, {"scheduler": StepLR(opt, step_size=1, gamma=0.5), "interval": "epoch"}]


@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended before the epoch ended")
@pytest.mark.parametrize("saved_at", list(SAVED_AT))
@pytest.mark.parametrize(
    "configure",
    [per_epoch_halving, per_step_cosine, "built", warmup_then_halving],
    ids=["epoch", "step", "built", "stack"],
)
def test_a_resume_from_any_checkpoint_continues_the_schedule_in_silence(tmp_path, saved_at, configure):
    """Returned per epoch or per step, or built by LRMonitor per epoch (its resume check counts the epochs whose
    last batch ran: at validation end the scheduler is already stepped for the epoch)."""
    ckpt_args, name = SAVED_AT[saved_at]
    kw: dict[str, Any] = dict(max_epochs=4, max_steps=-1, enable_checkpointing=True)
    spec = {"class_path": "StepLR", "init_args": {"step_size": 1, "gamma": 0.5}}

    def monitor() -> LRMonitor:
        return LRMonitor(spec, interval="epoch") if configure == "built" else LRMonitor()

    def model() -> WithValidation:
        return WithValidation() if configure == "built" else WithValidation(configure)

    full = model()
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_top_k=-1, **ckpt_args)
    assert fit(tmp_path / "a", full, callbacks=[ckpt], val=loader(16, 4), monitor=monitor(), **kw) == []
    reference = [a[0] for a in full.optimizers().optimizer.applied]
    resumed = model()
    again = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_top_k=-1, **ckpt_args)  # as a resumed run does
    path = str(tmp_path / "ckpt" / name)
    found = fit(tmp_path / "b", resumed, callbacks=[again], val=loader(16, 4), ckpt_path=path, monitor=monitor(), **kw)
    assert found == []
    applied = [a[0] for a in resumed.optimizers().optimizer.applied]
    assert applied == reference[len(reference) - len(applied) :] and len(applied) in (44, 32)


class KeepsItsScheduler(TinyModule):
    """The scheduler kept on ``self`` and stepped after every batch; ``configure_optimizers`` returns the optimizer
    alone (a port of a plain PyTorch loop): Lightning neither steps it nor saves it in checkpoints."""

    def __init__(self, num_training_steps: int, *, steps: bool = True, saves: bool = False) -> None:
        super().__init__()
        self.num_training_steps, self.steps, self.saves = num_training_steps, steps, saves

    def configure_optimizers(self) -> Any:
        from transformers import get_linear_schedule_with_warmup

        opt = SGD(self.parameters(), lr=0.1)
        self.scheduler = get_linear_schedule_with_warmup(opt, 4, self.num_training_steps)
        return opt

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.steps:
            self.scheduler.step()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.saves:
            checkpoint["my_scheduler"] = self.scheduler.state_dict()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.saves:
            self._saved = checkpoint["my_scheduler"]

    def on_train_start(self) -> None:
        if self.saves and hasattr(self, "_saved"):
            self.scheduler.load_state_dict(self._saved)  # configure_optimizers built it again after the load


def test_a_scheduler_kept_on_the_module_is_judged_by_the_users_stepping(tmp_path):
    """Not returned from configure_optimizers, it was not reviewed at all: its decay ends at step 10 of 80 and the LR
    sits at 0 for the rest, in silence."""
    module = KeepsItsScheduler(10)
    found = fit(tmp_path, module, max_epochs=5, max_steps=-1)
    assert module.scheduler.last_epoch == 80
    (short,) = found
    assert short.startswith("horizon-too-short: LambdaLR(lr_lambda=_get_linear_schedule_with_warmup_lr_lambda(")
    assert "its decay ends at step 10, but this run steps it 80 times; the LR sits at its floor (0)" in short
    assert "It is self.scheduler, not returned from configure_optimizers: you step it yourself: 16 times" in short
    assert short.endswith("Fix: use num_training_steps=80 (the run's scheduler steps).")


def test_a_scheduler_kept_on_the_module_and_sized_to_the_run_is_silent(tmp_path):
    assert fit(tmp_path, KeepsItsScheduler(80), max_epochs=5, max_steps=-1) == []


def test_a_scheduler_kept_on_the_module_that_nobody_steps(tmp_path):
    (found,) = fit(tmp_path, KeepsItsScheduler(80, steps=False), max_epochs=2, max_steps=-1)
    # a schedule that need not move every step (sized for the run at one step per epoch, say) may still move later:
    # said by the fit's end
    assert found.startswith("scheduler-not-stepped: self.scheduler (LambdaLR(") and "never stepped in 32" in found
    assert 'Fix: return it from configure_optimizers ({"optimizer": opt, "lr_scheduler"' in found


@pytest.mark.parametrize("saves", [False, True])
def test_a_resume_restarts_a_scheduler_kept_on_the_module(tmp_path, saves):
    """The checkpoint does not hold it: on resume it is built again at step 0 and the warm-up starts over, unless the
    module saves and loads its state itself."""

    def ckpt() -> ModelCheckpoint:
        return ModelCheckpoint(dirpath=tmp_path / "ckpt", save_top_k=-1, every_n_epochs=1)

    kw: dict[str, Any] = dict(max_steps=-1, enable_checkpointing=True)
    fit(tmp_path / "a", KeepsItsScheduler(64, saves=saves), callbacks=[ckpt()], max_epochs=2, **kw)
    path = str(tmp_path / "ckpt" / "epoch=1-step=32.ckpt")
    module = KeepsItsScheduler(64, saves=saves)
    found = fit(tmp_path / "b", module, callbacks=[ckpt()], ckpt_path=path, max_epochs=4, **kw)
    assert module.scheduler.last_epoch == (64 if saves else 32)
    if saves:
        assert found == []
    else:
        (restart,) = [w for w in found if w.startswith("resume-mismatch")]
        assert (
            "self.scheduler (LambdaLR(" in restart
            and "is at its step 0 on this resume from optimizer step 32" in restart
        )


class AlsoStepsInOptimizerStep(TinyModule):
    """The Lightning 1.x habit: the scheduler stepped in an optimizer_step override, on top of Lightning's own step."""

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_closure: Any = None) -> None:
        optimizer.step(closure=optimizer_closure)
        self.lr_schedulers().step()


def test_a_scheduler_also_stepped_in_optimizer_step_is_a_double_step(tmp_path):
    found = fit(tmp_path, AlsoStepsInOptimizerStep(with_interval(cosine_steps, "step")), max_epochs=2, max_steps=-1)
    (double,) = [w for w in found if w.startswith("double-step")]
    assert "was stepped 4 times by optimizer step 2 (Lightning steps it 2 times by then)" in double
    assert "the schedule runs 2.0x too fast" in double and "in training_step, optimizer_step or an epoch hook" in double


class StepsAfterItsOwnWarmup(TinyModule):
    """A warm-up written in optimizer_step for 8 steps, the scheduler stepped in lr_scheduler_step only after it."""

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_closure: Any = None) -> None:
        optimizer.step(closure=optimizer_closure)
        if self.trainer.global_step < 8:
            for pg in optimizer.param_groups:
                pg["lr"] = 0.1 * (self.trainer.global_step + 1) / 8

    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        if self.trainer.global_step >= 8:
            scheduler.step()


def test_an_lr_scheduler_step_that_skips_some_calls_is_not_told_it_passes_the_epoch(tmp_path):
    """0.3 said at step 4 that the override passes the epoch; it starts stepping late. Said at the epoch's end with
    the count, and a fix that allows for a deliberate delay."""
    module = StepsAfterItsOwnWarmup(with_interval(cosine_steps, "step"))
    (stall,) = fit(tmp_path, module, max_epochs=5, max_steps=-1)
    assert module.lr_schedulers().last_epoch == 80 - 7  # every call from global_step 8 on
    assert "was stepped 9 times where Lightning stepped it 16 times: 7 step(s) were skipped" in stall
    assert "epoch" not in stall.split("Fix:")[1] and "if skipping is deliberate (a delayed start" in stall


class StepsAtTheEpochsEnd(TinyModule):
    """A pattern of real projects (an OCR trainer's): schedulers returned with "interval": "step" so that a warm-up
    can be written in optimizer_step, and lr_scheduler_step steps them only at each epoch's last batch."""

    warmup = 8

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_closure: Any = None) -> None:
        optimizer.step(closure=optimizer_closure)
        if self.trainer.global_step < self.warmup:
            for pg in optimizer.param_groups:
                pg["lr"] = 0.1 * (self.trainer.global_step + 1) / self.warmup

    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        if self.trainer.global_step >= self.warmup and self.trainer.is_last_batch:
            scheduler.step()


class StepsEveryFourCalls(TinyModule):
    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        if self.trainer.global_step % 4 == 0:
            scheduler.step()


class NeverTrue(TinyModule):
    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        if self.trainer.global_step > 10_000:
            scheduler.step()


def cosine_per_step_config(t_max: int):
    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        return {
            "optimizer": opt,
            "lr_scheduler": {"scheduler": CosineAnnealingLR(opt, T_max=t_max), "interval": "step"},
        }

    return configure


@pytest.mark.parametrize(("module", "t_max"), [(StepsAtTheEpochsEnd, 4), (StepsEveryFourCalls, 16)])
def test_an_lr_scheduler_step_that_steps_on_its_own_cadence_sized_for_it_is_silent(tmp_path, module, t_max):
    """0.3 said horizon-too-short at fit start (a step per call assumed) and scheduler-not-stepped at the first
    epoch's end, with fixes that would break a schedule sized for the steps the override takes."""
    m = module(cosine_per_step_config(t_max))
    assert fit(tmp_path, m, max_epochs=4, max_steps=-1) == []
    assert m.lr_schedulers().last_epoch == t_max  # stepped once per epoch / every 4th of 64 calls


@pytest.mark.parametrize(
    ("module", "per_epoch", "fix"), [(StepsAtTheEpochsEnd, 1, "T_max=4"), (StepsEveryFourCalls, 4, "T_max=16")]
)
def test_an_lr_scheduler_step_cadence_with_a_horizon_in_calls_is_judged_by_its_steps(tmp_path, module, per_epoch, fix):
    (found,) = fit(tmp_path, module(cosine_per_step_config(64)), max_epochs=4, max_steps=-1)
    assert found.startswith("horizon-too-long"), found
    times = "time" if per_epoch == 1 else "times"
    assert (
        f"Your lr_scheduler_step override steps it: {per_epoch} {times} per epoch (seen over 16 of Lightning's calls)"
        in found
    )
    assert f"so {4 * per_epoch} times in this run" in found and fix in found.split("Fix:")[1]


def test_an_lr_scheduler_step_whose_condition_is_never_true_is_said_by_the_fits_end(tmp_path):
    (found,) = fit(tmp_path, NeverTrue(cosine_per_step_config(64)), max_epochs=4, max_steps=-1)
    assert found.startswith("scheduler-not-stepped") and "condition that was never true" in found, found
    assert "passing the epoch" not in found


def step_decay_every(frequency: int):
    def configure(m: TinyModule) -> Any:
        opt = SGD(m.parameters(), lr=0.1)
        sched = StepLR(opt, step_size=1, gamma=0.5)
        return [opt], [{"scheduler": sched, "interval": "step", "frequency": frequency}]

    return configure


@pytest.mark.parametrize(("frequency", "accumulate"), [(20, 1), (5, 4)])
def test_a_per_step_frequency_no_optimizer_step_of_an_epoch_reaches_is_said_at_fit_start(
    tmp_path, frequency, accumulate
):
    """Lightning issue #17544: the frequency is counted on the batch index within each epoch (16 batches here), so
    Lightning never steps the scheduler; 0.3 said nothing."""
    module = TinyModule(step_decay_every(frequency))
    (found,) = fit(tmp_path, module, max_epochs=3, max_steps=-1, accumulate_grad_batches=accumulate)
    assert found.startswith("scheduler-not-stepped") and f'"frequency": {frequency} on the batch index' in found
    assert f'drop "frequency": {frequency}' in found.split("Fix:")[1]
    assert {a[0] for a in module.optimizers().optimizer.applied} == {0.1}  # Lightning never stepped it


def test_a_per_step_frequency_reached_within_the_epoch_is_silent(tmp_path):
    module = TinyModule(step_decay_every(16))
    assert fit(tmp_path, module, max_epochs=3, max_steps=-1) == []
    assert module.lr_schedulers().last_epoch == 3


class StartsLate(TinyModule):
    """A warm-up written over the first 12 of an epoch's 16 steps; the scheduler stepped on every call after it."""

    def lr_scheduler_step(self, scheduler: Any, metric: Any) -> None:
        if self.trainer.global_step >= 12:
            scheduler.step()


def test_a_late_start_in_an_lr_scheduler_step_is_judged_by_the_cadence_after_it(tmp_path):
    """Judged over the fit's second epoch (a step per call there), so a horizon of 53, the steps it takes, is not
    called too long; judged over the first (5 steps in 16 calls) it was projected to 20 steps: horizon-too-long."""
    module = StartsLate(cosine_per_step_config(53))
    found = fit(tmp_path, module, max_epochs=4, max_steps=-1)
    assert module.lr_schedulers().last_epoch == 53
    assert not [f for f in found if f.startswith("horizon-")], found
