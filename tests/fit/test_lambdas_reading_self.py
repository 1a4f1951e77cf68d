"""Lambdas that read ``self``: how Lightning users write a warm-up in ``configure_optimizers`` (Lightning #18588).

The module is never copied: the simulation reads it through a read-only view. A lambda that only reads plain
values is reviewed like any other; one that does more is not simulated, and training is bit-identical with and
without LRMonitor either way.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from helpers import loader, lr_warnings, trainer
from lightning.pytorch import LightningModule

from lightning_lrmon import LRMonitor


class Warmup(LightningModule):
    """A warm-up written the usual way: the lambda (or a method) reads the module's attributes."""

    def __init__(self, warmup: int, how: str) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(4, 1)
        self.warmup_steps = warmup
        self.how = how
        self.seen: list[int] = []
        self.last = -1

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def lr_lambda(self, step: int) -> float:
        return (step + 1) / self.hparams.warmup if step < self.hparams.warmup else 1.0

    def configure_optimizers(self) -> Any:
        opt = torch.optim.SGD(self.parameters(), lr=0.1)
        lambdas = {
            "lambda": lambda s: (s + 1) / self.warmup_steps if s < self.warmup_steps else 1.0,
            "method": self.lr_lambda,
            "trainer": lambda s: min(1.0, (s + 1) / (0.9 * self.trainer.estimated_stepping_batches)),
            "writes": self._writes,
            "appends": lambda s: self.seen.append(s) or 1.0,
        }
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambdas[self.how])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def _writes(self, step: int) -> float:
        self.last = step
        return min(1.0, (step + 1) / self.warmup_steps)


def made(warmup: int, how: str) -> Warmup:
    torch.manual_seed(0)  # the same initial weights for every run of one test
    return Warmup(warmup, how)


def fit(tmp_path: Any, module: Warmup, with_monitor: bool) -> list[str]:
    """A real fit; the schedule findings and not-simulated notes LRMonitor gave (none without it)."""
    torch.manual_seed(1)
    callbacks = [LRMonitor()] if with_monitor else []
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        trainer(tmp_path, callbacks, max_steps=32).fit(module, loader(128, 4))
    found = callbacks[0].findings if callbacks else []
    return [f.code for f in found if f.kind == "schedule" or f.code == "not-simulated"]


@pytest.mark.parametrize("how", ["lambda", "method", "trainer"])
def test_a_warmup_reading_self_is_reviewed(tmp_path, how):
    """A warm-up of 29 steps in a 32-step run, read from ``self``: said (was not-simulated); 2 steps: silent."""
    assert fit(tmp_path / "long", made(29, how), True) == ["warmup-too-long"]
    if how != "trainer":
        assert fit(tmp_path / "short", made(2, how), True) == []


