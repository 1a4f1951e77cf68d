"""The process around a loop: the user's line, the ranks, the exit.

Examples:
    >>> ranks(None)
    (1, True)
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["any_rank", "caller", "closer", "ranks"]


def caller() -> tuple[str, int, str] | None:
    """``(file, line, module)`` of the user's line that made the monitor: where its warnings point."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_globals.get("__name__", "").startswith("lightning_lrmon"):
        frame = frame.f_back
    if frame is None:
        return None
    return frame.f_code.co_filename, frame.f_lineno, str(frame.f_globals.get("__name__", ""))


def closer(ref: weakref.ref[Any]) -> Callable[[], None]:
    def close() -> None:
        monitor = ref()
        if monitor is not None:
            monitor.session.close()

    return close


def ranks(fabric: Any) -> tuple[int, bool]:
    """``(world size, is rank zero)`` from Fabric, else from ``torch.distributed``."""
    if fabric is not None:
        return int(fabric.world_size), bool(fabric.is_global_zero)
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank() == 0
    return 1, True


def any_rank(fabric: Any, wants: bool) -> bool:
    """Whether any rank wants to raise (a collective: every rank calls it at the same step)."""
    if fabric is not None:
        total = fabric.all_reduce(torch.tensor(float(wants), device=fabric.device), reduce_op="sum")
        return bool(total.item() > 0)
    dist = torch.distributed
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    flag = torch.tensor([float(wants)], device=device)
    dist.all_reduce(flag)
    return bool(flag.item() > 0)
