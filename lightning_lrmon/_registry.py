"""One table of the schedulers lightning-lrmon knows: class, inferred shape, horizon argument, how to fix a rise.

Everything that differs between scheduler classes lives here (style rule: registries, not if/elif). An unknown
class simply has no entry: it gets no inferred shape and only the validity checks.

Example:
    >>> from lightning_lrmon._registry import SCHEDULERS, info_for
    >>> SCHEDULERS["CosineAnnealingLR"].shape, SCHEDULERS["CosineAnnealingLR"].horizon_arg
    ('decay', 'T_max')
    >>> info_for(object()) is None
    True
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Optional, Union

from torch.optim import lr_scheduler as tls

__all__ = [
    "ARG_TYPES",
    "SHAPES",
    "SCHEDULERS",
    "SchedulerInfo",
    "arg_types_of",
    "callable_text",
    "describe",
    "horizon_of",
    "info_for",
    "init_args_of",
]

Shape = Literal["decay", "warmup", "warmup_decay", "constant", "cyclic"]
#: The shapes ``expect=`` accepts.
SHAPES: tuple[str, ...] = ("decay", "warmup", "warmup_decay", "constant", "cyclic")


def _hint_linear(s: Any) -> str:
    return (
        f"LinearLR multiplies the LR by a factor moving linearly from start_factor={s.start_factor:g} to "
        f"end_factor={s.end_factor:g}, so it rises. To decay, start at start_factor=1.0 and end below it with "
        f"end_factor (e.g. start_factor=1.0, end_factor={min(s.start_factor, 0.1):g}); "
        "if the rise is an intended warmup, pass expect='warmup'."
    )


def _hint_constant(s: Any) -> str:
    return (
        f"ConstantLR holds factor={s.factor:g} x LR for total_iters={s.total_iters} steps and then restores the full "
        "LR, so it rises at the end. To decay, use LinearLR(start_factor=1.0, end_factor="
        f"{s.factor:g}) or StepLR; if the rise is an intended warmup, pass expect='warmup'."
    )


def _hint_gamma(s: Any) -> str:
    return (
        f"gamma={s.gamma:g} is above 1, so every decay step multiplies the LR up. Use gamma={1 / s.gamma:.3g} "
        "(below 1) to decay; if the rise is intended, pass expect='warmup'."
    )


def _hint_cosine(s: Any) -> str:
    return (
        f"eta_min={s.eta_min:g} is the cosine's final LR; it must be below the starting LR to decay. "
        "Use a smaller eta_min (e.g. 0)."
    )


def _hint_polynomial(s: Any) -> str:
    return f"power={s.power:g} makes PolynomialLR rise; use power >= 0 (1.0 is linear decay)."


def _hint_generic(s: Any) -> str:
    return "Change the arguments so the LR never rises, or pass expect= with the shape you intend (e.g. 'warmup')."


@dataclass(frozen=True)
class SchedulerInfo:
    """What lightning-lrmon knows about one scheduler class.

    Attributes:
        cls: the torch class.
        shape: shape inferred when the user does not declare one (``None``: no shape, only validity checks).
        horizon_arg: the init argument that sets the schedule's length, if any.
        periodic: after its horizon the schedule repeats/climbs back (CosineAnnealingLR) instead of staying flat.
        decay_hint: builds the fix for a rise in a schedule expected to decay.
    """

    cls: type
    shape: Shape | None
    horizon_arg: str | None = None
    periodic: bool = False
    decay_hint: Callable[[Any], str] = _hint_generic


def _entries() -> dict[str, SchedulerInfo]:
    rows = [
        SchedulerInfo(tls.LambdaLR, None),
        SchedulerInfo(tls.MultiplicativeLR, None),
        SchedulerInfo(tls.StepLR, "decay", "step_size", decay_hint=_hint_gamma),
        SchedulerInfo(tls.MultiStepLR, "decay", "milestones", decay_hint=_hint_gamma),
        SchedulerInfo(tls.ConstantLR, "decay", None, decay_hint=_hint_constant),
        SchedulerInfo(tls.LinearLR, "decay", "total_iters", decay_hint=_hint_linear),
        SchedulerInfo(tls.ExponentialLR, "decay", None, decay_hint=_hint_gamma),
        SchedulerInfo(tls.PolynomialLR, "decay", "total_iters", decay_hint=_hint_polynomial),
        SchedulerInfo(tls.CosineAnnealingLR, "decay", "T_max", periodic=True, decay_hint=_hint_cosine),
        SchedulerInfo(tls.CosineAnnealingWarmRestarts, "cyclic", "T_0"),
        SchedulerInfo(tls.CyclicLR, "cyclic", "step_size_up"),
        SchedulerInfo(tls.OneCycleLR, "warmup_decay", "total_steps"),
        SchedulerInfo(tls.SequentialLR, None),
        SchedulerInfo(tls.ChainedScheduler, None),
        SchedulerInfo(tls.ReduceLROnPlateau, None),
    ]
    return {row.cls.__name__: row for row in rows}


#: scheduler class name -> :class:`SchedulerInfo`, for every torch scheduler.
SCHEDULERS: dict[str, SchedulerInfo] = _entries()


_FloatOrList = Union[float, list[float]]
#: The argument types of torch's schedulers, written out so the checks do not depend on a torch release's
#: annotations (torch 2.3 has none; some of 2.13's cannot be resolved at run time). Callables are not listed.
ARG_TYPES: dict[str, dict[str, Any]] = {
    "StepLR": {"step_size": int, "gamma": float},
    "MultiStepLR": {"milestones": list[int], "gamma": float},
    "ConstantLR": {"factor": float, "total_iters": int},
    "LinearLR": {"start_factor": float, "end_factor": float, "total_iters": int},
    "ExponentialLR": {"gamma": float},
    "PolynomialLR": {"total_iters": int, "power": float},
    "CosineAnnealingLR": {"T_max": int, "eta_min": float},
    "CosineAnnealingWarmRestarts": {"T_0": int, "T_mult": int, "eta_min": float},
    "CyclicLR": {
        "base_lr": _FloatOrList,
        "max_lr": _FloatOrList,
        "step_size_up": int,
        "step_size_down": Optional[int],  # noqa: UP045
        "mode": Literal["triangular", "triangular2", "exp_range"],
        "gamma": float,
        "scale_mode": Literal["cycle", "iterations"],
        "cycle_momentum": bool,
        "base_momentum": _FloatOrList,
        "max_momentum": _FloatOrList,
    },
    "OneCycleLR": {
        "max_lr": _FloatOrList,
        "total_steps": Optional[int],  # noqa: UP045
        "epochs": Optional[int],  # noqa: UP045
        "steps_per_epoch": Optional[int],  # noqa: UP045
        "pct_start": float,
        "anneal_strategy": Literal["cos", "linear"],
        "cycle_momentum": bool,
        "base_momentum": _FloatOrList,
        "max_momentum": _FloatOrList,
        "div_factor": float,
        "final_div_factor": float,
        "three_phase": bool,
    },
    "SequentialLR": {"milestones": list[int]},
    "ReduceLROnPlateau": {
        "mode": Literal["min", "max"],
        "factor": float,
        "patience": int,
        "threshold": float,
        "threshold_mode": Literal["rel", "abs"],
        "cooldown": int,
        "min_lr": _FloatOrList,
        "eps": float,
    },
}


def arg_types_of(cls: Any) -> dict[str, Any] | None:
    """The argument types of a torch scheduler class (``None`` for any other class: read its annotations).

    Example:
        >>> import torch
        >>> arg_types_of(torch.optim.lr_scheduler.CosineAnnealingLR)["T_max"]
        <class 'int'>
    """
    entry = SCHEDULERS.get(getattr(cls, "__name__", ""))
    if entry is None or entry.cls is not cls:
        return None
    return ARG_TYPES.get(entry.cls.__name__, {})


def info_for(scheduler: Any) -> SchedulerInfo | None:
    """The registry entry for ``scheduler``'s exact class (subclasses may change behaviour: no entry).

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> info_for(torch.optim.lr_scheduler.StepLR(opt, 5)).shape
        'decay'
    """
    entry = SCHEDULERS.get(type(scheduler).__name__)
    if entry is None or entry.cls is not type(scheduler):
        return None
    return entry


def horizon_of(scheduler: Any) -> int | None:
    """The step at which the scheduler's own schedule ends, counted from its epoch 0, or ``None``.

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> horizon_of(torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50))
        50
    """
    info = info_for(scheduler)
    if info is None or info.horizon_arg is None:
        return None
    if isinstance(scheduler, tls.MultiStepLR):
        return max(scheduler.milestones) if scheduler.milestones else None
    if isinstance(scheduler, tls.CyclicLR):
        return int(scheduler.total_size)
    value = getattr(scheduler, info.horizon_arg, None)
    return int(value) if isinstance(value, (int, float)) else None


_SKIP = {"self", "optimizer", "last_epoch", "verbose", "schedulers"}


def init_args_of(scheduler: Any) -> dict[str, Any]:
    """The init arguments of ``scheduler``, read back from its attributes (named as in its signature).

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> init_args_of(torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=100))
        {'start_factor': 0.5, 'end_factor': 1.0, 'total_iters': 100}
    """
    out: dict[str, Any] = {}
    try:
        params = inspect.signature(type(scheduler).__init__).parameters
    except (TypeError, ValueError):
        return out
    for name in params:
        if name in _SKIP or not hasattr(scheduler, name):
            continue
        value = getattr(scheduler, name)
        if callable(value):
            continue
        if isinstance(value, dict):  # MultiStepLR keeps a Counter
            value = sorted(value.elements()) if hasattr(value, "elements") else value
        out[name] = value
    return out


def describe(scheduler: Any) -> str:
    """``ClassName(arg=value, ...)`` for messages.

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> describe(torch.optim.lr_scheduler.StepLR(opt, step_size=5))
        'StepLR(step_size=5, gamma=0.1)'
    """
    name = type(scheduler).__name__
    lambdas = getattr(scheduler, "lr_lambdas", None)
    if isinstance(scheduler, (tls.LambdaLR, tls.MultiplicativeLR)) and lambdas:
        unique = list({id(f): f for f in lambdas}.values())
        shown = callable_text(unique[0]) if len(unique) == 1 else "[" + ", ".join(map(callable_text, lambdas)) + "]"
        return f"{name}(lr_lambda={shown})"
    if isinstance(scheduler, (tls.SequentialLR, tls.ChainedScheduler)):
        inner = ", ".join(describe(c) for c in scheduler._schedulers)
        extra = f", milestones={list(scheduler._milestones)}" if isinstance(scheduler, tls.SequentialLR) else ""
        return f"{name}([{inner}]{extra})"
    args = ", ".join(f"{k}={_fmt(v)}" for k, v in init_args_of(scheduler).items())
    return f"{name}({args})"


def callable_text(fn: Any) -> str:
    """A short, address-free name for a user callable (a ``partial`` shows its arguments).

    Example:
        >>> import functools, math
        >>> callable_text(functools.partial(math.pow, 0.5))
        'pow(0.5)'
        >>> callable_text(lambda s: 1.0)
        '<lambda>'
    """
    if isinstance(fn, functools.partial):
        args = [_fmt(a) for a in fn.args] + [f"{k}={_fmt(v)}" for k, v in fn.keywords.items()]
        return f"{callable_text(fn.func)}({', '.join(args)})"
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)
