"""Fit start: each spec built on its optimizer and appended as a scheduler config Lightning steps and saves."""

from __future__ import annotations

import importlib
from typing import Any

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._fit.options import Options, Spec
from lightning_lrmon._fit.session import Built
from lightning_lrmon._schedulers import describe
from lightning_lrmon._spec.bind import has_auto
from lightning_lrmon._spec.build import build_scheduler, spec_identity
from lightning_lrmon._stepping.runlength import RunFacts, scheduler_steps, unknown_length_reason

__all__ = ["build_all", "config_type", "rebind", "state_of"]


def config_type(package: str) -> Any:
    return importlib.import_module(f"{package}.utilities.types").LRSchedulerConfig


def _refuse_second_scheduler(spec: Spec, optimizer: Any, configs: list[Any]) -> None:
    for config in configs:
        if config.scheduler.optimizer is optimizer:
            raise LRMonitorConfigError(
                f"`{spec.where}`: configure_optimizers already attached {describe(config.scheduler)} to optimizer "
                f"{spec.index} ({type(optimizer).__name__}); LRMonitor would add {spec_identity(spec.spec)} on top, "
                "and two schedulers on one optimizer fight over its LR. Remove the scheduler from "
                "configure_optimizers (LRMonitor monitors and checks it when scheduler=None), or drop "
                "LRMonitor's scheduler."
            )


def _bound_steps(spec: Spec, options: Options, facts: RunFacts) -> int | None:
    steps = scheduler_steps(facts, options.interval, options.frequency)  # type: ignore[arg-type]
    if steps is None and isinstance(spec.spec, dict) and has_auto(spec.spec):
        raise LRMonitorConfigError(
            f"`{spec.where}` uses 'auto' or 'N%', which binds to the run's length, but "
            f"{unknown_length_reason(facts, options.interval)}, or give the horizon as a number."  # type: ignore[arg-type]
        )
    return steps


def build_all(
    specs: list[Spec], options: Options, optimizers: list[Any], configs: list[Any], facts: RunFacts, config_type: Any
) -> list[Built]:
    """Build every spec on its optimizer and append a scheduler config, so Lightning steps and checkpoints it."""
    built = []
    for spec in specs:
        if not 0 <= spec.index < len(optimizers):
            raise LRMonitorConfigError(
                f"`{spec.where}` targets optimizer index {spec.index}, but configure_optimizers returned "
                f"{len(optimizers)} optimizer(s). Use indices 0..{len(optimizers) - 1}."
            )
        optimizer = optimizers[spec.index]
        _refuse_second_scheduler(spec, optimizer, configs)
        steps = _bound_steps(spec, options, facts)
        configured = [float(g["lr"]) for g in optimizer.param_groups]
        before = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        sched = build_scheduler(spec.spec, optimizer, total_steps=steps, where=spec.where, normalized=True)
        config = _make_config(config_type, sched, options)
        configs.append(config)
        identity = spec_identity(spec.spec)
        built.append(Built(spec.index, spec.where, spec.spec, identity, steps, configured, config, before))
    return built


def rebind(built: list[Built], options: Options, run: RunFacts) -> None:
    """On a fresh run, after every callback's ``on_fit_start`` (``StochasticWeightAveraging`` adds an epoch and
    takes the LR over there): re-build each ``"auto"`` scheduler whose run length changed since it was bound.

    The param groups get back what they held before the first build, so the new scheduler starts exactly as if it
    had been built first; nothing has stepped yet.
    """
    for b in built:
        if not (isinstance(b.spec, dict) and has_auto(b.spec)) or len(b.groups_before) != len(
            groups := b.config.scheduler.optimizer.param_groups
        ):
            continue
        steps = _bound_steps(Spec(b.index, b.spec, b.where), options, run)
        if steps is None or steps == b.steps:
            continue
        for group, saved in zip(groups, b.groups_before):
            for key in [k for k in group if k != "params" and k not in saved]:
                del group[key]
            group.update(saved)
        b.config.scheduler = build_scheduler(
            b.spec, b.config.scheduler.optimizer, total_steps=steps, where=b.where, normalized=True
        )
        b.steps = steps


def _make_config(config_type: Any, sched: Any, options: Options) -> Any:
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    plateau = isinstance(sched, ReduceLROnPlateau)
    if plateau and not options.monitor:
        raise LRMonitorConfigError(
            "`scheduler` is ReduceLROnPlateau, which needs the metric to watch: pass LRMonitor(monitor='val_loss')"
            " (a key you self.log)."
        )
    return config_type(
        scheduler=sched,
        name=options.name,
        interval=options.interval,
        frequency=options.frequency,
        reduce_on_plateau=plateau,
        monitor=options.monitor,
    )


def state_of(built: list[Built]) -> dict[str, Any]:
    return {
        "version": 2,
        "specs": {str(b.index): b.identity for b in built},
        "bound_steps": {str(b.index): b.steps for b in built},
    }
