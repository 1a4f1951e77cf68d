"""The record of ``LambdaLR``: the LR is ``base_lr x lr_lambda(epoch)``, a user formula of the step.

transformers' ``get_*_schedule_with_warmup`` and hand-written warmup + decay formulas are ``LambdaLR``s. The
lambda is only ever called on isolated copies (``isolate.py`` beside it); its horizon is found by probing
it past the run (``SchedulerRecord.lr_of_t``).

Examples:
    >>> import torch
    >>> from lightning_lrmon._schedulers.record import describe, lookup
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> s = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: max(0.0, 1 - t / 100))
    >>> describe(s), lookup(s).lr_of_t(s)(50)
    ('LambdaLR(lr_lambda=<lambda>)', 0.05)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.optim import lr_scheduler as tls

from lightning_lrmon._exceptions import LRMonitorConfigError
from lightning_lrmon._schedulers.arith import base_lrs, epochs, isolated_or_raise, lambda_table
from lightning_lrmon._schedulers.factors import describe_lambdas, isolate_lambdas, one_lambda
from lightning_lrmon._schedulers.record import SchedulerRecord, register

__all__ = ["function_scheduler"]


def _k_lambda(s: Any, lr: np.ndarray, e0: int, n: int) -> np.ndarray:
    return np.asarray(base_lrs(s)[None, :] * lambda_table(s.lr_lambdas, epochs(e0, n)), dtype=np.float64)


def _r_lambda(s: Any, lr: np.ndarray) -> np.ndarray:
    return np.asarray([b * float(fn(0)) for b, fn in zip(base_lrs(s), s.lr_lambdas)], dtype=np.float64)


def _lr_of_t(s: Any) -> Callable[[int], float]:
    """Group 0's LR at any epoch ``t``, on an isolated copy of its lambda (raises ``NotIsolated``)."""
    fn = isolated_or_raise(s.lr_lambdas[0])
    base = float(s.base_lrs[0])

    def value(t: int) -> float:
        return base * float(fn(t))

    return value


register(
    SchedulerRecord(
        tls.LambdaLR,
        arg_types={},
        kernel=_k_lambda,
        reset0=_r_lambda,
        closed_form=True,
        scales=one_lambda,
        user_code=isolate_lambdas,
        one_group=("base_lrs", "lr_lambdas", "_last_lr"),
        lr_of_t=_lr_of_t,
        describe=describe_lambdas,
    )
)


def function_scheduler(optimizer: Any, lr_fn: Any) -> tls.LambdaLR:
    """``lr_fn`` as a ``LambdaLR`` on a private optimizer whose groups start at LR 1: its LRs are the function's
    values, and the catalogue's lambda checks apply. ``optimizer`` is only read (its number of groups).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> sched = function_scheduler(opt, lambda step: 0.1 * 0.5**step)
        >>> [round(g["lr"], 4) for g in sched.optimizer.param_groups], opt.param_groups[0]["lr"]
        ([0.1], 0.1)
    """
    n = len(optimizer.param_groups)
    fns: list[Any] = list(lr_fn) if isinstance(lr_fn, (list, tuple)) else [lr_fn] * n
    if len(fns) != n or not all(callable(f) for f in fns):
        raise LRMonitorConfigError(
            f"`lr_fn` must be a function step -> lr, or a list of {n} such functions (one per param group of "
            f"{type(optimizer).__name__}), got {lr_fn!r}."
        )
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 1.0} for _ in range(n)]
    return tls.LambdaLR(torch.optim.SGD(groups, lr=1.0), fns)
