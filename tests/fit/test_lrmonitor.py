"""LRMonitor through real Trainer fits: build, log (read back with tensorboard's loader), warn, raise."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pytest
from helpers import (
    SGD,
    Adam,
    TinyModule,
    TwoOptimizerModule,
    f32,
    loader,
    read_scalars,
    read_texts,
    run_dir,
    series,
    trainer,
)
from lightning.pytorch.callbacks import LearningRateMonitor
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, StepLR

from lightning_lrmon import LRMonitor, LRMonitorConfigError, LRScheduleError, LRScheduleWarning

SEED_FORMS = {
    "callable": partial(LinearLR, start_factor=0.5, total_iters=100),
    "dict": {"class_path": "LinearLR", "init_args": {"start_factor": 0.5, "total_iters": 100}},
    "dotted-dict": {
        "class_path": "torch.optim.lr_scheduler.LinearLR",
        "init_args": {"start_factor": 0.5, "total_iters": 100},
    },
    "yaml": "class_path: LinearLR\ninit_args:\n  start_factor: 0.5\n  total_iters: 100\n",
}


def seed_module() -> TinyModule:
    return TinyModule(lambda m: SGD(m.parameters(), lr=0.001))


def _fit(tmp_path, cb, module=None, **kw):
    module = module or seed_module()
    t = trainer(tmp_path, [cb], **kw)
    t.fit(module, loader(kw.pop("n", 64)))
    return t, module


@pytest.mark.parametrize("form", list(SEED_FORMS))
def test_seed_warns_with_fix_and_logs_every_applied_lr(tmp_path, form):
    with pytest.warns(LRScheduleWarning) as record:
        t, module = _fit(tmp_path, LRMonitor(SEED_FORMS[form]), max_steps=100, max_epochs=-1)
    messages = [str(w.message) for w in record if issubclass(w.category, LRScheduleWarning)]
    assert len(messages) == 1
    msg = messages[0]
    assert msg.startswith("decay-increases:")
    assert "end_factor" in msg and "start_factor=1.0" in msg and "0.0005" in msg and "lr-SGD" in msg
    applied = np.asarray(module.optimizers().optimizer.applied)
    assert applied.shape == (100, 1)
    assert applied[0, 0] == pytest.approx(0.0005) and applied[-1, 0] > applied[0, 0]  # it really rose
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    assert steps == list(range(100))
    np.testing.assert_array_equal(values, f32(applied[:, 0]))  # float32: TensorBoard's scalar type


def test_fixed_seed_is_silent(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        _t, module = _fit(
            tmp_path,
            LRMonitor(partial(LinearLR, start_factor=1.0, end_factor=0.1, total_iters=100)),
            max_steps=100,
            max_epochs=-1,
        )
    applied = np.asarray(module.optimizers().optimizer.applied)[:, 0]
    assert applied[0] == pytest.approx(0.001) and np.all(np.diff(applied) <= 0)


def test_declared_warmup_is_silent(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        _fit(tmp_path, LRMonitor(SEED_FORMS["dict"], expect="warmup"), max_steps=100, max_epochs=-1)


def test_configure_optimizers_scheduler_is_checked_when_nothing_is_built(tmp_path):
    def configure(m):
        opt = SGD(m.parameters(), lr=0.001)
        return {
            "optimizer": opt,
            "lr_scheduler": {"scheduler": LinearLR(opt, start_factor=0.5, total_iters=100), "interval": "step"},
        }

    with pytest.warns(LRScheduleWarning, match="^decay-increases"):
        _t, module = _fit(tmp_path, LRMonitor(), TinyModule(configure), max_steps=100, max_epochs=-1)
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    np.testing.assert_array_equal(values, f32(np.asarray(module.optimizers().optimizer.applied)[:, 0]))


def test_on_misconfig_raise_stops_before_the_first_step(tmp_path):
    module = seed_module()
    with pytest.raises(LRScheduleError, match="decay-increases") as info:
        _fit(tmp_path, LRMonitor(SEED_FORMS["callable"], on_misconfig="raise"), module, max_steps=100)
    assert info.value.findings[0].code == "decay-increases"
    assert module.optimizers().optimizer.applied == []


def test_on_misconfig_ignore_is_silent(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        _fit(tmp_path, LRMonitor(SEED_FORMS["callable"], on_misconfig="ignore"), max_steps=100, max_epochs=-1)


def _named_groups(m):
    return SGD(
        [{"params": m.body.parameters(), "name": "backbone", "lr": 0.1}, {"params": m.head.parameters(), "lr": 0.01}],
        lr=0.1,
    )


def test_groups_named_and_unnamed_match_learning_rate_monitor_tags(tmp_path):
    spec = {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}}
    theirs = trainer(tmp_path, [LRMonitor(spec)], max_steps=16, version="ours")
    module = TinyModule(_named_groups)
    theirs.fit(module, loader())
    ours = {k: v for k, v in read_scalars(run_dir(tmp_path, "ours")).items() if k.startswith("lr-")}
    # LearningRateMonitor alone, on the same schedule built by hand: the tags it writes are the reference
    lrm_module = TinyModule(lambda m: ([o := _named_groups(m)], [CosineAnnealingLR(o, T_max=16)]))
    lrm = trainer(tmp_path, [LearningRateMonitor(logging_interval="step")], max_steps=16, version="lrm")
    lrm.fit(lrm_module, loader())
    reference = {k for k in read_scalars(run_dir(tmp_path, "lrm")) if k.startswith("lr-")}
    assert set(ours) == reference == {"lr-SGD/backbone", "lr-SGD/pg2"}
    applied = np.asarray(module.optimizers().optimizer.applied)
    for g, tag in enumerate(["lr-SGD/backbone", "lr-SGD/pg2"]):
        steps, values = series(ours, tag)
        assert steps == list(range(16))
        np.testing.assert_array_equal(values, f32(applied[:, g]))
    assert applied[0, 0] == pytest.approx(0.1) and applied[0, 1] == pytest.approx(0.01)
    assert applied[-1, 0] < applied[0, 0]


def test_name_replaces_the_default_tag(tmp_path):
    cb = LRMonitor(partial(StepLR, step_size=5, gamma=0.5), name="my-schedule")
    _fit(tmp_path, cb, max_steps=10)
    assert "my-schedule" in read_scalars(run_dir(tmp_path))


def test_two_optimizers_with_a_mapping_spec(tmp_path):
    def configure(m):
        return [SGD(m.body.parameters(), lr=0.1), Adam(m.head.parameters(), lr=0.01)]

    module = TwoOptimizerModule(configure)
    cb = LRMonitor(
        {
            0: partial(StepLR, step_size=3, gamma=0.5),
            1: {"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}},
        }
    )
    t = trainer(tmp_path, [cb], max_steps=24, max_epochs=-1)
    t.fit(module, loader())
    scalars = read_scalars(run_dir(tmp_path))
    sgd, adam = (o.optimizer for o in module.optimizers())
    # manual optimization: global_step counts both optimizers' steps; _batches_that_stepped counts batches
    n = len(sgd.applied)
    assert n == len(adam.applied) and n > 0
    steps, values = series(scalars, "lr-SGD")
    assert steps == list(range(n))
    np.testing.assert_array_equal(values, f32(np.asarray(sgd.applied)[:, 0]))
    steps, values = series(scalars, "lr-Adam")
    np.testing.assert_array_equal(values, f32(np.asarray(adam.applied)[:, 0]))
    assert values[0] == pytest.approx(0.01) and values[-1] < values[0]


def test_gradient_accumulation_logs_each_optimizer_step_once(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor(
        {"class_path": "LinearLR", "init_args": {"start_factor": 1.0, "end_factor": 0.1, "total_iters": "auto"}}
    )
    t = trainer(tmp_path, [cb], max_steps=-1, max_epochs=2, accumulate_grad_batches=4)
    t.fit(module, loader(64, 4))  # 16 batches/epoch -> 4 optimizer steps/epoch -> 8 steps
    applied = np.asarray(module.optimizers().optimizer.applied)[:, 0]
    assert applied.shape == (8,)
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    assert steps == list(range(8))
    np.testing.assert_array_equal(values, f32(applied))
    assert t.lr_scheduler_configs[0].scheduler.total_iters == 8  # 'auto' bound to optimizer steps, not batches


def test_auto_binds_to_the_runs_length_from_epochs(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto", "eta_min": 0.0}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        t = trainer(tmp_path, [cb], max_steps=-1, max_epochs=3)
        t.fit(module, loader(64, 8))
    sched = t.lr_scheduler_configs[0].scheduler
    assert sched.T_max == 24
    applied = np.asarray(module.optimizers().optimizer.applied)[:, 0]
    ref = [0.1 * (1 + np.cos(np.pi * k / 24)) / 2 for k in range(24)]
    np.testing.assert_allclose(applied, ref, rtol=1e-12)


def test_no_logger_warns_once_and_still_checks(tmp_path):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _fit(tmp_path, LRMonitor(SEED_FORMS["callable"]), logger=False, max_steps=100, max_epochs=-1)
    codes = [
        (w.category.__name__, str(w.message).split(":")[0])
        for w in record
        if "lightning_lrmon" in w.category.__module__
    ]
    assert codes == [("LRMonitorNote", "no-logger"), ("LRScheduleWarning", "decay-increases")]


def test_epoch_interval_is_stepped_per_epoch(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor(partial(StepLR, step_size=1, gamma=0.5), interval="epoch")
    t = trainer(tmp_path, [cb], max_steps=-1, max_epochs=3)
    t.fit(module, loader(32, 8))
    applied = np.asarray(module.optimizers().optimizer.applied)[:, 0]
    np.testing.assert_allclose(applied, [0.1] * 4 + [0.05] * 4 + [0.025] * 4)
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    np.testing.assert_array_equal(values, f32(applied))


def test_momentum_and_weight_decay_tags(tmp_path):
    module = TinyModule(lambda m: Adam(m.parameters(), lr=0.01, betas=(0.8, 0.99), weight_decay=0.1))
    cb = LRMonitor(partial(StepLR, step_size=5), log_momentum=True, log_weight_decay=True)
    _fit(tmp_path, cb, module, max_steps=6)
    scalars = read_scalars(run_dir(tmp_path))
    assert {"lr-Adam", "lr-Adam-momentum", "lr-Adam-weight_decay"} <= set(scalars)
    assert series(scalars, "lr-Adam-momentum")[1][0] == pytest.approx(0.8)
    assert series(scalars, "lr-Adam-weight_decay")[1][0] == pytest.approx(0.1)


def test_plan_series_and_summary_are_written(tmp_path):
    _fit(tmp_path, LRMonitor(SEED_FORMS["dict"], expect="warmup"), max_steps=100, max_epochs=-1)
    scalars = read_scalars(run_dir(tmp_path))
    steps, plan = series(scalars, "planned/lr-SGD")
    _, actual = series(scalars, "lr-SGD")
    # a short run gets its plan at every step, like the actual series: the lines overlap under any smoothing
    assert steps == list(range(100))
    np.testing.assert_array_equal(plan, actual)  # the same float32 values: the plan equals what the run applied


def test_a_bad_spec_fails_before_the_first_step(tmp_path):
    module = seed_module()
    with pytest.raises(LRMonitorConfigError, match="start_fctor"):
        _fit(tmp_path, LRMonitor({"class_path": "LinearLR", "init_args": {"start_fctor": 0.5}}), module, max_steps=10)
    assert module.optimizers().optimizer.applied == []


def test_two_schedulers_on_one_optimizer_is_an_error_naming_both(tmp_path):
    def configure(m):
        opt = SGD(m.parameters(), lr=0.1)
        return {"optimizer": opt, "lr_scheduler": StepLR(opt, step_size=5)}

    with pytest.raises(LRMonitorConfigError, match=r"StepLR.*CosineAnnealingLR|CosineAnnealingLR.*StepLR"):
        _fit(tmp_path, LRMonitor(partial(CosineAnnealingLR, T_max=10)), TinyModule(configure), max_steps=5)


def test_auto_on_an_endless_run_is_an_error(tmp_path):
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    with pytest.raises(LRMonitorConfigError, match="endless"):
        _fit(tmp_path, cb, max_steps=-1, max_epochs=-1)


def test_mapping_index_out_of_range(tmp_path):
    with pytest.raises(LRMonitorConfigError, match="optimizer index 3"):
        _fit(tmp_path, LRMonitor({3: partial(StepLR, step_size=2)}), max_steps=5)


def test_torch_rejection_of_callable_is_wrapped(tmp_path):
    with pytest.raises(LRMonitorConfigError, match="calling"):
        _fit(tmp_path, LRMonitor(partial(LinearLR, start_factor=0.0)), max_steps=5)


def test_optimizer_lr_untouched_by_check(tmp_path):
    # the fit-start simulation must not move the real scheduler: first applied LR is the scheduler's start
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.2))
    t, _ = _fit(tmp_path, LRMonitor(partial(StepLR, step_size=3, gamma=0.1)), module, max_steps=7)
    applied = np.asarray(module.optimizers().optimizer.applied)[:, 0]
    np.testing.assert_allclose(applied, [0.2] * 3 + [0.02] * 3 + [0.002])
    assert t.lr_scheduler_configs[0].scheduler.last_epoch == 7  # stepped by Lightning only, once per step


def test_layout_one_chart_per_optimizer_and_text_summary(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.custom_scalar import layout_pb2

    def configure(m):
        return [
            SGD([{"params": m.body.parameters()}, {"params": m.head.parameters(), "lr": 0.01}], lr=0.1),
            Adam(m.head.parameters(), lr=0.01),
        ]

    module = TwoOptimizerModule(configure)
    with pytest.warns(LRScheduleWarning, match="^decay-increases"):
        seed = {"class_path": "LinearLR", "init_args": {"start_factor": 0.5, "total_iters": "auto"}}
        t = trainer(tmp_path, [LRMonitor({0: seed, 1: partial(StepLR, step_size=4)})], max_steps=10)
        t.fit(module, loader())
    acc = ea.EventAccumulator(run_dir(tmp_path), size_guidance={ea.TENSORS: 0})
    acc.Reload()
    raw = acc.Tensors("custom_scalars__config__")[0].tensor_proto.string_val[0]
    layout = layout_pb2.Layout.FromString(raw)
    charts = layout.category[0].chart
    assert [c.title.split(":")[0] for c in charts] == ["lr-SGD", "lr-Adam"]
    assert set(charts[0].multiline.tag) == {
        "^lr\\-SGD/pg1$",
        "^lr\\-SGD/pg2$",
        "^planned/lr\\-SGD/pg1$",
        "^planned/lr\\-SGD/pg2$",
    }
    texts = read_texts(run_dir(tmp_path))
    summary = texts["lrmon/summary"][0]
    assert "LR schedule" in summary and "decay-increases" in summary and "StepLR" in summary


def test_prog_bar_shows_the_lr(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(tmp_path, [LRMonitor(partial(StepLR, step_size=3, gamma=0.5), prog_bar=True)], max_steps=7)
    t.fit(module, loader())
    assert t.progress_bar_metrics["lr-SGD"] == pytest.approx(0.1 * 0.5**2)


def test_memory_stays_flat(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor(partial(StepLR, step_size=100))
    t = trainer(tmp_path, [cb], max_steps=600, max_epochs=-1)
    t.fit(module, loader(64, 1))
    sizes = {k: len(v) for k, v in vars(cb).items() if hasattr(v, "__len__") and not isinstance(v, str)}
    assert max(sizes.values()) < 50, sizes  # nothing grows with the number of steps
    steps, _ = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    assert steps == list(range(600))


def test_reduce_on_plateau_built_from_a_spec_needs_and_uses_monitor(tmp_path):
    spec = {
        "class_path": "ReduceLROnPlateau",
        "init_args": {"mode": "max", "patience": 0, "factor": 0.5, "threshold": 10.0},
    }
    with pytest.raises(LRMonitorConfigError, match="monitor"):
        _fit(tmp_path, LRMonitor(spec, interval="epoch"), max_steps=-1, max_epochs=1)
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    # mode="max" with a 1000% threshold: the loss never "improves", so every epoch end after the first halves the LR
    t = trainer(tmp_path, [LRMonitor(spec, interval="epoch", monitor="train_loss")], max_steps=-1, max_epochs=3)
    t.fit(module, loader(32, 8))
    applied = np.asarray(module.optimizers().optimizer.applied)[:, 0]
    assert applied[0] == pytest.approx(0.1) and applied[-1] < applied[0]
    _, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    np.testing.assert_array_equal(values, f32(applied))


def test_frequency_two_steps_every_other_batch_and_logs_every_step(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    spec = {"class_path": "LinearLR", "init_args": {"start_factor": 1.0, "end_factor": 0.1, "total_iters": "auto"}}
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        t = trainer(tmp_path, [LRMonitor(spec, frequency=2)], max_steps=20, max_epochs=-1)
        t.fit(module, loader(64, 4))
    applied = np.asarray(module.optimizers().optimizer.applied)[:, 0]
    assert applied.shape == (20,)
    assert np.all(applied[0::2] == applied[1::2])  # the scheduler moved every second step
    assert t.lr_scheduler_configs[-1].scheduler.total_iters == 10  # 'auto' = scheduler steps, not batches
    steps, values = series(read_scalars(run_dir(tmp_path)), "lr-SGD")
    assert steps == list(range(20))
    np.testing.assert_array_equal(values, f32(applied))


def test_double_step_is_caught_for_a_sequential_schedule(tmp_path):
    spec = {
        "class_path": "SequentialLR",
        "init_args": {
            "milestones": [5],
            "schedulers": [
                {"class_path": "LinearLR", "init_args": {"start_factor": 0.1, "total_iters": 5}},
                {"class_path": "CosineAnnealingLR", "init_args": {"T_max": 35}},
            ],
        },
    }
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1), extra_step=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", LRScheduleWarning)
        trainer(tmp_path, [LRMonitor(spec)], max_steps=40, max_epochs=-1).fit(module, loader(64, 4))
    codes = [str(w.message).split(":")[0] for w in record if issubclass(w.category, LRScheduleWarning)]
    assert codes.count("double-step") == 1


def test_plan_of_an_epoch_schedule_lines_up_with_the_steps(tmp_path):
    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    t = trainer(
        tmp_path, [LRMonitor(partial(StepLR, step_size=1, gamma=0.5), interval="epoch")], max_steps=-1, max_epochs=3
    )
    t.fit(module, loader(32, 8))  # 4 optimizer steps per epoch
    scalars = read_scalars(run_dir(tmp_path))
    actual = dict(scalars["lr-SGD"])
    for step, value in scalars["planned/lr-SGD"]:
        assert actual[step] == value
    assert {s for s, _ in scalars["planned/lr-SGD"]} >= {0, 3, 4, 7, 8, 11}


def test_other_loggers_get_log_metrics_every_step(tmp_path):
    import csv

    from lightning.pytorch.loggers import CSVLogger

    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    logger = CSVLogger(str(tmp_path), name="csv", version=0)
    trainer(tmp_path, [LRMonitor(partial(StepLR, step_size=3, gamma=0.5))], logger=logger, max_steps=9).fit(
        module, loader()
    )
    with open(tmp_path / "csv" / "version_0" / "metrics.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("lr-SGD")]
    assert [int(r["step"]) for r in rows] == list(range(9))
    np.testing.assert_allclose(
        [float(r["lr-SGD"]) for r in rows], np.asarray(module.optimizers().optimizer.applied)[:, 0]
    )
