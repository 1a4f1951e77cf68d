"""Tables of misconfigured and healthy schedules, written from ../shared/docs/misconfigurations.md.

Each case builds a scheduler on a fresh optimizer; T is the run's scheduler steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch
from torch.optim import lr_scheduler as L


def make_optimizer(lrs: tuple[float, ...] = (0.1,), kind: str = "sgd") -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    if kind == "adam":
        return torch.optim.AdamW(groups, lr=lrs[0])
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def hf_linear(warmup: int, total: int) -> Callable[[int], float]:
    def fn(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return fn


def hf_cosine(warmup: int, total: int) -> Callable[[int], float]:
    def fn(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))

    return fn


@dataclass
class Case:
    id: str
    build: Callable[[torch.optim.Optimizer], Any]
    T: int
    code: str | None = None  # expected finding code; None = healthy
    lrs: tuple[float, ...] = (0.1,)
    expect: str | None = None
    kw: dict = field(default_factory=dict)


def _seq(o, parts, milestones):
    return L.SequentialLR(o, [p(o) for p in parts], milestones)


MISCONFIGURED = [
    Case(
        "seed-linear-start-0.5",
        lambda o: L.LinearLR(o, start_factor=0.5, total_iters=100),
        100,
        "decay-increases",
        lrs=(0.001,),
    ),
    Case("constantlr-rises", lambda o: L.ConstantLR(o, factor=0.5, total_iters=10), 100, "decay-increases"),
    Case("steplr-gamma-above-1", lambda o: L.StepLR(o, step_size=10, gamma=1.5), 100, "decay-increases"),
    Case("exponential-gamma-above-1", lambda o: L.ExponentialLR(o, gamma=1.01), 100, "decay-increases"),
    Case("multistep-gamma-above-1", lambda o: L.MultiStepLR(o, [30, 60], gamma=2.0), 100, "decay-increases"),
    Case("cosine-eta-min-above-lr", lambda o: L.CosineAnnealingLR(o, T_max=100, eta_min=0.5), 100, "decay-increases"),
    Case("cosine-tmax-in-epochs", lambda o: L.CosineAnnealingLR(o, T_max=100), 1000, "horizon-too-short"),
    Case("linear-decay-total-in-epochs", lambda o: L.LinearLR(o, 1.0, 0.1, total_iters=10), 1000, "horizon-too-short"),
    Case("poly-total-in-epochs", lambda o: L.PolynomialLR(o, total_iters=20, power=1.0), 1000, "horizon-too-short"),
    Case(
        "cosine-tmax-in-steps-stepped-per-epoch", lambda o: L.CosineAnnealingLR(o, T_max=10000), 100, "horizon-too-long"
    ),
    Case("onecycle-too-long", lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=10000), 1000, "horizon-too-long"),
    Case("multistep-milestones-beyond-run", lambda o: L.MultiStepLR(o, [3000, 6000]), 100, "horizon-too-long"),
    Case("onecycle-overrun", lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=500), 1000, "scheduler-overrun"),
    Case("onecycle-overrun-by-one", lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=999), 1000, "scheduler-overrun"),
    Case("lambda-negative-after-total", lambda o: L.LambdaLR(o, lambda s: 1 - s / 500), 1000, "lr-invalid"),
    Case("lambda-nan", lambda o: L.LambdaLR(o, lambda s: float("nan") if s >= 50 else 1.0), 100, "lr-invalid"),
    Case("exponential-underflows", lambda o: L.ExponentialLR(o, gamma=0.9), 1000, "lr-zero-early"),
    Case("lambda-zero-halfway", lambda o: L.LambdaLR(o, lambda s: max(0.0, 1 - s / 300)), 1000, "lr-zero-early"),
    Case("steplr-step-size-in-epochs", lambda o: L.StepLR(o, step_size=3, gamma=0.1), 1000, "lr-zero-early"),
    Case(
        "warmup-90-percent",
        lambda o: _seq(
            o, [partial(L.LinearLR, start_factor=0.01, total_iters=900), partial(L.CosineAnnealingLR, T_max=100)], [900]
        ),
        1000,
        "warmup-too-long",
    ),
    Case("hf-warmup-in-wrong-unit", lambda o: L.LambdaLR(o, hf_linear(800, 1000)), 1000, "warmup-too-long"),
    Case(
        "onecycle-pct-start-0.8",
        lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=1000, pct_start=0.8),
        1000,
        "warmup-too-long",
    ),
    Case(
        "sequential-resets-to-base",
        lambda o: _seq(o, [partial(L.CosineAnnealingLR, T_max=500), partial(L.ConstantLR, factor=1.0)], [500]),
        1000,
        "lr-jump",
    ),
    Case(
        "sequential-exp-then-constant",
        lambda o: _seq(
            o, [partial(L.ExponentialLR, gamma=0.99), partial(L.ConstantLR, factor=1.0, total_iters=1)], [400]
        ),
        1000,
        "lr-jump",
    ),
    Case(
        "onecycle-scalar-max-lr",
        lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=1000),
        1000,
        "groups-collapsed",
        lrs=(0.01, 0.001),
        kw={"configured_lrs": [0.01, 0.001]},
    ),
    Case(
        "cyclic-scalar-lrs",
        lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=100),
        1000,
        "groups-collapsed",
        lrs=(0.01, 0.001),
        kw={"configured_lrs": [0.01, 0.001]},
    ),
]

HEALTHY = [
    Case("cosine", lambda o: L.CosineAnnealingLR(o, T_max=1000), 1000),
    Case("cosine-eta-min", lambda o: L.CosineAnnealingLR(o, T_max=1000, eta_min=1e-5), 1000),
    Case("linear-decay", lambda o: L.LinearLR(o, 1.0, 0.1, total_iters=1000), 1000),
    Case("linear-decay-to-zero", lambda o: L.LinearLR(o, 1.0, 0.0, total_iters=1000), 1000),
    Case("polynomial", lambda o: L.PolynomialLR(o, total_iters=1000, power=2.0), 1000),
    Case("step", lambda o: L.StepLR(o, step_size=300, gamma=0.1), 1000),
    Case("multistep", lambda o: L.MultiStepLR(o, [500, 750], gamma=0.1), 1000),
    Case("exponential", lambda o: L.ExponentialLR(o, gamma=0.998), 1000),
    Case(
        "warmup-cosine",
        lambda o: _seq(
            o, [partial(L.LinearLR, start_factor=0.01, total_iters=50), partial(L.CosineAnnealingLR, T_max=950)], [50]
        ),
        1000,
    ),
    Case(
        "warmup-linear",
        lambda o: _seq(
            o,
            [
                partial(L.LinearLR, start_factor=0.1, total_iters=100),
                partial(L.LinearLR, start_factor=1.0, end_factor=0.01, total_iters=900),
            ],
            [100],
        ),
        1000,
    ),
    Case(
        "constant-warmup-then-step",
        lambda o: _seq(o, [partial(L.ConstantLR, factor=0.1, total_iters=20), partial(L.StepLR, step_size=300)], [20]),
        1000,
    ),
    Case("hf-linear", lambda o: L.LambdaLR(o, hf_linear(100, 1000)), 1000),
    Case("hf-cosine", lambda o: L.LambdaLR(o, hf_cosine(100, 1000)), 1000),
    Case("onecycle", lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=1000), 1000),
    Case(
        "onecycle-per-group",
        lambda o: L.OneCycleLR(o, max_lr=[0.1, 0.01], total_steps=1000),
        1000,
        lrs=(0.01, 0.001),
        kw={"configured_lrs": [0.01, 0.001]},
    ),
    Case("cyclic", lambda o: L.CyclicLR(o, 0.001, 0.1, step_size_up=100), 1000),
    Case(
        "cyclic-per-group",
        lambda o: L.CyclicLR(o, [0.001, 0.0001], [0.1, 0.01], step_size_up=100),
        1000,
        lrs=(0.01, 0.001),
        kw={"configured_lrs": [0.01, 0.001]},
    ),
    Case("warm-restarts", lambda o: L.CosineAnnealingWarmRestarts(o, T_0=100), 1000),
    Case("warm-restarts-mult", lambda o: L.CosineAnnealingWarmRestarts(o, T_0=50, T_mult=2), 1000),
    Case("declared-warmup", lambda o: L.LinearLR(o, start_factor=0.5, total_iters=100), 100, expect="warmup"),
    Case("per-group-cosine", lambda o: L.CosineAnnealingLR(o, T_max=1000), 1000, lrs=(0.1, 0.01, 0.001)),
    Case(
        "chained-warmup-exp",
        lambda o: L.ChainedScheduler([L.LinearLR(o, 0.1, 1.0, 50), L.ExponentialLR(o, 0.999)]),
        1000,
    ),
    Case("constant-lambda", lambda o: L.LambdaLR(o, lambda s: 1.0), 1000),
    Case("multiplicative", lambda o: L.MultiplicativeLR(o, lambda s: 0.999), 1000),
    Case("short-run-exponential", lambda o: L.ExponentialLR(o, gamma=0.95), 50),
]
