"""LRMonitor as a drop-in for LearningRateMonitor on loggers other than TensorBoard.

Every scenario of Lightning's own ``tests/tests_pytorch/callbacks/test_lr_monitor.py`` (its 20 cases) runs twice,
once with a real ``LearningRateMonitor`` and once with ``LRMonitor`` given the same arguments, each with a
``CSVLogger``; ``metrics.csv`` is read back row by row. Every (tag, step, value) LearningRateMonitor wrote must be
in LRMonitor's file with the same value (more points are fine).
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import BackboneFinetuning, EarlyStopping, LearningRateMonitor
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities.exceptions import MisconfigurationException

from lightning_lrmon import LRMonitor, LRMonitorConfigError, LRMonitorNote, LRScheduleWarning

# -- the models of the scenarios ---------------------------------------------------------------------------------


class Optimized(BoringModel):
    """BoringModel with ``configure_optimizers`` given as a function of the module."""

    def __init__(self, configure: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self._configure = configure

    def configure_optimizers(self) -> Any:
        return self._configure(self) if self._configure else super().configure_optimizers()


class TwoLayers(Optimized):
    def __init__(self, configure: Callable[[Any], Any]) -> None:
        super().__init__(configure)
        self.linear_a, self.linear_b = torch.nn.Linear(32, 16), torch.nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_b(self.linear_a(x))


class ManualTwo(Optimized):
    """Manual optimization over two optimizers; epoch-interval schedulers stepped at each epoch's end."""

    def __init__(self, configure: Callable[[Any], Any]) -> None:
        super().__init__(configure)
        self.automatic_optimization = False

    def training_step(self, batch: Any, batch_idx: int) -> None:
        for opt in self.optimizers():
            loss = self.loss(self.step(batch))
            opt.zero_grad()
            self.manual_backward(loss)
            opt.step()

    def on_train_epoch_end(self) -> None:
        scheds = self.lr_schedulers() or []
        for s in scheds if isinstance(scheds, list) else [scheds]:
            s.step()


class ManualIdle(ManualTwo):
    """Manual optimization where the second optimizer steps only in even epochs (a GAN's discriminator paused)."""

    def training_step(self, batch: Any, batch_idx: int) -> None:
        for i, opt in enumerate(self.optimizers()):
            if i == 1 and self.current_epoch % 2:
                continue
            loss = self.loss(self.step(batch))
            opt.zero_grad()
            self.manual_backward(loss)
            opt.step()


class ManualBackbone(ManualTwo):
    """Three optimizers over a backbone that a finetuning callback unfreezes group by group."""

    def __init__(self, configure: Callable[[Any], Any]) -> None:
        super().__init__(configure)
        self.backbone = torch.nn.Sequential(*(torch.nn.Linear(32, 32) for _ in range(3)), torch.nn.ReLU(True))
        self.layer = torch.nn.Linear(32, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(self.backbone(x))

    def training_step(self, batch: Any, batch_idx: int) -> None:
        for opt in self.optimizers():
            loss = self.step(batch)
            self.manual_backward(loss)
            opt.step()
            opt.zero_grad()


class Unfreeze(BackboneFinetuning):
    def freeze_before_training(self, pl_module: Any) -> None:
        for module in (pl_module.backbone[0], pl_module.backbone[1], pl_module.layer):
            self.freeze(module)

    def finetune_function(self, pl_module: Any, epoch: int, optimizer: Any) -> None:
        adam = isinstance(optimizer, torch.optim.Adam) and not isinstance(optimizer, torch.optim.AdamW)
        if epoch == 1 and isinstance(optimizer, torch.optim.SGD):
            self.unfreeze_and_add_param_group(pl_module.backbone[0], optimizer, lr=0.1)
        if epoch == 2 and adam:
            self.unfreeze_and_add_param_group(pl_module.layer, optimizer, lr=0.1)
        if epoch == 3 and adam:
            self.unfreeze_and_add_param_group(pl_module.backbone[1], optimizer, lr=0.1)


def _with_momentum(name: str, scheduler: bool) -> Callable[[Any], Any]:
    def configure(m: Any) -> Any:
        kwargs = {"momentum": 0.9} if name == "SGD" else {"betas": (0.9, 0.999)}
        opt = getattr(torch.optim, name)(m.parameters(), lr=1e-2, **kwargs)
        if not scheduler:
            return [opt]
        return [opt], [torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=10_000)]

    return configure