@pytest.mark.parametrize("how", ["writes", "appends"])
def test_a_lambda_that_changes_the_module_is_not_simulated_and_changes_nothing(tmp_path, how):
    with_it, without = made(29, how), made(29, how)
    assert fit(tmp_path / "with", with_it, True) == ["not-simulated"]
    fit(tmp_path / "without", without, False)
    assert with_it.seen == without.seen and with_it.last == without.last  # only training's calls happened
    for a, b in zip(with_it.parameters(), without.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("how", ["lambda", "method", "trainer"])
def test_training_is_bit_identical_with_and_without_the_monitor(tmp_path, how):
    with_it, without = made(29, how), made(29, how)
    fit(tmp_path / "with", with_it, True)
    fit(tmp_path / "without", without, False)
    for a, b in zip(with_it.parameters(), without.parameters()):
        assert torch.equal(a, b)
    assert with_it.lr_schedulers().last_epoch == without.lr_schedulers().last_epoch == 32


class LinearDecay(LightningModule):
    """A linear decay sized with ``self.trainer.max_steps``, which is -1 in a run that ``max_epochs`` ends."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.net = torch.nn.Linear(4, 1)
        self.how = how

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def configure_optimizers(self) -> Any:
        from transformers import get_linear_schedule_with_warmup

        opt = torch.optim.SGD(self.parameters(), lr=0.1)
        total = self.trainer.max_steps
        lambdas = {
            "self.trainer.max_steps": lambda s: max(0.0, 1 - s / self.trainer.max_steps),
            "total": lambda s: max(0.0, 1 - s / total),
            "estimated": lambda s: max(0.0, 1 - s / self.trainer.estimated_stepping_batches),
            "guarded": self.guarded,
        }
        if self.how == "num_training_steps":
            sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=4, num_training_steps=total)
        else:
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambdas[self.how])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def guarded(self, step: int) -> float:
        """Reads max_steps, and the run's real length where max_steps is not set: a correct decay."""
        total = self.trainer.max_steps if self.trainer.max_steps > 0 else self.trainer.estimated_stepping_batches
        return max(0.0, 1 - step / total)


def decay_warnings(tmp_path: Any, how: str) -> tuple[list[str], int]:
    """The LRScheduleWarnings of a 4-epoch run (max_steps left at -1) and the optimizer steps it took."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        t = trainer(tmp_path, [LRMonitor()], max_epochs=4, max_steps=-1)
        t.fit(LinearDecay(how), loader(128, 4))
    return lr_warnings(record), t.global_step


@pytest.mark.parametrize("how", ["self.trainer.max_steps", "total", "num_training_steps"])
def test_a_lambda_sized_with_max_steps_in_a_run_that_max_epochs_ends_is_named(tmp_path, how):
    """The lambda divides by -1: its LR climbs 128x (or a factory's drops to 0 after the warm-up). 0.3 said
    warmup-too-long ("make the warmup about 5-10% of the run") or horizon-too-short with "use num_warmup_steps=128":
    fixes that change the wrong number."""
    found, steps = decay_warnings(tmp_path, how)
    (short,) = found
    assert short.startswith("horizon-too-short: LambdaLR(") and f"its lambda reads {how}=-1" in short
    assert f"over the run's {steps} scheduler steps its LR goes from" in short
    if how == "num_training_steps":
        assert short.endswith(f"Fix: use num_training_steps={steps} (the run's scheduler steps, " + ESB)
    elif how == "total":
        assert short.endswith(f"Fix: use total={steps} (the run's scheduler steps, " + ESB)
    else:
        assert "(Trainer.max_steps is -1 when max_epochs ends the run)" in short
        assert short.endswith(f"Fix: size it with the run's scheduler steps ({steps}, {ESB[:-2]}) in place of {how}.")


ESB = "self.trainer.estimated_stepping_batches)."


@pytest.mark.parametrize("how", ["estimated", "guarded"])
def test_a_lambda_sized_with_the_runs_steps_is_silent(tmp_path, how):
    assert decay_warnings(tmp_path, how)[0] == []


class ReadsTheRun(Warmup):
    """A warm-up that reads the run's counter instead of its step argument (Lightning #18588)."""

    def configure_optimizers(self) -> Any:
        opt = torch.optim.SGD(self.parameters(), lr=0.1)
        reads = {
            "global_step": lambda s: min(1.0, (self.trainer.global_step + 1) / self.warmup_steps),
            "current_epoch": lambda s: 0.5**self.current_epoch,
        }
        sched = torch.optim.lr_scheduler.LambdaLR(opt, reads[self.how])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


@pytest.mark.parametrize("how", ["global_step", "current_epoch"])
def test_a_lambda_that_reads_the_runs_counter_is_not_simulated(tmp_path, how):
    """Simulated at fit start with the counter held at 0, its plan was flat, and the live check then blamed
    "something else writes the LR" (lr-outside-plan) for the lambda's own warm-up."""
    torch.manual_seed(0)
    cb = LRMonitor()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        trainer(tmp_path, [cb], max_epochs=3, max_steps=-1).fit(ReadsTheRun(10, how), loader(128, 4))
    assert [f.code for f in cb.findings] == ["not-simulated"]
    assert f"reads self.{'trainer.' if how == 'global_step' else ''}{how}, which changes as training runs" in (
        cb.findings[0].message
    )
