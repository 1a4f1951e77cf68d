"""Schedulers kept on the module but not returned from ``configure_optimizers`` (``self.scheduler = ...``, stepped in
``on_train_batch_end`` or ``optimizer_step``): Lightning neither steps them nor saves them in checkpoints. They are
judged like a scheduler under manual optimization, from the stepping the user does in the first epoch, and a resume
that restarts one is said."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from lightning.pytorch.utilities.types import LRSchedulerConfig
from torch.optim.lr_scheduler import LRScheduler

from lightning_lrmon._findings import Finding

__all__ = ["NOT_RETURNED_FIX", "restarted", "unreturned"]

NOT_RETURNED_FIX = (
    'return it from configure_optimizers ({"optimizer": opt, "lr_scheduler": {"scheduler": sch, "interval": "step"}}), '
    "so that Lightning steps it and saves it in checkpoints (then drop any step() call of your own)."
)


#: a list, tuple or dict on the module longer than this is data, not a handful of schedulers: not looked into
_SMALL = 16


def _attributes(module: Any) -> Iterator[tuple[str, Any]]:
    """The module's plain attributes, and the items of a small list, tuple or dict held in one, by the name code
    uses."""
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        yield f"self.{name}", value
        if isinstance(value, (list, tuple)) and len(value) <= _SMALL:
            yield from ((f"self.{name}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, dict) and len(value) <= _SMALL:
            yield from ((f"self.{name}[{k!r}]", v) for k, v in value.items())


def unreturned(module: Any, optimizers: Sequence[Any], configs: Sequence[Any]) -> list[tuple[str, LRSchedulerConfig]]:
    """``(name, config)`` of each torch scheduler on ``module`` that drives one of the run's ``optimizers`` and is not
    in the Trainer's ``configs``; ``config`` says it is stepped per step, by the user.

    Examples:
        >>> import torch
        >>> net = torch.nn.Linear(2, 1)
        >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
        >>> net.scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=5)
        >>> [name for name, _ in unreturned(net, [opt], [])]
        ['self.scheduler']
    """
    opts = {id(getattr(o, "optimizer", o)) for o in optimizers}
    known = {id(c.scheduler) for c in configs}
    out: list[tuple[str, LRSchedulerConfig]] = []
    for name, value in _attributes(module):
        if not isinstance(value, LRScheduler) or id(value) in known:
            continue
        opt = getattr(value, "optimizer", None)
        if id(getattr(opt, "optimizer", opt)) in opts:
            known.add(id(value))
            out.append((name, LRSchedulerConfig(scheduler=value, interval="step")))
    return out


def restarted(name: str, scheduler: str, *, position: int, step: int) -> Finding | None:
    """``resume-mismatch``: a scheduler not returned from ``configure_optimizers`` is at its step 0 on a resume from
    optimizer step ``step`` (the checkpoint does not hold it), so its schedule starts again (``scheduler``: as
    ``describe`` gives it).

    Examples:
        >>> restarted("self.scheduler", "StepLR(step_size=5)", position=0, step=40).code
        'resume-mismatch'
        >>> restarted("self.scheduler", "StepLR(step_size=5)", position=40, step=40) is None
        True
    """
    if position > 0 or step <= 0:
        return None
    return Finding(
        "resume-mismatch",
        "warning",
        f"{name} ({scheduler}) is at its step 0 on this resume from optimizer step {step}: it is not returned from "
        "configure_optimizers, so the checkpoint does not hold its state, and its schedule starts again.",
        step,
        NOT_RETURNED_FIX[:-1] + "; or save its state_dict() in on_save_checkpoint and load it after the resume.",
    )