def _asgd(scheduler: bool) -> Callable[[Any], Any]:
    def configure(m: Any) -> Any:
        opt = torch.optim.ASGD(m.parameters(), lr=1e-2)
        return ([opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1)]) if scheduler else [opt]

    return configure


def _two_adams(scheduler: bool) -> Callable[[Any], Any]:
    def configure(m: Any) -> Any:
        opts = [torch.optim.Adam(m.parameters(), lr=1e-2), torch.optim.Adam(m.parameters(), lr=1e-2)]
        if not scheduler:
            return opts
        return opts, [torch.optim.lr_scheduler.StepLR(o, 1, gamma=0.1) for o in opts]

    return configure


def _param_groups(m: Any) -> Any:
    params = list(m.parameters())
    opt = torch.optim.Adam([{"params": params[:1], "lr": 0.001}, {"params": params[1:], "lr": 0.01}])
    return [opt], [torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.1)]


def _custom_name(m: Any) -> Any:
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    return [opt], [{"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1), "name": "my_logging_name"}]


def _named_group(m: Any) -> Any:
    opt = torch.optim.SGD([{"params": list(m.layer.parameters()), "name": "linear"}], lr=0.1)
    return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1)]


def _backbone(m: Any) -> Any:
    params = [p for p in m.parameters() if p.requires_grad]
    opts = [torch.optim.SGD(params, lr=0.1), torch.optim.Adam(params, lr=0.1), torch.optim.AdamW(params, lr=0.1)]
    return opts, [torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5) for o in opts[:2]]


def _groups_no_scheduler(m: Any) -> Any:
    groups = [{"params": list(layer.parameters()), "weight_decay": 0.1} for layer in (m.linear_a, m.linear_b)]
    return torch.optim.Adam(groups, lr=1e-2, betas=(0.7, 0.999))


def _sgd_halving(m: Any) -> Any:
    opt = torch.optim.SGD(m.layer.parameters(), lr=0.1)
    return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]


SHORT = {"max_epochs": 2, "limit_val_batches": 2, "limit_train_batches": 5, "log_every_n_steps": 1}
HALF = {"max_epochs": 2, "limit_val_batches": 0.1, "limit_train_batches": 0.5}
MULTI = {"max_epochs": 2, "log_every_n_steps": 2, "limit_train_batches": 7, "limit_val_batches": 0.1}
TWO = {"max_epochs": 2, "limit_val_batches": 2, "limit_train_batches": 2}
MOMENTUM = {"log_momentum": True, "log_weight_decay": True}

#: name -> (model, Trainer arguments, arguments of both callbacks, extra callbacks before, after the monitor)
SCENARIOS: dict[str, tuple[Callable[[], Any], dict[str, Any], dict[str, Any], Callable[[], list[Any]]]] = {
    "single_lr": (lambda: Optimized(), HALF, {}, list),
    "single_lr_with_momentum[SGD]": (lambda: Optimized(_with_momentum("SGD", True)), SHORT, MOMENTUM, list),
    "single_lr_with_momentum[Adam]": (lambda: Optimized(_with_momentum("Adam", True)), SHORT, MOMENTUM, list),
    "momentum_no_momentum_optimizer": (
        lambda: Optimized(_asgd(True)),
        {**SHORT, "max_epochs": 1},
        {"log_momentum": True},
        list,
    ),
    "no_lr_scheduler_single_lr": (lambda: Optimized(lambda m: torch.optim.SGD(m.parameters(), lr=0.1)), HALF, {}, list),
    "no_lr_scheduler_with_momentum[SGD]": (
        lambda: Optimized(_with_momentum("SGD", False)),
        SHORT,
        {"log_momentum": True},
        list,
    ),
    "no_lr_scheduler_with_momentum[Adam]": (
        lambda: Optimized(_with_momentum("Adam", False)),
        SHORT,
        {"log_momentum": True},
        list,
    ),
    "no_lr_scheduler_no_momentum_optimizer": (
        lambda: Optimized(_asgd(False)),
        {**SHORT, "max_epochs": 1},
        {"log_momentum": True},
        list,
    ),
    "multi_lrs[step]": (lambda: ManualTwo(_two_adams(True)), MULTI, {"logging_interval": "step"}, list),
    "multi_lrs[epoch]": (lambda: ManualTwo(_two_adams(True)), MULTI, {"logging_interval": "epoch"}, list),
    # not in Lightning's file: an optimizer idle in some epochs keeps LearningRateMonitor's points (it logs every
    # optimizer at its logging steps, stepped or not)
    "multi_lrs_one_idle[step]": (lambda: ManualIdle(_two_adams(True)), {**MULTI, "max_epochs": 3}, {}, list),
    "no_lr_scheduler_multi_lrs[step]": (
        lambda: ManualTwo(_two_adams(False)),
        MULTI,
        {"logging_interval": "step"},
        list,
    ),
    "no_lr_scheduler_multi_lrs[epoch]": (
        lambda: ManualTwo(_two_adams(False)),
        MULTI,
        {"logging_interval": "epoch"},
        list,
    ),
    "param_groups": (lambda: Optimized(_param_groups), HALF, {}, list),
    "custom_name": (lambda: Optimized(_custom_name), HALF, {}, list),
    "custom_pg_name": (lambda: Optimized(_named_group), TWO, {}, list),
    "multiple_optimizers_basefinetuning": (
        lambda: ManualBackbone(_backbone),
        {"max_epochs": 5, "limit_val_batches": 0, "limit_train_batches": 2},
        {},
        lambda: [Unfreeze()],
    ),
    "multiple_param_groups_no_lr_scheduler": (lambda: TwoLayers(_groups_no_scheduler), TWO, MOMENTUM, list),
    "update_callback_metrics": (
        lambda: Optimized(_sgd_halving),
        {"max_epochs": 5, "limit_val_batches": 0, "limit_train_batches": 2},
        {},
        list,
    ),
}


