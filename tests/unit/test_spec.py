"""Specs and arguments that cannot work fail at construction, before any training, with the fix."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
import torch
from helpers import (
    build_spec,
)

from lightning_lrmon import LRMonitor, LRMonitorConfigError

# --------------------------------------------------------------------------------------------------------------
# hostile and broken input: a clear early error naming the argument, never a deep traceback


HOSTILE = [
    ({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "ten"}}, "T_max"),
    ({"class_path": "StepLR", "init_args": {"step_size": 5, "gamma": None}}, "gamma"),
    ({"class_path": "OneCycleLR", "init_args": {"max_lr": 0.1, "total_steps": -3}}, "total_steps"),
    ({"class_path": "CosineAnnealingWarmRestarts", "init_args": {"T_0": 0}}, "T_0"),
    (
        {
            "class_path": "SequentialLR",
            "init_args": {
                "milestones": [5],
                "schedulers": [
                    {"class_path": "LinearLR", "init_args": {}},
                    {"class_path": "StepLR", "init_args": {"step_sz": 1}},
                ],
            },
        },
        "schedulers[1]",
    ),
    (
        {
            "class_path": "SequentialLR",
            "init_args": {"milestones": [5, 3], "schedulers": ["ConstantLR", "ConstantLR", "ConstantLR"]},
        },
        "increasing",
    ),
    ({"class_path": "os.path.join"}, "os.path.join"),
    (
        {"class_path": "OneCycleLR", "init_args": {"max_lr": 0.1, "total_steps": 9, "anneal_strategy": "cosine"}},
        "one of ['cos', 'linear']",
    ),
    ({"class_path": "torch.optim.SGD"}, "not an LR scheduler"),
    ("!!python/object/apply:os.system ['echo pwned']", "YAML"),
    ("", "class_path"),
    ({"class_path": "LinearLR", "init_args": {"start_factor": 1.0}, "extra": 1}, "unknown keys"),
    ({"class_path": "LinearLR", "init_args": ["start_factor", 1.0]}, "init_args"),
]


@pytest.mark.parametrize(("spec", "needle"), HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile_specs_fail_before_training(spec, needle):
    with pytest.raises(LRMonitorConfigError) as info:
        build_spec(spec)
    assert needle in str(info.value)


def test_yaml_is_loaded_safely(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(LRMonitorConfigError, match="YAML"):
        LRMonitor(f"!!python/object/apply:os.system ['touch {marker}']")
    assert not marker.exists()


# --------------------------------------------------------------------------------------------------------------
# bad configuration: clear errors before training


BAD_SPECS = [
    ({"class_path": "CosineAnealingLR", "init_args": {"T_max": 10}}, ["CosineAnealingLR", "CosineAnnealingLR"]),
    ({"class_path": "LinearLR", "init_args": {"start_fctor": 1.0}}, ["start_fctor", "start_factor", "total_iters"]),
    ({"class_path": "LinearLR", "init_args": {"start_factor": 0}}, ["start_factor", "LinearLR", "0"]),
    ({"class_path": "StepLR", "init_args": {}}, ["step_size", "missing"]),
    ({"class_path": "torch.nn.Linear"}, ["torch.nn.Linear", "not an LR scheduler"]),
    ({"class_path": "no_such_pkg.Sched"}, ["no_such_pkg", "cannot import"]),
    ({"init_args": {"T_max": 10}}, ["class_path"]),
    ("class_path: [unclosed", ["not valid YAML"]),
    (42, ["int", "callable"]),
]


@pytest.mark.parametrize(("spec", "needles"), BAD_SPECS, ids=[str(i) for i in range(len(BAD_SPECS))])
def test_bad_specs_fail_with_a_teaching_message(spec, needles):
    # the path on_fit_start takes, without a fit: LRMonitor validates, then builds on the optimizer
    with pytest.raises(LRMonitorConfigError) as info:
        build_spec(spec)
    for needle in needles:
        assert needle in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"interval": "batch"}, "interval"),
        ({"frequency": 0}, "frequency"),
        ({"expect": "decreasing"}, "expect"),
        ({"on_misconfig": "explode"}, "on_misconfig"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, needle):
    with pytest.raises(LRMonitorConfigError, match=needle):
        LRMonitor(**kwargs)


def LinearLRish(optimizer: Any, total_iters: int) -> Any:
    return torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.1, total_iters)


@pytest.mark.parametrize("kwargs", [{"interval": "epoch"}, {"frequency": 2}, {"name": "x"}])
def test_scheduler_arguments_without_a_scheduler_are_refused(kwargs):
    with pytest.raises(LRMonitorConfigError, match=r"without `scheduler`.*always logs the LR of every optimizer step"):
        LRMonitor(**kwargs)


def test_a_callable_specs_identity_has_no_memory_address():
    cb = LRMonitor(partial(LinearLRish, total_iters=40))
    cb._built = []  # nothing built yet: the spec's identity is what a checkpoint keeps
    from lightning_lrmon._spec.build import spec_identity

    text = spec_identity(cb._specs[0].spec)
    assert text == "test_spec.LinearLRish(total_iters=40)" and "0x" not in text
