"""What a loop's schedule is: a scheduler (given, or built from a spec), an LR function, or nothing; and the
scheduler that went through ``fabric.setup``.

Examples:
    >>> LoopConfig(scheduler=None).interval
    'step'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._findings import Finding
from lightning_lrmon._schedulers import describe

__all__ = ["LRFunction", "LoopConfig", "given", "in_fabric_setup", "set_up_by_fabric", "unwrap"]

#: ``f(step) -> lr``, or one such function per param group
LRFunction = Union[Callable[[int], float], Sequence[Callable[[int], float]]]


@dataclass
class LoopConfig:
    """A loop's scheduler in the shape of Lightning's ``LRSchedulerConfig``, which the shared checks read: the loop
    steps it once per optimizer step."""

    scheduler: Any
    name: str | None = None
    interval: str = "step"
    frequency: int = 1
    reduce_on_plateau: bool = False
    monitor: str | None = None


def set_up_by_fabric(scheduler: Any) -> Any | None:
    """The scheduler inside Fabric's optimizer wrapper, when ``fabric.setup(model, optimizer, scheduler)`` wrapped a
    scheduler passed as an optimizer (its ``optimizer`` is then the scheduler itself); else ``None``.

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> set_up_by_fabric(torch.optim.lr_scheduler.StepLR(opt, 5)) is None
        True
    """
    inner = getattr(scheduler, "optimizer", None)
    if (
        inner is None
        or hasattr(inner, "param_groups")
        or not hasattr(getattr(inner, "optimizer", None), "param_groups")
    ):
        return None
    return inner


def in_fabric_setup(scheduler: Any) -> Finding:
    """``scheduler-in-setup``: the scheduler went through ``fabric.setup`` as if it were an optimizer."""
    name = type(scheduler).__name__
    return Finding(
        "scheduler-in-setup",
        "warning",
        f"{name} was passed to fabric.setup(model, optimizer, scheduler), which wraps it as an optimizer: its step() "
        "then runs through the strategy's optimizer step (DeepSpeed never steps it, a mixed-precision GradScaler "
        "unscales it as if it held parameters), so the LR can stay where it started or the step can fail.",
        0,
        "set up only the model and optimizers: model, optimizer = fabric.setup(model, optimizer); keep the "
        f"{name} you built on the optimizer (its param groups are the ones Fabric trains) and call its step() "
        "yourself.",
    )


def unwrap(optimizer: Any) -> Any:
    """The torch optimizer behind Fabric's (or DeepSpeed's) wrapper."""
    inner = getattr(optimizer, "optimizer", None)
    return inner if hasattr(inner, "param_groups") else optimizer


def given(scheduler: Any, optimizer: Any) -> tuple[Any, list[Finding]]:
    """The scheduler a user gave for ``optimizer`` (out of Fabric's wrapper, with ``scheduler-in-setup``); refuses
    one built on another optimizer, with the fix."""
    if scheduler is None:
        return None, []
    found = []
    inner = set_up_by_fabric(scheduler)
    if inner is not None:
        found.append(in_fabric_setup(inner))
        scheduler = inner
    owner = getattr(scheduler, "optimizer", None)
    if owner is not None and unwrap(owner) is not optimizer:
        raise LRMonitorConfigError(
            f"`scheduler` ({describe(scheduler)}) is built on another optimizer than `optimizer` "
            f"({type(optimizer).__name__}); pass the optimizer it schedules."
        )
    return scheduler, found
