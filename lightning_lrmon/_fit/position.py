"""Where a scheduler is in its own stepping, read from its public state (``last_epoch``, a step count).

Examples:
    >>> import torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = torch.optim.lr_scheduler.StepLR(opt, 5)
    >>> counts_steps(s), scheduler_position(s), fractional_epochs(s)
    (True, 0, False)
"""

from __future__ import annotations

from typing import Any

__all__ = ["counts_steps", "fractional_epochs", "scheduler_position"]


def counts_steps(scheduler: Any) -> bool:
    """Whether ``scheduler`` keeps a count of its steps (``last_epoch``, as every torch scheduler does).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> counts_steps(torch.optim.lr_scheduler.StepLR(opt, 5)), counts_steps(object())
        (True, False)
    """
    return isinstance(getattr(scheduler, "last_epoch", None), int) or isinstance(
        getattr(scheduler, "_step_count", None), int
    )


def fractional_epochs(scheduler: Any) -> bool:
    """A ``CosineAnnealingWarmRestarts`` stepped with a fractional epoch (``scheduler.step(epoch + i / iters)``, the
    use its docstring shows): ``last_epoch`` moves once per epoch while the LR moves every step.

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> s = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2)
        >>> s.step(0.25)
        >>> fractional_epochs(s), s.last_epoch
        (True, 0)
    """
    return isinstance(getattr(scheduler, "T_cur", None), float)


def scheduler_position(scheduler: Any) -> int:
    """How many times ``scheduler`` was stepped (``last_epoch`` for every torch scheduler).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> scheduler_position(torch.optim.lr_scheduler.StepLR(opt, 5))
        0
    """
    pos = getattr(scheduler, "last_epoch", None)
    return pos if isinstance(pos, int) else int(getattr(scheduler, "_step_count", 0))