def _fit(tmp_path: Any, name: str, monitor: Any) -> tuple[dict[tuple[str, int], float], pl.Trainer]:
    """Run scenario ``name`` with ``monitor``; the points of ``metrics.csv`` as ``{(column, step): value}``."""
    make, trainer_args, _, before = SCENARIOS[name]
    callbacks = [*before(), monitor]
    if name == "update_callback_metrics":
        callbacks.append(
            EarlyStopping(monitor="lr-SGD", mode="min", stopping_threshold=0.02, check_on_train_epoch_end=True)
        )
    pl.seed_everything(0, verbose=False)
    trainer = pl.Trainer(
        default_root_dir=str(tmp_path),
        logger=CSVLogger(str(tmp_path), name="csv", version=0),
        callbacks=callbacks,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        **trainer_args,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice for tiny runs; the monitors' notes are tested elsewhere
        trainer.fit(make())
    points: dict[tuple[str, int], float] = {}
    with open(os.path.join(str(tmp_path), "csv", "version_0", "metrics.csv"), newline="") as fh:
        for row in csv.DictReader(fh):
            step = int(row["step"])
            for column, value in row.items():
                if column not in ("step", "epoch") and value != "":
                    points[(column, step)] = float(value)
    return points, trainer


def _reference_keys(monitor: LearningRateMonitor) -> set[str]:
    return set(monitor.lrs) | set(monitor.last_momentum_values) | set(monitor.last_weight_decay_values)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_point_learning_rate_monitor_logs_is_logged_the_same(tmp_path, name):
    args = SCENARIOS[name][2]
    reference = LearningRateMonitor(**args)
    theirs, ref_trainer = _fit(tmp_path / "reference", name, reference)
    keys = _reference_keys(reference)
    expected = {k: v for k, v in theirs.items() if k[0] in keys}
    assert expected, "the reference logged nothing"
    ours, trainer = _fit(tmp_path / "ours", name, LRMonitor(**args))
    missing = sorted(k for k in expected if k not in ours)
    assert missing == [], f"missing points: {missing[:10]}"
    differ = sorted((k, expected[k], ours[k]) for k in expected if ours[k] != expected[k])
    assert differ == []
    assert trainer.current_epoch == ref_trainer.current_epoch  # EarlyStopping on lr-SGD stops at the same epoch


def test_the_last_step_is_logged_and_rows_meet_self_logs_steps(tmp_path):
    """Default cadence: LRMonitor writes where self.log writes (49, 99, ...) and adds the run's last step."""

    class Logging(Optimized):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            out = super().training_step(batch, batch_idx)
            self.log("train_loss", out["loss"])
            return out

    pl.seed_everything(0, verbose=False)
    trainer = pl.Trainer(
        default_root_dir=str(tmp_path),
        logger=CSVLogger(str(tmp_path), name="csv", version=0),
        callbacks=[LRMonitor()],
        max_steps=210,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        limit_val_batches=0,
        accumulate_grad_batches=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(Logging(lambda m: torch.optim.SGD(m.parameters(), lr=0.1)))
    with open(os.path.join(str(tmp_path), "csv", "version_0", "metrics.csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    lr_steps = sorted({int(r["step"]) for r in rows if r.get("lr-SGD")})
    loss_steps = sorted({int(r["step"]) for r in rows if r.get("train_loss")})
    # logging steps (as self.log), each epoch's first step (an optimizer without a scheduler, as LearningRateMonitor
    # logs it; 64 batches an epoch) and the last step
    assert lr_steps == sorted({49, 99, 149, 199} | {0, 64, 128, 192} | {209})
    assert set(loss_steps) <= set(lr_steps) and loss_steps == [49, 99, 149, 199]


def test_learning_rate_monitors_argument_is_accepted_and_a_second_monitor_is_named(tmp_path):
    with pytest.raises(LRMonitorConfigError, match="`logging_interval` must be 'step' or 'epoch'"):
        LRMonitor(logging_interval="batch")  # type: ignore[arg-type]
    trainer = pl.Trainer(
        default_root_dir=str(tmp_path),
        logger=CSVLogger(str(tmp_path), name="csv", version=0),
        callbacks=[LRMonitor(logging_interval="step"), LearningRateMonitor(logging_interval="step")],
        max_steps=4,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        limit_val_batches=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(Optimized())
    notes = [str(w.message) for w in caught if issubclass(w.category, LRMonitorNote)]
    assert len([n for n in notes if n.startswith("lr-logged-twice: ")]) == 1
    assert not [w for w in caught if issubclass(w.category, LRScheduleWarning)]


def test_no_logger_and_duplicate_group_names_as_learning_rate_monitor_reports_them(tmp_path):
    args = {"default_root_dir": str(tmp_path), "max_epochs": 1, "enable_progress_bar": False, "limit_val_batches": 0}
    with pytest.raises(MisconfigurationException, match="has no logger"):
        pl.Trainer(callbacks=[LearningRateMonitor()], logger=False, **args).fit(Optimized())
    with pytest.warns(LRMonitorNote, match="^no-logger: "):
        pl.Trainer(callbacks=[LRMonitor()], logger=False, limit_train_batches=2, **args).fit(Optimized())

    def duplicate(m: Any) -> Any:
        groups = [{"params": list(layer.parameters()), "name": "linear"} for layer in (m.linear_a, m.linear_b)]
        opt = torch.optim.SGD(groups, lr=0.1)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1)]

    logger = CSVLogger(str(tmp_path), name="csv")
    with pytest.raises(LRMonitorConfigError, match="several param groups named \\['linear'\\]"):
        pl.Trainer(callbacks=[LRMonitor()], logger=logger, **args).fit(TwoLayers(duplicate))


def test_the_readme_ci_recipe_fails_bad_schedules_and_never_a_healthy_run(tmp_path):
    """``filterwarnings("error", category=LRScheduleWarning)``, as the README gives it."""

    def fit(spec: Any) -> list[str]:
        trainer = pl.Trainer(
            default_root_dir=str(tmp_path),
            logger=False,  # tooling note no-logger: an LRMonitorNote
            callbacks=[LRMonitor(spec)],
            max_steps=20,
            limit_val_batches=0,
            enable_progress_bar=False,
            enable_model_summary=False,
            enable_checkpointing=False,
        )
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("default")  # a user's interpreter (this suite turns every warning into an error)
            warnings.filterwarnings("error", category=LRScheduleWarning)
            trainer.fit(Optimized(lambda m: torch.optim.SGD(m.parameters(), lr=0.1)))
        return [str(w.message).split(":")[0] for w in shown if w.category is LRMonitorNote]

    notes = fit({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})  # healthy: no exception
    assert notes == ["no-logger"]  # the note was said, and did not stop the run
    with pytest.raises(LRScheduleWarning, match=r"^decay-increases: "):
        fit({"class_path": "LinearLR", "init_args": {"start_factor": 0.5, "total_iters": "auto"}})
