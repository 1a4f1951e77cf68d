"""What ``configure_optimizers`` returned, as (optimizer, scheduler, interval, frequency) rows — every form Lightning
documents: an optimizer; a list of them; ``([optimizers], [schedulers])``; a dict with ``optimizer`` and
``lr_scheduler`` (a scheduler or a config dict); a list of such dicts. Lightning's default ``interval`` for a
scheduler returned this way is ``"epoch"``.

Examples:
    >>> import torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = torch.optim.lr_scheduler.StepLR(opt, 5)
    >>> [(type(s).__name__, i, f) for _o, s, i, f in scheduler_rows({"optimizer": opt, "lr_scheduler": sched})]
    [('StepLR', 'epoch', 1)]
    >>> [(i, f) for *_, i, f in scheduler_rows(([opt], [{"scheduler": sched, "interval": "step", "frequency": 2}]))]
    [('step', 2)]
    >>> scheduler_rows(opt)
    []
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["scheduler_rows"]

Row = tuple[Any, Any, str, int]


def _row(item: Any) -> Row:
    if isinstance(item, Mapping):
        sched = item["scheduler"]
        return sched.optimizer, sched, str(item.get("interval", "epoch")), int(item.get("frequency", 1))
    return item.optimizer, item, "epoch", 1


def _from_dict(d: Mapping[str, Any]) -> list[Row]:
    sched = d.get("lr_scheduler")
    return [] if sched is None else [_row(sched)]


def scheduler_rows(returned: Any) -> list[Row]:
    """Every scheduler ``configure_optimizers`` returned, with how Lightning steps it."""
    if isinstance(returned, Mapping):
        return _from_dict(returned)
    if isinstance(returned, Sequence) and not isinstance(returned, str):
        items = list(returned)
        if len(items) == 2 and all(isinstance(x, (list, tuple)) for x in items):  # ([optimizers], [schedulers])
            return [_row(s) for s in items[1]]
        return [row for x in items if isinstance(x, Mapping) for row in _from_dict(x)]
    return []
