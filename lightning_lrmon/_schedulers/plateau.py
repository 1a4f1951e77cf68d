"""The record of ``ReduceLROnPlateau``: its LR follows a metric, not the step, so it is simulated as held constant.

Examples:
    >>> import torch
    >>> from lightning_lrmon._schedulers.record import lookup
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> lookup(torch.optim.lr_scheduler.ReduceLROnPlateau(opt)).static
    True
"""

from __future__ import annotations

from typing import Literal, Union

from torch.optim import lr_scheduler as tls

from lightning_lrmon._schedulers.record import SchedulerRecord, register

__all__: list[str] = []

register(
    SchedulerRecord(
        tls.ReduceLROnPlateau,
        static=True,
        arg_types={
            "mode": Literal["min", "max"],
            "factor": float,
            "patience": int,
            "threshold": float,
            "threshold_mode": Literal["rel", "abs"],
            "cooldown": int,
            "min_lr": Union[float, list[float]],
            "eps": float,
        },
    )
)
