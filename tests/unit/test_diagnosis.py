"""Diagnosis for the schedules people actually write: transformers' lambdas, SequentialLR phases, WSD.

Each mistake is found with its argument named; each healthy counterpart is silent. Schedules come from the real
``transformers`` package (a dev dependency; no model is downloaded) or from torch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers
import transformers.optimization
from torch.optim import lr_scheduler as L
from transformers import get_cosine_with_hard_restarts_schedule_with_warmup

from lightning_lrmon import LRMonitor, LRMonitorConfigError, check_schedule
from lightning_lrmon._cli.main import main


def opt(lr: float = 1e-3) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def codes(sched, steps, **kw):
    findings = check_schedule(sched, steps, optimizer_label="lr-SGD", **kw)
    return [f.code for f in findings], findings


# ---------------------------------------------------------------------------------------------------------------
# transformers' lambdas with the wrong num_training_steps, both ways


@pytest.mark.parametrize("factory", ["get_linear_schedule_with_warmup", "get_cosine_schedule_with_warmup"])
def test_hf_total_counted_in_micro_batches_is_too_long(factory):
    make = getattr(transformers, factory)
    found, findings = codes(make(opt(), 50, 4000), 1000, accumulate_grad_batches=4)
    assert found == ["horizon-too-long"]
    (f,) = findings
    assert "num_training_steps=4000 looks like micro-batches" in f.message
    assert "this run takes 1000 optimizer steps with accumulate_grad_batches=4" in f.message
    assert f.hint.startswith("use num_training_steps=1000")


def test_hf_linear_total_in_epochs_is_too_short_and_named():
    found, findings = codes(transformers.get_linear_schedule_with_warmup(opt(), 0, 10), 1000, steps_per_epoch=100)
    assert found == ["horizon-too-short"]
    assert (
        "num_training_steps=10 looks like epochs" in findings[0].message
        and "num_training_steps=1000" in findings[0].hint
    )


def test_hf_cosine_total_in_epochs_climbs_back():
    found, findings = codes(transformers.get_cosine_schedule_with_warmup(opt(), 0, 10), 1000, steps_per_epoch=100)
    assert found == ["horizon-too-short"]
    assert "climbs back up" in findings[0].message and "its decay ends at step 10" in findings[0].message


# ---------------------------------------------------------------------------------------------------------------
# SequentialLR phases and warmup-stable-decay


def test_a_warmup_cut_by_its_milestone_is_named_with_the_jump():
    o = opt(0.1)
    s = L.SequentialLR(o, [L.LinearLR(o, 0.01, 1.0, total_iters=5000), L.CosineAnnealingLR(o, T_max=900)], [100])
    found, findings = codes(s, 1000)
    assert found == ["horizon-too-long"]
    msg = findings[0].message
    assert "milestone 100 cuts phase 0 (LinearLR(" in msg and "total_iters=5000" in msg and "jumps 33.8x" in msg


def test_wsd_whose_run_ends_in_the_stable_phase():
    o = opt(0.1)
    phases = [
        L.LinearLR(o, 0.01, 1.0, total_iters=100),
        L.ConstantLR(o, 1.0, total_iters=8900),
        L.LinearLR(o, 1.0, 0.0, 1000),
    ]
    found, findings = codes(L.SequentialLR(o, phases, [100, 9000]), 1000)
    assert found == ["horizon-too-long"]
    assert "before milestone 9000 where phase 2 (LinearLR(" in findings[0].message
    assert "that decay never runs" in findings[0].message


def test_wsd_from_transformers_cut_by_the_run():
    found, _ = codes(transformers.get_wsd_schedule(opt(), 50, num_decay_steps=1000, num_stable_steps=8950), 1000)
    assert found == ["horizon-too-long"]


# ---------------------------------------------------------------------------------------------------------------
# healthy counterparts stay silent


def _wsd_complete(o):
    return transformers.get_wsd_schedule(o, 50, num_decay_steps=200, num_stable_steps=750)


HEALTHY = {
    "hf-linear-right-total": lambda o: transformers.get_linear_schedule_with_warmup(o, 50, 1000),
    "hf-cosine-right-total": lambda o: transformers.get_cosine_schedule_with_warmup(o, 50, 1000),
    "hf-cosine-min-lr": lambda o: transformers.optimization.get_cosine_with_min_lr_schedule_with_warmup(
        o, 50, 1000, min_lr_rate=0.1
    ),
    "hf-polynomial": lambda o: transformers.get_polynomial_decay_schedule_with_warmup(o, 50, 1000, lr_end=1e-7),
    "hf-inverse-sqrt": lambda o: transformers.get_inverse_sqrt_schedule(o, num_warmup_steps=50),
    "hf-constant-with-warmup": lambda o: transformers.get_constant_schedule_with_warmup(o, 50),
    "wsd-complete": _wsd_complete,
    "cosine-eta-min": lambda o: L.CosineAnnealingLR(o, T_max=1000, eta_min=1e-5),
    "onecycle-three-phase": lambda o: L.OneCycleLR(o, max_lr=0.01, total_steps=1000, three_phase=True),
    "warm-restarts-t-mult": lambda o: L.CosineAnnealingWarmRestarts(o, T_0=50, T_mult=2),
    "warmup-then-cosine": lambda o: L.SequentialLR(
        o, [L.LinearLR(o, 0.01, 1.0, total_iters=50), L.CosineAnnealingLR(o, T_max=950)], [50]
    ),
    "constant-warmup-then-step": lambda o: L.SequentialLR(
        o, [L.ConstantLR(o, 0.1, total_iters=5), L.StepLR(o, step_size=300, gamma=0.5)], [5]
    ),
}


@pytest.mark.parametrize("name", list(HEALTHY))
def test_healthy_real_world_schedules_are_silent(name):
    assert codes(HEALTHY[name](opt()), 1000, accumulate_grad_batches=1, steps_per_epoch=100)[0] == []


def test_lrmon_check_accepts_a_transformers_factory(tmp_path, capsys):
    path = tmp_path / "hf.yaml"
    path.write_text(
        "trainer:\n  max_steps: 1000\n  callbacks:\n    - class_path: lightning_lrmon.LRMonitor\n      init_args:\n"
        "        scheduler:\n          class_path: transformers.get_cosine_schedule_with_warmup\n"
        "          init_args: {num_warmup_steps: 5%, num_training_steps: auto}\n"
    )
    assert main(["check", str(path)]) == 0
    assert "num_warmup_steps=50, num_training_steps=1000" in capsys.readouterr().out


def test_an_unlisted_function_without_annotation_is_still_refused():

    with pytest.raises(LRMonitorConfigError, match="not a known scheduler factory"):
        LRMonitor({"class_path": "transformers.optimization._get_linear_schedule_with_warmup_lr_lambda"})


class TimmCosine:
    """timm's ``CosineLRScheduler`` API (``_get_lr(t)``, ``t_initial``; one cycle, then ``lr_min``). timm itself
    imports torchvision, which does not import beside the pinned CPU torch."""

    def __init__(self, optimizer: torch.optim.Optimizer, t_initial: int, lr_min: float = 0.0) -> None:
        self.optimizer = optimizer
        self.t_initial = t_initial
        self.lr_min = lr_min
        self.base_values = [g["lr"] for g in optimizer.param_groups]

    def _get_lr(self, t: int) -> list[float]:
        if t >= self.t_initial:
            return [self.lr_min for _ in self.base_values]
        return [
            self.lr_min + 0.5 * (b - self.lr_min) * (1 + np.cos(np.pi * t / self.t_initial)) for b in self.base_values
        ]


def test_a_timm_shaped_horizon_in_epochs_names_its_attribute():
    found, findings = codes(TimmCosine(opt(), t_initial=10, lr_min=1e-5), 1000, steps_per_epoch=100)
    assert found == ["horizon-too-short"]
    assert "t_initial=10 looks like epochs" in findings[0].message and findings[0].hint.startswith("use t_initial=1000")


def test_a_timm_shaped_horizon_in_micro_batches_is_too_long():
    found, findings = codes(TimmCosine(opt(), t_initial=4000), 1000, accumulate_grad_batches=4)
    assert found == ["horizon-too-long"] and "t_initial=4000 looks like micro-batches" in findings[0].message


def test_a_timm_shaped_cosine_over_the_run_is_silent():
    assert codes(TimmCosine(opt(), t_initial=1000, lr_min=1e-6), 1000, steps_per_epoch=100)[0] == []


@pytest.mark.parametrize("cycles", [2, 5])
def test_hf_hard_restarts_sized_to_the_run_stay_silent(cycles):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = get_cosine_with_hard_restarts_schedule_with_warmup(opt, 100, 1000, num_cycles=cycles)
    assert check_schedule(sched, 1000) == []


def test_hf_hard_restarts_sized_to_another_run_are_still_found():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = get_cosine_with_hard_restarts_schedule_with_warmup(opt, 100, 1000, num_cycles=2)
    (finding,) = check_schedule(sched, 3000)
    assert finding.code == "horizon-too-short"


@pytest.mark.parametrize("factory", ["get_cosine_schedule_with_warmup", "get_linear_schedule_with_warmup"])
@pytest.mark.parametrize("total", [600, 750, 900, 1000, 1200, 1500, 6000, 100_000])
def test_a_transformers_horizon_is_found_to_the_step(factory, total):
    """The end of the decay is where transformers' own schedule reaches its floor: num_training_steps (found by
    probes before, it was 3540 for 1200 and 4800 for 6000); the fix names num_training_steps with the run's steps."""
    import torch
    import transformers

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = getattr(transformers, factory)(opt, 30, total)
    lam = sched.lr_lambdas[0]
    floor_at = min(range(total - 5, total + 6), key=lambda t: (lam(t), t))  # transformers' own values, first lowest
    assert floor_at == total
    (long,) = check_schedule(sched, 300)
    assert long.code == "horizon-too-long" and f"its decay ends at step {total}, {total / 300:.1f}x" in long.message
    assert long.hint.startswith("use num_training_steps=300 ")


@pytest.mark.parametrize("steps", [3, 5, 7])
def test_a_step_sized_transformers_schedule_over_a_few_scheduler_steps_is_judged(steps):
    """A step-sized schedule stepped per epoch over a few epochs (fewer than 8 scheduler steps was not judged)."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    (long,) = check_schedule(get_linear_schedule_with_warmup(opt, 1, 80), steps)
    assert long.code == "horizon-too-long" and "its decay ends at step 80" in long.message
    assert long.hint.startswith(f"use num_training_steps={steps} ")
